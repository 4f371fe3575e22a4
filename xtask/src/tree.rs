//! What `cargo xtask codegen` writes into the repository, and `--check`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalogue;
use crate::codegen::{self, GENERATED_MARKER, Options};

/// A folder of descriptors and the folder its generated crate sources go to.
struct Target {
    /// Descriptors, relative to the root.
    descriptors: &'static str,
    /// Generated `.rs` files, relative to the root.
    output: &'static str,
}

/// The real vendors, and the fixtures that use every schema feature (compiled by the `tests`
/// crate, `tests/tests/codegen_fixtures.rs`).
const TARGETS: &[Target] = &[
    Target {
        descriptors: "providers",
        output: "crates/oauth-clients/src",
    },
    Target {
        descriptors: "xtask/fixtures/good",
        output: "tests/tests/codegen_fixtures",
    },
];

/// Where the JSON Schema goes, relative to the root.
pub const SCHEMA_PATH: &str = "providers/descriptor.schema.json";

/// The repository root: the parent of the `xtask/` that cargo runs (`CARGO_MANIFEST_DIR` as
/// cargo sets it at run time, so that two checkouts sharing a `CARGO_TARGET_DIR` each check
/// themselves), else the one this binary was built from.
pub fn root() -> PathBuf {
    root_from(std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from))
}

/// The repository root for an `xtask/` manifest directory, when one is given.
pub fn root_from(manifest_dir: Option<PathBuf>) -> PathBuf {
    let manifest_dir = manifest_dir.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// Text with `\r\n` line ends made `\n`, so that a checkout with CRLF line ends is not stale.
fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Every generated file, by path relative to `root`, with its expected content.
pub fn expected(root: &Path) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut files = BTreeMap::new();
    let mut errors = Vec::new();
    for target in TARGETS {
        let generated = codegen::generate_dir(
            &root.join(target.descriptors),
            target.descriptors,
            &Options::default(),
        );
        match generated {
            Ok(generated) => {
                for (name, text) in generated {
                    files.insert(format!("{}/{name}", target.output), text);
                }
            }
            Err(more) => errors.extend(more),
        }
    }
    files.insert(SCHEMA_PATH.to_owned(), codegen::json_schema());
    match codegen::load_dir(&root.join("providers"), "providers") {
        Ok(sources) => {
            files.insert(
                catalogue::CATALOGUE_PATH.to_owned(),
                catalogue::markdown(&sources),
            );
        }
        Err(more) => errors.extend(more),
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// Generated files on disk that no descriptor produces any more (they start with the marker).
fn leftovers(root: &Path, expected: &BTreeMap<String, String>) -> Vec<String> {
    let mut found = Vec::new();
    for target in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target.output)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{}/{name}", target.output);
            if !name.ends_with(".rs") || expected.contains_key(&relative) {
                continue;
            }
            let generated = std::fs::read_to_string(entry.path())
                .is_ok_and(|text| text.starts_with(GENERATED_MARKER));
            if generated {
                found.push(relative);
            }
        }
    }
    found.sort();
    found
}

/// Writes every generated file that differs and removes generated files no descriptor makes.
/// Returns the paths changed.
pub fn write(root: &Path) -> Result<Vec<String>, Vec<String>> {
    let expected = expected(root)?;
    let mut changed = Vec::new();
    let mut errors = Vec::new();
    for (relative, text) in &expected {
        let path = root.join(relative);
        if std::fs::read_to_string(&path).is_ok_and(|old| normalize_newlines(&old) == *text) {
            continue;
        }
        if let Some(parent) = path.parent()
            && let Err(err) = std::fs::create_dir_all(parent)
        {
            errors.push(format!("{}: {err}", parent.display()));
            continue;
        }
        match std::fs::write(&path, text) {
            Ok(()) => changed.push(relative.clone()),
            Err(err) => errors.push(format!("{relative}: cannot write: {err}")),
        }
    }
    for relative in leftovers(root, &expected) {
        match std::fs::remove_file(root.join(&relative)) {
            Ok(()) => changed.push(format!("{relative} (removed)")),
            Err(err) => errors.push(format!("{relative}: cannot remove: {err}")),
        }
    }
    if errors.is_empty() {
        Ok(changed)
    } else {
        Err(errors)
    }
}

/// Writes nothing; one line per stale, missing or left-over file (empty when all is fresh).
pub fn check(root: &Path) -> Result<Vec<String>, Vec<String>> {
    let expected = expected(root)?;
    let mut problems = Vec::new();
    for (relative, text) in &expected {
        match std::fs::read_to_string(root.join(relative)) {
            Ok(old) if normalize_newlines(&old) == *text => {}
            Ok(_) => problems.push(format!("{relative}: stale")),
            Err(_) => problems.push(format!("{relative}: missing")),
        }
    }
    for relative in leftovers(root, &expected) {
        problems.push(format!(
            "{relative}: generated, but no descriptor makes it any more"
        ));
    }
    Ok(problems)
}
