//! The fixed labels of the report in both languages, from `i18n/zh.toml` and `i18n/en.toml`.
//!
//! Tables in the files become dotted keys (`[cover] title = …` is `cover.title`). Labels may hold
//! `{name}` placeholders, filled by the renderers. A test checks that both files have the same
//! keys and placeholders and that every key the renderers use exists; at run time a missing label
//! shows as [`MISSING`] instead of panicking.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use anquan_core::Lang;

/// What a missing label renders as. Tests assert that no report contains it.
pub const MISSING: &str = "⟦missing label⟧";

pub(crate) const ZH_SOURCE: &str = include_str!("../i18n/zh.toml");
pub(crate) const EN_SOURCE: &str = include_str!("../i18n/en.toml");

type Labels = BTreeMap<String, String>;

/// Parse one label file into dotted keys. Every value must be a string.
pub(crate) fn parse(source: &str) -> Result<Labels, String> {
    let table: toml::Table = source.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut out = Labels::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Labels) -> Result<(), String> {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            toml::Value::Table(t) => flatten(&full, t, out)?,
            other => {
                return Err(format!(
                    "`{full}` is a {}, expected a string",
                    other.type_str()
                ));
            }
        }
    }
    Ok(())
}

fn labels(lang: Lang) -> &'static Labels {
    static ZH: OnceLock<Labels> = OnceLock::new();
    static EN: OnceLock<Labels> = OnceLock::new();
    let (cell, source) = match lang {
        Lang::Zh => (&ZH, ZH_SOURCE),
        Lang::En => (&EN, EN_SOURCE),
    };
    cell.get_or_init(|| parse(source).unwrap_or_default())
}

/// The label `key` in `lang`, or `None` when the file lacks it.
pub fn label(lang: Lang, key: &str) -> Option<&'static str> {
    labels(lang).get(key).map(String::as_str)
}

/// Every label key, in order.
pub fn keys(lang: Lang) -> impl Iterator<Item = &'static str> {
    labels(lang).keys().map(String::as_str)
}

/// The label `key` in `lang`, or [`MISSING`].
pub(crate) fn t(lang: Lang, key: &str) -> &'static str {
    label(lang, key).unwrap_or(MISSING)
}

/// The label `key` with its `{name}` placeholders filled from `args`.
pub(crate) fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut out = t(lang, key).to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The placeholders (`{name}`) of a label, sorted.
#[cfg(test)]
pub(crate) fn placeholders(label: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = label;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string literal in the renderers' sources that looks like a label key
    /// (`section.clauses`, `evidence.kinds.bank`): lowercase words joined by dots.
    fn used_keys() -> Vec<String> {
        let sources = [
            include_str!("html.rs"),
            include_str!("markdown.rs"),
            include_str!("content.rs"),
        ];
        let is_key = |s: &str| {
            s.contains('.')
                && s.split('.').all(|part| {
                    part.starts_with(|c: char| c.is_ascii_lowercase())
                        && part
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                })
        };
        let mut keys = Vec::new();
        for source in sources {
            let mut chars = source.chars();
            while let Some(c) = chars.next() {
                if c != '"' {
                    continue;
                }
                let mut literal = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        c => literal.push(c),
                    }
                }
                if is_key(&literal) {
                    keys.push(literal);
                }
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    #[test]
    fn both_files_parse_and_have_the_same_keys_and_placeholders() {
        let zh = parse(ZH_SOURCE).unwrap();
        let en = parse(EN_SOURCE).unwrap();
        let zh_keys: Vec<_> = zh.keys().collect();
        let en_keys: Vec<_> = en.keys().collect();
        assert_eq!(
            zh_keys, en_keys,
            "i18n/zh.toml and i18n/en.toml differ in keys"
        );
        for (key, zh_label) in &zh {
            let en_label = &en[key];
            assert!(!zh_label.trim().is_empty(), "zh `{key}` is empty");
            assert!(!en_label.trim().is_empty(), "en `{key}` is empty");
            assert_eq!(
                placeholders(zh_label),
                placeholders(en_label),
                "placeholders of `{key}` differ"
            );
        }
    }

    #[test]
    fn every_key_the_renderers_use_exists() {
        let used = used_keys();
        assert!(
            used.len() > 40,
            "the key scan found only {} keys",
            used.len()
        );
        for key in &used {
            assert!(label(Lang::Zh, key).is_some(), "zh.toml lacks `{key}`");
            assert!(label(Lang::En, key).is_some(), "en.toml lacks `{key}`");
        }
    }

    #[test]
    fn placeholders_are_filled_and_missing_keys_are_visible() {
        assert_eq!(placeholders("{b} of {a}, {a}"), ["a", "a", "b"]);
        assert_eq!(t(Lang::En, "no.such.key"), MISSING);
        let parsed = parse("[a]\nb = \"x\"\nc = 1\n").unwrap_err();
        assert!(parsed.contains("`a.c` is a integer"), "{parsed}");
    }
}
