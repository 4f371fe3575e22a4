//! Reading JWTs the client sends (client assertions, JWT-bearer assertions), and HS256.
//!
//! RS256 and ES256 signatures are not checked: the sandbox has no public key of the client. An
//! HS256 signature (`client_secret_jwt`) is checked with the client secret.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::KeyInit as _;
use serde_json::{Map, Value};
use sha2::Sha256;

/// A decoded JWT: header, claims, and what was signed.
pub(crate) struct Jwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jwt {
    /// Decodes `text` (three base64url parts, the first two JSON objects), or says why not.
    pub(crate) fn decode(text: &str) -> Result<Jwt, String> {
        let parts: Vec<&str> = text.split('.').collect();
        let [header, claims, signature] = parts.as_slice() else {
            return Err("is not a JWT (three dot-separated parts)".into());
        };
        let object = |part: &str, what: &str| -> Result<Map<String, Value>, String> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| format!("has a {what} that is not base64url"))?;
            match serde_json::from_slice(&bytes) {
                Ok(Value::Object(object)) => Ok(object),
                _ => Err(format!("has a {what} that is not a JSON object")),
            }
        };
        Ok(Jwt {
            header: object(header, "header")?,
            claims: object(claims, "claims part")?,
            signing_input: format!("{header}.{claims}"),
            signature: URL_SAFE_NO_PAD
                .decode(signature)
                .map_err(|_| "has a signature that is not base64url".to_owned())?,
        })
    }

    /// The header's `alg`.
    pub(crate) fn alg(&self) -> &str {
        self.header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// A string claim.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric claim (NumericDate).
    pub(crate) fn number(&self, name: &str) -> Option<u64> {
        self.claims.get(name).and_then(Value::as_u64)
    }

    /// Whether the `aud` claim (a string or an array of strings) names `audience`.
    pub(crate) fn audience_is(&self, audience: &str) -> bool {
        match self.claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
            _ => false,
        }
    }

    /// Whether the HS256 signature is right for `secret`.
    pub(crate) fn hs256_valid(&self, secret: &[u8]) -> bool {
        let expected = hmac_sha256(secret, self.signing_input.as_bytes());
        crate::wire::constant_time_eq(&expected, &self.signature)
    }
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac as _;
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match hmac::Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// A JWT of `claims` signed with HS256 under `secret`.
pub(crate) fn hs256_sign(secret: &[u8], claims: &Map<String, Value>) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let input = format!("{header}.{body}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(secret, input.as_bytes()));
    format!("{input}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn decodes_and_checks_hs256() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        let claims = URL_SAFE_NO_PAD.encode(br#"{"iss":"c","aud":["x","y"]}"#);
        let input = format!("{header}.{claims}");
        let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(b"k", input.as_bytes()));
        let jwt = Jwt::decode(&format!("{input}.{signature}")).unwrap();
        assert_eq!(jwt.alg(), "HS256");
        assert_eq!(jwt.text("iss"), Some("c"));
        assert!(jwt.audience_is("y"));
        assert!(jwt.hs256_valid(b"k"));
        assert!(!jwt.hs256_valid(b"other"));
        assert!(Jwt::decode("a.b").is_err());
        let signed = hs256_sign(b"k", &claims_of(r#"{"sub":"s"}"#));
        let jwt = Jwt::decode(&signed).unwrap();
        assert!(jwt.hs256_valid(b"k"));
        assert_eq!(jwt.text("sub"), Some("s"));
    }

    fn claims_of(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }
}
