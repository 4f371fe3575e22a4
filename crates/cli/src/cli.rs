//! The command line: commands, their flags, and the flags `token`, `login` and `call` share.

use clap::{Args, Parser, Subcommand};

/// OAuth 2.0 tokens, browser logins and authorized calls for every vendor of `providers/`, and a
/// local sandbox of the seed vendors to try it all without an account.
///
/// The client secret is read from OAUTH_CLIENT_SECRET (never a flag); Procountor's user
/// credentials from OAUTH_USERNAME and OAUTH_PASSWORD. TLS trusts Mozilla's roots (built in),
/// the PEM bundle named by SSL_CERT_FILE and --ca-cert files; HTTPS_PROXY, HTTP_PROXY,
/// ALL_PROXY and NO_PROXY choose a proxy. stdout carries only the result.
/// Exit status: 0 success, 1 the vendor or the network failed, 2 usage or descriptor error.
#[derive(Debug, Parser)]
#[command(name = "oauth-clients", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More detail on stderr (-v: info, -vv: debug, with a line per token request and its
    /// `oauth.token_request` span, -vvv: trace); RUST_LOG, when set, decides instead. No level
    /// ever shows a secret.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists the compiled-in vendors: id, name, grants, variables.
    Providers {
        /// How to print the list.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        output: ListFormat,
        /// Same as `--output json`.
        #[arg(long, hide = true, conflicts_with = "output")]
        json: bool,
        /// Only the vendors that offer this grant (e.g. device_code, client_credentials).
        #[arg(long, value_name = "GRANT")]
        grant: Option<String>,
        /// Only the vendors whose id, name, tags or description contain WORD (any case).
        #[arg(long, value_name = "WORD")]
        search: Option<String>,
    },
    /// Shows one vendor's endpoints, grants, variables and environments.
    Describe {
        /// A vendor id from `providers/` (or use --descriptor).
        vendor: Option<String>,
        /// How to print the vendor: text, json, or yaml (with --issuer, yaml is a commented
        /// descriptor file for review, what `cargo xtask import` writes).
        #[arg(long, value_enum, default_value_t = DescribeFormat::Text)]
        output: DescribeFormat,
        /// Same as `--output json`.
        #[arg(long, hide = true, conflicts_with_all = ["output", "yaml"])]
        json: bool,
        /// Same as `--output yaml`.
        #[arg(long, hide = true, conflicts_with = "output")]
        yaml: bool,
        /// A descriptor file to use instead of a compiled-in vendor.
        #[arg(long, value_name = "FILE.yaml")]
        descriptor: Option<std::path::PathBuf>,
        /// An issuer whose metadata describes the vendor (RFC 8414, OpenID Connect
        /// Discovery), instead of a compiled-in vendor.
        #[arg(long, value_name = "URL", conflicts_with = "descriptor")]
        issuer: Option<String>,
    },
    /// Gets a token and prints it as JSON on stdout.
    ///
    /// Which token: the client's own token (client credentials), kept under the client's key;
    /// or the user's token that `login` stored (the user key, see --user). `token` uses the
    /// user's token when --user is given, when --grant is refresh_token or
    /// legacy_credentials, or when the vendor has no client_credentials grant; the client's
    /// own token otherwise. The two never replace each other in a store.
    Token {
        /// A vendor id from `providers/` (or use --descriptor).
        vendor: Option<String>,
        /// The grant to run: client_credentials, refresh_token or legacy_credentials. Without
        /// it, a valid stored token is reused, refreshed when needed, or obtained with the
        /// vendor's unattended grant.
        #[arg(long, value_name = "GRANT")]
        grant: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Logs in through the browser (authorization code with PKCE and state) and prints the token.
    ///
    /// With --store, the user's tokens are stored under the user key (see --user), never under
    /// the client's own key; `token --user`, `token --grant refresh_token` and `call --user`
    /// use them afterwards.
    Login {
        /// A vendor id from `providers/` (or use --descriptor).
        vendor: Option<String>,
        /// The loopback port of the redirect receiver (default: a free port).
        #[arg(long, value_name = "N", conflicts_with = "oob")]
        port: Option<u16>,
        /// Out-of-band: the vendor shows the code in the browser; paste it on stdin.
        #[arg(long)]
        oob: bool,
        /// Device flow (RFC 8628): shows a code to enter on another device (and a QR code of
        /// the URL), then waits for the approval.
        #[arg(long, conflicts_with_all = ["oob", "port"])]
        device: bool,
        /// Does not open a browser; the URL is printed to stderr in any case.
        #[arg(long)]
        no_browser: bool,
        /// How long to wait for the browser, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 300)]
        wait: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Calls the vendor's API with a token; prints the response body on stdout.
    ///
    /// Uses the user's token that `login` stored when --user is given or when the vendor has
    /// no client_credentials grant; the client's own token otherwise.
    Call {
        /// `<vendor> <METHOD> <PATH>`, or `<METHOD> <PATH>` with --descriptor. PATH is relative
        /// to the vendor's API base URL.
        #[arg(value_name = "VENDOR METHOD PATH", num_args = 0..=3)]
        args: Vec<String>,
        /// A JSON request body.
        #[arg(long, value_name = "JSON")]
        data: Option<String>,
        /// Calls the OpenID Connect userinfo endpoint instead (give no METHOD or PATH).
        #[arg(long, conflicts_with = "data")]
        userinfo: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Signs out: revokes the stored token at the vendor (RFC 7009), then forgets it.
    ///
    /// Acts on the token `token` or `login` stored (give the same --store, and --user for the
    /// user's token). When the vendor refuses or cannot be reached, the token stays stored.
    #[command(alias = "logout")]
    Revoke {
        /// A vendor id from `providers/` (or use --descriptor or --issuer).
        vendor: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Asks the vendor's introspection endpoint (RFC 7662) about the stored access token, and
    /// prints its answer as JSON.
    Introspect {
        /// A vendor id from `providers/` (or use --descriptor or --issuer).
        vendor: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Serves local fakes of vendors on 127.0.0.1 until interrupted: the seed vendors, or the
    /// vendors named with --vendor and --descriptor, faked strictly from their descriptors.
    ///
    /// Prints the `--rewrite-url FROM=TO` arguments that send the vendors' real URLs to it, and
    /// for descriptor fakes the `--var NAME=VALUE` arguments they expect (one `# <id>` line
    /// before each vendor's arguments when there are several). It accepts the fixed test client
    /// `sandbox-client` with secret `sandbox-secret`, and the user `sandbox-user` /
    /// `sandbox-password` (company 14159) of Procountor's legacy flow; the seed fakes' tenant
    /// domains are `api.craftbrouwers.nl` (Procurios) and `acme` (Procurify).
    Sandbox {
        /// The port (default: a free one).
        #[arg(long, value_name = "N", default_value_t = 0)]
        port: u16,
        /// Fakes a compiled-in vendor from its descriptor (repeatable).
        #[arg(long = "vendor", value_name = "ID")]
        vendors: Vec<String>,
        /// Fakes the vendor of a descriptor file (repeatable).
        #[arg(long = "descriptor", value_name = "FILE.yaml")]
        descriptors: Vec<std::path::PathBuf>,
    },
    /// Checks a vendor's set-up without getting a token: the descriptor and configuration,
    /// each endpoint's reachability (DNS, TCP, TLS), and this machine's clock against the
    /// vendor's. Exit status 1 when a check fails.
    Doctor {
        /// A vendor id from `providers/` (or use --descriptor or --issuer).
        vendor: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Prints a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Prints the manual page (roff), e.g. `oauth-clients man > oauth-clients.1`.
    Man,
    /// Starts the sandbox and runs every seed vendor's grants and one API call, as a table.
    Demo,
}

/// How `providers` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ListFormat {
    /// Aligned columns.
    Table,
    /// A JSON array.
    Json,
}

/// How `describe` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DescribeFormat {
    /// Text for people.
    Text,
    /// The descriptor as JSON (secret-looking values masked).
    Json,
    /// The descriptor as YAML.
    Yaml,
}

impl DescribeFormat {
    /// This format, unless a hidden `--json` or `--yaml` flag says otherwise.
    pub(crate) fn or_flags(self, json: bool, yaml: bool) -> DescribeFormat {
        match (json, yaml) {
            (true, _) => DescribeFormat::Json,
            (_, true) => DescribeFormat::Yaml,
            _ => self,
        }
    }
}

/// Options shared by `token`, `login` and `call`.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// A descriptor file to use instead of a compiled-in vendor (same schema).
    #[arg(long, value_name = "FILE.yaml")]
    pub descriptor: Option<std::path::PathBuf>,
    /// An issuer whose metadata describes the vendor (RFC 8414, OpenID Connect Discovery),
    /// instead of a compiled-in vendor or --descriptor; the vendor id is then optional.
    #[arg(long, value_name = "URL", conflicts_with = "descriptor")]
    pub issuer: Option<String>,
    /// The OAuth client id.
    #[arg(
        long,
        value_name = "ID",
        env = "OAUTH_CLIENT_ID",
        hide_env_values = true
    )]
    pub client_id: Option<String>,
    /// A tenant variable, e.g. `--var domain=acme` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// The vendor environment, e.g. `sandbox`.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// A scope to request (repeatable).
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    /// Sends every URL starting with FROM to TO instead (repeatable).
    #[arg(long = "rewrite-url", value_name = "FROM=TO")]
    pub rewrites: Vec<String>,
    /// Also trusts the certificate authorities of this PEM file (repeatable), besides the
    /// built-in roots and those of the SSL_CERT_FILE bundle: for a vendor, or a proxy that
    /// inspects TLS, whose certificate a private CA issued.
    #[arg(long = "ca-cert", value_name = "FILE.pem")]
    pub ca_certs: Vec<std::path::PathBuf>,
    /// The redirect URI registered for the integration, for flows that send one without a
    /// browser (Procountor's legacy flow). `login` uses its loopback receiver's URI instead.
    #[arg(
        long,
        value_name = "URI",
        env = "OAUTH_REDIRECT_URI",
        hide_env_values = true
    )]
    pub redirect_uri: Option<String>,
    /// Where tokens are kept: `memory`, `file:PATH`, `sqlite:PATH`, `redis://HOST:PORT/DB` or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` (`?sslmode=require` for TLS). With
    /// OAUTH_CLIENTS_STORE_KEY=ID:BASE64 (32 bytes; older `ID:BASE64` keys may follow, after
    /// commas), tokens in a file, SQLite, Redis or PostgreSQL store are encrypted at rest.
    #[arg(long, value_name = "URI")]
    pub store: Option<String>,
    /// The most a vendor operation may take, every retry included, in seconds (default 30).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Retries after a connection failure, a timeout, a 5xx or a 429 (default 2; single-use
    /// codes and rotating refresh tokens are resent only when they never left).
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// How the client authenticates, when the vendor accepts several methods (see `describe`).
    #[arg(long, value_name = "METHOD")]
    pub client_auth: Option<String>,
    /// A private key (PEM file) that signs JWT assertions (`private_key_jwt`, the JWT-bearer
    /// grant); or the OAUTH_PRIVATE_KEY environment variable with the PEM text.
    #[arg(long, value_name = "FILE")]
    pub key: Option<std::path::PathBuf>,
    /// The key id (`kid`) to name in JWT assertions.
    #[arg(long, value_name = "KID")]
    pub key_id: Option<String>,
    /// The subject of a JWT-bearer assertion (the user or service account it acts for).
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
    /// Uses the user's token (the one `login` stored) instead of the client's own token.
    /// `--user=NAME` names the user, to keep several users' logins apart in one store; `login`
    /// stores under the same name.
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    pub user: Option<String>,
}
