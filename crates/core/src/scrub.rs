//! Scrubbing of response text before it goes into an error: anything that looks like a token,
//! secret, password or code is replaced, and the result is short and printable.

/// Longest excerpt kept, in characters.
pub(crate) const EXCERPT_CHARS: usize = 200;

const REDACTED: &str = "[redacted]";

/// Keys whose values are always secret.
const SECRET_KEYS: [&str; 11] = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "secret",
    "token",
];

/// A short, single-line, scrubbed excerpt of a response body, for error messages.
/// `known` are secret values of the request (client secret, code, password…), replaced wherever
/// they appear.
pub(crate) fn excerpt(body: &[u8], known: &[&str]) -> String {
    let text = String::from_utf8_lossy(body);
    // Only look at a bounded prefix: scrubbing is linear, but there is no need to scan a MiB.
    let prefix: String = text.chars().take(EXCERPT_CHARS * 8).collect();
    let scrubbed = scrub(&prefix, known);
    let mut out = String::new();
    let mut last_space = true;
    for c in scrubbed.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        out.push(c);
    }
    let out = out.trim();
    if out.chars().count() > EXCERPT_CHARS {
        let cut: String = out.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}…")
    } else {
        out.to_owned()
    }
}

/// Scrubs a URL-like value (e.g. an `error_uri`): known secrets and the values of secret keys
/// are replaced, long path segments are kept (they are rarely secrets and make the URL useful).
pub(crate) fn light(text: &str, known: &[&str]) -> String {
    let scrubbed = scrub_keyed_values(&replace_known(text, known));
    let cleaned: String = scrubbed
        .chars()
        .filter(|c| !c.is_control())
        .take(EXCERPT_CHARS)
        .collect();
    cleaned
}

fn replace_known(text: &str, known: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in known {
        if secret.len() >= 4 {
            text = text.replace(secret, REDACTED);
            // The value may appear form-encoded too.
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            if encoded != *secret {
                text = text.replace(&encoded, REDACTED);
            }
        }
    }
    text
}

/// Replaces secret-looking values in `text`:
/// values of [`SECRET_KEYS`] after `:` or `=` (JSON, form, header-like text), `known` values,
/// and long opaque strings (JWTs, hex or base64 tokens).
pub(crate) fn scrub(text: &str, known: &[&str]) -> String {
    let text = scrub_keyed_values(&replace_known(text, known));
    scrub_opaque_runs(&text)
}

fn scrub_keyed_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(key) = SECRET_KEYS.iter().find(|k| {
            lower.as_bytes()[i..].starts_with(k.as_bytes())
                && (i == 0 || !is_word(bytes[i - 1]))
                && !bytes.get(i + k.len()).copied().is_some_and(is_word)
        }) else {
            i += 1;
            continue;
        };
        // After the key: optional quote, spaces, then `:` or `=`.
        let mut j = i + key.len();
        while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b' ' | b'\t') {
            j += 1;
        }
        if j >= bytes.len() || !matches!(bytes[j], b':' | b'=') {
            i += key.len();
            continue;
        }
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        let quote = match bytes.get(j) {
            Some(q @ (b'"' | b'\'')) => {
                j += 1;
                Some(*q)
            }
            _ => None,
        };
        let start = j;
        while j < bytes.len() {
            let b = bytes[j];
            let end = match quote {
                Some(q) => b == q,
                None => matches!(
                    b,
                    b'&' | b',' | b'}' | b' ' | b'\t' | b'\r' | b'\n' | b'<' | b';'
                ),
            };
            if end {
                break;
            }
            j += 1;
        }
        if j > start && text.is_char_boundary(start) && text.is_char_boundary(j) {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = j;
        }
        i = j.max(i + 1);
    }
    if copied <= text.len() {
        out.push_str(&text[copied..]);
    }
    out
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_opaque(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Replaces runs of token characters that look like credentials: 20+ characters with a digit,
/// or 32+ characters of any kind.
fn scrub_opaque_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let len = run.chars().count();
        let has_digit = run.chars().any(|c| c.is_ascii_digit());
        let is_redacted_marker = run.as_str() == "redacted";
        if !is_redacted_marker && ((len >= 20 && has_digit) || len >= 32) {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_opaque(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_json_form_and_known_values() {
        let body =
            r#"{"access_token": "abc", "refresh_token":"def", "error":"x", "password" : 'pw'}"#;
        let out = excerpt(body.as_bytes(), &[]);
        assert!(
            !out.contains("abc") && !out.contains("def") && !out.contains("pw'"),
            "{out}"
        );
        assert!(out.contains("\"error\":\"x\""), "{out}");

        let form = "access_token=abc123&token_type=bearer&client_secret=s3cr3t";
        let out = excerpt(form.as_bytes(), &[]);
        assert!(!out.contains("abc123") && !out.contains("s3cr3t"), "{out}");
        assert!(out.contains("token_type=bearer"), "{out}");

        let out = excerpt(b"echo: my-hunter2-secret", &["hunter2"]);
        assert!(!out.contains("hunter2"), "{out}");
    }

    #[test]
    fn scrubs_long_opaque_strings_and_caps_length() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2lnbmF0dXJl";
        let out = excerpt(format!("<html>bad {jwt} here</html>").as_bytes(), &[]);
        assert!(!out.contains("eyJ"), "{out}");
        assert!(out.contains("<html>bad"), "{out}");
        let long = "word ".repeat(1000);
        assert!(excerpt(long.as_bytes(), &[]).chars().count() <= EXCERPT_CHARS + 1);
    }

    #[test]
    fn light_keeps_long_urls() {
        let uri = "https://developer.example.com/docs/errors/invalid_grant_explained";
        assert_eq!(light(uri, &[]), uri);
        assert_eq!(
            light("https://x.example/?client_secret=abc&x=1", &[]),
            "https://x.example/?client_secret=[redacted]&x=1"
        );
    }

    #[test]
    fn handles_multibyte_text() {
        let out = excerpt("ééé code=ü€ 🎉".as_bytes(), &[]);
        assert!(!out.contains('€'), "{out}");
    }
}
