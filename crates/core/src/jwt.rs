//! Signed JWTs the engine makes: client assertions (`private_key_jwt`, `client_secret_jwt`,
//! OpenID Connect Core §9) and JWT-bearer grant assertions (RFC 7523 §2.1).

use std::fmt;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth_clients_descriptor::schema::JwtAlgorithm;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::error::Error;

/// A private key that signs the client's JWT assertions, from a PEM text. `Debug` never shows
/// it.
#[derive(Clone)]
pub struct SigningKey {
    algorithm: JwtAlgorithm,
    key: EncodingKey,
    key_id: Option<String>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// An RSA key (RS256) from a PEM text (PKCS#1 or PKCS#8).
    pub fn rs256_pem(pem: &SecretString) -> Result<SigningKey, String> {
        let key = EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes())
            .map_err(|err| format!("not an RSA private key in PEM: {err}"))?;
        Ok(SigningKey {
            algorithm: JwtAlgorithm::RS256,
            key,
            key_id: None,
        })
    }

    /// A P-256 key (ES256) from a PEM text (SEC1 or PKCS#8).
    pub fn es256_pem(pem: &SecretString) -> Result<SigningKey, String> {
        let key = EncodingKey::from_ec_pem(pem.expose_secret().as_bytes())
            .map_err(|err| format!("not a P-256 private key in PEM: {err}"))?;
        Ok(SigningKey {
            algorithm: JwtAlgorithm::ES256,
            key,
            key_id: None,
        })
    }

    /// A key of `algorithm` from a PEM text.
    pub fn from_pem(algorithm: JwtAlgorithm, pem: &SecretString) -> Result<SigningKey, String> {
        match algorithm {
            JwtAlgorithm::RS256 => SigningKey::rs256_pem(pem),
            JwtAlgorithm::ES256 => SigningKey::es256_pem(pem),
        }
    }

    /// Names the key (the JWT header's `kid`), for vendors that hold several of the client's
    /// keys.
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> SigningKey {
        self.key_id = Some(key_id.into());
        self
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// Signs `claims`.
    pub(crate) fn sign(&self, vendor: &str, claims: &Map<String, Value>) -> Result<String, Error> {
        let mut header = Header::new(match self.algorithm {
            JwtAlgorithm::RS256 => Algorithm::RS256,
            JwtAlgorithm::ES256 => Algorithm::ES256,
        });
        header.kid = self.key_id.clone();
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|err| Error::config(vendor, format!("cannot sign the JWT assertion: {err}")))
    }
}

/// Signs `claims` with the client secret (HS256), for `client_secret_jwt`.
pub(crate) fn sign_with_secret(
    vendor: &str,
    secret: &SecretString,
    claims: &Map<String, Value>,
) -> Result<String, Error> {
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes())
        .map_err(|err| Error::config(vendor, format!("unusable client secret for HS256: {err}")))?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key)
        .map_err(|err| Error::config(vendor, format!("cannot sign the JWT assertion: {err}")))
}

/// The claims of a client assertion (RFC 7523 §3): the client is issuer and subject, the
/// token endpoint the audience; it lives five minutes and is used once (`jti`).
pub(crate) fn client_assertion_claims(
    client_id: &str,
    audience: &str,
    now: u64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), client_id.into());
    claims.insert("sub".into(), client_id.into());
    claims.insert("aud".into(), audience.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + 300).into());
    claims.insert("jti".into(), crate::crypto::random_token().into());
    claims
}
