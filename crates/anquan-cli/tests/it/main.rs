//! End-to-end tests of the `anquan` binary: help text, every command's output, JSON shapes,
//! exit statuses and error messages.

mod bank;
mod catalog;
mod detect;
mod eval;
mod grade;
mod help;
mod hostile;
mod tour;

use std::path::PathBuf;

use assert_cmd::Command;

/// The real binary, with the environment variables it reads cleared.
pub(crate) fn anquan() -> Command {
    let mut cmd = Command::cargo_bin("anquan").unwrap();
    cmd.env_remove("ANQUAN_LANG")
        .env_remove("ANQUAN_CATALOG")
        .env_remove("RUST_LOG");
    cmd
}

/// Run and return (exit code, stdout, stderr).
pub(crate) fn run(args: &[&str]) -> (i32, String, String) {
    let out = anquan().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Run, expect success, return stdout.
pub(crate) fn ok(args: &[&str]) -> String {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 0, "anquan {args:?} failed:\n{stderr}");
    stdout
}

/// Run with `--json`, expect success, parse.
pub(crate) fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = ok(&all);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("anquan {args:?} --json is not JSON: {e}\n{out}"))
}

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run with `--json`, whatever the exit status, and parse.
pub(crate) fn json_any(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let (code, out, err) = run(&all);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("anquan {args:?} --json is not JSON: {e}\n{out}\n{err}"));
    (code, v)
}
