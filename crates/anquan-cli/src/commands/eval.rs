//! `anquan eval`, `anquan report`, `anquan runs`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anquan::core::Lang;
use anquan_report::Format;
use anquan_run::{Caps, Config, JudgeSet, Progress, RunError};
use anquan_store::{SqliteStore, Store, TrialRecord};
use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::ExitStatus;
use crate::args::{Cli, EvalArgs, ReportArgs, ReportFormat, RunsArgs, StoreArgs};
use crate::output::{Out, note, warn, with_hint};

pub(crate) fn load_config(args: &StoreArgs) -> anyhow::Result<Config> {
    if !args.config.exists() {
        return Err(with_hint(
            format!("no configuration file at {}", args.config.display()),
            "create one with a [targets.<id>] table (base-url, model, api-key-env); \
             examples/anquan.toml documents every key, or pass --config FILE",
        ));
    }
    Ok(Config::load(&args.config)?)
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn open_store(cfg: &Config) -> anyhow::Result<SqliteStore> {
    Ok(SqliteStore::open(&cfg.store.path).await?)
}

struct Bar {
    bar: ProgressBar,
    fails: std::sync::atomic::AtomicU64,
    errors: std::sync::atomic::AtomicU64,
    /// stderr is not a terminal (a CI log, a pipe): print a line at every tenth instead of a bar.
    plain: bool,
}

impl Progress for Bar {
    fn start(&self, run_id: &str, total: u64, done: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
        self.bar
            .set_prefix(run_id.chars().take(8).collect::<String>());
        self.bar.reset_eta();
    }
    fn trial(&self, t: &TrialRecord) {
        use std::sync::atomic::Ordering::Relaxed;
        if t.status != "ok" {
            self.errors.fetch_add(1, Relaxed);
        } else if t.outcome.as_deref() == Some("fail") {
            self.fails.fetch_add(1, Relaxed);
        }
        self.bar.set_message(format!(
            "{} failed, {} errors",
            self.fails.load(Relaxed),
            self.errors.load(Relaxed)
        ));
        self.bar.inc(1);
        if self.plain
            && let Some(len) = self.bar.length()
        {
            let pos = self.bar.position();
            let step = (len / 10).max(1);
            if pos.is_multiple_of(step) || pos == len {
                note(&format!(
                    "progress: {pos}/{len} trials, {} failed, {} errors, {:.0?} elapsed",
                    self.fails.load(Relaxed),
                    self.errors.load(Relaxed),
                    self.bar.elapsed()
                ));
            }
        }
    }
    fn note(&self, message: &str) {
        self.bar.suspend(|| warn(message));
    }
}

/// The run's judges: the built-in ones, plus the LLM judge when a judge target is configured.
/// Call inside the runtime (the LLM judge keeps its handle).
pub(crate) fn judges(
    catalog: &anquan::catalog::Catalog,
    cfg: &Config,
    judge_target: Option<&str>,
    store: &SqliteStore,
) -> anyhow::Result<JudgeSet> {
    let set = JudgeSet::builtin(catalog);
    let Some(id) = judge_target.or(cfg.eval.judge_target.as_deref()) else {
        return Ok(set);
    };
    let client = anquan_llm::Client::new(cfg.target(id)?.clone())?;
    let judge =
        anquan_run::llm_judge::LlmJudge::new(catalog, client, tokio::runtime::Handle::current())
            .map_err(anyhow::Error::msg)?;
    let judge = judge.with_store(store.clone());
    Ok(set.with_llm_judge(Box::new(judge)))
}

pub(crate) fn run(args: &EvalArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    if args.list_attacks {
        for (id, about) in anquan_run::attacks::list(out.lang) {
            out.line(format!("{id:<24} {about}"));
        }
        return Ok(ExitStatus::Success);
    }
    let cfg = load_config(&args.store)?;
    let catalog = super::load_catalog(cli)?;
    let rt = runtime()?;
    rt.block_on(async {
        let store = open_store(&cfg).await?;
        let judges = judges(&catalog, &cfg, args.judge_target.as_deref(), &store)?;
        let tags = judges.tags();
        let new = match (&args.resume, &args.target) {
            (None, Some(target)) => Some(anquan_run::new_spec(
                &catalog,
                &cfg,
                &anquan_run::NewRun {
                    target_id: target.clone(),
                    banks: args.banks.clone(),
                    sample: args.sample,
                    seed: args.seed,
                    attacks: args.attacks.clone(),
                    cache: args.cache,
                },
            )
            .map(|(mut spec, banks)| {
                spec.judges = tags.clone();
                (spec, banks)
            })?),
            _ => None,
        };
        let prepared = anquan_run::prepare(&store, &cfg, new, args.resume.as_deref()).await?;
        // The budget, before anything is sent.
        let b = prepared.budget;
        let eta = match past_latency_ms(&store, &prepared.spec.target_id).await? {
            Some(ms) => {
                let secs = b.requests as f64 * ms / 1000.0 / b.concurrency.max(1) as f64;
                format!(
                    "about {} at the {:.1} s per answer this target took last time",
                    human_duration(secs),
                    ms / 1000.0
                )
            }
            None => "time unknown until the first answers (the progress bar shows the ETA)".into(),
        };
        note(&format!(
            "run {}: {} trials to run ({} planned, {} already committed), {} requests, up to {} tokens (estimated), {} at a time; {eta}",
            prepared.run_id, b.trials, prepared.planned, prepared.done, b.requests, b.tokens, b.concurrency
        ));
        for (bank, spec) in prepared.banks.iter().zip(&prepared.spec.banks) {
            let kind = bank.items[0].bank;
            if let Some(std_n) = anquan_run::plan::standard_sample(&catalog, kind)
                && spec.n < std_n
            {
                warn(&format!(
                    "{}: {} items drawn, fewer than the {std_n} the standard requires for the {} bank; its clauses will be inconclusive (fine for a trial run, not for a filing)",
                    bank.source,
                    spec.n,
                    kind.as_str()
                ));
            }
        }
        prepared.check_caps(Caps {
            max_requests: args.max_requests,
            max_tokens: args.max_tokens,
        })?;
        let run_id = prepared.run_id.clone();
        let bar = if args.quiet || cli.global.json {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(prepared.planned)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} trials, {msg}, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        let progress = Arc::new(Bar {
            bar: bar.clone(),
            fails: Default::default(),
            errors: Default::default(),
            plain: !args.quiet
                && !cli.global.json
                && !std::io::IsTerminal::is_terminal(&std::io::stderr()),
        });
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut run = std::pin::pin!(anquan_run::execute(
            store.clone(),
            &cfg,
            prepared,
            judges,
            progress,
            stop_rx,
        ));
        let mut interrupts = 0;
        let outcome = loop {
            tokio::select! {
                r = &mut run => break r,
                _ = tokio::signal::ctrl_c() => {
                    interrupts += 1;
                    if interrupts == 1 {
                        let _ = stop_tx.send(true);
                    } else {
                        bar.abandon();
                        anyhow::bail!(
                            "stopped at once; every committed trial is kept: resume with `anquan eval --resume {run_id}`"
                        );
                    }
                }
            }
        };
        bar.finish_and_clear();
        let outcome = match outcome {
            Err(RunError::TargetDown { target, detail }) => {
                return Err(with_hint(
                    format!("target {target} is not reachable: {detail}"),
                    "start the server or fix base-url in the configuration; nothing was sent",
                ));
            }
            r => r?,
        };
        let run = store
            .run(&outcome.run_id)
            .await?
            .context("the run vanished from the store")?;
        let trials = store.trials(&outcome.run_id).await?;
        let report = anquan_run::summary::build_report(&catalog, &run, &trials, &tags);
        if let Some(why) = &outcome.stopped_because {
            warn(&format!(
                "run {} stopped early: {why}. Committed trials are kept; continue with `anquan eval --resume {}`",
                outcome.run_id, outcome.run_id
            ));
        }
        if let Some(path) = &args.report {
            write_report(&report, path, None, out.lang)?;
            note(&format!("report written to {}", path.display()));
        }
        if cli.global.json {
            out.json_value(&serde_json::json!({
                "schema": "anquan.eval.v1",
                "outcome": outcome,
                "clauses": report.clauses,
            }));
        } else {
            print_clauses(out, &report);
            out.blank();
            out.line(format!(
                "{}: {} ({} / {} {}, {} {})",
                out.t("运行", "Run"),
                outcome.run_id,
                outcome.answered,
                outcome.planned,
                out.t("已回答", "answered"),
                outcome.errors,
                out.t("个错误", "errors"),
            ));
            out.line(format!(
                "{} anquan report {} --format html --output report.html",
                out.t("报告：", "Report:"),
                outcome.run_id
            ));
        }
        Ok(if anquan_run::summary::any_failed(&report) {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        })
    })
}

/// Mean answer time of the target's most recent run with answers, for the budget's time estimate.
async fn past_latency_ms(store: &SqliteStore, target_id: &str) -> anyhow::Result<Option<f64>> {
    for run in store.runs().await? {
        if run.target_id != target_id {
            continue;
        }
        let times: Vec<f64> = store
            .trials(&run.id)
            .await?
            .iter()
            .filter(|t| t.status == "ok")
            .filter_map(|t| t.total_ms)
            .collect();
        if !times.is_empty() {
            return Ok(Some(times.iter().sum::<f64>() / times.len() as f64));
        }
    }
    Ok(None)
}

fn human_duration(secs: f64) -> String {
    if secs < 90.0 {
        format!("{secs:.0} s")
    } else if secs < 5400.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

fn print_clauses(out: &mut Out, report: &anquan_report::Report) {
    let lang = out.lang;
    let rows: Vec<Vec<String>> = report
        .clauses
        .iter()
        .map(|c| {
            let verdict = match (c.verdict, lang) {
                (anquan_report::Verdict::Pass, Lang::Zh) => "符合",
                (anquan_report::Verdict::Fail, Lang::Zh) => "不符合",
                (anquan_report::Verdict::Inconclusive, Lang::Zh) => "无法判定",
                (anquan_report::Verdict::Pass, Lang::En) => "pass",
                (anquan_report::Verdict::Fail, Lang::En) => "fail",
                (anquan_report::Verdict::Inconclusive, Lang::En) => "inconclusive",
            };
            vec![
                c.clause_id.clone(),
                verdict.to_owned(),
                c.rate.map_or("-".into(), |r| format!("{:.1} %", r * 100.0)),
                format!("{} {:.0} %", c.op, c.threshold * 100.0),
                format!("{}+{}?", c.n, c.unsure),
                c.verification.clone(),
                c.reason.get(lang).to_owned(),
            ]
        })
        .collect();
    out.line(crate::output::table(
        &[
            out.t("条款", "clause"),
            out.t("结论", "verdict"),
            out.t("比率", "rate"),
            out.t("阈值", "threshold"),
            out.t("判定+存疑", "judged+unsure"),
            out.t("核实", "verified"),
            out.t("说明", "why"),
        ],
        &rows,
    ));
}

fn write_report(
    report: &anquan_report::Report,
    path: &Path,
    format: Option<Format>,
    lang: Lang,
) -> anyhow::Result<()> {
    let format = match format {
        Some(f) => f,
        None => match path.extension().and_then(|e| e.to_str()) {
            Some("md" | "markdown") => Format::Markdown,
            Some("json") => Format::Json,
            Some("html" | "htm") => Format::Html,
            _ => anyhow::bail!(
                "cannot tell the report format from {}; use .html, .md or .json",
                path.display()
            ),
        },
    };
    let text = anquan_report::render(report, format, lang);
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

pub(crate) fn report(args: &ReportArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let cfg = load_config(&args.store)?;
    let catalog = super::load_catalog(cli)?;
    let rt = runtime()?;
    rt.block_on(async {
        let store = open_store(&cfg).await?;
        let run = if args.run == "latest" {
            store.runs().await?.into_iter().next().ok_or_else(|| {
                with_hint(
                    "the store has no runs yet",
                    "run `anquan eval --target ID` first",
                )
            })?
        } else {
            store.run(&args.run).await?.ok_or_else(|| {
                with_hint(
                    format!("no run {:?} in {}", args.run, cfg.store.path.display()),
                    "`anquan runs` lists the runs",
                )
            })?
        };
        let trials = store.trials(&run.id).await?;
        // The run's spec records the judges it used; nothing to build here.
        let report = anquan_run::summary::build_report(&catalog, &run, &trials, &[]);
        let format = match args.format {
            ReportFormat::Html => Format::Html,
            ReportFormat::Md => Format::Markdown,
            ReportFormat::Json => Format::Json,
        };
        match &args.output {
            Some(path) => {
                write_report(&report, path, Some(format), out.lang)?;
                note(&format!("report written to {}", path.display()));
            }
            None => out.line(anquan_report::render(&report, format, out.lang)),
        }
        Ok(ExitStatus::Success)
    })
}

pub(crate) fn runs(args: &RunsArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let cfg = load_config(&args.store)?;
    let rt = runtime()?;
    rt.block_on(async {
        let store = open_store(&cfg).await?;
        let runs = store.runs().await?;
        if cli.global.json {
            out.json_value(&serde_json::json!({"schema": "anquan.runs.v1", "runs": runs}));
            return Ok(ExitStatus::Success);
        }
        let mut rows = Vec::new();
        for r in &runs {
            let trials = store.done_keys(&r.id).await?.len();
            rows.push(vec![
                r.id.clone(),
                r.created.clone(),
                r.status.clone(),
                r.target_id.clone(),
                trials.to_string(),
            ]);
        }
        if rows.is_empty() {
            out.line(out.t("还没有运行记录。", "No runs yet."));
        } else {
            out.line(crate::output::table(
                &["run", "started", "status", "target", "answered"],
                &rows,
            ));
        }
        Ok(ExitStatus::Success)
    })
}
