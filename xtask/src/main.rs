//! Project automation: `cargo xtask codegen [--check]`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["codegen"] | ["codegen", "--check"] => codegen(),
        _ => {
            eprintln!("usage: cargo xtask codegen [--check]");
            ExitCode::from(2)
        }
    }
}

fn codegen() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut failed = false;
    let mut paths: Vec<_> = std::fs::read_dir(root.join("providers"))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let shown = format!(
            "providers/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let loaded = std::fs::read_to_string(path)
            .map_err(|e| format!("{shown}: {e}"))
            .and_then(|yaml| {
                oauth_clients_core::Provider::from_yaml_str(&yaml, &shown)
                    .map_err(|e| e.to_string())
            });
        if let Err(message) = loaded {
            eprintln!("{message}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
