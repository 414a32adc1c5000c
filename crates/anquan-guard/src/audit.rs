//! The audit log: one record per request, as data (not tracing), hash-chained in SQLite.
//!
//! Each record gets a `seq` (1, 2, 3, … with no gaps) and
//! `hash = hex(sha256(prev_hash || canonical JSON of the record and its seq))`, where
//! `prev_hash` is the previous record's hash (64 zeros for the first record, or the prune
//! anchor's hash after pruning) and canonical JSON is compact with object keys sorted at every
//! level. [`AuditLog::verify`] recomputes the chain and names the first record that was edited,
//! deleted or reordered; the stored head (last seq and hash) also catches records deleted from
//! the end.
//!
//! Appends are serialized by one writer task that commits whatever is queued (up to
//! [`MAX_BATCH`] records) in one `BEGIN IMMEDIATE` transaction, reading the previous link inside
//! it: concurrent requests never fork the chain, a second process writing the same file cannot
//! either, and a caller that goes away after [`AuditLog::append`] was called still gets its
//! record written. `append` returns once the record is committed (SQLite WAL, `synchronous =
//! NORMAL`: it survives a killed process; the last commits may be lost on power loss).
//!
//! Pruning ([`AuditLog::prune`]) deletes the oldest records past the retention period as one run
//! from the start of the chain and keeps the hash of the last deleted record as the anchor that
//! verification starts from. The retention period comes from the catalog clause
//! `gbt45654.logs.retention` ([`min_retention_days`]).
//!
//! Limits: the chain proves the log was not changed by someone who did not also rewrite every
//! hash after the change (and the head); anchoring the head elsewhere (an export, a timestamping
//! service) is what makes a full rewrite detectable.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use anquan_catalog::Catalog;
use anquan_catalog::model::ThresholdKind;
use anquan_store::StoreError;
use anquan_store::guard::{AuditAnchor, AuditLink, AuditRow, GuardDb};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// `prev_hash` of the first record: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The most records the writer commits in one transaction.
pub const MAX_BATCH: usize = 512;

/// The catalog clause that gives the retention period.
pub const RETENTION_CLAUSE: &str = "gbt45654.logs.retention";

/// Records read per query by verify and export.
const PAGE: u32 = 1000;

/// Errors of the guard's persistent state (audit log and violation counters).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardStoreError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A record that cannot be stored as given.
    #[error("invalid audit record: {0}")]
    InvalidRecord(String),
    /// The writer could not commit a batch.
    #[error("audit write failed: {0}")]
    Write(String),
    /// The writer task is gone (the runtime is shutting down).
    #[error("the audit writer has stopped")]
    WriterGone,
    /// Writing an export failed.
    #[error("cannot write the audit export: {0}")]
    Io(#[from] std::io::Error),
    /// A line of an export is not a record.
    #[error("line {line} of the export is not an audit record: {detail}")]
    BadExport {
        /// 1-based line number.
        line: u64,
        /// Why.
        detail: String,
    },
    /// Pruning refused: it would erase evidence of tampering.
    #[error("the audit chain is broken at record {seq} ({why}); not pruning")]
    ChainBroken {
        /// First bad record.
        seq: u64,
        /// Why.
        why: String,
    },
    /// A time outside what can be stored.
    #[error("time out of range: {0}")]
    Time(String),
}

/// One audit record: what the guard did with one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 (for example from [`now_rfc3339`]).
    pub time: String,
    /// Tenant id.
    pub tenant: String,
    /// End user id.
    pub user: String,
    /// Request id (UUID v7).
    pub request_id: String,
    /// `pass`, `block`, `mask`, `annotate`, `error`, `suspended`, `killed` or `rate_limited`.
    pub action: String,
    /// Verdicts: risk ids, detector ids@versions, phases.
    pub verdicts: serde_json::Value,
    /// Time spent answering, in milliseconds.
    pub latency_ms: f64,
    /// Hex SHA-256 of the input.
    pub input_sha256: String,
    /// Hex SHA-256 of the output.
    pub output_sha256: String,
    /// Full input, only when the policy keeps text (PII masked by the caller).
    pub input_text: Option<String>,
    /// Full output, only when the policy keeps text (PII masked by the caller).
    pub output_text: Option<String>,
    /// HTTP status given to the client.
    pub status: u16,
    /// Stable error code, when the request ended in an error.
    pub error_code: Option<String>,
}

/// One line of `audit export --format jsonl`: the record with its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedRecord {
    /// Position in the chain.
    pub seq: u64,
    /// Hash of the previous record.
    pub prev_hash: String,
    /// Hash of this record.
    pub hash: String,
    /// The record.
    #[serde(flatten)]
    pub record: AuditRecord,
}

/// What [`AuditLog::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Records checked and found intact (up to the first bad one).
    pub records: u64,
    /// The whole chain verified.
    pub ok: bool,
    /// The first bad record's seq and what is wrong with it.
    pub first_bad: Option<(u64, String)>,
    /// The chain starts after this seq (the prune anchor), if pruned.
    pub anchor: Option<u64>,
}

/// The current time in RFC 3339 (UTC), for [`AuditRecord::time`].
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

/// Hex SHA-256 of `bytes`, for [`AuditRecord::input_sha256`] and `output_sha256`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The minimum log retention in days, from the catalog clause `gbt45654.logs.retention`.
pub fn min_retention_days(catalog: &Catalog) -> Result<u32, String> {
    let clause = catalog
        .clause(RETENTION_CLAUSE)
        .ok_or_else(|| format!("the catalog has no clause `{RETENTION_CLAUSE}`"))?;
    let value = clause
        .threshold
        .iter()
        .find(|t| t.kind == ThresholdKind::MinRetentionDays)
        .and_then(|t| t.value)
        .ok_or_else(|| format!("clause `{RETENTION_CLAUSE}` has no min_retention_days value"))?;
    if !(value >= 1.0 && value <= f64::from(u32::MAX) && value.fract() == 0.0) {
        return Err(format!(
            "clause `{RETENTION_CLAUSE}`: min_retention_days {value} is not a whole number of days"
        ));
    }
    // Checked above: a whole number in 1..=u32::MAX.
    Ok(value as u32)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Compact JSON with object keys sorted at every level.
fn canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The hash of `rec` at position `seq` after `prev`.
fn link_hash(prev: &str, seq: u64, rec: &AuditRecord) -> String {
    let mut fields = serde_json::Map::new();
    fields.insert("seq".into(), seq.into());
    fields.insert("time".into(), rec.time.as_str().into());
    fields.insert("tenant".into(), rec.tenant.as_str().into());
    fields.insert("user".into(), rec.user.as_str().into());
    fields.insert("request_id".into(), rec.request_id.as_str().into());
    fields.insert("action".into(), rec.action.as_str().into());
    fields.insert("verdicts".into(), rec.verdicts.clone());
    fields.insert("latency_ms".into(), rec.latency_ms.into());
    fields.insert("input_sha256".into(), rec.input_sha256.as_str().into());
    fields.insert("output_sha256".into(), rec.output_sha256.as_str().into());
    fields.insert("input_text".into(), rec.input_text.clone().into());
    fields.insert("output_text".into(), rec.output_text.clone().into());
    fields.insert("status".into(), rec.status.into());
    fields.insert("error_code".into(), rec.error_code.clone().into());
    let mut text = String::new();
    canonical(&serde_json::Value::Object(fields), &mut text);
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(text.as_bytes());
    hex(&h.finalize())
}

fn seq_u64(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}

fn record_of(row: &AuditRow) -> Result<AuditRecord, String> {
    Ok(AuditRecord {
        time: row.time.clone(),
        tenant: row.tenant.clone(),
        user: row.user.clone(),
        request_id: row.request_id.clone(),
        action: row.action.clone(),
        verdicts: serde_json::from_str(&row.verdicts)
            .map_err(|e| format!("its verdicts are not JSON ({e})"))?,
        latency_ms: row.latency_ms,
        input_sha256: row.input_sha256.clone(),
        output_sha256: row.output_sha256.clone(),
        input_text: row.input_text.clone(),
        output_text: row.output_text.clone(),
        status: u16::try_from(row.status)
            .map_err(|_| format!("its status {} is not an HTTP status", row.status))?,
        error_code: row.error_code.clone(),
    })
}

/// Walks the chain row by row, from the prune anchor (or the genesis hash).
#[derive(Debug)]
struct Checker {
    after: i64,
    prev: String,
    report: VerifyReport,
}

impl Checker {
    fn new(anchor: Option<&AuditAnchor>) -> Self {
        let (after, prev) = anchor.map_or((0, GENESIS.to_owned()), |a| {
            (a.link.seq, a.link.hash.clone())
        });
        Checker {
            after,
            prev,
            report: VerifyReport {
                records: 0,
                ok: false,
                first_bad: None,
                anchor: anchor.map(|a| seq_u64(a.link.seq)),
            },
        }
    }

    fn bad(&mut self, seq: i64, why: String) -> bool {
        self.report.first_bad = Some((seq_u64(seq), why));
        false
    }

    /// Check the next row; returns whether to go on.
    fn feed(&mut self, row: &AuditRow) -> bool {
        let expected = self.after + 1;
        if row.seq < expected {
            return self.bad(
                row.seq,
                format!(
                    "record {} comes before the start of the chain ({expected}): inserted",
                    row.seq
                ),
            );
        }
        if row.seq > expected {
            let why = if row.seq == expected + 1 {
                format!(
                    "record {expected} is missing (deleted); the next is {}",
                    row.seq
                )
            } else {
                format!(
                    "records {expected} to {} are missing (deleted); the next is {}",
                    row.seq - 1,
                    row.seq
                )
            };
            return self.bad(expected, why);
        }
        if row.prev_hash != self.prev {
            return self.bad(
                row.seq,
                format!(
                    "it does not follow record {0}: its prev_hash differs (records reordered, or record {0} replaced)",
                    row.seq - 1
                ),
            );
        }
        let rec = match record_of(row) {
            Ok(rec) => rec,
            Err(why) => return self.bad(row.seq, format!("edited: {why}")),
        };
        let time_ms = rec
            .time
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond());
        if time_ms.ok() != Some(row.time_ms) {
            // Not hashed itself, but pruning goes by it: it must say what `time` says.
            return self.bad(
                row.seq,
                "edited: its time_ms does not match its time".into(),
            );
        }
        if link_hash(&self.prev, seq_u64(row.seq), &rec) != row.hash {
            return self.bad(
                row.seq,
                "edited: its content does not match its hash".into(),
            );
        }
        self.prev.clone_from(&row.hash);
        self.after = row.seq;
        self.report.records += 1;
        true
    }

    /// Compare the end of the walk with the recorded head.
    fn finish(mut self, head: Option<&AuditLink>) -> VerifyReport {
        if self.report.first_bad.is_some() {
            return self.report;
        }
        let after = self.after;
        match head {
            Some(head) if head.seq > after => {
                let first = after + 1;
                let why = if head.seq == first {
                    format!("record {first} is missing (deleted from the end)")
                } else {
                    format!(
                        "records {first} to {} are missing (deleted from the end)",
                        head.seq
                    )
                };
                self.bad(first, why);
            }
            Some(head) if head.seq < after => {
                self.bad(
                    head.seq + 1,
                    format!(
                        "records after {} were added behind the writer's back",
                        head.seq
                    ),
                );
            }
            Some(head) if head.hash != self.prev => {
                self.bad(
                    after,
                    "edited: the last record does not match the recorded head".into(),
                );
            }
            None if self.report.records > 0 => {
                self.bad(1, "the recorded head of the chain is missing".into());
            }
            _ => self.report.ok = true,
        }
        self.report
    }
}

/// A record checked and ready for the writer.
#[derive(Debug)]
struct Prepared {
    rec: AuditRecord,
    time_ms: i64,
    verdicts: String,
}

impl Prepared {
    fn new(rec: AuditRecord) -> Result<Self, GuardStoreError> {
        let ts: jiff::Timestamp = rec.time.parse().map_err(|e| {
            GuardStoreError::InvalidRecord(format!("time `{}` is not RFC 3339: {e}", rec.time))
        })?;
        if !rec.latency_ms.is_finite() {
            return Err(GuardStoreError::InvalidRecord(format!(
                "latency_ms {} is not a finite number",
                rec.latency_ms
            )));
        }
        Ok(Prepared {
            time_ms: ts.as_millisecond(),
            verdicts: rec.verdicts.to_string(),
            rec,
        })
    }

    fn into_row(self, seq: i64, prev: &str) -> AuditRow {
        let hash = link_hash(prev, seq_u64(seq), &self.rec);
        let r = self.rec;
        AuditRow {
            seq,
            time: r.time,
            time_ms: self.time_ms,
            tenant: r.tenant,
            user: r.user,
            request_id: r.request_id,
            action: r.action,
            verdicts: self.verdicts,
            latency_ms: r.latency_ms,
            input_sha256: r.input_sha256,
            output_sha256: r.output_sha256,
            input_text: r.input_text,
            output_text: r.output_text,
            status: i64::from(r.status),
            error_code: r.error_code,
            prev_hash: prev.to_owned(),
            hash,
        }
    }
}

#[derive(Debug)]
enum Msg {
    Append(Box<Prepared>, oneshot::Sender<Result<u64, String>>),
    Flush(oneshot::Sender<()>),
}

async fn writer(db: GuardDb, mut rx: mpsc::Receiver<Msg>) {
    while let Some(first) = rx.recv().await {
        let mut items = Vec::new();
        let mut replies = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Append(p, reply) => {
                    items.push(*p);
                    replies.push(reply);
                }
                Msg::Flush(done) => flushes.push(done),
            }
            next = if items.len() < MAX_BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        match db.audit_append(items, GENESIS, Prepared::into_row).await {
            Ok(rows) => {
                for (row, reply) in rows.iter().zip(replies) {
                    // The caller may have gone away; its record is written all the same.
                    let _ = reply.send(Ok(seq_u64(row.seq)));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(msg.clone()));
                }
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// The hash-chained audit log of the guard.
#[derive(Debug)]
pub struct AuditLog {
    db: GuardDb,
    tx: mpsc::Sender<Msg>,
    tasks: Mutex<JoinSet<()>>,
}

impl AuditLog {
    /// Open (creating when missing) the guard's store file and start the writer.
    pub async fn open(path: &Path) -> Result<Self, GuardStoreError> {
        Ok(Self::with_db(GuardDb::open(path).await?).await)
    }

    /// Use an already opened store (sharing its pool with [`crate::violations::Violations`]).
    pub async fn with_db(db: GuardDb) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let mut tasks = JoinSet::new();
        tasks.spawn(writer(db.clone(), rx));
        AuditLog {
            db,
            tx,
            tasks: Mutex::new(tasks),
        }
    }

    /// The store this log writes to.
    pub fn db(&self) -> &GuardDb {
        &self.db
    }

    /// Append a record; returns its seq once it is committed.
    pub async fn append(&self, rec: AuditRecord) -> Result<u64, GuardStoreError> {
        let prepared = Prepared::new(rec)?;
        let (reply, done) = oneshot::channel();
        self.tx
            .send(Msg::Append(Box::new(prepared), reply))
            .await
            .map_err(|_| GuardStoreError::WriterGone)?;
        done.await
            .map_err(|_| GuardStoreError::WriterGone)?
            .map_err(GuardStoreError::Write)
    }

    /// Wait until every record appended before this call is committed (or failed).
    pub async fn flush(&self) -> Result<(), GuardStoreError> {
        let (reply, done) = oneshot::channel();
        self.tx
            .send(Msg::Flush(reply))
            .await
            .map_err(|_| GuardStoreError::WriterGone)?;
        done.await.map_err(|_| GuardStoreError::WriterGone)
    }

    /// Stop the writer after it has written everything queued (graceful shutdown).
    pub async fn close(self) {
        let mut tasks =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        // Closes the channel: the writer drains it and ends.
        drop(self);
        while tasks.join_next().await.is_some() {}
    }

    /// Number of stored records (after any pruning).
    pub async fn len(&self) -> Result<u64, GuardStoreError> {
        Ok(self.db.audit_count().await?)
    }

    /// Whether no record is stored.
    pub async fn is_empty(&self) -> Result<bool, GuardStoreError> {
        Ok(self.len().await? == 0)
    }

    /// Recompute the chain from the first record (or the prune anchor) and report the first
    /// record that was edited, deleted or reordered. Reads one consistent snapshot, so it may run
    /// while the guard appends.
    pub async fn verify(&self) -> Result<VerifyReport, GuardStoreError> {
        let mut check: Option<Checker> = None;
        let ends = self
            .db
            .audit_scan(PAGE, |ends, row| {
                check
                    .get_or_insert_with(|| Checker::new(ends.anchor.as_ref()))
                    .feed(&row)
            })
            .await?;
        let check = check.unwrap_or_else(|| Checker::new(ends.anchor.as_ref()));
        Ok(check.finish(ends.head.as_ref()))
    }

    /// Write every stored record as one JSON object per line ([`ExportedRecord`]), in chain
    /// order, from one consistent snapshot; returns how many were written.
    pub async fn export_jsonl(&self, out: &mut (dyn Write + Send)) -> Result<u64, GuardStoreError> {
        let mut n = 0;
        let mut failed: Option<GuardStoreError> = None;
        self.db
            .audit_scan(PAGE, |_, row| {
                let seq = seq_u64(row.seq);
                let written = record_of(&row)
                    .map_err(|why| GuardStoreError::ChainBroken { seq, why })
                    .and_then(|record| {
                        let line = ExportedRecord {
                            seq,
                            prev_hash: row.prev_hash,
                            hash: row.hash,
                            record,
                        };
                        serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
                        out.write_all(b"\n")?;
                        Ok(())
                    });
                match written {
                    Ok(()) => {
                        n += 1;
                        true
                    }
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            })
            .await?;
        if let Some(e) = failed {
            return Err(e);
        }
        out.flush()?;
        Ok(n)
    }

    /// Delete the records older than `retention_days` before `now` (as one run from the start of
    /// the chain) and keep the last deleted record's hash as the anchor verification starts
    /// from. Refuses when the chain does not verify, since pruning would erase the evidence.
    /// Pass at least [`min_retention_days`] of the catalog. Returns how many were deleted.
    pub async fn prune(
        &self,
        now: SystemTime,
        retention_days: u32,
    ) -> Result<u64, GuardStoreError> {
        if retention_days == 0 {
            return Err(GuardStoreError::InvalidRecord(
                "a retention of 0 days would delete the whole log".into(),
            ));
        }
        let now =
            jiff::Timestamp::try_from(now).map_err(|e| GuardStoreError::Time(e.to_string()))?;
        let report = self.verify().await?;
        if let Some((seq, why)) = report.first_bad {
            return Err(GuardStoreError::ChainBroken { seq, why });
        }
        let cutoff = now
            .as_millisecond()
            .saturating_sub(i64::from(retention_days).saturating_mul(86_400_000));
        Ok(self.db.audit_prune(cutoff, &now.to_string()).await?)
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        // Let the writer finish what is queued (it stops when the channel closes) instead of
        // aborting it with the join set.
        self.tasks
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .detach_all();
    }
}

/// Verify an export written by [`AuditLog::export_jsonl`] without the database: the chain is
/// checked from the first line's `prev_hash` (which is the prune anchor's hash, or 64 zeros).
pub fn verify_jsonl(input: impl BufRead) -> Result<VerifyReport, GuardStoreError> {
    let mut report = VerifyReport {
        records: 0,
        ok: false,
        first_bad: None,
        anchor: None,
    };
    let mut last: Option<(u64, String)> = None;
    for (i, line) in (1u64..).zip(input.lines()) {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let e: ExportedRecord =
            serde_json::from_str(&line).map_err(|e| GuardStoreError::BadExport {
                line: i,
                detail: e.to_string(),
            })?;
        let (expected, prev) = match &last {
            Some((seq, hash)) => (seq + 1, hash.clone()),
            None => {
                report.anchor = (e.seq > 1).then(|| e.seq - 1);
                (e.seq, e.prev_hash.clone())
            }
        };
        let why = if e.seq != expected {
            Some((
                expected,
                format!(
                    "record {expected} is missing (deleted); the next is {}",
                    e.seq
                ),
            ))
        } else if e.prev_hash != prev {
            Some((
                e.seq,
                "its prev_hash differs (records reordered or replaced)".into(),
            ))
        } else if link_hash(&prev, e.seq, &e.record) != e.hash {
            Some((e.seq, "edited: its content does not match its hash".into()))
        } else {
            None
        };
        if let Some(bad) = why {
            report.first_bad = Some(bad);
            return Ok(report);
        }
        report.records += 1;
        last = Some((e.seq, e.hash));
    }
    report.ok = true;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": 1, "a": {"d": [1, {"z": 0, "y": "é\""}], "c": null}});
        let mut s = String::new();
        canonical(&v, &mut s);
        assert_eq!(s, r#"{"a":{"c":null,"d":[1,{"y":"é\"","z":0}]},"b":1}"#);
    }

    #[test]
    fn hash_depends_on_seq_prev_and_every_field() {
        let rec = AuditRecord {
            time: "2026-01-01T00:00:00Z".into(),
            tenant: "t".into(),
            user: "u".into(),
            request_id: "r".into(),
            action: "pass".into(),
            verdicts: serde_json::json!([]),
            latency_ms: 1.5,
            input_sha256: sha256_hex(b"in"),
            output_sha256: sha256_hex(b"out"),
            input_text: None,
            output_text: None,
            status: 200,
            error_code: None,
        };
        let h = link_hash(GENESIS, 1, &rec);
        assert_eq!(h.len(), 64);
        assert_ne!(h, link_hash(GENESIS, 2, &rec));
        assert_ne!(h, link_hash(&h, 1, &rec));
        let mut other = rec.clone();
        other.status = 403;
        assert_ne!(h, link_hash(GENESIS, 1, &other));
        let mut other = rec;
        other.output_text = Some(String::new());
        assert_ne!(h, link_hash(GENESIS, 1, &other));
    }

    #[test]
    fn sha256_hex_matches_a_known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
