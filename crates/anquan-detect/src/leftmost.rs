//! Leftmost-longest matching of the normalized patterns.
//!
//! Large libraries go through daachorse's character-wise double-array automaton. A small library
//! (at most [`FILTERED_MAX_PATTERNS`] patterns) goes through a filter on the first two
//! characters instead: a bit per BMP character that is a one-character pattern, a hashed bit per
//! pair of characters that starts a pattern, and a hash table from each such pair to its
//! patterns, longest first, which are compared with the text only there. With few patterns most
//! positions start none, and the filter's tests are cheaper than an automaton step; with many,
//! pairs that start some pattern are everywhere and the automaton wins. Measured on the
//! benchmark corpus (whole pipeline, same machine, back to back): the filter is ahead at 1,000
//! and 3,000 patterns, even at 5,000, behind at 10,000 and far behind at 100,000; `cargo bench
//! -p anquan-bench --bench detect -- matcher raw_`. Grouping by the first character alone was
//! tried and lost to the automaton even at 1,000 patterns (common characters start many
//! keywords); larger pair filters (2^18, 2^20 bits) changed nothing.
//!
//! Both give the same matches: the leftmost start, the longest pattern there, then on from its
//! end (the unit test compares them on generated text, and the engine's fingerprints on the
//! benchmark libraries are unchanged).

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};

/// Most patterns the filter takes; above it the automaton is used. Tool policy from measurement
/// (see the module docs), not a clause number.
pub(crate) const FILTERED_MAX_PATTERNS: usize = 4_000;

/// A leftmost-longest matcher over (pattern, value) pairs.
pub(crate) enum Leftmost {
    /// daachorse, leftmost-longest.
    Automaton(CharwiseDoubleArrayAhoCorasick<u32>),
    /// The filter on the first two characters.
    Filtered(FirstCharFilter),
}

/// Patterns grouped by their first two characters, with a filter on them.
pub(crate) struct FirstCharFilter {
    /// Bit `c` set when BMP character `c` is a pattern of one character.
    singles: Vec<u64>,
    /// One-character patterns with their values, sorted.
    single_values: Vec<(char, u32)>,
    /// Bit `pair_bit(a, b)` set when some pattern starts with `a` then `b` (a hash: other pairs
    /// may share a bit, which costs a look-up, never a match).
    pairs: Vec<u64>,
    /// Open-addressing table from a pair (`pair_key`) to its range in `patterns`;
    /// `EMPTY` marks a free slot. Its length is a power of two.
    table: Vec<(u64, u32, u32)>,
    /// Patterns of two characters or more and their values, grouped by their first two
    /// characters, each group longest first.
    patterns: Vec<(Box<str>, u32)>,
}

const EMPTY: u64 = u64::MAX;

fn pair_key(a: char, b: char) -> u64 {
    (u64::from(a as u32) << 32) | u64::from(b as u32)
}

fn slot_of(key: u64, len: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & (len - 1)
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
        let mut singles = vec![0u64; 0x10000 / 64];
        let mut single_values: Vec<(char, u32)> = Vec::new();
        let mut pairs = vec![0u64; PAIR_BITS / 64];
        let mut longer: Vec<(u64, &str, u32)> = Vec::new();
        for (p, v) in patterns {
            let mut chars = p.chars();
            let (Some(a), b) = (chars.next(), chars.next()) else {
                continue;
            };
            match b {
                Some(b) => {
                    set(&mut pairs, pair_bit(a, b));
                    longer.push((pair_key(a, b), p.as_str(), *v));
                }
                None => {
                    set(&mut singles, a as usize);
                    single_values.push((a, *v));
                }
            }
        }
        single_values.sort_unstable();
        // By pair, then longest first (ties by text, for a fixed order).
        longer.sort_by(|x, y| {
            x.0.cmp(&y.0)
                .then_with(|| y.1.len().cmp(&x.1.len()))
                .then_with(|| x.1.cmp(y.1))
        });
        let mut groups: Vec<(u64, u32, u32)> = Vec::new();
        for (i, (key, _, _)) in longer.iter().enumerate() {
            let i = i as u32;
            match groups.last_mut() {
                Some(last) if last.0 == *key => last.2 = i + 1,
                _ => groups.push((*key, i, i + 1)),
            }
        }
        let mut table = vec![(EMPTY, 0, 0); (groups.len() * 2).next_power_of_two().max(2)];
        let len = table.len();
        for g in groups {
            let mut k = slot_of(g.0, len);
            while table[k].0 != EMPTY {
                k = (k + 1) & (len - 1);
            }
            table[k] = g;
        }
        FirstCharFilter {
            singles,
            single_values,
            pairs,
            table,
            patterns: longer
                .into_iter()
                .map(|(_, p, v)| (Box::from(p), v))
                .collect(),
        }
    }

    /// The patterns (range in `patterns`) that start with `a` then `b`.
    #[inline]
    fn group(&self, a: char, b: char) -> Option<(usize, usize)> {
        if !test(&self.pairs, pair_bit(a, b)) {
            return None;
        }
        let key = pair_key(a, b);
        let len = self.table.len();
        let mut k = slot_of(key, len);
        loop {
            let (slot_key, from, to) = *self.table.get(k)?;
            if slot_key == key {
                return Some((from as usize, to as usize));
            }
            if slot_key == EMPTY {
                return None;
            }
            k = (k + 1) & (len - 1);
        }
    }

    /// The longest pattern that `rest` (the text from `c` on, `next` the character after `c`)
    /// starts with: its length in bytes and value.
    #[inline]
    fn longest_at(&self, c: char, next: Option<char>, rest: &[u8]) -> Option<(usize, u32)> {
        if let Some((from, to)) = next.and_then(|n| self.group(c, n))
            && let Some((p, v)) = self
                .patterns
                .get(from..to)?
                .iter()
                .find(|(p, _)| rest.starts_with(p.as_bytes()))
        {
            return Some((p.len(), *v));
        }
        let single = match self.singles.get(c as usize / 64) {
            Some(word) => (word >> (c as usize % 64)) & 1 == 1,
            None => true,
        };
        if !single {
            return None;
        }
        let k = self.single_values.binary_search_by(|s| s.0.cmp(&c)).ok()?;
        self.single_values.get(k).map(|&(_, v)| (c.len_utf8(), v))
    }

    fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize, u32)) {
        let bytes = text.as_bytes();
        // Matches do not overlap: characters before `resume` belong to the last match.
        let mut resume = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if i < resume {
                continue;
            }
            let next = chars.peek().map(|&(_, n)| n);
            if let Some((len, v)) = bytes
                .get(i..)
                .and_then(|rest| self.longest_at(c, next, rest))
            {
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
