//! Per-user violation counters and suspension, by the catalog clause
//! `gbt45654.users.repeat_offender` (suspend after `consecutive` violations in a row or
//! `per_day` in one day), persisted in the guard's SQLite file so that a restart does not forgive.
//!
//! Rules, as implemented:
//! * a violating request adds one to the user's run of consecutive violations and to the day's
//!   count; a non-violating request sets the consecutive run back to zero (the day's count
//!   stays);
//! * "one day" is the UTC calendar day of the request's time (00:00 UTC is 08:00 in Beijing);
//! * reaching either number suspends the user for the configured duration and starts both counts
//!   afresh (the suspension is the measure taken for those violations);
//! * violations while suspended are counted but do not extend the suspension;
//! * [`Violations::lift`] ends a suspension and clears the counts.
//!
//! Counters are read and written in one `BEGIN IMMEDIATE` transaction, so concurrent requests of
//! the same user never lose a count.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anquan_catalog::Catalog;
use anquan_catalog::model::ThresholdKind;
use anquan_store::guard::{GuardDb, UserState};
use serde::{Deserialize, Serialize};

pub use crate::audit::GuardStoreError;

/// The catalog clause that gives the numbers.
pub const REPEAT_CLAUSE: &str = "gbt45654.users.repeat_offender";

/// When to suspend a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatRule {
    /// Violations in a row.
    pub consecutive: u32,
    /// Violations in one (UTC) day.
    pub per_day: u32,
}

impl RepeatRule {
    /// The numbers of `gbt45654.users.repeat_offender` (threshold kind `repeat_offender`).
    pub fn from_catalog(catalog: &Catalog) -> Result<Self, String> {
        let clause = catalog
            .clause(REPEAT_CLAUSE)
            .ok_or_else(|| format!("the catalog has no clause `{REPEAT_CLAUSE}`"))?;
        let t = clause
            .threshold
            .iter()
            .find(|t| t.kind == ThresholdKind::RepeatOffender)
            .ok_or_else(|| format!("clause `{REPEAT_CLAUSE}` has no repeat_offender threshold"))?;
        match (t.consecutive, t.per_day) {
            (Some(consecutive), Some(per_day)) if consecutive >= 1 && per_day >= 1 => {
                Ok(RepeatRule {
                    consecutive,
                    per_day,
                })
            }
            _ => Err(format!(
                "clause `{REPEAT_CLAUSE}`: the repeat_offender threshold needs `consecutive` and `per_day` of at least 1"
            )),
        }
    }
}

fn millis(t: SystemTime) -> Result<i64, GuardStoreError> {
    let ts = jiff::Timestamp::try_from(t).map_err(|e| GuardStoreError::Time(e.to_string()))?;
    Ok(ts.as_millisecond())
}

fn time_of(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn utc_day(ms: i64) -> Result<String, GuardStoreError> {
    let ts =
        jiff::Timestamp::from_millisecond(ms).map_err(|e| GuardStoreError::Time(e.to_string()))?;
    Ok(ts.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
}

/// Violation counters and suspensions of end users.
#[derive(Debug, Clone)]
pub struct Violations {
    db: GuardDb,
    rule: RepeatRule,
    suspend_ms: i64,
    /// Write-through cache of each seen user's run of violations and suspension end, so the hot
    /// path (a clean request of a known user) touches no database. The database stays the truth:
    /// a violation or a lift writes it first and drops the user's entry.
    known: std::sync::Arc<std::sync::Mutex<HashMap<(String, String), Known>>>,
    /// Serialises the slow paths (database reads and writes) so the cache never goes stale.
    slow: std::sync::Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, Clone, Copy)]
struct Known {
    consecutive: u32,
    until_ms: Option<i64>,
}

impl Violations {
    /// Open (creating when missing) the guard's store file.
    pub async fn open(
        path: &Path,
        rule: RepeatRule,
        suspend_for: Duration,
    ) -> Result<Self, GuardStoreError> {
        Ok(Self::with_db(GuardDb::open(path).await?, rule, suspend_for))
    }

    /// Use an already opened store (sharing its pool with [`crate::audit::AuditLog`]).
    pub fn with_db(db: GuardDb, rule: RepeatRule, suspend_for: Duration) -> Self {
        Violations {
            db,
            rule,
            suspend_ms: i64::try_from(suspend_for.as_millis()).unwrap_or(i64::MAX),
            known: std::sync::Arc::default(),
            slow: std::sync::Arc::default(),
        }
    }

    /// The rule in force.
    pub fn rule(&self) -> RepeatRule {
        self.rule
    }

    /// The user's suspension end, if suspended at `now`.
    pub async fn check(
        &self,
        tenant: &str,
        user: &str,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, GuardStoreError> {
        let now_ms = millis(now)?;
        let known = self.known(tenant, user).await?;
        Ok(known.until_ms.filter(|until| *until > now_ms).map(time_of))
    }

    fn cached(&self, tenant: &str, user: &str) -> Option<Known> {
        self.known
            .lock()
            .ok()?
            .get(&(tenant.to_owned(), user.to_owned()))
            .copied()
    }

    fn remember(&self, tenant: &str, user: &str, k: Option<Known>) {
        if let Ok(mut m) = self.known.lock() {
            let key = (tenant.to_owned(), user.to_owned());
            match k {
                Some(k) => {
                    m.insert(key, k);
                }
                None => {
                    m.remove(&key);
                }
            }
        }
    }

    /// The user's counts from the cache, or from the database (then cached).
    async fn known(&self, tenant: &str, user: &str) -> Result<Known, GuardStoreError> {
        if let Some(k) = self.cached(tenant, user) {
            return Ok(k);
        }
        let _slow = self.slow.lock().await;
        if let Some(k) = self.cached(tenant, user) {
            return Ok(k);
        }
        let state = self.db.user_state(tenant, user).await?;
        let k = Known {
            consecutive: state.as_ref().map_or(0, |s| s.consecutive),
            until_ms: state.and_then(|s| s.suspended_until_ms),
        };
        self.remember(tenant, user, Some(k));
        Ok(k)
    }

    /// Count one request of the user; returns the suspension end if the user is suspended after
    /// it (a violation that reaches the rule suspends at once).
    pub async fn record(
        &self,
        tenant: &str,
        user: &str,
        violated: bool,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, GuardStoreError> {
        let now_ms = millis(now)?;
        if !violated {
            // A clean request writes only when it ends a run of violations.
            let known = self.known(tenant, user).await?;
            if known.consecutive > 0 {
                let _slow = self.slow.lock().await;
                self.db.user_reset_consecutive(tenant, user).await?;
                self.remember(
                    tenant,
                    user,
                    Some(Known {
                        consecutive: 0,
                        ..known
                    }),
                );
            }
            return Ok(known.until_ms.filter(|until| *until > now_ms).map(time_of));
        }
        let _slow = self.slow.lock().await;
        let day = utc_day(now_ms)?;
        let rule = self.rule;
        let suspend_ms = self.suspend_ms;
        let until = self
            .db
            .user_update(tenant, user, move |s: &mut UserState| {
                if s.day != day {
                    s.day = day;
                    s.day_count = 0;
                }
                s.consecutive = s.consecutive.saturating_add(1);
                s.day_count = s.day_count.saturating_add(1);
                s.last_violation_ms = Some(now_ms);
                let active = s.suspended_until_ms.filter(|u| *u > now_ms);
                if active.is_none()
                    && (s.consecutive >= rule.consecutive || s.day_count >= rule.per_day)
                {
                    s.suspended_until_ms = Some(now_ms.saturating_add(suspend_ms));
                    s.suspensions = s.suspensions.saturating_add(1);
                    s.consecutive = 0;
                    s.day_count = 0;
                }
                s.suspended_until_ms.filter(|u| *u > now_ms)
            })
            .await?;
        // The database holds the new counts; read them again on the next request.
        self.remember(tenant, user, None);
        Ok(until.map(time_of))
    }

    /// End the user's suspension (expired or not) and clear the counts; returns whether one was
    /// set.
    pub async fn lift(&self, tenant: &str, user: &str) -> Result<bool, GuardStoreError> {
        let _slow = self.slow.lock().await;
        let lifted = self.db.user_lift(tenant, user).await?;
        self.remember(tenant, user, None);
        Ok(lifted)
    }

    /// Users suspended at `now`: tenant, user and end of suspension, ordered by tenant and user.
    pub async fn suspended(
        &self,
        now: SystemTime,
    ) -> Result<Vec<(String, String, SystemTime)>, GuardStoreError> {
        let now_ms = millis(now)?;
        Ok(self
            .db
            .users_suspended(now_ms)
            .await?
            .into_iter()
            .map(|s| {
                let until = time_of(s.suspended_until_ms.unwrap_or(now_ms));
                (s.tenant, s.user, until)
            })
            .collect())
    }

    /// The stored counters of one user (for the admin status), if any.
    pub async fn state(
        &self,
        tenant: &str,
        user: &str,
    ) -> Result<Option<UserState>, GuardStoreError> {
        Ok(self.db.user_state(tenant, user).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_day_turns_at_midnight_utc() {
        // 2026-03-01T23:59:59.999Z and one millisecond later.
        let ms = 1_772_409_599_999;
        assert_eq!(utc_day(ms).unwrap(), "2026-03-01");
        assert_eq!(utc_day(ms + 1).unwrap(), "2026-03-02");
    }

    #[test]
    fn the_rule_comes_from_the_embedded_catalog() {
        let catalog = Catalog::load(None).unwrap();
        let rule = RepeatRule::from_catalog(&catalog).unwrap();
        let t = catalog
            .clause(REPEAT_CLAUSE)
            .unwrap()
            .threshold
            .iter()
            .find(|t| t.kind == ThresholdKind::RepeatOffender)
            .unwrap();
        assert_eq!(Some(rule.consecutive), t.consecutive);
        assert_eq!(Some(rule.per_day), t.per_day);
    }
}
