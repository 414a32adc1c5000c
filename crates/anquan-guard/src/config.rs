//! `guard.toml`: the guard's configuration, as written (serde, kebab-case, unknown keys refused).
//!
//! `examples/guard.toml` documents every key and is parsed by a test. Relative paths (the store,
//! keyword libraries) are relative to the configuration file's folder. Secrets are never in the
//! file: the upstream key and the admin token come from environment variables the file names, and
//! client API keys are stored as SHA-256 hashes (`anquan guard hash-key` prints one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a configuration could not be used. Messages name the file and key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("failed to read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// TOML or schema error.
    #[error("`{path}`: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What serde said (it names the key).
        message: String,
    },
    /// A value is not usable.
    #[error("`{path}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GuardConfig {
    /// Listening sockets, limits, routes.
    #[serde(default)]
    pub server: ServerConfig,
    /// The OpenAI-compatible service behind the guard.
    pub upstream: UpstreamConfig,
    /// The guard's SQLite file (audit log, violation counters).
    #[serde(default)]
    pub store: StoreConfig,
    /// Suspension of repeat offenders (counts from the catalog clause
    /// `gbt45654.users.repeat_offender`; only the duration is configured here).
    #[serde(default)]
    pub suspension: SuspensionConfig,
    /// Client API keys (hashed), each mapping to a tenant and a default user.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    /// Tenants by id.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantConfig>,
    /// Policies by name.
    #[serde(default)]
    pub policies: BTreeMap<String, PolicyConfig>,
    /// Alert rules (a webhook and a log line when a rate crosses its threshold).
    #[serde(default)]
    pub alerts: Vec<crate::alerts::AlertRule>,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServerConfig {
    /// Proxy address (default `127.0.0.1:8787`; loopback unless you say otherwise).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Admin API address, its own loopback port (default `127.0.0.1:8788`).
    #[serde(default = "default_admin_listen")]
    pub admin_listen: String,
    /// Environment variable holding the admin bearer token (default
    /// `ANQUAN_GUARD_ADMIN_TOKEN`). Without it the admin API refuses every call.
    #[serde(default = "default_admin_token_env")]
    pub admin_token_env: String,
    /// Largest request body accepted, in bytes (default 1 MiB); larger bodies get 413.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Seconds graceful shutdown waits for streams in flight before it ends them (default 10).
    #[serde(default = "default_grace")]
    pub shutdown_grace_s: f64,
    /// Path prefixes forwarded to the upstream unchanged (authenticated, not inspected), e.g.
    /// `["/v1/embeddings"]`. Every other path except the chat and models routes gets 404.
    #[serde(default)]
    pub pass_through: Vec<String>,
    /// Header naming the end user behind a key (default `x-anquan-user`); it wins over the
    /// body's `user` field, which wins over the key's default user.
    #[serde(default = "default_user_header")]
    pub user_header: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            admin_listen: default_admin_listen(),
            admin_token_env: default_admin_token_env(),
            max_body_bytes: default_max_body(),
            shutdown_grace_s: default_grace(),
            pass_through: Vec::new(),
            user_header: default_user_header(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8787".into()
}
fn default_admin_listen() -> String {
    "127.0.0.1:8788".into()
}
fn default_admin_token_env() -> String {
    "ANQUAN_GUARD_ADMIN_TOKEN".into()
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_grace() -> f64 {
    10.0
}
fn default_user_header() -> String {
    "x-anquan-user".into()
}

/// `[upstream]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UpstreamConfig {
    /// Base URL, e.g. `http://127.0.0.1:8080/v1` (`/chat/completions` and `/models` are appended).
    pub base_url: String,
    /// Environment variable holding the upstream API key (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Replace the request's `model` with this one (default: pass the client's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Seconds to connect (default 5).
    #[serde(default = "default_connect")]
    pub connect_timeout_s: f64,
    /// Seconds until the response headers arrive (default 60); then 504.
    #[serde(default = "default_first_byte")]
    pub first_byte_timeout_s: f64,
    /// Longest silence inside a stream, in seconds (default 60).
    #[serde(default = "default_first_byte")]
    pub idle_timeout_s: f64,
    /// Seconds for a whole non-streamed answer (default 300).
    #[serde(default = "default_total")]
    pub total_timeout_s: f64,
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

/// `[store]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StoreConfig {
    /// SQLite file (default `guard.db` beside the configuration file).
    #[serde(default = "default_store")]
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store(),
        }
    }
}

fn default_store() -> PathBuf {
    PathBuf::from("guard.db")
}

/// `[suspension]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SuspensionConfig {
    /// How long a repeat offender is suspended, in seconds (default 86400, one day). The counts
    /// that trigger it come from the catalog.
    #[serde(default = "default_suspend")]
    pub duration_s: u64,
}

impl Default for SuspensionConfig {
    fn default() -> Self {
        SuspensionConfig {
            duration_s: default_suspend(),
        }
    }
}

fn default_suspend() -> u64 {
    86_400
}

/// `[[keys]]`: one client API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KeyConfig {
    /// SHA-256 of the key, lowercase hex (`anquan guard hash-key KEY`).
    pub sha256: String,
    /// Tenant the key belongs to (a key of `[tenants]`, or `default`).
    pub tenant: String,
    /// User when the request names none (default: `key:` and the first 8 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// `[tenants.<id>]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TenantConfig {
    /// Policy name (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Phrases that never trigger a keyword for this tenant, added to the policy's.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// What to do with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Refuse (input) or stop the answer (output); counts as a violation.
    Block,
    /// Replace the finding (PII: masked value or placeholder; keywords: `*`).
    Mask,
    /// Let it through; say so in headers, metadata and the audit record.
    Annotate,
    /// Ignore.
    Pass,
}

impl Action {
    /// The name used in the file and the audit record.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Block => "block",
            Action::Mask => "mask",
            Action::Annotate => "annotate",
            Action::Pass => "pass",
        }
    }
}

/// Minimum keyword severity that counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MinSeverity {
    /// Every keyword.
    Low,
    /// Medium and high.
    #[default]
    Medium,
    /// High only.
    High,
}

/// Response language of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyLang {
    /// Chinese.
    #[default]
    Zh,
    /// English.
    En,
}

/// `[policies.<name>]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyConfig {
    /// Language of refusals and replacement text (default `zh`).
    #[serde(default)]
    pub language: PolicyLang,
    /// Keyword library: `builtin:starter` (default), a TSV/JSONL path, or `none`.
    #[serde(default = "default_library")]
    pub keywords: String,
    /// Use the built-in allow list (default true).
    #[serde(default = "yes")]
    pub builtin_allow: bool,
    /// Phrases that never trigger a keyword.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Lowest keyword severity that counts (default `medium`).
    #[serde(default)]
    pub min_severity: MinSeverity,
    /// Refusal text for blocked inputs (default: a built-in sentence in `language`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Text that ends a stopped answer (default: a built-in sentence in `language`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// Keep the full input and output text in the audit record (PII masked). Default false:
    /// hashes only.
    #[serde(default)]
    pub record_text: bool,
    /// Input phase.
    #[serde(default)]
    pub input: InputPolicy,
    /// Output phase.
    #[serde(default)]
    pub output: OutputPolicy,
    /// Per-user rate limit (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitConfig>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            language: PolicyLang::Zh,
            keywords: default_library(),
            builtin_allow: true,
            allow: Vec::new(),
            min_severity: MinSeverity::Medium,
            refusal: None,
            replacement: None,
            record_text: false,
            input: InputPolicy::default(),
            output: OutputPolicy::default(),
            rate_limit: None,
        }
    }
}

fn default_library() -> String {
    "builtin:starter".into()
}
fn yes() -> bool {
    true
}

/// `[policies.<name>.input]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InputPolicy {
    /// Keyword findings (default `block`).
    #[serde(default = "block")]
    pub keywords: Action,
    /// PII findings (default `mask`).
    #[serde(default = "mask")]
    pub pii: Action,
    /// Masking with typed placeholders (`[MOBILE_1]`) restored in the answer (default false:
    /// `138****5678`, not restored).
    #[serde(default)]
    pub reversible: bool,
    /// The local Chinese classifier judge on the input: its action on an unsafe verdict
    /// (default `pass`: not run).
    #[serde(default = "pass")]
    pub classifier: Action,
    /// An LLM judge on the input (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm_judge: Option<LlmJudgeConfig>,
}

impl Default for InputPolicy {
    fn default() -> Self {
        InputPolicy {
            keywords: Action::Block,
            pii: Action::Mask,
            reversible: false,
            classifier: Action::Pass,
            llm_judge: None,
        }
    }
}

/// `[policies.<name>.input.llm-judge]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LlmJudgeConfig {
    /// OpenAI-compatible base URL of the judge model.
    pub base_url: String,
    /// Model name.
    #[serde(default)]
    pub model: String,
    /// Environment variable holding its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Latency budget in milliseconds (default 1500).
    #[serde(default = "default_budget")]
    pub budget_ms: u64,
    /// Action on an unsafe verdict (default `block`).
    #[serde(default = "block")]
    pub action: Action,
    /// Action when the judge does not answer within the budget or fails (default `pass`).
    #[serde(default = "pass")]
    pub on_timeout: Action,
}

fn default_budget() -> u64 {
    1500
}

/// `[policies.<name>.output]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutputPolicy {
    /// Keyword findings in the answer (default `block`: the stream ends with a replacement).
    #[serde(default = "block")]
    pub keywords: Action,
    /// PII in the answer (default `mask`).
    #[serde(default = "mask")]
    pub pii: Action,
    /// Characters held back in a stream (default: derived from the longest keyword and the
    /// longest PII pattern; see `docs/guard.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_back_chars: Option<usize>,
}

impl Default for OutputPolicy {
    fn default() -> Self {
        OutputPolicy {
            keywords: Action::Block,
            pii: Action::Mask,
            hold_back_chars: None,
        }
    }
}

fn block() -> Action {
    Action::Block
}
fn mask() -> Action {
    Action::Mask
}
fn pass() -> Action {
    Action::Pass
}

/// `[policies.<name>.rate-limit]`: a token bucket per user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RateLimitConfig {
    /// Sustained requests per minute.
    pub requests_per_minute: u32,
    /// Bucket size (default: `requests-per-minute`, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
}

impl GuardConfig {
    /// Parse a file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<GuardConfig, ConfigError> {
        let cfg: GuardConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let problems = cfg.validate();
        if let Some(first) = problems.into_iter().next() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                message: first,
            });
        }
        Ok(cfg)
    }

    /// Read and parse a file.
    pub fn load(path: &Path) -> Result<GuardConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        GuardConfig::parse(&text, path)
    }

    /// Problems, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            if k.sha256.len() != 64 || !k.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                out.push(format!(
                    "keys[{i}].sha256: expected 64 hex digits (`anquan guard hash-key KEY`)"
                ));
            }
            if k.tenant != "default" && !self.tenants.contains_key(&k.tenant) {
                out.push(format!(
                    "keys[{i}].tenant: unknown tenant `{}`; add [tenants.{}]",
                    k.tenant, k.tenant
                ));
            }
        }
        for (id, t) in &self.tenants {
            let p = t.policy.as_deref().unwrap_or("default");
            if p != "default" && !self.policies.contains_key(p) {
                out.push(format!(
                    "tenants.{id}.policy: unknown policy `{p}`; add [policies.{p}]"
                ));
            }
        }
        for (name, p) in &self.policies {
            if let Some(r) = &p.rate_limit
                && r.requests_per_minute == 0
            {
                out.push(format!(
                    "policies.{name}.rate-limit.requests-per-minute: must be at least 1"
                ));
            }
            if p.output.keywords == Action::Mask {
                out.push(format!(
                    "policies.{name}.output.keywords: `mask` is not supported for answers; use block, annotate or pass"
                ));
            }
        }
        for (i, a) in self.alerts.iter().enumerate() {
            if let Err(e) = a.validate() {
                out.push(format!("alerts[{i}]: {e}"));
            }
        }
        for (key, v) in [
            (
                "upstream.connect-timeout-s",
                self.upstream.connect_timeout_s,
            ),
            (
                "upstream.first-byte-timeout-s",
                self.upstream.first_byte_timeout_s,
            ),
            ("upstream.idle-timeout-s", self.upstream.idle_timeout_s),
            ("upstream.total-timeout-s", self.upstream.total_timeout_s),
            ("server.shutdown-grace-s", self.server.shutdown_grace_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                out.push(format!("{key}: must be a positive number of seconds"));
            }
        }
        if !self.upstream.base_url.starts_with("http://")
            && !self.upstream.base_url.starts_with("https://")
        {
            out.push("upstream.base-url: must start with http:// or https://".into());
        }
        out
    }

    /// `path` resolved against the configuration file's folder.
    pub fn resolve(base: Option<&Path>, path: &Path) -> PathBuf {
        match base {
            Some(b) if path.is_relative() => b.join(path),
            _ => path.to_owned(),
        }
    }
}
