//! `oauth-clients token`: a token as JSON on stdout.

use oauth_clients_core::GrantKind;

use crate::failure::Failure;
use crate::output::token_json;
use crate::session::Session;

/// Runs `token`; the token JSON is the command's output.
pub(crate) async fn run(
    session: &Session,
    grant: Option<&str>,
    subject: Option<&str>,
) -> Result<String, Failure> {
    let kind: Option<GrantKind> = grant
        .map(|grant| grant.parse().map_err(Failure::usage))
        .transpose()?;
    let manager = session.manager(session.for_user(kind)?);
    let Some(kind) = kind else {
        unattended_grant_check(session)?;
        let fetched = match manager.fetch().await {
            Ok(fetched) => fetched,
            Err(err) => return Err(session.explain(&manager, err).await),
        };
        let token = session.fetched_result(fetched)?;
        return Ok(token_json(session.vendor(), &token));
    };
    let grants = &session.client.provider().descriptor().grants;
    if grants.common(kind).is_none() {
        let offered: Vec<&str> = grants.kinds().into_iter().map(GrantKind::as_str).collect();
        return Err(Failure::usage(format!(
            "{}: the vendor does not offer grant `{kind}`; it offers: {}",
            session.vendor(),
            offered.join(", ")
        )));
    }
    session.warn_deprecated(kind);
    let token = match kind {
        GrantKind::ClientCredentials => session.client.client_credentials().await?,
        GrantKind::LegacyCredentials => {
            let user = session.user()?;
            session.client.legacy_credentials(user).await?
        }
        GrantKind::RefreshToken => return refresh(session, &manager).await,
        GrantKind::JwtBearer => session.client.jwt_bearer(subject).await?,
        GrantKind::TokenExchange => {
            let Some(current) = manager.stored_token().await? else {
                return Err(Failure::usage(format!(
                    "{}: there is no stored token to exchange; run `login` with the same --store \
                     (and --user) first",
                    session.vendor()
                )));
            };
            session
                .client
                .exchange_token(current.access_token())
                .await?
        }
        GrantKind::AuthorizationCode | GrantKind::DeviceCode => {
            return Err(Failure::usage(format!(
                "grant `{kind}` needs the user: run `oauth-clients login {}`{}",
                session.vendor(),
                if kind == GrantKind::DeviceCode {
                    " --device"
                } else {
                    ""
                }
            )));
        }
    };
    session.store_token(&manager, &token).await?;
    Ok(token_json(session.vendor(), &token))
}

/// Without `--grant`, the vendor's unattended flow may be the deprecated legacy one: say so,
/// and ask for the user's credentials when nothing stored can stand in for them.
fn unattended_grant_check(session: &Session) -> Result<(), Failure> {
    let grants = &session.client.provider().descriptor().grants;
    if grants.client_credentials.is_none() && session.user.is_some() {
        session.warn_deprecated(GrantKind::LegacyCredentials);
    }
    if grants.client_credentials.is_none()
        && grants.legacy_credentials.is_some()
        && session.user.is_none()
        && session.store.is_none()
    {
        session.user()?;
    }
    Ok(())
}

/// `token --grant refresh_token`: a new token from the user's stored refresh token, through
/// the manager, so that the store's lock makes one refresh however many processes ask (a
/// waiting process gets the token the first one stored), and the new pair is stored before it
/// is printed.
async fn refresh(
    session: &Session,
    manager: &oauth_clients_core::TokenManager,
) -> Result<String, Failure> {
    if session.store.is_none() {
        return Err(Failure::usage(
            "--grant refresh_token needs --store with a token that has a refresh token",
        ));
    }
    let stored = manager.stored_token().await?;
    if stored.is_none_or(|t| t.refresh_token().is_none()) {
        return Err(Failure::usage(format!(
            "{}: the store holds no refresh token for this user; run `login` with the same \
             --store (and --user) first",
            session.vendor()
        )));
    }
    let token = session.fetched_result(manager.refresh_now().await?)?;
    Ok(token_json(session.vendor(), &token))
}
