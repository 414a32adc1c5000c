//! `anquan catalog …`: query the standards catalog.

use std::fmt::Write as _;

use anquan::catalog::model::{Framework, RiskLevel};
use anquan::catalog::{Catalog, Kind, MapEntry, RecordRef, natural};
use anquan::core::{Lang, Text};
use anyhow::Context as _;
use serde_json::{Value, json};

use super::load_catalog;
use crate::ExitStatus;
use crate::args::{CatalogCommand, Cli, ExportFormat, FrameworkArg};
use crate::output::{Out, csv_field, table, with_hint};

pub(crate) fn run(cmd: &CatalogCommand, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    if let CatalogCommand::Validate = cmd {
        return validate(cli, out);
    }
    let catalog = load_catalog(cli)?;
    match cmd {
        CatalogCommand::Risks { framework, tree } => {
            risks(&catalog, framework_of(*framework), *tree, out)
        }
        CatalogCommand::Show { id } => show(&catalog, id, out),
        CatalogCommand::Map {
            risk,
            untested,
            framework,
        } => match (risk, untested) {
            (_, true) => untested_risks(&catalog, framework_of(*framework), out),
            (Some(risk), false) => map(&catalog, risk, out),
            (None, false) => Err(anyhow::anyhow!(
                "`catalog map` needs a risk id or `--untested`"
            )),
        },
        CatalogCommand::Standards { status } => standards(&catalog, status.as_deref(), out),
        CatalogCommand::Directions => directions(&catalog, out),
        CatalogCommand::Clauses => clauses(&catalog, out),
        CatalogCommand::Search { text, kind, limit } => {
            search(&catalog, text, kind.as_deref(), *limit, out)
        }
        CatalogCommand::Export { format, output } => {
            export(&catalog, *format, output.as_deref(), out)
        }
        CatalogCommand::Validate => unreachable_validate(),
    }
}

fn unreachable_validate() -> anyhow::Result<ExitStatus> {
    Err(anyhow::anyhow!(
        "internal error: validate is handled before loading"
    ))
}

fn framework_of(f: FrameworkArg) -> Framework {
    match f {
        FrameworkArg::Fw2 => Framework::Fw2,
        FrameworkArg::Fw1 => Framework::Fw1,
        FrameworkArg::Gbt45654 => Framework::Gbt45654,
    }
}

fn framework_title(f: Framework, lang: Lang) -> &'static str {
    match (f, lang) {
        (Framework::Fw2, Lang::Zh) => "人工智能安全治理框架 2.0 安全风险分类",
        (Framework::Fw2, Lang::En) => "AI Safety Governance Framework 2.0: risk taxonomy",
        (Framework::Fw1, Lang::Zh) => "人工智能安全治理框架 1.0 安全风险分类",
        (Framework::Fw1, Lang::En) => "AI Safety Governance Framework 1.0: risk taxonomy",
        (Framework::Gbt45654, Lang::Zh) => "GB/T 45654-2025 附录A 主要安全风险（5类31种）",
        (Framework::Gbt45654, Lang::En) => {
            "GB/T 45654-2025 annex A: main safety risks (31 in 5 categories)"
        }
    }
}

fn header(catalog: &Catalog, schema: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("schema".into(), schema.into());
    m.insert("catalog_version".into(), catalog.version.clone().into());
    m
}

fn name_of(catalog: &Catalog, id: &str, lang: Lang) -> String {
    catalog
        .get(id)
        .map(|r| r.title(lang).to_owned())
        .unwrap_or_default()
}

fn risks(
    catalog: &Catalog,
    framework: Framework,
    tree: bool,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let mut list: Vec<_> = catalog.risks(framework).collect();
    list.sort_by(|a, b| natural::cmp(a.id.as_str(), b.id.as_str()));
    if out.json {
        let mut m = header(catalog, "anquan.catalog.risks.v1");
        m.insert("framework".into(), framework.as_str().into());
        m.insert(
            "risks".into(),
            list.iter().map(|r| RecordRef::Risk(r).to_json()).collect(),
        );
        out.json_value(&Value::Object(m));
        return Ok(ExitStatus::Success);
    }
    out.heading(framework_title(framework, lang));
    let lettered = list.iter().filter(|r| r.level == RiskLevel::Risk).count();
    if tree {
        for r in &list {
            let depth = match r.level {
                RiskLevel::Class => 0,
                RiskLevel::Group if framework == Framework::Gbt45654 => 0,
                RiskLevel::Group => 1,
                RiskLevel::Risk if framework == Framework::Gbt45654 => 1,
                RiskLevel::Risk => 2,
            };
            out.line(format!(
                "{}{}  {}",
                "  ".repeat(depth),
                r.id,
                r.name.get(lang)
            ));
        }
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .filter(|r| r.level == RiskLevel::Risk)
            .map(|r| {
                let maps = r
                    .maps_to
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                vec![r.id.to_string(), r.name.get(lang).to_owned(), maps]
            })
            .collect();
        let maps_header = if framework == Framework::Fw2 {
            ""
        } else {
            out.t("对应框架2.0", "maps to 2.0")
        };
        out.line(table(
            &[out.t("编号", "id"), out.t("名称", "name"), maps_header],
            &rows,
        ));
    }
    out.blank();
    out.line(&(match lang {
            Lang::Zh => format!("共 {lettered} 种风险。`anquan catalog map <编号>` 查看关联的措施、标准、条款和测试命令。"),
            Lang::En => format!("{lettered} risks. `anquan catalog map <id>` shows the measures, standards, clauses and commands linked to one."),
        }));
    Ok(ExitStatus::Success)
}

fn unknown_id(catalog: &Catalog, id: &str) -> anyhow::Error {
    let suggestions = catalog.suggest(id);
    let hint = if suggestions.is_empty() {
        "search by name with `anquan catalog search <text>`".to_owned()
    } else {
        format!(
            "did you mean {}? Or search by name with `anquan catalog search <text>`",
            suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    with_hint(format!("no catalog record has the id `{id}`"), hint)
}

const COMMON_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "source",
    "note",
    "aliases",
    "kind",
];

fn value_text(v: &Value, lang: Lang) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .map(|x| value_text(x, lang))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(m) if m.contains_key("zh") && m.contains_key("en") => m
            .get(lang.code())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", value_text(v, lang)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

fn show(catalog: &Catalog, id: &str, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let rec = catalog.get(id).ok_or_else(|| unknown_id(catalog, id))?;
    let refs = rec.refs();
    let referrers = catalog.referrers(id);
    if out.json {
        let mut m = header(catalog, "anquan.catalog.show.v1");
        m.insert("record".into(), rec.to_json());
        m.insert(
            "file".into(),
            catalog.file_of(id).unwrap_or_default().into(),
        );
        m.insert(
            "links".into(),
            refs.iter().map(|(rel, t)| json!({"relation": rel, "id": t.as_str(), "name": catalog.get(t.as_str()).map(|r| r.name().clone())})).collect(),
        );
        m.insert(
            "linked_from".into(),
            referrers.iter().map(|(rel, r)| json!({"relation": rel, "kind": r.kind().as_str(), "id": r.id().as_str(), "name": r.name()})).collect(),
        );
        out.json_value(&Value::Object(m));
        return Ok(ExitStatus::Success);
    }
    out.heading(format!("{}  {}", rec.id(), rec.title(lang)));
    let other = match lang {
        Lang::Zh => &rec.name().en,
        Lang::En => &rec.name().zh,
    };
    out.line(format!(
        "{}: {}",
        out.t("另一语言", "other language"),
        other
    ));
    out.line(format!(
        "{}: {}",
        out.t("类型", "kind"),
        rec.kind().as_str()
    ));
    if let Some(source) = rec.source() {
        out.line(format!("{}: {}", out.t("来源", "source"), source.display()));
        if let Some(note) = &source.note {
            out.line(format!("{}: {note}", out.t("来源说明", "source note")));
        }
    }
    if !rec.aliases().is_empty() {
        out.line(format!(
            "{}: {}",
            out.t("别名", "aliases"),
            rec.aliases().join(" · ")
        ));
    }
    out.blank();
    out.line(rec.description().get(lang));
    if let Some(note) = rec.note() {
        out.blank();
        out.line(format!("{}: {}", out.t("注", "note"), note.get(lang)));
    }
    // Kind-specific fields.
    let json = rec.to_json();
    let ref_rels: Vec<&str> = refs.iter().map(|(rel, _)| *rel).collect();
    let mut fields = Vec::new();
    if let Value::Object(map) = &json {
        for (k, v) in map {
            if COMMON_FIELDS.contains(&k.as_str())
                || ref_rels.contains(&k.as_str())
                || k == "threshold"
            {
                continue;
            }
            fields.push(vec![k.clone(), value_text(v, lang)]);
        }
    }
    if let RecordRef::Clause(c) = rec {
        out.blank();
        out.line(format!(
            "{}: {} ({})",
            out.t("核实状态", "verification"),
            c.status.label(lang),
            explain_status(c.status, lang)
        ));
        for t in &c.threshold {
            let note = t
                .note
                .as_ref()
                .map(|n| format!("  ({})", n.get(lang)))
                .unwrap_or_default();
            out.line(format!(
                "  {} {}{note}",
                out.t("阈值", "threshold"),
                t.describe(lang)
            ));
        }
    }
    if !fields.is_empty() {
        out.blank();
        out.line(table(
            &[out.t("字段", "field"), out.t("值", "value")],
            &fields,
        ));
    }
    if !refs.is_empty() {
        out.blank();
        out.line(out.t("链接：", "Links:"));
        for (rel, target) in &refs {
            out.line(format!(
                "  {rel} → {}  {}",
                target,
                name_of(catalog, target.as_str(), lang)
            ));
        }
    }
    if !referrers.is_empty() {
        out.blank();
        out.line(out.t("被以下记录引用：", "Linked from:"));
        for (rel, r) in &referrers {
            out.line(format!(
                "  {} {}  {}  ({rel})",
                r.kind().as_str(),
                r.id(),
                r.title(lang)
            ));
        }
    }
    Ok(ExitStatus::Success)
}

fn explain_status(status: anquan::core::Verification, lang: Lang) -> &'static str {
    use anquan::core::Verification::*;
    match (status, lang) {
        (Verified, Lang::Zh) => "已对照官方文本核实",
        (Verified, Lang::En) => "checked against the official text",
        (Secondary, Lang::Zh) => "多个独立二手来源一致，尚未对照官方文本核实",
        (Secondary, Lang::En) => {
            "several independent secondary sources agree; not yet checked against the official text"
        }
        (Unverified, Lang::Zh) => "未经核实，仅供参考",
        (Unverified, Lang::En) => "not verified; for reference only",
    }
}

fn entries_json(catalog: &Catalog, list: &[MapEntry]) -> Value {
    list.iter()
        .map(|e| {
            let rec = catalog.get(&e.id);
            json!({
                "id": e.id,
                "kind": rec.map(|r| r.kind().as_str()),
                "name": rec.map(|r| r.name().clone()),
                "via": e.via,
            })
        })
        .collect()
}

fn map(catalog: &Catalog, risk: &str, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    if catalog.risk(risk).is_none() {
        if catalog.get(risk).is_some() {
            return Err(with_hint(
                format!("`{risk}` is not a risk"),
                format!(
                    "`catalog map` takes a risk id; use `anquan catalog show {risk}` for other records"
                ),
            ));
        }
        return Err(unknown_id(catalog, risk));
    }
    let report = catalog.map_risk(risk).context("failed to map the risk")?;
    let sections: [(&str, &str, &str, &Vec<MapEntry>); 9] = [
        (
            "related",
            "关联风险（其他分类）",
            "Related risks (other taxonomies)",
            &report.related,
        ),
        (
            "measures",
            "技术与综合治理措施",
            "Technical and governance measures",
            &report.measures,
        ),
        ("guidelines", "安全指引", "Guidelines", &report.guidelines),
        (
            "standards",
            "对应标准（标准体系附件1）",
            "Standards (standards system annex 1)",
            &report.standards,
        ),
        (
            "clauses",
            "有数值的条款",
            "Clauses with numbers",
            &report.clauses,
        ),
        (
            "requirements",
            "无数值的条款",
            "Clauses without numbers",
            &report.requirements,
        ),
        (
            "threats",
            "白皮书威胁与测评框架",
            "White-paper threats and framework",
            &report.threats,
        ),
        (
            "tools",
            "白皮书测评工具",
            "White-paper testing tools",
            &report.tools,
        ),
        (
            "commands",
            "测试它的 anquan 命令",
            "anquan commands that test it",
            &report.commands,
        ),
    ];
    if out.json {
        let mut m = header(catalog, "anquan.catalog.map.v1");
        m.insert(
            "risk".into(),
            RecordRef::Risk(catalog.risk(risk).expect("checked above")).to_json(),
        );
        for (key, _, _, list) in &sections {
            m.insert((*key).into(), entries_json(catalog, list));
        }
        m.insert("tested_now".into(), report.tested_now(catalog).into());
        out.json_value(&Value::Object(m));
        return Ok(ExitStatus::Success);
    }
    out.heading(format!("{}  {}", risk, name_of(catalog, risk, lang)));
    for (key, zh, en, list) in &sections {
        out.blank();
        out.line(format!("{} ({})", lang.pick(zh, en), list.len()));
        if list.is_empty() {
            let none = if *key == "commands" {
                out.t(
                    "  （尚无 anquan 命令测试该风险）",
                    "  (no anquan command tests this risk yet)",
                )
            } else {
                out.t("  （无）", "  (none)")
            };
            out.line(none);
        }
        for e in list.iter() {
            let via = e
                .via
                .as_ref()
                .map(|v| format!("  [{} {v}]", out.t("经由", "via")))
                .unwrap_or_default();
            let extra = match catalog.get(&e.id) {
                Some(RecordRef::Command(c)) => {
                    let issue = c.issue.map(|i| format!(", issue {i}")).unwrap_or_default();
                    format!("  `{}` ({}{issue})", c.command, c.status)
                }
                Some(RecordRef::Clause(c)) => format!("  [{}]", c.status.label(lang)),
                Some(RecordRef::Standard(s)) => s
                    .current_number()
                    .map(|n| format!("  {n}"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            out.line(format!(
                "  {}  {}{extra}{via}",
                e.id,
                name_of(catalog, &e.id, lang)
            ));
        }
    }
    Ok(ExitStatus::Success)
}

fn untested_risks(
    catalog: &Catalog,
    framework: Framework,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let all: Vec<_> = catalog
        .risks(framework)
        .filter(|r| r.level == RiskLevel::Risk)
        .collect();
    let untested = catalog.untested(framework);
    let planned_only: Vec<_> = all
        .iter()
        .filter(|r| !untested.iter().any(|u| u.id == r.id))
        .filter(|r| {
            catalog
                .map_risk(r.id.as_str())
                .map(|m| !m.tested_now(catalog))
                .unwrap_or(false)
        })
        .collect();
    if out.json {
        let mut m = header(catalog, "anquan.catalog.untested.v1");
        m.insert("framework".into(), framework.as_str().into());
        m.insert("total".into(), all.len().into());
        m.insert(
            "untested".into(),
            untested
                .iter()
                .map(|r| json!({"id": r.id.as_str(), "name": r.name}))
                .collect(),
        );
        m.insert(
            "planned_only".into(),
            planned_only
                .iter()
                .map(|r| json!({"id": r.id.as_str(), "name": r.name}))
                .collect(),
        );
        out.json_value(&Value::Object(m));
        return Ok(ExitStatus::Success);
    }
    out.heading(framework_title(framework, lang));
    out.line(match lang {
        Lang::Zh => format!("{} 种风险中，{} 种尚无任何 anquan 命令（含计划中的）测试；{} 种只有计划中的命令测试。", all.len(), untested.len(), planned_only.len()),
        Lang::En => format!("Of {} risks, {} are tested by no anquan command, not even a planned one; {} only by planned commands.", all.len(), untested.len(), planned_only.len()),
    });
    out.blank();
    out.line(out.t("无命令测试：", "Tested by nothing:"));
    for r in &untested {
        out.line(format!("  {}  {}", r.id, r.name.get(lang)));
    }
    Ok(ExitStatus::Success)
}

fn status_label(status: &str, lang: Lang) -> &str {
    match (status, lang) {
        ("published", Lang::Zh) => "已发布",
        ("draft_for_approval", Lang::Zh) => "送审稿/报批稿",
        ("draft_for_comments", Lang::Zh) => "征求意见稿",
        ("drafting", Lang::Zh) => "在研",
        ("planned", Lang::Zh) => "拟研制",
        ("published", Lang::En) => "published",
        ("draft_for_approval", Lang::En) => "draft for approval",
        ("draft_for_comments", Lang::En) => "draft for comments",
        ("drafting", Lang::En) => "drafting",
        ("planned", Lang::En) => "planned",
        (other, _) => other,
    }
}

fn standards(catalog: &Catalog, status: Option<&str>, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let list: Vec<_> = catalog
        .records
        .standard
        .iter()
        .filter(|s| status.is_none_or(|st| s.current_status() == st))
        .collect();
    // Published first, then in the order of the standards system's annex 2, then by id.
    let rank = |s: &str| {
        [
            "published",
            "draft_for_approval",
            "draft_for_comments",
            "drafting",
            "planned",
        ]
        .iter()
        .position(|x| *x == s)
        .unwrap_or(9)
    };
    let mut list = list;
    list.sort_by(|a, b| {
        rank(a.current_status())
            .cmp(&rank(b.current_status()))
            .then(
                a.annex2_no
                    .unwrap_or(u32::MAX)
                    .cmp(&b.annex2_no.unwrap_or(u32::MAX)),
            )
            .then_with(|| natural::cmp(a.id.as_str(), b.id.as_str()))
    });
    if out.json {
        let mut m = header(catalog, "anquan.catalog.standards.v1");
        m.insert(
            "standards".into(),
            list.iter()
                .map(|s| RecordRef::Standard(s).to_json())
                .collect(),
        );
        out.json_value(&Value::Object(m));
        return Ok(ExitStatus::Success);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let updated = if s.update.is_some() { " *" } else { "" };
            vec![
                s.id.to_string(),
                s.current_number().unwrap_or("—").to_owned(),
                format!("{}{updated}", status_label(s.current_status(), lang)),
                s.name.get(lang).to_owned(),
            ]
        })
        .collect();
    out.heading(out.t(
        "人工智能安全标准（标准体系 V1.0 附件2、附件3，及后续来源）",
        "AI safety standards (standards system V1.0 annexes 2 and 3, and later sources)",
    ));
    out.line(table(
        &[
            out.t("编号", "id"),
            out.t("标准号", "number"),
            out.t("状态", "status"),
            out.t("名称", "name"),
        ],
        &rows,
    ));
    out.blank();
    out.line(match lang {
        Lang::Zh => format!("共 {} 项。状态为标准体系（2025-01）所载；带 * 者已按后续来源更新（见 `anquan catalog show <编号>`）。", rows.len()),
        Lang::En => format!("{} standards. Status as of the standards system (2025-01); * marks a status updated from a later source (see `anquan catalog show <id>`).", rows.len()),
    });
    Ok(ExitStatus::Success)
}

fn directions(catalog: &Catalog, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    if out.json {
        let mut m = header(catalog, "anquan.catalog.directions.v1");
        m.insert(
            "parts".into(),
            catalog
                .records
                .part
                .iter()
                .map(|p| RecordRef::Part(p).to_json())
                .collect(),
        );
        m.insert(
            "directions".into(),
            catalog
                .records
                .direction
                .iter()
                .map(|d| RecordRef::Direction(d).to_json())
                .collect(),
        );
        out.json_value(&Value::Object(m));
        return Ok(ExitStatus::Success);
    }
    out.heading(out.t(
        "人工智能安全标准体系：五部分与重点方向（附件3）",
        "AI safety standards system: five parts and key directions (annex 3)",
    ));
    let mut text = String::new();
    for part in &catalog.records.part {
        let _ = writeln!(
            text,
            "{}  {}",
            part.id.as_str().trim_start_matches("ss."),
            part.name.get(lang)
        );
        write_directions(catalog, part.id.as_str(), 1, lang, &mut text);
    }
    out.line(text.trim_end());
    Ok(ExitStatus::Success)
}

fn write_directions(catalog: &Catalog, parent: &str, depth: usize, lang: Lang, text: &mut String) {
    for d in catalog
        .records
        .direction
        .iter()
        .filter(|d| d.parent.as_str() == parent)
    {
        let indent = "  ".repeat(depth);
        let _ = writeln!(
            text,
            "{indent}{}  {}",
            d.id.as_str().trim_start_matches("ss."),
            d.name.get(lang)
        );
        for s in &d.standards {
            if let Some(RecordRef::Standard(st)) = catalog.get(s.as_str()) {
                let number = st
                    .current_number()
                    .map(|n| format!("{n}, "))
                    .unwrap_or_default();
                let _ = writeln!(
                    text,
                    "{indent}    · {} ({number}{})",
                    st.name.get(lang),
                    status_label(st.current_status(), lang)
                );
            }
        }
        write_directions(catalog, d.id.as_str(), depth + 1, lang, text);
    }
}

fn clauses(catalog: &Catalog, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    if out.json {
        let mut m = header(catalog, "anquan.catalog.clauses.v1");
        m.insert(
            "clauses".into(),
            catalog
                .records
                .clause
                .iter()
                .map(|c| RecordRef::Clause(c).to_json())
                .collect(),
        );
        m.insert(
            "requirements".into(),
            catalog
                .records
                .requirement
                .iter()
                .map(|r| RecordRef::Requirement(r).to_json())
                .collect(),
        );
        out.json_value(&Value::Object(m));
        return Ok(ExitStatus::Success);
    }
    out.heading(out.t(
        "有数值的条款（GB/T 45654-2025 / TC260-003 等）",
        "Clauses with numbers (GB/T 45654-2025 / TC260-003 and related)",
    ));
    let rows: Vec<Vec<String>> = catalog
        .records
        .clause
        .iter()
        .map(|c| {
            let th = c
                .threshold
                .iter()
                .map(|t| t.describe(lang))
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                c.id.to_string(),
                c.status.label(lang).to_owned(),
                c.name.get(lang).to_owned(),
                if th.is_empty() { "—".into() } else { th },
            ]
        })
        .collect();
    out.line(table(
        &[
            out.t("条款", "clause"),
            out.t("核实", "status"),
            out.t("名称", "name"),
            out.t("阈值", "thresholds"),
        ],
        &rows,
    ));
    out.blank();
    out.heading(out.t(
        "无数值但评估须回答的条款",
        "Clauses without numbers that an assessment must answer",
    ));
    let rows: Vec<Vec<String>> = catalog
        .records
        .requirement
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.name.get(lang).to_owned(),
                verification_label(&r.verification, lang).to_owned(),
                r.status.label(lang).to_owned(),
            ]
        })
        .collect();
    out.line(table(
        &[
            out.t("条款", "clause"),
            out.t("名称", "name"),
            out.t("核验方式", "checked by"),
            out.t("核实", "status"),
        ],
        &rows,
    ));
    out.blank();
    out.line(out.t(
        "核实状态：已核实 = 已对照官方文本；二手来源 = 多个独立二手来源一致，尚未对照官方文本；未核实 = 仅供参考。",
        "Status: verified = checked against the official text; secondary = several independent secondary sources agree, not yet checked against the official text; unverified = for reference only.",
    ));
    Ok(ExitStatus::Success)
}

fn verification_label(v: &str, lang: Lang) -> &str {
    match (v, lang) {
        ("automated", Lang::Zh) => "自动（anquan 命令）",
        ("partly_automated", Lang::Zh) => "部分自动",
        ("attestation", Lang::Zh) => "人工声明",
        ("automated", Lang::En) => "automated (anquan command)",
        ("partly_automated", Lang::En) => "partly automated",
        ("attestation", Lang::En) => "manual attestation",
        (other, _) => other,
    }
}

fn search(
    catalog: &Catalog,
    text: &str,
    kind: Option<&str>,
    limit: usize,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let kind = match kind {
        None => None,
        Some(k) => Some(
            Kind::ALL
                .iter()
                .copied()
                .find(|x| x.as_str() == k)
                .ok_or_else(|| {
                    with_hint(
                        format!("unknown record kind `{k}`"),
                        format!(
                            "kinds are: {}",
                            Kind::ALL
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?,
        ),
    };
    let hits = catalog.search(text, kind);
    let total = hits.len();
    let shown: Vec<_> = hits.into_iter().take(limit).collect();
    if out.json {
        let mut m = header(catalog, "anquan.catalog.search.v1");
        m.insert("query".into(), text.into());
        m.insert("total".into(), total.into());
        m.insert(
            "hits".into(),
            shown.iter().map(|h| json!({"id": h.id, "kind": h.kind, "field": h.field, "score": h.score, "name": catalog.get(&h.id).map(|r| r.name().clone())})).collect(),
        );
        out.json_value(&Value::Object(m));
        return Ok(ExitStatus::Success);
    }
    if shown.is_empty() {
        out.line(match lang {
            Lang::Zh => format!("没有记录匹配 “{text}”。"),
            Lang::En => format!("No record matches \"{text}\"."),
        });
        return Ok(ExitStatus::Success);
    }
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|h| {
            vec![
                h.id.clone(),
                h.kind.to_owned(),
                name_of(catalog, &h.id, lang),
                h.field.to_owned(),
            ]
        })
        .collect();
    out.line(table(
        &[
            out.t("编号", "id"),
            out.t("类型", "kind"),
            out.t("名称", "name"),
            out.t("匹配字段", "matched"),
        ],
        &rows,
    ));
    if total > shown.len() {
        out.blank();
        out.line(match lang {
            Lang::Zh => format!("共 {total} 条，显示前 {}（用 --limit 调整）。", shown.len()),
            Lang::En => format!("{total} matches, showing {} (use --limit).", shown.len()),
        });
    }
    Ok(ExitStatus::Success)
}

fn export(
    catalog: &Catalog,
    format: ExportFormat,
    output: Option<&std::path::Path>,
    out: &mut Out,
) -> anyhow::Result<ExitStatus> {
    let text = match format {
        ExportFormat::Json => {
            let mut m = header(catalog, "anquan.catalog.v1");
            m.insert("updated".into(), catalog.updated.clone().into());
            m.insert(
                "records".into(),
                catalog.iter().map(|(r, _)| r.to_json()).collect(),
            );
            if let Some(rubric) = &catalog.rubric {
                m.insert("rubric".into(), serde_json::to_value(rubric)?);
            }
            serde_json::to_string_pretty(&Value::Object(m))? + "\n"
        }
        ExportFormat::Csv => {
            let mut s =
                String::from("kind,id,name_zh,name_en,description_zh,description_en,source\n");
            for (r, _) in catalog.iter() {
                let name: &Text = r.name();
                let desc: &Text = r.description();
                let source = r.source().map(|s| s.display()).unwrap_or_default();
                let fields = [
                    r.kind().as_str(),
                    r.id().as_str(),
                    &name.zh,
                    &name.en,
                    &desc.zh,
                    &desc.en,
                    &source,
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
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("failed to write `{}`", path.display()))?;
            if !out.json {
                out.line(format!(
                    "wrote {} records to `{}`",
                    catalog.iter().count(),
                    path.display()
                ));
            }
        }
        None => out.line(text.trim_end()),
    }
    Ok(ExitStatus::Success)
}

fn validate(cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let dir = cli.global.catalog.as_deref();
    let loaded = match dir {
        Some(d) => Catalog::load_dir(d),
        None => Catalog::embedded(),
    };
    let (catalog, mut problems, origin) = match loaded {
        Ok((catalog, problems)) => {
            let origin = catalog.origin.clone();
            (Some(catalog), problems, origin)
        }
        Err(anquan::catalog::Error::Invalid { origin, problems }) => (None, problems, origin),
        Err(e) => return Err(anyhow::Error::new(e).context("failed to read the catalog")),
    };
    if let Some(c) = &catalog {
        problems.extend(c.validate());
    }
    let records = catalog.as_ref().map_or(0, |c| c.iter().count());
    if out.json {
        out.json_value(&json!({
            "schema": "anquan.catalog.validate.v1",
            "origin": origin,
            "catalog_version": catalog.as_ref().map(|c| c.version.clone()),
            "records": records,
            "valid": problems.is_empty(),
            "problems": problems,
        }));
    } else if problems.is_empty() {
        out.line(match lang {
            Lang::Zh => format!("目录 `{origin}` 有效：{records} 条记录，未发现问题。"),
            Lang::En => format!("catalog `{origin}` is valid: {records} records, no problems."),
        });
    } else {
        out.line(match lang {
            Lang::Zh => format!("目录 `{origin}` 有 {} 个问题：", problems.len()),
            Lang::En => format!("catalog `{origin}` has {} problem(s):", problems.len()),
        });
        for p in &problems {
            out.line(format!("  - {p}"));
        }
    }
    Ok(if problems.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
