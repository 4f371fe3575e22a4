//! The generated crate carries every descriptor of `providers/` as Rust data, equal to what its
//! YAML says. (Whether the generated files are fresh is checked once, by the generator's own
//! test.)

use std::path::Path;

use oauth_clients::registry;

fn providers_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../providers"))
}

#[test]
fn every_embedded_descriptor_loads_and_matches_its_file() {
    let mut ids = Vec::new();
    for entry in registry::all() {
        let provider = entry.provider();
        assert_eq!(provider.id(), entry.id);
        assert_eq!(provider.descriptor().name, entry.name);
        assert_eq!(entry.source, format!("providers/{}.yaml", entry.id));
        // The Rust data is the YAML, field for field (a field the generator forgot differs).
        let path = providers_dir().join(format!("{}.yaml", entry.id));
        let yaml =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", entry.source));
        let parsed = oauth_clients::core::Provider::from_yaml_str(&yaml, entry.source)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            provider.descriptor(),
            parsed.descriptor(),
            "{}",
            entry.source
        );
        ids.push(entry.id);
    }
    let mut files: Vec<String> = std::fs::read_dir(providers_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    files.sort();
    assert_eq!(
        ids, files,
        "the registry lists every descriptor, sorted by id"
    );
    assert!(registry::by_id("procore").is_some());
    assert!(registry::by_id("nope").is_none());
}

#[test]
fn typed_modules_expose_their_descriptor() {
    assert_eq!(oauth_clients::procore::provider().id(), "procore");
    assert_eq!(oauth_clients::procountor::provider().id(), "procountor");
    assert_eq!(oauth_clients::procurify::provider().id(), "procurify");
    assert_eq!(oauth_clients::procurios::provider().id(), "procurios");
    assert_eq!(oauth_clients::procore::descriptor().id, "procore");
}
