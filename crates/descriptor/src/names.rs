//! The one rule for which names (of variables, fields, parameters) hold secrets.

/// Name parts that always mark a secret (`api_key`, `client_secret`, `device_code`…).
const SECRET_PARTS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "pwd",
    "credential",
    "credentials",
    "key",
    "verifier",
    "assertion",
    "code",
    "cookie",
    "session",
    "otp",
    "pin",
    "signature",
];

/// Parts after `token` that make the name describe a token rather than hold one
/// (`token_type`, `token_endpoint`…).
const TOKEN_DESCRIPTORS: &[&str] = &["type", "types", "path", "endpoint", "url", "uri"];

/// Whether a name suggests that its value is secret: `access_token`, `client_secret`,
/// `password`, `api_key`, `code`… but not `token_type` or `expires_in`. Names are split into
/// parts at `_`, `-` and `.` and compared without case.
pub fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split(['_', '-', '.']).collect();
    parts.iter().enumerate().any(|(i, part)| {
        SECRET_PARTS.contains(part)
            || (*part == "token"
                && !parts
                    .get(i + 1)
                    .is_some_and(|next| TOKEN_DESCRIPTORS.contains(next)))
    })
}

/// Why a header may not be set by a descriptor or a request, if it may not: credentials are
/// the engine's to send, and connection-level headers belong to the HTTP library. Compared
/// without case.
pub fn reserved_header(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "authorization" | "proxy-authorization" => {
            Some("credentials are sent by the engine, never by descriptors")
        }
        "cookie" | "cookie2" => Some("a descriptor may not send cookies"),
        "host" => Some("the host follows from the URL"),
        "content-length" | "transfer-encoding" | "te" | "trailer" | "connection" | "keep-alive"
        | "upgrade" | "proxy-connection" | "expect" => {
            Some("it is a connection-level header that the HTTP library sets")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_list_of_secret_names() {
        for secret in [
            "access_token",
            "refresh_token",
            "id_token",
            "token",
            "client_secret",
            "password",
            "api_key",
            "API-KEY",
            "code",
            "device_code",
            "code_verifier",
            "client_assertion",
            "session_id",
        ] {
            assert!(looks_secret(secret), "{secret}");
        }
        for public in [
            "token_type",
            "expires_in",
            "scope",
            "error",
            "error_description",
            "domain",
            "company",
            "keyboard",
            "state_code_x_ok",
        ] {
            let expected = public == "state_code_x_ok";
            assert_eq!(looks_secret(public), expected, "{public}");
        }
    }
}
