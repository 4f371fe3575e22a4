//! The vendor descriptor schema: one YAML file per vendor in `providers/`.
//!
//! These types are the single definition of the schema. The generator (`cargo xtask codegen`)
//! reads descriptors through them and writes them back as Rust data into the generated modules;
//! run-time loading ([`crate::Provider::from_yaml_str`]) parses into them. Every struct denies
//! unknown fields so that a typo in a descriptor is an error, not a silently ignored setting.
//!
//! The structs are `#[non_exhaustive]`: build them with their `new` or `Default` and set the
//! public fields, so that a new schema field is never a breaking change.

mod grants;
mod requests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use grants::*;
pub use requests::*;

/// A vendor, as described by `providers/<id>.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Descriptor {
    /// Stable identifier: lowercase letters, digits and `_`; the file name and the Rust module name.
    #[cfg_attr(feature = "schema", schemars(pattern(r"^[a-z][a-z0-9_]*$")))]
    pub id: String,
    /// Name shown to people, e.g. `Procurios`.
    pub name: String,
    /// The vendor's own documentation of its OAuth set-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// Markdown that becomes the rustdoc of the generated module and client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Words to find the vendor by (`crm`, `accounting`…): lowercase identifiers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
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
    /// How the client authenticates at the token endpoint: one method, or the list of methods
    /// the vendor accepts, preferred first.
    #[serde(default)]
    pub client_auth: ClientAuthMethods,
    /// How token requests are made.
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

impl Descriptor {
    /// A descriptor with its required fields and no grant yet.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        token_endpoint: impl Into<String>,
    ) -> Descriptor {
        Descriptor {
            id: id.into(),
            name: name.into(),
            docs_url: None,
            description: None,
            tags: Vec::new(),
            issuer: None,
            authorization_response_iss: false,
            variables: BTreeMap::new(),
            environments: BTreeMap::new(),
            default_environment: None,
            endpoints: Endpoints::new(token_endpoint),
            grants: Grants::default(),
            client_auth: ClientAuthMethods::default(),
            token_request: TokenRequest::default(),
            scopes: Scopes::default(),
            token_response: TokenResponseQuirks::default(),
            api: Api::default(),
            lifecycle: Lifecycle::default(),
        }
    }
}

/// A tenant variable such as a customer's domain or company id, or a value the engine captures
/// from the vendor's answers (`from`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// The value used when the user gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Where the engine captures the value, instead of the user setting it:
    /// `token_response.<dotted.path>` (a field of the token object, found after
    /// `token_response.token_path`, e.g. an API origin) or
    /// `callback.<parameter>` (a parameter of the authorization callback). Captured values are
    /// kept with the token and may shape later URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl Variable {
    /// A variable with a description and nothing else.
    pub fn new(description: impl Into<String>) -> Variable {
        Variable {
            description: description.into(),
            example: None,
            pattern: None,
            secret: false,
            default: None,
            from: None,
        }
    }

    /// Where the engine captures the value, when it does.
    pub fn capture(&self) -> Option<Capture<'_>> {
        let from = self.from.as_deref()?;
        if let Some(path) = from.strip_prefix("token_response.") {
            Some(Capture::TokenResponse(path.split('.').collect()))
        } else {
            from.strip_prefix("callback.").map(Capture::Callback)
        }
    }
}

/// Where a captured variable comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capture<'a> {
    /// The keys leading to a field of the token answer.
    TokenResponse(Vec<&'a str>),
    /// A parameter of the authorization callback.
    Callback(&'a str),
}

/// A named environment: values for variables, usually hosts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Environment {
    /// What this environment is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Variable values this environment sets, e.g. `login_host: login.procore.com`.
    pub values: BTreeMap<String, String>,
}

impl Environment {
    /// An environment with values.
    pub fn new(values: BTreeMap<String, String>) -> Environment {
        Environment {
            description: None,
            values,
        }
    }
}

/// Endpoint URL templates. Each may use `{variable}` placeholders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// The token introspection endpoint (RFC 7662), when the vendor has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection: Option<String>,
    /// The device authorization endpoint (RFC 8628), required by `device_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization: Option<String>,
    /// The OpenID Connect userinfo endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo: Option<String>,
    /// The issuer's key set (JWKS), for checking ID tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
    /// The base URL that relative API paths are joined to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// Further vendor-specific endpoints that a grant refers to by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl Endpoints {
    /// Endpoints with a token endpoint and nothing else.
    pub fn new(token: impl Into<String>) -> Endpoints {
        Endpoints {
            authorization: None,
            token: token.into(),
            refresh: None,
            revocation: None,
            introspection: None,
            device_authorization: None,
            userinfo: None,
            jwks: None,
            api_base: None,
            extra: BTreeMap::new(),
        }
    }
}

/// Scope settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// Settings of authorized API requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Api {
    /// Headers sent with every API request, e.g. `X-Procurify-Client: api`. Values may use
    /// `{variables}` and `{client_id}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The response header that carries the vendor's request id, e.g. `ProbaseRequestId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id_header: Option<String>,
    /// A harmless API path to call in demos and checks, relative to `api_base`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_path: Option<String>,
    /// The header that carries the access token; `Authorization` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_header: Option<String>,
    /// What precedes the token in that header: `Bearer` by default; empty for the bare token
    /// (e.g. `X-Shopify-Access-Token`), or the vendor's own word (`OAuth`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_scheme: Option<String>,
    /// Sends the token as this query parameter instead of a header (vendors that want
    /// `?access_token=…`). Prefer a header where the vendor accepts one: query strings end up in
    /// logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_query_param: Option<String>,
}

/// Token caching advice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
