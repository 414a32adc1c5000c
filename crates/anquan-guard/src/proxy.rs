//! The OpenAI-compatible routes: `POST /v1/chat/completions` (streamed and not), `GET /v1/models`
//! (passed through), configured pass-through prefixes, and an OpenAI-shaped 404 for the rest.
//!
//! A streamed answer is pumped by a task the shutdown waits for: it reads the upstream's SSE,
//! sends each delta through [`Phases::response_body_filter`], forwards what may be shown, and
//! watches the kill switch and the client at the same time. A client that goes away closes the
//! channel, the task drops the upstream response, and the upstream sees its connection closed
//! (the request is cancelled there).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::errors::GuardError;
use crate::phase::{BodyOut, Outcome, Phases as _, RequestCtx, authenticate, kill_watch, unix_now};
use crate::policy::KillWatch;
use crate::server::Guard;

pub(crate) fn router(guard: Guard) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .fallback(fallback)
        .with_state(guard)
}

/// Counts a request in flight until dropped.
struct InFlight(Guard);

impl InFlight {
    fn new(g: &Guard) -> InFlight {
        g.inner().in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(g.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.inner().in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

const REQUEST_ID: &str = "x-anquan-request-id";
const ACTION: &str = "x-anquan-guard-action";
const RISKS: &str = "x-anquan-guard-risks";

fn set_header(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(HeaderName::from_static(name), v);
    }
}

fn decorate(mut resp: Response, ctx: &RequestCtx) -> Response {
    set_header(&mut resp, REQUEST_ID, &ctx.request_id);
    if ctx.error.is_none() {
        set_header(&mut resp, ACTION, ctx.outcome.as_str());
        if !ctx.risks.is_empty() {
            let risks: Vec<&str> = ctx.risks.iter().map(String::as_str).collect();
            set_header(&mut resp, RISKS, &risks.join(","));
        }
    }
    resp
}

async fn answer_error(g: &Guard, mut ctx: RequestCtx, e: GuardError) -> Response {
    ctx.fail(&e);
    g.logging(&mut ctx).await;
    decorate(e.into_response(), &ctx)
}

async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, GuardError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(GuardError::BodyTooLarge { limit });
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| GuardError::BodyTooLarge { limit })
}

fn upstream_send_error(e: &reqwest::Error) -> GuardError {
    if e.is_timeout() {
        GuardError::UpstreamTimeout
    } else if e.is_connect() {
        GuardError::UpstreamUnavailable
    } else {
        // Connected, then the answer broke off before its headers.
        GuardError::UpstreamStream
    }
}

fn sse(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

const DONE: &[u8] = b"data: [DONE]\n\n";

fn stream_response(rx: mpsc::Receiver<Bytes>) -> Response {
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<Bytes, std::convert::Infallible>(b), rx))
    });
    let mut resp = Response::new(Body::from_stream(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// The refusal completion as a stream: role, content, `content_filter`, `[DONE]`.
fn refusal_stream(v: &Value) -> Vec<Bytes> {
    let text = v
        .pointer("/choices/0/message/content")
        .cloned()
        .unwrap_or(Value::Null);
    let env = |delta: Value, finish: Value| {
        json!({"id": v["id"], "object": "chat.completion.chunk", "created": v["created"], "model": v["model"],
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    vec![
        sse(&env(json!({"role": "assistant"}), Value::Null)),
        sse(&env(json!({"content": text}), Value::Null)),
        sse(&env(json!({}), json!("content_filter"))),
        Bytes::from_static(DONE),
    ]
}

async fn chat(State(g): State<Guard>, headers: HeaderMap, body: Body) -> Response {
    let in_flight = InFlight::new(&g);
    let mut ctx = RequestCtx::new(g.state());
    if let Err(e) = authenticate(&mut ctx, &headers) {
        return answer_error(&g, ctx, e).await;
    }
    let limit = ctx.state.cfg.server.max_body_bytes;
    let bytes = match read_body(&headers, body, limit).await {
        Ok(b) => b,
        Err(e) => return answer_error(&g, ctx, e).await,
    };
    let mut body: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            let what = format!("line {} column {}", e.line(), e.column());
            return answer_error(&g, ctx, GuardError::MalformedJson(what)).await;
        }
    };
    match g.request_filter(&mut ctx, &headers, &mut body).await {
        Err(e) => answer_error(&g, ctx, e).await,
        Ok(Some(refusal)) => {
            g.logging(&mut ctx).await;
            let resp = if ctx.stream {
                let (tx, rx) = mpsc::channel(8);
                for b in refusal_stream(&refusal) {
                    let _ = tx.try_send(b);
                }
                stream_response(rx)
            } else {
                axum::Json(refusal).into_response()
            };
            decorate(resp, &ctx)
        }
        Ok(None) => forward(g, ctx, body, in_flight).await,
    }
}

async fn forward(g: Guard, mut ctx: RequestCtx, body: Value, in_flight: InFlight) -> Response {
    let up = g.upstream(&ctx);
    let url = format!("{}/chat/completions", up.base_url);
    let mut req = g.inner().http.post(&url).json(&body);
    if let Some(k) = &up.api_key {
        req = req.bearer_auth(k);
    }
    let mut kill = kill_watch(&g, &ctx);
    let t = Instant::now();
    let sent = tokio::select! {
        r = tokio::time::timeout(up.first_byte, req.send()) => r,
        () = kill.killed() => return answer_error(&g, ctx, GuardError::Killed).await,
    };
    let resp = match sent {
        Err(_) => return answer_error(&g, ctx, GuardError::UpstreamTimeout).await,
        Ok(Err(e)) => return answer_error(&g, ctx, upstream_send_error(&e)).await,
        Ok(Ok(r)) => r,
    };
    ctx.phases.push(("upstream_headers", t.elapsed()));
    if let Err(e) = g.response_filter(&mut ctx, resp.status(), resp.headers()) {
        return answer_error(&g, ctx, e).await;
    }
    if ctx.stream {
        let is_sse = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            return answer_error(&g, ctx, GuardError::UpstreamMalformed).await;
        }
        let (tx, rx) = mpsc::channel(32);
        let mut out = stream_response(rx);
        out = decorate(out, &ctx);
        let pump_guard = g.clone();
        g.spawn(async move {
            pump(pump_guard, ctx, resp, tx, kill, in_flight).await;
        });
        return out;
    }
    let body = tokio::select! {
        r = tokio::time::timeout(up.total, resp.bytes()) => r,
        () = kill.killed() => return answer_error(&g, ctx, GuardError::Killed).await,
    };
    let body = match body {
        Err(_) => return answer_error(&g, ctx, GuardError::UpstreamTimeout).await,
        Ok(Err(_)) => return answer_error(&g, ctx, GuardError::UpstreamStream).await,
        Ok(Ok(b)) => b,
    };
    let Ok(mut v) = serde_json::from_slice::<Value>(&body) else {
        return answer_error(&g, ctx, GuardError::UpstreamMalformed).await;
    };
    let Some(content) = v
        .pointer("/choices/0/message")
        .filter(|m| m.is_object())
        .map(|m| {
            m.get("content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
    else {
        return answer_error(&g, ctx, GuardError::UpstreamMalformed).await;
    };
    let t = Instant::now();
    let step = g.response_body_filter(&mut ctx, &content, true);
    ctx.phases.push(("output", t.elapsed()));
    match step {
        BodyOut::Emit(text) => {
            if let Some(c) = v.pointer_mut("/choices/0/message/content")
                && c.is_string()
            {
                *c = Value::String(text);
            }
        }
        BodyOut::Stop(text) => {
            if let Some(m) = v.pointer_mut("/choices/0/message") {
                set(m, "content", Value::String(text));
            }
            if let Some(c) = v.pointer_mut("/choices/0") {
                set(c, "finish_reason", json!("content_filter"));
            }
        }
    }
    if ctx.outcome != Outcome::Pass
        && let Some(o) = v.as_object_mut()
    {
        o.insert(
            "anquan_guard".into(),
            json!({"action": ctx.outcome.as_str(), "risks": ctx.risks, "request_id": ctx.request_id}),
        );
    }
    g.logging(&mut ctx).await;
    decorate(axum::Json(v).into_response(), &ctx)
}

/// How a stream ended.
enum End {
    Done,
    Blocked,
    ClientGone,
    Error(GuardError),
}

fn set(v: &mut Value, key: &str, x: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_owned(), x);
    }
}

async fn send(tx: &mpsc::Sender<Bytes>, b: Bytes) -> bool {
    tx.send(b).await.is_ok()
}

async fn pump(
    g: Guard,
    mut ctx: RequestCtx,
    resp: reqwest::Response,
    tx: mpsc::Sender<Bytes>,
    mut kill: KillWatch,
    _in_flight: InFlight,
) {
    let idle = ctx.state.upstream.idle;
    let mut upstream = resp.bytes_stream();
    let mut parser = anquan_llm::SseParser::default();
    let mut envelope = json!({"id": format!("chatcmpl-{}", ctx.request_id), "object": "chat.completion.chunk",
                              "created": unix_now(), "model": ctx.model});
    let mut finished = false;
    let mut inspect = Duration::ZERO;
    let end = 'outer: loop {
        let next = tokio::select! {
            biased;
            () = kill.killed() => break End::Error(GuardError::Killed),
            () = tx.closed() => break End::ClientGone,
            n = tokio::time::timeout(idle, upstream.next()) => n,
        };
        let bytes = match next {
            Err(_) => break End::Error(GuardError::UpstreamTimeout),
            Ok(None) if finished => break End::Done,
            Ok(None) | Ok(Some(Err(_))) => break End::Error(GuardError::UpstreamStream),
            Ok(Some(Ok(b))) => b,
        };
        for data in parser.push(&bytes) {
            if data.trim() == "[DONE]" {
                break 'outer End::Done;
            }
            let Ok(mut chunk) = serde_json::from_str::<Value>(&data) else {
                break 'outer End::Error(GuardError::UpstreamMalformed);
            };
            if chunk.get("error").is_some() {
                break 'outer End::Error(GuardError::UpstreamStatus { status: 502 });
            }
            for k in ["id", "created", "model"] {
                if let Some(x) = chunk.get(k) {
                    set(&mut envelope, k, x.clone());
                }
            }
            let content = chunk
                .pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let finish = chunk
                .pointer("/choices/0/finish_reason")
                .filter(|f| !f.is_null())
                .cloned();
            if content.is_none() && finish.is_none() {
                // Role and usage chunks pass as they are.
                if !send(&tx, sse(&chunk)).await {
                    break 'outer End::ClientGone;
                }
                continue;
            }
            let t = Instant::now();
            let step = g.response_body_filter(
                &mut ctx,
                content.as_deref().unwrap_or(""),
                finish.is_some(),
            );
            inspect += t.elapsed();
            match step {
                BodyOut::Emit(text) => {
                    if finish.is_some() {
                        finished = true;
                    }
                    if text.is_empty() && finish.is_none() {
                        continue;
                    }
                    if let Some(delta) = chunk.pointer_mut("/choices/0/delta")
                        && delta.is_object()
                    {
                        if text.is_empty() {
                            if let Some(d) = delta.as_object_mut() {
                                d.remove("content");
                            }
                        } else {
                            set(delta, "content", Value::String(text));
                        }
                    }
                    if !send(&tx, sse(&chunk)).await {
                        break 'outer End::ClientGone;
                    }
                }
                BodyOut::Stop(text) => {
                    let mut c = envelope.clone();
                    set(
                        &mut c,
                        "choices",
                        json!([{"index": 0, "delta": {"content": text}, "finish_reason": "content_filter"}]),
                    );
                    let _ = send(&tx, sse(&c)).await;
                    break 'outer End::Blocked;
                }
            }
        }
    };
    ctx.phases.push(("output", inspect));
    drop(upstream);
    match end {
        End::Done => {
            if !finished {
                let mut c = envelope.clone();
                match g.response_body_filter(&mut ctx, "", true) {
                    BodyOut::Emit(text) if !text.is_empty() => {
                        set(
                            &mut c,
                            "choices",
                            json!([{"index": 0, "delta": {"content": text}, "finish_reason": null}]),
                        );
                        let _ = send(&tx, sse(&c)).await;
                    }
                    BodyOut::Emit(_) => {}
                    BodyOut::Stop(text) => {
                        set(
                            &mut c,
                            "choices",
                            json!([{"index": 0, "delta": {"content": text}, "finish_reason": "content_filter"}]),
                        );
                        let _ = send(&tx, sse(&c)).await;
                    }
                }
            }
            g.logging(&mut ctx).await;
            let _ = send(&tx, Bytes::from_static(DONE)).await;
        }
        End::Blocked => {
            g.logging(&mut ctx).await;
            let _ = send(&tx, Bytes::from_static(DONE)).await;
        }
        End::ClientGone => {
            ctx.fail(&GuardError::ClientDisconnected);
            g.logging(&mut ctx).await;
        }
        End::Error(e) => {
            ctx.fail(&e);
            g.logging(&mut ctx).await;
            let _ = send(&tx, sse(&e.body())).await;
            let _ = send(&tx, Bytes::from_static(DONE)).await;
        }
    }
}

async fn models(State(g): State<Guard>, headers: HeaderMap) -> Response {
    let _in_flight = InFlight::new(&g);
    let mut ctx = RequestCtx::new(g.state());
    if let Err(e) = authenticate(&mut ctx, &headers) {
        return answer_error(&g, ctx, e).await;
    }
    if g.inner().kill.is_killed(&ctx.tenant) {
        return answer_error(&g, ctx, GuardError::Killed).await;
    }
    let up = g.upstream(&ctx);
    let mut req = g.inner().http.get(format!("{}/models", up.base_url));
    if let Some(k) = &up.api_key {
        req = req.bearer_auth(k);
    }
    relay(&g, ctx, req, up.first_byte, up.total).await
}

/// Send `req` and hand the upstream's answer to the client as it is.
async fn relay(
    g: &Guard,
    mut ctx: RequestCtx,
    req: reqwest::RequestBuilder,
    first_byte: Duration,
    total: Duration,
) -> Response {
    let resp = match tokio::time::timeout(first_byte, req.send()).await {
        Err(_) => return answer_error(g, ctx, GuardError::UpstreamTimeout).await,
        Ok(Err(e)) => return answer_error(g, ctx, upstream_send_error(&e)).await,
        Ok(Ok(r)) => r,
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let ctype = resp.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = match tokio::time::timeout(total, resp.bytes()).await {
        Err(_) => return answer_error(g, ctx, GuardError::UpstreamTimeout).await,
        Ok(Err(_)) => return answer_error(g, ctx, GuardError::UpstreamStream).await,
        Ok(Ok(b)) => b,
    };
    ctx.status = status.as_u16();
    g.logging(&mut ctx).await;
    let mut out = Response::new(Body::from(bytes));
    *out.status_mut() = status;
    if let Some(c) = ctype {
        out.headers_mut().insert(header::CONTENT_TYPE, c);
    }
    decorate(out, &ctx)
}

async fn fallback(State(g): State<Guard>, req: Request) -> Response {
    let _in_flight = InFlight::new(&g);
    let mut ctx = RequestCtx::new(g.state());
    let path = req.uri().path().to_owned();
    let through = ctx
        .state
        .cfg
        .server
        .pass_through
        .iter()
        .any(|p| path.starts_with(p.as_str()));
    if !through {
        return answer_error(&g, ctx, GuardError::UnknownRoute(path)).await;
    }
    let (parts, body) = req.into_parts();
    if let Err(e) = authenticate(&mut ctx, &parts.headers) {
        return answer_error(&g, ctx, e).await;
    }
    if g.inner().kill.is_killed(&ctx.tenant) {
        return answer_error(&g, ctx, GuardError::Killed).await;
    }
    let limit = ctx.state.cfg.server.max_body_bytes;
    let bytes = match read_body(&parts.headers, body, limit).await {
        Ok(b) => b,
        Err(e) => return answer_error(&g, ctx, e).await,
    };
    let up = g.upstream(&ctx);
    let rest = path.strip_prefix("/v1").unwrap_or(&path);
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let Ok(method) = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()) else {
        return answer_error(
            &g,
            ctx,
            GuardError::InvalidRequest("unsupported method".into()),
        )
        .await;
    };
    let mut req = g
        .inner()
        .http
        .request(method, format!("{}{rest}{query}", up.base_url))
        .body(bytes);
    if let Some(c) = parts.headers.get(header::CONTENT_TYPE) {
        req = req.header(header::CONTENT_TYPE.as_str(), c.as_bytes());
    }
    if let Some(k) = &up.api_key {
        req = req.bearer_auth(k);
    }
    relay(&g, ctx, req, up.first_byte, up.total).await
}
