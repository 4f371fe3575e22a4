//! The three ways of getting a token from the local server: oauth-clients, oauth2-rs and raw
//! reqwest, each set up the way its documentation suggests.

use oauth_clients_core::secrecy::SecretString;
use oauth_clients_core::{Client, ClientConfig, Provider};
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{ClientId, ClientSecret, EndpointNotSet, EndpointSet, TokenResponse, TokenUrl};
use serde::Deserialize;

/// Result of the bench's fallible steps.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The local vendor's descriptor: client credentials with HTTP Basic client authentication
/// (oauth2-rs's default), an API base for `AuthorizedClient`.
pub fn provider(base_url: &str) -> BenchResult<Provider> {
    let yaml = format!(
        "id: bench_vendor\nname: Bench vendor\nendpoints:\n  token: {base_url}/token\n  \
         api_base: {base_url}/\ngrants:\n  client_credentials: {{}}\n\
         client_auth: client_secret_basic\n"
    );
    Ok(Provider::from_yaml_str(&yaml, "bench")?)
}

/// The configuration of tenant `n`.
pub fn project_config(n: usize) -> ClientConfig {
    ClientConfig::new(format!("tenant-{n}")).secret(SecretString::from(format!("secret-{n}")))
}

/// An oauth-clients engine client for tenant `n`.
pub fn project_client(provider: &Provider, n: usize) -> BenchResult<Client> {
    Ok(Client::new(provider.clone(), project_config(n))?)
}

/// The HTTP client shared by every raw reqwest tenant: redirects off (against SSRF), TLS as the
/// project's.
pub fn shared_reqwest() -> BenchResult<reqwest::Client> {
    Ok(oauth_clients_core::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// The HTTP client shared by every oauth2-rs tenant: oauth2-rs 5 speaks reqwest 0.12 (its own
/// copy, with rustls), redirects off as its documentation asks.
pub fn shared_oauth2_http() -> BenchResult<oauth2::reqwest::Client> {
    Ok(oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()?)
}

/// An oauth2-rs client with only its token endpoint set.
pub type OAuth2Client =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// An oauth2-rs client for tenant `n`.
pub fn oauth2_client(base_url: &str, n: usize) -> BenchResult<OAuth2Client> {
    Ok(BasicClient::new(ClientId::new(format!("tenant-{n}")))
        .set_client_secret(ClientSecret::new(format!("secret-{n}")))
        .set_token_uri(TokenUrl::new(format!("{base_url}/token"))?))
}

/// One client credentials exchange through oauth2-rs.
pub async fn oauth2_exchange(
    client: &OAuth2Client,
    http: &oauth2::reqwest::Client,
) -> BenchResult<BasicTokenResponse> {
    let token = client
        .exchange_client_credentials()
        .request_async(http)
        .await?;
    if token.access_token().secret().is_empty() {
        return Err("empty access token".into());
    }
    Ok(token)
}

/// What raw reqwest keeps of a token answer.
#[derive(Deserialize)]
pub struct RawToken {
    pub access_token: String,
    #[allow(dead_code)] // parsed, as a client would
    pub token_type: String,
    #[allow(dead_code)]
    pub expires_in: Option<u64>,
}

/// Credentials of a raw reqwest tenant.
pub struct RawTenant {
    pub id: String,
    pub secret: String,
}

impl RawTenant {
    /// Tenant `n`.
    pub fn new(n: usize) -> RawTenant {
        RawTenant {
            id: format!("tenant-{n}"),
            secret: format!("secret-{n}"),
        }
    }
}

/// One client credentials exchange by hand: a form POST with HTTP Basic, and a JSON parse.
pub async fn raw_exchange(
    http: &reqwest::Client,
    token_url: &str,
    tenant: &RawTenant,
) -> BenchResult<RawToken> {
    let response = http
        .post(token_url)
        .basic_auth(&tenant.id, Some(&tenant.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .error_for_status()?;
    let bytes = response.bytes().await?;
    Ok(serde_json::from_slice(&bytes)?)
}
