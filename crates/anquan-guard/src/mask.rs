//! Masking of personal information in the input, and restoring it in the answer.
//!
//! Two modes, chosen per policy: **irreversible** (`138****5678`: the engine's masked value; the
//! upstream never sees the number and the client never gets it back) and **reversible** (typed
//! placeholders such as `[MOBILE_1]`: the upstream sees the placeholder and the [`Restorer`] puts
//! the original back into the answer for the client). The restorer works on a stream: a
//! placeholder split across chunks (`[MOB` + `ILE_1]`) is held back until it is complete, so it is
//! restored as well (a known failure of guardrails that restore chunk by chunk).

use anquan_detect::{Detection, Engine};

/// Placeholders given out for one request and the originals behind them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskMap {
    /// `(placeholder, original)` in the order they were given out.
    pairs: Vec<(String, String)>,
}

impl MaskMap {
    /// Whether no placeholder was given out.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The `(placeholder, original)` pairs.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The placeholder for `original` of kind `kind`, reusing one given to the same value.
    fn placeholder(&mut self, kind: &str, original: &str) -> String {
        if let Some((p, _)) = self.pairs.iter().find(|(_, o)| o == original) {
            return p.clone();
        }
        let n = self
            .pairs
            .iter()
            .filter(|(p, _)| {
                p.strip_prefix('[')
                    .and_then(|r| r.strip_prefix(kind))
                    .is_some_and(|r| r.starts_with('_'))
            })
            .count()
            + 1;
        let p = format!("[{kind}_{n}]");
        self.pairs.push((p.clone(), original.to_owned()));
        p
    }

    /// Longest placeholder, in bytes.
    fn longest(&self) -> usize {
        self.pairs.iter().map(|(p, _)| p.len()).max().unwrap_or(0)
    }

    /// `text` with every placeholder replaced by its original (for whole answers).
    pub fn restore(&self, text: &str) -> String {
        let mut r = Restorer::new(self.clone());
        let mut out = r.push(text);
        out.push_str(&r.finish());
        out
    }
}

/// Mask the PII findings of `text`: typed placeholders recorded in `map` when `reversible`, the
/// engine's masked values otherwise. Returns the new text and the PII findings.
pub fn mask_pii(
    engine: &Engine,
    text: &str,
    reversible: bool,
    map: &mut MaskMap,
) -> (String, Vec<Detection>) {
    let found: Vec<Detection> = engine
        .scan(text)
        .into_iter()
        .filter(|d| d.pii.is_some())
        .collect();
    (apply_pii(text, &found, reversible, map), found)
}

/// Replace the PII findings `found` (spans into `text`, sorted) as [`mask_pii`] does.
pub fn apply_pii(text: &str, found: &[Detection], reversible: bool, map: &mut MaskMap) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for d in found {
        let (Some(kind), Some(before)) = (d.pii, text.get(at..d.span.start)) else {
            continue;
        };
        if d.span.start < at {
            continue;
        }
        out.push_str(before);
        if reversible {
            out.push_str(&map.placeholder(kind.placeholder(), &d.matched));
        } else {
            out.push_str(d.masked.as_deref().unwrap_or("***"));
        }
        at = d.span.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Puts originals back in place of placeholders in a streamed answer, holding back a possible
/// placeholder start until it is complete or cannot be one.
#[derive(Debug, Clone)]
pub struct Restorer {
    map: MaskMap,
    buf: String,
    longest: usize,
}

impl Restorer {
    /// A restorer for the placeholders of `map` (a pass-through when it is empty).
    pub fn new(map: MaskMap) -> Restorer {
        let longest = map.longest();
        Restorer {
            map,
            buf: String::new(),
            longest,
        }
    }

    /// Feed text; returns what can be shown now.
    pub fn push(&mut self, text: &str) -> String {
        if self.map.is_empty() {
            return text.to_owned();
        }
        self.buf.push_str(text);
        let mut out = String::with_capacity(self.buf.len());
        let mut rest: &str = &self.buf;
        loop {
            let Some(open) = rest.find('[') else {
                out.push_str(rest);
                rest = "";
                break;
            };
            let (before, from) = rest.split_at(open);
            out.push_str(before);
            if let Some((p, o)) = self.map.pairs.iter().find(|(p, _)| from.starts_with(p)) {
                out.push_str(o);
                rest = from.get(p.len()..).unwrap_or_default();
                continue;
            }
            let could_be = from.len() < self.longest
                && self.map.pairs.iter().any(|(p, _)| p.starts_with(from));
            if could_be {
                rest = from;
                break;
            }
            out.push('[');
            rest = from.get(1..).unwrap_or_default();
        }
        self.buf = rest.to_owned();
        out
    }

    /// The end of the answer: whatever is held back, as is.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anquan_catalog::Catalog;

    fn engine() -> Engine {
        Engine::new(&Catalog::load(None).unwrap(), None, &[], true)
    }

    #[test]
    fn reversible_placeholders_are_typed_and_reused() {
        let e = engine();
        let mut map = MaskMap::default();
        let (t, found) = mask_pii(&e, "电话13812345678，再说一次13812345678", true, &mut map);
        assert_eq!(t, "电话[MOBILE_1]，再说一次[MOBILE_1]");
        assert_eq!(found.len(), 2);
        let (t2, _) = mask_pii(&e, "another 13912345678", true, &mut map);
        assert_eq!(t2, "another [MOBILE_2]");
        assert_eq!(
            map.restore("[MOBILE_2] and [MOBILE_1]"),
            "13912345678 and 13812345678"
        );
    }

    #[test]
    fn irreversible_masks_like_the_engine() {
        let e = engine();
        let mut map = MaskMap::default();
        let (t, _) = mask_pii(&e, "手机13812345678", false, &mut map);
        assert_eq!(t, "手机138****5678");
        assert!(map.is_empty());
    }

    #[test]
    fn placeholder_split_at_every_byte_is_restored() {
        let mut map = MaskMap::default();
        map.placeholder("MOBILE", "13812345678");
        map.placeholder("EMAIL", "a@b.cn");
        let answer = "号码是[MOBILE_1]，邮箱[EMAIL_1]。[x] [MOB";
        let want = "号码是13812345678，邮箱a@b.cn。[x] [MOB";
        for cut in 0..=answer.len() {
            if !answer.is_char_boundary(cut) {
                continue;
            }
            let mut r = Restorer::new(map.clone());
            let mut got = r.push(&answer[..cut]);
            got.push_str(&r.push(&answer[cut..]));
            got.push_str(&r.finish());
            assert_eq!(got, want, "cut at {cut}");
        }
        // Byte by byte, one character at a time.
        let mut r = Restorer::new(map);
        let mut got = String::new();
        for c in answer.chars() {
            got.push_str(&r.push(&c.to_string()));
        }
        got.push_str(&r.finish());
        assert_eq!(got, want);
    }
}
