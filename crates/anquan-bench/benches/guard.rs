//! The guard's cost per streamed chunk and per whole request, with keyword libraries of 1k, 10k
//! and 100k terms (goal: at most 50 µs per chunk with 100k keywords).
//!
//! `cargo bench -p anquan-bench --bench guard` (reads `../shared/datasets`).
//! - `stream_chunk`: an answer of Chinese social-media text fed to the sliding-window inspector in
//!   pieces of two characters (about one token each); divan's time per iteration divided by the
//!   item count is the cost of one chunk. Actions are `annotate`, so the whole text is inspected
//!   and must come out unchanged (asserted).
//! - `whole_request`: the input check of a 316-character prompt plus the whole check of a
//!   600-character answer (the non-streamed path).

use std::sync::{Arc, LazyLock};

use anquan_catalog::Catalog;
use anquan_detect::Engine;
use anquan_detect::keywords::Severity;
use anquan_guard::config::Action;
use anquan_guard::stream::{HoldBack, InspectorSettings, Step, StreamInspector, check_whole};
use divan::counter::ItemsCount;

const SIZES: &[usize] = &[1_000, 10_000, 100_000];

static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(None).expect("embedded catalog"));
/// 3,000 characters of the corpus with a mobile number every 300 characters, so every library
/// size has findings to act on.
static TEXT: LazyLock<String> = LazyLock::new(|| {
    let chars: Vec<char> = anquan_bench::corpus_zh(64 << 10)
        .chars()
        .take(3000)
        .collect();
    chars
        .chunks(300)
        .map(|c| format!("{}，电话13812345678。", c.iter().collect::<String>()))
        .collect()
});

fn main() {
    divan::main();
}

fn engine(n: usize) -> Arc<Engine> {
    Arc::new(Engine::new(
        &CATALOG,
        Some(anquan_bench::library(n)),
        &[],
        true,
    ))
}

const SETTINGS: InspectorSettings = InspectorSettings {
    min_severity: Severity::Low,
    keywords: Action::Annotate,
    pii: Action::Annotate,
};

fn chunks(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(2).map(|c| c.iter().collect()).collect()
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn stream_chunk(bencher: divan::Bencher, n: usize) {
    let engine = engine(n);
    let hold = Arc::new(HoldBack::new(&engine, None));
    let pieces = chunks(&TEXT);
    let run = || {
        let mut insp = StreamInspector::new(Arc::clone(&engine), Arc::clone(&hold), SETTINGS);
        let mut out = String::with_capacity(TEXT.len());
        for p in &pieces {
            match insp.push(p) {
                Step::Emit(s) => out.push_str(&s),
                Step::Stop(_) => panic!("annotate never stops"),
            }
        }
        if let Step::Emit(s) = insp.finish() {
            out.push_str(&s);
        }
        (out, insp.findings().len())
    };
    let (out, found) = run();
    assert_eq!(out, *TEXT, "the inspected text comes out unchanged");
    assert!(found > 0, "the corpus has findings at every library size");
    bencher
        .counter(ItemsCount::new(pieces.len()))
        .bench(|| divan::black_box(run()));
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn whole_request(bencher: divan::Bencher, n: usize) {
    let engine = engine(n);
    let hold = Arc::new(HoldBack::new(&engine, None));
    let prompt: String = TEXT.chars().take(316).collect();
    let answer: String = TEXT.chars().skip(316).take(600).collect();
    let run = || {
        let input = engine.scan(&prompt).len();
        let output = check_whole(Arc::clone(&engine), Arc::clone(&hold), SETTINGS, &answer)
            .map(|(s, f)| (s.len(), f.len()))
            .unwrap_or_default();
        (input, output)
    };
    let (input, (len, _)) = run();
    assert!(input > 0 && len == answer.len());
    bencher.bench(|| divan::black_box(run()));
}
