//! Queries: map, untested, search, expand.

use anquan_catalog::model::Framework;

use crate::catalog;

#[test]
fn map_links_an_annex_a_risk_to_everything() {
    let c = catalog();
    let m = c.map_risk("A.1.c").unwrap();
    let ids = |l: &[anquan_catalog::MapEntry]| l.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert!(!m.related.is_empty(), "A.1.c maps to Framework 2.0");
    assert!(
        ids(&m.clauses).contains(&"gbt45654.keywords.coverage".to_owned()),
        "{:?}",
        ids(&m.clauses)
    );
    assert!(ids(&m.clauses).contains(&"gbt45654.bank.should_refuse".to_owned()));
    assert!(ids(&m.commands).contains(&"cmd.eval".to_owned()));
    assert!(
        !m.measures.is_empty(),
        "measures reach A.1.c through its Framework 2.0 risk"
    );
    assert!(
        m.measures.iter().all(|e| e.via.is_some()),
        "all measure links go through a mapped risk"
    );
    assert!(
        !m.standards.is_empty(),
        "standards reach A.1.c through Framework 1.0 and the standards system"
    );
}

#[test]
fn map_of_a_framework_2_risk_lists_its_measures_directly() {
    let c = catalog();
    let m = c.map_risk("fw2.3.1.1.e").unwrap();
    assert!(
        m.measures.iter().any(|e| e.via.is_none()),
        "{:?}",
        m.measures
    );
    assert!(
        m.related.iter().any(|e| e.id.starts_with("fw1.")),
        "1.0 risks map to it"
    );
}

#[test]
fn map_of_a_group_includes_its_children() {
    let c = catalog();
    let m = c.map_risk("A.2").unwrap();
    assert!(
        m.clauses
            .iter()
            .any(|e| e.id == "gbt45654.bank.should_refuse")
    );
    assert!(c.map_risk("A.9.z").is_err());
}

#[test]
fn untested_lists_only_risks_without_commands() {
    let c = catalog();
    let untested = c.untested(Framework::Fw2);
    assert!(
        !untested.is_empty(),
        "supply-chain and compute risks are tested by nothing yet"
    );
    for r in &untested {
        assert!(c.map_risk(r.id.as_str()).unwrap().commands.is_empty());
    }
    assert!(
        c.untested(Framework::Gbt45654).is_empty(),
        "every annex-A risk is in a test bank"
    );
}

#[test]
fn search_finds_chinese_english_and_numbers() {
    let c = catalog();
    let top = |q: &str| c.search(q, None).first().map(|h| h.id.clone());
    assert_eq!(top("安全护栏").as_deref(), Some("fw2.annex3.15"));
    assert!(
        c.search("guardrail", None)
            .iter()
            .any(|h| h.id == "fw2.annex3.15")
    );
    assert_eq!(
        top("GB/T 45654-2025").as_deref(),
        Some("std.gbt-45654-2025")
    );
    assert_eq!(top("A.1.c").as_deref(), Some("A.1.c"));
    assert!(c.search("   ", None).is_empty());
    let only_clauses = c.search("拒答", Some(anquan_catalog::Kind::Clause));
    assert!(!only_clauses.is_empty() && only_clauses.iter().all(|h| h.kind == "clause"));
}

#[test]
fn expand_risks_walks_groups() {
    let c = catalog();
    assert_eq!(
        c.expand_risks("A.5")
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["A.5.a", "A.5.b"]
    );
    assert_eq!(c.expand_risks("A.1.a").len(), 1);
    assert!(c.expand_risks("nope").is_empty());
}
