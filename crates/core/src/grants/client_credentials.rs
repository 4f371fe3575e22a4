//! The client credentials grant (RFC 6749 §4.4).

use oauth_clients_descriptor::GrantKind;

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::request::{Params, TokenCall};
use crate::token::Token;
use crate::transport::RetryPolicy;

impl Client {
    /// Runs the client credentials grant: a token for the application itself.
    pub async fn client_credentials(&self) -> Result<Token, Error> {
        let call = self.client_credentials_call()?;
        self.token_call(call).await
    }

    pub(crate) fn client_credentials_call(&self) -> Result<TokenCall, Error> {
        let kind = GrantKind::ClientCredentials;
        let grant = self.grant(kind, |g| g.client_credentials.as_ref())?;
        let url = self.grant_endpoint(kind, EndpointKind::Token)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(kind));
        if grant.send_scope
            && let Some(scope) = self.scope_param(None)
        {
            params.set("scope", scope);
        }
        if let Some(redirect) = &grant.redirect_uri {
            let value = self.render_param(redirect, "grants.client_credentials.redirect_uri")?;
            params.set("redirect_uri", value);
        }
        self.add_extra_params(kind, &mut params)?;
        Ok(TokenCall {
            nonce: None,
            grant: kind,
            url,
            params,
            secrets: Vec::new(),
            policy: RetryPolicy::Idempotent,
        })
    }
}
