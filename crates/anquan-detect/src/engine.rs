//! The engine: normalizer, keyword matcher and PII detectors behind one call.

use std::sync::{Arc, LazyLock};

use anquan_catalog::Catalog;
use anquan_core::{Finding, RiskId, Span};
use compact_str::CompactString;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization as _;

use crate::keywords::{KeywordMatcher, Library, RawMatch, Severity};
use crate::normalize::{Normalized, Normalizer, Stage};
use crate::pii::{PiiDetector, PiiKind};
use crate::registry;

/// One finding of the engine, with everything a user needs to act on it.
///
/// What findings of one detector or keyword share (the detector's tag, the risk ids, the
/// normalized form, the keywords) is shared, not copied, and the matched text is stored inline
/// when it is short (24 bytes or less): a scan that finds 40,000 keywords allocates nothing per
/// finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// `detector_id@version`.
    pub detector: &'static str,
    /// Annex-A risks it is evidence of.
    pub risk_ids: Arc<[RiskId]>,
    /// Span in the original text (bytes).
    pub span: Span,
    /// The original text of the span.
    pub matched: CompactString,
    /// The normalized form that matched (keywords) or the cleaned value (PII).
    pub normalized: CompactString,
    /// Severity.
    pub severity: Severity,
    /// PII kind, for PII findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii: Option<PiiKind>,
    /// The masked value, for PII findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked: Option<String>,
    /// The library keyword(s) behind a keyword finding.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub keywords: Arc<[String]>,
}

impl Detection {
    /// As the shared `Finding` type judges exchange.
    pub fn to_finding(&self) -> Finding {
        Finding {
            detector: self.detector.to_owned(),
            risk_ids: self.risk_ids.to_vec(),
            span: self.span,
            matched: self.matched.to_string(),
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
#[cfg(test)]
fn pii_islands(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some((p, _)) = text[i..].char_indices().find(|(_, c)| !pii_irrelevant(*c)) {
        let (a, b) = island_at(text, i + p);
        out.push((a, b));
        i = b;
    }
    out
}

/// The island holding the PII-relevant character at byte `i`: the run of relevant characters
/// around it, with the character before the run.
fn island_at(text: &str, i: usize) -> (usize, usize) {
    let mut start = i;
    for (p, c) in text[..i].char_indices().rev() {
        start = p;
        if pii_irrelevant(c) {
            break;
        }
    }
    let end = text[i..]
        .char_indices()
        .find(|(_, c)| pii_irrelevant(*c))
        .map_or(text.len(), |(p, _)| i + p);
    (start, end)
}

/// Buffers a scan needs only while it runs (the normalized text, its offset map, the
/// normalizer's gaps and the keyword matches), kept per thread for the next scan: a long text's
/// buffers are megabytes, and allocating and first writing fresh memory for them took a tenth
/// of the scan (measured on the 4 MiB benchmark corpus).
#[derive(Default)]
struct Scratch {
    norm: Normalized,
    gaps: Vec<(usize, usize)>,
    matches: Vec<RawMatch>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<Option<Scratch>> = const { std::cell::Cell::new(None) };
}

/// The largest normalized text whose buffers a thread keeps (64 MiB): tool policy, so that
/// one huge scan does not pin its memory for the thread's life.
const SCRATCH_MAX_BYTES: usize = 64 << 20;

/// Whether a character can give PII: every detector needs an ASCII digit, `@` or `:` in the
/// lightly normalized text, and a character gives one only when it is one or when NFKC makes it
/// one (full-width digits, enclosed forms, `：`).
fn gives_pii(c: char) -> bool {
    let useful = |d: char| d.is_ascii_digit() || d == '@' || d == ':';
    match c as u32 {
        0..=0x7F => useful(c),
        // Full-width ASCII (`！`, `１`, `：`): NFKC gives the ASCII character 0xFEE0 below.
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).is_some_and(useful),
        _ => !pii_irrelevant(c) && std::iter::once(c).nfkc().any(useful),
    }
}

/// Bytes that can start a character that [`gives_pii`]: ASCII digits, `@` and `:`, and the
/// first bytes of the characters outside ASCII and U+4000..=U+9FFF (lead bytes 0xE4..=0xE9),
/// which give none (checked by a test). (A byte-by-byte search through this table runs faster
/// than skipping ideographs three bytes at a time, whose steps depend on each other: measured.)
static PII_LEAD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = matches!(b as u8, b'0'..=b'9' | b'@' | b':' | 0xC0..=0xE3 | 0xEA..=0xFF);
        b += 1;
    }
    t
};

/// The islands (see [`island_at`]) that can hold PII, those with a character that
/// [`gives_pii`], in order; the others cannot, and are never looked at. With `gaps` (the
/// normalizer's gaps that hold a character that [`gives_pii`], see
/// `Normalizer::normalize_noting_gaps`), only the bytes inside them are searched: outside them
/// are only `\n`, unified ideographs and gaps without such a character, which give no PII.
fn pii_candidates(text: &str, gaps: Option<&[(usize, usize)]>) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    match gaps {
        None => pii_candidates_in(text, 0, text.len(), &mut out),
        Some(gaps) => {
            for &(a, b) in gaps {
                // An island found in an earlier gap may reach into this one.
                let from = out.last().map_or(a, |&(_, e)| a.max(e));
                if from < b {
                    pii_candidates_in(text, from, b, &mut out);
                }
            }
        }
    }
    out
}

/// [`pii_candidates`] for the characters that start in `from..to` (character boundaries).
fn pii_candidates_in(text: &str, from: usize, to: usize, out: &mut Vec<(usize, usize)>) {
    let bytes = text.as_bytes();
    let mut i = from;
    while let Some(k) = bytes
        .get(i..to)
        .and_then(|rest| rest.iter().position(|&b| PII_LEAD[usize::from(b)]))
    {
        // A lead byte or ASCII: the start of a character.
        let p = i + k;
        let Some(c) = text.get(p..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        i = p + c.len_utf8();
        if gives_pii(c) {
            let (a, e) = island_at(text, p);
            out.push((a, e));
            i = i.max(e);
        }
    }
}

/// `id@version` of the keyword and PII detectors, made once per process (a few bytes kept for its
/// life), so that a finding carries a `&'static str` rather than a counted reference.
static TAGS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    std::iter::once(&registry::KEYWORD)
        .chain(registry::PII)
        .map(|i| {
            let tag: &'static str = format!("{}@{}", i.id, i.version).leak();
            (i.id, tag)
        })
        .collect()
});

/// A detector's `id@version` (see [`TAGS`]); its id alone if it is not a keyword or PII one.
fn static_tag(info: &registry::DetectorInfo) -> &'static str {
    TAGS.iter()
        .find(|(id, _)| *id == info.id)
        .map_or(info.id, |(_, tag)| *tag)
}

/// A PII detector's `id@version` and risks, from the registry.
fn pii_tag(kind: PiiKind) -> (&'static str, Arc<[RiskId]>) {
    let info = registry::pii_info(kind);
    (
        static_tag(info),
        info.risk_ids
            .iter()
            .filter_map(|r| RiskId::new(*r).ok())
            .collect(),
    )
}

/// The detection engine. Owns no resources: no store, no socket, no printing.
#[derive(Debug)]
pub struct Engine {
    normalizer: Normalizer,
    light: Normalizer,
    keywords: Option<KeywordMatcher>,
    pii: Option<PiiDetector>,
    /// The keyword detector's `id@version`.
    keyword_detector: &'static str,
    /// Per PII kind: its detector's `id@version` and risks.
    pii_tags: Vec<(PiiKind, &'static str, Arc<[RiskId]>)>,
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
            keyword_detector: static_tag(&registry::KEYWORD),
            pii_tags: PiiKind::ALL
                .iter()
                .map(|&kind| {
                    let (tag, risks) = pii_tag(kind);
                    (kind, tag, risks)
                })
                .collect(),
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
        self.scan_into(text, &mut out);
        out
    }

    /// [`Engine::scan`] into `out`, which is emptied first and keeps its capacity: for a caller
    /// that scans text after text (a corpus, a stream of requests), the findings' memory is
    /// reused instead of allocated and first written afresh each time, which on a text of
    /// megabytes with many findings costs as much as a fifth of the scan.
    ///
    /// ```
    /// # let catalog = anquan_catalog::Catalog::load(None).unwrap();
    /// let engine = anquan_detect::Engine::new(&catalog, None, &[], true);
    /// let mut found = Vec::new();
    /// for line in ["手机13812345678", "没有", "邮箱a@example.com"] {
    ///     engine.scan_into(line, &mut found);
    ///     println!("{line}: {}", found.len());
    /// }
    /// assert_eq!(found.len(), 1);
    /// ```
    pub fn scan_into(&self, text: &str, out: &mut Vec<Detection>) {
        out.clear();
        // The buffers of this thread's last scan, emptied (see `Scratch`).
        let Scratch {
            mut norm,
            mut gaps,
            matches,
        } = SCRATCH.take().unwrap_or_default();
        gaps.clear();
        let mut gaps_known = false;
        // Keyword matches first (the normalizer notes its gaps, which is where PII can be), then
        // PII; the findings are built in one pass that merges the two in position order.
        let mut keyword_matches = matches;
        keyword_matches.clear();
        if let Some(matcher) = &self.keywords {
            let into = std::mem::take(&mut norm);
            let noted = if self.pii.is_some() {
                self.normalizer.normalize_noting_gaps(
                    text,
                    &mut gaps,
                    |gap| gap.chars().any(gives_pii),
                    into,
                )
            } else {
                Some(self.normalizer.normalize_into(text, into))
            };
            gaps_known = noted.is_some() && self.pii.is_some();
            norm = noted.unwrap_or_else(|| self.normalizer.normalize(text));
            keyword_matches = matcher.find_raw_into(text, &norm, keyword_matches);
        }
        let mut found_pii = Vec::new();
        if let Some(pii) = &self.pii {
            // PII lives in runs of ASCII and of characters that normalize to it (full-width digits,
            // enclosed forms, invisible characters); Chinese prose between them is skipped, and
            // so are runs without a digit, `@` or `:` (or a character NFKC makes one).
            for (a, b) in pii_candidates(text, gaps_known.then_some(gaps.as_slice())) {
                let piece = &text[a..b];
                let norm = self.light.normalize(piece);
                for m in pii.find(piece, &norm) {
                    let (detector, risk_ids) = self
                        .pii_tags
                        .iter()
                        .find(|(k, _, _)| *k == m.kind)
                        .map_or_else(|| pii_tag(m.kind), |(_, t, r)| (*t, r.clone()));
                    found_pii.push(Detection {
                        detector,
                        risk_ids,
                        span: Span::new(m.span.start + a, m.span.end + a),
                        masked: Some(m.masked()),
                        matched: m.matched.into(),
                        normalized: m.value.into(),
                        severity: Severity::High,
                        pii: Some(m.kind),
                        keywords: Arc::from([]),
                    });
                }
            }
        }
        let key = |span: Span| (span.start, span.end);
        found_pii.sort_by_key(|d| key(d.span));
        // A stable merge: at the same span a keyword comes before a PII finding, as a stable
        // sort of the two lists one after the other would give.
        out.reserve(keyword_matches.len() + found_pii.len());
        let mut pii = found_pii.into_iter().peekable();
        if let Some(matcher) = &self.keywords {
            for m in &keyword_matches {
                while let Some(p) = pii.next_if(|p| key(p.span) < key(m.span)) {
                    out.push(p);
                }
                let info = matcher.group_info(m.group);
                out.push(Detection {
                    detector: self.keyword_detector,
                    risk_ids: info.risk_ids.clone(),
                    span: m.span,
                    matched: CompactString::from(&text[m.span.start..m.span.end]),
                    normalized: info.normalized.clone(),
                    severity: info.severity,
                    pii: None,
                    masked: None,
                    keywords: info.keywords.clone(),
                });
            }
        }
        out.extend(pii);
        if norm.text.capacity() <= SCRATCH_MAX_BYTES {
            SCRATCH.set(Some(Scratch {
                norm: norm.emptied(),
                gaps,
                matches: keyword_matches,
            }));
        }
        debug_assert!(out.is_sorted_by_key(|d| key(d.span)));
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
    fn no_character_from_u4000_to_u9fff_gives_pii() {
        // What `PII_LEAD` skips: extension A, the Yijing hexagrams, the unified ideographs.
        for c in (0x4000..=0x9FFF).filter_map(char::from_u32) {
            assert!(!gives_pii(c), "{c}");
        }
        assert!(gives_pii('１') && gives_pii('①') && gives_pii('：') && gives_pii('7'));
        assert!(!gives_pii('，') && !gives_pii('a') && !gives_pii('中'));
        // The full-width fast path says what NFKC says.
        for c in (0xFF01..=0xFF5E).filter_map(char::from_u32) {
            let nfkc = std::iter::once(c)
                .nfkc()
                .any(|d| d.is_ascii_digit() || d == '@' || d == ':');
            assert_eq!(gives_pii(c), nfkc, "{c}");
        }
    }

    #[test]
    fn static_tags_are_id_at_version() {
        for info in std::iter::once(&registry::KEYWORD).chain(registry::PII) {
            assert_eq!(static_tag(info), format!("{}@{}", info.id, info.version));
        }
        for &kind in PiiKind::ALL {
            assert_eq!(pii_tag(kind).0, static_tag(registry::pii_info(kind)));
        }
    }

    #[test]
    fn pii_in_full_width_forms_inside_chinese_text() {
        let catalog = Catalog::load(None).unwrap();
        let engine = Engine::new(&catalog, None, &[], true);
        let text = "电话（０７５５）８７６５４３２１，手机１３８１２３４５６７８；车牌京A12345。";
        let found: Vec<(String, String)> = engine
            .scan(text)
            .into_iter()
            .map(|d| (d.detector.to_string(), d.matched.to_string()))
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

    #[test]
    fn scans_in_a_row_find_what_each_finds_alone() {
        // A scan reuses the buffers of the thread's last one (`Scratch`): a long text, then a
        // short one, then the long one again, on the same thread, as on fresh threads.
        let catalog = Catalog::load(None).unwrap();
        let (lib, _) = Library::parse_tsv(
            "# name: t\n# version: 1\nkeyword\trisk_ids\tseverity\tsource\n\
             赌博\tA.1.h\thigh\tt\n冰毒\tA.1.h\thigh\tt\n",
        );
        let engine = Engine::new(&catalog, Some(lib), &[], true);
        let long = "他在赌*博，手机13812345678，又买冰毒。".repeat(500);
        let short = "賭博１３８１２３４５６７８";
        let alone = |text: &str| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    engine
                        .scan(text)
                        .into_iter()
                        .map(|d| (d.span, d.detector))
                        .collect()
                })
                .join()
                .unwrap()
            })
        };
        let (want_long, want_short): (Vec<_>, Vec<_>) = (alone(&long), alone(short));
        assert_eq!(want_long.len(), 1_500);
        assert_eq!(want_short.len(), 2);
        // Another engine (PII only: it normalizes nothing itself) scans between them on the
        // same thread.
        let pii_only = Engine::new(&catalog, None, &[], true);
        let want_pii = pii_only.scan(short).len();
        assert_eq!(want_pii, 1);
        for text in [&long[..], short, &long[..], short] {
            let got: Vec<_> = engine
                .scan(text)
                .into_iter()
                .map(|d| (d.span, d.detector))
                .collect();
            let want = if text.len() == short.len() {
                &want_short
            } else {
                &want_long
            };
            assert_eq!(&got, want);
            assert_eq!(pii_only.scan(short).len(), want_pii);
        }
    }
}
