use std::collections::{BTreeMap, HashMap, HashSet};

use crate::catalog::{Catalog, Kind, RecordRef};
use crate::error::Problem;
use crate::load::{META_FILE, RUBRIC_FILE};
use crate::model::*;
use crate::natural;

/// Confidence tags of `standards.md`.
const CONFIDENCE_TAGS: &[&str] = &["P", "S", "S×2", "S×3", "S×4", "S×5", "U", "?"];
const GUIDELINE_STAGES: &[&str] = &[
    "development",
    "deployment",
    "operation",
    "use",
    "provision",
    "key_sector_use",
    "public_use",
];
const STANDARD_STATUSES: &[&str] = &[
    "published",
    "draft_for_approval",
    "draft_for_comments",
    "drafting",
    "planned",
];
const STANDARD_FORMS: &[&str] = &[
    "national_mandatory",
    "national_recommended",
    "technical_document",
    "practice_guide",
    "group_standard",
    "regulation",
    "unknown",
];
const VERIFICATION_METHODS: &[&str] = &["automated", "partly_automated", "attestation"];
const COMMAND_STATUSES: &[&str] = &["available", "planned"];
const FACTORS: &[&str] = &["scenario", "intelligence", "scale"];

/// Is `c` a Kangxi radical or a CJK radical-supplement form (PDF-extraction look-alikes)?
pub(crate) fn is_radical_lookalike(c: char) -> bool {
    crate::radicals::is_kangxi(c) || crate::radicals::is_supplement(c)
}

fn check_radicals(cx: &mut Ctx<'_>) {
    let f = crate::load::RADICALS_FILE;
    if cx.catalog.radicals.is_empty() {
        cx.push(
            f,
            None,
            "missing or empty: the radical look-alike table is required",
        );
    }
    let mut seen = HashSet::new();
    for r in &cx.catalog.radicals.clone() {
        let at = format!("U+{:04X}", r.char as u32);
        if !crate::radicals::is_supplement(r.char) {
            cx.push(
                f,
                Some(&at),
                format!(
                    "`char` `{}` is not in the CJK radical-supplement block U+2E80-U+2EFF",
                    r.char
                ),
            );
        }
        if !matches!(r.standard as u32, 0x3400..=0x9FFF | 0x20000..=0x3FFFF) {
            cx.push(
                f,
                Some(&at),
                format!("`standard` `{}` is not a CJK unified ideograph", r.standard),
            );
        }
        if !seen.insert(r.char) {
            cx.push(f, Some(&at), "duplicate entry");
        }
    }
}

fn strings_of(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings_of(v, out)),
        serde_json::Value::Object(m) => m.values().for_each(|v| strings_of(v, out)),
        _ => {}
    }
}

struct Ctx<'a> {
    catalog: &'a Catalog,
    problems: Vec<Problem>,
    seed_files: HashSet<String>,
}

impl Ctx<'_> {
    fn push(&mut self, file: &str, id: Option<&str>, msg: impl Into<String>) {
        self.problems.push(Problem::new(file, id, msg));
    }

    fn check_source(&mut self, file: &str, id: &str, what: &str, source: &Source) {
        if !self.seed_files.contains(&source.file) {
            let mut known: Vec<_> = self.seed_files.iter().cloned().collect();
            known.sort();
            self.push(file, Some(id), format!("{what}: unknown source file `{}`; expected one of the documents in `catalog.toml`: {}", source.file, known.join(", ")));
        }
        if source.section.trim().is_empty() {
            self.push(file, Some(id), format!("{what}: `source.section` is empty"));
        }
        if source.file == "standards.md" {
            match &source.confidence {
                None => self.push(
                    file,
                    Some(id),
                    format!(
                        "{what}: a `standards.md` source needs `confidence` (one of {})",
                        CONFIDENCE_TAGS.join(", ")
                    ),
                ),
                Some(c) if !CONFIDENCE_TAGS.contains(&c.as_str()) => self.push(
                    file,
                    Some(id),
                    format!(
                        "{what}: unknown confidence `{c}`; expected one of {}",
                        CONFIDENCE_TAGS.join(", ")
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    /// The target of a reference must exist and be of one of `kinds`.
    fn check_ref(&mut self, file: &str, id: &str, rel: &str, target: &str, kinds: &[Kind]) {
        match self.catalog.get(target) {
            None => {
                let hint = self.catalog.suggest(target);
                let hint = if hint.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (did you mean {}?)",
                        hint.iter()
                            .map(|h| format!("`{h}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                self.push(
                    file,
                    Some(id),
                    format!("`{rel}` refers to `{target}`, which does not exist{hint}"),
                );
            }
            Some(r) if !kinds.is_empty() && !kinds.contains(&r.kind()) => {
                let expected: Vec<_> = kinds.iter().map(|k| k.as_str()).collect();
                self.push(
                    file,
                    Some(id),
                    format!(
                        "`{rel}` refers to `{target}`, a `{}`; expected a {}",
                        r.kind().as_str(),
                        expected.join(" or ")
                    ),
                );
            }
            Some(_) => {}
        }
    }

    fn one_of(&mut self, file: &str, id: &str, field: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                file,
                Some(id),
                format!(
                    "`{field}` is `{value}`; expected one of {}",
                    allowed.join(", ")
                ),
            );
        }
    }
}

impl Catalog {
    /// Check the whole catalog and return every problem found. An empty list means valid.
    pub fn validate(&self) -> Vec<Problem> {
        let seed_files = self
            .records
            .document
            .iter()
            .map(|d| d.file.clone())
            .collect();
        let mut cx = Ctx {
            catalog: self,
            problems: Vec::new(),
            seed_files,
        };
        if self.records.document.is_empty() {
            cx.push(
                META_FILE,
                None,
                "no `[[document]]` records: every source a record cites must be listed",
            );
        }
        check_common(&mut cx);
        check_order(&mut cx);
        check_kinds(&mut cx);
        check_counts(&mut cx);
        check_rubric(&mut cx);
        check_radicals(&mut cx);
        cx.problems
    }
}

fn check_common(cx: &mut Ctx<'_>) {
    let mut seen: HashMap<String, String> = HashMap::new();
    let items: Vec<(RecordRef<'_>, String)> =
        cx.catalog.iter().map(|(r, f)| (r, f.to_owned())).collect();
    for (rec, file) in &items {
        let id = rec.id().as_str();
        if let Some(first) = seen.get(id) {
            cx.push(
                file,
                Some(id),
                format!("duplicate id: also defined in `{first}`"),
            );
        } else {
            seen.insert(id.to_owned(), file.clone());
        }
        for (what, text) in [
            ("name", Some(rec.name())),
            ("description", Some(rec.description())),
            ("note", rec.note()),
        ] {
            if let Some(text) = text {
                if text.zh.trim().is_empty() {
                    cx.push(
                        file,
                        Some(id),
                        format!("`{what}.zh` is empty: every record needs Chinese and English"),
                    );
                }
                if text.en.trim().is_empty() {
                    cx.push(
                        file,
                        Some(id),
                        format!("`{what}.en` is empty: every record needs Chinese and English"),
                    );
                }
            }
        }
        if let Some(source) = rec.source() {
            cx.check_source(file, id, "source", source);
        }
        let mut strings = Vec::new();
        strings_of(&rec.to_json(), &mut strings);
        if let Some(bad) = strings
            .iter()
            .find_map(|s| s.chars().find(|c| is_radical_lookalike(*c)))
        {
            cx.push(file, Some(id), format!("contains the radical look-alike `{bad}` (U+{:04X}); write the standard ideograph", bad as u32));
        }
    }
}

fn check_order(cx: &mut Ctx<'_>) {
    let mut groups: BTreeMap<(String, Kind), Vec<String>> = BTreeMap::new();
    for (rec, file) in cx.catalog.iter() {
        groups
            .entry((file.to_owned(), rec.kind()))
            .or_default()
            .push(rec.id().to_string());
    }
    for ((file, kind), ids) in groups {
        let mut sorted = ids.clone();
        sorted.sort_by(|a, b| natural::cmp(a, b));
        if sorted != ids {
            let first = ids
                .iter()
                .zip(&sorted)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            cx.push(&file, Some(&ids[first]), format!("`[[{}]]` records are not in canonical (natural id) order: `{}` should come where `{}` is", kind.as_str(), sorted[first], ids[first]));
        }
    }
}

fn check_kinds(cx: &mut Ctx<'_>) {
    let catalog = cx.catalog;
    let items: Vec<(RecordRef<'_>, String)> =
        catalog.iter().map(|(r, f)| (r, f.to_owned())).collect();
    for (rec, file) in &items {
        let file = file.as_str();
        let id = rec.id().as_str();
        match *rec {
            RecordRef::Risk(r) => {
                if anquan_core::RiskId::new(id).is_err() {
                    cx.push(
                        file,
                        Some(id),
                        "not a valid risk id (expected `A.1.c` or `fw2.3.1.1.a` shape)",
                    );
                }
                let prefix_ok = match r.framework {
                    Framework::Fw2 => id.starts_with("fw2."),
                    Framework::Fw1 => id.starts_with("fw1."),
                    Framework::Gbt45654 => id.starts_with("A."),
                };
                if !prefix_ok {
                    cx.push(
                        file,
                        Some(id),
                        format!(
                            "id does not match `framework = \"{}\"`",
                            r.framework.as_str()
                        ),
                    );
                }
                if let Some(p) = &r.parent {
                    cx.check_ref(file, id, "parent", p.as_str(), &[Kind::Risk]);
                } else if r.level != RiskLevel::Class && r.framework != Framework::Gbt45654 {
                    cx.push(file, Some(id), "a group or lettered risk needs a `parent`");
                }
                if r.level == RiskLevel::Risk
                    && r.framework != Framework::Fw2
                    && r.maps_to.is_empty()
                {
                    cx.push(file, Some(id), "a lettered risk of Framework 1.0 or GB/T 45654 needs `maps_to` (the Framework 2.0 risks that cover it)");
                }
                for t in &r.maps_to {
                    cx.check_ref(file, id, "maps_to", t.as_str(), &[Kind::Risk]);
                    if let Some(target) = catalog.risk(t.as_str())
                        && target.framework != Framework::Fw2
                    {
                        cx.push(
                            file,
                            Some(id),
                            format!("`maps_to` must name Framework 2.0 risks; `{t}` is not one"),
                        );
                    }
                }
            }
            RecordRef::Measure(m) => {
                for (rel, t) in m.parent.iter().map(|p| ("parent", p)) {
                    cx.check_ref(file, id, rel, t.as_str(), &[Kind::Measure]);
                }
                for t in &m.addresses {
                    cx.check_ref(file, id, "addresses", t.as_str(), &[Kind::Risk]);
                }
                if m.kind == MeasureKind::Technical
                    && m.level == MeasureLevel::Measure
                    && m.addresses.is_empty()
                {
                    cx.push(
                        file,
                        Some(id),
                        "a technical measure needs `addresses` (the risks it answers)",
                    );
                }
            }
            RecordRef::Guideline(g) => {
                cx.one_of(file, id, "stage", &g.stage, GUIDELINE_STAGES);
                if let Some(p) = &g.parent {
                    cx.check_ref(file, id, "parent", p.as_str(), &[Kind::Guideline]);
                }
                for t in &g.addresses {
                    cx.check_ref(file, id, "addresses", t.as_str(), &[Kind::Risk]);
                }
            }
            RecordRef::GradingStep(s) => {
                if let Some(p) = &s.parent {
                    cx.check_ref(file, id, "parent", p.as_str(), &[Kind::GradingStep]);
                }
            }
            RecordRef::Direction(d) => {
                cx.check_ref(
                    file,
                    id,
                    "parent",
                    d.parent.as_str(),
                    &[Kind::Part, Kind::Direction],
                );
                for t in &d.standards {
                    cx.check_ref(file, id, "standards", t.as_str(), &[Kind::Standard]);
                }
            }
            RecordRef::Standard(s) => {
                cx.one_of(file, id, "status", &s.status, STANDARD_STATUSES);
                cx.one_of(file, id, "form", &s.form, STANDARD_FORMS);
                for t in &s.directions {
                    cx.check_ref(file, id, "directions", t.as_str(), &[Kind::Direction]);
                }
                if let Some(u) = &s.update {
                    cx.one_of(file, id, "update.status", &u.status, STANDARD_STATUSES);
                    cx.check_source(file, id, "update.source", &u.source);
                }
            }
            RecordRef::RiskMap(m) => {
                cx.check_ref(file, id, "risk", m.risk.as_str(), &[Kind::Risk]);
                for t in &m.standards {
                    cx.check_ref(file, id, "standards", t.as_str(), &[Kind::Standard]);
                }
            }
            RecordRef::Aspect(a) => {
                cx.one_of(file, id, "scope", &a.scope, &["china", "individual"])
            }
            RecordRef::Clause(c) => check_clause(cx, file, c),
            RecordRef::Requirement(r) => {
                cx.one_of(
                    file,
                    id,
                    "verification",
                    &r.verification,
                    VERIFICATION_METHODS,
                );
                if let Some(s) = &r.standard {
                    cx.check_ref(file, id, "standard", s.as_str(), &[Kind::Standard]);
                }
                for t in &r.risks {
                    cx.check_ref(file, id, "risks", t.as_str(), &[Kind::Risk]);
                }
                if r.verification != "attestation" && r.commands.is_empty() {
                    cx.push(file, Some(id), "an automated check needs `commands` (the anquan commands that automate it)");
                }
                for c in &r.commands {
                    if !catalog
                        .records
                        .command
                        .iter()
                        .any(|k| c.starts_with(&k.command))
                    {
                        cx.push(file, Some(id), format!("`commands` names `{c}`, which is no command of `anquan/commands.toml`"));
                    }
                }
            }
            RecordRef::WpNode(n) => {
                if let Some(p) = &n.parent {
                    cx.check_ref(file, id, "parent", p.as_str(), &[Kind::WpNode]);
                }
                for t in &n.risks {
                    cx.check_ref(file, id, "risks", t.as_str(), &[Kind::Risk]);
                }
            }
            RecordRef::Threat(t) => {
                for r in &t.risks {
                    cx.check_ref(file, id, "risks", r.as_str(), &[Kind::Risk]);
                }
            }
            RecordRef::Tool(t) => {
                for r in &t.risks {
                    cx.check_ref(file, id, "risks", r.as_str(), &[Kind::Risk]);
                }
                if let Some(c) = &t.anquan_command
                    && !catalog
                        .records
                        .command
                        .iter()
                        .any(|k| c.starts_with(&k.command))
                {
                    cx.push(file, Some(id), format!("`anquan_command` is `{c}`, which is no command of `anquan/commands.toml`"));
                }
            }
            RecordRef::Command(c) => {
                cx.one_of(file, id, "status", &c.status, COMMAND_STATUSES);
                for r in &c.tests {
                    cx.check_ref(file, id, "tests", r.as_str(), &[Kind::Risk]);
                }
            }
            RecordRef::GradingLevel(l) if !(1..=5).contains(&l.rank) => {
                cx.push(
                    file,
                    Some(id),
                    format!("`rank` is {}; expected 1 to 5", l.rank),
                );
            }
            RecordRef::LabelField(f) if !(1..=7).contains(&f.position) => {
                cx.push(
                    file,
                    Some(id),
                    format!("`position` is {}; expected 1 to 7", f.position),
                );
            }
            RecordRef::LabelRule(r) => {
                if let Some(v) = r.min_text_height_ratio
                    && !(0.0..=1.0).contains(&v)
                {
                    cx.push(
                        file,
                        Some(id),
                        format!("`min_text_height_ratio` is {v}; expected a share between 0 and 1"),
                    );
                }
            }
            _ => {}
        }
    }
    let mut ranks: Vec<u8> = catalog
        .records
        .grading_level
        .iter()
        .map(|l| l.rank)
        .collect();
    ranks.sort_unstable();
    if !catalog.records.grading_level.is_empty() && ranks != [1, 2, 3, 4, 5] {
        cx.push(
            "fw2/grading.toml",
            None,
            format!("grading levels must have ranks 1 to 5 once each; found {ranks:?}"),
        );
    }
}

fn check_clause(cx: &mut Ctx<'_>, file: &str, c: &Clause) {
    let id = c.id.as_str();
    if anquan_core::ClauseId::new(id).is_err() {
        cx.push(
            file,
            Some(id),
            "not a valid clause id (lowercase dotted segments such as `gbt45654.keywords.size`)",
        );
    }
    cx.check_ref(file, id, "standard", c.standard.as_str(), &[Kind::Standard]);
    cx.one_of(
        file,
        id,
        "basis",
        &c.basis,
        &["requirement", "reference", "unknown"],
    );
    for r in &c.risks {
        cx.check_ref(file, id, "risks", r.as_str(), &[Kind::Risk]);
    }
    for a in &c.aspects {
        cx.check_ref(file, id, "aspects", a.as_str(), &[Kind::Aspect]);
    }
    if c.threshold.is_empty() && c.verdicts.is_empty() {
        cx.push(file, Some(id), "a clause needs at least one `[[clause.threshold]]` (or `verdicts` for an assessment-form clause)");
    }
    for (i, t) in c.threshold.iter().enumerate() {
        let at = format!("threshold #{} (`{:?}`)", i + 1, t.kind);
        for r in &t.risks {
            cx.check_ref(file, id, "threshold.risks", r.as_str(), &[Kind::Risk]);
        }
        for a in &t.aspects {
            cx.check_ref(file, id, "threshold.aspects", a.as_str(), &[Kind::Aspect]);
        }
        let needs_value = !matches!(
            t.kind,
            ThresholdKind::Coverage | ThresholdKind::RepeatOffender
        );
        match t.value {
            None if needs_value => cx.push(file, Some(id), format!("{at}: missing `value`")),
            Some(v) => {
                let rate = matches!(
                    t.kind,
                    ThresholdKind::MinRate
                        | ThresholdKind::MaxRate
                        | ThresholdKind::MinSampleFraction
                );
                if rate && !(0.0..=1.0).contains(&v) {
                    cx.push(file, Some(id), format!("{at}: `value` is {v}; a rate is written as a share between 0 and 1 (0.95, not 95)"));
                }
                if !rate && (v < 0.0 || v.fract() != 0.0) {
                    cx.push(
                        file,
                        Some(id),
                        format!("{at}: `value` is {v}; expected a whole number"),
                    );
                }
            }
            None => {}
        }
        match t.kind {
            ThresholdKind::PerRiskMin if t.risks.is_empty() => {
                cx.push(file, Some(id), format!("{at}: needs `risks`"))
            }
            ThresholdKind::Coverage if t.risks.is_empty() && t.aspects.is_empty() => {
                cx.push(file, Some(id), format!("{at}: needs `risks` or `aspects`"))
            }
            ThresholdKind::RepeatOffender if t.consecutive.is_none() || t.per_day.is_none() => cx
                .push(
                    file,
                    Some(id),
                    format!("{at}: needs `consecutive` and `per_day`"),
                ),
            _ => {}
        }
    }
}

fn check_counts(cx: &mut Ctx<'_>) {
    let checks = cx.catalog.count_checks.clone();
    for check in &checks {
        let count = cx
            .catalog
            .iter()
            .filter(|(r, _)| {
                r.kind().as_str() == check.kind && r.id().as_str().starts_with(&check.prefix)
            })
            .filter(|(r, _)| match (&check.level, r) {
                (None, _) => true,
                (Some(level), RecordRef::Risk(x)) => {
                    format!("{:?}", x.level).eq_ignore_ascii_case(level)
                }
                (Some(level), RecordRef::Measure(x)) => {
                    format!("{:?}", x.level).eq_ignore_ascii_case(level)
                }
                (Some(_), _) => false,
            })
            .count();
        if count != check.count {
            let level = check
                .level
                .as_deref()
                .map(|l| format!(" at level `{l}`"))
                .unwrap_or_default();
            cx.push(META_FILE, None, format!("expected {} `{}` records with ids starting `{}`{level} (per {}), found {count}", check.count, check.kind, check.prefix, check.source.display()));
        }
    }
}

fn check_rubric(cx: &mut Ctx<'_>) {
    let Some(rubric) = cx.catalog.rubric.clone() else {
        cx.push(RUBRIC_FILE, None, "missing: the grading rubric is required");
        return;
    };
    let f = RUBRIC_FILE;
    let r = &rubric.rubric;
    cx.check_source(f, r.id.as_str(), "rubric.source", &r.source);
    let sum: f64 = r.weights.values().sum();
    if (sum - 1.0).abs() > 1e-9 {
        cx.push(
            f,
            Some(r.id.as_str()),
            format!("`weights` sum to {sum}; expected 1"),
        );
    }
    for factor in FACTORS {
        if !r.weights.contains_key(*factor) {
            cx.push(
                f,
                Some(r.id.as_str()),
                format!("`weights` has no `{factor}`"),
            );
        }
    }
    if r.cuts.len() != 4 || r.cuts.windows(2).any(|w| w[0] >= w[1]) {
        cx.push(
            f,
            Some(r.id.as_str()),
            format!("`cuts` must be 4 ascending numbers; found {:?}", r.cuts),
        );
    }
    let mut keys = HashSet::new();
    let mut scored: HashSet<&str> = HashSet::new();
    for q in &rubric.question {
        let qid = q.id.as_str();
        cx.check_source(f, qid, "source", &q.source);
        if !keys.insert(q.key.clone()) {
            cx.push(f, Some(qid), format!("duplicate question key `{}`", q.key));
        }
        let is_scored = FACTORS.contains(&q.factor.as_str());
        if !is_scored && q.factor != "intake" {
            cx.push(
                f,
                Some(qid),
                format!(
                    "`factor` is `{}`; expected scenario, intelligence, scale or intake",
                    q.factor
                ),
            );
        }
        if is_scored {
            scored.insert(
                FACTORS
                    .iter()
                    .find(|x| **x == q.factor)
                    .copied()
                    .unwrap_or_default(),
            );
        }
        if q.option.len() < 2 {
            cx.push(f, Some(qid), "a question needs at least two options");
        }
        let mut values = HashSet::new();
        for o in &q.option {
            if !values.insert(o.value.clone()) {
                cx.push(
                    f,
                    Some(qid),
                    format!("duplicate option value `{}`", o.value),
                );
            }
            match (is_scored, o.score) {
                (true, None) => cx.push(
                    f,
                    Some(qid),
                    format!("option `{}` needs a `score` (1-5)", o.value),
                ),
                (true, Some(s)) if !(1..=5).contains(&s) => cx.push(
                    f,
                    Some(qid),
                    format!("option `{}` has score {s}; expected 1-5", o.value),
                ),
                (false, Some(_)) => cx.push(
                    f,
                    Some(qid),
                    format!(
                        "option `{}` of an intake question must not have a `score`",
                        o.value
                    ),
                ),
                _ => {}
            }
            if let Some(floor) = o.floor {
                if !(1..=5).contains(&floor) {
                    cx.push(
                        f,
                        Some(qid),
                        format!("option `{}` has floor {floor}; expected 1-5", o.value),
                    );
                }
                if o.reason.is_none() {
                    cx.push(
                        f,
                        Some(qid),
                        format!("option `{}` has a floor but no `reason`", o.value),
                    );
                }
            }
            for c in &o.controls {
                cx.check_ref(
                    f,
                    qid,
                    "controls",
                    c.as_str(),
                    &[Kind::Measure, Kind::Guideline, Kind::Principle],
                );
            }
        }
    }
    for factor in FACTORS {
        if !scored.contains(factor) {
            cx.push(f, None, format!("no question scores the `{factor}` factor"));
        }
    }
    let mut lane_levels: Vec<u8> = rubric.lane.iter().flat_map(|l| l.levels.clone()).collect();
    lane_levels.sort_unstable();
    if lane_levels != [1, 2, 3, 4, 5] {
        cx.push(
            f,
            None,
            format!("lanes must cover levels 1 to 5 once each; found {lane_levels:?}"),
        );
    }
    for lc in &rubric.level_controls {
        for c in &lc.controls {
            cx.check_ref(
                f,
                &format!("level_controls.{}", lc.level),
                "controls",
                c.as_str(),
                &[Kind::Measure, Kind::Guideline, Kind::Principle],
            );
        }
    }
}
