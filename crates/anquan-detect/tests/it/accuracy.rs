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
    assert!(f >= 0.84, "F1 {f:.3} fell below the recorded floor");
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
    assert!(f >= 0.84, "F1 {f:.3} fell below the recorded floor");
}
