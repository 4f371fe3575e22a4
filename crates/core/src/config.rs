//! What a user supplies for one vendor: credentials, tenant variables, environment, scopes.

use std::collections::BTreeMap;
use std::fmt;

use oauth_clients_descriptor::names::looks_secret;
use secrecy::SecretString;

use crate::descriptor::{ClientAuth, GrantKind};
use crate::jwt::SigningKey;
use crate::secret::Password;

/// What a user supplies for one vendor: credentials, tenant variables, environment, scopes.
/// Built with setters; `Debug` never shows the secret, nor the values of secret-looking
/// variables.
///
/// ```
/// use oauth_clients_core::ClientConfig;
/// use oauth_clients_core::secrecy::SecretString;
///
/// let config = ClientConfig::new("my-client-id")
///     .secret(SecretString::from("my-secret"))
///     .variable("domain", "acme")
///     .scopes(["read", "write"]);
/// assert_eq!(config.client_id(), "my-client-id");
/// ```
#[derive(Clone, Default)]
pub struct ClientConfig {
    client_id: String,
    client_secret: Option<SecretString>,
    variables: BTreeMap<String, String>,
    scopes: Option<Vec<String>>,
    /// The settings few configurations have, apart (a process may hold thousands).
    details: Option<Box<ConfigDetails>>,
}

#[derive(Clone, Default)]
struct ConfigDetails {
    environment: Option<String>,
    redirect_uri: Option<String>,
    grant_types: BTreeMap<GrantKind, String>,
    client_auth: Option<ClientAuth>,
    signing_key: Option<SigningKey>,
}

impl ClientConfig {
    /// A configuration with a client id and nothing else.
    pub fn new(client_id: impl Into<String>) -> ClientConfig {
        ClientConfig {
            client_id: client_id.into(),
            ..ClientConfig::default()
        }
    }

    /// Sets the client secret (public clients have none).
    pub fn secret(mut self, secret: SecretString) -> ClientConfig {
        self.client_secret = Some(secret);
        self
    }

    /// Sets a tenant variable. Only variables the descriptor declares may be set; building the
    /// client fails on any other name, and on a value that does not match its pattern.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> ClientConfig {
        self.variables.insert(name.into(), value.into());
        self
    }

    /// Chooses an environment by name (the descriptor's default otherwise).
    pub fn environment(mut self, name: impl Into<String>) -> ClientConfig {
        self.details_mut().environment = Some(name.into());
        self
    }

    /// Sets the scopes to request (the descriptor's defaults otherwise).
    pub fn scopes<I, S>(mut self, scopes: I) -> ClientConfig
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Sends `value` as the `grant_type` of `grant` instead of the descriptor's value (for an
    /// installation that differs from the vendor's document).
    pub fn grant_type(mut self, grant: GrantKind, value: impl Into<String>) -> ClientConfig {
        self.details_mut().grant_types.insert(grant, value.into());
        self
    }

    /// Sets the redirect URI (the descriptor's default otherwise).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> ClientConfig {
        self.details_mut().redirect_uri = Some(uri.into());
        self
    }

    /// Authenticates with `method` instead of the vendor's preferred one; the vendor must list
    /// it among the methods it accepts (`client_auth` in the descriptor).
    pub fn client_auth(mut self, method: ClientAuth) -> ClientConfig {
        self.details_mut().client_auth = Some(method);
        self
    }

    /// The private key that signs the client's JWT assertions (`private_key_jwt`, the
    /// JWT-bearer grant).
    pub fn signing_key(mut self, key: SigningKey) -> ClientConfig {
        self.details_mut().signing_key = Some(key);
        self
    }

    /// The client authentication method chosen, when one was.
    pub fn client_auth_choice(&self) -> Option<ClientAuth> {
        self.details.as_ref().and_then(|d| d.client_auth)
    }

    /// The signing key, when set.
    pub fn signing_key_value(&self) -> Option<&SigningKey> {
        self.details.as_ref().and_then(|d| d.signing_key.as_ref())
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret, when set.
    pub fn client_secret(&self) -> Option<&SecretString> {
        self.client_secret.as_ref()
    }

    /// The tenant variables set.
    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.variables
    }

    /// The environment chosen, when one was.
    pub fn environment_name(&self) -> Option<&str> {
        self.details.as_ref().and_then(|d| d.environment.as_deref())
    }

    /// The scopes chosen, when set.
    pub fn scope_list(&self) -> Option<&[String]> {
        self.scopes.as_deref()
    }

    /// The redirect URI chosen, when set.
    pub fn redirect_uri_value(&self) -> Option<&str> {
        self.details
            .as_ref()
            .and_then(|d| d.redirect_uri.as_deref())
    }

    /// The `grant_type` overrides.
    pub fn grant_type_overrides(&self) -> &BTreeMap<GrantKind, String> {
        static NONE: BTreeMap<GrantKind, String> = BTreeMap::new();
        self.details.as_ref().map_or(&NONE, |d| &d.grant_types)
    }

    fn details_mut(&mut self) -> &mut ConfigDetails {
        self.details.get_or_insert_with(Box::default)
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("variables", &redact_variables(&self.variables, |_| false))
            .field("environment", &self.environment_name())
            .field("scopes", &self.scopes)
            .field("redirect_uri", &self.redirect_uri_value())
            .field("grant_types", self.grant_type_overrides())
            .field("client_auth", &self.client_auth_choice())
            .field("signing_key", &self.signing_key_value())
            .finish()
    }
}

/// Variables for `Debug`: the values of variables declared secret, or whose names look secret
/// ([`looks_secret`]), are redacted.
pub(crate) fn redact_variables(
    variables: &BTreeMap<String, String>,
    declared_secret: impl Fn(&str) -> bool,
) -> BTreeMap<&str, &str> {
    variables
        .iter()
        .map(|(name, value)| {
            if declared_secret(name) || looks_secret(name) {
                (name.as_str(), "[redacted]")
            } else {
                (name.as_str(), value.as_str())
            }
        })
        .collect()
}

/// A user's own credentials, for legacy flows that post them. `Debug` shows
/// neither: the vendor asks for both to be handled like the client secret.
#[derive(Clone)]
pub struct UserCredentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: Password,
}

impl UserCredentials {
    /// Credentials from a user name and a password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> UserCredentials {
        UserCredentials {
            username: username.into(),
            password: Password::new(password),
        }
    }
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("username", &"[redacted]")
            .field("password", &"[redacted]")
            .finish()
    }
}
