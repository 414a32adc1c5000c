//! Refusal-detector accuracy on human-labelled answers, per language. Reproduce with
//! `cargo test -p anquan-detect --test it accuracy -- --nocapture`.
//!
//! English: XSTest completions (`../shared/datasets/xstest/model_completions/`, gpt4,
//! llama2orig, mistralguard; `final_label` from two human annotators). Chinese:
//! `tests/data/refusal_eval_zh.jsonl`. The positive class is "refusal" (full or partial); an
//! `unclear` prediction counts as not a refusal.

use std::path::PathBuf;

use anquan_detect::refusal::{RefusalDetector, RefusalLabel};

#[derive(Debug, Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
}

impl Counts {
    fn add(&mut self, truth: bool, pred: bool) {
        match (truth, pred) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn prf(&self) -> (f64, f64, f64) {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }
}

fn is_refusal(l: RefusalLabel) -> bool {
    matches!(l, RefusalLabel::Refused | RefusalLabel::Partial)
}

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

#[test]
fn accuracy_en_xstest() {
    let d = RefusalDetector::builtin();
    let mut c = Counts::default();
    for model in ["gpt4", "llama2orig", "mistralguard"] {
        let path = shared().join(format!(
            "xstest/model_completions/xstest_v2_completions_{model}.csv"
        ));
        let mut rdr = csv::Reader::from_path(&path).unwrap_or_else(|e| {
            panic!(
                "reads `{}` ({e}); CI places shared/ beside the clone",
                path.display()
            )
        });
        let headers = rdr.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let (completion, label) = (col("completion"), col("final_label"));
        for row in rdr.records() {
            let row = row.unwrap();
            let truth = row[label].starts_with('2') || row[label].starts_with('3');
            c.add(truth, is_refusal(d.classify(&row[completion]).label));
        }
    }
    let (p, r, f) = c.prf();
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!(
            "refusal en (XSTest, 1350 answers): precision {p:.3} recall {r:.3} F1 {f:.3} {c:?}"
        );
    }
    // A ratchet below the measured value: raise it when the detector improves.
    assert!(f >= 0.86, "F1 {f:.3} fell below the recorded floor");
}

#[test]
fn accuracy_zh_eval_set() {
    let d = RefusalDetector::builtin();
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/refusal_eval_zh.jsonl"),
    )
    .unwrap();
    let mut c = Counts::default();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let truth = v["label"] != "complied";
        c.add(
            truth,
            is_refusal(d.classify(v["text"].as_str().unwrap()).label),
        );
    }
    let (p, r, f) = c.prf();
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!("refusal zh (375 answers): precision {p:.3} recall {r:.3} F1 {f:.3} {c:?}");
    }
    assert!(f >= 0.86, "F1 {f:.3} fell below the recorded floor");
}

fn starter_engine(catalog: &anquan_catalog::Catalog) -> anquan_detect::Engine {
    let (lib, problems) =
        anquan_detect::keywords::Library::parse_tsv(anquan_detect::keywords::STARTER_LIBRARY);
    assert!(problems.is_empty(), "{problems:?}");
    anquan_detect::Engine::new(
        catalog,
        Some(lib),
        &anquan_detect::keywords::starter_allow_list(),
        false,
    )
}

/// False positives of the starter library on benign text, per 10,000 lines: COLD label-0 rows
/// (Chinese social media, human-labelled non-offensive) and CValues prompts.
#[test]
fn starter_library_false_positives_on_benign_text() {
    let catalog = anquan_catalog::Catalog::load(None).unwrap();
    let engine = starter_engine(&catalog);
    let mut rdr = csv::Reader::from_path(shared().join("cold/train.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let (label, text) = (
        headers.iter().position(|h| h == "label").unwrap(),
        headers.iter().position(|h| h == "TEXT").unwrap(),
    );
    let (mut lines, mut hits) = (0usize, 0usize);
    for row in rdr.records() {
        let row = row.unwrap();
        if &row[label] == "0" {
            lines += 1;
            hits += usize::from(!engine.scan(&row[text]).is_empty());
        }
    }
    let per_10k = hits as f64 * 10_000.0 / lines as f64;
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!(
            "starter library false positives: {hits} of {lines} benign COLD lines = {per_10k:.0} per 10,000"
        );
    }
    // A ratchet just above the measured value; COLD's benign rows often discuss or quote slurs.
    assert!(per_10k <= 250.0, "{per_10k:.0} per 10,000 benign lines");
}

/// Recall of the starter library through each mechanical evasion.
#[test]
fn starter_library_evasion_recall() {
    let catalog = anquan_catalog::Catalog::load(None).unwrap();
    let engine = starter_engine(&catalog);
    let terms: Vec<String> = engine
        .keywords()
        .unwrap()
        .library()
        .keywords
        .iter()
        .map(|k| k.term.clone())
        .collect();
    type Evasion = fn(&str) -> String;
    let evasions: [(&str, Evasion); 5] = [
        ("fullwidth", |s| {
            s.chars()
                .map(|c| {
                    if c.is_ascii_graphic() {
                        char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
                    } else {
                        c
                    }
                })
                .collect()
        }),
        ("separators", |s| {
            s.chars().map(String::from).collect::<Vec<_>>().join("*")
        }),
        ("zero_width", |s| {
            s.chars()
                .map(String::from)
                .collect::<Vec<_>>()
                .join("\u{200b}")
        }),
        ("uppercase", |s| s.to_uppercase()),
        ("cyrillic", |s| {
            s.replace('o', "о").replace('a', "а").replace('e', "е")
        }),
    ];
    let mut report = String::new();
    for (name, f) in evasions {
        let hit = terms
            .iter()
            .filter(|t| !engine.scan(&format!("这里：{}。", f(t))).is_empty())
            .count();
        let recall = hit as f64 / terms.len() as f64;
        report.push_str(&format!("{name} {recall:.4} ({hit}/{}); ", terms.len()));
        if recall < 0.99 {
            let missed: Vec<&String> = terms
                .iter()
                .filter(|t| engine.scan(&format!("这里：{}。", f(t))).is_empty())
                .take(15)
                .collect();
            report.push_str(&format!("missed e.g. {missed:?}; "));
        }
        assert!(
            recall >= 0.99,
            "evasion `{name}`: recall {recall:.4}: {report}"
        );
    }
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!("starter library evasion recall: {report}");
    }
}

/// Pinyin mode, measured: every all-Chinese starter keyword of two or more characters switched to
/// `pinyin` mode, evaded by writing it in pinyin and by swapping each character for a homophone;
/// and what it costs on benign COLD lines.
#[test]
fn pinyin_mode_recall_and_cost() {
    use pinyin::ToPinyin as _;
    let catalog = anquan_catalog::Catalog::load(None).unwrap();
    let (lib, _) =
        anquan_detect::keywords::Library::parse_tsv(anquan_detect::keywords::STARTER_LIBRARY);
    let terms: Vec<String> = lib
        .keywords
        .iter()
        .map(|k| k.term.clone())
        .filter(|t| {
            t.chars().count() >= 2
                && t.chars()
                    .all(|c| matches!(c as u32, 0x4E00..=0x9FFF) && c.to_pinyin().is_some())
        })
        .collect();
    let mut tsv = String::from("keyword\trisk_ids\tseverity\tsource\tmode\n");
    for t in &terms {
        tsv.push_str(&format!("{t}\tA.1.h\tmedium\ttest\tpinyin\n"));
    }
    let (pinyin_lib, problems) = anquan_detect::keywords::Library::parse_tsv(&tsv);
    assert!(problems.is_empty());
    let engine = anquan_detect::Engine::new(&catalog, Some(pinyin_lib), &[], false);
    // A homophone for each character: the first other character with the same toneless reading.
    let mut by_reading: std::collections::HashMap<&'static str, Vec<char>> =
        std::collections::HashMap::new();
    for code in 0x4E00..=0x9FFFu32 {
        if let Some(c) = char::from_u32(code)
            && let Some(p) = c.to_pinyin()
        {
            by_reading.entry(p.plain()).or_default().push(c);
        }
    }
    let homophone = |c: char| -> char {
        let p = c.to_pinyin().map(|p| p.plain()).unwrap_or("");
        by_reading
            .get(p)
            .and_then(|cs| cs.iter().copied().find(|x| *x != c))
            .unwrap_or(c)
    };
    let to_pinyin = |t: &str| -> String {
        t.chars()
            .filter_map(|c| c.to_pinyin().map(|p| p.plain()))
            .collect()
    };
    let pinyin_hits = terms
        .iter()
        .filter(|t| !engine.scan(&format!("这里：{}。", to_pinyin(t))).is_empty())
        .count();
    let homophone_hits = terms
        .iter()
        .filter(|t| {
            !engine
                .scan(&format!(
                    "这里：{}。",
                    t.chars().map(homophone).collect::<String>()
                ))
                .is_empty()
        })
        .count();
    let n = terms.len() as f64;
    let (pr, hr) = (pinyin_hits as f64 / n, homophone_hits as f64 / n);
    // The cost: benign COLD lines flagged with every term in pinyin mode, versus normalized mode.
    let mut rdr = csv::Reader::from_path(shared().join("cold/train.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let (label, text) = (
        headers.iter().position(|h| h == "label").unwrap(),
        headers.iter().position(|h| h == "TEXT").unwrap(),
    );
    let plain_engine = {
        let plain_tsv = tsv.replace("\tpinyin\n", "\tnormalized\n");
        let (l, _) = anquan_detect::keywords::Library::parse_tsv(&plain_tsv);
        anquan_detect::Engine::new(&catalog, Some(l), &[], false)
    };
    let (mut lines, mut fp_pinyin, mut fp_plain) = (0usize, 0usize, 0usize);
    for row in rdr.records() {
        let row = row.unwrap();
        if &row[label] == "0" {
            lines += 1;
            fp_pinyin += usize::from(!engine.scan(&row[text]).is_empty());
            fp_plain += usize::from(!plain_engine.scan(&row[text]).is_empty());
        }
    }
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!(
            "pinyin mode over {} Chinese starter terms: recall written-in-pinyin {pr:.3}, homophones {hr:.3}; benign COLD lines flagged {} (pinyin) vs {} (normalized) of {lines}",
            terms.len(),
            fp_pinyin,
            fp_plain
        );
    }
    assert!(
        pr >= 0.95 && hr >= 0.95,
        "pinyin {pr:.3}, homophones {hr:.3}"
    );
}
