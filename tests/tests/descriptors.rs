//! Every descriptor in `providers/` loads through the runtime, names its sources and is named
//! after its id.

use oauth_clients_core::Provider;

#[test]
fn every_descriptor_loads_and_names_its_sources() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../providers");
    let mut ids = Vec::new();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let yaml = std::fs::read_to_string(&path).unwrap();
        let provider = match Provider::from_yaml_str(&yaml, &path.display().to_string()) {
            Ok(provider) => provider,
            Err(error) => {
                problems.push(error.to_string());
                continue;
            }
        };
        let stem = path.file_stem().unwrap().to_string_lossy();
        if provider.id() != stem {
            problems.push(format!(
                "{}: id {} differs from the file name",
                path.display(),
                provider.id()
            ));
        }
        if !yaml
            .lines()
            .any(|line| line.trim_start().starts_with("# Sources:"))
        {
            problems.push(format!("{}: no `# Sources:` comment", path.display()));
        }
        ids.push(provider.id().to_owned());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for seed in ["procore", "procountor", "procurify", "procurios"] {
        assert!(
            ids.iter().any(|id| id == seed),
            "seed vendor {seed} missing"
        );
    }
    assert!(ids.len() >= 150, "only {} descriptors", ids.len());
}
