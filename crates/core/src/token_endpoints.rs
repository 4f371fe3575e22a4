//! The endpoints that act on a token the client already holds: revocation (RFC 7009) and
//! introspection (RFC 7662). Both are form-encoded POSTs authenticated like the token endpoint.

use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::observe::TokenRequestObserver;
use crate::request::Params;
use crate::response::{self, MAX_TOKEN_BODY};
use crate::secret::{AccessToken, RefreshToken};
use crate::token::Token;
use crate::transport::{BufferedResponse, PreparedRequest, RetryPolicy};

/// A token to revoke or introspect, with its kind (sent as `token_type_hint`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum TokenRef<'a> {
    /// An access token.
    Access(&'a AccessToken),
    /// A refresh token.
    Refresh(&'a RefreshToken),
}

impl TokenRef<'_> {
    fn value(&self) -> &str {
        match self {
            TokenRef::Access(token) => token.expose_secret(),
            TokenRef::Refresh(token) => token.expose_secret(),
        }
    }

    /// The `token_type_hint` value (RFC 7009 §2.1).
    pub fn type_hint(&self) -> &'static str {
        match self {
            TokenRef::Access(_) => "access_token",
            TokenRef::Refresh(_) => "refresh_token",
        }
    }
}

impl<'a> From<&'a AccessToken> for TokenRef<'a> {
    fn from(token: &'a AccessToken) -> Self {
        TokenRef::Access(token)
    }
}

impl<'a> From<&'a RefreshToken> for TokenRef<'a> {
    fn from(token: &'a RefreshToken) -> Self {
        TokenRef::Refresh(token)
    }
}

/// What an introspection endpoint said about a token (RFC 7662 §2.2). Holds no secret: the
/// introspected token is not repeated.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is active: issued by this server, not expired, not revoked.
    pub active: bool,
    /// The scopes of the token, space-separated.
    pub scope: Option<String>,
    /// The client the token was issued to.
    pub client_id: Option<String>,
    /// A human-readable identifier of the resource owner.
    pub username: Option<String>,
    /// The type of the token, e.g. `Bearer`.
    pub token_type: Option<String>,
    /// Unix seconds at which the token expires.
    pub exp: Option<u64>,
    /// Unix seconds at which the token was issued.
    pub iat: Option<u64>,
    /// Unix seconds before which the token is not to be used.
    pub nbf: Option<u64>,
    /// The subject of the token (usually the user).
    pub sub: Option<String>,
    /// The audiences of the token (a single audience becomes a list of one).
    pub aud: Vec<String>,
    /// The issuer of the token.
    pub iss: Option<String>,
    /// The token's identifier.
    pub jti: Option<String>,
    /// Every other member of the answer, sanitized.
    pub extra: Map<String, Value>,
}

impl Introspection {
    /// Reads an introspection answer; `None` when `active` is missing or not a boolean.
    fn from_object(mut object: Map<String, Value>) -> Option<Introspection> {
        let active = object.remove("active")?.as_bool()?;
        let mut text = |key: &str| match object.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let (scope, client_id, username, token_type) = (
            text("scope"),
            text("client_id"),
            text("username"),
            text("token_type"),
        );
        let (sub, iss, jti) = (text("sub"), text("iss"), text("jti"));
        let mut time = |key: &str| object.remove(key).and_then(|v| v.as_u64());
        let (exp, iat, nbf) = (time("exp"), time("iat"), time("nbf"));
        let aud = match object.remove("aud") {
            Some(Value::String(one)) => vec![one],
            Some(Value::Array(many)) => many
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        Some(Introspection {
            active,
            scope,
            client_id,
            username,
            token_type,
            exp,
            iat,
            nbf,
            sub,
            aud,
            iss,
            jti,
            extra: object,
        })
    }
}

impl Client {
    /// Revokes a token at the vendor's revocation endpoint (RFC 7009), with its type as
    /// `token_type_hint`. Revoking a refresh token usually revokes the access tokens issued
    /// with it too. A token the vendor does not know counts as revoked (RFC 7009 §2.2).
    ///
    /// Fails with [`Error::Unsupported`] when the descriptor has no revocation endpoint, and
    /// with [`Error::OAuth`] when the vendor refuses (`unsupported_token_type`, …).
    pub async fn revoke<'a>(&self, token: impl Into<TokenRef<'a>>) -> Result<(), Error> {
        let token = token.into();
        let observer = TokenRequestObserver::new(self.vendor(), "revocation");
        observer
            .run(async {
                let (request, response) = self
                    .token_endpoint_call(EndpointKind::Revocation, token, &observer)
                    .await?;
                if (200..300).contains(&response.status) {
                    return Ok(());
                }
                Err(self.endpoint_error(&request, &response, "the token to revoke"))
            })
            .await
    }

    /// Revokes both tokens of `token` (RFC 7009): the refresh token first (which usually takes
    /// the access tokens with it), then the access token, for vendors that do not cascade.
    /// Returns `false`, having sent nothing, when the vendor has no revocation endpoint.
    pub async fn revoke_token(&self, token: &Token) -> Result<bool, Error> {
        if self.resolve_endpoint(&EndpointKind::Revocation)?.is_none() {
            return Ok(false);
        }
        if let Some(refresh_token) = token.refresh_token() {
            self.revoke(refresh_token).await?;
        }
        self.revoke(token.access_token()).await?;
        Ok(true)
    }

    /// Asks the vendor's introspection endpoint (RFC 7662) whether a token is active, and what
    /// it knows about it.
    ///
    /// Fails with [`Error::Unsupported`] when the descriptor has no introspection endpoint.
    pub async fn introspect<'a>(
        &self,
        token: impl Into<TokenRef<'a>>,
    ) -> Result<Introspection, Error> {
        let token = token.into();
        let observer = TokenRequestObserver::new(self.vendor(), "introspection");
        observer
            .run(self.introspect_observed(token, &observer))
            .await
    }

    async fn introspect_observed(
        &self,
        token: TokenRef<'_>,
        observer: &TokenRequestObserver<'_>,
    ) -> Result<Introspection, Error> {
        let (request, response) = self
            .token_endpoint_call(EndpointKind::Introspection, token, observer)
            .await?;
        if !(200..300).contains(&response.status) {
            return Err(self.endpoint_error(&request, &response, "the token to introspect"));
        }
        let meta = self.response_meta(&request, &response);
        let body = response.body.as_deref().unwrap_or_default();
        // The answer is returned whole; a vendor that echoes the token must not hand it back.
        let redacted = meta.sanitizer.redact_known(body);
        let Some(object) = response::body_object(&meta, &redacted) else {
            return Err(meta.invalid("expected an introspection answer (JSON)", body));
        };
        Introspection::from_object(object)
            .ok_or_else(|| meta.invalid("the answer has no boolean `active`", body))
    }

    /// Sends `token` to the revocation or introspection endpoint.
    async fn token_endpoint_call(
        &self,
        endpoint: EndpointKind,
        token: TokenRef<'_>,
        observer: &TokenRequestObserver<'_>,
    ) -> Result<(PreparedRequest, BufferedResponse), Error> {
        let url = self
            .resolve_endpoint(&endpoint)?
            .ok_or_else(|| Error::unsupported(self.vendor(), format!("{endpoint} endpoint")))?;
        let mut params = Params::default();
        params.set("token", token.value());
        params.set("token_type_hint", token.type_hint());
        let mut request =
            self.prepare_endpoint_request(url, params, vec![token.value().to_owned()])?;
        observer.endpoint(request.endpoint());
        // Revoking and introspecting twice has the effect of doing it once.
        let response = self
            .transport()
            .send(&mut request, RetryPolicy::Idempotent, MAX_TOKEN_BODY)
            .await?;
        self.observe_answer(observer, &request, &response);
        Ok((request, response))
    }

    /// The error for a refused revocation or introspection: the vendor's OAuth error when the
    /// body has one, else the status.
    fn endpoint_error(
        &self,
        request: &PreparedRequest,
        response: &BufferedResponse,
        refused: &'static str,
    ) -> Error {
        let mut meta = self.response_meta(request, response);
        meta.refused = Some(refused);
        let body = response.body.as_deref().unwrap_or_default();
        response::body_object(&meta, body)
            .and_then(|object| meta.oauth_error(&object))
            .unwrap_or_else(|| {
                meta.invalid(format!("HTTP {} from the vendor", response.status), body)
            })
    }
}
