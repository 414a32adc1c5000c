//! `anquan keywords …`: check and maintain keyword libraries.

use std::path::{Path, PathBuf};

use anquan::core::Lang;
use anquan::detect::Engine;
use anquan::detect::check::{benign_hits, check_libraries};
use anquan::detect::keywords::Library;
use anquan::detect::normalize::{Normalizer, Stage};
use anyhow::Context as _;
use serde_json::json;

use super::load_catalog;
use super::scan::{load_library, read_allow_list, read_utf8};
use crate::ExitStatus;
use crate::args::{Cli, KeywordsCommand};
use crate::output::{Out, clause_line, table};

pub(crate) fn run(cmd: &KeywordsCommand, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let catalog = load_catalog(cli)?;
    match cmd {
        KeywordsCommand::Check {
            libraries,
            today,
            benign,
            benign_column,
            benign_where,
            allow,
            no_benign,
        } => {
            let benign = BenignArgs {
                files: benign,
                column: benign_column.as_deref(),
                filter: benign_where.as_deref(),
                allow: allow.as_deref(),
                skip: *no_benign,
            };
            check(&catalog, libraries, today.as_deref(), &benign, out)
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

/// Where the false-positive check of `keywords check` reads benign text.
struct BenignArgs<'a> {
    files: &'a [PathBuf],
    column: Option<&'a str>,
    filter: Option<&'a str>,
    allow: Option<&'a Path>,
    skip: bool,
}

/// Benign texts, with a description of where they came from: the given files, or the prompts of
/// the built-in should-not-refuse banks.
fn benign_texts(args: &BenignArgs<'_>) -> anyhow::Result<(String, Vec<String>)> {
    if args.files.is_empty() {
        if args.column.is_some() || args.filter.is_some() {
            anyhow::bail!(
                "--benign-column and --benign-where apply to a CSV given with --benign FILE"
            );
        }
        let mut texts = Vec::new();
        for name in ["should_not_refuse", "should_not_refuse.en"] {
            if let Some((bank, _)) = anquan::eval::bank::builtin(name) {
                texts.extend(bank.items.iter().map(|(_, item)| item.prompt().to_owned()));
            }
        }
        return Ok((
            "builtin:should_not_refuse + builtin:should_not_refuse.en (prompts)".to_owned(),
            texts,
        ));
    }
    let filter = match args.filter {
        Some(f) => {
            let (col, val) = f.split_once('=').ok_or_else(|| {
                anyhow::anyhow!("--benign-where `{f}`: expected COLUMN=VALUE, e.g. label=0")
            })?;
            Some((col.trim(), val.trim()))
        }
        None => None,
    };
    let mut texts = Vec::new();
    for path in args.files {
        let name = path.display();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "csv" => {
                let mut rdr = csv::Reader::from_path(path)
                    .with_context(|| format!("failed to read `{name}`"))?;
                let headers = rdr
                    .headers()
                    .with_context(|| format!("`{name}`: no CSV header"))?
                    .clone();
                let find = |c: &str| headers.iter().position(|h| h == c);
                let col = match args.column {
                    Some(c) => find(c).ok_or_else(|| {
                        anyhow::anyhow!("`{name}`: no column `{c}` (columns: {})", headers.iter().collect::<Vec<_>>().join(", "))
                    })?,
                    None => find("text").or_else(|| find("TEXT")).ok_or_else(|| {
                        anyhow::anyhow!("`{name}`: no `text` column; name one with --benign-column (columns: {})", headers.iter().collect::<Vec<_>>().join(", "))
                    })?,
                };
                let filter = match filter {
                    Some((c, v)) => Some((
                        find(c).ok_or_else(|| {
                            anyhow::anyhow!("`{name}`: no column `{c}` for --benign-where")
                        })?,
                        v,
                    )),
                    None => None,
                };
                for (i, row) in rdr.records().enumerate() {
                    let row = row.with_context(|| format!("`{name}`: record {}", i + 1))?;
                    if filter.is_some_and(|(c, v)| row.get(c) != Some(v)) {
                        continue;
                    }
                    if let Some(t) = row.get(col).filter(|t| !t.trim().is_empty()) {
                        texts.push(t.to_owned());
                    }
                }
            }
            "jsonl" => {
                for (i, line) in read_utf8(path)?.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let v: serde_json::Value = serde_json::from_str(line)
                        .with_context(|| format!("`{name}`: line {}: not JSON", i + 1))?;
                    let t = v
                        .get("text")
                        .or_else(|| v.get("prompt"))
                        .and_then(|t| t.as_str())
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "`{name}`: line {}: no `text` or `prompt` string",
                                i + 1
                            )
                        })?;
                    texts.push(t.to_owned());
                }
            }
            _ => texts.extend(
                read_utf8(path)?
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned),
            ),
        }
    }
    let names: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
    let mut source = names.join(" + ");
    if let Some(f) = args.filter {
        source.push_str(&format!(" (rows where {f})"));
    }
    Ok((source, texts))
}

fn check(
    catalog: &anquan::catalog::Catalog,
    paths: &[String],
    today: Option<&str>,
    benign_args: &BenignArgs<'_>,
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
    let benign = if benign_args.skip {
        None
    } else {
        let (source, texts) = benign_texts(benign_args)?;
        let allow: Vec<String> = match benign_args.allow {
            Some(p) => read_allow_list(p)?,
            None => anquan::detect::keywords::starter_allow_list(),
        };
        let merged = Library {
            keywords: libs
                .iter()
                .flat_map(|l| l.keywords.iter().cloned())
                .collect(),
            ..Library::default()
        };
        let engine = Engine::new(catalog, Some(merged), &allow, false);
        let capped: Vec<String> = engine
            .keywords()
            .map(|m| {
                m.capped()
                    .iter()
                    .filter_map(|i| m.library().keywords.get(*i))
                    .map(|k| k.term.clone())
                    .collect()
            })
            .unwrap_or_default();
        Some((
            benign_hits(&engine, &source, texts.iter().map(String::as_str)),
            capped,
        ))
    };
    if out.json {
        out.json_value(&json!({
            "schema": "anquan.keywords.check.v1",
            "libraries": libs.iter().zip(paths).map(|(l, p)| json!({"path": p, "name": l.name, "version": l.version, "updated": l.updated, "keywords": l.keywords.len()})).collect::<Vec<_>>(),
            "malformed_lines": problems,
            "report": report,
            "benign": benign.as_ref().map(|(b, _)| b),
            "capped_pronunciations": benign.as_ref().map(|(_, c)| c),
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
    if let Some((hits, capped)) = &benign {
        out.blank();
        out.line(match lang {
            Lang::Zh => format!(
                "误报检查：良性文本 {} 条（{}）中，{} 条命中关键词，每万条 {:.0} 条。",
                hits.texts, hits.source, hits.texts_flagged, hits.per_10k
            ),
            Lang::En => format!(
                "False positives: of {} benign texts ({}), {} match a keyword, {:.0} per 10,000.",
                hits.texts, hits.source, hits.texts_flagged, hits.per_10k
            ),
        });
        if !hits.keywords.is_empty() {
            out.line(out.t(
                "命中最多的关键词（可加入允许列表，或改为更长的词、精确匹配）：",
                "Keywords that fire most (add an allow-list phrase, or make them longer or exact):",
            ));
            for k in hits.keywords.iter().take(20) {
                out.line(format!(
                    "  {}  ×{}  {}",
                    k.keywords.join(" | "),
                    k.texts,
                    k.example
                ));
            }
        }
        if !capped.is_empty() {
            out.line(match lang {
                Lang::Zh => format!(
                    "{} 个拼音/首字母模式的关键词读法组合超过上限，只匹配前面的读法：{}",
                    capped.len(),
                    capped.iter().take(10).cloned().collect::<Vec<_>>().join("、")
                ),
                Lang::En => format!(
                    "{} pinyin/initials keyword(s) have more spoken forms than the caps and match only the first: {}",
                    capped.len(),
                    capped.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
                ),
            });
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
