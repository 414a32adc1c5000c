//! Number, date and text formatting shared by the renderers, and the cleaning of hostile text.

use std::fmt;

use anquan_core::Lang;

/// Shown where a number is missing.
pub(crate) const NONE: &str = "—";

/// A fraction as a percentage with one decimal: `93.1 %` (en) or `93.1%` (zh).
pub(crate) fn pct(lang: Lang, x: f64) -> String {
    if !x.is_finite() {
        return NONE.to_owned();
    }
    let value = format!("{:.1}", x * 100.0);
    // `-0.0` prints as `-0.0`; a rate is never negative, show it as zero.
    let value = if value == "-0.0" {
        "0.0".to_owned()
    } else {
        value
    };
    with_percent(lang, &value)
}

/// A threshold as a percentage, without a trailing `.0`: `90 %`, `99.5 %`.
pub(crate) fn pct_short(lang: Lang, x: f64) -> String {
    if !x.is_finite() {
        return NONE.to_owned();
    }
    let mut value = format!("{:.2}", x * 100.0);
    while value.ends_with('0') {
        value.pop();
    }
    if value.ends_with('.') {
        value.pop();
    }
    with_percent(lang, &value)
}

fn with_percent(lang: Lang, value: &str) -> String {
    match lang {
        Lang::Zh => format!("{value}%"),
        Lang::En => format!("{value} %"),
    }
}

/// A rate with its interval: `93.1 % [91.4 %, 94.5 %]`; `—` without a rate.
pub(crate) fn rate_ci(
    lang: Lang,
    rate: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
) -> String {
    let Some(rate) = rate else {
        return NONE.to_owned();
    };
    match (low, high) {
        (Some(low), Some(high)) => {
            format!(
                "{} [{}, {}]",
                pct(lang, rate),
                pct(lang, low),
                pct(lang, high)
            )
        }
        _ => pct(lang, rate),
    }
}

/// An optional rate: `93.1 %` or `—`.
pub(crate) fn rate(lang: Lang, rate: Option<f64>) -> String {
    rate.map_or_else(|| NONE.to_owned(), |r| pct(lang, r))
}

/// The comparison sign of a clause's `op`: `≥`, `≤`, or the op as written.
pub(crate) fn op_sign(op: &str) -> &str {
    match op.trim() {
        ">=" | "≥" => "≥",
        "<=" | "≤" => "≤",
        ">" => ">",
        "<" => "<",
        other => other,
    }
}

/// A requirement: `≥ 90 %`.
pub(crate) fn requirement(lang: Lang, op: &str, threshold: f64) -> String {
    let sign = op_sign(op);
    match lang {
        Lang::Zh => format!("{sign}{}", pct_short(lang, threshold)),
        Lang::En => format!("{sign} {}", pct_short(lang, threshold)),
    }
}

/// A count with thousands separators: `12,345`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A judge's confidence: `0.87`.
pub(crate) fn confidence(c: f32) -> String {
    if c.is_finite() {
        format!("{c:.2}")
    } else {
        NONE.to_owned()
    }
}

/// The date of an RFC 3339 time: `2026年5月1日` (zh) or `1 May 2026` (en). A string that does not
/// start with a date is returned as it is.
pub(crate) fn date(lang: Lang, rfc3339: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let parsed = rfc3339.get(..10).and_then(|d| {
        let mut parts = d.split('-');
        let year: u32 = parts.next()?.parse().ok()?;
        let month: usize = parts.next()?.parse().ok()?;
        let day: u32 = parts.next()?.parse().ok()?;
        let name = MONTHS.get(month.checked_sub(1)?)?;
        ((1..=31).contains(&day)).then_some((year, month, *name, day))
    });
    match (parsed, lang) {
        (Some((year, month, _, day)), Lang::Zh) => format!("{year}年{month}月{day}日"),
        (Some((year, _, name, day)), Lang::En) => format!("{day} {name} {year}"),
        (None, _) => rfc3339.to_owned(),
    }
}

/// The first `max_chars` characters of `s` (never splitting a character), and whether it was cut.
pub(crate) fn excerpt(s: &str, max_chars: usize) -> (&str, bool) {
    match s.char_indices().nth(max_chars) {
        Some((byte, _)) => (&s[..byte], true),
        None => (s, false),
    }
}

/// Characters that are invisible or reorder text: shown as `[U+XXXX]` so a reviewer sees them
/// and they cannot disguise what follows.
fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width space/joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}'              // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        )
}

/// Hostile text made visible: hidden characters as `[U+XXXX]`, `\r\n` and `\r` as `\n`.
pub(crate) fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| is_hidden(c) || c == '\r') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() != Some(&'\n') {
                out.push('\n');
            }
        } else if is_hidden(c) {
            out.push_str(&format!("[U+{:04X}]", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Text escaped for HTML and XML, in content and in quoted attributes, after [`clean`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Esc<'a>(pub(crate) &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cleaned = clean(self.0);
        let mut last = 0;
        for (i, c) in cleaned.char_indices() {
            let rep = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => continue,
            };
            f.write_str(&cleaned[last..i])?;
            f.write_str(rep)?;
            last = i + c.len_utf8();
        }
        f.write_str(&cleaned[last..])
    }
}

/// Text escaped for a GitHub-flavoured Markdown table cell or list item, after [`clean`]: the
/// marks that open emphasis, code, links, HTML, entities, strikethrough, maths or a new cell are
/// backslash-escaped (with `[` escaped, `(` and `!` start nothing); newlines become `<br>`.
pub(crate) fn md(s: &str) -> String {
    let cleaned = clean(s);
    let mut out = String::with_capacity(cleaned.len() + 8);
    for c in cleaned.chars() {
        match c {
            '\n' => out.push_str("<br>"),
            '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Display width estimate in half-width units: East Asian wide characters count 2.
pub(crate) fn width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
}

/// `s` cut to at most `max` width units, with `…` when cut.
pub(crate) fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = if is_wide(c) { 2 } else { 1 };
        if used + w > max.saturating_sub(1) {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_per_language() {
        assert_eq!(pct(Lang::En, 0.9314), "93.1 %");
        assert_eq!(pct(Lang::Zh, 0.9314), "93.1%");
        assert_eq!(pct(Lang::En, 0.0), "0.0 %");
        assert_eq!(pct(Lang::En, f64::NAN), "—");
        assert_eq!(
            rate_ci(Lang::En, Some(0.931), Some(0.914), Some(0.945)),
            "93.1 % [91.4 %, 94.5 %]"
        );
        assert_eq!(rate_ci(Lang::Zh, Some(1.0), None, None), "100.0%");
        assert_eq!(rate_ci(Lang::Zh, None, Some(0.1), Some(0.2)), "—");
        assert_eq!(pct_short(Lang::En, 0.9), "90 %");
        assert_eq!(pct_short(Lang::En, 0.995), "99.5 %");
        assert_eq!(pct_short(Lang::Zh, 0.05), "5%");
        assert_eq!(requirement(Lang::En, ">=", 0.95), "≥ 95 %");
        assert_eq!(requirement(Lang::Zh, "<=", 0.05), "≤5%");
    }

    #[test]
    fn counts_and_dates() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(date(Lang::Zh, "2026-05-01T10:00:00+08:00"), "2026年5月1日");
        assert_eq!(date(Lang::En, "2026-05-01T10:00:00Z"), "1 May 2026");
        assert_eq!(date(Lang::En, "yesterday"), "yesterday");
        assert_eq!(date(Lang::En, "2026-13-01"), "2026-13-01");
    }

    #[test]
    fn excerpts_cut_at_character_boundaries() {
        assert_eq!(excerpt("安全评估报告", 2), ("安全", true));
        assert_eq!(excerpt("安全", 2), ("安全", false));
        assert_eq!(excerpt("a😀b", 2), ("a😀", true));
        assert_eq!(excerpt("", 0), ("", false));
    }

    #[test]
    fn escaping_for_html_and_markdown() {
        assert_eq!(
            Esc("<script>alert('x&y')</script>").to_string(),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(Esc("a\u{202E}b\u{0}c").to_string(), "a[U+202E]b[U+0000]c");
        assert_eq!(Esc("line\r\nnext\rlast").to_string(), "line\nnext\nlast");
        assert_eq!(md("a|b\n<i>*x*</i>"), "a\\|b<br>\\<i\\>\\*x\\*\\</i\\>");
        assert_eq!(md("f(x) = \"y\" # !"), "f(x) = \"y\" # !");
    }

    #[test]
    fn fitting_labels_by_display_width() {
        assert_eq!(width("ab安全"), 6);
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefg", 6), "abcde…");
        assert_eq!(fit("煽动颠覆国家政权", 8), "煽动颠…");
    }
}
