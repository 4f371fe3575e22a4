//! Project automation: `cargo xtask codegen [--check]`, and `cargo xtask import --issuer URL
//! --id NAME`, which writes `providers/NAME.yaml` from an issuer's metadata, for review.

use std::process::ExitCode;

use xtask::tree;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        ["import", "--issuer", issuer, "--id", id] | ["import", "--id", id, "--issuer", issuer] => {
            import(issuer, id)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask codegen [--check]\n       cargo xtask import --issuer URL --id NAME"
            );
            ExitCode::from(2)
        }
    }
}

fn codegen(check: bool) -> ExitCode {
    let root = tree::root();
    let result = if check {
        tree::check(&root)
    } else {
        tree::write(&root)
    };
    match result {
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            eprintln!(
                "error: {} problem(s) in descriptors; nothing was written",
                errors.len()
            );
            ExitCode::FAILURE
        }
        Ok(problems) if check && !problems.is_empty() => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!("error: generated files are out of date: run `cargo xtask codegen`");
            ExitCode::FAILURE
        }
        Ok(_) if check => {
            eprintln!("generated files are fresh");
            ExitCode::SUCCESS
        }
        Ok(changed) => {
            for path in &changed {
                eprintln!("wrote {path}");
            }
            if changed.is_empty() {
                eprintln!("generated files were already fresh");
            }
            ExitCode::SUCCESS
        }
    }
}

/// Writes `providers/<id>.yaml` from the issuer's metadata (fetched by the command-line tool,
/// which holds the HTTP stack), then regenerates the code. Never replaces a descriptor.
fn import(issuer: &str, id: &str) -> ExitCode {
    let root = tree::root();
    let target = root.join("providers").join(format!("{id}.yaml"));
    if target.exists() {
        eprintln!(
            "error: {} exists; remove it first to import again",
            target.display()
        );
        return ExitCode::from(2);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = std::process::Command::new(cargo)
        .current_dir(&root)
        .args(["run", "-q", "-p", "oauth-clients-cli", "--", "describe", id])
        .args(["--issuer", issuer, "--yaml"])
        .stderr(std::process::Stdio::inherit())
        .output();
    let yaml = match output {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        Ok(_) => return ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: cannot run the command-line tool: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) =
        oauth_clients_descriptor::Provider::from_yaml_str(&yaml, &target.display().to_string())
    {
        eprintln!("error: the imported descriptor is not valid: {err}");
        return ExitCode::FAILURE;
    }
    if let Err(err) = std::fs::write(&target, yaml) {
        eprintln!("error: cannot write {}: {err}", target.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "wrote {}; review it (sources, name, scopes, api_base)",
        target.display()
    );
    codegen(false)
}
