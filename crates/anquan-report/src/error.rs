/// An error of the report crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a report in JSON.
    #[error("failed to read the report JSON")]
    Json(#[source] serde_json::Error),
    /// The JSON is a report of another shape version.
    #[error("unsupported report schema `{found}`, expected `{expected}`")]
    Schema {
        /// The `schema` found (empty when absent).
        found: String,
        /// The `schema` this version reads.
        expected: &'static str,
    },
    /// A format name that is not `html`, `md` or `json`.
    #[error("unknown report format `{0}`, expected `html`, `md` or `json`")]
    Format(String),
}

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
