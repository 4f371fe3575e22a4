//! The engine: executes any validated descriptor's grants.
//!
//! [`Client`] runs every grant a descriptor names, exactly as the descriptor says: parameter
//! names and `grant_type` values, client authentication (`client_secret_post`,
//! `client_secret_basic` with RFC 6749 §2.3.1 encoding, `none`), body encoding (form, JSON,
//! multipart), extra headers and parameters, and tolerant token parsing. Every URL must be
//! HTTPS unless its host is a loopback address, before and after [`ClientOptions::rewrites`];
//! token requests never follow redirects and are retried only when that is safe.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::descriptor::{BodyEncoding, ClientAuth, Descriptor, GrantKind, Pkce};
use crate::error::Error;
use crate::http::{self, RetryPolicy, Transport};
use crate::parse::{self, ResponseMeta};
use crate::pkce;
use crate::provider::Provider;
use crate::template::{self, Escape, Vars};
use crate::token::{Token, now_unix};

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
    /// `grant_type` values to send instead of the descriptor's, per grant (for an installation
    /// that differs from the vendor's document, e.g. Procurios's `code`).
    pub grant_types: BTreeMap<GrantKind, String>,
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

    /// Sends `value` as the `grant_type` of `grant` instead of the descriptor's value.
    pub fn grant_type(mut self, grant: GrantKind, value: impl Into<String>) -> ClientConfig {
        self.grant_types.insert(grant, value.into());
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
            .field("variables", &redact_variables(&self.variables, |_| false))
            .field("environment", &self.environment)
            .field("scopes", &self.scopes)
            .field("redirect_uri", &self.redirect_uri)
            .field("grant_types", &self.grant_types)
            .finish()
    }
}

/// Transport settings of a client.
///
/// `connect_timeout` bounds opening a connection, `request_timeout` a whole exchange (body
/// included). Token requests are attempted up to `max_attempts` times (1 turns retries off):
/// connection failures, timeouts, 5xx and 429 are retried after `initial_backoff × 2^n` with
/// jitter, or after the server's `Retry-After` seconds (a server asking for more than 30 s is
/// not retried). OAuth errors are never retried, and a code exchange is retried only when the
/// connection failed before the request was sent. `rewrites` redirect every request of every
/// grant and every API request whose URL starts with a prefix (tests, proxies); the result must
/// still be HTTPS or loopback. `Debug` hides any user info (`user:password@`) in rewrites.
#[derive(Clone)]
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

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rewrites: Vec<(String, String)> = self
            .rewrites
            .iter()
            .map(|(from, to)| (http::redact_url(from), http::redact_url(to)))
            .collect();
        f.debug_struct("ClientOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("rewrites", &rewrites)
            .finish()
    }
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
            // The vendor asks for both to be handled like the client secret.
            .field("username", &"[redacted]")
            .field("password", &"[redacted]")
            .finish()
    }
}

/// An authorization request in progress: the URL to send the user to, and what the callback
/// must be checked against. Keep it until the callback arrives.
#[derive(Clone)]
pub struct AuthorizationRequest {
    /// The URL to open in the user's browser, with [`ClientOptions::rewrites`] already applied.
    pub url: url::Url,
    /// The `state` sent; the callback must return it.
    pub state: SecretString,
    /// The PKCE verifier, when PKCE is used.
    pub pkce_verifier: Option<SecretString>,
    /// The redirect URI sent.
    pub redirect_uri: Option<String>,
}

impl AuthorizationRequest {
    /// Whether a callback's `state` is the one this request sent, compared in constant time.
    pub fn state_matches(&self, state: Option<&str>) -> bool {
        let expected = self.state.expose_secret().as_bytes();
        state.is_some_and(|got| pkce::constant_time_eq(got.as_bytes(), expected))
    }
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

/// What came back to the redirect URI. `Debug` never shows the code or the state.
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

/// Options of [`Client::authorize_url_with`].
#[derive(Debug, Clone)]
pub struct AuthorizeOptions {
    /// Use PKCE S256 when the vendor supports it (always used when the vendor requires it,
    /// never when it does not support it). Defaults to true.
    pub pkce: bool,
    /// Scopes for this request; the configuration's (or descriptor's) when `None`.
    pub scopes: Option<Vec<String>>,
    /// Further authorize-URL parameters for this request (e.g. `prompt`, `login_hint`).
    pub extra_params: Vec<(String, String)>,
}

impl Default for AuthorizeOptions {
    fn default() -> Self {
        AuthorizeOptions {
            pkce: true,
            scopes: None,
            extra_params: Vec::new(),
        }
    }
}

/// An endpoint of a descriptor, for [`Client::resolve_endpoint`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndpointKind {
    /// `endpoints.authorization`.
    Authorization,
    /// `endpoints.token`.
    Token,
    /// `endpoints.refresh`, falling back to the token endpoint.
    Refresh,
    /// `endpoints.revocation`.
    Revocation,
    /// `endpoints.api_base`.
    ApiBase,
    /// `endpoints.extra.<name>`.
    Extra(String),
}

impl fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointKind::Authorization => f.write_str("authorization"),
            EndpointKind::Token => f.write_str("token"),
            EndpointKind::Refresh => f.write_str("refresh"),
            EndpointKind::Revocation => f.write_str("revocation"),
            EndpointKind::ApiBase => f.write_str("api_base"),
            EndpointKind::Extra(name) => write!(f, "extra.{name}"),
        }
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

impl Callback {
    /// Reads a callback from the query of the URL the user was sent back to (e.g. the request
    /// line a local redirect listener received): `code`, `state`, `error`, `error_description`.
    pub fn from_query(query: &str) -> Callback {
        let mut callback = Callback::default();
        for (name, value) in url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            match name.as_ref() {
                "code" => callback.code = Some(SecretString::from(value.into_owned())),
                "state" => callback.state = Some(value.into_owned()),
                "error" => callback.error = Some(value.into_owned()),
                "error_description" => callback.error_description = Some(value.into_owned()),
                _ => {}
            }
        }
        callback
    }
}

/// A client of one vendor: a validated descriptor, a user's configuration, and an HTTP client.
/// Cheap to clone; clones share everything.
///
/// # Token responses
///
/// Parsing is tolerant where real servers differ (modelled on golang.org/x/oauth2): any 2xx
/// status; a JSON object, or form-encoded fields when the content type says
/// `application/x-www-form-urlencoded` or `text/plain`; `expires_in` as a number or a numeric
/// string (fractions truncated, values above `i32::MAX` seconds clamped, `0` or `null` meaning
/// "not given"); without `expires_in`, the access token's JWT `exp` claim (when
/// `token_response.jwt_expiry`; the signature is not checked), else
/// `token_response.default_expires_in`, else an unknown expiry; `created_at` as the issue time
/// (when `token_response.created_at`); `token_type` optional and kept as sent; `scope` `"null"`
/// meaning none; fields beyond the standard ones kept in [`Token::extra`]; the token object
/// found under `token_response.token_path`.
///
/// It is strict where it matters: an `error` field makes any answer an [`Error::OAuth`]; a
/// missing or empty `access_token`, a negative or non-numeric `expires_in`, an empty or
/// unparseable body, a redirect, and a body over 1 MiB (refused while streaming, never read
/// whole) are each an [`Error::InvalidResponse`] carrying the status, content type, the vendor's
/// request id and a short excerpt scrubbed of anything that looks like a secret.
///
/// # Authorized API requests
///
/// [`Client::send_api`] sends an [`crate::ApiRequest`] with the bearer token and the
/// descriptor's `api.headers`, and returns an [`crate::ApiResponse`] that carries the vendor's
/// request id.
#[derive(Clone)]
pub struct Client {
    inner: std::sync::Arc<ClientInner>,
}

struct ClientInner {
    provider: Provider,
    config: ClientConfig,
    options: ClientOptions,
    vars: Vars,
    http: reqwest::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        let declared = &self.descriptor().variables;
        let variables = redact_variables(&config.variables, |name| {
            declared.get(name).is_some_and(|v| v.secret)
        });
        f.debug_struct("Client")
            .field("vendor", &self.inner.provider.id())
            .field("client_id", &config.client_id)
            .field(
                "client_secret",
                &config.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("variables", &variables)
            .field("environment", &config.environment)
            .field("scopes", &config.scopes)
            .field("redirect_uri", &config.redirect_uri)
            .field("options", &self.inner.options)
            .finish()
    }
}

/// Variables for `Debug`: values of variables the descriptor marks secret, or whose names
/// suggest a secret, are redacted.
fn redact_variables(
    variables: &BTreeMap<String, String>,
    is_secret: impl Fn(&str) -> bool,
) -> BTreeMap<&str, &str> {
    variables
        .iter()
        .map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            let secretish = ["secret", "password", "token", "key", "credential"]
                .iter()
                .any(|word| lower.contains(word));
            if is_secret(name) || secretish {
                (name.as_str(), "[redacted]")
            } else {
                (name.as_str(), value.as_str())
            }
        })
        .collect()
}

/// Parameters of one token request, in order. Not `Debug`: values include secrets.
#[derive(Default)]
struct Params(Vec<(String, String)>);

impl Params {
    /// Sets a parameter, replacing an earlier one of the same name.
    fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }
}

/// One token request to make.
struct TokenCall {
    /// The vendor's URL (before rewriting).
    url: Url,
    params: Params,
    /// Secret values sent (besides the client secret), scrubbed from errors.
    secrets: Vec<SecretString>,
    policy: RetryPolicy,
}

impl Client {
    /// A client with default options.
    pub fn new(provider: Provider, config: ClientConfig) -> Result<Client, Error> {
        Client::with_options(provider, config, ClientOptions::default())
    }

    /// A client with explicit transport options.
    ///
    /// Fails when the environment is unknown, a variable's value does not match its pattern, or
    /// the HTTP client cannot be built. Missing variables are reported when a template needs them.
    pub fn with_options(
        provider: Provider,
        config: ClientConfig,
        options: ClientOptions,
    ) -> Result<Client, Error> {
        let vars = template::resolve_vars(
            provider.descriptor(),
            &config.variables,
            config.environment.as_deref(),
        )?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("oauth-clients/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| Error::Config {
                vendor: provider.id().to_owned(),
                message: format!("cannot build the HTTP client: {err}"),
            })?;
        Ok(Client {
            inner: std::sync::Arc::new(ClientInner {
                provider,
                config,
                options,
                vars,
                http,
            }),
        })
    }

    /// The vendor.
    pub fn provider(&self) -> &Provider {
        &self.inner.provider
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The underlying HTTP client (redirects off, the configured timeouts).
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn vars(&self) -> &Vars {
        &self.inner.vars
    }

    fn descriptor(&self) -> &Descriptor {
        self.inner.provider.descriptor()
    }

    fn vendor(&self) -> &str {
        self.inner.provider.id()
    }

    pub(crate) fn transport(&self) -> Transport<'_> {
        Transport {
            vendor: self.vendor(),
            options: &self.inner.options,
            request_id_header: self.descriptor().api.request_id_header.as_deref(),
        }
    }

    fn unsupported(&self, what: impl Into<String>) -> Error {
        Error::Unsupported {
            vendor: self.vendor().to_owned(),
            what: what.into(),
        }
    }

    /// Substitutes variables into a URL template and checks the result is secure.
    fn url_from_template(&self, template: &str, used_by: &str) -> Result<Url, Error> {
        let text = self.inner.vars.render(template, used_by, Escape::Url)?;
        let url = Url::parse(&text).map_err(|err| Error::Config {
            vendor: self.vendor().to_owned(),
            message: format!("`{used_by}` does not give a valid URL: {err}"),
        })?;
        http::check_secure(self.vendor(), &url)?;
        Ok(url)
    }

    /// The vendor's URL of an endpoint, with variables substituted (before
    /// [`ClientOptions::rewrites`]); `None` when the descriptor has no such endpoint.
    pub fn resolve_endpoint(&self, kind: &EndpointKind) -> Result<Option<Url>, Error> {
        let endpoints = &self.descriptor().endpoints;
        let (template, used_by) = match kind {
            EndpointKind::Authorization => (
                endpoints.authorization.as_deref(),
                "endpoints.authorization".to_owned(),
            ),
            EndpointKind::Token => (Some(endpoints.token.as_str()), "endpoints.token".to_owned()),
            EndpointKind::Refresh => match &endpoints.refresh {
                Some(t) => (Some(t.as_str()), "endpoints.refresh".to_owned()),
                None => (Some(endpoints.token.as_str()), "endpoints.token".to_owned()),
            },
            EndpointKind::Revocation => (
                endpoints.revocation.as_deref(),
                "endpoints.revocation".to_owned(),
            ),
            EndpointKind::ApiBase => (
                endpoints.api_base.as_deref(),
                "endpoints.api_base".to_owned(),
            ),
            EndpointKind::Extra(name) => (
                endpoints.extra.get(name).map(String::as_str),
                format!("endpoints.extra.{name}"),
            ),
        };
        template
            .map(|t| self.url_from_template(t, &used_by))
            .transpose()
    }

    /// Every endpoint of the descriptor with its resolved URL or the reason it cannot be
    /// resolved (e.g. a missing variable), for tools that describe a vendor.
    pub fn resolved_endpoints(&self) -> Vec<(EndpointKind, Result<Url, Error>)> {
        let endpoints = &self.descriptor().endpoints;
        let mut kinds = vec![EndpointKind::Token];
        if endpoints.authorization.is_some() {
            kinds.insert(0, EndpointKind::Authorization);
        }
        if endpoints.refresh.is_some() {
            kinds.push(EndpointKind::Refresh);
        }
        if endpoints.revocation.is_some() {
            kinds.push(EndpointKind::Revocation);
        }
        if endpoints.api_base.is_some() {
            kinds.push(EndpointKind::ApiBase);
        }
        kinds.extend(endpoints.extra.keys().cloned().map(EndpointKind::Extra));
        kinds
            .into_iter()
            .filter_map(|kind| match self.resolve_endpoint(&kind) {
                Ok(Some(url)) => Some((kind, Ok(url))),
                Ok(None) => None,
                Err(err) => Some((kind, Err(err))),
            })
            .collect()
    }

    /// The URL a request to `url` actually goes to: [`ClientOptions::rewrites`] applied, and
    /// HTTPS (or a loopback host) checked before and after.
    pub fn effective_url(&self, url: &Url) -> Result<Url, Error> {
        http::rewrite(self.vendor(), &self.inner.options, url)
    }

    fn required_endpoint(&self, kind: EndpointKind) -> Result<Url, Error> {
        let what = format!("the `{kind}` endpoint");
        self.resolve_endpoint(&kind)?
            .ok_or_else(|| self.unsupported(what))
    }

    fn scopes(&self, requested: Option<&[String]>) -> Option<String> {
        let scopes = requested
            .or(self.inner.config.scopes.as_deref())
            .unwrap_or(&self.descriptor().scopes.default);
        (!scopes.is_empty()).then(|| scopes.join(&self.descriptor().scopes.separator))
    }

    fn render_param(&self, value: &str, used_by: &str) -> Result<String, Error> {
        self.inner.vars.render(value, used_by, Escape::Plain)
    }

    fn extra_params(&self, grant: GrantKind, params: &mut Params) -> Result<(), Error> {
        if let Some(common) = self.descriptor().grants.common(grant) {
            for (name, value) in common.extra_params {
                let used_by = format!("grants.{grant}.extra_params.{name}");
                params.set(name, self.render_param(value, &used_by)?);
            }
        }
        Ok(())
    }

    /// The `grant_type` value sent for `grant`: the user's override, else the descriptor's.
    fn grant_type(&self, grant: GrantKind) -> String {
        match self.config().grant_types.get(&grant) {
            Some(value) => value.clone(),
            None => self.descriptor().grants.grant_type(grant),
        }
    }

    /// Runs the client credentials grant.
    pub async fn client_credentials(&self) -> Result<Token, Error> {
        let grant = self
            .descriptor()
            .grants
            .client_credentials
            .as_ref()
            .ok_or_else(|| self.unsupported("grant `client_credentials`"))?;
        let url = self.required_endpoint(EndpointKind::Token)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(GrantKind::ClientCredentials));
        if grant.send_scope {
            if let Some(scope) = self.scopes(None) {
                params.set("scope", scope);
            }
        }
        if let Some(redirect) = &grant.redirect_uri {
            let value = self.render_param(redirect, "grants.client_credentials.redirect_uri")?;
            params.set("redirect_uri", value);
        }
        self.extra_params(GrantKind::ClientCredentials, &mut params)?;
        self.token_call(TokenCall {
            url,
            params,
            secrets: Vec::new(),
            policy: RetryPolicy::Idempotent,
        })
        .await
    }

    /// Builds an authorize URL with a fresh random state (and PKCE where the vendor allows it).
    pub fn authorize_url(&self) -> Result<AuthorizationRequest, Error> {
        self.authorize_url_with(&AuthorizeOptions::default())
    }

    /// Builds an authorize URL with per-request options.
    ///
    /// Parameter names come from `grants.authorization_code.authorize_params`; the scope is sent
    /// when `send_scope` is set and there are scopes; the redirect URI is the configuration's or
    /// the descriptor's default; `extra_authorize_params` are added with variables substituted;
    /// PKCE S256 per [`AuthorizeOptions::pkce`] and the descriptor. The URL has
    /// [`ClientOptions::rewrites`] applied.
    pub fn authorize_url_with(
        &self,
        options: &AuthorizeOptions,
    ) -> Result<AuthorizationRequest, Error> {
        let grant = self
            .descriptor()
            .grants
            .authorization_code
            .as_ref()
            .ok_or_else(|| self.unsupported("grant `authorization_code`"))?;
        let mut url = self.required_endpoint(EndpointKind::Authorization)?;
        let names = &grant.authorize_params;
        let state = pkce::random_token();
        let verifier = match grant.pkce {
            Pkce::Unsupported => None,
            Pkce::Supported if !options.pkce => None,
            Pkce::Supported | Pkce::Required => Some(pkce::random_token()),
        };
        let redirect_uri = self.redirect_uri_for_code()?;
        let mut extra = Vec::new();
        for (name, value) in &grant.extra_authorize_params {
            let used_by = format!("grants.authorization_code.extra_authorize_params.{name}");
            extra.push((name.clone(), self.render_param(value, &used_by)?));
        }
        {
            let mut query = url.query_pairs_mut();
            query.append_pair(&names.response_type, "code");
            if grant.send_scope {
                if let Some(scope) = self.scopes(options.scopes.as_deref()) {
                    query.append_pair(&names.scope, &scope);
                }
            }
            query.append_pair(&names.client_id, &self.inner.config.client_id);
            if let Some(redirect) = &redirect_uri {
                query.append_pair(&names.redirect_uri, redirect);
            }
            query.append_pair(&names.state, &state);
            if let Some(verifier) = &verifier {
                query.append_pair("code_challenge", &pkce::s256_challenge(verifier));
                query.append_pair("code_challenge_method", "S256");
            }
            for (name, value) in extra.iter().chain(&options.extra_params) {
                query.append_pair(name, value);
            }
        }
        let url = self.effective_url(&url)?;
        Ok(AuthorizationRequest {
            url,
            state: SecretString::from(state),
            pkce_verifier: verifier.map(SecretString::from),
            redirect_uri,
        })
    }

    fn redirect_uri_for_code(&self) -> Result<Option<String>, Error> {
        let default = self
            .descriptor()
            .grants
            .authorization_code
            .as_ref()
            .and_then(|g| g.default_redirect_uri.as_deref());
        match self.inner.config.redirect_uri.as_deref().or(default) {
            Some(uri) => Ok(Some(self.render_param(uri, "redirect_uri")?)),
            None => Ok(None),
        }
    }

    fn authorization_endpoint_display(&self) -> String {
        match self.resolve_endpoint(&EndpointKind::Authorization) {
            Ok(Some(url)) => http::display_url(&url),
            _ => "the authorization endpoint".to_owned(),
        }
    }

    /// Checks the callback against the request (state in constant time) and exchanges the code.
    ///
    /// An `error` in the callback gives [`Error::OAuth`] (without HTTP status); a missing or
    /// different state gives [`Error::StateMismatch`] and no request is made.
    pub async fn exchange_code(
        &self,
        request: &AuthorizationRequest,
        callback: &Callback,
    ) -> Result<Token, Error> {
        if let Some(error) = &callback.error {
            let clean = |s: &str| crate::scrub::excerpt(s.as_bytes(), &[]).into();
            return Err(Error::OAuth {
                vendor: self.vendor().into(),
                endpoint: self.authorization_endpoint_display().into(),
                status: None,
                request_id: None,
                error: clean(error),
                error_description: callback.error_description.as_deref().map(clean),
                error_uri: None,
            });
        }
        if !request.state_matches(callback.state.as_deref()) {
            return Err(Error::StateMismatch {
                vendor: self.vendor().to_owned(),
                endpoint: self.authorization_endpoint_display(),
            });
        }
        let Some(code) = &callback.code else {
            return Err(Error::InvalidResponse {
                vendor: self.vendor().into(),
                endpoint: self.authorization_endpoint_display().into(),
                status: None,
                request_id: None,
                content_type: None,
                reason: "the callback carries neither a code nor an error".into(),
                excerpt: "".into(),
            });
        };
        self.exchange(
            GrantKind::AuthorizationCode,
            code,
            request.pkce_verifier.as_ref(),
            request.redirect_uri.clone(),
        )
        .await
    }

    /// Exchanges a code obtained out of band (pasted by the user); no state to check.
    pub async fn exchange_code_oob(
        &self,
        code: &SecretString,
        pkce_verifier: Option<&SecretString>,
    ) -> Result<Token, Error> {
        let redirect_uri = self.redirect_uri_for_code()?;
        self.exchange(
            GrantKind::AuthorizationCode,
            code,
            pkce_verifier,
            redirect_uri,
        )
        .await
    }

    /// The code exchange of the authorization code and legacy grants. Never retried once the
    /// request may have reached the server: a code is single-use.
    async fn exchange(
        &self,
        grant: GrantKind,
        code: &SecretString,
        pkce_verifier: Option<&SecretString>,
        redirect_uri: Option<String>,
    ) -> Result<Token, Error> {
        let send_redirect = match grant {
            GrantKind::AuthorizationCode => {
                self.descriptor()
                    .grants
                    .authorization_code
                    .as_ref()
                    .ok_or_else(|| self.unsupported("grant `authorization_code`"))?
                    .send_redirect_uri
            }
            _ => true,
        };
        let url = self.required_endpoint(EndpointKind::Token)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(grant));
        params.set("code", code.expose_secret());
        if send_redirect {
            if let Some(redirect) = redirect_uri {
                params.set("redirect_uri", redirect);
            }
        }
        let mut secrets = vec![code.clone()];
        if let Some(verifier) = pkce_verifier {
            params.set("code_verifier", verifier.expose_secret());
            secrets.push(verifier.clone());
        }
        self.extra_params(grant, &mut params)?;
        self.token_call(TokenCall {
            url,
            params,
            secrets,
            policy: RetryPolicy::SingleUse,
        })
        .await
    }

    /// Refreshes; the returned token keeps the old refresh token when the vendor sent none, and
    /// carries the new one when the vendor rotates it. Sent to `endpoints.refresh`, else the
    /// token endpoint. An expired or revoked refresh token gives an [`Error::OAuth`] for which
    /// [`Error::is_invalid_grant`] is true.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<Token, Error> {
        if self.descriptor().grants.refresh_token.is_none() {
            return Err(self.unsupported("grant `refresh_token`"));
        }
        let url = self.required_endpoint(EndpointKind::Refresh)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(GrantKind::RefreshToken));
        params.set("refresh_token", refresh_token.expose_secret());
        self.extra_params(GrantKind::RefreshToken, &mut params)?;
        // A rotating refresh token is single-use: once the vendor has seen it, a retry would
        // be refused with `invalid_grant`, so it is retried only when it never left.
        let rotates = self
            .descriptor()
            .grants
            .refresh_token
            .as_ref()
            .is_some_and(|grant| grant.rotates);
        let mut token = self
            .token_call(TokenCall {
                url,
                params,
                secrets: vec![refresh_token.clone()],
                policy: if rotates {
                    RetryPolicy::SingleUse
                } else {
                    RetryPolicy::Idempotent
                },
            })
            .await?;
        if token.refresh_token.is_none() {
            token.refresh_token = Some(refresh_token.clone());
        }
        Ok(token)
    }

    /// Runs the legacy credentials-to-code flow, then exchanges the code.
    ///
    /// Step 1 POSTs `username`, `password`, `redirect_uri` and the descriptor's
    /// `credentials_params` as a form to `endpoints.extra[credentials_endpoint]`, with
    /// `response_type=code`, `client_id` and a random `state` in the query. The `302` is not
    /// followed: `code` and `state` are read from its `Location`, and the state is checked in
    /// constant time. Step 2 exchanges the code at the token endpoint (never retried once sent).
    pub async fn legacy_credentials(&self, user: &UserCredentials) -> Result<Token, Error> {
        let grant = self
            .descriptor()
            .grants
            .legacy_credentials
            .as_ref()
            .ok_or_else(|| self.unsupported("grant `legacy_credentials`"))?;
        let mut url =
            self.required_endpoint(EndpointKind::Extra(grant.credentials_endpoint.clone()))?;
        let state = pkce::random_token();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.inner.config.client_id)
            .append_pair("state", &state);
        let redirect_uri = match self
            .inner
            .config
            .redirect_uri
            .as_deref()
            .or(grant.default_redirect_uri.as_deref())
        {
            Some(uri) => self.render_param(uri, "redirect_uri")?,
            None => {
                return Err(Error::Config {
                    vendor: self.vendor().to_owned(),
                    message: "the legacy credentials flow needs a redirect URI: set \
                              ClientConfig::redirect_uri to the one registered for the integration"
                        .to_owned(),
                });
            }
        };
        let mut form = Params::default();
        form.set("username", user.username.as_str());
        form.set("password", user.password.expose_secret());
        for (name, value) in &grant.credentials_params {
            let used_by = format!("grants.legacy_credentials.credentials_params.{name}");
            form.set(name, self.render_param(value, &used_by)?);
        }
        form.set("redirect_uri", redirect_uri.as_str());
        let body = encode_form(&form);

        let target = self.effective_url(&url)?;
        let endpoint = http::display_url(&target);
        let http = &self.inner.http;
        let captured = self
            .transport()
            .execute(
                &endpoint,
                // The user's password is posted again only if it never left: a resent login
                // can count twice against the vendor's failed-login limits.
                RetryPolicy::SingleUse,
                parse::MAX_TOKEN_BODY,
                || {
                    http.post(target.clone())
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(body.clone())
                },
            )
            .await?;
        let known = [
            user.password.expose_secret(),
            user.username.as_str(),
            state.as_str(),
            self.inner
                .config
                .client_secret
                .as_ref()
                .map(|s| s.expose_secret())
                .unwrap_or(""),
        ];
        let meta = ResponseMeta {
            vendor: self.vendor(),
            endpoint: &endpoint,
            status: captured.status,
            request_id: captured.request_id.clone(),
            content_type: captured.content_type.clone(),
            known_secrets: &known,
        };
        let body = captured.body.as_deref().unwrap_or(b"");
        let location = http::header_str(&captured.headers, "location");
        let (true, Some(location)) = ((300..400).contains(&captured.status), location) else {
            if let Some(err) = parse::body_object(&meta, body).and_then(|o| meta.oauth_error(&o)) {
                return Err(err);
            }
            return Err(meta.invalid(
                "expected a redirect (302) whose Location carries the authorization code",
                body,
            ));
        };
        let location = target
            .join(&location)
            .map_err(|_| meta.invalid("the redirect's Location is not a valid URL", b""))?;
        let mut code = None;
        let mut returned_state = None;
        let mut fields = serde_json::Map::new();
        for (name, value) in location.query_pairs() {
            match name.as_ref() {
                "code" => code = Some(value.into_owned()),
                "state" => returned_state = Some(value.into_owned()),
                "error" | "error_description" | "error_uri" => {
                    fields.insert(name.into_owned(), value.into_owned().into());
                }
                _ => {}
            }
        }
        if let Some(err) = meta.oauth_error(&fields) {
            return Err(err);
        }
        let state_ok = returned_state
            .as_deref()
            .is_some_and(|got| pkce::constant_time_eq(got.as_bytes(), state.as_bytes()));
        if !state_ok {
            return Err(Error::StateMismatch {
                vendor: self.vendor().to_owned(),
                endpoint,
            });
        }
        let Some(code) = code.filter(|c| !c.is_empty()) else {
            return Err(meta.invalid("the redirect's Location carries no code", b""));
        };
        self.exchange(
            GrantKind::LegacyCredentials,
            &SecretString::from(code),
            None,
            Some(redirect_uri),
        )
        .await
    }

    /// Sends one token request: client authentication, body encoding and headers per the
    /// descriptor, retries per the call's policy, and tolerant parsing of the answer.
    async fn token_call(&self, call: TokenCall) -> Result<Token, Error> {
        let descriptor = self.descriptor();
        let TokenCall {
            url,
            mut params,
            secrets,
            policy,
        } = call;
        let client_id = self.inner.config.client_id.as_str();
        let secret = self.inner.config.client_secret.as_ref();
        let need_secret = || {
            secret.ok_or_else(|| Error::Config {
                vendor: self.vendor().to_owned(),
                message: format!(
                    "the vendor authenticates clients with `{}`, which needs a client secret",
                    match descriptor.client_auth {
                        ClientAuth::ClientSecretBasic => "client_secret_basic",
                        _ => "client_secret_post",
                    }
                ),
            })
        };
        let mut basic = None;
        match descriptor.client_auth {
            ClientAuth::ClientSecretPost => {
                let secret = need_secret()?;
                params.set("client_id", client_id);
                params.set("client_secret", secret.expose_secret());
            }
            ClientAuth::ClientSecretBasic => {
                basic = Some(basic_auth(client_id, need_secret()?.expose_secret()));
            }
            ClientAuth::None => params.set("client_id", client_id),
        }

        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &descriptor.token_request.headers {
            let used_by = format!("token_request.headers.{name}");
            let value = self.render_param(value, &used_by)?;
            let bad = |what: &str| Error::Config {
                vendor: self.vendor().to_owned(),
                message: format!("`{used_by}` is not a valid header {what}"),
            };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("name"))?;
            let value = HeaderValue::from_str(&value).map_err(|_| bad("value"))?;
            headers.insert(name, value);
        }
        if let Some(basic) = &basic {
            let mut value =
                HeaderValue::from_str(basic.expose_secret()).map_err(|_| Error::Config {
                    vendor: self.vendor().to_owned(),
                    message: "the client id or secret cannot be sent in a header".to_owned(),
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }

        let encoding = descriptor.token_request.encoding;
        let body: Vec<u8> = match encoding {
            BodyEncoding::Form => encode_form(&params).into_bytes(),
            BodyEncoding::Json => {
                let object: serde_json::Map<String, serde_json::Value> = params
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                serde_json::to_vec(&object).unwrap_or_default()
            }
            BodyEncoding::Multipart => Vec::new(),
        };

        let target = self.effective_url(&url)?;
        let endpoint = http::display_url(&target);
        let http = &self.inner.http;
        let build = || {
            let request = http.post(target.clone()).headers(headers.clone());
            match encoding {
                BodyEncoding::Form => request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body.clone()),
                BodyEncoding::Json => request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone()),
                BodyEncoding::Multipart => {
                    let form = params
                        .0
                        .iter()
                        .fold(reqwest::multipart::Form::new(), |form, (k, v)| {
                            form.text(k.clone(), v.clone())
                        });
                    request.multipart(form)
                }
            }
        };
        let captured = self
            .transport()
            .execute(&endpoint, policy, parse::MAX_TOKEN_BODY, build)
            .await?;

        let mut known: Vec<&str> = secrets.iter().map(|s| s.expose_secret()).collect();
        if let Some(secret) = secret {
            known.push(secret.expose_secret());
        }
        let meta = ResponseMeta {
            vendor: self.vendor(),
            endpoint: &endpoint,
            status: captured.status,
            request_id: captured.request_id.clone(),
            content_type: captured.content_type.clone(),
            known_secrets: &known,
        };
        parse::token_response(
            &meta,
            captured.body.as_deref(),
            &descriptor.token_response,
            now_unix(),
        )
    }
}

/// `application/x-www-form-urlencoded` serialization of parameters.
fn encode_form(params: &Params) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in &params.0 {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 requires.
fn basic_auth(client_id: &str, secret: &str) -> SecretString {
    use base64::Engine as _;
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", encode(client_id), encode(secret));
    SecretString::from(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_form_encodes_before_base64() {
        use base64::Engine as _;
        let header = basic_auth("my client", "p@ss:w/rd+&=%");
        let b64 = header.expose_secret().strip_prefix("Basic ").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let raw = String::from_utf8(raw).unwrap();
        assert_eq!(raw, "my+client:p%40ss%3Aw%2Frd%2B%26%3D%25");
        let (id, secret) = raw.split_once(':').unwrap();
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .unwrap()
                .1
                .into_owned()
        };
        assert_eq!(decode(id), "my client");
        assert_eq!(decode(secret), "p@ss:w/rd+&=%");
    }
}
