//! anquan-store: the [`Store`] trait and its SQLite implementation: runs, the trial ledger and the
//! response cache.
//!
//! Exactly-once: a trial is keyed by `(run_id, key)` where `key` is derived from the item and the
//! attack variant, so committing the same trial twice is a no-op, and a crash between answer and
//! commit only means the trial is redone. Errored trials are stored (with their error) and may be
//! replaced by a later success, never the other way round.
#![warn(missing_docs)]

pub mod guard;
mod sqlite;

use std::collections::HashSet;
use std::future::Future;

use serde::{Deserialize, Serialize};

pub use sqlite::SqliteStore;

/// Storage errors, naming the database and the operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("cannot open the store at {path}: {detail}")]
    Open {
        /// Where.
        path: String,
        /// Why.
        detail: String,
    },
    /// A query failed.
    #[error("store {op} failed: {detail}")]
    Query {
        /// What was being done.
        op: &'static str,
        /// Why.
        detail: String,
    },
}

/// One evaluation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// UUID v7.
    pub id: String,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339, once ended.
    pub finished: Option<String>,
    /// `running`, `complete`, `interrupted`, `failed`.
    pub status: String,
    /// Target id from the configuration.
    pub target_id: String,
    /// anquan version that made it.
    pub tool_version: String,
    /// What to run, as JSON (no secrets).
    pub spec: serde_json::Value,
}

/// One trial: a prompt sent to the target, its answer and the verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Run id.
    pub run_id: String,
    /// Exactly-once key (item id + attack variant).
    pub key: String,
    /// UUID v7.
    pub id: String,
    /// Position in the plan.
    pub seq: i64,
    /// Bank item id.
    pub item_id: String,
    /// Bank kind.
    pub bank: String,
    /// `zh` / `en`.
    pub lang: String,
    /// Annex-A risk ids or aspect ids.
    pub risk_ids: Vec<String>,
    /// `id@version` of the attack (`direct@1` for none).
    pub attack: String,
    /// Messages sent, as JSON.
    pub request: serde_json::Value,
    /// The answer.
    pub response: Option<String>,
    /// `ok` or `error`.
    pub status: String,
    /// The error message of an errored trial.
    pub error: Option<String>,
    /// `pass`, `fail` or `unsure` for ok trials.
    pub outcome: Option<String>,
    /// Judge verdicts, as JSON.
    pub verdicts: serde_json::Value,
    /// Time to first token.
    pub first_token_ms: Option<f64>,
    /// Whole answer time.
    pub total_ms: Option<f64>,
    /// Prompt tokens.
    pub prompt_tokens: Option<i64>,
    /// Completion tokens.
    pub completion_tokens: Option<i64>,
    /// Tokens are an estimate.
    pub tokens_estimated: bool,
    /// Attempts made.
    pub attempts: i64,
    /// RFC 3339.
    pub created: String,
}

/// The store of runs, trials and cached responses.
pub trait Store: Send + Sync {
    /// Record a new run.
    fn create_run(&self, run: &RunRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A run by id.
    fn run(&self, id: &str) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;
    /// All runs, newest first.
    fn runs(&self) -> impl Future<Output = Result<Vec<RunRecord>, StoreError>> + Send;
    /// Change a run's status (and its end time).
    fn set_run_status(
        &self,
        id: &str,
        status: &str,
        finished: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Keys of the run's trials committed successfully (errored ones are not included).
    fn done_keys(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<HashSet<String>, StoreError>> + Send;
    /// Commit trials in one transaction; a key already committed successfully is left alone.
    /// Returns how many rows were written.
    fn commit_trials(
        &self,
        trials: &[TrialRecord],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// The run's trials in plan order.
    fn trials(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Vec<TrialRecord>, StoreError>> + Send;
    /// A cached response.
    fn cache_get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Cache a response.
    fn cache_put(
        &self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
