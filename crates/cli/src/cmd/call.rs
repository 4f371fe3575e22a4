//! `oauth-clients call`: an authorized API request; the response body on stdout.

use oauth_clients_core::{ApiRequest, AuthorizedClient, GrantKind};

use crate::failure::Failure;
use crate::output::{self, note};
use crate::session::{Session, not_stored_message};

/// Runs `call`. The body goes to stdout whatever the status; an unsuccessful status or a token
/// that could not be stored makes the command fail afterwards.
pub(crate) async fn run(
    session: &Session,
    method: &str,
    path: &str,
    data: Option<&str>,
) -> Result<String, Failure> {
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::usage(format!("invalid HTTP method `{method}`")))?;
    let mut request = ApiRequest::new(method, path);
    if let Some(data) = data {
        let body: serde_json::Value = serde_json::from_str(data)
            .map_err(|err| Failure::usage(format!("--data is not valid JSON: {err}")))?;
        request = request.json(body);
    }
    let grants = &session.client.provider().descriptor().grants;
    if grants.client_credentials.is_none() && session.user.is_some() {
        session.warn_deprecated(GrantKind::LegacyCredentials);
    }
    let manager = session.manager(session.for_user(None)?);
    let api = AuthorizedClient::with_manager(session.client.clone(), manager.clone());
    let response = match api.send(&request).await {
        Ok(response) => response,
        Err(err) => return Err(session.explain(&manager, err).await),
    };
    if let Some(id) = response.request_id() {
        note(&format!("request id: {id}"));
    }
    // The body is the result; a vendor that echoes the request's secrets gets them replaced.
    output::stdout(&output::body(&response.body_without_secrets()))?;
    if let Some(err) = manager.not_stored() {
        return Err(Failure::NotStored {
            output: String::new(),
            message: not_stored_message(&Failure::from(oauth_clients_core::Error::Store(err))),
        });
    }
    response.error_for_status()?;
    Ok(String::new())
}

/// Runs `call --userinfo`: the OpenID Connect userinfo endpoint with the user's token; the
/// claims on stdout as JSON.
pub(crate) async fn userinfo(session: &Session) -> Result<String, Failure> {
    let manager = session.manager(session.for_user(None)?);
    let token = manager.token().await?;
    let claims = session.client.userinfo(&token).await?;
    Ok(serde_json::to_string_pretty(&claims).unwrap_or_default() + "\n")
}
