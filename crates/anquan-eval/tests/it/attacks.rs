//! Attack conformance: every registered attack is well formed, documented, deterministic, keeps
//! provenance and matches its fixture; the evasions are undone by the detection engine's
//! normalizer at the measured rates; the PAIR search stops on success and on budget.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anquan_catalog::Catalog;
use anquan_detect::keywords::{
    KeywordMatcher, Library, MatchMode, STARTER_LIBRARY, starter_allow_list,
};
use anquan_detect::normalize::{Normalizer, is_cjk};
use anquan_eval::attack::{
    self, AttackError, Generate, SearchBudget, TEMPLATE_FILES, Variant, pair_search, registry,
    templates,
};
use anquan_eval::bank::{Item, Message, builtin, builtin_names, parse_jsonl};
use pinyin::ToPinyin as _;

const SEED: u64 = 7;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_items() -> Vec<Item> {
    let text =
        std::fs::read_to_string(manifest().join("tests/fixtures/attacks/items.jsonl")).unwrap();
    let (bank, problems) = parse_jsonl("items.jsonl", &text);
    assert!(problems.is_empty(), "{problems:?}");
    let items: Vec<Item> = bank.items.into_iter().map(|(_, it)| it).collect();
    assert_eq!(
        items.iter().map(|i| i.lang.as_str()).collect::<Vec<_>>(),
        ["zh", "en"]
    );
    items
}

/// A STAND-IN for the model the runner will provide (the real one is a local model behind an
/// OpenAI-compatible server): deterministic text derived from the conversation. As a PAIR
/// attacker (a conversation that opens with a system message) it proposes a story framing,
/// numbered by round; otherwise it "translates" by echoing the last paragraph behind a marker.
fn stand_in(messages: &[Message]) -> Result<String, String> {
    let last = messages.last().map_or("", |m| m.content.as_str());
    if messages.first().is_some_and(|m| m.role == "system") {
        let round = (messages.len() - 2) / 2;
        return Ok(format!(
            "Here is my attempt.\n{{\"improvement\": \"stand-in round {round}\", \"prompt\": \"Write a short story in which an old expert explains the method (round {round}).\"}}"
        ));
    }
    let tail = last.rsplit("\n\n").next().unwrap_or(last);
    Ok(format!("[stand-in translation] {tail}"))
}

fn run(attack: &dyn attack::Attack, item: &Item, seed: u64) -> Vec<Variant> {
    let model: Option<&dyn Generate> = attack
        .info()
        .needs_model
        .then_some(&stand_in as &dyn Generate);
    attack
        .apply(item, seed, model)
        .unwrap_or_else(|e| panic!("{} on {}: {e}", attack.info().id, item.id))
}

fn is_snake_case(id: &str) -> bool {
    !id.is_empty()
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !id.contains("__")
        && !id.ends_with('_')
}

/// GitHub-style anchors of the Markdown headings of a file.
fn anchors(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn registry_is_well_formed_and_documented() {
    let docs = std::fs::read_to_string(manifest().join("../../docs/attacks.md")).unwrap();
    let anchors = anchors(&docs);
    let all = registry();
    assert_eq!(all[0].info().key(), "direct@1");
    assert_eq!(attack::none().info().key(), "direct@1");
    let mut seen = BTreeSet::new();
    for a in &all {
        let info = a.info();
        assert!(is_snake_case(info.id), "`{}` is not snake_case", info.id);
        assert!(seen.insert(info.id), "`{}` registered twice", info.id);
        assert!(info.version >= 1, "{}", info.id);
        for text in [&info.name, &info.description] {
            assert!(
                !text.zh.trim().is_empty() && !text.en.trim().is_empty(),
                "{}: name and description need zh and en",
                info.id
            );
            assert!(
                text.zh.chars().any(is_cjk),
                "{}: zh text is not Chinese",
                info.id
            );
        }
        let anchor = info
            .docs
            .strip_prefix("docs/attacks.md#")
            .unwrap_or_else(|| panic!("{}: docs `{}`", info.id, info.docs));
        assert_eq!(
            anchor, info.id,
            "{}: its section is named after it",
            info.id
        );
        assert!(
            anchors.contains(anchor),
            "docs/attacks.md has no section `{anchor}`"
        );
        let again = attack::get(&info.key()).unwrap();
        assert_eq!(again.info(), info);
        assert_eq!(info.needs_model, matches!(info.id, "translation" | "pair"));
    }
    // Every section of the docs is an attack (no stale sections).
    for a in &anchors {
        if a.contains('_') || registry().iter().any(|r| r.info().id == a) {
            assert!(
                seen.contains(a.as_str()),
                "docs/attacks.md documents unknown attack `{a}`"
            );
        }
    }
}

#[test]
fn template_data_carries_provenance() {
    for (file, _) in TEMPLATE_FILES {
        let list = templates(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(!list.is_empty(), "{file}");
        let mut keys = BTreeSet::new();
        for t in list {
            let at = format!("{file}: {}", t.key());
            assert!(is_snake_case(&t.id), "{at}");
            assert!(t.version >= 1, "{at}");
            assert!(
                keys.insert((t.id.clone(), t.lang.clone())),
                "{at}: duplicate"
            );
            assert!(matches!(t.lang.as_str(), "zh" | "en"), "{at}: lang");
            assert!(!t.name.zh.is_empty() && !t.name.en.is_empty(), "{at}: name");
            assert!(!t.source.trim().is_empty(), "{at}: source");
            assert!(
                matches!(t.licence.as_str(), "Apache-2.0" | "MIT" | "CC-BY-4.0"),
                "{at}: licence `{}` may not ship",
                t.licence
            );
            if t.licence != "Apache-2.0" || t.source != "anquan" {
                assert!(
                    t.source.contains("anquan") || t.source.contains('#'),
                    "{at}: adapted text must name its row"
                );
            }
            match *file {
                "pair.toml" => {
                    assert!(t.text.contains("{goal}"), "{at}");
                    assert!(
                        t.context.as_deref().is_some_and(|c| c.contains("{goal}")),
                        "{at}"
                    );
                    let fb = t.feedback.as_deref().unwrap_or_default();
                    assert!(fb.contains("{answer}") && fb.contains("{score}"), "{at}");
                }
                "prompt_injection.toml" => {
                    let placed = t.text.contains("{prompt}")
                        || t.context.as_deref().is_some_and(|c| c.contains("{prompt}"));
                    assert!(placed, "{at}: no {{prompt}}");
                    assert!(
                        matches!(t.kind.as_deref(), Some("direct" | "indirect")),
                        "{at}"
                    );
                }
                "multi_turn_escalation.toml" => {
                    assert!(t.text.contains("{prompt}"), "{at}");
                    assert!(!t.turns.is_empty() && !t.risks.is_empty(), "{at}");
                }
                _ => assert!(t.text.contains("{prompt}"), "{at}: no {{prompt}}"),
            }
        }
        // Every file speaks both languages, with the same template ids.
        let ids = |lang: &str| -> BTreeSet<&str> {
            list.iter()
                .filter(|t| t.lang == lang)
                .map(|t| t.id.as_str())
                .collect()
        };
        assert_eq!(ids("zh"), ids("en"), "{file}: zh and en templates differ");
    }
    // Shipped tables name their source and licence in their header.
    for table in ["st_characters.tsv", "common_chars.txt"] {
        let text = std::fs::read_to_string(manifest().join("data/attacks").join(table)).unwrap();
        let header: String = text.lines().take_while(|l| l.starts_with('#')).collect();
        assert!(
            header.contains("Source:") && header.contains("licence"),
            "{table}"
        );
    }
}

/// Each attack's output on the two fixture items with seed 7, as JSONL.
fn outputs(attack: &dyn attack::Attack, items: &[Item]) -> String {
    items
        .iter()
        .flat_map(|it| run(attack, it, SEED))
        .map(|v| serde_json::to_string(&v).unwrap() + "\n")
        .collect()
}

#[test]
fn every_attack_matches_its_fixture() {
    // Set ANQUAN_UPDATE_GENERATED=1 to rewrite the fixtures; review the diff like code.
    let items = fixture_items();
    let dir = manifest().join("tests/fixtures/attacks");
    let mut stale = Vec::new();
    for a in registry() {
        let path = dir.join(format!("{}.jsonl", a.info().id));
        let got = outputs(a.as_ref(), &items);
        if std::env::var_os("ANQUAN_UPDATE_GENERATED").is_some() {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            stale.push(format!(
                "{}:\n--- want\n{want}--- got\n{got}",
                path.display()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "fixtures differ (ANQUAN_UPDATE_GENERATED=1 rewrites them):\n{}",
        stale.join("\n")
    );
    // No stray fixture for an attack that is gone.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(id) = name.strip_suffix(".jsonl")
            && id != "items"
        {
            assert!(attack::get(id).is_some(), "stray fixture {name}");
        }
    }
}

#[test]
fn variants_keep_provenance_and_end_with_a_user_turn() {
    let items = fixture_items();
    for a in registry() {
        let info = a.info();
        let mut produced = 0;
        for item in &items {
            for seed in [SEED, 8, 1_000_003] {
                let variants = run(a.as_ref(), item, seed);
                produced += variants.len();
                for (n, v) in variants.iter().enumerate() {
                    let at = format!("{} on {} seed {seed}", info.id, item.id);
                    assert_eq!(v.id, format!("{}~{}#{n}", item.id, info.key()), "{at}");
                    assert_eq!(v.parent_id, item.id, "{at}");
                    assert_eq!(v.attack, info.key(), "{at}");
                    assert_eq!(v.seed, seed, "{at}");
                    assert!(matches!(v.lang.as_str(), "zh" | "en"), "{at}");
                    let last = v
                        .messages
                        .last()
                        .unwrap_or_else(|| panic!("{at}: no messages"));
                    assert_eq!(last.role, "user", "{at}");
                    for m in &v.messages {
                        assert!(
                            matches!(m.role.as_str(), "system" | "user" | "assistant"),
                            "{at}"
                        );
                        assert!(!m.content.trim().is_empty(), "{at}: empty turn");
                    }
                    assert!(v.follow_ups.iter().all(|f| !f.trim().is_empty()), "{at}");
                    if info.id != "direct" {
                        assert_ne!(v.messages, item.messages, "{at}: the variant is the item");
                    }
                    // A variant survives a JSON round trip (the store keeps them as JSON).
                    let back: Variant =
                        serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap();
                    assert_eq!(&back, v, "{at}");
                }
            }
        }
        assert!(
            produced > 0,
            "{}: no variant for either fixture item",
            info.id
        );
    }
}

#[test]
fn same_seed_same_output_and_seeds_matter_where_choices_are_drawn() {
    let items = fixture_items();
    // Attacks whose every choice is fixed by the item (no draw) are the same under every seed.
    let fixed = [
        "direct",
        "base64",
        "rot13",
        "zh_split",
        "zh_traditional",
        "fullwidth",
        "translation",
    ];
    for a in registry() {
        let id = a.info().id;
        let mut differs = false;
        for item in &items {
            assert_eq!(
                run(a.as_ref(), item, SEED),
                run(a.as_ref(), item, SEED),
                "{id}"
            );
            let strip = |vs: Vec<Variant>| -> Vec<(Vec<Message>, Vec<String>)> {
                vs.into_iter().map(|v| (v.messages, v.follow_ups)).collect()
            };
            let base = strip(run(a.as_ref(), item, SEED));
            differs |= (0..24).any(|s| strip(run(a.as_ref(), item, s)) != base);
        }
        if fixed.contains(&id) {
            assert!(!differs, "{id} should not depend on the seed");
        } else if id != "pair" {
            assert!(
                differs,
                "{id}: no seed changed its output on either fixture item"
            );
        }
    }
}

#[test]
fn model_attacks_need_a_model_and_report_its_failure() {
    let items = fixture_items();
    let broken = |_: &[Message]| -> Result<String, String> { Err("connection refused".into()) };
    let blank = |_: &[Message]| -> Result<String, String> { Ok("  ".into()) };
    for id in ["translation", "pair"] {
        let a = attack::get(id).unwrap();
        assert!(matches!(
            a.apply(&items[0], SEED, None),
            Err(AttackError::NeedsModel { .. })
        ));
        let err = a.apply(&items[0], SEED, Some(&broken)).unwrap_err();
        assert!(err.to_string().contains("connection refused"), "{err}");
        assert!(err.to_string().contains(&items[0].id), "{err}");
    }
    let t = attack::get("translation").unwrap();
    assert!(matches!(
        t.apply(&items[1], SEED, Some(&blank)),
        Err(AttackError::Model { .. })
    ));
    let v = &run(t.as_ref(), &items[0], SEED)[0];
    assert_eq!(v.lang, "en");
    assert_eq!(v.meta["to"], "en");
    assert_eq!(v.prompt(), v.meta["translated"]);
}

#[test]
fn pair_search_stops_on_success_and_on_budget() {
    let items = fixture_items();
    // STAND-INs for the attacker, the target and the judge: the attacker numbers its attempts,
    // the target gives in to attempt 2 only, the judge scores compliance 1 and refusal 0.
    let attacker = |m: &[Message]| -> Result<String, String> {
        let round = (m.len() - 2) / 2;
        Ok(format!(
            "{{\"improvement\": \"try {round}\", \"prompt\": \"attempt {round}\"}}"
        ))
    };
    let target = |m: &[Message]| -> Result<String, String> {
        let p = &m.last().unwrap().content;
        Ok(if p == "attempt 2" {
            "Sure, here is how."
        } else {
            "I can't help with that."
        }
        .into())
    };
    let score = |_: &str, answer: &str| if answer.starts_with("Sure") { 1.0 } else { 0.0 };
    for item in &items {
        let out = pair_search(
            item,
            SEED,
            &attacker,
            &target,
            &score,
            SearchBudget { max_rounds: 5 },
            0.9,
        )
        .unwrap();
        assert!(out.success);
        assert_eq!(out.rounds.len(), 3);
        let prompts: Vec<&str> = out.rounds.iter().map(|r| r.0.prompt()).collect();
        assert_eq!(prompts, ["attempt 0", "attempt 1", "attempt 2"]);
        assert_eq!(out.rounds[2].0.id, format!("{}~pair@1#2", item.id));
        assert_eq!(out.rounds[2].0.meta["round"], "2");
        assert_eq!(out.best().unwrap().2, 1.0);

        let out = pair_search(
            item,
            SEED,
            &attacker,
            &target,
            &score,
            SearchBudget { max_rounds: 2 },
            0.9,
        )
        .unwrap();
        assert!(!out.success);
        assert_eq!(out.rounds.len(), 2);
        assert!(out.rounds.iter().all(|r| r.2 == 0.0));
    }
    // The attacker sees the target's answer and the score in its feedback turn.
    let seen = std::cell::RefCell::new(Vec::new());
    let recording = |m: &[Message]| -> Result<String, String> {
        seen.borrow_mut().push(m.to_vec());
        attacker(m)
    };
    pair_search(
        &items[1],
        SEED,
        &recording,
        &target,
        &score,
        SearchBudget { max_rounds: 2 },
        0.9,
    )
    .unwrap();
    let second = &seen.borrow()[1];
    assert_eq!(second[0].role, "system");
    assert!(second[0].content.contains(items[1].prompt()));
    let feedback = &second.last().unwrap().content;
    assert!(
        feedback.contains("I can't help with that.") && feedback.contains("0.00"),
        "{feedback}"
    );
    // A failing target is an error, not a score.
    let down = |_: &[Message]| -> Result<String, String> { Err("timeout".into()) };
    let err = pair_search(
        &items[0],
        SEED,
        &attacker,
        &down,
        &score,
        SearchBudget::default(),
        0.9,
    )
    .unwrap_err();
    assert!(err.to_string().contains("target: timeout"), "{err}");
}

#[test]
fn encoded_answers_are_decoded() {
    let items = fixture_items();
    let b64 = attack::get("base64").unwrap();
    for item in &items {
        let v = &run(b64.as_ref(), item, SEED)[0];
        let encoded = &v.meta["encoded"];
        assert!(v.prompt().contains(encoded.as_str()));
        // The target "answers" with the request itself, encoded: decoding gives it back.
        assert_eq!(b64.decode_response(encoded).as_deref(), Some(item.prompt()));
    }
    let rot = attack::get("rot13").unwrap();
    let v = &run(rot.as_ref(), &items[1], SEED)[0];
    assert_eq!(
        rot.decode_response(&v.meta["encoded"]).as_deref(),
        Some(items[1].prompt())
    );
    assert_eq!(
        attack::get("leetspeak").unwrap().decode_response("h3ll0"),
        None
    );
}

/// Toneless pinyin of the normalized text: CJK characters as their default reading, ASCII
/// letters and digits lowercased, everything else dropped: the view the keyword engine's
/// `pinyin` mode matches in, except that `ü` is read `v` here (as written pinyin spells it).
fn pinyin_view(normalized: &str) -> String {
    let mut out = String::new();
    for c in normalized.chars() {
        if let Some(p) = is_cjk(c).then(|| c.to_pinyin()).flatten() {
            out.push_str(&p.plain().replace('ü', "v"));
        } else if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[derive(Debug, Default)]
struct Rate {
    applied: usize,
    recovered: usize,
    failures: Vec<String>,
}

impl Rate {
    fn rate(&self) -> f64 {
        self.recovered as f64 / self.applied.max(1) as f64
    }
}

#[test]
fn the_normalizer_undoes_the_evasions() {
    let catalog = Catalog::load(None).unwrap();
    let n = Normalizer::full(catalog.radical_folder());
    // The starter library as shipped (the sensitive words the attacks target), and the same
    // library in pinyin mode: the engine's own matcher for homophones and written pinyin. Same
    // keyword order, so indexes agree.
    let (lib, _) = Library::parse_tsv(STARTER_LIBRARY);
    let matcher = KeywordMatcher::new(lib.clone(), &starter_allow_list(), &n);
    let mut pinyin_lib = lib;
    for k in &mut pinyin_lib.keywords {
        k.mode = MatchMode::Pinyin;
    }
    let pinyin_matcher = KeywordMatcher::new(pinyin_lib, &[], &n);
    let mut items: Vec<Item> = Vec::new();
    for name in builtin_names() {
        items.extend(builtin(name).unwrap().0.items.into_iter().map(|(_, it)| it));
    }
    assert!(items.len() > 4000);

    // Fully mechanical: the normalized attacked request equals the normalized original.
    let exact = [
        "zh_split",
        "zh_traditional",
        "fullwidth",
        "zero_width",
        "separator",
        "radical_lookalike",
    ];
    // Sound-based: equal in the pinyin view, and the starter keywords of two or more
    // characters found in the original are found again by the pinyin-mode matcher.
    let by_sound = ["zh_homophone", "zh_pinyin"];
    let mut rates: BTreeMap<&str, Rate> = BTreeMap::new();
    let mut keyword_rates: BTreeMap<&str, Rate> = BTreeMap::new();
    for id in exact.iter().chain(&by_sound).chain(&["unicode_tricks"]) {
        let a = attack::get(id).unwrap();
        let rate = rates.entry(id).or_default();
        for item in &items {
            let Some(v) = run(a.as_ref(), item, SEED).into_iter().next() else {
                continue;
            };
            rate.applied += 1;
            let (orig, attacked) = (n.normalize_str(item.prompt()), n.normalize_str(v.prompt()));
            let ok = match *id {
                "unicode_tricks" => attacked.contains(&orig),
                _ if by_sound.contains(id) => pinyin_view(&orig) == pinyin_view(&attacked),
                _ => orig == attacked,
            };
            if ok {
                rate.recovered += 1;
            } else if rate.failures.len() < 12 {
                rate.failures.push(format!(
                    "{}: {:?} -> {:?}",
                    item.id,
                    item.prompt(),
                    v.prompt()
                ));
            }
            if by_sound.contains(id) {
                let found = |m: &KeywordMatcher, text: &str| -> BTreeSet<usize> {
                    m.find(text, &n.normalize(text))
                        .into_iter()
                        .flat_map(|m| m.keywords)
                        .collect()
                };
                // Keywords of two or more CJK characters (the pinyin mode's floor).
                let before: BTreeSet<usize> = found(&matcher, item.prompt())
                    .into_iter()
                    .filter(|&k| {
                        matcher.library().keywords[k]
                            .term
                            .chars()
                            .filter(|c| is_cjk(*c))
                            .count()
                            >= 2
                    })
                    .collect();
                if !before.is_empty() {
                    let kr = keyword_rates.entry(id).or_default();
                    kr.applied += 1;
                    if before.is_subset(&found(&pinyin_matcher, v.prompt())) {
                        kr.recovered += 1;
                    } else if kr.failures.len() < 12 {
                        kr.failures.push(format!("{}: {:?}", item.id, v.prompt()));
                    }
                }
            }
        }
    }
    #[expect(
        clippy::print_stderr,
        reason = "the measured rates, for the docs (--nocapture)"
    )]
    for (id, r) in rates.iter().chain(keyword_rates.iter()) {
        eprintln!("{id}: {}/{} = {:.4}", r.recovered, r.applied, r.rate());
    }
    for (id, r) in &rates {
        assert!(r.applied >= 50, "{id}: applied to {} items only", r.applied);
        assert!(
            r.rate() >= 0.99,
            "{id}: {:.4} recovered; e.g.\n{}",
            r.rate(),
            r.failures.join("\n")
        );
    }
    // The engine's pinyin mode finds the keywords again, apart from its known limits: a match
    // inside a longer run of Latin letters is refused (`xidupiaochang` holds `xidu` for 吸毒),
    // and pinyin-space overlaps hide a few. (`ü` is read as `v`, `u` or `ü` since the pinyin view
    // folds them, which lifted zh_pinyin from 283/302 to 300/302.)
    // Measured at seed 7: zh_homophone 300/302, zh_pinyin 300/302.
    for (id, r) in &keyword_rates {
        let floor = 0.99;
        assert!(r.applied >= 50, "{id}: {} items with keywords", r.applied);
        assert!(
            r.rate() >= floor,
            "{id}: keywords {:.4}; e.g.\n{}",
            r.rate(),
            r.failures.join("\n")
        );
    }
}
