//! Evaluation: the built-in GB/T 45654 test banks and the bank validator.
//!
//! A provider filing under GB/T 45654 needs three question banks (generated content,
//! should-refuse, should-not-refuse), each tagged with annex-A risks (or, for should-not-refuse,
//! the aspects), of a size and coverage the standard fixes. This crate ships anquan's banks and
//! checks anyone's against the catalog's clause data.
//!
//! The main design decision: **every number comes from the catalog.** The validator asks the
//! catalog for the clauses of a bank by id and applies their typed thresholds; it knows no floor
//! itself, so a corrected catalog corrects every check. Bad lines are problems naming the line,
//! and the rest of the bank is still checked.
#![warn(missing_docs)]

pub mod attack;
pub mod bank;
pub mod import;
pub mod metrics;
pub mod sample;

pub use bank::{
    Bank, BankCheck, BankKind, Item, LineProblem, builtin, builtin_names, check_bank, parse_jsonl,
};
