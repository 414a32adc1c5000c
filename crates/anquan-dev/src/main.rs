//! `cargo dev`: developer commands of anquan, run with `cargo dev <command>` (an alias in
//! `.cargo/config.toml`).
//!
//! The main design decision: generators write committed files, and each has a `--check` mode that
//! regenerates in memory and fails when the committed files differ, so "the committed artefact is
//! what the code and data give" is a test, not a promise.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod train_classifier;

#[derive(Debug, Parser)]
#[command(name = "cargo dev", about = "anquan developer commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Retrain the local classifier judge from `../shared/datasets`, write its weights and
    /// metadata to `crates/anquan-detect/data/classifier/`, and print its scores on COLD dev next
    /// to the keyword judge's.
    TrainClassifier(train_classifier::Args),
}

/// The workspace root (two levels above this crate).
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::TrainClassifier(args) => train_classifier::run(&args, &workspace_root()),
    };
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    match result {
        Ok(report) => {
            let _ = stdout.write_all(report.text.as_bytes());
            if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            let _ = writeln!(stderr, "error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    /// The committed classifier weights and metadata are what the code and the shared datasets
    /// give (the check mode of `cargo dev train-classifier`).
    #[test]
    fn committed_classifier_is_reproducible() {
        let cli = Cli::try_parse_from(["cargo dev", "train-classifier", "--check"]).unwrap();
        let Command::TrainClassifier(args) = cli.command;
        let report = train_classifier::run(&args, &workspace_root()).unwrap();
        assert!(report.ok, "{}", report.text);
    }
}
