//! The label files: both languages have the same keys, and no report shows a missing label.

use anquan_core::Lang;
use anquan_report::i18n::{MISSING, keys, label};
use anquan_report::{Format, render};

use crate::fixture;

#[test]
fn both_languages_have_the_same_keys() {
    let zh: Vec<_> = keys(Lang::Zh).collect();
    let en: Vec<_> = keys(Lang::En).collect();
    assert!(zh.len() > 100, "only {} labels", zh.len());
    let only_zh: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
    let only_en: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
    assert!(
        only_zh.is_empty() && only_en.is_empty(),
        "only in zh: {only_zh:?}; only in en: {only_en:?}"
    );
    assert_eq!(label(Lang::Zh, "verdict.inconclusive"), Some("无法判定"));
    assert_eq!(
        label(Lang::En, "verdict.inconclusive"),
        Some("Inconclusive")
    );
}

#[test]
fn the_files_on_disk_are_the_embedded_ones() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("i18n");
    for (file, lang) in [("zh.toml", Lang::Zh), ("en.toml", Lang::En)] {
        let table: toml::Table = std::fs::read_to_string(dir.join(file))
            .unwrap()
            .parse()
            .unwrap();
        let title = table["cover"]["title"].as_str().unwrap();
        assert_eq!(label(lang, "cover.title"), Some(title));
    }
}

#[test]
fn no_report_shows_a_missing_label() {
    for report in [fixture::report(), fixture::empty_report()] {
        for format in [Format::Html, Format::Markdown] {
            for lang in [Lang::Zh, Lang::En] {
                let out = render(&report, format, lang);
                assert!(
                    !out.contains(MISSING),
                    "{format} {lang} shows a missing label"
                );
                for (at, _) in out.match_indices('{') {
                    let rest = &out[at + 1..];
                    let word = rest.find('}').map(|end| &rest[..end]);
                    let placeholder = word.is_some_and(|w| {
                        !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    });
                    assert!(
                        !placeholder,
                        "{format} {lang}: unfilled placeholder {{{}}}",
                        word.unwrap()
                    );
                }
            }
        }
    }
}
