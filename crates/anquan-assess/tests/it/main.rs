//! Grading tests: the example intake profiles graded and snapshotted, their ordering, and the
//! errors a bad answers file gets.

use std::fmt::Write as _;
use std::path::PathBuf;

use anquan_assess::{Answers, AnswersFormat, Grade, GradeError, grade};
use anquan_catalog::Catalog;

fn catalog() -> Catalog {
    Catalog::load(None).expect("embedded catalog is valid")
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/intake")
}

fn grade_file(name: &str) -> Grade {
    let path = examples().join(name);
    let answers = Answers::load(&path).unwrap();
    grade(&catalog(), &answers, name).unwrap()
}

/// A compact, reviewable rendering of a grade for snapshots.
fn summary(g: &Grade) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "profile: {}", g.profile.as_deref().unwrap_or("-"));
    let _ = writeln!(
        s,
        "level: {} {} (computed {}, weighted {:.3})",
        g.level, g.level_name.en, g.computed_level, g.weighted_score
    );
    for f in &g.factors {
        let _ = writeln!(
            s,
            "factor {}: {}/5 x {} set by {}",
            f.factor,
            f.score,
            f.weight,
            f.set_by.join(", ")
        );
    }
    for f in &g.floors {
        let _ = writeln!(s, "floor {} from {}", f.floor, f.answer);
    }
    let _ = writeln!(s, "lane: {} ({})", g.lane_id, g.lane.en);
    let _ = writeln!(s, "flags: {}", g.flags.join(", "));
    let _ = writeln!(
        s,
        "drivers: {}",
        g.drivers
            .iter()
            .map(|d| format!("{}={}", d.key, d.value))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "controls ({}): {}",
        g.controls.len(),
        g.controls
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = writeln!(
        s,
        "gbt45654 applies: {} ({} clauses, {} requirements, {} label rules)",
        g.gbt45654_applies,
        g.clauses.len(),
        g.requirements.len(),
        g.label_rules.len()
    );
    s
}

const PROFILES: &[&str] = &[
    "internal-writing-assistant",
    "public-chatbot",
    "medical-information-assistant",
    "financial-risk-control",
    "autonomous-agent",
    "driving-assistance-perception",
];

#[test]
fn example_profiles_grade_as_snapshotted() {
    for name in PROFILES {
        let g = grade_file(&format!("{name}.toml"));
        insta::assert_snapshot!(format!("grade_{}", name.replace('-', "_")), summary(&g));
    }
}

#[test]
fn levels_are_ordered_sensibly_across_profiles() {
    let level = |name: &str| grade_file(&format!("{name}.toml")).level;
    let writing = level("internal-writing-assistant");
    let chatbot = level("public-chatbot");
    let medical = level("medical-information-assistant");
    let finance = level("financial-risk-control");
    let agent = level("autonomous-agent");
    let driving = level("driving-assistance-perception");
    assert!(
        writing < chatbot,
        "an internal tool is below a public chatbot"
    );
    assert!(
        chatbot < medical,
        "medical information is above a general chatbot"
    );
    assert!(
        medical < finance,
        "an automatic credit decision model is above advice"
    );
    assert!(
        medical < agent,
        "an agent that pays and runs code is above an advisor"
    );
    assert!(
        driving >= finance && driving >= medical,
        "physical safety at scale is at least as high"
    );
    assert!(writing == 1, "an internal writing assistant is low risk");
}

#[test]
fn every_example_file_parses_and_answers_every_question() {
    let rubric_keys: Vec<String> = catalog()
        .rubric
        .unwrap()
        .question
        .iter()
        .map(|q| q.key.clone())
        .collect();
    let mut count = 0;
    for entry in std::fs::read_dir(examples()).unwrap() {
        let path = entry.unwrap().path();
        let answers = Answers::load(&path).unwrap();
        let keys: Vec<&String> = answers.answers.keys().collect();
        assert_eq!(keys.len(), rubric_keys.len(), "{}", path.display());
        assert!(
            answers.profile.is_some(),
            "{} has a profile name",
            path.display()
        );
        count += 1;
    }
    assert!(count >= 6);
}

#[test]
fn public_genai_brings_in_the_gbt45654_clauses_and_labels() {
    let g = grade_file("public-chatbot.toml");
    assert!(g.gbt45654_applies);
    assert!(
        g.clauses
            .iter()
            .any(|c| c.id == "gbt45654.eval.should_refuse")
    );
    assert!(!g.label_rules.is_empty());
    let g = grade_file("financial-risk-control.toml");
    assert!(!g.gbt45654_applies);
    assert!(g.clauses.is_empty());
}

#[test]
fn floors_raise_the_level_and_say_why() {
    let c = catalog();
    let mut answers = Answers::load(&examples().join("internal-writing-assistant.toml")).unwrap();
    answers
        .answers
        .insert("sector".into(), "dual_use_weapons".into());
    let g = grade(&c, &answers, "edited").unwrap();
    assert_eq!(g.level, 5);
    assert!(g.computed_level < 5);
    assert_eq!(g.floors.len(), 1);
    assert!(g.floors[0].reason.en.contains("5.11"));
    assert_eq!(g.lane_id, "grade.lane.deep");
}

#[test]
fn bad_answers_name_the_file_key_and_expectation() {
    let c = catalog();
    let base = std::fs::read_to_string(examples().join("public-chatbot.toml")).unwrap();

    let text = base.replace("sector = \"consumer\"", "sector = \"banking\"");
    let err = grade(
        &c,
        &Answers::parse(&text, AnswersFormat::Toml, "a.toml").unwrap(),
        "a.toml",
    )
    .unwrap_err();
    assert!(matches!(err, GradeError::UnknownOption { .. }));
    let msg = err.to_string();
    assert!(msg.starts_with("answers file `a.toml`: key `sector`: unknown option `banking`; expected one of office, consumer"), "{msg}");

    let text = base.replace("sector = \"consumer\"", "sectr = \"consumer\"");
    let err = grade(
        &c,
        &Answers::parse(&text, AnswersFormat::Toml, "b.toml").unwrap(),
        "b.toml",
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "answers file `b.toml`: unknown question `sectr`; expected one of sector,"
        ),
        "{err}"
    );

    let text = base.replace("tools = \"read_only\"\n", "");
    let err = grade(
        &c,
        &Answers::parse(&text, AnswersFormat::Toml, "c.toml").unwrap(),
        "c.toml",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "answers file `c.toml`: missing answers for `tools`"
    );

    let err = Answers::parse("profile = 3", AnswersFormat::Toml, "d.toml").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("answers file `d.toml` cannot be read: TOML parse error at line 1"),
        "{err}"
    );

    let err = Answers::parse(
        "{\"answers\": {\"sector\": 1}}",
        AnswersFormat::Json,
        "e.json",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("e.json") && err.to_string().contains("line 1"),
        "{err}"
    );

    let err = Answers::load(&examples().join("no-such-file.toml")).unwrap_err();
    assert!(
        err.to_string().starts_with("failed to read answers file"),
        "{err}"
    );
}

#[test]
fn json_answers_work_too() {
    let json = r#"{"profile": "x", "answers": {"sector": "office", "impact": "advice", "people": "staff",
        "autonomy": "advisory", "tools": "none", "users": "team", "embedding": "standalone", "genai": "no",
        "data": "none", "model": "none", "cross_border": "no"}}"#;
    let answers = Answers::parse(json, AnswersFormat::Json, "x.json").unwrap();
    let g = grade(&catalog(), &answers, "x.json").unwrap();
    assert_eq!((g.level, g.weighted_score), (1, 1.0));
}
