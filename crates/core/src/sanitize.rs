//! The one sanitizer for text that came from a vendor (or a browser) and goes to a person:
//! error excerpts, OAuth error codes and descriptions, field names, request ids, URLs.
//!
//! [`Sanitizer::clean`] does, in this order:
//! 1. replaces every known secret of the exchange (client secret, code, verifier, password,
//!    refresh and access tokens, the Basic credentials) wherever it appears, in the text as it
//!    is and in the text with JSON escapes, HTML entities or percent-encoding decoded, so that
//!    an echo such as `Kq7r\/T2mX` or `Pa&quot;ss` is found too, and in base64;
//! 2. replaces the values of secret-looking names (`access_token=…`, `"password": "…"`, see
//!    [`looks_secret`]) and long opaque strings (JWTs, hex or base64 tokens);
//! 3. escapes control characters (so that no escape sequence reaches a terminal) and collapses
//!    white space;
//! 4. caps the length, after scrubbing, so a cut never shows part of a secret.

use std::fmt::Write as _;
use std::ops::Range;

use base64::Engine as _;
use oauth_clients_descriptor::names::looks_secret;

/// Longest excerpt of a body kept, in characters.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// Longest short value (an error code, a description, a field list) kept, in characters.
pub(crate) const VALUE_CHARS: usize = 500;

/// How much of a body is scanned, in bytes: excerpts are short, so the rest is never shown.
const MAX_SCAN: usize = 64 * 1024;

/// Secrets shorter than this are not searched for: they would match ordinary words.
const MIN_SECRET_LEN: usize = 4;

const REDACTED: &str = "[redacted]";

/// The known secrets of one exchange, and the sanitizer that scrubs them.
///
/// Cheap to make and to clone: every request has one, and most never show any text. The
/// encoded forms of the secrets are computed the first time a text is scrubbed.
#[derive(Clone, Default)]
pub(crate) struct Sanitizer {
    /// Who knows more secrets (the client, for its requests), asked only when a text is
    /// scrubbed: a client keeps no copies for the purpose.
    known: Option<std::sync::Arc<dyn KnownSecrets>>,
    /// A second such source: the token an API request carries, shared rather than copied.
    also_known: Option<std::sync::Arc<dyn KnownSecrets>>,
    /// Secrets this request added (its token, a code…).
    own: Vec<String>,
    /// What is looked for in a text, made the first time a text is scrubbed (most requests
    /// never scrub anything, so adding a secret stays a push). Boxed: every request and API
    /// response carries one, and one empty cell is 16 bytes where two were 64.
    forms: std::sync::OnceLock<Box<Forms>>,
}

/// The secrets as a sanitizer looks for them.
#[derive(Clone)]
struct Forms {
    /// `known`'s and `own` together, longest first.
    values: Vec<String>,
    /// Literal forms to find in the text as it is (base64 forms of the values and of their
    /// encodings), longest first.
    literals: Vec<String>,
}

/// The base64 forms of `values` and of their form and JSON encodings, at any offset; longest
/// first.
fn literal_forms(values: &[String]) -> Vec<String> {
    let mut literals: Vec<String> = Vec::new();
    for secret in values {
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"').to_owned();
        for encoded in [secret.clone(), form, json] {
            for literal in base64_forms(encoded.as_bytes()) {
                if literal.len() >= MIN_SECRET_LEN && !literals.contains(&literal) {
                    literals.push(literal);
                }
            }
        }
    }
    literals.sort_by_key(|v| std::cmp::Reverse(v.len()));
    literals
}

/// Something that knows secrets a sanitizer must scrub (a client: its secret, in the forms it
/// sends it).
pub(crate) trait KnownSecrets: Send + Sync {
    /// The secret values.
    fn known_secrets(&self) -> Vec<String>;
}

impl Sanitizer {
    /// A sanitizer that knows no secret (it still scrubs secret-looking values).
    pub(crate) fn new() -> Sanitizer {
        Sanitizer::default()
    }

    /// A sanitizer that scrubs the secrets `known` knows, besides those added.
    pub(crate) fn knowing(known: std::sync::Arc<dyn KnownSecrets>) -> Sanitizer {
        Sanitizer {
            known: Some(known),
            ..Sanitizer::default()
        }
    }

    /// The same, also knowing what `more` knows (asked, like the first, only when a text is
    /// scrubbed).
    pub(crate) fn also_knowing(mut self, more: std::sync::Arc<dyn KnownSecrets>) -> Sanitizer {
        self.also_known = Some(more);
        self.forms = std::sync::OnceLock::new();
        self
    }

    /// Adds a known secret value.
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN || self.own.iter().any(|v| v == secret) {
            return;
        }
        self.own.push(secret.to_owned());
        self.forms = std::sync::OnceLock::new();
    }

    /// Every known secret, longest first.
    fn values(&self) -> &[String] {
        &self.forms().values
    }

    /// The base64 forms of every secret, and of the forms it takes in a request body, at any
    /// offset; longest first.
    fn literals(&self) -> &[String] {
        &self.forms().literals
    }

    fn forms(&self) -> &Forms {
        self.forms.get_or_init(|| {
            let mut values = self.own.clone();
            let sources = self.known.iter().chain(&self.also_known);
            for secret in sources.flat_map(|known| known.known_secrets()) {
                if secret.len() >= MIN_SECRET_LEN && !values.contains(&secret) {
                    values.push(secret);
                }
            }
            values.sort_by_key(|v| std::cmp::Reverse(v.len()));
            let literals = literal_forms(&values);
            Box::new(Forms { values, literals })
        })
    }

    /// Adds several known secret values.
    pub(crate) fn with(mut self, secrets: &[&str]) -> Sanitizer {
        for secret in secrets {
            self.add(secret);
        }
        self
    }

    /// A short, single-line, scrubbed excerpt of a body.
    pub(crate) fn excerpt(&self, body: &[u8]) -> String {
        let scanned = &body[..body.len().min(MAX_SCAN)];
        let mut text = String::from_utf8_lossy(scanned).into_owned();
        if body.len() > MAX_SCAN {
            // A secret may straddle the end of what was scanned: drop that end.
            let longest = self.longest_form();
            let keep = floor_char_boundary(&text, text.len().saturating_sub(longest));
            text.truncate(keep);
        }
        self.clean(&text, EXCERPT_CHARS)
    }

    /// Sanitizes a short text: secrets scrubbed, control characters escaped, white space
    /// collapsed, at most `cap` characters (an ellipsis marks a cut).
    pub(crate) fn clean(&self, text: &str, cap: usize) -> String {
        let text = self.bounded(text, cap);
        let scrubbed = scrub_opaque_runs(&scrub_keyed_values(&self.scrub_known(text)));
        cap_chars(&escape_and_collapse(&scrubbed), cap)
    }

    /// Sanitizes a text that is meant to be shown whole (an `error_uri`, a content type, a
    /// request id): like [`Sanitizer::clean`], but long opaque runs are kept (a request id or a
    /// URL's path is useful, and known secrets are scrubbed all the same).
    pub(crate) fn clean_shown(&self, text: &str, cap: usize) -> String {
        let text = self.bounded(text, cap);
        let scrubbed = scrub_keyed_values(&self.scrub_known(text));
        cap_chars(&escape_and_collapse(&scrubbed), cap)
    }

    /// The start of `text` that can matter for `cap` characters shown: far more than `cap`
    /// (white space collapses), cut so that no secret and no opaque run is left half there.
    /// Work stays proportional to what is shown, not to a vendor's megabyte of text.
    fn bounded<'t>(&self, text: &'t str, cap: usize) -> &'t str {
        let limit = cap
            .saturating_mul(16)
            .saturating_add(self.longest_form())
            .saturating_add(4096);
        if text.len() <= limit {
            return text;
        }
        let cut = floor_char_boundary(text, limit - self.longest_form());
        text[..cut].trim_end_matches(is_opaque)
    }

    fn longest_form(&self) -> usize {
        // An encoded form is at most 6 bytes per byte of the value (`\u00XX`, `&#xXX;`).
        let values = self.values().iter().map(|v| v.len() * 6).max().unwrap_or(0);
        let literals = self.literals().iter().map(String::len).max().unwrap_or(0);
        values.max(literals)
    }

    /// Replaces every known secret, in every view of the text.
    fn scrub_known(&self, text: &str) -> String {
        if self.values().is_empty() {
            return text.to_owned();
        }
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for literal in self.literals() {
            ranges.extend(find_all(text, literal));
        }
        for view in views(text) {
            for value in self.values() {
                for found in find_all(&view.text, value) {
                    ranges.push(view.original(found));
                }
            }
        }
        redact_ranges(text, ranges)
    }
}

/// A decoded view of a text, with the original byte range of every decoded character.
struct View {
    text: String,
    /// For each byte offset where a decoded character starts: its original range.
    spans: Vec<(usize, Range<usize>)>,
}

impl View {
    fn original(&self, found: Range<usize>) -> Range<usize> {
        let at = |offset: usize| {
            let i = self.spans.partition_point(|(start, _)| *start < offset);
            i.min(self.spans.len().saturating_sub(1))
        };
        let first = &self.spans[at(found.start)].1;
        let last_index = self
            .spans
            .partition_point(|(start, _)| *start < found.end)
            .saturating_sub(1);
        let last = &self.spans[last_index].1;
        first.start..last.end.max(first.end)
    }
}

/// The text as it is, and with JSON escapes, HTML entities and percent-encoding decoded (and
/// JSON then percent, for an encoded value inside a JSON string).
fn views(text: &str) -> Vec<View> {
    type Escape = fn(&str) -> Option<(char, usize)>;
    const DECODERS: [Escape; 3] = [json_escape, html_escape, percent_escape];
    let mut views = vec![decode(text, |_| None)];
    // Each decoding, and each pair of them: a secret escaped twice (a JSON request echoed in
    // a JSON message, HTML inside JSON, a percent-encoded URL inside a percent-encoded one).
    for first in DECODERS {
        let once = decode(text, first);
        for second in DECODERS {
            let twice = decode(&once.text, second);
            views.push(View {
                spans: twice
                    .spans
                    .iter()
                    .map(|(start, range)| (*start, once.original(range.clone())))
                    .collect(),
                text: twice.text,
            });
        }
        views.push(once);
    }
    views
}

/// Decodes `text` with `escape`, which reads one escape at the start of a slice and returns the
/// character and the escape's length in bytes.
fn decode(text: &str, escape: impl Fn(&str) -> Option<(char, usize)>) -> View {
    let mut out = String::with_capacity(text.len());
    let mut spans = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let (c, len) = escape(rest).unwrap_or_else(|| {
            let c = rest.chars().next().unwrap_or('\u{fffd}');
            (c, c.len_utf8())
        });
        spans.push((out.len(), i..i + len));
        out.push(c);
        i += len.max(1);
        while !text.is_char_boundary(i) {
            i += 1;
        }
    }
    View { text: out, spans }
}

fn json_escape(s: &str) -> Option<(char, usize)> {
    let rest = s.strip_prefix('\\')?;
    let c = match rest.as_bytes().first()? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hex = rest.get(1..5)?;
            let code = u32::from_str_radix(hex, 16).ok()?;
            return Some((char::from_u32(code).unwrap_or('\u{fffd}'), 6));
        }
        _ => return None,
    };
    Some((c, 2))
}

fn html_escape(s: &str) -> Option<(char, usize)> {
    let rest = s.strip_prefix('&')?;
    // Only the next few bytes: an entity is short, and searching the whole rest for every `&`
    // would take time quadratic in the text's length.
    let end = rest.bytes().take(11).position(|b| b == b';')?;
    let entity = &rest[..end];
    let c = match entity {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "sol" => '/',
        "colon" => ':',
        "equals" => '=',
        "plus" => '+',
        "percnt" => '%',
        "commat" => '@',
        _ => {
            let number = entity.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 2))
}

fn percent_escape(s: &str) -> Option<(char, usize)> {
    if let Some(rest) = s.strip_prefix('%') {
        let hex = rest.get(..2)?;
        let byte = u8::from_str_radix(hex, 16).ok()?;
        // Multi-byte UTF-8 sequences: decode them whole when they are complete.
        let mut bytes = vec![byte];
        let mut len = 3;
        let needed = match byte {
            0xC0..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF7 => 3,
            _ => 0,
        };
        for _ in 0..needed {
            let next = s.get(len..len + 3)?;
            let hex = next.strip_prefix('%')?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            len += 3;
        }
        let c = std::str::from_utf8(&bytes).ok()?.chars().next()?;
        return Some((c, len));
    }
    s.starts_with('+').then_some((' ', 1))
}

/// Base64 forms of a secret: whole (standard and URL-safe, with and without padding), and the
/// parts that stay the same wherever it sits inside a longer base64 text (one per alignment).
fn base64_forms(secret: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut forms = vec![
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ];
    if secret.len() >= 12 {
        for shift in 0..3usize {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(secret);
            let encoded = STANDARD_NO_PAD.encode(&shifted);
            // Characters influenced by the padding bytes before, or by what follows, vary.
            let start = (shift * 4).div_ceil(3);
            let end = (shifted.len() * 4 / 3).saturating_sub(2);
            if end > start + MIN_SECRET_LEN {
                let core = &encoded[start..end];
                forms.push(core.to_owned());
                forms.push(core.replace('+', "-").replace('/', "_"));
            }
        }
    }
    forms
}

fn find_all(text: &str, needle: &str) -> Vec<Range<usize>> {
    if needle.is_empty() {
        return Vec::new();
    }
    text.match_indices(needle)
        .map(|(at, m)| at..at + m.len())
        .collect()
}

/// Replaces the given byte ranges (merged where they overlap) with the redaction marker.
fn redact_ranges(text: &str, mut ranges: Vec<Range<usize>>) -> String {
    if ranges.is_empty() {
        return text.to_owned();
    }
    ranges.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut current: Option<Range<usize>> = None;
    for range in ranges {
        match &mut current {
            Some(cur) if range.start <= cur.end => cur.end = cur.end.max(range.end),
            _ => {
                if let Some(cur) = current.take() {
                    out.push_str(&text[copied..cur.start]);
                    out.push_str(REDACTED);
                    copied = cur.end;
                }
                current = Some(range);
            }
        }
    }
    if let Some(cur) = current {
        out.push_str(&text[copied..cur.start]);
        out.push_str(REDACTED);
        copied = cur.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces the values of secret-looking names after `:` or `=` (JSON, form, header-like text).
fn scrub_keyed_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    // The end of the last value found: a separator inside it belongs to that value (scanning
    // again from it would take time quadratic in the text's length).
    let mut covered_until = 0;
    for (at, _) in text.match_indices([':', '=']) {
        if at < covered_until {
            continue;
        }
        // The name before the separator, possibly quoted, possibly followed by spaces.
        let mut end = at;
        while end > 0 && matches!(bytes[end - 1], b' ' | b'\t' | b'"' | b'\'') {
            end -= 1;
        }
        let mut start = end;
        while start > 0 && is_name_byte(bytes[start - 1]) {
            start -= 1;
        }
        if start == end || !looks_secret(&text[start..end]) {
            continue;
        }
        let mut value_start = at + 1;
        while value_start < bytes.len() && matches!(bytes[value_start], b' ' | b'\t') {
            value_start += 1;
        }
        let quote = match bytes.get(value_start) {
            Some(q @ (b'"' | b'\'')) => {
                value_start += 1;
                Some(*q)
            }
            _ => None,
        };
        let mut value_end = value_start;
        while value_end < bytes.len() {
            let b = bytes[value_end];
            let stop = match quote {
                Some(q) => b == q,
                None => matches!(
                    b,
                    b'&' | b',' | b'}' | b' ' | b'\t' | b'\r' | b'\n' | b'<' | b';'
                ),
            };
            if stop {
                break;
            }
            value_end += if b == b'\\' { 2 } else { 1 };
        }
        let value_end = value_end.min(bytes.len());
        covered_until = value_end;
        if value_end > value_start
            && text.is_char_boundary(value_start)
            && text.is_char_boundary(value_end)
        {
            ranges.push(value_start..value_end);
        }
    }
    redact_ranges(text, ranges)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
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
        if (len >= 20 && has_digit) || len >= 32 {
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

/// Whether a character may change how a terminal shows text: C0/C1 controls, and the Unicode
/// direction overrides and isolates.
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// White space collapsed to single spaces, other control characters escaped (`\u{1b}`).
fn escape_and_collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else if is_control(c) {
            let _ = write!(out, "{}", c.escape_unicode());
            last_space = false;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out.trim_end().to_owned()
}

fn cap_chars(text: &str, cap: usize) -> String {
    match text.char_indices().nth(cap) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Sanitizes any text with no known secrets (for tools' own messages about vendor text).
pub fn sanitize_text(text: &str) -> String {
    Sanitizer::new().clean(text, VALUE_CHARS)
}

/// Escapes the characters of `text` that could act on a terminal (C0/C1 controls, direction
/// overrides) as `\u{…}`, keeping line breaks: for texts shown whole, such as a descriptor's
/// notes, that come from someone else.
pub fn escape_control_characters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_control(c) && c != '\n' {
            let _ = write!(out, "{}", c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

impl Sanitizer {
    /// `bytes` with every known secret (in its common encodings) replaced, when they are text;
    /// other bytes as they are. Nothing else is touched: for results shown whole.
    pub(crate) fn redact_known(&self, bytes: &[u8]) -> Vec<u8> {
        match std::str::from_utf8(bytes) {
            Ok(text) if !self.values().is_empty() => self.scrub_known(text).into_bytes(),
            _ => bytes.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts that once took time quadratic in their length (found by fuzzing): a megabyte of
    /// them is sanitized like any other text. (A regression shows as a test that does not end.)
    #[test]
    fn pathological_megabytes_are_sanitized() {
        let sanitizer = Sanitizer::new().with(&["s3cret-value"]);
        for unit in ["&", "password:", "token=&amp;"] {
            let text = format!("{} s3cret-value", unit.repeat((1 << 20) / unit.len()));
            let shown = sanitizer.clean(&text, 200);
            assert!(shown.chars().count() <= 201, "{unit}");
            assert!(!shown.contains("s3cret-value"), "{unit}");
            let excerpt = sanitizer.excerpt(text.as_bytes());
            assert!(!excerpt.contains("s3cret-value"), "{unit}");
        }
    }

    #[test]
    fn a_long_text_is_cut_before_scrubbing_without_showing_half_a_secret() {
        let sanitizer = Sanitizer::new().with(&["s3cret-value-0123456789"]);
        // White space collapses, so the cut text still fills what is shown; a secret and an
        // opaque run straddle every possible cut.
        // The cut falls about 7.3 KB in for a cap of 200: the secret and the run start around it.
        for pad in (7_000..7_500).step_by(7) {
            let text = format!(
                "start{} s3cret-value-0123456789 {}",
                " ".repeat(pad),
                "Zq7".repeat(30_000)
            );
            let shown = sanitizer.clean(&text, 200);
            assert!(!shown.contains("s3cret"), "{pad}: {shown}");
            assert!(!shown.contains("Zq7Zq7Zq7"), "{pad}: {shown}");
        }
    }

    fn excerpt(body: &str, known: &[&str]) -> String {
        Sanitizer::new().with(known).excerpt(body.as_bytes())
    }

    #[test]
    fn scrubs_json_form_and_known_values() {
        let body =
            r#"{"access_token": "abc", "refresh_token":"def", "error":"x", "password" : 'pw'}"#;
        let out = excerpt(body, &[]);
        assert!(
            !out.contains("abc") && !out.contains("def") && !out.contains("pw'"),
            "{out}"
        );
        assert!(out.contains("\"error\":\"x\""), "{out}");
        let form = "access_token=abc123&token_type=bearer&client_secret=s3cr3t";
        let out = excerpt(form, &[]);
        assert!(!out.contains("abc123") && !out.contains("s3cr3t"), "{out}");
        assert!(out.contains("token_type=bearer"), "{out}");
        let out = excerpt("echo: my-hunter2-secret", &["hunter2"]);
        assert!(!out.contains("hunter2"), "{out}");
    }

    #[test]
    fn finds_escaped_echoes() {
        let secret = "Kq7r/T2mX<9&\"z'Pa ss";
        let json = serde_json::to_string(secret).unwrap().replace('/', "\\/");
        let html = "Kq7r&#x2F;T2mX&lt;9&amp;&quot;z&#39;Pa ss";
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let percent = form
            .replace('+', "%20")
            .replace("%2F", "%2f")
            .replace("%3C", "%3c");
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("id:{secret}"));
        for echo in [&json, html, &form, &percent, &b64] {
            let body = format!("error: {echo} was wrong");
            let out = excerpt(&body, &[secret]);
            assert!(out.contains("[redacted]"), "{echo} -> {out}");
            for fragment in ["Kq7r", "T2mX", "Pa ss", "Pa%20ss", "Pa+ss"] {
                assert!(!out.contains(fragment), "{echo} -> {out}");
            }
        }
    }

    #[test]
    fn scrubs_before_cutting() {
        let secret = "Kq7rT2mXvB9";
        let body = format!("{}{secret}", " ".repeat(1592));
        let out = excerpt(&body, &[secret]);
        assert!(!out.contains("Kq7r"), "{out}");
        // A secret straddling the end of the scanned part is dropped, not half shown.
        let body = format!("{}{secret}{}", " ".repeat(MAX_SCAN - 4), "x".repeat(100));
        let out = excerpt(&body, &[secret]);
        assert!(!out.contains("Kq7r"), "{out}");
    }

    #[test]
    fn escapes_control_characters_and_caps() {
        let out = Sanitizer::new().clean("a\u{1b}]0;PWNED\u{7}b\u{1b}[2J\u{202e}c", 100);
        assert!(!out.chars().any(is_control), "{out:?}");
        assert!(out.contains("\\u{1b}"), "{out}");
        let long = "word ".repeat(1000);
        assert!(excerpt(&long, &[]).chars().count() <= EXCERPT_CHARS + 1);
    }

    #[test]
    fn scrubs_long_opaque_strings() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2lnbmF0dXJl";
        let out = excerpt(&format!("<html>bad {jwt} here</html>"), &[]);
        assert!(!out.contains("eyJ"), "{out}");
        assert!(out.contains("<html>bad"), "{out}");
    }

    #[test]
    fn uris_keep_long_segments() {
        let s = Sanitizer::new();
        let uri = "https://developer.example.com/docs/errors/invalid_grant_explained";
        assert_eq!(s.clean_shown(uri, 200), uri);
        assert_eq!(
            s.clean_shown("https://x.example/?client_secret=abc&x=1", 200),
            "https://x.example/?client_secret=[redacted]&x=1"
        );
    }

    #[test]
    fn handles_multibyte_text() {
        let out = excerpt("ééé code=ü€ 🎉 %E2%82%AC", &["ü€ 🎉"]);
        assert!(!out.contains('€'), "{out}");
    }
}
