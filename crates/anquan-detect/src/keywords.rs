//! Keyword libraries and the compiled multi-pattern matcher.
//!
//! Library format (TSV, UTF-8): `#` header lines carrying `name:`, `version:` and `updated:`
//! (YYYY-MM-DD), then a column line `keyword<TAB>risk_ids<TAB>severity<TAB>source`, then one
//! keyword per line; `risk_ids` is a comma-separated list of annex-A ids. Extra columns `mode`
//! (`normalized`, the default; `exact`; `pinyin`; or `initials`, see [`MatchMode`] and
//! [`Keyword::initials`]) may follow. JSONL (`{"keyword", "risk_ids", "severity", "source",
//! "mode"}` per line, header fields in a first `{"library": {...}}` line) is read too. Bad lines
//! are problems naming the line; the rest still loads.

use std::collections::HashMap;
use std::sync::Arc;

use anquan_core::{RiskId, Span};
use compact_str::CompactString;
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use crate::leftmost::Leftmost;
use crate::normalize::{Normalized, Normalizer};
use crate::pinyin::{InitialsMatcher, keyword_forms, pinyin_view};
pub use crate::pinyin::{MAX_INITIALS_FORMS, MAX_READINGS};

/// How bad a keyword's presence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Weak signal.
    Low,
    /// Usual.
    Medium,
    /// Strong signal.
    High,
}

impl Severity {
    /// The name used in library files.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "" | "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }
}

/// How a keyword is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// Against the normalized text (evasions undone). The default.
    Normalized,
    /// Against the original text as written.
    Exact,
    /// Normalized, and also by pronunciation: the term's toneless pinyin matched against the
    /// text's pinyin, which catches terms written in pinyin (`dubo`) and homophones (`读博` for
    /// `赌博`). Opt-in per keyword: it costs precision (`杜博士` also reads `du bo`). The term is
    /// read every way its heteronyms (多音字) can be read, up to [`MAX_READINGS`] combinations
    /// (`银行` matches `yinxing` and `yinhang`); the text is read one way, each character's
    /// default reading. With [`Keyword::initials`] (library mode `initials`), its initials too.
    Pinyin,
}

impl MatchMode {
    /// The name used in library files.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Normalized => "normalized",
            MatchMode::Exact => "exact",
            MatchMode::Pinyin => "pinyin",
        }
    }

    /// A library file's mode name: the match mode, and whether the initials are matched too
    /// (`initials` is `pinyin` with initials).
    fn parse(s: &str) -> Option<(MatchMode, bool)> {
        if s == INITIALS_MODE {
            return Some((MatchMode::Pinyin, true));
        }
        [MatchMode::Normalized, MatchMode::Exact, MatchMode::Pinyin]
            .into_iter()
            .find(|m| m.as_str() == s)
            .map(|m| (m, false))
    }
}

/// The library mode name of [`MatchMode::Pinyin`] with [`Keyword::initials`].
const INITIALS_MODE: &str = "initials";

fn bad_mode(line: usize, term: &str, mode: &str) -> LibraryProblem {
    LibraryProblem {
        line,
        message: format!(
            "keyword `{term}`: mode `{mode}`; expected normalized, exact, pinyin or initials"
        ),
    }
}

/// One keyword of a library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyword {
    /// The term as written in the library.
    pub term: String,
    /// Annex-A risks it signals.
    pub risk_ids: Vec<RiskId>,
    /// Severity.
    pub severity: Severity,
    /// Match mode.
    pub mode: MatchMode,
    /// With [`MatchMode::Pinyin`] (ignored otherwise): also match the term's pinyin initials,
    /// alone or mixed with characters and full syllables (`db`, `d博`, `赌b`, `dub` for 赌博).
    /// The library mode `initials`. Opt-in per keyword: `db` is also an ordinary abbreviation
    /// in Latin text. Terms of two or more CJK characters only, each with a reading; each
    /// initial a Latin letter, `zh`/`ch`/`sh` abbreviated to one letter; the form a whole token
    /// (no Latin letter or digit touching it); at most [`MAX_INITIALS_FORMS`] forms a term.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub initials: bool,
    /// Where the term comes from.
    pub source: String,
    /// Line in the library file.
    pub line: usize,
}

impl Keyword {
    /// The mode name used in library files: [`MatchMode::as_str`], or `initials`.
    pub fn mode_name(&self) -> &'static str {
        if self.initials && self.mode == MatchMode::Pinyin {
            INITIALS_MODE
        } else {
            self.mode.as_str()
        }
    }
}

/// A problem in a library file, naming the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryProblem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A keyword library.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Library {
    /// Library name.
    pub name: String,
    /// Library version.
    pub version: String,
    /// Last update date (YYYY-MM-DD), when the header gives one.
    pub updated: Option<String>,
    /// The keywords.
    pub keywords: Vec<Keyword>,
}

fn header_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.trim_start_matches('#').trim();
    let (k, v) = rest.split_once(':')?;
    (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim())
}

fn parse_risks(field: &str) -> Result<Vec<RiskId>, String> {
    let ids: Vec<&str> = field
        .split([',', ';', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err("no risk id".into());
    }
    ids.into_iter()
        .map(|s| RiskId::new(s).map_err(|e| e.to_string()))
        .collect()
}

impl Library {
    /// Parse a library, JSONL when the text starts with `{`, else TSV.
    pub fn parse(text: &str) -> (Library, Vec<LibraryProblem>) {
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
        {
            Library::parse_jsonl(text)
        } else {
            Library::parse_tsv(text)
        }
    }

    /// Parse a JSONL library: an optional first line `{"library": {"name", "version", "updated"}}`,
    /// then one `{"keyword", "risk_ids", "severity", "source", "mode"}` object per line
    /// (`risk_ids` a list or a comma-separated string). Bad lines become problems.
    pub fn parse_jsonl(text: &str) -> (Library, Vec<LibraryProblem>) {
        let mut lib = Library::default();
        let mut problems = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim_start_matches('\u{feff}').trim();
            if line.is_empty() {
                continue;
            }
            let v: serde_json::Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(LibraryProblem {
                        line: line_no,
                        message: format!("not JSON: {e}"),
                    });
                    continue;
                }
            };
            if let Some(h) = v.get("library") {
                let s = |k: &str| h.get(k).and_then(|x| x.as_str()).map(str::to_owned);
                lib.name = s("name").unwrap_or_default();
                lib.version = s("version").unwrap_or_default();
                lib.updated = s("updated");
                continue;
            }
            let Some(term) = v
                .get("keyword")
                .and_then(|k| k.as_str())
                .map(str::trim)
                .filter(|t| !t.is_empty())
            else {
                problems.push(LibraryProblem {
                    line: line_no,
                    message: "no `keyword`".into(),
                });
                continue;
            };
            let risks = match v.get("risk_ids") {
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                Some(serde_json::Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            let risk_ids = match parse_risks(&risks) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(LibraryProblem {
                        line: line_no,
                        message: format!("keyword `{term}`: {e}"),
                    });
                    continue;
                }
            };
            let sev = v.get("severity").and_then(|x| x.as_str()).unwrap_or("");
            let Some(severity) = Severity::parse(sev) else {
                problems.push(LibraryProblem {
                    line: line_no,
                    message: format!(
                        "keyword `{term}`: severity `{sev}`; expected low, medium or high"
                    ),
                });
                continue;
            };
            let mode_name = v
                .get("mode")
                .and_then(|x| x.as_str())
                .unwrap_or("normalized");
            let Some((mode, initials)) = MatchMode::parse(mode_name) else {
                problems.push(bad_mode(line_no, term, mode_name));
                continue;
            };
            lib.keywords.push(Keyword {
                term: term.to_owned(),
                risk_ids,
                severity,
                mode,
                initials,
                source: v
                    .get("source")
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
                    .to_owned(),
                line: line_no,
            });
        }
        (lib, problems)
    }

    /// Write the library as TSV in canonical form (sorted by keyword, one line each).
    pub fn to_tsv(&self) -> String {
        let mut out = String::from("# anquan keyword library\n");
        out.push_str(&format!(
            "# name: {}\n# version: {}\n",
            self.name, self.version
        ));
        if let Some(u) = &self.updated {
            out.push_str(&format!("# updated: {u}\n"));
        }
        out.push_str("keyword\trisk_ids\tseverity\tsource\tmode\n");
        let mut kws: Vec<&Keyword> = self.keywords.iter().collect();
        kws.sort_by(|a, b| a.term.cmp(&b.term));
        for k in kws {
            let (sev, mode) = (k.severity.as_str(), k.mode_name());
            let risks = k
                .risk_ids
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            out.push_str(&format!(
                "{}\t{risks}\t{sev}\t{}\t{mode}\n",
                k.term, k.source
            ));
        }
        out
    }

    /// Parse a TSV library. Never fails: bad lines become problems.
    pub fn parse_tsv(text: &str) -> (Library, Vec<LibraryProblem>) {
        let mut lib = Library::default();
        let mut problems = Vec::new();
        let mut columns: Option<Vec<String>> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw
                .strip_prefix('\u{feff}')
                .unwrap_or(raw)
                .trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            if line.starts_with('#') {
                if let Some(v) = header_value(line, "name") {
                    lib.name = v.to_owned();
                } else if let Some(v) = header_value(line, "version") {
                    lib.version = v.to_owned();
                } else if let Some(v) = header_value(line, "updated") {
                    lib.updated = Some(v.to_owned());
                }
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let Some(cols) = &columns else {
                let cols: Vec<String> = fields
                    .iter()
                    .map(|f| f.trim().to_ascii_lowercase())
                    .collect();
                if cols.first().map(String::as_str) != Some("keyword")
                    || !cols.iter().any(|c| c == "risk_ids")
                {
                    problems.push(LibraryProblem {
                        line: line_no,
                        message: "expected the column line `keyword<TAB>risk_ids<TAB>severity<TAB>source` before the first keyword".into(),
                    });
                    return (lib, problems);
                }
                columns = Some(cols);
                continue;
            };
            let get = |name: &str| {
                cols.iter()
                    .position(|c| c == name)
                    .and_then(|i| fields.get(i))
                    .map(|s| s.trim())
            };
            let term = fields[0].trim();
            if term.is_empty() {
                problems.push(LibraryProblem {
                    line: line_no,
                    message: "empty keyword".into(),
                });
                continue;
            }
            if fields.len() > cols.len() {
                problems.push(LibraryProblem {
                    line: line_no,
                    message: format!(
                        "{} fields, the header has {} columns",
                        fields.len(),
                        cols.len()
                    ),
                });
                continue;
            }
            let risk_ids = match parse_risks(get("risk_ids").unwrap_or("")) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(LibraryProblem {
                        line: line_no,
                        message: format!("keyword `{term}`: {e}"),
                    });
                    continue;
                }
            };
            let Some(severity) = Severity::parse(get("severity").unwrap_or("")) else {
                problems.push(LibraryProblem {
                    line: line_no,
                    message: format!(
                        "keyword `{term}`: severity `{}`; expected low, medium or high",
                        get("severity").unwrap_or("")
                    ),
                });
                continue;
            };
            let mode_name = match get("mode").unwrap_or("") {
                "" => "normalized",
                m => m,
            };
            let Some((mode, initials)) = MatchMode::parse(mode_name) else {
                problems.push(bad_mode(line_no, term, mode_name));
                continue;
            };
            lib.keywords.push(Keyword {
                term: term.to_owned(),
                risk_ids,
                severity,
                mode,
                initials,
                source: get("source").unwrap_or("").to_owned(),
                line: line_no,
            });
        }
        if columns.is_none() {
            problems.push(LibraryProblem {
                line: 0,
                message: "no column line and no keywords".into(),
            });
        }
        (lib, problems)
    }
}

/// A keyword found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeywordMatch {
    /// Span in the original text.
    pub span: Span,
    /// The original text of the span.
    pub matched: String,
    /// The normalized form that matched.
    pub normalized: String,
    /// Indexes of the library keywords that share this normalized form.
    pub keywords: Vec<usize>,
}

/// A library compiled for matching.
pub struct KeywordMatcher {
    library: Library,
    normalized: Option<Leftmost>,
    exact: Option<CharwiseDoubleArrayAhoCorasick<u32>>,
    allow: Option<CharwiseDoubleArrayAhoCorasick<u32>>,
    /// pattern index → keyword indexes.
    groups: Vec<Vec<usize>>,
    patterns: Vec<String>,
    /// Pinyin forms of `pinyin`-mode keywords, and the keywords behind each.
    pinyin: Option<CharwiseDoubleArrayAhoCorasick<u32>>,
    pinyin_groups: Vec<Vec<usize>>,
    /// Initials forms of `initials`-mode keywords; their groups follow the pinyin forms' in
    /// `pinyin_groups`, so an initials match is a [`Group::Pinyin`].
    initials: Option<InitialsMatcher>,
    /// Keywords whose pinyin or initials forms were cut at a cap.
    capped: Vec<usize>,
    /// What every finding of a pattern shares, built once: per pattern, then per pinyin form.
    pattern_info: Vec<GroupInfo>,
    pinyin_info: Vec<GroupInfo>,
    /// The pinyin forms (not the initials forms), sorted, for prefix look-ups; and the longest,
    /// in bytes.
    pinyin_sorted: Vec<String>,
    pinyin_longest: usize,
}

/// What the findings of one compiled pattern (or pinyin form) share: its keywords' risks and
/// severity, the normalized form, the keywords. Shared, so that a finding costs no copies.
#[derive(Debug, Clone)]
pub(crate) struct GroupInfo {
    /// The keywords' risk ids, sorted, without duplicates.
    pub(crate) risk_ids: Arc<[RiskId]>,
    /// The highest severity among the keywords.
    pub(crate) severity: Severity,
    /// The normalized form that matches (the pattern, or the pinyin form); inline up to 24
    /// bytes, so a finding copies it without counting a reference.
    pub(crate) normalized: CompactString,
    /// The keywords' terms.
    pub(crate) keywords: Arc<[String]>,
}

impl GroupInfo {
    /// `risks` interns the risk-id sets: a library has few distinct ones, and findings that
    /// share one touch the same memory.
    fn new(
        library: &Library,
        form: &str,
        group: &[usize],
        risks: &mut HashMap<Vec<RiskId>, Arc<[RiskId]>>,
    ) -> GroupInfo {
        let kws = || group.iter().filter_map(|i| library.keywords.get(*i));
        let mut risk_ids: Vec<RiskId> = kws().flat_map(|k| k.risk_ids.iter().cloned()).collect();
        risk_ids.sort();
        risk_ids.dedup();
        let risk_ids = risks
            .entry(risk_ids)
            .or_insert_with_key(|r| r.as_slice().into())
            .clone();
        GroupInfo {
            risk_ids,
            severity: kws().map(|k| k.severity).max().unwrap_or(Severity::Medium),
            normalized: form.into(),
            keywords: kws().map(|k| k.term.clone()).collect(),
        }
    }
}

impl std::fmt::Debug for KeywordMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeywordMatcher")
            .field("library", &self.library.name)
            .field("keywords", &self.library.keywords.len())
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

fn build(patterns: &[String]) -> Option<CharwiseDoubleArrayAhoCorasick<u32>> {
    if patterns.is_empty() {
        return None;
    }
    // Standard match kind: the allow list is searched with overlapping iteration.
    CharwiseDoubleArrayAhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .build(patterns)
        .ok()
}

/// Value bits of a normalized pattern: a Latin letter or digit may not touch its start (its
/// end). Word boundaries apply to Latin-script terms only (those that start, end, with a letter
/// or digit): a mixed term such as `k粉` is a Chinese word and may touch Latin letters (`xk粉y`).
const EDGE_START: u32 = 1;
const EDGE_END: u32 = 2;

/// Whether a pattern's start and end need a word boundary (see [`EDGE_START`]).
fn word_edges(pat: &str) -> (bool, bool) {
    let latin = !pat.chars().any(crate::normalize::is_cjk);
    (
        latin && pat.starts_with(|c: char| c.is_ascii_alphanumeric()),
        latin && pat.ends_with(|c: char| c.is_ascii_alphanumeric()),
    )
}

fn is_word_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric())
}

impl KeywordMatcher {
    /// Compile a library: keywords are normalized with `normalizer`, those that normalize to the
    /// same form share one pattern. `allow` phrases suppress matches inside them.
    pub fn new(library: Library, allow: &[String], normalizer: &Normalizer) -> KeywordMatcher {
        let mut index: HashMap<(bool, String), usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut exact_flags: Vec<bool> = Vec::new();
        let mut pinyin_index: HashMap<String, usize> = HashMap::new();
        let mut pinyin_pats: Vec<String> = Vec::new();
        let mut pinyin_groups: Vec<Vec<usize>> = Vec::new();
        let mut initials_forms = Vec::new();
        let mut capped = Vec::new();
        for (i, k) in library.keywords.iter().enumerate() {
            let exact = k.mode == MatchMode::Exact;
            let form = if exact {
                k.term.clone()
            } else {
                normalizer.normalize_str(&k.term)
            };
            if form.is_empty() {
                continue;
            }
            if k.mode == MatchMode::Pinyin {
                // Every reading of the term's heteronyms, up to a cap (see `crate::pinyin`).
                let sounds = keyword_forms(&form, k.initials);
                if sounds.capped {
                    capped.push(i);
                }
                initials_forms.extend(sounds.initials.into_iter().map(|f| (f, i)));
                for py in sounds.pinyin {
                    // Two syllables at least: a single syllable would match everywhere.
                    if py.len() >= 4
                        && form
                            .chars()
                            .filter(|c| crate::normalize::is_cjk(*c))
                            .count()
                            >= 2
                    {
                        let slot = *pinyin_index.entry(py.clone()).or_insert_with(|| {
                            pinyin_pats.push(py);
                            pinyin_groups.push(Vec::new());
                            pinyin_pats.len() - 1
                        });
                        if !pinyin_groups[slot].contains(&i) {
                            pinyin_groups[slot].push(i);
                        }
                    }
                }
            }
            // A multi-word Latin phrase (`ball gag`) written letter by letter with separators
            // (`b*a*l*l* *g*a*g`) normalizes to its letters run together; register that compact
            // form too, for the same keyword.
            let compact: String = form.chars().filter(|c| c.is_alphanumeric()).collect();
            let mut forms = vec![form.clone()];
            if !exact
                && compact != form
                && compact.chars().count() >= 4
                && form.chars().any(|c| c.is_ascii_alphabetic())
            {
                forms.push(compact);
            }
            for form in forms {
                let slot = *index.entry((exact, form.clone())).or_insert_with(|| {
                    patterns.push(form);
                    groups.push(Vec::new());
                    exact_flags.push(exact);
                    patterns.len() - 1
                });
                if !groups[slot].contains(&i) {
                    groups[slot].push(i);
                }
            }
        }
        // Initials forms join the pinyin forms' groups, after them.
        let pinyin_forms = pinyin_pats.len();
        let initials = InitialsMatcher::new(initials_forms, &mut pinyin_pats, &mut pinyin_groups);
        // Two automata (normalized and exact), values are pattern indexes.
        // A normalized pattern's value carries its word edges in its two low bits (see
        // `EDGE_START`), so that a match needs no look-up to check them.
        let norm_pats: Vec<(String, u32)> = patterns
            .iter()
            .zip(&exact_flags)
            .enumerate()
            .filter(|(_, (_, e))| !**e)
            .map(|(i, (p, _))| {
                let (start, end) = word_edges(p);
                let flags = if start { EDGE_START } else { 0 } | if end { EDGE_END } else { 0 };
                (p.clone(), ((i as u32) << 2) | flags)
            })
            .collect();
        let exact_pats: Vec<(String, u32)> = patterns
            .iter()
            .zip(&exact_flags)
            .enumerate()
            .filter(|(_, (_, e))| **e)
            .map(|(i, (p, _))| (p.clone(), i as u32))
            .collect();
        let with_values = |pv: &[(String, u32)]| -> Option<CharwiseDoubleArrayAhoCorasick<u32>> {
            if pv.is_empty() {
                return None;
            }
            CharwiseDoubleArrayAhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build_with_values(pv.iter().map(|(p, v)| (p.as_str(), *v)))
                .ok()
        };
        let mut allow_forms: Vec<String> = allow
            .iter()
            .map(|a| normalizer.normalize_str(a))
            .filter(|a| !a.is_empty())
            .collect();
        allow_forms.sort();
        allow_forms.dedup();
        let mut risks = HashMap::new();
        let pattern_info = patterns
            .iter()
            .zip(&groups)
            .map(|(p, g)| GroupInfo::new(&library, p, g, &mut risks))
            .collect();
        let pinyin_info = pinyin_pats
            .iter()
            .zip(&pinyin_groups)
            .map(|(p, g)| GroupInfo::new(&library, p, g, &mut risks))
            .collect();
        let mut pinyin_sorted: Vec<String> =
            pinyin_pats.iter().take(pinyin_forms).cloned().collect();
        pinyin_sorted.sort_unstable();
        pinyin_sorted.dedup();
        let pinyin_longest = pinyin_sorted.iter().map(String::len).max().unwrap_or(0);
        let pinyin_pv: Vec<(String, u32)> = pinyin_pats
            .into_iter()
            .take(pinyin_forms)
            .enumerate()
            .map(|(i, p)| (p, i as u32))
            .collect();
        KeywordMatcher {
            normalized: Leftmost::new(&norm_pats),
            exact: with_values(&exact_pats),
            allow: build(&allow_forms),
            pinyin: with_values(&pinyin_pv),
            pinyin_groups,
            initials,
            capped,
            pattern_info,
            pinyin_info,
            pinyin_sorted,
            pinyin_longest,
            library,
            groups,
            patterns,
        }
    }

    /// Where a keyword matched by pronunciation (a `pinyin`-mode keyword written as homophones,
    /// 堵搏 for 赌博) could be forming at the end of the normalized text `norm`: the byte offset
    /// of the earliest character from which the text read aloud is the start of a keyword's
    /// reading. `None` when none is, or the library has no such keywords. For a streaming
    /// inspector that must hold back what may still become a finding.
    pub fn pinyin_forming_at(&self, norm: &str) -> Option<usize> {
        if self.pinyin_sorted.is_empty() {
            return None;
        }
        // Every character reads as one letter at least, so no reading starts further back.
        let starts: Vec<usize> = norm.char_indices().map(|(i, _)| i).collect();
        let from = starts.len().saturating_sub(self.pinyin_longest);
        starts.get(from..)?.iter().copied().find(|&s| {
            let (view, _) = crate::pinyin::pinyin_view(norm.get(s..).unwrap_or_default());
            if view.is_empty() {
                return false;
            }
            let k = self
                .pinyin_sorted
                .partition_point(|p| p.as_str() < view.as_str());
            self.pinyin_sorted
                .get(k)
                .is_some_and(|p| p.starts_with(view.as_str()))
        })
    }

    /// The library.
    pub fn library(&self) -> &Library {
        &self.library
    }

    /// Number of distinct compiled patterns.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// The keywords (indexes into the library) whose forms by pronunciation were cut: more than
    /// [`MAX_READINGS`] combinations of heteronym readings, or more than [`MAX_INITIALS_FORMS`]
    /// initials forms. Such a keyword keeps the first forms (default readings first; all
    /// initials, then one, two, … syllables as initials) and misses the rest.
    pub fn capped(&self) -> &[usize] {
        &self.capped
    }

    /// Find keywords in `original`, whose normalized form is `norm`.
    pub fn find(&self, original: &str, norm: &Normalized) -> Vec<KeywordMatch> {
        self.find_raw(original, norm)
            .into_iter()
            .map(|m| KeywordMatch {
                span: m.span,
                matched: original[m.span.start..m.span.end].to_owned(),
                normalized: self.group_info(m.group).normalized.to_string(),
                keywords: self.group(m.group).to_vec(),
            })
            .collect()
    }

    /// The library keywords (indexes) behind a match's group.
    pub(crate) fn group(&self, group: Group) -> &[usize] {
        match group {
            Group::Pattern(i) => &self.groups[i],
            Group::Pinyin(i) => &self.pinyin_groups[i],
        }
        .as_slice()
    }

    /// What the findings of a match's group share.
    pub(crate) fn group_info(&self, group: Group) -> &GroupInfo {
        match group {
            Group::Pattern(i) => &self.pattern_info[i],
            Group::Pinyin(i) => &self.pinyin_info[i],
        }
    }

    /// [`KeywordMatcher::find`] without building the matched text and the keyword list.
    pub(crate) fn find_raw(&self, original: &str, norm: &Normalized) -> Vec<RawMatch> {
        self.find_raw_into(original, norm, Vec::new())
    }

    /// [`KeywordMatcher::find_raw`] into `out` (emptied first; its capacity is reused).
    pub(crate) fn find_raw_into(
        &self,
        original: &str,
        norm: &Normalized,
        mut out: Vec<RawMatch>,
    ) -> Vec<RawMatch> {
        out.clear();
        let mut allowed: Vec<(usize, usize)> = match &self.allow {
            Some(a) => a
                .find_overlapping_iter(&norm.text)
                .map(|m| (m.start(), m.end()))
                .collect(),
            None => Vec::new(),
        };
        // Allow-list spans by start; as leftmost matches come in increasing start order, the
        // widest reach of the spans that start at or before a match tells whether one holds it.
        allowed.sort_unstable();
        let (mut next_allowed, mut reach) = (0, 0);
        if let Some(matcher) = &self.normalized {
            let mut hint = 0;
            matcher.for_each(&norm.text, |s, e, value| {
                let (pattern, flags) = ((value >> 2) as usize, value);
                if flags & EDGE_START != 0 && is_word_char(norm.char_before(s)) {
                    return;
                }
                if flags & EDGE_END != 0 && is_word_char(norm.char_at(e)) {
                    return;
                }
                while let Some(&(a, b)) = allowed.get(next_allowed)
                    && a <= s
                {
                    reach = reach.max(b);
                    next_allowed += 1;
                }
                if e <= reach {
                    return;
                }
                let Some((os, oe)) = norm.original_span_from(s, e, &mut hint) else {
                    return;
                };
                out.push(RawMatch {
                    span: Span::new(os, oe),
                    group: Group::Pattern(pattern),
                });
            });
        }
        if let Some(ac) = &self.exact {
            for m in ac.leftmost_find_iter(original) {
                out.push(RawMatch {
                    span: Span::new(m.start(), m.end()),
                    group: Group::Pattern(m.value() as usize),
                });
            }
        }
        if let Some(ac) = &self.pinyin {
            let (view, map) = pinyin_view(&norm.text);
            for m in ac.leftmost_find_iter(&view) {
                let (vs, ve) = (m.start(), m.end());
                // Whole characters only: the match starts where a character's reading starts and
                // ends where one ends.
                let (Some(&(ns, _)), Some(&(_, ne))) = (map.get(vs), map.get(ve - 1)) else {
                    continue;
                };
                let starts_char = vs == 0 || map[vs - 1] != map[vs];
                let ends_char = ve == map.len() || map[ve] != map[ve - 1];
                if !starts_char || !ends_char {
                    continue;
                }
                // Latin letters on either side would make it part of a word (`xdubox`).
                if is_word_char(norm.char_before(ns)) || is_word_char(norm.char_at(ne)) {
                    continue;
                }
                let span = norm.original_span(ns, ne);
                if span.is_some_and(|(os, oe)| {
                    out.iter()
                        .any(|k: &RawMatch| k.span.start <= os && oe <= k.span.end)
                }) {
                    continue;
                }
                if allowed.iter().any(|(a, b)| *a <= ns && ne <= *b) {
                    continue;
                }
                let Some((os, oe)) = span else {
                    continue;
                };
                out.push(RawMatch {
                    span: Span::new(os, oe),
                    group: Group::Pinyin(m.value() as usize),
                });
            }
        }
        // Initials (`db`, `d博`), where no other match already covers the span.
        if let Some(im) = &self.initials {
            let before = out.len();
            for (ns, ne, group) in im.find(norm) {
                let Some((os, oe)) = norm.original_span(ns, ne) else {
                    continue;
                };
                let covered = out[..before]
                    .iter()
                    .any(|k| k.span.start <= os && oe <= k.span.end);
                if covered || allowed.iter().any(|(a, b)| *a <= ns && ne <= *b) {
                    continue;
                }
                out.push(RawMatch {
                    span: Span::new(os, oe),
                    group: Group::Pinyin(group),
                });
            }
        }
        out.sort_by_key(|m| (m.span.start, m.span.end));
        out
    }
}

/// The keywords behind a match: a compiled pattern's or a pinyin form's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// Index of a normalized or exact pattern.
    Pattern(usize),
    /// Index of a pinyin form.
    Pinyin(usize),
}

/// A keyword match before its matched text and keyword list are built.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawMatch {
    /// Span in the original text.
    pub(crate) span: Span,
    /// The keywords behind it (and the normalized form that matched: the group's).
    pub(crate) group: Group,
}

/// The built-in starter library (TSV), curated from licence-compatible public lists; see
/// `data/keywords/README.md`. Far below the standard's 10,000 keywords: `keywords check` says so.
pub const STARTER_LIBRARY: &str = include_str!("../data/keywords/starter.tsv");

const STARTER_ALLOW: &str = include_str!("../data/keywords/allow.tsv");

/// The built-in allow list: benign phrases that contain a starter keyword.
pub fn starter_allow_list() -> Vec<String> {
    STARTER_ALLOW
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &str = "# name: test\n# version: 1\n# updated: 2026-11-25\nkeyword\trisk_ids\tseverity\tsource\n赌博\tA.1.h\thigh\tanquan\n賭博\tA.1.h\thigh\tanquan\nfuck\tA.1.f\tlow\tanquan\n坏词\tX.1\tlow\tx\n";

    #[test]
    fn parses_header_keywords_and_problems() {
        let (lib, problems) = Library::parse_tsv(LIB);
        assert_eq!(
            (
                lib.name.as_str(),
                lib.version.as_str(),
                lib.updated.as_deref()
            ),
            ("test", "1", Some("2026-11-25"))
        );
        assert_eq!(lib.keywords.len(), 3);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 8);
        assert!(
            problems[0].message.contains("invalid risk id `X.1`"),
            "{problems:?}"
        );
    }

    #[test]
    fn matches_through_evasions_with_original_spans_and_boundaries() {
        let catalog = anquan_catalog::Catalog::load(None).unwrap();
        let n = Normalizer::full(catalog.radical_folder());
        let (lib, _) = Library::parse_tsv(LIB);
        let m = KeywordMatcher::new(lib, &["打击赌博".to_owned()], &n);
        assert_eq!(m.pattern_count(), 2, "赌博 and 賭博 share one pattern");
        let text = "他说賭*博不好，F.U.C.K，但 fuckwit 不算，打击赌博是好事。";
        let norm = n.normalize(text);
        let found = m.find(text, &norm);
        let matched: Vec<&str> = found.iter().map(|f| f.matched.as_str()).collect();
        assert_eq!(matched, ["賭*博", "F.U.C.K"]);
        assert_eq!(found[0].keywords, [0, 1]);
        assert_eq!(&text[found[0].span.start..found[0].span.end], "賭*博");
    }
}

#[cfg(test)]
mod boundary_tests {
    use super::*;

    #[test]
    fn mixed_script_terms_may_touch_latin_letters() {
        let catalog = anquan_catalog::Catalog::load(None).unwrap();
        let n = Normalizer::full(catalog.radical_folder());
        let (lib, _) = Library::parse_tsv(
            "keyword\trisk_ids\tseverity\tsource\nk粉\tA.1.h\thigh\tt\nporn\tA.1.f\tlow\tt\n",
        );
        let m = KeywordMatcher::new(lib, &[], &n);
        let text = "xk粉y pornography";
        let found: Vec<String> = m
            .find(text, &n.normalize(text))
            .into_iter()
            .map(|f| f.matched)
            .collect();
        assert_eq!(found, ["k粉"], "the Latin term keeps its word boundary");
    }
}

#[cfg(test)]
mod pinyin_tests {
    use super::*;

    #[test]
    fn pinyin_mode_matches_pinyin_and_homophones() {
        let catalog = anquan_catalog::Catalog::load(None).unwrap();
        let n = Normalizer::full(catalog.radical_folder());
        let (lib, problems) = Library::parse_tsv(
            "keyword\trisk_ids\tseverity\tsource\tmode\n赌博\tA.1.h\thigh\tt\tpinyin\n冰毒\tA.1.h\thigh\tt\tnormalized\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let m = KeywordMatcher::new(lib, &[], &n);
        let text = "想去DuBo一下，读博也行，赌博最差；bingdu不在拼音模式；xduboy不算。";
        let found: Vec<String> = m
            .find(text, &n.normalize(text))
            .into_iter()
            .map(|f| f.matched)
            .collect();
        assert_eq!(found, ["DuBo", "读博", "赌博"]);
    }

    #[test]
    fn pinyin_mode_reads_u_umlaut_as_v_u_or_u_umlaut() {
        let catalog = anquan_catalog::Catalog::load(None).unwrap();
        let n = Normalizer::full(catalog.radical_folder());
        let (lib, _) = Library::parse_tsv(
            "keyword\trisk_ids\tseverity\tsource\tmode\n虐杀\tA.1.d\thigh\tt\tpinyin\n",
        );
        let m = KeywordMatcher::new(lib, &[], &n);
        for text in [
            "视频里有nvesha镜头",
            "视频里有nuesha镜头",
            "视频里有nüesha镜头",
            "虐杀",
        ] {
            let found = m.find(text, &n.normalize(text));
            assert_eq!(found.len(), 1, "{text}");
        }
    }
}
