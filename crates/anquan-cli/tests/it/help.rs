//! Help text is part of the interface: snapshot it.

use crate::ok;

#[test]
fn help_snapshots() {
    let cases: &[&[&str]] = &[
        &["--help"],
        &["catalog", "--help"],
        &["catalog", "risks", "--help"],
        &["catalog", "show", "--help"],
        &["catalog", "map", "--help"],
        &["catalog", "standards", "--help"],
        &["catalog", "directions", "--help"],
        &["catalog", "clauses", "--help"],
        &["catalog", "search", "--help"],
        &["catalog", "export", "--help"],
        &["catalog", "validate", "--help"],
        &["grade", "--help"],
        &["tour", "--help"],
        &["scan", "--help"],
        &["keywords", "--help"],
        &["keywords", "check", "--help"],
        &["keywords", "normalize", "--help"],
        &["keywords", "stats", "--help"],
        &["keywords", "merge", "--help"],
        &["bank", "--help"],
        &["bank", "check", "--help"],
        &["bank", "sample", "--help"],
        &["bank", "import", "--help"],
        &["eval", "--help"],
        &["report", "--help"],
        &["runs", "--help"],
        &["judge", "bench", "--help"],
    ];
    for args in cases {
        let name = args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .copied()
            .collect::<Vec<_>>()
            .join("_");
        let name = if name.is_empty() {
            "anquan".to_owned()
        } else {
            name
        };
        insta::assert_snapshot!(format!("help_{name}"), ok(args));
    }
}

#[test]
fn every_command_help_has_examples() {
    for args in [
        vec!["catalog", "risks"],
        vec!["catalog", "show"],
        vec!["catalog", "map"],
        vec!["catalog", "standards"],
        vec!["catalog", "directions"],
        vec!["catalog", "clauses"],
        vec!["catalog", "search"],
        vec!["catalog", "export"],
        vec!["catalog", "validate"],
        vec!["grade"],
        vec!["eval"],
        vec!["report"],
        vec!["runs"],
        vec!["judge", "bench"],
        vec!["tour"],
    ] {
        let mut a = args.clone();
        a.push("--help");
        let text = ok(&a);
        assert!(text.contains("Examples:"), "{args:?} help has no examples");
        assert!(
            text.matches("anquan ").count() >= 2,
            "{args:?} help has fewer than two example invocations"
        );
    }
}

#[test]
fn version_and_bad_arguments() {
    assert!(ok(&["--version"]).starts_with("anquan "));
    let (code, _, stderr) = crate::run(&["catalog", "risks", "--framework", "3.0"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid value '3.0'"), "{stderr}");
    let (code, _, stderr) = crate::run(&["--lang", "fr", "tour"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown language `fr`, expected `zh` or `en`"),
        "{stderr}"
    );
}

#[test]
fn attack_list_snapshot() {
    insta::assert_snapshot!(ok(&["eval", "--list-attacks", "--lang", "en"]));
}
