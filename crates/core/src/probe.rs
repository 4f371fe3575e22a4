//! Reachability probes of a vendor's endpoints, for tools that check a set-up (`doctor`): a
//! plain GET without credentials through the client's transport (rewrites, timeouts, TLS).

use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::transport::{PreparedRequest, RetryPolicy};

/// The most of a probe's answer that is read.
const PROBE_BODY: usize = 16 * 1024;

/// What an endpoint answered to a probe.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Probe {
    /// The URL probed (rewrites applied), without query.
    pub endpoint: String,
    /// The HTTP status (any status means the endpoint was reached, TLS included).
    pub status: u16,
    /// The server's `Date` header, when it sent one (to estimate clock skew).
    pub date: Option<String>,
}

impl Client {
    /// Sends a GET without credentials to an endpoint of the descriptor and reports what came
    /// back. Fails when the endpoint has no URL (a missing variable), or the connection or TLS
    /// handshake fails. Sends nothing secret: token endpoints answer such a GET with an error
    /// status, which still shows they are reachable.
    pub async fn probe(&self, kind: &EndpointKind) -> Result<Probe, Error> {
        let url = self
            .resolve_endpoint(kind)?
            .ok_or_else(|| Error::unsupported(self.vendor(), format!("the `{kind}` endpoint")))?;
        let target = self.transport().target(url)?;
        let mut request = PreparedRequest {
            method: Method::GET,
            url: target,
            endpoint: Default::default(),
            headers: HeaderMap::new(),
            body: None,
            sanitizer: self.sanitizer_with(&[]),
        };
        let response = self
            .transport()
            .send(&mut request, RetryPolicy::Never, PROBE_BODY)
            .await?;
        Ok(Probe {
            endpoint: request.endpoint().to_owned(),
            status: response.status,
            date: response
                .header("date")
                .map(|d| request.sanitizer.clean_shown(d, 64)),
        })
    }
}
