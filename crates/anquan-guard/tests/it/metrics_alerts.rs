//! `/metrics` text and alerts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anquan_guard::alerts::{AlertKind, AlertRule, Alerts};
use anquan_guard::metrics::Metrics;

/// One sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn is_name(s: &str, first_ok: fn(char) -> bool) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(first_ok)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parse `k="v",k2="v2"` with Prometheus escapes.
fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect("label without =\"");
        assert!(
            is_name(key, |c| c.is_ascii_alphabetic() || c == '_'),
            "bad label name {key:?}"
        );
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("unterminated label value");
            match c {
                '\\' => match chars.next().expect("dangling escape").1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => panic!("bad escape \\{c}"),
                },
                '"' => break i,
                '\n' => panic!("raw newline in a label value"),
                c => value.push(c),
            }
        };
        assert!(
            out.insert(key.to_owned(), value).is_none(),
            "label {key} twice"
        );
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    out
}

/// Check the text exposition format line by line; returns the samples and each family's type.
fn parse_exposition(text: &str) -> (Vec<Sample>, BTreeMap<String, String>) {
    assert!(text.ends_with('\n'));
    let mut types = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(is_name(name, |c| c.is_ascii_alphabetic() || c == '_'));
            assert!(!help.is_empty());
            assert!(helped.insert(name.to_owned()), "HELP twice for {name}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(helped.contains(name), "TYPE before HELP for {name}");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(types.insert(name.to_owned(), kind.to_owned()).is_none());
        } else {
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let (head, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line}"));
            let (name, labels) = match head.split_once('{') {
                Some((name, labels)) => (name, parse_labels(labels.strip_suffix('}').unwrap())),
                None => (head, BTreeMap::new()),
            };
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|t| t == "histogram"))
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "sample before its TYPE: {line}");
            if types.get(family).is_some_and(|t| t == "counter") {
                assert!(name.ends_with("_total"), "{name}");
            }
            samples.push((name.to_owned(), labels, value));
        }
    }
    (samples, types)
}

#[test]
fn metrics_render_as_prometheus_text_without_user_labels() {
    let m = Metrics::new();
    let users = ["alice@example.com", "13812345678", "user-秘密"];
    // What the proxy does per request: it knows the user, but no metric takes one.
    for (i, user) in users.iter().cycle().take(30).enumerate() {
        assert!(!user.is_empty());
        let tenant = if i % 2 == 0 {
            "acme"
        } else {
            "we\"ird\\ten\nant"
        };
        let action = ["pass", "block", "mask"][i % 3];
        m.inc_request(tenant, action);
        if action != "pass" {
            m.inc_detection(["A.1", "A.4"][i % 2], action);
        }
        m.observe_phase("input", 0.000_2 * i as f64);
        m.observe_phase("upstream", 0.02 * i as f64);
    }
    m.inc_upstream_error("upstream_timeout");
    m.inc_alert("blocked");
    m.set_suspended(2);
    let text = m.render();
    let (samples, types) = parse_exposition(&text);

    assert_eq!(types.get("anquan_guard_requests_total").unwrap(), "counter");
    assert_eq!(types.get("anquan_guard_suspended_users").unwrap(), "gauge");
    assert_eq!(
        types.get("anquan_guard_phase_duration_seconds").unwrap(),
        "histogram"
    );
    let get = |name: &str, labels: &[(&str, &str)]| {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        samples
            .iter()
            .find(|(n, l, _)| n == name && *l == want)
            .map(|(_, _, v)| *v)
    };
    // The escaped tenant parses back to itself.
    let weird = "we\"ird\\ten\nant";
    let total: f64 = ["pass", "block", "mask"]
        .iter()
        .filter_map(|a| {
            get(
                "anquan_guard_requests_total",
                &[("tenant", weird), ("action", a)],
            )
        })
        .sum();
    assert_eq!(total, 15.0);
    assert_eq!(get("anquan_guard_suspended_users", &[]), Some(2.0));
    assert_eq!(
        get(
            "anquan_guard_upstream_errors_total",
            &[("code", "upstream_timeout")]
        ),
        Some(1.0)
    );
    assert!(
        get(
            "anquan_guard_detections_total",
            &[("risk", "A.1"), ("action", "mask")]
        )
        .is_some()
    );
    assert_eq!(
        get(
            "anquan_guard_phase_duration_seconds_count",
            &[("phase", "input")]
        ),
        Some(30.0)
    );

    // Buckets are cumulative and end with +Inf = count.
    for phase in ["input", "upstream"] {
        let buckets: Vec<f64> = samples
            .iter()
            .filter(|(n, l, _)| {
                n == "anquan_guard_phase_duration_seconds_bucket"
                    && l.get("phase").is_some_and(|p| p == phase)
            })
            .map(|(_, _, v)| *v)
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
        let inf = get(
            "anquan_guard_phase_duration_seconds_bucket",
            &[("phase", phase), ("le", "+Inf")],
        );
        assert_eq!(inf, Some(30.0));
        assert_eq!(buckets.last().copied(), inf);
    }

    // No user id anywhere: not as a label name, not as a value, not in the text at all.
    for (_, labels, _) in &samples {
        for key in labels.keys() {
            assert!(!key.contains("user"), "user label {key}");
        }
    }
    for user in users {
        assert!(!text.contains(user), "{user} in the metrics");
    }
}

#[test]
fn alert_rules_parse_from_guard_toml_kebab_case() {
    #[derive(serde::Deserialize)]
    struct Doc {
        alerts: Vec<AlertRule>,
    }
    let doc: Doc = toml::from_str(
        r#"
        [[alerts]]
        name = "blocked"
        kind = "blocked-share"
        threshold = 0.3
        window-s = 60

        [[alerts]]
        name = "upstream"
        kind = "upstream-error-rate"
        threshold = 0.05
        window-s = 300
        min-events = 50
        cooldown-s = 900
        webhook = "http://127.0.0.1:9/hook"
        "#,
    )
    .unwrap();
    let [blocked, upstream] = doc.alerts.as_slice() else {
        panic!("two rules expected");
    };
    assert_eq!(blocked.kind, AlertKind::BlockedShare);
    assert_eq!(
        (
            blocked.min_events,
            blocked.cooldown_s,
            blocked.webhook.as_deref()
        ),
        (20, 300, None)
    );
    assert_eq!(upstream.kind, AlertKind::UpstreamErrorRate);
    assert_eq!((upstream.min_events, upstream.cooldown_s), (50, 900));
    assert!(blocked.validate().is_ok() && upstream.validate().is_ok());

    let unknown = toml::from_str::<Doc>(
        "[[alerts]]\nname = \"x\"\nkind = \"blocked-share\"\nthreshold = 0.1\nwindow-s = 1\nwindow = 2\n",
    );
    assert!(unknown.is_err());
    let mut bad = blocked.clone();
    bad.threshold = 1.5;
    assert!(bad.validate().is_err());
    bad.threshold = 0.5;
    bad.window_s = 0;
    assert!(bad.validate().is_err());
    bad.window_s = 10;
    bad.webhook = Some("file:///etc/passwd".into());
    assert!(bad.validate().is_err());
}

fn rule(kind: AlertKind, webhook: Option<String>) -> AlertRule {
    AlertRule {
        name: "blocked".into(),
        kind,
        threshold: 0.5,
        window_s: 60,
        min_events: 10,
        cooldown_s: 300,
        webhook,
    }
}

fn client() -> reqwest::Client {
    anquan_llm::client(Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn an_alert_fires_once_above_threshold_then_cools_down() {
    let alerts = Alerts::new(vec![rule(AlertKind::BlockedShare, None)], client());
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    // Too few events: 9 blocked of 9 is above the share, below min-events.
    for _ in 0..9 {
        assert!(alerts.observe(true, false, at(0)).is_empty());
    }
    // The 10th event makes min-events; the share is 100 %.
    let fired = alerts.observe(true, false, at(1));
    assert_eq!(fired.len(), 1);
    let f = &fired[0];
    assert_eq!(
        (f.name.as_str(), f.events, f.threshold),
        ("blocked", 10, 0.5)
    );
    assert!((f.value - 1.0).abs() < 1e-9);
    assert!(f.summary_zh().contains("拦截比例") && f.summary_en().contains("blocked share"));
    // Still above, but cooling down.
    for s in 2..30 {
        assert!(
            alerts.observe(true, false, at(s)).is_empty(),
            "fired again at {s}s"
        );
    }
    // Past the window the old events leave: the share is computed on the last 60 s only.
    for _ in 0..40 {
        assert!(alerts.observe(false, false, at(200)).is_empty());
    }
    // After the cool-down, above again in the window: fires once more.
    let mut fired_at = Vec::new();
    for i in 0..100 {
        if !alerts.observe(true, false, at(320)).is_empty() {
            fired_at.push(i);
        }
    }
    // 40 clean in [200, 320): still in the 60 s window at 320? No: 200 + 60 <= 320, gone; so the
    // share is 100 % from the 10th event on.
    assert_eq!(fired_at, vec![9]);
}

#[tokio::test]
async fn the_error_rate_alert_counts_only_upstream_errors() {
    let alerts = Alerts::new(vec![rule(AlertKind::UpstreamErrorRate, None)], client());
    let t0 = Instant::now();
    for _ in 0..20 {
        assert!(alerts.observe(true, false, t0).is_empty());
    }
    // 20 blocked, 0 errors; now 21 errors of 41: 51 % > 50 % fires on the 21st.
    let fired: Vec<usize> = (0..21)
        .filter(|_| !alerts.observe(false, true, t0).is_empty())
        .collect();
    assert_eq!(fired, vec![20]);
}

#[tokio::test]
async fn the_webhook_receives_json_on_loopback() {
    use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
    type Got = Arc<Mutex<Vec<serde_json::Value>>>;
    async fn hook(State(got): State<Got>, Json(v): Json<serde_json::Value>) -> StatusCode {
        got.lock().unwrap().push(v);
        StatusCode::NO_CONTENT
    }
    async fn broken() -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
    let got: Got = Arc::default();
    let app = Router::new()
        .route("/hook", post(hook))
        .route("/broken", post(broken))
        .with_state(Arc::clone(&got));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut server = tokio::task::JoinSet::new();
    server.spawn(async move { axum::serve(listener, app).await });

    let mut ok_rule = rule(AlertKind::BlockedShare, Some(format!("http://{addr}/hook")));
    ok_rule.min_events = 1;
    let mut broken_rule = rule(
        AlertKind::BlockedShare,
        Some(format!("http://{addr}/broken")),
    );
    broken_rule.name = "broken".into();
    broken_rule.min_events = 1;
    let mut silent = rule(AlertKind::BlockedShare, None);
    silent.name = "silent".into();
    silent.min_events = 1;
    let alerts = Alerts::new(vec![ok_rule, broken_rule, silent], client());
    let fired = alerts.observe(true, false, Instant::now());
    assert_eq!(fired.len(), 3);
    for f in &fired {
        let r = alerts.deliver(f).await;
        match f.name.as_str() {
            "blocked" | "silent" => r.unwrap(),
            _ => assert!(r.unwrap_err().contains("500"), "{fired:?}"),
        }
    }
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let v = &got[0];
    assert_eq!(v["schema"], "anquan.guard.alert.v1");
    assert_eq!(v["alert"], "blocked");
    assert_eq!(v["kind"], "blocked-share");
    assert_eq!(v["value"], 1.0);
    assert_eq!(v["threshold"], 0.5);
    assert_eq!(v["events"], 1);
    assert!(v["summary"]["zh"].as_str().unwrap().contains("告警"));
    assert!(
        v["summary"]["en"]
            .as_str()
            .unwrap()
            .contains("blocked share")
    );
    server.abort_all();
}
