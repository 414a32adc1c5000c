//! The one detection engine of anquan.
//!
//! The evaluator, the guardrail and the corpus scanner must decide the same way, so they share
//! this crate: the same normalizer, keyword matcher and PII detectors decide everywhere, and a
//! finding means the same thing in an evaluation, in the guardrail and in a corpus scan.
//!
//! The main design decision: **normalize with an offset map.** Evasions (full-width letters,
//! traditional characters, separators inside a word, zero-width characters, look-alike letters,
//! radical look-alikes, split characters) are undone before matching, but every finding's span
//! points at bytes of the ORIGINAL text, so a user sees what they wrote and masking replaces the
//! right bytes. The engine owns no resources: no store, no socket, no printing.
#![warn(missing_docs)]

pub mod check;
pub mod classifier;
mod engine;
pub mod judge;
pub mod keywords;
mod leftmost;
pub mod normalize;
pub mod pii;
mod pinyin;
pub mod refusal;
pub mod registry;

pub use engine::{Detection, Engine};
