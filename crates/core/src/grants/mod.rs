//! The grants, one file each; what they share is here: the shared token call (prepare → send
//! → parse), grant lookup, `grant_type`, scopes, extra parameters and the redirect URI.

mod authorization_code;
mod client_credentials;
mod device_code;
mod jwt_bearer;
mod legacy_credentials;
mod refresh_token;
mod token_exchange;

pub use device_code::{DeviceAuthorization, DevicePoll};

use std::collections::BTreeMap;
use std::pin::Pin;

use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::{Capture, Grants};
use url::Url;

use crate::callback::Callback;
use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::observe::TokenRequestObserver;
use crate::request::{Params, TokenCall};
use crate::response::{self, MAX_TOKEN_BODY, ResponseMeta};
use crate::secret::Nonce;
use crate::token::{Token, now_unix};
use crate::transport::{BufferedResponse, PreparedRequest, RetryPolicy};
use crate::vars::Escape;

/// What a refused request of a grant asked for, for messages ("… refused the refresh token").
fn what_is_refused(grant: GrantKind) -> &'static str {
    match grant {
        GrantKind::ClientCredentials => "the client credentials",
        GrantKind::AuthorizationCode | GrantKind::LegacyCredentials => "the authorization code",
        GrantKind::RefreshToken => "the refresh token",
        GrantKind::DeviceCode => "the device code",
        GrantKind::JwtBearer => "the JWT assertion",
        GrantKind::TokenExchange => "the token to exchange",
    }
}

impl Client {
    /// The settings of a grant, or [`Error::Unsupported`] when the vendor does not offer it.
    pub(crate) fn grant<'d, G>(
        &'d self,
        kind: GrantKind,
        pick: impl FnOnce(&'d Grants) -> Option<&'d G>,
    ) -> Result<&'d G, Error> {
        pick(&self.descriptor().grants)
            .ok_or_else(|| Error::unsupported(self.vendor(), format!("grant `{kind}`")))
    }

    /// The `grant_type` value sent for `grant`: the user's override, else the descriptor's.
    pub(crate) fn grant_type(&self, grant: GrantKind) -> &str {
        match self.config().grant_type_overrides().get(&grant) {
            Some(value) => value,
            None => self.descriptor().grants.grant_type(grant),
        }
    }

    /// The scope parameter: the request's scopes, else the configuration's, else the
    /// descriptor's defaults, joined with the descriptor's separator; `None` when empty.
    pub(crate) fn scope_param(&self, requested: Option<&[String]>) -> Option<String> {
        let scopes = requested
            .or(self.config().scope_list())
            .unwrap_or(&self.descriptor().scopes.default);
        (!scopes.is_empty()).then(|| scopes.join(&self.descriptor().scopes.separator))
    }

    /// Adds the grant's `extra_params`, variables substituted.
    pub(crate) fn add_extra_params(
        &self,
        grant: GrantKind,
        params: &mut Params,
    ) -> Result<(), Error> {
        if let Some(common) = self.descriptor().grants.common(grant) {
            for (name, value) in common.extra_params {
                let used_by = format!("grants.{grant}.extra_params.{name}");
                params.set(name.to_owned(), self.render_param(value, &used_by)?);
            }
        }
        Ok(())
    }

    /// The redirect URI: the configuration's, else `default` (the grant's), rendered.
    pub(crate) fn redirect_uri(&self, default: Option<&str>) -> Result<Option<String>, Error> {
        match self.config().redirect_uri_value().or(default) {
            Some(uri) => Ok(Some(self.render_param(uri, "redirect_uri")?)),
            None => Ok(None),
        }
    }

    /// Makes one token request: prepare, send, parse, capture the values the descriptor asks
    /// for; inside an `oauth.token_request` span (see `observe.rs`).
    ///
    /// The request is prepared before the future is made, and the future is boxed: the
    /// request, the transport's future and the parse would otherwise make every caller's
    /// future (a grant's, a refresh's flight) some hundreds of bytes larger, copied at each
    /// move. What the future owns it keeps once: it lends the request, nonce and observer to
    /// the exchange (an argument moved into an `async fn` is kept twice).
    pub(crate) fn token_call(
        &self,
        call: TokenCall,
    ) -> Pin<Box<impl Future<Output = Result<Token, Error>> + Send + '_>> {
        let (grant, policy) = (call.grant, call.policy);
        let nonce = call.nonce.clone();
        let mut prepared = self.prepare_token_request(call);
        Box::pin(async move {
            let observer = TokenRequestObserver::new(self.vendor(), grant.as_str());
            let exchange =
                self.observed_token_call(grant, policy, nonce.as_ref(), &mut prepared, &observer);
            observer.run(exchange).await
        })
    }

    /// The token request's exchange, parse and checks.
    async fn observed_token_call(
        &self,
        grant: GrantKind,
        policy: RetryPolicy,
        nonce: Option<&Nonce>,
        prepared: &mut Result<PreparedRequest, Error>,
        observer: &TokenRequestObserver<'_>,
    ) -> Result<Token, Error> {
        let request = match prepared {
            Ok(request) => request,
            Err(err) => return Err(err.clone()),
        };
        observer.endpoint(request.endpoint());
        // In a block of its own: the response is not kept across the ID token's check.
        let mut token = {
            let response = self
                .transport()
                .send(request, policy, MAX_TOKEN_BODY)
                .await?;
            self.observe_answer(observer, request, &response);
            self.parse_token_response(grant, request, &response)?
        };
        self.capture_from_answer(&mut token)?;
        if token.id_token().is_some() || nonce.is_some() {
            // Only OpenID answers fetch keys: boxed, so that the others' futures stay small.
            Box::pin(self.check_id_token(&mut token, nonce)).await?;
        }
        Ok(token)
    }

    /// Records an answer's status and request id in the request's span.
    pub(crate) fn observe_answer(
        &self,
        observer: &TokenRequestObserver<'_>,
        request: &PreparedRequest,
        response: &BufferedResponse,
    ) {
        let request_id = self
            .transport()
            .request_id(&response.headers, &request.sanitizer);
        observer.answered(response.status, request_id.as_deref());
    }

    /// The token endpoint of `grant`: its own (`grants.<grant>.endpoint`), else `fallback`.
    pub(crate) fn grant_endpoint(
        &self,
        grant: GrantKind,
        fallback: EndpointKind,
    ) -> Result<Url, Error> {
        self.grant_endpoint_with(grant, fallback, &BTreeMap::new())
    }

    /// [`Client::grant_endpoint`] with captured values (from the callback, or kept with the
    /// token being refreshed) on top of the client's variables.
    pub(crate) fn grant_endpoint_with(
        &self,
        grant: GrantKind,
        fallback: EndpointKind,
        captured: &BTreeMap<String, String>,
    ) -> Result<Url, Error> {
        let own = self
            .descriptor()
            .grants
            .common(grant)
            .and_then(|c| c.endpoint);
        let Some(template) = own else {
            return self.endpoint_with(fallback, captured);
        };
        let used_by = format!("grants.{grant}.endpoint");
        let vars = self.vars().overlay(captured);
        let text = vars.render_text(template, &used_by, Escape::Url)?;
        let url = Url::parse(&text).map_err(|err| {
            Error::config(
                self.vendor(),
                format!("`{used_by}` does not give a valid URL: {err}"),
            )
        })?;
        crate::target::check_secure(self.vendor(), &url)?;
        Ok(url)
    }

    /// Keeps the values the descriptor captures from the token answer (`from:
    /// token_response.…`) with the token.
    pub(crate) fn capture_from_answer(&self, token: &mut Token) -> Result<(), Error> {
        for (name, variable) in &self.descriptor().variables {
            let Some(Capture::TokenResponse(keys)) = variable.capture() else {
                continue;
            };
            let (last, path) = match keys.split_last() {
                Some(split) => split,
                None => continue,
            };
            let path: Vec<String> = path.iter().map(|k| (*k).to_owned()).collect();
            let object = if path.is_empty() {
                Some(token.extra())
            } else {
                response::object_at(token.extra(), &path)
            };
            let value = match object.and_then(|o| o.get(*last)) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            self.keep_captured(token, name, value)?;
        }
        Ok(())
    }

    /// The values the descriptor captures from the callback (`from: callback.…`), each
    /// checked against its variable's pattern.
    pub(crate) fn callback_captures(
        &self,
        callback: &Callback,
    ) -> Result<BTreeMap<String, String>, Error> {
        let mut captured = BTreeMap::new();
        for (name, variable) in &self.descriptor().variables {
            if let Some(Capture::Callback(param)) = variable.capture()
                && let Some(value) = callback.param(param)
            {
                captured.insert(name.clone(), self.checked_capture(name, value)?);
            }
        }
        Ok(captured)
    }

    /// A captured value must match its variable's pattern: the vendor's answer shapes later
    /// URLs, so a value that does not is refused.
    fn checked_capture(&self, name: &str, value: &str) -> Result<String, Error> {
        let value = value.trim_end_matches('/').to_owned();
        if !self.provider().value_matches(name, &value) {
            return Err(Error::refused(
                self.vendor(),
                format!(
                    "the vendor's value for `{name}` does not match the descriptor's pattern; \
                     it is not used (it would shape later URLs)"
                ),
            ));
        }
        Ok(value)
    }

    fn keep_captured(&self, token: &mut Token, name: &str, value: String) -> Result<(), Error> {
        let value = self.checked_capture(name, &value)?;
        token.details_mut().variables.insert(name.to_owned(), value);
        Ok(())
    }

    /// Reads a token endpoint's answer to `request`.
    pub(crate) fn parse_token_response(
        &self,
        grant: GrantKind,
        request: &PreparedRequest,
        response: &BufferedResponse,
    ) -> Result<Token, Error> {
        let mut meta = self.response_meta(request, response);
        meta.refused = Some(what_is_refused(grant));
        response::token_response(
            &meta,
            response.body.as_deref(),
            &self.descriptor().token_response,
            now_unix(),
        )
    }

    /// What is known about a response besides its body, sanitized.
    pub(crate) fn response_meta<'a>(
        &'a self,
        request: &'a PreparedRequest,
        response: &'a BufferedResponse,
    ) -> ResponseMeta<'a> {
        let request_id = self
            .transport()
            .request_id(&response.headers, &request.sanitizer);
        ResponseMeta::new(
            self.vendor(),
            request.endpoint(),
            response,
            request_id,
            &request.sanitizer,
        )
    }
}
