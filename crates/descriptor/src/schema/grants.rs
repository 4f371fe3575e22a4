//! The grants a descriptor may name, and the settings every grant shares.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::requests::{ClientAuthMethods, TokenRequestOverride};
use super::{is_true, yes};

/// Defines a grant's settings struct: the settings every grant shares, then its own, each with
/// its default value (which `Default` gives).
macro_rules! grant_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident : $ty:ty = $default:expr,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct $name {
            /// The `grant_type` value sent; defaults to the standard value of the grant.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub grant_type: Option<String>,
            /// Sends `grant_type` at all. Defaults to true; a few vendors' refresh requests
            /// carry none.
            #[serde(default = "yes", skip_serializing_if = "is_true")]
            pub send_grant_type: bool,
            /// Extra parameters of the token request. Values may use `{variable}` placeholders
            /// and `{client_id}`.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub extra_params: BTreeMap<String, String>,
            /// When set, the grant is deprecated by the vendor; the note is shown to users.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub deprecated: Option<String>,
            /// A token endpoint of this grant's own, when it is not `endpoints.token` (a URL
            /// template).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub endpoint: Option<String>,
            /// How the client authenticates for this grant, when it differs from the
            /// descriptor's `client_auth`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub client_auth: Option<ClientAuthMethods>,
            /// How this grant's token requests differ from the descriptor's `token_request`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub token_request: Option<TokenRequestOverride>,
            $(
                $(#[$field_meta])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    grant_type: None,
                    send_grant_type: true,
                    extra_params: BTreeMap::new(),
                    deprecated: None,
                    endpoint: None,
                    client_auth: None,
                    token_request: None,
                    $($field: $default,)*
                }
            }
        }
    };
}

/// The grants a vendor supports. A grant that is absent is not supported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// without a login page, then exchanges the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy_credentials: Option<LegacyCredentialsGrant>,
    /// The device authorization grant (RFC 8628): the user authorizes on another device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code: Option<DeviceCodeGrant>,
    /// The JWT-bearer grant (RFC 7523 §2.1): a signed assertion instead of a user's consent
    /// (service accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_bearer: Option<JwtBearerGrant>,
    /// Exchanging the current access token for another (RFC 8693, or a vendor's long-lived
    /// token exchange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<TokenExchangeGrant>,
}

grant_struct! {
    /// Client credentials settings.
    pub struct ClientCredentialsGrant {
        /// Send the requested scopes in the token request. Defaults to true.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub send_scope: bool = true,
        /// A `redirect_uri` to send with the token request, for vendors that ask for one even
        /// here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub redirect_uri: Option<String> = None,
    }
}

/// How a vendor treats PKCE (RFC 7636).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

grant_struct! {
    /// Authorization code settings.
    pub struct AuthorizationCodeGrant {
        /// PKCE support.
        #[serde(default)]
        pub pkce: Pkce = Pkce::Unsupported,
        /// The redirect URI used when the user gives none, e.g. `urn:ietf:wg:oauth:2.0:oob`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub default_redirect_uri: Option<String> = None,
        /// Whether the vendor shows the code to the user for the out-of-band redirect URI.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub out_of_band: bool = false,
        /// Send `redirect_uri` in the code exchange. Defaults to true (RFC 6749 §4.1.3).
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub send_redirect_uri: bool = true,
        /// Send the requested scopes in the authorize URL. Defaults to true.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub send_scope: bool = true,
        /// Names of the authorize-URL parameters, when the vendor renames the standard ones.
        #[serde(default, skip_serializing_if = "AuthorizeParamNames::is_standard")]
        pub authorize_params: AuthorizeParamNames = AuthorizeParamNames::default(),
        /// Extra authorize-URL parameters. Values may use `{variable}` placeholders.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub extra_authorize_params: BTreeMap<String, String> = BTreeMap::new(),
        /// Names of the callback's parameters, when the vendor renames the standard ones (the
        /// code under `spapi_oauth_code`).
        #[serde(default, skip_serializing_if = "CallbackParamNames::is_standard")]
        pub callback_params: CallbackParamNames = CallbackParamNames::default(),
        /// How long a code is valid, in seconds, when the vendor says (informational).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub code_lifetime_seconds: Option<u64> = None,
    }
}

/// Names of the authorize-URL parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthorizeParamNames {
    /// Name of the `response_type` parameter.
    #[serde(default = "names::response_type")]
    pub response_type: String,
    /// Name of the `client_id` parameter.
    #[serde(default = "names::client_id")]
    pub client_id: String,
    /// Name of the `redirect_uri` parameter.
    #[serde(default = "names::redirect_uri")]
    pub redirect_uri: String,
    /// Name of the `scope` parameter.
    #[serde(default = "names::scope")]
    pub scope: String,
    /// Name of the `state` parameter.
    #[serde(default = "names::state")]
    pub state: String,
}

impl Default for AuthorizeParamNames {
    fn default() -> Self {
        Self {
            response_type: names::response_type(),
            client_id: names::client_id(),
            redirect_uri: names::redirect_uri(),
            scope: names::scope(),
            state: names::state(),
        }
    }
}

impl AuthorizeParamNames {
    fn is_standard(&self) -> bool {
        *self == AuthorizeParamNames::default()
    }
}

/// Names of the parameters of the authorization callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CallbackParamNames {
    /// Name of the `code` parameter.
    #[serde(default = "names::code")]
    pub code: String,
    /// Name of the `state` parameter.
    #[serde(default = "names::state")]
    pub state: String,
}

impl Default for CallbackParamNames {
    fn default() -> Self {
        Self {
            code: names::code(),
            state: names::state(),
        }
    }
}

impl CallbackParamNames {
    fn is_standard(&self) -> bool {
        *self == CallbackParamNames::default()
    }
}

mod names {
    pub(super) fn response_type() -> String {
        "response_type".into()
    }
    pub(super) fn client_id() -> String {
        "client_id".into()
    }
    pub(super) fn redirect_uri() -> String {
        "redirect_uri".into()
    }
    pub(super) fn scope() -> String {
        "scope".into()
    }
    pub(super) fn state() -> String {
        "state".into()
    }
    pub(super) fn code() -> String {
        "code".into()
    }
}

grant_struct! {
    /// Refresh settings.
    pub struct RefreshTokenGrant {
        /// Whether the vendor issues a new refresh token on each refresh and refuses a used
        /// one. Such a refresh is retried only when the request never reached the vendor.
        /// Whatever this says, the engine keeps whichever refresh token is newest.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub rotates: bool = false,
    }
}

grant_struct! {
    /// Settings of the legacy credentials-to-code flow.
    pub struct LegacyCredentialsGrant {
        /// Name of the endpoint in `endpoints.extra` that takes the user's credentials (step 1).
        pub credentials_endpoint: String = String::new(),
        /// Body parameters of step 1 besides `username`, `password` and `redirect_uri`. Values
        /// may use `{variable}` placeholders, e.g. `company: "{company}"`.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub credentials_params: BTreeMap<String, String> = BTreeMap::new(),
        /// The redirect URI registered for the integration, sent in both steps unless the user
        /// gives one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub default_redirect_uri: Option<String> = None,
    }
}

grant_struct! {
    /// Device authorization settings (RFC 8628).
    pub struct DeviceCodeGrant {
        /// Send the requested scopes in the device authorization request. Defaults to true.
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        pub send_scope: bool = true,
    }
}

/// A signature algorithm of JWT assertions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum JwtAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[default]
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
}

grant_struct! {
    /// JWT-bearer settings (RFC 7523 §2.1).
    pub struct JwtBearerGrant {
        /// The assertion's signature algorithm.
        #[serde(default)]
        pub algorithm: JwtAlgorithm = JwtAlgorithm::RS256,
        /// How long an assertion is valid, in seconds (default 300).
        #[serde(default = "JwtBearerGrant::lifetime")]
        pub lifetime_seconds: u64 = JwtBearerGrant::lifetime(),
        /// The assertion's claims besides `iat`, `exp` and `jti`, as templates: besides
        /// `{variables}` they may use `{client_id}`, `{subject}` (given at call time),
        /// `{token_endpoint}` and `{scope}`.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub claims: BTreeMap<String, String> = BTreeMap::new(),
        /// Also send the scopes as the `scope` parameter. Defaults to false (most vendors take
        /// them in the claims).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub send_scope: bool = false,
    }
}

impl JwtBearerGrant {
    fn lifetime() -> u64 {
        300
    }
}

grant_struct! {
    /// Token exchange settings (RFC 8693, or a vendor's long-lived token exchange).
    pub struct TokenExchangeGrant {
        /// The parameter that carries the current access token.
        #[serde(default = "TokenExchangeGrant::subject_param")]
        pub subject_token_param: String = TokenExchangeGrant::subject_param(),
        /// The `subject_token_type` sent; `null` sends none (vendor exchanges that take the
        /// token alone).
        #[serde(default = "TokenExchangeGrant::subject_type")]
        pub subject_token_type: Option<String> = TokenExchangeGrant::subject_type(),
    }
}

impl TokenExchangeGrant {
    fn subject_param() -> String {
        "subject_token".into()
    }
    fn subject_type() -> Option<String> {
        Some("urn:ietf:params:oauth:token-type:access_token".into())
    }
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
    /// [`DeviceCodeGrant`].
    DeviceCode,
    /// [`JwtBearerGrant`].
    JwtBearer,
    /// [`TokenExchangeGrant`].
    TokenExchange,
}

impl GrantKind {
    /// Every grant kind, in a stable order.
    pub const ALL: [GrantKind; 7] = [
        GrantKind::ClientCredentials,
        GrantKind::AuthorizationCode,
        GrantKind::RefreshToken,
        GrantKind::LegacyCredentials,
        GrantKind::DeviceCode,
        GrantKind::JwtBearer,
        GrantKind::TokenExchange,
    ];

    /// The identifier used in descriptors and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::ClientCredentials => "client_credentials",
            GrantKind::AuthorizationCode => "authorization_code",
            GrantKind::RefreshToken => "refresh_token",
            GrantKind::LegacyCredentials => "legacy_credentials",
            GrantKind::DeviceCode => "device_code",
            GrantKind::JwtBearer => "jwt_bearer",
            GrantKind::TokenExchange => "token_exchange",
        }
    }

    /// The `grant_type` value sent when the descriptor does not override it.
    pub fn default_grant_type(self) -> &'static str {
        match self {
            GrantKind::ClientCredentials => "client_credentials",
            GrantKind::AuthorizationCode | GrantKind::LegacyCredentials => "authorization_code",
            GrantKind::RefreshToken => "refresh_token",
            GrantKind::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantKind::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            GrantKind::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
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

/// The settings every grant shares, borrowed from whichever grant has them.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GrantCommon<'a> {
    /// The `grant_type` override.
    pub grant_type: Option<&'a str>,
    /// Whether `grant_type` is sent.
    pub send_grant_type: bool,
    /// Extra token-request parameters.
    pub extra_params: &'a BTreeMap<String, String>,
    /// The vendor's deprecation note.
    pub deprecated: Option<&'a str>,
    /// The grant's own token endpoint.
    pub endpoint: Option<&'a str>,
    /// The grant's own client authentication.
    pub client_auth: Option<&'a ClientAuthMethods>,
    /// The grant's own token request settings.
    pub token_request: Option<&'a TokenRequestOverride>,
}

impl Grants {
    /// The grants present, in a stable order.
    pub fn kinds(&self) -> Vec<GrantKind> {
        GrantKind::ALL
            .into_iter()
            .filter(|kind| self.common(*kind).is_some())
            .collect()
    }

    /// The settings every grant shares, when the grant is present.
    pub fn common(&self, kind: GrantKind) -> Option<GrantCommon<'_>> {
        macro_rules! common {
            ($grant:expr) => {
                $grant.as_ref().map(|g| GrantCommon {
                    grant_type: g.grant_type.as_deref(),
                    send_grant_type: g.send_grant_type,
                    extra_params: &g.extra_params,
                    deprecated: g.deprecated.as_deref(),
                    endpoint: g.endpoint.as_deref(),
                    client_auth: g.client_auth.as_ref(),
                    token_request: g.token_request.as_ref(),
                })
            };
        }
        match kind {
            GrantKind::ClientCredentials => common!(self.client_credentials),
            GrantKind::AuthorizationCode => common!(self.authorization_code),
            GrantKind::RefreshToken => common!(self.refresh_token),
            GrantKind::LegacyCredentials => common!(self.legacy_credentials),
            GrantKind::DeviceCode => common!(self.device_code),
            GrantKind::JwtBearer => common!(self.jwt_bearer),
            GrantKind::TokenExchange => common!(self.token_exchange),
        }
    }

    /// The `grant_type` value sent for a grant: the descriptor's override or the standard one.
    pub fn grant_type(&self, kind: GrantKind) -> &str {
        self.common(kind)
            .and_then(|c| c.grant_type)
            .unwrap_or(kind.default_grant_type())
    }
}
