//! Many tenants in one process: one token request per tenant, however many ask; bounded
//! memory; tokens of dropped tenants read back from the store; one HTTP stack.

mod wire_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::store::MemoryStore;
use oauth_clients_core::{AccessToken, ClientConfig, Provider, Tenant, Tenants, Token};
use wire_support::{inline_provider, now, options_for};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const DESCRIPTOR: &str = "
id: multi
name: Multi
variables:
  tenant:
    description: The customer's tenant id.
    pattern: '[a-z0-9-]+'
endpoints:
  token: https://auth.multi.example/{tenant}/oauth/token
  api_base: https://auth.multi.example/{tenant}/api/
grants:
  client_credentials: {}
client_auth: client_secret_post
";

/// Answers every token request with a token naming the tenant's path, and counts them.
struct Counting(Arc<AtomicUsize>);

impl Respond for Counting {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        let tenant = request.url.path().split('/').nth(1).unwrap_or("?");
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": format!("token-{tenant}-{n}"),
            "token_type": "Bearer",
            "expires_in": 3600,
        }))
    }
}

async fn token_server() -> (MockServer, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let count = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path_regex(r"^/[a-z0-9-]+/oauth/token$"))
        .respond_with(Counting(count.clone()))
        .mount(&server)
        .await;
    (server, count)
}

fn tenant(provider: &Provider, name: &str) -> Tenant {
    let config = ClientConfig::new("app-client")
        .secret(SecretString::from("app-secret"))
        .variable("tenant", name);
    Tenant::new(provider.clone(), config)
}

fn tenants(server: &MockServer, max: usize) -> Tenants {
    Tenants::builder()
        .client_options(options_for(server, &["auth.multi.example"]))
        .max_managers(max)
        .build()
}

#[tokio::test]
async fn each_tenant_gets_its_own_token_once() {
    let (server, count) = token_server().await;
    let provider = inline_provider(DESCRIPTOR);
    let tenants = tenants(&server, 10_000);
    for round in 0..2 {
        for i in 0..200 {
            let token = tenants
                .access_token(&tenant(&provider, &format!("t{i}")))
                .await
                .unwrap();
            assert!(token.expose_secret().starts_with(&format!("token-t{i}-")));
        }
        assert_eq!(count.load(Ordering::SeqCst), 200, "round {round}");
    }
    assert_eq!(tenants.len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tasks_on_one_tenant_make_one_request() {
    let (server, count) = token_server().await;
    let provider = inline_provider(DESCRIPTOR);
    let tenants = tenants(&server, 10_000);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let tenants = tenants.clone();
            let tenant = tenant(&provider, "busy");
            tokio::spawn(async move { tenants.access_token(&tenant).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(tenants.len(), 1);
}

#[tokio::test]
async fn dropped_tenants_come_back_from_the_store() {
    let (server, count) = token_server().await;
    let provider = inline_provider(DESCRIPTOR);
    let store = Arc::new(MemoryStore::new());
    let tenants = Tenants::builder()
        .client_options(options_for(&server, &["auth.multi.example"]))
        .store(store)
        .max_managers(10)
        .build();
    for i in 0..25 {
        tenants
            .access_token(&tenant(&provider, &format!("t{i}")))
            .await
            .unwrap();
        // Bounded, and only the least recently used one goes (not every tenant of the
        // same millisecond).
        assert_eq!(tenants.len(), (i + 1).min(10), "after {} tenants", i + 1);
    }
    assert_eq!(count.load(Ordering::SeqCst), 25);
    // Every tenant again: the dropped ones read their token back, none is fetched anew.
    for i in 0..25 {
        tenants
            .access_token(&tenant(&provider, &format!("t{i}")))
            .await
            .unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), 25);
}

#[tokio::test]
async fn a_users_token_is_kept_apart_from_the_clients() {
    let (server, count) = token_server().await;
    let provider = inline_provider(DESCRIPTOR);
    let tenants = tenants(&server, 100);
    let acme = tenant(&provider, "acme");
    let alice = acme.clone().subject("alice");
    let login = Token::new(
        AccessToken::new("alice-login-token"),
        now(),
        Some(now() + 600),
    );
    tenants
        .manager(&alice)
        .unwrap()
        .set_token(login)
        .await
        .unwrap();
    let user = tenants.access_token(&alice).await.unwrap();
    assert_eq!(user.expose_secret(), "alice-login-token");
    let own = tenants.access_token(&acme).await.unwrap();
    assert!(own.expose_secret().starts_with("token-acme-"));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(tenants.len(), 2);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_thousand_tenants_share_one_http_stack() {
    let (server, count) = token_server().await;
    let provider = inline_provider(DESCRIPTOR);
    let tenants = tenants(&server, 10_000);
    let open_files = || std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
    // The first request opens the pool's connection; count from there.
    tenants
        .access_token(&tenant(&provider, "warm"))
        .await
        .unwrap();
    let before = open_files();
    for i in 0..1000 {
        tenants
            .access_token(&tenant(&provider, &format!("t{i}")))
            .await
            .unwrap();
    }
    let after = open_files();
    assert_eq!(count.load(Ordering::SeqCst), 1001);
    assert!(
        after <= before + 16,
        "1000 tenants opened {} files",
        after.saturating_sub(before)
    );
}

#[tokio::test]
async fn idle_tenants_are_dropped_on_request() {
    let (server, _count) = token_server().await;
    let provider = inline_provider(DESCRIPTOR);
    let tenants = Tenants::builder()
        .client_options(options_for(&server, &["auth.multi.example"]))
        .idle_after(std::time::Duration::ZERO)
        .build();
    for i in 0..5 {
        tenants
            .access_token(&tenant(&provider, &format!("t{i}")))
            .await
            .unwrap();
    }
    assert_eq!(tenants.len(), 5);
    assert_eq!(tenants.evict_idle(), 5);
    assert!(tenants.is_empty());
}

#[tokio::test]
async fn a_forgotten_tenant_is_built_again_from_its_new_secret() {
    let (server, count) = token_server().await;
    let provider = inline_provider(DESCRIPTOR);
    let tenants = tenants(&server, 100);
    let config = |secret: &str| {
        ClientConfig::new("app-client")
            .secret(SecretString::from(secret.to_owned()))
            .variable("tenant", "rotating")
    };
    let old = Tenant::new(provider.clone(), config("old-secret-1"));
    let new = Tenant::new(provider.clone(), config("new-secret-2"));
    tenants.access_token(&old).await.unwrap();
    let sent_secret = |server_requests: &[Request]| {
        let body = String::from_utf8_lossy(&server_requests.last().unwrap().body).into_owned();
        body.split('&')
            .find_map(|pair| pair.strip_prefix("client_secret="))
            .map(str::to_owned)
    };
    // Same key parts: without forgetting, the registry keeps the client of the old secret.
    tenants.manager(&new).unwrap().refresh_now().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(sent_secret(&requests).as_deref(), Some("old-secret-1"));

    assert!(tenants.forget(&new), "the tenant had a manager");
    assert!(tenants.is_empty());
    assert!(!tenants.forget(&new), "nothing left to forget");
    // Built again from the new configuration; its token comes back from the store.
    let token = tenants.access_token(&new).await.unwrap();
    assert!(token.expose_secret().starts_with("token-rotating-"));
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "no request for the stored token"
    );
    tenants.manager(&new).unwrap().refresh_now().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(sent_secret(&requests).as_deref(), Some("new-secret-2"));
}
