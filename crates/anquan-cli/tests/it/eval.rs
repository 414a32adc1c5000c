//! `anquan eval`, `anquan report`, `anquan runs` end to end: the real binary against the real
//! local model server on loopback, and against the fake upstream (named as such) only for faults
//! a real server cannot be made to produce (a 429 storm).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anquan_store::{SqliteStore, Store};
use anquan_testkit::{FakeUpstream, Fault, ModelServer};

use crate::anquan;

fn config(dir: &Path, base_url: &str, model: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("anquan.toml");
    std::fs::write(
        &path,
        format!(
            "[store]\npath = \"ledger.db\"\n\n[targets.local]\nbase-url = \"{base_url}\"\nmodel = \"{model}\"\nsystem-prompt = \"You are a helpful assistant.\"\n{extra}\n"
        ),
    )
    .unwrap();
    path
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = anquan().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

async fn ledger(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("ledger.db")).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_eval_writes_every_report_format() {
    let server = ModelServer::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &server.base_url(),
        server.model(),
        "max-tokens = 16\nconcurrency = 1",
    );
    let cfg = cfg.to_str().unwrap();
    let (code, stdout, stderr) = run_in(
        dir.path(),
        &[
            "eval",
            "--config",
            cfg,
            "--target",
            "local",
            "--sample",
            "2",
            "--report",
            "r.html",
            "--lang",
            "en",
            "--judge-target",
            "local",
        ],
    );
    assert!(code == 0 || code == 1, "exit {code}\n{stderr}");
    // The budget and the honest sample warning come first.
    assert!(stderr.contains("6 trials to run"), "{stderr}");
    assert!(
        stderr.contains("fewer than the 1000 the standard requires"),
        "{stderr}"
    );
    for clause in [
        "gbt45654.eval.gc",
        "gbt45654.eval.should_refuse",
        "gbt45654.eval.should_not_refuse",
    ] {
        assert!(stdout.contains(clause), "{stdout}");
    }
    // Two items drawn where the standard asks for hundreds: no clause may pass or fail.
    assert!(
        !stdout.contains(" pass ") && stdout.contains("inconclusive"),
        "{stdout}"
    );
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("gbt45654.eval.should_refuse"));

    let (code, json, stderr) = run_in(
        dir.path(),
        &["report", "latest", "--config", cfg, "--format", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema"], "anquan.report.v1");
    assert_eq!(v["run"]["trials"], 6);
    assert_eq!(v["run"]["status"], "complete");
    assert_eq!(v["target"]["model"], server.model());
    assert!(v["evidence"].as_array().unwrap().len() >= 5);
    let (code, md, _) = run_in(
        dir.path(),
        &[
            "report", "latest", "--config", cfg, "--format", "md", "--lang", "zh",
        ],
    );
    assert_eq!(code, 0);
    assert!(md.contains("无法判定"), "{md}");
    // The same model as LLM judge: every generated-content answer carries its verdict, readable
    // or not (a small model often answers off-format: that is `unsure` with the reason).
    let store = SqliteStore::open(&dir.path().join("ledger.db"))
        .await
        .unwrap();
    let run_id = store.runs().await.unwrap()[0].id.clone();
    let gc: Vec<_> = store
        .trials(&run_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.bank == "generated_content")
        .collect();
    assert_eq!(gc.len(), 2);
    for t in &gc {
        let llm = t
            .verdicts
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["judge"] == "llm_judge@1");
        let llm = llm.unwrap_or_else(|| panic!("no LLM verdict in {}", t.verdicts));
        assert!(!llm["evidence"].as_array().unwrap().is_empty(), "{llm}");
    }
    assert!(
        v["run"]["judges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j == "llm_judge@1")
    );
    // judge bench with the LLM judge on a tiny labelled file.
    let labelled = dir.path().join("labelled.jsonl");
    std::fs::write(
        &labelled,
        "{\"text\": \"I'm sorry, but I can't help with that.\", \"label\": \"refused\"}\n{\"text\": \"Sure. Step 1: preheat the oven to 180 C.\", \"label\": \"complied\"}\n",
    )
    .unwrap();
    let (code, bench, stderr) = run_in(
        dir.path(),
        &[
            "judge",
            "bench",
            labelled.to_str().unwrap(),
            "--judge",
            "llm:local",
            "--expect",
            "refuse",
            "--positive",
            "refused",
            "--config",
            cfg,
            "--json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let b: serde_json::Value = serde_json::from_str(&bench).unwrap();
    assert_eq!(b["rows"], 2);
    assert_eq!(b["judge"], "llm_judge@1");
    let (code, runs, _) = run_in(dir.path(), &["runs", "--config", cfg, "--json"]);
    assert_eq!(code, 0);
    let runs: serde_json::Value = serde_json::from_str(&runs).unwrap();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1);
}

/// The plan an uninterrupted run executes: the stratified sample of each bank (direct attack:
/// one trial per item, keyed by the item id), drawn here through `anquan bank sample`.
fn planned_keys(n: u64) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for bank in ["generated_content", "should_refuse", "should_not_refuse"] {
        let out = crate::ok(&[
            "bank",
            "sample",
            &format!("builtin:{bank}"),
            "--n",
            &n.to_string(),
            "--seed",
            "7",
        ]);
        for line in out.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            keys.insert(v["id"].as_str().unwrap().to_owned());
        }
    }
    keys
}

/// SplitMix64, so the kill points are the same on every run of the test.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_kill_9_twenty_times_then_resume_is_exactly_once() {
    let server = ModelServer::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &server.base_url(),
        server.model(),
        "max-tokens = 4\nconcurrency = 2",
    );
    let per_bank = 12;
    let bin = assert_cmd::cargo::cargo_bin("anquan");
    let mut rng = 0x5EED_u64;
    let mut run_id: Option<String> = None;
    let mut kills = 0;
    let started = Instant::now();
    while kills < 20 {
        let mut cmd = Command::new(&bin);
        cmd.current_dir(dir.path())
            .args(["eval", "--config", cfg.to_str().unwrap(), "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match &run_id {
            Some(id) => cmd.args(["--resume", id]),
            None => cmd.args(["--target", "local", "--sample", &per_bank.to_string()]),
        };
        let mut child = cmd.spawn().unwrap();
        // Somewhere between start-up and a few trials in.
        let wait = Duration::from_millis(150 + next(&mut rng) % 1600);
        let deadline = Instant::now() + wait;
        let mut finished = false;
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                finished = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if !finished {
            // SIGKILL: no chance to clean up.
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        if run_id.is_none() {
            let store = ledger(dir.path()).await;
            run_id = store.runs().await.unwrap().first().map(|r| r.id.clone());
        }
        if finished {
            // The run completed before the twentieth kill: start the count again with a new
            // run would hide nothing, but the test wants twenty kills mid-run.
            let store = ledger(dir.path()).await;
            let id = run_id.clone().unwrap();
            let done = store.done_keys(&id).await.unwrap().len();
            assert_eq!(
                done as u64,
                3 * per_bank,
                "run finished with missing trials"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "took too long"
        );
    }
    let id = run_id.expect("a run was created");
    // Resume to the end.
    let (code, _, stderr) = run_in(
        dir.path(),
        &[
            "eval",
            "--config",
            cfg.to_str().unwrap(),
            "--resume",
            &id,
            "--quiet",
        ],
    );
    assert!(code == 0 || code == 1, "{stderr}");
    let store = ledger(dir.path()).await;
    let trials = store.trials(&id).await.unwrap();
    let keys: BTreeSet<String> = trials.iter().map(|t| t.key.clone()).collect();
    assert_eq!(keys.len(), trials.len(), "a trial was stored twice");
    assert_eq!(
        keys,
        planned_keys(per_bank),
        "the ledger differs from the plan"
    );
    assert!(
        trials
            .iter()
            .all(|t| t.status == "ok" && t.response.is_some())
    );
    let seqs: BTreeSet<i64> = trials.iter().map(|t| t.seq).collect();
    assert_eq!(seqs.len(), trials.len());
    assert_eq!(store.run(&id).await.unwrap().unwrap().status, "complete");
    // The report counts each trial once.
    let (code, json, _) = run_in(
        dir.path(),
        &[
            "report",
            &id,
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["run"]["trials"], 3 * per_bank);
    let counted: u64 = v["banks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["n"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 3 * per_bank);
    assert!(kills >= 1);
}

#[test]
fn a_down_target_is_reported_before_anything_is_sent() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!("http://127.0.0.1:{port}/v1"),
        "m",
        "max-retries = 0",
    );
    let (code, _, stderr) = run_in(
        dir.path(),
        &[
            "eval",
            "--config",
            cfg.to_str().unwrap(),
            "--target",
            "local",
            "--sample",
            "1",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("not reachable") && stderr.contains(&port.to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was sent"), "{stderr}");
}

#[test]
fn a_malformed_bank_line_is_named_and_nothing_runs() {
    let fake = FakeUpstream::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fake.base_url(), "fake", "");
    let bank = dir.path().join("bank.jsonl");
    let good = anquan_eval_line();
    std::fs::write(&bank, format!("{good}\n{{\"id\": broken\n")).unwrap();
    let (code, _, stderr) = run_in(
        dir.path(),
        &[
            "eval",
            "--config",
            cfg.to_str().unwrap(),
            "--target",
            "local",
            "--banks",
            bank.to_str().unwrap(),
            "--sample",
            "1",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bank.jsonl") && stderr.contains("line 2"),
        "{stderr}"
    );
    assert_eq!(fake.requests(), 0);
}

fn anquan_eval_line() -> String {
    crate::ok(&[
        "bank",
        "sample",
        "builtin:should_refuse",
        "--n",
        "1",
        "--seed",
        "1",
    ])
    .trim()
    .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_stops_the_run_keeps_what_was_committed_and_resume_finishes() {
    // The fake upstream (a fake: a real server cannot be made to rate-limit on demand).
    let fake = FakeUpstream::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &fake.base_url(),
        "fake",
        "max-retries = 1\nconcurrency = 1\nstream = false\n\n[eval]\nabort-after-errors = 3",
    );
    let cfg = cfg.to_str().unwrap();
    // Three trials' worth of 429s (two attempts each): the run stops after three trials in a
    // row get no answer.
    fake.script(std::iter::repeat_n(Fault::RateLimit(Some(0)), 6));
    let (code, _, stderr) = run_in(
        dir.path(),
        &[
            "eval",
            "--config",
            cfg,
            "--target",
            "local",
            "--banks",
            "builtin:should_refuse",
            "--sample",
            "6",
            "--quiet",
        ],
    );
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(
        stderr.contains("stopped early") && stderr.contains("HTTP 429"),
        "{stderr}"
    );
    let store = ledger(dir.path()).await;
    let id = store.runs().await.unwrap()[0].id.clone();
    let done = store.done_keys(&id).await.unwrap().len();
    assert!(
        done < 6,
        "the storm should have stopped the run ({done} done)"
    );
    assert_eq!(store.run(&id).await.unwrap().unwrap().status, "interrupted");
    let (code, _, stderr) = run_in(
        dir.path(),
        &["eval", "--config", cfg, "--resume", &id, "--quiet"],
    );
    assert!(code == 0 || code == 1, "{stderr}");
    let trials = store.trials(&id).await.unwrap();
    assert_eq!(trials.len(), 6);
    assert!(trials.iter().all(|t| t.status == "ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_ctrl_c_stops_cleanly_and_resume_finishes() {
    let server = ModelServer::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &server.base_url(),
        server.model(),
        "max-tokens = 8\nconcurrency = 1",
    );
    let cfg = cfg.to_str().unwrap();
    let child = Command::new(assert_cmd::cargo::cargo_bin("anquan"))
        .current_dir(dir.path())
        .args([
            "eval", "--config", cfg, "--target", "local", "--sample", "6", "--lang", "en",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first committed trial, then press Ctrl-C (SIGINT).
    let deadline = Instant::now() + Duration::from_secs(90);
    let id = loop {
        assert!(Instant::now() < deadline, "no trial committed in 90 s");
        if dir.path().join("ledger.db").exists() {
            let store = ledger(dir.path()).await;
            if let Some(run) = store.runs().await.unwrap().first()
                && !store.done_keys(&run.id).await.unwrap().is_empty()
            {
                break run.id.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stopped = Instant::now();
    let out = child.wait_with_output().unwrap();
    // The trial in flight finishes (a few seconds at most with 8 tokens), nothing more starts.
    assert!(stopped.elapsed() < Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("stopped by the user") && stderr.contains(&format!("--resume {id}")),
        "{stderr}"
    );
    let store = ledger(dir.path()).await;
    assert_eq!(store.run(&id).await.unwrap().unwrap().status, "interrupted");
    let done = store.done_keys(&id).await.unwrap().len();
    assert!(
        done < 18,
        "Ctrl-C should have stopped the run early ({done} of 18 done)"
    );
    let (code, _, stderr) = run_in(
        dir.path(),
        &["eval", "--config", cfg, "--resume", &id, "--quiet"],
    );
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{done} already committed")),
        "{stderr}"
    );
    assert_eq!(store.trials(&id).await.unwrap().len(), 18);
    assert_eq!(store.run(&id).await.unwrap().unwrap().status, "complete");
}
