//! The runner's plan and cache. Planning needs no server; the cache test counts requests, which
//! only the FAKE upstream of anquan-testkit can observe (named as such). The real-model end-to-end
//! runs, crash and resume live in anquan-cli's tests.

use std::sync::Arc;

use anquan_catalog::Catalog;
use anquan_run::{Config, JudgeSet, NewRun, Quiet};
use anquan_store::{SqliteStore, Store};
use anquan_testkit::FakeUpstream;

fn config(base_url: &str) -> Config {
    Config::parse(&format!(
        "[targets.t]\nbase-url = \"{base_url}\"\nmodel = \"fake\"\nconcurrency = 4\nstream = false\n"
    ))
    .unwrap()
}

fn request(attacks: &[&str], sample: u64) -> NewRun {
    NewRun {
        target_id: "t".into(),
        banks: vec![
            "builtin:should_refuse".into(),
            "builtin:should_not_refuse.en".into(),
        ],
        sample: Some(sample),
        seed: 7,
        attacks: attacks.iter().map(|a| a.to_string()).collect(),
        cache: true,
    }
}

#[tokio::test]
async fn plans_are_deterministic_and_attacks_keep_provenance() {
    let catalog = Catalog::load(None).unwrap();
    let cfg = config("http://127.0.0.1:9/v1");
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("l.db")).await.unwrap();
    let req = request(
        &["direct", "zh_homophone", "base64", "multi_turn_escalation"],
        5,
    );
    let a = anquan_run::prepare(
        &store,
        &cfg,
        Some(anquan_run::new_spec(&catalog, &cfg, &req).unwrap()),
        None,
    )
    .await
    .unwrap();
    let b = anquan_run::prepare(
        &store,
        &cfg,
        Some(anquan_run::new_spec(&catalog, &cfg, &req).unwrap()),
        None,
    )
    .await
    .unwrap();
    let keys =
        |p: &anquan_run::Prepared| p.pending.iter().map(|t| t.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&a), keys(&b));
    // 10 items; direct, base64 and the escalation apply to each, the homophone attack only to the
    // Chinese items (and only where it changes something).
    assert!(a.planned >= 30, "{}", a.planned);
    for t in &a.pending {
        if t.attack != "direct@1" {
            assert!(t.key.starts_with(&format!("{}~", t.item.id)), "{}", t.key);
        } else {
            assert_eq!(t.key, t.item.id);
        }
        assert_eq!(t.messages.last().unwrap().role, "user");
    }
    assert!(
        a.pending
            .iter()
            .any(|t| t.attack == "multi_turn_escalation@1" && !t.follow_ups.is_empty())
    );
    assert_eq!(
        a.budget.requests,
        a.pending
            .iter()
            .map(|t| 1 + t.follow_ups.len() as u64)
            .sum::<u64>()
    );
    // Caps are checked against the budget before anything is sent.
    let e = a
        .check_caps(anquan_run::Caps {
            max_requests: Some(3),
            max_tokens: None,
        })
        .unwrap_err();
    assert!(e.to_string().contains("--max-requests 3"), "{e}");
    // An unknown attack is named with the list of known ones.
    let Err(e) = anquan_run::new_spec(&catalog, &cfg, &request(&["nope"], 1)) else {
        panic!("an unknown attack must be refused");
    };
    assert!(
        e.to_string().contains("nope") && e.to_string().contains("base64"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_response_cache_replays_identical_requests() {
    // FAKE upstream: used because only it can count the requests it receives.
    let fake = FakeUpstream::start().unwrap();
    let catalog = Catalog::load(None).unwrap();
    let cfg = config(&fake.base_url());
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("l.db")).await.unwrap();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let spec = anquan_run::new_spec(&catalog, &cfg, &request(&["direct"], 4)).unwrap();
        let p = anquan_run::prepare(&store, &cfg, Some(spec), None)
            .await
            .unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let out = anquan_run::execute(
            store.clone(),
            &cfg,
            p,
            JudgeSet::builtin(&catalog),
            Arc::new(Quiet),
            rx,
        )
        .await
        .unwrap();
        assert_eq!(out.status, "complete");
        assert_eq!(out.answered, 8);
        let mut t: Vec<_> = store
            .trials(&out.run_id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.key, t.response, t.outcome))
            .collect();
        t.sort();
        answers.push(t);
    }
    assert_eq!(answers[0], answers[1]);
    // 8 answered requests on the first run; the second replayed them all from the cache.
    assert_eq!(fake.requests(), 8);
}
