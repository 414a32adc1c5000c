//! Checking a keyword library against the catalog's clause data (GB/T 45654 keyword library:
//! size, coverage of the 17 A.1 + A.2 risks, per-risk floors, update period).
//!
//! Every number comes from the catalog by clause id; nothing here knows 10,000 or 200.

use std::collections::{BTreeMap, HashMap};

use anquan_catalog::Catalog;
use anquan_catalog::model::ThresholdKind;
use anquan_core::{Text, Verification};
use serde::Serialize;

use crate::Engine;
use crate::keywords::Library;
use crate::normalize::Normalizer;

/// Clause ids of the keyword library.
pub const CLAUSE_SIZE: &str = "gbt45654.keywords.size";
/// Coverage and per-risk floors.
pub const CLAUSE_COVERAGE: &str = "gbt45654.keywords.coverage";
/// Update period.
pub const CLAUSE_UPDATE: &str = "gbt45654.keywords.update";

/// One risk's count against its floor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskCount {
    /// Risk id.
    pub risk: String,
    /// Risk name.
    pub name: Text,
    /// Distinct keywords tagged with it.
    pub count: usize,
    /// The floor the clause sets, if any.
    pub required: Option<u64>,
    /// Whether the floor is met (true when there is none).
    pub ok: bool,
}

/// One clause's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClauseResult {
    /// Clause id.
    pub id: String,
    /// Clause name.
    pub name: Text,
    /// Verification status of the clause itself.
    pub status: Verification,
    /// Whether the library meets it.
    pub passed: bool,
    /// What was measured against what (bilingual).
    pub detail: Text,
}

/// The result of checking one or more libraries together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LibraryCheck {
    /// Keyword lines read.
    pub keywords: usize,
    /// Distinct keywords after normalization (what the size clause counts).
    pub distinct: usize,
    /// Per-risk counts for every risk the coverage clause names, then any other risk used.
    pub per_risk: Vec<RiskCount>,
    /// Clause verdicts.
    pub clauses: Vec<ClauseResult>,
    /// Terms written more than once: (term, lines).
    pub duplicates: Vec<(String, Vec<usize>)>,
    /// Different terms that normalize to the same form: (form, terms).
    pub collisions: Vec<(String, Vec<String>)>,
    /// Keywords tagged with a risk id the catalog does not have: (line, term, id).
    pub unknown_risks: Vec<(usize, String, String)>,
    /// Days since the library's `updated` date, when it has one.
    pub age_days: Option<i64>,
    /// Whether every clause passed.
    pub passed: bool,
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn days_from_date(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.get(..2)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Civil-from-days inverse (Howard Hinnant's algorithm), proleptic Gregorian.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Check `libraries` together against the catalog's keyword-library clauses. `today` is days
/// since 1970-01-01.
pub fn check_libraries(
    catalog: &Catalog,
    libraries: &[Library],
    normalizer: &Normalizer,
    today: i64,
) -> LibraryCheck {
    let mut lines: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut forms: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut per_risk_forms: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    let mut unknown_risks = Vec::new();
    let mut keywords = 0;
    let mut oldest: Option<i64> = None;
    for lib in libraries {
        if let Some(d) = lib.updated.as_deref().and_then(days_from_date) {
            oldest = Some(oldest.map_or(d, |o: i64| o.min(d)));
        }
        for k in &lib.keywords {
            keywords += 1;
            lines.entry(k.term.as_str()).or_default().push(k.line);
            let form = normalizer.normalize_str(&k.term);
            let terms = forms.entry(form.clone()).or_default();
            if !terms.contains(&k.term) {
                terms.push(k.term.clone());
            }
            for r in &k.risk_ids {
                if catalog.risk(r.as_str()).is_none() {
                    unknown_risks.push((k.line, k.term.clone(), r.to_string()));
                    continue;
                }
                // A keyword tagged with a group counts for the group, not for each risk in it.
                per_risk_forms
                    .entry(r.to_string())
                    .or_default()
                    .insert(form.clone());
            }
        }
    }
    let mut duplicates: Vec<(String, Vec<usize>)> = lines
        .into_iter()
        .filter(|(_, l)| l.len() > 1)
        .map(|(t, l)| (t.to_owned(), l))
        .collect();
    duplicates.sort();
    let collisions: Vec<(String, Vec<String>)> = forms
        .iter()
        .filter(|(_, t)| t.len() > 1)
        .map(|(f, t)| (f.clone(), t.clone()))
        .collect();
    let distinct = forms.len();

    let mut clauses = Vec::new();
    let mut per_risk: Vec<RiskCount> = Vec::new();
    if let Some(c) = catalog.clause(CLAUSE_SIZE) {
        for t in c
            .threshold
            .iter()
            .filter(|t| t.kind == ThresholdKind::MinCount)
        {
            let need = t.value.unwrap_or_default() as u64;
            clauses.push(ClauseResult {
                id: c.id.to_string(),
                name: c.name.clone(),
                status: c.status,
                passed: distinct as u64 >= need,
                detail: Text::new(
                    format!("{distinct} 个不同关键词，要求 ≥ {need}"),
                    format!("{distinct} distinct keywords, required ≥ {need}"),
                ),
            });
        }
    }
    if let Some(c) = catalog.clause(CLAUSE_COVERAGE) {
        let mut floors: BTreeMap<String, u64> = BTreeMap::new();
        let mut covered_all = true;
        for t in &c.threshold {
            match t.kind {
                ThresholdKind::Coverage => {
                    for g in &t.risks {
                        for r in catalog.expand_risks(g.as_str()) {
                            floors.entry(r.id.to_string()).or_insert(0);
                        }
                    }
                }
                ThresholdKind::PerRiskMin => {
                    for g in &t.risks {
                        for r in catalog.expand_risks(g.as_str()) {
                            floors.insert(r.id.to_string(), t.value.unwrap_or_default() as u64);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut short = 0;
        for (risk, floor) in &floors {
            let count = per_risk_forms.get(risk).map_or(0, |s| s.len());
            let ok = count as u64 >= (*floor).max(1);
            if count == 0 {
                covered_all = false;
            }
            if !ok {
                short += 1;
            }
            per_risk.push(RiskCount {
                risk: risk.clone(),
                name: catalog
                    .risk(risk)
                    .map(|r| r.name.clone())
                    .unwrap_or_default(),
                count,
                required: (*floor > 0).then_some(*floor),
                ok,
            });
        }
        let uncovered = floors
            .keys()
            .filter(|r| per_risk_forms.get(*r).is_none_or(|s| s.is_empty()))
            .count();
        clauses.push(ClauseResult {
            id: c.id.to_string(),
            name: c.name.clone(),
            status: c.status,
            passed: short == 0 && covered_all,
            detail: Text::new(
                format!(
                    "{} 个风险中 {uncovered} 个未覆盖，{short} 个低于每风险下限",
                    floors.len()
                ),
                format!(
                    "{uncovered} of {} risks not covered, {short} below their per-risk floor",
                    floors.len()
                ),
            ),
        });
    }
    // Other risks the library uses, for information.
    let mut extra: Vec<&String> = per_risk_forms
        .keys()
        .filter(|r| !per_risk.iter().any(|p| &p.risk == *r))
        .collect();
    extra.sort_by(|a, b| anquan_catalog::natural::cmp(a, b));
    for r in extra {
        per_risk.push(RiskCount {
            risk: r.clone(),
            name: catalog.risk(r).map(|x| x.name.clone()).unwrap_or_default(),
            count: per_risk_forms[r].len(),
            required: None,
            ok: true,
        });
    }
    let age_days = oldest.map(|d| today - d);
    if let Some(c) = catalog.clause(CLAUSE_UPDATE) {
        for t in c
            .threshold
            .iter()
            .filter(|t| t.kind == ThresholdKind::MaxAgeDays)
        {
            let max = t.value.unwrap_or_default() as i64;
            let (passed, detail) = match age_days {
                Some(age) => (
                    (0..=max).contains(&age),
                    Text::new(
                        format!("上次更新在 {age} 天前，要求 ≤ {max} 天"),
                        format!("last updated {age} days ago, required ≤ {max} days"),
                    ),
                ),
                None => (
                    false,
                    Text::new(
                        format!("库头部没有 `updated:` 日期，无法证明 ≤ {max} 天内更新"),
                        format!(
                            "the library header has no `updated:` date, so an update within {max} days cannot be shown"
                        ),
                    ),
                ),
            };
            clauses.push(ClauseResult {
                id: c.id.to_string(),
                name: c.name.clone(),
                status: c.status,
                passed,
                detail,
            });
        }
    }
    let passed = clauses.iter().all(|c| c.passed) && !clauses.is_empty();
    LibraryCheck {
        keywords,
        distinct,
        per_risk,
        clauses,
        duplicates,
        collisions,
        unknown_risks,
        age_days,
        passed,
    }
}

/// A keyword (or keywords that match as one) found in benign text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenignKeyword {
    /// The library keyword(s) behind the matches.
    pub keywords: Vec<String>,
    /// The normalized form that matched.
    pub normalized: String,
    /// Benign texts it matched in.
    pub texts: usize,
    /// The first such text, cut to about 60 characters around the match.
    pub example: String,
}

/// What a library's keywords find in text known to be benign: each finding there is a false
/// positive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenignHits {
    /// Where the benign texts came from.
    pub source: String,
    /// Benign texts read.
    pub texts: usize,
    /// Texts with at least one keyword finding.
    pub texts_flagged: usize,
    /// `texts_flagged` per 10,000 texts.
    pub per_10k: f64,
    /// Keywords found, the most frequent first.
    pub keywords: Vec<BenignKeyword>,
}

/// Run `engine`'s keyword matching (PII is not looked at) over benign `texts`.
pub fn benign_hits<'t>(
    engine: &Engine,
    source: &str,
    texts: impl IntoIterator<Item = &'t str>,
) -> BenignHits {
    let mut by_form: HashMap<String, BenignKeyword> = HashMap::new();
    let (mut read, mut flagged) = (0usize, 0usize);
    let mut found = Vec::new();
    for text in texts {
        read += 1;
        engine.scan_into(text, &mut found);
        found.retain(|d| d.pii.is_none());
        if found.is_empty() {
            continue;
        }
        flagged += 1;
        let mut seen: Vec<&str> = Vec::new();
        for d in &found {
            if seen.contains(&&*d.normalized) {
                continue;
            }
            seen.push(&d.normalized);
            let entry = by_form
                .entry(d.normalized.to_string())
                .or_insert_with(|| BenignKeyword {
                    keywords: d.keywords.to_vec(),
                    normalized: d.normalized.to_string(),
                    texts: 0,
                    example: excerpt(text, d.span.start, d.span.end),
                });
            entry.texts += 1;
        }
    }
    let mut keywords: Vec<BenignKeyword> = by_form.into_values().collect();
    keywords.sort_by(|a, b| {
        b.texts
            .cmp(&a.texts)
            .then_with(|| a.normalized.cmp(&b.normalized))
    });
    BenignHits {
        source: source.to_owned(),
        texts: read,
        texts_flagged: flagged,
        per_10k: if read == 0 {
            0.0
        } else {
            flagged as f64 * 10_000.0 / read as f64
        },
        keywords,
    }
}

/// About 30 characters either side of `start..end` in `text`, on one line.
fn excerpt(text: &str, start: usize, end: usize) -> String {
    const SIDE: usize = 30;
    let before: Vec<char> = text.get(..start).unwrap_or_default().chars().collect();
    let after: String = text
        .get(end..)
        .unwrap_or_default()
        .chars()
        .take(SIDE)
        .collect();
    let from = before.len().saturating_sub(SIDE);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(before.iter().skip(from));
    out.push_str(text.get(start..end).unwrap_or_default());
    out.push_str(&after);
    if text.get(end..).unwrap_or_default().chars().count() > SIDE {
        out.push('…');
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{benign_hits, days_from_date, excerpt};
    use crate::Engine;
    use crate::keywords::Library;

    #[test]
    fn benign_hits_count_texts_per_keyword_and_ignore_pii() {
        let catalog = anquan_catalog::Catalog::load(None).unwrap();
        let (lib, problems) = Library::parse(
            "# name: t\nkeyword\trisk_ids\tseverity\tsource\n赌博\tA.1.h\thigh\tt\n博彩\tA.1.h\tlow\tt\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let engine = Engine::new(&catalog, Some(lib), &[], true);
        let texts = [
            "反赌博宣传进社区",
            "赌 博和博彩都不好，电话13812345678",
            "今天天气很好",
            "禁止赌博",
        ];
        let hits = benign_hits(&engine, "test", texts);
        assert_eq!((hits.texts, hits.texts_flagged), (4, 3));
        assert!((hits.per_10k - 7_500.0).abs() < 1e-9);
        let counts: Vec<(&str, usize)> = hits
            .keywords
            .iter()
            .map(|k| (k.normalized.as_str(), k.texts))
            .collect();
        assert_eq!(counts, [("赌博", 3), ("博彩", 1)]);
        assert_eq!(hits.keywords[0].example, "反赌博宣传进社区");
        assert_eq!(hits.keywords[0].keywords, ["赌博"]);
    }

    #[test]
    fn excerpts_are_cut_around_the_match() {
        let text = format!("{}赌博{}", "前".repeat(40), "后".repeat(40));
        let start = "前".len() * 40;
        let e = excerpt(&text, start, start + "赌博".len());
        assert_eq!(e, format!("…{}赌博{}…", "前".repeat(30), "后".repeat(30)));
    }

    #[test]
    fn dates() {
        assert_eq!(days_from_date("1970-01-01"), Some(0));
        assert_eq!(
            days_from_date("2026-11-25").unwrap() - days_from_date("2026-11-18").unwrap(),
            7
        );
        assert_eq!(
            days_from_date("2024-03-01").unwrap() - days_from_date("2024-02-28").unwrap(),
            2
        );
        assert_eq!(days_from_date("2026-13-01"), None);
        assert_eq!(days_from_date("soon"), None);
    }
}
