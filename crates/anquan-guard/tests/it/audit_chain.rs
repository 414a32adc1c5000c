//! The audit log's hash chain: concurrent appends, tampering found and named, pruning that keeps
//! the chain verifiable, export round trip. Tampering is done the way an attacker would: raw SQL
//! on the database file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anquan_guard::audit::{
    AuditLog, AuditRecord, ExportedRecord, GENESIS, GuardStoreError, min_retention_days,
    sha256_hex, verify_jsonl,
};
use serde_json::json;

fn record(i: usize, time: &str) -> AuditRecord {
    AuditRecord {
        time: time.to_owned(),
        tenant: format!("tenant-{}", i % 3),
        user: format!("user-{}", i % 7),
        request_id: format!("req-{i:05}"),
        action: ["pass", "block", "mask"][i % 3].to_owned(),
        verdicts: json!([{"detector": "keyword@1", "risks": ["A.1.a"], "score": 0.5, "i": i}]),
        latency_ms: 1.25 + i as f64 / 10.0,
        input_sha256: sha256_hex(format!("in {i}").as_bytes()),
        output_sha256: sha256_hex(format!("out {i}").as_bytes()),
        input_text: i
            .is_multiple_of(2)
            .then(|| format!("问题 {i}：我的手机号是[PHONE_1] \"quoted\"")),
        output_text: None,
        status: [200, 403, 502][i % 3],
        error_code: i.is_multiple_of(5).then(|| "upstream_timeout".to_owned()),
    }
}

fn days_ago(now: SystemTime, days: u64) -> String {
    let t = now - Duration::from_secs(days * 86_400);
    jiff::Timestamp::try_from(t).unwrap().to_string()
}

async fn filled(n: usize) -> (tempfile::TempDir, PathBuf, AuditLog) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guard.db");
    let log = AuditLog::open(&path).await.unwrap();
    for i in 1..=n {
        let seq = log
            .append(record(i, "2026-03-01T10:00:00.123Z"))
            .await
            .unwrap();
        assert_eq!(seq, i as u64);
    }
    (dir, path, log)
}

/// Run SQL on the file behind the guard's back.
async fn tamper(path: &Path, sql: &str) {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_appends_make_one_verifiable_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guard.db");
    let log = Arc::new(AuditLog::open(&path).await.unwrap());
    let n = 1000;
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let log = Arc::clone(&log);
        set.spawn(async move {
            log.append(record(i, &anquan_guard::audit::now_rfc3339()))
                .await
        });
    }
    let mut seqs = Vec::new();
    while let Some(r) = set.join_next().await {
        seqs.push(r.unwrap().unwrap());
    }
    let concurrent = start.elapsed();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=n as u64).collect::<Vec<_>>());

    // One at a time, each waiting for its commit: the latency a lone request sees.
    let start = Instant::now();
    let m = 200;
    for i in 0..m {
        log.append(record(i, &anquan_guard::audit::now_rfc3339()))
            .await
            .unwrap();
    }
    let sequential = start.elapsed();

    let start = Instant::now();
    let report = log.verify().await.unwrap();
    let verify = start.elapsed();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, (n + m) as u64);
    assert_eq!(report.first_bad, None);
    assert_eq!(log.len().await.unwrap(), (n + m) as u64);
    let concurrent_rate = n as f64 / concurrent.as_secs_f64();
    let sequential_rate = m as f64 / sequential.as_secs_f64();
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are part of the proof"
    )]
    {
        println!(
            "audit append: {n} concurrent in {concurrent:?} ({concurrent_rate:.0} records/s); {m} one at a time in {sequential:?} ({sequential_rate:.0} records/s); verify {} records in {verify:?}",
            n + m
        );
    }
    // Far below what is measured (see the line above), so only a broken writer trips it.
    assert!(concurrent_rate > 200.0, "{concurrent_rate:.0} records/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_and_export_run_while_the_guard_appends_and_prunes() {
    let now = SystemTime::now();
    let (_dir, _path, log) = filled(0).await;
    let log = Arc::new(log);
    for i in 0..300 {
        log.append(record(i, &days_ago(now, 400))).await.unwrap();
    }
    let writer = {
        let log = Arc::clone(&log);
        async move {
            for i in 0..300 {
                log.append(record(i, &days_ago(now, 0))).await.unwrap();
            }
        }
    };
    let pruner = {
        let log = Arc::clone(&log);
        async move { log.prune(now, 183).await.unwrap() }
    };
    let checker = {
        let log = Arc::clone(&log);
        async move {
            for _ in 0..20 {
                let report = log.verify().await.unwrap();
                assert!(report.ok, "{report:?}");
                let mut out = Vec::new();
                log.export_jsonl(&mut out).await.unwrap();
                let offline = verify_jsonl(out.as_slice()).unwrap();
                assert!(offline.ok, "{offline:?}");
            }
        }
    };
    let ((), pruned, ()) = tokio::join!(writer, pruner, checker);
    assert_eq!(pruned, 300);
    let report = log.verify().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!((report.anchor, report.records), (Some(300), 300));
}

#[tokio::test]
async fn two_logs_on_one_file_share_one_chain() {
    // As two guard processes would: two pools, two writers, one file.
    let (_dir, path, a) = filled(0).await;
    let b = AuditLog::open(&path).await.unwrap();
    let (ra, rb) = tokio::join!(
        async {
            for i in 0..100 {
                a.append(record(i, "2026-03-01T10:00:00Z")).await.unwrap();
            }
        },
        async {
            for i in 100..200 {
                b.append(record(i, "2026-03-01T10:00:00Z")).await.unwrap();
            }
        }
    );
    let ((), ()) = (ra, rb);
    let report = a.verify().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, 200);
}

#[tokio::test]
async fn an_edited_record_is_named() {
    let (_dir, path, log) = filled(10).await;
    assert!(log.verify().await.unwrap().ok);
    tamper(
        &path,
        "UPDATE guard_audit SET action = 'pass' WHERE seq = 5",
    )
    .await;
    let report = log.verify().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.records, 4);
    let (seq, why) = report.first_bad.unwrap();
    assert_eq!(seq, 5, "{why}");
    assert!(why.contains("edited"), "{why}");

    // Text fields and verdicts are covered too.
    let (_dir, path, log) = filled(10).await;
    tamper(
        &path,
        "UPDATE guard_audit SET input_text = 'nothing to see' WHERE seq = 2",
    )
    .await;
    assert_eq!(log.verify().await.unwrap().first_bad.unwrap().0, 2);
    let (_dir, path, log) = filled(10).await;
    tamper(
        &path,
        "UPDATE guard_audit SET verdicts = '[]' WHERE seq = 9",
    )
    .await;
    assert_eq!(log.verify().await.unwrap().first_bad.unwrap().0, 9);
}

#[tokio::test]
async fn an_edited_and_rehashed_record_breaks_the_next_link() {
    let (_dir, path, log) = filled(10).await;
    // The attacker replaces record 6's hash too (here with record 7's, as good as any forgery).
    tamper(
        &path,
        "UPDATE guard_audit SET action = 'pass', hash = (SELECT hash FROM guard_audit WHERE seq = 7) WHERE seq = 6",
    )
    .await;
    let (seq, _) = log.verify().await.unwrap().first_bad.unwrap();
    assert_eq!(seq, 6);
}

#[tokio::test]
async fn a_deleted_record_is_named() {
    let (_dir, path, log) = filled(10).await;
    tamper(&path, "DELETE FROM guard_audit WHERE seq = 7").await;
    let report = log.verify().await.unwrap();
    let (seq, why) = report.first_bad.unwrap();
    assert_eq!(seq, 7, "{why}");
    assert!(why.contains("missing"), "{why}");

    // The first one, and the last one (only the head knows it existed).
    let (_dir, path, log) = filled(10).await;
    tamper(&path, "DELETE FROM guard_audit WHERE seq = 1").await;
    assert_eq!(log.verify().await.unwrap().first_bad.unwrap().0, 1);
    let (_dir, path, log) = filled(10).await;
    tamper(&path, "DELETE FROM guard_audit WHERE seq >= 9").await;
    let report = log.verify().await.unwrap();
    let (seq, why) = report.first_bad.unwrap();
    assert_eq!(seq, 9, "{why}");
    assert!(why.contains("end"), "{why}");
    assert_eq!(report.records, 8);
}

#[tokio::test]
async fn swapped_records_are_named() {
    let (_dir, path, log) = filled(10).await;
    tamper(
        &path,
        "UPDATE guard_audit SET seq = -1 WHERE seq = 3;
         UPDATE guard_audit SET seq = 3 WHERE seq = 4;
         UPDATE guard_audit SET seq = 4 WHERE seq = -1;",
    )
    .await;
    let (seq, why) = log.verify().await.unwrap().first_bad.unwrap();
    assert_eq!(seq, 3, "{why}");
    assert!(why.contains("reordered"), "{why}");

    // Swapping the contents but keeping each row's seq, prev_hash and hash in place.
    let (_dir, path, log) = filled(10).await;
    tamper(
        &path,
        "CREATE TEMP TABLE t AS SELECT * FROM guard_audit WHERE seq IN (5, 6);
         UPDATE guard_audit SET request_id = (SELECT request_id FROM t WHERE seq = 6),
           verdicts = (SELECT verdicts FROM t WHERE seq = 6) WHERE seq = 5;
         UPDATE guard_audit SET request_id = (SELECT request_id FROM t WHERE seq = 5),
           verdicts = (SELECT verdicts FROM t WHERE seq = 5) WHERE seq = 6;",
    )
    .await;
    assert_eq!(log.verify().await.unwrap().first_bad.unwrap().0, 5);
}

#[tokio::test]
async fn pruning_by_the_catalog_retention_keeps_the_chain_verifiable() {
    let catalog = anquan_catalog::Catalog::load(None).unwrap();
    let days = min_retention_days(&catalog).unwrap();
    assert!(days >= 180, "{days}");
    let now = SystemTime::now();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guard.db");
    let log = AuditLog::open(&path).await.unwrap();
    // 1..=10 a year old, 11..=15 just past retention, 16 recent, 17 old again (finished late),
    // 18..=20 recent.
    let ages = [400; 10]
        .into_iter()
        .chain([u64::from(days) + 1; 5])
        .chain([3, 400, 1, 0, 0]);
    for (i, age) in ages.enumerate() {
        log.append(record(i, &days_ago(now, age))).await.unwrap();
    }
    assert_eq!(log.prune(now, days).await.unwrap(), 15);
    let report = log.verify().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.anchor, Some(15));
    assert_eq!(report.records, 5);
    // Record 17 stays: it sits after a newer record, and the chain is pruned only from its start.
    assert_eq!(log.len().await.unwrap(), 5);

    // The chain goes on after the anchor, also across a reopen.
    log.append(record(99, &days_ago(now, 0))).await.unwrap();
    log.close().await;
    let log = AuditLog::open(&path).await.unwrap();
    assert_eq!(
        log.append(record(100, &days_ago(now, 0))).await.unwrap(),
        22
    );
    let report = log.verify().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, 7);
    assert_eq!(log.prune(now, days).await.unwrap(), 0);

    // Tampering after the anchor is still found, and pruning refuses to erase it.
    tamper(
        &path,
        "UPDATE guard_audit SET user_id = 'someone else' WHERE seq = 18",
    )
    .await;
    assert_eq!(log.verify().await.unwrap().first_bad.unwrap().0, 18);
    let later = now + Duration::from_secs(400 * 86_400);
    match log.prune(later, days).await {
        Err(GuardStoreError::ChainBroken { seq, .. }) => assert_eq!(seq, 18),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(log.len().await.unwrap(), 7);
}

#[tokio::test]
async fn export_round_trips_and_verifies_offline() {
    let now = SystemTime::now();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guard.db");
    let log = AuditLog::open(&path).await.unwrap();
    let records: Vec<AuditRecord> = (1..=25)
        .map(|i| record(i, &days_ago(now, if i <= 10 { 400 } else { 0 })))
        .collect();
    for r in &records {
        log.append(r.clone()).await.unwrap();
    }
    let mut out = Vec::new();
    assert_eq!(log.export_jsonl(&mut out).await.unwrap(), 25);
    let text = String::from_utf8(out.clone()).unwrap();
    let lines: Vec<ExportedRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 25);
    for (i, (line, r)) in lines.iter().zip(&records).enumerate() {
        assert_eq!(line.seq, i as u64 + 1);
        assert_eq!(&line.record, r);
    }
    assert_eq!(lines.first().unwrap().prev_hash, GENESIS);
    let report = verify_jsonl(out.as_slice()).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, 25);

    // An export edited afterwards fails offline too.
    let edited = text.replacen("\"req-00012\"", "\"req-99999\"", 1);
    assert_ne!(edited, text);
    let report = verify_jsonl(edited.as_bytes()).unwrap();
    assert_eq!(report.first_bad.unwrap().0, 12);
    // And a line removed from it.
    let cut: String = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    assert_eq!(
        verify_jsonl(cut.as_bytes()).unwrap().first_bad.unwrap().0,
        4
    );

    // Pruned, the export starts at the anchor and still verifies.
    assert_eq!(log.prune(now, 183).await.unwrap(), 10);
    let mut out = Vec::new();
    assert_eq!(log.export_jsonl(&mut out).await.unwrap(), 15);
    let report = verify_jsonl(out.as_slice()).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.anchor, Some(10));
}

#[tokio::test]
async fn a_moved_prune_time_is_named() {
    // `time_ms` (what pruning goes by) must agree with the hashed `time`.
    let (_dir, path, log) = filled(5).await;
    tamper(&path, "UPDATE guard_audit SET time_ms = 0 WHERE seq = 4").await;
    let (seq, why) = log.verify().await.unwrap().first_bad.unwrap();
    assert_eq!(seq, 4, "{why}");
    assert!(log.prune(SystemTime::now(), 183).await.is_err());
    assert_eq!(log.len().await.unwrap(), 5);
}

#[tokio::test]
async fn invalid_records_are_refused_before_the_chain() {
    let (_dir, _path, log) = filled(1).await;
    let mut bad = record(2, "yesterday");
    assert!(matches!(
        log.append(bad.clone()).await,
        Err(GuardStoreError::InvalidRecord(_))
    ));
    bad.time = "2026-03-01T10:00:00+08:00".into();
    bad.latency_ms = f64::NAN;
    assert!(matches!(
        log.append(bad.clone()).await,
        Err(GuardStoreError::InvalidRecord(_))
    ));
    bad.latency_ms = 0.0;
    assert_eq!(log.append(bad).await.unwrap(), 2);
    log.flush().await.unwrap();
    assert!(log.verify().await.unwrap().ok);
}
