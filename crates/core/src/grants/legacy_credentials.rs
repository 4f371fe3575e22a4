//! The legacy credentials-to-code flow (deprecated wherever it still exists): the user's
//! credentials are posted for a code, whose redirect is read but not followed, then the code
//! is exchanged as usual.

use oauth_clients_descriptor::GrantKind;
use reqwest::Method;
use reqwest::header::HeaderValue;
use secrecy::ExposeSecret;

use crate::callback::Callback;
use crate::client::Client;
use crate::config::UserCredentials;
use crate::crypto;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::request::{Params, encode_form};
use crate::response::{self, MAX_TOKEN_BODY};
use crate::sanitize::VALUE_CHARS;
use crate::secret::{AuthorizationCode, CsrfState};
use crate::token::Token;
use crate::transport::{BufferedResponse, PreparedRequest, RetryPolicy};

impl Client {
    /// Runs the legacy credentials-to-code flow, then exchanges the code.
    ///
    /// Step 1 POSTs `username`, `password`, `redirect_uri` and the descriptor's
    /// `credentials_params` as a form to `endpoints.extra[credentials_endpoint]`, with
    /// `response_type=code`, `client_id` and a random `state` in the query. The `302` is not
    /// followed: `code` and `state` are read from its `Location`, and the state is checked in
    /// constant time. Step 2 exchanges the code at the token endpoint. Neither step is resent
    /// once it may have reached the vendor: a resent login can count twice against the
    /// vendor's failed-login limits, and a code is single-use.
    pub async fn legacy_credentials(&self, user: &UserCredentials) -> Result<Token, Error> {
        let (mut request, state, redirect_uri) = self.legacy_login_request(user)?;
        let response = self
            .transport()
            .send(&mut request, RetryPolicy::SingleUse, MAX_TOKEN_BODY)
            .await?;
        let code = self.code_from_redirect(&request, &response, &state)?;
        self.exchange(
            GrantKind::LegacyCredentials,
            &code,
            None,
            Some(redirect_uri),
        )
        .await
    }

    /// Step 1 as plain data, with the state it sends and the redirect URI.
    pub(crate) fn legacy_login_request(
        &self,
        user: &UserCredentials,
    ) -> Result<(PreparedRequest, CsrfState, String), Error> {
        let grant = self.grant(GrantKind::LegacyCredentials, |g| {
            g.legacy_credentials.as_ref()
        })?;
        let mut url =
            self.required_endpoint(EndpointKind::Extra(grant.credentials_endpoint.clone()))?;
        let state = crypto::random_token();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", self.config().client_id())
            .append_pair("state", &state);
        let Some(redirect_uri) = self.redirect_uri(grant.default_redirect_uri.as_deref())? else {
            return Err(Error::config(
                self.vendor(),
                "the legacy credentials flow needs a redirect URI: set \
                 ClientConfig::redirect_uri to the one registered for the integration",
            ));
        };
        let mut form = Params::default();
        form.set("username", user.username.as_str());
        form.set("password", user.password.expose_secret());
        for (name, value) in &grant.credentials_params {
            let used_by = format!("grants.legacy_credentials.credentials_params.{name}");
            form.set(name.clone(), self.render_param(value, &used_by)?);
        }
        form.set("redirect_uri", redirect_uri.as_str());
        let target = self.transport().target(url)?;
        let request = PreparedRequest {
            method: Method::POST,
            url: target,
            endpoint: Default::default(),
            headers: Default::default(),
            body: Some((
                HeaderValue::from_static("application/x-www-form-urlencoded"),
                encode_form(&form).into_bytes().into(),
            )),
            sanitizer: self.sanitizer_with(&[
                user.password.expose_secret(),
                user.username.as_str(),
                state.as_str(),
            ]),
        };
        Ok((request, CsrfState::new(state), redirect_uri))
    }

    /// Reads the code from step 1's redirect (not followed), checking the state.
    pub(crate) fn code_from_redirect(
        &self,
        request: &PreparedRequest,
        response: &BufferedResponse,
        state: &CsrfState,
    ) -> Result<AuthorizationCode, Error> {
        let meta = self.response_meta(request, response);
        let body = response.body.as_deref().unwrap_or(b"");
        let location = response.header("location");
        let (true, Some(location)) = ((300..400).contains(&response.status), location) else {
            if let Some(err) = response::body_object(&meta, body).and_then(|o| meta.oauth_error(&o))
            {
                return Err(err);
            }
            return Err(meta.invalid(
                "expected a redirect (302) whose Location carries the authorization code",
                body,
            ));
        };
        let location = request
            .url
            .join(location)
            .map_err(|_| meta.invalid("the redirect's Location is not a valid URL", b""))?;
        let callback = Callback::from_query(location.query().unwrap_or(""));
        if let Some(error) = &callback.error {
            let clean = |s: &str| meta.sanitizer.clean(s, VALUE_CHARS).into_boxed_str();
            return Err(Error::OAuth {
                vendor: self.vendor().into(),
                endpoint: request.endpoint().into(),
                refused: Some("the user's credentials".into()),
                status: Some(response.status),
                request_id: meta.request_id.as_deref().map(Into::into),
                error: clean(error),
                error_description: callback.error_description.as_deref().map(clean),
                error_uri: callback
                    .error_uri
                    .as_deref()
                    .map(|u| meta.sanitizer.clean_shown(u, 200).into()),
            });
        }
        if !state.matches(callback.state.as_deref()) {
            return Err(Error::StateMismatch {
                vendor: self.vendor().into(),
                endpoint: request.endpoint().into(),
            });
        }
        match callback.code {
            Some(code) if callback_has_code(&code) => Ok(code),
            _ => Err(meta.invalid("the redirect's Location carries no code", b"")),
        }
    }
}

fn callback_has_code(code: &AuthorizationCode) -> bool {
    !code.expose_secret().is_empty()
}
