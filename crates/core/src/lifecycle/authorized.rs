//! Authorized API requests with tokens from a [`TokenManager`].

use std::fmt;

use crate::api::{ApiRequest, ApiResponse};
use crate::client::Client;
use crate::error::Error;
use crate::lifecycle::manager::TokenManager;

/// Sends API requests with a valid token from a [`TokenManager`] and the vendor's API headers.
///
/// When the vendor answers `401`, the token is reported as refused (one refresh for every caller
/// that saw it, see [`TokenManager::refresh_rejected`]) and the request is sent once more. An
/// [`ApiRequest`] holds its body in memory, so every request can be replayed. The response
/// carries the vendor's request id ([`ApiResponse::request_id`]).
///
/// ```no_run
/// # async fn run(client: oauth_clients_core::Client) -> Result<(), oauth_clients_core::Error> {
/// use oauth_clients_core::{ApiRequest, AuthorizedClient};
///
/// let api = AuthorizedClient::new(client);
/// let response = api.send(&ApiRequest::get("vendors/")).await?.error_for_status()?;
/// println!("request id: {:?}", response.request_id());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AuthorizedClient {
    client: Client,
    manager: TokenManager,
}

impl fmt::Debug for AuthorizedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedClient")
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

impl AuthorizedClient {
    /// A client whose tokens are managed in memory with default settings.
    pub fn new(client: Client) -> AuthorizedClient {
        let manager = TokenManager::new(client.clone());
        AuthorizedClient { client, manager }
    }

    /// A client using `manager`'s tokens (built for the same vendor and configuration, e.g.
    /// with a shared store: `TokenManager::builder(client.clone()).store(store).build()`).
    pub fn with_manager(client: Client, manager: TokenManager) -> AuthorizedClient {
        AuthorizedClient { client, manager }
    }

    /// The engine client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The token manager.
    pub fn manager(&self) -> &TokenManager {
        &self.manager
    }

    /// Sends `request` with a valid token. On `401`, refreshes once and sends it again; the
    /// second answer is returned whatever its status. Use [`ApiResponse::error_for_status`] to
    /// turn an unsuccessful status into an [`Error::Api`] (with the vendor's request id).
    pub async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, Error> {
        let token = self.manager.token().await?;
        // A scope of its own: the refused response is not kept in this future across the
        // refresh and the second request.
        {
            let response = self.client.send_api_shared(&token, request)?.await?;
            if !response.is_unauthorized() {
                return Ok(response);
            }
            tracing::debug!(
                vendor = %self.client.provider().id(),
                request_id = ?response.request_id(),
                "access token refused (401); refreshing once and retrying"
            );
        }
        let fresh = self.manager.refresh_rejected(token.access_token()).await?;
        self.client.send_api_shared(&fresh, request)?.await
    }

    /// Sends `request` and parses a successful JSON answer; any other status is an
    /// [`Error::Api`].
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        request: &ApiRequest,
    ) -> Result<T, Error> {
        self.send(request).await?.error_for_status()?.json()
    }
}
