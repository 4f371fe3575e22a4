//! `token`, `login` and `call`: a client from the shared options, a token manager over the
//! chosen store, and the commands themselves.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

use oauth_clients_core::descriptor::ClientAuth;
use oauth_clients_core::store::open_store;
use oauth_clients_core::{
    ApiRequest, Client, ClientConfig, ClientOptions, GrantKind, Provider, Token, TokenManager,
    TokenStore, UserCredentials,
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

/// Everything a command needs about one vendor.
pub(crate) struct Session {
    pub client: Client,
    pub store: Option<Arc<dyn TokenStore>>,
    pub user: Option<UserCredentials>,
}

/// Parses `NAME=VALUE`.
fn split_pair<'a>(text: &'a str, flag: &str) -> Result<(&'a str, &'a str), Failure> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name, value)),
        _ => Err(Failure::usage(format!(
            "{flag} takes NAME=VALUE, got `{text}`"
        ))),
    }
}

/// The rewrites given with `--rewrite-url FROM=TO`.
pub(crate) fn parse_rewrites(rewrites: &[String]) -> Result<Vec<(String, String)>, Failure> {
    rewrites
        .iter()
        .map(|r| split_pair(r, "--rewrite-url").map(|(from, to)| (from.to_owned(), to.to_owned())))
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
            let (name, value) = split_pair(var, "--var")?;
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
        })
    }

    fn vendor(&self) -> &str {
        self.client.provider().id()
    }

    /// A token manager over the chosen store (memory when none), with the user's credentials
    /// when the vendor's unattended flow needs them.
    pub(crate) fn manager(&self) -> TokenManager {
        let mut builder = TokenManager::builder(self.client.clone());
        if let Some(store) = &self.store {
            builder = builder.store(Arc::clone(store));
        }
        if let Some(user) = &self.user {
            builder = builder.user_credentials(user.clone());
        }
        builder.build()
    }

    /// Prints the vendor's deprecation note of a grant to stderr.
    pub(crate) fn warn_deprecated(&self, grant: GrantKind) {
        let grants = &self.client.provider().descriptor().grants;
        if let Some(note) = grants.common(grant).and_then(|c| c.deprecated) {
            eprintln!(
                "warning: {}: grant `{grant}` is deprecated by the vendor: {note}",
                self.vendor()
            );
        }
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

    /// Stores a token the command obtained itself, when a store was chosen.
    async fn keep(&self, manager: &TokenManager, token: &Token) -> Result<(), Failure> {
        if self.store.is_some() {
            manager.set_token(token.clone()).await?;
        }
        Ok(())
    }

    /// A valid token: the stored one, refreshed or obtained as needed.
    pub(crate) async fn current_token(&self, manager: &TokenManager) -> Result<Token, Failure> {
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
        Ok(manager.token().await?.as_ref().clone())
    }

    /// `oauth-clients token`.
    pub(crate) async fn token(&self, grant: Option<&str>) -> Result<Token, Failure> {
        let manager = self.manager();
        let Some(grant) = grant else {
            return self.current_token(&manager).await;
        };
        let kind: GrantKind = grant.parse().map_err(Failure::usage)?;
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
            GrantKind::RefreshToken => {
                let store = self.store.as_ref().ok_or_else(|| {
                    Failure::usage(
                        "--grant refresh_token needs --store with a token that has a refresh token",
                    )
                })?;
                let stored = store
                    .get(manager.storage_key())
                    .await
                    .map_err(|err| Failure::vendor(err.to_string()))?;
                let Some(refresh) = stored.as_ref().and_then(|t| t.refresh_token().cloned()) else {
                    return Err(Failure::usage(format!(
                        "{}: the store holds no refresh token for this client; run `login` or \
                         `token` with the same --store first",
                        self.vendor()
                    )));
                };
                let token = self.client.refresh(&refresh).await?;
                match &stored {
                    Some(previous) => token.inherit_refresh_token(previous),
                    None => token,
                }
            }
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
        let manager = self.manager();
        let token = self.current_token(&manager).await?;
        let mut response = self.client.send_api(&token, &request).await?;
        if response.is_unauthorized() {
            eprintln!("note: the API refused the token; getting a new one and trying again");
            let fresh = manager.refresh_rejected(token.access_token()).await?;
            response = self.client.send_api(&fresh, &request).await?;
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
        let request = self.client.authorize_url()?;
        let url = self.client.effective_url(&request.url)?;
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
        let outcome = tokio::time::timeout(
            timeout,
            receiver.serve(move |callback| {
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
        self.keep(&self.manager(), &token).await?;
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
        let request = self.client.authorize_url()?;
        let url = self.client.effective_url(&request.url)?;
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
        self.keep(&self.manager(), &token).await?;
        Ok(token)
    }
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
