//! Leftmost-longest matching of the normalized patterns.
//!
//! The leftmost-longest matches are found by looking, at each position from the left, for the
//! longest pattern that starts there, and going on from its end. Most positions start none, so
//! the matcher is built to say so cheaply:
//! - two hashed bits per pair of characters that starts a pattern (a filter of 8 to 32 KiB, in
//!   the first-level cache) and a bit per BMP character that is a one-character pattern (not
//!   looked at when the library has none);
//! - positions that pass are gathered in batches of [`BATCH`] before any is looked up, so their
//!   look-ups in the pair table (open addressing, the pair's trie node inline) do not wait on one
//!   another and their cache misses overlap;
//! - two hashed bits per (pair, next character) that goes on in the trie: most pairs that start
//!   a pattern are not followed by one of its characters, and this says so without reading the
//!   pair's children;
//! - only then the trie, breadth first, each node's children together in character order.
//!
//! Measured on the benchmark corpus against daachorse's character-wise double-array automaton
//! (leftmost-longest, the fastest raw matcher of the issue) on the same normalized text, alone:
//! 3.8-4.2 / 5.6-5.8 / 9.6-10.3 ms against 9.6-10.2 / 9.4-9.9 / 11.6-12.5 ms at 1k / 10k / 100k
//! keywords (fastest of 20, back to back, several runs); in the pipeline it gained more at 100k
//! than alone (the automaton's tables, several MB at 100k, compete for the cache with the
//! normalizer's output). What is left at 100k is mostly the walks' cache misses on the children
//! of pairs that are rarely seen. Tried and slower: keys of raw UTF-8 bytes instead of decoded
//! characters, a pass of its own resolving each candidate's slot and next character, reading
//! the children ahead, a depth-first layout, larger filters. An earlier version compared each pair's patterns one by one,
//! longest first, and lost to the automaton from about 5,000 patterns: the pairs of common words
//! start hundreds of patterns. Grouping by the first character alone lost even at 1,000.
//!
//! The matches are daachorse's leftmost-longest ones: the unit test compares the two on
//! generated text, and the engine's fingerprints (`profile_pipeline fingerprint`) on the
//! benchmark, starter and mixed libraries were identical before and after the change.

/// A leftmost-longest matcher over (pattern, value) pairs: patterns of two characters or more
/// in a trie entered by their first two characters, with filters on the first two and three
/// characters; patterns of one character in a bitmap.
pub(crate) struct Leftmost {
    /// Bit `c` set when BMP character `c` is a pattern of one character.
    singles: Vec<u64>,
    /// Whether some one-character pattern is outside the BMP.
    astral_singles: bool,
    /// One-character patterns with their values, sorted.
    single_values: Vec<(char, u32)>,
    /// The two bits `two_bits(pair_hash(key), pair_shift)` set when some pattern starts with
    /// the pair `key` (a hash: other pairs may find both their bits set, which costs a look-up,
    /// never a match).
    pairs: Vec<u64>,
    /// `64 - log2(words of pairs)`.
    pair_shift: u32,
    /// The two bits `two_bits(triple_hash(key, c), triple_shift)` set when some pattern starts
    /// with the pair `key` then `c` (a hash, like `pairs`): most pairs that start a pattern are
    /// not followed by a character that goes on, and this tells so without looking at the
    /// pair's children.
    triples: Vec<u64>,
    /// `64 - log2(words of triples)`.
    triple_shift: u32,
    /// Open-addressing table from a pair to its trie node, inline; a slot whose key is `EMPTY`
    /// is free. Its length is a power of two.
    table: Vec<Slot>,
    /// The trie below the pairs, breadth first: a node's children are consecutive, in
    /// character order, so that finding a child and reading it touch the same cache lines.
    nodes: Vec<Node>,
}

/// A trie node: the character on the edge into it, the value of the pattern that ends here
/// (`NONE` when none does) and its children `first..first + count` in `nodes`.
#[derive(Clone, Copy)]
struct Node {
    c: u32,
    value: u32,
    first: u32,
    count: u32,
}

/// A pair table slot (16 bytes, four to a cache line): the pair's key (`pair_key`, 42 bits)
/// with its node's child count above it, and the node's value and first child.
#[derive(Clone, Copy)]
struct Slot {
    key_count: u64,
    value: u32,
    first: u32,
}

const EMPTY: u64 = u64::MAX;
const NONE: u32 = u32::MAX;
const KEY_BITS: u32 = 42;
const KEY_MASK: u64 = (1 << KEY_BITS) - 1;

/// Two characters in 42 bits (a character is at most 21 bits); never `EMPTY & KEY_MASK`.
#[inline]
fn pair_key(a: char, b: char) -> u64 {
    (u64::from(a as u32) << 21) | u64::from(b as u32)
}

#[inline]
fn pair_hash(key: u64) -> u64 {
    key.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Bits of the pair filter per distinct pair (with two bits set per pair, about 1 in 70 other
/// pairs passes it), between 64 Ki (8 KiB) and 256 Ki (32 KiB, within the first-level cache)
/// bits. Tool policy from measurement, like the other sizes here, not clause numbers.
const PAIR_BITS_PER_PAIR: usize = 16;
const PAIR_BITS_MIN: usize = 1 << 16;
const PAIR_BITS_MAX: usize = 1 << 18;

/// The same for the filter on three characters.
const TRIPLE_BITS_PER_TRIPLE: usize = 8;
const TRIPLE_BITS_MAX: usize = 1 << 19;

#[inline]
fn triple_hash(key: u64, c: char) -> u64 {
    pair_hash(key | (u64::from(c as u32) << KEY_BITS))
}

/// Positions whose pair passes the filter, gathered before any is looked up: their table
/// look-ups do not depend on one another, so their cache misses overlap.
const BATCH: usize = 64;

fn set(bits: &mut [u64], k: usize) {
    if let Some(word) = bits.get_mut(k / 64) {
        *word |= 1 << (k % 64);
    }
}

#[inline]
fn bit(bits: &[u64], k: usize) -> u64 {
    bits.get(k / 64).map_or(0, |w| (w >> (k % 64)) & 1)
}

/// The word of a two-bit filter (`shift` is `64 - log2(words)`) and its two bits for `hash`.
#[inline]
fn two_bits(hash: u64, shift: u32) -> (usize, u64) {
    (
        (hash >> shift) as usize,
        (1 << ((hash >> 20) & 63)) | (1 << ((hash >> 26) & 63)),
    )
}

/// Whether both of `hash`'s bits are set: 1 or 0.
#[inline]
fn has_two(bits: &[u64], hash: u64, shift: u32) -> u64 {
    let (word, mask) = two_bits(hash, shift);
    bits.get(word).map_or(0, |w| u64::from(w & mask == mask))
}

/// A position whose pair passed the filter or whose character is a one-character pattern.
#[derive(Clone, Copy)]
struct Candidate {
    /// Byte offset of the first character.
    at: usize,
    c: char,
    /// The next character, if any.
    next: Option<char>,
    /// Its pair's hash.
    hash: u64,
}

impl Leftmost {
    /// The matcher for `patterns` (distinct, non-empty; a repeated pattern keeps its first
    /// value), or `None` when there are none.
    pub(crate) fn new(patterns: &[(String, u32)]) -> Option<Leftmost> {
        if patterns.is_empty() {
            return None;
        }
        let mut singles = vec![0u64; 0x10000 / 64];
        let mut single_values: Vec<(char, u32)> = Vec::new();
        let mut longer: Vec<(&str, u32)> = Vec::new();
        for (p, v) in patterns {
            let mut chars = p.chars();
            match (chars.next(), chars.next()) {
                (Some(a), None) => {
                    set(&mut singles, a as usize);
                    single_values.push((a, *v));
                }
                (Some(_), Some(_)) => longer.push((p.as_str(), *v)),
                (None, _) => {}
            }
        }
        single_values.sort_by_key(|s| s.0);
        single_values.dedup_by_key(|s| s.0);
        let astral_singles = single_values.iter().any(|s| s.0 as u32 > 0xFFFF);
        // Byte order is code point order, so a sorted list keeps each prefix's patterns
        // together, the prefix itself first.
        longer.sort_by_key(|p| p.0);
        longer.dedup_by_key(|p| p.0);
        // The pair nodes first, then breadth first below them.
        let leaf = |c: char| Node {
            c: c as u32,
            value: NONE,
            first: 0,
            count: 0,
        };
        let mut nodes: Vec<Node> = Vec::new();
        let mut queue = std::collections::VecDeque::new();
        let mut pair_nodes: Vec<(u64, usize)> = Vec::new();
        let mut lo = 0;
        while let Some(&(p, _)) = longer.get(lo) {
            let mut head = p.chars();
            let (Some(a), Some(b)) = (head.next(), head.next()) else {
                lo += 1;
                continue;
            };
            let depth = a.len_utf8() + b.len_utf8();
            let prefix = &p[..depth];
            let hi = lo + longer[lo..].partition_point(|q| q.0.starts_with(prefix));
            pair_nodes.push((pair_key(a, b), nodes.len()));
            queue.push_back((nodes.len(), lo, hi, depth));
            nodes.push(leaf(b));
            lo = hi;
        }
        while let Some((j, mut lo, hi, depth)) = queue.pop_front() {
            if longer[lo].0.len() == depth {
                nodes[j].value = longer[lo].1;
                lo += 1;
            }
            let first = nodes.len();
            while lo < hi {
                let p = longer[lo].0;
                let Some(c) = p[depth..].chars().next() else {
                    lo += 1;
                    continue;
                };
                let below = depth + c.len_utf8();
                let prefix = &p[..below];
                let end = lo + longer[lo..hi].partition_point(|q| q.0.starts_with(prefix));
                queue.push_back((nodes.len(), lo, end, below));
                nodes.push(leaf(c));
                lo = end;
            }
            nodes[j].first = first as u32;
            nodes[j].count = (nodes.len() - first) as u32;
        }
        let bits = (pair_nodes.len() * PAIR_BITS_PER_PAIR)
            .next_power_of_two()
            .clamp(PAIR_BITS_MIN, PAIR_BITS_MAX);
        let pair_shift = 64 - (bits / 64).trailing_zeros();
        let mut pairs = vec![0u64; bits / 64];
        let triple_count: usize = pair_nodes
            .iter()
            .map(|&(_, j)| nodes[j].count as usize)
            .sum();
        let bits = (triple_count * TRIPLE_BITS_PER_TRIPLE)
            .next_power_of_two()
            .clamp(PAIR_BITS_MIN, TRIPLE_BITS_MAX);
        let triple_shift = 64 - (bits / 64).trailing_zeros();
        let mut triples = vec![0u64; bits / 64];
        for &(key, j) in &pair_nodes {
            let Node { first, count, .. } = nodes[j];
            for child in &nodes[first as usize..(first + count) as usize] {
                let c = char::from_u32(child.c).unwrap_or_default();
                let (word, bits) = two_bits(triple_hash(key, c), triple_shift);
                if let Some(w) = triples.get_mut(word) {
                    *w |= bits;
                }
            }
        }
        let free = Slot {
            key_count: EMPTY,
            value: NONE,
            first: 0,
        };
        // At most a quarter full: a pair is at its home slot nearly always (measured faster at
        // 100k keywords than half full).
        let mut table = vec![free; (pair_nodes.len() * 4).next_power_of_two().max(2)];
        let mask = table.len() - 1;
        for (key, j) in pair_nodes {
            let h = pair_hash(key);
            let (word, bits) = two_bits(h, pair_shift);
            if let Some(w) = pairs.get_mut(word) {
                *w |= bits;
            }
            let mut k = (h >> 32) as usize & mask;
            while table[k].key_count != EMPTY {
                k = (k + 1) & mask;
            }
            let node = nodes[j];
            table[k] = Slot {
                key_count: key | (u64::from(node.count) << KEY_BITS),
                value: node.value,
                first: node.first,
            };
        }
        Some(Leftmost {
            singles,
            astral_singles,
            single_values,
            pairs,
            pair_shift,
            triples,
            triple_shift,
            table,
            nodes,
        })
    }

    /// The table slot where the look-up of the pair with hash `hash` starts.
    #[inline]
    fn home(&self, hash: u64) -> usize {
        (hash >> 32) as usize & (self.table.len() - 1)
    }

    /// The trie node of the pair `key` (hash `hash`), from its home slot `slot`.
    #[inline]
    fn pair_node(&self, key: u64, hash: u64, mut slot: Slot) -> Option<Node> {
        let mask = self.table.len() - 1;
        let mut k = self.home(hash);
        loop {
            if slot.key_count & KEY_MASK == key {
                return Some(Node {
                    c: 0,
                    value: slot.value,
                    first: slot.first,
                    count: (slot.key_count >> KEY_BITS) as u32,
                });
            }
            if slot.key_count == EMPTY {
                return None;
            }
            k = (k + 1) & mask;
            slot = *self.table.get(k)?;
        }
    }

    /// The child of `node` on character `c`.
    #[inline]
    fn child(&self, node: Node, c: char) -> Option<Node> {
        let (first, count) = (node.first as usize, node.count as usize);
        let children = self.nodes.get(first..first + count)?;
        let c = c as u32;
        if count <= 8 {
            children.iter().find(|n| n.c == c).copied()
        } else {
            let k = children.binary_search_by_key(&c, |n| n.c).ok()?;
            children.get(k).copied()
        }
    }

    /// The longest pattern at a candidate (`slot` its pair's home slot, read beforehand), in
    /// `text`: its length in bytes and value.
    #[inline]
    fn longest_at(&self, text: &str, cand: Candidate, slot: Slot) -> Option<(usize, u32)> {
        let c = cand.c;
        if let Some(n) = cand.next
            && let Some(mut node) = self.pair_node(pair_key(c, n), cand.hash, slot)
        {
            let mut at = cand.at + c.len_utf8() + n.len_utf8();
            let mut best = (node.value != NONE).then_some((at, node.value));
            let rest = text.get(at..).unwrap_or_default();
            let goes_on = rest.chars().next().is_some_and(|d| {
                has_two(
                    &self.triples,
                    triple_hash(pair_key(c, n), d),
                    self.triple_shift,
                ) == 1
            });
            if goes_on {
                for d in rest.chars() {
                    let Some(child) = self.child(node, d) else {
                        break;
                    };
                    node = child;
                    at += d.len_utf8();
                    if node.value != NONE {
                        best = Some((at, node.value));
                    }
                    if node.count == 0 {
                        break;
                    }
                }
            }
            if let Some((end, v)) = best {
                return Some((end - cand.at, v));
            }
        }
        let single = if (c as u32) < 0x10000 {
            bit(&self.singles, c as usize) == 1
        } else {
            self.astral_singles
        };
        if !single {
            return None;
        }
        let k = self.single_values.binary_search_by(|s| s.0.cmp(&c)).ok()?;
        self.single_values.get(k).map(|&(_, v)| (c.len_utf8(), v))
    }

    /// Up to [`BATCH`] candidates from `current` on, in `batch`; their count. `SINGLES`: whether
    /// there are one-character patterns to look for (most libraries have none).
    #[inline]
    fn gather<const SINGLES: bool>(
        &self,
        chars: &mut std::str::CharIndices<'_>,
        current: &mut Option<(usize, char)>,
        batch: &mut [Candidate; BATCH],
    ) -> usize {
        let mut n = 0;
        while n < BATCH
            && let Some((at, c)) = *current
        {
            let following = chars.next();
            let next = following.map(|(_, d)| d);
            let hash = pair_hash(pair_key(c, next.unwrap_or('\0')));
            let mut pass = has_two(&self.pairs, hash, self.pair_shift) & u64::from(next.is_some());
            if SINGLES {
                pass |= if (c as u32) < 0x10000 {
                    bit(&self.singles, c as usize)
                } else {
                    u64::from(self.astral_singles)
                };
            }
            batch[n] = Candidate { at, c, next, hash };
            n += pass as usize;
            *current = following;
        }
        n
    }

    /// Every leftmost-longest match in `text`, in order, as (start, end, value).
    pub(crate) fn for_each(&self, text: &str, mut f: impl FnMut(usize, usize, u32)) {
        let free = Slot {
            key_count: EMPTY,
            value: NONE,
            first: 0,
        };
        let none = Candidate {
            at: 0,
            c: '\0',
            next: None,
            hash: 0,
        };
        let mut batch = [none; BATCH];
        let mut slots = [free; BATCH];
        // Matches do not overlap: characters before `resume` belong to the last match.
        let mut resume = 0;
        let mut chars = text.char_indices();
        let mut current = chars.next();
        while current.is_some() {
            // 1. Up to BATCH candidates, without a branch on the filter.
            let n = if self.single_values.is_empty() {
                self.gather::<false>(&mut chars, &mut current, &mut batch)
            } else {
                self.gather::<true>(&mut chars, &mut current, &mut batch)
            };
            // 2. Their home slots, loads independent of one another.
            for (slot, cand) in slots.iter_mut().zip(&batch).take(n) {
                *slot = self
                    .table
                    .get(self.home(cand.hash))
                    .copied()
                    .unwrap_or(free);
            }
            // 3. The longest pattern at each, leftmost first.
            for (cand, slot) in batch.iter().zip(&slots).take(n) {
                if cand.at < resume {
                    continue;
                }
                if let Some((len, v)) = self.longest_at(text, *cand, *slot) {
                    f(cand.at, cand.at + len, v);
                    resume = cand.at + len;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use daachorse::{CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};

    /// daachorse's leftmost-longest matches: the reference.
    fn automaton(patterns: &[(String, u32)], text: &str) -> Vec<(usize, usize, u32)> {
        CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build_with_values(patterns.iter().map(|(p, v)| (p.as_str(), *v)))
            .unwrap()
            .leftmost_find_iter(text)
            .map(|m| (m.start(), m.end(), m.value()))
            .collect()
    }

    fn all(m: &Leftmost, text: &str) -> Vec<(usize, usize, u32)> {
        let mut out = Vec::new();
        m.for_each(text, |s, e, v| out.push((s, e, v)));
        out
    }

    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn it_matches_as_the_automaton_does() {
        // Overlapping, nested and shared-prefix patterns over a small alphabet, so that every
        // kind of conflict happens often; astral characters and one-character patterns too.
        // Few patterns (nodes with a handful of children, a sparse filter) and many (nodes with
        // more than 8 children, searched by halves; texts longer than one batch).
        let alphabet: Vec<char> = "赌博机网站彩票ab🀄é".chars().collect();
        let mut next = xorshift(7);
        for round in 0..400 {
            let mut patterns: Vec<(String, u32)> = Vec::new();
            let count = if round % 2 == 0 {
                1 + next() % 12
            } else {
                100 + next() % 400
            };
            for _ in 0..count {
                let len = 1 + next() % 5;
                let p: String = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                if !patterns.iter().any(|(q, _)| *q == p) {
                    let v = patterns.len() as u32;
                    patterns.push((p, v));
                }
            }
            let text: String = (0..300)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let m = Leftmost::new(&patterns).unwrap();
            assert_eq!(
                all(&m, &text),
                automaton(&patterns, &text),
                "round {round}: {patterns:?} in {text}"
            );
        }
    }

    #[test]
    fn longest_at_each_leftmost_start() {
        let few: Vec<(String, u32)> = vec![
            ("赌博".into(), 0),
            ("赌博机".into(), 1),
            ("博".into(), 2),
            ("🀄".into(), 3),
        ];
        let m = Leftmost::new(&few).unwrap();
        assert_eq!(
            all(&m, "玩赌博机，赌博博🀄"),
            [(3, 12, 1), (15, 21, 0), (21, 24, 2), (24, 28, 3)]
        );
        assert!(all(&m, "").is_empty());
        assert!(all(&m, "赌").is_empty());
        assert!(Leftmost::new(&[]).is_none());
        // A repeated pattern keeps its first value (sorts are stable).
        let twice: Vec<(String, u32)> = vec![("赌博".into(), 6), ("赌博".into(), 5)];
        assert_eq!(all(&Leftmost::new(&twice).unwrap(), "赌博"), [(0, 6, 6)]);
        let once: Vec<(String, u32)> = vec![("博".into(), 9), ("博".into(), 2)];
        assert_eq!(all(&Leftmost::new(&once).unwrap(), "博"), [(0, 3, 9)]);
    }

    #[test]
    fn a_wide_library_on_long_text() {
        // 20,000 patterns of two to four characters over 40 ideographs: nodes with up to 40
        // children (more than 8 are searched by halves), a full filter, many batches.
        let alphabet: Vec<char> = (0x4E00..0x4E00 + 40).filter_map(char::from_u32).collect();
        let mut next = xorshift(11);
        let mut patterns: Vec<(String, u32)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while patterns.len() < 20_000 {
            let len = 2 + next() % 3;
            let p: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if seen.insert(p.clone()) {
                let v = patterns.len() as u32;
                patterns.push((p, v));
            }
        }
        let text: String = (0..50_000)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let m = Leftmost::new(&patterns).unwrap();
        let found = all(&m, &text);
        assert!(found.len() > 1_000, "{}", found.len());
        assert_eq!(found, automaton(&patterns, &text));
    }
}
