//! Normalization against evasion, with an offset map back to the original text.
//!
//! The text is a sequence of units, each a character with the byte range of the ORIGINAL text it
//! came from. Every stage maps units to units (one to many for NFKC, many to one for
//! recomposition, one to none for stripping), so after any pipeline a span of the normalized text
//! maps back to a byte span of the original: findings always point at what the user wrote.

use std::collections::HashMap;

use anquan_catalog::radicals::RadicalFolder;
use unicode_normalization::UnicodeNormalization as _;

/// A stage of the normalization pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// Unicode NFKC per character: full-width → half-width, circled and enclosed forms, Kangxi
    /// radicals, ligatures.
    Nfkc,
    /// CJK radical-supplement look-alikes → standard ideographs (the catalog's table).
    Radicals,
    /// Lowercase.
    CaseFold,
    /// Traditional → simplified Chinese (the `fast2s` table, context-aware per character).
    TraditionalToSimplified,
    /// Cyrillic and Greek look-alike letters → Latin.
    Confusables,
    /// Remove zero-width, format and control characters.
    StripInvisible,
    /// Remove separators inserted between CJK characters (`赌*博`) and between single Latin
    /// letters (`f.u.c.k`).
    StripSeparators,
    /// Recompose split components (`弓长` → `张`).
    Recompose,
}

impl Stage {
    /// Every stage, in the default order.
    pub const ALL: &'static [Stage] = &[
        Stage::Nfkc,
        Stage::Radicals,
        Stage::CaseFold,
        Stage::TraditionalToSimplified,
        Stage::Confusables,
        Stage::StripInvisible,
        Stage::StripSeparators,
        Stage::Recompose,
    ];

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            Stage::Nfkc => "nfkc",
            Stage::Radicals => "radicals",
            Stage::CaseFold => "case_fold",
            Stage::TraditionalToSimplified => "t2s",
            Stage::Confusables => "confusables",
            Stage::StripInvisible => "strip_invisible",
            Stage::StripSeparators => "strip_separators",
            Stage::Recompose => "recompose",
        }
    }

    /// Version of the stage's behaviour and table.
    pub fn version(self) -> u32 {
        1
    }

    /// Parse a stage id.
    pub fn from_id(id: &str) -> Option<Stage> {
        Stage::ALL.iter().copied().find(|s| s.id() == id)
    }
}

/// A character of the normalized text and the original bytes it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unit {
    ch: char,
    start: usize,
    end: usize,
}

/// Normalized text with its offset map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The normalized text.
    pub text: String,
    /// For each normalized char: (byte offset in `text`, original start, original end).
    map: Vec<(usize, usize, usize)>,
}

impl Normalized {
    /// Map a byte span of the normalized text to the byte span of the original it came from.
    /// Returns `None` for spans that are empty or do not start and end on character boundaries.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end {
            return None;
        }
        let first = self.map.binary_search_by_key(&start, |m| m.0).ok()?;
        let last = match self.map.binary_search_by_key(&end, |m| m.0) {
            Ok(i) => i.checked_sub(1)?,
            Err(i) if i == self.map.len() && end == self.text.len() => i.checked_sub(1)?,
            Err(_) => return None,
        };
        let (_, s, _) = self.map[first];
        let (_, _, e) = self.map[last];
        Some((s.min(e), e.max(s)))
    }

    /// The normalized character before byte offset `at`, if any.
    pub fn char_before(&self, at: usize) -> Option<char> {
        self.text.get(..at)?.chars().next_back()
    }

    /// The normalized character at byte offset `at`, if any.
    pub fn char_at(&self, at: usize) -> Option<char> {
        self.text.get(at..)?.chars().next()
    }
}

/// A configured normalization pipeline.
#[derive(Debug, Clone)]
pub struct Normalizer {
    stages: Vec<Stage>,
    radicals: RadicalFolder,
    confusables: HashMap<char, char>,
    components: HashMap<(char, char), char>,
    /// Sorted first characters of `components`, a cheap pre-check before hashing a pair.
    component_firsts: Vec<char>,
}

const CONFUSABLES: &str = include_str!("../data/confusables.tsv");
const COMPONENTS: &str = include_str!("../data/components.tsv");

fn table_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| l.split('\t').collect())
}

impl Normalizer {
    /// A pipeline of `stages` (in the order given), with the catalog's radical table.
    pub fn new(stages: &[Stage], radicals: RadicalFolder) -> Self {
        let confusables = table_rows(CONFUSABLES)
            .filter_map(|r| Some((r.first()?.chars().next()?, r.get(1)?.chars().next()?)))
            .collect();
        let components = table_rows(COMPONENTS)
            .filter_map(|r| {
                let mut parts = r.first()?.chars();
                let (a, b) = (parts.next()?, parts.next()?);
                Some(((a, b), r.get(1)?.chars().next()?))
            })
            .collect::<HashMap<(char, char), char>>();
        let mut component_firsts: Vec<char> = components.keys().map(|(a, _)| *a).collect();
        component_firsts.sort_unstable();
        component_firsts.dedup();
        Normalizer {
            stages: stages.to_vec(),
            radicals,
            confusables,
            components,
            component_firsts,
        }
    }

    /// Every stage in the default order.
    pub fn full(radicals: RadicalFolder) -> Self {
        Normalizer::new(Stage::ALL, radicals)
    }

    /// The stages, as `id@version`.
    pub fn describe(&self) -> Vec<String> {
        self.stages
            .iter()
            .map(|s| format!("{}@{}", s.id(), s.version()))
            .collect()
    }

    /// The split-component table the `recompose` stage folds with, as `(first, second,
    /// character)` sorted by component pair, so that attacks which split characters (`弓长` for
    /// `张`) use the very table that undoes them.
    pub fn split_components(&self) -> Vec<(char, char, char)> {
        let mut rows: Vec<(char, char, char)> = self
            .components
            .iter()
            .map(|(&(a, b), &c)| (a, b, c))
            .collect();
        rows.sort_unstable();
        rows
    }

    /// Normalize `text`.
    pub fn normalize(&self, text: &str) -> Normalized {
        let mut units: Vec<Unit> = text
            .char_indices()
            .map(|(i, ch)| Unit {
                ch,
                start: i,
                end: i + ch.len_utf8(),
            })
            .collect();
        // Consecutive character-local stages run fused in one pass; the others one by one.
        let mut i = 0;
        while i < self.stages.len() {
            let mut j = i;
            while j < self.stages.len() && is_local(self.stages[j]) {
                j += 1;
            }
            if j > i + 1 {
                units = self.apply_local_chain(&self.stages[i..j], units);
                i = j;
            } else {
                units = self.apply(self.stages[i], units);
                i += 1;
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut map = Vec::with_capacity(units.len());
        for u in units {
            map.push((out.len(), u.start, u.end));
            out.push(u.ch);
        }
        Normalized { text: out, map }
    }

    /// Apply character-local stages in one pass. Characters that every local stage leaves alone
    /// (unified ideographs, printable lowercase ASCII) take a fast path.
    fn apply_local_chain(&self, chain: &[Stage], mut units: Vec<Unit>) -> Vec<Unit> {
        // In place while every character maps to at most one; a new vector only once a character
        // expands (ligatures, some NFKC forms), which is rare.
        let mut buf: Vec<char> = Vec::with_capacity(4);
        let mut tmp: Vec<char> = Vec::with_capacity(4);
        let mut w = 0;
        let mut grown: Option<Vec<Unit>> = None;
        for r in 0..units.len() {
            let u = units[r];
            let c = u.ch;
            buf.clear();
            buf.push(c);
            let fast = matches!(c as u32, 0x4E00..=0x9FFF)
                || (c.is_ascii() && !c.is_ascii_uppercase() && !c.is_ascii_control());
            if !fast {
                for stage in chain {
                    tmp.clear();
                    for &ch in &buf {
                        self.local_char(*stage, ch, &mut tmp);
                    }
                    std::mem::swap(&mut buf, &mut tmp);
                }
            }
            match (&mut grown, buf.len()) {
                (Some(out), _) => out.extend(buf.iter().map(|&ch| Unit { ch, ..u })),
                (None, 0) => {}
                (None, 1) => {
                    units[w] = Unit { ch: buf[0], ..u };
                    w += 1;
                }
                (None, _) => {
                    let mut out = Vec::with_capacity(units.len() + 16);
                    out.extend_from_slice(&units[..w]);
                    out.extend(buf.iter().map(|&ch| Unit { ch, ..u }));
                    grown = Some(out);
                }
            }
        }
        match grown {
            Some(out) => out,
            None => {
                units.truncate(w);
                units
            }
        }
    }

    /// One character-local stage on one character, pushing its output (none, one or more).
    fn local_char(&self, stage: Stage, ch: char, out: &mut Vec<char>) {
        match stage {
            Stage::Nfkc if ch.is_ascii() || matches!(ch as u32, 0x4E00..=0x9FFF) => out.push(ch),
            Stage::Nfkc => out.extend(std::iter::once(ch).nfkc()),
            Stage::Radicals => out.push(self.radicals.fold_char(ch)),
            Stage::CaseFold if ch.is_ascii() => out.push(ch.to_ascii_lowercase()),
            Stage::CaseFold => out.extend(ch.to_lowercase()),
            Stage::Confusables => out.push(self.confusables.get(&ch).copied().unwrap_or(ch)),
            Stage::StripInvisible if is_invisible(ch) => {}
            _ => out.push(ch),
        }
    }

    /// Normalize a keyword or phrase, without offsets.
    pub fn normalize_str(&self, text: &str) -> String {
        self.normalize(text).text
    }

    fn apply(&self, stage: Stage, units: Vec<Unit>) -> Vec<Unit> {
        match stage {
            Stage::Nfkc => {
                let mut out = Vec::with_capacity(units.len());
                for u in units {
                    // ASCII and the unified ideographs (U+4E00-U+9FFF) are NFKC-stable: skip the
                    // per-character normalization, which dominates the cost on Chinese text.
                    if u.ch.is_ascii() || matches!(u.ch as u32, 0x4E00..=0x9FFF) {
                        out.push(u);
                        continue;
                    }
                    for ch in std::iter::once(u.ch).nfkc() {
                        out.push(Unit { ch, ..u });
                    }
                }
                out
            }
            Stage::Radicals => {
                let mut units = units;
                for u in &mut units {
                    u.ch = self.radicals.fold_char(u.ch);
                }
                units
            }
            Stage::CaseFold => {
                let mut out = Vec::with_capacity(units.len());
                for u in units {
                    if u.ch.is_ascii() {
                        out.push(Unit {
                            ch: u.ch.to_ascii_lowercase(),
                            ..u
                        });
                    } else if is_cjk(u.ch) {
                        out.push(u);
                    } else {
                        for ch in u.ch.to_lowercase() {
                            out.push(Unit { ch, ..u });
                        }
                    }
                }
                out
            }
            Stage::TraditionalToSimplified => {
                if units.iter().all(|u| !is_cjk(u.ch)) {
                    return units;
                }
                let text: String = units.iter().map(|u| u.ch).collect();
                let converted = fast2s::convert(&text);
                // fast2s maps character for character; if a future version did not, keep the
                // input rather than misalign the offsets.
                if converted.chars().count() != units.len() {
                    return units;
                }
                let mut units = units;
                for (u, ch) in units.iter_mut().zip(converted.chars()) {
                    u.ch = ch;
                }
                units
            }
            Stage::Confusables => {
                let mut units = units;
                for u in units
                    .iter_mut()
                    .filter(|u| !u.ch.is_ascii() && !is_cjk(u.ch))
                {
                    u.ch = self.confusables.get(&u.ch).copied().unwrap_or(u.ch);
                }
                units
            }
            Stage::StripInvisible => {
                let mut units = units;
                units.retain(|u| !is_invisible(u.ch));
                units
            }
            Stage::StripSeparators => strip_separators(units),
            Stage::Recompose => {
                // In place: the write index never passes the read index.
                let mut units = units;
                let (mut r, mut w) = (0, 0);
                while r < units.len() {
                    if r + 1 < units.len()
                        && self.component_firsts.binary_search(&units[r].ch).is_ok()
                        && let Some(&ch) = self.components.get(&(units[r].ch, units[r + 1].ch))
                    {
                        units[w] = Unit {
                            ch,
                            start: units[r].start,
                            end: units[r + 1].end,
                        };
                        r += 2;
                    } else {
                        units[w] = units[r];
                        r += 1;
                    }
                    w += 1;
                }
                units.truncate(w);
                units
            }
        }
    }
}

/// Stages that map each character on its own, without context.
fn is_local(stage: Stage) -> bool {
    matches!(
        stage,
        Stage::Nfkc
            | Stage::Radicals
            | Stage::CaseFold
            | Stage::Confusables
            | Stage::StripInvisible
    )
}

/// Is `c` a CJK ideograph (unified, extension A, compatibility)?
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0xFEFF | 0x00AD | 0x180E)
        || (c.is_control() && c != '\n' && c != '\t')
}

fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_alphanumeric() && c != '\n';
    }
    !is_cjk(c) && !c.is_alphanumeric()
}

/// Remove runs of separators between two CJK characters, and separators between single Latin
/// letters or digits (`f.u.c.k`, `f u c k`), but not between words (`not a word`).
fn strip_separators(mut units: Vec<Unit>) -> Vec<Unit> {
    let n = units.len();
    let mut keep = vec![true; n];
    let mut i = 0;
    while i < n {
        if !is_separator(units[i].ch) {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < n && is_separator(units[i].ch) {
            i += 1;
        }
        // Run is [run_start, i); neighbours are run_start-1 and i.
        if run_start == 0 || i >= n || i - run_start > 3 {
            continue;
        }
        let (before, after) = (units[run_start - 1].ch, units[i].ch);
        let single = |idx: usize, dir: isize| -> bool {
            // The letter at idx stands alone: its other neighbour is not a Latin letter or digit.
            let other = idx as isize + dir;
            other < 0 || other as usize >= n || !units[other as usize].ch.is_ascii_alphanumeric()
        };
        // Each side is a CJK character or a lone Latin letter or digit (`赌*博`, `f.u.c.k`,
        // `0*0*后`); words on both sides (`not a word`) keep their separators.
        let side_ok = |ch: char, idx: usize, dir: isize| {
            is_cjk(ch) || (ch.is_ascii_alphanumeric() && single(idx, dir))
        };
        let joinable = side_ok(before, run_start - 1, -1) && side_ok(after, i, 1);
        if joinable {
            for k in keep.iter_mut().take(i).skip(run_start) {
                *k = false;
            }
        }
    }
    let mut idx = 0;
    units.retain(|_| {
        let k = keep[idx];
        idx += 1;
        k
    });
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Normalizer {
        let catalog = anquan_catalog::Catalog::load(None).unwrap();
        Normalizer::full(catalog.radical_folder())
    }

    #[test]
    fn each_evasion_is_undone() {
        let n = full();
        for (input, want) in [
            ("ＡＢＣ１２３", "abc123"),
            ("賭博", "赌博"),
            ("赌*博", "赌博"),
            ("赌 . 博", "赌博"),
            ("赌\u{200b}博", "赌博"),
            ("f.u.c.k", "fuck"),
            ("F U C K", "fuck"),
            ("fаke", "fake"),
            ("⼈⼯智能⻛险", "人工智能风险"),
            ("弓长三", "张三"),
            ("Ⓐⓑ①", "ab1"),
        ] {
            assert_eq!(n.normalize_str(input), want, "{input}");
        }
        // Words separated by spaces stay apart.
        assert_eq!(n.normalize_str("not a word"), "not a word");
    }

    #[test]
    fn spans_map_back_to_the_original() {
        let n = full();
        let original = "前文：賭\u{200b}*博，后文";
        let norm = n.normalize(original);
        let at = norm.text.find("赌博").unwrap();
        let (s, e) = norm.original_span(at, at + "赌博".len()).unwrap();
        assert_eq!(&original[s..e], "賭\u{200b}*博");
        let at = norm.text.find("后文").unwrap();
        let (s, e) = norm.original_span(at, at + "后文".len()).unwrap();
        assert_eq!(&original[s..e], "后文");
        assert_eq!(norm.original_span(0, 0), None);
        assert_eq!(norm.original_span(1, 3), None, "not a char boundary");
    }

    #[test]
    fn stage_ids_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::from_id(s.id()), Some(*s));
        }
    }
}
