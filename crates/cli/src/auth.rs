//! `token`, `login` and `call`: a client from the shared options, a token manager over the
//! chosen store, and the commands themselves.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

use oauth_clients_core::descriptor::ClientAuth;
use oauth_clients_core::store::open_store;
use oauth_clients_core::{
    ApiRequest, Client, ClientConfig, ClientOptions, Error, GrantKind, Provider, StoreErrorKind,
    Token, TokenManager, TokenStore, UserCredentials,
};
use secrecy::SecretString;

use crate::catalog;
use crate::cli::Common;
use crate::failure::Failure;
use crate::loopback;

/// The environment variable holding the client secret.
pub(crate) const SECRET_ENV: &str = "OAUTH_CLIENT_SECRET";
/// The environment variable holding a legacy-flow user name.
pub(crate) const USERNAME_ENV: &str = "OAUTH_USERNAME";
/// The environment variable holding a legacy-flow password.
pub(crate) const PASSWORD_ENV: &str = "OAUTH_PASSWORD";

/// The store subject of the user's tokens (`login`'s), without `--user=NAME`.
const LOGIN_SUBJECT: &str = "login";

/// Everything a command needs about one vendor.
pub(crate) struct Session {
    /// The vendor's client, configured from the shared options.
    pub client: Client,
    /// The chosen store, if any (`None`: memory).
    pub store: Option<Arc<dyn TokenStore>>,
    /// Procountor's user credentials, when given in the environment.
    pub user: Option<UserCredentials>,
    /// `--user`: `Some("")` when given without a name.
    pub user_name: Option<String>,
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

/// The rewrites given with `--rewrite-url FROM=TO`.
pub(crate) fn parse_rewrites(rewrites: &[String]) -> Result<Vec<(String, String)>, Failure> {
    rewrites
        .iter()
        .map(|text| match text.split_once('=') {
            Some((from, to)) if !from.is_empty() => Ok((from.to_owned(), to.to_owned())),
            _ => Err(Failure::usage(format!(
                "--rewrite-url takes FROM=TO, got `{}`",
                oauth_clients_core::redact_url(text)
            ))),
        })
        .collect()
}

/// Reads a non-empty environment variable.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Session {
    /// Resolves the vendor and builds the client from the shared options and the environment.
    pub(crate) fn new(
        vendor: Option<&str>,
        common: &Common,
        redirect_uri: Option<String>,
    ) -> Result<Session, Failure> {
        let provider = catalog::resolve(vendor, common.descriptor.as_deref())?;
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
        match env_var(SECRET_ENV) {
            Some(secret) => config = config.secret(SecretString::from(secret)),
            None if descriptor.client_auth != ClientAuth::None => {
                return Err(Failure::usage(format!(
                    "{}: the client secret is missing; set the {SECRET_ENV} environment variable",
                    provider.id()
                )));
            }
            None => {}
        }
        for var in &common.vars {
            let (name, value) = split_var(var)?;
            if !descriptor.variables.contains_key(name) {
                let known: Vec<&String> = descriptor.variables.keys().collect();
                return Err(Failure::usage(format!(
                    "{}: unknown variable `{name}`; the descriptor's variables are: {}",
                    provider.id(),
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )));
            }
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
        let options = ClientOptions {
            rewrites: parse_rewrites(&common.rewrites)?,
            ..ClientOptions::default()
        };
        let client = Client::with_options(provider.clone(), config, options)?;
        let store = common
            .store
            .as_deref()
            .map(open_store)
            .transpose()
            .map_err(|err| Failure::usage(format!("--store: {err}")))?;
        let user = if descriptor.grants.legacy_credentials.is_some() {
            match (env_var(USERNAME_ENV), env_var(PASSWORD_ENV)) {
                (Some(username), Some(password)) => Some(UserCredentials {
                    username,
                    password: SecretString::from(password),
                }),
                _ => None,
            }
        } else {
            None
        };
        Ok(Session {
            client,
            store,
            user,
            user_name: common.user.clone(),
        })
    }

    fn vendor(&self) -> &str {
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
            Some(GrantKind::RefreshToken | GrantKind::LegacyCredentials) => Ok(true),
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

    fn user(&self) -> Result<&UserCredentials, Failure> {
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
    async fn keep(&self, manager: &TokenManager, token: &Token) -> Result<(), Failure> {
        if self.store.is_some() {
            if let Err(err) = manager.set_token(token.clone()).await {
                return Err(self.not_stored(token, err));
            }
        }
        Ok(())
    }

    /// The failure of a token obtained but not stored: the token goes to stdout anyway.
    fn not_stored(&self, token: &Token, err: Error) -> Failure {
        Failure::Kept {
            output: token_json(self.vendor(), token),
            message: not_stored_message(err),
        }
    }

    /// A manager's answer. A new token that could not be stored is still served (the manager
    /// keeps it in memory), with the store's error as the second value.
    async fn managed(
        &self,
        manager: &TokenManager,
        result: Result<Arc<Token>, Error>,
    ) -> Result<(Token, Option<String>), Failure> {
        match result {
            Ok(token) => Ok((token.as_ref().clone(), None)),
            Err(Error::Store(err)) if err.kind() == StoreErrorKind::NotPersisted => {
                let message = not_stored_message(Error::Store(err));
                // The manager serves the new token from memory.
                let token = manager.token().await?;
                Ok((token.as_ref().clone(), Some(message)))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// A token result for `token`: printed even when it could not be stored.
    async fn token_result(
        &self,
        manager: &TokenManager,
        result: Result<Arc<Token>, Error>,
    ) -> Result<Token, Failure> {
        match self.managed(manager, result).await? {
            (token, None) => Ok(token),
            (token, Some(message)) => Err(Failure::Kept {
                output: token_json(self.vendor(), &token),
                message,
            }),
        }
    }

    /// A valid token: the stored one, refreshed or obtained as needed; with the store's error
    /// when a new token could not be stored.
    pub(crate) async fn current_token(
        &self,
        manager: &TokenManager,
    ) -> Result<(Token, Option<String>), Failure> {
        let grants = &self.client.provider().descriptor().grants;
        if grants.client_credentials.is_none() && self.user.is_some() {
            self.warn_deprecated(GrantKind::LegacyCredentials);
        }
        if grants.client_credentials.is_none()
            && grants.legacy_credentials.is_some()
            && self.user.is_none()
            && self.store.is_none()
        {
            self.user()?;
        }
        let result = manager.token().await;
        self.managed(manager, result).await
    }

    /// `oauth-clients token`.
    pub(crate) async fn token(&self, grant: Option<&str>) -> Result<Token, Failure> {
        let kind: Option<GrantKind> = grant
            .map(|grant| grant.parse().map_err(Failure::usage))
            .transpose()?;
        let manager = self.manager(self.for_user(kind)?);
        let Some(kind) = kind else {
            return match self.current_token(&manager).await? {
                (token, None) => Ok(token),
                (token, Some(message)) => Err(Failure::Kept {
                    output: token_json(self.vendor(), &token),
                    message,
                }),
            };
        };
        let grants = &self.client.provider().descriptor().grants;
        if grants.common(kind).is_none() {
            let offered: Vec<&str> = grants.kinds().into_iter().map(GrantKind::as_str).collect();
            return Err(Failure::usage(format!(
                "{}: the vendor does not offer grant `{kind}`; it offers: {}",
                self.vendor(),
                offered.join(", ")
            )));
        }
        self.warn_deprecated(kind);
        let token = match kind {
            GrantKind::ClientCredentials => self.client.client_credentials().await?,
            GrantKind::LegacyCredentials => {
                let user = self.user()?;
                self.client.legacy_credentials(user).await?
            }
            GrantKind::RefreshToken => return self.refresh(&manager).await,
            GrantKind::AuthorizationCode => {
                return Err(Failure::usage(format!(
                    "the authorization code grant needs the user's browser: run `oauth-clients \
                     login {}`",
                    self.vendor()
                )));
            }
        };
        self.keep(&manager, &token).await?;
        Ok(token)
    }

    /// `token --grant refresh_token`: a new token from the user's stored refresh token, through
    /// the manager, so that the store's lock makes one refresh however many processes ask
    /// (a waiting process gets the token the first one stored), and the new pair is stored
    /// before it is printed.
    async fn refresh(&self, manager: &TokenManager) -> Result<Token, Failure> {
        if self.store.is_none() {
            return Err(Failure::usage(
                "--grant refresh_token needs --store with a token that has a refresh token",
            ));
        }
        let stored = match manager.store().get(manager.storage_key()).await {
            Ok(stored) => stored,
            // Reported (and moved aside) by the store.
            Err(err) if err.kind() == StoreErrorKind::Corrupt => None,
            Err(err) => return Err(Error::Store(err).into()),
        };
        let Some(stored) = stored.filter(|t| t.refresh_token().is_some()) else {
            return Err(Failure::usage(format!(
                "{}: the store holds no refresh token for this user; run `login` with the same \
                 --store (and --user) first",
                self.vendor()
            )));
        };
        // Ask for a token other than the stored one: the manager refreshes under the store's
        // lock, unless another process did meanwhile.
        let result = manager.refresh_rejected(stored.access_token()).await;
        self.token_result(manager, result).await
    }

    /// `oauth-clients call`: the body, and whether the status was a success.
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        data: Option<&str>,
    ) -> Result<Vec<u8>, Failure> {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| Failure::usage(format!("invalid HTTP method `{method}`")))?;
        let mut request = ApiRequest::new(method, path);
        if let Some(data) = data {
            let body: serde_json::Value = serde_json::from_str(data)
                .map_err(|err| Failure::usage(format!("--data is not valid JSON: {err}")))?;
            request = request.json(body);
        }
        let manager = self.manager(self.for_user(None)?);
        let (token, mut not_stored) = self.current_token(&manager).await?;
        let mut response = self.client.send_api(&token, &request).await?;
        if response.is_unauthorized() {
            eprintln!("note: the API refused the token; getting a new one and trying again");
            let result = manager.refresh_rejected(token.access_token()).await;
            let (fresh, unsaved) = self.managed(&manager, result).await?;
            not_stored = not_stored.or(unsaved);
            response = self.client.send_api(&fresh, &request).await?;
        }
        if let Some(message) = not_stored {
            // The call still goes on; the command then fails with the store's error.
            if let Some(id) = response.request_id() {
                eprintln!("request id: {id}");
            }
            print_body(response.body());
            return Err(Failure::Kept {
                output: String::new(),
                message,
            });
        }
        if let Some(id) = response.request_id() {
            eprintln!("request id: {id}");
        }
        let body = response.body().to_vec();
        match response.error_for_status() {
            Ok(_) => Ok(body),
            Err(err) => {
                // The body is still the command's result; the error goes to stderr.
                print_body(&body);
                Err(err.into())
            }
        }
    }

    /// `oauth-clients login`.
    pub(crate) async fn login_loopback(
        &self,
        receiver: loopback::Receiver,
        open_browser: bool,
        timeout: Duration,
    ) -> Result<Token, Failure> {
        // The authorize URL has the rewrites applied already.
        let request = self.client.authorize_url()?;
        let url = request.url.clone();
        eprintln!(
            "Open this URL in your browser to log in to {}:",
            self.vendor()
        );
        eprintln!("{url}");
        if open_browser {
            open_in_browser(url.as_str());
        }
        let spinner = Spinner::start("waiting for the browser to come back");
        let client = self.client.clone();
        let pending = request.clone();
        let outcome = tokio::time::timeout(
            timeout,
            receiver.serve(&pending, move |callback| {
                let client = client.clone();
                let request = request.clone();
                async move { client.exchange_code(&request, &callback).await }
            }),
        )
        .await;
        spinner.stop();
        let token = match outcome {
            Ok(result) => result?,
            Err(_) => {
                return Err(Failure::vendor(format!(
                    "{}: no answer from the browser within {} s; run `login` again",
                    self.vendor(),
                    timeout.as_secs()
                )));
            }
        };
        self.keep(&self.manager(true), &token).await?;
        Ok(token)
    }

    /// `oauth-clients login --oob`: the vendor shows the code; the user pastes it on stdin.
    pub(crate) async fn login_oob(&self, open_browser: bool) -> Result<Token, Failure> {
        let grant = self
            .client
            .provider()
            .descriptor()
            .grants
            .authorization_code
            .as_ref()
            .ok_or_else(|| {
                Failure::usage(format!(
                    "{}: the vendor does not offer the authorization code grant",
                    self.vendor()
                ))
            })?;
        if !grant.out_of_band {
            return Err(Failure::usage(format!(
                "{}: the vendor's descriptor does not allow the out-of-band redirect; use \
                 `login` without --oob",
                self.vendor()
            )));
        }
        // The authorize URL has the rewrites applied already.
        let request = self.client.authorize_url()?;
        let url = request.url.clone();
        eprintln!(
            "Open this URL in your browser to log in to {}:",
            self.vendor()
        );
        eprintln!("{url}");
        if open_browser {
            open_in_browser(url.as_str());
        }
        eprint!("Paste the authorization code shown by the vendor: ");
        let code = read_line().await?;
        if code.is_empty() {
            return Err(Failure::usage("no authorization code was pasted"));
        }
        let token = self
            .client
            .exchange_code_oob(&SecretString::from(code), request.pkce_verifier.as_ref())
            .await?;
        self.keep(&self.manager(true), &token).await?;
        Ok(token)
    }
}

/// Prints a grant's deprecation note from the vendor's descriptor to stderr, if it has one.
pub(crate) fn warn_deprecated(provider: &Provider, grant: GrantKind) {
    let grants = &provider.descriptor().grants;
    if let Some(note) = grants.common(grant).and_then(|c| c.deprecated) {
        eprintln!(
            "warning: {}: grant `{grant}` is deprecated by the vendor: {note}",
            provider.id()
        );
    }
}

/// The message of a token obtained but not stored. `token` and `login` print the token on
/// stdout all the same; `call` goes on with it.
fn not_stored_message(err: Error) -> String {
    let failure = Failure::from(err);
    format!(
        "a new token was obtained but could not be stored (`token` and `login` print it on \
         stdout all the same; keep its refresh token): {}",
        failure.message()
    )
}

async fn read_line() -> Result<String, Failure> {
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await;
    match read {
        Ok(Ok(line)) => Ok(line.trim().to_owned()),
        Ok(Err(err)) => Err(Failure::usage(format!(
            "cannot read the code from stdin: {err}"
        ))),
        Err(err) => Err(Failure::usage(format!(
            "cannot read the code from stdin: {err}"
        ))),
    }
}

/// The token as printed on stdout: the access token is the result, so it is shown.
pub(crate) fn token_json(vendor: &str, token: &Token) -> String {
    let mut value = token.to_display_json(true);
    if let Some(object) = value.as_object_mut() {
        object.insert("vendor".into(), vendor.into());
        object.retain(|_, v| !v.is_null());
    }
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// Writes a response body to stdout as it came.
pub(crate) fn print_body(body: &[u8]) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(body);
    if !body.ends_with(b"\n") && !body.is_empty() {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}

/// Opens the system browser; a failure is only a note (the URL was printed).
fn open_in_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        eprintln!("note: could not start `{program}`; open the URL above yourself");
    }
}

/// A spinner on stderr, shown only when stderr is a terminal.
struct Spinner {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Spinner {
    fn start(message: &'static str) -> Spinner {
        if !std::io::stderr().is_terminal() {
            eprintln!("{message}…");
            return Spinner { task: None };
        }
        let task = tokio::spawn(async move {
            const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut interval = tokio::time::interval(Duration::from_millis(100));
            for frame in FRAMES.iter().cycle() {
                interval.tick().await;
                eprint!("\r{frame} {message}…");
            }
        });
        Spinner { task: Some(task) }
    }

    fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
            eprint!("\r\x1b[2K");
        }
    }
}
