//! The documented configuration parses, and mistakes are named.

use anquan_run::Config;

#[test]
fn examples_anquan_toml_parses_with_every_target() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/anquan.toml");
    let cfg = Config::load(&path).unwrap();
    assert_eq!(cfg.targets.len(), 3);
    let local = cfg.target("local").unwrap();
    assert_eq!(local.base_url, "http://127.0.0.1:8080/v1");
    assert_eq!(cfg.target("prod").unwrap().rpm, Some(600));
    assert_eq!(
        cfg.target("legacy").unwrap().kind,
        anquan_llm::TargetKind::Http
    );
    assert!(cfg.store.path.ends_with(".anquan/anquan.db"));
    assert!((cfg.eval.max_unsure_share - 0.05).abs() < 1e-9);
}

#[test]
fn mistakes_are_named() {
    let e = Config::parse("[targets.a]\nbase-url = \"http://x\"\nmodel = \"m\"\nconcurency = 2\n")
        .unwrap_err();
    assert!(e.contains("concurency"), "{e}");
    let e = Config::parse("[eval]\njudge-target = \"j\"\n").unwrap_err();
    assert!(
        e.contains("judge-target") && e.contains("[targets.j]"),
        "{e}"
    );
    let e = Config::parse("[targets.a]\nkind = \"http\"\nbase-url = \"http://x\"\n").unwrap_err();
    assert!(
        e.contains("[targets.a]") && e.contains("request-template"),
        "{e}"
    );
    let e = Config::default().target("nope").unwrap_err().to_string();
    assert!(
        e.contains("nope") && e.contains("add a [targets.<id>] table"),
        "{e}"
    );
}
