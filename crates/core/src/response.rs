//! Tolerant parsing of token responses, modelled on golang.org/x/oauth2's `internal/token.go`.
//!
//! Decisions, each tested in `tests/tests/token_parsing.rs`:
//! - any 2xx status is a success candidate; JSON and `application/x-www-form-urlencoded` (or
//!   `text/plain`) bodies are read; an `error` field makes it an OAuth error whatever the status;
//! - `expires_in` may be a number or a numeric string (fractions are truncated); `null` and `0`
//!   count as absent; a negative value or a non-numeric string is an invalid response (a token
//!   whose lifetime cannot be trusted is not handed out); lifetimes over a year (`1e12`,
//!   `"inf"`) are capped at a year, with a warning;
//! - without `expires_in`: the access token's JWT `exp` claim when `token_response.jwt_expiry`
//!   (payload decoded, signature not checked), else `token_response.default_expires_in`, else
//!   unknown;
//! - `created_at` (when `token_response.created_at`): the token was issued then, and expires at
//!   `created_at + expires_in`; an unusable `created_at` is ignored;
//! - `token_type` is optional; when present it must be `bearer` (any case) or one of
//!   `token_response.token_types`, since the engine sends every token as a bearer token;
//! - `scope` `"null"`, `""` or `null` is no scope, a JSON array of scopes is joined with spaces;
//! - fields beyond the standard ones are kept in [`Token::extra`];
//! - `token_response.token_path` leads to a nested token object.
//!
//! Every piece of vendor text that ends up in an error (codes, descriptions, field names,
//! excerpts, the content type, the request id) goes through the request's [`Sanitizer`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::BTreeMap;

use oauth_clients_descriptor::schema::{ExpiresAtFormat, ExpiresInUnit, TokenResponseQuirks};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::sanitize::{Sanitizer, VALUE_CHARS};
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::token::{Token, TokenDetails};
use crate::transport::BufferedResponse;

/// Largest token response read, in bytes.
pub(crate) const MAX_TOKEN_BODY: usize = 1 << 20;

/// Longest lifetime accepted; longer ones are capped (with a warning): a vendor that says
/// "68 years" is wrong or hostile, and the token is better checked again within a year.
pub(crate) const MAX_EXPIRES_IN: u64 = 365 * 24 * 3600;

/// Longest refresh-token lifetime accepted (ten years); longer ones are capped.
const MAX_REFRESH_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;

/// Everything known about a response besides its body, its vendor text sanitized.
pub(crate) struct ResponseMeta<'a> {
    pub(crate) vendor: &'a str,
    pub(crate) endpoint: &'a str,
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    /// The content type as sent, for deciding how to read the body; shown only sanitized
    /// ([`ResponseMeta::shown_content_type`]).
    pub(crate) raw_content_type: Option<&'a str>,
    /// What the request asked for, for messages: "the refresh token", "the client credentials".
    pub(crate) refused: Option<&'static str>,
    pub(crate) sanitizer: &'a Sanitizer,
}

impl<'a> ResponseMeta<'a> {
    /// The meta of a buffered response.
    pub(crate) fn new(
        vendor: &'a str,
        endpoint: &'a str,
        response: &'a BufferedResponse,
        request_id: Option<String>,
        sanitizer: &'a Sanitizer,
    ) -> ResponseMeta<'a> {
        ResponseMeta {
            vendor,
            endpoint,
            status: response.status,
            request_id,
            raw_content_type: response
                .headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            refused: None,
            sanitizer,
        }
    }

    /// The content type as an error shows it: sanitized, and only computed for an error (a
    /// successful answer pays nothing for it).
    fn shown_content_type(&self) -> Option<Box<str>> {
        let raw = self.raw_content_type?;
        Some(self.sanitizer.clean_shown(raw, 100).into())
    }

    /// An [`Error::InvalidResponse`] with a sanitized excerpt of `body`.
    pub(crate) fn invalid(&self, reason: impl Into<String>, body: &[u8]) -> Error {
        Error::InvalidResponse {
            vendor: self.vendor.into(),
            endpoint: self.endpoint.into(),
            status: Some(self.status),
            request_id: self.request_id.as_deref().map(Into::into),
            content_type: self.shown_content_type(),
            reason: reason.into().into(),
            excerpt: self.sanitizer.excerpt(body).into(),
        }
    }

    /// An [`Error::OAuth`] from an object with an `error` field.
    pub(crate) fn oauth_error(&self, object: &Map<String, Value>) -> Option<Error> {
        let code = match object.get("error")? {
            Value::Null => return None,
            Value::String(s) if s.is_empty() => return None,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text = |key: &str| match object.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let clean = |s: String| -> Box<str> { self.sanitizer.clean(&s, VALUE_CHARS).into() };
        Some(Error::OAuth {
            vendor: self.vendor.into(),
            endpoint: self.endpoint.into(),
            refused: self.refused.map(Into::into),
            status: Some(self.status),
            request_id: self.request_id.as_deref().map(Into::into),
            error: clean(code),
            error_description: text("error_description").map(clean),
            error_uri: text("error_uri").map(|u| self.sanitizer.clean_shown(&u, 200).into()),
        })
    }

    fn is_form(&self) -> bool {
        let Some(ct) = &self.raw_content_type else {
            return false;
        };
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        mime == "application/x-www-form-urlencoded" || mime == "text/plain"
    }
}

/// The fields of a token answer with a slot of their own: read by name on every answer, so
/// they are kept out of the map (their names are not copied, and the map usually stays empty).
const SLOTS: [&str; 6] = [
    "access_token",
    "token_type",
    "refresh_token",
    "expires_in",
    "scope",
    "id_token",
];

/// The slot of a standard field.
fn slot_of(key: &str) -> Option<usize> {
    SLOTS.iter().position(|name| *name == key)
}

/// A token answer's object: the standard fields in slots, every other field in `rest`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Answer {
    slots: [Option<Value>; SLOTS.len()],
    pub(crate) rest: Map<String, Value>,
}

impl Answer {
    /// An answer from an object's fields (a form body, a nested token object).
    pub(crate) fn from_map(mut map: Map<String, Value>) -> Answer {
        let mut slots: [Option<Value>; SLOTS.len()] = Default::default();
        if !map.is_empty() {
            for (slot, name) in slots.iter_mut().zip(SLOTS) {
                *slot = map.remove(name);
            }
        }
        Answer { slots, rest: map }
    }

    /// A field by name.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match slot_of(key) {
            Some(index) => self.slots[index].as_ref(),
            None => self.rest.get(key),
        }
    }

    /// The string at `key` when it is not empty, taken out (an empty string is left in its
    /// place).
    fn take_non_empty_string(&mut self, key: &str) -> Option<String> {
        let value = match slot_of(key) {
            Some(index) => self.slots[index].as_mut(),
            None => self.rest.get_mut(key),
        };
        match value {
            Some(Value::String(s)) if !s.is_empty() => Some(std::mem::take(s)),
            _ => None,
        }
    }

    /// The names of the fields there are, slots first.
    fn keys(&self) -> impl Iterator<Item = &str> {
        let slots = SLOTS
            .iter()
            .zip(&self.slots)
            .filter(|(_, value)| value.is_some())
            .map(|(name, _)| *name);
        slots.chain(self.rest.keys().map(String::as_str))
    }
}

impl<'de> serde::Deserialize<'de> for Answer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Answer, D::Error> {
        deserializer.deserialize_map(AnswerVisitor)
    }
}

struct AnswerVisitor;

impl<'de> serde::de::Visitor<'de> for AnswerVisitor {
    type Value = Answer;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Answer, A::Error> {
        let mut answer = Answer::default();
        // A later field of the same name replaces an earlier one, as in `serde_json::Map`.
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value: Value = map.next_value()?;
            match slot_of(&key.0) {
                Some(index) => answer.slots[index] = Some(value),
                None => {
                    answer.rest.insert(key.0.into_owned(), value);
                }
            }
        }
        Ok(answer)
    }
}

/// A field name, borrowed from the body when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(key.to_owned())))
            }
            fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads a token answer's body as a JSON object or form-encoded fields (see [`body_object`]).
pub(crate) fn body_answer(meta: &ResponseMeta<'_>, body: &[u8]) -> Option<Answer> {
    let trimmed = body.trim_ascii();
    if trimmed.first() == Some(&b'{') {
        return serde_json::from_slice::<Answer>(trimmed).ok();
    }
    body_object(meta, body).map(Answer::from_map)
}

/// Whether `body` reads the same as an [`Answer`] and as a `serde_json::Map` turned into one
/// (the reference): for the fuzz target and the tests.
pub(crate) fn answer_agrees_with_map(body: &[u8]) -> bool {
    let own = serde_json::from_slice::<Answer>(body).ok();
    let reference = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(Answer::from_map(map)),
        _ => None,
    };
    own == reference
}

/// Reads a body as a JSON object or a form-encoded set of fields. `None` when it is neither.
pub(crate) fn body_object(meta: &ResponseMeta<'_>, body: &[u8]) -> Option<Map<String, Value>> {
    let trimmed = body.trim_ascii();
    if trimmed.first() == Some(&b'{') {
        return match serde_json::from_slice::<Value>(trimmed) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
    }
    if meta.is_form() && !trimmed.is_empty() && trimmed.contains(&b'=') {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(trimmed).ok()?;
        return Some(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
    }
    None
}

/// Turns a token endpoint's answer into a token or the right error. `body` is `None` when the
/// body exceeded [`MAX_TOKEN_BODY`] and was not read.
pub(crate) fn token_response(
    meta: &ResponseMeta<'_>,
    body: Option<&[u8]>,
    quirks: &TokenResponseQuirks,
    now: u64,
) -> Result<Token, Error> {
    let Some(body) = body else {
        return Err(meta.invalid(
            format!(
                "the body is larger than {} KiB and was not read",
                MAX_TOKEN_BODY / 1024
            ),
            b"",
        ));
    };
    let object = body_answer(meta, body);
    if let Some(err) = object.as_ref().and_then(|o| meta.oauth_error(&o.rest)) {
        return Err(err);
    }
    if let (Some(field), Some(object)) = (&quirks.success_field, &object)
        && object.get(field) == Some(&Value::Bool(false))
    {
        let mut failure = Map::new();
        failure.insert("error".into(), Value::String("request_failed".into()));
        for key in ["message", "msg", "description"] {
            if let Some(text) = object.get(key).filter(|v| v.is_string()) {
                failure.insert("error_description".into(), text.clone());
                break;
            }
        }
        return Err(meta
            .oauth_error(&failure)
            .unwrap_or_else(|| meta.invalid("the vendor says the request failed", body)));
    }
    if !(200..300).contains(&meta.status) {
        let reason = if (300..400).contains(&meta.status) {
            "the token endpoint answered with a redirect, which is not followed".to_owned()
        } else {
            format!("HTTP {} without an OAuth error", meta.status)
        };
        return Err(meta.invalid(reason, body));
    }
    let Some(mut object) = object else {
        let reason = if body.trim_ascii().is_empty() {
            "empty body where a token was expected"
        } else {
            "the body is neither a JSON object nor form-encoded fields"
        };
        return Err(meta.invalid(reason, body));
    };
    for key in &quirks.token_path {
        object = match object.rest.remove(key) {
            Some(Value::Object(inner)) => Answer::from_map(inner),
            _ => {
                return Err(meta.invalid(
                    format!("no object at token path `{}`", quirks.token_path.join(".")),
                    body,
                ));
            }
        };
        if let Some(err) = meta.oauth_error(&object.rest) {
            return Err(err);
        }
    }
    token_from_object(meta, object, body, quirks, now)
}

fn token_from_object(
    meta: &ResponseMeta<'_>,
    mut object: Answer,
    body: &[u8],
    quirks: &TokenResponseQuirks,
    now: u64,
) -> Result<Token, Error> {
    // The standard strings are taken out of the answer, not copied: what stays of them is
    // dropped with the other standard fields below.
    let access_token = access_token(meta, &mut object, body)?;
    let token_type = object.take_non_empty_string("token_type");
    if let Some(kind) = &token_type {
        check_token_type(meta, kind, quirks, body)?;
    }
    let refresh_token = object
        .take_non_empty_string("refresh_token")
        .map(RefreshToken::new);
    let scope = match object.get("scope") {
        Some(Value::String(s)) if !s.is_empty() && s != "null" => {
            object.take_non_empty_string("scope")
        }
        Some(Value::Array(items)) => {
            let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        _ => None,
    };
    let created_at = match (quirks.created_at, object.get("created_at")) {
        (true, Some(value)) => match seconds(value) {
            Seconds::Value(n) if n > 0 => Some(n),
            _ => None,
        },
        _ => None,
    };
    let issued_at = created_at.unwrap_or(now);
    let expires_at = expires_at(meta, &object, body, quirks, issued_at, &access_token)?;
    let refresh_field = quirks
        .refresh_expires_in_field
        .as_deref()
        .unwrap_or("refresh_token_expires_in");
    let refresh_expires_at = match object.get(refresh_field).map(seconds) {
        Some(Seconds::Value(n)) if n > 0 => {
            Some(issued_at.saturating_add(n.min(MAX_REFRESH_EXPIRES_IN)))
        }
        _ => None,
    };
    let mut additional = BTreeMap::new();
    for (name, path) in &quirks.additional_tokens {
        let Some(inner) = object_at(&object.rest, path) else {
            continue;
        };
        let mut plain = quirks.clone();
        plain.additional_tokens.clear();
        additional.insert(
            name.clone(),
            token_from_object(meta, Answer::from_map(inner.clone()), body, &plain, now)?,
        );
    }
    let id_token = object.take_non_empty_string("id_token").map(IdToken::new);
    // The standard fields are in their slots; every other field is kept.
    let object = object.rest;
    let mut token = Token::new(AccessToken::new(access_token), issued_at, expires_at)
        .with_refresh_token(refresh_token);
    token.token_type = token_type.map(crate::token::token_type);
    token.scope = scope;
    token.set_details(TokenDetails {
        // A map that had entries keeps its node after they are removed: half a kilobyte per
        // token for nothing when no field is left.
        extra: if object.is_empty() {
            Map::new()
        } else {
            object
        },
        refresh_expires_at,
        additional,
        id_token,
        ..TokenDetails::default()
    });
    Ok(token)
}

/// The object found by following `keys` from `object`.
pub(crate) fn object_at<'a>(
    object: &'a Map<String, Value>,
    keys: &[String],
) -> Option<&'a Map<String, Value>> {
    let (first, rest) = keys.split_first()?;
    let inner = object.get(first)?.as_object()?;
    if rest.is_empty() {
        Some(inner)
    } else {
        object_at(inner, rest)
    }
}

/// The access token, or an error naming the fields the answer has instead (sanitized: a
/// vendor's field names are its text too).
fn access_token(
    meta: &ResponseMeta<'_>,
    object: &mut Answer,
    body: &[u8],
) -> Result<String, Error> {
    if let Some(token) = object.take_non_empty_string("access_token") {
        return Ok(token);
    }
    let keys: Vec<&str> = object.keys().collect();
    let keys = if keys.is_empty() {
        "none".to_owned()
    } else {
        meta.sanitizer.clean(&keys.join(", "), VALUE_CHARS)
    };
    Err(meta.invalid(
        format!("no `access_token` string in the answer (fields: {keys})"),
        body,
    ))
}

/// A token type must be one the engine can send: `bearer`, or one the descriptor accepts.
fn check_token_type(
    meta: &ResponseMeta<'_>,
    kind: &str,
    quirks: &TokenResponseQuirks,
    body: &[u8],
) -> Result<(), Error> {
    let accepted = kind.eq_ignore_ascii_case("bearer")
        || quirks
            .token_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(kind));
    if accepted {
        return Ok(());
    }
    Err(meta.invalid(
        format!(
            "token type `{}` is not supported: the engine sends tokens as bearer tokens (the \
             descriptor accepts: {})",
            meta.sanitizer.clean(kind, 40),
            std::iter::once("bearer")
                .chain(quirks.token_types.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        body,
    ))
}

/// When the token expires: never when the vendor says its tokens do not; else the lifetime
/// (`expires_in`, or the descriptor's field, in its unit) from the issue time; else the
/// absolute expiry field; else the JWT's `exp`; else the descriptor's default lifetime. Every
/// lifetime is capped.
fn expires_at(
    meta: &ResponseMeta<'_>,
    object: &Answer,
    body: &[u8],
    quirks: &TokenResponseQuirks,
    issued_at: u64,
    access_token: &str,
) -> Result<Option<u64>, Error> {
    if quirks.never_expires {
        return Ok(None);
    }
    let field = quirks.expires_in_field.as_deref().unwrap_or("expires_in");
    let expires_in = match object.get(field) {
        None | Some(Value::Null) => None,
        Some(value) => match seconds(value) {
            Seconds::Value(0) => None,
            Seconds::Value(n) => {
                let n = match quirks.expires_in_unit {
                    ExpiresInUnit::Seconds => n,
                    ExpiresInUnit::Milliseconds => n / 1000,
                };
                Some(cap_lifetime(meta.vendor, n))
            }
            Seconds::Negative => return Err(meta.invalid(format!("`{field}` is negative"), body)),
            Seconds::NotANumber => {
                return Err(meta.invalid(format!("`{field}` is not a number"), body));
            }
        },
    };
    if let Some(n) = expires_in {
        return Ok(Some(issued_at.saturating_add(n)));
    }
    let cap = |at: u64| {
        let latest = issued_at.saturating_add(MAX_EXPIRES_IN);
        if at > latest {
            issued_at.saturating_add(cap_lifetime(meta.vendor, at - issued_at))
        } else {
            at
        }
    };
    if let Some(field) = &quirks.expires_at_field
        && let Some(value) = object.get(field).filter(|v| !v.is_null())
    {
        let at = absolute_time(value, quirks.expires_at_format).ok_or_else(|| {
            meta.invalid(
                format!("`{field}` is not a time the descriptor's format reads"),
                body,
            )
        })?;
        return Ok(Some(cap(at)));
    }
    let from_jwt = quirks
        .jwt_expiry
        .then(|| jwt_exp(access_token))
        .flatten()
        .map(cap);
    Ok(from_jwt.or_else(|| {
        quirks
            .default_expires_in
            .map(|d| issued_at.saturating_add(d.min(MAX_EXPIRES_IN)))
    }))
}

/// An absolute time as Unix seconds, in the descriptor's format.
fn absolute_time(value: &Value, format: ExpiresAtFormat) -> Option<u64> {
    match format {
        ExpiresAtFormat::UnixSeconds => match seconds(value) {
            Seconds::Value(n) => Some(n),
            _ => None,
        },
        ExpiresAtFormat::UnixMillis => match seconds(value) {
            Seconds::Value(n) => Some(n / 1000),
            _ => None,
        },
        ExpiresAtFormat::Rfc3339 => {
            let text = value.as_str()?;
            let at =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .ok()?;
            u64::try_from(at.unix_timestamp()).ok()
        }
    }
}

/// A lifetime, capped at [`MAX_EXPIRES_IN`] with a warning.
fn cap_lifetime(vendor: &str, seconds: u64) -> u64 {
    if seconds > MAX_EXPIRES_IN {
        tracing::warn!(
            vendor,
            claimed_seconds = seconds,
            "the vendor gave a token lifetime over a year; it is capped at a year"
        );
        MAX_EXPIRES_IN
    } else {
        seconds
    }
}

enum Seconds {
    Value(u64),
    Negative,
    NotANumber,
}

/// A number of seconds given as a JSON number or a numeric string.
fn seconds(value: &Value) -> Seconds {
    let float = match value {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                return Seconds::Value(u);
            }
            n.as_f64()
        }
        Value::String(s) => {
            let s = s.trim();
            if let Ok(u) = s.parse::<u64>() {
                return Seconds::Value(u);
            }
            s.parse::<f64>().ok()
        }
        _ => None,
    };
    match float {
        Some(f) if f.is_nan() => Seconds::NotANumber,
        Some(f) if f < 0.0 => Seconds::Negative,
        // `as` saturates at u64::MAX for huge and infinite values; the cap applies later.
        Some(f) => Seconds::Value(f as u64),
        None => Seconds::NotANumber,
    }
}

/// The `exp` claim of a JWT, decoded without checking the signature. `None` when the token is
/// not a JWT or has no usable `exp`.
pub(crate) fn jwt_exp(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.len() > 64 * 1024 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    match seconds(claims.get("exp")?) {
        Seconds::Value(n) if n > 0 => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta<'a>(status: u16, ct: Option<&'a str>, sanitizer: &'a Sanitizer) -> ResponseMeta<'a> {
        ResponseMeta {
            vendor: "v",
            endpoint: "https://x/token",
            status,
            request_id: None,
            raw_content_type: ct,
            refused: None,
            sanitizer,
        }
    }

    #[test]
    fn an_answer_reads_as_the_map_it_would_be() {
        let bodies: [&[u8]; 9] = [
            br#"{"access_token":"a","token_type":"bearer","expires_in":3600,"x":{"y":1}}"#,
            br#"{"acc\u0065ss_token":"escaped name","scope":["a","b"],"id_token":"i"}"#,
            br#"{"access_token":"first","access_token":"last","x":1,"x":2}"#,
            br#"{}"#,
            br#"{"refresh_token":null,"error":"invalid_grant"}"#,
            br#"[1, 2]"#,
            br#"{"access_token":"a""#,
            br#"{"access_token":"a"} trailing"#,
            br#""text""#,
        ];
        for body in bodies {
            assert!(
                answer_agrees_with_map(body),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let answer: Answer = serde_json::from_slice(bodies[2]).unwrap();
        assert_eq!(answer.get("access_token"), Some(&Value::from("last")));
        assert_eq!(answer.rest.get("x"), Some(&Value::from(2)));
        assert_eq!(
            answer.keys().collect::<Vec<_>>(),
            ["access_token", "x"],
            "slots first, then the other fields"
        );
    }

    #[test]
    fn jwt_exp_claim() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2FwaS10ZXN0LnByb2NvdW50b3IuY29tIiwiYXVkIjoiY2xpZW50X2lkIiwic3ViIjoyNjUzNSwiY2lkIjoxNDE1OSwianRpIjoiN2Q0NDQ4NDAtOWRjMC0xMWQxLWIyNDUtNWZmZGNlNzRmYWQyIiwiYXV0aF90aW1lIjoxNjA3OTYyNDc5LCJpYXQiOjE2MDc5NjI0ODAsImV4cCI6MTYwNzk2NjA4MH0.GFBGknrx39Jm2UbUOrtV6X0R3pzaldmXa-AQhYVQ5JE";
        assert_eq!(jwt_exp(jwt), Some(1_607_966_080));
        assert_eq!(jwt_exp("not-a-jwt"), None);
        assert_eq!(jwt_exp("a.%%%.c"), None);
    }

    #[test]
    fn expires_in_forms() {
        let q = TokenResponseQuirks::default();
        let s = Sanitizer::new();
        for (raw, want) in [
            (r#"{"access_token":"a","expires_in":60}"#, Some(1060)),
            (r#"{"access_token":"a","expires_in":"60"}"#, Some(1060)),
            (r#"{"access_token":"a","expires_in":60.9}"#, Some(1060)),
            (
                r#"{"access_token":"a","expires_in":1e300}"#,
                Some(1000 + MAX_EXPIRES_IN),
            ),
            (
                r#"{"access_token":"a","expires_in":"inf"}"#,
                Some(1000 + MAX_EXPIRES_IN),
            ),
            (r#"{"access_token":"a","expires_in":null}"#, None),
            (r#"{"access_token":"a","expires_in":0}"#, None),
        ] {
            let t = token_response(&meta(200, None, &s), Some(raw.as_bytes()), &q, 1000).unwrap();
            assert_eq!(t.expires_at_unix(), want, "{raw}");
        }
        for raw in [
            r#"{"access_token":"a","expires_in":-5}"#,
            r#"{"access_token":"a","expires_in":"zzz"}"#,
            r#"{"access_token":"a","expires_in":true}"#,
            r#"{"access_token":"a","token_type":"mac"}"#,
        ] {
            assert!(token_response(&meta(200, None, &s), Some(raw.as_bytes()), &q, 1000).is_err());
        }
    }

    #[test]
    fn form_body() {
        let q = TokenResponseQuirks::default();
        let s = Sanitizer::new();
        let t = token_response(
            &meta(
                200,
                Some("application/x-www-form-urlencoded; charset=utf-8"),
                &s,
            ),
            Some(b"access_token=abc&expires_in=10&scope=a+b&foo=bar"),
            &q,
            5,
        )
        .unwrap();
        assert_eq!(t.expires_at_unix(), Some(15));
        assert_eq!(t.scope(), Some("a b"));
        assert_eq!(t.extra().get("foo"), Some(&Value::String("bar".into())));
    }
}
