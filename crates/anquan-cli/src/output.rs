//! Everything that reaches the terminal: the stdout buffer, tables, and the error printer.

use std::fmt::Write as _;
use std::io::Write as _;

use anquan::core::Lang;
use unicode_width::UnicodeWidthStr;

/// Collected standard output of one command. Data goes to stdout, diagnostics to stderr.
#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) lang: Lang,
    pub(crate) json: bool,
    buf: String,
}

impl Out {
    pub(crate) fn new(lang: Lang, json: bool) -> Self {
        Out {
            lang,
            json,
            buf: String::new(),
        }
    }

    /// Append a line.
    pub(crate) fn line(&mut self, s: impl AsRef<str>) {
        self.buf.push_str(s.as_ref());
        self.buf.push('\n');
    }

    /// Append an empty line.
    pub(crate) fn blank(&mut self) {
        self.buf.push('\n');
    }

    /// Append a JSON document.
    pub(crate) fn json_value(&mut self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        self.line(text);
    }

    /// Append a section heading.
    pub(crate) fn heading(&mut self, s: impl AsRef<str>) {
        let s = s.as_ref();
        self.line(s);
        self.line("─".repeat(UnicodeWidthStr::width(s).clamp(1, 100)));
    }

    /// Pick the string for the output language.
    pub(crate) fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    /// Write the buffer to stdout. Returns false when stdout is a closed pipe.
    pub(crate) fn flush_stdout(&mut self) -> bool {
        let text = std::mem::take(&mut self.buf);
        let mut stdout = std::io::stdout().lock();
        match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
            Err(_) => false,
        }
    }
}

/// Render rows as an aligned text table (widths measured in terminal columns, so Chinese text
/// lines up).
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cols = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| UnicodeWidthStr::width(*h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(UnicodeWidthStr::width(cell.as_str()));
        }
    }
    let mut out = String::new();
    let render = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        let mut line = String::new();
        for (i, cell) in cells.enumerate().take(cols) {
            if i + 1 < cols {
                let pad = widths[i].saturating_sub(UnicodeWidthStr::width(cell));
                let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    render(&mut headers.iter().copied(), &mut out);
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    render(&mut rule.iter().map(String::as_str), &mut out);
    for row in rows {
        render(&mut row.iter().map(String::as_str), &mut out);
    }
    out.trim_end_matches('\n').to_owned()
}

/// Print an error with its whole cause chain and any hint, to stderr.
pub(crate) fn print_error(err: &anyhow::Error) {
    let mut text = format!("error: {err}\n");
    for cause in err
        .chain()
        .skip(1)
        .filter(|c| c.downcast_ref::<Hint>().is_none())
    {
        let _ = writeln!(text, "  caused by: {cause}");
    }
    if let Some(problems) =
        err.chain()
            .find_map(|e| match e.downcast_ref::<anquan::catalog::Error>() {
                Some(anquan::catalog::Error::Invalid { problems, .. }) => Some(problems),
                _ => None,
            })
    {
        for p in problems.iter().take(50) {
            let _ = writeln!(text, "  - {p}");
        }
        if problems.len() > 50 {
            let _ = writeln!(text, "  … and {} more", problems.len() - 50);
        }
    }
    if let Some(hint) = err.chain().find_map(|e| e.downcast_ref::<Hint>()) {
        let _ = write!(text, "\nhint: {}\n", hint.0);
    }
    #[expect(
        clippy::print_stderr,
        reason = "the binary's error printer is the one place that writes errors"
    )]
    {
        eprint!("{text}");
    }
}

/// Quote a CSV field when it needs it (RFC 4180).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Days since 1970-01-01 of `--today DATE`, or of today.
pub(crate) fn today(given: Option<&str>) -> anyhow::Result<i64> {
    match given {
        Some(d) => anquan::detect::check::days_from_date(d).ok_or_else(|| {
            with_hint(
                format!("`--today {d}` is not a date"),
                "write it as YYYY-MM-DD",
            )
        }),
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            Ok((secs / 86_400) as i64)
        }
    }
}

/// YYYY-MM-DD of a day count since 1970-01-01.
pub(crate) fn date_string(days: i64) -> String {
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The per-risk (or per-aspect) table of a keyword-library or bank check.
pub(crate) fn coverage_table(
    out: &Out,
    rows: &[anquan::detect::check::RiskCount],
    counted: (&str, &str),
    no_floor: &str,
) -> String {
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|c| {
            vec![
                c.risk.clone(),
                c.name.get(out.lang).to_owned(),
                c.count.to_string(),
                c.required.map_or(no_floor.to_owned(), |n| format!("≥ {n}")),
                if c.ok {
                    out.t("通过", "pass")
                } else {
                    out.t("不足", "FAIL")
                }
                .to_owned(),
            ]
        })
        .collect();
    table(
        &[
            out.t("风险/方面", "risk/aspect"),
            out.t("名称", "name"),
            out.t(counted.0, counted.1),
            out.t("要求", "required"),
            out.t("结果", "result"),
        ],
        &body,
    )
}

/// `title: key n, key n, …` with keys in natural order, for the `stats` commands.
pub(crate) fn count_line(
    title: &str,
    counts: &std::collections::BTreeMap<String, usize>,
) -> String {
    let mut keys: Vec<&String> = counts.keys().collect();
    keys.sort_by(|a, b| anquan::catalog::natural::cmp(a, b));
    let parts: Vec<String> = keys.iter().map(|k| format!("{k} {}", counts[*k])).collect();
    format!("{title}: {}", parts.join(", "))
}

/// One clause verdict as a line: `[pass] id  name: detail  (clause status: …)`.
pub(crate) fn clause_line(out: &Out, c: &anquan::detect::check::ClauseResult) -> String {
    format!(
        "[{}] {}  {}: {}  ({}: {})",
        if c.passed {
            out.t("通过", "pass")
        } else {
            out.t("不符合", "FAIL")
        },
        c.id,
        c.name.get(out.lang),
        c.detail.get(out.lang),
        out.t("条款核实状态", "clause status"),
        c.status.label(out.lang)
    )
}

/// Print a warning for the user to stderr (`warning: …`).
pub(crate) fn warn(message: &str) {
    #[expect(clippy::print_stderr, reason = "user-facing warnings go to stderr")]
    {
        eprintln!("warning: {message}");
    }
}

/// Print an informational note to stderr, so stdout stays data.
pub(crate) fn note(message: &str) {
    #[expect(clippy::print_stderr, reason = "user-facing notes go to stderr")]
    {
        eprintln!("{message}");
    }
}

/// A hint shown after an error, attached as context.
#[derive(Debug)]
pub(crate) struct Hint(pub(crate) String);

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Hint {}

/// Build an error that carries a hint.
pub(crate) fn with_hint(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hint(hint.into())).context(message.into())
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn table_aligns_wide_characters() {
        let t = table(
            &["id", "名称"],
            &[
                vec!["A.1".into(), "风险".into()],
                vec!["A.10".into(), "x".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "id    名称");
        assert_eq!(lines[2], "A.1   风险");
        assert_eq!(lines[3], "A.10  x");
    }
}
