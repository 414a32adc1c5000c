//! Faults a real server cannot be made to produce, against `anquan_testkit::FakeUpstream` (a fake).

use std::time::{Duration, Instant};

use anquan_llm::{Client, LlmError, Message, TargetConfig};
use anquan_testkit::{FakeUpstream, Fault};

fn target(fake: &FakeUpstream, stream: bool) -> TargetConfig {
    let mut t = TargetConfig::openai(fake.base_url(), "fake");
    t.stream = stream;
    t.max_retries = 3;
    t.first_byte_timeout_s = 1.0;
    t.total_timeout_s = 5.0;
    t
}

fn ask(text: &str) -> Vec<Message> {
    vec![Message::new("user", text)]
}

#[tokio::test]
async fn answers_streaming_and_not_with_usage_and_timings() {
    let fake = FakeUpstream::start().unwrap();
    for stream in [true, false] {
        let c = Client::new(target(&fake, stream)).unwrap();
        let r = c.chat(&ask("hello there")).await.unwrap();
        assert_eq!(r.content, anquan_testkit::canned_answer("hello there"));
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert!(!r.usage.estimated && r.usage.completion_tokens > 0);
        assert_eq!(r.timings.first_token_ms.is_some(), stream);
        assert_eq!(r.attempts, 1);
    }
}

#[tokio::test]
async fn rate_limit_honours_retry_after_then_succeeds() {
    let fake = FakeUpstream::start().unwrap();
    fake.script([Fault::RateLimit(Some(1)), Fault::RateLimit(Some(1))]);
    let c = Client::new(target(&fake, true)).unwrap();
    let start = Instant::now();
    let r = c.chat(&ask("hi")).await.unwrap();
    assert_eq!(r.attempts, 3);
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn a_429_storm_ends_with_a_clear_error_after_bounded_retries() {
    let fake = FakeUpstream::start().unwrap();
    fake.script(std::iter::repeat_n(Fault::RateLimit(Some(0)), 10));
    let c = Client::new(target(&fake, false)).unwrap();
    let e = c.chat(&ask("hi")).await.unwrap_err();
    assert!(
        matches!(e, LlmError::RateLimited { attempts: 4, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("HTTP 429"), "{e}");
    assert_eq!(fake.requests(), 4);
}

#[tokio::test]
async fn dropped_stream_is_retried() {
    let fake = FakeUpstream::start().unwrap();
    fake.script([Fault::DropStream]);
    let c = Client::new(target(&fake, true)).unwrap();
    let r = c.chat(&ask("hi")).await.unwrap();
    assert_eq!(r.attempts, 2);
    assert_eq!(r.content, anquan_testkit::canned_answer("hi"));
}

#[tokio::test]
async fn slow_first_byte_times_out_and_names_the_phase() {
    let fake = FakeUpstream::start().unwrap();
    fake.script(std::iter::repeat_n(
        Fault::SlowFirstByte(Duration::from_millis(1500)),
        4,
    ));
    let mut t = target(&fake, true);
    t.max_retries = 0;
    let c = Client::new(t).unwrap();
    let start = Instant::now();
    let e = c.chat(&ask("hi")).await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(e.to_string().contains("first-byte timeout"), "{e}");
}

#[tokio::test]
async fn malformed_json_and_server_errors() {
    let fake = FakeUpstream::start().unwrap();
    fake.script([Fault::MalformedJson, Fault::Status(500)]);
    let c = Client::new(target(&fake, false)).unwrap();
    let r = c.chat(&ask("hi")).await.unwrap();
    assert_eq!(r.attempts, 3);
    let mut t = target(&fake, false);
    t.max_retries = 0;
    fake.script([Fault::MalformedJson]);
    let e = Client::new(t).unwrap().chat(&ask("hi")).await.unwrap_err();
    assert!(e.to_string().contains("malformed response"), "{e}");
    fake.script([Fault::Status(400)]);
    let e = c.chat(&ask("hi")).await.unwrap_err();
    assert!(matches!(e, LlmError::Status { status: 400, .. }), "{e:?}");
}

#[tokio::test]
async fn a_down_target_says_so_without_the_key() {
    // Bind and drop a listener: nothing listens on that port now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut t = TargetConfig::openai(format!("http://127.0.0.1:{port}/v1?key=sk-in-url"), "m");
    t.headers
        .insert("Authorization".into(), "Bearer sk-very-secret".into());
    t.max_retries = 1;
    let c = Client::new(t).unwrap();
    let e = c.chat(&ask("hi")).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("cannot connect"), "{msg}");
    for shown in [msg, format!("{e:?}"), format!("{c:?}")] {
        assert!(
            !shown.contains("sk-very-secret") && !shown.contains("sk-in-url"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn missing_key_variable_is_named() {
    let mut t = TargetConfig::openai("http://127.0.0.1:9/v1", "m");
    t.api_key_env = Some("ANQUAN_TEST_NO_SUCH_VAR".into());
    let e = Client::new(t).unwrap_err();
    assert!(e.to_string().contains("ANQUAN_TEST_NO_SUCH_VAR"), "{e}");
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let fake = FakeUpstream::start().unwrap();
    fake.set_delay(Duration::from_millis(200));
    let mut t = target(&fake, false);
    t.concurrency = 2;
    let c = Client::new(t).unwrap();
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..4 {
        let c = c.clone();
        set.spawn(async move { c.chat(&ask(&format!("q{i}"))).await });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    // 4 requests, 2 at a time, 200 ms each: at least 400 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(390),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn http_target_with_template_and_answer_path() {
    let fake = FakeUpstream::start().unwrap();
    let mut t = TargetConfig::openai(format!("{}/chat/completions", fake.base_url()), "fake");
    t.kind = anquan_llm::TargetKind::Http;
    t.request_template = Some(
        r#"{"model": "{{model}}", "messages": [{"role": "user", "content": "{{prompt}}"}]}"#.into(),
    );
    t.answer_path = Some("choices.0.message.content".into());
    let c = Client::new(t).unwrap();
    let r = c.chat(&ask("a \"quoted\" prompt")).await.unwrap();
    assert_eq!(
        r.content,
        anquan_testkit::canned_answer("a \"quoted\" prompt")
    );
}
