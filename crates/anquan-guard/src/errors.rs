//! The one error table of the guard's HTTP surface.
//!
//! Every error a client can see is a variant of [`GuardError`], and each variant knows its HTTP
//! status, its stable snake_case code, its log level and its source (downstream: the client's
//! fault; upstream: the model service's; internal: ours). Bodies are OpenAI-shaped
//! (`{"error": {"message", "type", "code"}}`) so any OpenAI client shows them, and messages never
//! carry internals: no upstream URL, no key, no stack, no SQL.
//!
//! | variant | status | code | level | source |
//! | --- | --- | --- | --- | --- |
//! | `MalformedJson` | 400 | `invalid_json` | info | downstream |
//! | `InvalidRequest` | 400 | `invalid_request` | info | downstream |
//! | `Unauthorized` | 401 | `invalid_api_key` | info | downstream |
//! | `Suspended` | 403 | `user_suspended` | info | downstream |
//! | `UnknownRoute` | 404 | `unknown_route` | info | downstream |
//! | `BodyTooLarge` | 413 | `body_too_large` | info | downstream |
//! | `RateLimited` | 429 | `rate_limited` | info | downstream |
//! | `Killed` | 503 | `service_stopped` | warn | internal |
//! | `UpstreamRateLimited` | 429 | `upstream_rate_limited` | warn | upstream |
//! | `UpstreamRejected` | 4xx (the upstream's) | `upstream_rejected` | info | upstream |
//! | `UpstreamStatus` | 502 | `upstream_error` | warn | upstream |
//! | `UpstreamUnavailable` | 502 | `upstream_unavailable` | error | upstream |
//! | `UpstreamTimeout` | 504 | `upstream_timeout` | warn | upstream |
//! | `UpstreamMalformed` | 502 | `upstream_malformed` | warn | upstream |
//! | `UpstreamStream` | 502 | `upstream_stream_broken` | warn | upstream |
//! | `AdminUnauthorized` | 401 | `admin_unauthorized` | warn | downstream |
//! | `ClientDisconnected` | 499 (audit only) | `client_disconnected` | info | downstream |
//! | `Internal` | 500 | `internal_error` | error | internal |

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Log level of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something an operator may want to look at.
    Warn,
    /// Something is broken.
    Error,
}

impl Level {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Whose fault an error is (pingora's split): it decides 4xx vs 5xx and what an operator checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The client sent something wrong.
    Downstream,
    /// The model service failed.
    Upstream,
    /// The guard itself (or its operator's decision, such as the kill switch).
    Internal,
}

/// Every error the guard's HTTP surface can answer with. See the [module table](self).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// The body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// JSON, but not a request the guard accepts.
    #[error("{0}")]
    InvalidRequest(String),
    /// No or unknown API key.
    #[error("missing or unknown API key")]
    Unauthorized,
    /// The user is suspended until the given time (RFC 3339, UTC).
    #[error("this user is suspended until {until} after repeated policy violations")]
    Suspended {
        /// End of the suspension, RFC 3339.
        until: String,
    },
    /// No such route.
    #[error("unknown route `{0}`")]
    UnknownRoute(String),
    /// The body is larger than the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The user's or key's request rate is over its limit.
    #[error("too many requests; retry after {retry_after_s} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// The kill switch is on (globally or for the tenant).
    #[error("the service is stopped by its operator")]
    Killed,
    /// The upstream answered 429.
    #[error("the model service is rate-limiting requests")]
    UpstreamRateLimited {
        /// The upstream's `Retry-After`, in seconds, when it gave one.
        retry_after_s: Option<u64>,
    },
    /// The upstream refused the request with a 4xx (passed on with its status).
    #[error("the model service rejected the request (HTTP {status})")]
    UpstreamRejected {
        /// The upstream's status.
        status: u16,
    },
    /// The upstream answered with a server error.
    #[error("the model service failed (HTTP {status})")]
    UpstreamStatus {
        /// The upstream's status.
        status: u16,
    },
    /// No connection to the upstream.
    #[error("the model service is unavailable")]
    UpstreamUnavailable,
    /// The upstream did not answer in time.
    #[error("the model service did not answer in time")]
    UpstreamTimeout,
    /// The upstream's answer was not what the protocol says.
    #[error("the model service sent a malformed answer")]
    UpstreamMalformed,
    /// The upstream's stream broke off.
    #[error("the model service's answer broke off")]
    UpstreamStream,
    /// Wrong or missing admin token.
    #[error("missing or wrong admin token")]
    AdminUnauthorized,
    /// The client went away before the answer was complete (recorded, never sent).
    #[error("the client disconnected")]
    ClientDisconnected,
    /// Our own failure; the detail goes to the log only.
    #[error("internal error")]
    Internal(String),
}

impl GuardError {
    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            GuardError::MalformedJson(_) | GuardError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            GuardError::Unauthorized | GuardError::AdminUnauthorized => StatusCode::UNAUTHORIZED,
            GuardError::Suspended { .. } => StatusCode::FORBIDDEN,
            GuardError::UnknownRoute(_) => StatusCode::NOT_FOUND,
            GuardError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            GuardError::RateLimited { .. } | GuardError::UpstreamRateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            GuardError::Killed => StatusCode::SERVICE_UNAVAILABLE,
            GuardError::UpstreamRejected { status } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            GuardError::UpstreamStatus { .. }
            | GuardError::UpstreamUnavailable
            | GuardError::UpstreamMalformed
            | GuardError::UpstreamStream => StatusCode::BAD_GATEWAY,
            GuardError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            GuardError::ClientDisconnected => {
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST)
            }
            GuardError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable snake_case code (in the body's `error.code`, the audit record and metrics).
    pub fn code(&self) -> &'static str {
        match self {
            GuardError::MalformedJson(_) => "invalid_json",
            GuardError::InvalidRequest(_) => "invalid_request",
            GuardError::Unauthorized => "invalid_api_key",
            GuardError::Suspended { .. } => "user_suspended",
            GuardError::UnknownRoute(_) => "unknown_route",
            GuardError::BodyTooLarge { .. } => "body_too_large",
            GuardError::RateLimited { .. } => "rate_limited",
            GuardError::Killed => "service_stopped",
            GuardError::UpstreamRateLimited { .. } => "upstream_rate_limited",
            GuardError::UpstreamRejected { .. } => "upstream_rejected",
            GuardError::UpstreamStatus { .. } => "upstream_error",
            GuardError::UpstreamUnavailable => "upstream_unavailable",
            GuardError::UpstreamTimeout => "upstream_timeout",
            GuardError::UpstreamMalformed => "upstream_malformed",
            GuardError::UpstreamStream => "upstream_stream_broken",
            GuardError::AdminUnauthorized => "admin_unauthorized",
            GuardError::ClientDisconnected => "client_disconnected",
            GuardError::Internal(_) => "internal_error",
        }
    }

    /// Log level.
    pub fn level(&self) -> Level {
        match self {
            GuardError::UpstreamUnavailable | GuardError::Internal(_) => Level::Error,
            GuardError::Killed
            | GuardError::UpstreamRateLimited { .. }
            | GuardError::UpstreamStatus { .. }
            | GuardError::UpstreamTimeout
            | GuardError::UpstreamMalformed
            | GuardError::UpstreamStream
            | GuardError::AdminUnauthorized => Level::Warn,
            _ => Level::Info,
        }
    }

    /// Whose fault.
    pub fn source_of(&self) -> Source {
        match self {
            GuardError::UpstreamRateLimited { .. }
            | GuardError::UpstreamRejected { .. }
            | GuardError::UpstreamStatus { .. }
            | GuardError::UpstreamUnavailable
            | GuardError::UpstreamTimeout
            | GuardError::UpstreamMalformed
            | GuardError::UpstreamStream => Source::Upstream,
            GuardError::Killed | GuardError::Internal(_) => Source::Internal,
            _ => Source::Downstream,
        }
    }

    /// OpenAI's error `type` for the body.
    fn kind(&self) -> &'static str {
        match self {
            GuardError::Unauthorized | GuardError::AdminUnauthorized => "authentication_error",
            GuardError::Suspended { .. } => "permission_error",
            GuardError::RateLimited { .. } | GuardError::UpstreamRateLimited { .. } => {
                "rate_limit_error"
            }
            GuardError::MalformedJson(_)
            | GuardError::InvalidRequest(_)
            | GuardError::UnknownRoute(_)
            | GuardError::BodyTooLarge { .. }
            | GuardError::UpstreamRejected { .. } => "invalid_request_error",
            _ => "server_error",
        }
    }

    /// The message a client may see (never internals: `Internal`'s detail is left out).
    pub fn public_message(&self) -> String {
        self.to_string()
    }

    /// `Retry-After` seconds, when the error has one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            GuardError::RateLimited { retry_after_s } => Some(*retry_after_s),
            GuardError::UpstreamRateLimited { retry_after_s } => *retry_after_s,
            _ => None,
        }
    }

    /// The OpenAI-shaped body.
    pub fn body(&self) -> Value {
        json!({"error": {"message": self.public_message(), "type": self.kind(), "code": self.code()}})
    }
}

impl IntoResponse for GuardError {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after()
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let all = [
            GuardError::MalformedJson("x".into()),
            GuardError::InvalidRequest("x".into()),
            GuardError::Unauthorized,
            GuardError::Suspended { until: "t".into() },
            GuardError::UnknownRoute("/x".into()),
            GuardError::BodyTooLarge { limit: 1 },
            GuardError::RateLimited { retry_after_s: 1 },
            GuardError::Killed,
            GuardError::UpstreamRateLimited {
                retry_after_s: None,
            },
            GuardError::UpstreamRejected { status: 400 },
            GuardError::UpstreamStatus { status: 500 },
            GuardError::UpstreamUnavailable,
            GuardError::UpstreamTimeout,
            GuardError::UpstreamMalformed,
            GuardError::UpstreamStream,
            GuardError::AdminUnauthorized,
            GuardError::ClientDisconnected,
            GuardError::Internal("secret detail".into()),
        ];
        let mut codes: Vec<&str> = all.iter().map(GuardError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "codes are unique");
        for e in &all {
            let upstream = e.source_of() == Source::Upstream;
            let status = e.status().as_u16();
            if e.source_of() == Source::Downstream {
                assert!((400..500).contains(&status), "{e:?}");
            }
            if upstream && !matches!(e, GuardError::UpstreamRejected { .. }) {
                assert!(status == 429 || status >= 500, "{e:?}");
            }
            let body = e.body().to_string();
            assert!(!body.contains("secret detail"), "no internals: {body}");
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
