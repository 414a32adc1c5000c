//! The validator on deliberately broken copies of the catalog: every problem names the file, the
//! record and what was expected, and loading goes on past the first problem.

use std::path::Path;

use anquan_catalog::{Catalog, Error};

use crate::write_embedded;

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn problems(dir: &Path) -> Vec<String> {
    let (catalog, mut problems) = Catalog::load_dir(dir).unwrap();
    problems.extend(catalog.validate());
    problems.iter().map(ToString::to_string).collect()
}

#[test]
fn a_copy_of_the_embedded_catalog_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    write_embedded(dir.path());
    assert_eq!(problems(dir.path()), Vec::<String>::new());
    let c = Catalog::load(Some(dir.path())).unwrap();
    assert_eq!(c.origin, dir.path().display().to_string());
}

#[test]
fn each_kind_of_breakage_is_reported_with_file_and_record() {
    let dir = tempfile::tempdir().unwrap();
    write_embedded(dir.path());
    // An unknown key: the whole file cannot be read, the rest still loads.
    edit(
        dir.path(),
        "fw2/terms.toml",
        "[[term]]\n",
        "[[term]]\ncolour = \"red\"\n",
    );
    // A dangling reference.
    edit(
        dir.path(),
        "gbt45654/risks.toml",
        "maps_to = [\"",
        "maps_to = [\"fw2.9.9.9.z\", \"",
    );
    // A record without English.
    edit(
        dir.path(),
        "system/parts.toml",
        "name.en = \"",
        "name.en = \"\"\nname.x = \"",
    );
    // A radical look-alike in a description.
    edit(
        dir.path(),
        "fw2/guidelines.toml",
        "description.zh = \"",
        "description.zh = \"⻛",
    );
    let found = problems(dir.path());
    let text = found.join("\n");
    assert!(
        text.contains("`fw2/terms.toml`: cannot be read")
            && text.contains("unknown field `colour`"),
        "{text}"
    );
    assert!(text.contains("`gbt45654/risks.toml`: record `A.1.a`: `maps_to` refers to `fw2.9.9.9.z`, which does not exist"), "{text}");
    assert!(
        text.contains("`system/parts.toml`: cannot be read"),
        "{text}"
    );
    assert!(text.contains("`fw2/guidelines.toml`: record `fw2.6.1.1`: contains the radical look-alike `⻛` (U+2EDB)"), "{text}");
    // The unreadable terms file takes its 15 terms with it, which the count check notices.
    assert!(text.contains("expected 15 `term` records"), "{text}");
}

#[test]
fn empty_language_duplicate_id_and_order_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_embedded(dir.path());
    edit(
        dir.path(),
        "gbt45654/aspects.toml",
        "name.en = \"",
        "name.en = \" \" # ",
    );
    edit(
        dir.path(),
        "fw2/principles.toml",
        "id = \"fw2.1.2\"",
        "id = \"fw2.1.1\"",
    );
    edit(
        dir.path(),
        "fw2/terms.toml",
        "id = \"fw2.annex3.2\"",
        "id = \"fw2.annex3.99\"",
    );
    let text = problems(dir.path()).join("\n");
    assert!(
        text.contains("`gbt45654/aspects.toml`: record `nr.age`: `name.en` is empty")
            || text.contains("`name.en` is empty"),
        "{text}"
    );
    assert!(text.contains("record `fw2.1.1`: duplicate id"), "{text}");
    assert!(text.contains("`fw2/terms.toml`: record `fw2.annex3.99`: `[[term]]` records are not in canonical (natural id) order"), "{text}");
}

#[test]
fn wrong_counts_and_rates_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_embedded(dir.path());
    // A rate written as a percentage.
    edit(
        dir.path(),
        "gbt45654/clauses.toml",
        "value = 0.95",
        "value = 95",
    );
    let text = problems(dir.path()).join("\n");
    assert!(
        text.contains("a rate is written as a share between 0 and 1 (0.95, not 95)"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    write_embedded(dir.path());
    let path = dir.path().join("gbt45654/risks.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.rfind("[[risk]]").unwrap();
    std::fs::write(&path, &text[..cut]).unwrap();
    let text = problems(dir.path()).join("\n");
    assert!(
        text.contains("expected 31 `risk` records with ids starting `A.` at level `risk`"),
        "{text}"
    );
    assert!(
        text.contains("expected 2 `risk` records with ids starting `A.5.`"),
        "{text}"
    );
}

#[test]
fn a_folder_without_catalog_toml_is_not_a_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let err = Catalog::load_dir(dir.path()).unwrap_err();
    assert!(matches!(err, Error::NotACatalog { .. }));
    assert!(err.to_string().contains("has no `catalog.toml`"), "{err}");
    let missing = dir.path().join("nope");
    let err = Catalog::load_dir(&missing).unwrap_err();
    assert!(err.to_string().starts_with("failed to read"), "{err}");
}
