//! The record types of the catalog, one per `[[kind]]` table in the data files.
//!
//! See `SCHEMA.md` beside this crate for the meaning of every field.

use anquan_core::{RecordId, Text, Verification};
use serde::{Deserialize, Serialize};

/// Where a record comes from: a seed document and its section, or a section of `standards.md`
/// with the confidence tag that file gives the fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Seed file name or `standards.md`.
    pub file: String,
    /// Section of that file.
    pub section: String,
    /// Confidence tag (`P`, `S`, `S×3`, `U`, `?`); required for `standards.md`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    /// Anything unusual about the extraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Source {
    /// `file §section [confidence]`, for display.
    pub fn display(&self) -> String {
        match &self.confidence {
            Some(c) => format!("{} {} [{c}]", self.file, self.section),
            None => format!("{} {}", self.file, self.section),
        }
    }
}

/// Fields every record has.
pub trait Record {
    /// Stable id, unique across the catalog.
    fn id(&self) -> &RecordId;
    /// Bilingual name.
    fn name(&self) -> &Text;
    /// Bilingual description.
    fn description(&self) -> &Text;
    /// Where it comes from.
    fn source(&self) -> Option<&Source>;
    /// Note shown to users.
    fn note(&self) -> Option<&Text>;
    /// Other names a user may search for.
    fn aliases(&self) -> &[String];
    /// Outgoing references: (relation, target id).
    fn refs(&self) -> Vec<(&'static str, &RecordId)>;
}

macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $fty:ty, )*
        }
        refs($this:ident) $refs:block
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Stable id.
            pub id: RecordId,
            /// Bilingual name.
            pub name: Text,
            /// Bilingual description.
            pub description: Text,
            /// Source document and section.
            pub source: Source,
            /// Note shown to users.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub note: Option<Text>,
            /// Other names.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub aliases: Vec<String>,
            $( $(#[$fmeta])* pub $field: $fty, )*
        }

        impl Record for $name {
            fn id(&self) -> &RecordId { &self.id }
            fn name(&self) -> &Text { &self.name }
            fn description(&self) -> &Text { &self.description }
            fn source(&self) -> Option<&Source> { Some(&self.source) }
            fn note(&self) -> Option<&Text> { self.note.as_ref() }
            fn aliases(&self) -> &[String] { &self.aliases }
            fn refs(&self) -> Vec<(&'static str, &RecordId)> {
                let $this = self;
                $refs
            }
        }
    };
}

fn opt<'a>(
    rel: &'static str,
    id: &'a Option<RecordId>,
) -> impl Iterator<Item = (&'static str, &'a RecordId)> {
    id.iter().map(move |id| (rel, id))
}

fn many<'a>(
    rel: &'static str,
    ids: &'a [RecordId],
) -> impl Iterator<Item = (&'static str, &'a RecordId)> {
    ids.iter().map(move |id| (rel, id))
}

/// Which document's taxonomy a risk, measure or guideline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// 人工智能安全治理框架 2.0.
    Fw2,
    /// 人工智能安全治理框架 1.0.
    Fw1,
    /// GB/T 45654-2025 annex A.
    Gbt45654,
}

impl Framework {
    /// Machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Fw2 => "fw2",
            Framework::Fw1 => "fw1",
            Framework::Gbt45654 => "gbt45654",
        }
    }
}

/// Depth of a risk in its taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Top-level class (3.1, 3.2, 3.3).
    Class,
    /// A group (3.1.1, A.1).
    Group,
    /// A lettered risk.
    Risk,
}

record! {
    /// A risk of a taxonomy (Framework 2.0 §3, Framework 1.0 §3, GB/T 45654 annex A).
    pub struct Risk {
        /// Taxonomy.
        pub framework: Framework,
        /// Depth.
        pub level: RiskLevel,
        /// Enclosing class or group.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent: Option<RecordId>,
        /// Framework 2.0 risks that cover this one.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub maps_to: Vec<RecordId>,
    }
    refs(r) { opt("parent", &r.parent).chain(many("maps_to", &r.maps_to)).collect() }
}

/// Technical or governance measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeasureKind {
    /// Technical countermeasure (§4).
    Technical,
    /// Governance measure (§5).
    Governance,
}

/// Heading or item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeasureLevel {
    /// A heading that groups items.
    Group,
    /// A measure.
    Measure,
}

record! {
    /// A technical or governance measure of a framework.
    pub struct Measure {
        /// Framework.
        pub framework: Framework,
        /// Technical or governance.
        pub kind: MeasureKind,
        /// Heading or item.
        pub level: MeasureLevel,
        /// Enclosing heading.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent: Option<RecordId>,
        /// Risks it answers.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub addresses: Vec<RecordId>,
    }
    refs(r) { opt("parent", &r.parent).chain(many("addresses", &r.addresses)).collect() }
}

record! {
    /// A development / deployment / operation / use guideline.
    pub struct Guideline {
        /// Framework.
        pub framework: Framework,
        /// Life-cycle stage.
        pub stage: String,
        /// Enclosing heading, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent: Option<RecordId>,
        /// Risks it answers.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub addresses: Vec<RecordId>,
    }
    refs(r) { opt("parent", &r.parent).chain(many("addresses", &r.addresses)).collect() }
}

record! {
    /// A grading factor of Framework 2.0 annex 1.
    pub struct GradingFactor {}
    refs(_r) { Vec::new() }
}

record! {
    /// One of the five risk levels of Framework 2.0 annex 1.
    pub struct GradingLevel {
        /// 1 (低) … 5 (特别重大).
        pub rank: u8,
    }
    refs(_r) { Vec::new() }
}

record! {
    /// A step of Framework 2.0 annex 1 section 三 (风险定级).
    pub struct GradingStep {
        /// Enclosing step.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent: Option<RecordId>,
    }
    refs(r) { opt("parent", &r.parent).collect() }
}

record! {
    /// A governance or trustworthy-AI principle.
    pub struct Principle {}
    refs(_r) { Vec::new() }
}

record! {
    /// A defined term.
    pub struct Term {}
    refs(_r) { Vec::new() }
}

record! {
    /// Practical advice of the Framework 1.0 overview.
    pub struct Practice {}
    refs(_r) { Vec::new() }
}

record! {
    /// A scenario of the Framework 1.0 overview.
    pub struct Scenario {}
    refs(_r) { Vec::new() }
}

record! {
    /// One of the five parts of the standards system.
    pub struct Part {}
    refs(_r) { Vec::new() }
}

record! {
    /// A key direction of the standards system (annex 3 tree).
    pub struct Direction {
        /// Enclosing part or direction.
        pub parent: RecordId,
        /// Key standards under it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub standards: Vec<RecordId>,
    }
    refs(r) { std::iter::once(("parent", &r.parent)).chain(many("standards", &r.standards)).collect() }
}

/// Later facts about a standard than the seed knew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardUpdate {
    /// Status now.
    pub status: String,
    /// Number now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Publication date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Effective date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    /// Where this is known from.
    pub source: Source,
}

record! {
    /// A standard or standard-like document.
    pub struct Standard {
        /// Number or plan number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub number: Option<String>,
        /// Status as of the seed.
        pub status: String,
        /// Kind of document.
        pub form: String,
        /// Directions of the standards system it belongs to.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub directions: Vec<RecordId>,
        /// Total number in annex 2 of the standards system.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub annex2_no: Option<u32>,
        /// Later status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub update: Option<StandardUpdate>,
    }
    refs(r) { many("directions", &r.directions).collect() }
}

impl Standard {
    /// Current status: the update's, else the seed's.
    pub fn current_status(&self) -> &str {
        self.update
            .as_ref()
            .map_or(self.status.as_str(), |u| u.status.as_str())
    }

    /// Current number: the update's, else the seed's.
    pub fn current_number(&self) -> Option<&str> {
        self.update
            .as_ref()
            .and_then(|u| u.number.as_deref())
            .or(self.number.as_deref())
    }
}

record! {
    /// A row of the standards system's risk → standard mapping.
    pub struct RiskMap {
        /// Framework 1.0 risk.
        pub risk: RecordId,
        /// The risk as the table writes it.
        pub risk_name_zh: String,
        /// Standards.
        pub standards: Vec<RecordId>,
    }
    refs(r) { std::iter::once(("risk", &r.risk)).chain(many("standards", &r.standards)).collect() }
}

record! {
    /// An aspect of the should-not-refuse bank.
    pub struct Aspect {
        /// `china` or `individual`.
        pub scope: String,
    }
    refs(_r) { Vec::new() }
}

/// Kinds of typed threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdKind {
    /// At least `value` of `of`.
    MinCount,
    /// Each risk (or each risk of a group) at least `value`.
    PerRiskMin,
    /// Each aspect at least `value`.
    PerAspectMin,
    /// Every listed risk / aspect present.
    Coverage,
    /// A rate at least `value` (0–1).
    MinRate,
    /// A rate at most `value` (0–1).
    MaxRate,
    /// At least `value` items drawn.
    MinSample,
    /// At least `value` (0–1) of the whole drawn.
    MinSampleFraction,
    /// Updated within `value` days.
    MaxAgeDays,
    /// Reachable within `value` clicks.
    MaxClicks,
    /// Suspend after `consecutive` in a row or `per_day` in one day.
    RepeatOffender,
    /// Kept at least `value` days.
    MinRetentionDays,
}

/// A typed threshold of a clause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Which kind.
    pub kind: ThresholdKind,
    /// The number (count, rate 0–1, days, clicks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// What is counted or rated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
    /// Risks or groups concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<RecordId>,
    /// Aspects concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aspects: Vec<RecordId>,
    /// Repeat-offender rule: offences in a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive: Option<u32>,
    /// Repeat-offender rule: offences in one day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u32>,
    /// Note shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

record! {
    /// A clause with numbers (GB/T 45654 and related rules).
    pub struct Clause {
        /// Standard id.
        pub standard: RecordId,
        /// Clause number as the standard writes it.
        pub section: String,
        /// How well it is verified.
        pub status: Verification,
        /// `requirement`, `reference` or `unknown`.
        pub basis: String,
        /// What is measured.
        pub applies_to: String,
        /// Risks or groups covered.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub risks: Vec<RecordId>,
        /// Aspects covered.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub aspects: Vec<RecordId>,
        /// Verdict values of an assessment-form clause.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub verdicts: Vec<String>,
        /// Typed thresholds.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub threshold: Vec<Threshold>,
    }
    refs(r) {
        let mut out: Vec<(&'static str, &RecordId)> = vec![("standard", &r.standard)];
        out.extend(many("risks", &r.risks));
        out.extend(many("aspects", &r.aspects));
        for t in &r.threshold {
            out.extend(many("risks", &t.risks));
            out.extend(many("aspects", &t.aspects));
        }
        out
    }
}

record! {
    /// A clause without numbers that an assessment must still answer.
    pub struct Requirement {
        /// Area.
        pub area: String,
        /// How well it is verified.
        pub status: Verification,
        /// `automated`, `partly_automated` or `attestation`.
        pub verification: String,
        /// anquan commands that automate the check.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub commands: Vec<String>,
        /// What a reviewer should see.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub evidence: Option<Text>,
        /// Standard id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub standard: Option<RecordId>,
        /// Risks concerned.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub risks: Vec<RecordId>,
    }
    refs(r) { opt("standard", &r.standard).chain(many("risks", &r.risks)).collect() }
}

record! {
    /// An explicit-label rule of GB 45438-2025.
    pub struct LabelRule {
        /// Modality.
        pub modality: String,
        /// How well it is verified.
        pub status: Verification,
        /// GB 45438 clause, as far as known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub section: Option<String>,
        /// Article of the CAC labelling Measures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub measures_article: Option<String>,
        /// Minimum text height as a share of the shortest side.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub min_text_height_ratio: Option<f64>,
        /// Minimum display time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub min_display_seconds: Option<f64>,
        /// Allowed positions.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub positions: Vec<String>,
        /// Audio rhythm label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub rhythm: Option<String>,
        /// Normal speech rate range, characters per minute.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub speech_rate_cpm: Vec<u32>,
        /// Each inner list: one of these must appear.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub required_elements: Vec<Vec<String>>,
    }
    refs(_r) { Vec::new() }
}

/// What one allowed value of a metadata field means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueMeaning {
    /// The value.
    pub value: String,
    /// Meaning in Chinese.
    pub zh: String,
    /// Meaning in English.
    pub en: String,
}

record! {
    /// An implicit-label metadata field of GB 45438-2025 annex E.
    pub struct LabelField {
        /// JSON key.
        pub key: String,
        /// Position 1–7.
        pub position: u8,
        /// Whether the field must be present.
        pub required: bool,
        /// How well it is verified.
        pub status: Verification,
        /// Allowed values.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub allowed_values: Vec<String>,
        /// What each allowed value means.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub value_meanings: Vec<ValueMeaning>,
        /// Character set rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub charset: Option<String>,
    }
    refs(_r) { Vec::new() }
}

record! {
    /// Where the implicit label goes in one file format.
    pub struct LabelContainer {
        /// Modality of the format.
        pub modality: String,
        /// File name extensions.
        pub extensions: Vec<String>,
        /// Location of the metadata.
        pub location: String,
        /// Other accepted locations.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub alternatives: Vec<String>,
        /// TC260 practice guide that fixes the placement.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub guide: Option<String>,
        /// How well it is verified.
        pub status: Verification,
    }
    refs(_r) { Vec::new() }
}

record! {
    /// A node of the white paper's testing framework.
    pub struct WpNode {
        /// goal, risk_area, testing or assurance.
        pub kind: String,
        /// Enclosing node.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent: Option<RecordId>,
        /// Framework 2.0 risks concerned.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub risks: Vec<RecordId>,
    }
    refs(r) { opt("parent", &r.parent).chain(many("risks", &r.risks)).collect() }
}

record! {
    /// A technical threat of the white paper, with detection and defence methods.
    pub struct Threat {
        /// Risks it realises.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub risks: Vec<RecordId>,
        /// Detection methods.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub detection: Vec<Text>,
        /// Defence methods.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub defence: Vec<Text>,
    }
    refs(r) { many("risks", &r.risks).collect() }
}

record! {
    /// A testing tool of the white paper's landscape.
    pub struct Tool {
        /// Who makes it.
        pub vendor: String,
        /// What it does.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub capabilities: Vec<Text>,
        /// Risks it tests.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub risks: Vec<RecordId>,
        /// The anquan command in the same role.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub anquan_command: Option<String>,
    }
    refs(r) { many("risks", &r.risks).collect() }
}

record! {
    /// An anquan command and the risks it tests.
    pub struct Command {
        /// The command line.
        pub command: String,
        /// `available` or `planned`.
        pub status: String,
        /// Project issue that builds it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub issue: Option<u32>,
        /// Risks it tests.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub tests: Vec<RecordId>,
    }
    refs(r) { many("tests", &r.tests).collect() }
}

/// A source document that records may cite (`catalog.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Stable id.
    pub id: RecordId,
    /// File name as cited in `source.file`.
    pub file: String,
    /// Bilingual name.
    pub name: Text,
    /// Bilingual description.
    pub description: Text,
}

impl Record for Document {
    fn id(&self) -> &RecordId {
        &self.id
    }
    fn name(&self) -> &Text {
        &self.name
    }
    fn description(&self) -> &Text {
        &self.description
    }
    fn source(&self) -> Option<&Source> {
        None
    }
    fn note(&self) -> Option<&Text> {
        None
    }
    fn aliases(&self) -> &[String] {
        &[]
    }
    fn refs(&self) -> Vec<(&'static str, &RecordId)> {
        Vec::new()
    }
}

/// A count the data must have, checked by `catalog validate` (`catalog.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountCheck {
    /// Record kind (`risk`, `guideline`, …).
    pub kind: String,
    /// Only records whose id starts with this.
    #[serde(default)]
    pub prefix: String,
    /// Only records with this `level`, for risks and measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Expected count.
    pub count: usize,
    /// Where the number comes from.
    pub source: Source,
}

impl Threshold {
    /// A short human-readable statement of the threshold, such as `≥ 10000 keywords`.
    pub fn describe(&self, lang: anquan_core::Lang) -> String {
        use anquan_core::Lang;
        let v = self.value.unwrap_or_default();
        let of_en = self.of.as_deref().unwrap_or("");
        let of = if lang == Lang::Zh {
            of_zh(of_en)
        } else {
            of_en
        };
        let ids = |ids: &[RecordId]| {
            ids.iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let aspects = |ids: &[RecordId]| {
            if ids.len() > 3 {
                if lang == Lang::Zh {
                    format!("全部 {} 个方面", ids.len())
                } else {
                    format!("all {} aspects", ids.len())
                }
            } else {
                ids.iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let pct = |x: f64| {
            let p = x * 100.0;
            if p.fract() == 0.0 {
                format!("{p:.0} %")
            } else {
                format!("{p} %")
            }
        };
        let zh = lang == Lang::Zh;
        match self.kind {
            ThresholdKind::MinCount => format!("≥ {v} {of}"),
            ThresholdKind::PerRiskMin => {
                if zh {
                    format!("{} 中每个风险 ≥ {v}", ids(&self.risks))
                } else {
                    format!("≥ {v} for each risk of {}", ids(&self.risks))
                }
            }
            ThresholdKind::PerAspectMin => {
                if zh {
                    format!("每个方面 ≥ {v}")
                } else {
                    format!("≥ {v} for each aspect")
                }
            }
            ThresholdKind::Coverage => {
                let what = if self.risks.is_empty() {
                    aspects(&self.aspects)
                } else {
                    ids(&self.risks)
                };
                if zh {
                    format!("覆盖 {what}")
                } else {
                    format!("covers {what}")
                }
            }
            ThresholdKind::MinRate => format!("{of} ≥ {}", pct(v)),
            ThresholdKind::MaxRate => format!("{of} ≤ {}", pct(v)),
            ThresholdKind::MinSample => {
                if zh {
                    format!("抽取 ≥ {v} {of}")
                } else {
                    format!("draw ≥ {v} {of}")
                }
            }
            ThresholdKind::MinSampleFraction => {
                if zh {
                    format!("抽取 ≥ {} {of}", pct(v))
                } else {
                    format!("draw ≥ {} of {of}", pct(v))
                }
            }
            ThresholdKind::MaxAgeDays => {
                if zh {
                    format!("更新间隔 ≤ {v} 天")
                } else {
                    format!("updated within {v} days")
                }
            }
            ThresholdKind::MaxClicks => {
                if zh {
                    format!("≤ {v} 次点击可达")
                } else {
                    format!("reachable in ≤ {v} clicks")
                }
            }
            ThresholdKind::RepeatOffender => {
                let c = self.consecutive.unwrap_or_default();
                let d = self.per_day.unwrap_or_default();
                if zh {
                    format!("连续 {c} 次或单日 {d} 次即暂停服务")
                } else {
                    format!("suspend after {c} in a row or {d} in one day")
                }
            }
            ThresholdKind::MinRetentionDays => {
                if zh {
                    format!("留存 ≥ {v} 天")
                } else {
                    format!("kept ≥ {v} days")
                }
            }
        }
    }
}

/// Chinese for the nouns thresholds count or rate; unknown nouns stay in English.
fn of_zh(of: &str) -> &str {
    match of {
        "keywords" => "个关键词",
        "questions" => "道题",
        "items" => "条",
        "qualified rate" => "合格率",
        "refusal rate" => "拒答率",
        "illegal content share" => "违法不良信息占比",
        "training corpus" => "训练语料",
        other => other,
    }
}
