//! The Markdown report (GitHub-flavoured): the same content as the HTML report, in tables, with
//! text bars instead of charts. Every string from the model is escaped for a table cell.

use std::fmt::{self, Write};

use anquan_core::{Lang, VerdictKind};

use crate::content::{Cell, Content, Excerpt, SECTIONS, Section, Table, TrialView};
use crate::model::{Report, Verdict};
use crate::text::md;

/// Cells of a text bar.
const BAR_CELLS: usize = 20;

/// Render `report` as GitHub-flavoured Markdown in `lang`.
pub(crate) fn render(report: &Report, lang: Lang) -> String {
    let mut out = String::with_capacity(32 * 1024);
    // Writing to a String cannot fail.
    let _ = write_doc(&mut out, &Content::new(report, lang));
    out
}

fn write_doc(out: &mut String, c: &Content<'_>) -> fmt::Result {
    writeln!(out, "# {}", md(c.title()))?;
    writeln!(out)?;
    writeln!(out, "{}", md(c.subtitle()))?;
    writeln!(out)?;
    for banner in c.banners() {
        writeln!(out, "> ⚠️ **{}**", md(&banner))?;
        writeln!(out)?;
    }
    write!(out, "**{}** ", md(c.summary_label()))?;
    let summary: Vec<String> = c
        .summary()
        .iter()
        .map(|(verdict, n)| format!("{} {n}", verdict_text(c, *verdict)))
        .collect();
    writeln!(out, "{}", summary.join(" · "))?;
    writeln!(out)?;
    let facts = Table {
        head: c.field_value_heads(),
        rows: c
            .cover_facts()
            .into_iter()
            .map(|(label, value)| vec![Cell::Text(label), value])
            .collect(),
    };
    write_table(out, c, &facts)?;
    for (number, (_, section)) in SECTIONS.iter().enumerate() {
        writeln!(out, "## {} {}", number + 1, md(c.section_title(*section)))?;
        writeln!(out)?;
        writeln!(out, "{}", md(c.section_intro(*section)))?;
        writeln!(out)?;
        write_section(out, c, *section)?;
    }
    writeln!(out, "---")?;
    writeln!(out)?;
    writeln!(out, "{}", md(&c.footer()))
}

fn write_section(out: &mut String, c: &Content<'_>, section: Section) -> fmt::Result {
    match section {
        Section::Clauses => {
            write_table(out, c, &c.clause_table())?;
            writeln!(out, "*{}*", md(c.clause_footnote()))?;
            writeln!(out)
        }
        Section::Banks => write_table(out, c, &c.bank_table()),
        Section::Risks => {
            let groups = c.risk_groups();
            if groups.is_empty() {
                return write_empty(out, c);
            }
            for group in groups {
                writeln!(out, "### {}", md(&group.heading))?;
                writeln!(out)?;
                if let Some((_, label)) = &group.threshold {
                    writeln!(out, "{}", md(label))?;
                    writeln!(out)?;
                }
                let mut table = group.table;
                table.head.push(c.chart_label(Section::Risks).to_owned());
                for (row, bar) in table.rows.iter_mut().zip(&group.bars) {
                    row.push(Cell::Code(text_bar(bar.value)));
                }
                write_table(out, c, &table)?;
            }
            Ok(())
        }
        Section::Attacks => write_table(out, c, &c.attack_table()),
        Section::Languages => write_table(out, c, &c.lang_table()),
        Section::Worst => write_trials(out, c, &c.trials(&c.report.worst)),
        Section::Unsure => write_trials(out, c, &c.trials(&c.report.unsure)),
        Section::Evidence => write_table(out, c, &c.evidence_table()),
        Section::Notes => {
            let notes = c.notes();
            if notes.is_empty() {
                return write_empty(out, c);
            }
            for note in notes {
                writeln!(out, "- {}", md(note))?;
            }
            writeln!(out)
        }
    }
}

/// `█████████████████░░░` for 85 %.
fn text_bar(value: Option<f64>) -> String {
    let Some(value) = value.filter(|v| v.is_finite()) else {
        return "░".repeat(BAR_CELLS);
    };
    let full = (value.clamp(0.0, 1.0) * BAR_CELLS as f64).round() as usize;
    format!("{}{}", "█".repeat(full), "░".repeat(BAR_CELLS - full))
}

fn write_empty(out: &mut String, c: &Content<'_>) -> fmt::Result {
    writeln!(out, "*{}*", md(c.empty()))?;
    writeln!(out)
}

fn write_table(out: &mut String, c: &Content<'_>, table: &Table) -> fmt::Result {
    if table.rows.is_empty() {
        return write_empty(out, c);
    }
    write!(out, "|")?;
    for head in &table.head {
        write!(out, " {} |", md(head))?;
    }
    writeln!(out)?;
    write!(out, "|")?;
    let first = table.rows.first().map(Vec::as_slice).unwrap_or_default();
    for i in 0..table.head.len() {
        let align = if matches!(first.get(i), Some(Cell::Num(_))) {
            " ---: |"
        } else {
            " --- |"
        };
        write!(out, "{align}")?;
    }
    writeln!(out)?;
    for row in &table.rows {
        write!(out, "|")?;
        for cell in row {
            write!(out, " {} |", cell_text(c, cell))?;
        }
        writeln!(out)?;
    }
    writeln!(out)
}

fn cell_text(c: &Content<'_>, cell: &Cell) -> String {
    match cell {
        Cell::Text(s) | Cell::Num(s) => md(s),
        Cell::Code(s) => code(s),
        Cell::Verdict(v) => verdict_text(c, *v),
        Cell::Judge(kind) => {
            let mark = match kind {
                VerdictKind::Safe => "✅",
                VerdictKind::Unsafe => "❌",
                VerdictKind::Unsure => "❓",
            };
            format!("{mark} {}", md(c.judge_label(*kind)))
        }
    }
}

/// Inline code that no backtick in `s` can close early; empty for an empty string.
fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    if s.contains(['`', '|', '\n', '\r', '<']) || s.chars().any(char::is_control) {
        // Backslash escapes do not work inside code spans; fall back to escaped text.
        return md(s);
    }
    format!("`{s}`")
}

fn verdict_text(c: &Content<'_>, verdict: Verdict) -> String {
    let mark = match verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Inconclusive => "⚠️",
    };
    format!("{mark} **{}**", md(c.verdict_label(verdict)))
}

fn write_trials(out: &mut String, c: &Content<'_>, trials: &[TrialView]) -> fmt::Result {
    if trials.is_empty() {
        return write_empty(out, c);
    }
    for trial in trials {
        writeln!(out, "### {}", md(&trial.heading))?;
        writeln!(out)?;
        let mut rows: Vec<Vec<Cell>> = trial
            .meta
            .iter()
            .map(|(label, value)| vec![Cell::Text(label.clone()), value.clone()])
            .collect();
        rows.push(vec![
            Cell::Text(c.prompt_label().to_owned()),
            Cell::Text(excerpt(&trial.prompt)),
        ]);
        rows.push(vec![
            Cell::Text(c.response_label().to_owned()),
            Cell::Text(excerpt(&trial.response)),
        ]);
        let facts = Table {
            head: c.field_value_heads(),
            rows,
        };
        write_table(out, c, &facts)?;
        write_table(out, c, &trial.judges)?;
    }
    Ok(())
}

fn excerpt(excerpt: &Excerpt) -> String {
    match &excerpt.cut_note {
        Some(note) => format!("{}…\n{note}", excerpt.text),
        None => excerpt.text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bars_and_code_spans() {
        assert_eq!(
            text_bar(Some(0.85)),
            format!("{}{}", "█".repeat(17), "░".repeat(3))
        );
        assert_eq!(text_bar(Some(2.0)), "█".repeat(20));
        assert_eq!(text_bar(None), "░".repeat(20));
        assert_eq!(code("A.1.c"), "`A.1.c`");
        assert_eq!(code("a`b|c"), "a\\`b\\|c");
    }
}
