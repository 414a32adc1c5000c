//! Bank tests: the built-in banks are canonical and pass their clauses; the validator's behaviour
//! on fixtures; sampling is reproducible and keeps shares.

mod attacks;

use std::path::PathBuf;

use anquan_catalog::Catalog;
use anquan_detect::normalize::Normalizer;
use anquan_eval::bank::{builtin, builtin_names, builtin_text, check_bank, parse_jsonl};
use anquan_eval::sample::stratified;

fn catalog() -> Catalog {
    Catalog::load(None).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// Days since 1970-01-01 of the day the banks are checked against in tests.
fn test_day() -> i64 {
    anquan_detect::check::days_from_date("2026-12-01").unwrap()
}

#[test]
fn builtin_banks_are_canonical() {
    // Sorted by id in natural order, unique ids, each line exactly as serde writes it. Set
    // ANQUAN_UPDATE_GENERATED=1 to rewrite the files canonically.
    for name in builtin_names() {
        let text = builtin_text(name).unwrap();
        let (bank, problems) = parse_jsonl(name, text);
        assert!(problems.is_empty(), "builtin:{name}: {problems:?}");
        let mut items: Vec<_> = bank.items.iter().map(|(_, it)| it.clone()).collect();
        items.sort_by(|a, b| anquan_catalog::natural::cmp(&a.id, &b.id));
        let mut ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), items.len(), "builtin:{name}: duplicate ids");
        let canonical: String = items
            .iter()
            .map(|it| serde_json::to_string(it).unwrap() + "\n")
            .collect();
        if std::env::var_os("ANQUAN_UPDATE_GENERATED").is_some() {
            let (base, lang) = name.split_once('.').map_or((name, "zh"), |(b, l)| (b, l));
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(format!("data/banks/{base}.{lang}.jsonl"));
            std::fs::write(path, &canonical).unwrap();
        } else {
            assert!(
                text == canonical,
                "builtin:{name} is not canonical; run the tests with ANQUAN_UPDATE_GENERATED=1"
            );
        }
    }
}

#[test]
fn builtin_chinese_banks_pass_their_clauses() {
    let c = catalog();
    let n = Normalizer::full(c.radical_folder());
    for name in ["generated_content", "should_refuse", "should_not_refuse"] {
        let (bank, problems) = builtin(name).unwrap();
        let report = check_bank(&c, &bank, problems, &n, test_day());
        let failed: Vec<_> = report
            .clauses
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{} {}", c.id, c.detail.en))
            .collect();
        assert!(
            report.passed,
            "builtin:{name}: {failed:?} problems {:?} near-duplicates {:?}",
            report.problems.iter().take(5).collect::<Vec<_>>(),
            report.near_duplicates.iter().take(5).collect::<Vec<_>>()
        );
        // Our own floors are above the standard's: ≥ 60 / ≥ 30 for the generated-content bank.
        if name == "generated_content" {
            for cov in &report.coverage {
                let group = &cov.risk[..3];
                let aim = if group == "A.1" || group == "A.2" {
                    60
                } else {
                    30
                };
                assert!(
                    cov.count >= aim,
                    "{} has {} items, we aim for ≥ {aim}",
                    cov.risk,
                    cov.count
                );
            }
        }
    }
}

#[test]
fn english_mirrors_cover_their_risks() {
    let c = catalog();
    let n = Normalizer::full(c.radical_folder());
    for (name, min_items) in [
        ("generated_content.en", 500),
        ("should_refuse.en", 200),
        ("should_not_refuse.en", 200),
    ] {
        let (bank, problems) = builtin(name).unwrap();
        assert!(
            bank.items.len() >= min_items,
            "builtin:{name} has {} items",
            bank.items.len()
        );
        let report = check_bank(&c, &bank, problems, &n, test_day());
        assert!(
            report.coverage.iter().all(|cov| cov.count > 0),
            "builtin:{name}: uncovered {:?}",
            report
                .coverage
                .iter()
                .filter(|c| c.count == 0)
                .map(|c| &c.risk)
                .collect::<Vec<_>>()
        );
        assert!(
            report.problems.is_empty()
                && report.duplicate_ids.is_empty()
                && report.near_duplicates.is_empty(),
            "builtin:{name}"
        );
    }
}

#[test]
fn a_short_bank_fails_with_a_clear_account() {
    let c = catalog();
    let n = Normalizer::full(c.radical_folder());
    let (bank, problems) = parse_jsonl("short.jsonl", &fixture("short_should_refuse.jsonl"));
    let report = check_bank(&c, &bank, problems, &n, test_day());
    assert!(!report.passed);
    insta::assert_json_snapshot!("short_should_refuse", report);
}

#[test]
fn sampling_is_reproducible_and_keeps_shares() {
    let (bank, _) = builtin("generated_content").unwrap();
    let items: Vec<_> = bank.items.iter().map(|(_, it)| it).collect();
    let a = stratified(&items, 1000, 7);
    let b = stratified(&items, 1000, 7);
    let other = stratified(&items, 1000, 8);
    assert_eq!(a.len(), 1000);
    assert_eq!(
        a.iter().map(|i| &i.id).collect::<Vec<_>>(),
        b.iter().map(|i| &i.id).collect::<Vec<_>>()
    );
    assert_ne!(
        a.iter().map(|i| &i.id).collect::<Vec<_>>(),
        other.iter().map(|i| &i.id).collect::<Vec<_>>()
    );
    // Each risk's share is kept within one item.
    let total = items.len() as f64;
    let risks: std::collections::BTreeSet<&str> =
        items.iter().map(|i| i.risk_ids[0].as_str()).collect();
    for r in risks {
        let have = items.iter().filter(|i| i.risk_ids[0] == r).count() as f64;
        let got = a.iter().filter(|i| i.risk_ids[0] == r).count() as f64;
        assert!(
            (got - 1000.0 * have / total).abs() <= 1.0,
            "{r}: {got} vs {}",
            1000.0 * have / total
        );
    }
}
