//! `anquan scan` and `anquan keywords …` end to end.

use crate::{anquan, json_any, ok, repo, run};

fn fixture_library() -> String {
    repo()
        .join("crates/anquan-detect/tests/fixtures/keyword/library.tsv")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn scan_text_finds_keywords_and_pii_with_original_spans() {
    let lib = fixture_library();
    let text = "网上有人宣传賭*博，我的身份证是11010519491231002X，电话+86 138-1234-5678。";
    let (code, stdout, _) = run(&["scan", text, "--library", &lib, "--lang", "en"]);
    assert_eq!(code, 1, "findings exit 1");
    insta::assert_snapshot!("scan_text_en", stdout);
    let (code, v) = json_any(&["scan", text, "--library", &lib]);
    assert_eq!(code, 1);
    assert_eq!(v["schema"], "anquan.scan.v1");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    for f in findings {
        let (s, e) = (
            f["span"]["start"].as_u64().unwrap() as usize,
            f["span"]["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[s..e], f["matched"].as_str().unwrap());
    }
    let masked = ok(&["scan", text, "--mask", "--no-keywords"]);
    assert_eq!(
        masked.trim_end(),
        "网上有人宣传賭*博，我的身份证是110105********002X，电话138****5678。"
    );
}

#[test]
fn scan_files_stdin_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let ok_file = dir.path().join("a.txt");
    std::fs::write(&ok_file, "没有问题的文字。").unwrap();
    let (code, stdout, _) = run(&["scan", "--file", ok_file.to_str().unwrap(), "--lang", "en"]);
    assert_eq!((code, stdout.trim_end()), (0, "Nothing found."));
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"abc\xff\xfedef").unwrap();
    let (code, _, stderr) = run(&["scan", "--file", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is not UTF-8: invalid byte sequence at byte 3"),
        "{stderr}"
    );
    let out = anquan()
        .args(["scan", "-", "--json"])
        .write_stdin("邮箱 a@example.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["detector"], "pii_email@1");
    let (code, _, stderr) = run(&["scan"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("nothing to scan") && stderr.contains("hint:"),
        "{stderr}"
    );
}

#[test]
fn keywords_check_reports_honestly() {
    let lib = fixture_library();
    let (code, stdout, _) = run(&[
        "keywords",
        "check",
        &lib,
        "--today",
        "2026-11-30",
        "--lang",
        "en",
    ]);
    assert_eq!(code, 1, "a 6-keyword library is far below the standard");
    insta::assert_snapshot!("keywords_check_fixture_en", stdout.replace(&lib, "[LIB]"));
    assert!(stdout.contains("This library is below what GB/T 45654 requires"));
    let (code, stdout, _) = run(&["keywords", "check", &lib, "--today", "2026-12-30", "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let clauses = v["report"]["clauses"].as_array().unwrap();
    let update = clauses
        .iter()
        .find(|c| c["id"] == "gbt45654.keywords.update")
        .unwrap();
    assert_eq!(update["passed"], false, "35 days old");
    // Malformed lines are named and skipped.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lib.tsv");
    std::fs::write(&path, "# name: x\nkeyword\trisk_ids\tseverity\tsource\n好词\tA.1.h\thigh\ts\n坏行\n重复\tA.2.e\tlow\ts\n重复\tA.2.e\tlow\ts\n未知\tA.1.z\tlow\ts\n").unwrap();
    let (code, stdout, _) = run(&["keywords", "check", path.to_str().unwrap(), "--lang", "en"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("line 4: keyword `坏行`: no risk id"),
        "{stdout}"
    );
    assert!(stdout.contains("重复  (lines 5, 6)"), "{stdout}");
    assert!(stdout.contains("line 7: 未知  `A.1.z`"), "{stdout}");
    assert!(stdout.contains("has no `updated:` date"), "{stdout}");
}

#[test]
fn keywords_check_measures_false_positives_on_benign_text() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib.tsv");
    std::fs::write(
        &lib,
        "# name: x\n# updated: 2026-11-25\nkeyword\trisk_ids\tseverity\tsource\n赌博\tA.1.h\thigh\ts\n瞎子\tA.2.e\tlow\ts\n",
    )
    .unwrap();
    let lib = lib.to_str().unwrap();
    // A text file, one text per line; a CSV filtered to its benign rows; JSONL.
    let txt = dir.path().join("benign.txt");
    std::fs::write(
        &txt,
        "反赌博宣传进社区\n\n黑瞎子岛在哪里\n今天天气很好\n禁止赌博\n",
    )
    .unwrap();
    let csv = dir.path().join("benign.csv");
    std::fs::write(
        &csv,
        "id,label,TEXT\n1,0,赌博有害\n2,1,赌博好玩\n3,0,天气\n",
    )
    .unwrap();
    // No allow list: the built-in one holds idioms such as 瞎子摸象.
    let empty = dir.path().join("allow.txt");
    std::fs::write(&empty, "# nothing allowed\n").unwrap();
    let jsonl = dir.path().join("benign.jsonl");
    std::fs::write(&jsonl, "{\"text\": \"瞎子摸象\"}\n{\"prompt\": \"天气\"}\n").unwrap();
    let (code, stdout, stderr) = run(&[
        "keywords",
        "check",
        lib,
        "--today",
        "2026-11-25",
        "--json",
        "--benign",
        txt.to_str().unwrap(),
        "--benign",
        csv.to_str().unwrap(),
        "--benign",
        jsonl.to_str().unwrap(),
        "--benign-where",
        "label=0",
        "--allow",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "two keywords are below the standard: {stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let b = &v["benign"];
    assert_eq!(b["texts"], 8, "4 + 2 (label=0) + 2: {b}");
    assert_eq!(b["texts_flagged"], 5, "{b}");
    let kws: Vec<(String, u64)> = b["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["normalized"].as_str().unwrap().to_owned(),
                k["texts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(kws, [("赌博".to_owned(), 3), ("瞎子".to_owned(), 2)]);
    // The default benign text is the built-in should-not-refuse banks; plain words in English.
    let (_, stdout, _) = run(&[
        "keywords",
        "check",
        lib,
        "--today",
        "2026-11-25",
        "--lang",
        "en",
    ]);
    assert!(
        stdout.contains("False positives: of ") && stdout.contains("builtin:should_not_refuse"),
        "{stdout}"
    );
    // Mistakes are named.
    let (code, _, stderr) = run(&[
        "keywords",
        "check",
        lib,
        "--benign",
        csv.to_str().unwrap(),
        "--benign-column",
        "nope",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no column `nope`"), "{stderr}");
    let (code, _, stderr) = run(&["keywords", "check", lib, "--benign-where", "label=0"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("apply to a CSV given with --benign"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&[
        "keywords",
        "check",
        lib,
        "--benign",
        csv.to_str().unwrap(),
        "--benign-where",
        "label",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("expected COLUMN=VALUE"), "{stderr}");
    std::fs::write(&jsonl, "{\"text\": \"ok\"}\nnot json\n").unwrap();
    let (code, _, stderr) = run(&[
        "keywords",
        "check",
        lib,
        "--benign",
        jsonl.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 2: not JSON"), "{stderr}");
}

#[test]
fn keywords_normalize_shows_each_stage() {
    insta::assert_snapshot!(
        "keywords_normalize_en",
        ok(&[
            "keywords",
            "normalize",
            "賭 * 博 Ｆ.Ｕ.Ｃ.Ｋ ⻛险 弓长三",
            "--lang",
            "en"
        ])
    );
}

#[test]
fn keywords_stats_merge_and_jsonl_libraries() {
    let v = crate::json(&["keywords", "stats", "builtin:starter"]);
    assert_eq!(v["schema"], "anquan.keywords.stats.v1");
    assert!(v["keywords"].as_u64().unwrap() > 1000);
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("mine.jsonl");
    std::fs::write(&j, "{\"library\":{\"name\":\"mine\",\"version\":\"1\",\"updated\":\"2026-11-20\"}}\n{\"keyword\":\"赌博\",\"risk_ids\":[\"A.1.h\",\"A.1.g\"],\"severity\":\"high\",\"source\":\"me\"}\n{\"keyword\":\"新词\",\"risk_ids\":\"A.2.e\",\"severity\":\"low\"}\nnot json\n").unwrap();
    let merged = dir.path().join("merged.tsv");
    let lib = fixture_library();
    let (code, _, stderr) = run(&[
        "keywords",
        "merge",
        &lib,
        j.to_str().unwrap(),
        "--name",
        "acme",
        "--lib-version",
        "2",
        "--updated",
        "2026-11-25",
        "--output",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "one malformed line was left out");
    assert!(stderr.contains("line 4: not JSON"), "{stderr}");
    let text = std::fs::read_to_string(&merged).unwrap();
    assert!(text.starts_with(
        "# anquan keyword library\n# name: acme\n# version: 2\n# updated: 2026-11-25\n"
    ));
    assert!(
        text.contains("\n赌博\tA.1.h,A.1.g\thigh\tfixture+me\tnormalized\n"),
        "{text}"
    );
    assert!(
        text.contains("\n新词\tA.2.e\tlow\t\tnormalized\n"),
        "{text}"
    );
    // The merged file is itself a valid library.
    let (_, stdout, stderr) = run(&[
        "keywords",
        "check",
        merged.to_str().unwrap(),
        "--today",
        "2026-11-26",
        "--lang",
        "en",
    ]);
    assert!(stdout.contains("7 distinct keywords"), "{stdout}{stderr}");
    // And a JSONL library scans.
    let (code, stdout, _) = run(&[
        "scan",
        "新词出现",
        "--library",
        j.to_str().unwrap(),
        "--no-pii",
        "--lang",
        "en",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("keyword@1"));
}
