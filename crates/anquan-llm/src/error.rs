//! Errors of the client. Messages name the endpoint (without credentials or query string) and
//! never carry a key or a header value.

use std::time::Duration;

/// What went wrong talking to a target.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// No connection could be made.
    #[error("cannot connect to {url}: {detail}; is the server running?")]
    Connect {
        /// Endpoint, redacted.
        url: String,
        /// What failed.
        detail: String,
    },
    /// A timeout.
    #[error("{phase} timeout after {secs} s talking to {url}")]
    Timeout {
        /// Endpoint, redacted.
        url: String,
        /// `first-byte`, `first-token`, `stream-idle`, `body` or `total`.
        phase: &'static str,
        /// The limit.
        secs: f64,
    },
    /// The server answered with an error status.
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        /// Endpoint, redacted.
        url: String,
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// HTTP 429.
    #[error(
        "{url} rate-limited the request (HTTP 429) after {attempts} attempt(s); lower the target's concurrency or rpm"
    )]
    RateLimited {
        /// Endpoint, redacted.
        url: String,
        /// The server's `Retry-After`, when given.
        retry_after: Option<Duration>,
        /// Attempts made.
        attempts: u32,
    },
    /// The answer is not what the protocol says.
    #[error("malformed response from {url}: {detail}")]
    Malformed {
        /// Endpoint, redacted.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// The stream or connection broke mid-answer.
    #[error("the answer from {url} broke off: {detail}")]
    Stream {
        /// Endpoint, redacted.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The target's configuration is unusable.
    #[error("target configuration: {0}")]
    Config(String),
    /// The request was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl LlmError {
    /// Worth another attempt: rate limits, server errors, broken streams, timeouts, refused
    /// connections (a server restarting), malformed bodies (a proxy hiccup).
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::Connect { .. }
            | LlmError::Timeout { .. }
            | LlmError::RateLimited { .. }
            | LlmError::Stream { .. }
            | LlmError::Malformed { .. } => true,
            LlmError::Status { status, .. } => *status >= 500 || *status == 408,
            LlmError::Config(_) | LlmError::Cancelled => false,
        }
    }

    /// A short stable code for ledgers and reports.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::Connect { .. } => "connect",
            LlmError::Timeout { .. } => "timeout",
            LlmError::Status { .. } => "http_status",
            LlmError::RateLimited { .. } => "rate_limited",
            LlmError::Malformed { .. } => "malformed",
            LlmError::Stream { .. } => "stream",
            LlmError::Config(_) => "config",
            LlmError::Cancelled => "cancelled",
        }
    }

    pub(crate) fn after(self, attempts: u32) -> Self {
        match self {
            LlmError::RateLimited {
                url, retry_after, ..
            } => LlmError::RateLimited {
                url,
                retry_after,
                attempts,
            },
            e => e,
        }
    }
}

/// An URL without user info and query string, for messages.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let rest = match rest.split_once('/') {
        Some((host, path)) => {
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            format!("{host}/{path}")
        }
        None => rest.rsplit_once('@').map_or(rest, |(_, h)| h).to_owned(),
    };
    if scheme.is_empty() {
        rest
    } else {
        format!("{scheme}://{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_and_query() {
        assert_eq!(
            redact_url("https://user:pw@api.example.com/v1/chat?key=sk-1"),
            "https://api.example.com/v1/chat"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
    }
}
