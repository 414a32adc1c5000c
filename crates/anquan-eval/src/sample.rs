//! Reproducible stratified samples that keep every risk's share (the standard's ≥ 1,000 and
//! ≥ 300 draws).

use std::collections::BTreeMap;

use crate::bank::Item;

/// SplitMix64: a small, fast, well-mixed PRNG; the same seed gives the same sample everywhere.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Draw `n` items (all of them when `n` ≥ the bank), stratified by first risk id: each stratum gets
/// its share of `n` by largest remainder, chosen by a seeded shuffle. Output is in id order.
pub fn stratified<'a>(items: &[&'a Item], n: usize, seed: u64) -> Vec<&'a Item> {
    if n >= items.len() {
        let mut all = items.to_vec();
        all.sort_by(|a, b| anquan_catalog::natural::cmp(&a.id, &b.id));
        return all;
    }
    let mut strata: BTreeMap<&str, Vec<&'a Item>> = BTreeMap::new();
    for it in items {
        strata
            .entry(it.risk_ids.first().map_or("", String::as_str))
            .or_default()
            .push(it);
    }
    let total = items.len();
    let mut alloc: Vec<(&str, usize, f64)> = strata
        .iter()
        .map(|(k, v)| {
            let exact = n as f64 * v.len() as f64 / total as f64;
            (*k, exact.floor() as usize, exact - exact.floor())
        })
        .collect();
    let mut left = n - alloc.iter().map(|a| a.1).sum::<usize>();
    let mut order: Vec<usize> = (0..alloc.len()).collect();
    order.sort_by(|a, b| {
        alloc[*b]
            .2
            .partial_cmp(&alloc[*a].2)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        alloc[i].1 += 1;
        left -= 1;
    }
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(n);
    for (key, take, _) in alloc {
        let mut pool = strata[key].clone();
        pool.sort_by(|a, b| anquan_catalog::natural::cmp(&a.id, &b.id));
        // Partial Fisher-Yates.
        for i in 0..take.min(pool.len()) {
            let j = i + rng.below(pool.len() - i);
            pool.swap(i, j);
        }
        out.extend(pool.into_iter().take(take));
    }
    out.sort_by(|a, b| anquan_catalog::natural::cmp(&a.id, &b.id));
    out
}
