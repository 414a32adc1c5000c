//! `anquan grade`: grade an AI application into one of five risk levels.

use std::io::IsTerminal as _;

use anquan::assess::{Answers, Grade, grade};
use anquan::catalog::Catalog;
use anquan::core::Lang;
use anyhow::Context as _;

use super::load_catalog;
use crate::ExitStatus;
use crate::args::{Cli, GradeArgs};
use crate::output::{Out, table, with_hint};

pub(crate) fn run(args: &GradeArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let catalog = load_catalog(cli)?;
    if args.questions {
        return questions(&catalog, out);
    }
    let (answers, file) = match &args.answers {
        Some(path) => (Answers::load(path)?, path.display().to_string()),
        None => {
            if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
                return Err(with_hint(
                    "no answers to grade: `--answers FILE` was not given and this is not an interactive terminal",
                    "pass an answers file, e.g. `anquan grade --answers examples/intake/public-chatbot.toml`; `anquan grade --questions` lists the keys and values",
                ));
            }
            (ask(&catalog, out.lang)?, "interactive answers".to_owned())
        }
    };
    let result = grade(&catalog, &answers, &file)?;
    if out.json {
        out.json_value(&serde_json::to_value(&result)?);
    } else {
        render(&result, &catalog, out);
    }
    Ok(ExitStatus::Success)
}

fn questions(catalog: &Catalog, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let lang = out.lang;
    let rubric = catalog
        .rubric
        .as_ref()
        .context("the catalog has no grading rubric")?;
    if out.json {
        out.json_value(&serde_json::json!({
            "schema": "anquan.grade.questions.v1",
            "rubric": format!("{}@{}", rubric.rubric.id, rubric.rubric.version),
            "questions": rubric.question,
        }));
        return Ok(ExitStatus::Success);
    }
    out.heading(rubric.rubric.name.get(lang));
    for q in &rubric.question {
        out.blank();
        out.line(format!("{} ({})  {}", q.key, q.factor, q.name.get(lang)));
        for o in &q.option {
            let score = o.score.map(|s| format!("  score {s}")).unwrap_or_default();
            let floor = o.floor.map(|f| format!("  floor {f}")).unwrap_or_default();
            out.line(format!(
                "    {} = {}{score}{floor}",
                o.value,
                o.label.get(lang)
            ));
        }
    }
    Ok(ExitStatus::Success)
}

/// Ask every question on the terminal with arrow-key selection.
fn ask(catalog: &Catalog, lang: Lang) -> anyhow::Result<Answers> {
    let rubric = catalog
        .rubric
        .as_ref()
        .context("the catalog has no grading rubric")?;
    let theme = dialoguer::theme::SimpleTheme;
    let mut answers = Answers::default();
    let total = rubric.question.len();
    for (i, q) in rubric.question.iter().enumerate() {
        let labels: Vec<&str> = q.option.iter().map(|o| o.label.get(lang)).collect();
        let prompt = format!(
            "[{}/{total}] {}\n  {}",
            i + 1,
            q.name.get(lang),
            q.description.get(lang)
        );
        let choice = dialoguer::Select::with_theme(&theme)
            .with_prompt(prompt)
            .items(&labels)
            .default(0)
            .interact_opt()
            .context("failed to read the answer from the terminal")?;
        let Some(choice) = choice else {
            anyhow::bail!("grading cancelled");
        };
        answers
            .answers
            .insert(q.key.clone(), q.option[choice].value.clone());
    }
    Ok(answers)
}

pub(crate) fn render(g: &Grade, catalog: &Catalog, out: &mut Out) {
    let lang = out.lang;
    let title = match (&g.profile, lang) {
        (Some(p), Lang::Zh) => format!("风险分级：{p}"),
        (Some(p), Lang::En) => format!("Risk grade: {p}"),
        (None, _) => out.t("风险分级", "Risk grade").to_owned(),
    };
    out.heading(title);
    out.line(format!(
        "{}: {} / 5  {}",
        out.t("级别", "level"),
        g.level,
        g.level_name.get(lang)
    ));
    out.line(format!(
        "{}: {}",
        out.t("评审通道", "review lane"),
        g.lane.get(lang)
    ));
    out.line(format!("  {}", g.lane_description.get(lang)));
    out.line(format!(
        "{}: {}",
        out.t("说明", "meaning"),
        g.level_description.get(lang)
    ));
    out.blank();
    out.line(out.t(
        "要素得分（框架2.0 附件1）：",
        "Factor scores (Framework 2.0 annex 1):",
    ));
    let rows: Vec<Vec<String>> = g
        .factors
        .iter()
        .map(|f| {
            vec![
                f.factor.clone(),
                format!("{}/5", f.score),
                format!("{:.2}", f.weight),
                f.set_by.join(", "),
            ]
        })
        .collect();
    out.line(table(
        &[
            out.t("要素", "factor"),
            out.t("得分", "score"),
            out.t("权重", "weight"),
            out.t("由以下回答决定", "set by"),
        ],
        &rows,
    ));
    out.line(match lang {
        Lang::Zh => format!(
            "加权得分 {:.3} → 计算级别 {}",
            g.weighted_score, g.computed_level
        ),
        Lang::En => format!(
            "weighted score {:.3} → computed level {}",
            g.weighted_score, g.computed_level
        ),
    });
    for f in &g.floors {
        out.line(match lang {
            Lang::Zh => format!(
                "回答 {} 把级别提高到至少 {}：{}",
                f.answer, f.floor, f.reason.zh
            ),
            Lang::En => format!(
                "answer {} raises the level to at least {}: {}",
                f.answer, f.floor, f.reason.en
            ),
        });
    }
    out.blank();
    out.line(out.t("决定结果的回答：", "Answers that drove the result:"));
    for d in &g.drivers {
        out.line(format!(
            "  {}={}  {} → {}",
            d.key,
            d.value,
            d.answer.get(lang),
            d.why.get(lang)
        ));
    }
    out.blank();
    out.line(match lang {
        Lang::Zh => format!("适用的控制措施和安全指引（{} 项）：", g.controls.len()),
        Lang::En => format!("Controls and guidelines that apply ({}):", g.controls.len()),
    });
    for c in &g.controls {
        out.line(format!("  {}  {}  ({})", c.id, c.name.get(lang), c.because));
    }
    out.blank();
    if g.gbt45654_applies {
        out.line(match lang {
            Lang::Zh => format!("这是面向公众的生成式人工智能服务：GB/T 45654-2025 的 {} 条有数值的条款、{} 条无数值的条款和 GB 45438-2025 的 {} 条标识规则适用。", g.clauses.len(), g.requirements.len(), g.label_rules.len()),
            Lang::En => format!("This is a public generative AI service: {} GB/T 45654-2025 clauses with numbers, {} without numbers and {} GB 45438-2025 label rules apply.", g.clauses.len(), g.requirements.len(), g.label_rules.len()),
        });
        let rows: Vec<Vec<String>> = g
            .clauses
            .iter()
            .map(|c| {
                let th = c
                    .thresholds
                    .iter()
                    .map(|t| t.get(lang).to_owned())
                    .collect::<Vec<_>>()
                    .join("; ");
                vec![
                    c.id.clone(),
                    c.status.label(lang).to_owned(),
                    if th.is_empty() { "—".into() } else { th },
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
            "（`anquan catalog clauses` 列出全部条款及说明）",
            "(`anquan catalog clauses` lists every clause with its description)",
        ));
    } else {
        out.line(out.t(
            "不是面向公众的生成式人工智能服务：GB/T 45654-2025 的评估条款不适用。",
            "Not a public generative AI service: the GB/T 45654-2025 assessment clauses do not apply.",
        ));
    }
    out.blank();
    out.line(format!(
        "{}: {} ({}: {})",
        out.t("评分表", "rubric"),
        g.rubric,
        out.t("目录版本", "catalog"),
        catalog.version
    ));
    out.line(format!(
        "{}: {}",
        out.t("注意", "notice"),
        g.notice.get(lang)
    ));
}
