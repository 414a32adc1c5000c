//! `anquan grade` end to end.

use crate::{json, ok, repo, run};

fn example(name: &str) -> String {
    repo()
        .join("examples/intake")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn grade_example_profiles() {
    insta::assert_snapshot!(
        "grade_public_chatbot_en",
        ok(&[
            "grade",
            "--answers",
            &example("public-chatbot.toml"),
            "--lang",
            "en"
        ])
    );
    insta::assert_snapshot!(
        "grade_driving_zh",
        ok(&[
            "grade",
            "--answers",
            &example("driving-assistance-perception.toml")
        ])
    );
}

#[test]
fn grade_json_shape() {
    let v = json(&[
        "grade",
        "--answers",
        &example("medical-information-assistant.toml"),
    ]);
    assert_eq!(v["schema"], "anquan.grade.v1");
    assert_eq!(v["level"], 3);
    assert_eq!(v["lane_id"], "grade.lane.joint");
    assert_eq!(v["gbt45654_applies"], true);
    assert!(
        v["notice"]["en"]
            .as_str()
            .unwrap()
            .contains("No national grading formula")
    );
    assert!(
        v["clauses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"].is_string())
    );
}

#[test]
fn grade_questions_lists_keys_and_values() {
    let text = ok(&["grade", "--questions", "--lang", "en"]);
    assert!(
        text.contains("sector (scenario)") && text.contains("dual_use_weapons ="),
        "{text}"
    );
    let v = json(&["grade", "--questions"]);
    assert_eq!(v["schema"], "anquan.grade.questions.v1");
}

#[test]
fn grade_bad_answers_file_names_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "profile = \"x\"\n[answers]\nsector = \"banking\"\n").unwrap();
    let p = path.to_str().unwrap();
    let (code, stdout, stderr) = run(&["grade", "--answers", p]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert_eq!(
        stderr.lines().next().unwrap(),
        format!(
            "error: answers file `{p}`: key `sector`: unknown option `banking`; expected one of office, consumer, education_commerce, media_public_info, medical_psych, finance, transport_industry, government_justice, critical_infrastructure, dual_use_weapons"
        )
    );
    std::fs::write(&path, "[answers\n").unwrap();
    let (code, _, stderr) = run(&["grade", "--answers", p]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot be read: TOML parse error at line 1"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["grade", "--answers", "/nonexistent/answers.toml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("failed to read answers file `/nonexistent/answers.toml`")
            && stderr.contains("caused by:"),
        "{stderr}"
    );
}

#[test]
fn grade_without_answers_off_a_terminal_explains_itself() {
    let (code, _, stderr) = run(&["grade"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not an interactive terminal"), "{stderr}");
    assert!(stderr.contains("hint: pass an answers file"), "{stderr}");
}

#[test]
fn grade_follows_an_overridden_rubric() {
    let dir = tempfile::tempdir().unwrap();
    crate::catalog::copy_dir(&repo().join("crates/anquan-catalog/data"), dir.path());
    let rubric = dir.path().join("grading/rubric.toml");
    // A stricter organisation: every public generative AI service is at least level 3.
    let text = std::fs::read_to_string(&rubric).unwrap();
    let text = text.replacen(
        "floor = 2\nreason.zh = \"面向公众",
        "floor = 3\nreason.zh = \"面向公众",
        1,
    );
    std::fs::write(&rubric, text).unwrap();
    let v = json(&[
        "grade",
        "--answers",
        &example("public-chatbot.toml"),
        "--catalog",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(v["level"], 3);
    assert_eq!(v["computed_level"], 2);
}
