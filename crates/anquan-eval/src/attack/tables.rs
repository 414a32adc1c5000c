//! The tables the evasion and encoding attacks write with. Where the detection engine has a
//! table that undoes an evasion, the attack reads that same table (through the engine's and the
//! catalog's APIs), so the two sides cannot drift apart.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use anquan_detect::keywords::{KeywordMatcher, Library, STARTER_LIBRARY, starter_allow_list};
use anquan_detect::normalize::{Normalizer, Stage, is_cjk};
use pinyin::ToPinyin as _;

const COMMON_CHARS: &str = include_str!("../../data/attacks/common_chars.txt");
const ST_CHARACTERS: &str = include_str!("../../data/attacks/st_characters.tsv");

/// The shared lookups, built once.
#[derive(Debug)]
pub(crate) struct Tables {
    /// The full default normalizer.
    pub(crate) normalizer: Normalizer,
    /// The starter keyword library, to find the sensitive words of a request.
    pub(crate) keywords: KeywordMatcher,
    /// Common characters grouped by toned pinyin, most frequent first.
    by_tone: HashMap<&'static str, Vec<char>>,
    /// Common characters grouped by toneless pinyin, most frequent first.
    by_plain: HashMap<&'static str, Vec<char>>,
    /// Simplified → traditional.
    pub(crate) s2t: HashMap<char, char>,
    /// Character → its two components (the normalizer's recompose table, inverted).
    pub(crate) split: HashMap<char, (char, char)>,
    /// Standard ideograph → look-alikes (Kangxi radicals, radical-supplement forms) that fold
    /// back to it.
    pub(crate) radical_lookalikes: HashMap<char, Vec<char>>,
    /// ASCII letter → Cyrillic and Greek look-alikes that the normalizer folds back to it
    /// (same case as the letter).
    pub(crate) homoglyphs: HashMap<char, Vec<char>>,
}

static TABLES: OnceLock<Tables> = OnceLock::new();

/// The tables, built on first use.
pub(crate) fn tables() -> &'static Tables {
    TABLES.get_or_init(Tables::build)
}

impl Tables {
    fn build() -> Tables {
        // The embedded catalog always loads (its tests guarantee it); should it not, an empty
        // folder only means radical look-alikes are not produced.
        let radicals = anquan_catalog::Catalog::load(None)
            .map(|c| c.radical_folder())
            .unwrap_or_default();
        let normalizer = Normalizer::full(radicals.clone());
        let (library, _) = Library::parse_tsv(STARTER_LIBRARY);
        let keywords = KeywordMatcher::new(library, &starter_allow_list(), &normalizer);

        let mut by_tone: HashMap<&'static str, Vec<char>> = HashMap::new();
        let mut by_plain: HashMap<&'static str, Vec<char>> = HashMap::new();
        // Only characters the normalizer leaves as they are (`黏` would become `粘`, which reads
        // differently), so a homophone stays a homophone after normalization.
        let mut buf = [0u8; 4];
        for c in common_chars().filter(|&c| {
            normalizer
                .normalize_str(c.encode_utf8(&mut buf))
                .chars()
                .eq([c])
        }) {
            if let Some(p) = c.to_pinyin() {
                by_tone.entry(p.with_tone()).or_default().push(c);
                by_plain.entry(p.plain()).or_default().push(c);
            }
        }

        let s2t = rows(ST_CHARACTERS)
            .filter_map(|r| Some((single(r.first()?)?, single(r.get(1)?)?)))
            .collect();

        let split = normalizer
            .split_components()
            .into_iter()
            .map(|(a, b, c)| (c, (a, b)))
            .collect();

        // Probe the two radical blocks with the catalog's folder: every look-alike it folds to a
        // different character is one this attack may write.
        let mut radical_lookalikes: HashMap<char, Vec<char>> = HashMap::new();
        for cp in (0x2E80u32..=0x2EFF).chain(0x2F00..=0x2FDF) {
            let Some(look) = char::from_u32(cp) else {
                continue;
            };
            let standard = radicals.fold_char(look);
            if standard != look && is_cjk(standard) {
                radical_lookalikes.entry(standard).or_default().push(look);
            }
        }

        // Probe the Greek and Cyrillic blocks with the normalizer's own case-fold and confusables
        // stages: a letter that folds to an ASCII letter is a look-alike of it.
        let fold = Normalizer::new(&[Stage::CaseFold, Stage::Confusables], radicals);
        let mut homoglyphs: HashMap<char, Vec<char>> = HashMap::new();
        for cp in 0x0370u32..=0x04FF {
            let Some(look) = char::from_u32(cp) else {
                continue;
            };
            if !look.is_alphabetic() {
                continue;
            }
            let folded = fold.normalize_str(&look.to_string());
            let mut it = folded.chars();
            if let (Some(latin), None) = (it.next(), it.next())
                && latin.is_ascii_lowercase()
            {
                let target = if look.is_uppercase() {
                    latin.to_ascii_uppercase()
                } else {
                    latin
                };
                homoglyphs.entry(target).or_default().push(look);
            }
        }

        Tables {
            normalizer,
            keywords,
            by_tone,
            by_plain,
            s2t,
            split,
            radical_lookalikes,
            homoglyphs,
        }
    }

    /// Same-pinyin replacements for `c` among the common characters: same tone first, else the
    /// same toneless syllable; never `c` itself. Matching is on each character's default reading,
    /// the one the keyword engine's pinyin mode reads too.
    pub(crate) fn homophones(&self, c: char) -> Vec<char> {
        let Some(p) = c.to_pinyin() else {
            return Vec::new();
        };
        let pick = |list: Option<&Vec<char>>| -> Vec<char> {
            list.map(|l| l.iter().copied().filter(|&d| d != c).collect())
                .unwrap_or_default()
        };
        let same_tone = pick(self.by_tone.get(p.with_tone()));
        if same_tone.is_empty() {
            pick(self.by_plain.get(p.plain()))
        } else {
            same_tone
        }
    }

    /// Byte spans of the request's sensitive words: the starter keyword library's matches.
    pub(crate) fn sensitive_spans(&self, text: &str) -> Vec<(usize, usize)> {
        let norm = self.normalizer.normalize(text);
        self.keywords
            .find(text, &norm)
            .into_iter()
            .map(|m| (m.span.start, m.span.end))
            .collect()
    }
}

/// The common characters, most frequent first.
pub(crate) fn common_chars() -> impl Iterator<Item = char> {
    COMMON_CHARS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::chars)
        .filter(|c| is_cjk(*c))
}

/// Toneless pinyin of a character (its default reading), in ASCII: `ü` is written `v`, as
/// pinyin input methods and evaders write it (`lv`, `nve`).
pub(crate) fn plain_pinyin(c: char) -> Option<Cow<'static, str>> {
    let p = c.to_pinyin()?.plain();
    Some(if p.contains('ü') {
        Cow::Owned(p.replace('ü', "v"))
    } else {
        Cow::Borrowed(p)
    })
}

/// Data rows of a TSV table: `#` comments and the column line skipped.
fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| l.split('\t').collect())
}

fn single(s: &str) -> Option<char> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_populated_from_the_shared_sources() {
        let t = tables();
        assert_eq!(common_chars().count(), 3500);
        assert!(t.s2t.len() > 2000, "{}", t.s2t.len());
        assert_eq!(t.split.get(&'张'), Some(&('弓', '长')));
        assert!(
            t.radical_lookalikes
                .get(&'风')
                .is_some_and(|v| v.contains(&'⻛'))
        );
        assert!(t.homoglyphs.get(&'a').is_some_and(|v| v.contains(&'а')));
        assert!(t.homoglyphs.get(&'A').is_some_and(|v| v.contains(&'А')));
        let h = t.homophones('赌');
        assert!(!h.is_empty() && !h.contains(&'赌'), "{h:?}");
        assert!(h.iter().all(|&d| plain_pinyin(d).as_deref() == Some("du")));
        assert_eq!(plain_pinyin('绿').as_deref(), Some("lv"));
    }

    #[test]
    fn every_traditional_form_folds_back() {
        // The table's contract: the normalizer turns each traditional form back into its
        // simplified character, so the attack stays undoable.
        let t = tables();
        let mut bad: Vec<String> = t
            .s2t
            .iter()
            .filter(|(s, tr)| t.normalizer.normalize_str(&tr.to_string()) != s.to_string())
            .map(|(s, tr)| format!("{s}\t{tr}"))
            .collect();
        bad.sort();
        assert!(
            bad.is_empty(),
            "{} rows do not fold back:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
}
