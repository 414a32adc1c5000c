//! `anquan catalog …` end to end.

use crate::{json, ok, repo, run};

#[test]
fn risks_text_and_tree() {
    insta::assert_snapshot!(
        "risks_gbt45654_tree_zh",
        ok(&["catalog", "risks", "--framework", "gbt45654", "--tree"])
    );
    insta::assert_snapshot!(
        "risks_fw2_en",
        ok(&["catalog", "risks", "--framework", "2.0", "--lang", "en"])
    );
    insta::assert_snapshot!(
        "risks_fw1_tree_en",
        ok(&[
            "catalog",
            "risks",
            "--framework",
            "1.0",
            "--tree",
            "--lang",
            "en"
        ])
    );
}

#[test]
fn risks_json_shape() {
    let v = json(&["catalog", "risks", "--framework", "gbt45654"]);
    assert_eq!(v["schema"], "anquan.catalog.risks.v1");
    assert_eq!(v["framework"], "gbt45654");
    let risks = v["risks"].as_array().unwrap();
    assert_eq!(risks.iter().filter(|r| r["level"] == "risk").count(), 31);
    assert_eq!(risks[0]["kind"], "risk");
    assert!(
        risks
            .iter()
            .all(|r| r["name"]["zh"].is_string() && r["name"]["en"].is_string())
    );
}

#[test]
fn show_any_record_with_links() {
    insta::assert_snapshot!("show_A.1.c_zh", ok(&["catalog", "show", "A.1.c"]));
    insta::assert_snapshot!(
        "show_clause_en",
        ok(&[
            "catalog",
            "show",
            "gbt45654.eval.should_refuse",
            "--lang",
            "en"
        ])
    );
    insta::assert_snapshot!(
        "show_standard_en",
        ok(&["catalog", "show", "std.gbt-45654-2025", "--lang", "en"])
    );
    let v = json(&["catalog", "show", "fw2.6.2.7"]);
    assert_eq!(v["schema"], "anquan.catalog.show.v1");
    assert_eq!(v["record"]["kind"], "guideline");
    assert_eq!(v["file"], "fw2/guidelines.toml");
}

#[test]
fn show_unknown_id_fails_with_suggestions() {
    let (code, stdout, stderr) = run(&["catalog", "show", "A.1.z"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("error: no catalog record has the id `A.1.z`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: did you mean"), "{stderr}");
}

#[test]
fn map_a_risk() {
    insta::assert_snapshot!(
        "map_A.1.c_en",
        ok(&["catalog", "map", "A.1.c", "--lang", "en"])
    );
    let v = json(&["catalog", "map", "fw2.3.1.1.e"]);
    assert_eq!(v["schema"], "anquan.catalog.map.v1");
    assert!(!v["measures"].as_array().unwrap().is_empty());
    assert!(v["tested_now"].is_boolean());
    let (code, _, stderr) = run(&["catalog", "map", "gbt45654.keywords.size"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a risk"), "{stderr}");
}

#[test]
fn map_untested_is_honest() {
    let text = ok(&[
        "catalog",
        "map",
        "--untested",
        "--framework",
        "2.0",
        "--lang",
        "en",
    ]);
    insta::assert_snapshot!("map_untested_fw2_en", text);
    let v = json(&["catalog", "map", "--untested", "--framework", "2.0"]);
    let untested = v["untested"].as_array().unwrap().len();
    assert!(untested > 0 && untested < v["total"].as_u64().unwrap() as usize);
}

#[test]
fn standards_directions_clauses() {
    insta::assert_snapshot!("standards_zh", ok(&["catalog", "standards"]));
    insta::assert_snapshot!(
        "standards_published_en",
        ok(&[
            "catalog",
            "standards",
            "--status",
            "published",
            "--lang",
            "en"
        ])
    );
    insta::assert_snapshot!("directions_zh", ok(&["catalog", "directions"]));
    insta::assert_snapshot!("clauses_en", ok(&["catalog", "clauses", "--lang", "en"]));
    let v = json(&["catalog", "clauses"]);
    let clauses = v["clauses"].as_array().unwrap();
    assert!(
        clauses
            .iter()
            .all(|c| ["verified", "secondary", "unverified"]
                .contains(&c["status"].as_str().unwrap()))
    );
    let v = json(&["catalog", "directions"]);
    assert_eq!(v["parts"].as_array().unwrap().len(), 5);
}

#[test]
fn search_in_both_languages() {
    insta::assert_snapshot!("search_guardrail_zh", ok(&["catalog", "search", "护栏"]));
    insta::assert_snapshot!(
        "search_refusal_en",
        ok(&[
            "catalog", "search", "refusal", "--kind", "clause", "--lang", "en"
        ])
    );
    let (code, _, stderr) = run(&["catalog", "search", "x", "--kind", "nope"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown record kind `nope`") && stderr.contains("hint: kinds are: risk"),
        "{stderr}"
    );
    let v = json(&["catalog", "search", "no-such-thing-anywhere"]);
    assert_eq!(v["total"], 0);
}

#[test]
fn export_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.json");
    ok(&[
        "catalog",
        "export",
        "--format",
        "json",
        "--output",
        path.to_str().unwrap(),
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["schema"], "anquan.catalog.v1");
    let records = v["records"].as_array().unwrap();
    assert!(records.len() > 500);
    assert!(v["rubric"]["question"].is_array());
    let csv = ok(&["catalog", "export", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("kind,id,name_zh,name_en,description_zh,description_en,source")
    );
    assert!(csv.contains("\nrisk,A.1.c,"));
    // A record count line per record (quoted fields never hold raw newlines in our data).
    assert_eq!(csv.lines().count() - 1, records.len());
}

#[test]
fn validate_the_embedded_and_a_broken_catalog() {
    let out = ok(&["catalog", "validate", "--lang", "en"]);
    assert!(out.starts_with("catalog `embedded` is valid:"), "{out}");
    // A user's copy with two mistakes.
    let dir = tempfile::tempdir().unwrap();
    let src = repo().join("crates/anquan-catalog/data");
    copy_dir(&src, dir.path());
    let risks = dir.path().join("gbt45654/risks.toml");
    let text = std::fs::read_to_string(&risks).unwrap().replacen(
        "level = \"risk\"",
        "level = \"leaf\"",
        1,
    );
    std::fs::write(&risks, text).unwrap();
    let clauses = dir.path().join("gbt45654/clauses.toml");
    let text = std::fs::read_to_string(&clauses).unwrap().replacen(
        "standard = \"std.gbt-45654-2025\"",
        "standard = \"std.gbt-99999\"",
        1,
    );
    std::fs::write(&clauses, text).unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, stdout, _) = run(&["catalog", "validate", "--catalog", d, "--lang", "en"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("`gbt45654/risks.toml`: cannot be read: TOML parse error"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unknown variant `leaf`, expected one of `class`, `group`, `risk`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`standard` refers to `std.gbt-99999`, which does not exist"),
        "{stdout}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&run(&["catalog", "validate", "--catalog", d, "--json"]).1).unwrap();
    assert_eq!(v["valid"], false);
    assert!(
        v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["file"] == "gbt45654/clauses.toml")
    );
    // Other commands refuse a broken catalog and say where to look.
    let (code, _, stderr) = run(&["catalog", "risks", "--catalog", d]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!("error: failed to load the catalog from `{d}`")),
        "{stderr}"
    );
    assert!(
        stderr.contains("- `gbt45654/risks.toml`: cannot be read"),
        "{stderr}"
    );
    // A folder that is not a catalog.
    let (code, _, stderr) = run(&[
        "catalog",
        "validate",
        "--catalog",
        repo().join("examples").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is not a catalog folder: it has no `catalog.toml`"),
        "{stderr}"
    );
}

#[test]
fn an_edited_catalog_is_used_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("crates/anquan-catalog/data"), dir.path());
    let clauses = dir.path().join("gbt45654/clauses.toml");
    let text =
        std::fs::read_to_string(&clauses)
            .unwrap()
            .replacen("value = 10000", "value = 12000", 1);
    std::fs::write(&clauses, text).unwrap();
    let out = ok(&[
        "catalog",
        "show",
        "gbt45654.keywords.size",
        "--catalog",
        dir.path().to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert!(out.contains("≥ 12000 keywords"), "{out}");
}

pub(crate) fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
