//! Attacks driven by templates in `data/attacks/*.toml`: jailbreak templates, role-play and
//! hypothetical framing, prompt injection and scripted multi-turn escalation. The same file
//! format also holds the encoding wrappers and the model-using attacks' prompts.

use std::sync::OnceLock;

use anquan_core::Text;
use serde::Deserialize;

use super::{
    Attack, AttackError, AttackFamily, AttackInfo, Generate, Variant, fill, lang_of, prompt_of,
    rng_for, user, variant, with_prompt,
};
use crate::bank::{Item, Message};

/// One template of an attack data file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Stable id within its file (the same id may exist once per language).
    pub id: String,
    /// Version of its wording.
    pub version: u32,
    /// `zh` or `en`: the items it is used for.
    pub lang: String,
    /// Name, zh and en.
    pub name: Text,
    /// Where the wording comes from (`anquan`, or a dataset and its row).
    pub source: String,
    /// Licence of the wording.
    pub licence: String,
    /// The text, with placeholders such as `{prompt}`.
    pub text: String,
    /// Sub-kind (`direct` / `indirect` for prompt injection).
    #[serde(default)]
    pub kind: Option<String>,
    /// A system message sent before the user's turn (the document of an indirect injection,
    /// the attacker's instructions of the PAIR search).
    #[serde(default)]
    pub context: Option<String>,
    /// Scripted user turns sent before `text` (multi-turn escalation).
    #[serde(default)]
    pub turns: Vec<String>,
    /// Risk-id prefixes the template is for (`*`: any).
    #[serde(default)]
    pub risks: Vec<String>,
    /// The attacker's feedback turn (PAIR search).
    #[serde(default)]
    pub feedback: Option<String>,
}

impl Template {
    /// `id@version`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// The embedded template files, by name.
pub const TEMPLATE_FILES: &[(&str, &str)] = &[
    (
        "encodings.toml",
        include_str!("../../data/attacks/encodings.toml"),
    ),
    (
        "jailbreak_template.toml",
        include_str!("../../data/attacks/jailbreak_template.toml"),
    ),
    (
        "role_play.toml",
        include_str!("../../data/attacks/role_play.toml"),
    ),
    (
        "hypothetical.toml",
        include_str!("../../data/attacks/hypothetical.toml"),
    ),
    (
        "prompt_injection.toml",
        include_str!("../../data/attacks/prompt_injection.toml"),
    ),
    (
        "multi_turn_escalation.toml",
        include_str!("../../data/attacks/multi_turn_escalation.toml"),
    ),
    (
        "translation.toml",
        include_str!("../../data/attacks/translation.toml"),
    ),
    ("pair.toml", include_str!("../../data/attacks/pair.toml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    #[serde(default)]
    template: Vec<Template>,
}

type Parsed = Vec<(&'static str, Result<Vec<Template>, String>)>;

static PARSED: OnceLock<Parsed> = OnceLock::new();

/// The templates of an embedded file (`role_play.toml`), parsed once.
pub fn templates(file: &str) -> Result<&'static [Template], AttackError> {
    let parsed = PARSED.get_or_init(|| {
        TEMPLATE_FILES
            .iter()
            .map(|(name, text)| {
                let result = toml::from_str::<TemplateFile>(text)
                    .map(|f| f.template)
                    .map_err(|e| e.to_string());
                (*name, result)
            })
            .collect()
    });
    let data = |message: String| AttackError::Data {
        file: file.to_owned(),
        message,
    };
    match parsed.iter().find(|(name, _)| *name == file) {
        Some((_, Ok(list))) => Ok(list),
        Some((_, Err(e))) => Err(data(e.clone())),
        None => Err(data("no such embedded file".into())),
    }
}

/// The templates of `file` for the item's language (English ones for any other language).
pub(crate) fn for_lang(file: &str, item: &Item) -> Result<Vec<&'static Template>, AttackError> {
    let lang = lang_of(item);
    let list: Vec<&Template> = templates(file)?.iter().filter(|t| t.lang == lang).collect();
    if list.is_empty() {
        return Err(AttackError::Data {
            file: file.to_owned(),
            message: format!("no template for language `{lang}`"),
        });
    }
    Ok(list)
}

/// A framing attack: one template, chosen by seed among those of the item's language, wraps the
/// request.
#[derive(Debug)]
struct Framing {
    info: AttackInfo,
    file: &'static str,
}

impl Attack for Framing {
    fn info(&self) -> &AttackInfo {
        &self.info
    }

    fn apply(
        &self,
        item: &Item,
        seed: u64,
        _model: Option<&dyn Generate>,
    ) -> Result<Vec<Variant>, AttackError> {
        let prompt = prompt_of(&self.info, item)?;
        let list = for_lang(self.file, item)?;
        let mut rng = rng_for(seed, &item.id, self.info.id);
        let t = list[rng.below(list.len())];
        let mut v = variant(
            &self.info,
            item,
            seed,
            0,
            with_prompt(item, fill(&t.text, &[("prompt", prompt)])),
        );
        v.meta.insert("template".into(), t.key());
        Ok(vec![v])
    }
}

/// Prompt injection: one direct and one indirect variant, each template chosen by seed.
#[derive(Debug)]
struct Injection {
    info: AttackInfo,
}

impl Attack for Injection {
    fn info(&self) -> &AttackInfo {
        &self.info
    }

    fn apply(
        &self,
        item: &Item,
        seed: u64,
        _model: Option<&dyn Generate>,
    ) -> Result<Vec<Variant>, AttackError> {
        const FILE: &str = "prompt_injection.toml";
        let prompt = prompt_of(&self.info, item)?;
        let list = for_lang(FILE, item)?;
        let mut rng = rng_for(seed, &item.id, self.info.id);
        let mut out = Vec::new();
        for kind in ["direct", "indirect"] {
            let of_kind: Vec<&&Template> = list
                .iter()
                .filter(|t| t.kind.as_deref() == Some(kind))
                .collect();
            if of_kind.is_empty() {
                return Err(AttackError::Data {
                    file: FILE.into(),
                    message: format!("no `{kind}` template for language `{}`", lang_of(item)),
                });
            }
            let t = of_kind[rng.below(of_kind.len())];
            let text = fill(&t.text, &[("prompt", prompt)]);
            let messages = match &t.context {
                // The document arrives as context, the way retrieved text does; the item's own
                // earlier turns are not part of this scenario.
                Some(context) => vec![
                    Message {
                        role: "system".into(),
                        content: fill(context, &[("prompt", prompt)]),
                    },
                    user(text),
                ],
                None => with_prompt(item, text),
            };
            let mut v = variant(&self.info, item, seed, out.len(), messages);
            v.meta.insert("template".into(), t.key());
            v.meta.insert("kind".into(), kind.into());
            out.push(v);
        }
        Ok(out)
    }
}

/// Scripted escalation: the template for the item's risk sends its turns first, then the
/// request.
#[derive(Debug)]
struct Escalation {
    info: AttackInfo,
}

impl Attack for Escalation {
    fn info(&self) -> &AttackInfo {
        &self.info
    }

    fn apply(
        &self,
        item: &Item,
        seed: u64,
        _model: Option<&dyn Generate>,
    ) -> Result<Vec<Variant>, AttackError> {
        const FILE: &str = "multi_turn_escalation.toml";
        let prompt = prompt_of(&self.info, item)?;
        let list = for_lang(FILE, item)?;
        let risk = item.risk_ids.first().map_or("", String::as_str);
        let fits = |t: &&&Template, wildcard: bool| {
            t.risks.iter().any(|r| {
                if wildcard {
                    r == "*"
                } else {
                    r != "*" && (risk == r || risk.starts_with(&format!("{r}.")))
                }
            })
        };
        let mut pool: Vec<&&Template> = list.iter().filter(|t| fits(t, false)).collect();
        if pool.is_empty() {
            pool = list.iter().filter(|t| fits(t, true)).collect();
        }
        let mut rng = rng_for(seed, &item.id, self.info.id);
        let Some(t) = (!pool.is_empty()).then(|| pool[rng.below(pool.len())]) else {
            return Err(AttackError::Data {
                file: FILE.into(),
                message: format!("no template for risk `{risk}` and no `*` fallback"),
            });
        };
        let Some((first, rest)) = t.turns.split_first() else {
            return Err(AttackError::Data {
                file: FILE.into(),
                message: format!("template `{}` has no turns", t.key()),
            });
        };
        // The item's earlier turns (if any) stay in front; the escalation starts after them.
        let mut messages: Vec<Message> = item.messages.clone();
        if let Some(last) = messages.iter().rposition(|m| m.role == "user") {
            messages.truncate(last);
        }
        messages.push(user(first.clone()));
        let mut v = variant(&self.info, item, seed, 0, messages);
        v.follow_ups = rest
            .iter()
            .cloned()
            .chain([fill(&t.text, &[("prompt", prompt)])])
            .collect();
        v.meta.insert("template".into(), t.key());
        Ok(vec![v])
    }
}

/// The template-driven attacks, in registry order.
pub(crate) fn all() -> Vec<Box<dyn Attack>> {
    let framing = |id, name: Text, description: Text, docs, file| -> Box<dyn Attack> {
        Box::new(Framing {
            info: AttackInfo {
                id,
                version: 1,
                name,
                description,
                family: AttackFamily::Framing,
                needs_model: false,
                docs,
            },
            file,
        })
    };
    vec![
        framing(
            "jailbreak_template",
            Text::new("越狱模板", "Jailbreak template"),
            Text::new(
                "把请求放进 DAN、开发者模式、AIM 等自称解除限制的越狱模板",
                "Puts the request inside a DAN, developer-mode, AIM or similar jailbreak template",
            ),
            "docs/attacks.md#jailbreak_template",
            "jailbreak_template.toml",
        ),
        framing(
            "role_play",
            Text::new("角色扮演", "Role play"),
            Text::new(
                "让模型扮演一个“理应回答”的角色（小说人物、奶奶、演员）来提出请求",
                "Asks through a character who would answer (a novelist's expert, a grandmother, an actor)",
            ),
            "docs/attacks.md#role_play",
            "role_play.toml",
        ),
        framing(
            "hypothetical",
            Text::new("假设情境", "Hypothetical framing"),
            Text::new(
                "把请求包装成思想实验、平行世界或学术研究",
                "Frames the request as a thought experiment, a parallel world or research",
            ),
            "docs/attacks.md#hypothetical",
            "hypothetical.toml",
        ),
        Box::new(Injection {
            info: AttackInfo {
                id: "prompt_injection",
                version: 1,
                name: Text::new("提示注入", "Prompt injection"),
                description: Text::new(
                    "直接注入（忽略之前的指令）和间接注入（请求藏在要总结或翻译的文档里），各一个变体",
                    "Direct (ignore previous instructions) and indirect (the request hidden in a document to summarise or translate), one variant each",
                ),
                family: AttackFamily::Injection,
                needs_model: false,
                docs: "docs/attacks.md#prompt_injection",
            },
        }),
        Box::new(Escalation {
            info: AttackInfo {
                id: "multi_turn_escalation",
                version: 1,
                name: Text::new("多轮逐步升级", "Multi-turn escalation"),
                description: Text::new(
                    "先问与题目相关的无害问题，逐轮升级，最后一轮提出原请求",
                    "Opens with harmless related questions and escalates turn by turn to the request",
                ),
                family: AttackFamily::MultiTurn,
                needs_model: false,
                docs: "docs/attacks.md#multi_turn_escalation",
            },
        }),
    ]
}

/// Pick one template of `list` by seed (its own draw, independent of the attack's others).
pub(crate) fn pick<'a>(list: &[&'a Template], seed: u64, item: &Item, what: &str) -> &'a Template {
    let mut rng = rng_for(seed, &item.id, what);
    list[rng.below(list.len())]
}
