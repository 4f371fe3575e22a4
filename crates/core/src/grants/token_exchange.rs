//! Exchanging an access token for another: RFC 8693, or a vendor's long-lived token exchange
//! (a short-lived token for a long-lived one).

use oauth_clients_descriptor::GrantKind;
use secrecy::ExposeSecret;

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::request::{Params, TokenCall};
use crate::secret::AccessToken;
use crate::token::Token;
use crate::transport::RetryPolicy;

impl Client {
    /// Exchanges `subject` (the current access token) for a new token, as the descriptor's
    /// `token_exchange` grant says: its `grant_type`, the parameter that carries the token, and
    /// the `subject_token_type` when one is sent.
    pub async fn exchange_token(&self, subject: &AccessToken) -> Result<Token, Error> {
        let call = self.token_exchange_call(subject)?;
        self.token_call(call).await
    }

    pub(crate) fn token_exchange_call(&self, subject: &AccessToken) -> Result<TokenCall, Error> {
        let kind = GrantKind::TokenExchange;
        let grant = self.grant(kind, |g| g.token_exchange.as_ref())?;
        let url = self.grant_endpoint(kind, EndpointKind::Token)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(kind));
        params.set(grant.subject_token_param.clone(), subject.expose_secret());
        if let Some(kind) = &grant.subject_token_type {
            params.set("subject_token_type", kind.as_str());
        }
        self.add_extra_params(kind, &mut params)?;
        Ok(TokenCall {
            nonce: None,
            grant: kind,
            url,
            params,
            secrets: vec![subject.expose_secret().to_owned()],
            policy: RetryPolicy::Idempotent,
        })
    }
}
