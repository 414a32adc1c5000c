//! End to end: the REAL local model server behind the real guard, real sockets on 127.0.0.1.
//! (Test names contain `real_model`: nextest runs them one at a time.)

use std::time::{Duration, Instant};

use anquan_testkit::ModelServer;
use serde_json::json;

use crate::support::{
    ACME_KEY, KEY, Tap, ask, audit_records, chat, chat_stream, chat_stream_with, config_text, say,
    start,
};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_clean_chat_passes_untouched_with_small_added_ttft_and_disconnect_cancels() {
    let model = ModelServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut g = start(dir.path(), &config_text(&model.base_url(), "")).await;

    // Same greedy request, directly and through the guard: the same text, streamed and not.
    let q = ask("用一句话介绍长城。", 48);
    let direct = chat_stream(&model.base_url(), "none", q.clone()).await;
    let guarded = chat_stream(&g.base, KEY, q.clone()).await;
    assert!(!direct.content.is_empty());
    assert_eq!(
        guarded.content, direct.content,
        "a clean answer passes untouched"
    );
    assert_eq!(guarded.finish.as_deref(), Some("stop"));
    assert!(guarded.done && guarded.error.is_none());
    let (s, h, v) = chat(&g.base, KEY, q.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(h["x-anquan-guard-action"], "pass");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        direct.content.as_str()
    );

    // Added time to first token: direct vs guarded, alternating, medians.
    let prompts = [
        "Say hello.",
        "你好，今天天气怎么样？",
        "Name three colours.",
        "写一句关于春天的话。",
    ];
    let (mut d_ttft, mut g_ttft) = (Vec::new(), Vec::new());
    for round in 0..3 {
        for p in prompts {
            let q = ask(p, 8);
            let d = chat_stream(&model.base_url(), "none", q.clone()).await;
            let gd = chat_stream(&g.base, KEY, q).await;
            if round > 0 {
                d_ttft.push(d.first_token.unwrap().as_secs_f64() * 1000.0);
                g_ttft.push(gd.first_token.unwrap().as_secs_f64() * 1000.0);
            }
            assert_eq!(gd.content, d.content);
        }
    }
    let (dm, gm) = (median(d_ttft), median(g_ttft));
    say(&format!(
        "TTFT median: direct {dm:.1} ms, through the guard {gm:.1} ms, added {:.1} ms",
        gm - dm
    ));
    assert!(gm - dm < 250.0, "added TTFT {:.1} ms", gm - dm);

    // A client that goes away cancels the upstream request.
    let long = ask("Write a long story about a cat, at least 300 words.", 400);
    let t = Instant::now();
    let s = chat_stream_with(&g.base, KEY, long, |_| false).await;
    assert!(!s.content.is_empty() && !s.done);
    let mut aborted = false;
    while t.elapsed() < Duration::from_secs(10) {
        let log = std::fs::read_to_string(model.log()).unwrap_or_default();
        if log.contains("aborted") {
            aborted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(aborted, "the model server saw the request cancelled");
    g.stop().await;
    let recs = audit_records(&g.db()).await;
    assert_eq!(recs.last().unwrap()["error_code"], "client_disconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_keyword_split_across_chunks_is_stopped_and_pii_is_masked_before_upstream() {
    let model = ModelServer::start().unwrap();
    let tap = Tap::start(&model.base_url()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("words.tsv"),
        "# name: test-words\n# version: 1\nkeyword\trisk_ids\tseverity\tsource\nbananaphone\tA.1.h\thigh\ttest\n",
    )
    .unwrap();
    // Input keywords pass here: the prompt must carry the word for the model to say it.
    let extra = "[policies.default]\nkeywords = \"words.tsv\"\n[policies.default.input]\nkeywords = \"pass\"\n\
                 [policies.acme]\nkeywords = \"words.tsv\"\nrecord-text = true\n[policies.acme.input]\nreversible = true\n";
    let mut g = start(dir.path(), &config_text(&tap.base_url, extra)).await;

    // The model is asked to say the keyword; it arrives split over several chunks.
    let s = chat_stream(
        &g.base,
        KEY,
        ask(
            "Repeat exactly this sentence and nothing else: The password is bananaphone.",
            40,
        ),
    )
    .await;
    let upstream_pieces = tap.response_pieces(0);
    let raw = upstream_pieces.concat();
    assert!(raw.contains("bananaphone"), "the model said it: {raw:?}");
    let carrying = upstream_pieces
        .iter()
        .filter(|p| !p.is_empty() && "bananaphone".contains(p.trim()))
        .count();
    assert!(
        carrying >= 2,
        "the keyword was split across chunks: {upstream_pieces:?}"
    );
    assert!(
        !s.content.contains("bananaphone"),
        "stopped before it reached the client: {:?}",
        s.content
    );
    assert!(
        !s.content.contains("banana"),
        "not even its start: {:?}",
        s.content
    );
    assert!(s.content.starts_with("The password is"), "{:?}", s.content);
    assert_eq!(s.finish.as_deref(), Some("content_filter"));
    assert!(s.done);
    // Non-streamed answers are checked whole.
    let (_, _, v) = chat(
        &g.base,
        KEY,
        ask(
            "Repeat exactly this sentence and nothing else: The password is bananaphone.",
            40,
        ),
    )
    .await;
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
    assert!(!v.to_string().contains("bananaphone"));

    // PII in the input is masked before the upstream sees it (the tap shows what it received).
    let n0 = tap.requests.lock().unwrap().len();
    let (_, h, v) = chat(
        &g.base,
        KEY,
        ask(
            "Repeat exactly this sentence and nothing else: My phone number is 13812345678.",
            40,
        ),
    )
    .await;
    let sent = tap.requests.lock().unwrap()[n0].clone();
    assert!(!sent.contains("13812345678"), "{sent}");
    assert!(sent.contains("138****5678"), "{sent}");
    assert_eq!(h["x-anquan-guard-action"], "mask");
    assert!(!v.to_string().contains("13812345678"));

    // Reversible masking: a placeholder goes upstream and is restored in the streamed answer.
    let s = chat_stream(
        &g.base,
        ACME_KEY,
        ask(
            "请原样重复下面这句话，不要添加任何内容：我的手机号是13812345678。",
            40,
        ),
    )
    .await;
    let sent = tap.requests.lock().unwrap().last().unwrap().clone();
    assert!(
        sent.contains("[MOBILE_1]") && !sent.contains("13812345678"),
        "{sent}"
    );
    let last = tap.responses.lock().unwrap().len() - 1;
    let raw = tap.response_pieces(last).concat();
    assert!(
        raw.contains("[MOBILE_1]"),
        "the model echoed the placeholder: {raw:?}"
    );
    assert!(
        s.content.contains("13812345678"),
        "restored for the client: {:?}",
        s.content
    );
    assert!(!s.content.contains("[MOBILE"), "{:?}", s.content);

    g.stop().await;
    let recs = audit_records(&g.db()).await;
    let actions: Vec<&str> = recs.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["block", "block", "mask", "mask"]);
    let last = &recs[3];
    assert!(
        last["input_text"].as_str().unwrap().contains("138****5678"),
        "{last}"
    );
    assert!(
        !last.to_string().contains("13812345678"),
        "PII masked in the audit: {last}"
    );
    assert!(recs[0]["verdicts"].to_string().contains("test-words@1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_third_violation_suspends_restart_keeps_it_and_lift_works() {
    let model = ModelServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(&model.base_url(), "[suspension]\nduration-s = 3600\n");
    let mut g = start(dir.path(), &toml).await;
    let bad =
        json!({"messages": [{"role": "user", "content": "哪里有赌博网站？"}], "user": "mallory"});
    for i in 1..=3 {
        let (s, h, _) = chat(&g.base, KEY, bad.clone()).await;
        assert_eq!(
            (s, h["x-anquan-guard-action"].to_str().unwrap()),
            (200, "block"),
            "violation {i}"
        );
    }
    let clean = json!({"messages": [{"role": "user", "content": "Say hi."}], "user": "mallory", "max_tokens": 8});
    let (s, _, v) = chat(&g.base, KEY, clean.clone()).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"]["code"], "user_suspended");
    assert!(
        v["error"]["message"].as_str().unwrap().contains('T'),
        "names the end time: {v}"
    );
    // Another user of the same key is not affected.
    let other = json!({"messages": [{"role": "user", "content": "Say hi."}], "user": "bob", "max_tokens": 8});
    assert_eq!(chat(&g.base, KEY, other).await.0, 200);

    // A restart does not forgive.
    assert!(g.log_text().contains("User suspended"), "{}", g.log_text());
    g.stop().await;
    let mut g = start(dir.path(), &toml).await;
    assert_eq!(chat(&g.base, KEY, clean.clone()).await.0, 403);
    let st = g.admin.call("/admin/status", None).await.unwrap();
    assert_eq!(st["suspended"][0]["user"], "mallory");
    let v = g
        .admin
        .call(
            "/admin/lift",
            Some(json!({"tenant": "default", "user": "mallory"})),
        )
        .await
        .unwrap();
    assert_eq!(v["lifted"], true);
    let (s, _, v) = chat(&g.base, KEY, clean).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        g.admin
            .metrics()
            .await
            .unwrap()
            .contains("anquan_guard_suspended_users 0")
    );
    g.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_kill_switch_stops_a_running_stream_within_a_second() {
    let model = ModelServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut g = start(dir.path(), &config_text(&model.base_url(), "")).await;
    let base = g.base.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(async move {
        let s = chat_stream_with(
            &base,
            KEY,
            ask("Write a long story about a cat, at least 300 words.", 600),
            |_| {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
                true
            },
        )
        .await;
        (s, Instant::now())
    });
    rx.await.unwrap();
    let killed_at = Instant::now();
    g.admin.call("/admin/kill", Some(json!({}))).await.unwrap();
    let (s, ended) = tasks.join_next().await.unwrap().unwrap();
    let took = ended.duration_since(killed_at);
    say(&format!(
        "kill switch: the running stream ended {:.0} ms after the admin call",
        took.as_secs_f64() * 1000.0
    ));
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(s.error.as_ref().unwrap()["code"], "service_stopped");
    assert!(s.done);
    // New requests are refused at once, also for other tenants; resume restores service.
    assert_eq!(chat(&g.base, KEY, ask("Say hi.", 4)).await.0, 503);
    assert_eq!(chat(&g.base, ACME_KEY, ask("Say hi.", 4)).await.0, 503);
    g.admin
        .call("/admin/resume", Some(json!({})))
        .await
        .unwrap();
    assert_eq!(chat(&g.base, KEY, ask("Say hi.", 4)).await.0, 200);
    // Per tenant.
    g.admin
        .call("/admin/kill", Some(json!({"tenant": "acme"})))
        .await
        .unwrap();
    assert_eq!(chat(&g.base, ACME_KEY, ask("Say hi.", 4)).await.0, 503);
    assert_eq!(chat(&g.base, KEY, ask("Say hi.", 4)).await.0, 200);
    g.stop().await;

    // The audit chain verifies; a tampered database fails verification, naming the record.
    let log = anquan_guard::audit::AuditLog::open(&g.db()).await.unwrap();
    let report = log.verify().await.unwrap();
    assert!(report.ok && report.records == 6, "{report:?}");
    let killed: Vec<String> = audit_records(&g.db())
        .await
        .iter()
        .map(|r| r["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        killed,
        ["killed", "killed", "killed", "pass", "killed", "pass"].map(String::from)
    );
    drop(log);
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(g.db());
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    sqlx::raw_sql("UPDATE guard_audit SET action = 'pass' WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let log = anquan_guard::audit::AuditLog::open(&g.db()).await.unwrap();
    let report = log.verify().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad.unwrap().0, 2);
}
