//! Randomness for `state` and PKCE (RFC 7636), the S256 challenge, a constant-time comparison,
//! and the encoding of Basic credentials (RFC 6749 §2.3.1).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

/// 32 random bytes from a cryptographically secure generator, base64url without padding
/// (43 characters: a valid PKCE verifier and an unguessable `state`).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The S256 code challenge of a verifier: `BASE64URL(SHA256(ASCII(verifier)))`.
pub(crate) fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 requires.
pub(crate) fn basic_auth(client_id: &str, secret: &SecretString) -> SecretString {
    let secret = secret.expose_secret();
    let mut raw = String::with_capacity(client_id.len() + secret.len() + 1);
    raw.extend(url::form_urlencoded::byte_serialize(client_id.as_bytes()));
    raw.push(':');
    raw.extend(url::form_urlencoded::byte_serialize(secret.as_bytes()));
    basic_value(&raw)
}

/// `Basic base64(id ":" secret)` without form-encoding, for vendors that expect it.
pub(crate) fn basic_auth_raw(client_id: &str, secret: &SecretString) -> SecretString {
    basic_value(&format!("{client_id}:{}", secret.expose_secret()))
}

/// `Basic base64(credentials)`.
fn basic_value(credentials: &str) -> SecretString {
    let mut value = String::with_capacity("Basic ".len() + credentials.len().div_ceil(3) * 4);
    value.push_str("Basic ");
    base64::engine::general_purpose::STANDARD.encode_string(credentials, &mut value);
    SecretString::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn basic_auth_form_encodes_before_base64() {
        let header = basic_auth("my client", &SecretString::from("p@ss:w/rd+&=%"));
        let b64 = header.expose_secret().strip_prefix("Basic ").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let raw = String::from_utf8(raw).unwrap();
        assert_eq!(raw, "my+client:p%40ss%3Aw%2Frd%2B%26%3D%25");
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
