//! The device authorization grant (RFC 8628): the device shows a code, the user approves on
//! another device, and the device polls for the token.

use std::fmt;
use std::time::Duration;

use oauth_clients_descriptor::GrantKind;
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::time::Instant;

use crate::client::Client;
use crate::endpoints::EndpointKind;
use crate::error::Error;
use crate::observe::TokenRequestObserver;
use crate::request::{Params, TokenCall};
use crate::response::{self, MAX_TOKEN_BODY};
use crate::secret::DeviceCode;
use crate::token::Token;
use crate::transport::RetryPolicy;

/// The interval between polls when the vendor gives none (RFC 8628 §3.2).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// How much longer to wait after `slow_down` (RFC 8628 §3.5).
const SLOW_DOWN: Duration = Duration::from_secs(5);

/// The longest a device code is polled for, whatever the vendor says.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// A device authorization in progress: what to show the user, and what to poll with.
/// `Debug` never shows the device code.
#[derive(Clone)]
pub struct DeviceAuthorization {
    device_code: DeviceCode,
    /// The code the user enters.
    pub user_code: String,
    /// Where the user enters it.
    pub verification_uri: String,
    /// A URL that carries the code already (for a QR code or a link), when the vendor gives one.
    pub verification_uri_complete: Option<String>,
    /// How long the codes are valid.
    pub expires_in: Duration,
    /// The interval between polls.
    pub interval: Duration,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// The answer to one poll.
#[derive(Debug)]
#[non_exhaustive]
pub enum DevicePoll {
    /// The user approved: the token.
    Token(Box<Token>),
    /// The user has not answered yet (`authorization_pending`).
    Pending,
    /// Poll less often: the interval grows by 5 s (`slow_down`).
    SlowDown,
}

impl Client {
    /// Asks the vendor for a device code and a user code (RFC 8628 §3.1).
    pub async fn start_device_authorization(&self) -> Result<DeviceAuthorization, Error> {
        let observer = TokenRequestObserver::new(self.vendor(), "device_authorization");
        observer
            .run(Box::pin(self.observed_device_authorization(&observer)))
            .await
    }

    async fn observed_device_authorization(
        &self,
        observer: &TokenRequestObserver<'_>,
    ) -> Result<DeviceAuthorization, Error> {
        let kind = GrantKind::DeviceCode;
        let grant = self.grant(kind, |g| g.device_code.as_ref())?;
        let url = self.required_endpoint(EndpointKind::DeviceAuthorization)?;
        let mut params = Params::default();
        if grant.send_scope
            && let Some(scope) = self.scope_param(None)
        {
            params.set("scope", scope);
        }
        let call = TokenCall {
            nonce: None,
            grant: kind,
            url,
            params,
            secrets: Vec::new(),
            policy: RetryPolicy::Idempotent,
        };
        let mut request = self.prepare_token_request(call)?;
        observer.endpoint(request.endpoint());
        let response = self
            .transport()
            .send(&mut request, RetryPolicy::Idempotent, MAX_TOKEN_BODY)
            .await?;
        self.observe_answer(observer, &request, &response);
        let meta = self.response_meta(&request, &response);
        let body = response.body.as_deref().unwrap_or_default();
        let object = response::body_object(&meta, body);
        if let Some(err) = object.as_ref().and_then(|o| meta.oauth_error(o)) {
            return Err(err);
        }
        let Some(object) = object.filter(|_| (200..300).contains(&response.status)) else {
            return Err(meta.invalid("expected a device authorization (JSON)", body));
        };
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
        let seconds = |key: &str| object.get(key).and_then(Value::as_u64);
        let (Some(device_code), Some(user_code)) = (text("device_code"), text("user_code")) else {
            return Err(meta.invalid("the answer has no `device_code` or `user_code`", body));
        };
        // Some vendors write `verification_url`, the name of a pre-RFC 8628 draft.
        let Some(verification_uri) = text("verification_uri").or_else(|| text("verification_url"))
        else {
            return Err(meta.invalid("the answer has no `verification_uri`", body));
        };
        let expires_in = seconds("expires_in")
            .map(Duration::from_secs)
            .unwrap_or(MAX_LIFETIME)
            .min(MAX_LIFETIME);
        Ok(DeviceAuthorization {
            device_code: DeviceCode::new(device_code),
            user_code: meta.sanitizer.clean_shown(&user_code, 64),
            verification_uri: meta.sanitizer.clean_shown(&verification_uri, 500),
            verification_uri_complete: text("verification_uri_complete")
                .map(|u| meta.sanitizer.clean_shown(&u, 500)),
            expires_in,
            interval: seconds("interval")
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_INTERVAL)
                .clamp(Duration::from_secs(1), Duration::from_secs(60)),
        })
    }

    /// Asks once whether the user approved (RFC 8628 §3.4).
    pub async fn poll_device_token_once(
        &self,
        authorization: &DeviceAuthorization,
    ) -> Result<DevicePoll, Error> {
        let kind = GrantKind::DeviceCode;
        let url = self.grant_endpoint(kind, EndpointKind::Token)?;
        let mut params = Params::default();
        params.set("grant_type", self.grant_type(kind));
        params.set("device_code", authorization.device_code.expose_secret());
        self.add_extra_params(kind, &mut params)?;
        let call = TokenCall {
            nonce: None,
            grant: kind,
            url,
            params,
            secrets: vec![authorization.device_code.expose_secret().to_owned()],
            policy: RetryPolicy::Idempotent,
        };
        match self.token_call(call).await {
            Ok(token) => Ok(DevicePoll::Token(Box::new(token))),
            Err(err) if err.oauth_error_code() == Some("authorization_pending") => {
                Ok(DevicePoll::Pending)
            }
            Err(err) if err.oauth_error_code() == Some("slow_down") => Ok(DevicePoll::SlowDown),
            Err(err) => Err(err),
        }
    }

    /// Polls until the user approves, refuses (`access_denied`) or the codes expire
    /// (`expired_token`, or the codes' lifetime passes): at the vendor's interval (5 s when it
    /// gives none), 5 s more after each `slow_down`.
    pub async fn poll_device_token(
        &self,
        authorization: &DeviceAuthorization,
    ) -> Result<Token, Error> {
        let deadline = Instant::now() + authorization.expires_in;
        let mut interval = authorization.interval;
        loop {
            if Instant::now() + interval > deadline {
                return Err(Error::Timeout {
                    vendor: self.vendor().into(),
                    endpoint: "the device authorization (the user did not answer in time)".into(),
                    attempts: 1,
                });
            }
            tokio::time::sleep(interval).await;
            match self.poll_device_token_once(authorization).await? {
                DevicePoll::Token(token) => return Ok(*token),
                DevicePoll::Pending => {}
                DevicePoll::SlowDown => interval += SLOW_DOWN,
            }
        }
    }
}
