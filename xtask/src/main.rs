//! Project automation: `cargo xtask codegen [--check]`.

use std::process::ExitCode;

use xtask::tree;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        _ => {
            eprintln!("usage: cargo xtask codegen [--check]");
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
