use std::path::PathBuf;

/// Errors of grading. Each names the answers file and the key concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GradeError {
    /// The answers file could not be read.
    #[error("failed to read answers file `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The answers file is not valid TOML or JSON of the expected shape.
    #[error("answers file `{file}` cannot be read: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What went wrong, with line and column when known.
        message: String,
    },
    /// The answers name a question the rubric does not have.
    #[error("answers file `{file}`: unknown question `{key}`; expected one of {}", expected.join(", "))]
    UnknownQuestion {
        /// The file.
        file: String,
        /// The key.
        key: String,
        /// The rubric's question keys.
        expected: Vec<String>,
    },
    /// The answer is not one of the question's options.
    #[error("answers file `{file}`: key `{key}`: unknown option `{value}`; expected one of {}", expected.join(", "))]
    UnknownOption {
        /// The file.
        file: String,
        /// The key.
        key: String,
        /// The answer given.
        value: String,
        /// The question's option values.
        expected: Vec<String>,
    },
    /// Questions were left unanswered.
    #[error("answers file `{file}`: missing answers for {}", keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The file.
        file: String,
        /// The unanswered keys.
        keys: Vec<String>,
    },
    /// The catalog has no grading rubric.
    #[error("the catalog has no grading rubric (`grading/rubric.toml`)")]
    NoRubric,
}

/// Result alias.
pub type Result<T, E = GradeError> = std::result::Result<T, E>;
