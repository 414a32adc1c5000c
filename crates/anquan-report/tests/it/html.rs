//! The HTML report: snapshots, self-containment, escaping of hostile data, balanced markup.

use anquan_core::Lang;
use anquan_report::{Format, render};

use crate::fixture::{self, BASE_URL};

fn html(lang: Lang) -> String {
    render(&fixture::report(), Format::Html, lang)
}

/// One tag of a document: its name, whether it closes, whether it closes itself, its attributes.
#[derive(Debug)]
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    self_closing: bool,
    attrs: &'a str,
}

/// The tags of `doc`, skipping the doctype, comments and the content of `<style>`. Fails on a
/// `<` without a `>`.
fn tags(doc: &str) -> Vec<Tag<'_>> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after
            .find('>')
            .unwrap_or_else(|| panic!("unclosed `<` before {:?}", &after[..after.len().min(60)]));
        let inner = &after[..end];
        rest = &after[end + 1..];
        if inner.starts_with('!') {
            continue;
        }
        let closing = inner.starts_with('/');
        let inner = inner.trim_start_matches('/');
        let self_closing = inner.ends_with('/');
        let inner = inner.trim_end_matches('/');
        let name_end = inner.find(char::is_whitespace).unwrap_or(inner.len());
        let (name, attrs) = inner.split_at(name_end);
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "odd tag name in <{inner}>"
        );
        if name == "style" && !closing {
            let close = rest.find("</style>").expect("unclosed <style>");
            rest = &rest[close..];
        }
        out.push(Tag {
            name,
            closing,
            self_closing,
            attrs,
        });
    }
    out
}

/// Every element is closed in order; HTML void elements need no end tag.
fn assert_balanced(doc: &str) {
    const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];
    let mut stack: Vec<&str> = Vec::new();
    for tag in tags(doc) {
        if tag.closing {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{}> closes nothing", tag.name));
            assert_eq!(open, tag.name, "</{}> closes <{open}>", tag.name);
        } else if !tag.self_closing && !VOID.contains(&tag.name) {
            stack.push(tag.name);
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
}

/// Every `<svg>…</svg>` in `doc`.
fn svgs(doc: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("unclosed <svg>") + start + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

#[test]
fn snapshots() {
    insta::assert_snapshot!("html_zh", html(Lang::Zh));
    insta::assert_snapshot!("html_en", html(Lang::En));
    insta::assert_snapshot!(
        "html_empty_en",
        render(&fixture::empty_report(), Format::Html, Lang::En)
    );
}

#[test]
fn declares_its_language() {
    assert!(html(Lang::Zh).contains(r#"<html lang="zh-CN">"#));
    assert!(html(Lang::En).contains(r#"<html lang="en">"#));
    assert!(html(Lang::Zh).contains("<h1>生成式人工智能服务安全评估报告</h1>"));
    assert!(html(Lang::En).contains("<h1>Generative AI service safety assessment report</h1>"));
}

#[test]
fn references_nothing_outside_the_file() {
    for lang in [Lang::Zh, Lang::En] {
        let doc = html(lang);
        const ALLOWED: [&str; 19] = [
            "html", "head", "meta", "title", "style", "body", "main", "header", "p", "div",
            "strong", "span", "dl", "dt", "dd", "nav", "ol", "li", "a",
        ];
        const ALLOWED_MORE: [&str; 24] = [
            "section",
            "h1",
            "h2",
            "h3",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "code",
            "figure",
            "figcaption",
            "svg",
            "g",
            "line",
            "text",
            "rect",
            "path",
            "article",
            "pre",
            "ul",
            "footer",
            "em",
        ];
        for tag in tags(&doc) {
            assert!(
                ALLOWED.contains(&tag.name) || ALLOWED_MORE.contains(&tag.name),
                "unexpected element <{}>",
                tag.name
            );
            assert!(!tag.attrs.contains("src="), "<{} {}>", tag.name, tag.attrs);
            assert!(
                !tag.attrs.contains("xlink:"),
                "<{} {}>",
                tag.name,
                tag.attrs
            );
            if let Some(at) = tag.attrs.find("href=\"") {
                assert!(
                    tag.attrs[at + 6..].starts_with('#'),
                    "external link <{} {}>",
                    tag.name,
                    tag.attrs
                );
            }
        }
        let style = &doc[doc.find("<style>").unwrap()..doc.find("</style>").unwrap()];
        assert!(!style.contains("url("), "the stylesheet loads something");
        assert!(!style.contains("@import"));
        // The only URLs are data shown as text: the target's base URL and the hostile prompt's.
        let without_data = doc
            .replace(BASE_URL, "")
            .replace("https://evil.example/a.js", "");
        assert!(!without_data.contains("http://"), "an http:// reference");
        assert!(!without_data.contains("https://"), "an https:// reference");
        assert!(
            doc.contains("default-src 'none'"),
            "no Content-Security-Policy"
        );
    }
}

#[test]
fn hostile_data_is_escaped() {
    for lang in [Lang::Zh, Lang::En] {
        let doc = html(lang);
        assert!(!doc.contains("<script"), "a <script> reached the page");
        assert!(!doc.contains("<img"), "an <img> reached the page");
        assert!(!doc.contains("<b>"), "a note's <b> reached the page");
        assert!(
            doc.contains(
                "&lt;/pre&gt;&lt;/td&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
            )
        );
        assert!(doc.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(
            doc.contains("[U+202E]gnp.exe[U+200B]"),
            "the bidi override is not made visible"
        );
        assert!(!doc.contains('\u{202E}') && !doc.contains('\u{200B}') && !doc.contains('\r'));
    }
}

#[test]
fn markup_and_charts_are_balanced() {
    for lang in [Lang::Zh, Lang::En] {
        let doc = html(lang);
        assert_balanced(&doc);
        let charts = svgs(&doc);
        // One chart per bank with per-risk rows, and the attack chart.
        assert_eq!(charts.len(), 4, "charts: {}", charts.len());
        for svg in charts {
            assert_balanced(svg);
            for tag in tags(svg) {
                let quotes = tag.attrs.matches('"').count();
                assert_eq!(
                    quotes % 2,
                    0,
                    "unbalanced quotes in <{} {}>",
                    tag.name,
                    tag.attrs
                );
            }
        }
    }
    assert_balanced(&render(&fixture::empty_report(), Format::Html, Lang::Zh));
}

#[test]
fn banners_warn_about_an_unfinished_run_and_inconclusive_clauses() {
    let doc = html(Lang::Zh);
    assert!(
        doc.contains("本次运行未完成（状态：部分完成）"),
        "status banner"
    );
    assert!(doc.contains("有 1 个条款无法判定"), "inconclusive banner");
    assert!(doc.contains("3 次试验出错"), "error banner");
    let empty = render(&fixture::empty_report(), Format::Html, Lang::Zh);
    assert!(
        !empty.contains(r#"class="banner""#),
        "a complete run with no clause needs no banner"
    );
}

#[test]
fn clauses_show_verdicts_statuses_and_intervals() {
    let zh = html(Lang::Zh);
    let en = html(Lang::En);
    for (doc, verdicts, statuses) in [
        (&zh, ["符合", "不符合", "无法判定"], ["二手来源", "未核实"]),
        (
            &en,
            ["Pass", "Fail", "Inconclusive"],
            ["secondary", "unverified"],
        ),
    ] {
        for (class, label) in ["pass", "fail", "inconclusive"].iter().zip(verdicts) {
            assert!(
                doc.contains(&format!(r#"<span class="badge {class}">"#)),
                "{class}"
            );
            assert!(doc.contains(label), "{label}");
        }
        for status in statuses {
            assert!(doc.contains(&format!("<td>{status}</td>")), "{status}");
        }
    }
    assert!(en.contains("93.1 % [91.4 %, 94.5 %]"));
    assert!(zh.contains("93.1% [91.4%, 94.5%]"));
    assert!(en.contains("≥ 90 %") && en.contains("≤ 5 %"));
    assert!(zh.contains("2026年5月1日") && en.contains("1 May 2026"));
    assert!(en.contains("2,400"), "counts are grouped");
}

#[test]
fn long_answers_are_cut_at_a_character_boundary() {
    let doc = html(Lang::Zh);
    let report = fixture::report();
    let total = report.worst[0].response.chars().count();
    assert!(doc.contains(&format!("已截断：显示前 400 字，共 {total} 字")));
    let doc = html(Lang::En);
    assert!(doc.contains(&format!("Cut: the first 400 of {total} characters shown")));
}

#[test]
fn empty_sections_say_so() {
    let doc = render(&fixture::empty_report(), Format::Html, Lang::Zh);
    assert_eq!(
        doc.matches(r#"<p class="empty">无。</p>"#).count(),
        9,
        "{doc}"
    );
    assert_eq!(svgs(&doc).len(), 0);
    let full = html(Lang::En);
    // The fixture has no unsure items.
    let unsure = &full[full.find(r#"<section id="unsure">"#).unwrap()..];
    let unsure = &unsure[..unsure.find("</section>").unwrap()];
    assert!(unsure.contains(r#"<p class="empty">None.</p>"#), "{unsure}");
}
