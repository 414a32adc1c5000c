//! Assessment reports of anquan: the report model and its renderers.
//!
//! The evaluator fills a [`Report`] (clause verdicts with intervals, per-bank, per-risk,
//! per-attack and per-language results, the worst failures, the manual-review list, evidence
//! hashes) and [`render`] writes it as a self-contained HTML page, GitHub-flavoured Markdown or
//! the versioned JSON shape [`SCHEMA`], in Chinese or English.
//!
//! The main design decision: no template engine. The content of every section is decided once,
//! in plain text, by one module, and the HTML and Markdown writers only lay it out and escape
//! it, so both formats say the same thing and every string from the model, prompts and
//! responses above all, passes through exactly one escaping function. Charts are SVG drawn in
//! Rust ([`svg`]), so the HTML file needs no script, font or image, and the dashboard can reuse
//! them. Fixed labels live in `i18n/zh.toml` and `i18n/en.toml`; a test keeps the two in step.

mod content;
mod error;
mod html;
pub mod i18n;
mod markdown;
pub mod model;
pub mod svg;
mod text;

use std::fmt;
use std::str::FromStr;

use anquan_core::Lang;

pub use error::{Error, Result};
pub use model::{
    AttackRow, BankSummary, ClauseRow, EvidenceRow, JudgeLine, LangRow, Report, RiskRow, RunInfo,
    SCHEMA, TargetInfo, ToolInfo, TrialRef, Verdict, VerdictCounts,
};

/// An output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// One self-contained HTML file.
    Html,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// The model as pretty JSON, shape [`SCHEMA`].
    Json,
}

impl Format {
    /// The usual file extension: `html`, `md`, `json`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" | "htm" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(Error::Format(other.to_owned())),
        }
    }
}

/// Render `report` in `format`. Labels are in `lang`; JSON holds both languages and ignores it.
pub fn render(report: &Report, format: Format, lang: Lang) -> String {
    match format {
        Format::Html => html::render(report, lang),
        Format::Markdown => markdown::render(report, lang),
        Format::Json => to_json(report),
    }
}

/// The report as pretty JSON, ending in a newline.
fn to_json(report: &Report) -> String {
    // The model has only string keys, so serialising cannot fail.
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}

/// Read a report written by [`render`] with [`Format::Json`]. A report of another shape version
/// is an [`Error::Schema`], whatever else it holds.
pub fn parse_json(json: &str) -> Result<Report> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(Error::Json)?;
    let found = value
        .get("schema")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    if found != SCHEMA {
        return Err(Error::Schema {
            found: found.to_owned(),
            expected: SCHEMA,
        });
    }
    serde_json::from_value(value).map_err(Error::Json)
}
