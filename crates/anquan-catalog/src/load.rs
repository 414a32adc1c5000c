use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::catalog::{Catalog, FileRecords, Meta};
use crate::error::{Error, Problem, Result};
use crate::rubric::RubricFile;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/data");

/// The file that holds the rubric; it has its own shape.
pub(crate) const RUBRIC_FILE: &str = "grading/rubric.toml";
/// The file that holds the radical look-alike table.
pub(crate) const RADICALS_FILE: &str = "tables/radicals.toml";
/// The file that holds catalog metadata.
pub(crate) const META_FILE: &str = "catalog.toml";

fn collect_embedded(dir: &Dir<'static>, out: &mut Vec<(String, String)>) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().replace('\\', "/");
        if path.ends_with(".toml") {
            out.push((path, file.contents_utf8().unwrap_or_default().to_owned()));
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

fn collect_dir(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_dir(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, text));
        }
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match toml::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let msg = e.to_string().trim_end().replace('\n', "\n    ");
            problems.push(Problem::new(file, None, format!("cannot be read: {msg}")));
            None
        }
    }
}

fn assemble(
    origin: String,
    mut texts: Vec<(String, String)>,
) -> Result<(Catalog, Vec<Problem>), Vec<Problem>> {
    texts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut problems = Vec::new();
    let mut meta = None;
    let mut rubric = None;
    let mut radicals = Vec::new();
    let mut files = Vec::new();
    for (file, text) in &texts {
        if file == META_FILE {
            meta = parse::<Meta>(file, text, &mut problems);
        } else if file == RUBRIC_FILE {
            rubric = parse::<RubricFile>(file, text, &mut problems);
        } else if file == RADICALS_FILE {
            if let Some(r) = parse::<crate::radicals::RadicalFile>(file, text, &mut problems) {
                radicals = r.radical;
            }
        } else if let Some(recs) = parse::<FileRecords>(file, text, &mut problems) {
            files.push((file.clone(), recs));
        }
    }
    match meta {
        Some(meta) => Ok((
            Catalog::assemble(origin, meta, files, rubric, radicals),
            problems,
        )),
        None => Err(problems),
    }
}

impl Catalog {
    /// The catalog embedded in the binary, with any problems found while reading it.
    pub fn embedded() -> Result<(Catalog, Vec<Problem>)> {
        let mut texts = Vec::new();
        collect_embedded(&EMBEDDED, &mut texts);
        assemble("embedded".to_owned(), texts).map_err(|problems| Error::Invalid {
            origin: "embedded".into(),
            problems,
        })
    }

    /// Load the catalog from a folder of the same shape as the embedded `data/` folder.
    /// Files that cannot be parsed are reported as problems; the rest is loaded.
    pub fn load_dir(dir: &Path) -> Result<(Catalog, Vec<Problem>)> {
        if !dir.join(META_FILE).is_file() {
            if !dir.exists() {
                return Err(Error::Io {
                    path: dir.to_owned(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
                });
            }
            return Err(Error::NotACatalog {
                path: dir.to_owned(),
            });
        }
        let mut texts = Vec::new();
        collect_dir(dir, dir, &mut texts)?;
        let origin = dir.display().to_string();
        assemble(origin.clone(), texts).map_err(|problems| Error::Invalid { origin, problems })
    }

    /// Load (the embedded catalog, or `dir`) and validate; any problem is an error.
    pub fn load(dir: Option<&Path>) -> Result<Catalog> {
        let (catalog, mut problems) = match dir {
            Some(dir) => Catalog::load_dir(dir)?,
            None => Catalog::embedded()?,
        };
        problems.extend(catalog.validate());
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(Error::Invalid {
                origin: catalog.origin,
                problems,
            })
        }
    }

    /// The embedded data files, relative path and text, for export and for tests.
    pub fn embedded_files() -> Vec<(String, String)> {
        let mut texts = Vec::new();
        collect_embedded(&EMBEDDED, &mut texts);
        texts.sort_by(|a, b| a.0.cmp(&b.0));
        texts
    }
}
