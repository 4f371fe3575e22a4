//! Repository rules checked as tests, as rust-analyzer's `tidy.rs` does: the layering and
//! size rules that ARCHITECTURE.md states as invariants.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::spanned::Spanned as _;
use syn::visit::Visit;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Functions longer than the limit, outside `#[cfg(test)]` modules.
struct LongFunctions {
    limit: usize,
    found: Vec<String>,
    file: String,
}

impl LongFunctions {
    fn check(&mut self, name: &str, span: proc_macro2::Span) {
        let lines = span.end().line.saturating_sub(span.start().line) + 1;
        if lines > self.limit {
            self.found.push(format!(
                "{}:{}: `{name}` is {lines} lines",
                self.file,
                span.start().line
            ));
        }
    }
}

impl<'ast> Visit<'ast> for LongFunctions {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        let is_test = module.attrs.iter().any(|attr| {
            attr.path().is_ident("cfg")
                && attr
                    .parse_args::<syn::Ident>()
                    .is_ok_and(|ident| ident == "test")
        });
        if !is_test {
            syn::visit::visit_item_mod(self, module);
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.check(&item.sig.ident.to_string(), item.span());
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.check(&item.sig.ident.to_string(), item.span());
        syn::visit::visit_impl_item_fn(self, item);
    }
}

/// No function in the engine or the tool is longer than 80 lines (the generator may keep its
/// long quote blocks).
#[test]
fn engine_and_tool_functions_are_short() {
    let mut long = Vec::new();
    for dir in [
        "crates/core/src",
        "crates/cli/src",
        "crates/descriptor/src/template.rs",
    ] {
        let path = root().join(dir);
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path]
        };
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let Ok(parsed) = syn::parse_file(&text) else {
                panic!("{} does not parse", file.display());
            };
            let mut visitor = LongFunctions {
                limit: 80,
                found: Vec::new(),
                file: file.display().to_string(),
            };
            visitor.visit_file(&parsed);
            long.extend(visitor.found);
        }
    }
    assert!(
        long.is_empty(),
        "functions over 80 lines:\n{}",
        long.join("\n")
    );
}

/// The top-level modules of the crate that `text` names as `crate::module` (in `use` lines
/// and in paths), outside comments.
fn crate_uses(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let module: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let is_module = module
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase());
            if is_module {
                used.insert(module);
            }
            // `use crate::{a, b::C}`: every name of the group.
            if let Some(group) = rest.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or_default();
                for part in group.split(',') {
                    let name: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                        used.insert(name);
                    }
                }
            }
        }
    }
    used
}

/// The top-level module a source file of `crates/core/src` belongs to.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (name != "lib").then_some(name)
}

/// The engine's top-level modules depend on each other without cycles (a module's own
/// sub-modules count as the module).
#[test]
fn no_module_cycle_in_the_engine() {
    let src = root().join("crates/core/src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let uses = crate_uses(&text);
        let entry = edges.entry(module.clone()).or_default();
        entry.extend(uses.into_iter().filter(|used| *used != module));
    }
    // Depth-first search for a cycle.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut Vec::new(), &mut done) {
            panic!("module cycle in crates/core: {}", cycle.join(" → "));
        }
    }
}

/// Vendor ids that are everyday English words, which the engine may use in their plain sense
/// ("line", "close", "buffer"). Each must be a provider id, so the list cannot rot.
const EVERYDAY_WORD_IDS: &[&str] = &[
    "buffer", "close", "copper", "front", "harvest", "kick", "lever", "line", "linear", "medium",
    "notion", "polar", "square", "stripe", "threads", "timely", "wave",
];

/// No vendor's name appears in the engine: a vendor quirk is a descriptor field.
#[test]
fn no_vendor_name_in_the_engine() {
    let providers = root().join("providers");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&providers)
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = entry.path();
        if let (true, Some(stem)) = (
            path.extension().is_some_and(|e| e == "yaml"),
            path.file_stem(),
        ) {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    assert!(!names.is_empty());
    for word in EVERYDAY_WORD_IDS {
        assert!(
            names.iter().any(|name| name == word),
            "{word} is not a provider id; remove it from EVERYDAY_WORD_IDS"
        );
    }
    names.retain(|name| !EVERYDAY_WORD_IDS.contains(&name.as_str()));
    let mut found = Vec::new();
    for file in rust_files(&root().join("crates/core/src")) {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_default()
            .to_ascii_lowercase();
        for name in &names {
            // Ids short enough to be ordinary words are checked as whole words only.
            let hit = text.match_indices(name.as_str()).any(|(at, _)| {
                let before = text[..at].chars().next_back();
                let after = text[at + name.len()..].chars().next();
                let word =
                    |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
                !word(before) && !word(after)
            });
            if hit {
                found.push(format!("{}: {name}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "vendor names in the engine:\n{}",
        found.join("\n")
    );
}

/// The sandbox shares no code with the engine: its fakes read descriptors on their own, so that
/// a fake cannot agree with the engine by construction.
#[test]
fn the_sandbox_does_not_depend_on_the_engine() {
    let path = root().join("crates/sandbox/Cargo.toml");
    let manifest = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(manifest.contains("[dependencies]"), "{}", path.display());
    let engine = ["oauth-clients-core", "oauth-clients.", "oauth-clients ="];
    for line in manifest.lines().map(str::trim) {
        assert!(
            !engine.iter().any(|name| line.starts_with(name)),
            "{}: `{line}`: the sandbox must not use the engine",
            path.display()
        );
    }
}
