//! The standards catalog: China's AI safety standards as bilingual, versioned data.
//!
//! Everything anquan decides reads this crate: the risk taxonomies (Framework 2.0, Framework 1.0,
//! GB/T 45654 annex A), the measures and guidelines, the standards system, the clauses with their
//! typed thresholds, the GB 45438 label rules, the white paper's testing framework and the grading
//! rubric.
//!
//! The main design decision: **data, not code, holds the standards.** The TOML files under
//! `data/` are embedded in the binary and can be replaced by a folder of the same shape
//! ([`Catalog::load_dir`]). Loading never stops at the first bad record: it returns the catalog
//! with every [`Problem`] found, each naming the file and record, and [`Catalog::validate`] checks
//! ids, references, both languages, sources, canonical order and the counts the sources fix.
//! A threshold literal elsewhere in anquan is a defect; ask the catalog by clause id.

mod catalog;
mod error;
mod load;
pub mod model;
pub mod natural;
mod query;
pub mod radicals;
pub mod rubric;
mod validate;

pub use catalog::{Catalog, Kind, RecordRef};
pub use error::{Error, Problem, Result};
pub use query::{MapEntry, RiskMapReport, SearchHit};
