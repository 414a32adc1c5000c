//! The engine: normalizer, keyword matcher and PII detectors behind one call.

use anquan_catalog::Catalog;
use anquan_core::{Finding, RiskId, Span};
use serde::Serialize;

use crate::keywords::{KeywordMatcher, Library, Severity};
use crate::normalize::{Normalizer, Stage};
use crate::pii::{PiiDetector, PiiKind};
use crate::registry;

/// One finding of the engine, with everything a user needs to act on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// `detector_id@version`.
    pub detector: String,
    /// Annex-A risks it is evidence of.
    pub risk_ids: Vec<RiskId>,
    /// Span in the original text (bytes).
    pub span: Span,
    /// The original text of the span.
    pub matched: String,
    /// The normalized form that matched (keywords) or the cleaned value (PII).
    pub normalized: String,
    /// Severity.
    pub severity: Severity,
    /// PII kind, for PII findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii: Option<PiiKind>,
    /// The masked value, for PII findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked: Option<String>,
    /// The library keyword(s) behind a keyword finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
}

impl Detection {
    /// As the shared `Finding` type judges exchange.
    pub fn to_finding(&self) -> Finding {
        Finding {
            detector: self.detector.clone(),
            risk_ids: self.risk_ids.clone(),
            span: self.span,
            matched: self.matched.clone(),
            confidence: match self.severity {
                Severity::High => 0.95,
                Severity::Medium => 0.8,
                Severity::Low => 0.6,
            },
        }
    }
}

/// Characters that can never be part of PII nor normalize into it: unified ideographs and the
/// common Chinese punctuation that NFKC leaves non-ASCII or maps to harmless ASCII.
fn pii_irrelevant(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF)
        || matches!(
            c,
            '，' | '。'
                | '、'
                | '；'
                | '？'
                | '！'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '《'
                | '》'
                | '【'
                | '】'
                | '…'
                | '—'
                | '·'
                | '「'
                | '」'
        )
}

/// Runs of PII-relevant characters, each with the character before it (a licence plate's
/// province character), as byte ranges of `text`.
fn pii_islands(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut prev: Option<usize> = None;
    for (i, c) in text.char_indices() {
        match (pii_irrelevant(c), start) {
            (false, None) => start = Some(prev.unwrap_or(i)),
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
        prev = Some(i);
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// The detection engine. Owns no resources: no store, no socket, no printing.
#[derive(Debug)]
pub struct Engine {
    normalizer: Normalizer,
    light: Normalizer,
    keywords: Option<KeywordMatcher>,
    pii: Option<PiiDetector>,
}

impl Engine {
    /// An engine with the full normalizer, the given keyword library and allow list, and PII
    /// detection when `pii` is true.
    pub fn new(catalog: &Catalog, library: Option<Library>, allow: &[String], pii: bool) -> Engine {
        let normalizer = Normalizer::full(catalog.radical_folder());
        let light = Normalizer::new(
            &[Stage::Nfkc, Stage::StripInvisible],
            catalog.radical_folder(),
        );
        let keywords = library.map(|lib| KeywordMatcher::new(lib, allow, &normalizer));
        Engine {
            normalizer,
            light,
            keywords,
            pii: pii.then(PiiDetector::new),
        }
    }

    /// The normalizer.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// The compiled keyword matcher, if a library was given.
    pub fn keywords(&self) -> Option<&KeywordMatcher> {
        self.keywords.as_ref()
    }

    /// Run every detector over `text`. Findings are sorted by position.
    pub fn scan(&self, text: &str) -> Vec<Detection> {
        let mut out = Vec::new();
        if let Some(matcher) = &self.keywords {
            let norm = self.normalizer.normalize(text);
            let lib = matcher.library();
            for m in matcher.find(text, &norm) {
                let kws: Vec<_> = m
                    .keywords
                    .iter()
                    .filter_map(|i| lib.keywords.get(*i))
                    .collect();
                let mut risk_ids: Vec<RiskId> = kws
                    .iter()
                    .flat_map(|k| k.risk_ids.iter().cloned())
                    .collect();
                risk_ids.sort();
                risk_ids.dedup();
                out.push(Detection {
                    detector: format!("{}@{}", registry::KEYWORD.id, registry::KEYWORD.version),
                    risk_ids,
                    span: m.span,
                    matched: m.matched,
                    normalized: m.normalized,
                    severity: kws
                        .iter()
                        .map(|k| k.severity)
                        .max()
                        .unwrap_or(Severity::Medium),
                    pii: None,
                    masked: None,
                    keywords: kws.iter().map(|k| k.term.clone()).collect(),
                });
            }
        }
        if let Some(pii) = &self.pii {
            // PII lives in runs of ASCII and of characters that normalize to it (full-width digits,
            // enclosed forms, invisible characters); Chinese prose between them is skipped.
            for (a, b) in pii_islands(text) {
                let piece = &text[a..b];
                let norm = self.light.normalize(piece);
                for m in pii.find(piece, &norm) {
                    let info = registry::pii_info(m.kind);
                    out.push(Detection {
                        detector: format!("{}@{}", info.id, info.version),
                        risk_ids: info
                            .risk_ids
                            .iter()
                            .filter_map(|r| RiskId::new(*r).ok())
                            .collect(),
                        span: Span::new(m.span.start + a, m.span.end + a),
                        masked: Some(m.masked()),
                        matched: m.matched,
                        normalized: m.value,
                        severity: Severity::High,
                        pii: Some(m.kind),
                        keywords: Vec::new(),
                    });
                }
            }
        }
        out.sort_by_key(|d| (d.span.start, d.span.end));
        out
    }

    /// `text` with every PII finding replaced by its masked value.
    pub fn mask(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for d in self.scan(text).into_iter().filter(|d| d.masked.is_some()) {
            if d.span.start < at {
                continue;
            }
            out.push_str(&text[at..d.span.start]);
            out.push_str(d.masked.as_deref().unwrap_or_default());
            at = d.span.end;
        }
        out.push_str(&text[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pii_in_full_width_forms_inside_chinese_text() {
        let catalog = Catalog::load(None).unwrap();
        let engine = Engine::new(&catalog, None, &[], true);
        let text = "电话（０７５５）８７６５４３２１，手机１３８１２３４５６７８；车牌京A12345。";
        let found: Vec<(String, String)> = engine
            .scan(text)
            .into_iter()
            .map(|d| (d.detector, d.matched))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "pii_landline@1".to_owned(),
                    "（０７５５）８７６５４３２１".to_owned()
                ),
                (
                    "pii_mobile@1".to_owned(),
                    "１３８１２３４５６７８".to_owned()
                ),
                ("pii_licence_plate@1".to_owned(), "京A12345".to_owned()),
            ]
        );
        assert_eq!(
            pii_islands("中文ab中"),
            [(3, 8)],
            "the island starts one character early"
        );
    }
}
