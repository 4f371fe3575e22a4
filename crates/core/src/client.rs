//! The engine: executes any validated descriptor's grants.
//!
//! INTERFACE CONTRACT (skeleton): the signatures below are what generated code and the token
//! lifecycle compile against. The engine issue fills in the bodies.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use crate::descriptor::GrantKind;
use crate::error::Error;
use crate::provider::Provider;
use crate::token::Token;

/// What a user supplies for one vendor: credentials, tenant variables, environment, scopes.
/// `Debug` never shows the secret.
#[derive(Clone, Default)]
pub struct ClientConfig {
    /// The OAuth client id.
    pub client_id: String,
    /// The client secret; `None` for public clients.
    pub client_secret: Option<SecretString>,
    /// Tenant variable values by name (e.g. `domain`).
    pub variables: BTreeMap<String, String>,
    /// The environment by name; the descriptor's default when `None`.
    pub environment: Option<String>,
    /// Scopes to request; the descriptor's defaults when `None`.
    pub scopes: Option<Vec<String>>,
    /// Redirect URI for authorization-code flows; the descriptor's default when `None`.
    pub redirect_uri: Option<String>,
}

impl ClientConfig {
    /// A configuration with a client id and nothing else.
    pub fn new(client_id: impl Into<String>) -> ClientConfig {
        ClientConfig {
            client_id: client_id.into(),
            ..ClientConfig::default()
        }
    }

    /// Sets the client secret.
    pub fn secret(mut self, secret: SecretString) -> ClientConfig {
        self.client_secret = Some(secret);
        self
    }

    /// Sets a tenant variable.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> ClientConfig {
        self.variables.insert(name.into(), value.into());
        self
    }

    /// Chooses an environment by name.
    pub fn environment(mut self, name: impl Into<String>) -> ClientConfig {
        self.environment = Some(name.into());
        self
    }

    /// Sets the scopes to request.
    pub fn scopes<I, S>(mut self, scopes: I) -> ClientConfig
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> ClientConfig {
        self.redirect_uri = Some(uri.into());
        self
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("variables", &self.variables)
            .field("environment", &self.environment)
            .field("scopes", &self.scopes)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// Transport settings of a client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included.
    pub request_timeout: Duration,
    /// Attempts per token request, the first included (1 turns retries off).
    pub max_attempts: u32,
    /// First backoff delay; doubled per attempt, with jitter.
    pub initial_backoff: Duration,
    /// `(from, to)` URL prefixes: a request whose URL starts with `from` goes to `to` instead.
    pub rewrites: Vec<(String, String)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            rewrites: Vec::new(),
        }
    }
}

/// A user's own credentials for Procountor-style legacy flows. `Debug` never shows the password.
#[derive(Clone)]
pub struct UserCredentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: SecretString,
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// An authorization request in progress: the URL to send the user to, and what the callback
/// must be checked against. Keep it until the callback arrives.
#[derive(Clone)]
pub struct AuthorizationRequest {
    /// The URL to open in the user's browser.
    pub url: url::Url,
    /// The `state` sent; the callback must return it.
    pub state: SecretString,
    /// The PKCE verifier, when PKCE is used.
    pub pkce_verifier: Option<SecretString>,
    /// The redirect URI sent.
    pub redirect_uri: Option<String>,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &"[contains state]")
            .field("pkce", &self.pkce_verifier.is_some())
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// What came back to the redirect URI.
#[derive(Clone, Default)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<SecretString>,
    /// The returned state.
    pub state: Option<String>,
    /// An RFC 6749 §4.1.2.1 error code, when authorization failed.
    pub error: Option<String>,
    /// The error description.
    pub error_description: Option<String>,
}

/// A client of one vendor: a validated descriptor, a user's configuration, and an HTTP client.
#[derive(Clone)]
pub struct Client {
    provider: Provider,
    config: ClientConfig,
    options: ClientOptions,
}

impl Client {
    /// A client with default options.
    pub fn new(provider: Provider, config: ClientConfig) -> Result<Client, Error> {
        Client::with_options(provider, config, ClientOptions::default())
    }

    /// A client with explicit transport options.
    pub fn with_options(
        provider: Provider,
        config: ClientConfig,
        options: ClientOptions,
    ) -> Result<Client, Error> {
        Ok(Client {
            provider,
            config,
            options,
        })
    }

    /// The vendor.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Runs the client credentials grant.
    pub async fn client_credentials(&self) -> Result<Token, Error> {
        Err(self.not_yet(GrantKind::ClientCredentials))
    }

    /// Builds an authorize URL with a fresh random state (and PKCE where the vendor allows it).
    pub fn authorize_url(&self) -> Result<AuthorizationRequest, Error> {
        Err(self.not_yet(GrantKind::AuthorizationCode))
    }

    /// Checks the callback against the request (state in constant time) and exchanges the code.
    pub async fn exchange_code(
        &self,
        request: &AuthorizationRequest,
        callback: &Callback,
    ) -> Result<Token, Error> {
        let _ = (request, callback);
        Err(self.not_yet(GrantKind::AuthorizationCode))
    }

    /// Exchanges a code obtained out of band (pasted by the user); no state to check.
    pub async fn exchange_code_oob(
        &self,
        code: &SecretString,
        pkce_verifier: Option<&SecretString>,
    ) -> Result<Token, Error> {
        let _ = (code, pkce_verifier);
        Err(self.not_yet(GrantKind::AuthorizationCode))
    }

    /// Refreshes; the returned token keeps the old refresh token when the vendor sent none.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<Token, Error> {
        let _ = refresh_token;
        Err(self.not_yet(GrantKind::RefreshToken))
    }

    /// Runs the legacy credentials-to-code flow, then exchanges the code.
    pub async fn legacy_credentials(&self, user: &UserCredentials) -> Result<Token, Error> {
        let _ = user;
        Err(self.not_yet(GrantKind::LegacyCredentials))
    }

    fn not_yet(&self, grant: GrantKind) -> Error {
        Error::Config {
            vendor: self.provider.id().to_owned(),
            message: format!("grant `{grant}` is not implemented yet"),
        }
    }
}
