//! The guard's metrics, rendered in the Prometheus text exposition format (version 0.0.4) for
//! `/metrics` on the admin port.
//!
//! Labels are of low cardinality by construction: tenants (configured), actions, risk
//! categories, upstream error codes, phases and alert names. No method takes an end user, so a
//! user id can never become a label; and each family keeps at most [`MAX_SERIES`] label sets,
//! folding the rest into the value `_other`, so a bad caller cannot grow memory without bound.
//! Counters and the gauge are atomics or short critical sections on a `Mutex<BTreeMap>`; nothing
//! is allocated on the hot path once a series exists.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Requests answered, by `tenant` and `action`.
pub const REQUESTS_TOTAL: &str = "anquan_guard_requests_total";
/// Detections (blocks, masks, annotations), by `risk` category and `action`.
pub const DETECTIONS_TOTAL: &str = "anquan_guard_detections_total";
/// Upstream errors, by stable `code`.
pub const UPSTREAM_ERRORS_TOTAL: &str = "anquan_guard_upstream_errors_total";
/// Users suspended now.
pub const SUSPENDED_USERS: &str = "anquan_guard_suspended_users";
/// Time spent per phase, by `phase`.
pub const PHASE_SECONDS: &str = "anquan_guard_phase_duration_seconds";
/// Alerts fired, by `alert` name.
pub const ALERTS_TOTAL: &str = "anquan_guard_alerts_fired_total";

/// Upper bounds of the phase histogram buckets, in seconds (`+Inf` is implied).
pub const PHASE_BUCKETS: [f64; 15] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];

/// The most label sets one family keeps; later ones are counted under `_other`.
pub const MAX_SERIES: usize = 1000;

/// The label value that collects series beyond [`MAX_SERIES`].
pub const OTHER: &str = "_other";

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Per bucket (not cumulative), then the overflow bucket.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, v: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; PHASE_BUCKETS.len() + 1];
        }
        let slot = PHASE_BUCKETS
            .iter()
            .position(|le| v <= *le)
            .unwrap_or(PHASE_BUCKETS.len());
        if let Some(c) = self.counts.get_mut(slot) {
            *c += 1;
        }
        self.sum += v;
        self.count += 1;
    }
}

/// The guard's metric registry. Share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String), u64>>,
    detections: Mutex<BTreeMap<(String, String), u64>>,
    upstream_errors: Mutex<BTreeMap<String, u64>>,
    alerts: Mutex<BTreeMap<String, u64>>,
    suspended: AtomicU64,
    phases: Mutex<BTreeMap<String, Histogram>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while counting leaves a usable map: keep counting.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn bump<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, other: impl FnOnce() -> K) {
    if let Some(v) = map.get_mut(&key) {
        *v += 1;
    } else if map.len() < MAX_SERIES {
        map.insert(key, 1);
    } else {
        *map.entry(other()).or_insert(0) += 1;
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

/// Escape a label value: backslash, double quote and newline.
fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// One request answered for `tenant` with `action` (`pass`, `block`, `mask`, …).
    pub fn inc_request(&self, tenant: &str, action: &str) {
        bump(&mut lock(&self.requests), pair(tenant, action), || {
            pair(OTHER, OTHER)
        });
    }

    /// One detection in a risk category (for example the annex-A group `A.1`; never a user)
    /// with the action taken.
    pub fn inc_detection(&self, risk_category: &str, action: &str) {
        bump(
            &mut lock(&self.detections),
            pair(risk_category, action),
            || pair(OTHER, OTHER),
        );
    }

    /// One upstream error with its stable code.
    pub fn inc_upstream_error(&self, code: &str) {
        bump(&mut lock(&self.upstream_errors), code.to_owned(), || {
            OTHER.to_owned()
        });
    }

    /// One alert fired.
    pub fn inc_alert(&self, name: &str) {
        bump(&mut lock(&self.alerts), name.to_owned(), || {
            OTHER.to_owned()
        });
    }

    /// The number of users suspended now.
    pub fn set_suspended(&self, n: u64) {
        self.suspended.store(n, Ordering::Relaxed);
    }

    /// Time spent in one phase (`input`, `upstream`, `output`, …), in seconds. Negative or
    /// non-finite values count as 0.
    pub fn observe_phase(&self, phase: &str, seconds: f64) {
        let v = if seconds.is_finite() && seconds > 0.0 {
            seconds
        } else {
            0.0
        };
        let mut phases = lock(&self.phases);
        if let Some(h) = phases.get_mut(phase) {
            h.observe(v);
        } else {
            let key = if phases.len() < MAX_SERIES {
                phase
            } else {
                OTHER
            };
            phases.entry(key.to_owned()).or_default().observe(v);
        }
    }

    /// Everything, in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        header(
            &mut out,
            REQUESTS_TOTAL,
            "counter",
            "Requests answered by the guard, by tenant and action.",
        );
        for ((tenant, action), n) in lock(&self.requests).iter() {
            let l = labels(&[("tenant", tenant), ("action", action)]);
            let _ = writeln!(out, "{REQUESTS_TOTAL}{l} {n}");
        }
        header(
            &mut out,
            DETECTIONS_TOTAL,
            "counter",
            "Detections in inputs and outputs, by risk category and action.",
        );
        for ((risk, action), n) in lock(&self.detections).iter() {
            let l = labels(&[("risk", risk), ("action", action)]);
            let _ = writeln!(out, "{DETECTIONS_TOTAL}{l} {n}");
        }
        header(
            &mut out,
            UPSTREAM_ERRORS_TOTAL,
            "counter",
            "Errors from the upstream model service, by stable code.",
        );
        for (code, n) in lock(&self.upstream_errors).iter() {
            let l = labels(&[("code", code)]);
            let _ = writeln!(out, "{UPSTREAM_ERRORS_TOTAL}{l} {n}");
        }
        header(
            &mut out,
            ALERTS_TOTAL,
            "counter",
            "Alerts fired, by alert name.",
        );
        for (name, n) in lock(&self.alerts).iter() {
            let l = labels(&[("alert", name)]);
            let _ = writeln!(out, "{ALERTS_TOTAL}{l} {n}");
        }
        header(
            &mut out,
            SUSPENDED_USERS,
            "gauge",
            "End users suspended now for repeated violations.",
        );
        let _ = writeln!(
            out,
            "{SUSPENDED_USERS} {}",
            self.suspended.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            PHASE_SECONDS,
            "histogram",
            "Time spent in each phase of a request, in seconds.",
        );
        for (phase, h) in lock(&self.phases).iter() {
            let mut cumulative = 0;
            let bounds = PHASE_BUCKETS.iter().map(|le| le.to_string());
            for (le, n) in bounds
                .chain(std::iter::once("+Inf".to_owned()))
                .zip(h.counts.iter())
            {
                cumulative += n;
                let l = labels(&[("phase", phase), ("le", &le)]);
                let _ = writeln!(out, "{PHASE_SECONDS}_bucket{l} {cumulative}");
            }
            let l = labels(&[("phase", phase)]);
            let _ = writeln!(out, "{PHASE_SECONDS}_sum{l} {}", h.sum);
            let _ = writeln!(out, "{PHASE_SECONDS}_count{l} {}", h.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let m = Metrics::new();
        m.observe_phase("input", 0.000_05);
        m.observe_phase("input", 0.003);
        m.observe_phase("input", 99.0);
        m.observe_phase("input", f64::NAN);
        let text = m.render();
        assert!(
            text.contains(
                "anquan_guard_phase_duration_seconds_bucket{phase=\"input\",le=\"0.0001\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "anquan_guard_phase_duration_seconds_bucket{phase=\"input\",le=\"0.005\"} 3\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "anquan_guard_phase_duration_seconds_bucket{phase=\"input\",le=\"+Inf\"} 4\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("anquan_guard_phase_duration_seconds_count{phase=\"input\"} 4\n"),
            "{text}"
        );
    }

    #[test]
    fn series_beyond_the_cap_fold_into_other() {
        let m = Metrics::new();
        for i in 0..MAX_SERIES + 5 {
            m.inc_upstream_error(&format!("code_{i}"));
        }
        let text = m.render();
        assert!(
            text.contains("anquan_guard_upstream_errors_total{code=\"_other\"} 5\n"),
            "{text}"
        );
    }
}
