//! Authorized API requests: the bearer token, the descriptor's API headers, relative paths
//! joined to `endpoints.api_base`, and the vendor's request id surfaced on the response.
//!
//! ```no_run
//! # async fn run(client: oauth_clients_core::Client, token: oauth_clients_core::Token)
//! # -> Result<(), oauth_clients_core::Error> {
//! use oauth_clients_core::ApiRequest;
//!
//! let response = client.send_api(&token, &ApiRequest::get("vendors/")).await?;
//! println!("request id: {:?}", response.request_id());
//! let vendors: serde_json::Value = response.error_for_status()?.json()?;
//! # Ok(())
//! # }
//! ```
//!
//! A request is plain data ([`ApiRequest`] is `Clone`), so a caller can send it again with a
//! fresh token after a `401` (see [`ApiResponse::is_unauthorized`]).

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::headers::{copy_with_room, insert_header};
use crate::sanitize::Sanitizer;
use crate::target::{check_secure, display_url, join_api_path};
use crate::token::Token;
use crate::transport::{BufferedResponse, PreparedRequest, RetryPolicy};
use crate::vars::Escape;

/// Largest API response body read, in bytes.
pub(crate) const MAX_API_BODY: usize = 16 << 20;

/// The body of an API request.
#[derive(Clone)]
pub enum ApiBody {
    /// A JSON document, sent as `application/json`.
    Json(serde_json::Value),
    /// Raw bytes with their content type.
    Bytes {
        /// The `Content-Type` header.
        content_type: String,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

impl ApiBody {
    /// The bytes to send and their content type: for JSON, the request's own `Content-Type`
    /// header (taken out of `headers`) or `application/json`.
    fn encoded(
        &self,
        vendor: &str,
        headers: &mut HeaderMap,
    ) -> Result<(HeaderValue, bytes::Bytes), Error> {
        match self {
            ApiBody::Json(value) => {
                let content_type = headers
                    .remove(CONTENT_TYPE)
                    .unwrap_or(HeaderValue::from_static("application/json"));
                Ok((content_type, value.to_string().into_bytes().into()))
            }
            ApiBody::Bytes {
                content_type,
                bytes,
            } => {
                let content_type = HeaderValue::from_str(content_type).map_err(|_| {
                    Error::config(
                        vendor,
                        "the request's content type is not a valid header value",
                    )
                })?;
                Ok((content_type, bytes.clone().into()))
            }
        }
    }
}

/// An API request: method, path (relative to `endpoints.api_base`, or an absolute URL),
/// query, headers and an optional body. Cheap to clone and replayable. `Debug` shows only the
/// method and path (headers and body may be sensitive).
#[derive(Clone)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// A path such as `vendors/` or `me`, or an absolute `https://` URL on the same origin as
    /// `endpoints.api_base` (the token is never sent elsewhere). A path is joined to
    /// `endpoints.api_base` as a parsed URL; a path starting with `/` that already starts with
    /// the base's path (e.g. `/api/v3/vendors/`) is taken from the host root, any other `/path`
    /// is relative to the base (so `/me` and `me` are the same for
    /// `https://api.vendor.example/rest/v1.0/`). A path that would leave the API's origin is
    /// refused.
    pub path: String,
    /// Query parameters added to the URL.
    pub query: Vec<(String, String)>,
    /// Further headers; they override the descriptor's API headers of the same name. Credential
    /// and connection-level headers (`Authorization`, `Cookie`, `Host`…) are refused.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Option<ApiBody>,
}

impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("has_body", &self.body.is_some())
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    /// A request with a method and a path.
    pub fn new(method: Method, path: impl Into<String>) -> ApiRequest {
        ApiRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A `GET` request.
    pub fn get(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new(Method::GET, path)
    }

    /// A `POST` request.
    pub fn post(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new(Method::POST, path)
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> ApiRequest {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> ApiRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: serde_json::Value) -> ApiRequest {
        self.body = Some(ApiBody::Json(body));
        self
    }

    /// Sets a raw body.
    pub fn bytes(mut self, content_type: impl Into<String>, bytes: Vec<u8>) -> ApiRequest {
        self.body = Some(ApiBody::Bytes {
            content_type: content_type.into(),
            bytes,
        });
        self
    }
}

/// The answer to an API request, whatever its status, with the vendor's request id.
#[derive(Clone)]
pub struct ApiResponse {
    /// The client that sent it (the vendor's name for errors): shared, not copied.
    client: Client,
    /// The URL requested, and as shown: worked out when first asked, as is the request id
    /// (most answers are read, not shown). A URL with a query is not kept (it may carry the
    /// access token: `api.token_query_param`); its endpoint is worked out at once instead.
    url: Option<Url>,
    endpoint: OnceLock<String>,
    status: u16,
    headers: HeaderMap,
    request_id: OnceLock<Option<String>>,
    body: bytes::Bytes,
    /// Knows the access token sent (and the client's secrets), should the body echo them.
    sanitizer: Sanitizer,
}

impl fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiResponse")
            .field("endpoint", &self.endpoint())
            .field("status", &self.status)
            .field("request_id", &self.request_id())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl ApiResponse {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the status is 401: the token was refused (expired or revoked); refresh and send
    /// the request again.
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }

    /// The vendor's request id (from the descriptor's `api.request_id_header`, else
    /// `X-Request-Id`), to quote to the vendor's support or search its logs by.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id
            .get_or_init(|| {
                self.client
                    .transport()
                    .request_id(&self.headers, &self.sanitizer)
            })
            .as_deref()
    }

    /// The URL requested, without query.
    pub fn endpoint(&self) -> &str {
        self.endpoint
            .get_or_init(|| self.url.as_ref().map(display_url).unwrap_or_default())
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body with the request's secrets (the access token, the client's secret) replaced
    /// wherever it echoes them, in their common encodings: for showing the body to a person.
    pub fn body_without_secrets(&self) -> Vec<u8> {
        self.sanitizer.redact_known(&self.body)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|err| Error::InvalidResponse {
            vendor: self.client.vendor().into(),
            endpoint: self.endpoint().into(),
            status: Some(self.status),
            request_id: self.request_id().map(Into::into),
            content_type: self.content_type(),
            reason: format!("the body is not the expected JSON: {err}").into(),
            excerpt: self.sanitizer.excerpt(&self.body).into(),
        })
    }

    fn content_type(&self) -> Option<Box<str>> {
        self.header("content-type")
            .map(|ct| self.sanitizer.clean_shown(ct, 100).into())
    }

    /// The response when its status is 2xx, else an [`Error::Api`] with the status, the request
    /// id and a scrubbed excerpt of the body.
    pub fn error_for_status(self) -> Result<ApiResponse, Error> {
        if self.is_success() {
            return Ok(self);
        }
        Err(Error::Api {
            content_type: self.content_type(),
            excerpt: self.sanitizer.excerpt(&self.body).into(),
            vendor: self.client.vendor().into(),
            endpoint: self.endpoint().into(),
            status: self.status,
            request_id: self.request_id().map(Into::into),
        })
    }
}

impl Client {
    /// The vendor URL of an API path (before rewrites); see [`ApiRequest::path`] for how paths
    /// are joined to `endpoints.api_base`.
    #[doc(hidden)]
    pub fn api_url(&self, path: &str) -> Result<Url, Error> {
        self.api_url_on(
            self.resolve_endpoint(&EndpointKind::ApiBase)?
                .map(Cow::Owned),
            path,
        )
    }

    /// The descriptor's harmless example API path (`api.example_path`), its `{variables}`
    /// rendered with the client's values and those captured with `token` (a company id
    /// from the callback, say); `None` when the descriptor names none.
    pub fn example_api_path(&self, token: &Token) -> Result<Option<String>, Error> {
        let Some(template) = self.descriptor().api.example_path.as_deref() else {
            return Ok(None);
        };
        let vars = self.vars().overlay(token.variables());
        vars.render_text(template, "api.example_path", Escape::Url)
            .map(Some)
    }

    /// The API base for a token: the client's, or rendered again with the values the token
    /// captured (an API origin from the token answer).
    fn api_base_for(&self, token: &Token) -> Result<Option<Cow<'_, Url>>, Error> {
        if token.variables().is_empty() {
            return Ok(self
                .inner
                .parts
                .endpoints
                .get(&EndpointKind::ApiBase)?
                .map(Cow::Borrowed));
        }
        if self.descriptor().endpoints.api_base.is_none() {
            return Ok(None);
        }
        self.endpoint_with(EndpointKind::ApiBase, token.variables())
            .map(|url| Some(Cow::Owned(url)))
    }

    /// Refuses `url` unless it is on the API's origin (`base`'s, or `rewritten`'s: where the
    /// client's rewrites send the API): the access token goes nowhere else.
    fn check_api_origin(
        &self,
        url: &Url,
        base: &Url,
        rewritten: Option<&Url>,
    ) -> Result<(), Error> {
        let origin = url.origin();
        if origin == base.origin() || rewritten.is_some_and(|r| origin == r.origin()) {
            return Ok(());
        }
        Err(Error::refused(
            self.vendor(),
            format!(
                "the access token goes only to the API's own origin ({}), not to {}",
                base.origin().ascii_serialization(),
                display_url(url)
            ),
        ))
    }

    fn api_url_on(&self, base: Option<Cow<'_, Url>>, path: &str) -> Result<Url, Error> {
        let vendor = self.vendor();
        if path.starts_with("https://") || path.starts_with("http://") {
            let url = Url::parse(path)
                .map_err(|err| Error::config(vendor, format!("invalid API URL: {err}")))?;
            check_secure(vendor, &url)?;
            if let Some(base) = base {
                self.check_api_origin(&url, &base, None)?;
            }
            return Ok(url);
        }
        let mut base = base.ok_or_else(|| {
            Error::unsupported(vendor, "relative API paths (no `endpoints.api_base`)")
        })?;
        if !base.path().ends_with('/') {
            let with_slash = format!("{}/", base.path());
            base.to_mut().set_path(&with_slash);
        }
        let url = join_api_path(&base, path).map_err(|why| {
            Error::refused(vendor, format!("invalid API path (not shown): {why}"))
        })?;
        check_secure(vendor, &url)?;
        Ok(url)
    }

    /// The header that carries the access token (`Authorization: Bearer …` unless the
    /// descriptor's `api.token_header` / `api.token_scheme` say otherwise), marked sensitive.
    fn token_header(&self, access: &str) -> Result<(HeaderName, HeaderValue), Error> {
        let vendor = self.vendor();
        let api = &self.descriptor().api;
        let scheme = api.token_scheme.as_deref().unwrap_or("Bearer");
        // Written once into the buffer the header keeps (`from_maybe_shared` takes it as is).
        let mut bytes = Vec::with_capacity(scheme.len() + 1 + access.len());
        if !scheme.is_empty() {
            bytes.extend_from_slice(scheme.as_bytes());
            bytes.push(b' ');
        }
        bytes.extend_from_slice(access.as_bytes());
        let mut value = HeaderValue::from_maybe_shared(bytes::Bytes::from(bytes))
            .map_err(|_| Error::config(vendor, "the access token cannot be sent in a header"))?;
        value.set_sensitive(true);
        let name = match api.token_header.as_deref() {
            Some(name) => HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::config(vendor, "`api.token_header` is not a valid header name")
            })?,
            None => AUTHORIZATION,
        };
        Ok((name, value))
    }

    /// The token header for a request that someone else's HTTP stack (middleware) sends to
    /// `url`, after checking that `url` may receive the token: HTTPS (or loopback HTTP), on the
    /// origin of the API base as the vendor names it or as the rewrites send it. A relative
    /// request (`url` `None`: the stack adds the origin, as a tonic channel does) is taken to go
    /// where the stack was built to go.
    #[cfg_attr(
        not(any(feature = "reqwest-middleware", feature = "tower")),
        allow(dead_code)
    )]
    pub(crate) fn token_header_for(
        &self,
        token: &Token,
        url: Option<&Url>,
    ) -> Result<(HeaderName, HeaderValue), Error> {
        let vendor = self.vendor();
        if self.descriptor().api.token_query_param.is_some() {
            return Err(Error::unsupported(
                vendor,
                "middleware for a vendor that takes the token in the query (`api.token_query_param`); \
                 use AuthorizedClient",
            ));
        }
        if let Some(url) = url {
            let base = self.api_base_for(token)?.ok_or_else(|| {
                Error::unsupported(
                    vendor,
                    "middleware without `endpoints.api_base`: the token goes only to the API's origin, \
                     and the descriptor names none",
                )
            })?;
            let rewritten = self.effective_url(&base)?;
            self.check_api_origin(url, &base, Some(&rewritten))?;
            check_secure(vendor, url)?;
        }
        self.token_header(token.access_token().expose_secret())
    }

    /// Builds an authorized API request as plain data: `Authorization: Bearer <token>`, the
    /// descriptor's `api.headers`, then the request's own headers. Makes no request.
    ///
    /// `shared`, when the caller has the token behind an `Arc` (a [`crate::TokenManager`]'s),
    /// lets the request's sanitizer read the token's secrets from it instead of copies.
    pub(crate) fn prepare_api_request(
        &self,
        token: &Token,
        shared: Option<&Arc<Token>>,
        request: &ApiRequest,
    ) -> Result<PreparedRequest, Error> {
        let vendor = self.vendor();
        let api = &self.descriptor().api;
        let mut url = self.api_url_on(self.api_base_for(token)?, &request.path)?;
        let access = token.access_token().expose_secret();
        // Only when there is a pair to add: a query serializer leaves at least a bare `?`.
        if !request.query.is_empty() || api.token_query_param.is_some() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &request.query {
                pairs.append_pair(name, value);
            }
            if let Some(param) = &api.token_query_param {
                pairs.append_pair(param, access);
            }
        }
        let target = self.transport().target(url)?;
        let mut headers = copy_with_room(
            self.inner
                .parts
                .api_headers
                .as_ref()
                .map_err(Clone::clone)?,
        );
        for (name, value) in &request.headers {
            if let Some(why) = oauth_clients_descriptor::names::reserved_header(name) {
                return Err(Error::config(
                    vendor,
                    format!("request header `{name}` cannot be set: {why}"),
                ));
            }
            insert_header(&mut headers, name, value).map_err(|what| {
                Error::config(vendor, format!("request header `{name}`: invalid {what}"))
            })?;
        }
        if api.token_query_param.is_none() {
            let (name, value) = self.token_header(access)?;
            headers.insert(name, value);
        }
        let body = match &request.body {
            Some(body) => Some(body.encoded(vendor, &mut headers)?),
            None => None,
        };
        let sanitizer = match shared {
            Some(shared) => self.sanitizer_with(&[]).also_knowing(shared.clone()),
            None => {
                let refresh = token.refresh_token().map(|r| r.expose_secret());
                self.sanitizer_with(
                    &[Some(access), refresh]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>(),
                )
            }
        };
        Ok(PreparedRequest {
            method: request.method.clone(),
            url: target,
            endpoint: Default::default(),
            headers,
            body,
            sanitizer,
        })
    }

    /// Sends an authorized API request (see [`ApiRequest`]). Returns the response whatever its
    /// status (use [`ApiResponse::error_for_status`]); fails only when the request could not be
    /// made or the body is larger than 16 MiB. API requests are not retried and redirects are
    /// not followed.
    pub async fn send_api(
        &self,
        token: &Token,
        request: &ApiRequest,
    ) -> Result<ApiResponse, Error> {
        self.send_api_with(token, None, request)?.await
    }

    /// [`Client::send_api`] for a token behind an `Arc`, which the request then shares. The
    /// request is prepared now (an error is returned at once); the future sends it.
    pub(crate) fn send_api_shared<'a>(
        &'a self,
        token: &Arc<Token>,
        request: &ApiRequest,
    ) -> Result<Pin<Box<impl Future<Output = Result<ApiResponse, Error>> + 'a>>, Error> {
        self.send_api_with(token, Some(token), request)
    }

    /// Prepares the request now, and returns one boxed future that owns it and the HTTP
    /// exchange's state (in place of the box `Transport::send` makes): the caller's future
    /// holds a pointer, not the prepared request besides. The request is moved into the future
    /// as it is (a `Result` moved in and unwrapped there would take two slots, and the box
    /// would outgrow the allocator's per-thread cache).
    fn send_api_with<'a>(
        &'a self,
        token: &Token,
        shared: Option<&Arc<Token>>,
        request: &ApiRequest,
    ) -> Result<Pin<Box<impl Future<Output = Result<ApiResponse, Error>> + 'a>>, Error> {
        let mut prepared = self.prepare_api_request(token, shared, request)?;
        Ok(Box::pin(async move {
            let response = self
                .transport()
                .send_unboxed(&mut prepared, RetryPolicy::Never, MAX_API_BODY)
                .await?;
            self.api_response(prepared, response)
        }))
    }

    /// The answer to `prepared`, or an error when its body was too large to read.
    fn api_response(
        &self,
        prepared: PreparedRequest,
        response: BufferedResponse,
    ) -> Result<ApiResponse, Error> {
        let Some(body) = response.body else {
            let request_id = self
                .transport()
                .request_id(&response.headers, &prepared.sanitizer);
            return Err(Error::InvalidResponse {
                vendor: self.vendor().into(),
                endpoint: prepared.endpoint().into(),
                status: Some(response.status),
                request_id: request_id.map(Into::into),
                content_type: None,
                reason: format!(
                    "the body is larger than {} MiB and was not read",
                    MAX_API_BODY >> 20
                )
                .into(),
                excerpt: "".into(),
            });
        };
        let url = match prepared.url.query() {
            Some(_) => {
                prepared.endpoint();
                None
            }
            None => Some(prepared.url),
        };
        Ok(ApiResponse {
            client: self.clone(),
            url,
            endpoint: prepared.endpoint,
            status: response.status,
            headers: response.headers,
            request_id: OnceLock::new(),
            body,
            sanitizer: prepared.sanitizer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientConfig;
    use crate::secret::AccessToken;

    fn client() -> Client {
        let yaml = "id: v\nname: V\nendpoints:\n  token: https://v.example/token\n  \
                    api_base: https://api.v.example/v1/\ngrants:\n  client_credentials: {}\n";
        let provider = oauth_clients_descriptor::Provider::from_yaml_str(yaml, "v.yaml").unwrap();
        Client::new(provider, ClientConfig::new("id")).unwrap()
    }

    #[test]
    fn a_shared_token_is_scrubbed_from_what_its_request_shows() {
        let token = Arc::new(
            Token::new(AccessToken::new("shared-access-t0k3n"), 0, None).with_refresh_token(Some(
                crate::secret::RefreshToken::new("shared-refresh-t0k3n"),
            )),
        );
        let client = client();
        for shared in [Some(&token), None] {
            let prepared = client
                .prepare_api_request(&token, shared, &ApiRequest::get("me"))
                .unwrap();
            let shown = prepared
                .sanitizer
                .excerpt(b"echo: Bearer shared-access-t0k3n and shared-refresh-t0k3n");
            assert!(!shown.contains("shared-access-t0k3n"), "{shown}");
            assert!(!shown.contains("shared-refresh-t0k3n"), "{shown}");
            assert!(shown.starts_with("echo: Bearer "), "{shown}");
        }
    }

    #[test]
    fn a_body_content_type_that_is_no_header_value_is_refused_before_sending() {
        let token = Token::new(AccessToken::new("t0k3n-value"), 0, None);
        let request = ApiRequest::post("vendors/").bytes("text/plain\r\nX-Injected: 1", vec![1]);
        let err = client()
            .prepare_api_request(&token, None, &request)
            .err()
            .expect("refused");
        assert!(err.to_string().contains("content type"), "{err}");
        let request = ApiRequest::post("vendors/").bytes("text/plain", vec![1]);
        let prepared = client()
            .prepare_api_request(&token, None, &request)
            .unwrap();
        let (content_type, body) = prepared.body.unwrap();
        assert_eq!(content_type, "text/plain");
        assert_eq!(&body[..], [1]);
    }

    #[test]
    fn an_answer_keeps_no_url_that_carries_the_token() {
        let yaml = "id: v\nname: V\nendpoints:\n  token: https://v.example/token\n  \
                    api_base: https://api.v.example/v1/\ngrants:\n  client_credentials: {}\n\
                    api:\n  token_query_param: access_token\n";
        let provider = oauth_clients_descriptor::Provider::from_yaml_str(yaml, "v.yaml").unwrap();
        let client = Client::new(provider, ClientConfig::new("id")).unwrap();
        let token = Token::new(AccessToken::new("query-t0k3n-value"), 0, None);
        let answer = || BufferedResponse {
            status: 500,
            headers: HeaderMap::new(),
            body: Some(bytes::Bytes::from_static(b"{}")),
        };
        let prepared = client
            .prepare_api_request(&token, None, &ApiRequest::get("me"))
            .unwrap();
        assert!(prepared.url.as_str().contains("query-t0k3n-value"));
        let response = client.api_response(prepared, answer()).unwrap();
        assert!(response.url.is_none());
        assert_eq!(response.endpoint(), "https://api.v.example/v1/me");
        assert!(!format!("{response:?}").contains("query-t0k3n-value"));
        let err = response.error_for_status().unwrap_err().to_string();
        assert!(!err.contains("query-t0k3n-value"), "{err}");
        // Without a query, the URL is kept and the endpoint worked out when asked.
        let prepared = self::client()
            .prepare_api_request(&token, None, &ApiRequest::get("me"))
            .unwrap();
        let response = self::client().api_response(prepared, answer()).unwrap();
        assert!(response.endpoint.get().is_none());
        assert_eq!(response.endpoint(), "https://api.v.example/v1/me");
    }

    #[test]
    fn a_request_without_query_pairs_has_no_query() {
        let token = Token::new(AccessToken::new("t0k3n-value"), 0, None);
        let prepared = client()
            .prepare_api_request(&token, None, &ApiRequest::get("vendors/"))
            .unwrap();
        assert_eq!(prepared.url.as_str(), "https://api.v.example/v1/vendors/");
        let prepared = client()
            .prepare_api_request(&token, None, &ApiRequest::get("vendors/").query("a", "b c"))
            .unwrap();
        assert_eq!(
            prepared.url.as_str(),
            "https://api.v.example/v1/vendors/?a=b+c"
        );
    }
}
