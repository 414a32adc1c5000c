//! Training the classifier: logistic regression by Adagrad over the hashed features, from a fixed
//! seed, with arithmetic that gives the same bits on every machine; `i8` quantization; scores and
//! the choice of the unsure band.
//!
//! `cargo dev train-classifier` reads the data, calls this module and writes the files; the judge
//! never trains. The code lives here, beside the featurizer, so that training and judging cannot
//! drift apart, and so that it runs optimised in development builds.

use super::{Featurizer, Gram, Scores, sigmoid};

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The text.
    pub text: String,
    /// Offensive / unsafe.
    pub label: bool,
    /// Index of its topic, when the data gives one.
    pub topic: Option<usize>,
}

/// Optimizer settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Seed of the example order.
    pub seed: u64,
    /// Passes over the data.
    pub epochs: u32,
    /// Adagrad step.
    pub learning_rate: f64,
    /// L2 penalty per update.
    pub l2: f64,
}

/// A splitmix64 generator: small, fast, and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        super::mix64(self.0)
    }

    /// A uniform index below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        // Multiply-shift: no modulo bias worth speaking of for n ≪ 2^64.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Shuffle `items` (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// A text as the sorted distinct buckets of one head size and their common value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Buckets.
    pub buckets: Vec<u32>,
    /// The value of each bucket.
    pub value: f32,
}

/// Encode `texts` for heads of `2^bits` buckets.
pub fn encode<'a>(
    featurizer: &Featurizer,
    texts: impl IntoIterator<Item = &'a str>,
    bits: u32,
) -> Vec<Row> {
    let mut grams: Vec<Gram> = Vec::new();
    texts
        .into_iter()
        .map(|t| {
            let norm = featurizer.normalize(t);
            featurizer.grams(&norm.text, &mut grams);
            let mut buckets = Vec::new();
            let value = Featurizer::buckets(&grams, bits, &mut buckets);
            Row { buckets, value }
        })
        .collect()
}

/// A trained head in full precision.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatHead {
    /// log2 of the bucket count.
    pub bits: u32,
    /// Intercept.
    pub bias: f64,
    /// One weight per bucket.
    pub weights: Vec<f64>,
}

impl FloatHead {
    /// The logit of a row.
    pub fn logit(&self, row: &Row) -> f64 {
        let sum: f64 = row.buckets.iter().map(|&b| self.weights[b as usize]).sum();
        self.bias + f64::from(row.value) * sum
    }

    /// The probability of a row.
    pub fn prob(&self, row: &Row) -> f64 {
        sigmoid(self.logit(row))
    }
}

/// Fit a binary logistic regression on `rows` with `labels` by Adagrad. Examples are visited in
/// an order drawn from `cfg.seed` and `stream` (one stream per head), anew each epoch.
pub fn fit(rows: &[Row], labels: &[bool], bits: u32, cfg: &TrainConfig, stream: u64) -> FloatHead {
    let n = 1usize << bits;
    let mut w = vec![0.0f64; n];
    let mut g2 = vec![0.0f64; n];
    let (mut bias, mut bias_g2) = (0.0f64, 0.0f64);
    let mut order: Vec<usize> = (0..rows.len().min(labels.len())).collect();
    let mut rng = Rng::new(cfg.seed ^ super::mix64(stream.wrapping_add(1)));
    for _ in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let row = &rows[i];
            let v = f64::from(row.value);
            let sum: f64 = row.buckets.iter().map(|&b| w[b as usize]).sum();
            let p = sigmoid(bias + v * sum);
            let err = p - if labels[i] { 1.0 } else { 0.0 };
            for &b in &row.buckets {
                let b = b as usize;
                let grad = err * v + cfg.l2 * w[b];
                if grad != 0.0 {
                    g2[b] += grad * grad;
                    w[b] -= cfg.learning_rate * grad / g2[b].sqrt();
                }
            }
            if err != 0.0 {
                bias_g2 += err * err;
                bias -= cfg.learning_rate * err / bias_g2.sqrt();
            }
        }
    }
    FloatHead {
        bits,
        bias,
        weights: w,
    }
}

/// Quantize a head to one `i8` per bucket and a scale: `w ≈ scale × q`. The scale maps the
/// largest absolute weight to 127, so nothing is clipped.
pub fn quantize(head: &FloatHead) -> (Vec<u8>, f32) {
    let max = head.weights.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 } as f32;
    let bytes = head
        .weights
        .iter()
        .map(|w| ((w / f64::from(scale)).round().clamp(-127.0, 127.0) as i8) as u8)
        .collect();
    (bytes, scale)
}

/// Precision, recall, F1 and accuracy of `(truth, predicted)` pairs; positive = unsafe.
pub fn scores(pairs: impl IntoIterator<Item = (bool, bool)>) -> Scores {
    let (mut tp, mut fp, mut fn_, mut tn) = (0usize, 0usize, 0usize, 0usize);
    for (t, p) in pairs {
        match (t, p) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    let rows = tp + fp + fn_ + tn;
    Scores {
        rows,
        precision: round4(precision),
        recall: round4(recall),
        f1: round4(f1),
        accuracy: round4(ratio(tp + tn, rows)),
    }
}

/// Round to 4 decimals, for figures written to metadata.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The unsure band: the largest `t_lo ≤ 0.5` whose safe verdicts (`p ≤ t_lo`) and the smallest
/// `t_hi ≥ 0.5` whose unsafe verdicts (`p ≥ t_hi`) each reach `target` precision on
/// `(p, truth)` pairs, on a grid of 0.01. A side that cannot reach it keeps no verdicts (0 or 1).
pub fn choose_band(probs: &[(f32, bool)], target: f64) -> (f64, f64) {
    let grid = |i: u32| f64::from(i) / 100.0;
    let precision_at = |pred: &dyn Fn(f64) -> bool, want: bool| {
        let (mut hit, mut all) = (0usize, 0usize);
        for &(p, t) in probs {
            if pred(f64::from(p)) {
                all += 1;
                hit += usize::from(t == want);
            }
        }
        (all > 0).then(|| hit as f64 / all as f64)
    };
    let t_hi = (50..=100)
        .map(grid)
        .find(|&t| precision_at(&|p| p >= t, true).is_some_and(|x| x >= target))
        .unwrap_or(1.0);
    let t_lo = (0..=50)
        .rev()
        .map(grid)
        .find(|&t| precision_at(&|p| p <= t, false).is_some_and(|x| x >= target))
        .unwrap_or(0.0);
    (t_lo, t_hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_fixed() {
        let mut r = Rng::new(7);
        let a: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut r = Rng::new(7);
        let b: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        let mut v: Vec<u32> = (0..10).collect();
        Rng::new(1).shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_ne!(v, sorted);
    }

    #[test]
    fn learns_a_separable_toy_problem() {
        let rows: Vec<Row> = (0..200u32)
            .map(|i| Row {
                buckets: vec![i % 2, 2 + i % 7],
                value: std::f32::consts::FRAC_1_SQRT_2,
            })
            .collect();
        let labels: Vec<bool> = (0..200u32).map(|i| i % 2 == 1).collect();
        let cfg = TrainConfig {
            seed: 7,
            epochs: 5,
            learning_rate: 0.5,
            l2: 0.0,
        };
        let head = fit(&rows, &labels, 4, &cfg, 0);
        assert_eq!(head, fit(&rows, &labels, 4, &cfg, 0), "deterministic");
        let s = scores(
            rows.iter()
                .zip(&labels)
                .map(|(r, &t)| (t, head.prob(r) >= 0.5)),
        );
        assert_eq!(s.accuracy, 1.0);
        let (q, scale) = quantize(&head);
        assert_eq!(q.len(), 16);
        assert!(q.iter().any(|&b| b as i8 == 127 || b as i8 == -127) && scale > 0.0);
    }

    #[test]
    fn band_reaches_the_target_on_each_side() {
        let probs: Vec<(f32, bool)> = (0..100)
            .map(|i| {
                (
                    i as f32 / 100.0,
                    if i < 30 || (45..50).contains(&i) {
                        false
                    } else {
                        i >= 50 || i % 2 == 0
                    },
                )
            })
            .collect();
        let (lo, hi) = choose_band(&probs, 0.9);
        assert!(lo <= 0.5 && hi >= 0.5 && lo < hi, "{lo} {hi}");
        assert_eq!(choose_band(&[(0.2, true), (0.9, false)], 0.9), (0.0, 1.0));
    }
}
