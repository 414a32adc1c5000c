//! Alerts: a webhook (and a log line, written by the caller) when a rate over a sliding window
//! crosses its threshold, with a cool-down.
//!
//! Every answered request is one event ([`Alerts::observe`]): whether its input or output was
//! blocked, and whether the upstream failed. Events are counted in one-second buckets kept for the
//! longest window; a rule fires when its window holds at least `min-events` events, its rate is
//! strictly above `threshold`, and its last firing is at least `cooldown-s` ago. `observe` is
//! synchronous and cheap (one short lock); delivery ([`Alerts::deliver`]) is a separate async call
//! so the request path never waits on a webhook.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The longest window a rule may have: one day.
pub const MAX_WINDOW_S: u64 = 86_400;

/// What an alert watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    /// Share of requests blocked (input or output), 0–1.
    BlockedShare,
    /// Share of requests whose upstream failed, 0–1.
    UpstreamErrorRate,
}

impl AlertKind {
    /// The name used in configuration and in the webhook payload.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::BlockedShare => "blocked-share",
            AlertKind::UpstreamErrorRate => "upstream-error-rate",
        }
    }
}

fn default_min_events() -> u64 {
    20
}

fn default_cooldown_s() -> u64 {
    300
}

/// One alert rule (`[[alerts]]` in `guard.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AlertRule {
    /// Name, shown in the webhook payload, the log line and the metrics.
    pub name: String,
    /// `blocked-share` or `upstream-error-rate`.
    pub kind: AlertKind,
    /// Fire when the rate is strictly above this (0–1).
    pub threshold: f64,
    /// Sliding window, in seconds (1 to 86400).
    pub window_s: u64,
    /// Do not fire on fewer events than this in the window (default 20).
    #[serde(default = "default_min_events")]
    pub min_events: u64,
    /// Do not fire again within this many seconds (default 300).
    #[serde(default = "default_cooldown_s")]
    pub cooldown_s: u64,
    /// URL that receives a JSON POST when the alert fires (`http://` or `https://`).
    #[serde(default)]
    pub webhook: Option<String>,
}

impl AlertRule {
    /// Problems with the rule's values, if any.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("alert name is empty".into());
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(format!(
                "alert `{}`: threshold {} is not between 0 and 1",
                self.name, self.threshold
            ));
        }
        if self.window_s == 0 || self.window_s > MAX_WINDOW_S {
            return Err(format!(
                "alert `{}`: window-s {} is not between 1 and {MAX_WINDOW_S}",
                self.name, self.window_s
            ));
        }
        if let Some(url) = &self.webhook
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!(
                "alert `{}`: webhook `{url}` is not an http(s) URL",
                self.name
            ));
        }
        Ok(())
    }
}

/// An alert that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fired {
    /// Rule name.
    pub name: String,
    /// What was watched.
    pub kind: AlertKind,
    /// The rate over the window.
    pub value: f64,
    /// The rule's threshold.
    pub threshold: f64,
    /// The window, in seconds.
    pub window_s: u64,
    /// Events in the window.
    pub events: u64,
}

impl Fired {
    /// One-line summary in Chinese.
    pub fn summary_zh(&self) -> String {
        let what = match self.kind {
            AlertKind::BlockedShare => "拦截比例",
            AlertKind::UpstreamErrorRate => "上游错误率",
        };
        format!(
            "告警 {}：最近{}秒内{}为{:.1}%（{}个请求），超过阈值{:.1}%",
            self.name,
            self.window_s,
            what,
            self.value * 100.0,
            self.events,
            self.threshold * 100.0
        )
    }

    /// One-line summary in English.
    pub fn summary_en(&self) -> String {
        let what = match self.kind {
            AlertKind::BlockedShare => "blocked share",
            AlertKind::UpstreamErrorRate => "upstream error rate",
        };
        format!(
            "alert {}: {what} {:.1}% over the last {} s ({} requests), above the threshold of {:.1}%",
            self.name,
            self.value * 100.0,
            self.window_s,
            self.events,
            self.threshold * 100.0
        )
    }
}

impl fmt::Display for Fired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary_en())
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    sec: u64,
    total: u64,
    blocked: u64,
    errors: u64,
}

#[derive(Debug)]
struct State {
    origin: Option<Instant>,
    buckets: VecDeque<Bucket>,
    last_fired: Vec<Option<Instant>>,
}

/// The alert rules and their sliding windows.
#[derive(Debug)]
pub struct Alerts {
    rules: Vec<AlertRule>,
    client: reqwest::Client,
    longest: u64,
    state: Mutex<State>,
}

impl Alerts {
    /// Rules (check each with [`AlertRule::validate`] first) and the HTTP client for webhooks
    /// (from `anquan_llm::client`).
    pub fn new(rules: Vec<AlertRule>, client: reqwest::Client) -> Self {
        let longest = rules
            .iter()
            .map(|r| r.window_s.clamp(1, MAX_WINDOW_S))
            .max()
            .unwrap_or(1);
        let last_fired = vec![None; rules.len()];
        Alerts {
            rules,
            client,
            longest,
            state: Mutex::new(State {
                origin: None,
                buckets: VecDeque::new(),
                last_fired,
            }),
        }
    }

    /// The rules.
    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// Count one answered request at `now`; returns the alerts that fire because of it.
    pub fn observe(&self, blocked: bool, upstream_error: bool, now: Instant) -> Vec<Fired> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let origin = *st.origin.get_or_insert(now);
        let sec = now.saturating_duration_since(origin).as_secs();
        let (b, e) = (u64::from(blocked), u64::from(upstream_error));
        let newest = st.buckets.back().map(|x| x.sec);
        match newest {
            // An event timed just before a newer one was counted (threads race to the lock):
            // count it in the newest bucket.
            Some(newest) if newest >= sec => {
                if let Some(x) = st.buckets.back_mut() {
                    x.total += 1;
                    x.blocked += b;
                    x.errors += e;
                }
            }
            _ => st.buckets.push_back(Bucket {
                sec,
                total: 1,
                blocked: b,
                errors: e,
            }),
        }
        let newest = st.buckets.back().map_or(sec, |x| x.sec);
        while st
            .buckets
            .front()
            .is_some_and(|x| x.sec + self.longest <= newest)
        {
            st.buckets.pop_front();
        }
        let mut fired = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let window = rule.window_s.clamp(1, MAX_WINDOW_S);
            let (mut total, mut hits) = (0u64, 0u64);
            for x in st
                .buckets
                .iter()
                .rev()
                .take_while(|x| x.sec + window > newest)
            {
                total += x.total;
                hits += match rule.kind {
                    AlertKind::BlockedShare => x.blocked,
                    AlertKind::UpstreamErrorRate => x.errors,
                };
            }
            if total == 0 || total < rule.min_events {
                continue;
            }
            // Event counts stay far below 2^52: the conversion is exact.
            let value = hits as f64 / total as f64;
            if value <= rule.threshold {
                continue;
            }
            let Some(last) = st.last_fired.get_mut(i) else {
                continue;
            };
            let cooled = last.is_none_or(|t| {
                now.saturating_duration_since(t) >= Duration::from_secs(rule.cooldown_s)
            });
            if cooled {
                *last = Some(now);
                fired.push(Fired {
                    name: rule.name.clone(),
                    kind: rule.kind,
                    value,
                    threshold: rule.threshold,
                    window_s: window,
                    events: total,
                });
            }
        }
        fired
    }

    /// POST the alert as JSON to its rule's webhook (nothing to do without one). The payload:
    /// `{"schema": "anquan.guard.alert.v1", "alert", "kind", "value", "threshold", "window_s",
    /// "events", "time", "summary": {"zh", "en"}}`.
    pub async fn deliver(&self, fired: &Fired) -> Result<(), String> {
        let Some(rule) = self.rules.iter().find(|r| r.name == fired.name) else {
            return Err(format!("no alert rule named `{}`", fired.name));
        };
        let Some(url) = &rule.webhook else {
            return Ok(());
        };
        let payload = serde_json::json!({
            "schema": "anquan.guard.alert.v1",
            "alert": fired.name,
            "kind": fired.kind,
            "value": fired.value,
            "threshold": fired.threshold,
            "window_s": fired.window_s,
            "events": fired.events,
            "time": jiff::Timestamp::now().to_string(),
            "summary": {"zh": fired.summary_zh(), "en": fired.summary_en()},
        });
        let shown = anquan_llm::redact_url(url);
        let resp = self
            .client
            .post(url)
            .json(&payload)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "alert `{}`: webhook {shown} failed: {}",
                    fired.name,
                    e.without_url()
                )
            })?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "alert `{}`: webhook {shown} answered {}",
                fired.name,
                resp.status()
            ))
        }
    }
}
