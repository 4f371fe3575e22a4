//! OpenID Connect: the ID token that comes with a token answer is checked before the token is
//! returned (OpenID Connect Core §3.1.3.7): signature from the issuer's key set (or the client
//! secret for HMAC), `iss`, `aud` and `azp`, `exp`, and the `nonce` the authorization request
//! sent.

use std::sync::Arc;

use jsonwebtoken::jwk::{Jwk, JwkSet};

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::response::MAX_TOKEN_BODY;
use crate::secret::Nonce;
use crate::token::{Token, now_unix};
use crate::transport::{PreparedRequest, RetryPolicy};
use crate::vars::Escape;

/// Clock skew tolerated on `exp`.
const LEEWAY_SECONDS: u64 = 60;

/// Whether scopes ask for OpenID Connect.
pub(crate) fn wants_openid(scope: Option<&str>, separator: &str) -> bool {
    scope.is_some_and(|scope| scope.split(separator).any(|s| s.trim() == "openid"))
}

impl Client {
    /// Checks the ID token of `token`, when it has one, and keeps its claims in the token.
    /// `nonce` is the one the authorization request sent (code flow with `openid`); an ID token
    /// must then be present and carry it.
    pub(crate) async fn check_id_token(
        &self,
        token: &mut Token,
        nonce: Option<&Nonce>,
    ) -> Result<(), Error> {
        let Some(id_token) = token.id_token().cloned() else {
            if nonce.is_some() {
                return Err(self.id_token_error(
                    "the answer has no `id_token`, although `openid` was requested",
                ));
            }
            return Ok(());
        };
        let claims = self.verified_claims(id_token.expose_secret()).await?;
        self.check_claims(&claims, nonce)?;
        token.details_mut().id_token_claims = Some(claims);
        Ok(())
    }

    /// The ID token's claims, its signature checked when the issuer's key set is known (or
    /// with the client secret for HMAC). Without a key set, the token came straight from the
    /// token endpoint over TLS, which OpenID Connect Core §3.1.3.7 accepts in place of the
    /// signature.
    async fn verified_claims(&self, id_token: &str) -> Result<Map<String, Value>, Error> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|err| self.id_token_error(format!("not a signed JWT ({err})")))?;
        let family = header.alg.family();
        if family == AlgorithmFamily::Hmac {
            let secret = self.config().client_secret().ok_or_else(|| {
                self.id_token_error("it is signed with the client secret (HMAC), and none is set")
            })?;
            let key = DecodingKey::from_secret(secret.expose_secret().as_bytes())
                .map_err(|err| self.id_token_error(format!("unusable client secret: {err}")))?;
            return decode(id_token, header.alg, &key)
                .map_err(|err| self.id_token_error(format!("bad signature ({err})")));
        }
        if self.resolve_endpoint(&EndpointKind::Jwks)?.is_none() {
            return jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(id_token)
                .map(|data| data.claims)
                .map_err(|err| self.id_token_error(format!("unreadable claims ({err})")));
        }
        let (mut keys, fresh) = self.jwks(false).await?;
        if let Some(kid) = header.kid.as_deref()
            && keys.find(kid).is_none()
            && !fresh
            && self.inner.parts.jwks.may_refetch_for(kid)
        {
            keys = self.jwks(true).await?.0;
        }
        let candidates: Vec<&Jwk> = match header.kid.as_deref() {
            Some(kid) => keys.find(kid).into_iter().collect(),
            None => keys.keys.iter().collect(),
        };
        for jwk in candidates {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            if key.family() != family {
                continue;
            }
            if let Ok(claims) = decode(id_token, header.alg, &key) {
                return Ok(claims);
            }
        }
        Err(self
            .id_token_error("its signature does not verify with any key of the issuer's key set"))
    }

    /// `iss`, `aud`, `azp`, `exp` and `nonce`.
    fn check_claims(
        &self,
        claims: &Map<String, Value>,
        nonce: Option<&Nonce>,
    ) -> Result<(), Error> {
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        if let Some(issuer) = &self.descriptor().issuer {
            let expected = self.vars().render_text(issuer, "issuer", Escape::Url)?;
            if text("iss") != Some(expected.as_str()) {
                return Err(self.id_token_error(format!("its `iss` is not `{expected}`")));
            }
        }
        let client_id = self.config().client_id();
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !audiences.contains(&client_id) {
            return Err(self.id_token_error("its `aud` does not name this client"));
        }
        if let Some(azp) = text("azp")
            && azp != client_id
        {
            return Err(self.id_token_error("its `azp` is another client"));
        }
        match claims.get("exp").and_then(Value::as_u64) {
            Some(exp) if exp + LEEWAY_SECONDS > now_unix() => {}
            Some(_) => return Err(self.id_token_error("it has expired")),
            None => return Err(self.id_token_error("it has no `exp`")),
        }
        if let Some(nonce) = nonce {
            let sent = nonce.expose_secret().as_bytes();
            let matches = text("nonce")
                .is_some_and(|got| crate::crypto::constant_time_eq(got.as_bytes(), sent));
            if !matches {
                return Err(self.id_token_error(
                    "its `nonce` is not the one sent (a replayed or injected token)",
                ));
            }
        }
        Ok(())
    }

    /// The issuer's key set: cached, or fetched (always when `refetch`); and whether it was
    /// fetched now.
    async fn jwks(&self, refetch: bool) -> Result<(Arc<JwkSet>, bool), Error> {
        let cached = self.inner.parts.jwks.lock().keys.clone();
        if let (false, Some(keys)) = (refetch, cached) {
            return Ok((keys, false));
        }
        let url = self.required_endpoint(EndpointKind::Jwks)?;
        let target = self.transport().target(url)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut request = PreparedRequest {
            method: Method::GET,
            url: target,
            endpoint: Default::default(),
            headers,
            body: None,
            sanitizer: self.sanitizer_with(&[]),
        };
        let response = self
            .transport()
            .send(&mut request, RetryPolicy::Idempotent, MAX_TOKEN_BODY)
            .await?;
        let meta = self.response_meta(&request, &response);
        let body = response.body.as_deref().unwrap_or_default();
        if !(200..300).contains(&response.status) {
            return Err(meta.invalid("the key set could not be fetched", body));
        }
        let keys: JwkSet = serde_json::from_slice(body)
            .map_err(|err| meta.invalid(format!("not a JSON Web Key Set ({err})"), body))?;
        let keys = Arc::new(keys);
        self.inner.parts.jwks.lock().keys = Some(keys.clone());
        Ok((keys, true))
    }

    /// The user's claims from the OpenID Connect userinfo endpoint (Core §5.3), asked with the
    /// access token as a bearer token. When `token` has checked ID token claims, the answer's
    /// `sub` must be theirs (§5.3.2: a different `sub` means a substituted answer).
    pub async fn userinfo(&self, token: &Token) -> Result<Map<String, Value>, Error> {
        let url = self.required_endpoint(EndpointKind::Userinfo)?;
        let target = self.transport().target(url)?;
        let access = token.access_token().expose_secret();
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut bearer = HeaderValue::from_str(&format!("Bearer {access}")).map_err(|_| {
            Error::config(self.vendor(), "the access token cannot be sent in a header")
        })?;
        bearer.set_sensitive(true);
        headers.insert(AUTHORIZATION, bearer);
        let mut request = PreparedRequest {
            method: Method::GET,
            url: target,
            endpoint: Default::default(),
            headers,
            body: None,
            sanitizer: self.sanitizer_with(&[access]),
        };
        let response = self
            .transport()
            .send(&mut request, RetryPolicy::Idempotent, MAX_TOKEN_BODY)
            .await?;
        let meta = self.response_meta(&request, &response);
        let body = response.body.as_deref().unwrap_or_default();
        if !(200..300).contains(&response.status) {
            return Err(meta.invalid("the userinfo endpoint refused the request", body));
        }
        let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(body) else {
            return Err(meta.invalid("expected the user's claims as a JSON object", body));
        };
        let expected = token
            .id_token_claims()
            .and_then(|c| c.get("sub"))
            .and_then(Value::as_str);
        if let Some(expected) = expected
            && claims.get("sub").and_then(Value::as_str) != Some(expected)
        {
            return Err(meta.invalid("its `sub` is not the ID token's", b""));
        }
        Ok(claims)
    }

    fn id_token_error(&self, reason: impl Into<String>) -> Error {
        Error::InvalidIdToken {
            vendor: self.vendor().into(),
            reason: reason.into().into(),
        }
    }
}

/// Checks the signature only: the claims are checked by [`Client::check_claims`], with
/// messages of its own.
fn decode(
    id_token: &str,
    algorithm: Algorithm,
    key: &DecodingKey,
) -> Result<Map<String, Value>, jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(id_token, key, &validation).map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openid_is_found_with_any_separator() {
        assert!(wants_openid(Some("openid profile"), " "));
        assert!(wants_openid(Some("profile,openid"), ","));
        assert!(!wants_openid(Some("openidx profile"), " "));
        assert!(!wants_openid(None, " "));
    }
}
