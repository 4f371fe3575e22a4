//! Any token endpoint answer (status, content type, body) never panics the parser; its JSON
//! reads the same through the answer parser as through serde_json's map; a token it hands out
//! has a non-empty access token; and no error's `Display` shows the known secret, echoed as it
//! is or escaped anywhere in the body (or the content type).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oauth_clients_core::descriptor::TokenResponseQuirks;
use oauth_clients_core::fuzzing::{answer_agrees_with_map, token_response};
use oauth_clients_core::secrecy::ExposeSecret as _;
use oauth_clients_fuzz::{Encoding, encode, usable_secret, without_artifacts};
use serde_json::{Map, Value};

#[derive(Debug, Arbitrary)]
enum Status {
    Ok,
    Created,
    BadRequest,
    Unauthorized,
    Found,
    ServerError,
    Other(u16),
}

#[derive(Debug, Arbitrary)]
enum ContentType<'a> {
    None,
    Json,
    JsonCharset,
    Form,
    Text,
    Html,
    WithSecret,
    Other(&'a str),
}

/// A JSON value, possibly holding the secret.
#[derive(Debug, Arbitrary)]
enum Json<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Str(&'a str),
    /// The secret, as a JSON string (serde_json escapes it).
    Secret,
    /// The secret in the input's encoding, as a JSON string.
    EncodedSecret,
    /// Text around the secret, as a JSON string.
    AroundSecret(&'a str, &'a str),
    Array(Vec<Json<'a>>),
    Object(Vec<(Key<'a>, Json<'a>)>),
}

#[derive(Debug, Arbitrary)]
enum Key<'a> {
    AccessToken,
    TokenType,
    RefreshToken,
    ExpiresIn,
    Scope,
    Error,
    ErrorDescription,
    ErrorUri,
    CreatedAt,
    Data,
    Secret,
    Other(&'a str),
}

impl Key<'_> {
    fn text(&self, secret: &str) -> String {
        match self {
            Key::AccessToken => "access_token".into(),
            Key::TokenType => "token_type".into(),
            Key::RefreshToken => "refresh_token".into(),
            Key::ExpiresIn => "expires_in".into(),
            Key::Scope => "scope".into(),
            Key::Error => "error".into(),
            Key::ErrorDescription => "error_description".into(),
            Key::ErrorUri => "error_uri".into(),
            Key::CreatedAt => "created_at".into(),
            Key::Data => "data".into(),
            Key::Secret => secret.into(),
            Key::Other(key) => (*key).into(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Body<'a> {
    /// Any bytes, with the encoded secret between two parts (e.g. inside a JSON string).
    Raw(&'a [u8], &'a [u8]),
    /// A JSON object.
    Json(Vec<(Key<'a>, Json<'a>)>),
    /// Form-encoded fields.
    Form(Vec<(Key<'a>, FormValue<'a>)>),
}

#[derive(Debug, Arbitrary)]
enum FormValue<'a> {
    Str(&'a str),
    Secret,
    EncodedSecret,
}

#[derive(Debug, Arbitrary)]
enum Quirks {
    Default,
    Nested,
    MacAccepted,
    NoJwtNoCreatedAt { default_expires_in: Option<u64> },
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    status: Status,
    content_type: ContentType<'a>,
    body: Body<'a>,
    secret: &'a str,
    encoding: Encoding,
    quirks: Quirks,
}

fn json(value: &Json<'_>, secret: &str, encoded: &str) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Int(n) => Value::from(*n),
        Json::Unsigned(n) => Value::from(*n),
        Json::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Json::Str(s) => Value::String((*s).to_owned()),
        Json::Secret => Value::String(secret.to_owned()),
        Json::EncodedSecret => Value::String(encoded.to_owned()),
        Json::AroundSecret(before, after) => Value::String(format!("{before} {encoded} {after}")),
        Json::Array(items) => {
            Value::Array(items.iter().map(|v| json(v, secret, encoded)).collect())
        }
        Json::Object(fields) => Value::Object(object(fields, secret, encoded)),
    }
}

fn object(fields: &[(Key<'_>, Json<'_>)], secret: &str, encoded: &str) -> Map<String, Value> {
    fields
        .iter()
        .map(|(key, value)| (key.text(secret), json(value, secret, encoded)))
        .collect()
}

/// Every text of an error's `Display` that does not come from the vendor, whole: a secret
/// found inside one of them was not echoed by the vendor.
const FIXED: &[&str] = &[
    "fuzz: unusable answer from https://fuzz.example/token (HTTP",
    "fuzz: https://fuzz.example/token refused the request (HTTP",
    "(content type: none)",
    "[vendor request id:",
    "; body starts:",
    "the token endpoint answered with a redirect, which is not followed",
    "without an OAuth error",
    "empty body where a token was expected",
    "the body is neither a JSON object nor form-encoded fields",
    "no object at token path `data`",
    "no `access_token` string in the answer (fields: none)",
    "token type `mac` is not supported: the engine sends tokens as bearer tokens \
     (the descriptor accepts: bearer, mac)",
    "`expires_in` is negative",
    "`expires_in` is not a number",
    ", see ",
];

fuzz_target!(|input: Input<'_>| {
    // `)`, `` ` `` and `,` follow vendor text in `Display` without a space: a secret holding
    // one could be made of vendor text and the message around it.
    let secret: String = usable_secret(input.secret)
        .chars()
        .filter(|c| !matches!(c, ')' | '`' | ','))
        .collect();
    let encoded = encode(&secret, input.encoding);
    let status = match input.status {
        Status::Ok => 200,
        Status::Created => 201,
        Status::BadRequest => 400,
        Status::Unauthorized => 401,
        Status::Found => 302,
        Status::ServerError => 500,
        Status::Other(n) => n,
    };
    let content_type_with_secret = format!("text/plain; charset={encoded}");
    let content_type = match input.content_type {
        ContentType::None => None,
        ContentType::Json => Some("application/json"),
        ContentType::JsonCharset => Some("application/json; charset=utf-8"),
        ContentType::Form => Some("application/x-www-form-urlencoded"),
        ContentType::Text => Some("text/plain"),
        ContentType::Html => Some("text/html"),
        ContentType::WithSecret => Some(content_type_with_secret.as_str()),
        ContentType::Other(ct) => Some(ct),
    };
    let body = match &input.body {
        Body::Raw(before, after) => [*before, encoded.as_bytes(), *after].concat(),
        Body::Json(fields) => {
            serde_json::to_vec(&Value::Object(object(fields, &secret, &encoded))).expect("JSON")
        }
        Body::Form(fields) => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in fields {
                let value = match value {
                    FormValue::Str(s) => s,
                    FormValue::Secret => secret.as_str(),
                    FormValue::EncodedSecret => encoded.as_str(),
                };
                form.append_pair(&key.text(&secret), value);
            }
            form.finish().into_bytes()
        }
    };
    let mut quirks = TokenResponseQuirks::default();
    match input.quirks {
        Quirks::Default => {}
        Quirks::Nested => quirks.token_path = vec!["data".to_owned()],
        Quirks::MacAccepted => quirks.token_types = vec!["mac".to_owned()],
        Quirks::NoJwtNoCreatedAt { default_expires_in } => {
            quirks.jwt_expiry = false;
            quirks.created_at = false;
            quirks.default_expires_in = default_expires_in;
        }
    }
    assert!(
        answer_agrees_with_map(&body),
        "the answer parser and serde_json's map disagree"
    );
    match token_response(status, content_type, &body, &quirks, &[&secret]) {
        Ok(token) => {
            assert!(
                !token.access_token().expose_secret().is_empty(),
                "a token with an empty access token"
            );
        }
        Err(err) => {
            let shown = err.to_string();
            let checked = secret.chars().count() >= 8 && !FIXED.iter().any(|f| f.contains(&secret));
            if checked {
                assert!(
                    !without_artifacts(&shown).contains(&secret),
                    "the secret {secret:?} is shown: {shown}"
                );
            }
        }
    }
});
