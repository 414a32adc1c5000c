//! Bridge from the run's attack ids to `anquan_eval::attack`: mechanical attacks are expanded at
//! planning time (deterministic, so resume re-plans the same keys); attacks that need a model
//! (translation, PAIR) are planned as one trial each with a stable key and run when the trial runs.

use anquan_eval::Item;
use anquan_eval::attack::{self, Attack};
use anquan_llm::Message;

use crate::RunError;

/// One trial-to-be of an attack.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Exactly-once key.
    pub key: String,
    /// `id@version`.
    pub attack: String,
    /// Conversation.
    pub messages: Vec<Message>,
    /// Scripted follow-up user turns.
    pub follow_ups: Vec<String>,
    /// The attack runs when the trial runs (it needs a model).
    pub lazy: bool,
}

/// Convert bank messages to client messages.
pub fn to_llm(messages: &[anquan_eval::bank::Message]) -> Vec<Message> {
    messages
        .iter()
        .map(|m| Message::new(&m.role, m.content.clone()))
        .collect()
}

/// Convert client messages to bank messages.
pub fn to_bank(messages: &[Message]) -> Vec<anquan_eval::bank::Message> {
    messages
        .iter()
        .map(|m| anquan_eval::bank::Message {
            role: m.role.clone(),
            content: m.content.clone(),
        })
        .collect()
}

/// The attack registered under `id` (`id` or `id@version`; `none` = `direct`).
pub fn resolve(id: &str) -> Result<Box<dyn Attack>, RunError> {
    let id = if id == "none" { "direct" } else { id };
    attack::get(id).ok_or_else(|| RunError::UnknownAttack {
        id: id.to_owned(),
        known: attack::registry()
            .iter()
            .map(|a| a.info().id.to_owned())
            .collect(),
    })
}

/// Variants of `item` under the attack `id`. Empty when the attack does not apply to the item
/// (a Chinese evasion on an English item).
pub fn variants(id: &str, item: &Item, seed: u64) -> Result<Vec<Planned>, RunError> {
    let a = resolve(id)?;
    let info = a.info();
    if info.needs_model {
        return Ok(vec![Planned {
            key: format!("{}~{}#0", item.id, info.key()),
            attack: info.key(),
            messages: to_llm(&item.messages),
            follow_ups: Vec::new(),
            lazy: true,
        }]);
    }
    let vs = a.apply(item, seed, None).map_err(|e| RunError::Bank {
        bank: item.id.clone(),
        detail: e.to_string(),
    })?;
    Ok(vs
        .into_iter()
        .map(|v| Planned {
            // The direct attack keeps the item id as key (one trial per item).
            key: if info.id == "direct" {
                item.id.clone()
            } else {
                v.id.clone()
            },
            attack: v.attack.clone(),
            messages: to_llm(&v.messages),
            follow_ups: v.follow_ups.clone(),
            lazy: false,
        })
        .collect())
}

/// Every attack id with a one-line description, in the language given.
pub fn list(lang: anquan_core::Lang) -> Vec<(String, String)> {
    attack::registry()
        .iter()
        .map(|a| {
            let i = a.info();
            let model = if i.needs_model {
                " [needs a model]"
            } else {
                ""
            };
            (i.key(), format!("{}{model}", i.description.get(lang)))
        })
        .collect()
}
