//! Local fakes of vendors, served over real HTTP on `127.0.0.1`, for integration tests and demos
//! that need no vendor account: four hand-written fakes of the seed vendors (Procurios,
//! Procurify, Procore, Procountor), and a strict fake of any vendor built from its descriptor
//! alone.
//!
//! # The seed fakes
//!
//! Each seed vendor lives under its own path prefix of one server (`/procurios/…`, `/procurify/…`,
//! `/procore/…`, `/procountor/…`) and enforces the wire format of the vendor's own documentation:
//! HTTP method, content type (form for Procurios and Procountor, JSON with `audience` for
//! Procurify, multipart for Procore), required fields, `grant_type` values (Procurios's `code`
//! included) and client authentication in the body. It answers like the vendor does: Procurios's
//! `"scope":"null"` and bare `{"access_token":…}` code exchange with a `ProbaseRequestId` header on
//! every response, Procurify's 24-hour tokens, Procore's `created_at` and refresh tokens,
//! Procountor's `302` with the code in `Location` and its JWT tokens. Failures are RFC 6749 error
//! objects (`invalid_client`, `invalid_grant`, `unsupported_grant_type`, `invalid_request`…) with
//! the matching HTTP status.
//!
//! Point a client at the sandbox by rewriting the vendors' real URL prefixes, which
//! [`Sandbox::rewrites`] lists (the `oauth-clients` tool takes them as `--rewrite-url FROM=TO`):
//!
//! ```no_run
//! use oauth_clients_sandbox::{Sandbox, SandboxConfig, Vendor};
//!
//! # fn main() -> std::io::Result<()> {
//! let sandbox = Sandbox::start(SandboxConfig::default())?;
//! for (from, to) in sandbox.rewrites() {
//!     println!("--rewrite-url {from}={to}");
//! }
//! // … run the code under test with client id `sandbox-client`, secret `sandbox-secret` …
//! assert_eq!(sandbox.token_requests(Vendor::Procurify), 0);
//! sandbox.shutdown(); // or just drop it
//! # Ok(())
//! # }
//! ```
//!
//! The server runs on its own thread with its own Tokio runtime, so it works the same from
//! synchronous tests and from inside `#[tokio::test]`. It stops when the [`Sandbox`] is dropped.
//!
//! | vendor | endpoint (under `http://127.0.0.1:PORT`) | accepts |
//! |---|---|---|
//! | Procurios | `GET /procurios/l/oauth2/authorize` | `response_type=code`, `client_id`, `redirect_uri`, `scope`, optional `state` and PKCE; redirects with `code` and `state` |
//! | | `POST /procurios/l/oauth2/token` | form; `Accept: application/json`; `grant_type=client_credentials` (with `scope`) or `code`; client in the body |
//! | | `GET/POST /procurios/l/{module}/{object}` | bearer token, `Accept: application/vnd.procurios.application+json; version=1` |
//! | Procurify | `POST /procurify/oauth/token` | JSON with `client_id`, `client_secret`, `audience: https://api.procurify.com/`, `grant_type: client_credentials` |
//! | | `GET /procurify/api/v3/vendors/` | bearer token and `X-Procurify-Client: api`; answers `{"data":[…]}` |
//! | Procore | `GET /procore/oauth/authorize` | `response_type=code`, `client_id`, `redirect_uri` (`urn:ietf:wg:oauth:2.0:oob` shows the code in a page, `<code id="code">`), optional `state` and PKCE |
//! | | `POST /procore/oauth/token` | multipart; `authorization_code` (same `redirect_uri`), `client_credentials` (with `redirect_uri`), `refresh_token` (rotated) |
//! | | `GET /procore/rest/v1.0/me` | bearer token |
//! | Procountor | `POST /procountor/api/oauth/authz?response_type=code&client_id=…&state=…` | form `username`, `password`, `company`, `redirect_uri`; answers `302` to `redirect_uri?code=…&state=…` (or `?error=access_denied…`) |
//! | | `POST /procountor/api/oauth/token` | form; `authorization_code` (with `redirect_uri`) or `refresh_token`; JWT tokens with `exp` |
//! | | `GET /procountor/api/sessioninfo` | bearer token |
//!
//! Codes are single use and live ten minutes; a reused or unknown code or refresh token gets
//! `invalid_grant`, a wrong client id or secret `invalid_client` (HTTP 401), an unknown
//! `grant_type` `unsupported_grant_type`, a wrong content type or a missing field
//! `invalid_request`. The sandbox keeps everything in memory and is meant for loopback tests
//! only: its JWT signatures are random bytes, not real signatures.
//!
//! # Fakes of any descriptor
//!
//! [`SandboxConfig::descriptor`] (or [`Sandbox::start_descriptors`], which serves descriptors
//! only) fakes a vendor from its [`Descriptor`] alone: an independent reading of the schema that
//! shares no code with the engine. The vendor is served under `/<id>/<host>/<path>`, and
//! [`Sandbox::rewrites_for`] gives `("https://<host>/", "http://127.0.0.1:PORT/<id>/<host>/")` for
//! every host of its endpoints.
//!
//! ```no_run
//! use oauth_clients_descriptor::Provider;
//! use oauth_clients_sandbox::Sandbox;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let yaml = std::fs::read_to_string("providers/github.yaml")?;
//! let provider = Provider::from_yaml_str(&yaml, "providers/github.yaml")?;
//! let sandbox = Sandbox::start_descriptors([provider.descriptor().clone()])?;
//! for (from, to) in sandbox.rewrites_for("github") {
//!     println!("--rewrite-url {from}={to}");
//! }
//! for (name, value) in sandbox.variables("github").into_iter().flatten() {
//!     println!("--var {name}={value}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! **Variables.** Endpoints are rendered with one value per variable: its `default`, else its
//! `example`, else the default environment's value, else a placeholder: the shortest text that
//! matches its `pattern`, or `https://<name>.sandbox.example` for a variable that starts a URL
//! template, or `sandbox` (a candidate that does not match the `pattern` is skipped). Configure
//! the client with [`Sandbox::variables`]. Variables captured `from: token_response.<path>` are
//! answered by the token endpoint at that path, and `from: callback.<param>` are added to the
//! authorization redirect, with the values of [`Sandbox::captured_variables`]; the hosts they
//! name are in the rewrites too.
//!
//! **What it enforces**, answering RFC 6749 errors whose description names what was wrong:
//!
//! - the authorization endpoint (`GET`, approved at once): `response_type=code`, the client id,
//!   `redirect_uri`, `state`, the scope only when the grant sends it (joined with
//!   `scopes.separator`), under the names of `authorize_params`; `extra_authorize_params` with
//!   their values; PKCE `required` (an S256 challenge) or `unsupported` (none). It redirects with
//!   the code and state under the names of `callback_params`, `iss` when the descriptor has an
//!   `issuer` and `authorization_response_iss`, and the `callback.*` captures;
//! - token endpoints (a grant's `endpoint`, `endpoints.refresh` for refreshes, else
//!   `endpoints.token`): the method, where the parameters are (`params_in`; always the query for
//!   `get`), the body encoding (form, JSON, multipart: the `Content-Type`), the fixed
//!   `query_params`, the `headers`, the names of `param_names`, the `grant_type` value (none
//!   when `send_grant_type: false`), each grant's `extra_params`, the grant's own
//!   `token_request` and `client_auth`; a parameter the descriptor does not explain is refused;
//! - client authentication, any method the descriptor lists: `client_secret_basic` (the id and
//!   secret form-urlencoded first unless `basic_auth_encoding: none`; `client_id` in the body
//!   exactly when `client_id_in_body`), `client_secret_post`, `none`, `client_secret_jwt`
//!   (HS256 checked with the secret) and `private_key_jwt` (a JWT with `iss` = `sub` = the client
//!   id, `aud` the token endpoint; its signature is not checked, the sandbox has no public key).
//!   A request that authenticates twice is refused;
//! - grants: codes are single use, bound to the client, the redirect URI (unless
//!   `send_redirect_uri: false`) and the S256 challenge; refresh tokens rotate when `rotates`
//!   (a used one is refused); client credentials with a scope only when `send_scope` and the
//!   grant's `redirect_uri`; the device flow (`interval: 1`, `authorization_pending` for the
//!   first [`SandboxConfig::device_pending_polls`] polls); JWT-bearer assertions with the
//!   descriptor's algorithm and claims (signature not checked); token exchange of an access
//!   token the fake issued (`subject_token_param`, `subject_token_type`); the legacy
//!   credentials-to-code flow with the configured user;
//! - API requests under `api_base`: the token in `api.token_header` with `api.token_scheme`
//!   (`Authorization: Bearer` by default) or in `api.token_query_param`, every `api.headers`;
//!   `api.example_path` answers 200 with JSON, other paths 404, an unknown or expired token 401.
//!
//! **How it answers** (`token_response`): the token object under `token_path`; `token_type` the
//! first of `token_types`, else `Bearer`; the lifetime in `expires_in_field` (or `expires_in`) in
//! `expires_in_unit`, or the expiry in `expires_at_field` in `expires_at_format`, or no expiry at
//! all with `never_expires` or `default_expires_in` (the vendor sends none);
//! `refresh_expires_in_field`; a second token at each `additional_tokens` path; `success_field`
//! `true` on success and errors as HTTP 200 with it `false` beside `error`. Refresh tokens come
//! only when the descriptor has the refresh grant (with codes, device codes and rotating
//! refreshes).
#![deny(missing_docs)]
// Handlers bail out with a ready `Response` as the error value (axum's own idiom); boxing it
// would only add an allocation on the error path of a test server.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use oauth_clients_descriptor::schema::Descriptor;
use tokio::sync::watch;

mod fake;
mod server;
mod state;
mod vendors;
mod wire;

use state::State;

/// How long in-flight requests may take to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// One of the faked vendors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Vendor {
    /// Procurios: form-encoded token requests, `grant_type=code`, `ProbaseRequestId` headers.
    Procurios,
    /// Procurify: JSON token requests with `audience`; `X-Procurify-Client: api` on API calls.
    Procurify,
    /// Procore: multipart token requests, authorize page (out-of-band or redirect), refresh.
    Procore,
    /// Procountor: the legacy credentials-to-code flow answering `302`, JWT tokens.
    Procountor,
}

impl Vendor {
    /// Every faked vendor.
    pub const ALL: [Vendor; 4] = [
        Vendor::Procurios,
        Vendor::Procurify,
        Vendor::Procore,
        Vendor::Procountor,
    ];

    /// The vendor id, as in `providers/<id>.yaml`; also the vendor's path prefix in the sandbox.
    pub fn id(self) -> &'static str {
        match self {
            Vendor::Procurios => "procurios",
            Vendor::Procurify => "procurify",
            Vendor::Procore => "procore",
            Vendor::Procountor => "procountor",
        }
    }

    /// The vendor with this id.
    pub fn from_id(id: &str) -> Option<Vendor> {
        Vendor::ALL.into_iter().find(|v| v.id() == id)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// What the sandbox accepts. `Default` gives the documented defaults: client `sandbox-client` /
/// `sandbox-secret`, Procountor user `sandbox-user` / `sandbox-password` in company `14159`, tenant
/// domains `api.craftbrouwers.nl` (Procurios) and `acme` (Procurify), a free port.
#[derive(Clone)]
pub struct SandboxConfig {
    /// The TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The client id every vendor accepts.
    pub client_id: String,
    /// The client secret every vendor accepts. Never printed by the sandbox.
    pub client_secret: String,
    /// Procountor user name accepted by the legacy flow.
    pub username: String,
    /// Procountor password accepted by the legacy flow. Never printed by the sandbox.
    pub password: String,
    /// Procountor company id accepted by the legacy flow (the tokens' `cid`).
    pub company: String,
    /// The Procurios installation's host name whose URLs [`Sandbox::rewrites`] maps.
    pub procurios_domain: String,
    /// The Procurify subdomain whose URLs [`Sandbox::rewrites`] maps.
    pub procurify_domain: String,
    /// When set, every access token lives this many seconds instead of the vendor's own lifetime
    /// (useful to test refresh and expiry).
    pub token_lifetime_seconds: Option<u64>,
    /// When set, every token request is answered only after this delay (a slow vendor, to
    /// test timeouts and concurrent refreshes).
    pub token_delay: Option<Duration>,
    /// Whether the four hand-written seed fakes are served (default true).
    pub seed_vendors: bool,
    /// The vendors faked from their descriptors, each under `/<id>/<host>/…` (see the crate
    /// documentation).
    pub descriptors: Vec<Descriptor>,
    /// How many polls of a device code the descriptor fakes answer `authorization_pending`
    /// before approving it (default 1).
    pub device_pending_polls: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            client_id: "sandbox-client".into(),
            client_secret: "sandbox-secret".into(),
            username: "sandbox-user".into(),
            password: "sandbox-password".into(),
            company: "14159".into(),
            procurios_domain: "api.craftbrouwers.nl".into(),
            procurify_domain: "acme".into(),
            token_lifetime_seconds: None,
            token_delay: None,
            seed_vendors: true,
            descriptors: Vec::new(),
            device_pending_polls: 1,
        }
    }
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("company", &self.company)
            .field("procurios_domain", &self.procurios_domain)
            .field("procurify_domain", &self.procurify_domain)
            .field("token_lifetime_seconds", &self.token_lifetime_seconds)
            .field("token_delay", &self.token_delay)
            .field("seed_vendors", &self.seed_vendors)
            .field(
                "descriptors",
                &self.descriptors.iter().map(|d| &d.id).collect::<Vec<_>>(),
            )
            .field("device_pending_polls", &self.device_pending_polls)
            .finish()
    }
}

impl SandboxConfig {
    /// Sets the port (0 for a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the accepted client id and secret.
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = id.into();
        self.client_secret = secret.into();
        self
    }

    /// Sets the accepted Procountor user, password and company.
    pub fn user(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
        company: impl Into<String>,
    ) -> Self {
        self.username = username.into();
        self.password = password.into();
        self.company = company.into();
        self
    }

    /// Delays every token response.
    pub fn token_delay(mut self, delay: Duration) -> Self {
        self.token_delay = Some(delay);
        self
    }

    /// Overrides every vendor's access token lifetime.
    pub fn token_lifetime_seconds(mut self, seconds: u64) -> Self {
        self.token_lifetime_seconds = Some(seconds);
        self
    }

    /// Also fakes this vendor from its descriptor.
    pub fn descriptor(mut self, descriptor: Descriptor) -> Self {
        self.descriptors.push(descriptor);
        self
    }

    /// Also fakes these vendors from their descriptors.
    pub fn descriptors(mut self, descriptors: impl IntoIterator<Item = Descriptor>) -> Self {
        self.descriptors.extend(descriptors);
        self
    }

    /// Serves only the descriptor fakes, not the four seed fakes.
    pub fn without_seed_vendors(mut self) -> Self {
        self.seed_vendors = false;
        self
    }

    /// Sets how many device-code polls answer `authorization_pending` before the approval.
    pub fn device_pending_polls(mut self, polls: u32) -> Self {
        self.device_pending_polls = polls;
        self
    }
}

/// A running sandbox. Dropping it (or calling [`Sandbox::shutdown`]) stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Binds `127.0.0.1:<port>` and starts serving on a thread of its own.
    ///
    /// Fails when the port cannot be bound or the runtime cannot be created.
    /// Fails as well when a descriptor is invalid, two have the same id, or one has a seed
    /// vendor's id while the seed fakes are served (`io::ErrorKind::InvalidInput`).
    pub fn start(config: SandboxConfig) -> io::Result<Sandbox> {
        let fakes = build_fakes(&config)?;
        let listener = StdTcpListener::bind(("127.0.0.1", config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(config, fakes));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, signal) = watch::channel(false);
        let app = server::router(Arc::clone(&state));
        let thread = std::thread::Builder::new()
            .name("oauth-clients-sandbox".into())
            .spawn(move || server::run(runtime, listener, app, signal, SHUTDOWN_GRACE))?;
        Ok(Sandbox {
            addr,
            state,
            shutdown,
            thread: Some(thread),
        })
    }

    /// Starts a sandbox of these descriptors only (no seed fakes), with the default client
    /// (`sandbox-client` / `sandbox-secret`) on a free port.
    pub fn start_descriptors(
        descriptors: impl IntoIterator<Item = Descriptor>,
    ) -> io::Result<Sandbox> {
        Sandbox::start(
            SandboxConfig::default()
                .without_seed_vendors()
                .descriptors(descriptors),
        )
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where one vendor is served: `http://127.0.0.1:<port>/<vendor id>`.
    pub fn vendor_url(&self, vendor: Vendor) -> String {
        format!("{}/{}", self.base_url(), vendor.id())
    }

    /// `(from, to)` URL prefixes that send each vendor's real URLs to the sandbox, e.g.
    /// `("https://login.procore.com/", "http://127.0.0.1:PORT/procore/")`: the seed fakes'
    /// (when served), then every descriptor fake's ([`Sandbox::rewrites_for`]). Both end with
    /// `/`. Two descriptors that share a host give two rewrites of the same prefix; use
    /// [`Sandbox::rewrites_for`] then.
    pub fn rewrites(&self) -> Vec<(String, String)> {
        let mut rewrites = if self.state.config.seed_vendors {
            self.seed_rewrites()
        } else {
            Vec::new()
        };
        for id in self.state.fakes.keys() {
            rewrites.extend(self.rewrites_for(id));
        }
        rewrites
    }

    /// The rewrites of one descriptor fake: `("https://<host>/",
    /// "http://127.0.0.1:PORT/<id>/<host>/")` for every host of the vendor's endpoints (its
    /// variables substituted, captured values included). Empty for an id that is not faked.
    pub fn rewrites_for(&self, id: &str) -> Vec<(String, String)> {
        let Some(fake) = self.state.fakes.get(id) else {
            return Vec::new();
        };
        fake.hosts()
            .iter()
            .map(|host| {
                (
                    format!("https://{host}/"),
                    format!("{}/{id}/{host}/", self.base_url()),
                )
            })
            .collect()
    }

    /// The ids of the vendors faked from their descriptors, sorted.
    pub fn descriptor_ids(&self) -> Vec<&str> {
        self.state.fakes.keys().map(String::as_str).collect()
    }

    /// The values a descriptor fake uses for the vendor's settable variables (those without
    /// `from`): configure the client with exactly these. `None` for an id that is not faked.
    /// See the crate documentation for how they are chosen.
    pub fn variables(&self, id: &str) -> Option<&BTreeMap<String, String>> {
        self.state.fakes.get(id).map(|fake| fake.settable())
    }

    /// The values a descriptor fake answers for the variables the engine captures (`from:
    /// token_response.…` in token answers, `from: callback.…` in redirects). `None` for an id
    /// that is not faked.
    pub fn captured_variables(&self, id: &str) -> Option<&BTreeMap<String, String>> {
        self.state.fakes.get(id).map(|fake| fake.captured())
    }

    /// How many requests reached a descriptor fake's token and device authorization endpoints.
    pub fn descriptor_token_requests(&self, id: &str) -> usize {
        self.state
            .fakes
            .get(id)
            .map_or(0, |fake| fake.token_requests())
    }

    fn seed_rewrites(&self) -> Vec<(String, String)> {
        let config = &self.state.config;
        let to = |vendor: Vendor| format!("{}/", self.vendor_url(vendor));
        vec![
            (
                format!("https://{}/", config.procurios_domain),
                to(Vendor::Procurios),
            ),
            (
                format!("https://{}.procurify.com/", config.procurify_domain),
                to(Vendor::Procurify),
            ),
            ("https://login.procore.com/".into(), to(Vendor::Procore)),
            ("https://api.procore.com/".into(), to(Vendor::Procore)),
            (
                "https://login-sandbox.procore.com/".into(),
                to(Vendor::Procore),
            ),
            ("https://sandbox.procore.com/".into(), to(Vendor::Procore)),
            (
                "https://api-test.procountor.com/".into(),
                to(Vendor::Procountor),
            ),
        ]
    }

    /// The configuration the sandbox runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.state.config
    }

    /// How many requests reached this vendor's token endpoint (failed ones included).
    pub fn token_requests(&self, vendor: Vendor) -> usize {
        self.state.token_requests(vendor)
    }

    /// How many requests reached any token endpoint.
    pub fn total_token_requests(&self) -> usize {
        Vendor::ALL
            .into_iter()
            .map(|v| self.state.token_requests(v))
            .sum()
    }

    /// Stops the server: in-flight requests get a short grace period, then the thread ends.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // The receiver may already be gone when the server failed; nothing to stop then.
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The descriptor fakes of a configuration, by id.
fn build_fakes(config: &SandboxConfig) -> io::Result<BTreeMap<String, fake::Fake>> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
    let mut fakes = BTreeMap::new();
    for descriptor in &config.descriptors {
        let id = descriptor.id.clone();
        if config.seed_vendors && Vendor::from_id(&id).is_some() {
            return Err(invalid(format!(
                "`{id}` is also a seed fake: fake its descriptor without the seed vendors"
            )));
        }
        let fake = fake::Fake::new(descriptor.clone()).map_err(invalid)?;
        if fakes.insert(id.clone(), fake).is_some() {
            return Err(invalid(format!("two descriptors have the id `{id}`")));
        }
    }
    Ok(fakes)
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
