//! Token requests as plain data: a grant's parameters, client authentication and body encoding
//! turn into a [`PreparedRequest`], which the transport sends and the response parser reads.

use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::{BodyEncoding, ClientAuth};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::ExposeSecret;
use url::Url;

use crate::client::{Client, required_secret};
use crate::error::Error;
use crate::target::display_url;
use crate::transport::{PreparedRequest, RetryPolicy};

/// Parameters of one token request, in order. Not `Debug`: values include secrets.
#[derive(Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Sets a parameter, replacing an earlier one of the same name.
    pub(crate) fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// One token request a grant wants made.
pub(crate) struct TokenCall {
    /// The grant, for messages ("the refresh token was refused").
    pub(crate) grant: GrantKind,
    /// The vendor's URL (before rewriting).
    pub(crate) url: Url,
    pub(crate) params: Params,
    /// Secret values sent (besides the client's own), scrubbed from anything shown.
    pub(crate) secrets: Vec<String>,
    pub(crate) policy: RetryPolicy,
}

impl Client {
    /// Builds a token request: client authentication, the descriptor's headers, body encoding,
    /// the target URL with rewrites applied. Makes no request.
    pub(crate) fn prepare_token_request(&self, call: TokenCall) -> Result<PreparedRequest, Error> {
        let descriptor = self.descriptor();
        let vendor = self.vendor();
        let TokenCall {
            url,
            mut params,
            secrets,
            ..
        } = call;
        let config = self.config();
        let client_id = config.client_id();
        let mut headers = self.inner.token_headers.clone()?;
        match descriptor.client_auth {
            ClientAuth::ClientSecretPost => {
                let secret = required_secret(vendor, config.client_secret(), "client_secret_post")?;
                params.set("client_id", client_id);
                params.set("client_secret", secret.expose_secret());
            }
            ClientAuth::ClientSecretBasic => {
                let secret =
                    required_secret(vendor, config.client_secret(), "client_secret_basic")?;
                let basic = crate::crypto::basic_auth(client_id, secret);
                let mut value = HeaderValue::from_str(basic.expose_secret()).map_err(|_| {
                    Error::config(vendor, "the client id or secret cannot be sent in a header")
                })?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            ClientAuth::None => params.set("client_id", client_id),
        }
        let body = encode_body(descriptor.token_request.encoding, &params);
        let target = self.transport().target(&url)?;
        let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        Ok(PreparedRequest {
            method: Method::POST,
            endpoint: display_url(&target),
            url: target,
            headers,
            body: Some(body),
            sanitizer: self.sanitizer_with(&secret_refs),
        })
    }
}

/// The body of a token request and its content type.
pub(crate) fn encode_body(encoding: BodyEncoding, params: &Params) -> (String, Vec<u8>) {
    match encoding {
        BodyEncoding::Form => (
            "application/x-www-form-urlencoded".to_owned(),
            encode_form(params).into_bytes(),
        ),
        BodyEncoding::Json => {
            let object: serde_json::Map<String, serde_json::Value> = params
                .iter()
                .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
                .collect();
            (
                "application/json".to_owned(),
                serde_json::Value::Object(object).to_string().into_bytes(),
            )
        }
        BodyEncoding::Multipart => encode_multipart(params),
    }
}

/// `application/x-www-form-urlencoded` serialization of parameters.
pub(crate) fn encode_form(params: &Params) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.iter() {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// `multipart/form-data` (RFC 7578) with text fields only, and a random boundary.
fn encode_multipart(params: &Params) -> (String, Vec<u8>) {
    let boundary = format!("oauth-clients-{}", crate::crypto::random_token());
    let mut body = Vec::new();
    for (name, value) in params.iter() {
        // Names are the descriptor's or the engine's (no quotes or line breaks); escape anyway.
        let name = name.replace(['"', '\r', '\n'], "_");
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_in_every_encoding() {
        let mut params = Params::default();
        params.set("grant_type", "client_credentials");
        params.set("scope", "a b");
        params.set("scope", "c d");
        let (ct, body) = encode_body(BodyEncoding::Form, &params);
        assert_eq!(ct, "application/x-www-form-urlencoded");
        assert_eq!(body, b"grant_type=client_credentials&scope=c+d");
        let (ct, body) = encode_body(BodyEncoding::Json, &params);
        assert_eq!(ct, "application/json");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["scope"], "c d");
        let (ct, body) = encode_body(BodyEncoding::Multipart, &params);
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")), "{text}");
        assert!(
            text.contains("Content-Disposition: form-data; name=\"scope\"\r\n\r\nc d\r\n"),
            "{text}"
        );
        assert!(text.ends_with(&format!("--{boundary}--\r\n")), "{text}");
    }
}
