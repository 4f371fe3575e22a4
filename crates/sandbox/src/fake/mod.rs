//! A strict fake of any vendor, built from its descriptor alone.
//!
//! This is a second, independent reading of the descriptor schema: it shares no code with the
//! engine (`oauth-clients-core`), only the schema types, their validation and the placeholder
//! grammar of `oauth-clients-descriptor`. Each vendor is served under `/<id>/<host>/<path>`; the
//! endpoints are the descriptor's, rendered with the values of [`values`].
//!
//! - [`authorize`]: the authorization endpoint, and the legacy credentials endpoint;
//! - [`token`]: token endpoints and the device authorization endpoint: method, parameter place,
//!   encoding, headers, names, `grant_type`, extra parameters; [`client_auth`] checks the
//!   client; [`grants`] checks and redeems each grant;
//! - [`answer`]: token answers and errors in the vendor's shape;
//! - [`api`]: API requests under `api_base`.

mod answer;
mod api;
mod authorize;
mod client_auth;
mod grants;
mod jwt;
mod store;
mod token;
pub(crate) mod values;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use oauth_clients_descriptor::schema::{Descriptor, TokenRequest};
use oauth_clients_descriptor::{GrantKind, Provider};
use url::Url;

use crate::state::State;
use crate::wire;
use store::Store;
use values::{Escape, Values, render};

/// What an endpoint of the fake does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// `endpoints.authorization` (GET, auto-approved).
    Authorize,
    /// The legacy flow's credentials endpoint (`endpoints.extra[credentials_endpoint]`).
    Credentials,
    /// A token endpoint, with the grants it serves.
    Token(Vec<GrantKind>),
    /// `endpoints.device_authorization`.
    DeviceAuthorization,
}

/// One endpoint: the vendor's URL (variables substituted) and its role.
#[derive(Debug, Clone)]
struct Route {
    url: Url,
    role: Role,
}

/// Why a request is refused: an RFC 6749 error code and a description naming what was wrong.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub description: String,
}

impl Refusal {
    /// `invalid_request`.
    pub fn request(description: impl Into<String>) -> Refusal {
        Refusal {
            code: "invalid_request",
            description: description.into(),
        }
    }

    /// `invalid_client` (HTTP 401).
    pub fn client(description: impl Into<String>) -> Refusal {
        Refusal {
            code: "invalid_client",
            description: description.into(),
        }
    }

    /// `invalid_grant`.
    pub fn grant(description: impl Into<String>) -> Refusal {
        Refusal {
            code: "invalid_grant",
            description: description.into(),
        }
    }

    /// Any other code.
    pub fn other(code: &'static str, description: impl Into<String>) -> Refusal {
        Refusal {
            code,
            description: description.into(),
        }
    }
}

/// The fake of one descriptor.
pub(crate) struct Fake {
    provider: Provider,
    values: Values,
    routes: Vec<Route>,
    api_base: Option<Url>,
    /// Every host (with its port, when not the default) of the vendor's endpoints, in order.
    hosts: Vec<String>,
    store: Store,
    token_requests: AtomicUsize,
}

impl Fake {
    /// Builds the fake: validates the descriptor, chooses the values, renders the endpoints.
    pub(crate) fn new(descriptor: Descriptor) -> Result<Fake, String> {
        let id = descriptor.id.clone();
        let provider =
            Provider::from_descriptor(descriptor, &format!("{id}.yaml")).map_err(|errors| {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                format!("invalid descriptor `{id}`: {}", list.join("; "))
            })?;
        let values = Values::choose(&provider);
        let mut fake = Fake {
            provider,
            values,
            routes: Vec::new(),
            api_base: None,
            hosts: Vec::new(),
            store: Store::default(),
            token_requests: AtomicUsize::new(0),
        };
        fake.add_routes()?;
        Ok(fake)
    }

    fn add_routes(&mut self) -> Result<(), String> {
        let descriptor = self.provider.descriptor().clone();
        let e = &descriptor.endpoints;
        let grants = &descriptor.grants;
        for template in values::url_templates(&descriptor) {
            let url = self.url(template)?;
            let host = host_of(&url);
            if !self.hosts.contains(&host) {
                self.hosts.push(host);
            }
        }
        if let (Some(template), Some(_)) = (&e.authorization, &grants.authorization_code) {
            self.add_route(self.url(template)?, Role::Authorize);
        }
        if let Some(template) = &e.device_authorization {
            self.add_route(self.url(template)?, Role::DeviceAuthorization);
        }
        if let Some(legacy) = &grants.legacy_credentials
            && let Some(template) = e.extra.get(&legacy.credentials_endpoint)
        {
            self.add_route(self.url(template)?, Role::Credentials);
        }
        for kind in grants.kinds() {
            let own = grants.common(kind).and_then(|c| c.endpoint);
            let template = match (own, kind) {
                (Some(own), _) => own,
                (None, GrantKind::RefreshToken) => e.refresh.as_deref().unwrap_or(&e.token),
                (None, _) => &e.token,
            };
            let url = self.url(template)?;
            match self
                .routes
                .iter_mut()
                .find(|r| same_endpoint(&r.url, &url) && matches!(r.role, Role::Token(_)))
            {
                Some(Route {
                    role: Role::Token(kinds),
                    ..
                }) => kinds.push(kind),
                _ => self.add_route(url, Role::Token(vec![kind])),
            }
        }
        if let Some(template) = &e.api_base {
            let mut url = self.url(template)?;
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            self.api_base = Some(url);
        }
        Ok(())
    }

    fn add_route(&mut self, url: Url, role: Role) {
        self.routes.push(Route { url, role });
    }

    /// A URL template rendered with the fake's values.
    fn url(&self, template: &str) -> Result<Url, String> {
        let text = render(template, &self.values.all, Escape::Url)
            .map_err(|err| format!("{}: {err}", self.id()))?;
        Url::parse(&text).map_err(|err| format!("{}: `{text}` is not a URL: {err}", self.id()))
    }

    /// The vendor id.
    pub(crate) fn id(&self) -> &str {
        self.provider.id()
    }

    pub(crate) fn descriptor(&self) -> &Descriptor {
        self.provider.descriptor()
    }

    /// The settable variables' values (what a client must be configured with).
    pub(crate) fn settable(&self) -> &BTreeMap<String, String> {
        &self.values.settable
    }

    /// The captured variables' values (what the fake answers with).
    pub(crate) fn captured(&self) -> &BTreeMap<String, String> {
        &self.values.captured
    }

    /// The hosts of the vendor's endpoints (with a port when not the default).
    pub(crate) fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// How many requests reached a token or device authorization endpoint.
    pub(crate) fn token_requests(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }

    /// The token request settings of a grant: the descriptor's, with the grant's differences.
    fn settings(&self, kind: GrantKind) -> TokenRequest {
        let descriptor = self.descriptor();
        descriptor
            .token_request
            .with(descriptor.grants.common(kind).and_then(|c| c.token_request))
    }

    /// A template rendered as a parameter or header value, with the values and the client id.
    fn plain(&self, template: &str, client_id: &str) -> Result<String, Refusal> {
        render(
            template,
            &self.values.with_client_id(client_id),
            Escape::Plain,
        )
        .map_err(|err| Refusal::other("server_error", format!("sandbox: {err}")))
    }

    /// Answers a request to `/<id>/<host><path>`.
    pub(crate) async fn handle(
        &self,
        shared: &State,
        host: &str,
        path: &str,
        request: Request,
    ) -> Response {
        let here: Vec<&Route> = self
            .routes
            .iter()
            .filter(|r| host_of(&r.url) == host && r.url.path() == path)
            .collect();
        // Endpoints may share a URL (an authorize and a token endpoint): a browser's GET
        // with a `response_type` is the authorize step, anything else a token request.
        let browser = request.method() == axum::http::Method::GET
            && self.authorize_response_type().is_some_and(|name| {
                wire::parse_query(request.uri().query()).is_ok_and(|q| q.contains_key(name))
            });
        let route = here
            .iter()
            .find(|r| (r.role == Role::Authorize) == browser)
            .or(here.first())
            .map(|r| (*r).clone());
        match route.map(|r| (r.role, r.url)) {
            Some((Role::Authorize, _)) => authorize::authorize(self, shared, request),
            Some((Role::Credentials, _)) => authorize::credentials(self, shared, request).await,
            Some((Role::Token(kinds), url)) => {
                self.begin_token_request(shared).await;
                token::token(self, shared, &kinds, &url, request).await
            }
            Some((Role::DeviceAuthorization, url)) => {
                self.begin_token_request(shared).await;
                token::device_authorization(self, shared, &url, request).await
            }
            None => match &self.api_base {
                Some(base) if host_of(base) == host && path.starts_with(base.path()) => {
                    api::api(self, path, request)
                }
                _ => self.not_found(host, path),
            },
        }
    }

    /// The name of the authorize request's `response_type` parameter.
    fn authorize_response_type(&self) -> Option<&str> {
        let grant = self.descriptor().grants.authorization_code.as_ref()?;
        Some(grant.authorize_params.response_type.as_str())
    }

    async fn begin_token_request(&self, shared: &State) {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        if let Some(delay) = shared.config.token_delay {
            tokio::time::sleep(delay).await;
        }
    }

    fn not_found(&self, host: &str, path: &str) -> Response {
        let known: Vec<String> = self
            .routes
            .iter()
            .map(|r| format!("{}{}", host_of(&r.url), r.url.path()))
            .chain(
                self.api_base
                    .iter()
                    .map(|b| format!("{}{}…", host_of(b), b.path())),
            )
            .collect();
        wire::json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({
                "error": "not_found",
                "error_description": format!(
                    "{} has no endpoint at {host}{path}; it serves: {}",
                    self.id(),
                    known.join(", ")
                ),
            }),
        )
    }
}

/// `host` or `host:port` of a URL (the port only when it is not the scheme's default).
pub(crate) fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn same_endpoint(a: &Url, b: &Url) -> bool {
    host_of(a) == host_of(b) && a.path() == b.path()
}
