use std::collections::BTreeSet;

use crate::catalog::{Catalog, Kind, RecordRef};
use crate::error::{Error, Result};
use crate::model::*;
use crate::natural;

/// A record linked to a risk, and through which related risk when not directly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MapEntry {
    /// The linked record.
    pub id: String,
    /// The related risk (a mapped risk or an enclosing group) that carries the link, when it is
    /// not the queried risk itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Everything linked to one risk (`anquan catalog map`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RiskMapReport {
    /// The risk.
    pub risk: String,
    /// Risks of other frameworks that map to or from it.
    pub related: Vec<MapEntry>,
    /// Technical and governance measures.
    pub measures: Vec<MapEntry>,
    /// Guidelines.
    pub guidelines: Vec<MapEntry>,
    /// Standards (through the standards system's mapping).
    pub standards: Vec<MapEntry>,
    /// Clauses with numbers.
    pub clauses: Vec<MapEntry>,
    /// Clauses without numbers.
    pub requirements: Vec<MapEntry>,
    /// White-paper threats and framework nodes.
    pub threats: Vec<MapEntry>,
    /// Testing tools of the white paper's landscape.
    pub tools: Vec<MapEntry>,
    /// anquan commands that test it.
    pub commands: Vec<MapEntry>,
}

impl RiskMapReport {
    /// Whether an anquan command that is available today tests the risk.
    pub fn tested_now(&self, catalog: &Catalog) -> bool {
        self.commands.iter().any(|c| matches!(catalog.get(&c.id), Some(RecordRef::Command(k)) if k.status == "available"))
    }
}

/// A search result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: &'static str,
    /// Field that matched best.
    pub field: &'static str,
    /// Relevance (higher is better).
    pub score: u32,
}

fn push(list: &mut Vec<MapEntry>, id: &str, via: Option<&str>) {
    if let Some(existing) = list.iter_mut().find(|e| e.id == id) {
        if via.is_none() {
            existing.via = None;
        }
        return;
    }
    list.push(MapEntry {
        id: id.to_owned(),
        via: via.map(str::to_owned),
    });
}

impl Catalog {
    fn ancestors(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = self.risk(id).and_then(|r| r.parent.clone());
        while let Some(p) = cur {
            out.push(p.to_string());
            cur = self.risk(p.as_str()).and_then(|r| r.parent.clone());
        }
        out
    }

    fn mapped_from(&self, id: &str) -> Vec<&Risk> {
        self.records
            .risk
            .iter()
            .filter(|r| r.maps_to.iter().any(|m| m.as_str() == id))
            .collect()
    }

    /// Everything linked to a risk: related risks of the other frameworks, measures, guidelines,
    /// standards, clauses, requirements, threats, tools and the anquan commands that test it.
    pub fn map_risk(&self, id: &str) -> Result<RiskMapReport> {
        let risk = self.risk(id).ok_or_else(|| Error::UnknownId {
            id: id.to_owned(),
            suggestions: self.suggest(id),
        })?;
        // Related risks: direct mappings both ways, and one more hop through Framework 2.0.
        let mut related: BTreeSet<String> = BTreeSet::new();
        for m in &risk.maps_to {
            related.insert(m.to_string());
            // One hop through Framework 2.0 reaches the other taxonomy, not this one's siblings.
            for r in self
                .mapped_from(m.as_str())
                .into_iter()
                .filter(|r| r.framework != risk.framework)
            {
                related.insert(r.id.to_string());
            }
        }
        for r in self.mapped_from(id) {
            related.insert(r.id.to_string());
        }
        // Groups and lettered risks beneath the queried risk count as the risk itself.
        let mut own: Vec<String> = vec![id.to_owned()];
        own.extend(self.ancestors(id));
        let mut below: Vec<String> = Vec::new();
        let mut stack = vec![id.to_owned()];
        while let Some(cur) = stack.pop() {
            for c in self.risk_children(&cur) {
                below.push(c.id.to_string());
                stack.push(c.id.to_string());
            }
        }
        for b in &below {
            for m in self.risk(b).map(|r| r.maps_to.clone()).unwrap_or_default() {
                related.insert(m.to_string());
            }
            for r in self.mapped_from(b) {
                related.insert(r.id.to_string());
            }
        }
        related.remove(id);
        let mut sources: Vec<(String, Option<String>)> =
            own.iter().map(|o| (o.clone(), None)).collect();
        sources.extend(below.iter().map(|b| (b.clone(), Some(b.clone()))));
        for rel in &related {
            sources.push((rel.clone(), Some(rel.clone())));
            for a in self.ancestors(rel) {
                sources.push((a, Some(rel.clone())));
            }
        }
        let mut report = RiskMapReport {
            risk: id.to_owned(),
            related: related
                .iter()
                .map(|r| MapEntry {
                    id: r.clone(),
                    via: None,
                })
                .collect(),
            measures: Vec::new(),
            guidelines: Vec::new(),
            standards: Vec::new(),
            clauses: Vec::new(),
            requirements: Vec::new(),
            threats: Vec::new(),
            tools: Vec::new(),
            commands: Vec::new(),
        };
        for (source, via) in &sources {
            let via = via.as_deref();
            for (_, rec) in self.referrers(source) {
                let rid = rec.id().as_str();
                match rec {
                    RecordRef::Measure(m) if m.level == MeasureLevel::Measure => {
                        push(&mut report.measures, rid, via)
                    }
                    RecordRef::Guideline(_) => push(&mut report.guidelines, rid, via),
                    RecordRef::RiskMap(m) => {
                        for s in &m.standards {
                            push(&mut report.standards, s.as_str(), via.or(Some(rid)));
                        }
                    }
                    RecordRef::Clause(_) => push(&mut report.clauses, rid, via),
                    RecordRef::Requirement(_) => push(&mut report.requirements, rid, via),
                    RecordRef::Threat(_) | RecordRef::WpNode(_) => {
                        push(&mut report.threats, rid, via)
                    }
                    RecordRef::Tool(_) => push(&mut report.tools, rid, via),
                    RecordRef::Command(_) => push(&mut report.commands, rid, via),
                    _ => {}
                }
            }
        }
        for list in [
            &mut report.measures,
            &mut report.guidelines,
            &mut report.standards,
            &mut report.clauses,
            &mut report.requirements,
            &mut report.threats,
            &mut report.tools,
            &mut report.commands,
        ] {
            list.sort_by(|a, b| natural::cmp(&a.id, &b.id));
        }
        Ok(report)
    }

    /// Lettered risks of `framework` that no anquan command tests, not even a planned one.
    pub fn untested(&self, framework: Framework) -> Vec<&Risk> {
        self.risks(framework)
            .filter(|r| r.level == RiskLevel::Risk)
            .filter(|r| {
                self.map_risk(r.id.as_str())
                    .map(|m| m.commands.is_empty())
                    .unwrap_or(true)
            })
            .collect()
    }

    /// Search names, descriptions, ids and aliases in both languages.
    pub fn search(&self, query: &str, kind: Option<Kind>) -> Vec<SearchHit> {
        let needle = query.trim().to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<SearchHit> = Vec::new();
        for (rec, _) in self.iter() {
            if kind.is_some_and(|k| k != rec.kind()) {
                continue;
            }
            let id = rec.id().as_str();
            let mut best: Option<(&'static str, u32)> = None;
            let mut consider = |field: &'static str, score: u32| {
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((field, score));
                }
            };
            if id.to_lowercase() == needle {
                consider("id", 100);
            } else if id.to_lowercase().starts_with(&needle) {
                consider("id", 60);
            }
            let name = rec.name();
            if name.zh.to_lowercase() == needle || name.en.to_lowercase() == needle {
                consider("name", 90);
            } else if name.contains_ci(&needle) {
                consider("name", 50);
            }
            if rec
                .aliases()
                .iter()
                .any(|a| a.to_lowercase().contains(&needle))
            {
                consider("aliases", 40);
            }
            if let RecordRef::Standard(s) = rec
                && s.number
                    .iter()
                    .chain(s.update.iter().filter_map(|u| u.number.as_ref()))
                    .any(|n| n.to_lowercase().contains(&needle))
            {
                consider("number", 80);
            }
            if rec.description().contains_ci(&needle) {
                consider("description", 10);
            }
            if rec.note().is_some_and(|n| n.contains_ci(&needle)) {
                consider("note", 5);
            }
            if let Some((field, score)) = best {
                hits.push(SearchHit {
                    id: id.to_owned(),
                    kind: rec.kind().as_str(),
                    field,
                    score,
                });
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| natural::cmp(&a.id, &b.id))
        });
        hits
    }
}
