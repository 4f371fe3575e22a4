//! Helpers shared by the fuzz targets: the encodings in which a vendor may echo a secret, and
//! the checks that sanitized text shows none of them.

use std::ops::Range;

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// The forms in which a secret may come back in a vendor's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum Encoding {
    /// As it is.
    Raw,
    /// Inside a JSON string (serde_json's escapes).
    Json,
    /// Inside a JSON string, with `/` written `\/` as PHP does.
    JsonSlash,
    /// HTML-escaped: `&amp;` `&lt;` `&gt;` `&quot;` `&#39;` and `&#x2F;`.
    Html,
    /// `application/x-www-form-urlencoded` (space as `+`).
    Form,
    /// Percent-encoded with `%20` for spaces, upper-case hex.
    Percent,
    /// Percent-encoded with `%20` for spaces, lower-case hex.
    PercentLower,
    /// Standard base64, padded.
    Base64,
    /// Standard base64, unpadded.
    Base64NoPad,
    /// URL-safe base64, padded.
    Base64Url,
    /// URL-safe base64, unpadded.
    Base64UrlNoPad,
    /// HTTP Basic credentials `client:secret` in standard base64 (the secret inside a longer
    /// base64 text; the sanitizer finds those from 12 bytes on, plain base64 below that).
    Basic,
}

impl Encoding {
    /// Every encoding.
    pub const ALL: [Encoding; 12] = [
        Encoding::Raw,
        Encoding::Json,
        Encoding::JsonSlash,
        Encoding::Html,
        Encoding::Form,
        Encoding::Percent,
        Encoding::PercentLower,
        Encoding::Base64,
        Encoding::Base64NoPad,
        Encoding::Base64Url,
        Encoding::Base64UrlNoPad,
        Encoding::Basic,
    ];
}

/// `secret` in `encoding`.
pub fn encode(secret: &str, encoding: Encoding) -> String {
    match encoding {
        Encoding::Raw => secret.to_owned(),
        Encoding::Json => json(secret),
        Encoding::JsonSlash => json(secret).replace('/', "\\/"),
        Encoding::Html => html(secret),
        Encoding::Form => form(secret),
        Encoding::Percent => form(secret).replace('+', "%20"),
        Encoding::PercentLower => lower_hex(&form(secret).replace('+', "%20")),
        Encoding::Base64 => STANDARD.encode(secret),
        Encoding::Base64NoPad => STANDARD_NO_PAD.encode(secret),
        Encoding::Base64Url => URL_SAFE.encode(secret),
        Encoding::Base64UrlNoPad => URL_SAFE_NO_PAD.encode(secret),
        Encoding::Basic if secret.len() >= 12 => STANDARD.encode(format!("client-id:{secret}")),
        Encoding::Basic => STANDARD.encode(secret),
    }
}

/// Where, in `encode(secret, encoding)`, the text that depends on the secret starts: after the
/// base64 of `client-id:` in [`Encoding::Basic`] (13 characters that encode only those bytes).
pub fn secret_offset(secret: &str, encoding: Encoding) -> usize {
    if encoding == Encoding::Basic && secret.len() >= 12 {
        13
    } else {
        0
    }
}

fn json(secret: &str) -> String {
    let quoted = serde_json::to_string(secret).expect("a string serializes");
    quoted[1..quoted.len() - 1].to_owned()
}

fn html(secret: &str) -> String {
    let mut out = String::with_capacity(secret.len());
    for c in secret.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '/' => out.push_str("&#x2F;"),
            c => out.push(c),
        }
    }
    out
}

fn form(secret: &str) -> String {
    url::form_urlencoded::byte_serialize(secret.as_bytes()).collect()
}

fn lower_hex(percent: &str) -> String {
    let mut out = String::with_capacity(percent.len());
    let mut rest = percent;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// A secret as the sanitizer is asked to find it: no white space (a token never has any) and
/// no control character (shown escaped, so never shown as it is).
pub fn usable_secret(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect()
}

/// Text as shown with what the sanitizer writes itself (its `[redacted]` marker, the
/// `\u{…}` escapes of control characters, the `…` of a cut) replaced by NUL, so that a
/// secret is never "found" in text that the sanitizer made up next to other text.
pub fn without_artifacts(shown: &str) -> String {
    // A cut (`…`) may fall inside a marker or an escape: `[redac…`, `\u{1…`.
    let segments: Vec<&str> = shown.split('…').collect();
    let last = segments.len() - 1;
    let cleaned: Vec<String> = segments
        .iter()
        .enumerate()
        .map(|(i, segment)| {
            let segment = if i < last {
                without_partial_artifact(segment)
            } else {
                segment
            };
            without_whole_artifacts(segment)
        })
        .collect();
    cleaned.join("\0")
}

/// `text` less a `[redacted]` marker or a `\u{…}` escape cut at its end.
fn without_partial_artifact(text: &str) -> &str {
    let partial = (1..=text.len().min(10))
        .filter(|&n| text.is_char_boundary(text.len() - n))
        .map(|n| &text[text.len() - n..])
        .filter(|tail| "[redacted]".starts_with(tail) || is_partial_escape(tail))
        .map(str::len)
        .max()
        .unwrap_or(0);
    &text[..text.len() - partial]
}

fn without_whole_artifacts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("[redacted]") {
            out.push('\0');
            rest = after;
        } else if let Some(len) = unicode_escape_len(rest) {
            out.push('\0');
            rest = &rest[len..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Whether `tail` is the start of a `\u{hex}` escape, cut before its `}`.
fn is_partial_escape(tail: &str) -> bool {
    let Some(rest) = tail.strip_prefix('\\') else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('u') else {
        return rest.is_empty();
    };
    let Some(hex) = rest.strip_prefix('{') else {
        return rest.is_empty();
    };
    hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The length of a `\u{hex}` escape at the start of `text`.
fn unicode_escape_len(text: &str) -> Option<usize> {
    let hex = text.strip_prefix("\\u{")?;
    let digits = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
    (digits > 0 && hex[digits..].starts_with('}')).then_some(3 + digits + 1)
}

/// Checks one sanitized output of `text`, whose bytes `echo` are the secret's echo: no control
/// character, at most `cap` characters plus the ellipsis, and neither the secret nor `encoded`
/// (its form in the echo) shown; when the secret has 16 characters or more, not its first half
/// either, unless that half is also in the text outside the echo (by chance, or because the
/// secret repeats itself: then the match found may start before the echo and leave its end).
pub fn check_sanitized(
    what: &str,
    out: &str,
    cap: usize,
    secret: &str,
    encoded: &str,
    text: &str,
    echo: Range<usize>,
) {
    assert!(
        !out.chars().any(char::is_control),
        "{what}: control character in {out:?}"
    );
    let chars = out.chars().count();
    assert!(chars <= cap + 1, "{what}: {chars} characters in {out:?}");
    let shown = without_artifacts(out);
    assert!(
        !shown.contains(secret),
        "{what}: the secret {secret:?} is shown in {out:?}"
    );
    assert!(
        !shown.contains(encoded),
        "{what}: the encoded secret {encoded:?} is shown in {out:?}"
    );
    let count = secret.chars().count();
    if count >= 16 {
        let half: String = secret.chars().take(count / 2).collect();
        if !found_outside(text, &half, echo) {
            assert!(
                !shown.contains(&half),
                "{what}: the first half {half:?} of the secret {secret:?} is shown in {out:?}"
            );
        }
    }
}

/// Whether `needle` occurs in `text` (overlaps counted) anywhere but wholly inside `echo`.
pub fn found_outside(text: &str, needle: &str, echo: Range<usize>) -> bool {
    text.char_indices().any(|(at, _)| {
        text[at..].starts_with(needle) && !(echo.start <= at && at + needle.len() <= echo.end)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let secret = "a/b c<&\"'>é";
        assert_eq!(encode(secret, Encoding::JsonSlash), "a\\/b c<&\\\"'>é");
        assert_eq!(
            encode(secret, Encoding::Html),
            "a&#x2F;b c&lt;&amp;&quot;&#39;&gt;é"
        );
        assert_eq!(
            encode(secret, Encoding::Form),
            "a%2Fb+c%3C%26%22%27%3E%C3%A9"
        );
        assert_eq!(
            encode(secret, Encoding::PercentLower),
            "a%2fb%20c%3c%26%22%27%3e%c3%a9"
        );
        assert_eq!(without_artifacts("a[redacted]b\\u{1b}c…"), "a\0b\0c\0");
        assert_eq!(without_artifacts("dact[re[redacte…"), "dact[re\0");
        assert_eq!(without_artifacts("(ab[redac…) cd…"), "(ab\0) cd\0");
        assert_eq!(without_artifacts("x\\u{1…"), "x\0");
        assert_eq!(without_artifacts("x\\…"), "x\0");
    }
}
