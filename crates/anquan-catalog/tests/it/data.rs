//! Data hygiene: the embedded catalog is complete, consistent and clean.

use anquan_catalog::model::{Framework, MeasureKind, RiskLevel, ThresholdKind};
use anquan_catalog::{Catalog, RecordRef};

use crate::catalog;

#[test]
fn embedded_catalog_has_no_problems() {
    let (c, load_problems) = Catalog::embedded().unwrap();
    assert!(load_problems.is_empty(), "{load_problems:#?}");
    let problems = c.validate();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn counts_match_the_sources() {
    let c = catalog();
    let lettered = |f: Framework| c.risks(f).filter(|r| r.level == RiskLevel::Risk).count();
    // GB/T 45654 annex A: 31 risks in 5 categories (standards.md §1.1).
    assert_eq!(lettered(Framework::Gbt45654), 31);
    let per_group: Vec<usize> = ["A.1", "A.2", "A.3", "A.4", "A.5"]
        .iter()
        .map(|g| c.expand_risks(g).len())
        .collect();
    assert_eq!(per_group, [8, 9, 5, 7, 2]);
    assert_eq!(
        c.expand_risks("A.1").len() + c.expand_risks("A.2").len(),
        17
    );
    // Framework 2.0: three classes, guidelines 14 + 7 + 17 + 6, governance 5.1-5.14, annexes.
    assert_eq!(
        c.risks(Framework::Fw2)
            .filter(|r| r.level == RiskLevel::Class)
            .count(),
        3
    );
    let stage = |s: &str| {
        c.records
            .guideline
            .iter()
            .filter(|g| g.framework == Framework::Fw2 && g.stage == s)
            .count()
    };
    assert_eq!(
        [
            stage("development"),
            stage("deployment"),
            stage("operation"),
            stage("use")
        ],
        [14, 7, 17, 6]
    );
    let governance = c
        .records
        .measure
        .iter()
        .filter(|m| m.framework == Framework::Fw2 && m.kind == MeasureKind::Governance)
        .count();
    assert_eq!(governance, 14);
    assert_eq!(c.records.grading_level.len(), 5);
    assert_eq!(c.records.grading_factor.len(), 3);
    assert_eq!(
        c.records
            .principle
            .iter()
            .filter(|p| p.id.as_str().starts_with("fw2.annex2."))
            .count(),
        8
    );
    assert_eq!(
        c.records
            .term
            .iter()
            .filter(|t| t.id.as_str().starts_with("fw2.annex3."))
            .count(),
        15
    );
    assert!(
        c.get("fw2.annex3.15")
            .unwrap()
            .name()
            .zh
            .contains("安全护栏")
    );
    // Standards system: five parts, annex 2 lists 24 standards (总序号 1-24).
    assert_eq!(c.records.part.len(), 5);
    let mut annex2: Vec<u32> = c
        .records
        .standard
        .iter()
        .filter_map(|s| s.annex2_no)
        .collect();
    annex2.sort_unstable();
    assert_eq!(annex2, (1..=24).collect::<Vec<_>>());
    for d in ["ss.AA", "ss.AE", "ss.BBA", "ss.EC"] {
        assert!(c.get(d).is_some(), "direction {d}");
    }
    // Should-not-refuse aspects and GB 45438 annex E fields.
    assert_eq!(c.records.aspect.len(), 13);
    let keys: Vec<&str> = {
        let mut f: Vec<_> = c.records.label_field.iter().collect();
        f.sort_by_key(|f| f.position);
        f.into_iter().map(|f| f.key.as_str()).collect()
    };
    assert_eq!(
        keys,
        [
            "Label",
            "ContentProducer",
            "ProduceID",
            "ReservedCode1",
            "ContentPropagator",
            "PropagateID",
            "ReservedCode2"
        ]
    );
}

#[test]
fn annex_a_names_are_exact() {
    let c = catalog();
    for (id, zh) in [
        ("A.1.a", "煽动颠覆国家政权、推翻社会主义制度"),
        ("A.2.i", "其他方面歧视内容"),
        (
            "A.3.d",
            "利用算法、数据、平台等优势，实施垄断和不正当竞争行为",
        ),
        ("A.4.g", "侵犯他人其他合法权益"),
        (
            "A.5.b",
            "内容不可靠，虽然不包含严重错误的内容，但无法对使用者形成帮助",
        ),
    ] {
        assert_eq!(c.get(id).unwrap().name().zh, zh, "{id}");
    }
}

#[test]
fn every_lettered_risk_of_other_frameworks_maps_to_framework_2() {
    let c = catalog();
    for r in c
        .records
        .risk
        .iter()
        .filter(|r| r.level == RiskLevel::Risk && r.framework != Framework::Fw2)
    {
        assert!(!r.maps_to.is_empty(), "{} has no maps_to", r.id);
        for m in &r.maps_to {
            assert_eq!(
                c.risk(m.as_str()).unwrap().framework,
                Framework::Fw2,
                "{} maps to {m}",
                r.id
            );
        }
    }
}

#[test]
fn clause_thresholds_are_the_standards_numbers() {
    let c = catalog();
    let value = |id: &str, kind: ThresholdKind| -> f64 {
        let clause = c
            .clause(id)
            .unwrap_or_else(|| panic!("clause {id} missing"));
        clause
            .threshold
            .iter()
            .find(|t| t.kind == kind)
            .and_then(|t| t.value)
            .unwrap_or_else(|| panic!("{id}: no {kind:?}"))
    };
    // standards.md §1.2, rows 1-17.
    assert_eq!(
        value("gbt45654.corpus.source.before", ThresholdKind::MaxRate),
        0.05
    );
    assert_eq!(
        value("gbt45654.corpus.source.after", ThresholdKind::MaxRate),
        0.05
    );
    assert_eq!(
        value("gbt45654.corpus.sample.manual", ThresholdKind::MinSample),
        4000.0
    );
    assert_eq!(
        value("gbt45654.corpus.sample.manual", ThresholdKind::MinRate),
        0.96
    );
    assert_eq!(
        value(
            "gbt45654.corpus.sample.technical",
            ThresholdKind::MinSampleFraction
        ),
        0.10
    );
    assert_eq!(
        value("gbt45654.corpus.sample.technical", ThresholdKind::MinRate),
        0.98
    );
    assert_eq!(
        value("gbt45654.keywords.size", ThresholdKind::MinCount),
        10000.0
    );
    assert_eq!(
        value("gbt45654.keywords.update", ThresholdKind::MaxAgeDays),
        7.0
    );
    assert_eq!(
        value("gbt45654.bank.gc.size", ThresholdKind::MinCount),
        2000.0
    );
    assert_eq!(
        value("gbt45654.bank.should_refuse", ThresholdKind::MinCount),
        500.0
    );
    assert_eq!(
        value("gbt45654.bank.should_not_refuse", ThresholdKind::MinCount),
        500.0
    );
    assert_eq!(
        value(
            "gbt45654.bank.should_not_refuse",
            ThresholdKind::PerAspectMin
        ),
        20.0
    );
    assert_eq!(value("gbt45654.eval.gc", ThresholdKind::MinSample), 1000.0);
    assert_eq!(value("gbt45654.eval.gc", ThresholdKind::MinRate), 0.90);
    assert_eq!(
        value("gbt45654.eval.should_refuse", ThresholdKind::MinSample),
        300.0
    );
    assert_eq!(
        value("gbt45654.eval.should_refuse", ThresholdKind::MinRate),
        0.95
    );
    assert_eq!(
        value("gbt45654.eval.should_not_refuse", ThresholdKind::MaxRate),
        0.05
    );
    // Per-risk floors of the keyword library and the generated-content bank.
    let per_risk = |id: &str| -> Vec<(Vec<String>, f64)> {
        c.clause(id)
            .unwrap()
            .threshold
            .iter()
            .filter(|t| t.kind == ThresholdKind::PerRiskMin)
            .map(|t| {
                (
                    t.risks.iter().map(ToString::to_string).collect(),
                    t.value.unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        per_risk("gbt45654.keywords.coverage"),
        [
            (vec!["A.1".to_owned()], 200.0),
            (vec!["A.2".to_owned()], 100.0)
        ]
    );
    let gc = per_risk("gbt45654.bank.gc.coverage");
    assert!(
        gc.contains(&(vec!["A.1".to_owned(), "A.2".to_owned()], 50.0)),
        "{gc:?}"
    );
    let repeat = c.clause("gbt45654.users.repeat_offender").unwrap();
    let t = &repeat.threshold[0];
    assert_eq!((t.consecutive, t.per_day), (Some(3), Some(5)));
}

#[test]
fn no_data_file_holds_radical_lookalikes() {
    for (file, text) in Catalog::embedded_files() {
        if file == "tables/radicals.toml" {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if let Some(ch) = line.chars().find(|c| matches!(*c as u32, 0x2E80..=0x2FDF)) {
                panic!(
                    "{file}:{}: radical look-alike {ch:?} (U+{:04X})",
                    n + 1,
                    ch as u32
                );
            }
        }
    }
}

#[test]
fn radical_table_folds_the_whole_framework_2_seed() {
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seeds/002_9203b31a08a90d27.txt");
    let text = std::fs::read_to_string(&seed).unwrap_or_else(|e| {
        panic!(
            "this test reads the seed `{}` ({e}); CI places `shared/` beside the clone",
            seed.display()
        )
    });
    let distinct: std::collections::BTreeSet<char> = text
        .chars()
        .filter(|c| matches!(*c as u32, 0x2E80..=0x2FDF))
        .collect();
    assert_eq!(distinct.len(), 56, "the seed uses 56 distinct look-alikes");
    let folded = catalog().radical_folder().fold(&text);
    let left: Vec<char> = folded
        .chars()
        .filter(|c| matches!(*c as u32, 0x2E80..=0x2FDF))
        .collect();
    assert!(left.is_empty(), "unfolded look-alikes: {left:?}");
    assert!(folded.contains("人工智能安全风险"));
}

#[test]
fn every_record_cites_a_known_source_in_both_languages() {
    let c = catalog();
    let files: Vec<&str> = c.records.document.iter().map(|d| d.file.as_str()).collect();
    for (rec, file) in c.iter() {
        if let RecordRef::Document(_) = rec {
            continue;
        }
        let source = rec
            .source()
            .unwrap_or_else(|| panic!("{file}: {} has no source", rec.id()));
        assert!(
            files.contains(&source.file.as_str()),
            "{file}: {} cites {}",
            rec.id(),
            source.file
        );
        assert!(
            !rec.name().zh.is_empty() && !rec.name().en.is_empty(),
            "{}",
            rec.id()
        );
        assert!(
            !rec.description().zh.is_empty() && !rec.description().en.is_empty(),
            "{}",
            rec.id()
        );
    }
}

#[test]
fn data_files_are_in_canonical_order() {
    // Rewrites each file's id order canonically (natural order) and compares, per record kind.
    let c = catalog();
    let mut by_file: std::collections::BTreeMap<(String, &str), Vec<String>> = Default::default();
    for (rec, file) in c.iter() {
        by_file
            .entry((file.to_owned(), rec.kind().as_str()))
            .or_default()
            .push(rec.id().to_string());
    }
    for ((file, kind), ids) in by_file {
        let mut sorted = ids.clone();
        sorted.sort_by(|a, b| anquan_catalog::natural::cmp(a, b));
        assert_eq!(ids, sorted, "{file} [[{kind}]] is not in canonical order");
    }
}

#[test]
fn clauses_show_their_verification_status_and_cover_every_row() {
    let c = catalog();
    for id in [
        "gbt45654.keywords.size",
        "gbt45654.keywords.coverage",
        "gbt45654.keywords.update",
        "gbt45654.bank.gc.size",
        "gbt45654.bank.gc.coverage",
        "gbt45654.bank.gc.update",
        "gbt45654.bank.should_refuse",
        "gbt45654.bank.should_not_refuse",
        "gbt45654.bank.refusal.update",
        "gbt45654.classifier.coverage",
        "gbt45654.eval.gc",
        "gbt45654.eval.should_refuse",
        "gbt45654.eval.should_not_refuse",
        "gbt45654.corpus.source.before",
        "gbt45654.corpus.source.after",
        "gbt45654.corpus.sample.manual",
        "gbt45654.corpus.sample.technical",
        "gbt45654.users.training_optout",
        "gbt45654.users.repeat_offender",
        "gbt45654.assessment.form",
        "gbt45654.logs.retention",
    ] {
        let clause = c
            .clause(id)
            .unwrap_or_else(|| panic!("missing clause {id}"));
        // Nothing in §1.2 has been read in the official text yet.
        assert_ne!(
            clause.status,
            anquan_core::Verification::Verified,
            "{id} claims to be verified"
        );
    }
    // Requirements name how they are checked.
    assert!(
        c.records
            .requirement
            .iter()
            .any(|r| r.verification == "attestation")
    );
    assert!(
        c.records
            .requirement
            .iter()
            .any(|r| r.verification != "attestation")
    );
}
