//! Violation counters and suspension by the catalog clause `gbt45654.users.repeat_offender`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anquan_guard::violations::{RepeatRule, Violations};

const HOUR: Duration = Duration::from_secs(3600);

fn at(rfc3339: &str) -> SystemTime {
    SystemTime::from(rfc3339.parse::<jiff::Timestamp>().unwrap())
}

fn catalog_rule() -> RepeatRule {
    let catalog = anquan_catalog::Catalog::load(None).unwrap();
    RepeatRule::from_catalog(&catalog).unwrap()
}

async fn open(rule: RepeatRule) -> (tempfile::TempDir, Violations) {
    let dir = tempfile::tempdir().unwrap();
    let v = Violations::open(&dir.path().join("guard.db"), rule, HOUR)
        .await
        .unwrap();
    (dir, v)
}

#[test]
fn the_catalog_says_three_in_a_row_or_five_a_day() {
    // The numbers the tests below are written for; they come from the catalog, not from here.
    assert_eq!(
        catalog_rule(),
        RepeatRule {
            consecutive: 3,
            per_day: 5
        }
    );
}

#[tokio::test]
async fn consecutive_violations_suspend_for_the_configured_duration() {
    let rule = catalog_rule();
    let (_dir, v) = open(rule).await;
    let t0 = at("2026-03-01T10:00:00Z");
    let mut now = t0;
    for _ in 1..rule.consecutive {
        assert_eq!(v.record("t", "alice", true, now).await.unwrap(), None);
        now += Duration::from_secs(1);
    }
    let until = v.record("t", "alice", true, now).await.unwrap().unwrap();
    assert_eq!(until, now + HOUR);
    assert_eq!(
        v.check("t", "alice", now + Duration::from_secs(1))
            .await
            .unwrap(),
        Some(until)
    );
    // Only that user of that tenant.
    assert_eq!(v.check("t", "bob", now).await.unwrap(), None);
    assert_eq!(v.check("other", "alice", now).await.unwrap(), None);
    // Over when the time is up.
    assert_eq!(v.check("t", "alice", until).await.unwrap(), None);
    assert_eq!(
        v.suspended(now).await.unwrap(),
        vec![("t".into(), "alice".into(), until)]
    );
    assert_eq!(v.suspended(until).await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_clean_request_resets_the_run() {
    let rule = catalog_rule();
    let (_dir, v) = open(rule).await;
    let mut now = at("2026-03-01T10:00:00Z");
    let mut tick = || {
        now += Duration::from_secs(10);
        now
    };
    for _ in 1..rule.consecutive {
        assert_eq!(v.record("t", "alice", true, tick()).await.unwrap(), None);
    }
    assert_eq!(v.record("t", "alice", false, tick()).await.unwrap(), None);
    assert_eq!(v.state("t", "alice").await.unwrap().unwrap().consecutive, 0);
    for _ in 1..rule.consecutive {
        assert_eq!(v.record("t", "alice", true, tick()).await.unwrap(), None);
    }
    let s = v.state("t", "alice").await.unwrap().unwrap();
    assert_eq!(s.consecutive, rule.consecutive - 1);
    assert_eq!(s.day_count, 2 * (rule.consecutive - 1));
    assert_eq!(s.suspended_until_ms, None);
}

#[tokio::test]
async fn violations_in_one_utc_day_suspend() {
    let rule = catalog_rule();
    let (_dir, v) = open(rule).await;
    // Clean requests between violations, so the run never reaches `consecutive`.
    let mut now = at("2026-03-01T00:00:00Z");
    for _ in 1..rule.per_day {
        assert_eq!(v.record("t", "alice", true, now).await.unwrap(), None);
        assert_eq!(v.record("t", "alice", false, now).await.unwrap(), None);
        now += HOUR;
    }
    let until = v.record("t", "alice", true, now).await.unwrap();
    assert_eq!(until, Some(now + HOUR));

    // The same count spread over a UTC midnight does not suspend.
    let mut now = at("2026-03-01T21:00:00Z");
    for _ in 1..rule.per_day {
        assert_eq!(v.record("t", "bob", true, now).await.unwrap(), None);
        assert_eq!(v.record("t", "bob", false, now).await.unwrap(), None);
    }
    now = at("2026-03-02T00:00:00Z");
    assert_eq!(v.record("t", "bob", true, now).await.unwrap(), None);
    assert_eq!(v.state("t", "bob").await.unwrap().unwrap().day_count, 1);
}

#[tokio::test]
async fn lift_ends_a_suspension() {
    let rule = catalog_rule();
    let (_dir, v) = open(rule).await;
    let now = at("2026-03-01T10:00:00Z");
    assert!(!v.lift("t", "alice").await.unwrap());
    let mut until = None;
    for _ in 0..rule.consecutive {
        until = v.record("t", "alice", true, now).await.unwrap();
    }
    assert!(until.is_some());
    assert!(v.lift("t", "alice").await.unwrap());
    assert_eq!(v.check("t", "alice", now).await.unwrap(), None);
    assert!(!v.lift("t", "alice").await.unwrap());
    // Counts start afresh: one more violation does not suspend again.
    assert_eq!(v.record("t", "alice", true, now).await.unwrap(), None);
    assert_eq!(v.state("t", "alice").await.unwrap().unwrap().suspensions, 1);
}

#[tokio::test]
async fn a_restart_does_not_forgive() {
    let rule = catalog_rule();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guard.db");
    let now = at("2026-03-01T10:00:00Z");
    let until = {
        let v = Violations::open(&path, rule, HOUR).await.unwrap();
        // Two in a row before the restart, the third after it.
        for _ in 1..rule.consecutive {
            assert_eq!(v.record("t", "alice", true, now).await.unwrap(), None);
        }
        drop(v);
        let v = Violations::open(&path, rule, HOUR).await.unwrap();
        v.record("t", "alice", true, now).await.unwrap().unwrap()
    };
    let v = Violations::open(&path, rule, HOUR).await.unwrap();
    assert_eq!(v.check("t", "alice", now).await.unwrap(), Some(until));
    assert_eq!(v.suspended(now).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_violations_are_all_counted() {
    let rule = RepeatRule {
        consecutive: 40,
        per_day: 1000,
    };
    let (_dir, v) = open(rule).await;
    let v = Arc::new(v);
    let now = at("2026-03-01T10:00:00Z");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..rule.consecutive {
        let v = Arc::clone(&v);
        set.spawn(async move { v.record("t", "alice", true, now).await.unwrap() });
    }
    let mut suspended = 0;
    while let Some(r) = set.join_next().await {
        suspended += usize::from(r.unwrap().is_some());
    }
    assert!(suspended >= 1);
    let s = v.state("t", "alice").await.unwrap().unwrap();
    assert_eq!(s.suspensions, 1, "{s:?}");
    assert_eq!(s.suspended_until_ms.map(|_| ()), Some(()));
}
