//! anquan as a library: China's AI safety standards, executable.
//!
//! This facade re-exports the anquan crates behind features, so an embedder has one dependency
//! line. The main design decision is the same as the binary's: the standards are data, read
//! through [`catalog`], and every result carries the ids it is evidence for.
//!
//! ```
//! # #[cfg(feature = "assess")] {
//! use anquan::catalog::Catalog;
//!
//! let catalog = Catalog::load(None).expect("the embedded catalog is valid");
//! let clause = catalog.clause("gbt45654.keywords.size").expect("clause exists");
//! // Thresholds come from data, with their verification status.
//! assert!(!clause.threshold.is_empty());
//! println!("{} [{}]", clause.name.en, clause.status.as_str());
//! # }
//! ```
#![warn(missing_docs)]

pub use anquan_core as core;

/// The standards catalog (`anquan-catalog`).
#[cfg(feature = "catalog")]
pub use anquan_catalog as catalog;

/// Risk grading and assessments (`anquan-assess`).
#[cfg(feature = "assess")]
pub use anquan_assess as assess;

/// The detection engine (`anquan-detect`).
#[cfg(feature = "detect")]
pub use anquan_detect as detect;

/// Test banks and evaluation (`anquan-eval`).
#[cfg(feature = "eval")]
pub use anquan_eval as eval;
