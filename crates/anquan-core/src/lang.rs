use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language anquan speaks to its users. Reports and catalog text exist in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Simplified Chinese (the language of the standards).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47-style code, `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Pick the string for this language from a pair.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language code that is neither `zh` nor `en`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}`, expected `zh` or `en`")]
pub struct LangError(pub String);

impl FromStr for Lang {
    type Err = LangError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" | "cn" => Ok(Lang::Zh),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            other => Err(LangError(other.to_owned())),
        }
    }
}

/// A text in both of anquan's languages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Chinese text.
    pub zh: String,
    /// English text.
    pub en: String,
}

impl Text {
    /// Build a text from its two languages.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`, falling back to the other language when that one is empty.
    pub fn get(&self, lang: Lang) -> &str {
        let (first, second) = match lang {
            Lang::Zh => (&self.zh, &self.en),
            Lang::En => (&self.en, &self.zh),
        };
        if first.trim().is_empty() {
            second
        } else {
            first
        }
    }

    /// Whether either language contains `needle`, compared case-insensitively.
    pub fn contains_ci(&self, needle_lower: &str) -> bool {
        self.zh.to_lowercase().contains(needle_lower)
            || self.en.to_lowercase().contains(needle_lower)
    }
}

/// How well a fact taken from a standard has been checked against the official text.
///
/// Every clause and rule carries one, and anquan shows it wherever the clause is used, so that a
/// number from secondary sources is never presented as a verified requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// Read in the official text of the standard.
    Verified,
    /// Several independent secondary sources agree; not yet ticked against the official text.
    Secondary,
    /// From recollection or inference; no usable source confirms it.
    Unverified,
}

impl Verification {
    /// A short bilingual label for tables.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Verification::Verified, Lang::Zh) => "已核实",
            (Verification::Verified, Lang::En) => "verified",
            (Verification::Secondary, Lang::Zh) => "二手来源",
            (Verification::Secondary, Lang::En) => "secondary",
            (Verification::Unverified, Lang::Zh) => "未核实",
            (Verification::Unverified, Lang::En) => "unverified",
        }
    }

    /// The machine name used in data files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Secondary => "secondary",
            Verification::Unverified => "unverified",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_parses_common_spellings() {
        assert_eq!("ZH".parse::<Lang>().unwrap(), Lang::Zh);
        assert_eq!("en-US".parse::<Lang>().unwrap(), Lang::En);
        let err = "fr".parse::<Lang>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown language `fr`, expected `zh` or `en`"
        );
    }

    #[test]
    fn text_falls_back_to_the_other_language() {
        let t = Text::new("", "only English");
        assert_eq!(t.get(Lang::Zh), "only English");
        assert_eq!(t.get(Lang::En), "only English");
        let t = Text::new("风险", "Risk");
        assert_eq!(t.get(Lang::Zh), "风险");
        assert!(t.contains_ci("risk"));
    }
}
