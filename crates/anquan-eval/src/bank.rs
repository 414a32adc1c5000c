//! Bank items, loading, and the validator.

use std::collections::{BTreeMap, HashMap, HashSet};

use anquan_catalog::Catalog;
use anquan_catalog::model::ThresholdKind;
use anquan_core::Text;
use anquan_detect::normalize::Normalizer;
use serde::{Deserialize, Serialize};

/// The three banks of GB/T 45654.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BankKind {
    /// 生成内容测试题库.
    GeneratedContent,
    /// 应拒答测试题库.
    ShouldRefuse,
    /// 非拒答测试题库.
    ShouldNotRefuse,
}

impl BankKind {
    /// Machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            BankKind::GeneratedContent => "generated_content",
            BankKind::ShouldRefuse => "should_refuse",
            BankKind::ShouldNotRefuse => "should_not_refuse",
        }
    }

    /// Id prefix of its items.
    pub fn prefix(self) -> &'static str {
        match self {
            BankKind::GeneratedContent => "gc",
            BankKind::ShouldRefuse => "sr",
            BankKind::ShouldNotRefuse => "snr",
        }
    }

    /// The behaviour its items expect.
    pub fn expected(self) -> &'static str {
        match self {
            BankKind::GeneratedContent => "safe_answer",
            BankKind::ShouldRefuse => "refuse",
            BankKind::ShouldNotRefuse => "answer",
        }
    }

    /// Clause ids that fix its size, coverage and update period.
    pub fn clauses(self) -> &'static [&'static str] {
        match self {
            BankKind::GeneratedContent => &[
                "gbt45654.bank.gc.size",
                "gbt45654.bank.gc.coverage",
                "gbt45654.bank.gc.update",
            ],
            BankKind::ShouldRefuse => &[
                "gbt45654.bank.should_refuse",
                "gbt45654.bank.refusal.update",
            ],
            BankKind::ShouldNotRefuse => &[
                "gbt45654.bank.should_not_refuse",
                "gbt45654.bank.refusal.update",
            ],
        }
    }

    /// Parse a machine name.
    pub fn parse(s: &str) -> Option<BankKind> {
        [
            BankKind::GeneratedContent,
            BankKind::ShouldRefuse,
            BankKind::ShouldNotRefuse,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One chat turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// One bank item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stable id, e.g. `gc-A.1.c-0007`.
    pub id: String,
    /// Which bank.
    pub bank: BankKind,
    /// Annex-A risk ids, or aspect ids for should-not-refuse items.
    pub risk_ids: Vec<String>,
    /// `zh` or `en`.
    pub lang: String,
    /// One or more turns, ending with the user's.
    pub messages: Vec<Message>,
    /// `refuse`, `answer` or `safe_answer`.
    pub expected: String,
    /// direct, indirect, role_play, hypothetical, long_context, multi_turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// Notes for the judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Own writing, or the dataset and row it came from.
    pub source: String,
    /// Licence of the item.
    pub license: String,
    /// Date added (YYYY-MM-DD).
    pub added: String,
}

impl Item {
    /// The text of every turn, joined.
    pub fn text(&self) -> String {
        self.messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The last user turn.
    pub fn prompt(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map_or("", |m| m.content.as_str())
    }
}

/// A line that could not be read, or an item that breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineProblem {
    /// 1-based line number (0 when the problem is about the whole file).
    pub line: usize,
    /// Item id, when known.
    pub id: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// A loaded bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    /// Where it came from (`builtin:should_refuse`, a path).
    pub name: String,
    /// Items in file order, with their line numbers.
    pub items: Vec<(usize, Item)>,
}

/// Parse JSONL. Never fails: bad lines become problems and the rest loads.
pub fn parse_jsonl(name: &str, text: &str) -> (Bank, Vec<LineProblem>) {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Item>(line) {
            Ok(item) => {
                let bad_messages = item.messages.is_empty()
                    || item.messages.last().is_some_and(|m| m.role != "user")
                    || item.messages.iter().any(|m| {
                        !matches!(m.role.as_str(), "system" | "user" | "assistant")
                            || m.content.trim().is_empty()
                    });
                if bad_messages {
                    problems.push(LineProblem { line: i + 1, id: Some(item.id.clone()), message: "`messages` must be non-empty turns with roles system/user/assistant, ending with a user turn".into() });
                    continue;
                }
                items.push((i + 1, item));
            }
            Err(e) => problems.push(LineProblem {
                line: i + 1,
                id: None,
                message: format!("not a valid item: {e}"),
            }),
        }
    }
    (
        Bank {
            name: name.to_owned(),
            items,
        },
        problems,
    )
}

const BUILTIN: &[(&str, &str)] = &[
    (
        "generated_content",
        include_str!("../data/banks/generated_content.zh.jsonl"),
    ),
    (
        "generated_content.en",
        include_str!("../data/banks/generated_content.en.jsonl"),
    ),
    (
        "should_refuse",
        include_str!("../data/banks/should_refuse.zh.jsonl"),
    ),
    (
        "should_refuse.en",
        include_str!("../data/banks/should_refuse.en.jsonl"),
    ),
    (
        "should_not_refuse",
        include_str!("../data/banks/should_not_refuse.zh.jsonl"),
    ),
    (
        "should_not_refuse.en",
        include_str!("../data/banks/should_not_refuse.en.jsonl"),
    ),
];

/// Names of the built-in banks (`builtin:NAME`): the three Chinese banks and their English
/// mirrors (`.en`).
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// A built-in bank by name (`should_refuse`, `should_refuse.en`, …).
pub fn builtin(name: &str) -> Option<(Bank, Vec<LineProblem>)> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| parse_jsonl(&format!("builtin:{n}"), text))
}

/// The raw JSONL of a built-in bank, for export and canonical-form tests.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// One risk's or aspect's count against its floor (the same type the keyword-library check
/// uses; `risk` holds the aspect id for should-not-refuse banks).
pub use anquan_detect::check::RiskCount as Coverage;

/// One clause's verdict (the same type the keyword-library check uses).
pub use anquan_detect::check::ClauseResult as ClauseVerdict;

/// A pair of near-duplicate items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearDuplicate {
    /// First item.
    pub a: String,
    /// Second item.
    pub b: String,
    /// Similarity of their normalized texts (character-bigram Jaccard), 1.0 = identical.
    pub similarity: f64,
}

/// The validator's report on one bank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BankCheck {
    /// Bank name.
    pub name: String,
    /// Bank kind (from its items).
    pub kind: Option<BankKind>,
    /// Items read.
    pub items: usize,
    /// Items by language.
    pub languages: BTreeMap<String, usize>,
    /// Items by style.
    pub styles: BTreeMap<String, usize>,
    /// Per risk or aspect.
    pub coverage: Vec<Coverage>,
    /// Clause verdicts.
    pub clauses: Vec<ClauseVerdict>,
    /// Days since the newest item was added.
    pub age_days: Option<i64>,
    /// Malformed lines and schema breaks.
    pub problems: Vec<LineProblem>,
    /// Ids used more than once.
    pub duplicate_ids: Vec<String>,
    /// Items whose normalized texts are identical or nearly so.
    pub near_duplicates: Vec<NearDuplicate>,
    /// Risk or aspect ids the catalog does not have: (item, id).
    pub unknown_ids: Vec<(String, String)>,
    /// Whether every clause passed and there are no problems or duplicates.
    pub passed: bool,
}

/// An item's id, normalized text and its character bigrams.
type Normed = (String, String, HashSet<(char, char)>);

fn bigrams(s: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = s.chars().collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Near-duplicate threshold on character-bigram Jaccard similarity of normalized texts.
pub const NEAR_DUPLICATE: f64 = 0.9;

/// Check a bank against the catalog's clauses for its kind. `today` is days since 1970-01-01.
pub fn check_bank(
    catalog: &Catalog,
    bank: &Bank,
    load_problems: Vec<LineProblem>,
    normalizer: &Normalizer,
    today: i64,
) -> BankCheck {
    let mut problems = load_problems;
    let mut kinds: BTreeMap<BankKind, usize> = BTreeMap::new();
    for (_, it) in &bank.items {
        *kinds.entry(it.bank).or_default() += 1;
    }
    let kind = kinds.iter().max_by_key(|(_, n)| **n).map(|(k, _)| *k);
    let mut languages = BTreeMap::new();
    let mut styles = BTreeMap::new();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut unknown_ids = Vec::new();
    let mut tagged: HashMap<String, usize> = HashMap::new();
    let mut newest: Option<i64> = None;
    for (line, it) in &bank.items {
        *languages.entry(it.lang.clone()).or_insert(0) += 1;
        *styles
            .entry(it.style.clone().unwrap_or_else(|| "unspecified".into()))
            .or_insert(0) += 1;
        *ids.entry(it.id.as_str()).or_default() += 1;
        if Some(it.bank) != kind {
            problems.push(LineProblem {
                line: *line,
                id: Some(it.id.clone()),
                message: format!(
                    "item of bank `{}` in a `{}` bank",
                    it.bank.as_str(),
                    kind.map_or("?", BankKind::as_str)
                ),
            });
        }
        if it.expected != it.bank.expected() {
            problems.push(LineProblem {
                line: *line,
                id: Some(it.id.clone()),
                message: format!(
                    "`expected` is `{}`; a {} item expects `{}`",
                    it.expected,
                    it.bank.as_str(),
                    it.bank.expected()
                ),
            });
        }
        if !it.id.starts_with(&format!("{}-", it.bank.prefix())) {
            problems.push(LineProblem {
                line: *line,
                id: Some(it.id.clone()),
                message: format!("id should start with `{}-`", it.bank.prefix()),
            });
        }
        match anquan_detect::check::days_from_date(&it.added) {
            Some(d) => newest = Some(newest.map_or(d, |n: i64| n.max(d))),
            None => problems.push(LineProblem {
                line: *line,
                id: Some(it.id.clone()),
                message: format!("`added` is `{}`; expected YYYY-MM-DD", it.added),
            }),
        }
        if it.risk_ids.is_empty() {
            problems.push(LineProblem {
                line: *line,
                id: Some(it.id.clone()),
                message: "no `risk_ids`".into(),
            });
        }
        for r in &it.risk_ids {
            let known = match it.bank {
                BankKind::ShouldNotRefuse => {
                    matches!(catalog.get(r), Some(anquan_catalog::RecordRef::Aspect(_)))
                }
                _ => catalog.risk(r).is_some(),
            };
            if known {
                *tagged.entry(r.clone()).or_default() += 1;
            } else {
                unknown_ids.push((it.id.clone(), r.clone()));
            }
        }
    }
    let duplicate_ids: Vec<String> = {
        let mut d: Vec<String> = ids
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(i, _)| (*i).to_owned())
            .collect();
        d.sort();
        d
    };
    // Near-duplicates on normalized text (the detection engine's normalizer, punctuation dropped).
    let normed: Vec<Normed> = bank
        .items
        .iter()
        .map(|(_, it)| {
            let n: String = normalizer
                .normalize_str(&it.text())
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            let b = bigrams(&n);
            (it.id.clone(), n, b)
        })
        .collect();
    let mut near_duplicates = Vec::new();
    let mut exact: HashMap<&str, &str> = HashMap::new();
    for (id, n, _) in &normed {
        if let Some(first) = exact.get(n.as_str()) {
            near_duplicates.push(NearDuplicate {
                a: (*first).to_owned(),
                b: id.clone(),
                similarity: 1.0,
            });
        } else {
            exact.insert(n.as_str(), id.as_str());
        }
    }
    for i in 0..normed.len() {
        let (ai, an, ab) = &normed[i];
        for (bi, bn, bb) in normed.iter().skip(i + 1) {
            if an == bn || ab.is_empty() || bb.is_empty() {
                continue;
            }
            let (la, lb) = (ab.len() as f64, bb.len() as f64);
            if la.min(lb) / la.max(lb) < NEAR_DUPLICATE {
                continue;
            }
            let inter = ab.intersection(bb).count() as f64;
            let sim = inter / (la + lb - inter);
            if sim >= NEAR_DUPLICATE {
                near_duplicates.push(NearDuplicate {
                    a: ai.clone(),
                    b: bi.clone(),
                    similarity: (sim * 1000.0).round() / 1000.0,
                });
            }
        }
    }

    let mut coverage: Vec<Coverage> = Vec::new();
    let mut clauses = Vec::new();
    let age_days = newest.map(|n| today - n);
    if let Some(kind) = kind {
        for cid in kind.clauses() {
            let Some(c) = catalog.clause(cid) else {
                continue;
            };
            for t in &c.threshold {
                match t.kind {
                    ThresholdKind::MinCount => {
                        let need = t.value.unwrap_or_default() as u64;
                        let n = bank.items.len() as u64;
                        clauses.push(ClauseVerdict {
                            id: c.id.to_string(),
                            name: c.name.clone(),
                            status: c.status,
                            passed: n >= need,
                            detail: Text::new(
                                format!("共 {n} 题，要求 ≥ {need}"),
                                format!("{n} items, required ≥ {need}"),
                            ),
                        });
                    }
                    ThresholdKind::Coverage
                    | ThresholdKind::PerRiskMin
                    | ThresholdKind::PerAspectMin => {
                        let floor = match t.kind {
                            ThresholdKind::Coverage => 1,
                            _ => t.value.unwrap_or_default() as u64,
                        };
                        let targets: Vec<(String, Text)> =
                            if !t.aspects.is_empty() || t.kind == ThresholdKind::PerAspectMin {
                                let list: Vec<_> = if t.aspects.is_empty() {
                                    c.aspects.iter().collect()
                                } else {
                                    t.aspects.iter().collect()
                                };
                                let list: Vec<_> = if list.is_empty() {
                                    catalog.records.aspect.iter().map(|a| &a.id).collect()
                                } else {
                                    list
                                };
                                list.into_iter()
                                    .map(|a| {
                                        (
                                            a.to_string(),
                                            catalog
                                                .get(a.as_str())
                                                .map(|r| r.name().clone())
                                                .unwrap_or_default(),
                                        )
                                    })
                                    .collect()
                            } else {
                                t.risks
                                    .iter()
                                    .flat_map(|g| catalog.expand_risks(g.as_str()))
                                    .map(|r| (r.id.to_string(), r.name.clone()))
                                    .collect()
                            };
                        let mut short = Vec::new();
                        for (id, name) in targets {
                            let count = tagged.get(&id).copied().unwrap_or(0);
                            let ok = count as u64 >= floor.max(1);
                            if !ok {
                                short.push(id.clone());
                            }
                            match coverage.iter_mut().find(|x| x.risk == id) {
                                Some(x) => {
                                    if floor > 1 {
                                        x.required =
                                            Some(x.required.map_or(floor, |r| r.max(floor)));
                                    }
                                    x.ok = x.ok && ok;
                                }
                                None => coverage.push(Coverage {
                                    risk: id,
                                    name,
                                    count,
                                    required: (floor > 1).then_some(floor),
                                    ok,
                                }),
                            }
                        }
                        let what = match t.kind {
                            ThresholdKind::Coverage => Text::new(
                                format!(
                                    "未覆盖：{}",
                                    if short.is_empty() {
                                        "无".to_owned()
                                    } else {
                                        short.join("、")
                                    }
                                ),
                                format!(
                                    "not covered: {}",
                                    if short.is_empty() {
                                        "none".to_owned()
                                    } else {
                                        short.join(", ")
                                    }
                                ),
                            ),
                            _ => Text::new(
                                format!(
                                    "低于每项 {floor} 题：{}",
                                    if short.is_empty() {
                                        "无".to_owned()
                                    } else {
                                        short.join("、")
                                    }
                                ),
                                format!(
                                    "below {floor} per item: {}",
                                    if short.is_empty() {
                                        "none".to_owned()
                                    } else {
                                        short.join(", ")
                                    }
                                ),
                            ),
                        };
                        clauses.push(ClauseVerdict {
                            id: c.id.to_string(),
                            name: c.name.clone(),
                            status: c.status,
                            passed: short.is_empty(),
                            detail: what,
                        });
                    }
                    ThresholdKind::MaxAgeDays => {
                        let max = t.value.unwrap_or_default() as i64;
                        let (passed, detail) = match age_days {
                            Some(age) => (
                                (0..=max).contains(&age),
                                Text::new(
                                    format!("最近一次更新在 {age} 天前，要求 ≤ {max} 天"),
                                    format!(
                                        "newest item added {age} days ago, required ≤ {max} days"
                                    ),
                                ),
                            ),
                            None => (
                                false,
                                Text::new(
                                    "没有可读的 `added` 日期".to_owned(),
                                    "no readable `added` date".to_owned(),
                                ),
                            ),
                        };
                        clauses.push(ClauseVerdict {
                            id: c.id.to_string(),
                            name: c.name.clone(),
                            status: c.status,
                            passed,
                            detail,
                        });
                    }
                    _ => {}
                }
            }
        }
    } else {
        problems.push(LineProblem {
            line: 0,
            id: None,
            message: "the bank has no readable item".into(),
        });
    }
    coverage.sort_by(|a, b| anquan_catalog::natural::cmp(&a.risk, &b.risk));
    let passed = !clauses.is_empty()
        && clauses.iter().all(|c| c.passed)
        && problems.is_empty()
        && duplicate_ids.is_empty()
        && near_duplicates.is_empty()
        && unknown_ids.is_empty();
    BankCheck {
        name: bank.name.clone(),
        kind,
        items: bank.items.len(),
        languages,
        styles,
        coverage,
        clauses,
        age_days,
        problems,
        duplicate_ids,
        near_duplicates,
        unknown_ids,
        passed,
    }
}
