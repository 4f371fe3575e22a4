//! Discovery (RFC 8414, OpenID Connect Discovery 1.0): a [`Provider`] built at run time from
//! an issuer's metadata, for standards-compliant vendors that have no descriptor.

use oauth_clients_descriptor::Provider;
use oauth_clients_descriptor::metadata::{
    ServerMetadata, descriptor_from_metadata, id_from_issuer, metadata_urls,
};
use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use url::Url;

use crate::error::Error;
use crate::response::MAX_TOKEN_BODY;
use crate::sanitize::Sanitizer;
use crate::target::{check_secure, display_url};
use crate::transport::{ClientOptions, PreparedRequest, RetryPolicy, Transport};

/// A provider discovered from an issuer's metadata.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Discovered {
    /// The provider, validated like a descriptor file.
    pub provider: Provider,
    /// Where the metadata was found.
    pub metadata_url: Url,
    /// The metadata as read.
    pub metadata: ServerMetadata,
}

/// Fetches the metadata of `issuer` and builds a provider from it, with id `id` (else one made
/// from the issuer's host). The well-known URLs are tried in turn (see
/// [`oauth_clients_descriptor::metadata::metadata_urls`]); the metadata's `issuer` must be
/// exactly `issuer` (RFC 8414 §3.3), which stops a server from speaking for another. The
/// options' rewrites and timeouts apply.
///
/// ```no_run
/// # async fn run() -> Result<(), oauth_clients_core::Error> {
/// use oauth_clients_core::{Client, ClientConfig, ClientOptions, discover};
///
/// let found = discover("https://id.example.com", None, ClientOptions::default()).await?;
/// let client = Client::new(found.provider, ClientConfig::new("my-client-id"))?;
/// # Ok(())
/// # }
/// ```
pub async fn discover(
    issuer: &str,
    id: Option<&str>,
    options: ClientOptions,
) -> Result<Discovered, Error> {
    const WHO: &str = "discovery";
    let issuer_url = Url::parse(issuer)
        .map_err(|err| Error::config(WHO, format!("the issuer `{issuer}` is not a URL: {err}")))?;
    if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
        return Err(Error::config(
            WHO,
            "an issuer has no query or fragment (RFC 8414 §2)",
        ));
    }
    check_secure(WHO, &issuer_url)?;
    let id = id
        .map(str::to_owned)
        .unwrap_or_else(|| id_from_issuer(&issuer_url));
    let transport = Transport::new(&id, options, None)?;
    let mut failures = Vec::new();
    for url in metadata_urls(&issuer_url) {
        match fetch_metadata(&transport, &id, &url).await {
            Ok(Some(metadata)) => {
                return from_metadata(&id, issuer, url, metadata);
            }
            Ok(None) => failures.push(format!("{}: not found", display_url(&url))),
            Err(err) => failures.push(err.to_string()),
        }
    }
    Err(Error::Unsupported {
        vendor: id.into(),
        what: format!(
            "discovery: no metadata for issuer `{issuer}` ({})",
            failures.join("; ")
        )
        .into(),
    })
}

fn from_metadata(
    id: &str,
    issuer: &str,
    url: Url,
    metadata: ServerMetadata,
) -> Result<Discovered, Error> {
    if metadata.issuer != issuer {
        return Err(Error::IssuerMismatch {
            vendor: id.into(),
            expected: issuer.into(),
            got: Some(Sanitizer::new().clean(&metadata.issuer, 200).into()),
        });
    }
    let descriptor = descriptor_from_metadata(&metadata, id)
        .map_err(|message| Error::config(id, format!("{}: {message}", display_url(&url))))?;
    let provider = Provider::from_descriptor(descriptor, url.as_str()).map_err(|errors| {
        let first = errors.into_iter().next();
        first
            .map(Error::from)
            .unwrap_or_else(|| Error::config(id, "the metadata does not make a valid descriptor"))
    })?;
    Ok(Discovered {
        provider,
        metadata_url: url,
        metadata,
    })
}

/// The metadata at `url`; `None` when the server has none there (404 and the like).
async fn fetch_metadata(
    transport: &Transport,
    id: &str,
    url: &Url,
) -> Result<Option<ServerMetadata>, Error> {
    let target = transport.target(url.clone())?;
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let sanitizer = Sanitizer::new();
    let mut request = PreparedRequest {
        method: Method::GET,
        url: target,
        endpoint: Default::default(),
        headers,
        body: None,
        sanitizer,
    };
    let response = transport
        .send(&mut request, RetryPolicy::Idempotent, MAX_TOKEN_BODY)
        .await?;
    if matches!(response.status, 404 | 405 | 410) {
        return Ok(None);
    }
    let body = response.body.as_deref().unwrap_or_default();
    let meta = crate::response::ResponseMeta::new(
        id,
        request.endpoint(),
        &response,
        None,
        &request.sanitizer,
    );
    if !(200..300).contains(&response.status) {
        return Err(meta.invalid("the metadata could not be fetched", body));
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|err| meta.invalid(format!("not authorization server metadata ({err})"), body))
}
