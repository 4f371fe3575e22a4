//! How token requests are made and how their answers are read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{is_true, yes};

/// How the client authenticates at the token endpoint (RFC 6749 §2.3, OpenID Connect Core §9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// HTTP Basic with the id and secret (form-urlencoded first, RFC 6749 §2.3.1, unless
    /// `token_request.basic_auth_encoding` says otherwise).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the request body.
    ClientSecretPost,
    /// A public client: only `client_id` in the body.
    None,
    /// A client assertion signed with the client's private key.
    PrivateKeyJwt,
    /// A client assertion signed with the client secret (HMAC).
    ClientSecretJwt,
}

impl ClientAuth {
    /// The method's name in descriptors and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::ClientSecretBasic => "client_secret_basic",
            ClientAuth::ClientSecretPost => "client_secret_post",
            ClientAuth::None => "none",
            ClientAuth::PrivateKeyJwt => "private_key_jwt",
            ClientAuth::ClientSecretJwt => "client_secret_jwt",
        }
    }

    /// Whether the method needs the client secret.
    pub fn needs_secret(self) -> bool {
        matches!(
            self,
            ClientAuth::ClientSecretBasic
                | ClientAuth::ClientSecretPost
                | ClientAuth::ClientSecretJwt
        )
    }
}

impl std::fmt::Display for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The client authentication methods a vendor accepts, preferred first. Written as one method
/// (`client_auth: client_secret_post`) or a list (`[client_secret_basic, client_secret_post]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum ClientAuthMethods {
    /// One method.
    One(ClientAuth),
    /// Several methods, preferred first.
    List(Vec<ClientAuth>),
}

impl<'de> Deserialize<'de> for ClientAuthMethods {
    // By hand, so that a misspelt method gets serde's own "unknown variant" message (which
    // validation rewords with a suggestion) rather than an untagged enum's "did not match".
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Methods;

        impl<'de> serde::de::Visitor<'de> for Methods {
            type Value = ClientAuthMethods;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a client authentication method, or a list of them")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
                let method =
                    ClientAuth::deserialize(serde::de::value::StrDeserializer::<E>::new(value))?;
                Ok(ClientAuthMethods::One(method))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut methods = Vec::new();
                while let Some(method) = seq.next_element::<ClientAuth>()? {
                    methods.push(method);
                }
                Ok(ClientAuthMethods::List(methods))
            }
        }

        deserializer.deserialize_any(Methods)
    }
}

impl Default for ClientAuthMethods {
    fn default() -> Self {
        ClientAuthMethods::One(ClientAuth::default())
    }
}

impl ClientAuthMethods {
    /// The methods, preferred first.
    pub fn methods(&self) -> &[ClientAuth] {
        match self {
            ClientAuthMethods::One(one) => std::slice::from_ref(one),
            ClientAuthMethods::List(list) => list,
        }
    }

    /// The preferred method (client_secret_basic for an empty list, which validation refuses).
    pub fn preferred(&self) -> ClientAuth {
        self.methods().first().copied().unwrap_or_default()
    }

    /// Whether the vendor accepts `method`.
    pub fn accepts(&self, method: ClientAuth) -> bool {
        self.methods().contains(&method)
    }
}

impl From<ClientAuth> for ClientAuthMethods {
    fn from(method: ClientAuth) -> Self {
        ClientAuthMethods::One(method)
    }
}

/// Encoding of a token request body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// The HTTP method of token requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum HttpMethod {
    /// `POST` (RFC 6749).
    #[default]
    Post,
    /// `GET`, with the parameters in the query.
    Get,
}

/// Where a token request's parameters go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParamsIn {
    /// The body (RFC 6749).
    #[default]
    Body,
    /// The URL's query.
    Query,
}

/// How the id and secret are written into HTTP Basic credentials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BasicAuthEncoding {
    /// Form-urlencoded first, as RFC 6749 §2.3.1 requires.
    #[default]
    FormUrlencoded,
    /// As they are (`id:secret`), as some vendors expect.
    None,
}

/// Token request settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TokenRequest {
    /// Body encoding of token requests.
    #[serde(default)]
    pub encoding: BodyEncoding,
    /// The HTTP method.
    #[serde(default)]
    pub method: HttpMethod,
    /// Where the parameters go (`get` always uses the query).
    #[serde(default)]
    pub params_in: ParamsIn,
    /// Extra headers of every token request (beside `Accept: application/json`). Values may use
    /// `{variables}` and `{client_id}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Renamed parameters: standard name (`client_id`, `client_secret`, `grant_type`, `code`,
    /// `redirect_uri`, `refresh_token`, `scope`, `code_verifier`, `device_code`) → the vendor's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub param_names: BTreeMap<String, String>,
    /// How the id and secret are written into HTTP Basic credentials.
    #[serde(default)]
    pub basic_auth_encoding: BasicAuthEncoding,
    /// Also send `client_id` in the body when authenticating with HTTP Basic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_id_in_body: bool,
    /// Fixed query parameters of the token URL. Values may use `{variables}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query_params: BTreeMap<String, String>,
}

/// A grant's differences from the descriptor's token request settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TokenRequestOverride {
    /// Body encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<BodyEncoding>,
    /// The HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// Where the parameters go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_in: Option<ParamsIn>,
    /// Further headers (added to the descriptor's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Further renamed parameters (added to the descriptor's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub param_names: BTreeMap<String, String>,
}

impl TokenRequest {
    /// These settings for the revocation and introspection endpoints (RFC 7009, RFC 7662): a
    /// form-encoded POST with the parameters in the body and no fixed query parameters (those
    /// belong to the token URL); client authentication, headers and parameter names are kept.
    pub fn standard_form_post(&self) -> TokenRequest {
        TokenRequest {
            encoding: BodyEncoding::Form,
            method: HttpMethod::Post,
            params_in: ParamsIn::Body,
            query_params: BTreeMap::new(),
            ..self.clone()
        }
    }

    /// These settings with a grant's differences applied.
    pub fn with(&self, grant: Option<&TokenRequestOverride>) -> TokenRequest {
        let mut merged = self.clone();
        if let Some(grant) = grant {
            if let Some(encoding) = grant.encoding {
                merged.encoding = encoding;
            }
            if let Some(method) = grant.method {
                merged.method = method;
            }
            if let Some(params_in) = grant.params_in {
                merged.params_in = params_in;
            }
            merged.headers.extend(grant.headers.clone());
            merged.param_names.extend(grant.param_names.clone());
        }
        merged
    }
}

/// The unit of `expires_in`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExpiresInUnit {
    /// Seconds (RFC 6749).
    #[default]
    Seconds,
    /// Milliseconds.
    Milliseconds,
}

/// The format of an absolute expiry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExpiresAtFormat {
    /// Unix seconds.
    #[default]
    UnixSeconds,
    /// Unix milliseconds.
    UnixMillis,
    /// An RFC 3339 date and time.
    Rfc3339,
}

/// Quirks of a vendor's token responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TokenResponseQuirks {
    /// The lifetime in seconds to assume when a response gives no expiry and the access token
    /// is not a JWT with an `exp` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_expires_in: Option<u64>,
    /// Read the expiry from the JWT `exp` claim when the answer gives none. Defaults to true.
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
    /// The field holding the lifetime, when it is not `expires_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_field: Option<String>,
    /// The unit of the lifetime.
    #[serde(default)]
    pub expires_in_unit: ExpiresInUnit,
    /// A field with an absolute expiry, read when there is no lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_field: Option<String>,
    /// The format of `expires_at_field`.
    #[serde(default)]
    pub expires_at_format: ExpiresAtFormat,
    /// The vendor's tokens do not expire: any expiry in the answer is ignored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub never_expires: bool,
    /// The field with the refresh token's lifetime in seconds, when it is not
    /// `refresh_token_expires_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in_field: Option<String>,
    /// A boolean field that is false when the request failed, even with HTTP 200 (e.g. `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_field: Option<String>,
    /// Further tokens at other paths of the token object (found after `token_path`): name →
    /// keys leading to an object with its own `access_token` (e.g. `user: [authed_user]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_tokens: BTreeMap<String, Vec<String>>,
}

impl Default for TokenResponseQuirks {
    fn default() -> Self {
        Self {
            default_expires_in: None,
            jwt_expiry: true,
            created_at: true,
            token_path: Vec::new(),
            token_types: Vec::new(),
            expires_in_field: None,
            expires_in_unit: ExpiresInUnit::Seconds,
            expires_at_field: None,
            expires_at_format: ExpiresAtFormat::UnixSeconds,
            never_expires: false,
            refresh_expires_in_field: None,
            success_field: None,
            additional_tokens: BTreeMap::new(),
        }
    }
}
