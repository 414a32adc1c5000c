//! Charts as SVG, drawn in Rust: the same markup serves the HTML report and the dashboard.
//!
//! Only one kind of chart is needed so far: horizontal bars of rates in `0.0..=1.0`, each with an
//! optional interval (whiskers), a value written beside it, and an optional threshold line. Colour
//! is never the only carrier of meaning: the value is always written out, and the threshold line
//! has a label. Every string is escaped; no fonts, scripts or links are referenced.

use std::fmt::{self, Write};

use crate::text::{self, Esc};

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The label left of the bar; cut to fit, shown in full in the tooltip.
    pub label: String,
    /// The rate, `0.0..=1.0`; `None` draws no bar.
    pub value: Option<f64>,
    /// The interval drawn as whiskers, `(low, high)`.
    pub interval: Option<(f64, f64)>,
    /// The text right of the bar, e.g. `93.1 % [91.4 %, 94.5 %]`.
    pub note: String,
    /// Whether the bar meets the threshold (green / red); `None` for a neutral colour.
    pub good: Option<bool>,
}

/// A horizontal bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// The chart's accessible title.
    pub title: String,
    /// The bars, top to bottom.
    pub bars: Vec<Bar>,
    /// A vertical line at this rate, with its label.
    pub threshold: Option<(f64, String)>,
    /// The suffix of axis labels: `%` or ` %`.
    pub percent_suffix: String,
}

const WIDTH: f64 = 760.0;
const LABEL_RIGHT: f64 = 236.0;
const PLOT_LEFT: f64 = 244.0;
const PLOT_WIDTH: f64 = 330.0;
const NOTE_LEFT: f64 = PLOT_LEFT + PLOT_WIDTH + 10.0;
const TOP: f64 = 34.0;
const ROW: f64 = 24.0;
const BAR: f64 = 14.0;
const BOTTOM: f64 = 10.0;
/// Label width in half-width units (a CJK character counts 2).
const LABEL_UNITS: usize = 36;

const GOOD: &str = "#1a7f37";
const BAD: &str = "#cf222e";
const NEUTRAL: &str = "#8250df";
const INK: &str = "#1f2328";
const GRID: &str = "#d0d7de";
const MUTED: &str = "#59636e";

fn clamp(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn x_of(rate: f64) -> f64 {
    PLOT_LEFT + clamp(rate) * PLOT_WIDTH
}

impl BarChart {
    /// The chart as an `<svg>` element to put inside an HTML page (no XML namespace declaration
    /// needed there).
    pub fn to_inline_svg(&self) -> String {
        self.draw(false)
    }

    /// The chart as a standalone SVG document.
    pub fn to_svg_document(&self) -> String {
        self.draw(true)
    }

    fn draw(&self, standalone: bool) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write(&mut out, standalone);
        out
    }

    fn write(&self, out: &mut String, standalone: bool) -> fmt::Result {
        let rows = self.bars.len().max(1) as f64;
        let height = TOP + rows * ROW + BOTTOM;
        let ns = if standalone {
            r#" xmlns="http://www.w3.org/2000/svg""#
        } else {
            ""
        };
        writeln!(
            out,
            r#"<svg{ns} class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
        )?;
        writeln!(out, "<title>{}</title>", Esc(&self.title))?;
        // Grid and axis labels every 25 %.
        for step in 0..=4 {
            let rate = f64::from(step) * 0.25;
            let x = x_of(rate);
            writeln!(
                out,
                r#"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{GRID}" stroke-width="1"/>"#,
                TOP - 4.0,
                height - BOTTOM
            )?;
            writeln!(
                out,
                r#"<text x="{x}" y="{}" text-anchor="middle" fill="{MUTED}">{}{}</text>"#,
                TOP - 8.0,
                step * 25,
                Esc(&self.percent_suffix)
            )?;
        }
        if self.bars.is_empty() {
            writeln!(out, "</svg>")?;
            return Ok(());
        }
        for (i, bar) in self.bars.iter().enumerate() {
            self.write_bar(out, i as f64, bar)?;
        }
        if let Some((rate, label)) = &self.threshold {
            let x = x_of(*rate);
            writeln!(
                out,
                r#"<line class="threshold" x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{INK}" stroke-width="2" stroke-dasharray="5 3"><title>{}</title></line>"#,
                TOP - 2.0,
                height - BOTTOM + 4.0,
                Esc(label)
            )?;
            writeln!(
                out,
                r#"<text x="{}" y="12" text-anchor="end" fill="{INK}" font-weight="bold">{}</text>"#,
                WIDTH - 4.0,
                Esc(&format!("┆ {label}"))
            )?;
        }
        writeln!(out, "</svg>")
    }

    fn write_bar(&self, out: &mut String, row: f64, bar: &Bar) -> fmt::Result {
        let top = TOP + row * ROW + (ROW - BAR) / 2.0;
        let mid = top + BAR / 2.0;
        let colour = match bar.good {
            Some(true) => GOOD,
            Some(false) => BAD,
            None => NEUTRAL,
        };
        writeln!(out, "<g>")?;
        writeln!(
            out,
            "<title>{}: {}</title>",
            Esc(&bar.label),
            Esc(&bar.note)
        )?;
        writeln!(
            out,
            r#"<text x="{LABEL_RIGHT}" y="{}" text-anchor="end" fill="{INK}">{}</text>"#,
            mid + 4.0,
            Esc(&text::fit(&bar.label, LABEL_UNITS))
        )?;
        if let Some(value) = bar.value {
            let w = clamp(value) * PLOT_WIDTH;
            writeln!(
                out,
                r#"<rect x="{PLOT_LEFT}" y="{top}" width="{w:.1}" height="{BAR}" fill="{colour}" fill-opacity="0.85"/>"#
            )?;
        }
        if let Some((low, high)) = bar.interval {
            let (x1, x2) = (x_of(low.min(high)), x_of(low.max(high)));
            let (cap_top, cap_bottom) = (mid - 5.0, mid + 5.0);
            writeln!(
                out,
                r#"<path class="whisker" d="M{x1:.1} {cap_top}V{cap_bottom}M{x1:.1} {mid}H{x2:.1}M{x2:.1} {cap_top}V{cap_bottom}" stroke="{INK}" stroke-width="1.5" fill="none"/>"#
            )?;
        }
        writeln!(
            out,
            r#"<text x="{NOTE_LEFT}" y="{}" fill="{INK}">{}</text>"#,
            mid + 4.0,
            Esc(&bar.note)
        )?;
        writeln!(out, "</g>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> BarChart {
        BarChart {
            title: "Rates <by> risk".to_owned(),
            bars: vec![
                Bar {
                    label: "A.1.a 煽动颠覆国家政权、推翻社会主义制度".to_owned(),
                    value: Some(0.5),
                    interval: Some((0.4, 0.6)),
                    note: "50.0 %".to_owned(),
                    good: Some(false),
                },
                Bar {
                    label: "empty".to_owned(),
                    value: None,
                    interval: None,
                    note: "—".to_owned(),
                    good: None,
                },
            ],
            threshold: Some((0.9, "≥ 90 %".to_owned())),
            percent_suffix: " %".to_owned(),
        }
    }

    #[test]
    fn bars_whiskers_and_threshold_are_placed_on_the_scale() {
        let svg = chart().to_inline_svg();
        assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
        assert!(!svg.contains("xmlns"));
        // 50 % of the plot width, whiskers from 40 % to 60 %.
        assert!(
            svg.contains(&format!(r#"width="{:.1}""#, PLOT_WIDTH * 0.5)),
            "{svg}"
        );
        assert!(svg.contains(&format!("M{:.1} ", x_of(0.4))), "{svg}");
        assert!(svg.contains(&format!("H{:.1}", x_of(0.6))), "{svg}");
        assert!(
            svg.contains(&format!(r#"class="threshold" x1="{}""#, x_of(0.9))),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect").count(), 1, "no bar without a value");
        assert!(svg.contains("Rates &lt;by&gt; risk"));
        assert!(svg.contains("A.1.a 煽动颠覆国家政权、推翻社会主…"), "{svg}");
        assert!(
            chart()
                .to_svg_document()
                .contains(r#"xmlns="http://www.w3.org/2000/svg""#)
        );
    }

    #[test]
    fn out_of_range_values_stay_in_the_plot() {
        assert_eq!(x_of(-1.0), PLOT_LEFT);
        assert_eq!(x_of(2.0), PLOT_LEFT + PLOT_WIDTH);
        assert_eq!(x_of(f64::NAN), PLOT_LEFT);
    }
}
