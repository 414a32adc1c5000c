//! The report model: everything a report shows, filled by the evaluator, serialised as the
//! versioned JSON shape [`SCHEMA`].
//!
//! Rates, interval bounds and thresholds are fractions in `0.0..=1.0` (`0.931` is 93.1 %). The
//! model holds results, not rules: the evaluator takes thresholds from the catalog and decides each
//! verdict; the renderers only show them.

use anquan_core::{Text, VerdictKind};
use serde::{Deserialize, Serialize};

/// The `schema` of the JSON shape this crate writes and reads.
pub const SCHEMA: &str = "anquan.report.v1";

/// One assessment report: a run of the evaluator against one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`] for this version of the shape.
    pub schema: String,
    /// The tool that produced the results.
    pub tool: ToolInfo,
    /// The run: ids, times, sample, judges and attacks.
    pub run: RunInfo,
    /// The model under test.
    pub target: TargetInfo,
    /// One row per assessed clause, in the order to show them.
    pub clauses: Vec<ClauseRow>,
    /// One row per test bank.
    pub banks: Vec<BankSummary>,
    /// Results per annex-A risk, per bank.
    pub per_risk: Vec<RiskRow>,
    /// Attack success rates, overall (`risk_id` = `None`) and per risk.
    pub per_attack: Vec<AttackRow>,
    /// Results per language, per bank.
    pub per_lang: Vec<LangRow>,
    /// The worst failures, worst first.
    pub worst: Vec<TrialRef>,
    /// Trials whose judgement is unsure: the manual-review list (待人工复核).
    pub unsure: Vec<TrialRef>,
    /// SHA-256 of every input the results depend on.
    pub evidence: Vec<EvidenceRow>,
    /// Free notes shown at the end of the report.
    pub notes: Vec<Text>,
}

impl Report {
    /// An empty report for a run, with `schema` set to [`SCHEMA`].
    pub fn new(tool: ToolInfo, run: RunInfo, target: TargetInfo) -> Self {
        Report {
            schema: SCHEMA.to_owned(),
            tool,
            run,
            target,
            clauses: Vec::new(),
            banks: Vec::new(),
            per_risk: Vec::new(),
            per_attack: Vec::new(),
            per_lang: Vec::new(),
            worst: Vec::new(),
            unsure: Vec::new(),
            evidence: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// How many clauses passed, failed and were inconclusive.
    pub fn verdict_counts(&self) -> VerdictCounts {
        let mut counts = VerdictCounts::default();
        for clause in &self.clauses {
            match clause.verdict {
                Verdict::Pass => counts.pass += 1,
                Verdict::Fail => counts.fail += 1,
                Verdict::Inconclusive => counts.inconclusive += 1,
            }
        }
        counts
    }

    /// Whether the report needs a warning banner: the run did not complete, or a clause is
    /// inconclusive, or some trials ended in an error.
    pub fn needs_attention(&self) -> bool {
        self.run.status != RunInfo::COMPLETE
            || self.verdict_counts().inconclusive > 0
            || self.run.errors > 0
    }
}

/// Clause verdicts counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VerdictCounts {
    /// Clauses that passed (符合).
    pub pass: usize,
    /// Clauses that failed (不符合).
    pub fail: usize,
    /// Clauses that could not be decided (无法判定).
    pub inconclusive: usize,
}

/// The tool that produced a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Program name, `anquan`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl ToolInfo {
    /// A tool name and version.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        ToolInfo {
            name: name.into(),
            version: version.into(),
        }
    }
}

/// One evaluator run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Run id (UUID v7).
    pub id: String,
    /// Start time, RFC 3339.
    pub started: String,
    /// End time, RFC 3339; `None` while running or after an interruption.
    pub finished: Option<String>,
    /// `complete`, `partial` or `interrupted`.
    pub status: String,
    /// Seed of the sample draw.
    pub seed: u64,
    /// Items drawn per bank: `(bank, n)`.
    pub sample: Vec<(String, u64)>,
    /// Trials run (items × attacks).
    pub trials: u64,
    /// Trials that ended in an error and count in no rate.
    pub errors: u64,
    /// Judges used, `id@version`.
    pub judges: Vec<String>,
    /// Attacks used, `id@version`.
    pub attacks: Vec<String>,
    /// Confidence level of every interval in the report (Wilson); 0.95 when absent.
    #[serde(default = "default_ci_level")]
    pub ci_level: f64,
}

impl RunInfo {
    /// The status of a run that finished every trial.
    pub const COMPLETE: &'static str = "complete";
    /// The status of a run that stopped at a cap before its end.
    pub const PARTIAL: &'static str = "partial";
    /// The status of a run that was stopped or crashed.
    pub const INTERRUPTED: &'static str = "interrupted";
}

fn default_ci_level() -> f64 {
    0.95
}

/// The model under test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// Target id from the configuration (`[targets.<id>]`).
    pub id: String,
    /// Model name as sent to the service.
    pub model: String,
    /// Base URL of the service. Never a key: the evaluator strips credentials.
    pub base_url: String,
}

/// The verdict on one clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// 符合: the requirement is met.
    Pass,
    /// 不符合: the requirement is not met.
    Fail,
    /// 无法判定: the interval straddles the threshold, or too many judgements are unsure.
    Inconclusive,
}

impl Verdict {
    /// The machine name used in JSON: `pass`, `fail`, `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// The result of one clause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClauseRow {
    /// Clause id, e.g. `gbt45654.eval.should_refuse`.
    pub clause_id: String,
    /// Clause name.
    pub name: Text,
    /// The clause's verification status in the catalog: `verified`, `secondary`, `unverified`.
    pub verification: String,
    /// The bank the clause is measured on.
    pub bank: Option<String>,
    /// The metric, e.g. 合格率 / qualified rate.
    pub metric: Text,
    /// `>=` or `<=`: how `rate` compares with `threshold`.
    pub op: String,
    /// The threshold from the catalog.
    pub threshold: f64,
    /// Judged trials.
    pub n: u64,
    /// Trials counted by the metric (qualified answers, refusals, …).
    pub successes: u64,
    /// Trials the judges were unsure about.
    pub unsure: u64,
    /// `successes / n`; `None` when nothing was judged.
    pub rate: Option<f64>,
    /// Lower bound of the Wilson interval.
    pub ci_low: Option<f64>,
    /// Upper bound of the Wilson interval.
    pub ci_high: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: Text,
}

/// The outcome counts of one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankSummary {
    /// Bank id, e.g. `generated_content`.
    pub bank: String,
    /// Bank name.
    pub name: Text,
    /// Trials.
    pub n: u64,
    /// Trials where the model behaved as required.
    pub ok: u64,
    /// Trials where it did not.
    pub not_ok: u64,
    /// Trials the judges were unsure about.
    pub unsure: u64,
    /// Trials that ended in an error.
    pub errors: u64,
}

/// The result of one annex-A risk in one bank.
///
/// `rate` is the share of trials where the model behaved as required (`ok`), so that higher is
/// better in every bank. The chart draws the bank's clause threshold on that scale: the clause
/// threshold when the clause's `op` is `>=`, one minus it when `op` is `<=` (a refusal rate of at
/// most 5 % is an ok rate of at least 95 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskRow {
    /// Bank id.
    pub bank: String,
    /// Annex-A risk id, e.g. `A.1.c`.
    pub risk_id: String,
    /// Risk name.
    pub name: Text,
    /// Trials.
    pub n: u64,
    /// Trials where the model behaved as required.
    pub ok: u64,
    /// Trials the judges were unsure about.
    pub unsure: u64,
    /// Share of ok trials.
    pub rate: Option<f64>,
    /// Lower bound of the Wilson interval.
    pub ci_low: Option<f64>,
    /// Upper bound of the Wilson interval.
    pub ci_high: Option<f64>,
}

/// The success rate of one attack, over all risks or one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackRow {
    /// Attack, `id@version`.
    pub attack: String,
    /// The risk, or `None` for all risks together.
    pub risk_id: Option<String>,
    /// Trials.
    pub n: u64,
    /// Trials where the attack succeeded (the model failed).
    pub successes: u64,
    /// Trials the judges were unsure about.
    pub unsure: u64,
    /// `successes / n`.
    pub rate: Option<f64>,
}

/// The result of one prompt language in one bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LangRow {
    /// Bank id.
    pub bank: String,
    /// Language code of the prompts, e.g. `zh`.
    pub lang: String,
    /// Trials.
    pub n: u64,
    /// Trials where the model behaved as required.
    pub ok: u64,
    /// Trials the judges were unsure about.
    pub unsure: u64,
    /// Share of ok trials.
    pub rate: Option<f64>,
}

/// One trial shown in full: a failure or an item for manual review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRef {
    /// Trial id.
    pub trial_id: String,
    /// Bank item id.
    pub item_id: String,
    /// Bank id.
    pub bank: String,
    /// The item's annex-A risks.
    pub risk_ids: Vec<String>,
    /// Attack, `id@version` (`none@1` for the item as written).
    pub attack: String,
    /// The prompt sent, as sent. Hostile: the renderers escape it.
    pub prompt: String,
    /// The model's answer. Hostile: the renderers escape it.
    pub response: String,
    /// What each judge said.
    pub verdicts: Vec<JudgeLine>,
}

/// One judge's verdict on a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeLine {
    /// Judge, `id@version`.
    pub judge: String,
    /// `safe`, `unsafe` or `unsure`.
    pub kind: VerdictKind,
    /// Confidence in `0.0..=1.0`.
    pub confidence: f32,
    /// Risks behind an unsafe verdict.
    pub risk_ids: Vec<String>,
    /// The judge's reason, when it gave one.
    pub reason: Option<String>,
}

/// The hash of one input the results depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRow {
    /// `bank`, `keyword_library`, `judge_config`, `tool` or `catalog`.
    pub kind: String,
    /// What it is: a bank id, a file name, `anquan 0.1.0`.
    pub name: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}
