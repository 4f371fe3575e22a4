//! The authorization code grant (RFC 6749 §4.1) with state, PKCE (RFC 7636) and the issuer
//! check of RFC 9207.

use std::collections::BTreeMap;

use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::Pkce;
use secrecy::ExposeSecret;

use crate::callback::{AuthorizationRequest, AuthorizeOptions, Callback};
use crate::client::Client;
use crate::crypto;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::oidc;
use crate::request::{Params, TokenCall};
use crate::sanitize::VALUE_CHARS;
use crate::secret::{AuthorizationCode, CsrfState, Nonce, PkceVerifier};
use crate::target::display_url;
use crate::token::Token;
use crate::transport::RetryPolicy;
use crate::vars::Escape;

impl Client {
    /// Builds an authorize URL with a fresh random state (and PKCE where the vendor allows it).
    pub fn authorize_url(&self) -> Result<AuthorizationRequest, Error> {
        self.authorize_url_with(&AuthorizeOptions::default())
    }

    /// Builds an authorize URL with per-request options.
    ///
    /// Parameter names come from `grants.authorization_code.authorize_params`; the scope is sent
    /// when `send_scope` is set and there are scopes; the redirect URI is the configuration's or
    /// the descriptor's default; `extra_authorize_params` are added with variables substituted;
    /// PKCE S256 per [`AuthorizeOptions::pkce`] and the descriptor. The URL has the client's
    /// rewrites applied.
    pub fn authorize_url_with(
        &self,
        options: &AuthorizeOptions,
    ) -> Result<AuthorizationRequest, Error> {
        let grant = self.grant(GrantKind::AuthorizationCode, |g| {
            g.authorization_code.as_ref()
        })?;
        let mut url = self.required_endpoint(EndpointKind::Authorization)?;
        let names = &grant.authorize_params;
        let state = crypto::random_token();
        let verifier = match grant.pkce {
            Pkce::Unsupported => None,
            Pkce::Supported if !options.pkce => None,
            Pkce::Supported | Pkce::Required => Some(crypto::random_token()),
        };
        let redirect_uri = self.redirect_uri(grant.default_redirect_uri.as_deref())?;
        let scope = self.scope_param(options.scopes.as_deref());
        let nonce = oidc::wants_openid(scope.as_deref(), &self.descriptor().scopes.separator)
            .then(crypto::random_token);
        let mut extra = Vec::new();
        for (name, value) in &grant.extra_authorize_params {
            let used_by = format!("grants.authorization_code.extra_authorize_params.{name}");
            extra.push((name.clone(), self.render_param(value, &used_by)?));
        }
        {
            let mut query = url.query_pairs_mut();
            query.append_pair(&names.response_type, "code");
            if grant.send_scope
                && let Some(scope) = &scope
            {
                query.append_pair(&names.scope, scope);
            }
            query.append_pair(&names.client_id, self.config().client_id());
            if let Some(redirect) = &redirect_uri {
                query.append_pair(&names.redirect_uri, redirect);
            }
            query.append_pair(&names.state, &state);
            if let Some(verifier) = &verifier {
                query.append_pair("code_challenge", &crypto::s256_challenge(verifier));
                query.append_pair("code_challenge_method", "S256");
            }
            if let Some(nonce) = &nonce {
                query.append_pair("nonce", nonce);
            }
            for (name, value) in extra.iter().chain(&options.extra_params) {
                query.append_pair(name, value);
            }
        }
        Ok(AuthorizationRequest {
            url: self.effective_url(&url)?,
            state: CsrfState::new(state),
            pkce_verifier: verifier.map(PkceVerifier::new),
            redirect_uri,
            nonce: nonce.map(Nonce::new),
        })
    }

    /// Checks the callback against the request and exchanges the code.
    ///
    /// In order: the callback's `iss` must be the descriptor's `issuer` when it names one (and
    /// must be present when the vendor always sends it), else [`Error::IssuerMismatch`]; an
    /// `error` gives [`Error::OAuth`] (without HTTP status); a missing or different state gives
    /// [`Error::StateMismatch`] (compared in constant time). No request is made in these cases.
    pub async fn exchange_code(
        &self,
        request: &AuthorizationRequest,
        callback: &Callback,
    ) -> Result<Token, Error> {
        self.check_callback(request, callback)?;
        let names = &self
            .grant(GrantKind::AuthorizationCode, |g| {
                g.authorization_code.as_ref()
            })?
            .callback_params;
        let code = callback
            .param(&names.code)
            .filter(|code| !code.is_empty())
            .map(AuthorizationCode::new);
        let Some(code) = code else {
            return Err(Error::InvalidResponse {
                vendor: self.vendor().into(),
                endpoint: self.authorization_endpoint_display().into(),
                status: None,
                request_id: None,
                content_type: None,
                reason: "the callback carries neither a code nor an error".into(),
                excerpt: "".into(),
            });
        };
        // Values of the callback may shape the token endpoint (a regional host).
        let captured = self.callback_captures(callback)?;
        let mut call = self.exchange_call(
            GrantKind::AuthorizationCode,
            &code,
            request.pkce_verifier.as_ref(),
            request.redirect_uri.clone(),
            &captured,
        )?;
        call.nonce = request.nonce.clone();
        let mut token = self.token_call(call).await?;
        if !captured.is_empty() {
            token.details_mut().variables.extend(captured);
        }
        Ok(token)
    }

    /// The checks of a callback before its code may be exchanged: issuer, error, state.
    pub(crate) fn check_callback(
        &self,
        request: &AuthorizationRequest,
        callback: &Callback,
    ) -> Result<(), Error> {
        self.check_issuer(callback.iss.as_deref())?;
        if let Some(error) = &callback.error {
            let sanitizer = self.sanitizer_with(&[]);
            let clean = |s: &str| sanitizer.clean(s, VALUE_CHARS).into_boxed_str();
            return Err(Error::OAuth {
                vendor: self.vendor().into(),
                endpoint: self.authorization_endpoint_display().into(),
                refused: Some("the authorization".into()),
                status: None,
                request_id: None,
                error: clean(error),
                error_description: callback.error_description.as_deref().map(clean),
                error_uri: callback
                    .error_uri
                    .as_deref()
                    .map(|u| sanitizer.clean_shown(u, 200).into()),
            });
        }
        let state_name = self
            .grant(GrantKind::AuthorizationCode, |g| {
                g.authorization_code.as_ref()
            })?
            .callback_params
            .state
            .as_str();
        if !request.state_matches(callback.param(state_name)) {
            return Err(Error::StateMismatch {
                vendor: self.vendor().into(),
                endpoint: self.authorization_endpoint_display().into(),
            });
        }
        Ok(())
    }

    /// RFC 9207: when the descriptor names an issuer, a callback's `iss` must equal it, and a
    /// vendor that always sends `iss` must have sent it.
    pub(crate) fn check_issuer(&self, iss: Option<&str>) -> Result<(), Error> {
        let descriptor = self.descriptor();
        let Some(issuer) = &descriptor.issuer else {
            return Ok(());
        };
        let expected = self.vars().render_text(issuer, "issuer", Escape::Url)?;
        let matches = match iss {
            Some(got) => crypto::constant_time_eq(got.as_bytes(), expected.as_bytes()),
            None => !descriptor.authorization_response_iss,
        };
        if matches {
            return Ok(());
        }
        Err(Error::IssuerMismatch {
            vendor: self.vendor().into(),
            expected: expected.into(),
            got: iss.map(|got| self.sanitizer_with(&[]).clean(got, 200).into()),
        })
    }

    /// Exchanges a code obtained out of band (pasted by the user); no state to check.
    pub async fn exchange_code_oob(
        &self,
        code: &AuthorizationCode,
        pkce_verifier: Option<&PkceVerifier>,
    ) -> Result<Token, Error> {
        let grant = self.grant(GrantKind::AuthorizationCode, |g| {
            g.authorization_code.as_ref()
        })?;
        let redirect_uri = self.redirect_uri(grant.default_redirect_uri.as_deref())?;
        self.exchange(
            GrantKind::AuthorizationCode,
            code,
            pkce_verifier,
            redirect_uri,
        )
        .await
    }

    /// The code exchange of the authorization code and legacy grants. Never retried once the
    /// request may have reached the server: a code is single-use.
    pub(crate) async fn exchange(
        &self,
        grant: GrantKind,
        code: &AuthorizationCode,
        pkce_verifier: Option<&PkceVerifier>,
        redirect_uri: Option<String>,
    ) -> Result<Token, Error> {
        let call =
            self.exchange_call(grant, code, pkce_verifier, redirect_uri, &BTreeMap::new())?;
        self.token_call(call).await
    }

    pub(crate) fn exchange_call(
        &self,
        grant: GrantKind,
        code: &AuthorizationCode,
        pkce_verifier: Option<&PkceVerifier>,
        redirect_uri: Option<String>,
        captured: &BTreeMap<String, String>,
    ) -> Result<TokenCall, Error> {
        let send_redirect = match grant {
            GrantKind::AuthorizationCode => {
                self.grant(grant, |g| g.authorization_code.as_ref())?
                    .send_redirect_uri
            }
            _ => true,
        };
        let url = self.grant_endpoint_with(grant, EndpointKind::Token, captured)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(grant));
        params.set("code", code.expose_secret());
        if let (true, Some(redirect)) = (send_redirect, redirect_uri) {
            params.set("redirect_uri", redirect);
        }
        let mut secrets = vec![code.expose_secret().to_owned()];
        if let Some(verifier) = pkce_verifier {
            params.set("code_verifier", verifier.expose_secret());
            secrets.push(verifier.expose_secret().to_owned());
        }
        self.add_extra_params(grant, &mut params)?;
        Ok(TokenCall {
            nonce: None,
            grant,
            url,
            params,
            secrets,
            policy: RetryPolicy::SingleUse,
        })
    }

    fn authorization_endpoint_display(&self) -> String {
        match self.resolve_endpoint(&EndpointKind::Authorization) {
            Ok(Some(url)) => display_url(&url),
            _ => "the authorization endpoint".to_owned(),
        }
    }
}
