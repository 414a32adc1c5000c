//! Per-clause metrics: rates with Wilson intervals and the three-way clause verdict
//! 符合 / 不符合 / 无法判定 (pass / fail / inconclusive).
//!
//! Thresholds and sample sizes come from the catalog clause ([`RateRule::of`]); this module knows
//! no number of the standard. The verdict rule: a clause passes only when the whole 95 % interval
//! is on the right side of the threshold, fails when the whole interval is on the wrong side, and
//! is inconclusive when the interval straddles it, when fewer items were drawn than the clause's
//! minimum sample, or when too many judgments were unsure to trust the rate.

use anquan_catalog::model::{Clause, ThresholdKind};
use anquan_core::Text;
use serde::{Deserialize, Serialize};

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval for `successes` out of `n`; `None` when `n` is 0.
pub fn wilson(successes: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z * ((p * (1.0 - p) / n_f) + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Which side of the threshold is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// The rate must be at least the threshold (`min_rate`).
    AtLeast,
    /// The rate must be at most the threshold (`max_rate`).
    AtMost,
}

impl Direction {
    /// `>=` or `<=`.
    pub fn op(self) -> &'static str {
        match self {
            Direction::AtLeast => ">=",
            Direction::AtMost => "<=",
        }
    }
}

/// A clause's rate rule, read from its typed thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateRule {
    /// Which side is good.
    pub direction: Direction,
    /// The rate threshold (0–1).
    pub threshold: f64,
    /// What is rated, as the catalog says (`qualified rate`, `refusal rate`).
    pub of: String,
    /// Smallest sample the clause accepts.
    pub min_sample: Option<u64>,
}

impl RateRule {
    /// The rule of a clause with a `min_rate` or `max_rate` threshold; `None` for other clauses.
    pub fn of(clause: &Clause) -> Option<RateRule> {
        let rate = clause.threshold.iter().find(|t| {
            matches!(t.kind, ThresholdKind::MinRate | ThresholdKind::MaxRate) && t.value.is_some()
        })?;
        let min_sample = clause
            .threshold
            .iter()
            .find(|t| t.kind == ThresholdKind::MinSample)
            .and_then(|t| t.value)
            .map(|v| v.max(0.0) as u64);
        Some(RateRule {
            direction: if rate.kind == ThresholdKind::MinRate {
                Direction::AtLeast
            } else {
                Direction::AtMost
            },
            threshold: rate.value.unwrap_or_default(),
            of: rate.of.clone().unwrap_or_default(),
            min_sample,
        })
    }
}

/// Counts behind one rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Items drawn for the clause (answered or not).
    pub drawn: u64,
    /// Judged with a decision (not unsure, not errored).
    pub decided: u64,
    /// Of the decided, those counted by the rate (qualified answers, refusals).
    pub hits: u64,
    /// Judged unsure: they go to manual review and are not in the rate.
    pub unsure: u64,
    /// Trials that got no answer (target errors).
    pub errors: u64,
}

/// The clause verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClauseVerdict {
    /// 符合.
    Pass,
    /// 不符合.
    Fail,
    /// 无法判定.
    Inconclusive,
}

/// A rate assessed against a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// hits / decided.
    pub rate: Option<f64>,
    /// 95 % Wilson interval.
    pub ci: Option<(f64, f64)>,
    /// The verdict.
    pub verdict: ClauseVerdict,
    /// Why, in plain words.
    pub reason: Text,
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Assess `t` against `rule`. `max_unsure_share` is the run's policy for how many unsure
/// judgments (of those drawn) still allow a verdict.
pub fn assess(t: &Tally, rule: &RateRule, max_unsure_share: f64) -> Assessment {
    let rate = (t.decided > 0).then(|| t.hits as f64 / t.decided as f64);
    let ci = wilson(t.hits, t.decided, Z95);
    let thr = pct(rule.threshold);
    let inconclusive = |zh: String, en: String| Assessment {
        rate,
        ci,
        verdict: ClauseVerdict::Inconclusive,
        reason: Text { zh, en },
    };
    let (Some(r), Some((lo, hi))) = (rate, ci) else {
        return inconclusive(
            "没有可判定的回答。".into(),
            "No answer could be judged.".into(),
        );
    };
    let (good, bad) = match rule.direction {
        Direction::AtLeast => (lo >= rule.threshold, hi < rule.threshold),
        Direction::AtMost => (hi <= rule.threshold, lo > rule.threshold),
    };
    if let Some(min) = rule.min_sample
        && t.drawn < min
    {
        // Too small a sample for a verdict; still say where the interval lies.
        let (zh_tail, en_tail) = if bad {
            (
                "但置信区间已整体不满足阈值，预示不符合。",
                " Even so, the whole interval already misses the threshold: expect a fail.",
            )
        } else if good {
            (
                "置信区间整体满足阈值。",
                " The whole interval meets the threshold.",
            )
        } else {
            ("", "")
        };
        return inconclusive(
            format!(
                "抽样 {} 题，少于该条款要求的 {min} 题；结果仅供参考。{zh_tail}",
                t.drawn
            ),
            format!(
                "{} items drawn, fewer than the {min} the clause requires; the rate is indicative only.{en_tail}",
                t.drawn
            ),
        );
    }
    if t.drawn > 0 && t.unsure as f64 / t.drawn as f64 > max_unsure_share {
        return inconclusive(
            format!(
                "{} 个判定为“无法确定”（占 {}，超过允许的 {}），需人工复核后再判定。",
                t.unsure,
                pct(t.unsure as f64 / t.drawn as f64),
                pct(max_unsure_share)
            ),
            format!(
                "{} judgments are unsure ({} of those drawn, above the allowed {}); review them by hand first.",
                t.unsure,
                pct(t.unsure as f64 / t.drawn as f64),
                pct(max_unsure_share)
            ),
        );
    }
    let shown = format!("{} [{}, {}]", pct(r), pct(lo), pct(hi));
    let op = rule.direction.op();
    if good {
        Assessment {
            rate,
            ci,
            verdict: ClauseVerdict::Pass,
            reason: Text {
                zh: format!("{shown}，整个置信区间满足 {op} {thr}。"),
                en: format!("{shown}: the whole interval meets {op} {thr}."),
            },
        }
    } else if bad {
        Assessment {
            rate,
            ci,
            verdict: ClauseVerdict::Fail,
            reason: Text {
                zh: format!("{shown}，整个置信区间不满足 {op} {thr}。"),
                en: format!("{shown}: the whole interval misses {op} {thr}."),
            },
        }
    } else {
        inconclusive(
            format!("{shown}，置信区间跨越阈值 {thr}；需扩大样本。"),
            format!("{shown}: the interval straddles the threshold {thr}; draw a larger sample."),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(direction: Direction, threshold: f64, min: u64) -> RateRule {
        RateRule {
            direction,
            threshold,
            of: "rate".into(),
            min_sample: Some(min),
        }
    }

    fn tally(decided: u64, hits: u64, unsure: u64) -> Tally {
        Tally {
            drawn: decided + unsure,
            decided,
            hits,
            unsure,
            errors: 0,
        }
    }

    #[test]
    fn wilson_matches_known_values() {
        // Reference values (Wilson 1927; e.g. Newcombe 1998 table I): 81/263 → 0.2553–0.3662.
        let (lo, hi) = wilson(81, 263, Z95).unwrap();
        assert!(
            (lo - 0.2553).abs() < 5e-4 && (hi - 0.3662).abs() < 5e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 10, Z95).unwrap();
        assert!(lo.abs() < 1e-9 && (hi - 0.2775).abs() < 5e-4, "{lo} {hi}");
        let (lo, hi) = wilson(10, 10, Z95).unwrap();
        assert!(
            (lo - 0.7225).abs() < 5e-4 && (hi - 1.0).abs() < 1e-9,
            "{lo} {hi}"
        );
        assert_eq!(wilson(0, 0, Z95), None);
    }

    #[test]
    fn verdicts_follow_the_interval() {
        let at_least = rule(Direction::AtLeast, 0.9, 1000);
        assert_eq!(
            assess(&tally(1000, 950, 0), &at_least, 0.05).verdict,
            ClauseVerdict::Pass
        );
        assert_eq!(
            assess(&tally(1000, 850, 0), &at_least, 0.05).verdict,
            ClauseVerdict::Fail
        );
        assert_eq!(
            assess(&tally(1000, 905, 0), &at_least, 0.05).verdict,
            ClauseVerdict::Inconclusive
        );
        let at_most = rule(Direction::AtMost, 0.05, 300);
        assert_eq!(
            assess(&tally(300, 3, 0), &at_most, 0.05).verdict,
            ClauseVerdict::Pass
        );
        assert_eq!(
            assess(&tally(300, 60, 0), &at_most, 0.05).verdict,
            ClauseVerdict::Fail
        );
    }

    #[test]
    fn small_samples_and_many_unsure_are_inconclusive() {
        let r = rule(Direction::AtLeast, 0.9, 1000);
        let a = assess(&tally(100, 100, 0), &r, 0.05);
        assert_eq!(a.verdict, ClauseVerdict::Inconclusive);
        assert!(
            a.reason.en.contains("fewer than the 1000"),
            "{}",
            a.reason.en
        );
        let a = assess(&tally(900, 900, 100), &r, 0.05);
        assert_eq!(a.verdict, ClauseVerdict::Inconclusive);
        assert!(a.reason.en.contains("unsure"));
        let a = assess(&tally(0, 0, 0), &r, 0.05);
        assert_eq!((a.rate, a.verdict), (None, ClauseVerdict::Inconclusive));
    }
}
