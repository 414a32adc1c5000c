//! Run one hot path of the detection engine over the benchmark corpus, for instruction-count
//! profiling under `valgrind --tool=callgrind`, which stays repeatable on a loaded machine where
//! wall-clock benchmarks do not.
//!
//! ```sh
//! CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
//!     cargo build --release -p anquan-bench --example profile_pipeline
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='profile_pipeline::measured*' \
//!     target/release/examples/profile_pipeline pipeline 10000 3 1048576
//! callgrind_annotate callgrind.out.<pid>
//! ```
//!
//! Arguments: `WHAT [KEYWORDS] [ITERATIONS] [BYTES]`, where `WHAT` is
//! - `normalize`: the full normalizer;
//! - `build`: building the full normalizer (its tables);
//! - `match`: keyword matching alone, on text normalized beforehand (outside the measured part);
//! - `raw`: raw daachorse leftmost-longest on the pre-normalized text (the baseline);
//! - `pii`: the engine with PII detection only;
//! - `keywords`: the engine without PII (normalize + keyword match);
//! - `pipeline`: the engine (normalize + keyword match + PII), as `scan` runs it;
//! - `pipeline_into`: the same through `scan_into`, the findings' buffer reused between
//!   iterations;
//! - `fingerprint`: no timing; prints a hash of the engine's outputs (normalized text, the span
//!   map, findings) on the corpus and on generated hostile text, so two builds can be compared
//!   for identical behaviour.
//!
//! Only `measured` is collected with the command above, so the setup (catalog, corpus, automaton
//! build) does not count. Divide the instruction count by `ITERATIONS × BYTES` for
//! instructions per byte.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};

use anquan_catalog::Catalog;
use anquan_detect::Engine;
use anquan_detect::keywords::{KeywordMatcher, Library};
use anquan_detect::normalize::{Normalized, Normalizer, Stage};
use daachorse::{CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};

/// The work under measurement: one call per iteration, its result folded so nothing is elided.
/// Also notes the fastest iteration's wall time (see [`FASTEST`]).
#[inline(never)]
fn measured(iterations: usize, mut step: impl FnMut() -> usize) -> usize {
    let mut total = 0;
    let mut fastest = std::time::Duration::MAX;
    for _ in 0..iterations {
        let start = std::time::Instant::now();
        total += std::hint::black_box(step());
        fastest = fastest.min(start.elapsed());
    }
    FASTEST.set(fastest).ok();
    total
}

/// The fastest iteration of [`measured`]: printed with the result, a quick wall-clock figure
/// between two builds (the divan benches are the reported ones).
static FASTEST: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

#[expect(clippy::print_stdout, reason = "a profiling tool prints its result")]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("pipeline", String::as_str);
    let arg = |i: usize, default: usize| {
        args.get(i)
            .and_then(|a| a.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let (keywords, iterations, bytes) = (arg(1, 10_000), arg(2, 1), arg(3, 1 << 20));
    let catalog = Catalog::load(None).expect("embedded catalog");
    if what == "fingerprint" {
        fingerprint(&catalog);
        return;
    }
    let corpus = anquan_bench::corpus_zh(bytes);
    let text = corpus.as_str();
    let normalizer = Normalizer::full(catalog.radical_folder());
    let result = match what {
        "normalize" => measured(iterations, || normalizer.normalize(text).text.len()),
        "build" => measured(iterations, || {
            Normalizer::full(catalog.radical_folder()).describe().len()
        }),
        "match" => {
            let matcher = KeywordMatcher::new(anquan_bench::library(keywords), &[], &normalizer);
            let norm = normalizer.normalize(text);
            measured(iterations, || matcher.find(text, &norm).len())
        }
        "raw" => {
            let pats = anquan_bench::normalized_patterns(keywords, &normalizer);
            let ac: daachorse::CharwiseDoubleArrayAhoCorasick<u32> =
                CharwiseDoubleArrayAhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&pats)
                    .expect("automaton");
            let norm = normalizer.normalize_str(text);
            measured(iterations, || ac.leftmost_find_iter(&norm).count())
        }
        "pii" => {
            let engine = Engine::new(&catalog, None, &[], true);
            measured(iterations, || engine.scan(text).len())
        }
        "keywords" => {
            let engine = Engine::new(&catalog, Some(anquan_bench::library(keywords)), &[], false);
            measured(iterations, || engine.scan(text).len())
        }
        "pipeline" => {
            let engine = Engine::new(&catalog, Some(anquan_bench::library(keywords)), &[], true);
            measured(iterations, || engine.scan(text).len())
        }
        "pipeline_into" => {
            let engine = Engine::new(&catalog, Some(anquan_bench::library(keywords)), &[], true);
            let mut found = Vec::new();
            measured(iterations, || {
                engine.scan_into(text, &mut found);
                found.len()
            })
        }
        other => {
            println!(
                "unknown mode `{other}`: normalize, build, match, raw, pii, keywords, pipeline, pipeline_into, fingerprint"
            );
            return;
        }
    };
    let fastest = FASTEST.get().copied().unwrap_or_default();
    println!(
        "{what} keywords={keywords} iterations={iterations} bytes={bytes} result={result} \
         fastest={:.2}ms ({:.0} MB/s)",
        fastest.as_secs_f64() * 1e3,
        bytes as f64 / fastest.as_secs_f64().max(1e-9) / 1e6,
    );
}

/// Hostile text from a fixed seed: every kind of character the normalizer handles, mixed.
fn hostile(seed: u64, chars: usize) -> String {
    const PIECES: &[&str] = &[
        "赌",
        "博",
        "賭",
        "毒",
        "品",
        "冰",
        "k",
        "粉",
        "弓",
        "长",
        "三",
        "口",
        "天",
        "⼈",
        "⼯",
        "⻛",
        "险",
        "Ｆ",
        "ｕ",
        "Ｃ",
        "ｋ",
        "f",
        "u",
        "c",
        "K",
        "a",
        "а",
        "е",
        "о",
        "р",
        "Ａ",
        "１",
        "３",
        "８",
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "X",
        "@",
        ".",
        ":",
        "-",
        "*",
        " ",
        "  ",
        "\u{200b}",
        "\u{feff}",
        "\u{00ad}",
        "\u{202e}",
        "\u{0007}",
        "\t",
        "\n",
        "Ⓐ",
        "ⓑ",
        "①",
        "ﬁ",
        "ß",
        "İ",
        "Σ",
        "ς",
        "é",
        "e\u{301}",
        "\u{301}",
        "한",
        "ㄱ",
        "㍿",
        "，",
        "。",
        "！",
        "？",
        "（",
        "）",
        "《",
        "》",
        "…",
        "—",
        "·",
        "😀",
        "👍🏻",
        "京",
        "A",
        "B",
        "Z",
        "發",
        "財",
        "臺",
        "灣",
        "乾",
        "後",
        "麵",
        "著",
        "説",
        "话",
        "ü",
        "Ü",
        "dubo",
        "DuBo",
        "读",
        "杜",
        "bingdu",
        "nvesha",
        "虐",
        "杀",
        "𠀀",
        "㐀",
        "豈",
        "ｶ",
        "ﾞ",
        "½",
        "²",
        "™",
        "\r",
        "\u{3000}",
        "、",
        "；",
        "“",
        "”",
        "fuck",
        "porn",
        "f.u.c.k",
        "138",
        "1381234",
        "5678",
        "(010)",
        "11010519491231002X",
        "a@b.com",
        "::1",
        "192.168.",
        "6222",
        "4111111111111111",
        "E12345678",
        "91350100M000100Y43",
        "隆",
        "淨",
        "看",
        "計",
        "企",
        "口",
        "憑",
        "慰",
        "狼",
        "兒",
        "寬",
        "覆",
        "答",
        "樊",
        "於",
        "闔",
        "家",
        "……",
        "…",
        "木",
        "子",
        "耳",
        "东",
        "月",
        "旦",
        "古",
        "亻",
        "尔",
        "氵",
        "去",
        "\u{2e8b}",
        "\u{2f08}",
        "ａ",
        "．",
        "，",
        "、",
        "＊",
        "\u{3000}",
        "ﬀ",
        "㈱",
        "⑴",
        "\u{1f600}",
        "x",
        "Q",
    ];
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = String::new();
    for _ in 0..chars {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(PIECES[(state % PIECES.len() as u64) as usize]);
    }
    out
}

/// Hash of the normalized text and of every span the map answers for: each normalized
/// character, and pairs of offsets (char boundaries or not).
fn hash_normalized(h: &mut DefaultHasher, norm: &Normalized) {
    norm.text.hash(h);
    let bounds: Vec<usize> = norm
        .text
        .char_indices()
        .map(|(i, _)| i)
        .chain([norm.text.len()])
        .collect();
    for w in bounds.windows(2) {
        norm.original_span(w[0], w[1]).hash(h);
    }
    let n = norm.text.len();
    for s in (0..=n.min(64)).chain((n.saturating_sub(16))..=n) {
        for e in [s, s + 1, s + 2, s + 3, s + 6, n, n + 1] {
            norm.original_span(s, e).hash(h);
            norm.char_before(s).hash(h);
            norm.char_at(e).hash(h);
        }
    }
}

/// A library with every match mode, from the starter library's terms.
fn mixed_library() -> Library {
    let (mut lib, _) = Library::parse(anquan_detect::keywords::STARTER_LIBRARY);
    for (i, k) in lib.keywords.iter_mut().enumerate() {
        if i % 7 == 0 {
            k.mode = anquan_detect::keywords::MatchMode::Pinyin;
        } else if i % 11 == 0 {
            k.mode = anquan_detect::keywords::MatchMode::Exact;
        }
    }
    for (term, mode) in [
        ("赌博", anquan_detect::keywords::MatchMode::Pinyin),
        ("虐杀", anquan_detect::keywords::MatchMode::Pinyin),
        ("k粉", anquan_detect::keywords::MatchMode::Normalized),
        ("fuck", anquan_detect::keywords::MatchMode::Normalized),
        ("ball gag", anquan_detect::keywords::MatchMode::Normalized),
        ("賭博", anquan_detect::keywords::MatchMode::Exact),
    ] {
        let mut k = lib.keywords[0].clone();
        k.term = term.to_owned();
        k.mode = mode;
        lib.keywords.push(k);
    }
    lib
}

#[expect(clippy::print_stdout, reason = "a profiling tool prints its result")]
fn fingerprint(catalog: &Catalog) {
    let corpus = anquan_bench::corpus_zh(1 << 20);
    let texts: Vec<String> = (0..3000)
        .map(|i| hostile(i, 1 + (i as usize * 7) % 300))
        .chain(corpus.lines().take(3000).map(str::to_owned))
        .chain([String::new(), "\u{200b}".to_owned(), "弓".to_owned()])
        .collect();
    // Normalizers: every stage alone, the light one, the full one.
    let mut configs: Vec<Vec<Stage>> = Stage::ALL.iter().map(|s| vec![*s]).collect();
    configs.push(vec![Stage::Nfkc, Stage::StripInvisible]);
    configs.push(Stage::ALL.to_vec());
    configs.push(Stage::ALL.iter().rev().copied().collect());
    for stages in &configs {
        let n = Normalizer::new(stages, catalog.radical_folder());
        let mut h = DefaultHasher::new();
        for t in &texts {
            hash_normalized(&mut h, &n.normalize(t));
            n.normalize_str(t).hash(&mut h);
        }
        println!("normalize {:?}: {:016x}", n.describe(), h.finish());
    }
    let whole = Normalizer::full(catalog.radical_folder()).normalize(&corpus);
    let mut h = DefaultHasher::new();
    hash_normalized(&mut h, &whole);
    println!("normalize corpus: {:016x}", h.finish());
    let allow = anquan_detect::keywords::starter_allow_list();
    let engines = [
        (
            "starter",
            Library::parse(anquan_detect::keywords::STARTER_LIBRARY).0,
        ),
        ("mixed", mixed_library()),
        ("bench1k", anquan_bench::library(1_000)),
        ("bench100k", anquan_bench::library(100_000)),
    ];
    // The findings (and, with `mask`, the masked text) of `engine` on every text, hashed.
    let scans = |engine: &Engine, mask: bool| {
        let mut h = DefaultHasher::new();
        let mut count = 0;
        for t in texts.iter().chain([&corpus]) {
            for d in engine.scan(t) {
                format!("{d:?}").hash(&mut h);
                count += 1;
            }
            if mask {
                engine.mask(t).hash(&mut h);
            }
        }
        (count, h.finish())
    };
    for (name, lib) in engines {
        for pii in [false, true] {
            let engine = Engine::new(catalog, Some(lib.clone()), &allow, pii);
            let (count, hash) = scans(&engine, true);
            println!("scan {name} pii={pii}: {count} findings {hash:016x}");
        }
    }
    let (count, hash) = scans(&Engine::new(catalog, None, &[], true), false);
    println!("scan pii only: {count} findings {hash:016x}");
}
