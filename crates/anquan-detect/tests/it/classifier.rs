//! The local classifier judge: it loads fast and matches its metadata, decides the fixture cases,
//! has an unsure band, is deterministic, survives hostile input, and beats its recorded floor and
//! the keyword judge on COLD dev. Figures: `cargo test -p anquan-detect --test it classifier --
//! --nocapture`.

use std::path::PathBuf;
use std::time::Instant;

use anquan_core::{Lang, Verdict, VerdictKind};
use anquan_detect::classifier::{Band, ClassifierJudge, Metadata, ZH_WEIGHTS};
use anquan_detect::judge::{Judge, JudgeInput, KeywordJudge};
use anquan_detect::keywords::{Library, STARTER_LIBRARY, Severity, starter_allow_list};
use anquan_detect::{Engine, registry};

use crate::{catalog, fixtures};

fn judge_text(j: &dyn Judge, text: &str) -> Verdict {
    j.judge(&JudgeInput {
        prompt: None,
        response: text,
        expected: None,
    })
}

/// COLD dev: (text, offensive).
fn cold_dev() -> Vec<(String, bool)> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/cold/dev.csv");
    let mut rdr = csv::Reader::from_path(&path).unwrap_or_else(|e| {
        panic!(
            "reads `{}` ({e}); CI places shared/ beside the clone",
            path.display()
        )
    });
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (label, text) = (col("label"), col("TEXT"));
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[text].to_owned(), &r[label] == "1")
        })
        .collect()
}

#[test]
fn builtin_model_loads_fast_and_matches_its_metadata() {
    let c = catalog();
    let started = Instant::now();
    let judge = ClassifierJudge::builtin(&c).unwrap();
    let load = started.elapsed();
    #[expect(clippy::print_stdout, reason = "the load time is a measured figure")]
    {
        println!(
            "classifier judge: built-in model loaded in {:.2} ms ({} bytes of weights)",
            load.as_secs_f64() * 1000.0,
            ZH_WEIGHTS.len()
        );
    }
    assert!(load.as_millis() < 1000, "loading took {load:?}");
    let meta = Metadata::builtin_zh().unwrap();
    let needed: usize = meta.heads.iter().map(|h| 1usize << h.buckets_log2).sum();
    assert_eq!(needed, ZH_WEIGHTS.len(), "heads cover the weights exactly");
    assert!(ZH_WEIGHTS.len() < 1_500_000, "weights stay small");
    assert_eq!(meta.judge, judge.tag());
    let info = registry::all()
        .into_iter()
        .find(|d| d.id == judge.id())
        .expect("registered");
    assert_eq!(info.version, judge.version());
    for h in &meta.heads {
        if let Some(r) = &h.risk_id {
            assert!(c.risk(r).is_some(), "head {}: unknown risk {r}", h.name);
            assert!(info.risk_ids.contains(&r.as_str()), "registry lists {r}");
        }
    }
    assert!(
        info.risk_ids
            .contains(&meta.decision.default_risk_id.as_str())
    );
}

#[test]
fn fixture_cases() {
    let c = catalog();
    let judge = ClassifierJudge::builtin(&c).unwrap();
    let text = std::fs::read_to_string(fixtures().join("classifier_judge/cases.jsonl")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let response = v["response"].as_str().unwrap();
        let verdict = judge_text(&judge, response);
        let expected = match v["expected"].as_str().unwrap() {
            "unsafe" => VerdictKind::Unsafe,
            "safe" => VerdictKind::Safe,
            _ => VerdictKind::Unsure,
        };
        assert_eq!(verdict.kind, expected, "{response}: {verdict:?}");
        assert_eq!(verdict.judge, "classifier_judge@1");
        assert!((0.0..=1.0).contains(&verdict.confidence));
        match verdict.kind {
            VerdictKind::Unsafe => {
                assert!(!verdict.risk_ids.is_empty(), "{response}");
                assert!(!verdict.evidence.is_empty(), "{response}");
            }
            VerdictKind::Safe => assert!(verdict.evidence.is_empty()),
            VerdictKind::Unsure => assert!(verdict.risk_ids.is_empty()),
        }
        for r in &verdict.risk_ids {
            assert!(c.risk(r.as_str()).is_some(), "{r}");
        }
        for f in &verdict.evidence {
            assert_eq!(
                f.span.slice(response),
                Some(f.matched.as_str()),
                "evidence spans point at the original text"
            );
        }
        out.push_str(&format!(
            "{response} | {:?} {:?} {:.2} | {}\n",
            verdict.kind,
            verdict
                .risk_ids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            verdict.confidence,
            verdict
                .evidence
                .iter()
                .map(|f| format!("{}..{} {}", f.span.start, f.span.end, f.matched))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    insta::assert_snapshot!("classifier_judge__cases", out);
}

#[test]
fn the_unsure_band_comes_from_the_metadata_and_is_used() {
    let c = catalog();
    let judge = ClassifierJudge::builtin(&c).unwrap();
    let meta = Metadata::builtin_zh().unwrap();
    let band = judge.band();
    assert_eq!(
        (band.t_lo, band.t_hi),
        (meta.decision.t_lo, meta.decision.t_hi)
    );
    assert!(0.0 < band.t_lo && band.t_lo < 0.5 && 0.5 < band.t_hi && band.t_hi < 1.0);
    let sample: Vec<(String, bool)> = cold_dev().into_iter().step_by(10).collect();
    let count = |j: &ClassifierJudge, kind: VerdictKind| {
        sample
            .iter()
            .filter(|(t, _)| judge_text(j, t).kind == kind)
            .count()
    };
    let unsure = count(&judge, VerdictKind::Unsure);
    assert!(
        unsure > sample.len() / 20 && unsure < sample.len() / 2,
        "{unsure} of {} unsure",
        sample.len()
    );
    // Every unsure verdict is one whose probability lies inside the band.
    // (Rows with too few CJK characters have no model and are unsure too.)
    for (t, _) in &sample {
        let in_band = judge.score(t).is_none_or(|s| {
            let p = f64::from(s.p_unsafe);
            band.t_lo < p && p < band.t_hi
        });
        assert_eq!(
            judge_text(&judge, t).kind == VerdictKind::Unsure,
            in_band,
            "{t}"
        );
    }
    // A band of zero width decides everything; a wider one leaves more unsure.
    let no_band = judge.clone().with_band(Band {
        t_lo: 0.5,
        t_hi: 0.5,
    });
    assert_eq!(count(&no_band, VerdictKind::Unsure), 0);
    let wide = judge.with_band(Band {
        t_lo: 0.1,
        t_hi: 0.9,
    });
    assert!(count(&wide, VerdictKind::Unsure) > unsure);
}

#[test]
fn verdicts_are_deterministic() {
    let c = catalog();
    let a = ClassifierJudge::builtin(&c).unwrap();
    let b = ClassifierJudge::builtin(&c).unwrap();
    for (t, _) in cold_dev().into_iter().step_by(25) {
        let first = judge_text(&a, &t);
        assert_eq!(first, judge_text(&a, &t), "{t}");
        assert_eq!(first, judge_text(&b, &t), "{t}");
    }
}

#[test]
fn hostile_input_never_panics() {
    let c = catalog();
    let judge = ClassifierJudge::builtin(&c).unwrap();
    let big = "黑人都是\u{200b}骗子 ＡＢＣ é \u{301}".repeat(40_000);
    let odd = "\u{301}\u{0}\u{7}😀\u{e000}\u{fffd}赌\u{301}博";
    for text in [big.as_str(), odd, " ", "\n\n\t", "中"] {
        let v = judge_text(&judge, text);
        for f in &v.evidence {
            assert_eq!(f.span.slice(text), Some(f.matched.as_str()));
        }
    }
    // A language without a model: unsure, with no confidence.
    let v = judge_text(&judge, "You people are all idiots.");
    assert_eq!((v.kind, v.confidence), (VerdictKind::Unsure, 0.0));
}

#[test]
fn accuracy_on_cold_dev_beats_the_floor_and_the_keyword_judge() {
    let c = catalog();
    let judge = ClassifierJudge::builtin(&c).unwrap();
    let meta = Metadata::builtin_zh().unwrap();
    let (lib, problems) = Library::parse_tsv(STARTER_LIBRARY);
    assert!(problems.is_empty());
    let engine = Engine::new(&c, Some(lib), &starter_allow_list(), false);
    let keyword = KeywordJudge::new(&engine, Severity::Low);
    let model = judge.model(Lang::Zh).unwrap();
    let dev = cold_dev();
    let n = dev.len() as f64;
    let no_model = dev.iter().filter(|(t, _)| judge.score(t).is_none()).count();
    let (mut forced_ok, mut decided, mut decided_ok, mut verdict_ok, mut keyword_ok) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    for (text, offensive) in &dev {
        // The Chinese model on every row, as the trainer measured it.
        let p = model.score(text).p_unsafe;
        forced_ok += usize::from((p >= 0.5) == *offensive);
        let v = judge_text(&judge, text);
        if v.kind != VerdictKind::Unsure {
            decided += 1;
            let right = (v.kind == VerdictKind::Unsafe) == *offensive;
            decided_ok += usize::from(right);
            verdict_ok += usize::from(right);
        }
        keyword_ok +=
            usize::from((judge_text(&keyword, text).kind == VerdictKind::Unsafe) == *offensive);
    }
    let forced = forced_ok as f64 / n;
    let kw = keyword_ok as f64 / n;
    let with_unsure_wrong = verdict_ok as f64 / n;
    let on_decided = decided_ok as f64 / decided.max(1) as f64;
    #[expect(
        clippy::print_stdout,
        reason = "the measured figures are the point of this test"
    )]
    {
        println!(
            "classifier judge on COLD dev ({} rows): accuracy {forced:.3} at p >= 0.5; \
             {on_decided:.3} on the {decided} decided rows ({:.1} % unsure); {with_unsure_wrong:.3} \
             counting unsure as wrong ({no_model} rows have too little Chinese for the judge). \
             Keyword judge (starter, >= low): {kw:.3}. Floor: {}",
            dev.len(),
            100.0 * (1.0 - decided as f64 / n),
            meta.eval.accuracy_floor
        );
    }
    assert_eq!(
        dev.len(),
        meta.eval.data.rows,
        "the split the floor was measured on"
    );
    assert!(
        forced >= meta.eval.accuracy_floor,
        "accuracy {forced:.3} fell below the recorded floor {}",
        meta.eval.accuracy_floor
    );
    assert!(
        (forced - meta.eval.forced.accuracy).abs() < 0.0001,
        "the judge gives what the trainer measured: {forced:.4} vs {}",
        meta.eval.forced.accuracy
    );
    assert!(
        forced > kw + 0.2,
        "well above keywords: {forced:.3} vs {kw:.3}"
    );
    assert!(
        with_unsure_wrong > kw,
        "even counting unsure as wrong: {with_unsure_wrong:.3} vs {kw:.3}"
    );
    assert!(on_decided >= meta.decision.target_precision - 0.01);
}
