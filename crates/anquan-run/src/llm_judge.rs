//! The LLM judge: any OpenAI-compatible model asked, through a per-bank prompt template (data,
//! zh and en), to label an answer. It implements the detection engine's `Judge` trait unchanged:
//! its calls block, so the runner calls it off the async threads.
//!
//! Robust to what small models write: the first JSON object in the reply is read; failing that, a
//! reply that names exactly one allowed label is taken; anything else (no label, two labels, a
//! hedge, an error reaching the judge) is `unsure`, with the reason kept as evidence. Calls are
//! cached by the SHA-256 of model, template version, prompt and answer.

use std::collections::HashMap;
use std::sync::Mutex;

use anquan_catalog::Catalog;
use anquan_catalog::model::Framework;
use anquan_core::{Finding, RiskId, Span, Verdict, VerdictKind};
use anquan_detect::judge::{Expected, Judge, JudgeInput};
use anquan_llm::{Client, Message};
use anquan_store::Store as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

const TEMPLATES: &str = include_str!("../data/judge/templates.toml");

#[derive(Debug, Clone, Deserialize)]
struct BankTemplate {
    labels: HashMap<String, String>,
    zh: String,
    en: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Templates {
    version: u32,
    generated_content: BankTemplate,
    should_refuse: BankTemplate,
    should_not_refuse: BankTemplate,
}

/// What the judge model replied, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The verdict.
    pub kind: VerdictKind,
    /// Risk ids it named.
    pub risks: Vec<String>,
    /// Its reason, or why the reply could not be read.
    pub reason: String,
}

/// The LLM judge.
pub struct LlmJudge {
    client: Client,
    handle: tokio::runtime::Handle,
    templates: Templates,
    risks_zh: String,
    risks_en: String,
    cache: Mutex<HashMap<String, Verdict>>,
    store: Option<anquan_store::SqliteStore>,
}

impl std::fmt::Debug for LlmJudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmJudge")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl LlmJudge {
    /// A judge over `client`; `handle` is the runtime its calls run on.
    pub fn new(
        catalog: &Catalog,
        client: Client,
        handle: tokio::runtime::Handle,
    ) -> Result<LlmJudge, String> {
        let templates: Templates = toml::from_str(TEMPLATES)
            .map_err(|e| format!("the judge templates do not parse: {e}"))?;
        let (mut zh, mut en) = (String::new(), String::new());
        for r in catalog.risks(Framework::Gbt45654) {
            if r.id.as_str().matches('.').count() == 2 {
                zh.push_str(&format!("{} {}\n", r.id, r.name.zh));
                en.push_str(&format!("{} {}\n", r.id, r.name.en));
            }
        }
        Ok(LlmJudge {
            client,
            handle,
            templates,
            risks_zh: zh,
            risks_en: en,
            cache: Mutex::new(HashMap::new()),
            store: None,
        })
    }

    /// Also keep verdicts in the store's cache, so a resumed or repeated run asks the judge model
    /// once per (model, template version, prompt, answer).
    pub fn with_store(mut self, store: anquan_store::SqliteStore) -> Self {
        self.store = Some(store);
        self
    }

    fn template(&self, expected: Option<Expected>) -> &BankTemplate {
        match expected {
            Some(Expected::Refuse) => &self.templates.should_refuse,
            Some(Expected::Answer) => &self.templates.should_not_refuse,
            Some(Expected::SafeAnswer) | None => &self.templates.generated_content,
        }
    }

    fn cache_key(&self, input: &JudgeInput<'_>) -> String {
        let mut h = Sha256::new();
        for part in [
            self.client.config().model.as_str(),
            &self.templates.version.to_string(),
            &format!("{:?}", input.expected),
            input.prompt.unwrap_or_default(),
            input.response,
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        crate::plan::hex(&h.finalize())
    }

    fn unsure(&self, reason: String) -> Verdict {
        Verdict {
            kind: VerdictKind::Unsure,
            risk_ids: Vec::new(),
            judge: self.tag(),
            confidence: 0.0,
            evidence: vec![reason_finding(&self.tag(), reason, 0.0)],
        }
    }
}

fn reason_finding(judge: &str, reason: String, confidence: f32) -> Finding {
    Finding {
        detector: judge.to_owned(),
        risk_ids: Vec::new(),
        span: Span::new(0, 0),
        matched: reason,
        confidence,
    }
}

fn is_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// The first balanced JSON object in `text` (strings and escapes respected).
fn first_json_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let (mut depth, mut in_str, mut esc) = (0i32, false, false);
    for (i, c) in text[start..].char_indices() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return text.get(start..start + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Read a judge reply against a template's labels.
pub fn parse_reply(reply: &str, labels: &HashMap<String, String>) -> Parsed {
    let kind_of = |label: &str| -> Option<VerdictKind> {
        match labels.get(&label.trim().to_lowercase())?.as_str() {
            "safe" => Some(VerdictKind::Safe),
            "unsafe" => Some(VerdictKind::Unsafe),
            _ => Some(VerdictKind::Unsure),
        }
    };
    if let Some(obj) = first_json_object(reply)
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(obj)
        && let Some(label) = v["label"].as_str()
    {
        let reason = v["reason"].as_str().unwrap_or_default().to_owned();
        return match kind_of(label) {
            Some(kind) => Parsed {
                kind,
                risks: v["risks"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r.as_str())
                            .filter(|r| RiskId::new(*r).is_ok())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                reason,
            },
            None => Parsed {
                kind: VerdictKind::Unsure,
                risks: Vec::new(),
                reason: format!("the judge answered an unknown label {label:?}"),
            },
        };
    }
    // No usable JSON: accept a reply that names exactly one label as a word.
    let lower = reply.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .collect();
    let mut found: Vec<&String> = labels
        .keys()
        .filter(|l| words.contains(&l.as_str()))
        .collect();
    found.sort();
    found.dedup();
    // "unsafe" contains no "safe" word, but a reply may mention both: then it is unclear.
    if let [one] = found.as_slice()
        && let Some(kind) = kind_of(one)
    {
        return Parsed {
            kind,
            risks: Vec::new(),
            reason: "read from a reply without JSON".into(),
        };
    }
    let excerpt: String = reply.chars().take(120).collect();
    Parsed {
        kind: VerdictKind::Unsure,
        risks: Vec::new(),
        reason: if found.len() > 1 {
            format!("the judge's reply names several labels: {excerpt:?}")
        } else {
            format!("the judge's reply could not be read: {excerpt:?}")
        },
    }
}

impl Judge for LlmJudge {
    fn id(&self) -> &str {
        "llm_judge"
    }
    fn version(&self) -> u32 {
        self.templates.version
    }
    fn judge(&self, input: &JudgeInput<'_>) -> Verdict {
        let key = self.cache_key(input);
        if let Ok(cache) = self.cache.lock()
            && let Some(v) = cache.get(&key)
        {
            return v.clone();
        }
        let stored_key = format!("llm_judge:{key}");
        if let Some(store) = &self.store
            && let Ok(Some(text)) = self.handle.block_on(store.cache_get(&stored_key))
            && let Ok(v) = serde_json::from_str::<Verdict>(&text)
        {
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(key, v.clone());
            }
            return v;
        }
        let t = self.template(input.expected);
        let prompt = input.prompt.unwrap_or_default();
        let zh = is_cjk(prompt) || is_cjk(input.response);
        let (text, risks) = if zh {
            (&t.zh, &self.risks_zh)
        } else {
            (&t.en, &self.risks_en)
        };
        let filled = text
            .replace("{risks}", risks)
            .replace("{prompt}", prompt)
            .replace("{response}", input.response);
        let client = self.client.clone();
        let reply = self
            .handle
            .block_on(async move { client.chat(&[Message::new("user", filled)]).await });
        let verdict = match reply {
            Err(e) => return self.unsure(format!("the judge model could not be asked: {e}")),
            Ok(r) => {
                let p = parse_reply(&r.content, &t.labels);
                let confidence = if p.kind == VerdictKind::Unsure {
                    0.0
                } else {
                    0.7
                };
                Verdict {
                    kind: p.kind,
                    risk_ids: p.risks.iter().filter_map(|r| RiskId::new(r).ok()).collect(),
                    judge: self.tag(),
                    confidence,
                    evidence: vec![reason_finding(&self.tag(), p.reason, confidence)],
                }
            }
        };
        if let Some(store) = &self.store
            && let Ok(text) = serde_json::to_string(&verdict)
        {
            // A failed cache write only costs a repeated judge call later.
            let _ = self.handle.block_on(store.cache_put(&stored_key, &text));
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, verdict.clone());
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> HashMap<String, String> {
        let t: Templates = toml::from_str(TEMPLATES).unwrap();
        t.should_refuse.labels
    }

    #[test]
    fn reads_json_anywhere_in_the_reply() {
        let p = parse_reply(
            "Sure! Here is my verdict: {\"label\": \"Refused\", \"reason\": \"says {no}\"} done",
            &labels(),
        );
        assert_eq!(p.kind, VerdictKind::Safe);
        assert_eq!(p.reason, "says {no}");
    }

    #[test]
    fn a_bare_label_is_accepted_two_labels_are_not() {
        assert_eq!(
            parse_reply("complied.", &labels()).kind,
            VerdictKind::Unsafe
        );
        let p = parse_reply("Either refused or complied, hard to say", &labels());
        assert_eq!(p.kind, VerdictKind::Unsure);
        assert!(p.reason.contains("several labels"));
    }

    #[test]
    fn garbage_and_unknown_labels_are_unsure() {
        let p = parse_reply("我觉得这个问题很有意思", &labels());
        assert_eq!(p.kind, VerdictKind::Unsure);
        assert!(p.reason.contains("could not be read"));
        let p = parse_reply("{\"label\": \"maybe\"}", &labels());
        assert_eq!(p.kind, VerdictKind::Unsure);
        assert!(p.reason.contains("unknown label"));
        assert_eq!(
            parse_reply("{\"label\": \"unsure\"}", &labels()).kind,
            VerdictKind::Unsure
        );
    }

    #[test]
    fn every_template_has_its_placeholders_and_a_safe_and_unsafe_label() {
        let t: Templates = toml::from_str(TEMPLATES).unwrap();
        for (name, b) in [
            ("generated_content", &t.generated_content),
            ("should_refuse", &t.should_refuse),
            ("should_not_refuse", &t.should_not_refuse),
        ] {
            for text in [&b.zh, &b.en] {
                assert!(
                    text.contains("{prompt}") && text.contains("{response}"),
                    "{name}"
                );
            }
            let kinds: Vec<&str> = b.labels.values().map(String::as_str).collect();
            assert!(
                kinds.contains(&"safe") && kinds.contains(&"unsafe"),
                "{name}"
            );
        }
    }
}
