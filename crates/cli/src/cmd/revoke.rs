//! `oauth-clients revoke` (sign-out) and `oauth-clients introspect`: the stored token, asked
//! about or revoked at the vendor (RFC 7009, RFC 7662).

use oauth_clients_core::SignedOut;
use serde_json::json;

use crate::failure::Failure;
use crate::session::Session;

/// Runs `revoke`: revokes the stored token at the vendor, then forgets it. What happened is
/// the command's output, as JSON.
pub(crate) async fn revoke(session: &Session) -> Result<String, Failure> {
    require_store(session, "revoke")?;
    let manager = session.manager(session.for_user(None)?);
    let outcome = manager.sign_out().await.map_err(|err| {
        Failure::vendor(format!(
            "{}; the token is still stored (revoking again retries)",
            Failure::from(err).message()
        ))
    })?;
    let (revoked, forgotten, note) = match outcome {
        SignedOut::Revoked => (true, true, None),
        SignedOut::ForgottenOnly => (
            false,
            true,
            Some(
                "the vendor has no revocation endpoint: the token is forgotten here and stays \
                 valid at the vendor until it expires",
            ),
        ),
        SignedOut::NothingStored => (false, false, Some("no token was stored")),
        _ => (false, false, None),
    };
    let mut value = json!({
        "vendor": session.vendor(),
        "revoked": revoked,
        "forgotten": forgotten,
    });
    if let (Some(object), Some(note)) = (value.as_object_mut(), note) {
        object.insert("note".into(), note.into());
    }
    Ok(pretty(&value))
}

/// Runs `introspect`: what the vendor's introspection endpoint says about the stored access
/// token, as JSON.
pub(crate) async fn introspect(session: &Session) -> Result<String, Failure> {
    require_store(session, "introspect")?;
    let manager = session.manager(session.for_user(None)?);
    let Some(token) = manager.stored_token().await? else {
        return Err(Failure::usage(format!(
            "{}: no token is stored under these options; get one with `token` or `login` and \
             the same --store (and --user, --scope)",
            session.vendor()
        )));
    };
    let seen = session.client.introspect(token.access_token()).await?;
    let mut value = json!({
        "vendor": session.vendor(),
        "active": seen.active,
        "scope": seen.scope,
        "client_id": seen.client_id,
        "username": seen.username,
        "token_type": seen.token_type,
        "exp": seen.exp,
        "iat": seen.iat,
        "nbf": seen.nbf,
        "sub": seen.sub,
        "aud": seen.aud,
        "iss": seen.iss,
        "jti": seen.jti,
    });
    if let Some(object) = value.as_object_mut() {
        object.retain(|_, v| !v.is_null() && v != &json!([]));
        for (key, extra) in &seen.extra {
            object.entry(key.clone()).or_insert_with(|| extra.clone());
        }
    }
    Ok(pretty(&value))
}

/// These commands act on a stored token: without a store there is none.
fn require_store(session: &Session, command: &str) -> Result<(), Failure> {
    if session.store.is_none() {
        return Err(Failure::usage(format!(
            "{command} acts on a stored token: give --store (the one `token` or `login` used)"
        )));
    }
    Ok(())
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}
