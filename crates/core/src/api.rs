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

use std::fmt;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::{Client, EndpointKind};
use crate::error::Error;
use crate::http::{self, RetryPolicy};
use crate::scrub;
use crate::template::Escape;
use crate::token::Token;

/// Largest API response body read, in bytes.
pub const MAX_API_BODY: usize = 16 << 20;

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

/// An API request: method, path (relative to `endpoints.api_base`, or an absolute URL),
/// query, headers and an optional body. Cheap to clone and replayable. `Debug` shows only the
/// method and path (headers and body may be sensitive).
#[derive(Clone)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// A path such as `vendors/` or `me`, or an absolute `https://` URL on the same origin as
    /// `endpoints.api_base` (the token is never sent elsewhere). A path is joined to
    /// `endpoints.api_base`; a path starting with `/` that already starts with the base's path
    /// (e.g. `/api/v3/vendors/`) is taken from the host root, any other `/path` is relative to
    /// the base (so `/me` and `me` are the same for `https://api.procore.com/rest/v1.0/`).
    pub path: String,
    /// Query parameters added to the URL.
    pub query: Vec<(String, String)>,
    /// Further headers; they override the descriptor's API headers of the same name.
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
    vendor: String,
    endpoint: String,
    status: u16,
    headers: HeaderMap,
    request_id: Option<String>,
    body: Vec<u8>,
    /// The access token sent, scrubbed from error excerpts should the body echo it.
    sent_token: SecretString,
}

impl fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiResponse")
            .field("endpoint", &self.endpoint)
            .field("status", &self.status)
            .field("request_id", &self.request_id)
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
        self.request_id.as_deref()
    }

    /// The URL requested, without query.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
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

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|err| Error::InvalidResponse {
            vendor: self.vendor.as_str().into(),
            endpoint: self.endpoint.as_str().into(),
            status: Some(self.status),
            request_id: self.request_id.as_deref().map(Into::into),
            content_type: self.header("content-type").map(Into::into),
            reason: format!("the body is not the expected JSON: {err}").into(),
            excerpt: scrub::excerpt(&self.body, &[self.sent_token.expose_secret()]).into(),
        })
    }

    /// The response when its status is 2xx, else an [`Error::Api`] with the status, the request
    /// id and a scrubbed excerpt of the body.
    pub fn error_for_status(self) -> Result<ApiResponse, Error> {
        if self.is_success() {
            return Ok(self);
        }
        Err(Error::Api {
            content_type: self.header("content-type").map(Into::into),
            excerpt: scrub::excerpt(&self.body, &[self.sent_token.expose_secret()]).into(),
            vendor: self.vendor.into(),
            endpoint: self.endpoint.into(),
            status: self.status,
            request_id: self.request_id.map(Into::into),
        })
    }
}

/// The bearer token goes only where the vendor's API lives: `url` must share `base`'s origin.
fn same_origin(vendor: &str, url: &Url, base: &Url) -> Result<(), Error> {
    if url.origin() == base.origin() {
        return Ok(());
    }
    Err(Error::Config {
        vendor: vendor.to_owned(),
        message: format!(
            "refusing to send the access token to {}: API requests must stay on the API's own \
             host ({})",
            http::display_url(url),
            base.origin().ascii_serialization()
        ),
    })
}

impl Client {
    /// The vendor URL of an API path (before [`crate::ClientOptions::rewrites`]); see
    /// [`ApiRequest::path`] for how paths are joined to `endpoints.api_base`.
    pub fn api_url(&self, path: &str) -> Result<Url, Error> {
        let vendor = self.provider().id().to_owned();
        if path.starts_with("https://") || path.starts_with("http://") {
            let url = Url::parse(path).map_err(|err| Error::Config {
                vendor: vendor.clone(),
                message: format!("invalid API URL: {err}"),
            })?;
            http::check_secure(&vendor, &url)?;
            if let Some(base) = self.resolve_endpoint(&EndpointKind::ApiBase)? {
                same_origin(&vendor, &url, &base)?;
            }
            return Ok(url);
        }
        let base = self
            .resolve_endpoint(&EndpointKind::ApiBase)?
            .ok_or_else(|| Error::Unsupported {
                vendor: vendor.clone(),
                what: "relative API paths (no `endpoints.api_base`)".to_owned(),
            })?;
        let mut base = base;
        if !base.path().ends_with('/') {
            let with_slash = format!("{}/", base.path());
            base.set_path(&with_slash);
        }
        let relative = match path.strip_prefix('/') {
            Some(_) if path.starts_with(base.path()) => path,
            Some(rest) => rest,
            None => path,
        };
        let url = base.join(relative).map_err(|err| Error::Config {
            vendor: vendor.clone(),
            message: format!("invalid API path: {err}"),
        })?;
        // A "relative" path such as `//other.host/x` or `\\other.host/x` joins to another host.
        same_origin(&vendor, &url, &base)?;
        http::check_secure(&vendor, &url)?;
        Ok(url)
    }

    /// Sends an authorized API request: `Authorization: Bearer <token>`, the descriptor's
    /// `api.headers` (variables substituted), then the request's own headers. Returns the
    /// response whatever its status (use [`ApiResponse::error_for_status`]); fails only when the
    /// request could not be made or the body is larger than [`MAX_API_BODY`]. API requests are
    /// not retried and redirects are not followed.
    pub async fn send_api(
        &self,
        token: &Token,
        request: &ApiRequest,
    ) -> Result<ApiResponse, Error> {
        let vendor = self.provider().id();
        let mut url = self.api_url(&request.path)?;
        if !request.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &request.query {
                pairs.append_pair(name, value);
            }
        }
        let target = self.effective_url(&url)?;
        let endpoint = http::display_url(&target);

        let config_error = |message: String| Error::Config {
            vendor: vendor.to_owned(),
            message,
        };
        let mut headers = HeaderMap::new();
        let descriptor_headers = self.provider().descriptor().api.headers.iter();
        for (name, value) in descriptor_headers {
            let used_by = format!("api.headers.{name}");
            let value = self.render_template(value, &used_by)?;
            insert_header(&mut headers, name, &value).map_err(|what| {
                config_error(format!("`{used_by}` is not a valid header {what}"))
            })?;
        }
        for (name, value) in &request.headers {
            insert_header(&mut headers, name, value)
                .map_err(|what| config_error(format!("request header `{name}`: invalid {what}")))?;
        }
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", token.access_token().expose_secret()))
                .map_err(|_| {
                    config_error("the access token cannot be sent in a header".to_owned())
                })?;
        bearer.set_sensitive(true);
        headers.insert(AUTHORIZATION, bearer);

        let http = self.http();
        let build = || {
            let builder = http
                .request(request.method.clone(), target.clone())
                .headers(headers.clone());
            match &request.body {
                None => builder,
                Some(ApiBody::Json(value)) => {
                    let builder = if headers.contains_key(CONTENT_TYPE) {
                        builder
                    } else {
                        builder.header(CONTENT_TYPE, "application/json")
                    };
                    builder.body(serde_json::to_vec(value).unwrap_or_default())
                }
                Some(ApiBody::Bytes {
                    content_type,
                    bytes,
                }) => builder
                    .header(CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone()),
            }
        };
        let captured = self
            .transport()
            .execute(&endpoint, RetryPolicy::Never, MAX_API_BODY, build)
            .await?;
        let Some(body) = captured.body else {
            return Err(Error::InvalidResponse {
                vendor: vendor.into(),
                endpoint: endpoint.into(),
                status: Some(captured.status),
                request_id: captured.request_id.map(Into::into),
                content_type: captured.content_type.map(Into::into),
                reason: format!(
                    "the body is larger than {} MiB and was not read",
                    MAX_API_BODY >> 20
                )
                .into(),
                excerpt: "".into(),
            });
        };
        Ok(ApiResponse {
            vendor: vendor.to_owned(),
            endpoint,
            status: captured.status,
            headers: captured.headers,
            request_id: captured.request_id,
            body,
            sent_token: token.access_token().clone(),
        })
    }

    fn render_template(&self, template: &str, used_by: &str) -> Result<String, Error> {
        self.vars().render(template, used_by, Escape::Plain)
    }
}

fn insert_header(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), &'static str> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| "name")?;
    let value = HeaderValue::from_str(value).map_err(|_| "value")?;
    headers.insert(name, value);
    Ok(())
}
