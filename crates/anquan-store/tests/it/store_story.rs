//! The storage story: the same sequence a run goes through, against a real SQLite file.
//! (PostgreSQL joins this test when its backend is built.)

use anquan_store::{RunRecord, SqliteStore, Store, TrialRecord};
use serde_json::json;

fn trial(run: &str, key: &str, seq: i64, status: &str) -> TrialRecord {
    TrialRecord {
        run_id: run.into(),
        key: key.into(),
        id: format!("id-{key}-{status}"),
        seq,
        item_id: key.into(),
        bank: "should_refuse".into(),
        lang: "zh".into(),
        risk_ids: vec!["A.1.a".into()],
        attack: "direct@1".into(),
        request: json!([{"role": "user", "content": "问"}]),
        response: (status == "ok").then(|| "答".to_owned()),
        status: status.into(),
        error: (status == "error").then(|| "cannot connect".to_owned()),
        outcome: (status == "ok").then(|| "pass".to_owned()),
        verdicts: json!([]),
        first_token_ms: Some(1.5),
        total_ms: Some(3.0),
        prompt_tokens: Some(3),
        completion_tokens: Some(1),
        tokens_estimated: false,
        attempts: 1,
        created: "2026-11-25T00:00:00Z".into(),
    }
}

#[tokio::test]
async fn run_ledger_is_exactly_once_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("anquan.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let run = RunRecord {
        id: "r1".into(),
        created: "2026-11-25T00:00:00Z".into(),
        finished: None,
        status: "running".into(),
        target_id: "local".into(),
        tool_version: "0.1.0".into(),
        spec: json!({"seed": 7}),
    };
    store.create_run(&run).await.unwrap();
    assert_eq!(store.run("r1").await.unwrap().unwrap(), run);
    assert!(store.create_run(&run).await.is_err(), "duplicate run id");

    // First commit: two ok, one error.
    let n = store
        .commit_trials(&[
            trial("r1", "a", 0, "ok"),
            trial("r1", "b", 1, "ok"),
            trial("r1", "c", 2, "error"),
        ])
        .await
        .unwrap();
    assert_eq!(n, 3);
    // Committing the same ok trial again changes nothing; an error never replaces an ok.
    let n = store
        .commit_trials(&[trial("r1", "a", 0, "ok"), trial("r1", "b", 1, "error")])
        .await
        .unwrap();
    assert_eq!(n, 0);
    // A success replaces the earlier error of the same key.
    let n = store
        .commit_trials(&[trial("r1", "c", 2, "ok")])
        .await
        .unwrap();
    assert_eq!(n, 1);
    drop(store);

    let store = SqliteStore::open(&path).await.unwrap();
    let keys = store.done_keys("r1").await.unwrap();
    assert_eq!(keys.len(), 3);
    let trials = store.trials("r1").await.unwrap();
    assert_eq!(
        trials.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert!(trials.iter().all(|t| t.status == "ok"));
    assert_eq!(trials[0], trial("r1", "a", 0, "ok"));

    store
        .set_run_status("r1", "complete", Some("2026-11-25T01:00:00Z"))
        .await
        .unwrap();
    let runs = store.runs().await.unwrap();
    assert_eq!(runs[0].status, "complete");

    assert_eq!(store.cache_get("k").await.unwrap(), None);
    store.cache_put("k", "{\"content\":\"x\"}").await.unwrap();
    store.cache_put("k", "other").await.unwrap();
    assert_eq!(
        store.cache_get("k").await.unwrap().as_deref(),
        Some("{\"content\":\"x\"}")
    );
}

#[tokio::test]
async fn unwritable_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let e = SqliteStore::open(&file.join("db.sqlite"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("a-file"), "{e}");
}
