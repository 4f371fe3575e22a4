//! End-to-end tests of the built `oauth-clients` binary against hand-written mocks of a vendor's
//! token endpoint (wiremock on 127.0.0.1), reached with `--rewrite-url`: the tool must work
//! against what the vendor documents, not only against the project's own sandbox.

use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BIN: &str = env!("CARGO_BIN_EXE_oauth-clients");

/// `oauth-clients token procurify` for tenant `acme`, sent to `server`.
fn procurify_token(server: &MockServer, extra: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BIN);
    for name in ["OAUTH_USERNAME", "OAUTH_PASSWORD"] {
        command.env_remove(name);
    }
    command
        .env("OAUTH_CLIENT_ID", "mock-client")
        .env("OAUTH_CLIENT_SECRET", "mock-secret-value")
        .args(["token", "procurify", "--var", "domain=acme"])
        .arg("--rewrite-url")
        .arg(format!("https://acme.procurify.com/={}/", server.uri()))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Procurify's token endpoint as its documentation describes it: a JSON body with the
/// client credentials and the audience, a 24 h bearer token back.
async fn procurify_mock(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(json!({
            "grant_type": "client_credentials",
            "client_id": "mock-client",
            "client_secret": "mock-secret-value",
            "audience": "https://api.procurify.com/",
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(delay)
                .set_body_json(json!({
                    "access_token": "mock-access-token-1",
                    "token_type": "Bearer",
                    "expires_in": 86400,
                })),
        )
        .mount(&server)
        .await;
    server
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn token_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .map(|requests| requests.len())
        .unwrap_or(0)
}

#[tokio::test]
async fn token_against_a_hand_written_mock_of_procurify() -> TestResult {
    let server = procurify_mock(Duration::ZERO).await;
    let output: Output = procurify_token(&server, &[]).output().await?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    let token: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(token["access_token"], "mock-access-token-1");
    assert_eq!(token["vendor"], "procurify");
    assert!(!stderr.contains("mock-secret-value"), "stderr: {stderr}");
    assert_eq!(token_requests(&server).await, 1);
    Ok(())
}

#[tokio::test]
async fn a_refused_client_exits_1_with_the_mocks_oauth_error() -> TestResult {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "Unknown client",
        })))
        .mount(&server)
        .await;
    let output = procurify_token(&server, &[]).output().await?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(output.stdout.is_empty());
    assert!(stderr.contains("invalid_client"), "stderr: {stderr}");
    assert!(!stderr.contains("mock-secret-value"), "stderr: {stderr}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_a_file_store_make_one_request_to_the_mock() -> TestResult {
    // A slow token endpoint, so that both processes ask while the first request is under way.
    let server = procurify_mock(Duration::from_millis(500)).await;
    let store = std::env::temp_dir().join(format!(
        "oauth-clients-cli-wiremock-{}-tokens.json",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&store);
    let _ = std::fs::remove_file(store.with_extension("json.lock"));
    let spec = format!("file:{}", store.display());
    let result = async {
        let (first, second) = tokio::join!(
            procurify_token(&server, &["--store", &spec]).output(),
            procurify_token(&server, &["--store", &spec]).output(),
        );
        let third = procurify_token(&server, &["--store", &spec]).output().await;
        let outputs = [first?, second?, third?];
        for output in &outputs {
            assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
            let token: Value = serde_json::from_slice(&output.stdout)?;
            assert_eq!(token["access_token"], "mock-access-token-1");
        }
        assert_eq!(token_requests(&server).await, 1);
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    let _ = std::fs::remove_file(&store);
    let _ = std::fs::remove_file(store.with_extension("json.lock"));
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_a_sqlite_store_make_one_request_to_the_mock() -> TestResult {
    let server = procurify_mock(Duration::from_millis(500)).await;
    let store = std::env::temp_dir().join(format!(
        "oauth-clients-cli-wiremock-{}-tokens.db",
        std::process::id()
    ));
    let files = ["", "-wal", "-shm"].map(|suffix| format!("{}{suffix}", store.display()));
    let remove = || files.iter().for_each(|f| drop(std::fs::remove_file(f)));
    remove();
    let spec = format!("sqlite:{}", store.display());
    let result = async {
        let (first, second) = tokio::join!(
            procurify_token(&server, &["--store", &spec]).output(),
            procurify_token(&server, &["--store", &spec]).output(),
        );
        let third = procurify_token(&server, &["--store", &spec]).output().await;
        let outputs = [first?, second?, third?];
        for output in &outputs {
            assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
            let token: Value = serde_json::from_slice(&output.stdout)?;
            assert_eq!(token["access_token"], "mock-access-token-1");
        }
        assert_eq!(token_requests(&server).await, 1);
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    remove();
    result
}
