//! Token requests as plain data: a grant's parameters, client authentication and body encoding
//! turn into a [`PreparedRequest`], which the transport sends and the response parser reads.

use std::borrow::Cow;

use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::{
    BasicAuthEncoding, BodyEncoding, ClientAuth, HttpMethod, ParamsIn, TokenRequest,
};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, InvalidHeaderValue};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::client::{Client, required_secret};
use crate::error::Error;
use crate::headers::insert_header;
use crate::secret::Nonce;
use crate::token::now_unix;
use crate::transport::{PreparedRequest, RetryPolicy};
use crate::vars::Escape;

/// Parameters of one token request, in order. Not `Debug`: values include secrets. Names are
/// mostly the engine's own (`grant_type`, `client_id`), kept without a copy.
#[derive(Default)]
pub(crate) struct Params(Vec<(Cow<'static, str>, String)>);

impl Params {
    /// Sets a parameter, replacing an earlier one of the same name.
    pub(crate) fn set(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// Removes a parameter.
    pub(crate) fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| n != name);
    }

    /// Renames a parameter, keeping its place.
    fn rename(&mut self, from: &str, to: &str) {
        for (name, _) in &mut self.0 {
            if name == from {
                *name = Cow::Owned(to.to_owned());
            }
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v.as_str()))
    }
}

/// One token request a grant wants made.
pub(crate) struct TokenCall {
    /// The grant, for its settings and for messages ("the refresh token was refused").
    pub(crate) grant: GrantKind,
    /// The vendor's URL (before rewriting).
    pub(crate) url: Url,
    pub(crate) params: Params,
    /// Secret values sent (besides the client's own), scrubbed from anything shown.
    pub(crate) secrets: Vec<String>,
    pub(crate) policy: RetryPolicy,
    /// The OpenID Connect nonce the authorization request sent, which the ID token must carry.
    pub(crate) nonce: Option<Nonce>,
}

impl Client {
    /// The client authentication method of `grant` (`None`: the revocation and introspection
    /// endpoints): the user's choice (which the vendor must accept), else the grant's preferred
    /// method, else the descriptor's.
    pub(crate) fn client_auth_method(&self, grant: Option<GrantKind>) -> Result<ClientAuth, Error> {
        let descriptor = self.descriptor();
        let accepted = grant
            .and_then(|grant| descriptor.grants.common(grant))
            .and_then(|c| c.client_auth)
            .unwrap_or(&descriptor.client_auth);
        match self.config().client_auth_choice() {
            None => Ok(accepted.preferred()),
            Some(method) if accepted.accepts(method) => Ok(method),
            Some(method) => Err(Error::config(
                self.vendor(),
                format!(
                    "the vendor does not accept client authentication `{method}` for \
                     {}; it accepts: {}",
                    // Written only for the error: a token request would format it for nothing.
                    match grant {
                        Some(grant) => format!("grant `{grant}`"),
                        None => "revocation and introspection".to_owned(),
                    },
                    accepted
                        .methods()
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// Builds a token request: client authentication, the descriptor's headers, parameter
    /// names, method and body encoding, the target URL with rewrites applied. Makes no request.
    pub(crate) fn prepare_token_request(&self, call: TokenCall) -> Result<PreparedRequest, Error> {
        let TokenCall {
            grant,
            url,
            params,
            secrets,
            ..
        } = call;
        self.prepare_call(Some(grant), url, params, secrets)
    }

    /// Builds a request to the revocation or introspection endpoint (RFC 7009, RFC 7662): a
    /// form-encoded POST with the descriptor's client authentication, headers and parameter
    /// names.
    pub(crate) fn prepare_endpoint_request(
        &self,
        url: Url,
        params: Params,
        secrets: Vec<String>,
    ) -> Result<PreparedRequest, Error> {
        self.prepare_call(None, url, params, secrets)
    }

    /// What [`Client::prepare_token_request`] and [`Client::prepare_endpoint_request`] share;
    /// `grant` is `None` for the endpoints that are not a grant's.
    fn prepare_call(
        &self,
        grant: Option<GrantKind>,
        mut url: Url,
        mut params: Params,
        mut secrets: Vec<String>,
    ) -> Result<PreparedRequest, Error> {
        let descriptor = self.descriptor();
        let common = grant.and_then(|grant| descriptor.grants.common(grant));
        let settings = match grant {
            Some(_) => descriptor
                .token_request
                .with(common.and_then(|c| c.token_request)),
            None => descriptor.token_request.standard_form_post(),
        };
        let mut headers = self.token_headers()?;
        if let (Some(grant), Some(own)) = (grant, common.and_then(|c| c.token_request)) {
            for (name, value) in &own.headers {
                let used_by = format!("grants.{grant}.token_request.headers.{name}");
                let value = self.render_param(value, &used_by)?;
                insert_header(&mut headers, name, &value).map_err(|what| {
                    Error::config(
                        self.vendor(),
                        format!("`{used_by}` is not a valid header {what}"),
                    )
                })?;
            }
        }
        let method = self.client_auth_method(grant)?;
        self.authenticate(
            method,
            &settings,
            &url,
            &mut params,
            &mut headers,
            &mut secrets,
        )?;
        if common.is_some_and(|c| !c.send_grant_type) {
            params.remove("grant_type");
        }
        for (standard, renamed) in &settings.param_names {
            params.rename(standard, renamed);
        }
        for (name, value) in &settings.query_params {
            let used_by = format!("token_request.query_params.{name}");
            let value = self.vars().render_text(value, &used_by, Escape::Plain)?;
            url.query_pairs_mut().append_pair(name, &value);
        }
        let in_query = settings.method == HttpMethod::Get || settings.params_in == ParamsIn::Query;
        let body = if in_query {
            let mut query = url.query_pairs_mut();
            for (name, value) in params.iter() {
                query.append_pair(name, value);
            }
            None
        } else {
            let (content_type, bytes) = encode_body(settings.encoding, &params).map_err(|_| {
                Error::config(
                    self.vendor(),
                    "the body's content type is not a header value",
                )
            })?;
            Some((content_type, bytes.into()))
        };
        let target = self.transport().target(url)?;
        let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        Ok(PreparedRequest {
            method: match settings.method {
                HttpMethod::Post => Method::POST,
                HttpMethod::Get => Method::GET,
            },
            url: target,
            endpoint: Default::default(),
            headers,
            body,
            sanitizer: self.sanitizer_with(&secret_refs),
        })
    }

    /// Adds the client's credentials to a token request, per `method`.
    fn authenticate(
        &self,
        method: ClientAuth,
        settings: &TokenRequest,
        url: &Url,
        params: &mut Params,
        headers: &mut HeaderMap,
        secrets: &mut Vec<String>,
    ) -> Result<(), Error> {
        let vendor = self.vendor();
        let config = self.config();
        let client_id = config.client_id();
        match method {
            ClientAuth::ClientSecretPost => {
                let secret = required_secret(vendor, config.client_secret(), method.as_str())?;
                params.set("client_id", client_id);
                params.set("client_secret", secret.expose_secret());
            }
            ClientAuth::ClientSecretBasic => {
                let secret = required_secret(vendor, config.client_secret(), method.as_str())?;
                let encoding = settings.basic_auth_encoding;
                // Computed once per client, for the encoding it uses first (a grant that
                // uses the other computes its own): the client's sanitizer knows the
                // form-encoded credentials already; the raw form is added to this request's.
                let basic_header = || {
                    let basic = match encoding {
                        BasicAuthEncoding::FormUrlencoded => {
                            crate::crypto::basic_auth(client_id, secret)
                        }
                        BasicAuthEncoding::None => crate::crypto::basic_auth_raw(client_id, secret),
                    };
                    let mut value = HeaderValue::from_str(basic.expose_secret()).ok()?;
                    value.set_sensitive(true);
                    Some(value)
                };
                let (cached_for, cached) = self
                    .inner
                    .basic_header
                    .get_or_init(|| (encoding, basic_header()));
                let value = if *cached_for == encoding {
                    cached.clone()
                } else {
                    basic_header()
                };
                let value = value.ok_or_else(|| {
                    Error::config(vendor, "the client id or secret cannot be sent in a header")
                })?;
                if encoding == BasicAuthEncoding::None
                    && let Ok(text) = value.to_str()
                {
                    secrets.push(text.trim_start_matches("Basic ").to_owned());
                }
                headers.insert(AUTHORIZATION, value);
                if settings.client_id_in_body {
                    params.set("client_id", client_id);
                }
            }
            ClientAuth::None => params.set("client_id", client_id),
            ClientAuth::PrivateKeyJwt | ClientAuth::ClientSecretJwt => {
                let assertion = self.client_assertion(method, url)?;
                secrets.push(assertion.expose_secret().to_owned());
                params.set("client_id", client_id);
                params.set(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                );
                params.set("client_assertion", assertion.expose_secret());
            }
        }
        Ok(())
    }

    /// A signed client assertion whose audience is the token endpoint (the vendor's URL, before
    /// any rewrite).
    fn client_assertion(&self, method: ClientAuth, url: &Url) -> Result<SecretString, Error> {
        let vendor = self.vendor();
        let mut audience = url.clone();
        audience.set_query(None);
        let claims = crate::jwt::client_assertion_claims(
            self.config().client_id(),
            audience.as_str(),
            now_unix(),
        );
        let jwt = if method == ClientAuth::PrivateKeyJwt {
            let key = self.config().signing_key_value().ok_or_else(|| {
                Error::config(
                    vendor,
                    "`private_key_jwt` needs the client's private key: set \
                     ClientConfig::signing_key",
                )
            })?;
            key.sign(vendor, &claims)?
        } else {
            let secret = required_secret(vendor, self.config().client_secret(), method.as_str())?;
            crate::jwt::sign_with_secret(vendor, secret, &claims)?
        };
        Ok(SecretString::from(jwt))
    }
}

/// The body of a token request and its content type (an error only if a multipart boundary
/// could not be a header value, which the engine's boundaries always can).
pub(crate) fn encode_body(
    encoding: BodyEncoding,
    params: &Params,
) -> Result<(HeaderValue, Vec<u8>), InvalidHeaderValue> {
    Ok(match encoding {
        BodyEncoding::Form => (
            HeaderValue::from_static("application/x-www-form-urlencoded"),
            encode_form(params).into_bytes(),
        ),
        BodyEncoding::Json => {
            let object: serde_json::Map<String, serde_json::Value> = params
                .iter()
                .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
                .collect();
            (
                HeaderValue::from_static("application/json"),
                serde_json::Value::Object(object).to_string().into_bytes(),
            )
        }
        BodyEncoding::Multipart => encode_multipart(params)?,
    })
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
fn encode_multipart(params: &Params) -> Result<(HeaderValue, Vec<u8>), InvalidHeaderValue> {
    // Letters, digits, `-` and `_` (URL-safe base64): a valid boundary and header value.
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
    let content_type = format!("multipart/form-data; boundary={boundary}");
    Ok((HeaderValue::try_from(content_type)?, body))
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
        let (ct, body) = encode_body(BodyEncoding::Form, &params).unwrap();
        assert_eq!(ct, "application/x-www-form-urlencoded");
        assert_eq!(body, b"grant_type=client_credentials&scope=c+d");
        let (ct, body) = encode_body(BodyEncoding::Json, &params).unwrap();
        assert_eq!(ct, "application/json");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["scope"], "c d");
        let (ct, body) = encode_body(BodyEncoding::Multipart, &params).unwrap();
        let boundary = ct
            .to_str()
            .unwrap()
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")), "{text}");
        assert!(
            text.contains("Content-Disposition: form-data; name=\"scope\"\r\n\r\nc d\r\n"),
            "{text}"
        );
        assert!(text.ends_with(&format!("--{boundary}--\r\n")), "{text}");
    }

    #[test]
    fn renames_keep_the_order() {
        let mut params = Params::default();
        params.set("client_id", "a");
        params.set("grant_type", "x");
        params.rename("client_id", "client_key");
        params.remove("grant_type");
        assert_eq!(params.iter().collect::<Vec<_>>(), [("client_key", "a")]);
    }
}
