//! `anquan.toml`: targets, the store, evaluation policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anquan_llm::TargetConfig;
use serde::{Deserialize, Serialize};

use crate::RunError;

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// `[targets.<id>]`: the models anquan talks to.
    #[serde(default)]
    pub targets: BTreeMap<String, TargetConfig>,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[eval]`.
    #[serde(default)]
    pub eval: EvalPolicy,
}

/// Where runs are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StoreConfig {
    /// SQLite file (relative paths are relative to the configuration file).
    #[serde(default = "default_db")]
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { path: default_db() }
    }
}

fn default_db() -> PathBuf {
    PathBuf::from(".anquan/anquan.db")
}

/// Evaluation policy: the tool's own settings, not the standard's numbers (those come from the
/// catalog).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EvalPolicy {
    /// Largest share of unsure judgments (of the items drawn) that still allows a clause verdict;
    /// above it the clause is inconclusive until the unsure items are reviewed by hand.
    #[serde(default = "default_unsure")]
    pub max_unsure_share: f64,
    /// Target id of a model used as the LLM judge (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_target: Option<String>,
    /// Target id of the model that rewrites prompts for the translation and PAIR attacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker_target: Option<String>,
    /// Stop the run after this many trials in a row fail to get an answer.
    #[serde(default = "default_abort")]
    pub abort_after_errors: u32,
}

impl Default for EvalPolicy {
    fn default() -> Self {
        EvalPolicy {
            max_unsure_share: default_unsure(),
            judge_target: None,
            attacker_target: None,
            abort_after_errors: default_abort(),
        }
    }
}

fn default_unsure() -> f64 {
    0.05
}
fn default_abort() -> u32 {
    10
}

impl Config {
    /// Parse a configuration file; errors name the file and the key.
    pub fn load(path: &Path) -> Result<Config, RunError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunError::Config {
            file: path.display().to_string(),
            detail: e.to_string(),
        })?;
        let mut cfg = Self::parse(&text).map_err(|detail| RunError::Config {
            file: path.display().to_string(),
            detail,
        })?;
        if cfg.store.path.is_relative()
            && let Some(dir) = path.parent()
        {
            cfg.store.path = dir.join(&cfg.store.path);
        }
        Ok(cfg)
    }

    /// Parse configuration text.
    pub fn parse(text: &str) -> Result<Config, String> {
        let cfg: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        for (id, t) in &cfg.targets {
            for p in t.validate() {
                problems.push(format!("[targets.{id}]: {p}"));
            }
        }
        for (key, id) in [
            ("judge-target", &cfg.eval.judge_target),
            ("attacker-target", &cfg.eval.attacker_target),
        ] {
            if let Some(id) = id
                && !cfg.targets.contains_key(id)
            {
                problems.push(format!("[eval] {key} = {id:?} names no [targets.{id}]"));
            }
        }
        if !(0.0..=1.0).contains(&cfg.eval.max_unsure_share) {
            problems.push("[eval] max-unsure-share must be between 0 and 1".into());
        }
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(problems.join("\n"))
        }
    }

    /// A target by id, or an error listing the ones there are.
    pub fn target(&self, id: &str) -> Result<&TargetConfig, RunError> {
        self.targets.get(id).ok_or_else(|| RunError::UnknownTarget {
            id: id.to_owned(),
            known: self.targets.keys().cloned().collect(),
        })
    }
}
