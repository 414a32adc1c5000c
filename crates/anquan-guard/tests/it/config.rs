//! `examples/guard.toml` parses, compiles, and documents every key the configuration has.

use std::collections::BTreeSet;
use std::path::Path;

use anquan_guard::GuardConfig;
use anquan_guard::config::{LlmJudgeConfig, RateLimitConfig};
use anquan_guard::policy::State;

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/guard.toml")
}

fn keys(v: &toml::Value, out: &mut BTreeSet<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                out.insert(k.clone());
                keys(v, out);
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[test]
fn the_example_parses_compiles_and_documents_every_key() {
    let path = example();
    let cfg = GuardConfig::load(&path).unwrap();
    assert_eq!(cfg.server.listen, "127.0.0.1:8787", "loopback by default");
    let catalog = anquan_catalog::Catalog::load(None).unwrap();
    let state = State::build(cfg.clone(), Some(&path), &catalog).unwrap();
    assert!(state.warnings.is_empty(), "{:?}", state.warnings);
    assert_eq!(state.owner("sk-demo-key").unwrap().user, "demo-app");
    assert_eq!(state.owner("sk-acme-key").unwrap().tenant, "acme");
    assert!(state.owner("sk-other").is_none());

    // Fill every optional key, serialize, and require each key name in the example's text
    // (commented-out keys count: they are documented).
    let mut full = cfg;
    full.upstream.api_key_env = Some("X".into());
    full.upstream.model = Some("m".into());
    let p = full.policies.get_mut("default").unwrap();
    p.refusal = Some("r".into());
    p.replacement = Some("r".into());
    p.output.hold_back_chars = Some(1);
    p.rate_limit = Some(RateLimitConfig {
        requests_per_minute: 1,
        burst: Some(1),
    });
    p.input.llm_judge = Some(LlmJudgeConfig {
        base_url: "http://x".into(),
        model: "m".into(),
        api_key_env: Some("Y".into()),
        budget_ms: 1,
        action: anquan_guard::config::Action::Block,
        on_timeout: anquan_guard::config::Action::Pass,
    });
    full.keys[0].user = Some("u".into());
    full.alerts[0].webhook = Some("http://x".into());
    let value = toml::Value::try_from(&full).unwrap();
    let mut all = BTreeSet::new();
    keys(&value, &mut all);
    let text = std::fs::read_to_string(&path).unwrap();
    let tenant_and_policy_names = ["default", "acme", "strict"];
    let missing: Vec<&String> = all
        .iter()
        .filter(|k| !tenant_and_policy_names.contains(&k.as_str()))
        .filter(|k| {
            !text.contains(&format!("{k} ="))
                && !text.contains(&format!(".{k}]"))
                && !text.contains(&format!("[{k}]"))
                && !text.contains(&format!("[{k}."))
                && !text.contains(&format!("[[{k}]]"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "keys not documented in examples/guard.toml: {missing:?}"
    );
}

#[test]
fn unknown_keys_and_bad_values_are_refused_naming_the_key() {
    let p = Path::new("guard.toml");
    let e =
        GuardConfig::parse("[upstream]\nbase-url = \"http://x\"\nbase-ulr = 1\n", p).unwrap_err();
    assert!(e.to_string().contains("base-ulr"), "{e}");
    let e = GuardConfig::parse(
        "[upstream]\nbase-url = \"http://x\"\n[[keys]]\nsha256 = \"abc\"\ntenant = \"default\"\n",
        p,
    )
    .unwrap_err();
    assert!(e.to_string().contains("keys[0].sha256"), "{e}");
    let e = GuardConfig::parse(
        "[upstream]\nbase-url = \"http://x\"\n[tenants.a]\npolicy = \"nope\"\n",
        p,
    )
    .unwrap_err();
    assert!(e.to_string().contains("tenants.a.policy"), "{e}");
}
