//! The runner: sends planned trials to the target with bounded concurrency, judges the answers,
//! and commits them to the ledger in small transactions. Crash-safe: a trial exists in the ledger
//! only once committed, keys make commits idempotent, and `--resume` re-plans the same trials and
//! skips the committed ones.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use anquan_catalog::Catalog;
use anquan_llm::{ChatResponse, Client, LlmError, Message};
use anquan_store::{RunRecord, Store, TrialRecord};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::judges::JudgeSet;
use crate::plan::{self, LoadedBank, PlannedTrial, Spec};
use crate::{Config, RunError, now_rfc3339};

/// Reports progress; the CLI draws a bar from it.
pub trait Progress: Send + Sync {
    /// The run starts: `total` trials planned, `done` already committed (resume).
    fn start(&self, run_id: &str, total: u64, done: u64);
    /// A trial was committed.
    fn trial(&self, trial: &TrialRecord);
    /// A line worth showing (a warning, a pause).
    fn note(&self, message: &str);
}

/// A `Progress` that ignores everything.
#[derive(Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &str, _: u64, _: u64) {}
    fn trial(&self, _: &TrialRecord) {}
    fn note(&self, _: &str) {}
}

/// Caps checked against the budget before anything is sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    /// Most requests the run may send.
    pub max_requests: Option<u64>,
    /// Most tokens (estimated: prompt + max answer) the run may use.
    pub max_tokens: Option<u64>,
}

/// The pre-run budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Budget {
    /// Trials to run (not yet committed).
    pub trials: u64,
    /// Requests to send (multi-turn trials send several).
    pub requests: u64,
    /// Upper estimate of tokens: prompt estimate plus the answer cap, per request.
    pub tokens: u64,
    /// Requests in flight at once.
    pub concurrency: u64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunOutcome {
    /// Run id.
    pub run_id: String,
    /// `complete`, `partial` (some trials errored), `interrupted`, `failed`.
    pub status: String,
    /// Trials planned.
    pub planned: u64,
    /// Trials committed with an answer, over the whole run (resumes included).
    pub answered: u64,
    /// Trials that errored in this session.
    pub errors: u64,
    /// Why the run stopped early, if it did.
    pub stopped_because: Option<String>,
}

/// A prepared run: plan made, budget known, nothing sent yet.
#[derive(Debug)]
pub struct Prepared {
    /// Run id (new or resumed).
    pub run_id: String,
    /// The spec.
    pub spec: Spec,
    /// Trials still to run.
    pub pending: Vec<PlannedTrial>,
    /// Trials planned in all.
    pub planned: u64,
    /// Already committed (resume).
    pub done: u64,
    /// Budget of the pending trials.
    pub budget: Budget,
    /// Banks as loaded.
    pub banks: Vec<LoadedBank>,
    new_run: Option<RunRecord>,
}

/// What a user asks of a new run.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    /// Target id.
    pub target_id: String,
    /// `builtin:NAME` or JSONL paths.
    pub banks: Vec<String>,
    /// Items per bank; `None` = the standard's sample size from the catalog.
    pub sample: Option<u64>,
    /// Sampling seed.
    pub seed: u64,
    /// Attack ids.
    pub attacks: Vec<String>,
    /// Use the response cache.
    pub cache: bool,
}

/// Build the spec for a new run.
pub fn new_spec(
    catalog: &Catalog,
    cfg: &Config,
    req: &NewRun,
) -> Result<(Spec, Vec<LoadedBank>), RunError> {
    let NewRun {
        target_id,
        banks: bank_sources,
        sample,
        seed,
        attacks,
        cache,
    } = req;
    let (target_id, sample, seed, cache) = (target_id.as_str(), *sample, *seed, *cache);
    let target = cfg.target(target_id)?;
    for a in attacks {
        crate::attacks::resolve(a)?;
    }
    let mut banks = Vec::new();
    let mut specs = Vec::new();
    for source in bank_sources {
        let b = plan::load_bank(source)?;
        let kind = b.items[0].bank;
        let n = match sample {
            Some(n) => n,
            None => plan::standard_sample(catalog, kind).ok_or_else(|| RunError::Bank {
                bank: source.clone(),
                detail: format!(
                    "the catalog has no sample size for the {} bank; pass --sample N",
                    kind.as_str()
                ),
            })?,
        };
        specs.push(plan::BankSpec {
            source: source.clone(),
            sha256: b.sha256.clone(),
            n: n.min(b.items.len() as u64),
        });
        banks.push(b);
    }
    let spec = Spec {
        target_id: target_id.to_owned(),
        target_url: anquan_llm::redact_url(&target.base_url),
        model: target.model.clone(),
        banks: specs,
        seed,
        attacks: if attacks.is_empty() {
            vec!["direct".into()]
        } else {
            attacks.to_vec()
        },
        max_unsure_share: cfg.eval.max_unsure_share,
        cache,
        judges: Vec::new(),
    };
    Ok((spec, banks))
}

/// Plan a new run (not yet recorded) or a resumed one.
pub async fn prepare<S: Store>(
    store: &S,
    cfg: &Config,
    new: Option<(Spec, Vec<LoadedBank>)>,
    resume: Option<&str>,
) -> Result<Prepared, RunError> {
    let (run_id, spec, banks, new_run) = match (new, resume) {
        (Some((spec, banks)), None) => {
            let id = uuid::Uuid::now_v7().to_string();
            let record = RunRecord {
                id: id.clone(),
                created: now_rfc3339(),
                finished: None,
                status: "running".into(),
                target_id: spec.target_id.clone(),
                tool_version: env!("CARGO_PKG_VERSION").into(),
                spec: serde_json::to_value(&spec).map_err(|e| RunError::Internal(e.to_string()))?,
            };
            (id, spec, banks, Some(record))
        }
        (None, Some(id)) => {
            let run = store
                .run(id)
                .await?
                .ok_or_else(|| RunError::NoSuchRun(id.to_owned()))?;
            let spec: Spec = serde_json::from_value(run.spec)
                .map_err(|e| RunError::Internal(format!("run {id} has an unreadable spec: {e}")))?;
            let mut banks = Vec::new();
            for b in &spec.banks {
                let loaded = plan::load_bank(&b.source)?;
                if loaded.sha256 != b.sha256 {
                    return Err(RunError::Bank {
                        bank: b.source.clone(),
                        detail: format!(
                            "the bank changed since run {id} started (sha256 {} then, {} now); resume needs the same bank, or start a new run",
                            &b.sha256[..12],
                            &loaded.sha256[..12]
                        ),
                    });
                }
                banks.push(loaded);
            }
            cfg.target(&spec.target_id)?;
            (id.to_owned(), spec, banks, None)
        }
        _ => {
            return Err(RunError::Internal(
                "prepare needs a new spec or a run id".into(),
            ));
        }
    };
    let all = plan::plan(&spec, &banks)?;
    let done: HashSet<String> = if new_run.is_some() {
        HashSet::new()
    } else {
        store.done_keys(&run_id).await?
    };
    let planned = all.len() as u64;
    let pending: Vec<PlannedTrial> = all.into_iter().filter(|t| !done.contains(&t.key)).collect();
    let target = cfg.target(&spec.target_id)?;
    let requests: u64 = pending.iter().map(|t| 1 + t.follow_ups.len() as u64).sum();
    let tokens: u64 = pending
        .iter()
        .map(|t| {
            let turns = 1 + t.follow_ups.len() as u64;
            anquan_llm::estimate_tokens(&t.messages) * turns + u64::from(target.max_tokens) * turns
        })
        .sum();
    Ok(Prepared {
        budget: Budget {
            trials: pending.len() as u64,
            requests,
            tokens,
            concurrency: target.concurrency as u64,
        },
        done: planned - pending.len() as u64,
        planned,
        run_id,
        spec,
        pending,
        banks,
        new_run,
    })
}

impl Prepared {
    /// Refuse a budget above the caps, with the numbers.
    pub fn check_caps(&self, caps: Caps) -> Result<(), RunError> {
        if let Some(max) = caps.max_requests
            && self.budget.requests > max
        {
            return Err(RunError::OverBudget(format!(
                "the run needs {} requests, above --max-requests {max}; lower --sample or raise the cap",
                self.budget.requests
            )));
        }
        if let Some(max) = caps.max_tokens
            && self.budget.tokens > max
        {
            return Err(RunError::OverBudget(format!(
                "the run may use up to {} tokens (estimated), above --max-tokens {max}; lower --sample or the target's max-tokens, or raise the cap",
                self.budget.tokens
            )));
        }
        Ok(())
    }
}

fn cache_key(spec: &Spec, messages: &[Message], follow_ups: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(spec.target_url.as_bytes());
    h.update([0]);
    h.update(spec.model.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(messages).unwrap_or_default());
    h.update(serde_json::to_vec(follow_ups).unwrap_or_default());
    plan::hex(&h.finalize())
}

/// Send a trial's conversation: the first turn, then each scripted follow-up after the previous
/// answer. The last answer is the one judged.
async fn converse(
    client: &Client,
    trial: &PlannedTrial,
) -> Result<(ChatResponse, Vec<Message>), LlmError> {
    let mut messages = trial.messages.clone();
    let mut resp = client.chat(&messages).await?;
    let mut attempts = resp.attempts;
    let mut usage = resp.usage;
    for turn in &trial.follow_ups {
        messages.push(Message::new("assistant", resp.content.clone()));
        messages.push(Message::new("user", turn.clone()));
        resp = client.chat(&messages).await?;
        attempts += resp.attempts;
        usage.prompt_tokens += resp.usage.prompt_tokens;
        usage.completion_tokens += resp.usage.completion_tokens;
        usage.estimated |= resp.usage.estimated;
    }
    resp.attempts = attempts;
    resp.usage = usage;
    Ok((resp, messages))
}

struct Shared<S> {
    store: S,
    client: Client,
    /// The model that rewrites prompts for model-assisted attacks (the attacker target, or the
    /// target itself when none is configured).
    attacker: Client,
    attacks: std::collections::HashMap<String, Box<dyn anquan_eval::attack::Attack>>,
    judges: JudgeSet,
    spec: Spec,
    run_id: String,
    consecutive_errors: AtomicU32,
    errors: AtomicU64,
    abort_after: u32,
}

/// Run the prepared trials. `stop` turns true on Ctrl-C: no new trial starts, in-flight ones
/// finish (each bounded by the target's timeouts), everything answered is committed.
pub async fn execute<S: Store + Clone + 'static>(
    store: S,
    cfg: &Config,
    prepared: Prepared,
    judges: JudgeSet,
    progress: Arc<dyn Progress>,
    mut stop: watch::Receiver<bool>,
) -> Result<RunOutcome, RunError> {
    let target = cfg.target(&prepared.spec.target_id)?.clone();
    let client = Client::new(target.clone())?;
    // A readiness probe: a down target is reported before the run is recorded.
    if target.kind == anquan_llm::TargetKind::Openai
        && let Err(e) = client.models().await
        && matches!(e, LlmError::Connect { .. } | LlmError::Timeout { .. })
    {
        return Err(RunError::TargetDown {
            target: prepared.spec.target_id.clone(),
            detail: e.to_string(),
        });
    }
    if let Some(record) = &prepared.new_run {
        store.create_run(record).await?;
    } else {
        store
            .set_run_status(&prepared.run_id, "running", None)
            .await?;
    }
    progress.start(&prepared.run_id, prepared.planned, prepared.done);
    let attacker = match &cfg.eval.attacker_target {
        Some(id) => Client::new(cfg.target(id)?.clone())?,
        None => client.clone(),
    };
    let mut attacks = std::collections::HashMap::new();
    for id in &prepared.spec.attacks {
        let a = crate::attacks::resolve(id)?;
        attacks.insert(a.info().key(), a);
    }
    let shared = Arc::new(Shared {
        store: store.clone(),
        client,
        attacker,
        attacks,
        judges,
        spec: prepared.spec.clone(),
        run_id: prepared.run_id.clone(),
        consecutive_errors: AtomicU32::new(0),
        errors: AtomicU64::new(0),
        abort_after: cfg.eval.abort_after_errors.max(1),
    });

    // The writer: batches finished trials into transactions.
    let (tx, mut rx) = mpsc::channel::<TrialRecord>(1024);
    let writer_store = store.clone();
    let writer_progress = Arc::clone(&progress);
    let mut tasks: JoinSet<Result<(), RunError>> = JoinSet::new();
    let writer = {
        let mut writer_set: JoinSet<Result<(), RunError>> = JoinSet::new();
        writer_set.spawn(async move {
            let mut batch = Vec::with_capacity(256);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < 256 {
                    match rx.try_recv() {
                        Ok(t) => batch.push(t),
                        Err(_) => break,
                    }
                }
                writer_store.commit_trials(&batch).await?;
                for t in batch.drain(..) {
                    writer_progress.trial(&t);
                }
            }
            Ok(())
        });
        writer_set
    };

    let queue = Arc::new(tokio::sync::Mutex::new(
        prepared
            .pending
            .into_iter()
            .collect::<std::collections::VecDeque<_>>(),
    ));
    let (abort_tx, abort_rx) = watch::channel::<Option<String>>(None);
    let workers = target.concurrency.max(1);
    for _ in 0..workers {
        let shared = Arc::clone(&shared);
        let queue = Arc::clone(&queue);
        let tx = tx.clone();
        let stop = stop.clone();
        let abort_tx = abort_tx.clone();
        let abort_rx = abort_rx.clone();
        tasks.spawn(async move {
            loop {
                if *stop.borrow() || abort_rx.borrow().is_some() {
                    return Ok(());
                }
                let Some(trial) = queue.lock().await.pop_front() else {
                    return Ok(());
                };
                let record = run_trial(&shared, &trial).await?;
                if record.status == "error" {
                    shared.errors.fetch_add(1, Ordering::Relaxed);
                    let n = shared.consecutive_errors.fetch_add(1, Ordering::Relaxed) + 1;
                    if n >= shared.abort_after {
                        let _ = abort_tx.send(Some(format!(
                            "{n} trials in a row got no answer; last error: {}",
                            record.error.as_deref().unwrap_or("unknown")
                        )));
                    }
                } else {
                    shared.consecutive_errors.store(0, Ordering::Relaxed);
                }
                if tx.send(record).await.is_err() {
                    return Err(RunError::Internal("the ledger writer stopped".into()));
                }
            }
        });
    }
    drop(tx);
    drop(abort_tx);
    let mut first_err = None;
    let mut stopped_by_user = false;
    loop {
        tokio::select! {
            joined = tasks.join_next() => {
                match joined {
                    None => break,
                    Some(Ok(Ok(()))) => {}
                    Some(Ok(Err(e))) => { first_err.get_or_insert(e); }
                    Some(Err(e)) => { first_err.get_or_insert(RunError::Internal(e.to_string())); }
                }
            }
            changed = stop.changed(), if !stopped_by_user => {
                if changed.is_ok() && *stop.borrow() {
                    stopped_by_user = true;
                    progress.note("stopping: finishing the trials in flight and committing them (press Ctrl-C again to quit at once)");
                }
            }
        }
    }
    let mut writer = writer;
    while let Some(r) = writer.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => {
                first_err.get_or_insert(RunError::Internal(e.to_string()));
            }
        }
    }
    let aborted = abort_rx.borrow().clone();
    let done = store.done_keys(&prepared.run_id).await?.len() as u64;
    let errors = shared.errors.load(Ordering::Relaxed);
    let status = if first_err.is_some() {
        "failed"
    } else if stopped_by_user || aborted.is_some() {
        "interrupted"
    } else if done < prepared.planned {
        "partial"
    } else {
        "complete"
    };
    store
        .set_run_status(&prepared.run_id, status, Some(&now_rfc3339()))
        .await?;
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(RunOutcome {
        run_id: prepared.run_id,
        status: status.into(),
        planned: prepared.planned,
        answered: done,
        errors,
        stopped_because: aborted.or(stopped_by_user.then(|| "stopped by the user".to_owned())),
    })
}

/// A model-assisted attack, run when its trial runs (called inside `block_in_place`).
fn model_attack<S: Store>(
    shared: &Shared<S>,
    trial: &PlannedTrial,
) -> Result<(ChatResponse, Vec<Message>), String> {
    use anquan_eval::attack::{SearchBudget, pair_search};
    let handle = tokio::runtime::Handle::current();
    let Some(attack) = shared.attacks.get(&trial.attack) else {
        return Err(format!("attack {} is not loaded", trial.attack));
    };
    let ask = |client: &Client, msgs: &[anquan_eval::bank::Message]| {
        handle
            .block_on(client.chat(&crate::attacks::to_llm(msgs)))
            .map(|r| r.content)
            .map_err(|e| e.to_string())
    };
    let attacker = |msgs: &[anquan_eval::bank::Message]| ask(&shared.attacker, msgs);
    if attack.info().id == "pair" {
        let target = |msgs: &[anquan_eval::bank::Message]| ask(&shared.client, msgs);
        let score = |prompt: &str, answer: &str| {
            if shared.judges.judge(trial.bank, prompt, answer).outcome == crate::Outcome::Fail {
                1.0
            } else {
                0.0
            }
        };
        let start = std::time::Instant::now();
        let out = pair_search(
            &trial.item,
            shared.spec.seed,
            &attacker,
            &target,
            &score,
            SearchBudget::default(),
            1.0,
        )
        .map_err(|e| format!("attack: {e}"))?;
        let rounds = out.rounds.len() as u32;
        let Some((v, answer, _)) = out.best() else {
            return Err("attack: the PAIR search made no round".into());
        };
        let messages = crate::attacks::to_llm(&v.messages);
        let resp = ChatResponse {
            content: answer.clone(),
            finish_reason: None,
            usage: anquan_llm::Usage {
                prompt_tokens: anquan_llm::estimate_tokens(&messages),
                completion_tokens: 0,
                estimated: true,
            },
            timings: anquan_llm::Timings {
                first_token_ms: None,
                total_ms: start.elapsed().as_secs_f64() * 1000.0,
            },
            attempts: rounds,
        };
        return Ok((resp, messages));
    }
    let variants = attack
        .apply(&trial.item, shared.spec.seed, Some(&attacker))
        .map_err(|e| format!("attack: {e}"))?;
    let Some(v) = variants.into_iter().next() else {
        return Err(format!(
            "attack {} made no variant of this item",
            trial.attack
        ));
    };
    let planned = PlannedTrial {
        messages: crate::attacks::to_llm(&v.messages),
        follow_ups: v.follow_ups,
        lazy: false,
        ..trial.clone()
    };
    let (mut resp, messages) = handle
        .block_on(converse(&shared.client, &planned))
        .map_err(|e| format!("{}: {e}", e.code()))?;
    if attack.info().id == "translation" {
        // ... and back: the answer (in the other language) is translated into the item's language
        // with the same templates, so the judges read it in the language they were built for.
        // The ledger keeps both: the answer as the target wrote it, then the back-translation.
        let back = back_translate(&attacker, &v.lang, &resp.content)?;
        resp.content = format!("{}{BACK_TRANSLATION}{back}", resp.content);
    }
    Ok((resp, messages))
}

/// Separates a target's answer from its back-translation in the ledger; the judges read only the
/// part after it.
pub const BACK_TRANSLATION: &str = "\n\n[back-translation / 回译]\n";

/// Translate an answer written in `lang` back into the other language, with the translation
/// attack's own template for `lang`.
fn back_translate(
    attacker: &dyn anquan_eval::attack::Generate,
    lang: &str,
    answer: &str,
) -> Result<String, String> {
    let templates =
        anquan_eval::attack::templates("translation.toml").map_err(|e| e.to_string())?;
    let Some(t) = templates.iter().find(|t| t.lang == lang) else {
        return Err(format!("no translation template for {lang}"));
    };
    let prompt = t.text.replace("{prompt}", answer);
    attacker.generate(&[anquan_eval::bank::Message {
        role: "user".into(),
        content: prompt,
    }])
}

async fn run_trial<S: Store>(
    shared: &Shared<S>,
    trial: &PlannedTrial,
) -> Result<TrialRecord, RunError> {
    let key = shared
        .spec
        .cache
        .then(|| cache_key(&shared.spec, &trial.messages, &trial.follow_ups));
    let mut cached = None;
    if let Some(k) = &key
        && let Some(v) = shared.store.cache_get(k).await?
    {
        cached = serde_json::from_str::<(ChatResponse, Vec<Message>)>(&v).ok();
    }
    let fresh = cached.is_none() && !trial.lazy;
    let result = match cached {
        Some(hit) => Ok(hit),
        None if trial.lazy => tokio::task::block_in_place(|| model_attack(shared, trial)),
        None => converse(&shared.client, trial)
            .await
            .map_err(|e| format!("{}: {e}", e.code())),
    };
    let prompt_text = trial
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.clone())
        .unwrap_or_default();
    let mut rec = TrialRecord {
        run_id: shared.run_id.clone(),
        key: trial.key.clone(),
        id: uuid::Uuid::now_v7().to_string(),
        seq: trial.seq,
        item_id: trial.item.id.clone(),
        bank: trial.bank.as_str().into(),
        lang: trial.item.lang.clone(),
        risk_ids: trial.item.risk_ids.clone(),
        attack: trial.attack.clone(),
        request: json!(trial.messages),
        response: None,
        status: "error".into(),
        error: None,
        outcome: None,
        verdicts: json!([]),
        first_token_ms: None,
        total_ms: None,
        prompt_tokens: None,
        completion_tokens: None,
        tokens_estimated: false,
        attempts: 0,
        created: now_rfc3339(),
    };
    match result {
        Ok((resp, messages)) => {
            if fresh
                && let Some(k) = &key
                && let Ok(v) = serde_json::to_string(&(&resp, &messages))
            {
                shared.store.cache_put(k, &v).await?;
            }
            let judged = if shared.judges.has_llm() {
                // The LLM judge blocks on its own requests: keep it off the async threads.
                tokio::task::block_in_place(|| {
                    shared.judges.judge(trial.bank, &prompt_text, &resp.content)
                })
            } else {
                shared.judges.judge(trial.bank, &prompt_text, &resp.content)
            };
            rec.request = json!(messages);
            rec.status = "ok".into();
            rec.outcome = Some(judged.outcome.as_str().into());
            rec.verdicts = json!(judged.verdicts);
            rec.first_token_ms = resp.timings.first_token_ms;
            rec.total_ms = Some(resp.timings.total_ms);
            rec.prompt_tokens = Some(resp.usage.prompt_tokens as i64);
            rec.completion_tokens = Some(resp.usage.completion_tokens as i64);
            rec.tokens_estimated = resp.usage.estimated;
            rec.attempts = i64::from(resp.attempts);
            rec.response = Some(resp.content);
        }
        Err(e) => {
            rec.error = Some(e);
        }
    }
    Ok(rec)
}
