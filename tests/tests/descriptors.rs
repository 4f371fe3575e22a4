//! Every seed descriptor in `providers/` loads through the runtime.

use oauth_clients_core::Provider;

#[test]
fn every_seed_descriptor_loads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../providers");
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let yaml = std::fs::read_to_string(&path).unwrap();
        let provider = Provider::from_yaml_str(&yaml, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        ids.push(provider.id().to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["procore", "procountor", "procurify", "procurios"]);
}
