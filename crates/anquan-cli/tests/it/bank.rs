//! `anquan bank …` end to end.

use crate::{json, ok, repo, run};

#[test]
fn builtin_chinese_banks_pass() {
    let (code, stdout, stderr) = run(&[
        "bank",
        "check",
        "builtin:generated_content",
        "builtin:should_refuse",
        "builtin:should_not_refuse",
        "--today",
        "2026-12-01",
        "--lang",
        "en",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    insta::assert_snapshot!("bank_check_builtin_en", stdout);
}

#[test]
fn a_short_bank_fails_plainly() {
    let path = repo().join("crates/anquan-eval/tests/fixtures/short_should_refuse.jsonl");
    let (code, stdout, _) = run(&[
        "bank",
        "check",
        path.to_str().unwrap(),
        "--today",
        "2026-12-01",
        "--lang",
        "en",
    ]);
    assert_eq!(code, 1);
    let stdout = stdout.replace(path.to_str().unwrap(), "[FIXTURE]");
    insta::assert_snapshot!("bank_check_short_en", stdout);
    assert!(stdout.contains("This bank falls short of GB/T 45654"));
    assert!(stdout.contains("line 6: not a valid item"));
}

#[test]
fn list_show_stats_sample_export() {
    let v = json(&["bank", "list"]);
    assert_eq!(v["banks"].as_array().unwrap().len(), 6);
    let item = json(&["bank", "show", "sr-A.1.h-0001"]);
    assert_eq!(item["item"]["bank"], "should_refuse");
    let (code, _, stderr) = run(&["bank", "show", "sr-A.9.z-0001"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no bank item has the id"), "{stderr}");
    let stats = json(&["bank", "stats", "builtin:should_not_refuse"]);
    assert_eq!(stats["by_risk"].as_object().unwrap().len(), 13);
    let a = ok(&[
        "bank",
        "sample",
        "builtin:should_refuse",
        "--n",
        "300",
        "--seed",
        "3",
    ]);
    let b = ok(&[
        "bank",
        "sample",
        "builtin:should_refuse",
        "--n",
        "300",
        "--seed",
        "3",
    ]);
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 300);
    let csv = ok(&[
        "bank",
        "export",
        "builtin:should_not_refuse.en",
        "--format",
        "csv",
    ]);
    assert!(csv.starts_with("id,bank,risk_ids,lang,style,expected,prompt,source,license,added\n"));
    let (code, _, stderr) = run(&["bank", "check", "builtin:nope"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("hint: built-in banks: builtin:generated_content"),
        "{stderr}"
    );
}

#[test]
fn import_xlsx_and_csv_with_a_column_mapping() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["xlsx", "csv"] {
        let src = repo().join(format!(
            "crates/anquan-eval/tests/fixtures/import_should_refuse.{ext}"
        ));
        let out = dir.path().join(format!("sr-{ext}.jsonl"));
        let (code, _, stderr) = run(&[
            "bank",
            "import",
            src.to_str().unwrap(),
            "--bank",
            "should_refuse",
            "--map",
            "prompt=问题",
            "--map",
            "risk=风险类别",
            "--map",
            "style=题型",
            "--added",
            "2026-11-25",
            "--output",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "two rows are skipped: {stderr}");
        assert!(
            stderr.contains("row 6: `不存在的风险` is no annex-A risk id, name or alias (skipped)"),
            "{stderr}"
        );
        assert!(
            stderr.contains("row 7: no prompt in column `问题` (skipped)"),
            "{stderr}"
        );
        assert!(
            stderr.contains("imported 4 of 6 rows; 2 skipped"),
            "{stderr}"
        );
        let text = std::fs::read_to_string(&out).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            ids,
            [
                "sr-A.1.d-0001",
                "sr-A.1.g-0001",
                "sr-A.2.d-0001",
                "sr-A.2.e-0001"
            ],
            "names, ids and 、-separated lists resolve"
        );
        // The imported bank checks (and falls short of the standard, with a clear account).
        let (code, stdout, _) = run(&[
            "bank",
            "check",
            out.to_str().unwrap(),
            "--today",
            "2026-12-01",
            "--lang",
            "en",
        ]);
        assert_eq!(code, 1);
        assert!(stdout.contains("4 items, required ≥ 500"), "{stdout}");
    }
    let (code, _, stderr) = run(&[
        "bank",
        "import",
        "x.csv",
        "--bank",
        "should_refuse",
        "--map",
        "question",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("expected FIELD=COLUMN"), "{stderr}");
}
