//! [`Client`]: one vendor's descriptor, a user's configuration and a transport, with
//! everything that depends only on those computed once, when the client is built.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use oauth_clients_descriptor::{Descriptor, Provider};
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::{ClientConfig, redact_variables};
use crate::descriptor::BasicAuthEncoding;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::headers::copy_with_room;
use crate::parts::{DEFAULT_TOKEN_HEADERS, SharedParts};
use crate::sanitize::{KnownSecrets, Sanitizer};
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
    /// What clients of the same vendor, variables and options share.
    pub(crate) parts: Arc<SharedParts>,
    pub(crate) config: ClientConfig,
    pub(crate) vars: Vars,
    /// The `Authorization: Basic …` header, made on first use, with the encoding it was made
    /// for; `None` when the credentials cannot go in a header.
    pub(crate) basic_header: std::sync::OnceLock<(BasicAuthEncoding, Option<HeaderValue>)>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        let declared = &self.descriptor().variables;
        let variables = redact_variables(config.variables(), |name| {
            declared.get(name).is_some_and(|v| v.secret)
        });
        f.debug_struct("Client")
            .field("vendor", &self.inner.parts.provider.id())
            .field("client_id", &config.client_id())
            .field(
                "client_secret",
                &config.client_secret().map(|_| "[redacted]"),
            )
            .field("variables", &variables)
            .field("environment", &config.environment_name())
            .field("scopes", &config.scope_list())
            .field("redirect_uri", &config.redirect_uri_value())
            .field("options", self.inner.parts.transport.options())
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
        let mut vars = Vars::resolve(&provider, config.variables(), config.environment_name())?;
        vars.set("client_id", config.client_id());
        let parts = SharedParts::get(&provider, &vars, options)?;
        Ok(Client {
            inner: Arc::new(ClientInner {
                parts,
                config,
                vars,
                basic_header: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The vendor.
    pub fn provider(&self) -> &Provider {
        &self.inner.parts.provider
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The transport options.
    pub fn options(&self) -> &ClientOptions {
        self.inner.parts.transport.options()
    }

    pub(crate) fn descriptor(&self) -> &Descriptor {
        self.inner.parts.provider.descriptor()
    }

    pub(crate) fn vendor(&self) -> &str {
        self.inner.parts.provider.id()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.parts.transport
    }

    pub(crate) fn vars(&self) -> &Vars {
        &self.inner.vars
    }

    /// The vendor's URL of an endpoint, with variables substituted (before rewrites); `None`
    /// when the descriptor has no such endpoint.
    #[doc(hidden)]
    pub fn resolve_endpoint(&self, kind: &EndpointKind) -> Result<Option<Url>, Error> {
        Ok(self.inner.parts.endpoints.get(kind)?.cloned())
    }

    /// Every endpoint of the descriptor with its resolved URL, or the reason it cannot be
    /// resolved (e.g. a missing variable), for tools that describe a vendor.
    pub fn resolved_endpoints(&self) -> Vec<(EndpointKind, Result<Url, Error>)> {
        self.inner
            .parts
            .endpoints
            .all()
            .map(|(kind, url)| (kind.clone(), url.clone()))
            .collect()
    }

    /// The rewrites of this client's options as `(prefix, target)`, safe to show.
    pub fn rewrites(&self) -> Vec<(String, String)> {
        self.inner.parts.transport.rewrites_display()
    }

    /// The URL a request to `url` actually goes to: rewrites applied, and HTTPS (or a loopback
    /// host) checked before and after.
    #[doc(hidden)]
    pub fn effective_url(&self, url: &Url) -> Result<Url, Error> {
        self.inner.parts.transport.target(url.clone())
    }

    /// The URL of an endpoint the grant needs; [`Error::Unsupported`] when there is none.
    pub(crate) fn required_endpoint(&self, kind: EndpointKind) -> Result<Url, Error> {
        match self.inner.parts.endpoints.get(&kind)? {
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
        let client: Arc<dyn KnownSecrets> = self.inner.clone();
        Sanitizer::knowing(client).with(more)
    }
}

/// The client secret, and its Basic form (form-encoded; a grant sending the raw form adds
/// that to its own request's sanitizer): computed when a text is scrubbed, not kept.
impl KnownSecrets for ClientInner {
    fn known_secrets(&self) -> Vec<String> {
        let Some(secret) = self.config.client_secret() else {
            return Vec::new();
        };
        let basic = crate::crypto::basic_auth(self.config.client_id(), secret);
        vec![
            secret.expose_secret().to_owned(),
            basic
                .expose_secret()
                .trim_start_matches("Basic ")
                .to_owned(),
        ]
    }
}

impl Client {
    /// The headers every token request starts from, with room for those added later.
    pub(crate) fn token_headers(&self) -> Result<HeaderMap, Error> {
        match &self.inner.parts.token_headers {
            Ok(Some(headers)) => Ok(copy_with_room(headers)),
            Ok(None) => Ok(copy_with_room(&DEFAULT_TOKEN_HEADERS)),
            Err(err) => Err(err.clone()),
        }
    }
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
