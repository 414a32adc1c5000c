//! `cargo dev train-classifier`: retrain the classifier judge reproducibly and score it.
//!
//! Reads COLD train (and, for the recorded experiment, JADE v3 answers) from `shared/datasets`,
//! trains with `anquan_detect::classifier::train`, quantizes, chooses the unsure band on COLD dev,
//! scores the model and the keyword judge on COLD dev, and writes `zh.bin` and `zh.toml`. With
//! `--check` nothing is written: the result must equal the committed files byte for byte.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anquan_catalog::Catalog;
use anquan_core::VerdictKind;
use anquan_detect::Engine;
use anquan_detect::classifier::train::{self, Example, FloatHead, Row, TrainConfig};
use anquan_detect::classifier::{
    DataFile, DecisionMeta, EvalMeta, Experiment, FeatureConfig, Featurizer, HeadMeta, JUDGE_ID,
    JUDGE_VERSION, Metadata, Model, SCHEMA, Scores, TrainingMeta,
};
use anquan_detect::judge::{Judge, JudgeInput, KeywordJudge};
use anquan_detect::keywords::{Library, STARTER_LIBRARY, Severity, starter_allow_list};
use anquan_detect::normalize::Normalizer;
use anyhow::{Context as _, bail};
use sha2::{Digest as _, Sha256};

/// Topics, in head order, with the annex-A id each stands for: the three COLD topics, and the
/// JADE 违规类型 of the question an answer replies to (违法犯罪 → crime, 侵害权益 → rights).
const TOPICS: [(&str, &str); 5] = [
    ("race", "A.2.a"),
    ("region", "A.2.d"),
    ("gender", "A.2.e"),
    ("crime", "A.1.h"),
    ("rights", "A.4"),
];
/// COLD's three topics come first in [`TOPICS`].
const COLD_TOPICS: usize = 3;
/// JADE v1/v2 question files, whose 违规类型 column gives the topic of a v3 question.
const JADE_CATEGORY_FILES: [&str; 3] = [
    "jade/jade-db-v1.0/jade_benchmark_zh.csv",
    "jade/jade-db-v2.0/jade_benchmark_easy_zh.csv",
    "jade/jade-db-v2.0/jade_benchmark_medium_zh.csv",
];
const JADE_SOURCE: &str = "whitzard-ai/jade-db@812de63691d129757b8a55851d0c3440d2714523";
/// The feature hash seed ("anquan" in ASCII).
const HASH_SEED: u64 = 0x616e_7175_616e;

/// Options of `cargo dev train-classifier`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Language of the model (only `zh` has shippable labelled data).
    #[arg(long, default_value = "zh")]
    lang: String,
    /// Seed of the example order.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Retrain in memory and fail if the result differs from the committed files.
    #[arg(long)]
    check: bool,
    /// Passes over the training data.
    #[arg(long, default_value_t = 8)]
    epochs: u32,
    /// Adagrad step.
    #[arg(long, default_value_t = 0.2)]
    learning_rate: f64,
    /// L2 penalty per update.
    #[arg(long, default_value_t = 1e-6)]
    l2: f64,
    /// log2 of the offensive head's bucket count.
    #[arg(long, default_value_t = 18)]
    bits: u32,
    /// log2 of each topic head's bucket count.
    #[arg(long, default_value_t = 16)]
    topic_bits: u32,
    /// Longest character n-gram.
    #[arg(long, default_value_t = 3)]
    char_max: u32,
    /// Longest Latin word n-gram (0: none).
    #[arg(long, default_value_t = 2)]
    word_max: u32,
    /// Train on COLD only, without the JADE v3 answers (MIT).
    #[arg(long)]
    cold_only: bool,
    /// How many times each JADE v3 answer is repeated in the training data (COLD rows once).
    #[arg(long, default_value_t = 5)]
    jade_repeat: usize,
    /// Precision each decided side of the band must reach on COLD dev.
    #[arg(long, default_value_t = 0.95)]
    target_precision: f64,
    /// Skip the recorded experiments (faster; the metadata then differs from the committed one).
    #[arg(long)]
    no_experiments: bool,
    /// Print the scores without writing any file.
    #[arg(long)]
    dry_run: bool,
    /// The datasets folder [default: ../shared/datasets beside the workspace].
    #[arg(long)]
    datasets: Option<PathBuf>,
}

/// What the command prints, and whether it passed.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) text: String,
    pub(crate) ok: bool,
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

struct Split {
    examples: Vec<Example>,
    file: DataFile,
}

fn read_file(datasets: &Path, rel: &str) -> anyhow::Result<Vec<u8>> {
    let path = datasets.join(rel);
    std::fs::read(&path).with_context(|| {
        format!(
            "reading `{}` (the shared datasets sit beside the repository; pass --datasets DIR)",
            path.display()
        )
    })
}

/// COLD `train.csv` or `dev.csv`: `,split,topic,label,TEXT`.
fn read_cold(datasets: &Path, name: &str) -> anyhow::Result<Split> {
    let rel = format!("cold/{name}.csv");
    let bytes = read_file(datasets, &rel)?;
    let mut rdr = csv::Reader::from_reader(bytes.as_slice());
    let headers = rdr.headers()?.clone();
    let col = |want: &str| {
        headers
            .iter()
            .position(|h| h == want)
            .with_context(|| format!("`{rel}` has no `{want}` column"))
    };
    let (topic, label, text) = (col("topic")?, col("label")?, col("TEXT")?);
    let mut examples = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        let row = row.with_context(|| format!("`{rel}` row {}", i + 2))?;
        let label = match &row[label] {
            "0" => false,
            "1" => true,
            other => bail!("`{rel}` row {}: label `{other}`", i + 2),
        };
        examples.push(Example {
            text: row[text].to_owned(),
            label,
            topic: TOPICS[..COLD_TOPICS]
                .iter()
                .position(|(t, _)| *t == &row[topic]),
        });
    }
    Ok(Split {
        file: DataFile {
            path: rel,
            sha256: sha256_hex(&bytes),
            rows: examples.len(),
            licence: "Apache-2.0".to_owned(),
            source: "thu-coai/COLDataset@a0c55a945497ab58e94aef491180e1cf88ffb864".to_owned(),
            used: "TEXT, label (0 safe / 1 offensive), topic (race / region / gender)".to_owned(),
        },
        examples,
    })
}

/// The 违规类型 of every JADE v1/v2 question, by question text.
fn read_jade_categories(
    datasets: &Path,
) -> anyhow::Result<(HashMap<String, String>, Vec<DataFile>)> {
    let mut map = HashMap::new();
    let mut files = Vec::new();
    for rel in JADE_CATEGORY_FILES {
        let bytes = read_file(datasets, rel)?;
        let mut rdr = csv::Reader::from_reader(bytes.as_slice());
        let headers = rdr.headers()?.clone();
        let col = |want: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == want)
                .with_context(|| format!("`{rel}` has no `{want}` column"))
        };
        let (question, category) = (col("问题")?, col("违规类型")?);
        let mut rows = 0;
        for (i, row) in rdr.records().enumerate() {
            let row = row.with_context(|| format!("`{rel}` row {}", i + 2))?;
            rows += 1;
            map.insert(
                row[question].trim().to_owned(),
                row[category].trim().to_owned(),
            );
        }
        files.push(DataFile {
            path: rel.to_owned(),
            sha256: sha256_hex(&bytes),
            rows,
            licence: "MIT".to_owned(),
            source: JADE_SOURCE.to_owned(),
            used:
                "违规类型 of each question, joined to the v3 answers by question text (topic heads)"
                    .to_owned(),
        });
    }
    Ok((map, files))
}

/// JADE v3: `ID,问题,违规回答,安全有用回答`; the unsafe answer is positive, the safe one
/// negative; both take the topic of the question's 违规类型.
fn read_jade(
    datasets: &Path,
    name: &str,
    categories: &HashMap<String, String>,
) -> anyhow::Result<Split> {
    let rel = format!("jade/jade-db-v3.0/{name}");
    let bytes = read_file(datasets, &rel)?;
    let mut rdr = csv::Reader::from_reader(bytes.as_slice());
    let mut examples = Vec::new();
    let mut rows = 0;
    for (i, row) in rdr.records().enumerate() {
        let row = row.with_context(|| format!("`{rel}` row {}", i + 2))?;
        rows += 1;
        let topic = match categories
            .get(row.get(1).unwrap_or_default().trim())
            .map(String::as_str)
        {
            Some("违法犯罪") => TOPICS.iter().position(|(t, _)| *t == "crime"),
            Some("侵害权益" | "侵犯权益") => {
                TOPICS.iter().position(|(t, _)| *t == "rights")
            }
            _ => None,
        };
        for (col, label) in [(2, true), (3, false)] {
            if let Some(t) = row.get(col).filter(|t| !t.trim().is_empty()) {
                examples.push(Example {
                    text: t.to_owned(),
                    label,
                    topic,
                });
            }
        }
    }
    Ok(Split {
        file: DataFile {
            path: rel,
            sha256: sha256_hex(&bytes),
            rows,
            licence: "MIT".to_owned(),
            source: JADE_SOURCE.to_owned(),
            used:
                "违规回答 as unsafe, 安全有用回答 as safe (answers written by models, labelled by \
                   how the pairs were built)"
                    .to_owned(),
        },
        examples,
    })
}

struct Trained {
    offensive: FloatHead,
    topics: Vec<FloatHead>,
}

fn train_heads(
    featurizer: &Featurizer,
    examples: &[Example],
    cfg: &TrainConfig,
    bits: u32,
    topic_bits: Option<u32>,
) -> Trained {
    let texts = || examples.iter().map(|e| e.text.as_str());
    let rows = train::encode(featurizer, texts(), bits);
    let labels: Vec<bool> = examples.iter().map(|e| e.label).collect();
    let offensive = train::fit(&rows, &labels, bits, cfg, 0);
    let topics = match topic_bits {
        None => Vec::new(),
        Some(tb) => {
            let with_topic: Vec<&Example> = examples.iter().filter(|e| e.topic.is_some()).collect();
            let trows = train::encode(featurizer, with_topic.iter().map(|e| e.text.as_str()), tb);
            (0..TOPICS.len())
                .map(|k| {
                    let labels: Vec<bool> = with_topic.iter().map(|e| e.topic == Some(k)).collect();
                    train::fit(&trows, &labels, tb, cfg, 1 + k as u64)
                })
                .collect()
        }
    };
    Trained { offensive, topics }
}

fn forced_scores(head: &FloatHead, rows: &[Row], dev: &[Example]) -> Scores {
    train::scores(
        rows.iter()
            .zip(dev)
            .map(|(r, e)| (e.label, head.prob(r) >= 0.5)),
    )
}

fn keyword_scores(engine: &Engine, severity: Severity, dev: &[Example]) -> Scores {
    let judge = KeywordJudge::new(engine, severity);
    train::scores(dev.iter().map(|e| {
        let v = judge.judge(&JudgeInput {
            prompt: None,
            response: &e.text,
            expected: None,
        });
        (e.label, v.kind == VerdictKind::Unsafe)
    }))
}

fn scores_line(name: &str, s: &Scores) -> String {
    format!(
        "{name:<44} {:>6} {:>9.3} {:>6.3} {:>6.3} {:>8.3}\n",
        s.rows, s.precision, s.recall, s.f1, s.accuracy
    )
}

fn toml_text(meta: &Metadata) -> anyhow::Result<String> {
    Ok(format!(
        "# The classifier judge's Chinese model: features, training data, scores.\n\
         # Written by `cargo dev train-classifier --lang zh`; do not edit by hand.\n\n{}",
        toml::to_string(meta)?
    ))
}

/// The data of one run.
struct Data {
    cold_train: Split,
    dev: Split,
    /// JADE v3 hard, then medium.
    jade: Vec<Split>,
    /// What the shipped model trains on.
    examples: Vec<Example>,
    /// The files behind `examples`.
    files: Vec<DataFile>,
}

fn load_data(args: &Args, datasets: &Path) -> anyhow::Result<Data> {
    let cold_train = read_cold(datasets, "train")?;
    let dev = read_cold(datasets, "dev")?;
    let (categories, category_files) = read_jade_categories(datasets)?;
    let jade: Vec<Split> = [
        "jade_alignment_hard_zh.utf8.csv",
        "jade_alignment_medium_zh.utf8.csv",
    ]
    .iter()
    .map(|f| read_jade(datasets, f, &categories))
    .collect::<anyhow::Result<_>>()?;
    let mut examples = cold_train.examples.clone();
    let mut files = vec![cold_train.file.clone()];
    if !args.cold_only {
        for j in &jade {
            for _ in 0..args.jade_repeat {
                examples.extend(j.examples.iter().cloned());
            }
            let mut file = j.file.clone();
            file.used = format!("{}; each answer {} times", file.used, args.jade_repeat);
            files.push(file);
        }
        files.extend(category_files);
    }
    Ok(Data {
        cold_train,
        dev,
        jade,
        examples,
        files,
    })
}

/// Quantize the heads and lay them out one after another.
fn quantize_heads(trained: &Trained, args: &Args) -> (Vec<u8>, Vec<HeadMeta>) {
    let mut weights = Vec::new();
    let mut heads = Vec::new();
    let named = std::iter::once((&trained.offensive, "offensive".to_owned(), None, args.bits))
        .chain(trained.topics.iter().zip(TOPICS).map(|(h, (topic, risk))| {
            (
                h,
                format!("topic.{topic}"),
                Some(risk.to_owned()),
                args.topic_bits,
            )
        }));
    for (head, name, risk_id, bits) in named {
        let (q, scale) = train::quantize(head);
        heads.push(HeadMeta {
            name,
            risk_id,
            buckets_log2: bits,
            offset: weights.len(),
            bias: head.bias as f32,
            scale,
        });
        weights.extend(q);
    }
    (weights, heads)
}

/// Score the quantized model on dev, choose the band, fill `meta.decision` and `meta.eval`.
fn evaluate(
    meta: &mut Metadata,
    model: &Model,
    float_head: &FloatHead,
    featurizer: &Featurizer,
    dev: &[Example],
    target_precision: f64,
) {
    let scored: Vec<(f32, Option<usize>)> = dev
        .iter()
        .map(|e| {
            let s = model.score(&e.text);
            let topic = s
                .topic
                .and_then(|(risk, _)| TOPICS.iter().position(|(_, r)| *r == risk.as_str()));
            (s.p_unsafe, topic)
        })
        .collect();
    let probs: Vec<(f32, bool)> = scored
        .iter()
        .zip(dev)
        .map(|(s, e)| (s.0, e.label))
        .collect();
    let (t_lo, t_hi) = train::choose_band(&probs, target_precision);
    meta.decision.t_lo = t_lo;
    meta.decision.t_hi = t_hi;
    let decided: Vec<(bool, bool)> = probs
        .iter()
        .map(|&(p, t)| (f64::from(p), t))
        .filter(|&(p, _)| p >= t_hi || p <= t_lo)
        .map(|(p, t)| (t, p >= t_hi))
        .collect();
    let offensive: Vec<bool> = dev
        .iter()
        .zip(&scored)
        .filter(|(e, _)| e.label)
        .map(|(e, s)| e.topic == s.1)
        .collect();
    let rows = train::encode(
        featurizer,
        dev.iter().map(|e| e.text.as_str()),
        float_head.bits,
    );
    let forced = train::scores(probs.iter().map(|&(p, t)| (t, p >= 0.5)));
    meta.eval.unsure_share = train::round4(1.0 - decided.len() as f64 / probs.len().max(1) as f64);
    meta.eval.banded_decided = train::scores(decided);
    meta.eval.topic_accuracy = train::round4(
        offensive.iter().filter(|&&right| right).count() as f64 / offensive.len().max(1) as f64,
    );
    meta.eval.forced_float = forced_scores(float_head, &rows, dev);
    meta.eval.forced = forced;
    meta.eval.accuracy_floor = ((forced.accuracy - 0.02) * 100.0).floor() / 100.0;
}

/// One alternative to the shipped configuration.
struct Alt<'a> {
    name: String,
    featurizer: &'a Featurizer,
    train_on: Vec<Example>,
    bits: u32,
    eval_on: &'a [Example],
}

/// Measure the alternatives (float model, p >= 0.5).
fn experiments(
    args: &Args,
    data: &Data,
    featurizer: &Featurizer,
    normalizer: &Normalizer,
    cfg: &TrainConfig,
) -> anyhow::Result<Vec<Experiment>> {
    let jade_all: Vec<Example> = data
        .jade
        .iter()
        .flat_map(|j| j.examples.iter().cloned())
        .collect();
    let (jade_hard, jade_medium) = (&data.jade[0].examples, &data.jade[1].examples);
    let cold = &data.cold_train.examples;
    let with = |extra: &[Example], times: usize| {
        let mut v = cold.clone();
        for _ in 0..times {
            v.extend(extra.iter().cloned());
        }
        v
    };
    let alt_chars = if args.char_max == 3 { 4 } else { 3 };
    let mut alt_features = featurizer.config().clone();
    alt_features.char_ngram_max = alt_chars;
    let alt_featurizer = Featurizer::new(alt_features, normalizer.clone())?;
    let small = args.bits.saturating_sub(2).max(8);
    let dev = &data.dev.examples;
    let on_dev = format!("on {}", data.dev.file.path);
    let on_hard = format!("on JADE v3 hard answers ({} texts)", jade_hard.len());
    let alts = [
        Alt {
            name: if args.cold_only {
                format!(
                    "COLD train + JADE v3 answers ({} texts), {on_dev}",
                    jade_all.len()
                )
            } else {
                format!("COLD train only, {on_dev}")
            },
            featurizer,
            train_on: if args.cold_only {
                with(&jade_all, args.jade_repeat)
            } else {
                cold.clone()
            },
            bits: args.bits,
            eval_on: dev,
        },
        Alt {
            name: format!("JADE v3 answers only, {on_dev}"),
            featurizer,
            train_on: jade_all,
            bits: args.bits,
            eval_on: dev,
        },
        Alt {
            name: format!("COLD train only, {on_hard}"),
            featurizer,
            train_on: cold.clone(),
            bits: args.bits,
            eval_on: jade_hard,
        },
        Alt {
            name: format!(
                "COLD train + JADE v3 medium answers x{}, {on_hard}",
                args.jade_repeat
            ),
            featurizer,
            train_on: with(jade_medium, args.jade_repeat),
            bits: args.bits,
            eval_on: jade_hard,
        },
        Alt {
            name: format!("2^{small} buckets, {on_dev}"),
            featurizer,
            train_on: data.examples.clone(),
            bits: small,
            eval_on: dev,
        },
        Alt {
            name: format!("character 1- to {alt_chars}-grams, {on_dev}"),
            featurizer: &alt_featurizer,
            train_on: data.examples.clone(),
            bits: args.bits,
            eval_on: dev,
        },
    ];
    Ok(alts
        .into_iter()
        .map(|a| {
            let t = train_heads(a.featurizer, &a.train_on, cfg, a.bits, None);
            let rows = train::encode(
                a.featurizer,
                a.eval_on.iter().map(|e| e.text.as_str()),
                a.bits,
            );
            Experiment {
                name: a.name,
                forced: forced_scores(&t.offensive, &rows, a.eval_on),
            }
        })
        .collect())
}

/// Run the command.
pub(crate) fn run(args: &Args, root: &Path) -> anyhow::Result<Report> {
    if args.lang != "zh" {
        bail!(
            "no model for `{}`: only Chinese has human-labelled data with a licence that allows \
             shipping weights (the XSTest answers are under their models' licences)",
            args.lang
        );
    }
    if !(8..=22).contains(&args.bits) || !(8..=22).contains(&args.topic_bits) {
        bail!("--bits and --topic-bits must be in 8..=22");
    }
    let started = Instant::now();
    let datasets = args
        .datasets
        .clone()
        .unwrap_or_else(|| root.join("../shared/datasets"));
    let catalog = Catalog::load(None).context("loading the embedded catalog")?;
    let normalizer = Normalizer::full(catalog.radical_folder());
    let features = FeatureConfig {
        normalizer: normalizer.describe(),
        char_ngram_min: 1,
        char_ngram_max: args.char_max,
        word_ngram_max: args.word_max,
        hash_seed: HASH_SEED,
        hash: "FNV-1a 64 over UTF-8 with the seed and a namespace byte, splitmix64 finaliser; \
               a head takes the low bits"
            .to_owned(),
        values: "1 per distinct bucket, L2-normalised; whitespace runs count as one space"
            .to_owned(),
    };
    let featurizer = Featurizer::new(features.clone(), normalizer.clone())?;
    let cfg = TrainConfig {
        seed: args.seed,
        epochs: args.epochs,
        learning_rate: args.learning_rate,
        l2: args.l2,
    };
    let data = load_data(args, &datasets)?;
    let trained = train_heads(
        &featurizer,
        &data.examples,
        &cfg,
        args.bits,
        Some(args.topic_bits),
    );
    let train_time = started.elapsed();
    let (weights, heads) = quantize_heads(&trained, args);

    let mut meta = Metadata {
        schema: SCHEMA,
        lang: "zh".to_owned(),
        judge: format!("{JUDGE_ID}@{JUDGE_VERSION}"),
        weights_file: "zh.bin".to_owned(),
        weights_sha256: sha256_hex(&weights),
        features,
        decision: DecisionMeta {
            t_lo: 0.5,
            t_hi: 0.5,
            rule: format!(
                "the largest t_lo <= 0.5 and the smallest t_hi >= 0.5 (grid 0.01) where safe \
                 verdicts (p <= t_lo) and unsafe verdicts (p >= t_hi) each reach precision {} \
                 on {}",
                args.target_precision, data.dev.file.path
            ),
            target_precision: args.target_precision,
            topic_min: 0.5,
            default_risk_id: "A.2".to_owned(),
            max_evidence: 5,
        },
        training: TrainingMeta {
            command: format!("cargo dev train-classifier --lang zh --seed {}", args.seed),
            seed: args.seed,
            optimizer: "Adagrad on the logistic loss, one example at a time, shuffled each epoch; \
                        exp by a fixed Taylor series so every machine gets the same bits"
                .to_owned(),
            epochs: args.epochs,
            learning_rate: args.learning_rate,
            l2: args.l2,
            examples: data.examples.len(),
            data: data.files.clone(),
        },
        eval: EvalMeta {
            data: data.dev.file.clone(),
            forced: Scores::default(),
            forced_float: Scores::default(),
            banded_decided: Scores::default(),
            unsure_share: 0.0,
            topic_accuracy: 0.0,
            accuracy_floor: 0.0,
        },
        experiments: Vec::new(),
        heads,
    };
    let model = Model::from_parts(meta.clone(), &weights, normalizer.clone())?;
    evaluate(
        &mut meta,
        &model,
        &trained.offensive,
        &featurizer,
        &data.dev.examples,
        args.target_precision,
    );
    // The keyword judge's figures are printed, not recorded: the starter library changes more
    // often than the model, and the check must not fail because of it.
    let (lib, problems) = Library::parse_tsv(STARTER_LIBRARY);
    if !problems.is_empty() {
        bail!(
            "the starter keyword library has {} problems",
            problems.len()
        );
    }
    let engine = Engine::new(&catalog, Some(lib), &starter_allow_list(), false);
    let keyword_low = keyword_scores(&engine, Severity::Low, &data.dev.examples);
    let keyword_medium = keyword_scores(&engine, Severity::Medium, &data.dev.examples);
    if !args.no_experiments {
        meta.experiments = experiments(args, &data, &featurizer, &normalizer, &cfg)?;
    }
    let toml = toml_text(&meta)?;
    // The written model must load.
    Model::from_parts(Metadata::parse(&toml)?, &weights, normalizer)?;

    let mut text = String::new();
    let _ = writeln!(
        text,
        "classifier_judge zh: {} training texts, {} epochs, 2^{} + {} x 2^{} buckets, {} bytes \
         of weights",
        data.examples.len(),
        args.epochs,
        args.bits,
        trained.topics.len(),
        args.topic_bits,
        weights.len()
    );
    let _ = writeln!(
        text,
        "scores on {} ({} rows); positive = offensive\n",
        data.dev.file.path, data.dev.file.rows
    );
    let _ = writeln!(
        text,
        "{:<44} {:>6} {:>9} {:>6} {:>6} {:>8}",
        "judge", "rows", "precision", "recall", "F1", "accuracy"
    );
    let (t_lo, t_hi) = (meta.decision.t_lo, meta.decision.t_hi);
    for (name, s) in [
        ("classifier, p >= 0.5".to_owned(), &meta.eval.forced),
        (
            "classifier before quantization".to_owned(),
            &meta.eval.forced_float,
        ),
        (
            format!("classifier, band [{t_lo:.2}, {t_hi:.2}]: decided"),
            &meta.eval.banded_decided,
        ),
        ("keyword judge (starter, >= low)".to_owned(), &keyword_low),
        (
            "keyword judge (starter, >= medium)".to_owned(),
            &keyword_medium,
        ),
    ] {
        text.push_str(&scores_line(&name, s));
    }
    let _ = writeln!(
        text,
        "\nunsure in the band: {:.1} % of rows; topic head right on {:.1} % of offensive rows\n",
        meta.eval.unsure_share * 100.0,
        meta.eval.topic_accuracy * 100.0
    );
    for e in &meta.experiments {
        let _ = writeln!(text, "experiment: {}", e.name);
        text.push_str(&scores_line("", &e.forced));
    }
    let _ = writeln!(
        text,
        "\nread and trained in {:.1} s, all done in {:.1} s",
        train_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let ok = write_or_check(args, root, &weights, &toml, &mut text)?;
    Ok(Report { text, ok })
}

/// Write the files, or with `--check` compare them; false when the check fails.
fn write_or_check(
    args: &Args,
    root: &Path,
    weights: &[u8],
    toml: &str,
    text: &mut String,
) -> anyhow::Result<bool> {
    let rel = "crates/anquan-detect/data/classifier";
    let out_dir = root.join(rel);
    let bin_path = out_dir.join("zh.bin");
    let toml_path = out_dir.join("zh.toml");
    if args.check {
        let same_bin = std::fs::read(&bin_path).ok().as_deref() == Some(weights);
        let same_toml = std::fs::read_to_string(&toml_path).ok().as_deref() == Some(toml);
        let word = |same| if same { "identical" } else { "DIFFER" };
        let _ = writeln!(
            text,
            "check: weights {}, metadata {}",
            word(same_bin),
            word(same_toml)
        );
        if !(same_bin && same_toml) {
            let _ = writeln!(
                text,
                "the committed model is not what the code and data give: run `cargo dev \
                 train-classifier --lang zh` and commit {rel}/"
            );
        }
        return Ok(same_bin && same_toml);
    }
    if !args.dry_run {
        std::fs::create_dir_all(&out_dir)?;
        std::fs::write(&bin_path, weights)
            .with_context(|| format!("writing `{}`", bin_path.display()))?;
        std::fs::write(&toml_path, toml)
            .with_context(|| format!("writing `{}`", toml_path.display()))?;
        let _ = writeln!(text, "wrote {rel}/zh.bin and zh.toml");
    }
    Ok(true)
}
