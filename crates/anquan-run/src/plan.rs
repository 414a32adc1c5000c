//! What a run will do: banks, the stratified sample, attack variants, and the trial keys.
//! Planning is deterministic (same spec, same banks → same trials in the same order), which is
//! what makes resume exactly-once.

use std::path::Path;

use anquan_catalog::Catalog;
use anquan_eval::metrics::RateRule;
use anquan_eval::{BankKind, Item};
use anquan_llm::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::RunError;

/// One bank of a run, as recorded in the run's spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankSpec {
    /// `builtin:NAME` or a path.
    pub source: String,
    /// SHA-256 of the bank's bytes (resume refuses a changed bank).
    pub sha256: String,
    /// Items drawn.
    pub n: u64,
}

/// What a run does; stored with the run (no secrets) so `--resume` can re-plan it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// Target id.
    pub target_id: String,
    /// Base URL and model (never keys or header values).
    pub target_url: String,
    /// Model name.
    pub model: String,
    /// Banks and sample sizes.
    pub banks: Vec<BankSpec>,
    /// Sampling seed.
    pub seed: u64,
    /// Attack ids (`direct` = the item unchanged).
    pub attacks: Vec<String>,
    /// Largest unsure share that allows a verdict.
    pub max_unsure_share: f64,
    /// Use the response cache.
    pub cache: bool,
    /// `id@version` of the judges the run was started with.
    #[serde(default)]
    pub judges: Vec<String>,
}

/// A bank loaded for a run.
#[derive(Debug, Clone)]
pub struct LoadedBank {
    /// Source as given.
    pub source: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Its items.
    pub items: Vec<Item>,
}

/// Load `builtin:NAME` or a JSONL file. A malformed line stops the run before any request,
/// naming the file and line.
pub fn load_bank(source: &str) -> Result<LoadedBank, RunError> {
    let (text, name) = if let Some(name) = source.strip_prefix("builtin:") {
        let Some(text) = anquan_eval::bank::builtin_text(name) else {
            return Err(RunError::Bank {
                bank: source.to_owned(),
                detail: format!(
                    "no built-in bank of that name; there are: {}",
                    anquan_eval::builtin_names().join(", ")
                ),
            });
        };
        (text.to_owned(), source.to_owned())
    } else {
        let text = std::fs::read_to_string(Path::new(source)).map_err(|e| RunError::Bank {
            bank: source.to_owned(),
            detail: e.to_string(),
        })?;
        (text, source.to_owned())
    };
    let (bank, problems) = anquan_eval::parse_jsonl(&name, &text);
    if let Some(p) = problems.first() {
        return Err(RunError::Bank {
            bank: source.to_owned(),
            detail: format!(
                "line {}: {}{}; fix it (see `anquan bank check {source}`) before running",
                p.line,
                p.message,
                if problems.len() > 1 {
                    format!(" (and {} more problem lines)", problems.len() - 1)
                } else {
                    String::new()
                }
            ),
        });
    }
    if bank.items.is_empty() {
        return Err(RunError::Bank {
            bank: source.to_owned(),
            detail: "the bank has no items".into(),
        });
    }
    Ok(LoadedBank {
        source: source.to_owned(),
        sha256: hex(&Sha256::digest(text.as_bytes())),
        items: bank.items.into_iter().map(|(_, i)| i).collect(),
    })
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The evaluation clauses of a bank kind: catalog clauses that apply to the bank and carry a rate
/// rule, in catalog order.
pub fn eval_clauses(
    catalog: &Catalog,
    kind: BankKind,
) -> Vec<(&anquan_catalog::model::Clause, RateRule)> {
    let applies = format!("bank.{}", kind.as_str());
    catalog
        .clauses()
        .filter(|c| c.applies_to == applies)
        .filter_map(|c| RateRule::of(c).map(|r| (c, r)))
        .collect()
}

/// The standard's sample size for a bank kind: the largest `min_sample` of its evaluation clauses.
pub fn standard_sample(catalog: &Catalog, kind: BankKind) -> Option<u64> {
    eval_clauses(catalog, kind)
        .iter()
        .filter_map(|(_, r)| r.min_sample)
        .max()
}

/// One trial to run.
#[derive(Debug, Clone)]
pub struct PlannedTrial {
    /// Exactly-once key.
    pub key: String,
    /// Position in the plan.
    pub seq: i64,
    /// The bank item.
    pub item: Item,
    /// Its bank.
    pub bank: BankKind,
    /// `id@version`.
    pub attack: String,
    /// Conversation to send.
    pub messages: Vec<Message>,
    /// Further user turns (scripted multi-turn); the last answer is judged.
    pub follow_ups: Vec<String>,
    /// The attack needs a model and runs when the trial runs.
    pub lazy: bool,
}

/// Plan the trials of `spec` over loaded banks (same order as `spec.banks`).
pub fn plan(spec: &Spec, banks: &[LoadedBank]) -> Result<Vec<PlannedTrial>, RunError> {
    let mut out = Vec::new();
    for (bank, bs) in banks.iter().zip(&spec.banks) {
        let refs: Vec<&Item> = bank.items.iter().collect();
        let drawn = anquan_eval::sample::stratified(&refs, bs.n as usize, spec.seed);
        for item in drawn {
            for attack in &spec.attacks {
                for v in crate::attacks::variants(attack, item, spec.seed)? {
                    out.push(PlannedTrial {
                        key: v.key,
                        seq: out.len() as i64,
                        item: item.clone(),
                        bank: item.bank,
                        attack: v.attack,
                        messages: v.messages,
                        follow_ups: v.follow_ups,
                        lazy: v.lazy,
                    });
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for t in &out {
        if !seen.insert(t.key.as_str()) {
            return Err(RunError::Bank {
                bank: "plan".into(),
                detail: format!(
                    "two trials share the key {:?}: the banks repeat an item id",
                    t.key
                ),
            });
        }
    }
    Ok(out)
}
