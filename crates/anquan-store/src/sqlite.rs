//! SQLite in WAL mode through sqlx, with our own ordered migrations.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::{RunRecord, Store, StoreError, TrialRecord};

/// Migrations, in order; the name is recorded once applied.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_runs_and_trials",
        include_str!("../migrations/sqlite/0001_runs_and_trials.sql"),
    ),
    (
        "0002_guard",
        include_str!("../migrations/sqlite/0002_guard.sql"),
    ),
];

/// The embedded default store: one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn q(op: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Query {
        op,
        detail: e.to_string(),
    }
}

impl SqliteStore {
    /// Open (creating when missing) the database at `path` and apply pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let open_err = |detail: String| StoreError::Open {
            path: shown.clone(),
            detail,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| open_err(e.to_string()))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        let store = SqliteStore { pool };
        store.migrate().await.map_err(|e| open_err(e.to_string()))?;
        Ok(store)
    }

    /// The connection pool, for the other tables of the same file (`crate::guard`).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)",
        )
        .execute(&self.pool)
        .await
        .map_err(q("migrate"))?;
        for (name, sql) in MIGRATIONS {
            let mut tx = self.pool.begin().await.map_err(q("migrate"))?;
            let done: Option<String> =
                sqlx::query_scalar("SELECT name FROM schema_migrations WHERE name = ?")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(q("migrate"))?;
            if done.is_none() {
                sqlx::raw_sql(sql)
                    .execute(&mut *tx)
                    .await
                    .map_err(q("migrate"))?;
                sqlx::query(
                    "INSERT INTO schema_migrations (name, applied) VALUES (?, datetime('now'))",
                )
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(q("migrate"))?;
            }
            tx.commit().await.map_err(q("migrate"))?;
        }
        Ok(())
    }
}

fn run_of(row: &sqlx::sqlite::SqliteRow) -> Result<RunRecord, StoreError> {
    let spec: String = row.get("spec");
    Ok(RunRecord {
        id: row.get("id"),
        created: row.get("created"),
        finished: row.get("finished"),
        status: row.get("status"),
        target_id: row.get("target_id"),
        tool_version: row.get("tool_version"),
        spec: serde_json::from_str(&spec).map_err(|e| StoreError::Query {
            op: "read run",
            detail: format!("spec is not JSON: {e}"),
        })?,
    })
}

fn json_col(row: &sqlx::sqlite::SqliteRow, col: &str) -> serde_json::Value {
    let s: String = row.get(col);
    serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)
}

impl Store for SqliteStore {
    async fn create_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO runs (id, created, finished, status, target_id, tool_version, spec) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&run.id)
        .bind(&run.created)
        .bind(&run.finished)
        .bind(&run.status)
        .bind(&run.target_id)
        .bind(&run.tool_version)
        .bind(run.spec.to_string())
        .execute(&self.pool)
        .await
        .map_err(q("create run"))?;
        Ok(())
    }

    async fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM runs WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read run"))?;
        row.as_ref().map(run_of).transpose()
    }

    async fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM runs ORDER BY created DESC, id DESC")
            .fetch_all(&self.pool)
            .await
            .map_err(q("list runs"))?;
        rows.iter().map(run_of).collect()
    }

    async fn set_run_status(
        &self,
        id: &str,
        status: &str,
        finished: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET status = ?, finished = ? WHERE id = ?")
            .bind(status)
            .bind(finished)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(q("update run"))?;
        Ok(())
    }

    async fn done_keys(&self, run_id: &str) -> Result<HashSet<String>, StoreError> {
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT key FROM trials WHERE run_id = ? AND status = 'ok'")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await
                .map_err(q("read trial keys"))?;
        Ok(keys.into_iter().collect())
    }

    async fn commit_trials(&self, trials: &[TrialRecord]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(q("commit trials"))?;
        let mut written = 0;
        for t in trials {
            let r = sqlx::query(
                "INSERT INTO trials (run_id, key, id, seq, item_id, bank, lang, risk_ids, attack, request, response, status, error, outcome, verdicts, first_token_ms, total_ms, prompt_tokens, completion_tokens, tokens_estimated, attempts, created)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (run_id, key) DO UPDATE SET
                   id = excluded.id, response = excluded.response, status = excluded.status, error = excluded.error,
                   outcome = excluded.outcome, verdicts = excluded.verdicts, first_token_ms = excluded.first_token_ms,
                   total_ms = excluded.total_ms, prompt_tokens = excluded.prompt_tokens,
                   completion_tokens = excluded.completion_tokens, tokens_estimated = excluded.tokens_estimated,
                   attempts = excluded.attempts, created = excluded.created
                 WHERE trials.status = 'error'",
            )
            .bind(&t.run_id)
            .bind(&t.key)
            .bind(&t.id)
            .bind(t.seq)
            .bind(&t.item_id)
            .bind(&t.bank)
            .bind(&t.lang)
            .bind(serde_json::to_string(&t.risk_ids).unwrap_or_else(|_| "[]".into()))
            .bind(&t.attack)
            .bind(t.request.to_string())
            .bind(&t.response)
            .bind(&t.status)
            .bind(&t.error)
            .bind(&t.outcome)
            .bind(t.verdicts.to_string())
            .bind(t.first_token_ms)
            .bind(t.total_ms)
            .bind(t.prompt_tokens)
            .bind(t.completion_tokens)
            .bind(t.tokens_estimated)
            .bind(t.attempts)
            .bind(&t.created)
            .execute(&mut *tx)
            .await
            .map_err(q("commit trials"))?;
            written += r.rows_affected();
        }
        tx.commit().await.map_err(q("commit trials"))?;
        Ok(written)
    }

    async fn trials(&self, run_id: &str) -> Result<Vec<TrialRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM trials WHERE run_id = ? ORDER BY seq, key")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read trials"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let risks: String = r.get("risk_ids");
                TrialRecord {
                    run_id: r.get("run_id"),
                    key: r.get("key"),
                    id: r.get("id"),
                    seq: r.get("seq"),
                    item_id: r.get("item_id"),
                    bank: r.get("bank"),
                    lang: r.get("lang"),
                    risk_ids: serde_json::from_str(&risks).unwrap_or_default(),
                    attack: r.get("attack"),
                    request: json_col(r, "request"),
                    response: r.get("response"),
                    status: r.get("status"),
                    error: r.get("error"),
                    outcome: r.get("outcome"),
                    verdicts: json_col(r, "verdicts"),
                    first_token_ms: r.get("first_token_ms"),
                    total_ms: r.get("total_ms"),
                    prompt_tokens: r.get("prompt_tokens"),
                    completion_tokens: r.get("completion_tokens"),
                    tokens_estimated: r.get("tokens_estimated"),
                    attempts: r.get("attempts"),
                    created: r.get("created"),
                }
            })
            .collect())
    }

    async fn cache_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM response_cache WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read cache"))
    }

    async fn cache_put(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO response_cache (key, value, created) VALUES (?, ?, datetime('now')) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(q("write cache"))?;
        Ok(())
    }
}
