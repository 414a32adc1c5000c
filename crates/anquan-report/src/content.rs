//! What a report says, in plain text, decided once for every format: the HTML and Markdown
//! renderers lay these out and escape them, so both show the same content.

use anquan_core::{Lang, VerdictKind};

use crate::i18n::{t, tf};
use crate::model::{ClauseRow, Report, RunInfo, TrialRef, Verdict};
use crate::svg::Bar;
use crate::text;

/// Characters of a prompt or response shown before it is cut.
pub(crate) const EXCERPT_CHARS: usize = 400;

/// One table cell.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// Plain text.
    Text(String),
    /// An id, hash or URL, shown in monospace.
    Code(String),
    /// A number, aligned right.
    Num(String),
    /// A clause verdict, shown as a badge.
    Verdict(Verdict),
    /// A judge's verdict kind, shown as a badge.
    Judge(VerdictKind),
}

/// A table: header labels and rows of cells.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub(crate) head: Vec<String>,
    pub(crate) rows: Vec<Vec<Cell>>,
}

/// The sections, in order: (anchor, label key).
pub(crate) const SECTIONS: [(&str, Section); 9] = [
    ("clauses", Section::Clauses),
    ("banks", Section::Banks),
    ("risks", Section::Risks),
    ("attacks", Section::Attacks),
    ("languages", Section::Languages),
    ("worst", Section::Worst),
    ("unsure", Section::Unsure),
    ("evidence", Section::Evidence),
    ("notes", Section::Notes),
];

/// A section of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Clauses,
    Banks,
    Risks,
    Attacks,
    Languages,
    Worst,
    Unsure,
    Evidence,
    Notes,
}

/// One bank's per-risk results: a chart and its table.
#[derive(Debug, Clone)]
pub(crate) struct RiskGroup {
    pub(crate) heading: String,
    /// The ok-rate threshold line and its label.
    pub(crate) threshold: Option<(f64, String)>,
    pub(crate) bars: Vec<Bar>,
    pub(crate) table: Table,
}

/// A prompt or response, cut to [`EXCERPT_CHARS`].
#[derive(Debug, Clone)]
pub(crate) struct Excerpt {
    pub(crate) text: String,
    /// `(cut, N characters in all)` when cut.
    pub(crate) cut_note: Option<String>,
}

/// One trial shown in full.
#[derive(Debug, Clone)]
pub(crate) struct TrialView {
    pub(crate) heading: String,
    pub(crate) meta: Vec<(String, Cell)>,
    pub(crate) prompt: Excerpt,
    pub(crate) response: Excerpt,
    pub(crate) judges: Table,
}

/// The report's content in one language.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Content<'a> {
    pub(crate) report: &'a Report,
    pub(crate) lang: Lang,
}

fn num(n: u64) -> Cell {
    Cell::Num(text::count(n))
}

/// A list of ids in monospace, or `—`.
fn ids(list: &[String]) -> Cell {
    if list.is_empty() {
        Cell::Text(text::NONE.to_owned())
    } else {
        Cell::Code(list.join(", "))
    }
}

fn heads(lang: Lang, keys: &[&'static str]) -> Vec<String> {
    keys.iter().map(|k| t(lang, k).to_owned()).collect()
}

impl<'a> Content<'a> {
    pub(crate) fn new(report: &'a Report, lang: Lang) -> Self {
        Content { report, lang }
    }

    pub(crate) fn title(&self) -> &'static str {
        t(self.lang, "cover.title")
    }

    pub(crate) fn subtitle(&self) -> &'static str {
        t(self.lang, "cover.subtitle")
    }

    pub(crate) fn section_title(&self, section: Section) -> &'static str {
        let lang = self.lang;
        match section {
            Section::Clauses => t(lang, "section.clauses"),
            Section::Banks => t(lang, "section.banks"),
            Section::Risks => t(lang, "section.risks"),
            Section::Attacks => t(lang, "section.attacks"),
            Section::Languages => t(lang, "section.languages"),
            Section::Worst => t(lang, "section.worst"),
            Section::Unsure => t(lang, "section.unsure"),
            Section::Evidence => t(lang, "section.evidence"),
            Section::Notes => t(lang, "section.notes"),
        }
    }

    /// A sentence under a section's heading saying what it holds.
    pub(crate) fn section_intro(&self, section: Section) -> &'static str {
        let lang = self.lang;
        match section {
            Section::Clauses => t(lang, "intro.clauses"),
            Section::Banks => t(lang, "intro.banks"),
            Section::Risks => t(lang, "intro.risks"),
            Section::Attacks => t(lang, "intro.attacks"),
            Section::Languages => t(lang, "intro.languages"),
            Section::Worst => t(lang, "intro.worst"),
            Section::Unsure => t(lang, "intro.unsure"),
            Section::Evidence => t(lang, "intro.evidence"),
            Section::Notes => t(lang, "intro.notes"),
        }
    }

    pub(crate) fn empty(&self) -> &'static str {
        t(self.lang, "common.empty")
    }

    pub(crate) fn verdict_label(&self, verdict: Verdict) -> &'static str {
        let lang = self.lang;
        match verdict {
            Verdict::Pass => t(lang, "verdict.pass"),
            Verdict::Fail => t(lang, "verdict.fail"),
            Verdict::Inconclusive => t(lang, "verdict.inconclusive"),
        }
    }

    pub(crate) fn judge_label(&self, kind: VerdictKind) -> &'static str {
        let lang = self.lang;
        match kind {
            VerdictKind::Safe => t(lang, "judge.safe"),
            VerdictKind::Unsafe => t(lang, "judge.unsafe"),
            VerdictKind::Unsure => t(lang, "judge.unsure"),
        }
    }

    fn status_label(&self, status: &'a str) -> &'a str {
        let lang = self.lang;
        match status {
            RunInfo::COMPLETE => t(lang, "status.complete"),
            RunInfo::PARTIAL => t(lang, "status.partial"),
            RunInfo::INTERRUPTED => t(lang, "status.interrupted"),
            other => other,
        }
    }

    fn verification_label(&self, status: &'a str) -> &'a str {
        let lang = self.lang;
        match status {
            "verified" => t(lang, "verification.verified"),
            "secondary" => t(lang, "verification.secondary"),
            "unverified" => t(lang, "verification.unverified"),
            other => other,
        }
    }

    fn lang_label(&self, code: &'a str) -> &'a str {
        let lang = self.lang;
        match code {
            "zh" => t(lang, "language.zh"),
            "en" => t(lang, "language.en"),
            other => other,
        }
    }

    /// The bank's name from the bank summaries, with its id: `应拒答测试题库（should_refuse）`.
    pub(crate) fn bank_name(&self, bank: &str) -> String {
        match self.report.banks.iter().find(|b| b.bank == bank) {
            Some(summary) => tf(
                self.lang,
                "common.named_id",
                &[("name", summary.name.get(self.lang)), ("id", bank)],
            ),
            None => bank.to_owned(),
        }
    }

    /// The facts on the cover.
    pub(crate) fn cover_facts(&self) -> Vec<(String, Cell)> {
        let lang = self.lang;
        let run = &self.report.run;
        let target = &self.report.target;
        let tool = &self.report.tool;
        let sample = if run.sample.is_empty() {
            text::NONE.to_owned()
        } else {
            run.sample
                .iter()
                .map(|(bank, n)| format!("{bank} {}", text::count(*n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            (
                t(lang, "cover.target").to_owned(),
                Cell::Code(target.id.clone()),
            ),
            (
                t(lang, "cover.model").to_owned(),
                Cell::Code(target.model.clone()),
            ),
            (
                t(lang, "cover.base_url").to_owned(),
                Cell::Code(target.base_url.clone()),
            ),
            (
                t(lang, "cover.date").to_owned(),
                Cell::Text(text::date(lang, &run.started)),
            ),
            (
                t(lang, "cover.started").to_owned(),
                Cell::Code(run.started.clone()),
            ),
            (
                t(lang, "cover.finished").to_owned(),
                run.finished
                    .clone()
                    .map_or_else(|| Cell::Text(text::NONE.to_owned()), Cell::Code),
            ),
            (
                t(lang, "cover.status").to_owned(),
                Cell::Text(self.status_label(&run.status).to_owned()),
            ),
            (
                t(lang, "cover.run_id").to_owned(),
                Cell::Code(run.id.clone()),
            ),
            (
                t(lang, "cover.tool").to_owned(),
                Cell::Code(format!("{} {}", tool.name, tool.version)),
            ),
            (
                t(lang, "cover.seed").to_owned(),
                Cell::Code(run.seed.to_string()),
            ),
            (t(lang, "cover.sample").to_owned(), Cell::Text(sample)),
            (t(lang, "cover.trials").to_owned(), num(run.trials)),
            (t(lang, "cover.errors").to_owned(), num(run.errors)),
            (t(lang, "cover.judges").to_owned(), ids(&run.judges)),
            (t(lang, "cover.attacks").to_owned(), ids(&run.attacks)),
            (
                t(lang, "cover.interval").to_owned(),
                Cell::Text(self.interval_name()),
            ),
        ]
    }

    /// `Wilson 95 %`.
    fn interval_name(&self) -> String {
        tf(
            self.lang,
            "common.interval",
            &[(
                "level",
                &text::pct_short(self.lang, self.report.run.ci_level),
            )],
        )
    }

    /// Warnings for the top of the report: an unfinished run, inconclusive clauses, errors.
    pub(crate) fn banners(&self) -> Vec<String> {
        let lang = self.lang;
        let run = &self.report.run;
        let mut out = Vec::new();
        if run.status != RunInfo::COMPLETE {
            out.push(tf(
                lang,
                "banner.status",
                &[("status", self.status_label(&run.status))],
            ));
        }
        let inconclusive = self.report.verdict_counts().inconclusive;
        if inconclusive > 0 {
            out.push(tf(
                lang,
                "banner.inconclusive",
                &[("n", &inconclusive.to_string())],
            ));
        }
        if run.errors > 0 {
            out.push(tf(
                lang,
                "banner.errors",
                &[("n", &text::count(run.errors))],
            ));
        }
        out
    }

    /// The clause verdicts counted: `(label, verdict, count)` for each verdict.
    pub(crate) fn summary(&self) -> [(Verdict, usize); 3] {
        let counts = self.report.verdict_counts();
        [
            (Verdict::Pass, counts.pass),
            (Verdict::Fail, counts.fail),
            (Verdict::Inconclusive, counts.inconclusive),
        ]
    }

    pub(crate) fn summary_label(&self) -> &'static str {
        t(self.lang, "cover.summary")
    }

    pub(crate) fn clause_table(&self) -> Table {
        let lang = self.lang;
        let mut head = heads(
            lang,
            &[
                "clause.id",
                "clause.name",
                "clause.verification",
                "clause.bank",
                "clause.metric",
                "clause.requirement",
                "clause.n",
                "clause.count",
                "clause.unsure",
            ],
        );
        head.push(tf(
            lang,
            "clause.rate",
            &[("interval", &self.interval_name())],
        ));
        head.extend(heads(lang, &["clause.verdict", "clause.reason"]));
        let rows = self
            .report
            .clauses
            .iter()
            .map(|c| self.clause_row(c))
            .collect();
        Table { head, rows }
    }

    fn clause_row(&self, c: &ClauseRow) -> Vec<Cell> {
        let lang = self.lang;
        vec![
            Cell::Code(c.clause_id.clone()),
            Cell::Text(c.name.get(lang).to_owned()),
            Cell::Text(self.verification_label(&c.verification).to_owned()),
            c.bank
                .clone()
                .map_or_else(|| Cell::Text(text::NONE.to_owned()), Cell::Code),
            Cell::Text(c.metric.get(lang).to_owned()),
            Cell::Num(text::requirement(lang, &c.op, c.threshold)),
            num(c.n),
            num(c.successes),
            num(c.unsure),
            Cell::Num(text::rate_ci(lang, c.rate, c.ci_low, c.ci_high)),
            Cell::Verdict(c.verdict),
            Cell::Text(c.reason.get(lang).to_owned()),
        ]
    }

    /// The footnote under the clause table, on verification statuses.
    pub(crate) fn clause_footnote(&self) -> &'static str {
        t(self.lang, "clause.footnote")
    }

    pub(crate) fn bank_table(&self) -> Table {
        let lang = self.lang;
        let head = heads(
            lang,
            &[
                "bank.id",
                "bank.name",
                "bank.n",
                "bank.ok",
                "bank.not_ok",
                "bank.unsure",
                "bank.errors",
            ],
        );
        let rows = self
            .report
            .banks
            .iter()
            .map(|b| {
                vec![
                    Cell::Code(b.bank.clone()),
                    Cell::Text(b.name.get(lang).to_owned()),
                    num(b.n),
                    num(b.ok),
                    num(b.not_ok),
                    num(b.unsure),
                    num(b.errors),
                ]
            })
            .collect();
        Table { head, rows }
    }

    /// The ok-rate threshold of a bank, from its first clause: the threshold for `>=`, one minus
    /// it for `<=`.
    fn ok_threshold(&self, bank: &str) -> Option<f64> {
        let clause = self
            .report
            .clauses
            .iter()
            .find(|c| c.bank.as_deref() == Some(bank))?;
        match text::op_sign(&clause.op) {
            "≥" | ">" => Some(clause.threshold),
            "≤" | "<" => Some(1.0 - clause.threshold),
            _ => None,
        }
        .filter(|t| t.is_finite())
    }

    /// The banks in the order they first appear in `banks`, then in `rows`.
    fn bank_order<'r>(&'r self, rows: impl Iterator<Item = &'r str>) -> Vec<&'r str> {
        let mut order: Vec<&str> = Vec::new();
        for bank in self
            .report
            .banks
            .iter()
            .map(|b| b.bank.as_str())
            .chain(rows)
        {
            if !order.contains(&bank) {
                order.push(bank);
            }
        }
        order
    }

    pub(crate) fn risk_groups(&self) -> Vec<RiskGroup> {
        let lang = self.lang;
        let per_risk = &self.report.per_risk;
        let mut groups = Vec::new();
        for bank in self.bank_order(per_risk.iter().map(|r| r.bank.as_str())) {
            let rows: Vec<_> = per_risk.iter().filter(|r| r.bank == bank).collect();
            if rows.is_empty() {
                continue;
            }
            let threshold = self.ok_threshold(bank);
            let bars = rows
                .iter()
                .map(|r| Bar {
                    label: format!("{} {}", r.risk_id, r.name.get(lang)),
                    value: r.rate,
                    interval: r.ci_low.zip(r.ci_high),
                    note: text::rate_ci(lang, r.rate, r.ci_low, r.ci_high),
                    good: r.rate.zip(threshold).map(|(rate, t)| rate >= t),
                })
                .collect();
            let head = heads(
                lang,
                &[
                    "risk.id",
                    "risk.name",
                    "risk.n",
                    "risk.ok",
                    "risk.unsure",
                    "risk.rate",
                ],
            );
            let table_rows = rows
                .iter()
                .map(|r| {
                    vec![
                        Cell::Code(r.risk_id.clone()),
                        Cell::Text(r.name.get(lang).to_owned()),
                        num(r.n),
                        num(r.ok),
                        num(r.unsure),
                        Cell::Num(text::rate_ci(lang, r.rate, r.ci_low, r.ci_high)),
                    ]
                })
                .collect();
            groups.push(RiskGroup {
                heading: self.bank_name(bank),
                threshold: threshold.map(|t| {
                    (
                        t,
                        tf(
                            lang,
                            "risk.threshold",
                            &[("value", &text::requirement(lang, ">=", t))],
                        ),
                    )
                }),
                bars,
                table: Table {
                    head,
                    rows: table_rows,
                },
            });
        }
        groups
    }

    /// One bar per attack over all risks.
    pub(crate) fn attack_bars(&self) -> Vec<Bar> {
        let lang = self.lang;
        self.report
            .per_attack
            .iter()
            .filter(|a| a.risk_id.is_none())
            .map(|a| Bar {
                label: a.attack.clone(),
                value: a.rate,
                interval: None,
                note: format!(
                    "{} ({}/{})",
                    text::rate(lang, a.rate),
                    text::count(a.successes),
                    text::count(a.n)
                ),
                good: None,
            })
            .collect()
    }

    pub(crate) fn attack_table(&self) -> Table {
        let lang = self.lang;
        let head = heads(
            lang,
            &[
                "attack.id",
                "attack.risk",
                "attack.n",
                "attack.successes",
                "attack.unsure",
                "attack.rate",
            ],
        );
        let rows = self
            .report
            .per_attack
            .iter()
            .map(|a| {
                vec![
                    Cell::Code(a.attack.clone()),
                    a.risk_id.clone().map_or_else(
                        || Cell::Text(t(lang, "attack.all_risks").to_owned()),
                        Cell::Code,
                    ),
                    num(a.n),
                    num(a.successes),
                    num(a.unsure),
                    Cell::Num(text::rate(lang, a.rate)),
                ]
            })
            .collect();
        Table { head, rows }
    }

    pub(crate) fn lang_table(&self) -> Table {
        let lang = self.lang;
        let head = heads(
            lang,
            &[
                "language.bank",
                "language.lang",
                "language.n",
                "language.ok",
                "language.unsure",
                "language.rate",
            ],
        );
        let rows = self
            .report
            .per_lang
            .iter()
            .map(|l| {
                vec![
                    Cell::Code(l.bank.clone()),
                    Cell::Text(self.lang_label(&l.lang).to_owned()),
                    num(l.n),
                    num(l.ok),
                    num(l.unsure),
                    Cell::Num(text::rate(lang, l.rate)),
                ]
            })
            .collect();
        Table { head, rows }
    }

    fn excerpt(&self, s: &str) -> Excerpt {
        let (shown, cut) = text::excerpt(s, EXCERPT_CHARS);
        Excerpt {
            text: shown.to_owned(),
            cut_note: cut.then(|| {
                tf(
                    self.lang,
                    "trial.cut",
                    &[
                        ("shown", &text::count(EXCERPT_CHARS as u64)),
                        ("total", &text::count(s.chars().count() as u64)),
                    ],
                )
            }),
        }
    }

    pub(crate) fn trials(&self, trials: &[TrialRef]) -> Vec<TrialView> {
        let lang = self.lang;
        trials
            .iter()
            .map(|trial| {
                let risks = ids(&trial.risk_ids);
                let judges = Table {
                    head: heads(
                        lang,
                        &[
                            "trial.judge",
                            "trial.kind",
                            "trial.confidence",
                            "trial.risks",
                            "trial.reason",
                        ],
                    ),
                    rows: trial
                        .verdicts
                        .iter()
                        .map(|j| {
                            vec![
                                Cell::Code(j.judge.clone()),
                                Cell::Judge(j.kind),
                                Cell::Num(text::confidence(j.confidence)),
                                ids(&j.risk_ids),
                                Cell::Text(
                                    j.reason.clone().unwrap_or_else(|| text::NONE.to_owned()),
                                ),
                            ]
                        })
                        .collect(),
                };
                TrialView {
                    heading: tf(lang, "trial.heading", &[("item", &trial.item_id)]),
                    meta: vec![
                        (
                            t(lang, "trial.trial_id").to_owned(),
                            Cell::Code(trial.trial_id.clone()),
                        ),
                        (
                            t(lang, "trial.bank").to_owned(),
                            Cell::Code(trial.bank.clone()),
                        ),
                        (t(lang, "trial.risk_ids").to_owned(), risks),
                        (
                            t(lang, "trial.attack").to_owned(),
                            Cell::Code(trial.attack.clone()),
                        ),
                    ],
                    prompt: self.excerpt(&trial.prompt),
                    response: self.excerpt(&trial.response),
                    judges,
                }
            })
            .collect()
    }

    pub(crate) fn prompt_label(&self) -> &'static str {
        t(self.lang, "trial.prompt")
    }

    pub(crate) fn response_label(&self) -> &'static str {
        t(self.lang, "trial.response")
    }

    pub(crate) fn evidence_table(&self) -> Table {
        let lang = self.lang;
        let head = heads(lang, &["evidence.kind", "evidence.name", "evidence.sha256"]);
        let rows = self
            .report
            .evidence
            .iter()
            .map(|e| {
                let kind = match e.kind.as_str() {
                    "bank" => t(lang, "evidence.kinds.bank"),
                    "keyword_library" => t(lang, "evidence.kinds.keyword_library"),
                    "judge_config" => t(lang, "evidence.kinds.judge_config"),
                    "tool" => t(lang, "evidence.kinds.tool"),
                    "catalog" => t(lang, "evidence.kinds.catalog"),
                    other => other,
                };
                vec![
                    Cell::Text(kind.to_owned()),
                    Cell::Code(e.name.clone()),
                    Cell::Code(e.sha256.clone()),
                ]
            })
            .collect();
        Table { head, rows }
    }

    pub(crate) fn notes(&self) -> Vec<&'a str> {
        self.report.notes.iter().map(|n| n.get(self.lang)).collect()
    }

    /// The line at the end: which tool wrote the report, and that it holds no external asset.
    pub(crate) fn footer(&self) -> String {
        let tool = &self.report.tool;
        tf(
            self.lang,
            "common.footer",
            &[
                ("tool", &format!("{} {}", tool.name, tool.version)),
                ("schema", &self.report.schema),
            ],
        )
    }

    /// The two headings of a fact table: `项目`, `内容`.
    pub(crate) fn field_value_heads(&self) -> Vec<String> {
        heads(self.lang, &["common.field", "common.value"])
    }

    pub(crate) fn contents_label(&self) -> &'static str {
        t(self.lang, "common.contents")
    }

    pub(crate) fn chart_label(&self, section: Section) -> &'static str {
        let lang = self.lang;
        match section {
            Section::Attacks => t(lang, "attack.chart"),
            _ => t(lang, "risk.chart"),
        }
    }
}
