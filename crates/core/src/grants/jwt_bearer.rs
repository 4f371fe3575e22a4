//! The JWT-bearer grant (RFC 7523 §2.1): a signed assertion stands in for a user's consent
//! (service accounts).

use oauth_clients_descriptor::GrantKind;
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::request::{Params, TokenCall};
use crate::token::{Token, now_unix};
use crate::transport::RetryPolicy;
use crate::vars::Escape;

impl Client {
    /// Runs the JWT-bearer grant: an assertion with the descriptor's claims, signed with the
    /// configuration's signing key, for `subject` (the user or account the claims' `{subject}`
    /// names; `None` when the claims use none).
    pub async fn jwt_bearer(&self, subject: Option<&str>) -> Result<Token, Error> {
        let call = self.jwt_bearer_call(subject)?;
        self.token_call(call).await
    }

    pub(crate) fn jwt_bearer_call(&self, subject: Option<&str>) -> Result<TokenCall, Error> {
        let kind = GrantKind::JwtBearer;
        let vendor = self.vendor();
        let grant = self.grant(kind, |g| g.jwt_bearer.as_ref())?;
        let url = self.grant_endpoint(kind, EndpointKind::Token)?;
        let key = self.config().signing_key_value().ok_or_else(|| {
            Error::config(
                vendor,
                "the JWT-bearer grant needs a private key to sign the assertion: set \
                 ClientConfig::signing_key",
            )
        })?;
        if key.algorithm() != grant.algorithm {
            return Err(Error::config(
                vendor,
                format!(
                    "the vendor wants {:?} assertions, but the signing key is {:?}",
                    grant.algorithm,
                    key.algorithm()
                ),
            ));
        }
        let mut vars = self.vars().clone();
        let mut token_endpoint = url.clone();
        token_endpoint.set_query(None);
        vars.set("token_endpoint", token_endpoint.as_str());
        vars.set("scope", self.scope_param(None).unwrap_or_default());
        if let Some(subject) = subject {
            vars.set("subject", subject);
        }
        let mut claims = Map::new();
        for (name, template) in &grant.claims {
            let used_by = format!("grants.jwt_bearer.claims.{name}");
            let value = vars.render_text(template, &used_by, Escape::Plain)?;
            if !value.is_empty() {
                claims.insert(name.clone(), Value::String(value));
            }
        }
        let now = now_unix();
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + grant.lifetime_seconds).into());
        claims.insert("jti".into(), crate::crypto::random_token().into());
        let assertion = key.sign(vendor, &claims)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(kind));
        params.set("assertion", assertion.as_str());
        if grant.send_scope
            && let Some(scope) = self.scope_param(None)
        {
            params.set("scope", scope);
        }
        self.add_extra_params(kind, &mut params)?;
        let secret = crate::secret::AccessToken::new(assertion);
        Ok(TokenCall {
            nonce: None,
            grant: kind,
            url,
            params,
            secrets: vec![secret.expose_secret().to_owned()],
            // An assertion is single-use where the vendor checks its `jti`.
            policy: RetryPolicy::SingleUse,
        })
    }
}
