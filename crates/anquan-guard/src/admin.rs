//! The admin API, on its own loopback port, every route behind a bearer token read from the
//! environment (`server.admin-token-env`):
//!
//! | route | body | does |
//! | --- | --- | --- |
//! | `POST /admin/kill` | `{"tenant": "t"}` or none | kill switch on (tenant or global): new requests get 503 at once, streams in flight end within a second |
//! | `POST /admin/resume` | same | kill switch off |
//! | `GET /admin/status` | | kill switch, in-flight requests, suspended users, policies, uptime |
//! | `POST /admin/lift` | `{"tenant": "t", "user": "u"}` | lift a suspension |
//! | `POST /admin/reload` | | re-read `guard.toml` (policies, keyword libraries) without dropping connections |
//! | `GET /metrics` | | Prometheus text |

use std::time::SystemTime;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use crate::errors::GuardError;
use crate::phase::rfc3339;
use crate::server::Guard;

pub(crate) fn router(guard: Guard) -> Router {
    Router::new()
        .route("/admin/kill", post(kill))
        .route("/admin/resume", post(resume))
        .route("/admin/status", get(status))
        .route("/admin/lift", post(lift))
        .route("/admin/reload", post(reload))
        .route("/metrics", get(metrics))
        .fallback(|| async { GuardError::UnknownRoute("admin".into()).into_response() })
        .with_state(guard)
}

/// Equal without an early exit on the first differing byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check(g: &Guard, headers: &HeaderMap) -> Result<(), GuardError> {
    let Some(token) = g.inner().admin_token.as_deref() else {
        return Err(GuardError::AdminUnauthorized);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if same(given.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        Err(GuardError::AdminUnauthorized)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    user: Option<String>,
}

fn target(body: &Bytes) -> Result<Target, GuardError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Target::default());
    }
    serde_json::from_slice(body).map_err(|e| GuardError::MalformedJson(e.to_string()))
}

async fn switch(g: Guard, headers: HeaderMap, body: Bytes, on: bool) -> Response {
    if let Err(e) = check(&g, &headers) {
        return e.into_response();
    }
    let t = match target(&body) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    g.set_killed(t.tenant.as_deref(), on);
    let (global, tenants) = g.kill_status();
    axum::Json(json!({"killed": global, "killed_tenants": tenants})).into_response()
}

async fn kill(State(g): State<Guard>, headers: HeaderMap, body: Bytes) -> Response {
    switch(g, headers, body, true).await
}

async fn resume(State(g): State<Guard>, headers: HeaderMap, body: Bytes) -> Response {
    switch(g, headers, body, false).await
}

async fn status(State(g): State<Guard>, headers: HeaderMap) -> Response {
    if let Err(e) = check(&g, &headers) {
        return e.into_response();
    }
    let (global, tenants) = g.kill_status();
    let suspended: Vec<serde_json::Value> =
        match g.inner().violations.suspended(SystemTime::now()).await {
            Ok(list) => list
                .into_iter()
                .map(|(t, u, until)| json!({"tenant": t, "user": u, "until": rfc3339(until)}))
                .collect(),
            Err(e) => {
                return GuardError::Internal(e.to_string()).into_response();
            }
        };
    let state = g.state();
    let mut policies: Vec<serde_json::Value> = state
        .tenants
        .iter()
        .map(|(t, p)| json!({"tenant": t, "policy": p.name, "library": p.library, "hold_back_max_chars": p.hold.max_chars()}))
        .collect();
    policies.sort_by(|a, b| a["tenant"].as_str().cmp(&b["tenant"].as_str()));
    let uptime = g.inner().started.elapsed().map_or(0, |d| d.as_secs());
    axum::Json(json!({
        "schema": "anquan.guard.status.v1",
        "killed": global,
        "killed_tenants": tenants,
        "in_flight": g.in_flight(),
        "suspended": suspended,
        "policies": policies,
        "uptime_s": uptime,
    }))
    .into_response()
}

async fn lift(State(g): State<Guard>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = check(&g, &headers) {
        return e.into_response();
    }
    let t = match target(&body) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let Some(user) = t.user else {
        return GuardError::InvalidRequest("`user` is required".into()).into_response();
    };
    let tenant = t.tenant.unwrap_or_else(|| "default".into());
    match g.lift(&tenant, &user).await {
        Ok(lifted) => {
            axum::Json(json!({"tenant": tenant, "user": user, "lifted": lifted})).into_response()
        }
        Err(e) => GuardError::Internal(e).into_response(),
    }
}

async fn reload(State(g): State<Guard>, headers: HeaderMap) -> Response {
    if let Err(e) = check(&g, &headers) {
        return e.into_response();
    }
    match g.reload().await {
        Ok(warnings) => axum::Json(json!({"reloaded": true, "warnings": warnings})).into_response(),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": {"message": e.to_string(), "type": "invalid_request_error", "code": "reload_failed"}})),
        )
            .into_response(),
    }
}

async fn metrics(State(g): State<Guard>, headers: HeaderMap) -> Response {
    if let Err(e) = check(&g, &headers) {
        return e.into_response();
    }
    let mut resp = g.metrics_text().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// A client of the admin API, for `anquan guard kill|resume|status|lift`.
pub struct AdminClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl AdminClient {
    /// A client for the admin address of `cfg`, with the token from the variable it names.
    pub fn from_config(cfg: &crate::config::GuardConfig) -> Result<AdminClient, String> {
        let var = &cfg.server.admin_token_env;
        let token = std::env::var(var)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| format!("the admin token variable `{var}` is not set"))?;
        AdminClient::new(&cfg.server.admin_listen, &token)
    }

    /// A client for `addr` (`host:port`) with `token`.
    pub fn new(addr: &str, token: &str) -> Result<AdminClient, String> {
        let http =
            anquan_llm::client(std::time::Duration::from_secs(5)).map_err(|e| e.to_string())?;
        Ok(AdminClient {
            base: format!("http://{addr}"),
            token: token.to_owned(),
            http,
        })
    }

    /// `GET` (no body) or `POST` (with `body`) `path`; the JSON answer, or the error's message.
    pub async fn call(
        &self,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let url = format!("{}{path}", self.base);
        let req = match body {
            Some(b) => self.http.post(&url).json(&b),
            None => self.http.get(&url),
        };
        let resp = req
            .bearer_auth(&self.token)
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| format!("cannot reach the admin API at {}: {e}", self.base))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("the admin API's answer broke off: {e}"))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        if status.is_success() {
            Ok(v)
        } else {
            let msg = v
                .pointer("/error/message")
                .and_then(serde_json::Value::as_str)
                .map_or_else(|| v.to_string(), str::to_owned);
            Err(format!(
                "the admin API answered HTTP {}: {msg}",
                status.as_u16()
            ))
        }
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> Result<String, String> {
        let resp = self
            .http
            .get(format!("{}/metrics", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| format!("cannot reach the admin API at {}: {e}", self.base))?;
        if !resp.status().is_success() {
            return Err(format!(
                "the admin API answered HTTP {}",
                resp.status().as_u16()
            ));
        }
        resp.text().await.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_compare() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
