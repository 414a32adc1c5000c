//! The client: one per target, shared by every worker of a run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{
    AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore};

use crate::config::{TargetConfig, TargetKind};
use crate::error::{LlmError, redact_url};
use crate::limit::Limiter;
use crate::sse::SseParser;

/// One chat turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl Message {
    /// A turn with the given role.
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Message {
            role: role.to_owned(),
            content: content.into(),
        }
    }
}

/// Token counts of one exchange.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// True when the server sent no `usage` and these are our estimate.
    pub estimated: bool,
}

impl Usage {
    /// Prompt plus completion.
    pub fn total(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// Timings of one exchange, over the successful attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Milliseconds until the first content token (streaming only).
    pub first_token_ms: Option<f64>,
    /// Milliseconds for the whole answer.
    pub total_ms: f64,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answer text.
    pub content: String,
    /// `stop`, `length`, `content_filter`…, when the server says.
    pub finish_reason: Option<String>,
    /// Token accounting.
    pub usage: Usage,
    /// Timings.
    pub timings: Timings,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
}

/// The HTTP client every anquan component uses, with the connect timeout set. Build HTTP clients
/// only through this function (clippy's `disallowed-methods` enforces it).
pub fn client(connect_timeout: Duration) -> Result<reqwest::Client, LlmError> {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that builds an HTTP client"
    )]
    let builder = reqwest::Client::builder();
    builder
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| LlmError::Config(format!("cannot build the HTTP client: {e}")))
}

/// A secret that never prints.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An OpenAI-compatible (or templated HTTP) chat client for one target.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    // Header values and the configuration may hold secrets: show only what is safe.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.shown_url)
            .field("model", &self.inner.cfg.model)
            .field("concurrency", &self.inner.cfg.concurrency)
            .finish_non_exhaustive()
    }
}

struct Inner {
    cfg: TargetConfig,
    http: reqwest::Client,
    endpoint: String,
    shown_url: String,
    headers: HeaderMap,
    slots: Semaphore,
    limiter: Limiter,
    /// Shared cool-down after a 429: no worker sends before this instant.
    pause_until: Mutex<Option<Instant>>,
    jitter: AtomicU64,
}

impl Client {
    /// A client for `cfg`. Reads the API key from the environment variable the target names.
    pub fn new(cfg: TargetConfig) -> Result<Self, LlmError> {
        let problems = cfg.validate();
        if !problems.is_empty() {
            return Err(LlmError::Config(problems.join("; ")));
        }
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(var) = &cfg.api_key_env {
            let key = std::env::var(var).map_err(|_| {
                LlmError::Config(format!(
                    "the target's api-key-env names {var}, which is not set; export {var}=… first"
                ))
            })?;
            let key = Secret(key);
            let mut v = HeaderValue::from_str(&format!("Bearer {}", key.0)).map_err(|_| {
                LlmError::Config(format!("the value of {var} is not a valid header value"))
            })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        for (name, value) in &cfg.headers {
            let value = expand_env(value)?;
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| LlmError::Config(format!("invalid header name {name:?}")))?;
            let mut v = HeaderValue::from_str(&value)
                .map_err(|_| LlmError::Config(format!("invalid value for header {name}")))?;
            v.set_sensitive(true);
            headers.insert(name, v);
        }
        let endpoint = match cfg.kind {
            TargetKind::Openai => {
                format!("{}/chat/completions", cfg.base_url.trim_end_matches('/'))
            }
            TargetKind::Http => cfg.base_url.clone(),
        };
        let http = client(cfg.timeout(cfg.connect_timeout_s))?;
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        Ok(Client {
            inner: Arc::new(Inner {
                shown_url: redact_url(&endpoint),
                endpoint,
                http,
                headers,
                slots: Semaphore::new(cfg.concurrency.max(1)),
                limiter: Limiter::new(cfg.rpm, cfg.tpm),
                pause_until: Mutex::new(None),
                jitter: AtomicU64::new(seed | 1),
                cfg,
            }),
        })
    }

    /// The target's configuration.
    pub fn config(&self) -> &TargetConfig {
        &self.inner.cfg
    }

    /// The endpoint, with any credentials or query string removed: safe to show.
    pub fn shown_url(&self) -> &str {
        &self.inner.shown_url
    }

    /// Send a conversation (the target's system prompt is put first) and return the answer,
    /// retrying what can be retried.
    pub async fn chat(&self, messages: &[Message]) -> Result<ChatResponse, LlmError> {
        let cfg = &self.inner.cfg;
        let mut full = Vec::with_capacity(messages.len() + 1);
        if let Some(sys) = &cfg.system_prompt
            && !messages.iter().any(|m| m.role == "system")
        {
            full.push(Message::new("system", sys.clone()));
        }
        full.extend_from_slice(messages);
        let body = self.body(&full)?;
        let estimate = estimate_tokens(&full) + u64::from(cfg.max_tokens);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.wait_pause().await;
            self.inner.limiter.acquire(estimate).await;
            let result = {
                let _slot = self
                    .inner
                    .slots
                    .acquire()
                    .await
                    .map_err(|_| LlmError::Cancelled)?;
                let total = cfg.timeout(cfg.total_timeout_s);
                match tokio::time::timeout(total, self.once(&body, &full)).await {
                    Ok(r) => r,
                    Err(_) => Err(LlmError::Timeout {
                        url: self.inner.shown_url.clone(),
                        phase: "total",
                        secs: cfg.total_timeout_s,
                    }),
                }
            };
            match result {
                Ok(mut r) => {
                    r.attempts = attempt;
                    self.inner.limiter.settle(estimate, r.usage.total()).await;
                    return Ok(r);
                }
                Err(e) if e.retryable() && attempt <= cfg.max_retries => {
                    let delay = match &e {
                        LlmError::RateLimited {
                            retry_after: Some(d),
                            ..
                        } => *d,
                        _ => self.backoff(attempt),
                    };
                    if matches!(e, LlmError::RateLimited { .. }) {
                        let mut p = self.inner.pause_until.lock().await;
                        let until = Instant::now() + delay;
                        if p.is_none_or(|old| old < until) {
                            *p = Some(until);
                        }
                    }
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e.after(attempt)),
            }
        }
    }

    /// `GET {base_url}/models`: the model ids the server offers (a readiness probe).
    pub async fn models(&self) -> Result<Vec<String>, LlmError> {
        let cfg = &self.inner.cfg;
        let url = format!("{}/models", cfg.base_url.trim_end_matches('/'));
        let shown = redact_url(&url);
        let resp = tokio::time::timeout(
            cfg.timeout(cfg.first_byte_timeout_s),
            self.inner
                .http
                .get(&url)
                .headers(self.inner.headers.clone())
                .send(),
        )
        .await
        .map_err(|_| LlmError::Timeout {
            url: shown.clone(),
            phase: "first-byte",
            secs: cfg.first_byte_timeout_s,
        })?
        .map_err(|e| transport(&shown, &e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| transport(&shown, &e))?;
        if !status.is_success() {
            return Err(LlmError::Status {
                url: shown,
                status: status.as_u16(),
                body: excerpt(&text),
            });
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| LlmError::Malformed {
            url: shown.clone(),
            detail: format!("not JSON ({e}): {}", excerpt(&text)),
        })?;
        Ok(v["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn body(&self, messages: &[Message]) -> Result<Vec<u8>, LlmError> {
        let cfg = &self.inner.cfg;
        match cfg.kind {
            TargetKind::Openai => {
                let mut b = json!({
                    "model": cfg.model,
                    "messages": messages,
                    "max_tokens": cfg.max_tokens,
                    "temperature": cfg.temperature,
                    "stream": cfg.stream,
                });
                if cfg.stream {
                    b["stream_options"] = json!({"include_usage": true});
                }
                if let Some(seed) = cfg.seed {
                    b["seed"] = json!(seed);
                }
                serde_json::to_vec(&b).map_err(|e| LlmError::Config(e.to_string()))
            }
            TargetKind::Http => {
                let template = cfg.request_template.as_deref().unwrap_or_default();
                let prompt = messages
                    .iter()
                    .rev()
                    .find(|m| m.role == "user")
                    .map_or("", |m| m.content.as_str());
                let quoted = serde_json::to_string(prompt).unwrap_or_default();
                let body = template
                    .replace(
                        "{{prompt}}",
                        &quoted[1..quoted.len().saturating_sub(1).max(1)],
                    )
                    .replace(
                        "{{messages}}",
                        &serde_json::to_string(messages).unwrap_or_default(),
                    )
                    .replace("{{model}}", &cfg.model);
                serde_json::from_str::<Value>(&body).map_err(|e| {
                    LlmError::Config(format!("request-template is not JSON once filled in: {e}"))
                })?;
                Ok(body.into_bytes())
            }
        }
    }

    async fn once(&self, body: &[u8], messages: &[Message]) -> Result<ChatResponse, LlmError> {
        let cfg = &self.inner.cfg;
        let url = &self.inner.shown_url;
        let start = Instant::now();
        let first_byte = cfg.timeout(cfg.first_byte_timeout_s);
        let send = self
            .inner
            .http
            .post(&self.inner.endpoint)
            .headers(self.inner.headers.clone())
            .body(body.to_vec())
            .send();
        let resp = tokio::time::timeout(first_byte, send)
            .await
            .map_err(|_| LlmError::Timeout {
                url: url.clone(),
                phase: "first-byte",
                secs: cfg.first_byte_timeout_s,
            })?
            .map_err(|e| transport(url, &e))?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            return Err(LlmError::RateLimited {
                url: url.clone(),
                retry_after,
                attempts: 1,
            });
        }
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(LlmError::Status {
                url: url.clone(),
                status: status.as_u16(),
                body: excerpt(&text),
            });
        }
        let streaming = cfg.kind == TargetKind::Openai
            && cfg.stream
            && resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"));
        if streaming {
            return self.read_stream(resp, start, messages).await;
        }
        let bytes = tokio::time::timeout(first_byte, resp.bytes())
            .await
            .map_err(|_| LlmError::Timeout {
                url: url.clone(),
                phase: "body",
                secs: cfg.first_byte_timeout_s,
            })?
            .map_err(|e| transport(url, &e))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| LlmError::Malformed {
            url: url.clone(),
            detail: format!(
                "not JSON ({e}): {}",
                excerpt(&String::from_utf8_lossy(&bytes))
            ),
        })?;
        let (content, finish_reason) = match cfg.kind {
            TargetKind::Openai => {
                let choice = &v["choices"][0];
                let Some(content) = choice["message"]["content"].as_str() else {
                    return Err(LlmError::Malformed {
                        url: url.clone(),
                        detail: format!(
                            "no choices[0].message.content in {}",
                            excerpt(&v.to_string())
                        ),
                    });
                };
                (
                    content.to_owned(),
                    choice["finish_reason"].as_str().map(str::to_owned),
                )
            }
            TargetKind::Http => {
                let path = cfg.answer_path.as_deref().unwrap_or_default();
                let Some(found) = json_path(&v, path).and_then(Value::as_str) else {
                    return Err(LlmError::Malformed {
                        url: url.clone(),
                        detail: format!(
                            "answer-path {path:?} finds no string in {}",
                            excerpt(&v.to_string())
                        ),
                    });
                };
                (found.to_owned(), None)
            }
        };
        let usage = usage_of(&v["usage"]).unwrap_or_else(|| estimated(messages, &content));
        Ok(ChatResponse {
            content,
            finish_reason,
            usage,
            timings: Timings {
                first_token_ms: None,
                total_ms: ms(start.elapsed()),
            },
            attempts: 1,
        })
    }

    async fn read_stream(
        &self,
        resp: reqwest::Response,
        start: Instant,
        messages: &[Message],
    ) -> Result<ChatResponse, LlmError> {
        let cfg = &self.inner.cfg;
        let url = &self.inner.shown_url;
        let idle = cfg.timeout(cfg.first_byte_timeout_s);
        let mut stream = resp.bytes_stream();
        let mut parser = SseParser::default();
        let mut content = String::new();
        let mut first_token_ms = None;
        let mut finish_reason = None;
        let mut usage = None;
        let mut done = false;
        while !done {
            let next = tokio::time::timeout(idle, stream.next())
                .await
                .map_err(|_| LlmError::Timeout {
                    url: url.clone(),
                    phase: if first_token_ms.is_none() {
                        "first-token"
                    } else {
                        "stream-idle"
                    },
                    secs: cfg.first_byte_timeout_s,
                })?;
            let Some(chunk) = next else {
                return Err(LlmError::Stream {
                    url: url.clone(),
                    detail: format!(
                        "the connection closed before [DONE] after {} characters",
                        content.chars().count()
                    ),
                });
            };
            let chunk = chunk.map_err(|e| LlmError::Stream {
                url: url.clone(),
                detail: e.to_string(),
            })?;
            for data in parser.push(&chunk) {
                if data.trim() == "[DONE]" {
                    done = true;
                    break;
                }
                let v: Value = serde_json::from_str(&data).map_err(|e| LlmError::Malformed {
                    url: url.clone(),
                    detail: format!("stream event is not JSON ({e}): {}", excerpt(&data)),
                })?;
                if let Some(err) = v.get("error") {
                    return Err(LlmError::Status {
                        url: url.clone(),
                        status: 200,
                        body: excerpt(&err.to_string()),
                    });
                }
                if let Some(u) = usage_of(&v["usage"]) {
                    usage = Some(u);
                }
                let choice = &v["choices"][0];
                if let Some(piece) = choice["delta"]["content"].as_str()
                    && !piece.is_empty()
                {
                    if first_token_ms.is_none() {
                        first_token_ms = Some(ms(start.elapsed()));
                    }
                    content.push_str(piece);
                }
                if let Some(f) = choice["finish_reason"].as_str() {
                    finish_reason = Some(f.to_owned());
                }
            }
        }
        let usage = usage.unwrap_or_else(|| estimated(messages, &content));
        Ok(ChatResponse {
            content,
            finish_reason,
            usage,
            timings: Timings {
                first_token_ms,
                total_ms: ms(start.elapsed()),
            },
            attempts: 1,
        })
    }

    async fn wait_pause(&self) {
        let until = *self.inner.pause_until.lock().await;
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                tokio::time::sleep(until - now).await;
            }
        }
    }

    /// Exponential back-off with full jitter: up to 0.25 s · 2^(attempt-1), capped at 20 s.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = (0.25 * f64::from(1u32 << attempt.min(7).saturating_sub(1))).min(20.0);
        let x = self
            .inner
            .jitter
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
        Duration::from_secs_f64(cap * (0.5 + 0.5 * unit))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn transport(url: &str, e: &reqwest::Error) -> LlmError {
    // reqwest's own message can carry the full URL; ours is redacted, so keep only the kind.
    let detail = if e.is_connect() {
        "connection refused or unreachable"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the body could not be read"
    } else {
        "request failed"
    };
    if e.is_connect() {
        LlmError::Connect {
            url: url.to_owned(),
            detail: detail.to_owned(),
        }
    } else {
        LlmError::Stream {
            url: url.to_owned(),
            detail: detail.to_owned(),
        }
    }
}

fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(300).collect();
    if s.chars().nth(300).is_some() {
        out.push('…');
    }
    out
}

fn usage_of(v: &Value) -> Option<Usage> {
    let p = v["prompt_tokens"].as_u64()?;
    let c = v["completion_tokens"].as_u64()?;
    Some(Usage {
        prompt_tokens: p,
        completion_tokens: c,
        estimated: false,
    })
}

fn estimated(messages: &[Message], content: &str) -> Usage {
    Usage {
        prompt_tokens: estimate_tokens(messages),
        completion_tokens: estimate_text(content),
        estimated: true,
    }
}

/// A rough token count: one per CJK character, one per four other characters, plus four per turn.
pub fn estimate_tokens(messages: &[Message]) -> u64 {
    messages.iter().map(|m| 4 + estimate_text(&m.content)).sum()
}

fn estimate_text(s: &str) -> u64 {
    let (mut cjk, mut other) = (0u64, 0u64);
    for c in s.chars() {
        if ('\u{2E80}'..='\u{9FFF}').contains(&c) || ('\u{F900}'..='\u{FAFF}').contains(&c) {
            cjk += 1;
        } else {
            other += 1;
        }
    }
    cjk + other.div_ceil(4)
}

/// `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(600.0)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs(600)),
    )
}

/// Follow a dotted path (`a.b.0.c`) into JSON.
pub fn json_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        cur = match cur {
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            Value::Object(o) => o.get(part)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn expand_env(value: &str) -> Result<String, LlmError> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(LlmError::Config(format!(
                "unclosed ${{ in header value {value:?}"
            )));
        };
        let var = &after[..end];
        let val = std::env::var(var).map_err(|_| {
            LlmError::Config(format!("a header refers to ${{{var}}}, which is not set"))
        })?;
        out.push_str(&val);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        let past = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH);
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn json_paths() {
        let v = json!({"data": {"items": [{"reply": "hi"}]}});
        assert_eq!(json_path(&v, "data.items.0.reply"), Some(&json!("hi")));
        assert_eq!(json_path(&v, "data.items.1.reply"), None);
    }

    #[test]
    fn token_estimate_counts_cjk_per_character() {
        assert_eq!(estimate_text("你好"), 2);
        assert_eq!(estimate_text("abcdefgh"), 2);
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret("sk-123".into())), "Secret(***)");
    }
}
