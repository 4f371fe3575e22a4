//! The generator's output for the fixtures of `xtask/fixtures/good`, which together use every
//! field of the descriptor schema, compiles and behaves as its types say. The modules are
//! written by `cargo xtask codegen` and kept fresh by `cargo xtask codegen --check`.

#[path = "codegen_fixtures/lib.rs"]
#[allow(dead_code, unused_imports)]
mod fixtures;

use fixtures::everything::{EverythingClient, EverythingConfig, EverythingEnvironment};
use fixtures::minimal::{MinimalClient, MinimalConfig};
use fixtures::public_pkce::{PublicPkceClient, PublicPkceConfig};
use oauth_clients_core::secrecy::SecretString;

#[test]
fn config_has_exactly_the_variables_and_the_environment() {
    let config = EverythingConfig {
        environment: EverythingEnvironment::Staging,
        scopes: Some(vec!["read".to_owned()]),
        ..EverythingConfig::new(
            "the-id",
            SecretString::from("the-client-secret"),
            SecretString::from("the-api-key"),
            "acme",
        )
    };
    let core = config.to_client_config();
    assert_eq!(core.client_id(), "the-id");
    assert!(core.client_secret().is_some());
    assert_eq!(core.environment_name(), Some("staging"));
    assert_eq!(
        core.variables().get("tenant").map(String::as_str),
        Some("acme")
    );
    assert_eq!(
        core.variables().get("api_key").map(String::as_str),
        Some("the-api-key")
    );
    assert_eq!(core.scope_list(), Some(&["read".to_owned()][..]));
    let shown = format!("{config:?}");
    assert!(!shown.contains("the-client-secret"), "{shown}");
    assert!(!shown.contains("the-api-key"), "{shown}");
    assert_eq!(
        EverythingEnvironment::default(),
        EverythingEnvironment::Production
    );
    assert_eq!(EverythingEnvironment::ALL.len(), 2);
    assert_eq!(EverythingEnvironment::Staging.to_string(), "staging");
}

#[test]
fn clients_wrap_the_engine_with_one_method_per_grant() {
    let config = EverythingConfig::new(
        "id",
        SecretString::from("secret"),
        SecretString::from("key"),
        "acme",
    );
    let client = EverythingClient::new(config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(client.engine().provider().id(), "everything");
    // Every grant of the fixture has a method; the deprecated ones say so.
    #[allow(deprecated)]
    let _methods = (
        EverythingClient::client_credentials,
        EverythingClient::authorize_url,
        EverythingClient::authorize_url_with,
        EverythingClient::exchange_code,
        EverythingClient::exchange_code_oob,
        EverythingClient::refresh,
        EverythingClient::legacy_credentials,
    );

    let minimal = MinimalClient::new(MinimalConfig::new("id", SecretString::from("secret")))
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = (MinimalClient::client_credentials, minimal.engine());

    // A public client has no secret to give.
    let public = PublicPkceConfig::new("id");
    assert!(public.client_secret.is_none());
    let client = PublicPkceClient::new(public).unwrap_or_else(|e| panic!("{e}"));
    let _ = (
        PublicPkceClient::authorize_url,
        PublicPkceClient::exchange_code,
        PublicPkceClient::refresh,
        client.engine(),
    );
}

#[test]
fn fixture_registry_lists_every_fixture() {
    let ids: Vec<&str> = fixtures::registry::all().iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        [
            "everything",
            "minimal",
            "public_pkce",
            "query_token",
            "quirks"
        ]
    );
    for entry in fixtures::registry::all() {
        assert_eq!(entry.provider().id(), entry.id);
    }
    assert!(fixtures::registry::by_id("minimal").is_some());
}

/// The Rust data of every fixture equals its YAML, field for field: the fixtures use every
/// schema field, so a field the generator does not write fails here.
#[test]
fn generated_descriptors_are_their_yaml() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../xtask/fixtures/good");
    let generated = [
        ("everything", fixtures::everything::descriptor()),
        ("minimal", fixtures::minimal::descriptor()),
        ("public_pkce", fixtures::public_pkce::descriptor()),
        ("query_token", fixtures::query_token::descriptor()),
        ("quirks", fixtures::quirks::descriptor()),
    ];
    for (id, data) in generated {
        let path = format!("{dir}/{id}.yaml");
        let yaml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let parsed = oauth_clients_core::Provider::from_yaml_str(&yaml, &path)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&data, parsed.descriptor(), "{id}");
    }
}
