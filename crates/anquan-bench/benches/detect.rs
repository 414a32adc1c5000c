//! Throughput of the detection engine on Chinese text, with the raw matchers as baselines.
//!
//! `cargo bench -p anquan-bench` (reads `../shared/datasets`). Each group reports bytes/s:
//! - `raw_daachorse` / `raw_aho_corasick`: leftmost-longest matching on pre-normalized text;
//! - `matcher`: anquan's keyword matcher alone on the same pre-normalized text;
//! - `pipeline`: the full engine (normalize + keyword match + PII) on the original text;
//! - `pipeline_into`: the same with the findings' buffer reused (`Engine::scan_into`);
//! - `normalize`, `pii`, `refusal`: single stages.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind as AcKind};
use anquan_catalog::Catalog;
use anquan_detect::Engine;
use anquan_detect::keywords::KeywordMatcher;
use anquan_detect::normalize::Normalizer;
use anquan_detect::refusal::RefusalDetector;
use daachorse::{CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};
use divan::counter::BytesCount;

const SIZES: &[usize] = &[1_000, 10_000, 100_000];
const CORPUS_BYTES: usize = 4 << 20;

static CATALOG: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(None).expect("embedded catalog"));
static CORPUS: LazyLock<String> = LazyLock::new(|| anquan_bench::corpus_zh(CORPUS_BYTES));
static NORMALIZED: LazyLock<String> =
    LazyLock::new(|| Normalizer::full(CATALOG.radical_folder()).normalize_str(&CORPUS));

fn main() {
    divan::main();
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn raw_daachorse(bencher: divan::Bencher, n: usize) {
    let normalizer = Normalizer::full(CATALOG.radical_folder());
    let pats = anquan_bench::normalized_patterns(n, &normalizer);
    let ac: daachorse::CharwiseDoubleArrayAhoCorasick<u32> =
        CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&pats)
            .unwrap();
    let text = &*NORMALIZED;
    let expected = ac.leftmost_find_iter(text).count();
    assert!(expected > 0);
    bencher.counter(BytesCount::of_str(text)).bench(|| {
        let c = ac.leftmost_find_iter(divan::black_box(text)).count();
        assert_eq!(c, expected);
    });
}

/// anquan's keyword matcher alone (`KeywordMatcher::find`: the pair trie of `leftmost.rs`, word
/// edges, allow list and spans mapped back) on the text normalized beforehand. `find` also builds
/// a `KeywordMatch` with three owned strings per match, which the pipeline does not: at 100k
/// keywords (60,000 matches) that makes it slower than the whole pipeline.
#[divan::bench(args = SIZES, sample_count = 10)]
fn matcher(bencher: divan::Bencher, n: usize) {
    let normalizer = Normalizer::full(CATALOG.radical_folder());
    let matcher = KeywordMatcher::new(anquan_bench::library(n), &[], &normalizer);
    let norm = normalizer.normalize(&CORPUS);
    let text = &*CORPUS;
    let expected = matcher.find(text, &norm).len();
    assert!(expected > 0);
    bencher.counter(BytesCount::of_str(text)).bench(|| {
        let c = matcher.find(divan::black_box(text), &norm).len();
        assert_eq!(c, expected);
    });
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn raw_aho_corasick(bencher: divan::Bencher, n: usize) {
    let normalizer = Normalizer::full(CATALOG.radical_folder());
    let pats = anquan_bench::normalized_patterns(n, &normalizer);
    let ac = AhoCorasick::builder()
        .match_kind(AcKind::LeftmostLongest)
        .build(&pats)
        .unwrap();
    let text = &*NORMALIZED;
    let expected = ac.find_iter(text).count();
    assert!(expected > 0);
    bencher.counter(BytesCount::of_str(text)).bench(|| {
        let c = ac.find_iter(divan::black_box(text)).count();
        assert_eq!(c, expected);
    });
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn pipeline(bencher: divan::Bencher, n: usize) {
    let engine = Engine::new(&CATALOG, Some(anquan_bench::library(n)), &[], true);
    let text = &*CORPUS;
    let expected = engine.scan(text).len();
    assert!(expected > 0);
    bencher.counter(BytesCount::of_str(text)).bench(|| {
        let c = engine.scan(divan::black_box(text)).len();
        assert_eq!(c, expected);
    });
}

/// `pipeline` through `Engine::scan_into`, the findings' buffer reused between iterations, as
/// a caller scanning text after text would: no fresh memory for the findings (on a 52 MB text
/// at 100k keywords, the fresh buffer's first writes cost about a fifth of the scan).
#[divan::bench(args = SIZES, sample_count = 10)]
fn pipeline_into(bencher: divan::Bencher, n: usize) {
    let engine = Engine::new(&CATALOG, Some(anquan_bench::library(n)), &[], true);
    let text = &*CORPUS;
    let mut found = Vec::new();
    engine.scan_into(text, &mut found);
    let expected = found.len();
    assert!(expected > 0);
    bencher.counter(BytesCount::of_str(text)).bench_local(|| {
        engine.scan_into(divan::black_box(text), &mut found);
        assert_eq!(found.len(), expected);
    });
}

#[divan::bench(sample_count = 10)]
fn normalize(bencher: divan::Bencher) {
    let normalizer = Normalizer::full(CATALOG.radical_folder());
    let text = &*CORPUS;
    bencher
        .counter(BytesCount::of_str(text))
        .bench(|| normalizer.normalize(divan::black_box(text)).text.len());
}

#[divan::bench(sample_count = 10)]
fn pii(bencher: divan::Bencher) {
    let engine = Engine::new(&CATALOG, None, &[], true);
    let text = &*CORPUS;
    bencher
        .counter(BytesCount::of_str(text))
        .bench(|| engine.scan(divan::black_box(text)).len());
}

#[divan::bench(sample_count = 10)]
fn refusal(bencher: divan::Bencher) {
    let d = RefusalDetector::builtin();
    let answers: Vec<&str> = CORPUS.lines().take(20_000).collect();
    let bytes: usize = answers.iter().map(|a| a.len()).sum();
    bencher.counter(BytesCount::new(bytes)).bench(|| {
        answers
            .iter()
            .filter(|a| {
                d.classify(divan::black_box(a)).label
                    == anquan_detect::refusal::RefusalLabel::Refused
            })
            .count()
    });
}

const STAGES: &[&str] = &[
    "nfkc",
    "radicals",
    "case_fold",
    "t2s",
    "confusables",
    "strip_invisible",
    "strip_separators",
    "recompose",
];

/// Each normalization stage alone, to see where the time goes.
#[divan::bench(args = STAGES, sample_count = 5)]
fn normalize_stage(bencher: divan::Bencher, stage: &str) {
    let stage = anquan_detect::normalize::Stage::from_id(stage).expect("stage id");
    let normalizer = Normalizer::new(&[stage], CATALOG.radical_folder());
    let text = &*CORPUS;
    bencher
        .counter(BytesCount::of_str(text))
        .bench(|| normalizer.normalize(divan::black_box(text)).text.len());
}
