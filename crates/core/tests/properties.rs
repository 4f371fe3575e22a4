//! Property tests of the URL handling and of the sanitizer, on stable: the same properties as
//! the `url` and `sanitizer` fuzz targets in `fuzz/` (run those with `scripts/fuzz`).
//!
//! Each property runs 256 cases by default (`PROPTEST_CASES` changes that). Failures are not
//! persisted to files: a failing case is printed, shrunk, with its seed.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use oauth_clients_core::fuzzing::{clean, excerpt, join, rewrite};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use url::Url;

/// How much of a body the sanitizer scans (`sanitize::MAX_SCAN`).
const MAX_SCAN: usize = 64 * 1024;

/// The cases of a property: 256 (or `PROPTEST_CASES`) divided by `divisor`, at least one.
fn config(divisor: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256u32);
    Config {
        cases: (cases / divisor).max(1),
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// URLs

fn url_text() -> impl Strategy<Value = String> {
    let built = (
        select(vec!["http", "https", "HTTPS", "ftp", "file", "data"]),
        prop::option::of("[a-z:%@]{0,6}"),
        prop_oneof![
            select(vec![
                "api.vendor.example",
                "api.vendor.example.evil",
                "API.Vendor.Example",
                "127.0.0.1",
                "127.1",
                "localhost",
                "[::1]",
                "0x7f.1",
                "xn--bcher-kva.example",
            ])
            .prop_map(str::to_owned),
            "[a-z0-9.%-]{0,12}",
        ],
        prop::option::of(prop_oneof![
            Just(443u16),
            Just(80),
            Just(8080),
            any::<u16>()
        ]),
        "(/[a-zA-Z0-9._~%@:;,=+!$&'()*-]{0,6}){0,4}/?",
        prop::option::of("[a-z0-9=&%/?#]{0,10}"),
    )
        .prop_map(|(scheme, user, host, port, path, query)| {
            let user = user.map(|u| format!("{u}@")).unwrap_or_default();
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            format!("{scheme}://{user}{host}{port}{path}{query}")
        });
    prop_oneof![4 => built, 1 => any::<String>()]
}

fn api_path() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9/.@:%?#\\\\ -]{0,24}",
        "(/|//|\\\\|\\.\\./|%2e%2e/|@|[a-z]{1,8}:)[a-z0-9/.@:]{0,16}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config(1))]

    /// A rewrite's result is on the target's origin, and only a URL on the prefix's origin is
    /// rewritten.
    #[test]
    fn rewrites_land_on_the_target_origin(
        from in url_text(),
        to in url_text(),
        url in url_text(),
    ) {
        if let Ok(url) = Url::parse(&url)
            && let Some(out) = rewrite(&from, &to, &url) {
                let to = Url::parse(&to).expect("an accepted target parses");
                let from = Url::parse(&from).expect("an accepted prefix parses");
                prop_assert_eq!(out.origin(), to.origin(), "{} -> {}", url, out);
                prop_assert!(out.origin().is_tuple());
                prop_assert_eq!(url.origin(), from.origin(), "{} matched {}", url, from);
                prop_assert_eq!(out.query(), url.query());
                prop_assert!(out.username().is_empty() && out.password().is_none());
            }
    }

    /// A rewrite between two origins of the same shape always matches the prefix's own URLs.
    #[test]
    fn rewrites_match_their_prefix(
        prefix in "(/[a-z0-9]{1,6}){0,3}",
        rest in "(/[a-z0-9_~-][a-z0-9._~-]{0,5}){0,3}/?",
        query in prop::option::of("[a-z0-9=&]{0,8}"),
    ) {
        let from = format!("https://api.vendor.example{prefix}/");
        let to = "http://127.0.0.1:8080/vendor/";
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        let url = Url::parse(&format!("https://api.vendor.example{prefix}{rest}{query}")).unwrap();
        let out = rewrite(&from, to, &url).expect("a URL under the prefix is rewritten");
        prop_assert_eq!(out.origin(), Url::parse(to).unwrap().origin());
        prop_assert!(out.path().starts_with("/vendor"), "{}", out);
        prop_assert_eq!(out.query(), url.query());
    }

    /// An API path joined to a base is refused or stays on the base's origin, with the base's
    /// user info.
    #[test]
    fn joined_paths_stay_on_the_base_origin(base in url_text(), path in api_path()) {
        if let Ok(base) = Url::parse(&base)
            && let Ok(out) = join(&base, &path) {
                prop_assert_eq!(out.origin(), base.origin(), "{} + {:?} -> {}", base, path, out);
                prop_assert!(out.origin().is_tuple());
                prop_assert_eq!(out.username(), base.username());
                prop_assert_eq!(out.password(), base.password());
            }
    }
}

// ---------------------------------------------------------------------------------------------
// The sanitizer

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Raw,
    Json,
    JsonSlash,
    Html,
    Form,
    Percent,
    PercentLower,
    Base64,
    Base64NoPad,
    Base64Url,
    Base64UrlNoPad,
    Basic,
}

const ENCODINGS: [Encoding; 12] = [
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

impl Encoding {
    /// Whether the encoding is literal text, found wherever it sits; the others are escapes,
    /// which a stray `%4` or `\u00` right before them would read differently.
    fn is_literal(self) -> bool {
        matches!(
            self,
            Encoding::Raw
                | Encoding::Base64
                | Encoding::Base64NoPad
                | Encoding::Base64Url
                | Encoding::Base64UrlNoPad
                | Encoding::Basic
        )
    }
}

fn encode(secret: &str, encoding: Encoding) -> String {
    let form = || -> String { url::form_urlencoded::byte_serialize(secret.as_bytes()).collect() };
    let json = || {
        let quoted = serde_json::to_string(secret).unwrap();
        quoted[1..quoted.len() - 1].to_owned()
    };
    match encoding {
        Encoding::Raw => secret.to_owned(),
        Encoding::Json => json(),
        Encoding::JsonSlash => json().replace('/', "\\/"),
        Encoding::Html => secret
            .chars()
            .map(|c| match c {
                '&' => "&amp;".to_owned(),
                '<' => "&lt;".to_owned(),
                '>' => "&gt;".to_owned(),
                '"' => "&quot;".to_owned(),
                '\'' => "&#39;".to_owned(),
                '/' => "&#x2F;".to_owned(),
                c => c.to_string(),
            })
            .collect(),
        Encoding::Form => form(),
        Encoding::Percent => form().replace('+', "%20"),
        Encoding::PercentLower => {
            let upper = form().replace('+', "%20");
            let mut out = String::with_capacity(upper.len());
            let mut hex_left = 0;
            for c in upper.chars() {
                if c == '%' {
                    hex_left = 2;
                    out.push(c);
                } else if hex_left > 0 {
                    hex_left -= 1;
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
        Encoding::Base64 => STANDARD.encode(secret),
        Encoding::Base64NoPad => STANDARD_NO_PAD.encode(secret),
        Encoding::Base64Url => URL_SAFE.encode(secret),
        Encoding::Base64UrlNoPad => URL_SAFE_NO_PAD.encode(secret),
        Encoding::Basic if secret.len() >= 12 => STANDARD.encode(format!("client-id:{secret}")),
        Encoding::Basic => STANDARD.encode(secret),
    }
}

/// Output with what the sanitizer writes itself (`[redacted]`, `\u{…}` escapes, `…`, and a
/// marker or escape cut by `…`) replaced by NUL, so that no secret is "found" in text the
/// sanitizer made up.
fn without_artifacts(shown: &str) -> String {
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

fn unicode_escape_len(text: &str) -> Option<usize> {
    let hex = text.strip_prefix("\\u{")?;
    let digits = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
    (digits > 0 && hex[digits..].starts_with('}')).then_some(3 + digits + 1)
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

#[test]
fn artifacts_are_not_text() {
    assert_eq!(without_artifacts("a[redacted]b\\u{1b}c…"), "a\0b\0c\0");
    assert_eq!(without_artifacts("dact[re[redacte…"), "dact[re\0");
    assert_eq!(without_artifacts("(ab[redac…) cd…"), "(ab\0) cd\0");
    assert_eq!(without_artifacts("x\\u{1…"), "x\0");
}

/// The checks of one sanitized output of `text`, whose bytes `echo` are the secret's echo (see
/// the `sanitizer` fuzz target): no control character, capped, neither the secret nor its
/// encoded form shown, nor the first half of a secret of 16 characters or more unless that half
/// is also in the text outside the echo (by chance, or because the secret repeats itself: the
/// match found may then start before the echo and leave its end).
fn check_sanitized(
    what: &str,
    out: &str,
    cap: usize,
    secret: &str,
    encoded: &str,
    text: &str,
    echo: Range<usize>,
) -> Result<(), TestCaseError> {
    prop_assert!(
        !out.chars().any(char::is_control),
        "{}: control character in {:?}",
        what,
        out
    );
    let chars = out.chars().count();
    prop_assert!(chars <= cap + 1, "{}: {} characters", what, chars);
    let shown = without_artifacts(out);
    prop_assert!(
        !shown.contains(secret),
        "{}: secret {:?} in {:?}",
        what,
        secret,
        out
    );
    prop_assert!(
        !shown.contains(encoded),
        "{}: encoded secret {:?} in {:?}",
        what,
        encoded,
        out
    );
    let count = secret.chars().count();
    if count >= 16 {
        let half: String = secret.chars().take(count / 2).collect();
        let elsewhere = text.char_indices().any(|(at, _)| {
            text[at..].starts_with(&half) && !(echo.start <= at && at + half.len() <= echo.end)
        });
        if !elsewhere {
            prop_assert!(
                !shown.contains(&half),
                "{}: first half {:?} of {:?} in {:?}",
                what,
                half,
                secret,
                out
            );
        }
    }
    Ok(())
}

/// A secret: at least 4 bytes, no white space, no control character.
fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._~+/=-]{4,48}",
        "[!-~]{4,32}",
        "[!-~\u{e9}\u{20ac}\u{1f511}]{4,24}",
        any::<String>(),
    ]
    .prop_map(|s| {
        s.chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
    })
    .prop_filter("4 bytes or more", |s| s.len() >= 4)
}

/// Text around the echo: anything, and text rich in escapes and secret-looking names.
fn around() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ a-z0-9%&;#\\\\{}\\[\\]\"'<>=:+/._-]{0,40}",
        "(access_token|error|password|code)[=:] ?\"?[A-Za-z0-9]{0,30}",
        any::<String>(),
        Just(String::new()),
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    select(vec!["", " ", "\n", ":", "=", "\"", "'", ",", ">"])
}

proptest! {
    #![proptest_config(config(1))]

    /// An echo of a known secret, in any encoding and any text, is never shown by an excerpt
    /// or a cleaned value; neither holds control characters, and both are capped.
    #[test]
    fn secrets_never_shown(
        secret in secret(),
        before in around(),
        after in around(),
        encoding in select(ENCODINGS.to_vec()),
        sep in separator(),
    ) {
        let sep = if sep.is_empty() && !encoding.is_literal() { " " } else { sep };
        let encoded = encode(&secret, encoding);
        let text = format!("{before}{sep}{encoded}{sep}{after}");
        let start = before.len() + sep.len();
        // Only the part of the echo that depends on the secret: not the base64 of the client
        // id that Basic credentials start with (13 characters).
        let skip = if encoding == Encoding::Basic && secret.len() >= 12 { 13 } else { 0 };
        let echo = start + skip..start + encoded.len();
        let out = excerpt(&[&secret], text.as_bytes());
        check_sanitized("excerpt", &out, 200, &secret, &encoded, &text, echo.clone())?;
        let out = clean(&[&secret], &text);
        check_sanitized("clean", &out, 500, &secret, &encoded, &text, echo)?;
    }

    /// Any text at all: no control character, capped.
    #[test]
    fn any_text_is_safe_to_show(text in any::<String>(), secret in secret()) {
        let out = excerpt(&[&secret], text.as_bytes());
        prop_assert!(!out.chars().any(char::is_control), "{:?}", out);
        prop_assert!(out.chars().count() <= 201);
        let out = clean(&[], &text);
        prop_assert!(!out.chars().any(char::is_control), "{:?}", out);
        prop_assert!(out.chars().count() <= 501);
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// An echo at the end of the scanned part of a long body (after white space, which
    /// collapses, so it would be in the excerpt) is dropped, not half shown.
    #[test]
    fn echo_at_the_scan_limit_never_shown(
        secret in secret(),
        encoding in select(ENCODINGS.to_vec()),
        back in 0usize..200,
        tail in "[a-z ]{0,300}",
    ) {
        let encoded = encode(&secret, encoding);
        let spaces = MAX_SCAN.saturating_sub(back.min(encoded.len() + 8));
        let text = format!("{}{encoded} {tail}", " ".repeat(spaces));
        let out = excerpt(&[&secret], text.as_bytes());
        let skip = if encoding == Encoding::Basic && secret.len() >= 12 { 13 } else { 0 };
        let echo = spaces + skip..spaces + encoded.len();
        check_sanitized("excerpt", &out, 200, &secret, &encoded, &text, echo)?;
    }
}
