//! Every environment variable anquan reads, in one place.
//!
//! The CLI binds its flags to these names (`env = …` in clap), and the docs list them from here.

/// A documented environment variable.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// Load the catalog from this folder instead of the embedded one (`--catalog`).
pub const ANQUAN_CATALOG: &str = "ANQUAN_CATALOG";
/// Language of user-facing output, `zh` or `en` (`--lang`).
pub const ANQUAN_LANG: &str = "ANQUAN_LANG";
/// Log filter for stderr diagnostics, e.g. `debug` (falls back to `RUST_LOG`).
pub const ANQUAN_LOG: &str = "ANQUAN_LOG";
/// Disable coloured output when set to any value.
pub const NO_COLOR: &str = "NO_COLOR";

/// All variables, for documentation.
pub const ALL: &[EnvVar] = &[
    EnvVar {
        name: ANQUAN_CATALOG,
        doc: "Load the catalog from this folder instead of the embedded one.",
    },
    EnvVar {
        name: ANQUAN_LANG,
        doc: "Language of user-facing output: `zh` or `en`.",
    },
    EnvVar {
        name: ANQUAN_LOG,
        doc: "Log filter for diagnostics on stderr (falls back to `RUST_LOG`).",
    },
    EnvVar {
        name: NO_COLOR,
        doc: "Disable coloured output.",
    },
];
