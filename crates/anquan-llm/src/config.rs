//! Target configuration: `[targets.<id>]` in `anquan.toml`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which protocol a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// OpenAI-compatible `POST {base_url}/chat/completions`.
    #[default]
    Openai,
    /// Any HTTP JSON service: a request-body template and a JSON path to the answer.
    Http,
}

/// One target, as written in the configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetConfig {
    /// Protocol (default `openai`).
    #[serde(default)]
    pub kind: TargetKind,
    /// Base URL, e.g. `http://127.0.0.1:8080/v1` (OpenAI) or the full endpoint URL (HTTP).
    pub base_url: String,
    /// Model name sent in the request.
    #[serde(default)]
    pub model: String,
    /// Name of the environment variable holding the API key (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Extra request headers (values may reference `${ENV}`; they are never logged).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// System prompt put before every conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Sampling temperature (default 0: greedy, reproducible).
    #[serde(default)]
    pub temperature: f32,
    /// Answer length cap in tokens.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// Seed sent with each request where the server honours it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Use SSE streaming (records time to first token).
    #[serde(default = "yes")]
    pub stream: bool,
    /// Requests in flight at most.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Client-side requests-per-minute limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
    /// Client-side tokens-per-minute limit (prompt + completion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u32>,
    /// Retries after the first attempt (429, 5xx, connection errors, timeouts).
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// Seconds to establish a connection.
    #[serde(default = "default_connect")]
    pub connect_timeout_s: f64,
    /// Seconds until the response headers (and, streaming, the first chunk) arrive.
    #[serde(default = "default_first_byte")]
    pub first_byte_timeout_s: f64,
    /// Seconds for the whole request, body included.
    #[serde(default = "default_total")]
    pub total_timeout_s: f64,
    /// HTTP targets: the request body, JSON, with `{{prompt}}` (last user turn, JSON-escaped),
    /// `{{messages}}` (the whole conversation as a JSON array) and `{{model}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_template: Option<String>,
    /// HTTP targets: where the answer is in the response JSON, e.g. `data.reply` or
    /// `choices.0.message.content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_path: Option<String>,
}

fn yes() -> bool {
    true
}
fn default_max_tokens() -> u32 {
    256
}
fn default_concurrency() -> usize {
    4
}
fn default_retries() -> u32 {
    4
}
fn default_connect() -> f64 {
    5.0
}
fn default_first_byte() -> f64 {
    60.0
}
fn default_total() -> f64 {
    300.0
}

impl TargetConfig {
    /// A target at `base_url` serving `model`, with the defaults.
    pub fn openai(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        TargetConfig {
            kind: TargetKind::Openai,
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            headers: BTreeMap::new(),
            system_prompt: None,
            temperature: 0.0,
            max_tokens: default_max_tokens(),
            seed: None,
            stream: true,
            concurrency: default_concurrency(),
            rpm: None,
            tpm: None,
            max_retries: default_retries(),
            connect_timeout_s: default_connect(),
            first_byte_timeout_s: default_first_byte(),
            total_timeout_s: default_total(),
            request_template: None,
            answer_path: None,
        }
    }

    /// Problems with the values, each a sentence naming the key.
    pub fn validate(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            out.push(format!(
                "base-url must start with http:// or https:// (got {:?})",
                self.base_url
            ));
        }
        if self.concurrency == 0 {
            out.push("concurrency must be at least 1".into());
        }
        for (key, v) in [
            ("connect-timeout-s", self.connect_timeout_s),
            ("first-byte-timeout-s", self.first_byte_timeout_s),
            ("total-timeout-s", self.total_timeout_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                out.push(format!("{key} must be a positive number of seconds"));
            }
        }
        if self.kind == TargetKind::Http {
            match &self.request_template {
                None => out.push("kind = \"http\" needs request-template".into()),
                Some(t) if !t.contains("{{prompt}}") && !t.contains("{{messages}}") => {
                    out.push("request-template must contain {{prompt}} or {{messages}}".into())
                }
                Some(_) => {}
            }
            if self.answer_path.is_none() {
                out.push("kind = \"http\" needs answer-path".into());
            }
        } else if self.model.is_empty() {
            out.push("model must be set for an OpenAI-compatible target".into());
        }
        out
    }

    pub(crate) fn timeout(&self, secs: f64) -> Duration {
        Duration::from_secs_f64(secs.max(0.001))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kebab_keys_and_rejects_unknown_ones() {
        let t: TargetConfig = toml::from_str(
            "base-url = \"http://127.0.0.1:1/v1\"\nmodel = \"m\"\napi-key-env = \"K\"\nrpm = 60\n",
        )
        .unwrap();
        assert_eq!(t.rpm, Some(60));
        assert_eq!(t.concurrency, 4);
        assert!(t.validate().is_empty());
        let err = toml::from_str::<TargetConfig>("base-url = \"x\"\nmodle = \"m\"\n").unwrap_err();
        assert!(err.to_string().contains("modle"), "{err}");
    }

    #[test]
    fn validate_names_the_key() {
        let mut t = TargetConfig::openai("ftp://x", "");
        t.concurrency = 0;
        let p = t.validate().join("\n");
        assert!(p.contains("base-url") && p.contains("concurrency") && p.contains("model"));
    }
}
