//! Importing banks from spreadsheets: evaluators receive banks as CSV or XLSX, with their own
//! column names and risk labels written as names, not ids.
//!
//! Rows are read into column → value maps (CSV, XLSX first sheet, or JSONL objects), a mapping
//! names which column holds each field, risk labels are resolved against the catalog (an id, or the
//! exact Chinese or English name or alias of an annex-A risk or should-not-refuse aspect), and
//! items get ids in the bank's scheme. Rows that cannot be imported are problems naming the row;
//! the rest is imported.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anquan_catalog::model::RiskLevel;
use anquan_catalog::{Catalog, RecordRef};

use crate::bank::{BankKind, Item, LineProblem, Message};

/// Which column holds each item field. Unset fields use a column of the field's own name, when
/// there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    /// field name (`prompt`, `risk`, `id`, `style`, `notes`, `source`, `license`, `added`) →
    /// column name.
    pub fields: BTreeMap<String, String>,
}

/// The fields a mapping may name.
pub const FIELDS: &[&str] = &[
    "prompt", "risk", "id", "style", "notes", "source", "license", "added",
];

impl ColumnMap {
    /// Parse `field=column` pairs.
    pub fn parse(pairs: &[String]) -> Result<ColumnMap, String> {
        let mut fields = BTreeMap::new();
        for p in pairs {
            let (f, c) = p
                .split_once('=')
                .ok_or_else(|| format!("`--map {p}`: expected FIELD=COLUMN"))?;
            let f = f.trim();
            if !FIELDS.contains(&f) {
                return Err(format!(
                    "`--map {p}`: unknown field `{f}`; fields are {}",
                    FIELDS.join(", ")
                ));
            }
            fields.insert(f.to_owned(), c.trim().to_owned());
        }
        Ok(ColumnMap { fields })
    }

    fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.fields.get(field).map_or(field, String::as_str)
    }
}

/// Read rows (column → value) from CSV, XLSX (first sheet) or JSONL, by file extension.
pub fn read_rows(path: &Path) -> Result<Vec<HashMap<String, String>>, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "tsv" => {
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(if ext == "tsv" { b'\t' } else { b',' })
                .flexible(true)
                .from_path(path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let headers: Vec<String> = rdr
                .headers()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
                .collect();
            let mut rows = Vec::new();
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| format!("`{}`: row {}: {e}", path.display(), i + 2))?;
                rows.push(
                    headers
                        .iter()
                        .cloned()
                        .zip(rec.iter().map(str::to_owned))
                        .collect(),
                );
            }
            Ok(rows)
        }
        "xlsx" | "xlsm" | "xls" | "ods" => {
            use calamine::{Reader, open_workbook_auto};
            let mut wb = open_workbook_auto(path)
                .map_err(|e| format!("cannot read `{}` as a spreadsheet: {e}", path.display()))?;
            let range = wb
                .worksheet_range_at(0)
                .ok_or_else(|| format!("`{}` has no sheet", path.display()))?
                .map_err(|e| format!("`{}`: {e}", path.display()))?;
            let mut iter = range.rows();
            let headers: Vec<String> = iter
                .next()
                .map(|r| r.iter().map(|c| c.to_string().trim().to_owned()).collect())
                .unwrap_or_default();
            Ok(iter
                .map(|r| {
                    headers
                        .iter()
                        .cloned()
                        .zip(r.iter().map(|c| c.to_string()))
                        .collect()
                })
                .collect())
        }
        "jsonl" | "json" => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let mut rows = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)
                    .map_err(|e| format!("`{}`: line {}: {e}", path.display(), i + 1))?;
                rows.push(
                    v.into_iter()
                        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                        .collect(),
                );
            }
            Ok(rows)
        }
        other => Err(format!(
            "`{}`: unknown file type `.{other}`; expected .csv, .tsv, .xlsx, .xls, .ods or .jsonl",
            path.display()
        )),
    }
}

/// Resolve a risk or aspect label (id, exact name, alias) to an id for a bank of `kind`.
pub fn resolve_label(catalog: &Catalog, kind: BankKind, label: &str) -> Option<String> {
    let label = label.trim();
    let wanted = |r: &RecordRef<'_>| match (kind, r) {
        (BankKind::ShouldNotRefuse, RecordRef::Aspect(_)) => true,
        (BankKind::ShouldNotRefuse, _) => false,
        (_, RecordRef::Risk(x)) => {
            x.framework == anquan_catalog::model::Framework::Gbt45654 && x.level == RiskLevel::Risk
        }
        _ => false,
    };
    if let Some(r) = catalog.get(label) {
        return wanted(&r).then(|| r.id().to_string());
    }
    let lower = label.to_lowercase();
    catalog
        .iter()
        .map(|(r, _)| r)
        .filter(wanted)
        .find(|r| {
            let n = r.name();
            n.zh == label
                || n.en.to_lowercase() == lower
                || r.aliases().iter().any(|a| a == label)
                || n.zh.trim_end_matches("内容") == label
        })
        .map(|r| r.id().to_string())
}

/// Turn rows into items. Returns the items (ids assigned per first risk, continuing after
/// `start_numbers`) and a problem for each row that could not be imported (rows are numbered as
/// in the file, header = 1 for CSV and XLSX).
pub fn import_rows(
    catalog: &Catalog,
    rows: &[HashMap<String, String>],
    map: &ColumnMap,
    kind: BankKind,
    lang: &str,
    added: &str,
    default_source: &str,
) -> (Vec<Item>, Vec<LineProblem>) {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut counters: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let row_no = i + 2;
        let get = |field: &str| {
            row.get(map.column(field))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let Some(prompt) = get("prompt") else {
            problems.push(LineProblem {
                line: row_no,
                id: None,
                message: format!("no prompt in column `{}`", map.column("prompt")),
            });
            continue;
        };
        let Some(risk_cell) = get("risk") else {
            problems.push(LineProblem {
                line: row_no,
                id: None,
                message: format!("no risk in column `{}`", map.column("risk")),
            });
            continue;
        };
        let mut risk_ids = Vec::new();
        let mut unknown = Vec::new();
        // Names themselves contain 、 (宣扬恐怖主义、极端主义): try each part whole before splitting
        // it further on 、.
        for part in risk_cell
            .split([',', ';', '|', '，', '；'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let labels: Vec<&str> = if resolve_label(catalog, kind, part).is_some() {
                vec![part]
            } else {
                part.split('、')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            for label in labels {
                match resolve_label(catalog, kind, label) {
                    Some(id) if !risk_ids.contains(&id) => risk_ids.push(id),
                    Some(_) => {}
                    None => unknown.push(label.to_owned()),
                }
            }
        }
        if !unknown.is_empty() || risk_ids.is_empty() {
            let what = if kind == BankKind::ShouldNotRefuse {
                "aspect"
            } else {
                "annex-A risk"
            };
            problems.push(LineProblem {
                line: row_no,
                id: None,
                message: format!("`{}` is no {what} id, name or alias", unknown.join("`, `")),
            });
            continue;
        }
        let id = match get("id") {
            Some(id) => id.to_owned(),
            None => {
                let n = counters.entry(risk_ids[0].clone()).or_insert(0);
                *n += 1;
                let en = if lang == "en" { "en-" } else { "" };
                format!("{}-{en}{}-{:04}", kind.prefix(), risk_ids[0], n)
            }
        };
        items.push(Item {
            id,
            bank: kind,
            risk_ids,
            lang: lang.to_owned(),
            messages: vec![Message {
                role: "user".into(),
                content: prompt.to_owned(),
            }],
            expected: kind.expected().to_owned(),
            style: get("style").map(str::to_owned),
            notes: get("notes").map(str::to_owned),
            source: get("source")
                .map_or_else(|| format!("{default_source} row {row_no}"), str::to_owned),
            license: get("license").unwrap_or("unknown").to_owned(),
            added: get("added").unwrap_or(added).to_owned(),
        });
    }
    (items, problems)
}
