//! anquan-run: the evaluation runner.
//!
//! `anquan eval` plans a run (banks, the standard's stratified sample, attack variants), prints the
//! budget, sends every trial to the target through `anquan-llm`, judges the answers with the
//! detection engine's judges, and commits each trial to the `anquan-store` ledger. The ledger is
//! keyed so that a crash, `kill -9` or Ctrl-C loses no committed trial and `--resume` redoes only
//! the rest. [`summary::build_report`] turns a run into the per-clause report model.
#![warn(missing_docs)]

pub mod attacks;
pub mod config;
pub mod judges;
pub mod llm_judge;
pub mod plan;
pub mod runner;
pub mod summary;

pub use config::{Config, EvalPolicy, StoreConfig};
pub use judges::{JudgeSet, Outcome};
pub use runner::{
    Budget, Caps, NewRun, Prepared, Progress, Quiet, RunOutcome, execute, new_spec, prepare,
};

/// Errors of a run, each naming what to fix.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration file is unusable.
    #[error("{file}: {detail}")]
    Config {
        /// The file.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// No such target in the configuration.
    #[error("no target {id:?} in the configuration; configured targets: {}", if known.is_empty() { "none (add a [targets.<id>] table)".to_owned() } else { known.join(", ") })]
    UnknownTarget {
        /// Asked for.
        id: String,
        /// Configured.
        known: Vec<String>,
    },
    /// No such attack.
    #[error("unknown attack {id:?}; available: {}", known.join(", "))]
    UnknownAttack {
        /// Asked for.
        id: String,
        /// Registered.
        known: Vec<String>,
    },
    /// A bank could not be used.
    #[error("bank {bank}: {detail}")]
    Bank {
        /// `builtin:NAME` or a path.
        bank: String,
        /// What is wrong.
        detail: String,
    },
    /// The target does not answer at all.
    #[error("target {target} is not reachable: {detail}")]
    TargetDown {
        /// Target id.
        target: String,
        /// The client's error.
        detail: String,
    },
    /// The plan is above the caps.
    #[error("{0}")]
    OverBudget(String),
    /// No run with that id.
    #[error("no run {0:?} in the store; `anquan eval runs` lists them")]
    NoSuchRun(String),
    /// The target client could not be built.
    #[error(transparent)]
    Llm(#[from] anquan_llm::LlmError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] anquan_store::StoreError),
    /// A bug or an impossible state.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Now, RFC 3339 in UTC with seconds.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}
