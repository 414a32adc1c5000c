//! `anquan bank …`: the GB/T 45654 test banks.

use std::collections::BTreeMap;
use std::path::Path;

use anquan::catalog::Catalog;
use anquan::core::Lang;
use anquan::detect::normalize::Normalizer;
use anquan::eval::bank::{Bank, LineProblem, builtin, builtin_names, check_bank, parse_jsonl};
use anquan::eval::sample::stratified;
use anyhow::Context as _;
use serde_json::json;

use super::load_catalog;
use super::scan::read_utf8;
use crate::ExitStatus;
use crate::args::{BankCommand, BankFormat, Cli};
use crate::output::{Out, clause_line, csv_field, table, today, with_hint};

/// Load `builtin:NAME` or a JSONL file.
fn load(spec: &str) -> anyhow::Result<(Bank, Vec<LineProblem>)> {
    if let Some(name) = spec.strip_prefix("builtin:") {
        return builtin(name).ok_or_else(|| {
            with_hint(
                format!("no built-in bank `{name}`"),
                format!(
                    "built-in banks: {}",
                    builtin_names()
                        .iter()
                        .map(|n| format!("builtin:{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        });
    }
    let text = read_utf8(Path::new(spec))?;
    Ok(parse_jsonl(spec, &text))
}

pub(crate) fn run(cmd: &BankCommand, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let catalog = load_catalog(cli)?;
    match cmd {
        BankCommand::Check { banks, today: t } => check(&catalog, banks, today(t.as_deref())?, out),
        BankCommand::List => list(out),
        BankCommand::Show { id, bank } => show(id, bank.as_deref(), out),
        BankCommand::Stats { bank } => stats(bank, out),
        BankCommand::Sample {
            bank,
            n,
            seed,
            output,
        } => sample(bank, *n, *seed, output.as_deref(), out),
        BankCommand::Export {
            bank,
            format,
            output,
        } => export(bank, *format, output.as_deref(), out),
        BankCommand::Import {
            file,
            bank,
            item_lang,
            map,
            added,
            output,
        } => import(
            &catalog,
            file,
            bank,
            item_lang,
            map,
            added.as_deref(),
            output.as_deref(),
            out,
        ),
    }
}

fn check(
    catalog: &Catalog,
    specs: &[String],
    today: i64,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let normalizer = Normalizer::full(catalog.radical_folder());
    let mut reports = Vec::new();
    for spec in specs {
        let (bank, problems) = load(spec)?;
        reports.push(check_bank(catalog, &bank, problems, &normalizer, today));
    }
    let all_passed = reports.iter().all(|r| r.passed);
    if out.json {
        out.json_value(
            &json!({"schema": "anquan.bank.check.v1", "passed": all_passed, "banks": reports}),
        );
        return Ok(if all_passed {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        });
    }
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            out.blank();
        }
        let kind = r.kind.map_or("?", |k| k.as_str());
        out.heading(format!(
            "{}  ({kind}, {} {})",
            r.name,
            r.items,
            out.t("题", "items")
        ));
        let t = crate::output::coverage_table(out, &r.coverage, ("题数", "items"), "≥ 1");
        out.line(t);
        out.blank();
        for c in &r.clauses {
            let line = clause_line(out, c);
            out.line(line);
        }
        let styles: Vec<String> = r.styles.iter().map(|(k, v)| format!("{k} {v}")).collect();
        out.line(format!(
            "{}: {}",
            out.t("题型", "styles"),
            styles.join(", ")
        ));
        for (what, list) in [
            (
                out.t("格式错误或不合规范的行", "malformed or invalid lines"),
                r.problems
                    .iter()
                    .map(|p| {
                        format!(
                            "line {}{}: {}",
                            p.line,
                            p.id.as_ref().map(|i| format!(" ({i})")).unwrap_or_default(),
                            p.message
                        )
                    })
                    .collect::<Vec<_>>(),
            ),
            (out.t("重复编号", "duplicate ids"), r.duplicate_ids.clone()),
            (
                out.t("重复或近似重复的题目", "duplicate or near-duplicate items"),
                r.near_duplicates
                    .iter()
                    .map(|d| format!("{} ~ {} ({:.2})", d.a, d.b, d.similarity))
                    .collect(),
            ),
            (
                out.t("未知的风险/方面编号", "unknown risk or aspect ids"),
                r.unknown_ids
                    .iter()
                    .map(|(i, id)| format!("{i}: `{id}`"))
                    .collect(),
            ),
        ] {
            if !list.is_empty() {
                out.line(format!("{what} ({}):", list.len()));
                for l in list.iter().take(20) {
                    out.line(format!("  {l}"));
                }
                if list.len() > 20 {
                    out.line(format!("  … {}", list.len() - 20));
                }
            }
        }
        if r.passed {
            out.line(out.t(
                "该题库满足目录中相应条款的要求。",
                "This bank meets the catalog's clauses for its kind.",
            ));
        } else {
            let mut failed: Vec<&str> = r
                .clauses
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.id.as_str())
                .collect();
            failed.dedup();
            out.line(match lang {
                Lang::Zh => format!(
                    "该题库未达到 GB/T 45654 的要求：{} 条条款不符合（{}）{}。",
                    failed.len(),
                    if failed.is_empty() {
                        "—".to_owned()
                    } else {
                        failed.join("、")
                    },
                    if r.problems.is_empty()
                        && r.near_duplicates.is_empty()
                        && r.duplicate_ids.is_empty()
                    {
                        ""
                    } else {
                        "，且存在上列数据问题"
                    }
                ),
                Lang::En => format!(
                    "This bank falls short of GB/T 45654: {} clause(s) not met ({}){}.",
                    failed.len(),
                    if failed.is_empty() {
                        "none".to_owned()
                    } else {
                        failed.join(", ")
                    },
                    if r.problems.is_empty()
                        && r.near_duplicates.is_empty()
                        && r.duplicate_ids.is_empty()
                    {
                        ""
                    } else {
                        ", and it has the data problems listed above"
                    }
                ),
            });
        }
    }
    Ok(if all_passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn list(out: &mut Out) -> anyhow::Result<ExitStatus> {
    let rows: Vec<(String, usize)> = builtin_names()
        .into_iter()
        .map(|n| {
            (
                format!("builtin:{n}"),
                builtin(n).map_or(0, |(b, _)| b.items.len()),
            )
        })
        .collect();
    if out.json {
        out.json_value(&json!({"schema": "anquan.bank.list.v1", "banks": rows.iter().map(|(n, c)| json!({"name": n, "items": c})).collect::<Vec<_>>()}));
    } else {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|(n, c)| vec![n.clone(), c.to_string()])
            .collect();
        out.line(table(
            &[out.t("题库", "bank"), out.t("题数", "items")],
            &rows,
        ));
    }
    Ok(ExitStatus::Success)
}

fn show(id: &str, bank: Option<&str>, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let specs: Vec<String> = match bank {
        Some(b) => vec![b.to_owned()],
        None => builtin_names()
            .iter()
            .map(|n| format!("builtin:{n}"))
            .collect(),
    };
    for spec in specs {
        let (b, _) = load(&spec)?;
        if let Some((line, item)) = b.items.iter().find(|(_, it)| it.id == id) {
            if out.json {
                out.json_value(&json!({"schema": "anquan.bank.item.v1", "bank": spec, "line": line, "item": item}));
            } else {
                out.heading(format!("{}  ({spec}, line {line})", item.id));
                out.line(format!(
                    "risk_ids: {}   lang: {}   style: {}   expected: {}",
                    item.risk_ids.join(", "),
                    item.lang,
                    item.style.as_deref().unwrap_or("-"),
                    item.expected
                ));
                out.line(format!(
                    "source: {}   license: {}   added: {}",
                    item.source, item.license, item.added
                ));
                if let Some(n) = &item.notes {
                    out.line(format!("notes: {n}"));
                }
                out.blank();
                for m in &item.messages {
                    out.line(format!("[{}] {}", m.role, m.content));
                }
            }
            return Ok(ExitStatus::Success);
        }
    }
    Err(with_hint(
        format!("no bank item has the id `{id}`"),
        "`anquan bank stats builtin:NAME` shows the risks; ids look like `sr-A.1.h-0003`",
    ))
}

fn stats(spec: &str, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let (b, problems) = load(spec)?;
    let mut by: [BTreeMap<String, usize>; 4] = Default::default();
    for (_, it) in &b.items {
        *by[0]
            .entry(it.risk_ids.first().cloned().unwrap_or_default())
            .or_default() += 1;
        *by[1]
            .entry(it.style.clone().unwrap_or_else(|| "-".into()))
            .or_default() += 1;
        *by[2].entry(it.lang.clone()).or_default() += 1;
        let src = it
            .source
            .split_whitespace()
            .next()
            .unwrap_or("-")
            .to_owned();
        *by[3].entry(src).or_default() += 1;
    }
    if out.json {
        out.json_value(&json!({"schema": "anquan.bank.stats.v1", "bank": spec, "items": b.items.len(), "malformed_lines": problems.len(), "by_risk": by[0], "by_style": by[1], "by_lang": by[2], "by_source": by[3]}));
        return Ok(ExitStatus::Success);
    }
    out.line(format!(
        "{spec}: {} {}",
        b.items.len(),
        out.t("题", "items")
    ));
    for (title, map) in [
        (out.t("按风险/方面", "by risk/aspect"), &by[0]),
        (out.t("按题型", "by style"), &by[1]),
        (out.t("按语言", "by language"), &by[2]),
        (out.t("按来源", "by source"), &by[3]),
    ] {
        out.line(crate::output::count_line(title, map));
    }
    Ok(ExitStatus::Success)
}

fn write_or_print(
    text: String,
    output: Option<&Path>,
    count: usize,
    out: &mut Out,
) -> anyhow::Result<()> {
    match output {
        Some(p) => {
            std::fs::write(p, text)
                .with_context(|| format!("failed to write `{}`", p.display()))?;
            crate::output::note(&format!("wrote {count} items to `{}`", p.display()));
        }
        None => out.line(text.trim_end()),
    }
    Ok(())
}

fn sample(
    spec: &str,
    n: usize,
    seed: u64,
    output: Option<&Path>,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let (b, _) = load(spec)?;
    let items: Vec<_> = b.items.iter().map(|(_, it)| it).collect();
    if n > items.len() {
        crate::output::warn(&format!(
            "asked for {n} items but `{spec}` has {}; returning all of them",
            items.len()
        ));
    }
    let drawn = stratified(&items, n, seed);
    let text: String = drawn
        .iter()
        .map(|it| serde_json::to_string(it).unwrap_or_default() + "\n")
        .collect();
    write_or_print(text, output, drawn.len(), out)?;
    Ok(ExitStatus::Success)
}

fn export(
    spec: &str,
    format: BankFormat,
    output: Option<&Path>,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let (b, _) = load(spec)?;
    let text = match format {
        BankFormat::Jsonl => b
            .items
            .iter()
            .map(|(_, it)| serde_json::to_string(it).unwrap_or_default() + "\n")
            .collect(),
        BankFormat::Csv => {
            let mut s =
                String::from("id,bank,risk_ids,lang,style,expected,prompt,source,license,added\n");
            for (_, it) in &b.items {
                let fields = [
                    it.id.as_str(),
                    it.bank.as_str(),
                    &it.risk_ids.join(";"),
                    &it.lang,
                    it.style.as_deref().unwrap_or(""),
                    &it.expected,
                    &it.text(),
                    &it.source,
                    &it.license,
                    &it.added,
                ];
                s.push_str(
                    &fields
                        .iter()
                        .map(|f| csv_field(f))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                s.push('\n');
            }
            s
        }
    };
    write_or_print(text, output, b.items.len(), out)?;
    Ok(ExitStatus::Success)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one argument per command-line option"
)]
fn import(
    catalog: &Catalog,
    file: &Path,
    bank: &str,
    item_lang: &str,
    map: &[String],
    added: Option<&str>,
    output: Option<&Path>,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    use anquan::eval::bank::BankKind;
    use anquan::eval::import::{ColumnMap, import_rows, read_rows};
    let kind = BankKind::parse(bank).ok_or_else(|| anyhow::anyhow!("unknown bank `{bank}`"))?;
    let map = ColumnMap::parse(map)
        .map_err(|e| with_hint(e, "e.g. `--map prompt=问题 --map risk=风险类别`"))?;
    let added = match added {
        Some(d) => {
            anquan::detect::check::days_from_date(d).ok_or_else(|| {
                with_hint(
                    format!("`--added {d}` is not a date"),
                    "write it as YYYY-MM-DD",
                )
            })?;
            d.to_owned()
        }
        None => crate::output::date_string(today(None)?),
    };
    let rows = read_rows(file).map_err(anyhow::Error::msg)?;
    let (mut items, problems) = import_rows(
        catalog,
        &rows,
        &map,
        kind,
        item_lang,
        &added,
        &file.display().to_string(),
    );
    items.sort_by(|a, b| anquan::catalog::natural::cmp(&a.id, &b.id));
    for p in problems.iter().take(50) {
        crate::output::warn(&format!(
            "`{}`: row {}: {} (skipped)",
            file.display(),
            p.line,
            p.message
        ));
    }
    let text: String = items
        .iter()
        .map(|it| serde_json::to_string(it).unwrap_or_default() + "\n")
        .collect();
    write_or_print(text, output, items.len(), out)?;
    if !problems.is_empty() {
        crate::output::note(&format!(
            "imported {} of {} rows; {} skipped",
            items.len(),
            rows.len(),
            problems.len()
        ));
    }
    Ok(if problems.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_round_trip() {
        for d in ["1970-01-01", "2024-02-29", "2026-11-25", "2000-12-31"] {
            let n = anquan::detect::check::days_from_date(d).unwrap();
            assert_eq!(crate::output::date_string(n), d);
        }
    }
}
