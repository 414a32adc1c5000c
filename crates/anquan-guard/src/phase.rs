//! The request phases (pingora style) and the per-request context.
//!
//! `docs/specs/guard-phases.md` draws the chart. In order:
//!
//! 1. [`Phases::request_filter`]: authentication, end-user identity, kill switch, suspension, rate
//!    limit, input detection (engine, classifier, LLM judge). May answer directly (a refusal) or
//!    fail with a [`GuardError`]; may rewrite the body (masking).
//! 2. [`Phases::upstream`]: the service to call.
//! 3. [`Phases::response_filter`]: the upstream's status and headers; errors become ours.
//! 4. [`Phases::response_body_filter`]: each delta of the answer through the sliding-window
//!    inspector, with `end_of_stream` at the end; placeholders restored.
//! 5. [`Phases::logging`]: audit record, violation counters, metrics, alerts. Runs on success and
//!    on error, exactly once per request, and before the last byte reaches the client, so a
//!    client that saw an answer can count on its audit record.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anquan_core::VerdictKind;
use anquan_detect::Detection;
use anquan_detect::judge::{Judge as _, JudgeInput};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::audit::AuditRecord;
pub(crate) use crate::auth::authenticate;
use crate::config::Action;
use crate::errors::{GuardError, Level};
use crate::mask::{MaskMap, Restorer, apply_pii};
use crate::policy::{KillWatch, Policy, State, Upstream, sha256_hex};
use crate::server::Guard;
use crate::stream::{Step, StreamInspector};

/// What the guard did with a request, as the audit record and metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Passed untouched.
    Pass,
    /// Passed with annotations.
    Annotate,
    /// Passed with something masked.
    Mask,
    /// Input refused or answer stopped.
    Block,
    /// The user is suspended.
    Suspended,
    /// Over the rate limit.
    RateLimited,
    /// Stopped by the kill switch or a shutdown.
    Killed,
    /// An error answered.
    Error,
}

impl Outcome {
    /// The name in audit records and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Annotate => "annotate",
            Outcome::Mask => "mask",
            Outcome::Block => "block",
            Outcome::Suspended => "suspended",
            Outcome::RateLimited => "rate_limited",
            Outcome::Killed => "killed",
            Outcome::Error => "error",
        }
    }

    fn of(action: Action) -> Outcome {
        match action {
            Action::Block => Outcome::Block,
            Action::Mask => Outcome::Mask,
            Action::Annotate => Outcome::Annotate,
            Action::Pass => Outcome::Pass,
        }
    }
}

/// Everything one request carries through the phases.
#[derive(Debug)]
pub struct RequestCtx {
    /// UUID v7.
    pub request_id: String,
    /// Start.
    pub started: Instant,
    /// Start, wall clock.
    pub time: SystemTime,
    /// The state the request started with (a reload does not change it mid-request).
    pub state: Arc<State>,
    /// Tenant (empty before authentication).
    pub tenant: String,
    /// End user (empty before authentication).
    pub user: String,
    /// The tenant's policy.
    pub policy: Option<Arc<Policy>>,
    /// Streaming requested.
    pub stream: bool,
    /// Model named in the request.
    pub model: String,
    /// What happened so far.
    pub outcome: Outcome,
    /// Whether this request is a violation for the user.
    pub violated: bool,
    /// Verdicts for the audit record.
    pub verdicts: Vec<Value>,
    /// Risk ids found (headers, audit).
    pub risks: BTreeSet<String>,
    /// The input as received (last user turn).
    pub input_text: String,
    /// The answer as shown to the client.
    pub output_text: String,
    /// Reversible placeholders given out.
    pub mask_map: MaskMap,
    /// The error answered, if any.
    pub error: Option<GuardError>,
    /// HTTP status answered.
    pub status: u16,
    /// Time per phase.
    pub phases: Vec<(&'static str, Duration)>,
    /// Time to the first content byte sent to the client.
    pub first_token: Option<Duration>,
    /// Whether the input phase judged this request (only those count for violations).
    pub judged: bool,
    inspector: Option<StreamInspector>,
    restorer: Option<Restorer>,
    output_noted: usize,
    logged: bool,
}

impl RequestCtx {
    /// A fresh context on `state`.
    pub fn new(state: Arc<State>) -> RequestCtx {
        RequestCtx {
            request_id: uuid::Uuid::now_v7().to_string(),
            started: Instant::now(),
            time: SystemTime::now(),
            state,
            tenant: String::new(),
            user: String::new(),
            policy: None,
            stream: false,
            model: String::new(),
            outcome: Outcome::Pass,
            violated: false,
            verdicts: Vec::new(),
            risks: BTreeSet::new(),
            input_text: String::new(),
            output_text: String::new(),
            mask_map: MaskMap::default(),
            error: None,
            status: 200,
            phases: Vec::new(),
            first_token: None,
            judged: false,
            inspector: None,
            restorer: None,
            output_noted: 0,
            logged: false,
        }
    }

    /// Record an error answer.
    pub fn fail(&mut self, e: &GuardError) {
        self.outcome = match e {
            GuardError::Suspended { .. } => Outcome::Suspended,
            GuardError::RateLimited { .. } => Outcome::RateLimited,
            GuardError::Killed => Outcome::Killed,
            _ => Outcome::Error,
        };
        self.status = e.status().as_u16();
        self.error = Some(e.clone());
    }

    /// Raise the outcome to at least `o` (block beats mask beats annotate beats pass).
    pub fn raise(&mut self, o: Outcome) {
        if o > self.outcome && self.outcome <= Outcome::Block {
            self.outcome = o;
        }
    }

    fn note(&mut self, phase: &str, d: &Detection, action: Action) {
        for r in d.risk_ids.iter() {
            self.risks.insert(r.to_string());
        }
        self.verdicts.push(json!({
            "phase": phase,
            "detector": d.detector,
            "risk_ids": d.risk_ids,
            "severity": d.severity,
            "pii": d.pii,
            "action": action.as_str(),
        }));
    }

    fn phase_done(&mut self, name: &'static str, since: Instant) {
        self.phases.push((name, since.elapsed()));
    }
}

/// A body step's result for the proxy.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyOut {
    /// Send this text (may be empty).
    Emit(String),
    /// End the answer with this replacement and `finish_reason: "content_filter"`.
    Stop(String),
}

/// The phases of a request. See the [module docs](self).
pub trait Phases {
    /// Authenticate, identify the user, apply kill switch, suspension, rate limit and input
    /// detection. `Ok(Some(answer))` answers directly (a refusal completion); `Ok(None)` goes on
    /// with `body` (possibly rewritten).
    fn request_filter(
        &self,
        ctx: &mut RequestCtx,
        headers: &HeaderMap,
        body: &mut Value,
    ) -> impl Future<Output = Result<Option<Value>, GuardError>> + Send;

    /// The upstream to call.
    fn upstream(&self, ctx: &RequestCtx) -> Upstream;

    /// The upstream's status and headers: a non-success becomes a guard error.
    fn response_filter(
        &self,
        ctx: &mut RequestCtx,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<(), GuardError>;

    /// One delta of the answer (`end_of_stream` at the end, with an empty or last delta).
    fn response_body_filter(
        &self,
        ctx: &mut RequestCtx,
        delta: &str,
        end_of_stream: bool,
    ) -> BodyOut;

    /// Audit record, violation counters, metrics and alerts; once per request.
    fn logging(&self, ctx: &mut RequestCtx) -> impl Future<Output = ()> + Send;
}

/// The text of a message's `content`: a string, or the text parts of an array.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Apply `f` to every text of a message's `content`.
fn map_content(content: &mut Value, f: &mut dyn FnMut(&str) -> String) {
    match content {
        Value::String(s) => *s = f(s),
        Value::Array(parts) => {
            for p in parts {
                if let Some(Value::String(t)) = p.get_mut("text") {
                    *t = f(t);
                }
            }
        }
        _ => {}
    }
}

/// RFC 3339 (UTC, seconds) of a time.
pub fn rfc3339(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t)
        .map(|ts| ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn judge_verdict(answer: &str) -> Option<bool> {
    let a = answer.to_lowercase();
    if a.contains("unsafe") || a.contains("不安全") {
        Some(true)
    } else if a.contains("safe") || a.contains("安全") {
        Some(false)
    } else {
        None
    }
}

const LLM_JUDGE_PROMPT: &str = "You are a content-safety classifier for a service in China (GB/T 45654-2025 annex A risks). \
Answer with exactly one word: `unsafe` if the user message below asks for or contains illegal or harmful content, otherwise `safe`.\n\
你是内容安全分类器。如果下面的用户消息请求或包含违法不良信息，只回答 unsafe，否则只回答 safe。\n\nUser message / 用户消息:\n";

impl Phases for Guard {
    async fn request_filter(
        &self,
        ctx: &mut RequestCtx,
        headers: &HeaderMap,
        body: &mut Value,
    ) -> Result<Option<Value>, GuardError> {
        let t = Instant::now();
        if ctx.tenant.is_empty() {
            authenticate(ctx, headers)?;
        }
        let inner = self.inner();
        // End user: the configured header, then the body's `user`, then the key's default.
        let header_user = headers
            .get(ctx.state.cfg.server.user_header.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let body_user = body.get("user").and_then(Value::as_str).map(str::trim);
        if let Some(u) = header_user.or(body_user).filter(|s| !s.is_empty()) {
            ctx.user = u.chars().take(256).collect();
        }
        let Some(obj) = body.as_object() else {
            return Err(GuardError::InvalidRequest(
                "the request body must be a JSON object".into(),
            ));
        };
        let Some(messages) = obj.get("messages").and_then(Value::as_array) else {
            return Err(GuardError::InvalidRequest(
                "`messages` must be an array of chat messages".into(),
            ));
        };
        if messages.is_empty() {
            return Err(GuardError::InvalidRequest("`messages` is empty".into()));
        }
        if obj.get("n").and_then(Value::as_u64).is_some_and(|n| n > 1) {
            return Err(GuardError::InvalidRequest(
                "`n` greater than 1 is not supported by the guard".into(),
            ));
        }
        ctx.stream = obj.get("stream").and_then(Value::as_bool).unwrap_or(false);
        ctx.model = obj
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        ctx.input_text = messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .and_then(|m| m.get("content"))
            .map(content_text)
            .unwrap_or_default();
        // Kill switch.
        if inner.kill.is_killed(&ctx.tenant) {
            return Err(GuardError::Killed);
        }
        // Suspension.
        match inner
            .violations
            .check(&ctx.tenant, &ctx.user, SystemTime::now())
            .await
        {
            Ok(Some(until)) => {
                return Err(GuardError::Suspended {
                    until: rfc3339(until),
                });
            }
            Ok(None) => {}
            Err(e) => self.log(
                Level::Error,
                &format!(
                    "request_id={} error=\"{e}\" Suspension check failed; the request goes on.",
                    ctx.request_id
                ),
            ),
        }
        let Some(policy) = ctx.policy.clone() else {
            return Err(GuardError::Internal("no policy for the tenant".into()));
        };
        // Rate limit.
        if let Some(rl) = &policy.cfg.rate_limit {
            let burst = rl.burst.unwrap_or(rl.requests_per_minute);
            if let Err(wait) = inner.limiter.check(
                &ctx.tenant,
                &ctx.user,
                rl.requests_per_minute,
                burst,
                Instant::now(),
            ) {
                return Err(GuardError::RateLimited {
                    retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
                });
            }
        }
        ctx.phase_done("request", t);
        // Input detection.
        let t = Instant::now();
        let text = ctx.input_text.clone();
        let found = policy.engine.scan(&text);
        let mut block = false;
        let mut mask_kw = false;
        let mut mask_pii = false;
        for d in &found {
            let action = if d.pii.is_some() {
                policy.cfg.input.pii
            } else if d.severity >= policy.min_severity() {
                policy.cfg.input.keywords
            } else {
                Action::Pass
            };
            if action == Action::Pass {
                continue;
            }
            ctx.note("input", d, action);
            ctx.raise(Outcome::of(action));
            match action {
                Action::Block => block = true,
                Action::Mask if d.pii.is_some() => mask_pii = true,
                Action::Mask => mask_kw = true,
                _ => {}
            }
        }
        if !block && let Some(cls) = &policy.classifier {
            let v = cls.judge(&JudgeInput {
                prompt: None,
                response: &text,
                expected: None,
            });
            if v.kind == VerdictKind::Unsafe {
                let action = policy.cfg.input.classifier;
                for r in &v.risk_ids {
                    ctx.risks.insert(r.to_string());
                }
                ctx.verdicts.push(json!({"phase": "input", "detector": v.judge, "risk_ids": v.risk_ids, "action": action.as_str(), "confidence": v.confidence}));
                ctx.raise(Outcome::of(action));
                block |= action == Action::Block;
            }
        }
        if !block && let Some((client, jcfg)) = &policy.llm_judge {
            let msg = [anquan_llm::Message::new(
                "user",
                format!("{LLM_JUDGE_PROMPT}{text}"),
            )];
            let budget = Duration::from_millis(jcfg.budget_ms);
            let verdict = match tokio::time::timeout(budget, client.chat(&msg)).await {
                Ok(Ok(r)) => judge_verdict(&r.content).map(Ok).unwrap_or(Err("unsure")),
                Ok(Err(_)) => Err("error"),
                Err(_) => Err("timeout"),
            };
            let action = match verdict {
                Ok(true) => Some(jcfg.action),
                Ok(false) => None,
                Err(_) => Some(jcfg.on_timeout),
            };
            if let Some(action) = action.filter(|a| *a != Action::Pass) {
                ctx.verdicts.push(json!({"phase": "input", "detector": "llm_judge@1", "action": action.as_str(), "result": verdict.map_or_else(|e| e.to_owned(), |_| "unsafe".to_owned())}));
                ctx.raise(Outcome::of(action));
                block |= action == Action::Block;
            }
        }
        ctx.phase_done("input", t);
        ctx.judged = true;
        if block {
            ctx.violated = true;
            return Ok(Some(refusal(ctx, &policy.refusal())));
        }
        // Masking before the upstream sees anything.
        if mask_pii || mask_kw {
            let reversible = policy.cfg.input.reversible;
            let engine = Arc::clone(&policy.engine);
            let min = policy.min_severity();
            let mut map = std::mem::take(&mut ctx.mask_map);
            if let Some(msgs) = body.get_mut("messages").and_then(Value::as_array_mut) {
                for m in msgs {
                    if let Some(c) = m.get_mut("content") {
                        map_content(c, &mut |s: &str| {
                            let found = engine.scan(s);
                            let pii: Vec<Detection> = if mask_pii {
                                found.iter().filter(|d| d.pii.is_some()).cloned().collect()
                            } else {
                                Vec::new()
                            };
                            let mut out = apply_pii(s, &pii, reversible, &mut map);
                            if mask_kw {
                                let kws: Vec<Detection> = engine
                                    .scan(&out)
                                    .into_iter()
                                    .filter(|d| d.pii.is_none() && d.severity >= min)
                                    .collect();
                                out = star_keywords(&out, &kws);
                            }
                            out
                        });
                    }
                }
            }
            ctx.mask_map = map;
        }
        if let Some(model) = &ctx.state.upstream.model
            && let Some(o) = body.as_object_mut()
        {
            o.insert("model".into(), Value::String(model.clone()));
        }
        // Output inspection for this request.
        ctx.inspector = Some(StreamInspector::new(
            Arc::clone(&policy.engine),
            Arc::clone(&policy.hold),
            policy.output_settings(),
        ));
        ctx.restorer = Some(Restorer::new(ctx.mask_map.clone()));
        Ok(None)
    }

    fn upstream(&self, ctx: &RequestCtx) -> Upstream {
        ctx.state.upstream.clone()
    }

    fn response_filter(
        &self,
        ctx: &mut RequestCtx,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<(), GuardError> {
        if status.is_success() {
            return Ok(());
        }
        let e = if status == StatusCode::TOO_MANY_REQUESTS {
            GuardError::UpstreamRateLimited {
                retry_after_s: headers
                    .get(axum::http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(anquan_llm::parse_retry_after)
                    .map(|d| d.as_secs().max(1)),
            }
        } else if status.is_client_error() {
            GuardError::UpstreamRejected {
                status: status.as_u16(),
            }
        } else {
            GuardError::UpstreamStatus {
                status: status.as_u16(),
            }
        };
        ctx.fail(&e);
        Err(e)
    }

    fn response_body_filter(
        &self,
        ctx: &mut RequestCtx,
        delta: &str,
        end_of_stream: bool,
    ) -> BodyOut {
        let Some(insp) = ctx.inspector.as_mut() else {
            return BodyOut::Emit(delta.to_owned());
        };
        let mut step = if delta.is_empty() {
            Step::Emit(String::new())
        } else {
            insp.push(delta)
        };
        if end_of_stream && let Step::Emit(s) = step {
            step = match insp.finish() {
                Step::Emit(rest) => Step::Emit(s + &rest),
                stop @ Step::Stop(_) => stop,
            };
        }
        match step {
            Step::Emit(s) => {
                let acted: Vec<Detection> = insp
                    .findings()
                    .iter()
                    .skip(ctx.output_noted)
                    .cloned()
                    .collect();
                ctx.output_noted += acted.len();
                let output_settings = ctx.policy.as_ref().map(|p| p.output_settings());
                for d in &acted {
                    let action = match output_settings {
                        Some(s) if d.pii.is_some() => s.pii,
                        Some(s) => s.keywords,
                        None => Action::Annotate,
                    };
                    ctx.note("output", d, action);
                    ctx.raise(Outcome::of(action));
                }
                let r = ctx
                    .restorer
                    .get_or_insert_with(|| Restorer::new(MaskMap::default()));
                let mut out = r.push(&s);
                if end_of_stream {
                    out.push_str(&r.finish());
                }
                ctx.output_text.push_str(&out);
                if !out.is_empty() && ctx.first_token.is_none() {
                    ctx.first_token = Some(ctx.started.elapsed());
                }
                BodyOut::Emit(out)
            }
            Step::Stop(found) => {
                for d in &found {
                    ctx.note("output", d, Action::Block);
                }
                ctx.raise(Outcome::Block);
                ctx.violated = true;
                let text = ctx
                    .policy
                    .as_ref()
                    .map(|p| p.replacement())
                    .unwrap_or_default();
                ctx.output_text.push_str(&text);
                BodyOut::Stop(text)
            }
        }
    }

    async fn logging(&self, ctx: &mut RequestCtx) {
        if ctx.logged {
            return;
        }
        ctx.logged = true;
        let inner = self.inner();
        let now = SystemTime::now();
        let latency = ctx.started.elapsed();
        let record_text = ctx.policy.as_ref().is_some_and(|p| p.cfg.record_text);
        let masked = |s: &str| -> String {
            match &ctx.policy {
                Some(p) => p.engine.mask(s),
                None => String::new(),
            }
        };
        let mut verdicts = ctx.verdicts.clone();
        if let Some(p) = &ctx.policy
            && !verdicts.is_empty()
        {
            verdicts.push(json!({"library": p.library, "policy": p.name}));
        }
        let rec = AuditRecord {
            time: rfc3339(ctx.time),
            tenant: ctx.tenant.clone(),
            user: ctx.user.clone(),
            request_id: ctx.request_id.clone(),
            action: ctx.outcome.as_str().to_owned(),
            verdicts: Value::Array(verdicts),
            latency_ms: latency.as_secs_f64() * 1000.0,
            input_sha256: sha256_hex(ctx.input_text.as_bytes()),
            output_sha256: sha256_hex(ctx.output_text.as_bytes()),
            input_text: record_text.then(|| masked(&ctx.input_text)),
            output_text: record_text.then(|| masked(&ctx.output_text)),
            status: ctx.status,
            error_code: ctx.error.as_ref().map(|e| e.code().to_owned()),
        };
        if let Err(e) = inner.audit.append(rec).await {
            self.log(
                Level::Error,
                &format!(
                    "request_id={} error=\"{e}\" Audit append failed.",
                    ctx.request_id
                ),
            );
        }
        // Violation counters: only requests that were judged (not errors, kills, limits).
        if ctx.judged
            && matches!(
                ctx.outcome,
                Outcome::Pass | Outcome::Annotate | Outcome::Mask | Outcome::Block
            )
        {
            match inner
                .violations
                .record(&ctx.tenant, &ctx.user, ctx.violated, now)
                .await
            {
                Ok(Some(until)) if ctx.violated => {
                    self.log(
                        Level::Warn,
                        &format!(
                            "tenant={} request_id={} until={} User suspended after repeated violations.",
                            ctx.tenant,
                            ctx.request_id,
                            rfc3339(until)
                        ),
                    );
                    self.refresh_suspended().await;
                }
                Ok(_) => {}
                Err(e) => self.log(
                    Level::Error,
                    &format!(
                        "request_id={} error=\"{e}\" Violation record failed.",
                        ctx.request_id
                    ),
                ),
            }
        }
        let m = &inner.metrics;
        let tenant = if ctx.tenant.is_empty() {
            "-"
        } else {
            ctx.tenant.as_str()
        };
        m.inc_request(tenant, ctx.outcome.as_str());
        for v in &ctx.verdicts {
            let action = v["action"].as_str().unwrap_or("pass");
            let mut groups: BTreeSet<String> = BTreeSet::new();
            if let Some(ids) = v["risk_ids"].as_array() {
                for id in ids.iter().filter_map(Value::as_str) {
                    groups.insert(id.split('.').take(2).collect::<Vec<_>>().join("."));
                }
            }
            if groups.is_empty() {
                groups.insert("none".into());
            }
            for g in groups {
                m.inc_detection(&g, action);
            }
        }
        let upstream_error = ctx
            .error
            .as_ref()
            .is_some_and(|e| e.source_of() == crate::errors::Source::Upstream);
        if let Some(e) = ctx.error.as_ref().filter(|_| upstream_error) {
            m.inc_upstream_error(e.code());
        }
        for (phase, d) in &ctx.phases {
            m.observe_phase(phase, d.as_secs_f64());
        }
        m.observe_phase("total", latency.as_secs_f64());
        self.observe_alerts(ctx.outcome == Outcome::Block, upstream_error);
        if let Some(e) = &ctx.error {
            self.log(
                e.level(),
                &format!(
                    "request_id={} tenant={} status={} code={} Request failed.",
                    ctx.request_id,
                    tenant,
                    ctx.status,
                    e.code()
                ),
            );
        }
    }
}

/// `*` over each keyword finding.
fn star_keywords(text: &str, found: &[Detection]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for d in found {
        if d.span.start < at {
            continue;
        }
        let (Some(before), Some(kw)) = (text.get(at..d.span.start), d.span.slice(text)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(&"*".repeat(kw.chars().count()));
        at = d.span.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// A refusal completion (the streamed form is built from it by the proxy).
fn refusal(ctx: &mut RequestCtx, text: &str) -> Value {
    ctx.output_text = text.to_owned();
    json!({
        "id": format!("chatcmpl-{}", ctx.request_id),
        "object": "chat.completion",
        "created": unix_now(),
        "model": ctx.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "content_filter"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    })
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Watches for a request: the kill switch of its tenant and the shutdown deadline.
pub(crate) fn kill_watch(guard: &Guard, ctx: &RequestCtx) -> KillWatch {
    guard.inner().kill.watch(&ctx.tenant, guard.shutdown_rx())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_text_of_parts() {
        assert_eq!(content_text(&json!("hi")), "hi");
        assert_eq!(
            content_text(
                &json!([{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}])
            ),
            "a\nb"
        );
    }

    #[test]
    fn judge_answers() {
        assert_eq!(judge_verdict("unsafe"), Some(true));
        assert_eq!(judge_verdict("Safe."), Some(false));
        assert_eq!(judge_verdict("不安全"), Some(true));
        assert_eq!(judge_verdict("hmm"), None);
    }

    #[test]
    fn outcome_order() {
        assert!(Outcome::Block > Outcome::Mask && Outcome::Mask > Outcome::Annotate);
    }
}
