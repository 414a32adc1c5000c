//! Detection-engine tests: registry conformance, fixtures with snapshots, PII validation on a
//! generated set, the evasion suite, judges, and hostile input.

mod accuracy;
mod classifier;
mod pinyin;

use std::path::PathBuf;

use anquan_catalog::Catalog;
use anquan_detect::Engine;
use anquan_detect::judge::{
    Combine, Ensemble, Expected, Judge, JudgeInput, KeywordJudge, PiiJudge, RefusalJudge,
};
use anquan_detect::keywords::{Library, Severity};
use anquan_detect::registry;

fn catalog() -> Catalog {
    Catalog::load(None).unwrap()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture_engine(catalog: &Catalog) -> Engine {
    let (lib, problems) = Library::parse_tsv(
        &std::fs::read_to_string(fixtures().join("keyword/library.tsv")).unwrap(),
    );
    assert!(problems.is_empty(), "{problems:?}");
    let allow: Vec<String> = std::fs::read_to_string(fixtures().join("keyword/allow.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    Engine::new(catalog, Some(lib), &allow, true)
}

#[test]
fn every_registered_component_conforms() {
    let c = catalog();
    for d in registry::all() {
        assert!(
            !d.id.is_empty()
                && d.id
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
            "id `{}`",
            d.id
        );
        assert!(d.version >= 1, "{}", d.id);
        assert!(
            !d.name_zh.is_empty() && !d.name_en.is_empty(),
            "{}: bilingual name",
            d.id
        );
        assert!(d.doc.len() > 20, "{}: doc", d.id);
        for r in d.risk_ids {
            assert!(c.risk(r).is_some(), "{}: unknown risk id {r}", d.id);
        }
        let dir = fixtures().join(d.id);
        let n = std::fs::read_dir(&dir).map(|r| r.count()).unwrap_or(0);
        assert!(n > 0, "{}: no fixture in {}", d.id, dir.display());
    }
    let mut ids: Vec<&str> = registry::all().iter().map(|d| d.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), registry::all().len(), "duplicate ids");
}

fn render(text: &str, engine: &Engine) -> String {
    let mut out = String::new();
    for d in engine.scan(text) {
        assert_eq!(
            &text[d.span.start..d.span.end],
            d.matched,
            "span must point at the original text"
        );
        out.push_str(&format!(
            "{}..{} {} [{}] {:?} -> {}\n",
            d.span.start,
            d.span.end,
            d.detector,
            d.risk_ids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            d.matched,
            d.masked.as_deref().unwrap_or(&d.normalized)
        ));
    }
    out
}

#[test]
fn detector_fixtures() {
    let c = catalog();
    let engine = fixture_engine(&c);
    for d in std::iter::once(&registry::KEYWORD).chain(registry::PII.iter()) {
        let dir = fixtures().join(d.id);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt") && !p.ends_with("allow.txt"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = format!("{}__{}", d.id, f.file_stem().unwrap().to_string_lossy());
            insta::assert_snapshot!(name, render(&text, &engine));
        }
    }
}

/// The ISO 7064 MOD 11-2 check character of 17 digits.
fn check_digit(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

#[test]
fn pii_generated_set_has_no_false_accepts() {
    let c = catalog();
    let engine = Engine::new(&c, None, &[], true);
    let regions = ["110105", "310104", "440305", "510107", "650102"];
    let mut valid = 0;
    let mut rejected = 0;
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..2000u64 {
        let region = regions[(next() % 5) as usize];
        let year = 1950 + next() % 70;
        let month = 1 + next() % 12;
        let day = 1 + next() % 28;
        let seq = next() % 1000;
        let first17 = format!("{region}{year:04}{month:02}{day:02}{seq:03}");
        let good = format!("{first17}{}", check_digit(&first17));
        let wrong = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']
            .into_iter()
            .find(|c| *c != check_digit(&first17))
            .unwrap();
        let bad = format!("{first17}{wrong}");
        let impossible = format!("{region}{year:04}0230{seq:03}");
        let impossible = format!("{impossible}{}", check_digit(&impossible));
        // Glued to Chinese on both sides, to ASCII letters (allowed: `id11010…x`), and to
        // digits (which must block it: it is then part of a longer number).
        let text = format!("号码{good}结束，错{bad}误，日{impossible}期，9{good}9");
        let found: Vec<_> = engine
            .scan(&text)
            .into_iter()
            .filter(|d| d.detector.starts_with("pii_resident_id"))
            .collect();
        assert_eq!(found.len(), 1, "case {i}: {text}: {found:?}");
        assert_eq!(&*found[0].normalized, good.as_str());
        valid += 1;
        rejected += 3;
    }
    // Bank cards: Luhn-valid are found, every single-digit change is rejected.
    let cards = [
        "6225760000000005",
        "4111111111111111",
        "5500000000000004",
        "378282246310005",
    ];
    for card in cards {
        let found = engine.scan(&format!("卡号{card}。"));
        assert_eq!(found.len(), 1, "{card}: {found:?}");
        let last = card.as_bytes()[card.len() - 1] - b'0';
        let changed = format!("{}{}", &card[..card.len() - 1], (last + 1) % 10);
        assert!(
            engine
                .scan(&format!("卡号{changed}。"))
                .iter()
                .all(|d| !d.detector.starts_with("pii_bank_card")),
            "{changed}"
        );
    }
    assert_eq!((valid, rejected), (2000, 6000));
}

#[test]
fn evasion_suite_recall() {
    let c = catalog();
    let engine = fixture_engine(&c);
    let lib = engine.keywords().unwrap().library().clone();
    type Evasion = fn(&str) -> String;
    let fullwidth: Evasion = |s| {
        s.chars()
            .map(|c| {
                if c.is_ascii_graphic() {
                    char::from_u32(c as u32 + 0xFEE0).unwrap()
                } else {
                    c
                }
            })
            .collect()
    };
    let separators: Evasion = |s| {
        s.chars()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("*")
    };
    let spaces: Evasion = |s| {
        s.chars()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let zero_width: Evasion = |s| {
        s.chars()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("\u{200b}")
    };
    let upper: Evasion = |s| s.to_uppercase();
    let cyrillic: Evasion = |s| {
        s.replace('o', "о")
            .replace('a', "а")
            .replace('c', "с")
            .replace('p', "р")
    };
    let traditional: Evasion = |s| {
        s.replace('赌', "賭")
            .replace('袭', "襲")
            .replace('击', "擊")
    };
    let evasions: [(&str, Evasion); 7] = [
        ("fullwidth", fullwidth),
        ("separators", separators),
        ("spaces", spaces),
        ("zero_width", zero_width),
        ("uppercase", upper),
        ("cyrillic", cyrillic),
        ("traditional", traditional),
    ];
    for (name, f) in evasions {
        let mut hit = 0;
        for k in &lib.keywords {
            let text = format!("这段话里藏着{}，请检查。", f(&k.term));
            if engine
                .scan(&text)
                .iter()
                .any(|d| d.keywords.contains(&k.term))
            {
                hit += 1;
            }
        }
        assert_eq!(
            hit,
            lib.keywords.len(),
            "evasion `{name}`: recall {hit}/{}",
            lib.keywords.len()
        );
    }
}

fn judge_cases() -> Vec<(String, String, Expected)> {
    let text = std::fs::read_to_string(fixtures().join("ensemble/cases.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let expected = match v["expected"].as_str().unwrap() {
                "refuse" => Expected::Refuse,
                "answer" => Expected::Answer,
                _ => Expected::SafeAnswer,
            };
            (
                v["prompt"].as_str().unwrap().to_owned(),
                v["response"].as_str().unwrap().to_owned(),
                expected,
            )
        })
        .collect()
}

#[test]
fn judges_and_ensembles() {
    let c = catalog();
    let engine = fixture_engine(&c);
    let kw = KeywordJudge::new(&engine, Severity::Medium);
    let pii = PiiJudge::new(&engine);
    let refusal = RefusalJudge::new();
    let mut out = String::new();
    for (prompt, response, expected) in judge_cases() {
        let input = JudgeInput {
            prompt: Some(&prompt),
            response: &response,
            expected: Some(expected),
        };
        let any = Ensemble::new(vec![&kw, &pii, &refusal], Combine::Any);
        let majority = Ensemble::new(vec![&kw, &pii, &refusal], Combine::Majority);
        let weighted = Ensemble::new(
            vec![&kw, &pii, &refusal],
            Combine::Weighted {
                weights: vec![1.0, 1.0, 2.0],
                threshold: 0.2,
            },
        );
        let all = Ensemble::new(vec![&kw, &pii, &refusal], Combine::All);
        for j in [
            &kw as &dyn Judge,
            &pii,
            &refusal,
            &any,
            &majority,
            &weighted,
            &all,
        ] {
            let v = j.judge(&input);
            out.push_str(&format!(
                "{} | {:?} | {:?} {:?} {:.2}\n",
                response,
                expected,
                v.kind,
                v.risk_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                v.confidence
            ));
            assert!(v.judge.ends_with(&format!("@{}", j.version())));
        }
    }
    insta::assert_snapshot!("judges", out);
}

#[test]
fn hostile_input_never_panics() {
    let c = catalog();
    let engine = fixture_engine(&c);
    // A 10 MB single line of mixed text.
    let line = "赌*博 13812345678 ＡＢＣ \u{200b} é ".repeat(250_000);
    let found = engine.scan(&line);
    assert!(found.len() > 100_000);
    // Malformed library lines are problems with line numbers; the rest loads.
    let (lib, problems) = Library::parse_tsv(
        "keyword\trisk_ids\tseverity\tsource\nok\tA.1.h\thigh\tx\n\tA.1.h\nbad\tZ\nx\tA.1.h\tsevere\ty\ntoo\tA.1.h\tlow\ts\textra\n",
    );
    assert_eq!(lib.keywords.len(), 1);
    assert_eq!(
        problems.iter().map(|p| p.line).collect::<Vec<_>>(),
        [3, 4, 5, 6]
    );
    // Odd characters: lone combining marks, controls, emoji, private use.
    let odd = "\u{301}\u{0}\u{7}😀\u{e000}\u{fffd}赌\u{301}博";
    let _ = engine.scan(odd);
    let _ = engine.mask(odd);
}

#[test]
fn a_large_library_compiles() {
    let c = catalog();
    let mut text = String::from("keyword\trisk_ids\tseverity\tsource\n");
    for i in 0..100_000u32 {
        text.push_str(&format!("词{i:06}\tA.1.h\tlow\tgen\n"));
    }
    let (lib, problems) = Library::parse_tsv(&text);
    assert!(problems.is_empty());
    let engine = Engine::new(&c, Some(lib), &[], false);
    assert_eq!(engine.keywords().unwrap().pattern_count(), 100_000);
    assert_eq!(engine.scan("前缀词012345后缀").len(), 1);
}
