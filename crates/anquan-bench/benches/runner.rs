//! Runner overhead: trials per second through the whole runner (plan, client, judges, SQLite
//! ledger with a commit per batch) against the FAKE upstream of anquan-testkit on loopback, a
//! stand-in that answers at once so the figure measures anquan, not a model.
//!
//! `cargo bench -p anquan-bench --bench runner`. Each iteration runs 1,000 trials (the
//! generated-content bank's first 1,000 of the stratified sample) into a fresh ledger; divan's
//! item counter turns the time into trials/s. The goal is ≥ 2,000 trials/s on 2 cores.

use std::sync::{Arc, LazyLock};

use anquan_catalog::Catalog;
use anquan_run::{Config, JudgeSet, NewRun, Quiet};
use anquan_store::{SqliteStore, Store};
use anquan_testkit::FakeUpstream;
use divan::counter::ItemsCount;

const TRIALS: u64 = 1_000;

static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(None).expect("embedded catalog"));
static FAKE: LazyLock<FakeUpstream> =
    LazyLock::new(|| FakeUpstream::start().expect("fake upstream"));

fn main() {
    divan::main();
}

#[divan::bench(args = [4, 16, 64], sample_count = 5, sample_size = 1)]
fn trials_through_the_runner(bencher: divan::Bencher, concurrency: usize) {
    let cfg = Config::parse(&format!(
        "[targets.fake]\nbase-url = \"{}\"\nmodel = \"fake\"\nconcurrency = {concurrency}\nmax-tokens = 64\n",
        FAKE.base_url()
    ))
    .expect("config");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let judges = || JudgeSet::builtin(&CATALOG);
    bencher
        .counter(ItemsCount::new(TRIALS))
        .with_inputs(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = rt
                .block_on(SqliteStore::open(&dir.path().join("ledger.db")))
                .expect("store");
            let req = NewRun {
                target_id: "fake".into(),
                banks: vec!["builtin:generated_content".into()],
                sample: Some(TRIALS),
                seed: 7,
                attacks: vec!["direct".into()],
                cache: false,
            };
            let spec = anquan_run::new_spec(&CATALOG, &cfg, &req).expect("spec");
            let prepared = rt
                .block_on(anquan_run::prepare(&store, &cfg, Some(spec), None))
                .expect("plan");
            (dir, store, prepared, judges())
        })
        .bench_local_values(|(dir, store, prepared, judges)| {
            let (_tx, rx) = tokio::sync::watch::channel(false);
            let out = rt
                .block_on(anquan_run::execute(
                    store.clone(),
                    &cfg,
                    prepared,
                    judges,
                    Arc::new(Quiet),
                    rx,
                ))
                .expect("run");
            // A broken path must not look fast: every trial answered and committed.
            assert_eq!(out.answered, TRIALS, "{out:?}");
            let committed = rt.block_on(store.done_keys(&out.run_id)).expect("keys");
            assert_eq!(committed.len() as u64, TRIALS);
            drop(dir);
        });
}
