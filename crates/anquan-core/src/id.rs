use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// An id that does not have the required shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} `{value}`: {expected}")]
pub struct IdError {
    /// What kind of id was being parsed (`record id`, `risk id`, …).
    pub kind: &'static str,
    /// The rejected text.
    pub value: String,
    /// What was expected instead.
    pub expected: &'static str,
}

fn is_record_id(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

/// Risk ids: GB/T 45654 annex A (`A.1`, `A.1.a`) or a framework section path (`fw2.3.1.1.a`).
fn is_risk_id(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix("A.") {
        let parts: Vec<&str> = rest.split('.').collect();
        return match parts.as_slice() {
            [g] => is_digits(g),
            [g, r] => is_digits(g) && r.len() == 1 && r.chars().all(|c| c.is_ascii_lowercase()),
            _ => false,
        };
    }
    let rest = match s.strip_prefix("fw1.").or_else(|| s.strip_prefix("fw2.")) {
        Some(rest) => rest,
        None => return false,
    };
    let parts: Vec<&str> = rest.split('.').collect();
    let (last, head) = match parts.split_last() {
        Some(split) => split,
        None => return false,
    };
    if head.is_empty() {
        return is_digits(last);
    }
    head.iter().all(|p| is_digits(p))
        && (is_digits(last) || (last.len() == 1 && last.chars().all(|c| c.is_ascii_lowercase())))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// Clause ids: lowercase dotted paths such as `gbt45654.keywords.size`.
fn is_clause_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $check:path, $expected:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parse and validate an id.
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                if $check(&value) {
                    Ok(Self(value))
                } else {
                    Err(IdError { kind: $kind, value, expected: $expected })
                }
            }

            /// The id as written in the data.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// The id of any catalog record: ASCII letters, digits and `._+-`, starting with a letter
    /// or digit. Unique across the whole catalog.
    RecordId,
    "record id",
    is_record_id,
    "expected ASCII letters, digits and `._+-`, starting with a letter or digit"
);

id_type!(
    /// A risk id exactly as the source documents number it: GB/T 45654 annex A (`A.1`, `A.1.c`)
    /// or a Framework section path (`fw2.3.1.1.a`, `fw1.3.2.1.b`).
    RiskId,
    "risk id",
    is_risk_id,
    "expected an annex-A id such as `A.1.c` or a framework id such as `fw2.3.1.1.a`"
);

id_type!(
    /// A clause id such as `gbt45654.keywords.size`: lowercase dotted segments of
    /// `a-z`, `0-9` and `_`.
    ClauseId,
    "clause id",
    is_clause_id,
    "expected lowercase dotted segments such as `gbt45654.keywords.size`"
);

impl From<RiskId> for RecordId {
    fn from(id: RiskId) -> Self {
        RecordId(id.0)
    }
}

impl From<ClauseId> for RecordId {
    fn from(id: ClauseId) -> Self {
        RecordId(id.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_ids() {
        for ok in [
            "A.1",
            "A.1.a",
            "A.5.b",
            "fw2.3.1",
            "fw2.3.1.1.a",
            "fw1.3.2.4.c",
            "fw2.3.3.a",
        ] {
            assert!(RiskId::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "A",
            "A.x",
            "A.1.ab",
            "fw3.1",
            "fw2.",
            "fw2.a",
            "a.1.a",
            "fw2.3.1.1.A",
        ] {
            assert!(RiskId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clause_and_record_ids() {
        assert!(ClauseId::new("gbt45654.keywords.size").is_ok());
        assert!(ClauseId::new("gbt45654.eval.should_refuse").is_ok());
        assert!(ClauseId::new("Gbt.x").is_err());
        assert!(ClauseId::new("single").is_err());
        assert!(RecordId::new("std.gbt-45654-2025").is_ok());
        let err = RecordId::new(".x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid record id `.x`: expected ASCII letters, digits and `._+-`, starting with a letter or digit"
        );
    }

    #[test]
    fn ids_deserialize_with_validation() {
        let ok: RiskId = serde_json::from_str("\"A.2.e\"").unwrap();
        assert_eq!(ok.as_str(), "A.2.e");
        let err = serde_json::from_str::<RiskId>("\"B.1\"").unwrap_err();
        assert!(err.to_string().contains("invalid risk id `B.1`"));
    }
}
