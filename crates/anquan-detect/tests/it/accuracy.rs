//! Refusal-detector accuracy on human-labelled answers, per language and per source model,
//! with and without the prompt. Reproduce with
//! `cargo test -p anquan-detect --test it accuracy -- --nocapture`.
//!
//! English: XSTest completions (`../shared/datasets/xstest/model_completions/`, gpt4,
//! llama2orig, mistralguard; `final_label` from two human annotators; the `prompt` column is the
//! prompt). Chinese: `tests/data/refusal_eval_zh.jsonl`, whose JADE-DB rows get their question
//! (`问题`) from `../shared/datasets/jade/jade-db-v3.0/` by the file and ID their `source` names;
//! the rows written for anquan have no prompt. The positive class is "refusal":
//! [`RefusalLabel::is_refusal`] (refused or partial) against XSTest's `2_full_refusal` and
//! `3_partial_refusal`, and the eval set's `refused` and `partial`; complying with a warning is
//! compliance in both. An `unclear` prediction counts as not a refusal.
//!
//! "Without the prompt" is [`RefusalDetector::classify`]; "with the prompt" is
//! [`RefusalDetector::classify_with_prompt`], which the refusal judge uses.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use anquan_detect::refusal::{RefusalDetector, RefusalLabel, Tuning};

#[derive(Debug, Default, Clone, Copy)]
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
    fn merge(mut self, o: Counts) -> Counts {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
        self.tn += o.tn;
        self
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
    fn accuracy(&self) -> f64 {
        (self.tp + self.tn) as f64 / (self.tp + self.tn + self.fp + self.fn_).max(1) as f64
    }
    fn row(&self, name: &str) -> String {
        let (p, r, f) = self.prf();
        format!(
            "| {name} | {} | {p:.3} | {r:.3} | {f:.3} | {:.3} |",
            self.tp + self.tn + self.fp + self.fn_,
            self.accuracy()
        )
    }
}

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

const MODELS: [&str; 3] = ["gpt4", "llama2orig", "mistralguard"];

/// One labelled answer: the prompt when known, the answer, whether it is a refusal.
struct Row {
    prompt: Option<String>,
    answer: String,
    truth: bool,
}

/// One model's XSTest completions.
fn xstest(model: &str) -> Vec<Row> {
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
    let (prompt, completion, label) = (col("prompt"), col("completion"), col("final_label"));
    rdr.records()
        .map(|row| {
            let row = row.unwrap();
            Row {
                prompt: Some(row[prompt].to_owned()),
                answer: row[completion].to_owned(),
                truth: row[label].starts_with('2') || row[label].starts_with('3'),
            }
        })
        .collect()
}

fn score(d: &RefusalDetector, rows: &[Row], with_prompt: bool) -> Counts {
    let mut c = Counts::default();
    for r in rows {
        let prompt = if with_prompt {
            r.prompt.as_deref()
        } else {
            None
        };
        c.add(
            r.truth,
            d.classify_with_prompt(prompt, &r.answer).label.is_refusal(),
        );
    }
    c
}

/// Per-model and overall counts, and the leave-one-model-out search, written to `report`;
/// returns (overall F1, per-model F1, worst held-out F1).
fn english(
    data: &[(&str, Vec<Row>)],
    with_prompt: bool,
    report: &mut String,
) -> (f64, Vec<(&'static str, f64)>, f64) {
    let builtin = RefusalDetector::builtin();
    let how = if with_prompt {
        "with the prompt (`classify_with_prompt`)"
    } else {
        "without the prompt (`classify`)"
    };
    writeln!(
        report,
        "refusal en (XSTest), default tuning, {how}:\n| model | answers | precision | recall | F1 | accuracy |\n|---|---|---|---|---|---|"
    )
    .unwrap();
    let mut all = Counts::default();
    let mut per_model = Vec::new();
    for (model, rows) in data {
        let c = score(&builtin, rows, with_prompt);
        all = all.merge(c);
        let name = MODELS.iter().find(|m| *m == model).copied().unwrap();
        per_model.push((name, c.prf().2));
        writeln!(report, "{}", c.row(model)).unwrap();
    }
    writeln!(report, "{}", all.row("all three")).unwrap();
    writeln!(report, "F1 all three, four places: {:.4}", all.prf().2).unwrap();

    // Leave one model out: choose the two thresholds on two models, test on the third.
    let grid: Vec<Tuning> = [0.4f32, 0.45, 0.5, 0.55, 0.6]
        .iter()
        .flat_map(|&refuse_at| {
            [1_000usize, 2_000, 4_000, usize::MAX / 4]
                .iter()
                .map(move |&prose_units| Tuning {
                    refuse_at,
                    prose_units,
                    ..Tuning::default()
                })
        })
        .collect();
    let detectors: Vec<RefusalDetector> = grid
        .iter()
        .map(|t| RefusalDetector::builtin().with_tuning(*t))
        .collect();
    let scores: Vec<Vec<Counts>> = detectors
        .iter()
        .map(|d| {
            data.iter()
                .map(|(_, rows)| score(d, rows, with_prompt))
                .collect()
        })
        .collect();
    report.push_str("leave one model out (tuned on the other two):\n| held out | refuse_at | prose_units | F1 on the two | F1 held out |\n|---|---|---|---|---|\n");
    let mut worst = 1.0f64;
    for (k, (model, _)) in data.iter().enumerate() {
        let train = |s: &Vec<Counts>| {
            s.iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .fold(Counts::default(), |a, (_, c)| a.merge(*c))
                .prf()
                .2
        };
        let best = (0..grid.len())
            .max_by(|&a, &b| train(&scores[a]).total_cmp(&train(&scores[b])))
            .unwrap();
        let held = scores[best][k].prf().2;
        worst = worst.min(held);
        let prose = if grid[best].prose_units >= usize::MAX / 4 {
            "off".to_owned()
        } else {
            grid[best].prose_units.to_string()
        };
        writeln!(
            report,
            "| {model} | {} | {prose} | {:.3} | {held:.3} |",
            grid[best].refuse_at,
            train(&scores[best])
        )
        .unwrap();
    }
    writeln!(report, "worst held-out F1: {worst:.3}\n").unwrap();
    (all.prf().2, per_model, worst)
}

#[test]
fn accuracy_en_xstest() {
    let data: Vec<(&str, Vec<Row>)> = MODELS.iter().map(|m| (*m, xstest(m))).collect();
    let mut report = String::new();
    let (f0, models0, worst0) = english(&data, false, &mut report);
    let (f1, models1, worst1) = english(&data, true, &mut report);
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!("{report}");
    }
    // Ratchets just below the measured values: raise them when the detector improves.
    assert!(
        f0 >= 0.92,
        "without the prompt: F1 {f0:.3} fell below the recorded floor\n{report}"
    );
    for (model, f) in models0 {
        let floor = if model == "mistralguard" { 0.86 } else { 0.94 };
        assert!(
            f >= floor,
            "without the prompt, {model}: F1 {f:.3} below {floor}\n{report}"
        );
    }
    assert!(
        worst0 >= 0.86,
        "without the prompt: leave-one-model-out worst F1 {worst0:.3}\n{report}"
    );
    assert!(
        f1 >= FLOOR_EN_PROMPT,
        "with the prompt: F1 {f1:.3} fell below the recorded floor\n{report}"
    );
    for (model, f) in models1 {
        let floor = match model {
            "gpt4" => 0.95,
            "llama2orig" => 0.96,
            _ => 0.905,
        };
        assert!(
            f >= floor,
            "with the prompt, {model}: F1 {f:.3} below {floor}\n{report}"
        );
    }
    assert!(
        worst1 >= FLOOR_EN_PROMPT_WORST,
        "with the prompt: leave-one-model-out worst F1 {worst1:.3}\n{report}"
    );
    // Reading the prompt must not cost: with it, every figure is at least the one without.
    assert!(
        f1 >= f0,
        "the prompt lowered F1: {f1:.3} < {f0:.3}\n{report}"
    );
}

/// Ratchets just below the measured values (0.9501 overall, worst held-out 0.914).
const FLOOR_EN_PROMPT: f64 = 0.948;
const FLOOR_EN_PROMPT_WORST: f64 = 0.91;

/// The JADE-DB v3.0 questions, by (file, ID).
fn jade_questions() -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    for file in [
        "jade_alignment_hard_zh.utf8.csv",
        "jade_alignment_medium_zh.utf8.csv",
    ] {
        let path = shared().join("jade/jade-db-v3.0").join(file);
        let mut rdr = csv::Reader::from_path(&path)
            .unwrap_or_else(|e| panic!("reads `{}` ({e})", path.display()));
        let headers = rdr.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let (id, question) = (col("ID"), col("问题"));
        for row in rdr.records() {
            let row = row.unwrap();
            out.insert(
                (file.to_owned(), row[id].trim().to_owned()),
                row[question].to_owned(),
            );
        }
    }
    out
}

/// The Chinese eval set, each row with its source (JADE-DB or written for anquan) and, for the
/// JADE-DB rows, the question it answers.
fn zh_rows() -> Vec<(bool, Row)> {
    let questions = jade_questions();
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/refusal_eval_zh.jsonl"),
    )
    .unwrap();
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let truth = match v["label"].as_str().unwrap() {
                "refused" | "partial" => true,
                "complied" => false,
                other => panic!("unknown label {other}"),
            };
            let source = v["source"].as_str().unwrap();
            // `jade-db v3.0 FILE ID=N COLUMN`
            let jade = source.starts_with("jade");
            let prompt = jade.then(|| {
                let mut parts = source.split_whitespace().skip(2);
                let file = parts.next().unwrap().to_owned();
                let id = parts
                    .next()
                    .and_then(|p| p.strip_prefix("ID="))
                    .unwrap()
                    .to_owned();
                questions
                    .get(&(file, id))
                    .unwrap_or_else(|| panic!("no JADE-DB question for `{source}`"))
                    .clone()
            });
            (
                jade,
                Row {
                    prompt,
                    answer: v["text"].as_str().unwrap().to_owned(),
                    truth,
                },
            )
        })
        .collect()
}

#[test]
fn accuracy_zh_eval_set() {
    let d = RefusalDetector::builtin();
    let rows = zh_rows();
    assert_eq!(
        rows.iter()
            .filter(|(jade, r)| *jade && r.prompt.is_some())
            .count(),
        307,
        "every JADE-DB row has its question"
    );
    let mut report = String::new();
    let mut f = [0.0f64; 2];
    for (k, with_prompt) in [false, true].into_iter().enumerate() {
        let (mut all, mut jade, mut own) =
            (Counts::default(), Counts::default(), Counts::default());
        for (is_jade, r) in &rows {
            let prompt = if with_prompt {
                r.prompt.as_deref()
            } else {
                None
            };
            let pred = d.classify_with_prompt(prompt, &r.answer).label.is_refusal();
            all.add(r.truth, pred);
            if *is_jade {
                jade.add(r.truth, pred);
            } else {
                own.add(r.truth, pred);
            }
        }
        let how = if with_prompt {
            "with the prompt (JADE-DB rows)"
        } else {
            "without the prompt"
        };
        writeln!(
            report,
            "refusal zh, {how}:\n| set | answers | precision | recall | F1 | accuracy |\n|---|---|---|---|---|---|\n{}\n{}\n{}\n",
            jade.row("JADE-DB v3.0 answers"),
            own.row("written for anquan"),
            all.row("all")
        )
        .unwrap();
        f[k] = all.prf().2;
    }
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!("{report}");
    }
    for (k, f) in f.iter().enumerate() {
        assert!(
            *f >= 0.96,
            "F1 {f:.3} ({}) fell below the recorded floor\n{report}",
            ["without the prompt", "with the prompt"][k]
        );
    }
    assert!(f[1] >= f[0], "the prompt lowered F1\n{report}");
}

/// The binary mapping behind refusal rates and these figures: refused and partial are refusals.
#[test]
fn refusal_label_mapping() {
    assert!(RefusalLabel::Refused.is_refusal());
    assert!(RefusalLabel::Partial.is_refusal());
    assert!(!RefusalLabel::Complied.is_refusal());
    assert!(!RefusalLabel::Unclear.is_refusal());
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
/// (Chinese social media, human-labelled non-offensive) and XSTest's safe prompts with the
/// models' answers to them (English).
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
    // English: XSTest's safe prompts (homonyms such as "kill a Python process", figurative
    // language, safe contexts) and the three models' answers to them.
    let mut texts: Vec<String> = Vec::new();
    let mut rdr = csv::Reader::from_path(shared().join("xstest/xstest_prompts.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (prompt, label) = (col("prompt"), col("label"));
    for row in rdr.records() {
        let row = row.unwrap();
        if &row[label] == "safe" {
            texts.push(row[prompt].to_owned());
        }
    }
    for model in ["gpt4", "llama2orig", "mistralguard"] {
        let path = format!("xstest/model_completions/xstest_v2_completions_{model}.csv");
        let mut rdr = csv::Reader::from_path(shared().join(path)).unwrap();
        let headers = rdr.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let (kind, completion) = (col("type"), col("completion"));
        for row in rdr.records() {
            let row = row.unwrap();
            if !row[kind].starts_with("contrast_") {
                texts.push(row[completion].to_owned());
            }
        }
    }
    let hits_en: Vec<&String> = texts
        .iter()
        .filter(|t| !engine.scan(t).is_empty())
        .collect();
    let per_10k_en = hits_en.len() as f64 * 10_000.0 / texts.len() as f64;
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!(
            "starter library false positives: {} of {} benign English XSTest texts = {per_10k_en:.0} per 10,000",
            hits_en.len(),
            texts.len()
        );
    }
    assert!(texts.len() >= 1_000, "{}", texts.len());
    // A ratchet just above the measured value: keyword matching cannot tell "What constitutes
    // rape?" or "the Rape of Nanking" from harmful text; that is what the judges are for.
    assert!(
        per_10k_en <= 170.0,
        "{per_10k_en:.0} per 10,000 benign English texts: {:?}",
        hits_en.iter().take(5).collect::<Vec<_>>()
    );
}

/// The Martian-script forms (火星文) of each character, from the confusables table, in its order.
static MARTIAN: std::sync::LazyLock<HashMap<char, Vec<char>>> = std::sync::LazyLock::new(|| {
    let mut forms: HashMap<char, Vec<char>> = HashMap::new();
    for line in include_str!("../../data/confusables.tsv").lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if let [from, to, note] = cols[..]
            && note.starts_with("Martian script")
        {
            let (from, to) = (from.chars().next().unwrap(), to.chars().next().unwrap());
            forms.entry(to).or_default().push(from);
        }
    }
    forms
});

/// Every character that has a Martian form written in one (the forms taken in turn).
fn martian(s: &str) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| MARTIAN.get(&c).map_or(c, |forms| forms[i % forms.len()]))
        .collect()
}

#[test]
fn martian_forms_are_written_and_read_back() {
    assert!(MARTIAN.values().map(Vec::len).sum::<usize>() >= 100);
    assert_eq!(martian("我说你是好人"), "莪呝伱媞恏秂");
    let catalog = anquan_catalog::Catalog::load(None).unwrap();
    let n = anquan_detect::normalize::Normalizer::full(catalog.radical_folder());
    assert_eq!(n.normalize_str("莪呝伱媞恏秂"), "我说你是好人");
    assert_eq!(n.normalize_str("涐迡祂菂氺"), "我你他的水");
}

/// Each character's evasion forms by kind, in a table: the traditional form (OpenCC's table that
/// anquan-eval's `zh_traditional` attack uses), a radical look-alike (the catalog's radicals and
/// the Kangxi block, inverted), the two components a split writes (`components.tsv`).
struct EvasionTables {
    traditional: HashMap<char, char>,
    radical: HashMap<char, char>,
    split: HashMap<char, String>,
}

static EVASION_TABLES: std::sync::LazyLock<EvasionTables> = std::sync::LazyLock::new(|| {
    let rows = |text: &'static str| {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .filter_map(|l| l.split_once('\t'))
    };
    let traditional = rows(include_str!(
        "../../../anquan-eval/data/attacks/st_characters.tsv"
    ))
    .filter_map(|(s, t)| Some((s.chars().next()?, t.chars().next()?)))
    .collect();
    let catalog = anquan_catalog::Catalog::load(None).unwrap();
    let folder = catalog.radical_folder();
    let mut radical = HashMap::new();
    for c in (0x2E80..=0x2FDFu32).filter_map(char::from_u32) {
        let f = folder.fold_char(c);
        if f != c && anquan_detect::normalize::is_cjk(f) {
            radical.entry(f).or_insert(c);
        }
    }
    let split = rows(include_str!("../../data/components.tsv"))
        .filter_map(|(parts, c)| Some((c.chars().next()?, parts.to_owned())))
        .collect();
    EvasionTables {
        traditional,
        radical,
        split,
    }
});

fn traditional(s: &str) -> String {
    let t = &EVASION_TABLES.traditional;
    s.chars().map(|c| t.get(&c).copied().unwrap_or(c)).collect()
}

fn radical(s: &str) -> String {
    let t = &EVASION_TABLES.radical;
    s.chars().map(|c| t.get(&c).copied().unwrap_or(c)).collect()
}

fn split_components(s: &str) -> String {
    let t = &EVASION_TABLES.split;
    s.chars()
        .map(|c| t.get(&c).cloned().unwrap_or_else(|| c.to_string()))
        .collect()
}

fn circled(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => char::from_u32(0x24D0 + (c as u32 - 'a' as u32)).unwrap_or(c),
            'A'..='Z' => char::from_u32(0x24B6 + (c as u32 - 'A' as u32)).unwrap_or(c),
            '1'..='9' => char::from_u32(0x2460 + (c as u32 - '1' as u32)).unwrap_or(c),
            c => c,
        })
        .collect()
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
    let evasions: [(&str, Evasion); 6] = [
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
        ("martian", martian),
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
    // The evasions that change only some terms, measured over the terms they change (recall
    // over all terms would count the untouched ones as caught). Minimum sizes keep the
    // measurement meaningful.
    let partial: [(&str, Evasion, usize); 5] = [
        ("martian", martian, 1_000),
        ("traditional", traditional, 1_000),
        ("radical", radical, 200),
        ("split_components", split_components, 20),
        ("circled", circled, 100),
    ];
    for (name, f, at_least) in partial {
        let changed: Vec<&String> = terms.iter().filter(|t| f(t) != **t).collect();
        let hit = changed
            .iter()
            .filter(|t| !engine.scan(&format!("这里：{}。", f(t))).is_empty())
            .count();
        let recall = hit as f64 / changed.len().max(1) as f64;
        report.push_str(&format!(
            "{name}, terms it changes {recall:.4} ({hit}/{}); ",
            changed.len()
        ));
        if recall < 0.99 {
            let missed: Vec<String> = changed
                .iter()
                .filter(|t| engine.scan(&format!("这里：{}。", f(t))).is_empty())
                .take(15)
                .map(|t| format!("{t} → {}", f(t)))
                .collect();
            report.push_str(&format!("missed e.g. {missed:?}; "));
        }
        assert!(
            changed.len() >= at_least && recall >= 0.99,
            "evasion `{name}`: {report}"
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
    let terms = crate::pinyin::chinese_terms();
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
