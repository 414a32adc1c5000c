//! The guard's tables in the same SQLite file as the rest of the store (migration `0002_guard`):
//! the hash-chained audit log and the per-user violation counters.
//!
//! This module only stores and reads rows; the hash chain itself (what is hashed, how it is
//! verified) belongs to `anquan-guard`'s `audit` module, which hands a closure to
//! [`GuardDb::audit_append`] so that the previous link is read and the new rows are written in one
//! `BEGIN IMMEDIATE` transaction: two writers, even in two processes, can never fork the chain.

use std::path::Path;

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::{SqliteStore, StoreError};

fn q(op: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Query {
        op,
        detail: e.to_string(),
    }
}

/// One link of the audit chain: a record's position and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLink {
    /// Position, from 1.
    pub seq: i64,
    /// Hex SHA-256 of the record.
    pub hash: String,
}

/// One stored audit record, as its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    /// Position, from 1, with no gaps.
    pub seq: i64,
    /// RFC 3339.
    pub time: String,
    /// `time` in Unix milliseconds.
    pub time_ms: i64,
    /// Tenant id.
    pub tenant: String,
    /// End user id.
    pub user: String,
    /// Request id.
    pub request_id: String,
    /// What the guard did.
    pub action: String,
    /// Verdicts, as JSON text.
    pub verdicts: String,
    /// Time spent in the guard and upstream.
    pub latency_ms: f64,
    /// Hex SHA-256 of the input.
    pub input_sha256: String,
    /// Hex SHA-256 of the output.
    pub output_sha256: String,
    /// Full input text, when kept.
    pub input_text: Option<String>,
    /// Full output text, when kept.
    pub output_text: Option<String>,
    /// HTTP status.
    pub status: i64,
    /// Stable error code.
    pub error_code: Option<String>,
    /// Hash of the previous record (or of the prune anchor, or 64 zeros for the first).
    pub prev_hash: String,
    /// Hash of this record.
    pub hash: String,
}

/// Where the chain starts after pruning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAnchor {
    /// The last pruned link.
    pub link: AuditLink,
    /// Records pruned so far.
    pub pruned: u64,
    /// RFC 3339 of the last prune.
    pub pruned_at: String,
}

/// The chain's ends as seen by one [`GuardDb::audit_scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSnapshot {
    /// The prune anchor, if pruned.
    pub anchor: Option<AuditAnchor>,
    /// The last appended link, if any.
    pub head: Option<AuditLink>,
}

/// Violation counters and suspension of one end user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserState {
    /// Tenant id.
    pub tenant: String,
    /// End user id.
    pub user: String,
    /// Violations in a row.
    pub consecutive: u32,
    /// UTC date (`YYYY-MM-DD`) that `day_count` counts.
    pub day: String,
    /// Violations on `day`.
    pub day_count: u32,
    /// End of the suspension, Unix milliseconds.
    pub suspended_until_ms: Option<i64>,
    /// Times suspended in total.
    pub suspensions: u32,
    /// Last violation, Unix milliseconds.
    pub last_violation_ms: Option<i64>,
}

/// The guard's view of the store file. Cheap to clone (one shared pool).
#[derive(Debug, Clone)]
pub struct GuardDb {
    pool: SqlitePool,
}

fn audit_row(r: &SqliteRow) -> AuditRow {
    AuditRow {
        seq: r.get("seq"),
        time: r.get("time"),
        time_ms: r.get("time_ms"),
        tenant: r.get("tenant"),
        user: r.get("user_id"),
        request_id: r.get("request_id"),
        action: r.get("action"),
        verdicts: r.get("verdicts"),
        latency_ms: r.get("latency_ms"),
        input_sha256: r.get("input_sha256"),
        output_sha256: r.get("output_sha256"),
        input_text: r.get("input_text"),
        output_text: r.get("output_text"),
        status: r.get("status"),
        error_code: r.get("error_code"),
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
    }
}

fn count(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

fn user_row(r: &SqliteRow) -> UserState {
    UserState {
        tenant: r.get("tenant"),
        user: r.get("user_id"),
        consecutive: count(r.get("consecutive")),
        day: r.get("day"),
        day_count: count(r.get("day_count")),
        suspended_until_ms: r.get("suspended_until_ms"),
        suspensions: count(r.get("suspensions")),
        last_violation_ms: r.get("last_violation_ms"),
    }
}

impl GuardDb {
    /// Open (creating when missing) the store file at `path` and apply pending migrations
    /// (WAL, busy timeout, as [`SqliteStore::open`]).
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let store = SqliteStore::open(path).await?;
        Ok(GuardDb {
            pool: store.pool().clone(),
        })
    }

    /// The last appended link, if any record was ever appended.
    pub async fn audit_head(&self) -> Result<Option<AuditLink>, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM guard_audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read audit head"))?;
        Ok(row.map(|r| AuditLink {
            seq: r.get("seq"),
            hash: r.get("hash"),
        }))
    }

    /// The prune anchor, if the log was ever pruned.
    pub async fn audit_anchor(&self) -> Result<Option<AuditAnchor>, StoreError> {
        let row =
            sqlx::query("SELECT seq, hash, pruned, pruned_at FROM guard_audit_anchor WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read audit anchor"))?;
        Ok(row.map(|r| AuditAnchor {
            link: AuditLink {
                seq: r.get("seq"),
                hash: r.get("hash"),
            },
            pruned: u64::try_from(r.get::<i64, _>("pruned")).unwrap_or(0),
            pruned_at: r.get("pruned_at"),
        }))
    }

    /// Append rows in one `BEGIN IMMEDIATE` transaction. For each item, `make` gets the item, the
    /// new record's `seq` and the previous hash (`genesis` for the very first record), and returns
    /// the row to store (whose `seq` and `prev_hash` must be the ones given). Returns the rows
    /// written, in order.
    pub async fn audit_append<T, F>(
        &self,
        items: Vec<T>,
        genesis: &str,
        mut make: F,
    ) -> Result<Vec<AuditRow>, StoreError>
    where
        T: Send,
        F: FnMut(T, i64, &str) -> AuditRow + Send,
    {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let op = "append audit records";
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(q(op))?;
        let head = sqlx::query("SELECT seq, hash FROM guard_audit_head WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(q(op))?;
        let (mut seq, mut prev) = match head {
            Some(r) => (r.get::<i64, _>("seq"), r.get::<String, _>("hash")),
            None => {
                let anchor = sqlx::query("SELECT seq, hash FROM guard_audit_anchor WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(q(op))?;
                match anchor {
                    Some(r) => (r.get::<i64, _>("seq"), r.get::<String, _>("hash")),
                    None => (0, genesis.to_owned()),
                }
            }
        };
        let mut written = Vec::with_capacity(items.len());
        for item in items {
            seq += 1;
            let row = make(item, seq, &prev);
            sqlx::query(
                "INSERT INTO guard_audit (seq, time, time_ms, tenant, user_id, request_id, action, verdicts, latency_ms, input_sha256, output_sha256, input_text, output_text, status, error_code, prev_hash, hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(seq)
            .bind(&row.time)
            .bind(row.time_ms)
            .bind(&row.tenant)
            .bind(&row.user)
            .bind(&row.request_id)
            .bind(&row.action)
            .bind(&row.verdicts)
            .bind(row.latency_ms)
            .bind(&row.input_sha256)
            .bind(&row.output_sha256)
            .bind(&row.input_text)
            .bind(&row.output_text)
            .bind(row.status)
            .bind(&row.error_code)
            .bind(&prev)
            .bind(&row.hash)
            .execute(&mut *tx)
            .await
            .map_err(q(op))?;
            let prev_hash = std::mem::replace(&mut prev, row.hash.clone());
            written.push(AuditRow {
                seq,
                prev_hash,
                ..row
            });
        }
        sqlx::query(
            "INSERT INTO guard_audit_head (id, seq, hash) VALUES (1, ?, ?)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(seq)
        .bind(&prev)
        .execute(&mut *tx)
        .await
        .map_err(q(op))?;
        tx.commit().await.map_err(q(op))?;
        Ok(written)
    }

    /// Up to `limit` records with `seq > after`, in seq order.
    pub async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query("SELECT * FROM guard_audit WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(q("read audit records"))?;
        Ok(rows.iter().map(audit_row).collect())
    }

    /// Read the whole log as one consistent snapshot (one read transaction, so appends and
    /// prunes running meanwhile are not seen): the anchor and the head are read first, then
    /// `visit` gets them and every record in seq order, in pages of `page` rows, until it returns
    /// `false`. Returns the anchor and the head.
    pub async fn audit_scan<F>(&self, page: u32, mut visit: F) -> Result<AuditSnapshot, StoreError>
    where
        F: FnMut(&AuditSnapshot, AuditRow) -> bool + Send,
    {
        let op = "read audit records";
        let mut tx = self.pool.begin().await.map_err(q(op))?;
        let anchor =
            sqlx::query("SELECT seq, hash, pruned, pruned_at FROM guard_audit_anchor WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(q(op))?
                .map(|r| AuditAnchor {
                    link: AuditLink {
                        seq: r.get("seq"),
                        hash: r.get("hash"),
                    },
                    pruned: u64::try_from(r.get::<i64, _>("pruned")).unwrap_or(0),
                    pruned_at: r.get("pruned_at"),
                });
        let head = sqlx::query("SELECT seq, hash FROM guard_audit_head WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(q(op))?
            .map(|r| AuditLink {
                seq: r.get("seq"),
                hash: r.get("hash"),
            });
        let ends = AuditSnapshot { anchor, head };
        let mut after = i64::MIN;
        'pages: loop {
            let rows = sqlx::query("SELECT * FROM guard_audit WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(after)
                .bind(i64::from(page.max(1)))
                .fetch_all(&mut *tx)
                .await
                .map_err(q(op))?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let row = audit_row(r);
                after = row.seq;
                if !visit(&ends, row) {
                    break 'pages;
                }
            }
        }
        tx.rollback().await.map_err(q(op))?;
        Ok(ends)
    }

    /// Number of stored audit records.
    pub async fn audit_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM guard_audit")
            .fetch_one(&self.pool)
            .await
            .map_err(q("count audit records"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Delete the oldest records whose `time_ms < before_ms`, as one contiguous run from the start
    /// of the chain (a newer record stops the run, so the chain stays whole), and move the anchor
    /// to the last deleted link. Returns how many were deleted.
    pub async fn audit_prune(&self, before_ms: i64, now: &str) -> Result<u64, StoreError> {
        let op = "prune audit records";
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(q(op))?;
        let keep_from: Option<i64> =
            sqlx::query_scalar("SELECT MIN(seq) FROM guard_audit WHERE time_ms >= ?")
                .bind(before_ms)
                .fetch_one(&mut *tx)
                .await
                .map_err(q(op))?;
        let last = sqlx::query(
            "SELECT seq, hash FROM guard_audit WHERE seq < COALESCE(?, 9223372036854775807)
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(keep_from)
        .fetch_optional(&mut *tx)
        .await
        .map_err(q(op))?;
        let Some(last) = last else {
            return Ok(0);
        };
        let seq: i64 = last.get("seq");
        let hash: String = last.get("hash");
        let deleted = sqlx::query("DELETE FROM guard_audit WHERE seq <= ?")
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(q(op))?
            .rows_affected();
        sqlx::query(
            "INSERT INTO guard_audit_anchor (id, seq, hash, pruned, pruned_at) VALUES (1, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
               pruned = guard_audit_anchor.pruned + excluded.pruned, pruned_at = excluded.pruned_at",
        )
        .bind(seq)
        .bind(&hash)
        .bind(i64::try_from(deleted).unwrap_or(i64::MAX))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(q(op))?;
        tx.commit().await.map_err(q(op))?;
        Ok(deleted)
    }

    /// The counters of one user, if any were ever stored.
    pub async fn user_state(
        &self,
        tenant: &str,
        user: &str,
    ) -> Result<Option<UserState>, StoreError> {
        let row = sqlx::query("SELECT * FROM guard_users WHERE tenant = ? AND user_id = ?")
            .bind(tenant)
            .bind(user)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read user counters"))?;
        Ok(row.as_ref().map(user_row))
    }

    /// Read, change with `f` and write back one user's counters, in one `BEGIN IMMEDIATE`
    /// transaction (so concurrent requests of the same user never lose a count).
    pub async fn user_update<F, R>(&self, tenant: &str, user: &str, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut UserState) -> R + Send,
        R: Send,
    {
        let op = "update user counters";
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(q(op))?;
        let row = sqlx::query("SELECT * FROM guard_users WHERE tenant = ? AND user_id = ?")
            .bind(tenant)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await
            .map_err(q(op))?;
        let mut state = row.as_ref().map(user_row).unwrap_or_else(|| UserState {
            tenant: tenant.to_owned(),
            user: user.to_owned(),
            ..UserState::default()
        });
        let out = f(&mut state);
        sqlx::query(
            "INSERT INTO guard_users (tenant, user_id, consecutive, day, day_count, suspended_until_ms, suspensions, last_violation_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (tenant, user_id) DO UPDATE SET consecutive = excluded.consecutive,
               day = excluded.day, day_count = excluded.day_count,
               suspended_until_ms = excluded.suspended_until_ms, suspensions = excluded.suspensions,
               last_violation_ms = excluded.last_violation_ms",
        )
        .bind(tenant)
        .bind(user)
        .bind(i64::from(state.consecutive))
        .bind(&state.day)
        .bind(i64::from(state.day_count))
        .bind(state.suspended_until_ms)
        .bind(i64::from(state.suspensions))
        .bind(state.last_violation_ms)
        .execute(&mut *tx)
        .await
        .map_err(q(op))?;
        tx.commit().await.map_err(q(op))?;
        Ok(out)
    }

    /// Set a user's run of consecutive violations back to zero (a clean request). Writes only
    /// when the count is not already zero.
    pub async fn user_reset_consecutive(&self, tenant: &str, user: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE guard_users SET consecutive = 0 WHERE tenant = ? AND user_id = ? AND consecutive > 0",
        )
        .bind(tenant)
        .bind(user)
        .execute(&self.pool)
        .await
        .map_err(q("reset user counters"))?;
        Ok(())
    }

    /// Lift a suspension (expired or not) and clear the user's counters. Returns whether a
    /// suspension was set.
    pub async fn user_lift(&self, tenant: &str, user: &str) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE guard_users SET suspended_until_ms = NULL, consecutive = 0, day_count = 0
             WHERE tenant = ? AND user_id = ? AND suspended_until_ms IS NOT NULL",
        )
        .bind(tenant)
        .bind(user)
        .execute(&self.pool)
        .await
        .map_err(q("lift suspension"))?;
        Ok(r.rows_affected() > 0)
    }

    /// Users suspended beyond `now_ms`, ordered by tenant and user.
    pub async fn users_suspended(&self, now_ms: i64) -> Result<Vec<UserState>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM guard_users WHERE suspended_until_ms > ? ORDER BY tenant, user_id",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(q("list suspended users"))?;
        Ok(rows.iter().map(user_row).collect())
    }
}
