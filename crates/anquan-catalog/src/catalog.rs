use std::collections::{BTreeMap, HashMap};

use anquan_core::{Lang, RecordId, Text};
use serde::Deserialize;

use crate::model::*;
use crate::rubric::RubricFile;

macro_rules! kinds {
    ($( $field:ident : $ty:ident => $kind:ident ;)*) => {
        /// The kinds of catalog record, one per `[[table]]` name in the data files.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( #[doc = concat!("`[[", stringify!($field), "]]`")] $kind, )*
            /// `[[document]]` in `catalog.toml`.
            Document,
        }

        impl Kind {
            /// Every kind.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind,)* Kind::Document];

            /// The table name in data files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Kind::$kind => stringify!($field), )*
                    Kind::Document => "document",
                }
            }
        }

        /// The records of one data file.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct FileRecords {
            $( #[serde(default)] pub(crate) $field: Vec<$ty>, )*
        }

        /// A borrowed record of any kind.
        #[derive(Debug, Clone, Copy)]
        pub enum RecordRef<'a> {
            $( #[doc = concat!("A `", stringify!($ty), "`.")] $kind(&'a $ty), )*
            /// A source document.
            Document(&'a Document),
        }

        impl<'a> RecordRef<'a> {
            fn inner(&self) -> &'a dyn Record {
                match *self {
                    $( RecordRef::$kind(r) => r, )*
                    RecordRef::Document(r) => r,
                }
            }

            /// The record's kind.
            pub fn kind(&self) -> Kind {
                match self {
                    $( RecordRef::$kind(_) => Kind::$kind, )*
                    RecordRef::Document(_) => Kind::Document,
                }
            }

            /// The record as JSON, with its kind added.
            pub fn to_json(&self) -> serde_json::Value {
                let mut value = match *self {
                    $( RecordRef::$kind(r) => serde_json::to_value(r), )*
                    RecordRef::Document(r) => serde_json::to_value(r),
                }
                .unwrap_or(serde_json::Value::Null);
                if let serde_json::Value::Object(map) = &mut value {
                    map.insert("kind".into(), self.kind().as_str().into());
                }
                value
            }
        }

        impl Records {
            fn extend(&mut self, file: &str, other: FileRecords, origins: &mut Vec<(Kind, String, usize)>) {
                $(
                    for rec in other.$field {
                        origins.push((Kind::$kind, file.to_owned(), self.$field.len()));
                        self.$field.push(rec);
                    }
                )*
            }

            fn get(&self, kind: Kind, index: usize) -> Option<RecordRef<'_>> {
                match kind {
                    $( Kind::$kind => self.$field.get(index).map(RecordRef::$kind), )*
                    Kind::Document => self.document.get(index).map(RecordRef::Document),
                }
            }
        }

        /// All records of the catalog, by kind, in load order.
        #[derive(Debug, Default, Clone)]
        pub struct Records {
            $( #[doc = concat!("`[[", stringify!($field), "]]` records.")] pub $field: Vec<$ty>, )*
            /// Source documents.
            pub document: Vec<Document>,
        }
    };
}

kinds! {
    risk: Risk => Risk;
    measure: Measure => Measure;
    guideline: Guideline => Guideline;
    grading_factor: GradingFactor => GradingFactor;
    grading_level: GradingLevel => GradingLevel;
    grading_step: GradingStep => GradingStep;
    principle: Principle => Principle;
    term: Term => Term;
    practice: Practice => Practice;
    scenario: Scenario => Scenario;
    part: Part => Part;
    direction: Direction => Direction;
    standard: Standard => Standard;
    risk_map: RiskMap => RiskMap;
    aspect: Aspect => Aspect;
    clause: Clause => Clause;
    requirement: Requirement => Requirement;
    label_rule: LabelRule => LabelRule;
    label_field: LabelField => LabelField;
    label_container: LabelContainer => LabelContainer;
    wp_node: WpNode => WpNode;
    threat: Threat => Threat;
    tool: Tool => Tool;
    command: Command => Command;
}

impl<'a> RecordRef<'a> {
    /// Stable id.
    pub fn id(&self) -> &'a RecordId {
        self.inner().id()
    }
    /// Bilingual name.
    pub fn name(&self) -> &'a Text {
        self.inner().name()
    }
    /// Bilingual description.
    pub fn description(&self) -> &'a Text {
        self.inner().description()
    }
    /// Source.
    pub fn source(&self) -> Option<&'a Source> {
        self.inner().source()
    }
    /// Note shown to users.
    pub fn note(&self) -> Option<&'a Text> {
        self.inner().note()
    }
    /// Other names.
    pub fn aliases(&self) -> &'a [String] {
        self.inner().aliases()
    }
    /// Outgoing references.
    pub fn refs(&self) -> Vec<(&'static str, &'a RecordId)> {
        self.inner().refs()
    }
    /// The name in `lang`.
    pub fn title(&self, lang: Lang) -> &'a str {
        self.name().get(lang)
    }
}

/// Catalog metadata from `catalog.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Meta {
    pub(crate) version: String,
    pub(crate) updated: String,
    #[serde(default)]
    pub(crate) document: Vec<Document>,
    #[serde(default)]
    pub(crate) count_check: Vec<CountCheck>,
}

/// The loaded catalog with its index.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Where it was loaded from (`embedded` or a folder path).
    pub origin: String,
    /// Catalog data version.
    pub version: String,
    /// Date of the data.
    pub updated: String,
    /// All records.
    pub records: Records,
    /// The grading rubric, when `grading/rubric.toml` is present.
    pub rubric: Option<RubricFile>,
    /// The radical-supplement look-alike table.
    pub radicals: Vec<crate::radicals::RadicalMap>,
    /// Counts the data must have.
    pub count_checks: Vec<CountCheck>,
    /// (kind, file, index) of each record in load order.
    pub(crate) origins: Vec<(Kind, String, usize)>,
    /// id → position in `origins` (first occurrence).
    pub(crate) index: HashMap<String, usize>,
    /// id → records that reference it: (relation, referrer id).
    pub(crate) reverse: BTreeMap<String, Vec<(&'static str, String)>>,
}

impl Catalog {
    pub(crate) fn assemble(
        origin: String,
        meta: Meta,
        files: Vec<(String, FileRecords)>,
        rubric: Option<RubricFile>,
        radicals: Vec<crate::radicals::RadicalMap>,
    ) -> Catalog {
        let mut records = Records::default();
        let mut origins = Vec::new();
        for (file, recs) in files {
            records.extend(&file, recs, &mut origins);
        }
        for doc in meta.document {
            origins.push((
                Kind::Document,
                "catalog.toml".to_owned(),
                records.document.len(),
            ));
            records.document.push(doc);
        }
        let mut catalog = Catalog {
            origin,
            version: meta.version,
            updated: meta.updated,
            records,
            rubric,
            radicals,
            count_checks: meta.count_check,
            origins,
            index: HashMap::new(),
            reverse: BTreeMap::new(),
        };
        catalog.build_index();
        catalog
    }

    fn build_index(&mut self) {
        let mut index = HashMap::new();
        let mut reverse: BTreeMap<String, Vec<(&'static str, String)>> = BTreeMap::new();
        for (pos, (kind, _, i)) in self.origins.iter().enumerate() {
            if let Some(rec) = self.records.get(*kind, *i) {
                index.entry(rec.id().to_string()).or_insert(pos);
                for (rel, target) in rec.refs() {
                    reverse
                        .entry(target.to_string())
                        .or_default()
                        .push((rel, rec.id().to_string()));
                }
            }
        }
        self.index = index;
        self.reverse = reverse;
    }

    /// A folder of radical look-alikes built from the catalog's table.
    pub fn radical_folder(&self) -> crate::radicals::RadicalFolder {
        crate::radicals::RadicalFolder::new(&self.radicals)
    }

    /// Every record in load order, with the file it came from.
    pub fn iter(&self) -> impl Iterator<Item = (RecordRef<'_>, &str)> {
        self.origins
            .iter()
            .filter_map(|(kind, file, i)| self.records.get(*kind, *i).map(|r| (r, file.as_str())))
    }

    /// The record with this id.
    pub fn get(&self, id: &str) -> Option<RecordRef<'_>> {
        let pos = *self.index.get(id)?;
        let (kind, _, i) = &self.origins[pos];
        self.records.get(*kind, *i)
    }

    /// The file a record came from.
    pub fn file_of(&self, id: &str) -> Option<&str> {
        let pos = *self.index.get(id)?;
        Some(self.origins[pos].1.as_str())
    }

    /// Records that reference `id`: (relation, referrer).
    pub fn referrers(&self, id: &str) -> Vec<(&'static str, RecordRef<'_>)> {
        self.reverse
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|(rel, from)| self.get(from).map(|r| (*rel, r)))
            .collect()
    }

    /// The risk with this id.
    pub fn risk(&self, id: &str) -> Option<&Risk> {
        match self.get(id)? {
            RecordRef::Risk(r) => Some(r),
            _ => None,
        }
    }

    /// The clause with this id.
    pub fn clause(&self, id: &str) -> Option<&Clause> {
        match self.get(id)? {
            RecordRef::Clause(c) => Some(c),
            _ => None,
        }
    }

    /// Every clause with numbers, in load order.
    pub fn clauses(&self) -> impl Iterator<Item = &Clause> {
        self.records.clause.iter()
    }

    /// Risks of one framework, in load order.
    pub fn risks(&self, framework: Framework) -> impl Iterator<Item = &Risk> {
        self.records
            .risk
            .iter()
            .filter(move |r| r.framework == framework)
    }

    /// Direct children of a risk.
    pub fn risk_children(&self, id: &str) -> impl Iterator<Item = &Risk> {
        let id = id.to_owned();
        self.records
            .risk
            .iter()
            .filter(move |r| r.parent.as_ref().is_some_and(|p| p.as_str() == id))
    }

    /// The lettered risks a risk id stands for: itself when it is a lettered risk, else every
    /// lettered risk beneath it.
    pub fn expand_risks(&self, id: &str) -> Vec<&Risk> {
        let mut out = Vec::new();
        let mut stack = vec![id.to_owned()];
        while let Some(cur) = stack.pop() {
            if let Some(r) = self.risk(&cur) {
                if r.level == RiskLevel::Risk {
                    out.push(r);
                }
                stack.extend(self.risk_children(&cur).map(|c| c.id.to_string()));
            }
        }
        out.sort_by(|a, b| crate::natural::cmp(a.id.as_str(), b.id.as_str()));
        out
    }

    /// Ids that are close to `id`, for "did you mean" hints: ids containing it, else ids under
    /// its parent (`A.1.z` suggests `A.1`, `A.1.a`, …).
    pub fn suggest(&self, id: &str) -> Vec<String> {
        let mut needle = id.to_lowercase();
        let mut hits: Vec<String> = Vec::new();
        for _ in 0..3 {
            hits = self
                .index
                .keys()
                .filter(|k| {
                    let k = k.to_lowercase();
                    k.ends_with(&format!(".{needle}"))
                        || k.starts_with(&needle)
                        || k.contains(&needle)
                })
                .cloned()
                .collect();
            match needle.rfind('.') {
                Some(cut) if hits.is_empty() && cut > 0 => needle.truncate(cut),
                _ => break,
            }
        }
        hits.sort_by(|a, b| crate::natural::cmp(a, b));
        hits.truncate(8);
        hits
    }
}
