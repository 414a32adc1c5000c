//! The JSON shape: a snapshot, the round trip, and the schema check.

use anquan_core::Lang;
use anquan_report::{Error, Format, SCHEMA, parse_json, render};

use crate::fixture;

#[test]
fn snapshot() {
    insta::assert_snapshot!("json", render(&fixture::report(), Format::Json, Lang::Zh));
}

#[test]
fn round_trips_through_serde() {
    for report in [fixture::report(), fixture::empty_report()] {
        let json = render(&report, Format::Json, Lang::En);
        assert_eq!(
            json,
            render(&report, Format::Json, Lang::Zh),
            "JSON does not depend on the language"
        );
        let back = parse_json(&json).unwrap();
        assert_eq!(back, report);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["schema"], SCHEMA);
    }
}

#[test]
fn another_schema_is_refused_by_name() {
    let json = render(&fixture::report(), Format::Json, Lang::En);
    let other = json.replace(SCHEMA, "anquan.report/2");
    let err = parse_json(&other).unwrap_err();
    assert!(
        matches!(err, Error::Schema { ref found, .. } if found == "anquan.report/2"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "unsupported report schema `anquan.report/2`, expected `anquan.report.v1`"
    );
    let err = parse_json("{}").unwrap_err();
    assert!(
        matches!(err, Error::Schema { ref found, .. } if found.is_empty()),
        "{err:?}"
    );
    let err = parse_json("not json").unwrap_err();
    assert!(matches!(err, Error::Json(_)), "{err:?}");
    let err = parse_json(r#"{"schema": "anquan.report.v1"}"#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("failed to read the report JSON"),
        "{err}"
    );
}

#[test]
fn interval_level_defaults_to_95_percent() {
    let json = render(&fixture::report(), Format::Json, Lang::En);
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["run"].as_object_mut().unwrap().remove("ci_level");
    let report = parse_json(&value.to_string()).unwrap();
    assert_eq!(report.run.ci_level, 0.95);
}

#[test]
fn formats_parse_by_name() {
    assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
    assert_eq!("HTML".parse::<Format>().unwrap(), Format::Html);
    assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
    assert_eq!(Format::Markdown.extension(), "md");
    let err = "pdf".parse::<Format>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown report format `pdf`, expected `html`, `md` or `json`"
    );
}
