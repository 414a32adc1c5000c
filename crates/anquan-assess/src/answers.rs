use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{GradeError, Result};

/// Answers to the intake questionnaire: question key → option value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// A name for the application being graded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// A longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Question key → option value.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

/// The format of an answers file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswersFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl Answers {
    /// Parse answers from text; `file` names the source in errors.
    pub fn parse(text: &str, format: AnswersFormat, file: &str) -> Result<Answers> {
        match format {
            AnswersFormat::Toml => toml::from_str(text).map_err(|e| GradeError::Parse {
                file: file.to_owned(),
                message: e.to_string().trim_end().replace('\n', " "),
            }),
            AnswersFormat::Json => serde_json::from_str(text).map_err(|e| GradeError::Parse {
                file: file.to_owned(),
                message: format!(
                    "{e} (expected an object with `profile` and an `answers` object of strings)"
                ),
            }),
        }
    }

    /// Read an answers file: `.json` is JSON, anything else TOML.
    pub fn load(path: &Path) -> Result<Answers> {
        let text = std::fs::read_to_string(path).map_err(|source| GradeError::Io {
            path: path.to_owned(),
            source,
        })?;
        let format = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            AnswersFormat::Json
        } else {
            AnswersFormat::Toml
        };
        Answers::parse(&text, format, &path.display().to_string())
    }
}
