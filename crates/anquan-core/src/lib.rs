//! The shared vocabulary of anquan.
//!
//! Every other anquan crate speaks in these types: validated ids for the records of the standards
//! ([`RiskId`], [`ClauseId`], [`RecordId`]), the two languages of the product ([`Lang`]), bilingual
//! text ([`Text`]), the verification status of a fact taken from a standard ([`Verification`]),
//! and the finding / verdict / evidence types that detectors, judges and the evaluator exchange.
//!
//! The main design decision: ids are newtypes that validate on parse, so an id that reaches any
//! other crate is well-formed, and a typo in a data file is reported where it is read, not where
//! it is used. This crate depends on nothing else of anquan.
#![warn(missing_docs)]

pub mod env;
mod finding;
mod id;
mod lang;

pub use finding::{Evidence, Finding, Span, Verdict, VerdictKind};
pub use id::{ClauseId, IdError, RecordId, RiskId};
pub use lang::{Lang, LangError, Text, Verification};
