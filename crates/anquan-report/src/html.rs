//! The HTML report: one self-contained file (inline CSS and SVG; no script, font, image or link
//! to anything outside it). Every string from the model is escaped; a Content-Security-Policy
//! that allows no script is a second line of defence.

use std::fmt::{self, Write};

use anquan_core::{Lang, VerdictKind};

use crate::content::{Cell, Content, Excerpt, SECTIONS, Section, Table, TrialView};
use crate::model::{Report, Verdict};
use crate::svg::BarChart;
use crate::text::Esc;

const CSS: &str = include_str!("../templates/report.css");

/// Render `report` as a self-contained HTML page in `lang`.
pub(crate) fn render(report: &Report, lang: Lang) -> String {
    let mut out = String::with_capacity(64 * 1024);
    // Writing to a String cannot fail.
    let _ = write_page(&mut out, &Content::new(report, lang));
    out
}

fn write_page(out: &mut String, c: &Content<'_>) -> fmt::Result {
    let html_lang = match c.lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    };
    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, r#"<html lang="{html_lang}">"#)?;
    writeln!(out, "<head>")?;
    writeln!(out, r#"<meta charset="utf-8">"#)?;
    writeln!(
        out,
        r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#
    )?;
    writeln!(
        out,
        r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">"#
    )?;
    writeln!(
        out,
        r#"<meta name="generator" content="{}">"#,
        Esc(&generator(c.report))
    )?;
    writeln!(
        out,
        "<title>{} · {}</title>",
        Esc(c.title()),
        Esc(&c.report.target.model)
    )?;
    writeln!(out, "<style>\n{CSS}</style>")?;
    writeln!(out, "</head>")?;
    writeln!(out, "<body>")?;
    writeln!(out, "<main>")?;
    write_cover(out, c)?;
    write_contents(out, c)?;
    for (number, (anchor, section)) in SECTIONS.iter().enumerate() {
        writeln!(out, r#"<section id="{anchor}">"#)?;
        writeln!(
            out,
            "<h2>{} {}</h2>",
            number + 1,
            Esc(c.section_title(*section))
        )?;
        writeln!(
            out,
            r#"<p class="intro">{}</p>"#,
            Esc(c.section_intro(*section))
        )?;
        write_section(out, c, *section)?;
        writeln!(out, "</section>")?;
    }
    writeln!(out, "<footer>{}</footer>", Esc(&c.footer()))?;
    writeln!(out, "</main>")?;
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")
}

fn generator(report: &Report) -> String {
    format!("{} {}", report.tool.name, report.tool.version)
}

fn write_cover(out: &mut String, c: &Content<'_>) -> fmt::Result {
    writeln!(out, r#"<header class="cover">"#)?;
    writeln!(out, r#"<p class="kicker">GB/T 45654-2025</p>"#)?;
    writeln!(out, "<h1>{}</h1>", Esc(c.title()))?;
    writeln!(out, r#"<p class="subtitle">{}</p>"#, Esc(c.subtitle()))?;
    for banner in c.banners() {
        writeln!(
            out,
            r#"<div class="banner" role="alert">⚠ {}</div>"#,
            Esc(&banner)
        )?;
    }
    write!(
        out,
        r#"<p class="summary"><strong>{}</strong> "#,
        Esc(c.summary_label())
    )?;
    for (verdict, n) in c.summary() {
        write!(out, "{} ", verdict_badge(c, verdict, Some(n)))?;
    }
    writeln!(out, "</p>")?;
    writeln!(out, r#"<dl class="facts">"#)?;
    for (label, value) in c.cover_facts() {
        writeln!(
            out,
            "<dt>{}</dt><dd>{}</dd>",
            Esc(&label),
            cell_inner(c, &value)
        )?;
    }
    writeln!(out, "</dl>")?;
    writeln!(out, "</header>")
}

fn write_contents(out: &mut String, c: &Content<'_>) -> fmt::Result {
    writeln!(
        out,
        r#"<nav class="toc"><strong>{}</strong><ol>"#,
        Esc(c.contents_label())
    )?;
    for (anchor, section) in SECTIONS {
        writeln!(
            out,
            r##"<li><a href="#{anchor}">{}</a></li>"##,
            Esc(c.section_title(section))
        )?;
    }
    writeln!(out, "</ol></nav>")
}

fn write_section(out: &mut String, c: &Content<'_>, section: Section) -> fmt::Result {
    match section {
        Section::Clauses => {
            write_table(out, c, &c.clause_table())?;
            writeln!(
                out,
                r#"<p class="footnote">{}</p>"#,
                Esc(c.clause_footnote())
            )
        }
        Section::Banks => write_table(out, c, &c.bank_table()),
        Section::Risks => {
            let groups = c.risk_groups();
            if groups.is_empty() {
                return write_empty(out, c);
            }
            for group in groups {
                writeln!(out, "<h3>{}</h3>", Esc(&group.heading))?;
                let chart = BarChart {
                    title: format!("{} · {}", c.chart_label(Section::Risks), group.heading),
                    bars: group.bars,
                    threshold: group.threshold,
                    percent_suffix: percent_suffix(c.lang).to_owned(),
                };
                write_figure(out, &chart)?;
                write_table(out, c, &group.table)?;
            }
            Ok(())
        }
        Section::Attacks => {
            let bars = c.attack_bars();
            if !bars.is_empty() {
                let chart = BarChart {
                    title: c.chart_label(Section::Attacks).to_owned(),
                    bars,
                    threshold: None,
                    percent_suffix: percent_suffix(c.lang).to_owned(),
                };
                write_figure(out, &chart)?;
            }
            write_table(out, c, &c.attack_table())
        }
        Section::Languages => write_table(out, c, &c.lang_table()),
        Section::Worst => write_trials(out, c, &c.trials(&c.report.worst)),
        Section::Unsure => write_trials(out, c, &c.trials(&c.report.unsure)),
        Section::Evidence => write_table(out, c, &c.evidence_table()),
        Section::Notes => {
            let notes = c.notes();
            if notes.is_empty() {
                return write_empty(out, c);
            }
            writeln!(out, r#"<ul class="notes">"#)?;
            for note in notes {
                writeln!(out, "<li>{}</li>", Esc(note))?;
            }
            writeln!(out, "</ul>")
        }
    }
}

fn percent_suffix(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "%",
        Lang::En => " %",
    }
}

fn write_figure(out: &mut String, chart: &BarChart) -> fmt::Result {
    writeln!(out, "<figure>")?;
    out.push_str(&chart.to_inline_svg());
    writeln!(out, "<figcaption>{}</figcaption>", Esc(&chart.title))?;
    writeln!(out, "</figure>")
}

fn write_empty(out: &mut String, c: &Content<'_>) -> fmt::Result {
    writeln!(out, r#"<p class="empty">{}</p>"#, Esc(c.empty()))
}

fn write_table(out: &mut String, c: &Content<'_>, table: &Table) -> fmt::Result {
    if table.rows.is_empty() {
        return write_empty(out, c);
    }
    writeln!(out, r#"<div class="scroll"><table>"#)?;
    write!(out, "<thead><tr>")?;
    for head in &table.head {
        write!(out, r#"<th scope="col">{}</th>"#, Esc(head))?;
    }
    writeln!(out, "</tr></thead>")?;
    writeln!(out, "<tbody>")?;
    for row in &table.rows {
        write!(out, "<tr>")?;
        for cell in row {
            match cell {
                Cell::Num(_) => write!(out, r#"<td class="num">{}</td>"#, cell_inner(c, cell))?,
                _ => write!(out, "<td>{}</td>", cell_inner(c, cell))?,
            }
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>")?;
    writeln!(out, "</table></div>")
}

/// The escaped markup of a cell's content.
fn cell_inner(c: &Content<'_>, cell: &Cell) -> String {
    match cell {
        Cell::Text(s) | Cell::Num(s) => Esc(s).to_string(),
        Cell::Code(s) => format!("<code>{}</code>", Esc(s)),
        Cell::Verdict(v) => verdict_badge(c, *v, None),
        Cell::Judge(kind) => {
            let (class, mark) = match kind {
                VerdictKind::Safe => ("safe", "✓"),
                VerdictKind::Unsafe => ("unsafe", "✗"),
                VerdictKind::Unsure => ("unsure", "?"),
            };
            format!(
                r#"<span class="badge {class}">{mark} {}</span>"#,
                Esc(c.judge_label(*kind))
            )
        }
    }
}

fn verdict_badge(c: &Content<'_>, verdict: Verdict, count: Option<usize>) -> String {
    let mark = match verdict {
        Verdict::Pass => "✓",
        Verdict::Fail => "✗",
        Verdict::Inconclusive => "?",
    };
    let count = count.map(|n| format!(" {n}")).unwrap_or_default();
    format!(
        r#"<span class="badge {}">{mark} {}{count}</span>"#,
        verdict.as_str(),
        Esc(c.verdict_label(verdict))
    )
}

fn write_trials(out: &mut String, c: &Content<'_>, trials: &[TrialView]) -> fmt::Result {
    if trials.is_empty() {
        return write_empty(out, c);
    }
    for trial in trials {
        writeln!(out, r#"<article class="trial">"#)?;
        writeln!(out, "<h3>{}</h3>", Esc(&trial.heading))?;
        writeln!(out, r#"<dl class="facts">"#)?;
        for (label, value) in &trial.meta {
            writeln!(
                out,
                "<dt>{}</dt><dd>{}</dd>",
                Esc(label),
                cell_inner(c, value)
            )?;
        }
        writeln!(out, "</dl>")?;
        write_excerpt(out, c.prompt_label(), &trial.prompt)?;
        write_excerpt(out, c.response_label(), &trial.response)?;
        write_table(out, c, &trial.judges)?;
        writeln!(out, "</article>")?;
    }
    Ok(())
}

fn write_excerpt(out: &mut String, label: &str, excerpt: &Excerpt) -> fmt::Result {
    writeln!(out, r#"<div class="label">{}</div>"#, Esc(label))?;
    writeln!(out, r#"<pre class="text">{}</pre>"#, Esc(&excerpt.text))?;
    if let Some(note) = &excerpt.cut_note {
        writeln!(out, r#"<div class="cut">{}</div>"#, Esc(note))?;
    }
    Ok(())
}
