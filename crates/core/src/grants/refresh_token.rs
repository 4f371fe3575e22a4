//! Refreshing an access token (RFC 6749 §6).

use std::collections::BTreeMap;

use oauth_clients_descriptor::GrantKind;
use secrecy::ExposeSecret;

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::request::{Params, TokenCall};
use crate::secret::RefreshToken;
use crate::token::Token;
use crate::transport::RetryPolicy;

impl Client {
    /// Refreshes; the returned token keeps the old refresh token when the vendor sent none, and
    /// carries the new one when the vendor rotates it. Sent to `endpoints.refresh`, else the
    /// token endpoint. An expired or revoked refresh token gives an [`Error::OAuth`] for which
    /// [`Error::is_invalid_grant`] is true.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<Token, Error> {
        self.refresh_with(refresh_token, &BTreeMap::new()).await
    }

    /// Refreshes with the values captured with the token on top of the client's variables
    /// (they may shape the refresh endpoint); counted as a refresh (`observe.rs`).
    async fn refresh_with(
        &self,
        refresh_token: &RefreshToken,
        captured: &BTreeMap<String, String>,
    ) -> Result<Token, Error> {
        // No `match` around the await: its scrutinee (the call or its error, 120 bytes and
        // more) would be kept in this future, and in every refresh's.
        let call = match self.refresh_call(refresh_token, captured) {
            Ok(call) => call,
            Err(err) => {
                let result = Err(err);
                crate::observe::refresh(self.vendor(), &result);
                return result;
            }
        };
        let result = self.token_call(call).await;
        crate::observe::refresh(self.vendor(), &result);
        let mut token = result?;
        if token.refresh_token.is_none() {
            token.refresh_token = Some(refresh_token.clone());
        }
        Ok(token)
    }

    /// Refreshes a token: like [`Client::refresh`] with its refresh token, and what the answer
    /// lacks (the refresh token, captured values) kept from `previous`.
    pub async fn refresh_token_of(&self, previous: &Token) -> Result<Token, Error> {
        let Some(refresh_token) = previous.refresh_token() else {
            return Err(Error::unsupported(
                self.vendor(),
                "refreshing a token without a refresh token",
            ));
        };
        Ok(self
            .refresh_with(refresh_token, previous.variables())
            .await?
            .inherit_refresh_token(previous))
    }

    pub(crate) fn refresh_call(
        &self,
        refresh_token: &RefreshToken,
        captured: &BTreeMap<String, String>,
    ) -> Result<TokenCall, Error> {
        let kind = GrantKind::RefreshToken;
        let grant = self.grant(kind, |g| g.refresh_token.as_ref())?;
        let url = self.grant_endpoint_with(kind, EndpointKind::Refresh, captured)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(kind));
        params.set("refresh_token", refresh_token.expose_secret());
        self.add_extra_params(kind, &mut params)?;
        Ok(TokenCall {
            nonce: None,
            grant: kind,
            url,
            params,
            secrets: vec![refresh_token.expose_secret().to_owned()],
            // A rotating refresh token is single-use: once the vendor has seen it, a retry
            // would be refused with `invalid_grant`, so it is retried only when it never left.
            policy: if grant.rotates {
                RetryPolicy::SingleUse
            } else {
                RetryPolicy::Idempotent
            },
        })
    }
}
