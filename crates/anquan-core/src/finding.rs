use serde::{Deserialize, Serialize};

use crate::{ClauseId, RiskId};

/// A byte range in the ORIGINAL text a detector looked at (never in a normalized copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First byte, inclusive.
    pub start: usize,
    /// Last byte, exclusive.
    pub end: usize,
}

impl Span {
    /// A span from `start` (inclusive) to `end` (exclusive). Swapped bounds are put in order.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start.min(end),
            end: start.max(end),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The covered slice of `text`, or `None` when the span is out of bounds or splits a
    /// character.
    pub fn slice<'a>(&self, text: &'a str) -> Option<&'a str> {
        text.get(self.start..self.end)
    }
}

/// One thing a detector found, with the ids it is evidence for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `detector_id@version`, e.g. `keyword@1`.
    pub detector: String,
    /// Risks the finding is evidence of.
    pub risk_ids: Vec<RiskId>,
    /// Where in the original text.
    pub span: Span,
    /// The original text of the span.
    pub matched: String,
    /// Confidence in `0.0..=1.0`.
    pub confidence: f32,
}

/// The three outcomes of a judge. `Unsure` is a real outcome and is never coerced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    /// Nothing unsafe found.
    Safe,
    /// Unsafe content found.
    Unsafe,
    /// The judge could not decide.
    Unsure,
}

/// A judge's decision on one piece of content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The decision.
    pub kind: VerdictKind,
    /// Risks behind an unsafe verdict.
    pub risk_ids: Vec<RiskId>,
    /// `judge_id@version`.
    pub judge: String,
    /// Confidence in `0.0..=1.0`.
    pub confidence: f32,
    /// The findings the decision rests on.
    pub evidence: Vec<Finding>,
}

/// What a result is evidence for: the clause it bears on, the risks and the item that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The clause this evidence supports or contradicts.
    pub clause: ClauseId,
    /// Risks concerned.
    pub risk_ids: Vec<RiskId>,
    /// A bank item, file or record id, when there is one.
    pub item: Option<String>,
    /// A short human-readable statement of what was observed.
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_slices_original_text() {
        let text = "违法内容abc";
        let span = Span::new(6, 0);
        assert_eq!(span, Span { start: 0, end: 6 });
        assert_eq!(span.slice(text), Some("违法"));
        assert_eq!(Span::new(1, 3).slice(text), None, "splits a character");
        assert_eq!(span.len(), 6);
        assert!(!span.is_empty());
    }
}
