//! Incremental inspection of a streamed answer over a sliding window.
//!
//! The text of the answer arrives in small deltas. The inspector keeps the text it has not shown
//! yet (`pending`) and a little of what it has shown (`tail`, context for findings that straddle
//! the two), runs the detection engine over `tail + pending` on every delta, and releases only the
//! part of `pending` that can no longer become part of a finding. What it holds back:
//!
//! - the longest end of the text that is the start of a library keyword (normalized, as the
//!   matcher sees it: `赌` is held after `…去`, because `赌博` may follow), at most the longest
//!   keyword;
//! - for keywords matched by pronunciation (`pinyin` mode), the longest end of the text whose
//!   reading starts a keyword's reading (`堵` may become `堵搏`, read `dubo`, for 赌博);
//! - the trailing run of characters that can belong to personal information (digits, Latin
//!   letters, `@._-+:()`, full-width forms, a space between digits), at most [`PII_HOLD_CAP`]
//!   characters;
//! - any finding that ends exactly at the end of the text (one more character may change it:
//!   `1381234567` + `8` is a mobile number, `ass` + `ist` is not a keyword);
//! - or, when the policy sets `hold-back-chars`, a fixed number of characters instead.
//!
//! So a keyword or an ID number split across chunks is caught before any of it reaches the client,
//! and ordinary text is released as soon as no keyword or number can be forming at its end, which
//! keeps the added time to first token small. A violation ends the stream (the caller sends a
//! safe replacement and `finish_reason: "content_filter"`); PII may instead be masked in place.

use std::collections::HashSet;
use std::sync::Arc;

use anquan_detect::keywords::{MatchMode, Severity};
use anquan_detect::{Detection, Engine};

use crate::config::Action;

/// Most characters held back for a possible piece of personal information (an IPv6 address is
/// 39, a bank card with separators 23).
pub const PII_HOLD_CAP: usize = 40;

/// What the hold-back needs to know about a keyword library, built once per policy.
#[derive(Debug, Default)]
pub struct HoldBack {
    /// Normalized (and exact) patterns, sorted, for prefix look-ups.
    patterns: Vec<String>,
    /// The first characters of the patterns, and their first two: a text that does not start
    /// with one cannot start a pattern, which spares most look-ups in `patterns` (a library of
    /// 100k keywords with phrases of 200 characters holds back 200 characters).
    firsts: HashSet<char>,
    pairs: HashSet<(char, char)>,
    /// Longest pattern in characters.
    longest: usize,
    /// Fixed hold-back in characters, when configured.
    fixed: Option<usize>,
}

impl HoldBack {
    /// From the engine's keyword library; `fixed` overrides the adaptive hold-back.
    pub fn new(engine: &Engine, fixed: Option<usize>) -> HoldBack {
        let mut patterns: Vec<String> = Vec::new();
        if let Some(m) = engine.keywords() {
            for k in &m.library().keywords {
                let form = match k.mode {
                    MatchMode::Exact => k.term.clone(),
                    MatchMode::Normalized | MatchMode::Pinyin => {
                        engine.normalizer().normalize_str(&k.term)
                    }
                };
                if !form.is_empty() {
                    patterns.push(form);
                }
            }
        }
        patterns.sort_unstable();
        patterns.dedup();
        let firsts = patterns.iter().filter_map(|p| p.chars().next()).collect();
        let pairs = patterns
            .iter()
            .filter_map(|p| {
                let mut c = p.chars();
                Some((c.next()?, c.next()?))
            })
            .collect();
        let longest = patterns
            .iter()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(0);
        HoldBack {
            patterns,
            firsts,
            pairs,
            longest,
            fixed,
        }
    }

    /// The longest keyword, in characters.
    pub fn longest_keyword(&self) -> usize {
        self.longest
    }

    /// The largest hold-back this policy can need, in characters.
    pub fn max_chars(&self) -> usize {
        self.fixed.unwrap_or(self.longest.max(PII_HOLD_CAP))
    }

    fn is_pattern_prefix(&self, s: &str) -> bool {
        let mut chars = s.chars();
        let possible = match (chars.next(), chars.next()) {
            (Some(a), Some(b)) => self.pairs.contains(&(a, b)),
            (Some(a), None) => self.firsts.contains(&a),
            (None, _) => true,
        };
        if !possible {
            return false;
        }
        let i = self.patterns.partition_point(|p| p.as_str() < s);
        self.patterns.get(i).is_some_and(|p| p.starts_with(s))
    }
}

fn pii_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '@' | '.' | '_' | '-' | '+' | ':' | '(' | ')')
        || matches!(c as u32, 0xFF01..=0xFF5E)
}

/// Byte offset in `text` from which the tail must be held back (`text.len()` for none).
fn hold_from(engine: &Engine, hb: &HoldBack, text: &str) -> usize {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    if let Some(n) = hb.fixed {
        let keep = chars.len().saturating_sub(n);
        return chars.get(keep).map_or(text.len(), |(i, _)| *i);
    }
    let mut from = text.len();
    // Personal information forming at the end.
    let mut k = chars.len();
    let mut taken = 0;
    while k > 0 && taken < PII_HOLD_CAP {
        let Some(&(_, c)) = chars.get(k - 1) else {
            break;
        };
        let between_digits = matches!(c, ' ' | '-')
            && k >= 2
            && chars.get(k - 2).is_some_and(|(_, l)| l.is_ascii_digit())
            && chars.get(k).is_some_and(|(_, r)| r.is_ascii_digit());
        if !pii_char(c) && !between_digits {
            break;
        }
        k -= 1;
        taken += 1;
    }
    if let Some(&(i, _)) = chars.get(k) {
        from = from.min(i);
    }
    // A keyword forming at the end: the longest end of the normalized text that starts a
    // pattern, mapped back to the original text.
    if hb.longest > 0 {
        let norm = engine.normalizer().normalize(text);
        let nchars: Vec<usize> = norm.text.char_indices().map(|(i, _)| i).collect();
        let span = (hb.longest + 1).min(nchars.len());
        for &ns in nchars.iter().skip(nchars.len() - span) {
            let suffix = norm.text.get(ns..).unwrap_or_default();
            if hb.is_pattern_prefix(suffix) {
                if let Some((os, _)) = norm.original_span(ns, norm.text.len()) {
                    from = from.min(os);
                }
                break;
            }
        }
        // A keyword by pronunciation forming at the end (堵 may become 堵搏 for 赌博).
        if let Some(ns) = engine
            .keywords()
            .and_then(|m| m.pinyin_forming_at(&norm.text))
            && let Some((os, _)) = norm.original_span(ns, norm.text.len())
        {
            from = from.min(os);
        }
    }
    from
}

/// Settings of one inspector, from the policy.
#[derive(Debug, Clone, Copy)]
pub struct InspectorSettings {
    /// Lowest keyword severity that counts.
    pub min_severity: Severity,
    /// Action on keywords.
    pub keywords: Action,
    /// Action on PII.
    pub pii: Action,
}

/// The result of feeding text.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Show this text (possibly empty) and go on.
    Emit(String),
    /// A violation: show nothing more; end the stream with a replacement. Carries the findings.
    Stop(Vec<Detection>),
}

/// The sliding-window inspector of one answer. See the [module docs](self).
#[derive(Debug)]
pub struct StreamInspector {
    engine: Arc<Engine>,
    hold: Arc<HoldBack>,
    settings: InspectorSettings,
    tail: String,
    pending: String,
    /// Findings acted on (masked or annotated) so far, for the audit record.
    findings: Vec<Detection>,
    stopped: bool,
    /// Everything shown, as the model wrote it (for hashes and the audit record).
    shown_raw: String,
}

impl StreamInspector {
    /// A new inspector.
    pub fn new(
        engine: Arc<Engine>,
        hold: Arc<HoldBack>,
        settings: InspectorSettings,
    ) -> StreamInspector {
        StreamInspector {
            engine,
            hold,
            settings,
            tail: String::new(),
            pending: String::new(),
            findings: Vec::new(),
            stopped: false,
            shown_raw: String::new(),
        }
    }

    /// Feed a delta of the answer.
    pub fn push(&mut self, delta: &str) -> Step {
        if self.stopped {
            return Step::Stop(Vec::new());
        }
        self.pending.push_str(delta);
        self.step(false)
    }

    /// The end of the answer: checks and releases everything held back.
    pub fn finish(&mut self) -> Step {
        if self.stopped {
            return Step::Stop(Vec::new());
        }
        self.step(true)
    }

    /// Findings masked or annotated so far (violations come with [`Step::Stop`]).
    pub fn findings(&self) -> &[Detection] {
        &self.findings
    }

    /// Text held back right now, in characters.
    pub fn held_chars(&self) -> usize {
        self.pending.chars().count()
    }

    /// The answer as the model wrote it, as far as it was shown.
    pub fn shown_raw(&self) -> &str {
        &self.shown_raw
    }

    fn counts(&self, d: &Detection) -> Action {
        if d.pii.is_some() {
            self.settings.pii
        } else if d.severity >= self.settings.min_severity {
            self.settings.keywords
        } else {
            Action::Pass
        }
    }

    fn step(&mut self, eos: bool) -> Step {
        let tail_len = self.tail.len();
        let window = format!("{}{}", self.tail, self.pending);
        let found = self.engine.scan(&window);
        let mut cut = if eos {
            window.len()
        } else {
            hold_from(&self.engine, &self.hold, &window).max(tail_len)
        };
        let mut stop: Vec<Detection> = Vec::new();
        let mut act: Vec<(Detection, Action)> = Vec::new();
        for d in found {
            if d.span.end <= tail_len {
                continue;
            }
            let action = self.counts(&d);
            if action == Action::Pass {
                continue;
            }
            let complete = eos || d.span.end < window.len();
            if !complete {
                cut = cut.min(d.span.start.max(tail_len));
                continue;
            }
            match action {
                Action::Block => stop.push(d),
                _ => act.push((d, action)),
            }
        }
        if !stop.is_empty() {
            self.stopped = true;
            self.pending.clear();
            return Step::Stop(stop);
        }
        // Never cut through a finding being masked.
        for (d, _) in &act {
            if d.span.start < cut && d.span.end > cut {
                cut = d.span.end;
            }
        }
        let raw = window.get(tail_len..cut).unwrap_or_default().to_owned();
        let mut shown = String::with_capacity(raw.len());
        let mut at = tail_len;
        for (d, action) in act {
            if d.span.start >= cut {
                continue;
            }
            if action == Action::Mask && d.span.start >= at {
                shown.push_str(window.get(at..d.span.start).unwrap_or_default());
                shown.push_str(d.masked.as_deref().unwrap_or("***"));
                at = d.span.end;
            }
            self.findings.push(d);
        }
        shown.push_str(window.get(at..cut).unwrap_or_default());
        self.shown_raw.push_str(&raw);
        self.pending = window.get(cut..).unwrap_or_default().to_owned();
        self.tail = self.trim_tail(window.get(..cut).unwrap_or_default());
        Step::Emit(shown)
    }

    /// The last part of `shown` kept as context: twice the largest hold-back, extended back so it
    /// never starts inside a run of letters and digits (a number cut in half would look like a
    /// shorter number).
    fn trim_tail(&self, shown: &str) -> String {
        let keep = self.hold.max_chars() * 2 + 8;
        let chars: Vec<(usize, char)> = shown.char_indices().collect();
        let mut k = chars.len().saturating_sub(keep);
        let limit = k.saturating_sub(256);
        while k > limit
            && k > 0
            && chars.get(k).is_some_and(|(_, c)| c.is_ascii_alphanumeric())
            && chars
                .get(k - 1)
                .is_some_and(|(_, c)| c.is_ascii_alphanumeric())
        {
            k -= 1;
        }
        chars
            .get(k)
            .and_then(|(i, _)| shown.get(*i..))
            .unwrap_or_default()
            .to_owned()
    }
}

/// Check a whole (non-streamed) answer: `Ok(shown text, findings acted on)` or `Err(violations)`.
pub fn check_whole(
    engine: Arc<Engine>,
    hold: Arc<HoldBack>,
    settings: InspectorSettings,
    text: &str,
) -> Result<(String, Vec<Detection>), Vec<Detection>> {
    let mut insp = StreamInspector::new(engine, hold, settings);
    insp.pending.push_str(text);
    match insp.step(true) {
        Step::Emit(s) => Ok((s, insp.findings)),
        Step::Stop(v) => Err(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anquan_catalog::Catalog;
    use anquan_detect::keywords::Library;

    const LIB: &str = "# name: t\n# version: 1\nkeyword\trisk_ids\tseverity\tsource\n赌博网站\tA.1.h\thigh\tt\nbananaphone\tA.1.h\thigh\tt\n";

    fn inspector(pii: Action, fixed: Option<usize>) -> StreamInspector {
        let catalog = Catalog::load(None).unwrap();
        let (lib, problems) = Library::parse_tsv(LIB);
        assert!(problems.is_empty(), "{problems:?}");
        let engine = Arc::new(Engine::new(&catalog, Some(lib), &[], true));
        let hold = Arc::new(HoldBack::new(&engine, fixed));
        StreamInspector::new(
            engine,
            hold,
            InspectorSettings {
                min_severity: Severity::Medium,
                keywords: Action::Block,
                pii,
            },
        )
    }

    fn run(insp: &mut StreamInspector, pieces: &[&str]) -> (String, bool) {
        let mut shown = String::new();
        for p in pieces {
            match insp.push(p) {
                Step::Emit(s) => shown.push_str(&s),
                Step::Stop(_) => return (shown, true),
            }
        }
        match insp.finish() {
            Step::Emit(s) => shown.push_str(&s),
            Step::Stop(_) => return (shown, true),
        }
        (shown, false)
    }

    #[test]
    fn keyword_split_at_every_point_never_reaches_the_client() {
        let text = "你好，这里有一个赌博网站的广告，请小心。";
        for cut in 1..text.chars().count() {
            let a: String = text.chars().take(cut).collect();
            let b: String = text.chars().skip(cut).collect();
            let (shown, stopped) = run(&mut inspector(Action::Mask, None), &[&a, &b]);
            assert!(stopped, "cut {cut}");
            assert!(!shown.contains("赌博网站"), "cut {cut}: {shown}");
        }
        // Character by character.
        let pieces: Vec<String> = text.chars().map(String::from).collect();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let (shown, stopped) = run(&mut inspector(Action::Mask, None), &refs);
        assert!(stopped);
        assert_eq!(shown, "你好，这里有一个", "released up to the keyword");
        let pieces = ["The secret word is bana", "napho", "ne, ok"];
        let (shown, stopped) = run(&mut inspector(Action::Mask, None), &pieces);
        assert!(stopped);
        assert!(!shown.contains("bananaphone"), "{shown}");
    }

    #[test]
    fn a_pinyin_keyword_written_as_homophones_is_held_until_it_is_whole() {
        let catalog = Catalog::load(None).unwrap();
        let (lib, problems) = Library::parse_tsv(
            "# name: t\nkeyword\trisk_ids\tseverity\tsource\tmode\n赌博\tA.1.h\thigh\tt\tpinyin\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let engine = Arc::new(Engine::new(&catalog, Some(lib), &[], false));
        let hold = Arc::new(HoldBack::new(&engine, None));
        let settings = InspectorSettings {
            min_severity: Severity::Medium,
            keywords: Action::Block,
            pii: Action::Pass,
        };
        // 堵搏 reads dubo: split after 堵, nothing of it is shown before the stop.
        let mut insp = StreamInspector::new(engine.clone(), hold.clone(), settings);
        let (shown, stopped) = run(&mut insp, &["我们去", "堵", "搏吧"]);
        assert!(stopped);
        assert_eq!(shown, "我们去");
        // 堵 followed by something else is released.
        let mut insp = StreamInspector::new(engine, hold, settings);
        let (shown, stopped) = run(&mut insp, &["我们去", "堵", "车了"]);
        assert!(!stopped);
        assert_eq!(shown, "我们去堵车了");
    }

    #[test]
    fn clean_text_passes_unchanged_and_is_released_early() {
        let text = "今天天气很好，我们去公园散步吧。Hello world, nice day.";
        let pieces: Vec<String> = text.chars().map(String::from).collect();
        let mut insp = inspector(Action::Mask, None);
        let mut shown = String::new();
        let mut max_held = 0;
        for p in &pieces {
            if let Step::Emit(s) = insp.push(p) {
                shown.push_str(&s);
            }
            max_held = max_held.max(insp.held_chars());
        }
        if let Step::Emit(s) = insp.finish() {
            shown.push_str(&s);
        }
        assert_eq!(shown, text);
        assert!(max_held <= 8, "held back {max_held} characters at most");
    }

    #[test]
    fn id_number_split_across_chunks_is_masked_or_blocked() {
        let text = "我的身份证号是11010519491231002X，手机13812345678。";
        let chars: Vec<char> = text.chars().collect();
        for cut in 1..chars.len() {
            let a: String = chars[..cut].iter().collect();
            let b: String = chars[cut..].iter().collect();
            let (shown, stopped) = run(&mut inspector(Action::Mask, None), &[&a, &b]);
            assert!(!stopped);
            assert_eq!(
                shown, "我的身份证号是110105********002X，手机138****5678。",
                "cut {cut}"
            );
            let (shown, stopped) = run(&mut inspector(Action::Block, None), &[&a, &b]);
            assert!(stopped, "cut {cut}");
            assert!(!shown.contains("11010519491231002X"), "cut {cut}: {shown}");
            assert!(!shown.contains("1101"), "no digit of it shown: {shown}");
        }
    }

    #[test]
    fn fixed_hold_back_holds_exactly_that_many() {
        let mut insp = inspector(Action::Mask, Some(5));
        let Step::Emit(s) = insp.push("一二三四五六七八九十") else {
            panic!("no stop expected");
        };
        assert_eq!(s, "一二三四五");
        assert_eq!(insp.held_chars(), 5);
    }

    #[test]
    fn whole_answer_check() {
        let catalog = Catalog::load(None).unwrap();
        let (lib, _) = Library::parse_tsv(LIB);
        let engine = Arc::new(Engine::new(&catalog, Some(lib), &[], true));
        let hold = Arc::new(HoldBack::new(&engine, None));
        let s = InspectorSettings {
            min_severity: Severity::Medium,
            keywords: Action::Block,
            pii: Action::Mask,
        };
        let ok = check_whole(engine.clone(), hold.clone(), s, "电话13812345678").unwrap();
        assert_eq!(ok.0, "电话138****5678");
        assert_eq!(ok.1.len(), 1);
        assert!(check_whole(engine, hold, s, "去赌博网站").is_err());
    }
}
