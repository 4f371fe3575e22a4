//! Where a token manager gets new tokens: the engine (with the fallback policy between
//! grants), or a source of the user's own.

use std::time::Duration;

use async_trait::async_trait;

use crate::client::Client;
use crate::config::UserCredentials;
use crate::error::Error;
use crate::token::Token;

/// Where a [`crate::TokenManager`] gets new tokens. [`Client`] is one; tests and unusual
/// set-ups can bring their own.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// Gets a new token. `previous` is the newest token known (from the store or memory), which
    /// may carry a refresh token; `None` when there is none.
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error>;

    /// The longest a [`TokenSource::fetch`] may take (all attempts and backoffs included). The
    /// manager cuts a fetch off after this, and holds a store lock a little longer, so a lock
    /// never lapses while its owner is still asking the vendor.
    fn max_fetch_duration(&self) -> Duration {
        Duration::from_secs(60)
    }

    /// The vendor's advice on how long before expiry to renew a token, when it gives any.
    fn expiry_margin(&self) -> Option<Duration> {
        None
    }

    /// Revokes `token` at the vendor (its refresh token, then its access token). Returns
    /// `false` when this source cannot revoke (the vendor has no revocation endpoint); the
    /// default cannot.
    async fn revoke(&self, token: &Token) -> Result<bool, Error> {
        let _ = token;
        Ok(false)
    }
}

/// The engine as a token source: refreshes with the refresh token when there is one, else runs
/// the client credentials grant, else the legacy credentials flow when user credentials were
/// given (see [`crate::TokenManagerBuilder::user_credentials`]). A refresh token refused with
/// `invalid_grant` is replaced by running such a grant again when the vendor has one and the
/// manager acts for the application (no subject, see [`crate::TokenManagerBuilder::subject`]);
/// otherwise the manager clears the token and returns [`Error::AuthorizationRequired`].
#[async_trait]
impl TokenSource for Client {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        fetch_with_client(self, Actor::Application, previous).await
    }

    fn max_fetch_duration(&self) -> Duration {
        self.transport().worst_case()
    }

    fn expiry_margin(&self) -> Option<Duration> {
        descriptor_expiry_margin(self)
    }

    async fn revoke(&self, token: &Token) -> Result<bool, Error> {
        self.revoke_token(token).await
    }
}

/// A [`Client`] for a key with a subject: a user's tokens. The client credentials grant never
/// runs for it (an application token must not replace a user's), and the legacy credentials
/// flow only with the user's own credentials, which the user opted in to give.
pub(crate) struct ClientForUser {
    pub(crate) client: Client,
    pub(crate) user: Option<UserCredentials>,
}

#[async_trait]
impl TokenSource for ClientForUser {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        fetch_with_client(&self.client, Actor::User(self.user.as_ref()), previous).await
    }

    fn max_fetch_duration(&self) -> Duration {
        // The legacy flow makes two requests, each within the deadline.
        let one = self.client.transport().worst_case();
        if self.user.is_some() { one * 2 } else { one }
    }

    fn expiry_margin(&self) -> Option<Duration> {
        descriptor_expiry_margin(&self.client)
    }

    async fn revoke(&self, token: &Token) -> Result<bool, Error> {
        self.client.revoke_token(token).await
    }
}

fn descriptor_expiry_margin(client: &Client) -> Option<Duration> {
    client
        .descriptor()
        .lifecycle
        .expiry_margin_seconds
        .map(Duration::from_secs)
}

/// Whom the tokens of a manager act for.
#[derive(Clone, Copy)]
pub(crate) enum Actor<'a> {
    /// The application itself (no subject): the client credentials grant may run.
    Application,
    /// A user (the key has a subject), with the user's own credentials when given.
    User(Option<&'a UserCredentials>),
}

/// A grant that needs no user interaction and fits the actor: run when there is no refresh
/// token, or the vendor refused it.
#[derive(Clone, Copy)]
enum Rerun<'a> {
    ClientCredentials,
    LegacyCredentials(&'a UserCredentials),
}

impl<'a> Rerun<'a> {
    /// The grant to run again for `actor`, if `client`'s vendor has one.
    fn for_actor(client: &Client, actor: Actor<'a>) -> Option<Rerun<'a>> {
        let grants = &client.descriptor().grants;
        match actor {
            Actor::Application if grants.client_credentials.is_some() => {
                Some(Rerun::ClientCredentials)
            }
            Actor::User(Some(user)) if grants.legacy_credentials.is_some() => {
                Some(Rerun::LegacyCredentials(user))
            }
            _ => None,
        }
    }

    async fn run(self, client: &Client) -> Result<Token, Error> {
        match self {
            Rerun::ClientCredentials => client.client_credentials().await,
            // Boxed: the deprecated flow's two requests would otherwise size every fetch's
            // future (one allocation per refresh) past the allocator's per-thread cache.
            Rerun::LegacyCredentials(user) => Box::pin(client.legacy_credentials(user)).await,
        }
    }
}

/// A new token from `client`, for `actor` (see the [`TokenSource`] impl of [`Client`]).
///
/// No error is kept across an await: it would be part of this future, which the manager's
/// refresh holds in place.
pub(crate) async fn fetch_with_client(
    client: &Client,
    actor: Actor<'_>,
    previous: Option<&Token>,
) -> Result<Token, Error> {
    let rerun = Rerun::for_actor(client, actor);
    let can_refresh = client.descriptor().grants.refresh_token.is_some();
    if let Some(previous) = previous.filter(|p| p.refresh_token().is_some())
        && can_refresh
    {
        match client.refresh_token_of(previous).await {
            // The refresh token is dead; a grant that needs no user gets a new pair.
            Err(err) if err.is_invalid_grant() && rerun.is_some() => {}
            refreshed => return refreshed,
        }
    }
    match rerun {
        Some(rerun) => rerun.run(client).await,
        None => Err(Error::authorization_required(
            client.vendor(),
            "no usable token is stored and no grant can run without the user: a user must \
             authorize first (the authorization code or device flow)",
        )),
    }
}
