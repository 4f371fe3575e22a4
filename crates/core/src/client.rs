//! [`Client`]: one vendor's descriptor, a user's configuration and a transport, with
//! everything that depends only on those computed once, when the client is built.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use oauth_clients_descriptor::{Descriptor, Provider};
use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::{ClientConfig, redact_variables};
use crate::endpoints::{EndpointKind, Endpoints};
use crate::error::Error;
use crate::jwks::JwksCache;
use crate::sanitize::Sanitizer;
use crate::transport::{ClientOptions, Transport};
use crate::vars::{Escape, Vars};

/// A client of one vendor: a validated descriptor, a user's configuration, and a transport.
/// Cheap to clone; clones share everything.
///
/// Building a client checks the configuration against the descriptor (declared variables,
/// their patterns, the environment, the rewrites) and computes once what every request needs:
/// endpoint URLs, header maps, the Basic credentials. Requests then only assemble parameters.
///
/// # Grants
///
/// One method per grant ([`Client::client_credentials`], [`Client::authorize_url`] and
/// [`Client::exchange_code`], [`Client::refresh`], [`Client::legacy_credentials`]), each run
/// exactly as the descriptor says: parameter names and `grant_type` values, client
/// authentication (`client_secret_post`, `client_secret_basic` with RFC 6749 §2.3.1 encoding,
/// `none`), body encoding (form, JSON, multipart), extra headers and parameters.
///
/// # Token responses
///
/// Parsing is tolerant where real servers differ (modelled on golang.org/x/oauth2): any 2xx
/// status; a JSON object, or form-encoded fields when the content type says
/// `application/x-www-form-urlencoded` or `text/plain`; `expires_in` as a number or a numeric
/// string (fractions truncated, `0` or `null` meaning "not given", lifetimes over a year capped
/// with a warning); without `expires_in`, the access token's JWT `exp` claim (when
/// `token_response.jwt_expiry`; the signature is not checked), else
/// `token_response.default_expires_in`, else an unknown expiry; `created_at` as the issue time
/// (when `token_response.created_at`); `scope` `"null"` meaning none; fields beyond the
/// standard ones kept in [`crate::Token::extra`]; the token object found under
/// `token_response.token_path`.
///
/// It is strict where it matters: an `error` field makes any answer an [`Error::OAuth`]; a
/// `token_type` other than `bearer` (or one the descriptor accepts), a missing or empty
/// `access_token`, a negative or non-numeric `expires_in`, an empty or unparseable body, a
/// redirect, and a body over 1 MiB (refused while streaming, never read whole) are each an
/// [`Error::InvalidResponse`] carrying the status, content type, the vendor's request id and a
/// short, sanitized excerpt.
///
/// # Authorized API requests
///
/// [`Client::send_api`] sends an [`crate::ApiRequest`] with the bearer token and the
/// descriptor's `api.headers`, and returns an [`crate::ApiResponse`] that carries the vendor's
/// request id. The token only ever goes to the origin of `endpoints.api_base`.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) provider: Provider,
    pub(crate) config: ClientConfig,
    pub(crate) vars: Vars,
    pub(crate) transport: Transport,
    pub(crate) endpoints: Endpoints,
    /// `Accept` and the descriptor's `token_request.headers`, or why they cannot be built;
    /// `None` when that is `Accept: application/json` alone (shared, not kept per client).
    pub(crate) token_headers: Result<Option<HeaderMap>, Error>,
    /// The descriptor's `api.headers`, or why they cannot be built.
    pub(crate) api_headers: Result<HeaderMap, Error>,
    /// The client's own secrets (client secret and its Basic form), known to every sanitizer.
    pub(crate) sanitizer: Sanitizer,
    /// The issuer's key set, for ID tokens.
    pub(crate) jwks: JwksCache,
    /// The `Authorization: Basic …` header of each encoding (form-encoded, raw), made on first
    /// use; `None` when the credentials cannot go in a header.
    pub(crate) basic_headers: [std::sync::OnceLock<Option<HeaderValue>>; 2],
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        let declared = &self.descriptor().variables;
        let variables = redact_variables(config.variables(), |name| {
            declared.get(name).is_some_and(|v| v.secret)
        });
        f.debug_struct("Client")
            .field("vendor", &self.inner.provider.id())
            .field("client_id", &config.client_id())
            .field(
                "client_secret",
                &config.client_secret().map(|_| "[redacted]"),
            )
            .field("variables", &variables)
            .field("environment", &config.environment_name())
            .field("scopes", &config.scope_list())
            .field("redirect_uri", &config.redirect_uri_value())
            .field("options", self.inner.transport.options())
            .finish()
    }
}

impl Client {
    /// A client with default options.
    pub fn new(provider: Provider, config: ClientConfig) -> Result<Client, Error> {
        Client::with_options(provider, config, ClientOptions::default())
    }

    /// A client with explicit transport options.
    ///
    /// Fails when a variable is not one the descriptor declares or does not match its pattern,
    /// the environment is unknown, a rewrite is invalid, or the HTTP client cannot be built.
    /// A variable that is missing is reported when a request needs it.
    pub fn with_options(
        provider: Provider,
        config: ClientConfig,
        options: ClientOptions,
    ) -> Result<Client, Error> {
        let descriptor = provider.descriptor();
        let vendor = descriptor.id.as_str();
        let mut vars = Vars::resolve(&provider, config.variables(), config.environment_name())?;
        vars.set("client_id", config.client_id());
        let transport =
            Transport::new(vendor, options, descriptor.api.request_id_header.as_deref())?;
        let endpoints = Endpoints::resolve(descriptor, &vars);
        let mut token_headers = header_map(
            vendor,
            &vars,
            &descriptor.token_request.headers,
            "token_request.headers",
        );
        if let Ok(headers) = &mut token_headers {
            headers
                .entry(ACCEPT)
                .or_insert(HeaderValue::from_static("application/json"));
        }
        let token_headers =
            token_headers.map(|headers| (headers != *DEFAULT_TOKEN_HEADERS).then_some(headers));
        let api_headers = header_map(vendor, &vars, &descriptor.api.headers, "api.headers");
        let mut sanitizer = Sanitizer::new();
        if let Some(secret) = config.client_secret() {
            sanitizer.add(secret.expose_secret());
            let basic = crate::crypto::basic_auth(config.client_id(), secret);
            sanitizer.add(basic.expose_secret().trim_start_matches("Basic "));
        }
        Ok(Client {
            inner: Arc::new(ClientInner {
                provider,
                config,
                vars,
                transport,
                endpoints,
                token_headers,
                api_headers,
                sanitizer: sanitizer.into_shared(),
                jwks: JwksCache::default(),
                basic_headers: Default::default(),
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

    /// The transport options.
    pub fn options(&self) -> &ClientOptions {
        self.inner.transport.options()
    }

    pub(crate) fn descriptor(&self) -> &Descriptor {
        self.inner.provider.descriptor()
    }

    pub(crate) fn vendor(&self) -> &str {
        self.inner.provider.id()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn vars(&self) -> &Vars {
        &self.inner.vars
    }

    /// The vendor's URL of an endpoint, with variables substituted (before rewrites); `None`
    /// when the descriptor has no such endpoint.
    #[doc(hidden)]
    pub fn resolve_endpoint(&self, kind: &EndpointKind) -> Result<Option<Url>, Error> {
        Ok(self.inner.endpoints.get(kind)?.cloned())
    }

    /// Every endpoint of the descriptor with its resolved URL, or the reason it cannot be
    /// resolved (e.g. a missing variable), for tools that describe a vendor.
    pub fn resolved_endpoints(&self) -> Vec<(EndpointKind, Result<Url, Error>)> {
        self.inner
            .endpoints
            .all()
            .map(|(kind, url)| (kind.clone(), url.clone()))
            .collect()
    }

    /// The rewrites of this client's options as `(prefix, target)`, safe to show.
    pub fn rewrites(&self) -> Vec<(String, String)> {
        self.inner.transport.rewrites_display()
    }

    /// The URL a request to `url` actually goes to: rewrites applied, and HTTPS (or a loopback
    /// host) checked before and after.
    #[doc(hidden)]
    pub fn effective_url(&self, url: &Url) -> Result<Url, Error> {
        self.inner.transport.target(url)
    }

    /// The URL of an endpoint the grant needs; [`Error::Unsupported`] when there is none.
    pub(crate) fn required_endpoint(&self, kind: EndpointKind) -> Result<Url, Error> {
        match self.inner.endpoints.get(&kind)? {
            Some(url) => Ok(url.clone()),
            None => Err(Error::unsupported(
                self.vendor(),
                format!("the `{kind}` endpoint"),
            )),
        }
    }

    /// An endpoint rendered with values captured with a token or from a callback on top of
    /// the client's (captured values may shape later URLs: an API origin, a regional token
    /// host); the endpoint as resolved when the client was built when there are none.
    pub(crate) fn endpoint_with(
        &self,
        kind: EndpointKind,
        captured: &BTreeMap<String, String>,
    ) -> Result<Url, Error> {
        if captured.is_empty() {
            return self.required_endpoint(kind);
        }
        let vars = self.inner.vars.overlay(captured);
        let url = crate::endpoints::resolve_one(self.descriptor(), &vars, &kind)?;
        url.ok_or_else(|| Error::unsupported(self.vendor(), format!("the `{kind}` endpoint")))
    }

    /// Renders a parameter value template (variables substituted, no escaping).
    pub(crate) fn render_param(&self, value: &str, used_by: &str) -> Result<String, Error> {
        self.inner.vars.render_text(value, used_by, Escape::Plain)
    }

    /// A sanitizer that knows the client's secrets and `more`.
    pub(crate) fn sanitizer_with(&self, more: &[&str]) -> Sanitizer {
        self.inner.sanitizer.clone().with(more)
    }
}

/// The token request headers of a descriptor that names none.
static DEFAULT_TOKEN_HEADERS: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(|| {
    HeaderMap::from_iter([(ACCEPT, HeaderValue::from_static("application/json"))])
});

impl Client {
    /// The headers every token request starts from.
    pub(crate) fn token_headers(&self) -> Result<HeaderMap, Error> {
        match &self.inner.token_headers {
            Ok(Some(headers)) => Ok(headers.clone()),
            Ok(None) => Ok(DEFAULT_TOKEN_HEADERS.clone()),
            Err(err) => Err(err.clone()),
        }
    }
}

/// A header map from a descriptor's header templates, variables substituted.
fn header_map(
    vendor: &str,
    vars: &Vars,
    headers: &BTreeMap<String, String>,
    section: &str,
) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let used_by = format!("{section}.{name}");
        let value = vars.render_text(value, &used_by, Escape::Plain)?;
        insert_header(&mut map, name, &value).map_err(|what| {
            Error::config(vendor, format!("`{used_by}` is not a valid header {what}"))
        })?;
    }
    Ok(map)
}

/// Inserts a header; the error names what is invalid (`name` or `value`).
pub(crate) fn insert_header(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
) -> Result<(), &'static str> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| "name")?;
    let value = HeaderValue::from_str(value).map_err(|_| "value")?;
    headers.insert(name, value);
    Ok(())
}

/// A client secret that is required: [`Error::Config`] naming the method when missing.
pub(crate) fn required_secret<'a>(
    vendor: &str,
    secret: Option<&'a SecretString>,
    method: &str,
) -> Result<&'a SecretString, Error> {
    secret.ok_or_else(|| {
        Error::config(
            vendor,
            format!(
                "the vendor authenticates clients with `{method}`, which needs a client secret"
            ),
        )
    })
}
