//! `anquan judge bench`: a judge against human labels.

use std::collections::BTreeMap;

use anquan::core::VerdictKind;
use anquan::detect::judge::{Expected, Judge, JudgeInput, KeywordJudge, PiiJudge, RefusalJudge};
use anquan::detect::keywords::{Library, STARTER_LIBRARY, Severity, starter_allow_list};
use anyhow::Context as _;

use crate::ExitStatus;
use crate::args::{Cli, ExpectArg, JudgeArgs, JudgeBenchArgs, JudgeCommand};
use crate::output::{Out, note, with_hint};

pub(crate) fn run(args: &JudgeArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    match &args.command {
        JudgeCommand::Bench(a) => bench(a, cli, out),
    }
}

/// Rows of (prompt, text, label) from CSV or JSONL; errors name the file and line.
fn read_rows(a: &JudgeBenchArgs) -> anyhow::Result<Vec<(Option<String>, String, String)>> {
    let path = &a.file;
    let shown = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
    let mut rows = Vec::new();
    let is_jsonl = path
        .extension()
        .is_some_and(|e| e == "jsonl" || e == "json");
    let cell = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    };
    if is_jsonl {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("{shown}:{}: not JSON", i + 1))?;
            let get = |col: &str| v.get(col).and_then(cell);
            let t = get(&a.text).with_context(|| {
                format!(
                    "{shown}:{}: no field {:?} (choose it with --text)",
                    i + 1,
                    a.text
                )
            })?;
            let l = get(&a.label).with_context(|| {
                format!(
                    "{shown}:{}: no field {:?} (choose it with --label)",
                    i + 1,
                    a.label
                )
            })?;
            rows.push((a.prompt.as_deref().and_then(get), t, l));
        }
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .with_context(|| format!("{shown}: no header row"))?
            .clone();
        let find = |col: &str, flag: &str| {
            headers.iter().position(|h| h == col).ok_or_else(|| {
                with_hint(
                    format!("{shown} has no column {col:?}"),
                    format!(
                        "choose one with {flag}; its columns are: {}",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        };
        let ti = find(&a.text, "--text")?;
        let li = find(&a.label, "--label")?;
        let pi = a
            .prompt
            .as_deref()
            .map(|p| find(p, "--prompt"))
            .transpose()?;
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.with_context(|| format!("{shown}: row {} is not valid CSV", i + 2))?;
            let get = |j: usize| rec.get(j).unwrap_or_default().to_owned();
            rows.push((pi.map(get), get(ti), get(li)));
        }
    }
    if let Some(n) = a.limit {
        rows.truncate(n);
    }
    Ok(rows)
}

#[derive(Debug, Default, serde::Serialize)]
struct Confusion {
    tp: u64,
    fp: u64,
    fn_: u64,
    tn: u64,
    unsure_pos: u64,
    unsure_neg: u64,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn bench(a: &JudgeBenchArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let rows = read_rows(a)?;
    if rows.is_empty() {
        anyhow::bail!("{} has no rows", a.file.display());
    }
    let mut values: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, _, l) in &rows {
        *values.entry(l.as_str()).or_default() += 1;
    }
    if a.positive.is_empty() {
        return Err(with_hint(
            "which label values mean positive (refused, or unsafe)?",
            format!(
                "pass --positive VALUE,…; the labels in {} are: {}",
                a.file.display(),
                values
                    .iter()
                    .map(|(v, n)| format!("{v} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let catalog = super::load_catalog(cli)?;
    let (kind, target) = match a.judge.split_once(':') {
        Some(("llm", t)) => ("llm", Some(t.to_owned())),
        _ => (a.judge.as_str(), None),
    };
    let expected = match (a.expect, kind) {
        (Some(ExpectArg::Refuse), _) | (None, "refusal") => Expected::Refuse,
        (Some(ExpectArg::Answer), _) => Expected::Answer,
        (Some(ExpectArg::SafeAnswer), _) | (None, _) => Expected::SafeAnswer,
    };
    // Positive = the judge says refused (refusal banks) or unsafe (content).
    let positive_kind = match expected {
        Expected::Refuse => VerdictKind::Safe,
        Expected::Answer | Expected::SafeAnswer => VerdictKind::Unsafe,
    };
    let rt = super::eval::runtime()?;
    let (conf, judge_tag) = rt.block_on(async {
        let (lib, _) = Library::parse_tsv(STARTER_LIBRARY);
        let engine = anquan::detect::Engine::new(&catalog, Some(lib), &starter_allow_list(), true);
        let judge: Box<dyn Judge + '_> = match kind {
            "refusal" => Box::new(RefusalJudge::new()),
            "keyword" => Box::new(KeywordJudge::new(&engine, Severity::Low)),
            "pii" => Box::new(PiiJudge::new(&engine)),
            "classifier" => Box::new(
                anquan::detect::classifier::ClassifierJudge::builtin(&catalog)
                    .map_err(|e| anyhow::anyhow!("the built-in classifier cannot load: {e}"))?,
            ),
            "llm" => {
                let cfg = super::eval::load_config(&a.store)?;
                let id = target.as_deref().unwrap_or_default();
                let client = anquan_llm::Client::new(cfg.target(id)?.clone())?;
                Box::new(
                    anquan_run::llm_judge::LlmJudge::new(
                        &catalog,
                        client,
                        tokio::runtime::Handle::current(),
                    )
                    .map_err(anyhow::Error::msg)?,
                )
            }
            other => anyhow::bail!(
                "unknown judge {other:?}; choose refusal, classifier, keyword, pii or llm:TARGET"
            ),
        };
        let tag = judge.tag();
        let mut c = Confusion::default();
        tokio::task::block_in_place(|| {
            for (prompt, text, label) in &rows {
                let v = judge.judge(&JudgeInput {
                    prompt: prompt.as_deref(),
                    response: text,
                    expected: Some(expected),
                });
                let truth = a.positive.iter().any(|p| p == label);
                match (v.kind, truth) {
                    (VerdictKind::Unsure, true) => c.unsure_pos += 1,
                    (VerdictKind::Unsure, false) => c.unsure_neg += 1,
                    (k, true) if k == positive_kind => c.tp += 1,
                    (k, false) if k == positive_kind => c.fp += 1,
                    (_, true) => c.fn_ += 1,
                    (_, false) => c.tn += 1,
                }
            }
        });
        anyhow::Ok((c, tag))
    })?;
    let decided = conf.tp + conf.fp + conf.fn_ + conf.tn;
    let precision = ratio(conf.tp, conf.tp + conf.fp);
    let recall = ratio(conf.tp, conf.tp + conf.fn_);
    let f1 = match (precision, recall) {
        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
        _ => None,
    };
    let accuracy = ratio(conf.tp + conf.tn, decided);
    let unsure = conf.unsure_pos + conf.unsure_neg;
    if cli.global.json {
        out.json_value(&serde_json::json!({
            "schema": "anquan.judge.bench.v1",
            "file": a.file.display().to_string(),
            "judge": judge_tag,
            "rows": rows.len(),
            "positive": a.positive,
            "confusion": conf,
            "precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy,
            "unsure": unsure,
        }));
        return Ok(ExitStatus::Success);
    }
    let f = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.3}"));
    out.line(format!(
        "{judge_tag} on {} ({} rows, positive = {})",
        a.file.display(),
        rows.len(),
        a.positive.join(", ")
    ));
    out.line(format!(
        "precision {}  recall {}  F1 {}  accuracy {}  (on {decided} decided; {unsure} unsure: {} positive, {} negative)",
        f(precision),
        f(recall),
        f(f1),
        f(accuracy),
        conf.unsure_pos,
        conf.unsure_neg
    ));
    out.line(crate::output::table(
        &["", "judged positive", "judged negative", "unsure"],
        &[
            vec![
                "labelled positive".into(),
                conf.tp.to_string(),
                conf.fn_.to_string(),
                conf.unsure_pos.to_string(),
            ],
            vec![
                "labelled negative".into(),
                conf.fp.to_string(),
                conf.tn.to_string(),
                conf.unsure_neg.to_string(),
            ],
        ],
    ));
    if unsure > 0 {
        note("unsure judgments are not in precision, recall or F1; they are counted apart");
    }
    Ok(ExitStatus::Success)
}
