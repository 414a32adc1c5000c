//! One module per command, each with `run(…) -> anyhow::Result<ExitStatus>`.

use anquan::catalog::Catalog;
use anyhow::Context as _;

use crate::ExitStatus;
use crate::args::{Cli, Command};
use crate::output::Out;

mod bank;
mod catalog;
mod eval;
mod grade;
mod guard;
mod judge;
mod keywords;
mod scan;
mod tour;

pub(crate) fn run(cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    match &cli.command {
        Command::Bank(args) => bank::run(&args.command, cli, out),
        Command::Catalog(args) => catalog::run(&args.command, cli, out),
        Command::Grade(args) => grade::run(args, cli, out),
        Command::Keywords(args) => keywords::run(&args.command, cli, out),
        Command::Scan(args) => scan::run(args, cli, out),
        Command::Tour(args) => tour::run(args, cli, out),
        Command::Eval(args) => eval::run(args, cli, out),
        Command::Report(args) => eval::report(args, cli, out),
        Command::Runs(args) => eval::runs(args, cli, out),
        Command::Judge(args) => judge::run(args, cli, out),
        Command::Guard(args) => guard::run(args, cli, out),
    }
}

/// Load the catalog the user asked for (embedded, or `--catalog DIR`), validated.
pub(crate) fn load_catalog(cli: &Cli) -> anyhow::Result<Catalog> {
    let dir = cli.global.catalog.as_deref();
    let what = match dir {
        Some(d) => format!("failed to load the catalog from `{}`", d.display()),
        None => "failed to load the embedded catalog".to_owned(),
    };
    Catalog::load(dir).with_context(|| what)
}
