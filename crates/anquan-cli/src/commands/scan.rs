//! `anquan scan`: run the detection engine over text.

use std::io::Read as _;
use std::path::Path;

use anquan::detect::Engine;
use anquan::detect::keywords::Library;
use anyhow::Context as _;
use serde_json::json;

use super::load_catalog;
use crate::ExitStatus;
use crate::args::{Cli, ScanArgs};
use crate::output::{Out, table, with_hint};

/// Read a file as UTF-8, naming the byte offset of the first invalid sequence.
pub(crate) fn read_utf8(path: &Path) -> anyhow::Result<String> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        anyhow::anyhow!(
            "`{}` is not UTF-8: invalid byte sequence at byte {at}",
            path.display()
        )
    })
}

/// Load a keyword library file, or the built-in starter library; problems name the line.
/// An allow-list file: one phrase per line (a TSV's first column; `#` comments and a `phrase`
/// header line skipped).
pub(crate) fn read_allow_list(path: &Path) -> anyhow::Result<Vec<String>> {
    Ok(read_utf8(path)?
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#') && *l != "phrase")
        .map(str::to_owned)
        .collect())
}

pub(crate) fn load_library(path: Option<&Path>) -> anyhow::Result<(Library, Vec<String>)> {
    let (text, name) = match path {
        Some(p) if p.as_os_str() == "builtin:starter" => (
            anquan::detect::keywords::STARTER_LIBRARY.to_owned(),
            "builtin:starter".to_owned(),
        ),
        Some(p) => (read_utf8(p)?, p.display().to_string()),
        None => (
            anquan::detect::keywords::STARTER_LIBRARY.to_owned(),
            "builtin:starter".to_owned(),
        ),
    };
    let (lib, problems) = Library::parse(&text);
    let problems = problems
        .iter()
        .map(|p| format!("`{name}`: line {}: {}", p.line, p.message))
        .collect();
    Ok((lib, problems))
}

pub(crate) fn run(args: &ScanArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let catalog = load_catalog(cli)?;
    let text = match (&args.text, &args.file) {
        (Some(t), None) if t == "-" => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("failed to read standard input")?;
            String::from_utf8(buf).map_err(|e| {
                anyhow::anyhow!(
                    "standard input is not UTF-8: invalid byte sequence at byte {}",
                    e.utf8_error().valid_up_to()
                )
            })?
        }
        (Some(t), None) => t.clone(),
        (None, Some(f)) => read_utf8(f)?,
        _ => {
            return Err(with_hint(
                "nothing to scan",
                "give the text as an argument, `--file PATH`, or `-` for standard input",
            ));
        }
    };
    let library = if args.no_keywords {
        None
    } else {
        let (lib, problems) = load_library(args.library.as_deref())?;
        for p in problems.iter().take(20) {
            crate::output::warn(&format!("{p} (line skipped)"));
        }
        // Keywords tagged with risk ids the catalog does not know are reported, not silently used.
        for k in &lib.keywords {
            if let Some(r) = k
                .risk_ids
                .iter()
                .find(|r| catalog.risk(r.as_str()).is_none())
            {
                crate::output::warn(&format!(
                    "keyword `{}` (line {}): unknown risk id `{r}`",
                    k.term, k.line
                ));
            }
        }
        Some(lib)
    };
    let allow: Vec<String> = match &args.allow {
        Some(p) => read_allow_list(p)?,
        None if args.library.is_none() => anquan::detect::keywords::starter_allow_list(),
        None => Vec::new(),
    };
    let engine = Engine::new(&catalog, library, &allow, !args.no_pii);
    if args.mask {
        let masked = engine.mask(&text);
        if out.json {
            out.json_value(&json!({"schema": "anquan.scan.mask.v1", "text": masked}));
        } else {
            out.line(masked);
        }
        return Ok(ExitStatus::Success);
    }
    let found = engine.scan(&text);
    if out.json {
        out.json_value(&json!({
            "schema": "anquan.scan.v1",
            "normalizer": engine.normalizer().describe(),
            "library": engine.keywords().map(|k| json!({"name": k.library().name, "version": k.library().version, "keywords": k.library().keywords.len()})),
            "findings": found,
        }));
    } else if found.is_empty() {
        out.line(out.t("未发现关键词或个人信息。", "Nothing found."));
    } else {
        let rows: Vec<Vec<String>> = found
            .iter()
            .map(|d| {
                vec![
                    format!("{}..{}", d.span.start, d.span.end),
                    d.detector.to_string(),
                    d.risk_ids
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    d.matched.replace('\n', "⏎"),
                    d.masked.clone().unwrap_or_else(|| d.normalized.to_string()),
                ]
            })
            .collect();
        out.line(table(
            &[
                out.t("位置", "span"),
                out.t("检测器", "detector"),
                out.t("风险", "risks"),
                out.t("原文", "matched"),
                out.t("归一化/脱敏", "normalized / masked"),
            ],
            &rows,
        ));
        out.blank();
        out.line(match out.lang {
            anquan::core::Lang::Zh => format!("共 {} 处。位置为原文字节偏移。", found.len()),
            anquan::core::Lang::En => format!(
                "{} finding(s). Spans are byte offsets in the original text.",
                found.len()
            ),
        });
    }
    Ok(if found.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
