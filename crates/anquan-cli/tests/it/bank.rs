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
