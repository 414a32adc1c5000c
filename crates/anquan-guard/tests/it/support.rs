//! Shared pieces of the guard's end-to-end tests: a guard started in-process on loopback, an HTTP
//! client that reads SSE like an OpenAI client, and a recording tap.
//!
//! The tap is a small loopback relay placed between the guard and the REAL model server: it
//! forwards every byte both ways and records what passed, so a test can assert on what the
//! upstream received (the masked prompt) and on how the model's answer was split into chunks. It
//! answers nothing itself; it is not a fake.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anquan_guard::admin::AdminClient;
use anquan_guard::{Guard, GuardConfig, Level, LogFn, Running, StartOptions};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

pub(crate) const KEY: &str = "sk-test-default";
pub(crate) const ACME_KEY: &str = "sk-test-acme";
pub(crate) const ADMIN_TOKEN: &str = "test-admin-token";

/// Write to stderr from a test (the print macros are linted).
pub(crate) fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

pub(crate) fn sha(s: &str) -> String {
    anquan_guard::policy::sha256_hex(s.as_bytes())
}

/// A guard.toml on `upstream` with two keys (`KEY` → tenant default, user `app`; `ACME_KEY` →
/// tenant acme) and `extra` appended (policies, tenants).
pub(crate) fn config_text(upstream: &str, extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin-listen = "127.0.0.1:0"
admin-token-env = "ANQUAN_TEST_UNUSED_TOKEN_VAR"
shutdown-grace-s = 2.0

[upstream]
base-url = "{upstream}"
first-byte-timeout-s = 20.0
idle-timeout-s = 20.0

[store]
path = "guard.db"

[[keys]]
sha256 = "{}"
tenant = "default"
user = "app"

[[keys]]
sha256 = "{}"
tenant = "acme"

[tenants.acme]
policy = "acme"

{extra}
{acme}
"#,
        sha(KEY),
        sha(ACME_KEY),
        acme = if extra.contains("[policies.acme]") {
            ""
        } else {
            "[policies.acme]"
        }
    )
}

pub(crate) struct TestGuard {
    pub(crate) running: Option<Running>,
    pub(crate) dir: PathBuf,
    pub(crate) base: String,
    pub(crate) admin: AdminClient,
    pub(crate) logs: Arc<Mutex<Vec<String>>>,
}

impl TestGuard {
    pub(crate) fn db(&self) -> PathBuf {
        self.dir.join("guard.db")
    }

    pub(crate) async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }

    pub(crate) fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

/// Start a guard from `toml` written to `dir/guard.toml`.
pub(crate) async fn start(dir: &Path, toml: &str) -> TestGuard {
    let path = dir.join("guard.toml");
    std::fs::write(&path, toml).unwrap();
    let cfg = GuardConfig::load(&path).unwrap();
    let logs: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&logs);
    let log: LogFn = Arc::new(move |level: Level, msg: &str| {
        sink.lock()
            .unwrap()
            .push(format!("{} {msg}", level.as_str()));
    });
    let running = Guard::start(StartOptions {
        config: cfg,
        config_path: Some(path),
        catalog: Arc::new(anquan_catalog::Catalog::load(None).unwrap()),
        log,
        admin_token: Some(ADMIN_TOKEN.into()),
    })
    .await
    .unwrap();
    let base = format!("http://{}/v1", running.addr());
    let admin = AdminClient::new(&running.admin_addr().unwrap().to_string(), ADMIN_TOKEN).unwrap();
    TestGuard {
        running: Some(running),
        dir: dir.to_owned(),
        base,
        admin,
        logs,
    }
}

pub(crate) fn http() -> reqwest::Client {
    anquan_llm::client(Duration::from_secs(5)).unwrap()
}

/// A non-streamed chat: status, headers, JSON body.
pub(crate) async fn chat(
    base: &str,
    key: &str,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = http()
        .post(format!("{base}/chat/completions"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, v)
}

#[derive(Debug, Default)]
pub(crate) struct Streamed {
    pub(crate) status: u16,
    pub(crate) content: String,
    pub(crate) pieces: Vec<String>,
    pub(crate) finish: Option<String>,
    pub(crate) error: Option<Value>,
    pub(crate) done: bool,
    pub(crate) first_byte: Option<Duration>,
    pub(crate) first_token: Option<Duration>,
    pub(crate) total: Duration,
    pub(crate) body: Option<Value>,
}

/// A streamed chat read like an OpenAI client reads it. `on_piece` sees each content piece as it
/// arrives and may stop reading (returns false).
pub(crate) async fn chat_stream_with(
    base: &str,
    key: &str,
    mut body: Value,
    mut on_piece: impl FnMut(&str) -> bool,
) -> Streamed {
    body["stream"] = json!(true);
    let t = Instant::now();
    let resp = http()
        .post(format!("{base}/chat/completions"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let mut out = Streamed {
        status: resp.status().as_u16(),
        ..Streamed::default()
    };
    let is_sse = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_sse {
        let text = resp.text().await.unwrap();
        out.body = Some(serde_json::from_str(&text).unwrap_or(Value::String(text)));
        out.total = t.elapsed();
        return out;
    }
    let mut parser = anquan_llm::SseParser::default();
    let mut stream = resp.bytes_stream();
    'read: while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        if out.first_byte.is_none() {
            out.first_byte = Some(t.elapsed());
        }
        for data in parser.push(&chunk) {
            if data.trim() == "[DONE]" {
                out.done = true;
                continue;
            }
            let v: Value = serde_json::from_str(&data).unwrap();
            if v.get("error").is_some() {
                out.error = Some(v["error"].clone());
                continue;
            }
            if let Some(c) = v
                .pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
            {
                if !c.is_empty() && out.first_token.is_none() {
                    out.first_token = Some(t.elapsed());
                }
                out.content.push_str(c);
                out.pieces.push(c.to_owned());
                if !on_piece(c) {
                    break 'read;
                }
            }
            if let Some(f) = v
                .pointer("/choices/0/finish_reason")
                .and_then(Value::as_str)
            {
                out.finish = Some(f.to_owned());
            }
        }
    }
    out.total = t.elapsed();
    out
}

pub(crate) async fn chat_stream(base: &str, key: &str, body: Value) -> Streamed {
    chat_stream_with(base, key, body, |_| true).await
}

/// A user message request with greedy decoding.
pub(crate) fn ask(prompt: &str, max_tokens: u32) -> Value {
    json!({"model": "qwen2.5-coder-0.5b", "temperature": 0, "seed": 7, "max_tokens": max_tokens,
           "messages": [{"role": "user", "content": prompt}]})
}

/// Every audit record of the store, in order (seq, record as JSON).
pub(crate) async fn audit_records(db: &Path) -> Vec<Value> {
    let log = anquan_guard::audit::AuditLog::open(db).await.unwrap();
    let mut buf: Vec<u8> = Vec::new();
    log.export_jsonl(&mut buf).await.unwrap();
    String::from_utf8(buf)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The recording tap in front of the real model server. See the module docs.
pub(crate) struct Tap {
    pub(crate) base_url: String,
    pub(crate) requests: Arc<Mutex<Vec<String>>>,
    pub(crate) responses: Arc<Mutex<Vec<Vec<String>>>>,
    _tasks: tokio::task::JoinSet<()>,
}

#[derive(Clone)]
struct TapState {
    target: String,
    requests: Arc<Mutex<Vec<String>>>,
    responses: Arc<Mutex<Vec<Vec<String>>>>,
    http: reqwest::Client,
}

async fn relay(State(s): State<TapState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let rest = path.strip_prefix("/v1").unwrap_or(&path).to_owned();
    let method = req.method().clone();
    let body = axum::body::to_bytes(req.into_body(), 1 << 24)
        .await
        .unwrap();
    s.requests
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into_owned());
    let resp = s
        .http
        .request(
            reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap(),
            format!("{}{rest}", s.target),
        )
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let slot = {
        let mut r = s.responses.lock().unwrap();
        r.push(Vec::new());
        r.len() - 1
    };
    let responses = Arc::clone(&s.responses);
    let stream = resp.bytes_stream().map(move |c| {
        if let Ok(b) = &c {
            responses.lock().unwrap()[slot].push(String::from_utf8_lossy(b).into_owned());
        }
        c.map_err(std::io::Error::other)
    });
    Response::builder()
        .status(status)
        .header("content-type", ctype)
        .body(Body::from_stream(stream))
        .unwrap()
}

impl Tap {
    pub(crate) async fn start(target: &str) -> Tap {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let state = TapState {
            target: target.trim_end_matches('/').to_owned(),
            requests: Arc::default(),
            responses: Arc::default(),
            http: http(),
        };
        let (requests, responses) = (Arc::clone(&state.requests), Arc::clone(&state.responses));
        let app = axum::Router::new().fallback(relay).with_state(state);
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Tap {
            base_url: format!("http://{addr}/v1"),
            requests,
            responses,
            _tasks: tasks,
        }
    }

    /// The SSE `content` pieces of the `i`-th response.
    pub(crate) fn response_pieces(&self, i: usize) -> Vec<String> {
        let raw = self.responses.lock().unwrap()[i].concat();
        let mut p = anquan_llm::SseParser::default();
        p.push(raw.as_bytes())
            .into_iter()
            .filter(|d| d.trim() != "[DONE]")
            .filter_map(|d| serde_json::from_str::<Value>(&d).ok())
            .filter_map(|v| {
                v.pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }
}
