//! Normalization against evasion, with an offset map back to the original text.
//!
//! The text is a sequence of units, each a character with the byte range of the ORIGINAL text it
//! came from. Every stage maps units to units (one to many for NFKC, many to one for
//! recomposition, one to none for stripping), so after any pipeline a span of the normalized text
//! maps back to a byte span of the original: findings always point at what the user wrote.

use std::collections::HashMap;
use std::sync::LazyLock;

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
    /// Cyrillic and Greek look-alike letters → Latin, and Martian-script characters (火星文:
    /// rare and variant ideographs written for a common one, `莪` for `我`) → the character they
    /// stand for. The table's rows only: no other ideograph changes.
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
        match self {
            // 2: Martian script.
            Stage::Confusables => 2,
            _ => 1,
        }
    }

    /// Parse a stage id.
    pub fn from_id(id: &str) -> Option<Stage> {
        Stage::ALL.iter().copied().find(|s| s.id() == id)
    }
}

/// A character of the normalized text and the original bytes it stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Unit {
    ch: char,
    start: usize,
    end: usize,
}

/// One piece of the offset map, from byte `at` of the normalized text on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    /// Byte offset in the normalized text where the piece starts.
    at: usize,
    /// Original byte offset of the piece's first character.
    orig: usize,
    /// [`RUN`]: every character from `at` up to the next piece stands for as many original bytes
    /// as it has, at `orig + (offset - at)` (text copied, or characters replaced by characters of
    /// the same length); otherwise the one character at `at` stands for `orig..end`.
    end: usize,
}

/// The `end` of a piece that is a run.
const RUN: usize = usize::MAX;

/// Where each normalized character came from, stored sparsely: runs where the normalized text
/// moves in step with the original, and one piece per character elsewhere. Built in order; the
/// form is canonical (the same mapping always gives the same pieces).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct OffsetMap {
    pieces: Vec<Piece>,
}

impl OffsetMap {
    /// The character of `len` bytes at normalized offset `at` stands for `start..end`.
    fn push_char(&mut self, at: usize, len: usize, start: usize, end: usize) {
        if end.checked_sub(start) == Some(len) {
            self.push_run(at, start);
        } else {
            self.pieces.push(Piece {
                at,
                orig: start,
                end,
            });
        }
    }

    /// The text from normalized offset `at` on is copied from original offset `orig`.
    fn push_run(&mut self, at: usize, orig: usize) {
        if let Some(last) = self.pieces.last()
            && last.end == RUN
            && last.orig.wrapping_sub(last.at) == orig.wrapping_sub(at)
        {
            return;
        }
        self.pieces.push(Piece { at, orig, end: RUN });
    }

    /// The original range of the normalized character at `at` (a character boundary of `text`).
    /// `hint` is a piece index to search from (looks-ups in increasing order gallop forward from
    /// the last one); it is updated to the piece found.
    fn range(&self, text: &str, at: usize, hint: &mut usize) -> Option<(usize, usize)> {
        let k = self.find(at, hint)?;
        let piece = self.pieces[k];
        if piece.end == RUN {
            let start = piece.orig + (at - piece.at);
            Some((start, start + text.get(at..)?.chars().next()?.len_utf8()))
        } else {
            Some((piece.orig, piece.end))
        }
    }

    /// The original range of normalized `start..end` when it lies inside one run (the common
    /// case: a keyword that no normalization touched), in one look-up.
    fn within_run(&self, start: usize, end: usize, hint: &mut usize) -> Option<(usize, usize)> {
        let k = self.find(start, hint)?;
        let piece = self.pieces[k];
        let run_end = self.pieces.get(k + 1).map_or(usize::MAX, |p| p.at);
        (piece.end == RUN && end <= run_end).then(|| {
            let orig = piece.orig + (start - piece.at);
            (orig, orig + (end - start))
        })
    }

    /// The index of the piece holding normalized offset `at` (see [`OffsetMap::range`]).
    fn find(&self, at: usize, hint: &mut usize) -> Option<usize> {
        let pieces = &self.pieces;
        let k = if pieces.get(*hint).is_some_and(|p| p.at <= at) {
            let (mut lo, mut hi, mut step) = (*hint, *hint + 1, 1);
            while hi < pieces.len() && pieces[hi].at <= at {
                lo = hi;
                hi = lo + step;
                step *= 2;
            }
            let hi = hi.min(pieces.len());
            lo + pieces[lo..hi].partition_point(|p| p.at <= at) - 1
        } else {
            pieces.partition_point(|p| p.at <= at).checked_sub(1)?
        };
        *hint = k;
        Some(k)
    }
}

/// Normalized text with its offset map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// The normalized text.
    pub text: String,
    /// Where each normalized character came from.
    map: OffsetMap,
}

impl Normalized {
    /// Empty, with the capacity of its buffers kept, to normalize into again.
    pub(crate) fn emptied(mut self) -> Normalized {
        self.text.clear();
        self.map.pieces.clear();
        self
    }

    /// Map a byte span of the normalized text to the byte span of the original it came from.
    /// Returns `None` for spans that are empty or do not start and end on character boundaries.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        self.original_span_from(start, end, &mut 0)
    }

    /// [`Normalized::original_span`] for spans looked up in increasing order: `hint` (0 at
    /// first) remembers where in the map the last look-up ended.
    pub(crate) fn original_span_from(
        &self,
        start: usize,
        end: usize,
        hint: &mut usize,
    ) -> Option<(usize, usize)> {
        if start >= end || !self.text.is_char_boundary(start) || !self.text.is_char_boundary(end) {
            return None;
        }
        if let Some(span) = self.map.within_run(start, end, hint) {
            return Some(span);
        }
        let (s, _) = self.map.range(&self.text, start, hint)?;
        let (last, _) = self.text.get(..end)?.char_indices().next_back()?;
        let (_, e) = self.map.range(&self.text, last, hint)?;
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
    /// Bit `c - 0x4E00` set when `confusables` maps the unified ideograph `c` (Martian script):
    /// the only unified ideographs a character-local stage changes.
    cjk_confusables: Box<[u64]>,
    components: HashMap<(char, char), char>,
    /// Sorted first characters of `components`, a cheap pre-check before looking up a pair.
    component_firsts: Vec<char>,
    /// `components` sorted by pair, for lookups by binary search.
    component_pairs: Vec<((char, char), char)>,
    /// Tables of the fast path, for the default pipeline (every stage in the default order).
    fast: Option<FastTables>,
    /// For a pipeline of character-local stages only: which ASCII characters every stage
    /// leaves as they are.
    local_stable_ascii: Option<[bool; 128]>,
}

const CONFUSABLES: &str = include_str!("../data/confusables.tsv");
const COMPONENTS: &str = include_str!("../data/components.tsv");

fn table_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| l.split('\t').collect())
}

/// The characters `fast2s` converts depending on their neighbours (`乾隆` keeps 乾, `乾净` does
/// not): the keys of its `T2S_EXCLUDE` and `T2S_SPECIAL_CONVERT_TYPE` tables (fast2s 0.3.1,
/// `src/special.rs`). Every other character converts the same in any context, so it is looked up
/// in [`T2S`]; these are converted by `fast2s` itself with their neighbours.
const T2S_IN_CONTEXT: [char; 15] = [
    '兒', '覆', '夥', '藉', '瞭', '麽', '幺', '於', '乾', '著', '苧', '闔', '鍾', '讎', '畫',
];

/// `fast2s`'s conversion of every three-byte character (the only ones it converts) on its own,
/// indexed by code point; 0 for the characters converted in context.
static T2S: LazyLock<Box<[u16]>> = LazyLock::new(|| {
    let chars: Vec<char> = (0x800u32..=0xFFFF).filter_map(char::from_u32).collect();
    // One call: each character between two `0`s, the context fast2s gives a lone character.
    let mut text = String::with_capacity(chars.len() * 4);
    for &c in &chars {
        text.push(c);
        text.push('0');
    }
    let mut table = vec![0u16; 0x1_0000];
    for (&c, t) in chars.iter().zip(fast2s::convert(&text).chars().step_by(2)) {
        if !T2S_IN_CONTEXT.contains(&c)
            && let Ok(t) = u16::try_from(u32::from(t))
        {
            table[c as usize] = t;
        }
    }
    table.into_boxed_slice()
});

/// Traditional → simplified for `cur` between `prev` and `next` (`'0'` at either end of the
/// text), exactly as `fast2s::convert` does it in a string.
fn t2s_char(prev: char, cur: char, next: char) -> char {
    if cur.len_utf8() != 3 {
        return cur;
    }
    match T2S
        .get(cur as usize)
        .copied()
        .and_then(|t| char::from_u32(u32::from(t)))
    {
        Some(t) if t != '\0' => t,
        _ => {
            let window: String = [prev, cur, next].iter().collect();
            fast2s::convert(&window).chars().nth(1).unwrap_or(cur)
        }
    }
}

/// The local stages before `t2s` in the default pipeline, and those after it.
const CHAIN_BEFORE_T2S: &[Stage] = &[Stage::Nfkc, Stage::Radicals, Stage::CaseFold];
const CHAIN_AFTER_T2S: &[Stage] = &[Stage::Confusables, Stage::StripInvisible];

/// Flag of the [`FastTables::cjk`] entries that are anchors.
const ANCHOR: u32 = 1 << 31;

/// Most units a gap takes on the small path (anchors included); longer gaps take the general one.
const GAP_UNITS: usize = 16;

/// Lookup tables of the default pipeline's fast path.
///
/// The fast path cuts the text at "anchors": `\n` and the unified ideographs that the whole
/// pipeline maps to exactly one CJK character without looking at their neighbours (not converted
/// in context by `t2s`, not the first component of a split character). No stage looks through
/// an anchor: `t2s` reads only the immediate neighbours, `strip_separators` stops at a
/// non-separator and looks further only from a Latin letter or digit, `recompose` pairs a first
/// component with what follows it. So the text between two anchors (a gap) normalizes the same
/// between its two anchors alone as inside the whole text. Runs of the anchors the pipeline
/// leaves as they are (`stable`) are copied; an anchor it changes (a traditional character, a
/// Martian-script character of the confusables table: `莪` → `我`) is written as its output, and
/// the gaps next to it see that output, as the context stages do. A gap of separators takes the
/// separator rule directly, a short gap of characters whose character-local output is in the
/// tables takes the two context stages on a small buffer, and any other gap every stage.
#[derive(Debug, Clone)]
struct FastTables {
    /// For U+4E00..=U+9FFF: the one character the character-local stages and `t2s` make of it,
    /// `| ANCHOR` when it is an anchor; 0 when `t2s` converts it in context.
    cjk: Box<[u32]>,
    /// Bit `c - 0x4E00` set when `cjk` maps `c` to itself as an anchor: the ideographs the fast
    /// path copies (a small table for the hot loop).
    stable: Box<[u64]>,
    /// For the characters of [`small_slot`]: what the character-local stages and `t2s` make of
    /// them, when that is at most three characters and `t2s` needs no context.
    small: Box<[Option<SmallOut>]>,
}

/// Zero to three characters one character turns into before the context stages.
#[derive(Debug, Clone, Copy)]
struct SmallOut {
    len: u8,
    /// Every one is a separator (and none a first component).
    seps: bool,
    chars: [char; 3],
}

impl SmallOut {
    fn chars(&self) -> &[char] {
        &self.chars[..usize::from(self.len)]
    }
}

/// Index in [`FastTables::small`]: Latin-1, general punctuation, CJK punctuation, full-width forms.
fn small_slot(c: char) -> Option<usize> {
    let c = c as usize;
    match c {
        0..=0xFF => Some(c),
        0x2000..=0x206F => Some(0x100 + c - 0x2000),
        0x3000..=0x303F => Some(0x170 + c - 0x3000),
        0xFF00..=0xFFEF => Some(0x1B0 + c - 0xFF00),
        _ => None,
    }
}
const SMALL_SLOTS: usize = 0x1B0 + 0xF0;

/// An anchor of the fast path in the original text.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    start: usize,
    end: usize,
    /// What the pipeline makes of it.
    out: char,
}

impl Anchor {
    fn unit(self) -> Unit {
        Unit {
            ch: self.out,
            start: self.start,
            end: self.end,
        }
    }
}

impl FastTables {
    fn build(n: &Normalizer) -> FastTables {
        let mut out = Vec::new();
        let mut tmp = [Vec::new(), Vec::new(), Vec::new()];
        let cjk: Vec<u32> = (0x4E00u32..=0x9FFF)
            .map(|cp| match char::from_u32(cp) {
                Some(c) if n.local_output(c, &mut out, &mut tmp) => match out.as_slice() {
                    [f] if n.is_anchor_output(*f) => u32::from(*f) | ANCHOR,
                    [f] => u32::from(*f),
                    _ => 0,
                },
                _ => 0,
            })
            .collect();
        let mut small = vec![None; SMALL_SLOTS];
        for cp in (0u32..=0xFF)
            .chain(0x2000..=0x206F)
            .chain(0x3000..=0x303F)
            .chain(0xFF00..=0xFFEF)
        {
            let (Some(c), Some(slot)) =
                (char::from_u32(cp), char::from_u32(cp).and_then(small_slot))
            else {
                continue;
            };
            if !n.local_output(c, &mut out, &mut tmp) || out.len() > 3 {
                continue;
            }
            let mut chars = ['\0'; 3];
            chars[..out.len()].copy_from_slice(&out);
            small[slot] = Some(SmallOut {
                len: out.len() as u8,
                seps: out
                    .iter()
                    .all(|&y| is_separator(y) && n.component_firsts.binary_search(&y).is_err()),
                chars,
            });
        }
        let mut stable = vec![0u64; cjk.len().div_ceil(64)];
        for (k, &v) in cjk.iter().enumerate() {
            if v == (0x4E00 + k as u32) | ANCHOR {
                stable[k / 64] |= 1 << (k % 64);
            }
        }
        FastTables {
            stable: stable.into_boxed_slice(),
            cjk: cjk.into_boxed_slice(),
            small: small.into_boxed_slice(),
        }
    }

    /// Where the run of anchors that the pipeline leaves alone, from byte `i` on, ends.
    #[inline]
    fn skip_stable(&self, bytes: &[u8], mut i: usize) -> usize {
        loop {
            let (chars, _) = bytes.get(i..).unwrap_or_default().as_chunks::<3>();
            for &[b0, b1, b2] in chars {
                if !(0xE4..=0xE9).contains(&b0) {
                    break;
                }
                let cp = (u32::from(b0 & 0x0F) << 12)
                    | (u32::from(b1 & 0x3F) << 6)
                    | u32::from(b2 & 0x3F);
                let k = cp.wrapping_sub(0x4E00) as usize;
                if self
                    .stable
                    .get(k / 64)
                    .is_none_or(|w| (w >> (k % 64)) & 1 == 0)
                {
                    break;
                }
                i += 3;
            }
            if bytes.get(i) != Some(&b'\n') {
                return i;
            }
            i += 1;
        }
    }

    /// The anchor starting at byte `i` of `bytes`, if the character there is one.
    #[inline]
    fn anchor(&self, bytes: &[u8], i: usize) -> Option<Anchor> {
        let cp = match bytes.get(i..)? {
            [b'\n', ..] => {
                return Some(Anchor {
                    start: i,
                    end: i + 1,
                    out: '\n',
                });
            }
            [b0 @ 0xE4..=0xE9, b1, b2, ..] => {
                (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F)
            }
            _ => return None,
        };
        let v = *self.cjk.get(cp.checked_sub(0x4E00)? as usize)?;
        if v & ANCHOR == 0 {
            return None;
        }
        Some(Anchor {
            start: i,
            end: i + 3,
            out: char::from_u32(v & !ANCHOR)?,
        })
    }

    /// The commonest gap, which [`Normalizer::gap_at`] would strip: one three-byte separator
    /// (`，`, `。`) between two ideographs (the character before `i` is an anchor, by the fast
    /// path's invariant). Its length, or `None` for any other gap.
    #[inline]
    fn stripped_separator(&self, bytes: &[u8], i: usize) -> Option<usize> {
        let [b0 @ 0xE0..=0xEF, b1, b2, ..] = *bytes.get(i..)? else {
            return None;
        };
        if i == 0 || bytes.get(i - 1) == Some(&b'\n') {
            return None;
        }
        let cp = (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
        let o = self.output(char::from_u32(cp)?)?;
        if !(o.seps && o.len <= 3) {
            return None;
        }
        is_cjk(self.anchor(bytes, i + 3)?.out).then_some(3)
    }

    /// The table's output for `c`, if it has one.
    fn output(&self, c: char) -> Option<SmallOut> {
        if let Some(slot) = small_slot(c) {
            return self.small[slot];
        }
        let v = *self.cjk.get((c as usize).checked_sub(0x4E00)?)?;
        let f = char::from_u32(v & !ANCHOR).filter(|&f| f != '\0')?;
        Some(SmallOut {
            len: 1,
            seps: false,
            chars: [f, '\0', '\0'],
        })
    }
}

/// The normalized text and its map, as the fast path writes them.
struct Sink {
    text: String,
    map: OffsetMap,
}

impl Sink {
    fn push(&mut self, ch: char, start: usize, end: usize) {
        self.map
            .push_char(self.text.len(), ch.len_utf8(), start, end);
        self.text.push(ch);
    }

    /// Copy original bytes `from..to` as a run.
    fn copy(&mut self, text: &str, from: usize, to: usize) {
        if from < to {
            self.map.push_run(self.text.len(), from);
            self.text.push_str(&text[from..to]);
        }
    }

    /// The normalized units of a gap between two anchors (`left` and `right`, included in
    /// `units`), which ends at original offset `j`: the anchors are one unit each and unchanged,
    /// except that the gap's last character may have recomposed with the right one. Returns
    /// where the text goes on: `j`, or after the right anchor when the gap took it.
    fn push_gap(
        &mut self,
        units: &[Unit],
        left: Option<Anchor>,
        right: Option<Anchor>,
        j: usize,
    ) -> usize {
        let from = usize::from(left.is_some());
        let mut to = units.len();
        let mut next = j;
        if let Some(r) = right
            && let Some(last) = units.last()
        {
            if last.start == r.start {
                to -= 1;
            } else {
                next = r.end;
            }
        }
        for u in units.get(from..to).unwrap_or_default() {
            self.push(u.ch, u.start, u.end);
        }
        next
    }
}

/// Where the fast path notes its gaps, and which (see [`Normalizer::normalize_noting_gaps`]).
type GapNotes<'a> = (&'a mut Vec<(usize, usize)>, fn(&str) -> bool);

/// Byte length of the UTF-8 sequence starting with `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0..=0x7F => 1,
        0x80..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

impl Normalizer {
    /// A pipeline of `stages` (in the order given), with the catalog's radical table.
    pub fn new(stages: &[Stage], radicals: RadicalFolder) -> Self {
        let confusables: HashMap<char, char> = table_rows(CONFUSABLES)
            .filter_map(|r| Some((r.first()?.chars().next()?, r.get(1)?.chars().next()?)))
            .collect();
        let mut cjk_confusables = vec![0u64; CJK_UNIFIED.div_ceil(64)];
        for &c in confusables.keys() {
            if let Some(k) = unified_index(c) {
                cjk_confusables[k / 64] |= 1 << (k % 64);
            }
        }
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
        let mut component_pairs: Vec<((char, char), char)> =
            components.iter().map(|(&k, &v)| (k, v)).collect();
        component_pairs.sort_unstable();
        let mut normalizer = Normalizer {
            stages: stages.to_vec(),
            radicals,
            confusables,
            cjk_confusables: cjk_confusables.into_boxed_slice(),
            components,
            component_firsts,
            component_pairs,
            fast: None,
            local_stable_ascii: None,
        };
        if stages.iter().all(|s| is_local(*s)) {
            let (mut out, mut tmp) = (Vec::new(), Vec::new());
            let mut ascii = [false; 128];
            for (b, stable) in ascii.iter_mut().enumerate() {
                let c = char::from(b as u8);
                normalizer.chain_char(stages, c, &mut out, &mut tmp);
                *stable = out.as_slice() == [c];
            }
            normalizer.local_stable_ascii = Some(ascii);
        }
        if stages == Stage::ALL {
            normalizer.fast = Some(FastTables::build(&normalizer));
        }
        normalizer
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
        self.normalize_into(text, Normalized::default())
    }

    /// [`Normalizer::normalize`], reusing the buffers of `into` where it can (see
    /// [`Normalizer::normalize_noting_gaps`]).
    pub(crate) fn normalize_into(&self, text: &str, into: Normalized) -> Normalized {
        if let Some(fast) = &self.fast {
            return self.normalize_fast(text, fast, None, into);
        }
        // Character-local stages only, and every character one they all leave alone: the text
        // is its own normalization.
        if let Some(ascii) = &self.local_stable_ascii
            && text.chars().all(|c| match c {
                '\0'..='\x7F' => ascii[c as usize],
                _ => unified_index(c).is_some() && self.is_chain_stable(c),
            })
        {
            let mut map = OffsetMap::default();
            if !text.is_empty() {
                map.push_run(0, 0);
            }
            return Normalized {
                text: text.to_owned(),
                map,
            };
        }
        let mut units = Vec::with_capacity(text.len());
        push_units(&mut units, text, 0);
        let units = self.run_stages(units);
        let mut out = String::with_capacity(text.len());
        let mut map = OffsetMap::default();
        for u in units {
            map.push_char(out.len(), u.ch.len_utf8(), u.start, u.end);
            out.push(u.ch);
        }
        Normalized { text: out, map }
    }

    /// [`Normalizer::normalize`], and, when the default pipeline's fast path runs, the byte
    /// ranges of the original (in order) that hold every character other than `\n` and the
    /// unified ideographs the fast path copies or maps alone (its gaps) for which `keep` holds:
    /// the only places where, for instance, a digit can be. `None` when the fast path does not
    /// run (the ranges are then unknown).
    ///
    /// `into` is written over: its buffers are reused (see [`Normalized::emptied`]), which spares
    /// a caller that normalizes text after text the allocation and the first writes to fresh
    /// memory (several milliseconds per call for texts of megabytes).
    pub(crate) fn normalize_noting_gaps(
        &self,
        text: &str,
        gaps: &mut Vec<(usize, usize)>,
        keep: fn(&str) -> bool,
        into: Normalized,
    ) -> Option<Normalized> {
        let fast = self.fast.as_ref()?;
        Some(self.normalize_fast(text, fast, Some((gaps, keep)), into))
    }

    /// Every stage over `units`, in order.
    fn run_stages(&self, mut units: Vec<Unit>) -> Vec<Unit> {
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
        units
    }

    /// The default pipeline: runs of anchors are copied (see [`FastTables`]), the gaps between
    /// them normalized on their own.
    fn normalize_fast(
        &self,
        text: &str,
        fast: &FastTables,
        mut gaps: Option<GapNotes<'_>>,
        into: Normalized,
    ) -> Normalized {
        let bytes = text.as_bytes();
        let mut sink = Sink {
            text: into.text,
            map: into.map,
        };
        sink.text.clear();
        sink.text.reserve(text.len());
        sink.map.pieces.clear();
        let mut scratch: Vec<Unit> = Vec::new();
        // Original bytes `copy_from..i` are still to be copied.
        let mut copy_from = 0;
        let mut i = 0;
        loop {
            i = fast.skip_stable(bytes, i);
            if i >= bytes.len() {
                break;
            }
            // An anchor the pipeline changes (traditional → simplified, Martian script).
            if let Some(a) = fast.anchor(bytes, i) {
                sink.copy(text, copy_from, i);
                sink.push(a.out, a.start, a.end);
                i = a.end;
                copy_from = i;
                continue;
            }
            // A gap, from `i` to the next anchor.
            sink.copy(text, copy_from, i);
            let start = i;
            i = match fast.stripped_separator(bytes, i) {
                Some(len) => i + len,
                None => self.gap_at(fast, text, i, &mut sink, &mut scratch),
            };
            if let Some((gaps, keep)) = gaps.as_mut()
                && keep(text.get(start..i).unwrap_or_default())
            {
                gaps.push((start, i));
            }
            copy_from = i;
        }
        sink.copy(text, copy_from, bytes.len());
        Normalized {
            text: sink.text,
            map: sink.map,
        }
    }

    /// Normalize the gap starting at `i` (the character before it, if any, is an anchor: a
    /// three-byte ideograph or `\n`). Returns where the text goes on.
    #[inline(never)]
    fn gap_at(
        &self,
        fast: &FastTables,
        text: &str,
        i: usize,
        sink: &mut Sink,
        scratch: &mut Vec<Unit>,
    ) -> usize {
        let bytes = text.as_bytes();
        // Most gaps are one character between two anchors: a separator (`，`) or another
        // single character (`女`, a first component; a digit). The anchor before the gap is `\n`
        // or an ideograph, whose output is CJK.
        let len = bytes.get(i).map_or(1, |&b| utf8_len(b));
        if let Some(o) = text[i..].chars().next().and_then(|c| fast.output(c))
            && let Some(r) = bytes.get(i + len).and_then(|_| fast.anchor(bytes, i + len))
        {
            if o.seps {
                let left_cjk = i > 0 && bytes[i - 1] != b'\n';
                if !(o.len <= 3 && left_cjk && is_cjk(r.out)) {
                    for &ch in o.chars() {
                        sink.push(ch, i, i + len);
                    }
                }
                return i + len;
            }
            if let [f] = o.chars()
                && !is_separator(*f)
            {
                // Nothing to strip; `f` may recompose with the right anchor.
                return match self.component(*f, r.out) {
                    Some(m) => {
                        sink.push(m, i, r.end);
                        r.end
                    }
                    None => {
                        sink.push(*f, i, i + len);
                        i + len
                    }
                };
            }
        }
        let left = match i {
            0 => None,
            _ if bytes[i - 1] == b'\n' => fast.anchor(bytes, i - 1),
            _ => fast.anchor(bytes, i.saturating_sub(3)),
        };
        let mut j = i;
        let mut right = None;
        while j < bytes.len() {
            if let Some(a) = fast.anchor(bytes, j) {
                right = Some(a);
                break;
            }
            j += utf8_len(bytes[j]);
        }
        self.gap(fast, text, (i, j), (left, right), sink, scratch)
    }

    /// Normalize the gap `i..j` between the anchors `left` and `right` (none at either end of
    /// the text). Returns where the text goes on.
    fn gap(
        &self,
        fast: &FastTables,
        text: &str,
        (i, j): (usize, usize),
        (left, right): (Option<Anchor>, Option<Anchor>),
        sink: &mut Sink,
        scratch: &mut Vec<Unit>,
    ) -> usize {
        let piece = &text[i..j];
        // Separators only (`，`, `……`, spaces, zero-width characters): one run between the two
        // anchors, stripped when it is short and both anchors are CJK.
        let mut seps = 0;
        if piece.chars().all(|c| match fast.output(c) {
            Some(o) if o.seps => {
                seps += usize::from(o.len);
                true
            }
            _ => false,
        }) {
            let joinable = seps <= 3
                && left.is_some_and(|a| is_cjk(a.out))
                && right.is_some_and(|a| is_cjk(a.out));
            if !joinable {
                for (p, c) in piece.char_indices() {
                    for &ch in fast.output(c).as_ref().map_or(&[][..], SmallOut::chars) {
                        sink.push(ch, i + p, i + p + c.len_utf8());
                    }
                }
            }
            return j;
        }
        // A short gap of characters the tables know: the two context stages on a small buffer.
        'small: {
            let mut buf = [Unit::default(); GAP_UNITS];
            let mut n = 0;
            if let Some(l) = left {
                buf[n] = l.unit();
                n += 1;
            }
            for (p, c) in piece.char_indices() {
                let Some(o) = fast.output(c) else {
                    break 'small;
                };
                for &ch in o.chars() {
                    if n == GAP_UNITS {
                        break 'small;
                    }
                    buf[n] = Unit {
                        ch,
                        start: i + p,
                        end: i + p + c.len_utf8(),
                    };
                    n += 1;
                }
            }
            if let Some(r) = right {
                if n == GAP_UNITS {
                    break 'small;
                }
                buf[n] = r.unit();
                n += 1;
            }
            let n = strip_separators_in(&mut buf[..n]);
            let n = self.recompose_in(&mut buf[..n]);
            return sink.push_gap(&buf[..n], left, right, j);
        }
        // Anything else: every stage, on the gap and its two anchors.
        let chunk_start = left.map_or(i, |a| a.start);
        let chunk_end = right.map_or(j, |a| a.end);
        scratch.clear();
        push_units(scratch, &text[chunk_start..chunk_end], chunk_start);
        let units = self.run_stages(std::mem::take(scratch));
        let next = sink.push_gap(&units, left, right, j);
        *scratch = units;
        next
    }

    /// What the character-local stages and `t2s` make of `c` on its own, in `out`; false when
    /// `t2s` would convert part of it depending on its neighbours. `tmp` is scratch.
    fn local_output(&self, c: char, out: &mut Vec<char>, tmp: &mut [Vec<char>; 3]) -> bool {
        let [a, b, t] = tmp;
        self.chain_char(CHAIN_BEFORE_T2S, c, a, b);
        out.clear();
        for &x in a.iter() {
            let x = if x.len_utf8() == 3 {
                match T2S
                    .get(x as usize)
                    .and_then(|&v| char::from_u32(u32::from(v)))
                {
                    Some(v) if v != '\0' => v,
                    _ => return false,
                }
            } else {
                x
            };
            self.chain_char(CHAIN_AFTER_T2S, x, t, b);
            out.extend_from_slice(t);
        }
        true
    }

    /// The character the components `a` and `b` recompose into, if any.
    #[inline]
    fn component(&self, a: char, b: char) -> Option<char> {
        if self.component_firsts.binary_search(&a).is_err() {
            return None;
        }
        let k = self
            .component_pairs
            .binary_search_by_key(&(a, b), |p| p.0)
            .ok()?;
        Some(self.component_pairs[k].1)
    }

    /// Recompose split components in place; returns the new length.
    fn recompose_in(&self, units: &mut [Unit]) -> usize {
        // The write index never passes the read index.
        let (mut r, mut w) = (0, 0);
        while r < units.len() {
            if r + 1 < units.len()
                && let Some(ch) = self.component(units[r].ch, units[r + 1].ch)
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
        w
    }

    /// Apply character-local stages in one pass. Characters that every local stage leaves alone
    /// (unified ideographs, printable lowercase ASCII) take a fast path.
    fn apply_local_chain(&self, chain: &[Stage], mut units: Vec<Unit>) -> Vec<Unit> {
        // In place while every character maps to at most one; a new vector only once a character
        // expands (ligatures, some NFKC forms), which is rare.
        let mut buf: Vec<char> = Vec::new();
        let mut tmp: Vec<char> = Vec::new();
        let mut w = 0;
        let mut grown: Option<Vec<Unit>> = None;
        for r in 0..units.len() {
            let u = units[r];
            if grown.is_none() && self.is_chain_stable(u.ch) {
                units[w] = u;
                w += 1;
                continue;
            }
            self.chain_char(chain, u.ch, &mut buf, &mut tmp);
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

    /// A chain of character-local stages on one character, its output in `buf` (`tmp` is
    /// scratch).
    fn chain_char(&self, chain: &[Stage], c: char, buf: &mut Vec<char>, tmp: &mut Vec<char>) {
        buf.clear();
        buf.push(c);
        if !self.is_chain_stable(c) {
            for stage in chain {
                tmp.clear();
                for &ch in buf.iter() {
                    self.local_char(*stage, ch, tmp);
                }
                std::mem::swap(buf, tmp);
            }
        }
    }

    /// Whether a character the pipeline outputs can be an anchor of the fast path.
    /// (An ideograph's output is one: the anchors other than `\n` all stand for a CJK character,
    /// which the separator rule joins across.)
    fn is_anchor_output(&self, f: char) -> bool {
        is_cjk(f) && !is_separator(f) && self.component_firsts.binary_search(&f).is_err()
    }

    /// Characters every local stage leaves alone (the unified ideographs other than the
    /// confusables table's Martian script, printable lowercase ASCII): chains of local stages
    /// pass them through untouched.
    #[inline]
    fn is_chain_stable(&self, c: char) -> bool {
        match unified_index(c) {
            Some(k) => !self.is_cjk_confusable(k),
            None => c.is_ascii() && !c.is_ascii_uppercase() && !c.is_ascii_control(),
        }
    }

    /// Whether the confusables table maps the unified ideograph of index `k` ([`unified_index`]).
    #[inline]
    fn is_cjk_confusable(&self, k: usize) -> bool {
        self.cjk_confusables
            .get(k / 64)
            .is_some_and(|w| (w >> (k % 64)) & 1 == 1)
    }

    /// What the `confusables` stage makes of `ch`.
    #[inline]
    fn confusable(&self, ch: char) -> char {
        let unmapped = match unified_index(ch) {
            Some(k) => !self.is_cjk_confusable(k),
            None => ch.is_ascii(),
        };
        if unmapped {
            return ch;
        }
        self.confusables.get(&ch).copied().unwrap_or(ch)
    }

    /// One character-local stage on one character, pushing its output (none, one or more).
    fn local_char(&self, stage: Stage, ch: char, out: &mut Vec<char>) {
        match stage {
            Stage::Nfkc if ch.is_ascii() || matches!(ch as u32, 0x4E00..=0x9FFF) => out.push(ch),
            Stage::Nfkc => out.extend(std::iter::once(ch).nfkc()),
            Stage::Radicals => out.push(self.radicals.fold_char(ch)),
            Stage::CaseFold if ch.is_ascii() => out.push(ch.to_ascii_lowercase()),
            Stage::CaseFold => out.extend(ch.to_lowercase()),
            Stage::Confusables => out.push(self.confusable(ch)),
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
                // fast2s maps character for character, each with its neighbours as context.
                let mut units = units;
                let mut prev = '0';
                for k in 0..units.len() {
                    let cur = units[k].ch;
                    let next = units.get(k + 1).map_or('0', |u| u.ch);
                    units[k].ch = t2s_char(prev, cur, next);
                    prev = cur;
                }
                units
            }
            Stage::Confusables => {
                let mut units = units;
                for u in &mut units {
                    u.ch = self.confusable(u.ch);
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
                let mut units = units;
                let n = self.recompose_in(&mut units);
                units.truncate(n);
                units
            }
        }
    }
}

/// Append the characters of `text` as units, their offsets shifted by `offset`.
fn push_units(units: &mut Vec<Unit>, text: &str, offset: usize) {
    units.extend(text.char_indices().map(|(i, ch)| Unit {
        ch,
        start: offset + i,
        end: offset + i + ch.len_utf8(),
    }));
}

/// Number of unified ideographs (U+4E00..=U+9FFF).
const CJK_UNIFIED: usize = 0x9FFF - 0x4E00 + 1;

/// Index of a unified ideograph (U+4E00..=U+9FFF) in tables of them.
#[inline]
fn unified_index(c: char) -> Option<usize> {
    let k = (c as usize).wrapping_sub(0x4E00);
    (k < CJK_UNIFIED).then_some(k)
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
    let n = strip_separators_in(&mut units);
    units.truncate(n);
    units
}

/// [`strip_separators`] in place; returns the new length.
fn strip_separators_in(units: &mut [Unit]) -> usize {
    let n = units.len();
    // In place: the write index never passes the read index. `p1` and `p2` are the original
    // characters one and two before the read index (the checks read the original sequence).
    let (mut r, mut w) = (0, 0);
    let (mut p1, mut p2): (Option<char>, Option<char>) = (None, None);
    while r < n {
        let ch = units[r].ch;
        if !is_separator(ch) {
            units[w] = units[r];
            w += 1;
            r += 1;
            p2 = p1;
            p1 = Some(ch);
            continue;
        }
        let run_start = r;
        let mut i = r;
        while i < n && is_separator(units[i].ch) {
            i += 1;
        }
        // The run is [run_start, i); its neighbours are run_start-1 (`p1`) and i. Each side is a
        // CJK character or a lone Latin letter or digit (`赌*博`, `f.u.c.k`, `0*0*后`): its other
        // neighbour is not a Latin letter or digit. Words on both sides (`not a word`) keep
        // their separators.
        let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let side_ok = |ch: char, other: Option<char>| {
            is_cjk(ch) || (ch.is_ascii_alphanumeric() && !alnum(other))
        };
        let joinable = i < n
            && i - run_start <= 3
            && p1.is_some_and(|before| side_ok(before, p2))
            && side_ok(units[i].ch, units.get(i + 1).map(|u| u.ch));
        let last = units[i - 1].ch;
        let before_last = if i - run_start >= 2 {
            Some(units[i - 2].ch)
        } else {
            p1
        };
        if !joinable {
            for k in run_start..i {
                units[w] = units[k];
                w += 1;
            }
        }
        p1 = Some(last);
        p2 = before_last;
        r = i;
    }
    w
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
            // Martian script (火星文), also from the extension-A block, next to separators and
            // recomposing after the fold (籹 → 女, 女也 → 她).
            ("莪伱祂菂", "我你他的"),
            ("兲朝", "天朝"),
            ("㠯后", "以后"),
            ("莪*伱", "我你"),
            ("籹也", "她"),
            ("覀藏", "西藏"),
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

    /// Characters of every kind the stages treat differently, for generated texts.
    const POOL: &[&str] = &[
        "赌", "博", "的", "人", "天", "子", "长", "东", "月", "也", "火", "早", "去", "尔", "丁",
        "寸", "旦", "午", "弓", "木", "口", "耳", "古", "言", "立", "氵", "亻", "扌", "讠", "女",
        "禾", "賭", "發", "財", "臺", "灣", "後", "麵", "説", "乾", "隆", "坤", "卦", "淨", "兒",
        "寬", "覆", "答", "批", "回", "夥", "甚", "藉", "憑", "慰", "狼", "瞭", "望", "麽", "幺",
        "於", "樊", "著", "看", "苧", "麻", "闔", "家", "鍾", "書", "讎", "校", "定", "仇", "畫",
        "計", "企", "，", "。", "！", "？", "、", "…", "·", "「", "」", "（", "）", "：", "～",
        "*", ".", "-", "_", " ", "\t", "\n", "\r", "\u{3000}", "\u{200b}", "\u{00ad}", "\u{202e}",
        "\u{0007}", "\u{feff}", "a", "b", "k", "z", "A", "F", "K", "Z", "0", "1", "9", "@", "Ａ",
        "ｚ", "１", "＠", "а", "е", "о", "р", "с", "х", "α", "β", "ε", "⼈", "⼯", "⻛", "⻔", "Ⓐ",
        "ⓑ", "①", "ﬁ", "ﬀ", "㍿", "㈱", "⑴", "½", "²", "é", "e\u{301}", "\u{301}", "한", "😀",
        "👍🏻", "㐀", "豈", "𠀀", "İ", "ß", "Σ", "ς", "ü", "Ü", "™", "ｶ", "ﾞ", "\u{2028}", "\u{85}",
        "─", "々", "〇",
        // Martian script: changing anchors (莪 → 我), one that folds to a first component
        // (籹 → 女, with 也 above: 她), extension A (㠯), radical-like forms (覀, 氺, 艸).
        "莪", "伱", "祂", "兲", "籹", "岄", "伡", "㠯", "覀", "氺", "艸", "気", "髪", "丄",
    ];

    fn generated(seed: u64, n: usize) -> Vec<String> {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..n)
            .map(|_| {
                let len = (next() % 40) as usize;
                (0..len)
                    .map(|_| POOL[(next() % POOL.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn fast_path_normalizes_as_every_stage_does() {
        let fast = full();
        assert!(
            fast.fast.is_some(),
            "the default pipeline takes the fast path"
        );
        let mut general = fast.clone();
        general.fast = None;
        let corpus = [
            "他说賭*博不好，F.U.C.K，但 fuckwit 不算，打击赌博是好事。",
            "女也说：弓长三，木子四……口天 、女，也 乾隆 乾净 企畫 看著",
            "前文：賭\u{200b}*博，后文\n女\n也",
            "莪*伱说賭博，籹也乾隆莪乾净伱，兲朝㠯后、覀藏 氺\n籹\n也 岄亮",
        ];
        for text in generated(7, 20_000)
            .iter()
            .map(String::as_str)
            .chain(corpus)
        {
            assert_eq!(fast.normalize(text), general.normalize(text), "{text:?}");
        }
    }

    /// Every Martian-script row of the confusables table folds its ideograph, in every pipeline
    /// that has the stage, and the fast path never copies one as it is.
    #[test]
    fn martian_script_folds_and_is_never_a_stable_anchor() {
        let n = full();
        let fast = n.fast.as_ref().unwrap();
        let alone = Normalizer::new(&[Stage::Confusables], n.radicals.clone());
        let local = Normalizer::new(&[Stage::CaseFold, Stage::Confusables], n.radicals.clone());
        let mut rows = 0;
        for row in table_rows(CONFUSABLES) {
            let (Some(&from), Some(&to)) = (row.first(), row.get(1)) else {
                continue;
            };
            let c = from.chars().next().unwrap();
            if !is_cjk(c) {
                continue;
            }
            rows += 1;
            assert!(row[2].starts_with("Martian script"), "{row:?}");
            for p in [&n, &alone, &local] {
                assert_eq!(p.normalize_str(from), to, "{from}");
                assert_eq!(
                    p.normalize_str(&format!("{from}{from}")),
                    format!("{to}{to}")
                );
            }
            assert_eq!(n.normalize_str(to), to, "{to} is its own normalization");
            if let Some(k) = unified_index(c) {
                assert_eq!(
                    (fast.stable[k / 64] >> (k % 64)) & 1,
                    0,
                    "{from}: a stable anchor"
                );
                let v = fast.cjk[k];
                assert!(
                    v == 0 || char::from_u32(v & !ANCHOR) == to.chars().next(),
                    "{from}: {v:x}"
                );
            }
            // The span of the fold is the Martian character.
            let text = format!("「{from}」");
            let norm = n.normalize(&text);
            let at = norm.text.find(to).unwrap();
            let (s, e) = norm.original_span(at, at + to.len()).unwrap();
            assert_eq!(&text[s..e], from);
        }
        assert!(rows >= 100, "{rows} Martian rows");
        // Nothing else of the unified block changes in the confusables stage.
        let changed = (0x4E00u32..=0x9FFF)
            .filter_map(char::from_u32)
            .filter(|&c| alone.confusable(c) != c)
            .count();
        assert_eq!(changed, rows - 1, "one Martian row is in extension A");
    }

    #[test]
    fn confusables_is_version_2() {
        assert_eq!(Stage::Confusables.version(), 2);
        assert!(full().describe().contains(&"confusables@2".to_owned()));
    }

    #[test]
    fn t2s_is_fast2s_character_by_character() {
        // On its own, every character converts as fast2s converts it.
        for c in (0x800u32..=0xFFFF).filter_map(char::from_u32) {
            let want = fast2s::convert(&c.to_string());
            assert_eq!(t2s_char('0', c, '0').to_string(), want, "{c}");
        }
        // In a text, with neighbours.
        let t2s = Normalizer::new(&[Stage::TraditionalToSimplified], full().radicals);
        for text in generated(11, 5_000) {
            assert_eq!(t2s.normalize_str(&text), fast2s::convert(&text), "{text:?}");
        }
    }

    #[test]
    fn stage_ids_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::from_id(s.id()), Some(*s));
        }
    }
}
