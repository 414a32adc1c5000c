//! Folding of radical look-alikes into standard ideographs.
//!
//! Kangxi radicals (U+2F00–U+2FDF) fold under NFKC; the CJK radical-supplement forms
//! (U+2E80–U+2EFF) do not, so the catalog carries a table (`tables/radicals.toml`). The detection
//! engine uses the same table, since these look-alikes are also an evasion.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;

/// One entry of the radical-supplement table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RadicalMap {
    /// The look-alike, in U+2E80–U+2EFF.
    pub char: char,
    /// The standard ideograph.
    pub standard: char,
    /// The Unicode name of the look-alike.
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RadicalFile {
    #[serde(default)]
    pub(crate) radical: Vec<RadicalMap>,
}

/// Is `c` a Kangxi radical (U+2F00–U+2FDF)?
pub fn is_kangxi(c: char) -> bool {
    matches!(c as u32, 0x2F00..=0x2FDF)
}

/// Is `c` a CJK radical-supplement form (U+2E80–U+2EFF)?
pub fn is_supplement(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x2EFF)
}

/// Folds radical look-alikes into standard ideographs.
#[derive(Debug, Clone, Default)]
pub struct RadicalFolder {
    table: HashMap<char, char>,
}

impl RadicalFolder {
    /// Build from the table's entries.
    pub fn new(entries: &[RadicalMap]) -> Self {
        RadicalFolder {
            table: entries.iter().map(|e| (e.char, e.standard)).collect(),
        }
    }

    /// Number of supplement forms the table knows.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Fold one character: Kangxi radicals by NFKC, supplement forms by the table; anything
    /// else, and supplement forms the table lacks, unchanged.
    pub fn fold_char(&self, c: char) -> char {
        if is_kangxi(c) {
            let mut folded = std::iter::once(c).nfkc();
            match (folded.next(), folded.next()) {
                (Some(f), None) => f,
                _ => c,
            }
        } else if is_supplement(c) {
            self.table.get(&c).copied().unwrap_or(c)
        } else {
            c
        }
    }

    /// Fold every character of `s`. Characters outside the two blocks are left as they are
    /// (no other normalization is applied), so byte offsets of other text do not move.
    pub fn fold(&self, s: &str) -> String {
        s.chars().map(|c| self.fold_char(c)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_both_blocks() {
        let folder = RadicalFolder::new(&[RadicalMap {
            char: '⻛',
            standard: '风',
            name: "CJK RADICAL C-SIMPLIFIED WIND".into(),
        }]);
        assert_eq!(folder.fold("⼈⼯智能安全⻛险"), "人工智能安全风险");
        assert_eq!(folder.fold("⻔"), "⻔", "unknown supplement forms stay");
        assert_eq!(folder.fold("ＡＢ"), "ＡＢ", "no other normalization");
    }
}
