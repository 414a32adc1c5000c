//! The configuration compiled for serving: policies with their engines, tenants, keys, the
//! upstream; plus the runtime controls that outlive a reload (kill switch, rate limiter).
//!
//! A reload builds a new [`State`] next to the old one and swaps the `Arc` (requests in flight
//! keep the state they started with), so connections are never dropped and a broken file leaves
//! the running state untouched.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anquan_catalog::Catalog;
use anquan_detect::Engine;
use anquan_detect::classifier::ClassifierJudge;
use anquan_detect::keywords::{Library, STARTER_LIBRARY, Severity, starter_allow_list};
use tokio::sync::watch;

use crate::config::{
    Action, ConfigError, GuardConfig, LlmJudgeConfig, MinSeverity, PolicyConfig, PolicyLang,
};
use crate::stream::{HoldBack, InspectorSettings};

/// One policy compiled for one tenant (the tenant's allow list is compiled into the matcher).
#[derive(Debug)]
pub struct Policy {
    /// Policy name.
    pub name: String,
    /// The policy as written.
    pub cfg: PolicyConfig,
    /// The detection engine (keywords with the allow lists, PII).
    pub engine: Arc<Engine>,
    /// Stream hold-back data.
    pub hold: Arc<HoldBack>,
    /// The classifier judge, when the input policy runs it.
    pub classifier: Option<Arc<ClassifierJudge>>,
    /// The LLM judge client, when configured.
    pub llm_judge: Option<(anquan_llm::Client, LlmJudgeConfig)>,
    /// `name@version` of the keyword library, for audit records.
    pub library: String,
}

impl Policy {
    /// Lowest severity that counts.
    pub fn min_severity(&self) -> Severity {
        match self.cfg.min_severity {
            MinSeverity::Low => Severity::Low,
            MinSeverity::Medium => Severity::Medium,
            MinSeverity::High => Severity::High,
        }
    }

    /// Settings for the output inspector.
    pub fn output_settings(&self) -> InspectorSettings {
        InspectorSettings {
            min_severity: self.min_severity(),
            keywords: self.cfg.output.keywords,
            pii: self.cfg.output.pii,
        }
    }

    /// The refusal for a blocked input.
    pub fn refusal(&self) -> String {
        self.cfg.refusal.clone().unwrap_or_else(|| {
            match self.cfg.language {
                PolicyLang::Zh => "抱歉，您的请求包含不符合安全规范的内容，无法处理。",
                PolicyLang::En => {
                    "Sorry, this request contains content that violates the safety policy and cannot be processed."
                }
            }
            .to_owned()
        })
    }

    /// The text that ends a stopped answer.
    pub fn replacement(&self) -> String {
        self.cfg.replacement.clone().unwrap_or_else(|| {
            match self.cfg.language {
                PolicyLang::Zh => "（后续内容不符合安全规范，已停止输出。）",
                PolicyLang::En => {
                    "(The rest of this answer violates the safety policy and was withheld.)"
                }
            }
            .to_owned()
        })
    }

    /// The text that ends a stream cut by the kill switch or a shutdown.
    pub fn stopped_text(&self) -> &'static str {
        match self.cfg.language {
            PolicyLang::Zh => "（服务已暂停。）",
            PolicyLang::En => "(The service has been stopped.)",
        }
    }
}

/// A client key's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    /// Tenant id.
    pub tenant: String,
    /// Default user.
    pub user: String,
}

/// The upstream, resolved.
#[derive(Clone)]
pub struct Upstream {
    /// Base URL without the trailing slash.
    pub base_url: String,
    /// The key read from the environment, if any.
    pub api_key: Option<String>,
    /// Model override.
    pub model: Option<String>,
    /// First-byte timeout.
    pub first_byte: Duration,
    /// Longest silence inside a stream.
    pub idle: Duration,
    /// Whole non-streamed answer.
    pub total: Duration,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("base_url", &anquan_llm::redact_url(&self.base_url))
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// Everything a request needs, compiled from one configuration.
#[derive(Debug)]
pub struct State {
    /// The configuration as written.
    pub cfg: GuardConfig,
    /// Where it came from (for reloads and relative paths).
    pub path: Option<PathBuf>,
    /// sha256 hex → owner.
    pub keys: HashMap<String, KeyOwner>,
    /// Tenant id → its compiled policy.
    pub tenants: HashMap<String, Arc<Policy>>,
    /// The upstream.
    pub upstream: Upstream,
    /// Problems that did not stop the build (keyword-library lines skipped), naming file and line.
    pub warnings: Vec<String>,
}

/// SHA-256 of `data`, lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn secs(v: f64) -> Duration {
    Duration::from_secs_f64(v.clamp(0.001, 86_400.0 * 365.0))
}

fn load_library(
    spec: &str,
    base: Option<&Path>,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<Option<(Library, String)>, ConfigError> {
    let (text, name) = match spec {
        "none" => return Ok(None),
        "builtin:starter" => (STARTER_LIBRARY.to_owned(), spec.to_owned()),
        p => {
            let file = GuardConfig::resolve(base, Path::new(p));
            let text = std::fs::read_to_string(&file).map_err(|e| ConfigError::Invalid {
                path: path.to_owned(),
                message: format!("keyword library `{}`: {e}", file.display()),
            })?;
            (text, file.display().to_string())
        }
    };
    let (lib, problems) = Library::parse(&text);
    for p in problems.iter().take(20) {
        warnings.push(format!(
            "`{name}`: line {}: {} (line skipped)",
            p.line, p.message
        ));
    }
    let tag = format!(
        "{}@{}",
        if lib.name.is_empty() {
            &name
        } else {
            &lib.name
        },
        if lib.version.is_empty() {
            "0"
        } else {
            &lib.version
        }
    );
    Ok(Some((lib, tag)))
}

impl State {
    /// Compile `cfg` (read from `path`, when it came from a file).
    pub fn build(
        cfg: GuardConfig,
        path: Option<&Path>,
        catalog: &Catalog,
    ) -> Result<State, ConfigError> {
        let shown = path.map_or_else(|| PathBuf::from("<config>"), Path::to_path_buf);
        let base = path.and_then(Path::parent);
        let problems = cfg.validate();
        if let Some(first) = problems.into_iter().next() {
            return Err(ConfigError::Invalid {
                path: shown,
                message: first,
            });
        }
        let mut warnings = Vec::new();
        let api_key = match &cfg.upstream.api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| ConfigError::Invalid {
                path: shown.clone(),
                message: format!(
                    "upstream.api-key-env: the environment variable `{var}` is not set"
                ),
            })?),
            None => None,
        };
        let upstream = Upstream {
            base_url: cfg.upstream.base_url.trim_end_matches('/').to_owned(),
            api_key,
            model: cfg.upstream.model.clone(),
            first_byte: secs(cfg.upstream.first_byte_timeout_s),
            idle: secs(cfg.upstream.idle_timeout_s),
            total: secs(cfg.upstream.total_timeout_s),
        };
        let keys = cfg
            .keys
            .iter()
            .map(|k| {
                let sha = k.sha256.to_ascii_lowercase();
                let user = k
                    .user
                    .clone()
                    .unwrap_or_else(|| format!("key:{}", sha.get(..8).unwrap_or_default()));
                (
                    sha,
                    KeyOwner {
                        tenant: k.tenant.clone(),
                        user,
                    },
                )
            })
            .collect();
        let mut classifier: Option<Arc<ClassifierJudge>> = None;
        // Libraries by policy, engines by (policy, allow list).
        let mut libraries: HashMap<String, Option<(Library, String)>> = HashMap::new();
        let mut engines: HashMap<(String, Vec<String>), Arc<Policy>> = HashMap::new();
        let mut tenants = HashMap::new();
        let mut tenant_ids: BTreeSet<String> = cfg.tenants.keys().cloned().collect();
        tenant_ids.insert("default".into());
        for id in tenant_ids {
            let tcfg = cfg.tenants.get(&id).cloned().unwrap_or_default();
            let pname = tcfg.policy.clone().unwrap_or_else(|| "default".into());
            let pcfg = cfg.policies.get(&pname).cloned().unwrap_or_default();
            let mut allow: Vec<String> = pcfg.allow.clone();
            allow.extend(tcfg.allow.iter().cloned());
            if pcfg.builtin_allow {
                allow.extend(starter_allow_list());
            }
            allow.sort();
            allow.dedup();
            let key = (pname.clone(), allow.clone());
            if let Some(p) = engines.get(&key) {
                tenants.insert(id, Arc::clone(p));
                continue;
            }
            if !libraries.contains_key(&pname) {
                let lib = load_library(&pcfg.keywords, base, &shown, &mut warnings)?;
                libraries.insert(pname.clone(), lib);
            }
            let (lib, tag) = match libraries.get(&pname).cloned().flatten() {
                Some((l, t)) => (Some(l), t),
                None => (None, "none".to_owned()),
            };
            let engine = Arc::new(Engine::new(catalog, lib, &allow, true));
            let hold = Arc::new(HoldBack::new(&engine, pcfg.output.hold_back_chars));
            let cls = if pcfg.input.classifier == Action::Pass {
                None
            } else {
                if classifier.is_none() {
                    classifier = Some(Arc::new(ClassifierJudge::builtin(catalog).map_err(
                        |e| ConfigError::Invalid {
                            path: shown.clone(),
                            message: format!("policies.{pname}.input.classifier: {e}"),
                        },
                    )?));
                }
                classifier.clone()
            };
            let llm_judge = match &pcfg.input.llm_judge {
                Some(j) => {
                    let mut t =
                        anquan_llm::TargetConfig::openai(j.base_url.clone(), j.model.clone());
                    t.api_key_env = j.api_key_env.clone();
                    t.stream = false;
                    t.max_tokens = 16;
                    t.max_retries = 0;
                    let budget = (j.budget_ms as f64 / 1000.0).max(0.001);
                    t.first_byte_timeout_s = budget;
                    t.total_timeout_s = budget;
                    t.connect_timeout_s = budget.min(5.0);
                    let client = anquan_llm::Client::new(t).map_err(|e| ConfigError::Invalid {
                        path: shown.clone(),
                        message: format!("policies.{pname}.input.llm-judge: {e}"),
                    })?;
                    Some((client, j.clone()))
                }
                None => None,
            };
            let policy = Arc::new(Policy {
                name: pname.clone(),
                cfg: pcfg,
                engine,
                hold,
                classifier: cls,
                llm_judge,
                library: tag,
            });
            engines.insert(key, Arc::clone(&policy));
            tenants.insert(id, policy);
        }
        Ok(State {
            cfg,
            path: path.map(Path::to_path_buf),
            keys,
            tenants,
            upstream,
            warnings,
        })
    }

    /// The owner of a presented key.
    pub fn owner(&self, key: &str) -> Option<&KeyOwner> {
        self.keys.get(&sha256_hex(key.as_bytes()))
    }

    /// The policy of a tenant (the default tenant's for unknown ones).
    pub fn policy(&self, tenant: &str) -> Option<Arc<Policy>> {
        self.tenants
            .get(tenant)
            .or_else(|| self.tenants.get("default"))
            .cloned()
    }
}

/// The kill switch: one global flag and one per tenant, each a watch channel so streams in flight
/// see a change at once.
#[derive(Debug)]
pub struct KillSwitch {
    global: watch::Sender<bool>,
    tenants: Mutex<HashMap<String, watch::Sender<bool>>>,
}

impl Default for KillSwitch {
    fn default() -> Self {
        KillSwitch {
            global: watch::Sender::new(false),
            tenants: Mutex::new(HashMap::new()),
        }
    }
}

/// What a request watches to learn that it must stop.
#[derive(Debug, Clone)]
pub struct KillWatch {
    global: watch::Receiver<bool>,
    tenant: watch::Receiver<bool>,
    shutdown: watch::Receiver<bool>,
}

impl KillWatch {
    /// Whether the request must stop now.
    pub fn is_killed(&self) -> bool {
        *self.global.borrow() || *self.tenant.borrow() || *self.shutdown.borrow()
    }

    /// Resolves when the kill switch (global or the tenant's) or a shutdown deadline fires.
    pub async fn killed(&mut self) {
        loop {
            if self.is_killed() {
                return;
            }
            let changed = tokio::select! {
                r = self.global.changed() => r.is_ok(),
                r = self.tenant.changed() => r.is_ok(),
                r = self.shutdown.changed() => r.is_ok(),
            };
            if !changed {
                // A sender is gone (the guard is shutting down): never fire from that.
                std::future::pending::<()>().await;
            }
        }
    }
}

impl KillSwitch {
    fn tenant_sender(&self, tenant: &str) -> watch::Sender<bool> {
        let mut map = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(tenant.to_owned())
            .or_insert_with(|| watch::Sender::new(false))
            .clone()
    }

    /// Turn on (`true`) or off, globally (`None`) or for one tenant.
    pub fn set(&self, tenant: Option<&str>, on: bool) {
        match tenant {
            None => {
                self.global.send_replace(on);
            }
            Some(t) => {
                self.tenant_sender(t).send_replace(on);
            }
        }
    }

    /// Whether requests of `tenant` are stopped.
    pub fn is_killed(&self, tenant: &str) -> bool {
        *self.global.borrow() || *self.tenant_sender(tenant).borrow()
    }

    /// Global flag and the tenants switched off.
    pub fn status(&self) -> (bool, Vec<String>) {
        let map = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut off: Vec<String> = map
            .iter()
            .filter(|(_, s)| *s.borrow())
            .map(|(t, _)| t.clone())
            .collect();
        off.sort();
        (*self.global.borrow(), off)
    }

    /// A watch for one request.
    pub fn watch(&self, tenant: &str, shutdown: watch::Receiver<bool>) -> KillWatch {
        KillWatch {
            global: self.global.subscribe(),
            tenant: self.tenant_sender(tenant).subscribe(),
            shutdown,
        }
    }
}

/// Token buckets per (tenant, user).
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(String, String), (f64, Instant)>>,
}

impl RateLimiter {
    /// Take one token, or say how long to wait for one.
    pub fn check(
        &self,
        tenant: &str,
        user: &str,
        per_minute: u32,
        burst: u32,
        now: Instant,
    ) -> Result<(), Duration> {
        let rate = f64::from(per_minute.max(1)) / 60.0;
        let cap = f64::from(burst.max(1));
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            // Forget full buckets so the map does not grow without bound.
            map.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < cap
            });
        }
        let (tokens, at) = map
            .entry((tenant.to_owned(), user.to_owned()))
            .or_insert((cap, now));
        let refilled = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * rate).min(cap);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(Duration::from_secs_f64((1.0 - refilled) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_known_value() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn token_bucket_refills() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        assert!(rl.check("t", "u", 60, 2, t0).is_ok());
        assert!(rl.check("t", "u", 60, 2, t0).is_ok());
        let wait = rl.check("t", "u", 60, 2, t0).unwrap_err();
        assert!(
            wait.as_secs_f64() > 0.9 && wait.as_secs_f64() <= 1.0,
            "{wait:?}"
        );
        assert!(rl.check("t", "other", 60, 2, t0).is_ok(), "per user");
        assert!(
            rl.check("t", "u", 60, 2, t0 + Duration::from_secs(1))
                .is_ok()
        );
    }

    #[test]
    fn kill_switch_global_and_tenant() {
        let k = KillSwitch::default();
        let (_tx, rx) = watch::channel(false);
        let w = k.watch("a", rx);
        assert!(!w.is_killed());
        k.set(Some("a"), true);
        assert!(w.is_killed() && k.is_killed("a") && !k.is_killed("b"));
        k.set(Some("a"), false);
        k.set(None, true);
        assert!(k.is_killed("b") && w.is_killed());
        assert_eq!(k.status(), (true, vec![]));
    }
}
