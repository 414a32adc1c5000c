//! Faults and the error table, with `anquan-testkit`'s FAKE upstream (a named fake, used only for
//! faults a real server cannot be made to produce on demand, and for routes that need no model).
//! Every fault must give the client a clean OpenAI-shaped answer and leave an audit record.

use std::time::Duration;

use anquan_testkit::{FakeUpstream, Fault};
use serde_json::{Value, json};

use crate::support::{KEY, audit_records, chat, chat_stream, config_text, http, start};

const FAKE_POLICY: &str = r#"
[policies.acme]
language = "en"
[policies.acme.rate-limit]
requests-per-minute = 60
burst = 2
"#;

fn assert_openai_error(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    assert!(v["error"]["type"].is_string(), "{v}");
    let text = v.to_string();
    for leak in ["127.0.0.1", "reqwest", "sqlx", "panicked", "fake"] {
        assert!(!text.contains(leak), "internals leaked ({leak}): {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_from_the_fake_upstream_become_clean_openai_answers_with_audit_records() {
    let fake = FakeUpstream::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(&fake.base_url(), FAKE_POLICY)
        .replace("first-byte-timeout-s = 20.0", "first-byte-timeout-s = 0.5");
    let mut g = start(dir.path(), &toml).await;
    let req = json!({"model": "fake", "messages": [{"role": "user", "content": "hello there"}]});

    // A stream dropped mid-answer: what was shown stays, then an error event and [DONE].
    // (When the cut comes before the upstream's headers went out, the client gets a 502 with the
    // same code instead of an SSE error event.)
    fake.script([Fault::DropStream]);
    let s = chat_stream(&g.base, KEY, req.clone()).await;
    if s.status == 200 {
        assert_openai_error(s.error.as_ref().unwrap(), "upstream_stream_broken");
        assert!(s.done, "the stream is closed cleanly");
        assert!(
            s.content.is_empty() || s.content == "部分",
            "{:?}",
            s.content
        );
    } else {
        assert_eq!(s.status, 502);
        assert_openai_error(s.body.as_ref().unwrap(), "upstream_stream_broken");
    }

    // 429 with Retry-After.
    fake.script([Fault::RateLimit(Some(7))]);
    let resp = http()
        .post(format!("{}/chat/completions", g.base))
        .bearer_auth(KEY)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert_openai_error(
        &resp.json::<Value>().await.unwrap(),
        "upstream_rate_limited",
    );

    // Slow first byte beyond the configured timeout: 504.
    fake.script([Fault::SlowFirstByte(Duration::from_secs(2))]);
    let (status, _, v) = chat(&g.base, KEY, req.clone()).await;
    assert_eq!(status, 504);
    assert_openai_error(&v, "upstream_timeout");

    // Malformed JSON from the upstream: 502.
    fake.script([Fault::MalformedJson]);
    let (status, _, v) = chat(&g.base, KEY, req.clone()).await;
    assert_eq!(status, 502);
    assert_openai_error(&v, "upstream_malformed");

    // A 500: 502 with our code.
    fake.script([Fault::Status(500)]);
    let (status, _, v) = chat(&g.base, KEY, req.clone()).await;
    assert_eq!(status, 502);
    assert_openai_error(&v, "upstream_error");

    // And a normal answer still works after all that.
    let (status, headers, v) = chat(&g.base, KEY, req.clone()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(headers["x-anquan-guard-action"], "pass");
    assert!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("hello there")
    );

    g.stop().await;
    let recs = audit_records(&g.db()).await;
    let codes: Vec<Option<&str>> = recs.iter().map(|r| r["error_code"].as_str()).collect();
    assert_eq!(
        codes,
        [
            Some("upstream_stream_broken"),
            Some("upstream_rate_limited"),
            Some("upstream_timeout"),
            Some("upstream_malformed"),
            Some("upstream_error"),
            None
        ],
        "one audit record per request, in order"
    );
    assert!(
        recs.iter()
            .all(|r| r["tenant"] == "default" && r["user"] == "app")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_error_table_answers_bad_requests_openai_shaped() {
    let fake = FakeUpstream::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(&fake.base_url(), FAKE_POLICY).replace(
        "shutdown-grace-s = 2.0",
        "shutdown-grace-s = 2.0\nmax-body-bytes = 2000\npass-through = [\"/v1/embeddings\"]",
    );
    let mut g = start(dir.path(), &toml).await;
    let c = http();
    let url = format!("{}/chat/completions", g.base);

    // No key, wrong key.
    let r = c.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_openai_error(&r.json().await.unwrap(), "invalid_api_key");
    let r = c
        .post(&url)
        .bearer_auth("sk-nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // Malformed JSON: 400.
    let r = c
        .post(&url)
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{\"messages\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_openai_error(&r.json().await.unwrap(), "invalid_json");

    // JSON but not a chat request.
    let (s, _, v) = chat(&g.base, KEY, json!({"model": "x"})).await;
    assert_eq!(s, 400);
    assert_openai_error(&v, "invalid_request");

    // Oversized body: 413 (declared and chunked).
    let big = json!({"model": "x", "messages": [{"role": "user", "content": "x".repeat(5000)}]});
    let (s, _, v) = chat(&g.base, KEY, big.clone()).await;
    assert_eq!(s, 413);
    assert_openai_error(&v, "body_too_large");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(big.to_string().into_bytes()[..3000].to_vec()),
        Ok(b"...".to_vec()),
    ];
    let r = c
        .post(&url)
        .bearer_auth(KEY)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);

    // Unknown route: 404; pass-through prefix: forwarded (the fake has no such route: its 404).
    let r = c
        .get(format!("{}/files", g.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_openai_error(&r.json().await.unwrap(), "unknown_route");
    let r = c
        .post(format!("{}/embeddings", g.base))
        .bearer_auth(KEY)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.headers().get("x-anquan-request-id").is_some());
    let r = c
        .post(format!("{}/embeddings", g.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "pass-through still needs a key");

    // /v1/models is passed through.
    let r = c
        .get(format!("{}/models", g.base))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["data"][0]["id"], "fake");

    // Upstream down: 502.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let dir2 = tempfile::tempdir().unwrap();
    let mut g2 = start(
        dir2.path(),
        &config_text(&format!("http://{down}/v1"), FAKE_POLICY),
    )
    .await;
    let (s, _, v) = chat(
        &g2.base,
        KEY,
        json!({"messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(s, 502);
    assert_openai_error(&v, "upstream_unavailable");
    g2.stop().await;

    g.stop().await;
    assert!(
        audit_records(&g.db()).await.len() >= 10,
        "every request is audited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_input_gets_a_refusal_streamed_or_not_and_rate_limit_answers_429() {
    let fake = FakeUpstream::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut g = start(dir.path(), &config_text(&fake.base_url(), FAKE_POLICY)).await;
    let bad = json!({"model": "m", "messages": [{"role": "user", "content": "哪里有赌博网站？"}]});
    let before = fake.requests();
    let (s, h, v) = chat(&g.base, KEY, bad.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(h["x-anquan-guard-action"], "block");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
    assert!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("抱歉")
    );
    let st = chat_stream(&g.base, KEY, bad.clone()).await;
    assert_eq!(st.finish.as_deref(), Some("content_filter"));
    assert!(st.done && st.content.contains("抱歉"));
    assert_eq!(
        fake.requests(),
        before,
        "a blocked input never reaches the upstream"
    );

    // The acme policy answers in English and allows 2 requests at once, then 429 + Retry-After.
    let (_, _, v) = chat(&g.base, crate::support::ACME_KEY, bad).await;
    assert!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Sorry")
    );
    let ok =
        json!({"model": "m", "messages": [{"role": "user", "content": "hello"}], "user": "u1"});
    let (s1, _, _) = chat(&g.base, crate::support::ACME_KEY, ok.clone()).await;
    let (s2, _, _) = chat(&g.base, crate::support::ACME_KEY, ok.clone()).await;
    let r = http()
        .post(format!("{}/chat/completions", g.base))
        .bearer_auth(crate::support::ACME_KEY)
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!((s1, s2, r.status().as_u16()), (200, 200, 429));
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_openai_error(&r.json().await.unwrap(), "rate_limited");
    // Another user behind the same key has their own bucket.
    let other =
        json!({"model": "m", "messages": [{"role": "user", "content": "hello"}], "user": "u2"});
    assert_eq!(chat(&g.base, crate::support::ACME_KEY, other).await.0, 200);
    g.stop().await;
    let recs = audit_records(&g.db()).await;
    let actions: Vec<&str> = recs.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "block",
            "block",
            "block",
            "pass",
            "pass",
            "rate_limited",
            "pass"
        ]
    );
    assert!(recs[0]["verdicts"].to_string().contains("keyword@1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_changes_policy_without_dropping_a_stream_and_metrics_have_no_user_label() {
    let fake = FakeUpstream::start().unwrap();
    fake.set_delay(Duration::from_millis(600));
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("words.tsv");
    std::fs::write(
        &lib,
        "keyword\trisk_ids\tseverity\tsource\nzebracorn\tA.1.h\thigh\ttest\n",
    )
    .unwrap();
    let toml = config_text(&fake.base_url(), FAKE_POLICY)
        + "[policies.default]\nkeywords = \"words.tsv\"\nbuiltin-allow = false\n";
    let mut g = start(dir.path(), &toml).await;
    let ask = |t: &str| json!({"model": "m", "messages": [{"role": "user", "content": t}], "user": "alice"});
    assert_eq!(
        chat(&g.base, KEY, ask("tell me about zebracorn")).await.2["choices"][0]["finish_reason"],
        "content_filter"
    );
    assert_eq!(
        chat(&g.base, KEY, ask("tell me about okapis")).await.2["choices"][0]["finish_reason"],
        "stop"
    );

    // A stream in flight while the library changes and the guard reloads.
    let base = g.base.clone();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(async move { chat_stream(&base, KEY, ask("tell me about okapis")).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    std::fs::write(
        &lib,
        "keyword\trisk_ids\tseverity\tsource\nokapis\tA.1.h\thigh\ttest\n",
    )
    .unwrap();
    let v = g
        .admin
        .call("/admin/reload", Some(json!({})))
        .await
        .unwrap();
    assert_eq!(v["reloaded"], true);
    let s = tasks.join_next().await.unwrap().unwrap();
    assert!(
        s.done && s.error.is_none(),
        "the stream in flight finished: {s:?}"
    );
    assert_eq!(
        chat(&g.base, KEY, ask("tell me about okapis")).await.2["choices"][0]["finish_reason"],
        "content_filter"
    );
    assert_eq!(
        chat(&g.base, KEY, ask("tell me about zebracorn")).await.2["choices"][0]["finish_reason"],
        "stop"
    );

    // A broken file leaves the running policy in place.
    std::fs::write(dir.path().join("guard.toml"), "[upstream]\nbase-url = 1\n").unwrap();
    assert!(
        g.admin
            .call("/admin/reload", Some(json!({})))
            .await
            .is_err()
    );
    assert_eq!(
        chat(&g.base, KEY, ask("okapis")).await.2["choices"][0]["finish_reason"],
        "content_filter"
    );

    let m = g.admin.metrics().await.unwrap();
    assert!(m.contains("anquan_guard_requests_total"), "{m}");
    assert!(m.contains("action=\"block\""), "{m}");
    assert!(
        !m.contains("alice") && !m.contains("user="),
        "no user label: {m}"
    );
    let status = g.admin.call("/admin/status", None).await.unwrap();
    assert_eq!(status["killed"], false);
    assert!(
        http()
            .get(format!(
                "http://{}/metrics",
                g.running.as_ref().unwrap().admin_addr().unwrap()
            ))
            .send()
            .await
            .unwrap()
            .status()
            == 401
    );
    g.stop().await;
}
