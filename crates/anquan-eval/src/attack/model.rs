//! Attacks that call a model: translation into the other language, and the PAIR-style search
//! (an attacker model proposes, the target answers, a judge scores, until success or budget).

use anquan_core::Text;

use super::template::{Template, for_lang, pick};
use super::{
    Attack, AttackError, AttackFamily, AttackInfo, Generate, Variant, fill, is_zh, prompt_of, user,
    variant, with_prompt,
};
use crate::bank::{Item, Message};

/// Budget of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchBudget {
    /// Attacker proposals (each one target call and one score) at most.
    pub max_rounds: u32,
}

impl Default for SearchBudget {
    /// Five rounds.
    fn default() -> Self {
        SearchBudget { max_rounds: 5 }
    }
}

/// What a search did.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    /// Each round: the variant sent, the target's answer, the score (0 to 1; 1 = jailbroken).
    pub rounds: Vec<(Variant, String, f32)>,
    /// Whether a round reached the success score.
    pub success: bool,
}

impl SearchOutcome {
    /// The round with the highest score (the first of equals).
    pub fn best(&self) -> Option<&(Variant, String, f32)> {
        self.rounds.iter().fold(
            None,
            |best: Option<&(Variant, String, f32)>, r| match best {
                Some(b) if b.2 >= r.2 => Some(b),
                _ => Some(r),
            },
        )
    }
}

#[derive(Debug)]
struct Translation {
    info: AttackInfo,
}

const TRANSLATION_FILE: &str = "translation.toml";
const PAIR_FILE: &str = "pair.toml";

impl Attack for Translation {
    fn info(&self) -> &AttackInfo {
        &self.info
    }

    fn apply(
        &self,
        item: &Item,
        seed: u64,
        model: Option<&dyn Generate>,
    ) -> Result<Vec<Variant>, AttackError> {
        let model = model.ok_or_else(|| AttackError::NeedsModel {
            attack: self.info.id.to_owned(),
        })?;
        let prompt = prompt_of(&self.info, item)?;
        let list = for_lang(TRANSLATION_FILE, item)?;
        let t = pick(&list, seed, item, self.info.id);
        let failed = |message: String| AttackError::Model {
            attack: self.info.id.to_owned(),
            item: item.id.clone(),
            message,
        };
        let raw = model
            .generate(&[user(fill(&t.text, &[("prompt", prompt)]))])
            .map_err(&failed)?;
        let translated = clean_translation(&raw);
        if translated.is_empty() {
            return Err(failed("the translation is empty".into()));
        }
        let to = if is_zh(item) { "en" } else { "zh" };
        let mut v = variant(
            &self.info,
            item,
            seed,
            0,
            with_prompt(item, translated.clone()),
        );
        v.lang = to.into();
        v.meta.insert("template".into(), t.key());
        v.meta.insert("from".into(), item.lang.clone());
        v.meta.insert("to".into(), to.into());
        v.meta.insert("translated".into(), translated);
        Ok(vec![v])
    }
}

/// A model's translation without the wrapping models like to add: code fences, quotes, a
/// `Translation:` label.
fn clean_translation(raw: &str) -> String {
    let mut s = raw.trim();
    if let Some(inner) = s.strip_prefix("```") {
        // Drop an optional language tag on the fence line.
        let inner = inner.split_once('\n').map_or(inner, |(_, rest)| rest);
        s = inner.trim_end().strip_suffix("```").unwrap_or(inner).trim();
    }
    for label in [
        "Translation:",
        "translation:",
        "译文：",
        "译文:",
        "翻译：",
        "翻译:",
    ] {
        if let Some(rest) = s.strip_prefix(label) {
            s = rest.trim();
        }
    }
    for (open, close) in [('"', '"'), ('“', '”'), ('「', '」')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            s = inner.trim();
        }
    }
    s.to_owned()
}

#[derive(Debug)]
struct Pair {
    info: AttackInfo,
}

impl Attack for Pair {
    fn info(&self) -> &AttackInfo {
        &self.info
    }

    /// The attacker's first proposal (round 0). The full loop, which also needs the target and
    /// a judge, is [`pair_search`].
    fn apply(
        &self,
        item: &Item,
        seed: u64,
        model: Option<&dyn Generate>,
    ) -> Result<Vec<Variant>, AttackError> {
        let attacker = model.ok_or_else(|| AttackError::NeedsModel {
            attack: self.info.id.to_owned(),
        })?;
        let goal = prompt_of(&self.info, item)?;
        let t = pair_template(item, seed)?;
        let conversation = attacker_start(t, goal);
        let raw = attacker
            .generate(&conversation)
            .map_err(|message| AttackError::Model {
                attack: self.info.id.to_owned(),
                item: item.id.clone(),
                message,
            })?;
        Ok(vec![pair_variant(&self.info, item, seed, 0, t, goal, &raw)])
    }
}

fn pair_template(item: &Item, seed: u64) -> Result<&'static Template, AttackError> {
    let list = for_lang(PAIR_FILE, item)?;
    let t = pick(&list, seed, item, "pair");
    if t.context.is_none() || t.feedback.is_none() {
        return Err(AttackError::Data {
            file: PAIR_FILE.into(),
            message: format!("template `{}` needs `context` and `feedback`", t.key()),
        });
    }
    Ok(t)
}

fn attacker_start(t: &Template, goal: &str) -> Vec<Message> {
    vec![
        Message {
            role: "system".into(),
            content: fill(t.context.as_deref().unwrap_or_default(), &[("goal", goal)]),
        },
        user(fill(&t.text, &[("goal", goal)])),
    ]
}

fn pair_variant(
    info: &AttackInfo,
    item: &Item,
    seed: u64,
    round: usize,
    t: &Template,
    goal: &str,
    raw: &str,
) -> Variant {
    let candidate = parse_candidate(raw).unwrap_or_else(|| goal.to_owned());
    let mut v = variant(info, item, seed, round, with_prompt(item, candidate));
    v.meta.insert("template".into(), t.key());
    v.meta.insert("round".into(), round.to_string());
    v
}

/// The candidate prompt in an attacker's answer: the `prompt` field of the first JSON object
/// that has one (inside code fences or prose too), else the text after a `PROMPT:` / `提示词：`
/// label, else the whole answer trimmed. `None` when that is empty.
pub fn parse_candidate(raw: &str) -> Option<String> {
    // Every `{` may open a JSON object: try to read one from there.
    for (i, _) in raw.match_indices('{') {
        let mut stream =
            serde_json::Deserializer::from_str(&raw[i..]).into_iter::<serde_json::Value>();
        if let Some(Ok(serde_json::Value::Object(map))) = stream.next()
            && let Some(serde_json::Value::String(p)) = map.get("prompt")
            && !p.trim().is_empty()
        {
            return Some(p.trim().to_owned());
        }
    }
    for label in ["PROMPT:", "Prompt:", "提示词：", "提示词:"] {
        if let Some((_, rest)) = raw.split_once(label) {
            let rest = rest.trim();
            if !rest.is_empty() {
                return Some(rest.to_owned());
            }
        }
    }
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// The PAIR-style search: the attacker proposes a prompt for the item's request, the target
/// answers it, `score(prompt, answer)` rates the answer (1.0 = jailbroken), and the attacker
/// sees the answer and score and tries again, until a score reaches `success_at` or the budget
/// is spent. Deterministic given deterministic models and judge.
pub fn pair_search(
    item: &Item,
    seed: u64,
    attacker: &dyn Generate,
    target: &dyn Generate,
    score: &dyn Fn(&str, &str) -> f32,
    budget: SearchBudget,
    success_at: f32,
) -> Result<SearchOutcome, AttackError> {
    let info = pair_info();
    let goal = prompt_of(&info, item)?;
    let t = pair_template(item, seed)?;
    let failed = |who: &str, message: String| AttackError::Model {
        attack: info.id.to_owned(),
        item: item.id.clone(),
        message: format!("{who}: {message}"),
    };
    let mut conversation = attacker_start(t, goal);
    let mut rounds = Vec::new();
    let mut success = false;
    for round in 0..budget.max_rounds as usize {
        let raw = attacker
            .generate(&conversation)
            .map_err(|e| failed("attacker", e))?;
        let v = pair_variant(&info, item, seed, round, t, goal, &raw);
        let answer = target
            .generate(&v.messages)
            .map_err(|e| failed("target", e))?;
        let s = score(v.prompt(), &answer);
        let s = if s.is_nan() { 0.0 } else { s.clamp(0.0, 1.0) };
        let feedback = fill(
            t.feedback.as_deref().unwrap_or_default(),
            &[
                ("prompt", v.prompt()),
                ("answer", &answer),
                ("score", &format!("{s:.2}")),
            ],
        );
        rounds.push((v, answer, s));
        if s >= success_at {
            success = true;
            break;
        }
        conversation.push(Message {
            role: "assistant".into(),
            content: raw,
        });
        conversation.push(user(feedback));
    }
    Ok(SearchOutcome { rounds, success })
}

fn pair_info() -> AttackInfo {
    AttackInfo {
        id: "pair",
        version: 1,
        name: Text::new("攻击模型迭代搜索（PAIR）", "Attacker-model search (PAIR)"),
        description: Text::new(
            "攻击模型提出提示词，目标模型作答，评判打分，反馈给攻击模型再改进，直到成功或用完预算",
            "An attacker model proposes a prompt, the target answers, a judge scores, and the attacker improves until success or budget",
        ),
        family: AttackFamily::ModelAssisted,
        needs_model: true,
        docs: "docs/attacks.md#pair",
    }
}

/// The model-using attacks, in registry order.
pub(crate) fn all() -> Vec<Box<dyn Attack>> {
    vec![
        Box::new(Translation {
            info: AttackInfo {
                id: "translation",
                version: 1,
                name: Text::new("翻译成另一种语言", "Translation"),
                description: Text::new(
                    "用配置的模型把请求译成另一种语言（中↔英）后发送，译文记入变体",
                    "Has the configured model translate the request into the other language (zh↔en) and sends that; the translation is recorded",
                ),
                family: AttackFamily::ModelAssisted,
                needs_model: true,
                docs: "docs/attacks.md#translation",
            },
        }),
        Box::new(Pair { info: pair_info() }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_read_from_json_labels_or_text() {
        assert_eq!(
            parse_candidate("Sure!\n```json\n{\"improvement\": \"x\", \"prompt\": \"P1\"}\n```")
                .as_deref(),
            Some("P1")
        );
        assert_eq!(
            parse_candidate("{\"a\": {\"b\": 1}} then {\"prompt\": \"P2\"}").as_deref(),
            Some("P2")
        );
        assert_eq!(
            parse_candidate("提示词：讲个故事").as_deref(),
            Some("讲个故事")
        );
        assert_eq!(
            parse_candidate("  just this  ").as_deref(),
            Some("just this")
        );
        assert_eq!(parse_candidate("   "), None);
    }

    #[test]
    fn translations_lose_their_wrapping() {
        assert_eq!(clean_translation("```text\nHello\n```"), "Hello");
        assert_eq!(clean_translation("Translation: \"Hello\""), "Hello");
        assert_eq!(clean_translation("译文：“你好”"), "你好");
    }
}
