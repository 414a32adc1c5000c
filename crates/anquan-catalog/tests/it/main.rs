//! Integration tests of the catalog: data hygiene of the embedded data, the validator on broken
//! catalogs, and the queries.

mod broken;
mod data;
mod queries;

use std::path::Path;

use anquan_catalog::Catalog;

/// The embedded catalog, which must load without problems.
pub(crate) fn catalog() -> Catalog {
    match Catalog::load(None) {
        Ok(c) => c,
        Err(anquan_catalog::Error::Invalid { problems, .. }) => {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            panic!("embedded catalog has problems:\n{}", list.join("\n"))
        }
        Err(e) => panic!("embedded catalog failed to load: {e}"),
    }
}

/// Write the embedded data files into `dir`.
pub(crate) fn write_embedded(dir: &Path) {
    for (rel, text) in Catalog::embedded_files() {
        let path = dir.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}
