//! **A fake upstream**, named as such: a fast OpenAI-compatible stand-in on loopback for two uses
//! only — benchmarks of runner overhead (where the real model would measure the model, not us),
//! and faults a real server cannot be made to produce on demand (429 with `Retry-After`, a stream
//! dropped mid-answer, a slow first byte, malformed JSON, a 500). Everything else is tested
//! against the real local model server ([`crate::ModelServer`]).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

/// One scripted behaviour, used for the next request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 429 with `Retry-After: secs` (omitted when `None`).
    RateLimit(Option<u32>),
    /// HTTP status with an OpenAI-shaped error body.
    Status(u16),
    /// A streamed answer that stops after a few chunks without `[DONE]`, the connection cut.
    DropStream,
    /// Wait this long before any byte of the response.
    SlowFirstByte(Duration),
    /// A 200 whose body is not JSON.
    MalformedJson,
}

#[derive(Debug, Default)]
struct Shared {
    script: Mutex<VecDeque<Fault>>,
    requests: AtomicU64,
    delay_ms: AtomicU64,
}

/// The fake upstream. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeUpstream {
    /// Start on `127.0.0.1:0` in its own thread and runtime (so it serves blocking tests and
    /// async ones alike).
    pub fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-upstream".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = addr_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = addr_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = addr_tx.send(listener.local_addr());
                    let app = Router::new()
                        .route("/v1/models", get(models))
                        .route("/v1/chat/completions", post(chat))
                        .with_state(state);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stop_rx.await;
                        })
                        .await;
                });
            })?;
        let addr = addr_rx
            .recv()
            .map_err(|_| std::io::Error::other("fake upstream thread ended early"))??;
        Ok(FakeUpstream {
            addr,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queue faults for the next requests, in order; later requests are answered normally.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        if let Ok(mut s) = self.shared.script.lock() {
            s.extend(faults);
        }
    }

    /// Add a fixed delay to every normal answer (simulates model latency).
    pub fn set_delay(&self, d: Duration) {
        self.shared
            .delay_ms
            .store(d.as_millis() as u64, Ordering::Relaxed);
    }

    /// Chat requests received so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn models() -> impl IntoResponse {
    axum::Json(json!({"object": "list", "data": [{"id": "fake", "object": "model"}]}))
}

/// The canned answer: refuses prompts containing a marker word, answers the rest. Deterministic,
/// so benchmarks and fault tests know what the judges will see.
pub fn canned_answer(prompt: &str) -> String {
    let refuse = ["REFUSE", "炸弹", "bomb"];
    if refuse.iter().any(|w| prompt.contains(w)) {
        if prompt.is_ascii() {
            "I'm sorry, but I can't help with that request.".to_owned()
        } else {
            "抱歉，我不能提供这方面的帮助。".to_owned()
        }
    } else if prompt.is_ascii() {
        format!(
            "Here is a short answer about: {}",
            prompt.chars().take(40).collect::<String>()
        )
    } else {
        format!(
            "关于这个问题，简要回答如下：{}",
            prompt.chars().take(20).collect::<String>()
        )
    }
}

fn error_body(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        axum::Json(json!({"error": {"message": message, "type": "fake_error", "code": null}})),
    )
        .into_response()
}

async fn chat(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let fault = s.script.lock().ok().and_then(|mut q| q.pop_front());
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error_body(400, "request body is not JSON");
    };
    let prompt = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let stream = req["stream"].as_bool().unwrap_or(false);
    let answer = canned_answer(&prompt);
    match fault {
        Some(Fault::RateLimit(secs)) => {
            let mut r = error_body(429, "rate limited (fake)");
            if let Some(secs) = secs
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        Some(Fault::Status(code)) => return error_body(code, "server error (fake)"),
        Some(Fault::MalformedJson) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "{\"choices\": [ this is not json",
            )
                .into_response();
        }
        Some(Fault::SlowFirstByte(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropStream) => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from(sse_chunk(&json!({"role": "assistant"}), None))),
                Ok(Bytes::from(sse_chunk(&json!({"content": "部分"}), None))),
                Err(std::io::Error::other("dropped (fake)")),
            ];
            return Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .unwrap_or_else(|_| error_body(500, "fake"));
        }
        None => {}
    }
    let delay = s.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let prompt_tokens = prompt.chars().count() as u64;
    let completion_tokens = answer.chars().count() as u64;
    let usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens});
    if stream {
        let mut out = String::new();
        out.push_str(&sse_chunk(&json!({"role": "assistant"}), None));
        let chars: Vec<char> = answer.chars().collect();
        for piece in chars.chunks(8) {
            out.push_str(&sse_chunk(
                &json!({"content": piece.iter().collect::<String>()}),
                None,
            ));
        }
        out.push_str(&sse_chunk(&json!({}), Some("stop")));
        out.push_str(&format!(
            "data: {}\n\n",
            json!({"id": "fake", "object": "chat.completion.chunk", "choices": [], "usage": usage})
        ));
        out.push_str("data: [DONE]\n\n");
        return ([(header::CONTENT_TYPE, "text/event-stream")], out).into_response();
    }
    axum::Json(json!({
        "id": "fake", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "usage": usage,
    }))
    .into_response()
}

fn sse_chunk(delta: &Value, finish: Option<&str>) -> String {
    format!(
        "data: {}\n\n",
        json!({"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": "fake",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    )
}
