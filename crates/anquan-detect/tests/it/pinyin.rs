//! Matching by pronunciation, measured: the `initials` and `heteronym` evasions of the starter
//! library's Chinese terms, and what `initials` mode costs on benign text. Reproduce with
//! `cargo test -p anquan-detect --test it pinyin -- --nocapture`; the figures are recorded in
//! `docs/specs/detector.md` (Keywords) and `data/keywords/README.md`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use ::pinyin::{ToPinyin as _, ToPinyinMulti as _};
use anquan_catalog::Catalog;
use anquan_detect::Engine;
use anquan_detect::keywords::{Library, STARTER_LIBRARY};

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

/// Every all-Chinese starter term of two or more characters, each with a reading (the terms the
/// pinyin-mode measurement uses too).
pub(crate) fn chinese_terms() -> Vec<String> {
    let (lib, _) = Library::parse_tsv(STARTER_LIBRARY);
    lib.keywords
        .iter()
        .map(|k| k.term.clone())
        .filter(|t| {
            t.chars().count() >= 2
                && t.chars()
                    .all(|c| matches!(c as u32, 0x4E00..=0x9FFF) && c.to_pinyin().is_some())
        })
        .collect()
}

/// An engine over `terms`, all in library mode `mode`.
fn engine(catalog: &Catalog, terms: &[String], mode: &str) -> Engine {
    let mut tsv = String::from("keyword\trisk_ids\tseverity\tsource\tmode\n");
    for t in terms {
        writeln!(tsv, "{t}\tA.1.h\tmedium\ttest\t{mode}").unwrap();
    }
    let (lib, problems) = Library::parse_tsv(&tsv);
    assert!(problems.is_empty(), "{problems:?}");
    Engine::new(catalog, Some(lib), &[], false)
}

/// Whether `engine` finds `term` itself in `text`.
fn finds(engine: &Engine, text: &str, term: &str) -> bool {
    engine
        .scan(&format!("这里：{text}。"))
        .iter()
        .any(|d| d.keywords.iter().any(|k| k == term))
}

fn plain(c: char) -> &'static str {
    c.to_pinyin().map(|p| p.plain()).unwrap_or("")
}

/// The toneless readings of a character, the default first, without duplicates.
fn readings(c: char) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in c.to_pinyin_multi().into_iter().flatten() {
        if !out.contains(&r.plain()) {
            out.push(r.plain());
        }
    }
    out
}

/// The common-heteronym table: per character, its readings.
fn heteronym_table() -> HashMap<char, Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/keywords/heteronyms.tsv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| {
            let mut cols = l.split('\t');
            let c = cols.next().unwrap().chars().next().unwrap();
            let rs = cols.next().unwrap().split(',').map(str::to_owned).collect();
            (c, rs)
        })
        .collect()
}

fn initial(reading: &str) -> &str {
    reading.get(..1).unwrap_or(reading)
}

/// Lines of benign text: COLD dev rows labelled safe (Chinese), and XSTest's safe prompts with
/// the three models' answers to them (English).
fn benign() -> (Vec<String>, Vec<String>) {
    let mut rdr = csv::Reader::from_path(shared().join("cold/dev.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (label, text) = (col("label"), col("TEXT"));
    let zh = rdr
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[label] == "0")
        .map(|r| r[text].to_owned())
        .collect();
    let mut en = Vec::new();
    let mut rdr = csv::Reader::from_path(shared().join("xstest/xstest_prompts.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (label, prompt) = (col("label"), col("prompt"));
    for r in rdr.records().map(|r| r.unwrap()) {
        if &r[label] == "safe" {
            en.push(r[prompt].to_owned());
        }
    }
    for model in ["gpt4", "llama2orig", "mistralguard"] {
        let path = shared().join(format!(
            "xstest/model_completions/xstest_v2_completions_{model}.csv"
        ));
        let mut rdr = csv::Reader::from_path(path).unwrap();
        let headers = rdr.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let (kind, completion) = (col("type"), col("completion"));
        for r in rdr.records().map(|r| r.unwrap()) {
            if !r[kind].starts_with("contrast") {
                en.push(r[completion].to_owned());
            }
        }
    }
    (zh, en)
}

fn per_10k(engine: &Engine, lines: &[String]) -> (usize, f64) {
    let hits = lines.iter().filter(|l| !engine.scan(l).is_empty()).count();
    (hits, hits as f64 * 10_000.0 / lines.len().max(1) as f64)
}

/// The `initials` evasions (all initials `db`, the first syllable as its initial `d博`, the last
/// `赌b`) against every Chinese starter term in `initials` mode, and the `heteronym` evasions
/// (a term with a heteronym written in the pinyin of its second reading, `yinhang` for 银行, or
/// with a homophone of that reading, `银航`) in `pinyin` mode.
#[test]
fn initials_and_heteronym_evasion_recall() {
    let catalog = Catalog::load(None).unwrap();
    let terms = chinese_terms();
    let initials = engine(&catalog, &terms, "initials");
    let pinyin = engine(&catalog, &terms, "pinyin");
    let capped = (
        pinyin.keywords().unwrap().capped().len(),
        initials.keywords().unwrap().capped().len(),
    );
    let mut report = String::new();
    let mut recall = |name: &str, cases: &[(String, String)], engine: &Engine| -> f64 {
        let missed: Vec<&(String, String)> = cases
            .iter()
            .filter(|(term, text)| !finds(engine, text, term))
            .collect();
        let r = 1.0 - missed.len() as f64 / cases.len().max(1) as f64;
        let examples: Vec<String> = missed
            .iter()
            .take(6)
            .map(|(term, text)| format!("{text} ({term})"))
            .collect();
        write!(
            report,
            "{name} {r:.4} ({}/{}, missed e.g. {examples:?}); ",
            cases.len() - missed.len(),
            cases.len()
        )
        .unwrap();
        r
    };
    let spell = |t: &str, f: &dyn Fn(usize, char) -> String| -> String {
        t.chars().enumerate().map(|(i, c)| f(i, c)).collect()
    };
    let all: Vec<(String, String)> = terms
        .iter()
        .map(|t| (t.clone(), spell(t, &|_, c| initial(plain(c)).to_owned())))
        .collect();
    let first: Vec<(String, String)> = terms
        .iter()
        .map(|t| {
            let text = spell(t, &|i, c| {
                if i == 0 {
                    initial(plain(c)).to_owned()
                } else {
                    c.to_string()
                }
            });
            (t.clone(), text)
        })
        .collect();
    let last: Vec<(String, String)> = terms
        .iter()
        .map(|t| {
            let n = t.chars().count();
            let text = spell(t, &|i, c| {
                if i + 1 == n {
                    initial(plain(c)).to_owned()
                } else {
                    c.to_string()
                }
            });
            (t.clone(), text)
        })
        .collect();
    let r_all = recall("initials (all)", &all, &initials);
    let r_first = recall("initials (first)", &first, &initials);
    let r_last = recall("initials (last)", &last, &initials);

    // Heteronyms: the terms with a character of the common-heteronym table, written with its
    // first other reading there (`yinhang`), or with a character whose only reading that is.
    let table = heteronym_table();
    let other = |c: char| -> Option<&str> {
        let default = plain(c);
        table
            .get(&c)?
            .iter()
            .map(String::as_str)
            .find(|r| *r != default && readings(c).contains(r))
    };
    let mut by_reading: HashMap<&'static str, Vec<char>> = HashMap::new();
    for c in (0x4E00..=0x9FFFu32).filter_map(char::from_u32) {
        if c.to_pinyin().is_some() && readings(c).len() == 1 {
            by_reading.entry(plain(c)).or_default().push(c);
        }
    }
    let hetero: Vec<&String> = terms
        .iter()
        .filter(|t| t.chars().any(|c| other(c).is_some()))
        .collect();
    // The first heteronym read the other way: `f` writes each character, given the other
    // reading for that one and `""` for the rest.
    let first_other = |t: &str, f: &dyn Fn(char, &str) -> Option<String>| -> Option<String> {
        let at = t.chars().position(|c| other(c).is_some())?;
        t.chars()
            .enumerate()
            .map(|(i, c)| f(c, (i == at).then(|| other(c)).flatten().unwrap_or("")))
            .collect()
    };
    let written: Vec<(String, String)> = hetero
        .iter()
        .filter_map(|t| {
            let text = first_other(t, &|c, r| {
                Some(if r.is_empty() { plain(c) } else { r }.to_owned())
            })?;
            Some(((*t).clone(), text))
        })
        .collect();
    let homophones: Vec<(String, String)> = hetero
        .iter()
        .filter_map(|t| {
            let text = first_other(t, &|c, r| {
                if r.is_empty() {
                    Some(c.to_string())
                } else {
                    by_reading.get(r)?.first().map(char::to_string)
                }
            })?;
            Some(((*t).clone(), text))
        })
        .collect();
    // Every heteronym of the term read the other way: more combinations, up to the cap.
    let every: Vec<(String, String)> = hetero
        .iter()
        .map(|t| {
            let text = spell(t, &|_, c| other(c).unwrap_or(plain(c)).to_owned());
            ((*t).clone(), text)
        })
        .collect();
    // A reading the `pinyin` crate lists and the table leaves out (是 ti): not matched, by design.
    let rare: Vec<(String, String)> = terms
        .iter()
        .filter_map(|t| {
            let rare_of = |c: char| {
                readings(c)
                    .into_iter()
                    .skip(1)
                    .find(|r| !table.get(&c).is_some_and(|rs| rs.iter().any(|x| x == r)))
            };
            t.chars().any(|c| rare_of(c).is_some()).then(|| {
                let text = spell(t, &|_, c| rare_of(c).unwrap_or(plain(c)).to_owned());
                (t.clone(), text)
            })
        })
        .collect();
    let r_written = recall("heteronym (pinyin)", &written, &pinyin);
    let r_homophone = recall("heteronym (homophone)", &homophones, &pinyin);
    let r_every = recall("heteronym (every one)", &every, &pinyin);
    recall("rare reading, not matched by design", &rare, &pinyin);
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!(
            "pronunciation evasions over {} Chinese starter terms ({} with a common heteronym; capped: {} in pinyin mode, {} in initials mode): {report}",
            terms.len(),
            hetero.len(),
            capped.0,
            capped.1
        );
    }
    // Ratchets just below the measured values.
    assert!(
        r_all >= 0.99 && r_first >= 0.99 && r_last >= 0.99,
        "{report}"
    );
    assert!(
        r_written >= 0.99 && r_homophone >= 0.99 && r_every >= 0.9,
        "{report}"
    );
}

/// What `initials` mode costs: benign lines flagged per 10,000, with every Chinese starter term
/// in `normalized`, `pinyin` and `initials` mode.
#[test]
fn initials_mode_false_positives_on_benign_text() {
    let catalog = Catalog::load(None).unwrap();
    let terms = chinese_terms();
    let (zh, en) = benign();
    let mut report = String::new();
    let mut rates = Vec::new();
    for mode in ["normalized", "pinyin", "initials"] {
        let e = engine(&catalog, &terms, mode);
        let (zh_hits, zh_rate) = per_10k(&e, &zh);
        let (en_hits, en_rate) = per_10k(&e, &en);
        write!(
            report,
            "{mode}: COLD dev safe {zh_hits}/{} = {zh_rate:.0} per 10,000, XSTest safe en {en_hits}/{} = {en_rate:.0} per 10,000; ",
            zh.len(),
            en.len()
        )
        .unwrap();
        rates.push((zh_rate, en_rate));
    }
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!(
            "benign lines flagged, {} Chinese starter terms: {report}",
            terms.len()
        );
    }
    // Initials cost more than pinyin, which costs more than plain matching. Ratchets just above
    // the measured values (per 10,000 lines: pinyin 1,366 zh / 260 en, initials 1,469 / 6,050).
    let [plain, pinyin, initials] = [rates[0], rates[1], rates[2]];
    assert!(plain.0 <= pinyin.0 && pinyin.0 <= initials.0, "{report}");
    assert!(pinyin.0 <= 1_450.0 && pinyin.1 <= 300.0, "{report}");
    assert!(initials.0 <= 1_550.0 && initials.1 <= 6_300.0, "{report}");
}
