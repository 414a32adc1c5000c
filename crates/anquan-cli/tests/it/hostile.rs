//! Hostile input at scale (issue 5): a keyword library of a million entries, one 32 MB line with
//! no newline, deeply repeated evasion characters, and a bank whose last line is cut off. Each
//! must finish in bounded time with a clear result or a clear error, never a panic.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::run;

#[test]
fn a_million_keyword_library_loads_and_scans() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("million.tsv");
    let mut tsv = String::from(
        "# name: hostile\n# version: 1\n# updated: 2026-11-25\nkeyword\trisk_ids\tseverity\tsource\n",
    );
    // Distinct CJK bigrams and trigrams from the CJK block, deterministic.
    let base = 0x4E00u32;
    let mut n = 0u32;
    'outer: for a in 0..2000u32 {
        for b in 0..500u32 {
            let s: String = [base + a, base + 2000 + b]
                .iter()
                .filter_map(|c| char::from_u32(*c))
                .collect();
            let _ = writeln!(tsv, "{s}\tA.1.h\tlow\thostile");
            n += 1;
            if n == 1_000_000 {
                break 'outer;
            }
        }
    }
    std::fs::write(&lib, &tsv).unwrap();
    let text = dir.path().join("t.txt");
    // 一 (U+4E00) followed by U+4E00+2000 is the first keyword.
    let first: String = [0x4E00u32, 0x4E00 + 2000]
        .iter()
        .filter_map(|c| char::from_u32(*c))
        .collect();
    std::fs::write(&text, format!("开头{first}结尾")).unwrap();
    let start = Instant::now();
    let (code, stdout, stderr) = run(&[
        "scan",
        "--file",
        text.to_str().unwrap(),
        "--library",
        lib.to_str().unwrap(),
        "--json",
    ]);
    let took = start.elapsed();
    assert_eq!(code, 1, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["library"]["keywords"], 1_000_000);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["matched"] == first.as_str())
    );
    // Generous for a debug build on a loaded 2-core machine; a hang or quadratic load fails it.
    assert!(took < Duration::from_secs(90), "{took:?}");
}

#[test]
fn one_32_mb_line_scans_without_a_newline() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("line.txt");
    let mut s = String::with_capacity(33 << 20);
    // Text full of evasion characters: separators and zero-width spaces between CJK, full-width
    // letters, and one resident id at the end.
    while s.len() < 32 << 20 {
        s.push_str("正常文字\u{200b}*·ＡＢＣ测试内容，");
    }
    s.push_str("身份证11010519491231002X");
    std::fs::write(&file, &s).unwrap();
    let start = Instant::now();
    let (code, stdout, stderr) = run(&["scan", "--file", file.to_str().unwrap(), "--json"]);
    let took = start.elapsed();
    assert_eq!(code, 1, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let pii: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["detector"] == "pii_resident_id@1")
        .collect();
    assert_eq!(pii.len(), 1);
    // The span points into the original 32 MB text.
    let start_byte = pii[0]["span"]["start"].as_u64().unwrap() as usize;
    assert_eq!(&s[start_byte..start_byte + 18], "11010519491231002X");
    assert!(took < Duration::from_secs(120), "{took:?}");
}

#[test]
fn a_truncated_bank_and_a_binary_library_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("cut.jsonl");
    let good = crate::ok(&[
        "bank",
        "sample",
        "builtin:should_refuse",
        "--n",
        "2",
        "--seed",
        "1",
    ]);
    let cut = &good[..good.len() - 25];
    std::fs::write(&bank, cut).unwrap();
    let (code, stdout, stderr) = run(&["bank", "check", bank.to_str().unwrap(), "--lang", "en"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("line 2"), "{stdout}");
    let lib = dir.path().join("lib.tsv");
    std::fs::write(&lib, [0u8, 159, 146, 150, 255, 0, 1, 2]).unwrap();
    let (code, _, stderr) = run(&["keywords", "check", lib.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("lib.tsv") && stderr.contains("UTF-8"),
        "{stderr}"
    );
}
