//! `anquan keywords …`: check and maintain keyword libraries.

use std::path::Path;

use anquan::core::Lang;
use anquan::detect::check::check_libraries;
use anquan::detect::normalize::{Normalizer, Stage};
use serde_json::json;

use super::load_catalog;
use super::scan::load_library;
use crate::ExitStatus;
use crate::args::{Cli, KeywordsCommand};
use crate::output::{Out, clause_line, table};

pub(crate) fn run(cmd: &KeywordsCommand, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let catalog = load_catalog(cli)?;
    match cmd {
        KeywordsCommand::Check { libraries, today } => {
            check(&catalog, libraries, today.as_deref(), out)
        }
        KeywordsCommand::Normalize { text } => normalize(&catalog, text, out),
        KeywordsCommand::Stats { library } => stats(library, out),
        KeywordsCommand::Merge {
            libraries,
            name,
            lib_version,
            updated,
            output,
        } => merge(
            libraries,
            name,
            lib_version,
            updated.as_deref(),
            output.as_deref(),
            out,
        ),
    }
}

fn check(
    catalog: &anquan::catalog::Catalog,
    paths: &[String],
    today: Option<&str>,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let today = crate::output::today(today)?;
    let mut libs = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        let (lib, probs) = load_library(Some(Path::new(p)))?;
        problems.extend(probs);
        libs.push(lib);
    }
    let normalizer = Normalizer::full(catalog.radical_folder());
    let report = check_libraries(catalog, &libs, &normalizer, today);
    if out.json {
        out.json_value(&json!({
            "schema": "anquan.keywords.check.v1",
            "libraries": libs.iter().zip(paths).map(|(l, p)| json!({"path": p, "name": l.name, "version": l.version, "updated": l.updated, "keywords": l.keywords.len()})).collect::<Vec<_>>(),
            "malformed_lines": problems,
            "report": report,
        }));
        return Ok(if report.passed {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }
    for (lib, path) in libs.iter().zip(paths) {
        out.line(format!(
            "{}: {} {} ({} {}, {} {})",
            out.t("关键词库", "library"),
            path,
            if lib.name.is_empty() { "-" } else { &lib.name },
            lib.keywords.len(),
            out.t("个关键词", "keywords"),
            out.t("更新于", "updated"),
            lib.updated.as_deref().unwrap_or("?")
        ));
    }
    out.blank();
    let t = crate::output::coverage_table(out, &report.per_risk, ("关键词", "keywords"), "—");
    out.line(t);
    out.blank();
    for c in &report.clauses {
        let line = clause_line(out, c);
        out.line(line);
    }
    if !report.duplicates.is_empty() {
        out.blank();
        out.line(match lang {
            Lang::Zh => format!("重复关键词 {} 个：", report.duplicates.len()),
            Lang::En => format!("{} duplicate keyword(s):", report.duplicates.len()),
        });
        for (t, lines) in report.duplicates.iter().take(20) {
            out.line(format!(
                "  {t}  (lines {})",
                lines
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if !report.collisions.is_empty() {
        out.blank();
        out.line(match lang {
            Lang::Zh => format!(
                "归一化后相同的关键词 {} 组（匹配时视为一个）：",
                report.collisions.len()
            ),
            Lang::En => format!(
                "{} group(s) of keywords that normalize to the same form (matched as one):",
                report.collisions.len()
            ),
        });
        for (form, terms) in report.collisions.iter().take(20) {
            out.line(format!("  {form} ← {}", terms.join(" | ")));
        }
    }
    if !report.unknown_risks.is_empty() {
        out.blank();
        out.line(out.t(
            "风险编号不在目录中的关键词：",
            "Keywords with risk ids the catalog does not have:",
        ));
        for (line, term, risk) in report.unknown_risks.iter().take(20) {
            out.line(format!("  line {line}: {term}  `{risk}`"));
        }
    }
    if !problems.is_empty() {
        out.blank();
        out.line(match lang {
            Lang::Zh => format!(
                "格式错误的行 {} 行（已跳过，其余照常检查）：",
                problems.len()
            ),
            Lang::En => format!(
                "{} malformed line(s), skipped (the rest was checked):",
                problems.len()
            ),
        });
        for p in problems.iter().take(20) {
            out.line(format!("  {p}"));
        }
    }
    out.blank();
    if report.passed {
        out.line(out.t(
            "该关键词库满足目录中关键词库条款的数值要求。",
            "The library meets the catalog's keyword-library clauses.",
        ));
    } else {
        let failed: Vec<&str> = report
            .clauses
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.id.as_str())
            .collect();
        out.line(match lang {
            Lang::Zh => format!("该关键词库未达到 GB/T 45654 的要求：{} 条条款不符合（{}）。以上数值来自目录条款数据，核实状态见各行。", failed.len(), failed.join("、")),
            Lang::En => format!("This library is below what GB/T 45654 requires: {} clause(s) not met ({}). The numbers come from the catalog's clause data; each line shows the clause's verification status.", failed.len(), failed.join(", ")),
        });
    }
    Ok(if report.passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn normalize(
    catalog: &anquan::catalog::Catalog,
    text: &str,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let mut steps = Vec::new();
    for i in 1..=Stage::ALL.len() {
        let n = Normalizer::new(&Stage::ALL[..i], catalog.radical_folder());
        steps.push((Stage::ALL[i - 1], n.normalize_str(text)));
    }
    if out.json {
        out.json_value(&json!({
            "schema": "anquan.keywords.normalize.v1",
            "input": text,
            "stages": steps.iter().map(|(s, t)| json!({"stage": format!("{}@{}", s.id(), s.version()), "text": t})).collect::<Vec<_>>(),
            "normalized": steps.last().map(|(_, t)| t.clone()).unwrap_or_default(),
        }));
        return Ok(ExitStatus::Success);
    }
    let rows: Vec<Vec<String>> = std::iter::once(vec!["input".to_owned(), text.to_owned()])
        .chain(
            steps
                .iter()
                .map(|(s, t)| vec![format!("{}@{}", s.id(), s.version()), t.clone()]),
        )
        .collect();
    out.line(table(
        &[out.t("阶段", "stage"), out.t("结果", "text")],
        &rows,
    ));
    Ok(ExitStatus::Success)
}

fn stats(spec: &str, out: &mut Out) -> anyhow::Result<ExitStatus> {
    use std::collections::BTreeMap;
    let (lib, problems) = load_library(Some(Path::new(spec)))?;
    let mut by: [BTreeMap<String, usize>; 4] = Default::default();
    for k in &lib.keywords {
        for r in &k.risk_ids {
            *by[0].entry(r.to_string()).or_default() += 1;
        }
        *by[1].entry(k.severity.as_str().to_owned()).or_default() += 1;
        *by[2].entry(k.source.clone()).or_default() += 1;
        *by[3].entry(k.mode.as_str().to_owned()).or_default() += 1;
    }
    if out.json {
        out.json_value(&json!({"schema": "anquan.keywords.stats.v1", "library": spec, "name": lib.name, "version": lib.version, "updated": lib.updated, "keywords": lib.keywords.len(), "malformed_lines": problems.len(), "by_risk": by[0], "by_severity": by[1], "by_source": by[2], "by_mode": by[3]}));
        return Ok(ExitStatus::Success);
    }
    out.line(format!(
        "{spec}: {} ({} {}), {} {}",
        lib.name,
        lib.keywords.len(),
        out.t("个关键词", "keywords"),
        problems.len(),
        out.t("行格式错误", "malformed lines")
    ));
    for (title, map) in [
        (out.t("按风险", "by risk"), &by[0]),
        (out.t("按严重程度", "by severity"), &by[1]),
        (out.t("按来源", "by source"), &by[2]),
        (out.t("按匹配方式", "by mode"), &by[3]),
    ] {
        out.line(crate::output::count_line(title, map));
    }
    Ok(ExitStatus::Success)
}

fn merge(
    specs: &[String],
    name: &str,
    version: &str,
    updated: Option<&str>,
    output: Option<&Path>,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    use anquan::detect::keywords::{Keyword, Library};
    let updated = match updated {
        Some(d) => {
            anquan::detect::check::days_from_date(d).ok_or_else(|| {
                crate::output::with_hint(
                    format!("`--updated {d}` is not a date"),
                    "write it as YYYY-MM-DD",
                )
            })?;
            d.to_owned()
        }
        None => crate::output::date_string(crate::output::today(None)?),
    };
    let mut merged: Vec<Keyword> = Vec::new();
    let mut index: std::collections::HashMap<(String, bool), usize> =
        std::collections::HashMap::new();
    let mut skipped = 0;
    for spec in specs {
        let (lib, problems) = load_library(Some(Path::new(spec)))?;
        for p in &problems {
            crate::output::warn(&format!("{p} (left out)"));
        }
        skipped += problems.len();
        for k in lib.keywords {
            let key = (
                k.term.clone(),
                k.mode == anquan::detect::keywords::MatchMode::Exact,
            );
            match index.get(&key) {
                Some(&i) => {
                    let m = &mut merged[i];
                    for r in k.risk_ids {
                        if !m.risk_ids.contains(&r) {
                            m.risk_ids.push(r);
                        }
                    }
                    m.severity = m.severity.max(k.severity);
                    if !k.source.is_empty() && !m.source.split('+').any(|s| s == k.source) {
                        m.source = if m.source.is_empty() {
                            k.source
                        } else {
                            format!("{}+{}", m.source, k.source)
                        };
                    }
                }
                None => {
                    index.insert(key, merged.len());
                    merged.push(k);
                }
            }
        }
    }
    let count = merged.len();
    let lib = Library {
        name: name.to_owned(),
        version: version.to_owned(),
        updated: Some(updated),
        keywords: merged,
    };
    let text = lib.to_tsv();
    match output {
        Some(p) => {
            std::fs::write(p, text)
                .map_err(|e| anyhow::anyhow!("failed to write `{}`: {e}", p.display()))?;
            crate::output::note(&format!("wrote {count} keywords to `{}`", p.display()));
        }
        None => out.line(text.trim_end()),
    }
    Ok(if skipped == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
