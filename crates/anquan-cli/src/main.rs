//! The `anquan` binary: parses arguments, runs one command, prints its output and maps the
//! outcome to an exit status. It is the only crate that prints or touches the terminal.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

mod args;
mod commands;
mod output;

/// The documented exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Ran, and everything checked passed.
    Success,
    /// Ran, and a check failed.
    Failure,
    /// Could not run.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Success
            };
            // clap prints help and errors itself; a closed pipe is not an error.
            let _ = err.print();
            return code.into();
        }
    };
    let mut out = output::Out::new(cli.global.lang, cli.global.json);
    let status = match commands::run(&cli, &mut out) {
        Ok(status) => status,
        Err(err) => {
            out.flush_stdout();
            output::print_error(&err);
            return ExitStatus::Error.into();
        }
    };
    if !out.flush_stdout() {
        // Broken pipe (e.g. `anquan catalog export | head`): the reader went away, not an error.
        return ExitStatus::Success.into();
    }
    let _ = std::io::stderr().flush();
    status.into()
}
