//! A vendor session: the client built from the shared options and the environment, the chosen
//! store, and the token managers the commands use (the "high args" of the shared options).

use std::sync::Arc;
use std::time::Duration;

use oauth_clients_core::Error;
use oauth_clients_core::descriptor::ClientAuth;
use oauth_clients_core::secrecy::SecretString;
use oauth_clients_core::{
    Client, ClientConfig, ClientOptions, Fetched, GrantKind, Provider, SigningKey, Token,
    TokenManager, TokenStore, UserCredentials, escape_control_characters,
};

use crate::catalog;
use crate::cli::Common;
use crate::failure::Failure;
use crate::output::{note, token_json};
use crate::store_spec::open_store;

/// The environment variable holding the client secret.
pub(crate) const SECRET_ENV: &str = "OAUTH_CLIENT_SECRET";
/// The environment variable holding a legacy-flow user name.
pub(crate) const USERNAME_ENV: &str = "OAUTH_USERNAME";
/// The environment variable holding a legacy-flow password.
pub(crate) const PASSWORD_ENV: &str = "OAUTH_PASSWORD";
/// The environment variable holding a private key (PEM) for JWT assertions.
pub(crate) const KEY_ENV: &str = "OAUTH_PRIVATE_KEY";

/// The store subject of the user's tokens (`login`'s), without `--user=NAME`.
const LOGIN_SUBJECT: &str = "login";

/// Everything a command needs about one vendor.
pub(crate) struct Session {
    /// The vendor's client, configured from the shared options.
    pub(crate) client: Client,
    /// The chosen store, if any (`None`: memory).
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    /// Procountor's user credentials, when given in the environment.
    pub(crate) user: Option<UserCredentials>,
    /// `--user`: `Some("")` when given without a name.
    pub(crate) user_name: Option<String>,
}

/// Parses `NAME=VALUE` of `--var`. The text is never echoed: the value may be a secret.
fn split_var(text: &str) -> Result<(&str, &str), Failure> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name, value)),
        Some(_) => Err(Failure::usage(
            "--var takes NAME=VALUE; the name before `=` is empty",
        )),
        None => Err(Failure::usage(
            "--var takes NAME=VALUE; an argument has no `=` (its text is not shown: it may be \
             a secret)",
        )),
    }
}

/// The rewrites given with `--rewrite-url FROM=TO`. Only the host of a malformed argument is
/// shown: it may carry credentials.
pub(crate) fn parse_rewrites(rewrites: &[String]) -> Result<Vec<(String, String)>, Failure> {
    rewrites
        .iter()
        .map(|text| match text.split_once('=') {
            Some((from, to)) if !from.is_empty() => Ok((from.to_owned(), to.to_owned())),
            _ => {
                let host = url::Url::parse(text)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| "not shown".to_owned());
                Err(Failure::usage(format!(
                    "--rewrite-url takes FROM=TO; got an argument without `=` (host: {host})"
                )))
            }
        })
        .collect()
}

/// A client authentication method by name.
fn parse_client_auth(name: &str) -> Result<ClientAuth, Failure> {
    [
        ClientAuth::ClientSecretBasic,
        ClientAuth::ClientSecretPost,
        ClientAuth::None,
        ClientAuth::PrivateKeyJwt,
        ClientAuth::ClientSecretJwt,
    ]
    .into_iter()
    .find(|m| m.as_str() == name)
    .ok_or_else(|| {
        Failure::usage(format!(
            "--client-auth: unknown method `{name}`; expected client_secret_basic, \
             client_secret_post, none, private_key_jwt or client_secret_jwt"
        ))
    })
}

/// The private key of `--key FILE` or `OAUTH_PRIVATE_KEY` (PEM), for JWT assertions: of the
/// descriptor's algorithm when it names one, else RS256 or ES256, whichever the key is.
fn signing_key(
    descriptor: &oauth_clients_core::descriptor::Descriptor,
    common: &Common,
) -> Result<Option<SigningKey>, Failure> {
    let pem = match (&common.key, env_var(KEY_ENV)) {
        (Some(path), _) => std::fs::read_to_string(path).map_err(|err| {
            Failure::usage(format!("--key: cannot read {}: {err}", path.display()))
        })?,
        (None, Some(pem)) => pem,
        (None, None) => return Ok(None),
    };
    let pem = SecretString::from(pem);
    let key = match descriptor.grants.jwt_bearer.as_ref().map(|g| g.algorithm) {
        Some(algorithm) => SigningKey::from_pem(algorithm, &pem),
        None => SigningKey::rs256_pem(&pem).or_else(|_| SigningKey::es256_pem(&pem)),
    }
    .map_err(|why| Failure::usage(format!("the private key cannot be used: {why}")))?;
    Ok(Some(match &common.key_id {
        Some(kid) => key.with_key_id(kid),
        None => key,
    }))
}

/// Reads a non-empty environment variable.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The transport options of the shared flags.
fn client_options(common: &Common) -> Result<ClientOptions, Failure> {
    let mut options = ClientOptions::default();
    for (from, to) in parse_rewrites(&common.rewrites)? {
        options = options.rewrite(from, to);
    }
    if let Some(seconds) = common.timeout {
        if seconds == 0 {
            return Err(Failure::usage("--timeout must be at least 1 second"));
        }
        let deadline = Duration::from_secs(seconds);
        options = options
            .deadline(deadline)
            .request_timeout(deadline.min(Duration::from_secs(15)));
    }
    if let Some(retries) = common.retries {
        options = options.max_attempts(retries.saturating_add(1));
    }
    for path in &common.ca_certs {
        options = options.root_certificates_pem(read_ca_cert(path)?);
    }
    Ok(options)
}

/// The PEM file of `--ca-cert`, checked here so that a mistake names the flag and the file.
fn read_ca_cert(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|err| Failure::usage(format!("--ca-cert: cannot read {shown}: {err}")))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certificates) if !certificates.is_empty() => Ok(pem),
        Ok(_) => Err(Failure::usage(format!(
            "--ca-cert: {shown} holds no PEM certificate (expected `-----BEGIN CERTIFICATE-----`)"
        ))),
        Err(err) => Err(Failure::usage(format!(
            "--ca-cert: {shown} is not a readable PEM certificate: {err}"
        ))),
    }
}

impl Session {
    /// Resolves the vendor and builds the client from the shared options and the environment.
    pub(crate) async fn new(
        vendor: Option<&str>,
        common: &Common,
        redirect_uri: Option<String>,
    ) -> Result<Session, Failure> {
        let provider = resolve_vendor(vendor, common).await?;
        Session::with_provider(provider, common, redirect_uri)
    }

    /// Builds the client of a resolved vendor from the shared options and the environment.
    pub(crate) fn with_provider(
        provider: Provider,
        common: &Common,
        redirect_uri: Option<String>,
    ) -> Result<Session, Failure> {
        let descriptor = provider.descriptor();
        let Some(client_id) = common.client_id.clone().filter(|id| !id.is_empty()) else {
            return Err(Failure::usage(
                "missing --client-id (or the OAUTH_CLIENT_ID environment variable)",
            ));
        };
        let mut config = ClientConfig::new(client_id);
        let method = match &common.client_auth {
            Some(name) => {
                let method = parse_client_auth(name)?;
                config = config.client_auth(method);
                method
            }
            None => descriptor.client_auth.preferred(),
        };
        match env_var(SECRET_ENV) {
            Some(secret) => config = config.secret(SecretString::from(secret)),
            None if method.needs_secret() => {
                return Err(Failure::usage(format!(
                    "{}: the client secret is missing; set the {SECRET_ENV} environment variable",
                    provider.id()
                )));
            }
            None => {}
        }
        if let Some(key) = signing_key(descriptor, common)? {
            config = config.signing_key(key);
        }
        for var in &common.vars {
            let (name, value) = split_var(var)?;
            config = config.variable(name, value);
        }
        if let Some(env) = &common.env {
            config = config.environment(env);
        }
        if !common.scopes.is_empty() {
            config = config.scopes(common.scopes.iter().cloned());
        }
        if let Some(uri) = redirect_uri.or_else(|| common.redirect_uri.clone()) {
            config = config.redirect_uri(uri);
        }
        // The library refuses undeclared variables; the tool names the flag to fix.
        let client = Client::with_options(provider.clone(), config, client_options(common)?)
            .map_err(|err| match Failure::from(err) {
                Failure::Usage(message) if message.contains("unknown variable") => {
                    Failure::usage(format!("{message}\n  hint: fix the name given with --var"))
                }
                other => other,
            })?;
        let store = common.store.as_deref().map(open_store).transpose()?;
        let user = match (
            descriptor.grants.legacy_credentials.is_some(),
            env_var(USERNAME_ENV),
            env_var(PASSWORD_ENV),
        ) {
            (true, Some(username), Some(password)) => {
                Some(UserCredentials::new(username, password))
            }
            _ => None,
        };
        Ok(Session {
            client,
            store,
            user,
            user_name: common.user.clone(),
        })
    }

    pub(crate) fn vendor(&self) -> &str {
        self.client.provider().id()
    }

    /// The store subject of the user's tokens: `login`, or `login:NAME` with `--user=NAME`.
    fn user_subject(&self) -> String {
        match self.user_name.as_deref() {
            Some(name) if !name.is_empty() => format!("{LOGIN_SUBJECT}:{name}"),
            _ => LOGIN_SUBJECT.to_owned(),
        }
    }

    /// Whether `token` (with `grant`) or `call` acts for the user who logged in rather than for
    /// the client itself: with `--user`, with the refresh token or legacy grants, or when the
    /// vendor has no client credentials grant.
    pub(crate) fn for_user(&self, grant: Option<GrantKind>) -> Result<bool, Failure> {
        let has_client_credentials = self
            .client
            .provider()
            .descriptor()
            .grants
            .client_credentials
            .is_some();
        match grant {
            Some(GrantKind::ClientCredentials) if self.user_name.is_some() => Err(Failure::usage(
                "--user cannot be combined with --grant client_credentials: that grant gets \
                     the client's own token, not a user's",
            )),
            Some(GrantKind::ClientCredentials) => Ok(false),
            Some(
                GrantKind::RefreshToken
                | GrantKind::LegacyCredentials
                | GrantKind::DeviceCode
                | GrantKind::TokenExchange,
            ) => Ok(true),
            _ => Ok(self.user_name.is_some() || !has_client_credentials),
        }
    }

    /// A token manager over the chosen store (memory when none). For the user's tokens it is
    /// keyed by the user subject (so it never shares an entry with the client's own token),
    /// with the user's credentials when the vendor's unattended flow needs them.
    pub(crate) fn manager(&self, for_user: bool) -> TokenManager {
        let mut builder = TokenManager::builder(self.client.clone());
        if let Some(store) = &self.store {
            builder = builder.store(Arc::clone(store));
        }
        if for_user {
            builder = builder.subject(self.user_subject());
            if let Some(user) = &self.user {
                builder = builder.user_credentials(user.clone());
            }
        }
        builder.build()
    }

    /// Prints the vendor's deprecation note of a grant to stderr.
    pub(crate) fn warn_deprecated(&self, grant: GrantKind) {
        warn_deprecated(self.client.provider(), grant);
    }

    pub(crate) fn user(&self) -> Result<&UserCredentials, Failure> {
        self.user.as_ref().ok_or_else(|| {
            Failure::usage(format!(
                "{}: the legacy flow needs the user's credentials; set {USERNAME_ENV} and \
                 {PASSWORD_ENV}",
                self.vendor()
            ))
        })
    }

    /// Stores a token the command obtained itself, when a store was chosen. When storing
    /// fails the token is still printed (a rotated refresh token must not be lost) and the
    /// command exits 1 with the store's error.
    pub(crate) async fn store_token(
        &self,
        manager: &TokenManager,
        token: &Token,
    ) -> Result<(), Failure> {
        if self.store.is_some()
            && let Err(err) = manager.set_token(token.clone()).await
        {
            return Err(Failure::NotStored {
                output: token_json(self.vendor(), token),
                message: not_stored_message(&Failure::from(err)),
            });
        }
        Ok(())
    }

    /// The failure of a command that found no usable token: when the store holds a token of
    /// this client for other scopes, says so (the scopes are part of a token's key).
    pub(crate) async fn explain(&self, manager: &TokenManager, err: Error) -> Failure {
        let failure = Failure::from(err.clone());
        if !matches!(err, Error::AuthorizationRequired { .. }) {
            return failure;
        }
        let others = manager.tokens_for_other_scopes().await.unwrap_or_default();
        if others.is_empty() {
            return failure;
        }
        let asked = manager.key().scope_list().join(" ");
        let asked = if asked.is_empty() {
            "none".to_owned()
        } else {
            asked
        };
        let granted: Vec<String> = others.into_iter().flatten().collect();
        let granted = if granted.is_empty() {
            String::new()
        } else {
            format!(" (granted: {})", granted.join("; "))
        };
        Failure::vendor(format!(
            "{}\n  note: the store holds a token of this client for other scopes{granted}, not \
             for the scopes asked (--scope: {asked}): give the same --scope flags as the \
             `login` that stored it, or log in again with these",
            failure.message(),
        ))
    }

    /// A token from the manager: the token, or the token and the failure to store it.
    pub(crate) fn fetched_result(&self, fetched: Fetched) -> Result<Arc<Token>, Failure> {
        match fetched.not_stored {
            None => Ok(fetched.token),
            Some(err) => Err(Failure::NotStored {
                output: token_json(self.vendor(), &fetched.token),
                message: not_stored_message(&Failure::from(Error::Store(err))),
            }),
        }
    }
}

/// The vendor the shared options name (a compiled-in id, `--descriptor` or `--issuer`).
pub(crate) async fn resolve_vendor(
    vendor: Option<&str>,
    common: &Common,
) -> Result<Provider, Failure> {
    catalog::resolve(
        vendor,
        common.descriptor.as_deref(),
        common.issuer.as_deref(),
        client_options(common)?,
    )
    .await
}

/// Prints a grant's deprecation note from the vendor's descriptor to stderr, if it has one.
pub(crate) fn warn_deprecated(provider: &Provider, grant: GrantKind) {
    let grants = &provider.descriptor().grants;
    if let Some(note_text) = grants.common(grant).and_then(|c| c.deprecated) {
        // The note is the descriptor's text: it may come from anyone.
        note(&escape_control_characters(&format!(
            "warning: {}: grant `{grant}` is deprecated by the vendor: {note_text}",
            provider.id()
        )));
    }
}

/// The message of a token obtained but not stored. `token` and `login` print the token on
/// stdout all the same; `call` goes on with it.
pub(crate) fn not_stored_message(failure: &Failure) -> String {
    format!(
        "a new token was obtained but could not be stored (it is printed on stdout all the \
         same: keep its refresh token): {}",
        failure.message()
    )
}
