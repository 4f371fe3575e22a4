//! The generator's behaviour, locked by snapshots: error wording over bad fixtures, generated
//! code over good fixtures, and the freshness check over the real tree.

use std::path::{Path, PathBuf};

use oauth_clients_descriptor::Provider;
use xtask::codegen::{self, Options};
use xtask::tree;

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(kind)
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
}

/// One fixture per mistake; every one fails with the wording in its snapshot.
#[test]
fn bad_descriptors_are_reported_for_people() {
    let paths = yaml_files(&fixtures("bad"));
    assert!(paths.len() >= 8, "at least eight bad fixtures");
    for path in paths {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let origin = format!("providers/{stem}.yaml");
        let yaml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{origin}: {e}"));
        let errors = match Provider::from_yaml_str_all(&yaml, &origin) {
            Ok(_) => panic!("{origin} should be rejected"),
            Err(errors) => errors,
        };
        assert!(!errors.is_empty(), "{origin}: no error");
        // The single-error form is the first of all errors.
        let first = Provider::from_yaml_str(&yaml, &origin)
            .err()
            .map(|e| e.to_string());
        assert_eq!(first, Some(errors[0].to_string()), "{origin}");
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(format!("bad__{stem}"), text.join("\n"));
    }
}

/// Two files with one id, and an id that does not match its file name, fail codegen.
#[test]
fn duplicate_ids_fail_codegen() {
    let errors = match codegen::load_dir(&fixtures("duplicate"), "providers") {
        Ok(_) => panic!("duplicate ids should be rejected"),
        Err(errors) => errors,
    };
    insta::assert_snapshot!("duplicate_ids", errors.join("\n"));
}

/// The generator's output for fixtures that together use every schema field.
#[test]
fn generated_code_for_good_fixtures() {
    let sources = codegen::load_dir(&fixtures("good"), "xtask/fixtures/good")
        .unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    let files = codegen::generate(&sources, &Options::default())
        .unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "everything.rs",
            "lib.rs",
            "minimal.rs",
            "public_pkce.rs",
            "query_token.rs",
            "quirks.rs",
            "registry.rs"
        ]
    );
    for (name, text) in &files {
        assert!(text.starts_with(codegen::GENERATED_MARKER), "{name}");
        // Generated code is valid Rust (the `tests` crate also compiles it).
        syn::parse_file(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The one golden copy is the compiled one in tests/tests/codegen_fixtures.
        let golden = tree::root().join("tests/tests/codegen_fixtures").join(name);
        let golden = std::fs::read_to_string(&golden).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            text,
            &golden.replace("\r\n", "\n"),
            "{name}: run `cargo xtask codegen`"
        );
    }
    // Deterministic: a second run gives the same bytes.
    let again = codegen::generate(&sources, &Options::default())
        .unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    assert_eq!(files, again);
}

/// The checked-in generated files and JSON Schema are fresh (`cargo xtask codegen --check`).
#[test]
fn checked_in_code_is_fresh() {
    let problems =
        tree::check(&tree::root()).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    assert!(
        problems.is_empty(),
        "run `cargo xtask codegen`:\n{}",
        problems.join("\n")
    );
}

/// `--check` names a stale file: a changed URL in a copy of the tree makes its module stale.
#[test]
fn check_names_stale_files() {
    let root = tree::root();
    let copy = std::env::temp_dir().join(format!("xtask-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    for dir in [
        "providers",
        "crates/oauth-clients/src",
        "xtask/fixtures/good",
        "tests/tests/codegen_fixtures",
    ] {
        std::fs::create_dir_all(copy.join(dir)).unwrap_or_else(|e| panic!("{e}"));
        for entry in std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .flatten()
        {
            if entry.path().is_file() {
                std::fs::copy(entry.path(), copy.join(dir).join(entry.file_name()))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    let procore = copy.join("providers/procore.yaml");
    let yaml = std::fs::read_to_string(&procore).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&procore, yaml.replace("/oauth/token", "/oauth/v2/token"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_file(copy.join("crates/oauth-clients/src/registry.rs"))
        .unwrap_or_else(|e| panic!("{e}"));
    let problems = tree::check(&copy).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    assert_eq!(
        problems,
        [
            "crates/oauth-clients/src/procore.rs: stale",
            "crates/oauth-clients/src/registry.rs: missing",
        ]
    );
    let written = tree::write(&copy).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    assert_eq!(written.len(), 2, "{written:?}");
    let problems = tree::check(&copy).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    assert!(problems.is_empty(), "{problems:?}");
    let _ = std::fs::remove_dir_all(&copy);
}

/// The good fixtures together set every field of the schema, so the snapshots above lock the
/// generator's handling of all of them. A field added to `descriptor.rs` fails this test until
/// a fixture uses it.
#[test]
fn good_fixtures_use_every_schema_field() {
    let schema: serde_json::Value = serde_json::from_str(&codegen::json_schema())
        .unwrap_or_else(|e| panic!("schema is JSON: {e}"));
    let mut fields = Vec::new();
    let mut collect = |object: &serde_json::Value, owner: &str| {
        if let Some(properties) = object.get("properties").and_then(|p| p.as_object()) {
            for name in properties.keys() {
                fields.push(format!("{owner}.{name}"));
            }
        }
    };
    collect(&schema, "Descriptor");
    if let Some(defs) = schema.get("$defs").and_then(|d| d.as_object()) {
        for (owner, def) in defs {
            collect(def, owner);
        }
    }
    assert!(fields.len() > 40, "{fields:?}");
    let fixtures: String = yaml_files(&fixtures("good"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let unused: Vec<&String> = fields
        .iter()
        .filter(|field| {
            let name = field.rsplit('.').next().unwrap_or_default();
            !fixtures.lines().any(|line| {
                line.trim_start()
                    .trim_start_matches("- ")
                    .starts_with(&format!("{name}:"))
            })
        })
        .collect();
    assert!(unused.is_empty(), "fields no good fixture sets: {unused:?}");
}

/// `cargo xtask` checks the checkout cargo runs it in, not the one it was built from: with a
/// shared `CARGO_TARGET_DIR`, two worktrees run the same binary.
#[test]
fn the_root_is_the_checkout_cargo_runs_in() {
    let other = std::env::temp_dir().join("another-worktree").join("xtask");
    assert_eq!(
        tree::root_from(Some(other.clone())),
        other.parent().map(Path::to_path_buf).unwrap_or_default()
    );
    assert_eq!(
        tree::root_from(None),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new(".."))
    );
}

/// A checkout with CRLF line ends (`core.autocrlf`) is fresh all the same.
#[test]
fn crlf_checkouts_are_fresh() {
    let root = tree::root();
    let copy = std::env::temp_dir().join(format!("xtask-crlf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    for dir in [
        "providers",
        "crates/oauth-clients/src",
        "xtask/fixtures/good",
        "tests/tests/codegen_fixtures",
    ] {
        std::fs::create_dir_all(copy.join(dir)).unwrap_or_else(|e| panic!("{e}"));
        for entry in std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            std::fs::write(
                copy.join(dir).join(entry.file_name()),
                text.replace('\n', "\r\n"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let problems = tree::check(&copy).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    let _ = std::fs::remove_dir_all(&copy);
    assert!(problems.is_empty(), "{problems:?}");
}
