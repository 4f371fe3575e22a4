//! Any bytes, read as UTF-8, as a descriptor: validation never panics, and stays within the
//! memory limits libFuzzer enforces (`-rss_limit_mb`, `-malloc_limit_mb`) and the time limit
//! (`-timeout`), whatever the nesting, aliases or size of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_clients_descriptor::Provider;

fuzz_target!(|data: &[u8]| {
    let yaml = String::from_utf8_lossy(data);
    match Provider::from_yaml_str(&yaml, "fuzz.yaml") {
        Ok(provider) => {
            assert!(!provider.id().is_empty(), "a valid descriptor has an id");
            // Every variable's pattern compiled at validation; matching must not panic either.
            for name in provider.descriptor().variables.keys() {
                let _ = provider.value_matches(name, "example");
            }
        }
        Err(err) => {
            let shown = err.to_string();
            assert!(
                shown.starts_with("fuzz.yaml"),
                "error without origin: {shown}"
            );
        }
    }
});
