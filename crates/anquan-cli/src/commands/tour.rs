//! `anquan tour`: the catalog and grading on embedded defaults (the README's main job).

use anquan::assess::{Answers, AnswersFormat, grade};
use anquan::catalog::model::{Framework, RiskLevel};
use anquan::core::Lang;
use serde_json::json;

use super::load_catalog;
use crate::ExitStatus;
use crate::args::{Cli, TourArgs};
use crate::output::{Out, table};

/// The example intake profiles, embedded so the tour runs anywhere.
pub(crate) const PROFILES: &[(&str, &str)] = &[
    (
        "internal-writing-assistant.toml",
        include_str!("../../../../examples/intake/internal-writing-assistant.toml"),
    ),
    (
        "public-chatbot.toml",
        include_str!("../../../../examples/intake/public-chatbot.toml"),
    ),
    (
        "medical-information-assistant.toml",
        include_str!("../../../../examples/intake/medical-information-assistant.toml"),
    ),
    (
        "financial-risk-control.toml",
        include_str!("../../../../examples/intake/financial-risk-control.toml"),
    ),
    (
        "autonomous-agent.toml",
        include_str!("../../../../examples/intake/autonomous-agent.toml"),
    ),
    (
        "driving-assistance-perception.toml",
        include_str!("../../../../examples/intake/driving-assistance-perception.toml"),
    ),
];

pub(crate) fn run(args: &TourArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let catalog = load_catalog(cli)?;
    let count = |f: Framework| {
        catalog
            .risks(f)
            .filter(|r| r.level == RiskLevel::Risk)
            .count()
    };
    let mut grades = Vec::new();
    for (file, text) in PROFILES {
        let answers = Answers::parse(
            text,
            AnswersFormat::Toml,
            &format!("examples/intake/{file}"),
        )?;
        grades.push((*file, grade(&catalog, &answers, file)?));
    }
    // The built-in banks and the starter keyword library against their clauses.
    let day = crate::output::today(args.today.as_deref())?;
    let normalizer = anquan::detect::normalize::Normalizer::full(catalog.radical_folder());
    let banks: Vec<_> = ["generated_content", "should_refuse", "should_not_refuse"]
        .iter()
        .filter_map(|n| anquan::eval::bank::builtin(n))
        .map(|(b, p)| anquan::eval::bank::check_bank(&catalog, &b, p, &normalizer, day))
        .collect();
    let (starter, _) =
        anquan::detect::keywords::Library::parse_tsv(anquan::detect::keywords::STARTER_LIBRARY);
    let kw = anquan::detect::check::check_libraries(
        &catalog,
        std::slice::from_ref(&starter),
        &normalizer,
        day,
    );
    let sample = "有人在网上出售冰毒，联系电话13812345678，身份证11010519491231002X。";
    let engine = anquan::detect::Engine::new(
        &catalog,
        Some(starter),
        &anquan::detect::keywords::starter_allow_list(),
        true,
    );
    let found = engine.scan(sample);
    if out.json {
        out.json_value(&json!({
            "schema": "anquan.tour.v1",
            "banks": banks.iter().map(|b| json!({"name": b.name, "items": b.items, "passed": b.passed})).collect::<Vec<_>>(),
            "keyword_library": {"distinct": kw.distinct, "passed": kw.passed},
            "scan_sample": {"text": sample, "findings": found.len()},
            "catalog_version": catalog.version,
            "records": catalog.iter().count(),
            "risks": {"fw2": count(Framework::Fw2), "fw1": count(Framework::Fw1), "gbt45654": count(Framework::Gbt45654)},
            "clauses": catalog.records.clause.len(),
            "requirements": catalog.records.requirement.len(),
            "standards": catalog.records.standard.len(),
            "grades": grades.iter().map(|(f, g)| json!({"file": f, "profile": g.profile, "level": g.level, "lane": g.lane_id, "gbt45654_applies": g.gbt45654_applies})).collect::<Vec<_>>(),
        }));
        return Ok(ExitStatus::Success);
    }
    out.heading(out.t(
        "anquan 导览：标准目录与风险分级",
        "anquan tour: the standards catalog and risk grading",
    ));
    out.line(match lang {
        Lang::Zh => format!(
            "目录版本 {}，共 {} 条记录，全部为中英双语并注明来源。",
            catalog.version,
            catalog.iter().count()
        ),
        Lang::En => format!(
            "Catalog version {}: {} records, every one bilingual and citing its source.",
            catalog.version,
            catalog.iter().count()
        ),
    });
    let rows = vec![
        vec![
            out.t("框架2.0 风险", "Framework 2.0 risks").to_owned(),
            count(Framework::Fw2).to_string(),
            "anquan catalog risks --framework 2.0 --tree".into(),
        ],
        vec![
            out.t("框架1.0 风险", "Framework 1.0 risks").to_owned(),
            count(Framework::Fw1).to_string(),
            "anquan catalog risks --framework 1.0".into(),
        ],
        vec![
            out.t("GB/T 45654 附录A 风险", "GB/T 45654 annex-A risks")
                .to_owned(),
            count(Framework::Gbt45654).to_string(),
            "anquan catalog risks --framework gbt45654 --tree".into(),
        ],
        vec![
            out.t("技术与治理措施", "Technical and governance measures")
                .to_owned(),
            catalog.records.measure.len().to_string(),
            "anquan catalog map <risk>".into(),
        ],
        vec![
            out.t("安全指引", "Guidelines").to_owned(),
            catalog.records.guideline.len().to_string(),
            "anquan catalog search <text>".into(),
        ],
        vec![
            out.t("标准", "Standards").to_owned(),
            catalog.records.standard.len().to_string(),
            "anquan catalog standards".into(),
        ],
        vec![
            out.t("重点方向", "Key directions").to_owned(),
            catalog.records.direction.len().to_string(),
            "anquan catalog directions".into(),
        ],
        vec![
            out.t("有数值的条款", "Clauses with numbers").to_owned(),
            catalog.records.clause.len().to_string(),
            "anquan catalog clauses".into(),
        ],
        vec![
            out.t("无数值的条款", "Clauses without numbers").to_owned(),
            catalog.records.requirement.len().to_string(),
            "anquan catalog clauses".into(),
        ],
        vec![
            out.t("GB 45438 标识规则与字段", "GB 45438 label rules and fields")
                .to_owned(),
            (catalog.records.label_rule.len() + catalog.records.label_field.len()).to_string(),
            "anquan catalog search AIGC".into(),
        ],
    ];
    out.blank();
    out.line(table(
        &[
            out.t("内容", "contents"),
            out.t("数量", "count"),
            out.t("查看", "see"),
        ],
        &rows,
    ));

    out.blank();
    out.heading(out.t(
        "GB/T 45654 关键条款（阈值来自目录数据，附核实状态）",
        "Key GB/T 45654 clauses (thresholds from catalog data, with verification status)",
    ));
    let key = [
        "gbt45654.keywords.size",
        "gbt45654.keywords.coverage",
        "gbt45654.bank.gc.size",
        "gbt45654.bank.should_refuse",
        "gbt45654.bank.should_not_refuse",
        "gbt45654.eval.gc",
        "gbt45654.eval.should_refuse",
        "gbt45654.eval.should_not_refuse",
        "gbt45654.corpus.source.after",
        "gbt45654.users.repeat_offender",
    ];
    let rows: Vec<Vec<String>> = key
        .iter()
        .filter_map(|id| catalog.clause(id))
        .map(|c| {
            vec![
                c.id.to_string(),
                c.status.label(lang).to_owned(),
                c.threshold
                    .iter()
                    .map(|t| t.describe(lang))
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    out.line(table(
        &[
            out.t("条款", "clause"),
            out.t("核实", "status"),
            out.t("阈值", "thresholds"),
        ],
        &rows,
    ));
    out.line(out.t(
        "“二手来源”= 多个独立二手来源一致，尚未对照官方文本核实；anquan 在使用这些条款时都会注明。",
        "\"secondary\" = several independent secondary sources agree, not yet checked against the official text; anquan says so wherever the clause is used.",
    ));

    out.blank();
    out.heading(out.t(
        "六个示例应用的风险分级（examples/intake/）",
        "Grading six example applications (examples/intake/)",
    ));
    let rows: Vec<Vec<String>> = grades
        .iter()
        .map(|(file, g)| {
            vec![
                g.profile.clone().unwrap_or_else(|| (*file).to_owned()),
                format!("{} {}", g.level, g.level_name.get(lang)),
                g.lane.get(lang).to_owned(),
                if g.gbt45654_applies {
                    out.t("适用", "applies")
                } else {
                    "—"
                }
                .to_owned(),
                g.controls.len().to_string(),
            ]
        })
        .collect();
    out.line(table(
        &[
            out.t("应用", "application"),
            out.t("级别", "level"),
            out.t("评审通道", "lane"),
            "GB/T 45654",
            out.t("控制项", "controls"),
        ],
        &rows,
    ));
    out.blank();
    out.line(out.t(
        "国家尚未发布分级计算方法；以上结果来自 anquan 自定、可覆盖的评分表（grading/rubric.toml）。",
        "No national grading formula is published yet; these results come from anquan's documented, overridable rubric (grading/rubric.toml).",
    ));
    out.blank();
    out.heading(out.t(
        "内置测试题库与关键词库（按目录条款检查）",
        "Built-in test banks and keyword library (checked against the catalog's clauses)",
    ));
    let mut rows: Vec<Vec<String>> = banks
        .iter()
        .map(|b| {
            vec![
                b.name.clone(),
                b.items.to_string(),
                if b.passed {
                    out.t("符合", "meets the clauses")
                } else {
                    out.t("不符合", "falls short")
                }
                .to_owned(),
            ]
        })
        .collect();
    rows.push(vec![
        "builtin:starter (keywords)".to_owned(),
        kw.distinct.to_string(),
        if kw.passed {
            out.t("符合", "meets the clauses")
        } else {
            out.t(
                "不符合：入门词库，低于标准要求",
                "falls short: a starter library, below the standard",
            )
        }
        .to_owned(),
    ]);
    out.line(table(
        &[
            out.t("名称", "name"),
            out.t("数量", "size"),
            out.t("结果", "result"),
        ],
        &rows,
    ));
    out.line(out.t(
        "详见 `anquan bank check builtin:generated_content …` 与 `anquan keywords check builtin:starter`。",
        "Details: `anquan bank check builtin:generated_content …` and `anquan keywords check builtin:starter`.",
    ));
    out.blank();
    out.heading(out.t("检测引擎示例", "The detection engine on a sample"));
    out.line(format!("{}: {sample}", out.t("文本", "text")));
    for d in &found {
        out.line(format!(
            "  {}..{}  {}  [{}]  {}",
            d.span.start,
            d.span.end,
            d.detector,
            d.risk_ids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            d.masked.clone().unwrap_or_else(|| d.matched.to_string())
        ));
    }
    out.blank();
    out.line(out.t("下一步：", "Next:"));
    out.line("  anquan grade --answers examples/intake/public-chatbot.toml");
    out.line("  anquan grade                                  # interactive");
    out.line("  anquan catalog map A.1.c");
    out.line("  anquan catalog show gbt45654.eval.should_refuse");
    out.line("  anquan scan --file answer.txt --mask");
    out.line("  anquan bank sample builtin:generated_content --n 1000 --seed 7");
    Ok(ExitStatus::Success)
}
