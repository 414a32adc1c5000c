//! Attacks: one bank item in, variants out, each keeping its provenance.
//!
//! An attack rewrites an item's request the way an adversary would (an encoding, a Chinese
//! evasion, a jailbreak template, a scripted escalation, a translation, an attacker model's
//! search) and returns [`Variant`]s that carry the parent item id, the attack's `id@version` and
//! the seed, so a trial can always be traced back and redone. Every attack is deterministic for a
//! given seed (a [`SplitMix64`] seeded from the seed, the item id and the attack id), and
//! model-using attacks are deterministic given a deterministic model.
//!
//! The Chinese evasions are the inverse of the detection engine's normalizer and use the same
//! tables (split components, radical look-alikes, confusable letters), so the conformance tests
//! can check that what one side writes the other undoes. Templates, wrappers and attacker prompts
//! are data in `data/attacks/*.toml`, each with its source and licence; `docs/attacks.md` has a
//! section per attack.
//!
//! [`registry`] lists every attack, in one explicit list the conformance tests iterate.

mod encoding;
mod evasion;
mod model;
mod tables;
mod template;

use std::collections::BTreeMap;

use anquan_core::Text;
use serde::{Deserialize, Serialize};

use crate::bank::{Item, Message};
use crate::sample::SplitMix64;

pub use model::{SearchBudget, SearchOutcome, pair_search, parse_candidate};
pub use template::{TEMPLATE_FILES, Template, templates};

/// One attacked form of a bank item, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// `{parent_id}~{attack_id}@{version}#{n}`.
    pub id: String,
    /// The bank item it came from.
    pub parent_id: String,
    /// The attack, as `id@version`.
    pub attack: String,
    /// The seed it was made with.
    pub seed: u64,
    /// Language of the text sent (`zh` or `en`; a translation changes it).
    pub lang: String,
    /// The conversation to send, ending with a user turn.
    pub messages: Vec<Message>,
    /// Further user turns for scripted multi-turn attacks: the runner sends each after the
    /// previous answer, and the LAST answer is judged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<String>,
    /// Provenance details: the template used (`template` = `id@version`), the translated text,
    /// the injection kind, the attacker round…
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
}

impl Variant {
    /// The last user turn of `messages` (the request as sent first).
    pub fn prompt(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map_or("", |m| m.content.as_str())
    }
}

/// What kind of attack it is, for grouping in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttackFamily {
    /// No attack: the item as written.
    Direct,
    /// The request encoded (Base64, ROT13, leetspeak, Unicode tricks).
    Encoding,
    /// Character-level evasions of keyword filters (homophones, pinyin, split characters,
    /// traditional characters, full-width, zero-width, separators, radical look-alikes).
    Evasion,
    /// The request inside a jailbreak, role-play or hypothetical frame.
    Framing,
    /// Prompt injection, direct or through a document.
    Injection,
    /// Scripted multi-turn escalation.
    MultiTurn,
    /// Needs a model: translation, attacker-model search.
    ModelAssisted,
}

impl AttackFamily {
    /// Machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackFamily::Direct => "direct",
            AttackFamily::Encoding => "encoding",
            AttackFamily::Evasion => "evasion",
            AttackFamily::Framing => "framing",
            AttackFamily::Injection => "injection",
            AttackFamily::MultiTurn => "multi_turn",
            AttackFamily::ModelAssisted => "model_assisted",
        }
    }
}

/// What an attack is, for listings, reports and the conformance tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackInfo {
    /// Stable snake_case id.
    pub id: &'static str,
    /// Version of its behaviour and data; bumped when outputs change.
    pub version: u32,
    /// Name, zh and en.
    pub name: Text,
    /// One-line description, zh and en.
    pub description: Text,
    /// Family.
    pub family: AttackFamily,
    /// Whether [`Attack::apply`] needs a model.
    pub needs_model: bool,
    /// Its section in the docs, `docs/attacks.md#<anchor>`.
    pub docs: &'static str,
}

impl AttackInfo {
    /// `id@version`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// A model call, provided by the runner: the conversation in, the answer's text out.
pub trait Generate {
    /// Answer `messages` (which end with a user turn).
    fn generate(&self, messages: &[Message]) -> Result<String, String>;
}

impl<F> Generate for F
where
    F: Fn(&[Message]) -> Result<String, String>,
{
    fn generate(&self, messages: &[Message]) -> Result<String, String> {
        self(messages)
    }
}

/// Why an attack could not make its variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttackError {
    /// The attack calls a model and none was given.
    #[error("attack `{attack}` needs a model and none was configured")]
    NeedsModel {
        /// The attack.
        attack: String,
    },
    /// The model call failed or gave nothing usable.
    #[error("attack `{attack}`: item `{item}`: model call failed: {message}")]
    Model {
        /// The attack.
        attack: String,
        /// The item.
        item: String,
        /// What went wrong.
        message: String,
    },
    /// The item has no user turn to attack.
    #[error("attack `{attack}`: item `{item}` has no user turn")]
    NoPrompt {
        /// The attack.
        attack: String,
        /// The item.
        item: String,
    },
    /// Embedded attack data is broken (a build defect, caught by the tests).
    #[error("attack data `{file}`: {message}")]
    Data {
        /// The data file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// A registered attack.
pub trait Attack: Send + Sync + std::fmt::Debug {
    /// What it is.
    fn info(&self) -> &AttackInfo;
    /// Variants of `item` (none when the attack does not apply to it, e.g. a Chinese evasion
    /// on an English item, or a transform that would change nothing).
    fn apply(
        &self,
        item: &Item,
        seed: u64,
        model: Option<&dyn Generate>,
    ) -> Result<Vec<Variant>, AttackError>;
    /// Undo the transform on the target's answer where the attack asked for an encoded answer
    /// (Base64, ROT13…); `None` leaves the answer as it is.
    fn decode_response(&self, _response: &str) -> Option<String> {
        None
    }
}

/// Every registered attack, in a stable order (the identity attack `direct` first).
pub fn registry() -> Vec<Box<dyn Attack>> {
    let mut all: Vec<Box<dyn Attack>> = vec![none()];
    all.extend(encoding::all());
    all.extend(evasion::all());
    all.extend(template::all());
    all.extend(model::all());
    all
}

/// An attack by id (`zh_homophone`) or `id@version` (`zh_homophone@1`, which must match the
/// registered version).
pub fn get(id: &str) -> Option<Box<dyn Attack>> {
    let (name, version) = match id.split_once('@') {
        Some((n, v)) => (n, Some(v.parse::<u32>().ok()?)),
        None => (id, None),
    };
    registry()
        .into_iter()
        .find(|a| a.info().id == name && version.is_none_or(|v| v == a.info().version))
}

/// The identity attack `direct@1`: the item as written.
pub fn none() -> Box<dyn Attack> {
    Box::new(Direct {
        info: AttackInfo {
            id: "direct",
            version: 1,
            name: Text::new("直接提问", "Direct"),
            description: Text::new(
                "不加攻击：按题库原样发送题目",
                "No attack: the item is sent as written",
            ),
            family: AttackFamily::Direct,
            needs_model: false,
            docs: "docs/attacks.md#direct",
        },
    })
}

#[derive(Debug)]
struct Direct {
    info: AttackInfo,
}

impl Attack for Direct {
    fn info(&self) -> &AttackInfo {
        &self.info
    }

    fn apply(
        &self,
        item: &Item,
        seed: u64,
        _model: Option<&dyn Generate>,
    ) -> Result<Vec<Variant>, AttackError> {
        prompt_of(&self.info, item)?;
        Ok(vec![variant(
            &self.info,
            item,
            seed,
            0,
            item.messages.clone(),
        )])
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the attack modules.

/// Whether the item is Chinese (anything else is treated as English).
pub(crate) fn is_zh(item: &Item) -> bool {
    item.lang == "zh"
}

/// The item's language code as variants record it.
pub(crate) fn lang_of(item: &Item) -> &'static str {
    if is_zh(item) { "zh" } else { "en" }
}

/// The item's last user turn, or an error naming the item.
pub(crate) fn prompt_of<'a>(info: &AttackInfo, item: &'a Item) -> Result<&'a str, AttackError> {
    item.messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.as_str())
        .ok_or_else(|| AttackError::NoPrompt {
            attack: info.id.to_owned(),
            item: item.id.clone(),
        })
}

/// The item's messages with the last user turn's text replaced by `prompt` (earlier turns kept).
pub(crate) fn with_prompt(item: &Item, prompt: String) -> Vec<Message> {
    let mut messages = item.messages.clone();
    if let Some(m) = messages.iter_mut().rev().find(|m| m.role == "user") {
        m.content = prompt;
    }
    messages
}

/// A user message.
pub(crate) fn user(content: impl Into<String>) -> Message {
    Message {
        role: "user".into(),
        content: content.into(),
    }
}

/// A variant of `item` with number `n`, in the item's language.
pub(crate) fn variant(
    info: &AttackInfo,
    item: &Item,
    seed: u64,
    n: usize,
    messages: Vec<Message>,
) -> Variant {
    Variant {
        id: format!("{}~{}#{n}", item.id, info.key()),
        parent_id: item.id.clone(),
        attack: info.key(),
        seed,
        lang: lang_of(item).to_owned(),
        messages,
        follow_ups: Vec::new(),
        meta: BTreeMap::new(),
    }
}

/// The generator for one (seed, item, attack): the same triple always draws the same choices,
/// and two items under one seed draw independently.
pub(crate) fn rng_for(seed: u64, item: &str, attack: &str) -> SplitMix64 {
    // FNV-1a over the item id, a separator and the attack id.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in item.bytes().chain([0xff]).chain(attack.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    SplitMix64::new(seed ^ h)
}

/// True with probability `p`.
pub(crate) fn chance(rng: &mut SplitMix64, p: f64) -> bool {
    ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
}

/// Replace each `{key}` of `template` by its value, in one pass (values are never rescanned, so
/// a request that itself contains `{prompt}` stays as written).
pub(crate) fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = after.find('}').and_then(|close| {
            let key = &after[..close];
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (close, *v))
        });
        match hit {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_substitutes_known_keys_once() {
        assert_eq!(
            fill("a {prompt} b {x} {\"k\": 1}", &[("prompt", "{prompt}")]),
            "a {prompt} b {x} {\"k\": 1}"
        );
        assert_eq!(fill("{a}{b}", &[("a", "1"), ("b", "2")]), "12");
    }

    #[test]
    fn get_accepts_id_and_id_at_version() {
        assert_eq!(
            get("direct").map(|a| a.info().key()),
            Some("direct@1".into())
        );
        assert!(get("direct@1").is_some());
        assert!(get("direct@2").is_none());
        assert!(get("direct@x").is_none());
        assert!(get("no_such_attack").is_none());
    }

    #[test]
    fn rng_depends_on_every_input() {
        let draw = |s, i, a| rng_for(s, i, a).next_u64();
        assert_eq!(draw(7, "x", "y"), draw(7, "x", "y"));
        assert_ne!(draw(7, "x", "y"), draw(8, "x", "y"));
        assert_ne!(draw(7, "x", "y"), draw(7, "x2", "y"));
        assert_ne!(draw(7, "x", "y"), draw(7, "x", "y2"));
    }
}
