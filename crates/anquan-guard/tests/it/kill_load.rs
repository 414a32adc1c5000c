//! A bounded load test on loopback against the real `anquan guard` binary, then `kill -9` under
//! load: on restart, every request the clients saw answered has its audit record and the chain
//! verifies. The upstream is `anquan-testkit`'s FAKE (named as such): the real model answers one
//! request at a time on one thread, which would measure the model, not the guard.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anquan_testkit::FakeUpstream;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::support::{KEY, config_text, http, say};

/// The `anquan` binary of this build (built on demand when the test runs alone).
fn anquan_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().unwrap().parent().unwrap().to_owned();
    let bin = debug.join("anquan");
    if !bin.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target = debug.parent().unwrap();
        let ok = Command::new(cargo)
            .args(["build", "-p", "anquan-cli", "--bin", "anquan"])
            .env("CARGO_TARGET_DIR", target)
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot build the anquan binary");
    }
    bin
}

/// Start `anquan guard --config PATH` and wait for its "Guard started." line; returns the child
/// and the proxy's address.
fn spawn_guard(config: &Path) -> (Child, String) {
    let mut child = Command::new(anquan_bin())
        .args(["guard", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("listen=").nth(1) {
                let _ = tx.send(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the guard did not start");
    (child, addr)
}

/// One request; the request id when the client saw a complete answer.
async fn one(client: &reqwest::Client, base: &str, stream: bool, n: usize) -> Option<String> {
    let body = json!({"model": "fake", "stream": stream, "user": format!("u{}", n % 7),
                      "messages": [{"role": "user", "content": format!("question number {n}")}]});
    let resp = client
        .post(format!("{base}/chat/completions"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .ok()?;
    if resp.status().as_u16() != 200 {
        return None;
    }
    let id = resp
        .headers()
        .get("x-anquan-request-id")?
        .to_str()
        .ok()?
        .to_owned();
    if !stream {
        let v: Value = resp.json().await.ok()?;
        return v["choices"][0]["message"]["content"]
            .is_string()
            .then_some(id);
    }
    let mut parser = anquan_llm::SseParser::default();
    let mut s = resp.bytes_stream();
    while let Some(chunk) = s.next().await {
        let chunk = chunk.ok()?;
        if parser.push(&chunk).iter().any(|d| d.trim() == "[DONE]") {
            return Some(id);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_then_kill_9_every_answered_request_has_its_audit_record() {
    let fake = FakeUpstream::start().unwrap();
    fake.set_delay(Duration::from_millis(3));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("guard.toml");
    std::fs::write(&config, config_text(&fake.base_url(), "")).unwrap();
    let (mut child, addr) = spawn_guard(&config);
    let base = format!("http://{addr}/v1");

    let answered: Arc<Mutex<Vec<String>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_millis(2500);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let (base, answered, latencies) =
            (base.clone(), Arc::clone(&answered), Arc::clone(&latencies));
        workers.spawn(async move {
            let client = http();
            let mut n = w;
            while Instant::now() < stop_at {
                let t = Instant::now();
                if let Some(id) = one(&client, &base, n % 2 == 0, n).await {
                    latencies
                        .lock()
                        .unwrap()
                        .push(t.elapsed().as_secs_f64() * 1000.0);
                    answered.lock().unwrap().push(id);
                } else if Instant::now() < stop_at - Duration::from_millis(1200) {
                    // Before the kill nothing may fail.
                    panic!("request {n} failed under load before the kill");
                }
                n += 8;
            }
        });
    }
    // Kill -9 in the middle of the load.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().unwrap();
    let _ = child.wait();
    while let Some(r) = workers.join_next().await {
        r.unwrap();
    }
    let answered: BTreeSet<String> = answered.lock().unwrap().iter().cloned().collect();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    say(&format!(
        "load: {} answered before kill -9 ({:.0} req/s), p50 {:.1} ms, p99 {:.1} ms (guard + fake upstream, debug build)",
        answered.len(),
        answered.len() as f64 / 1.5,
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100]
    ));
    assert!(answered.len() >= 50, "the load ran: {}", answered.len());

    // Restart: the guard opens the same store; the chain verifies and holds every answered id.
    let (mut child, _) = spawn_guard(&config);
    child.kill().unwrap();
    let _ = child.wait();
    let out = Command::new(anquan_bin())
        .args(["guard", "audit", "verify", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{report}");
    assert_eq!(report["ok"], true);
    let out = Command::new(anquan_bin())
        .args(["guard", "audit", "export", "--format", "jsonl", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stored: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["request_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let missing: Vec<&String> = answered.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "answered without an audit record: {missing:?}"
    );
    assert_eq!(report["records"].as_u64().unwrap() as usize, stored.len());
}
