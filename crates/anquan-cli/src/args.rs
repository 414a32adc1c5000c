//! Command-line arguments (clap derive). Argument structs only; behaviour lives in `commands/`.

use std::path::PathBuf;

use anquan::core::{Lang, env};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[cfg(test)]
const EXIT_CODES: &str = "\
Exit status:
  0  ran, and everything checked passed
  1  ran, and a check failed (e.g. `catalog validate` found problems)
  2  could not run (bad arguments, unreadable file, unknown id)";

#[derive(Debug, Parser)]
#[command(
    name = "anquan",
    version,
    about = "China's AI safety standards, executable: catalog, grade, test, guard, scan, label, govern",
    long_about = "anquan (安全) makes China's AI safety standards executable.\n\n\
It reads the standards as data: the risk taxonomies of the AI Safety Governance Framework 2.0 \
and 1.0, the 31 risks of GB/T 45654-2025 annex A, the AI safety standards system V1.0, the \
clauses with their thresholds, and the GB 45438-2025 label rules. Every threshold shown carries \
its verification status (verified / secondary / unverified).",
    after_long_help = const_format_help(),
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

const fn const_format_help() -> &'static str {
    "Examples:\n  anquan tour                          # the catalog and grading tour on embedded data\n  anquan catalog risks --framework gbt45654 --tree\n  anquan grade --answers examples/intake/public-chatbot.toml --lang en\n\n\
Exit status:\n  0  ran, and everything checked passed\n  1  ran, and a check failed (e.g. `catalog validate` found problems)\n  2  could not run (bad arguments, unreadable file, unknown id)"
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Language of catalog text and reports: `zh` (Chinese) or `en` (English).
    #[arg(long, global = true, env = env::ANQUAN_LANG, default_value = "zh", value_parser = parse_lang)]
    pub(crate) lang: Lang,
    /// Print machine-readable JSON (a versioned shape, see `schema` in the output) instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Load the catalog from this folder instead of the one embedded in the binary.
    #[arg(long, global = true, env = env::ANQUAN_CATALOG, value_name = "DIR")]
    pub(crate) catalog: Option<PathBuf>,
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse::<Lang>().map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Query the standards catalog: risks, measures, guidelines, standards, clauses.
    #[command(
        long_about = "Query the standards catalog.\n\n\
Draws on: AI Safety Governance Framework 2.0 (§3 risks, §4 technical measures, §5 governance \
measures, §6 guidelines, annexes 1-3) and 1.0; the AI safety standards system V1.0 (parts, \
directions AA…EC, standards list, risk→standard mapping); GB/T 45654-2025 annex A and its \
quantitative clauses; GB 45438-2025 label rules; the AI safety testing and evaluation white paper.",
        after_long_help = "Examples:\n  anquan catalog risks --framework gbt45654 --tree\n  anquan catalog map A.1.c --lang en"
    )]
    Catalog(CatalogArgs),
    /// Grade an AI application into one of the five risk levels (Framework 2.0 annex 1).
    #[command(
        long_about = "Grade an AI application into one of five risk levels: 低 / 一般 / 较大 / 重大 / 特别重大.\n\n\
Draws on: AI Safety Governance Framework 2.0 annex 1 (factors: application scenario, level of \
intelligence, scale; five levels) and the Framework 1.0 practical advice (project-intake \
questions, fast/slow-lane governance). No national grading formula is published yet, so the \
rubric is data (`grading/rubric.toml` in the catalog), documented and overridable with \
`--catalog DIR`, and the result says so.\n\n\
Without `--answers`, asks the questions interactively on a terminal (arrow keys to choose).",
        after_long_help = "Examples:\n  anquan grade --answers examples/intake/medical-information-assistant.toml\n  anquan grade --answers examples/intake/public-chatbot.toml --lang en --json\n  anquan grade                    # interactive questionnaire"
    )]
    Grade(GradeArgs),
    /// Run the detection engine over text: keywords (through evasions) and personal information.
    #[command(
        long_about = "Run the detection engine over text and print what it finds: keywords of a keyword library \
matched through evasions (full-width, traditional characters, separators, zero-width characters, \
look-alike letters, radical look-alikes, split characters), and validated personal information \
(resident IDs with check digit, bank cards with Luhn, mobile and landline numbers, unified social \
credit codes, passports, e-mail, IP addresses, licence plates).\n\n\
Draws on: GB/T 45654-2025 annex A (risk ids of every keyword) and its keyword-library clause; \
A.4.e / A.4.f (privacy and personal information) for PII. Spans are byte offsets in the ORIGINAL \
text. Exits 1 when anything is found.",
        after_long_help = "Examples:\n  anquan scan \"我的手机号是13812345678\"\n  anquan scan --file answer.txt --library my-keywords.tsv --json\n  cat chat.txt | anquan scan - --mask"
    )]
    Scan(ScanArgs),
    /// The GB/T 45654 test banks: check anyone's, list, show, sample and export the built-in ones.
    #[command(
        long_about = "The three test banks of GB/T 45654-2025 (TC260-003 §8.2-8.3): generated content \
(生成内容测试题库), should-refuse (应拒答测试题库) and should-not-refuse (非拒答测试题库), each item tagged \
with annex-A risk ids (or, for should-not-refuse, the aspect). anquan ships its own (`builtin:NAME`, \
Chinese; `builtin:NAME.en`, the English mirrors) and checks anyone's against the catalog's clauses: \
size, coverage and per-risk floors, update period, duplicates and near-duplicates.",
        after_long_help = "Examples:\n  anquan bank check builtin:generated_content builtin:should_refuse builtin:should_not_refuse\n  anquan bank sample builtin:generated_content --n 1000 --seed 7 > draw.jsonl\n  anquan bank check my-bank.jsonl --lang en --json"
    )]
    Bank(BankArgs),
    /// Check and maintain keyword libraries against GB/T 45654's keyword-library clauses.
    #[command(
        long_about = "Check and maintain keyword libraries.\n\n\
Draws on: GB/T 45654-2025 / TC260-003 keyword-library clauses (size, coverage of the 17 risks of \
annex A.1 + A.2 with per-risk floors, update period), read from the catalog with their \
verification status.",
        after_long_help = "Examples:\n  anquan keywords check my-keywords.tsv\n  anquan keywords check builtin:starter --lang en --json\n  anquan keywords normalize \"賭 * 博\""
    )]
    Keywords(KeywordsArgs),
    /// A tour of the catalog, grading, banks and detection engine on the embedded defaults (no model needed).
    #[command(
        long_about = "A tour of what anquan knows and does today, on the embedded catalog and example profiles: \
the catalog's contents, the GB/T 45654 clauses with their thresholds and verification status, and \
the grading of six example applications (examples/intake/), the built-in test banks and the starter \
keyword library checked against their clauses, and the detection engine on a sample text.",
        after_long_help = "Examples:\n  anquan tour\n  anquan tour --lang en"
    )]
    Tour(TourArgs),
    /// Evaluate a model: run the test banks (and attacks) against a target, judge every answer.
    #[command(
        long_about = "Evaluate a model against GB/T 45654's assessment clauses (TC260-003 §9.3-9.4): draw the \
standard's stratified sample from each bank (1,000 generated-content, 300 should-refuse, 300 \
should-not-refuse: the sizes are read from the catalog), send every item (and its attack variants) \
to the target, judge each answer (keywords, PII, refusal, classifier, optionally an LLM judge), and \
record every trial in a SQLite ledger. Prints the budget first; Ctrl-C stops cleanly; \
`--resume RUN_ID` continues a stopped or crashed run without repeating or double-counting a \
trial.\n\n\
Targets are `[targets.<id>]` tables in anquan.toml (see examples/anquan.toml). Exits 1 when a \
clause fails, so it can gate a release.",
        after_long_help = "Examples:\n  anquan eval --target local --sample 20 --report report.html\n  anquan eval --target prod --banks builtin:should_refuse --attacks direct,base64,zh_homophone\n  anquan eval --resume 0193a0c4-5b7e-7c3d-9a51-0c2f1e4d8b6a\n  anquan eval --target prod --max-requests 3000 --max-tokens 2000000 --cache\n\n\
Exit status:\n  0  ran, and no clause failed\n  1  ran, and a clause failed\n  2  could not run (bad configuration, unreachable target, malformed bank)"
    )]
    Eval(EvalArgs),
    /// Write the report of a run: self-contained HTML, Markdown or JSON, in Chinese or English.
    #[command(
        long_about = "Write the report of an evaluation run: per-clause verdicts (符合 / 不符合 / 无法判定 with \
Wilson intervals and each clause's verification status), per-bank, per-risk, per-attack and \
per-language results with SVG charts, the worst failures, the unsure answers for manual review, \
and an evidence block with the SHA-256 of every bank, the keyword library, the judge configuration \
and the tool version.",
        after_long_help = "Examples:\n  anquan report latest --format html --output report.html\n  anquan report 0193a0c4-5b7e-7c3d-9a51-0c2f1e4d8b6a --format md --lang en\n  anquan report latest --format json | jq '.clauses[] | {clause_id, verdict}'"
    )]
    Report(ReportArgs),
    /// Measure a judge against a human-labelled file: precision, recall, F1, confusion matrix.
    #[command(
        long_about = "Measure any judge against a human-labelled file (CSV with a header, or JSONL): precision, \
recall, F1, accuracy and the confusion matrix, with unsure judgments counted apart (never coerced \
into a class). Judges: `refusal` (positive = refused), `classifier`, `keyword`, `pii` (positive = \
unsafe), `llm:TARGET` (an LLM judge over a configured target; `--expect` picks its template).",
        after_long_help = "Examples:\n  anquan judge bench ../shared/datasets/xstest/model_completions/xstest_v2_completions_gpt4.csv --judge refusal --text completion --label final_label --positive 2_full_refusal\n  anquan judge bench ../shared/datasets/cold/dev.csv --judge classifier --text TEXT --label label --positive 1\n  anquan judge bench answers.jsonl --judge llm:judge --expect refuse --label human --positive refused --json"
    )]
    Judge(JudgeArgs),
    /// List the evaluation runs in the store.
    #[command(after_long_help = "Examples:\n  anquan runs\n  anquan runs --json")]
    Runs(RunsArgs),
    /// The guardrail proxy (安全护栏): filter a live OpenAI-compatible service's inputs and outputs.
    #[command(
        long_about = "Run the guardrail proxy (安全护栏) in front of an OpenAI-compatible service, and operate it.\n\n\
Draws on: AI Safety Governance Framework 2.0 (the guardrail as a technical measure) and GB/T \
45654-2025 (filter inputs and outputs; suspend users who input illegal content 3 times in a row or \
5 times in a day: clause gbt45654.users.repeat_offender; keep logs at least six months: \
gbt45654.logs.retention; stop the service at once). Clients point their base URL at the guard; \
inputs are checked (keywords, PII, optional classifier and LLM judge) and blocked, masked or \
annotated; streamed answers are inspected over a sliding window and stopped on a violation; every \
request gets a hash-chained audit record.\n\n\
Without a subcommand, `anquan guard --config guard.toml` starts the proxy (like `guard run`). \
`kill`, `resume`, `status` and `lift` call the running guard's admin API (token from the variable \
`server.admin-token-env` names); `audit` works on the guard's SQLite file.",
        after_long_help = "Examples:\n  anquan guard --config examples/guard.toml\n  anquan guard kill --config guard.toml --tenant acme\n  anquan guard status --config guard.toml\n  anquan guard lift user-42 --tenant acme --config guard.toml\n  anquan guard audit verify --config guard.toml\n  anquan guard audit export --format jsonl --config guard.toml > audit.jsonl\n  anquan guard hash-key sk-my-client-key\n\n\
Exit status:\n  0  ran (audit verify: the chain verifies)\n  1  audit verify: the chain is broken\n  2  could not run (bad configuration, guard unreachable)"
    )]
    Guard(GuardArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// Configuration file with targets, store and evaluation policy.
    #[arg(
        long,
        env = "ANQUAN_CONFIG",
        default_value = "anquan.toml",
        value_name = "FILE"
    )]
    pub(crate) config: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Target id: a `[targets.<id>]` table of the configuration.
    #[arg(long, value_name = "ID", required_unless_present_any = ["resume", "list_attacks"])]
    pub(crate) target: Option<String>,
    /// Banks: `builtin:NAME` or JSONL paths, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "builtin:generated_content,builtin:should_refuse,builtin:should_not_refuse",
        value_name = "BANK,…"
    )]
    pub(crate) banks: Vec<String>,
    /// Attacks, comma-separated (`direct` = items as written). `anquan eval --list-attacks` lists them.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "direct",
        value_name = "ID,…"
    )]
    pub(crate) attacks: Vec<String>,
    /// Items drawn per bank. Default: the standard's sample size from the catalog.
    #[arg(long, value_name = "N")]
    pub(crate) sample: Option<u64>,
    /// Seed of the stratified sample (the same seed draws the same items on every machine).
    #[arg(long, default_value_t = 7, value_name = "S")]
    pub(crate) seed: u64,
    /// Refuse to start when the run would send more requests than this.
    #[arg(long, value_name = "N")]
    pub(crate) max_requests: Option<u64>,
    /// Refuse to start when the run may use more tokens (estimated) than this.
    #[arg(long, value_name = "N")]
    pub(crate) max_tokens: Option<u64>,
    /// Also judge with this target as an LLM judge (overrides `[eval] judge-target`).
    #[arg(long, value_name = "ID")]
    pub(crate) judge_target: Option<String>,
    /// Replay identical requests from the response cache instead of sending them again.
    #[arg(long)]
    pub(crate) cache: bool,
    /// Continue a stopped or crashed run; only trials not yet committed are run.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["target", "sample"])]
    pub(crate) resume: Option<String>,
    /// Also write the report here when the run ends (format from the extension: .html, .md, .json).
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// List the attacks and exit.
    #[arg(long)]
    pub(crate) list_attacks: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ReportFormat {
    Html,
    Md,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Run id, or `latest`.
    #[arg(value_name = "RUN_ID")]
    pub(crate) run: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "html")]
    pub(crate) format: ReportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RunsArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TourArgs {
    /// Check update periods as of this date (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE")]
    pub(crate) today: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CatalogArgs {
    #[command(subcommand)]
    pub(crate) command: CatalogCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum FrameworkArg {
    /// AI Safety Governance Framework 2.0 (§3).
    #[value(name = "2.0", alias = "fw2")]
    Fw2,
    /// AI Safety Governance Framework 1.0 (§3).
    #[value(name = "1.0", alias = "fw1")]
    Fw1,
    /// GB/T 45654-2025 annex A (31 risks in 5 categories).
    #[value(name = "gbt45654", alias = "a")]
    Gbt45654,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ExportFormat {
    /// One JSON document with every record.
    Json,
    /// One CSV row per record: kind, id, names, descriptions, source.
    Csv,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CatalogCommand {
    /// List the risks of a taxonomy.
    #[command(
        long_about = "List the risks of a taxonomy: Framework 2.0 §3 (3.1 intrinsic, 3.2 application, 3.3 derived), \
Framework 1.0 §3, or GB/T 45654-2025 annex A (A.1-A.5, 31 risks).",
        after_long_help = "Examples:\n  anquan catalog risks --framework gbt45654 --tree\n  anquan catalog risks --framework 2.0 --lang en --json"
    )]
    Risks {
        /// Which taxonomy.
        #[arg(long, value_enum, default_value = "2.0")]
        framework: FrameworkArg,
        /// Indent risks under their classes and groups.
        #[arg(long)]
        tree: bool,
    },
    /// Show any record with everything linked to it.
    #[command(
        long_about = "Show any catalog record (risk, measure, guideline, standard, direction, clause, label rule, \
term, …) with its source and everything linked to it, both ways.",
        after_long_help = "Examples:\n  anquan catalog show A.1.c\n  anquan catalog show gbt45654.eval.should_refuse --lang en"
    )]
    Show {
        /// Record id, e.g. `A.1.c`, `fw2.3.1.1.a`, `gbt45654.keywords.size`.
        id: String,
    },
    /// Map a risk to measures, guidelines, standards, clauses and the anquan commands that test it.
    #[command(
        long_about = "Map a risk to everything that answers it: the risks of the other taxonomies it maps to, \
Framework measures and guidelines, standards (standards system annex 1), GB/T 45654 clauses and \
requirements, white-paper threats and tools, and the anquan commands that test it. \
`--untested` lists the risks no anquan command tests yet.",
        after_long_help = "Examples:\n  anquan catalog map A.1.c\n  anquan catalog map --untested --framework 2.0 --lang en"
    )]
    Map {
        /// Risk id, e.g. `A.2.e` or `fw2.3.1.1.a`.
        #[arg(required_unless_present = "untested")]
        risk: Option<String>,
        /// List the lettered risks that no anquan command tests, not even a planned one.
        #[arg(long, conflicts_with = "risk")]
        untested: bool,
        /// Taxonomy for `--untested`.
        #[arg(long, value_enum, default_value = "2.0", requires = "untested")]
        framework: FrameworkArg,
    },
    /// List the standards with number and status.
    #[command(
        long_about = "List the standards of the AI safety standards system V1.0 (annex 2 list and annex 3 key \
directions) and later ones, with number and status. Status is the seed's (2025-01) unless a later \
source updates it; updates are marked.",
        after_long_help = "Examples:\n  anquan catalog standards --status published\n  anquan catalog standards --lang en --json"
    )]
    Standards {
        /// Only standards with this current status.
        #[arg(long, value_parser = ["published", "draft_for_approval", "draft_for_comments", "drafting", "planned"])]
        status: Option<String>,
    },
    /// Show the standards system's five parts and the tree of key directions (AA…EC).
    #[command(
        long_about = "Show the five parts of the AI safety standards system V1.0 (基础共性, 安全管理, 关键技术, \
测试评估, 产品与应用) and the whole tree of key directions of its annex 3, with the standards under each.",
        after_long_help = "Examples:\n  anquan catalog directions\n  anquan catalog directions --lang en --json"
    )]
    Directions,
    /// List the clauses with numbers, their thresholds and verification status.
    #[command(
        long_about = "List the clauses with numbers (GB/T 45654-2025 and TC260-003: keyword library, test banks, \
sampling sizes, pass and refusal rates, the 5 % source rule, update periods, the repeat-offender \
rule, log retention) with their typed thresholds and verification status, and the clauses without \
numbers an assessment must still answer.",
        after_long_help = "Examples:\n  anquan catalog clauses\n  anquan catalog clauses --lang en --json"
    )]
    Clauses,
    /// Search names, descriptions, ids and aliases, in Chinese or English.
    #[command(
        long_about = "Search every record's id, names, descriptions, aliases and standard numbers, in Chinese or \
English, case-insensitively. Best matches first.",
        after_long_help = "Examples:\n  anquan catalog search 护栏\n  anquan catalog search \"prompt injection\" --lang en"
    )]
    Search {
        /// Text to find.
        text: String,
        /// Only records of this kind (`risk`, `measure`, `guideline`, `standard`, `clause`, …).
        #[arg(long)]
        kind: Option<String>,
        /// At most this many results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Export the whole catalog as JSON or CSV.
    #[command(
        long_about = "Export every record of the catalog as one JSON document (shape `anquan.catalog.v1`) or as CSV \
(one row per record: kind, id, zh and en names and descriptions, source).",
        after_long_help = "Examples:\n  anquan catalog export --format json --output catalog.json\n  anquan catalog export --format csv > catalog.csv"
    )]
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Validate a catalog folder: schema, ids, references, languages, sources, order, counts.
    #[command(
        long_about = "Validate a catalog (the embedded one, or a folder given with --catalog) for users who maintain \
a newer catalog: every file parses with the schema, ids are unique, references resolve, both \
languages are present, every record cites a source, records are in canonical order, no radical \
look-alike characters, and the counts the sources fix hold (31 annex-A risks, 17 in A.1+A.2, …). \
Exits 1 when any problem is found, listing each with its file and record.",
        after_long_help = "Examples:\n  anquan catalog validate\n  anquan catalog validate --catalog ./my-catalog --json"
    )]
    Validate,
}

#[derive(Debug, Args)]
pub(crate) struct BankArgs {
    #[command(subcommand)]
    pub(crate) command: BankCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum BankFormat {
    /// One JSON item per line (the bank format).
    Jsonl,
    /// CSV: id, bank, risk_ids, lang, style, expected, prompt, source, license, added.
    Csv,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BankCommand {
    /// Check banks against the clause data; exit 1 when one falls short.
    #[command(
        long_about = "Check each bank against the catalog's clauses for its kind (gbt45654.bank.gc.size, \
.gc.coverage, .gc.update; gbt45654.bank.should_refuse; gbt45654.bank.should_not_refuse; \
gbt45654.bank.refusal.update): item count, coverage of the 31 / 17 risks or 13 aspects with their \
per-item floors, the newest item's age against the monthly update rule, duplicate ids, \
near-duplicates (texts normalized by the detection engine's normalizer, character-bigram Jaccard \
≥ 0.9), unknown ids, and malformed lines (named by line number; the rest is still checked). \
Prints a per-risk table with pass/fail and says plainly when a bank is below the standard.",
        after_long_help = "Examples:\n  anquan bank check builtin:generated_content builtin:should_refuse builtin:should_not_refuse\n  anquan bank check my-bank.jsonl --today 2026-12-01 --json"
    )]
    Check {
        /// Bank files (JSONL) or `builtin:NAME`.
        #[arg(required = true)]
        banks: Vec<String>,
        /// Check the update period as of this date (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
    },
    /// List the built-in banks with their sizes.
    #[command(after_long_help = "Examples:\n  anquan bank list\n  anquan bank list --json")]
    List,
    /// Show one item of the built-in banks (or of `--bank FILE`).
    #[command(
        after_long_help = "Examples:\n  anquan bank show sr-A.1.h-0003\n  anquan bank show gc-en-A.2.e-0001 --json"
    )]
    Show {
        /// Item id.
        id: String,
        /// Look in this bank instead of the built-in ones.
        #[arg(long, value_name = "FILE")]
        bank: Option<String>,
    },
    /// Counts by risk or aspect, style, language and source.
    #[command(
        after_long_help = "Examples:\n  anquan bank stats builtin:should_not_refuse\n  anquan bank stats my-bank.jsonl --json"
    )]
    Stats {
        /// Bank file or `builtin:NAME`.
        bank: String,
    },
    /// A reproducible stratified sample that keeps every risk's share (the standard's ≥ 1,000 and ≥ 300 draws).
    #[command(
        long_about = "Draw a reproducible stratified sample: every risk (first risk id) gets its share of N by \
largest remainder, items chosen by a seeded shuffle; the same seed gives the same sample on every \
machine. GB/T 45654 draws ≥ 1,000 generated-content questions and ≥ 300 from each refusal bank \
(see `anquan catalog show gbt45654.eval.gc`).",
        after_long_help = "Examples:\n  anquan bank sample builtin:generated_content --n 1000 --seed 7 > draw.jsonl\n  anquan bank sample builtin:should_refuse --n 300 --seed 1 --output sr-draw.jsonl"
    )]
    Sample {
        /// Bank file or `builtin:NAME`.
        bank: String,
        /// Items to draw.
        #[arg(long)]
        n: usize,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Import a bank from CSV, XLSX or JSONL with a column mapping.
    #[command(
        long_about = "Import a bank that arrives as a spreadsheet (CSV, TSV, XLSX/XLS/ODS first sheet) or as JSONL \
objects: `--map FIELD=COLUMN` names the column of each field (prompt, risk, id, style, notes, \
source, license, added; unmapped fields use a column of the field's own name). Risk cells may hold \
annex-A ids (A.1.c), exact Chinese or English names or aliases (煽动分裂国家、破坏国家统一和社会稳定), \
or for a should-not-refuse bank the aspect id or name (历史), several separated by , ; 、 |. Missing \
ids are assigned in the bank's scheme. Rows that cannot be imported are listed by row number and \
skipped (exit 1); the rest is written as canonical JSONL, ready for `anquan bank check`.",
        after_long_help = "Examples:\n  anquan bank import 题库.xlsx --bank should_refuse --map prompt=问题 --map risk=风险类别 --output sr.jsonl\n  anquan bank import items.csv --bank should_not_refuse --lang en --map prompt=question --map risk=aspect"
    )]
    Import {
        /// CSV, TSV, XLSX, XLS, ODS or JSONL file.
        file: PathBuf,
        /// Which bank the items belong to.
        #[arg(long, value_parser = ["generated_content", "should_refuse", "should_not_refuse"])]
        bank: String,
        /// Language of the items.
        #[arg(long = "item-lang", default_value = "zh", value_parser = ["zh", "en"])]
        item_lang: String,
        /// FIELD=COLUMN, repeatable.
        #[arg(long = "map", value_name = "FIELD=COLUMN")]
        map: Vec<String>,
        /// Date recorded as `added` where the file has none (YYYY-MM-DD); default today.
        #[arg(long)]
        added: Option<String>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Export a bank as JSONL or CSV.
    #[command(
        after_long_help = "Examples:\n  anquan bank export builtin:should_refuse --format csv --output sr.csv\n  anquan bank export builtin:generated_content.en > gc-en.jsonl"
    )]
    Export {
        /// Bank file or `builtin:NAME`.
        bank: String,
        /// Format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: BankFormat,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct KeywordsArgs {
    #[command(subcommand)]
    pub(crate) command: KeywordsCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeywordsCommand {
    /// Validate libraries against the clause data; exit 1 when they fall short.
    #[command(
        long_about = "Validate one or more keyword libraries (checked together, as one library) against the \
catalog's clauses gbt45654.keywords.size, .coverage and .update: distinct keywords after \
normalization, every risk of A.1 and A.2 covered with its per-risk floor, and the `updated:` date \
within the update period. Also lists duplicates, keywords that normalize to the same form, \
keywords with unknown risk ids, and malformed lines (by line number; the rest is still checked). \
Then measures false positives: the keywords that fire on text known to be benign (by default the \
prompts of the built-in should-not-refuse banks, Chinese and English; or your own corpus with \
--benign), per 10,000 texts, with the keywords that fire most and an example each. Benign hits \
are advice (add an allow-list phrase, or make the keyword longer or exact); they do not change \
the exit status, which the standard's clauses decide. Says plainly when the library is below the \
standard, and exits 1 then.",
        after_long_help = "Examples:\n  anquan keywords check my-keywords.tsv extra.tsv\n  anquan keywords check builtin:starter --lang en\n  anquan keywords check mine.tsv --benign ../shared/datasets/cold/dev.csv --benign-column TEXT --benign-where label=0\n  anquan keywords check mine.tsv --benign news.txt --allow allow.txt --json"
    )]
    Check {
        /// Library files (TSV), or `builtin:starter`.
        #[arg(required = true)]
        libraries: Vec<String>,
        /// Check the update period as of this date (YYYY-MM-DD) instead of today.
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
        /// Benign corpus for the false-positive check: `.txt` (one text per line), `.jsonl` (a
        /// `text` or `prompt` field) or `.csv` (see --benign-column). Repeatable.
        #[arg(long, value_name = "FILE")]
        benign: Vec<PathBuf>,
        /// CSV column holding the text (default: `text` or `TEXT`, whichever the header has).
        #[arg(long, value_name = "NAME")]
        benign_column: Option<String>,
        /// Only CSV rows where COLUMN equals VALUE (e.g. `label=0` for the safe rows).
        #[arg(long, value_name = "COLUMN=VALUE")]
        benign_where: Option<String>,
        /// Allow list (one phrase per line, `#` comments) for the false-positive check; default
        /// the built-in starter allow list.
        #[arg(long, value_name = "FILE")]
        allow: Option<PathBuf>,
        /// Skip the false-positive check.
        #[arg(long)]
        no_benign: bool,
    },
    /// Counts of a library by risk, severity, source and match mode.
    #[command(
        after_long_help = "Examples:\n  anquan keywords stats builtin:starter\n  anquan keywords stats my-keywords.tsv --json"
    )]
    Stats {
        /// Library file (TSV or JSONL), or `builtin:starter`.
        library: String,
    },
    /// Merge libraries into one canonical TSV: duplicates removed, risk ids united.
    #[command(
        long_about = "Merge keyword libraries (TSV or JSONL) into one canonical TSV: keywords sorted, exact \
duplicates merged (risk ids united, the highest severity kept, sources joined), malformed lines \
reported by file and line and left out. The header gets the name, version and updated date you give.",
        after_long_help = "Examples:\n  anquan keywords merge builtin:starter mine.tsv --name acme --lib-version 2026.12 --output acme.tsv\n  anquan keywords merge a.tsv b.jsonl --updated 2026-12-01 > merged.tsv"
    )]
    Merge {
        /// Library files, or `builtin:starter`.
        #[arg(required = true)]
        libraries: Vec<String>,
        /// Name in the header.
        #[arg(long, default_value = "merged")]
        name: String,
        /// Version in the header.
        #[arg(long = "lib-version", default_value = "1")]
        lib_version: String,
        /// `updated:` date in the header (YYYY-MM-DD); default today.
        #[arg(long)]
        updated: Option<String>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Show what the normalizer makes of a text, stage by stage.
    #[command(
        long_about = "Show what the normalizer makes of a text, stage by stage (NFKC and width, radical \
look-alikes, case, traditional to simplified, look-alike letters, invisible characters, \
separators, split components), to see why a keyword matches or not.",
        after_long_help = "Examples:\n  anquan keywords normalize \"賭 * 博\"\n  anquan keywords normalize \"Ｆ.Ｕ.Ｃ.Ｋ\" --json"
    )]
    Normalize {
        /// Text to normalize.
        text: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Text to scan; `-` reads standard input.
    #[arg(conflicts_with = "file")]
    pub(crate) text: Option<String>,
    /// Read the text from this file (UTF-8).
    #[arg(long, short)]
    pub(crate) file: Option<PathBuf>,
    /// Keyword library (TSV) instead of the built-in starter library.
    #[arg(long, value_name = "FILE")]
    pub(crate) library: Option<PathBuf>,
    /// Allow list: benign phrases (one per line, `#` comments) inside which keywords do not count.
    #[arg(long, value_name = "FILE")]
    pub(crate) allow: Option<PathBuf>,
    /// Print the text with personal information masked instead of the findings.
    #[arg(long)]
    pub(crate) mask: bool,
    /// Do not look for personal information.
    #[arg(long)]
    pub(crate) no_pii: bool,
    /// Do not match keywords.
    #[arg(long)]
    pub(crate) no_keywords: bool,
}

#[derive(Debug, Args)]
pub(crate) struct GradeArgs {
    /// Answers file (TOML or JSON): `profile = "…"` and an `[answers]` table of question key = option value.
    #[arg(long, value_name = "FILE")]
    pub(crate) answers: Option<PathBuf>,
    /// Print the questions and their options instead of grading.
    #[arg(long, conflicts_with = "answers")]
    pub(crate) questions: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
        assert!(super::EXIT_CODES.contains("could not run"));
    }
}

#[derive(Debug, Args)]
pub(crate) struct JudgeArgs {
    #[command(subcommand)]
    pub(crate) command: JudgeCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum JudgeCommand {
    /// Score a judge against labelled data.
    #[command(
        after_long_help = "Examples:\n  anquan judge bench ../shared/datasets/xstest/model_completions/xstest_v2_completions_gpt4.csv --judge refusal --text completion --label final_label --positive 2_full_refusal\n  anquan judge bench ../shared/datasets/cold/dev.csv --judge classifier --text TEXT --label label --positive 1\n  anquan judge bench answers.jsonl --judge llm:judge --expect refuse --label human --positive refused --json"
    )]
    Bench(JudgeBenchArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ExpectArg {
    /// The prompt should be refused (positive = refused).
    Refuse,
    /// The prompt should be answered (positive = refused).
    Answer,
    /// The answer should be free of unsafe content (positive = unsafe).
    SafeAnswer,
}

#[derive(Debug, Args)]
pub(crate) struct JudgeBenchArgs {
    /// Labelled file: `.csv` (with a header) or `.jsonl`.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Judge: refusal, classifier, keyword, pii or llm:TARGET.
    #[arg(long, value_name = "ID")]
    pub(crate) judge: String,
    /// Column (CSV) or field (JSONL) with the text to judge (the model's answer).
    #[arg(long, default_value = "text", value_name = "COL")]
    pub(crate) text: String,
    /// Column with the prompt, when the file has one.
    #[arg(long, value_name = "COL")]
    pub(crate) prompt: Option<String>,
    /// Column with the human label.
    #[arg(long, default_value = "label", value_name = "COL")]
    pub(crate) label: String,
    /// Label values that mean positive (refused, or unsafe), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "VALUE,…")]
    pub(crate) positive: Vec<String>,
    /// What the prompts expect (picks the LLM judge's template and the refusal judge's reading).
    #[arg(long, value_enum)]
    pub(crate) expect: Option<ExpectArg>,
    /// Judge at most this many rows (from the top).
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct GuardArgs {
    #[command(subcommand)]
    pub(crate) command: Option<GuardCommand>,
    #[command(flatten)]
    pub(crate) run: GuardConfigArg,
}

#[derive(Debug, Args)]
pub(crate) struct GuardConfigArg {
    /// The guard's configuration file (see examples/guard.toml).
    #[arg(
        long,
        env = "ANQUAN_GUARD_CONFIG",
        default_value = "guard.toml",
        value_name = "FILE"
    )]
    pub(crate) config: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GuardCommand {
    /// Start the proxy (the default without a subcommand).
    Run(GuardConfigArg),
    /// Turn the kill switch on: new requests get 503 and streams in flight end within a second.
    Kill(GuardTenantArgs),
    /// Turn the kill switch off.
    Resume(GuardTenantArgs),
    /// Show the running guard's state: kill switch, requests in flight, suspended users.
    Status(GuardTenantArgs),
    /// Lift a user's suspension.
    Lift(GuardLiftArgs),
    /// Work on the hash-chained audit log.
    Audit(GuardAuditArgs),
    /// Print the SHA-256 of a client API key, for `[[keys]] sha256` in guard.toml.
    HashKey(GuardHashKeyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GuardTenantArgs {
    /// Only this tenant (default: global).
    #[arg(long, value_name = "TENANT")]
    pub(crate) tenant: Option<String>,
    #[command(flatten)]
    pub(crate) config: GuardConfigArg,
}

#[derive(Debug, Args)]
pub(crate) struct GuardLiftArgs {
    /// The end user.
    #[arg(value_name = "USER")]
    pub(crate) user: String,
    /// The user's tenant.
    #[arg(long, default_value = "default", value_name = "TENANT")]
    pub(crate) tenant: String,
    #[command(flatten)]
    pub(crate) config: GuardConfigArg,
}

#[derive(Debug, Args)]
pub(crate) struct GuardAuditArgs {
    #[command(subcommand)]
    pub(crate) command: GuardAuditCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum GuardAuditFormat {
    /// One JSON record per line, with its seq, prev_hash and hash.
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GuardAuditCommand {
    /// Recompute the hash chain; exit 1 and name the first bad record when it is broken.
    Verify(GuardConfigArg),
    /// Write every record (with its hashes) to stdout or a file.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: GuardAuditFormat,
        /// Write here instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        config: GuardConfigArg,
    },
    /// Delete records older than the retention (from clause gbt45654.logs.retention), keeping the
    /// chain verifiable.
    Prune {
        /// Keep this many days instead (at least the catalog's minimum).
        #[arg(long, value_name = "DAYS")]
        retention_days: Option<u32>,
        #[command(flatten)]
        config: GuardConfigArg,
    },
}

#[derive(Debug, Args)]
pub(crate) struct GuardHashKeyArgs {
    /// The key (`-` reads it from standard input, so it stays out of the shell history).
    #[arg(value_name = "KEY")]
    pub(crate) key: String,
}
