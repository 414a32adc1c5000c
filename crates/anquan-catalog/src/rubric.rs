//! The grading rubric as data (`grading/rubric.toml`).
//!
//! No national formula for grading AI applications is published yet, so anquan's rubric is a
//! documented, overridable table: questions whose options score the three factors of Framework
//! 2.0 annex 1, weights and cut points that turn the factor scores into one of the five levels,
//! floors that certain answers impose, review lanes, and the controls each level requires.

use std::collections::BTreeMap;

use anquan_core::{RecordId, Text};
use serde::{Deserialize, Serialize};

use crate::model::Source;

/// The rubric file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricFile {
    /// Rubric metadata and scoring rule.
    pub rubric: Rubric,
    /// Questions, in the order they are asked.
    #[serde(default)]
    pub question: Vec<Question>,
    /// Review lanes.
    #[serde(default)]
    pub lane: Vec<Lane>,
    /// Controls required at each level (cumulative upwards).
    #[serde(default)]
    pub level_controls: Vec<LevelControls>,
}

/// Rubric metadata and scoring rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Stable id.
    pub id: RecordId,
    /// Rubric version.
    pub version: String,
    /// Bilingual name.
    pub name: Text,
    /// What the rubric is and is not.
    pub description: Text,
    /// Sources the rubric draws on.
    pub source: Source,
    /// Weight of each factor (`scenario`, `intelligence`, `scale`); they sum to 1.
    pub weights: BTreeMap<String, f64>,
    /// Four ascending cut points on the weighted score: below `cuts[0]` is level 1, …, at or
    /// above `cuts[3]` is level 5.
    pub cuts: Vec<f64>,
    /// Flag that makes GB/T 45654 and GB 45438 apply (a public generative AI service).
    pub genai_flag: String,
}

/// One question of the intake questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id, `grade.q.<key>`.
    pub id: RecordId,
    /// Key used in answers files.
    pub key: String,
    /// `scenario`, `intelligence`, `scale` or `intake` (no score, only flags and floors).
    pub factor: String,
    /// The question.
    pub name: Text,
    /// Help text.
    pub description: Text,
    /// Where the question comes from.
    pub source: Source,
    /// The possible answers.
    pub option: Vec<QuestionOption>,
}

/// One answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionOption {
    /// Value used in answers files.
    pub value: String,
    /// Bilingual label.
    pub label: Text,
    /// Factor score 1–5 (absent for intake questions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    /// Minimum level when chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<u8>,
    /// Why the floor applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
    /// Facts this answer establishes (`public_genai`, `personal_info`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Extra controls (measure or guideline ids) this answer requires.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<RecordId>,
}

/// A review lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    /// Stable id.
    pub id: RecordId,
    /// Levels (ranks) that take this lane.
    pub levels: Vec<u8>,
    /// Bilingual name.
    pub name: Text,
    /// What happens in it.
    pub description: Text,
    /// Source.
    pub source: Source,
}

/// Controls required from a level upwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelControls {
    /// From this rank upwards.
    pub level: u8,
    /// Measure or guideline ids.
    pub controls: Vec<RecordId>,
}
