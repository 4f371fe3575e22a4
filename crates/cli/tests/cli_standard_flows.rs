//! The tool's standard-flow commands against a real authorization server (oidc-provider, from
//! `tests/servers/`): `--issuer` discovery, `token`, `introspect`, `revoke` and `call
//! --userinfo`.

#[path = "../../../tests/tests/real_support/mod.rs"]
mod real_support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use real_support::{Kind, RealServer};

const BIN: &str = env!("CARGO_BIN_EXE_oauth-clients");

fn oauth_clients(client_id: &str, secret: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("OAUTH_CLIENT_ID", client_id)
        .env("OAUTH_CLIENT_SECRET", secret)
        .env_remove("OAUTH_USERNAME")
        .env_remove("OAUTH_PASSWORD")
        .stdin(Stdio::null());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// A file store in a directory removed when the test ends.
struct TempStore {
    dir: PathBuf,
}

impl TempStore {
    fn new(name: &str) -> TempStore {
        let dir = std::env::temp_dir().join(format!(
            "oauth-clients-cli-flows-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempStore { dir }
    }

    fn spec(&self) -> String {
        format!("file:{}", self.dir.join("tokens.json").display())
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn issuer_token_introspect_and_revoke() {
    let server = RealServer::start(Kind::OidcProvider, &[]);
    let store = TempStore::new("revoke");
    let secret = "s3cr3t@:/+&=%x";
    let common = |command: &mut Command| {
        command.args([
            "--issuer",
            &server.issuer,
            "--store",
            &store.spec(),
            "--scope",
            "api:read",
        ]);
    };
    let mut token = oauth_clients("basic-client", secret);
    token.arg("token");
    common(&mut token);
    let token = token.output().unwrap();
    let printed = json(&token);
    assert!(
        printed["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(text(&token.stderr).contains("described from the metadata"));

    let mut introspect = oauth_clients("basic-client", secret);
    introspect.arg("introspect");
    common(&mut introspect);
    let seen = json(&introspect.output().unwrap());
    assert_eq!(seen["active"], true, "{seen}");

    let mut revoke = oauth_clients("basic-client", secret);
    revoke.arg("revoke");
    common(&mut revoke);
    let outcome = json(&revoke.output().unwrap());
    assert_eq!(outcome["revoked"], true, "{outcome}");
    assert_eq!(outcome["forgotten"], true, "{outcome}");

    let mut again = oauth_clients("basic-client", secret);
    again.arg("introspect");
    common(&mut again);
    let again = again.output().unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("no token is stored"));
    let everything = format!("{}{}", text(&again.stdout), text(&again.stderr));
    assert!(!everything.contains(secret));
}

#[test]
fn revoke_without_a_store_is_a_usage_error() {
    let server = RealServer::start(Kind::OidcProvider, &[]);
    let output = oauth_clients("basic-client", "x")
        .args(["revoke", "--issuer", &server.issuer])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--store"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn a_token_stored_for_other_scopes_is_named() {
    use oauth_clients_core::store::FileStore;
    use oauth_clients_core::{AccessToken, Client, ClientConfig, Token, TokenManager};

    let store = TempStore::new("scopes");
    let path = store.dir.join("tokens.json");
    // What `login procore --scope openid --store …` leaves behind.
    let provider = oauth_clients::registry::all()
        .iter()
        .find(|entry| entry.provider().id() == "procore")
        .unwrap()
        .provider();
    let client = Client::new(provider, ClientConfig::new("my-client").scopes(["openid"])).unwrap();
    let manager = TokenManager::builder(client)
        .store(std::sync::Arc::new(FileStore::new(&path)))
        .subject("login")
        .build();
    let mut token = Token::new(AccessToken::new("stored-access"), 1, Some(4_000_000_000));
    token = token.with_refresh_token(None);
    manager.set_token(token).await.unwrap();

    let output = oauth_clients("my-client", "the-secret")
        .args(["token", "procore", "--user", "--store", &store.spec()])
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("other scopes"), "{stderr}");
    assert!(stderr.contains("--scope"), "{stderr}");
    assert!(!stderr.contains("stored-access"));
    assert!(
        !stderr.contains("TokenManager") && !stderr.contains("set_token"),
        "{stderr}"
    );
}
