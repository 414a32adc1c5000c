//! Leftmost-longest matching of the normalized patterns.
//!
//! Large libraries go through daachorse's character-wise double-array automaton. A small library
//! (at most [`FILTERED_MAX_PATTERNS`] patterns) goes through a filter on the first two
//! characters instead: a bit per BMP character that is a one-character pattern, and a hashed bit
//! per pair of characters that starts a pattern; only where one is set are the patterns that
//! start with that character compared with the text, longest first. With few patterns most
//! positions start none, and the filter's bit tests are cheaper than an automaton step; with
//! many, pairs that start some pattern are everywhere and the automaton wins (measured on the
//! benchmark corpus: the filter is ahead at 3,000 patterns, behind at 5,000; `cargo bench -p
//! anquan-bench --bench detect -- matcher raw_`). A first-character filter alone was tried and
//! lost to the automaton even at 1,000 patterns: common characters start some keyword.
//!
//! Both give the same matches: the leftmost start, the longest pattern there, then on from its
//! end (the unit test compares them on generated text, and the engine's fingerprints on the
//! benchmark libraries are unchanged).

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};

/// Most patterns the filter takes; above it the automaton is used. Tool policy from measurement
/// (see the module docs), not a clause number.
pub(crate) const FILTERED_MAX_PATTERNS: usize = 3_000;

/// A leftmost-longest matcher over (pattern, value) pairs.
pub(crate) enum Leftmost {
    /// daachorse, leftmost-longest.
    Automaton(CharwiseDoubleArrayAhoCorasick<u32>),
    /// The filter on the first two characters.
    Filtered(FirstCharFilter),
}

/// Patterns grouped by their first character, with a filter on the first two characters.
pub(crate) struct FirstCharFilter {
    /// Bit `c` set when BMP character `c` is a pattern of one character.
    singles: Vec<u64>,
    /// Whether some one-character pattern is outside the BMP.
    astral_singles: bool,
    /// Bit `pair_bit(a, b)` set when some pattern starts with `a` then `b` (a hash: other pairs
    /// may share a bit, which costs a comparison, never a match).
    pairs: Vec<u64>,
    /// First characters, sorted, each with its range in `patterns`.
    firsts: Vec<(char, u32, u32)>,
    /// Patterns and values, grouped by first character, each group longest first.
    patterns: Vec<(Box<str>, u32)>,
}

impl Leftmost {
    /// The matcher for `patterns` (distinct, non-empty), or `None` when there are none or the
    /// automaton cannot be built.
    pub(crate) fn new(patterns: &[(String, u32)]) -> Option<Leftmost> {
        if patterns.is_empty() {
            return None;
        }
        if patterns.len() <= FILTERED_MAX_PATTERNS {
            return Some(Leftmost::Filtered(FirstCharFilter::new(patterns)));
        }
        CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build_with_values(patterns.iter().map(|(p, v)| (p.as_str(), *v)))
            .ok()
            .map(Leftmost::Automaton)
    }

    /// Every leftmost-longest match in `text`, in order, as (start, end, value).
    #[inline]
    pub(crate) fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize, u32)) {
        match self {
            Leftmost::Automaton(ac) => {
                for m in ac.leftmost_find_iter(text) {
                    f(m.start(), m.end(), m.value());
                }
            }
            Leftmost::Filtered(filter) => filter.for_each(text, f),
        }
    }
}

/// Bits of the pair filter: 64 Ki, 8 KiB, which stays in the first-level cache.
const PAIR_BITS: usize = 1 << 16;

#[inline]
fn pair_bit(a: char, b: char) -> usize {
    let h = (a as u32).wrapping_mul(0x9E37_79B1) ^ (b as u32).wrapping_mul(0x85EB_CA77);
    (h >> 16) as usize % PAIR_BITS
}

fn set(bits: &mut [u64], k: usize) {
    if let Some(word) = bits.get_mut(k / 64) {
        *word |= 1 << (k % 64);
    }
}

#[inline]
fn test(bits: &[u64], k: usize) -> bool {
    bits.get(k / 64).is_some_and(|w| (w >> (k % 64)) & 1 == 1)
}

impl FirstCharFilter {
    fn new(patterns: &[(String, u32)]) -> FirstCharFilter {
        let mut sorted: Vec<(char, &str, u32)> = patterns
            .iter()
            .filter_map(|(p, v)| Some((p.chars().next()?, p.as_str(), *v)))
            .collect();
        // By first character, then longest first (ties by text, for a fixed order).
        sorted.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| b.1.len().cmp(&a.1.len()))
                .then_with(|| a.1.cmp(b.1))
        });
        let mut singles = vec![0u64; 0x10000 / 64];
        let mut astral_singles = false;
        let mut pairs = vec![0u64; PAIR_BITS / 64];
        let mut firsts: Vec<(char, u32, u32)> = Vec::new();
        let mut out = Vec::with_capacity(sorted.len());
        for (i, (c, p, v)) in sorted.into_iter().enumerate() {
            let i = i as u32;
            match firsts.last_mut() {
                Some(last) if last.0 == c => last.2 = i + 1,
                _ => firsts.push((c, i, i + 1)),
            }
            match p.chars().nth(1) {
                Some(n) => set(&mut pairs, pair_bit(c, n)),
                None if (c as usize) < 0x10000 => set(&mut singles, c as usize),
                None => astral_singles = true,
            }
            out.push((Box::from(p), v));
        }
        FirstCharFilter {
            singles,
            astral_singles,
            pairs,
            firsts,
            patterns: out,
        }
    }

    /// Whether some pattern may start at `c` followed by `next`.
    #[inline]
    fn may_start(&self, c: char, next: Option<char>) -> bool {
        let single = match self.singles.get(c as usize / 64) {
            Some(word) => (word >> (c as usize % 64)) & 1 == 1,
            None => self.astral_singles,
        };
        single || next.is_some_and(|n| test(&self.pairs, pair_bit(c, n)))
    }

    /// The longest pattern that `rest` starts with, among those starting with `c`.
    fn longest_at(&self, c: char, rest: &[u8]) -> Option<(usize, u32)> {
        let k = self.firsts.binary_search_by(|f| f.0.cmp(&c)).ok()?;
        let (_, from, to) = self.firsts[k];
        self.patterns
            .get(from as usize..to as usize)?
            .iter()
            .find(|(p, _)| rest.starts_with(p.as_bytes()))
            .map(|(p, v)| (p.len(), *v))
    }

    fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize, u32)) {
        let bytes = text.as_bytes();
        // Matches do not overlap: characters before `resume` belong to the last match.
        let mut resume = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if i < resume || !self.may_start(c, chars.peek().map(|&(_, n)| n)) {
                continue;
            }
            if let Some((len, v)) = bytes.get(i..).and_then(|rest| self.longest_at(c, rest)) {
                f(i, i + len, v);
                resume = i + len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn automaton(patterns: &[(String, u32)]) -> Leftmost {
        Leftmost::Automaton(
            CharwiseDoubleArrayAhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build_with_values(patterns.iter().map(|(p, v)| (p.as_str(), *v)))
                .unwrap(),
        )
    }

    fn all(m: &Leftmost, text: &str) -> Vec<(usize, usize, u32)> {
        let mut out = Vec::new();
        m.for_each(text, |s, e, v| out.push((s, e, v)));
        out
    }

    #[test]
    fn the_filter_matches_as_the_automaton_does() {
        // (The engine's fingerprints on the 1k, 100k, starter and mixed libraries were also
        // identical with the filter forced for every library size.)
        // Overlapping, nested and shared-prefix patterns over a small alphabet, so that every
        // kind of conflict happens often; astral characters too.
        let alphabet: Vec<char> = "赌博机网站彩票ab🀄é".chars().collect();
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..200 {
            let mut patterns: Vec<(String, u32)> = Vec::new();
            let count = 1 + next() % 12;
            for _ in 0..count {
                let len = 1 + next() % 4;
                let p: String = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                if !patterns.iter().any(|(q, _)| *q == p) {
                    let v = patterns.len() as u32;
                    patterns.push((p, v));
                }
            }
            let text: String = (0..60)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let filtered = Leftmost::Filtered(FirstCharFilter::new(&patterns));
            assert_eq!(
                all(&filtered, &text),
                all(&automaton(&patterns), &text),
                "round {round}: {patterns:?} in {text}"
            );
        }
    }

    #[test]
    fn small_libraries_take_the_filter_and_large_ones_the_automaton() {
        let few: Vec<(String, u32)> = vec![("赌博".into(), 0), ("赌博机".into(), 1)];
        assert!(matches!(Leftmost::new(&few), Some(Leftmost::Filtered(_))));
        let many: Vec<(String, u32)> = (0..=FILTERED_MAX_PATTERNS as u32)
            .map(|i| (format!("词{i}"), i))
            .collect();
        assert!(matches!(Leftmost::new(&many), Some(Leftmost::Automaton(_))));
        assert!(Leftmost::new(&[]).is_none());
        let m = Leftmost::new(&few).unwrap();
        assert_eq!(all(&m, "玩赌博机，赌博"), [(3, 12, 1), (15, 21, 0)]);
    }
}
