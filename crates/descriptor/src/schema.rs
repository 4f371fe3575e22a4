//! The vendor descriptor schema: one YAML file per vendor in `providers/`.
//!
//! These types are the single definition of the schema. The generator (`cargo xtask codegen`)
//! reads descriptors through them, the generated modules embed them, and run-time loading
//! ([`crate::Provider::from_yaml_str`]) parses into them. Every struct denies unknown fields so
//! that a typo in a descriptor is an error, not a silently ignored setting.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A vendor, as described by `providers/<id>.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Descriptor {
    /// Stable identifier: lowercase letters, digits and `_`; the file name and the Rust module name.
    #[schemars(pattern(r"^[a-z][a-z0-9_]*$"))]
    pub id: String,
    /// Name shown to people, e.g. `Procurios`.
    pub name: String,
    /// The vendor's own documentation of its OAuth set-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// Markdown that becomes the rustdoc of the generated module and client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The authorization server's issuer identifier (RFC 8414, OpenID Connect), when the vendor
    /// documents one. A callback that carries `iss` (RFC 9207) must carry exactly this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Whether the vendor always sends `iss` in the authorization callback (RFC 9207's
    /// `authorization_response_iss_parameter_supported`): a callback without it is refused.
    /// Needs `issuer`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub authorization_response_iss: bool,
    /// Tenant variables, substituted as `{name}` in URLs and parameter values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, Variable>,
    /// Named environments (production, sandbox, test…). Each gives values for variables that
    /// the user does not set, typically hosts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, Environment>,
    /// The environment used when the user names none. Required when there are environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_environment: Option<String>,
    /// Where the vendor's OAuth and API endpoints live.
    pub endpoints: Endpoints,
    /// The grants the vendor supports, each with its own settings.
    pub grants: Grants,
    /// How the client authenticates at the token endpoint.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// How the body of a token request is encoded.
    #[serde(default)]
    pub token_request: TokenRequest,
    /// Scope handling.
    #[serde(default)]
    pub scopes: Scopes,
    /// Quirks of the vendor's token responses.
    #[serde(default)]
    pub token_response: TokenResponseQuirks,
    /// Settings for authorized API requests.
    #[serde(default)]
    pub api: Api,
    /// Token caching advice from the vendor.
    #[serde(default)]
    pub lifecycle: Lifecycle,
}

/// A tenant variable such as a customer's domain or company id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Variable {
    /// What the value is and where the user finds it.
    pub description: String,
    /// An example value, used in generated docs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// A regular expression (anchored on both ends) every value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Whether the value is a secret (never printed). Defaults to false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

/// A named environment: values for variables, usually hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Environment {
    /// What this environment is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Variable values this environment sets, e.g. `login_host: login.procore.com`.
    pub values: BTreeMap<String, String>,
}

/// Endpoint URL templates. Each may use `{variable}` placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Endpoints {
    /// The authorization endpoint (required by `authorization_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// The token endpoint.
    pub token: String,
    /// A separate endpoint for refresh requests, when it is not the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// The token revocation endpoint (RFC 7009), when the vendor has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<String>,
    /// The base URL that relative API paths are joined to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// Further vendor-specific endpoints that a grant refers to by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// The grants a vendor supports. A grant that is absent is not supported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Grants {
    /// The client credentials grant (RFC 6749 §4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_credentials: Option<ClientCredentialsGrant>,
    /// The authorization code grant (RFC 6749 §4.1), with optional PKCE (RFC 7636).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<AuthorizationCodeGrant>,
    /// Refreshing an access token (RFC 6749 §6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshTokenGrant>,
    /// A non-standard flow that posts the user's credentials to get an authorization code
    /// without a login page, then exchanges the code (Procountor's legacy flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_credentials: Option<LegacyCredentialsGrant>,
}

/// Client credentials settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientCredentialsGrant {
    /// The `grant_type` value sent; defaults to the RFC 6749 value of the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// Extra body parameters of the token request. Values may use `{variable}` placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_params: BTreeMap<String, String>,
    /// When set, the grant is deprecated by the vendor; the note is shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    /// Send the requested scopes in the token request. Defaults to true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub send_scope: bool,
    /// A `redirect_uri` to send with the token request, for vendors that ask for one even here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// How a vendor treats PKCE (RFC 7636).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pkce {
    /// Not supported: no `code_challenge` is sent.
    #[default]
    Unsupported,
    /// Supported: S256 is used unless the user turns it off.
    Supported,
    /// Required: S256 is always used.
    Required,
}

/// Authorization code settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthorizationCodeGrant {
    /// The `grant_type` value sent; defaults to the RFC 6749 value of the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// Extra body parameters of the token request. Values may use `{variable}` placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_params: BTreeMap<String, String>,
    /// When set, the grant is deprecated by the vendor; the note is shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    /// PKCE support.
    #[serde(default)]
    pub pkce: Pkce,
    /// The redirect URI used when the user gives none, e.g. `urn:ietf:wg:oauth:2.0:oob`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_redirect_uri: Option<String>,
    /// Whether the vendor shows the code to the user for the out-of-band redirect URI.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub out_of_band: bool,
    /// Send `redirect_uri` in the code exchange. Defaults to true (RFC 6749 §4.1.3).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub send_redirect_uri: bool,
    /// Send the requested scopes in the authorize URL. Defaults to true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub send_scope: bool,
    /// Names of the authorize-URL parameters, when the vendor renames the RFC 6749 ones.
    #[serde(default)]
    pub authorize_params: AuthorizeParamNames,
    /// Extra authorize-URL parameters. Values may use `{variable}` placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_authorize_params: BTreeMap<String, String>,
    /// How long a code is valid, in seconds, when the vendor says (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_lifetime_seconds: Option<u64>,
}

/// Names of the authorize-URL parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthorizeParamNames {
    /// Name of the `response_type` parameter.
    #[serde(default = "AuthorizeParamNames::response_type")]
    pub response_type: String,
    /// Name of the `client_id` parameter.
    #[serde(default = "AuthorizeParamNames::client_id")]
    pub client_id: String,
    /// Name of the `redirect_uri` parameter.
    #[serde(default = "AuthorizeParamNames::redirect_uri")]
    pub redirect_uri: String,
    /// Name of the `scope` parameter.
    #[serde(default = "AuthorizeParamNames::scope")]
    pub scope: String,
    /// Name of the `state` parameter.
    #[serde(default = "AuthorizeParamNames::state")]
    pub state: String,
}

impl AuthorizeParamNames {
    fn response_type() -> String {
        "response_type".into()
    }
    fn client_id() -> String {
        "client_id".into()
    }
    fn redirect_uri() -> String {
        "redirect_uri".into()
    }
    fn scope() -> String {
        "scope".into()
    }
    fn state() -> String {
        "state".into()
    }
}

impl Default for AuthorizeParamNames {
    fn default() -> Self {
        Self {
            response_type: Self::response_type(),
            client_id: Self::client_id(),
            redirect_uri: Self::redirect_uri(),
            scope: Self::scope(),
            state: Self::state(),
        }
    }
}

/// Refresh settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RefreshTokenGrant {
    /// The `grant_type` value sent; defaults to the RFC 6749 value of the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// Extra body parameters of the token request. Values may use `{variable}` placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_params: BTreeMap<String, String>,
    /// When set, the grant is deprecated by the vendor; the note is shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    /// Whether the vendor issues a new refresh token on each refresh and refuses a used one.
    /// Such a refresh is retried only when the request never reached the vendor. Whatever
    /// this says, the engine keeps whichever refresh token is newest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rotates: bool,
}

/// Settings of the legacy credentials-to-code flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LegacyCredentialsGrant {
    /// The `grant_type` value sent; defaults to the RFC 6749 value of the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// Extra body parameters of the token request. Values may use `{variable}` placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_params: BTreeMap<String, String>,
    /// When set, the grant is deprecated by the vendor; the note is shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    /// Name of the endpoint in `endpoints.extra` that takes the user's credentials (step 1).
    pub credentials_endpoint: String,
    /// Body parameters of step 1 besides `username`, `password` and `redirect_uri`. Values may
    /// use `{variable}` placeholders, e.g. `company: "{company}"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub credentials_params: BTreeMap<String, String>,
    /// The redirect URI registered for the integration, sent in both steps unless the user gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_redirect_uri: Option<String>,
}

/// How the client authenticates at the token endpoint (RFC 6749 §2.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the request body.
    ClientSecretPost,
    /// A public client: only `client_id` in the body.
    None,
}

/// Encoding of a token request body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    #[default]
    Form,
    /// `application/json`.
    Json,
    /// `multipart/form-data`.
    Multipart,
}

/// Token request settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TokenRequest {
    /// Body encoding of token requests.
    #[serde(default)]
    pub encoding: BodyEncoding,
    /// Extra headers of every token request (beside `Accept: application/json`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// Scope settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Scopes {
    /// The separator between scopes; a space by default (RFC 6749 §3.3).
    #[serde(default = "Scopes::space")]
    pub separator: String,
    /// Scopes requested when the user names none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default: Vec<String>,
}

impl Scopes {
    fn space() -> String {
        " ".into()
    }
}

impl Default for Scopes {
    fn default() -> Self {
        Self {
            separator: Self::space(),
            default: Vec::new(),
        }
    }
}

/// Quirks of a vendor's token responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TokenResponseQuirks {
    /// The lifetime in seconds to assume when a response has no `expires_in` and the access
    /// token is not a JWT with an `exp` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_expires_in: Option<u64>,
    /// Read the expiry from the JWT `exp` claim when `expires_in` is missing. Defaults to true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub jwt_expiry: bool,
    /// Honour a `created_at` Unix time: expiry is `created_at + expires_in`. Defaults to true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub created_at: bool,
    /// Object keys leading to the token object when the vendor nests it, e.g. `[data]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_path: Vec<String>,
    /// `token_type` values accepted besides `bearer` (compared without case). A missing
    /// `token_type` is accepted; any other value is refused, since the engine would send the
    /// token as a bearer token whatever its type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_types: Vec<String>,
}

/// Settings of authorized API requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Api {
    /// Headers sent with every API request, e.g. `X-Procurify-Client: api`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The response header that carries the vendor's request id, e.g. `ProbaseRequestId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id_header: Option<String>,
    /// A harmless API path to call in demos and checks, relative to `api_base`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_path: Option<String>,
}

/// Token caching advice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Lifecycle {
    /// Seconds before expiry at which a cached token is renewed. When absent, the larger of
    /// 60 s and 10 % of the token's lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_margin_seconds: Option<u64>,
    /// Why the vendor wants this (shown in docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// The grants a descriptor can name, as identifiers used by tools (`--grant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// [`ClientCredentialsGrant`].
    ClientCredentials,
    /// [`AuthorizationCodeGrant`].
    AuthorizationCode,
    /// [`RefreshTokenGrant`].
    RefreshToken,
    /// [`LegacyCredentialsGrant`].
    LegacyCredentials,
}

impl GrantKind {
    /// Every grant kind, in a stable order.
    pub const ALL: [GrantKind; 4] = [
        GrantKind::ClientCredentials,
        GrantKind::AuthorizationCode,
        GrantKind::RefreshToken,
        GrantKind::LegacyCredentials,
    ];

    /// The identifier used in descriptors and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::ClientCredentials => "client_credentials",
            GrantKind::AuthorizationCode => "authorization_code",
            GrantKind::RefreshToken => "refresh_token",
            GrantKind::LegacyCredentials => "legacy_credentials",
        }
    }

    /// The RFC 6749 `grant_type` value sent when the descriptor does not override it.
    pub fn default_grant_type(self) -> &'static str {
        match self {
            GrantKind::ClientCredentials => "client_credentials",
            GrantKind::AuthorizationCode | GrantKind::LegacyCredentials => "authorization_code",
            GrantKind::RefreshToken => "refresh_token",
        }
    }
}

impl std::fmt::Display for GrantKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for GrantKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown grant `{s}`; expected one of: {}",
                    GrantKind::ALL.map(GrantKind::as_str).join(", ")
                )
            })
    }
}

impl Grants {
    /// The grants present, in a stable order.
    pub fn kinds(&self) -> Vec<GrantKind> {
        let mut kinds = Vec::new();
        if self.client_credentials.is_some() {
            kinds.push(GrantKind::ClientCredentials);
        }
        if self.authorization_code.is_some() {
            kinds.push(GrantKind::AuthorizationCode);
        }
        if self.refresh_token.is_some() {
            kinds.push(GrantKind::RefreshToken);
        }
        if self.legacy_credentials.is_some() {
            kinds.push(GrantKind::LegacyCredentials);
        }
        kinds
    }

    /// The settings every grant shares, when the grant is present.
    pub fn common(&self, kind: GrantKind) -> Option<GrantCommon<'_>> {
        macro_rules! common {
            ($grant:expr) => {
                $grant.as_ref().map(|g| GrantCommon {
                    grant_type: g.grant_type.as_deref(),
                    extra_params: &g.extra_params,
                    deprecated: g.deprecated.as_deref(),
                })
            };
        }
        match kind {
            GrantKind::ClientCredentials => common!(self.client_credentials),
            GrantKind::AuthorizationCode => common!(self.authorization_code),
            GrantKind::RefreshToken => common!(self.refresh_token),
            GrantKind::LegacyCredentials => common!(self.legacy_credentials),
        }
    }

    /// The `grant_type` value sent for a grant: the descriptor's override or the RFC value.
    pub fn grant_type(&self, kind: GrantKind) -> String {
        self.common(kind)
            .and_then(|c| c.grant_type)
            .unwrap_or(kind.default_grant_type())
            .to_owned()
    }
}

/// The settings every grant shares, borrowed from whichever grant has them.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GrantCommon<'a> {
    /// The `grant_type` override.
    pub grant_type: Option<&'a str>,
    /// Extra token-request body parameters.
    pub extra_params: &'a BTreeMap<String, String>,
    /// The vendor's deprecation note.
    pub deprecated: Option<&'a str>,
}

impl Default for TokenResponseQuirks {
    fn default() -> Self {
        Self {
            default_expires_in: None,
            jwt_expiry: true,
            created_at: true,
            token_path: Vec::new(),
            token_types: Vec::new(),
        }
    }
}
