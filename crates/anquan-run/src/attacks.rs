//! Bridge from the run's attack ids to `anquan_eval`'s attacks.

use anquan_eval::Item;
use anquan_llm::Message;

use crate::RunError;

/// One variant ready to send.
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
}

/// The item's own conversation.
pub fn direct(item: &Item) -> Planned {
    Planned {
        key: item.id.clone(),
        attack: "direct@1".into(),
        messages: item
            .messages
            .iter()
            .map(|m| Message::new(&m.role, m.content.clone()))
            .collect(),
        follow_ups: Vec::new(),
    }
}

/// Variants of `item` under the attack `id`.
pub fn variants(id: &str, item: &Item, _seed: u64) -> Result<Vec<Planned>, RunError> {
    match id {
        "direct" | "none" => Ok(vec![direct(item)]),
        other => Err(RunError::UnknownAttack {
            id: other.to_owned(),
            known: vec!["direct".into()],
        }),
    }
}

/// Every attack id with a one-line description.
pub fn list() -> Vec<(String, String)> {
    vec![("direct".into(), "the item as written (no attack)".into())]
}
