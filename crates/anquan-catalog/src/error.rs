use std::fmt;
use std::path::PathBuf;

/// Errors that stop the catalog from loading at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The catalog folder or one of its files could not be read.
    #[error("failed to read `{}`", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The folder has no `catalog.toml`.
    #[error("`{}` is not a catalog folder: it has no `catalog.toml`", path.display())]
    NotACatalog {
        /// The folder.
        path: PathBuf,
    },
    /// The catalog loaded but has problems.
    #[error("the catalog at `{origin}` has {} problem(s); first: {}", problems.len(), problems.first().map(ToString::to_string).unwrap_or_default())]
    Invalid {
        /// Where it was loaded from.
        origin: String,
        /// Every problem.
        problems: Vec<Problem>,
    },
    /// A record id was asked for that the catalog does not have.
    #[error("no catalog record has the id `{id}`")]
    UnknownId {
        /// The id.
        id: String,
        /// Close matches.
        suggestions: Vec<String>,
    },
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One thing wrong with the catalog data, naming the file and the record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// File, relative to the catalog folder.
    pub file: String,
    /// Record id, when the problem is about one record.
    pub id: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(
        file: impl Into<String>,
        id: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            file: file.into(),
            id: id.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "`{}`: record `{id}`: {}", self.file, self.message),
            None => write!(f, "`{}`: {}", self.file, self.message),
        }
    }
}
