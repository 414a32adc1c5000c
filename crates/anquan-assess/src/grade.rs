use std::collections::BTreeSet;

use anquan_catalog::rubric::{Question, QuestionOption, RubricFile};
use anquan_catalog::{Catalog, natural};
use anquan_core::{Text, Verification};
use serde::Serialize;

use crate::answers::Answers;
use crate::error::{GradeError, Result};

/// Version of the JSON shape of a [`Grade`].
pub const GRADE_SCHEMA: &str = "anquan.grade.v1";

/// One factor's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactorScore {
    /// `scenario`, `intelligence` or `scale`.
    pub factor: String,
    /// Its weight.
    pub weight: f64,
    /// Its score 1–5 (the highest among its answered questions).
    pub score: u8,
    /// The answers that set the score (`key=value`).
    pub set_by: Vec<String>,
}

/// A floor that raised the level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorApplied {
    /// `key=value` of the answer.
    pub answer: String,
    /// Minimum level it imposes.
    pub floor: u8,
    /// Why.
    pub reason: Text,
}

/// An answer that drove the result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Driver {
    /// Question key.
    pub key: String,
    /// Option value.
    pub value: String,
    /// The question.
    pub question: Text,
    /// The answer's label.
    pub answer: Text,
    /// Why it matters (bilingual).
    pub why: Text,
}

/// A control (measure, guideline or principle) that applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlRef {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: &'static str,
    /// Its name.
    pub name: Text,
    /// Why it applies: `level N` or the answer `key=value`.
    pub because: String,
}

/// A clause that applies, with its thresholds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClauseRef {
    /// Clause id.
    pub id: String,
    /// Its name.
    pub name: Text,
    /// Verification status.
    pub status: Verification,
    /// Thresholds, described.
    pub thresholds: Vec<Text>,
}

/// The result of grading one application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grade {
    /// JSON shape version.
    pub schema: &'static str,
    /// The application's name, from the answers.
    pub profile: Option<String>,
    /// Rubric id and version.
    pub rubric: String,
    /// Catalog data version.
    pub catalog_version: String,
    /// The answers graded.
    pub answers: std::collections::BTreeMap<String, String>,
    /// Level 1–5.
    pub level: u8,
    /// Level record id.
    pub level_id: String,
    /// Level name (低安全风险 …).
    pub level_name: Text,
    /// Level description from annex 1.
    pub level_description: Text,
    /// Level before floors.
    pub computed_level: u8,
    /// Weighted factor score (1–5).
    pub weighted_score: f64,
    /// Factor scores.
    pub factors: Vec<FactorScore>,
    /// Floors that applied.
    pub floors: Vec<FloorApplied>,
    /// The answers that drove the result.
    pub drivers: Vec<Driver>,
    /// Review lane id.
    pub lane_id: String,
    /// Review lane name.
    pub lane: Text,
    /// What happens in the lane.
    pub lane_description: Text,
    /// Facts established by the answers.
    pub flags: Vec<String>,
    /// Controls and guidelines that apply.
    pub controls: Vec<ControlRef>,
    /// Whether GB/T 45654 (and GB 45438 labelling) apply: a public generative AI service.
    pub gbt45654_applies: bool,
    /// GB/T 45654 clauses with numbers that apply.
    pub clauses: Vec<ClauseRef>,
    /// GB/T 45654 clauses without numbers that apply.
    pub requirements: Vec<String>,
    /// GB 45438 label rules that apply.
    pub label_rules: Vec<String>,
    /// What the rubric is and is not.
    pub notice: Text,
}

fn find_option<'a>(q: &'a Question, value: &str) -> Option<&'a QuestionOption> {
    q.option.iter().find(|o| o.value == value)
}

/// Check answers against the rubric: every key known, every value an option, nothing missing.
fn check_answers(rubric: &RubricFile, answers: &Answers, file: &str) -> Result<()> {
    let keys: Vec<String> = rubric.question.iter().map(|q| q.key.clone()).collect();
    for (key, value) in &answers.answers {
        let q = rubric
            .question
            .iter()
            .find(|q| &q.key == key)
            .ok_or_else(|| GradeError::UnknownQuestion {
                file: file.to_owned(),
                key: key.clone(),
                expected: keys.clone(),
            })?;
        if find_option(q, value).is_none() {
            return Err(GradeError::UnknownOption {
                file: file.to_owned(),
                key: key.clone(),
                value: value.clone(),
                expected: q.option.iter().map(|o| o.value.clone()).collect(),
            });
        }
    }
    let missing: Vec<String> = keys
        .iter()
        .filter(|k| !answers.answers.contains_key(*k))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(GradeError::Missing {
            file: file.to_owned(),
            keys: missing,
        });
    }
    Ok(())
}

fn level_for(weighted: f64, cuts: &[f64]) -> u8 {
    let reached = cuts.iter().filter(|c| weighted >= **c - 1e-9).count();
    (1 + reached).min(5) as u8
}

/// Grade an application from its answers with the catalog's rubric. `file` names the answers'
/// source in errors.
pub fn grade(catalog: &Catalog, answers: &Answers, file: &str) -> Result<Grade> {
    let rubric = catalog.rubric.as_ref().ok_or(GradeError::NoRubric)?;
    check_answers(rubric, answers, file)?;
    let r = &rubric.rubric;

    // Factor scores: the highest option score among each factor's questions.
    let mut factors = Vec::new();
    let mut weighted = 0.0;
    for (factor, weight) in &r.weights {
        let mut best: u8 = 1;
        let mut set_by = Vec::new();
        for q in rubric.question.iter().filter(|q| &q.factor == factor) {
            let value = &answers.answers[&q.key];
            let score = find_option(q, value).and_then(|o| o.score).unwrap_or(1);
            if score > best {
                best = score;
                set_by.clear();
            }
            if score == best {
                set_by.push(format!("{}={value}", q.key));
            }
        }
        weighted += weight * f64::from(best);
        factors.push(FactorScore {
            factor: factor.clone(),
            weight: *weight,
            score: best,
            set_by,
        });
    }
    // Keep the annex's order: scenario, intelligence, scale.
    let order = ["scenario", "intelligence", "scale"];
    factors.sort_by_key(|f| {
        order
            .iter()
            .position(|o| *o == f.factor)
            .unwrap_or(order.len())
    });
    let weighted = (weighted * 1000.0).round() / 1000.0;
    let computed = level_for(weighted, &r.cuts);

    // Floors, flags, drivers and answer-driven controls.
    let mut level = computed;
    let mut floors = Vec::new();
    let mut flags: BTreeSet<String> = BTreeSet::new();
    let mut drivers = Vec::new();
    let mut answer_controls: Vec<(String, String)> = Vec::new();
    for q in &rubric.question {
        let value = &answers.answers[&q.key];
        let Some(o) = find_option(q, value) else {
            continue;
        };
        let kv = format!("{}={value}", q.key);
        flags.extend(o.flags.iter().cloned());
        for c in &o.controls {
            answer_controls.push((c.to_string(), kv.clone()));
        }
        let sets_factor = factors
            .iter()
            .any(|f| f.score > 1 && f.set_by.contains(&kv));
        if let Some(floor) = o.floor {
            let reason = o.reason.clone().unwrap_or_default();
            if floor > computed {
                level = level.max(floor);
                floors.push(FloorApplied {
                    answer: kv.clone(),
                    floor,
                    reason: reason.clone(),
                });
            }
            drivers.push(Driver {
                key: q.key.clone(),
                value: value.clone(),
                question: q.name.clone(),
                answer: o.label.clone(),
                why: Text::new(
                    format!("风险级别不低于 {floor}：{}", reason.zh),
                    format!("sets a floor of level {floor}: {}", reason.en),
                ),
            });
        } else if sets_factor {
            let score = o.score.unwrap_or(1);
            drivers.push(Driver {
                key: q.key.clone(),
                value: value.clone(),
                question: q.name.clone(),
                answer: o.label.clone(),
                why: Text::new(
                    format!("决定了“{}”要素得分 {score}/5", factor_zh(&q.factor)),
                    format!("sets the {} factor score to {score}/5", q.factor),
                ),
            });
        } else if !o.flags.is_empty() {
            drivers.push(Driver {
                key: q.key.clone(),
                value: value.clone(),
                question: q.name.clone(),
                answer: o.label.clone(),
                why: Text::new(
                    format!("确立事实：{}", o.flags.join("、")),
                    format!("establishes: {}", o.flags.join(", ")),
                ),
            });
        }
    }

    let level_rec = catalog
        .records
        .grading_level
        .iter()
        .find(|l| l.rank == level);
    let lane = rubric.lane.iter().find(|l| l.levels.contains(&level));

    // Controls: cumulative by level, then those the answers add.
    let mut controls: Vec<ControlRef> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |id: &str, because: String, controls: &mut Vec<ControlRef>| {
        if !seen.insert(id.to_owned()) {
            return;
        }
        if let Some(rec) = catalog.get(id) {
            controls.push(ControlRef {
                id: id.to_owned(),
                kind: rec.kind().as_str(),
                name: rec.name().clone(),
                because,
            });
        }
    };
    let mut by_level: Vec<_> = rubric
        .level_controls
        .iter()
        .filter(|lc| lc.level <= level)
        .collect();
    by_level.sort_by_key(|lc| lc.level);
    for lc in by_level {
        for c in &lc.controls {
            add(c.as_str(), format!("level {}", lc.level), &mut controls);
        }
    }
    for (c, kv) in &answer_controls {
        add(c, kv.clone(), &mut controls);
    }

    // GB/T 45654 and GB 45438 apply to a public generative AI service.
    let applies = flags.contains(&r.genai_flag);
    let mut clauses = Vec::new();
    let mut requirements = Vec::new();
    let mut label_rules = Vec::new();
    if applies {
        for c in &catalog.records.clause {
            clauses.push(ClauseRef {
                id: c.id.to_string(),
                name: c.name.clone(),
                status: c.status,
                thresholds: c
                    .threshold
                    .iter()
                    .map(|t| {
                        Text::new(
                            t.describe(anquan_core::Lang::Zh),
                            t.describe(anquan_core::Lang::En),
                        )
                    })
                    .collect(),
            });
        }
        clauses.sort_by(|a, b| natural::cmp(&a.id, &b.id));
        requirements = catalog
            .records
            .requirement
            .iter()
            .map(|r| r.id.to_string())
            .collect();
        label_rules = catalog
            .records
            .label_rule
            .iter()
            .map(|r| r.id.to_string())
            .collect();
    }

    let (level_id, level_name, level_description) = match level_rec {
        Some(l) => (l.id.to_string(), l.name.clone(), l.description.clone()),
        None => (
            format!("level.{level}"),
            Text::new(level.to_string(), level.to_string()),
            Text::default(),
        ),
    };
    Ok(Grade {
        schema: GRADE_SCHEMA,
        profile: answers.profile.clone(),
        rubric: format!("{}@{}", r.id, r.version),
        catalog_version: catalog.version.clone(),
        answers: answers.answers.clone(),
        level,
        level_id,
        level_name,
        level_description,
        computed_level: computed,
        weighted_score: weighted,
        factors,
        floors,
        drivers,
        lane_id: lane.map(|l| l.id.to_string()).unwrap_or_default(),
        lane: lane.map(|l| l.name.clone()).unwrap_or_default(),
        lane_description: lane.map(|l| l.description.clone()).unwrap_or_default(),
        flags: flags.into_iter().collect(),
        controls,
        gbt45654_applies: applies,
        clauses,
        requirements,
        label_rules,
        notice: r.description.clone(),
    })
}

fn factor_zh(factor: &str) -> &'static str {
    match factor {
        "scenario" => "应用场景",
        "intelligence" => "智能化水平",
        "scale" => "应用规模",
        _ => "立项",
    }
}

#[cfg(test)]
mod tests {
    use super::level_for;

    #[test]
    fn cut_points_are_inclusive_lower_bounds() {
        let cuts = [1.75, 2.5, 3.25, 4.0];
        assert_eq!(level_for(1.0, &cuts), 1);
        assert_eq!(level_for(1.75, &cuts), 2);
        assert_eq!(level_for(3.24, &cuts), 3);
        assert_eq!(level_for(4.0, &cuts), 5);
        assert_eq!(level_for(5.0, &cuts), 5);
    }
}
