//! The Markdown report: snapshots, escaping, tables that stay tables.

use anquan_core::Lang;
use anquan_report::{Format, render};

use crate::fixture;

fn markdown(lang: Lang) -> String {
    render(&fixture::report(), Format::Markdown, lang)
}

/// Pipes that separate cells: not preceded by a backslash.
fn cell_pipes(line: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => count += 1,
            _ => escaped = false,
        }
    }
    count
}

#[test]
fn snapshots() {
    insta::assert_snapshot!("markdown_zh", markdown(Lang::Zh));
    insta::assert_snapshot!("markdown_en", markdown(Lang::En));
    insta::assert_snapshot!(
        "markdown_empty_zh",
        render(&fixture::empty_report(), Format::Markdown, Lang::Zh)
    );
}

#[test]
fn every_table_row_has_its_header_s_cells() {
    for lang in [Lang::Zh, Lang::En] {
        let doc = markdown(lang);
        let mut header: Option<usize> = None;
        let mut tables = 0;
        for line in doc.lines() {
            if line.starts_with('|') {
                let pipes = cell_pipes(line);
                match header {
                    None => {
                        header = Some(pipes);
                        tables += 1;
                    }
                    Some(expected) => assert_eq!(pipes, expected, "broken row: {line}"),
                }
            } else {
                header = None;
            }
        }
        assert!(tables >= 10, "only {tables} tables");
    }
}

#[test]
fn hostile_data_is_escaped() {
    for lang in [Lang::Zh, Lang::En] {
        let doc = markdown(lang);
        // Every `<` that Markdown reads as one starts the `<br>` we write for line breaks.
        for (at, _) in doc.match_indices('<') {
            let escaped = at > 0 && doc.as_bytes()[at - 1] == b'\\';
            assert!(
                escaped || doc[at..].starts_with("<br>"),
                "raw markup at {:?}",
                &doc[at..at + 20]
            );
        }
        for (at, _) in doc.match_indices("](") {
            assert_eq!(
                &doc[at - 1..at],
                "\\",
                "a live link at {:?}",
                &doc[at..at + 20]
            );
        }
        assert!(doc.contains(r#"\</pre\>\</td\>\<script\>alert("x")\</script\> \| \*\*bold\*\* \`tick\` \[link\](https://evil.example/a.js)"#));
        assert!(doc.contains(r"\[U+202E\]gnp.exe\[U+200B\]"));
        assert!(doc.contains("Write a short story.<br>Keep it \\| brief."));
        assert!(!doc.contains('\r'));
    }
}

#[test]
fn same_content_as_the_html() {
    let doc = markdown(Lang::En);
    for needle in [
        "# Generative AI service safety assessment report",
        "⚠️ **This run did not complete (status: partial)",
        r"93.1 % \[91.4 %, 94.5 %\]",
        "✅ **Pass**",
        "❌ **Fail**",
        "⚠️ **Inconclusive**",
        "## 7 For manual review",
        "`9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08`",
        "`███████████████████░`",
    ] {
        assert!(doc.contains(needle), "missing {needle:?}");
    }
    assert!(markdown(Lang::Zh).contains("## 7 待人工复核"));
}
