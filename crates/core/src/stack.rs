//! The HTTP stacks clients share: one `reqwest::Client` (connection pool, TLS configuration,
//! proxy) per process for each distinct connect timeout, set of trusted roots and proxy; the
//! extra roots of `SSL_CERT_FILE`; and a clear message when a server's certificate is refused.
//!
//! TLS is rustls on the ring provider, never OpenSSL: the engine builds the rustls
//! configuration and hands it to reqwest. The built-in roots are Mozilla's, as compiled into
//! `webpki-roots`; the operating system's store is not read. Extra roots (from `SSL_CERT_FILE`
//! and from the options) are added to them, never replace them.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use sha2::{Digest as _, Sha256};

use crate::error::Error;
use crate::redact::redact_url;

/// The environment variable naming a PEM bundle of extra trusted roots.
pub(crate) const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// The environment variables reqwest reads for proxies.
const PROXY_VARIABLES: [&str; 8] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Extra trusted roots as given: PEM text, and what gave it (for messages).
#[derive(Clone)]
pub(crate) struct Roots {
    pem: Arc<[u8]>,
    origin: Arc<str>,
    /// Exactly one certificate expected (else at least one).
    exactly_one: bool,
    /// SHA-256 of the PEM text, computed once (a system bundle is some 200 KB).
    sha256: [u8; 32],
}

impl Roots {
    /// One certificate, as PEM text.
    pub(crate) fn one(pem: &[u8], origin: &str) -> Roots {
        Roots {
            pem: pem.into(),
            origin: origin.into(),
            exactly_one: true,
            sha256: Sha256::digest(pem).into(),
        }
    }

    /// Whether both are the same certificates, expected alike, from the same origin.
    pub(crate) fn same_as(&self, other: &Roots) -> bool {
        self.sha256 == other.sha256
            && self.exactly_one == other.exactly_one
            && self.origin == other.origin
    }

    /// A PEM bundle of one or more certificates.
    pub(crate) fn bundle(pem: &[u8], origin: &str) -> Roots {
        Roots {
            exactly_one: false,
            ..Roots::one(pem, origin)
        }
    }

    /// The certificates, checked: readable PEM, and as many as expected.
    fn certificates(&self) -> Result<Vec<CertificateDer<'static>>, String> {
        let origin = &self.origin;
        let certificates = CertificateDer::pem_slice_iter(&self.pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| format!("{origin}: not a readable PEM certificate: {err}"))?;
        match certificates.len() {
            0 => Err(format!(
                "{origin}: no PEM certificate found (expected `-----BEGIN CERTIFICATE-----`)"
            )),
            n if n > 1 && self.exactly_one => Err(format!(
                "{origin}: {n} certificates where one was expected; give a bundle with \
                 ClientOptions::root_certificates_pem"
            )),
            _ => Ok(certificates),
        }
    }
}

/// Which proxy the shared stack uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) enum ProxyChoice {
    /// The proxy environment variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`
    /// and their lowercase forms), as reqwest reads them.
    #[default]
    Environment,
    /// No proxy, whatever the environment says.
    Off,
    /// This proxy for every request.
    Url(String),
}

impl ProxyChoice {
    /// As shown in `Debug` output: a proxy URL without user info, query or fragment.
    pub(crate) fn display(&self) -> String {
        match self {
            ProxyChoice::Environment => "environment".to_owned(),
            ProxyChoice::Off => "off".to_owned(),
            ProxyChoice::Url(url) => redact_url(url),
        }
    }
}

/// What makes two shared stacks different.
pub(crate) struct StackSettings<'a> {
    pub(crate) connect_timeout: Duration,
    /// The roots given in the options.
    pub(crate) roots: &'a [Roots],
    pub(crate) proxy: &'a ProxyChoice,
}

/// The key of a shared stack: the connect timeout and a digest of everything else (roots, the
/// proxy, and the environment variables read for them).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct StackKey {
    connect_timeout: Duration,
    digest: [u8; 32],
}

/// The stacks shared by every `Client` of this process.
static SHARED: LazyLock<Mutex<HashMap<StackKey, reqwest::Client>>> = LazyLock::new(Mutex::default);

/// The shared HTTP client for `settings`, built on first use: redirects off, the crate's user
/// agent, the built-in roots plus those of `SSL_CERT_FILE` and of the options, the proxy.
pub(crate) fn shared_client(
    vendor: &str,
    settings: &StackSettings<'_>,
) -> Result<(StackKey, reqwest::Client), Error> {
    let mut roots = Vec::new();
    if let Some(env) = env_roots().map_err(|message| Error::config(vendor, message))? {
        roots.push(env);
    }
    roots.extend(settings.roots.iter().cloned());
    let key = StackKey {
        connect_timeout: settings.connect_timeout,
        digest: digest(&roots, settings.proxy),
    };
    let mut shared = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(client) = shared.get(&key) {
        return Ok((key, client.clone()));
    }
    let client = build(settings.connect_timeout, &roots, settings.proxy)
        .map_err(|message| Error::config(vendor, message))?;
    shared.insert(key, client.clone());
    Ok((key, client))
}

/// The bundle `SSL_CERT_FILE` named when it was last read: its path, size and modification
/// time, and its roots.
type EnvRootsCache = Option<(
    std::ffi::OsString,
    u64,
    Option<std::time::SystemTime>,
    Roots,
)>;

static ENV_ROOTS: LazyLock<Mutex<EnvRootsCache>> = LazyLock::new(Mutex::default);

/// The roots of the PEM bundle `SSL_CERT_FILE` names; `None` when it is unset or empty. The
/// file is read again only when the variable, its size or its modification time changed: a
/// process with thousands of clients reads it once.
fn env_roots() -> Result<Option<Roots>, String> {
    let Some(path) = std::env::var_os(SSL_CERT_FILE).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let origin = format!(
        "{SSL_CERT_FILE} ({})",
        std::path::Path::new(&path).display()
    );
    let metadata =
        std::fs::metadata(&path).map_err(|err| format!("{origin}: cannot read it: {err}"))?;
    let (len, modified) = (metadata.len(), metadata.modified().ok());
    let mut cache = ENV_ROOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((cached_path, cached_len, cached_modified, roots)) = cache.as_ref()
        && *cached_path == path
        && *cached_len == len
        && *cached_modified == modified
    {
        return Ok(Some(roots.clone()));
    }
    let pem = std::fs::read(&path).map_err(|err| format!("{origin}: cannot read it: {err}"))?;
    let roots = Roots::bundle(&pem, &origin);
    *cache = Some((path, len, modified, roots.clone()));
    Ok(Some(roots))
}

fn digest(roots: &[Roots], proxy: &ProxyChoice) -> [u8; 32] {
    let mut hash = Sha256::new();
    for root in roots {
        hash.update(root.sha256);
        hash.update([u8::from(root.exactly_one)]);
    }
    hash.update(b"\0proxy\0");
    match proxy {
        ProxyChoice::Environment => {
            hash.update(b"environment\0");
            for name in PROXY_VARIABLES {
                let value = std::env::var_os(name).unwrap_or_default();
                hash.update(name.as_bytes());
                hash.update(b"=");
                hash.update(value.as_encoded_bytes());
                hash.update(b"\0");
            }
        }
        ProxyChoice::Off => hash.update(b"off\0"),
        ProxyChoice::Url(url) => {
            hash.update(b"url\0");
            hash.update(url.as_bytes());
        }
    }
    hash.finalize().into()
}

fn build(
    connect_timeout: Duration,
    roots: &[Roots],
    proxy: &ProxyChoice,
) -> Result<reqwest::Client, String> {
    let mut extra_roots = Vec::new();
    for root in roots {
        extra_roots.extend(root.certificates()?);
    }
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config(extra_roots)?)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .user_agent(concat!("oauth-clients/", env!("CARGO_PKG_VERSION")));
    builder = match proxy {
        ProxyChoice::Environment => builder,
        ProxyChoice::Off => builder.no_proxy(),
        ProxyChoice::Url(url) => {
            let proxy = reqwest::Proxy::all(url.as_str()).map_err(|err| {
                format!(
                    "ClientOptions::proxy: not a usable proxy URL ({}): {}",
                    redact_url(url),
                    err.without_url()
                )
            })?;
            builder.proxy(proxy)
        }
    };
    builder
        .build()
        .map_err(|err| format!("cannot build the HTTP client: {err}"))
}

/// The rustls configuration of a stack: the ring provider, TLS 1.2 and 1.3, HTTP/1.1, and
/// Mozilla's roots plus `extra_roots`.
fn tls_config(extra_roots: Vec<CertificateDer<'static>>) -> Result<rustls::ClientConfig, String> {
    let mut store =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for certificate in extra_roots {
        store
            .add(certificate)
            .map_err(|err| format!("a trusted root is not a usable CA certificate: {err}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("cannot set up TLS: {err}"))?
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A `reqwest` client builder with the engine's TLS set up (rustls on ring, Mozilla's roots),
/// and nothing else: start from it to build a client of your own for
/// [`ClientOptions::http_client`](crate::ClientOptions::http_client), or any other client in a
/// program that has no rustls crypto provider installed (reqwest, as this crate uses it,
/// brings none of its own).
///
/// ```
/// let http = oauth_clients_core::http_client_builder()
///     .pool_max_idle_per_host(8)
///     .build()
///     .expect("an HTTP client");
/// let options = oauth_clients_core::ClientOptions::default().http_client(http);
/// # let _ = options;
/// ```
pub fn http_client_builder() -> reqwest::ClientBuilder {
    // Without extra roots nothing can fail: the provider has safe defaults and the roots are
    // Mozilla's, compiled in.
    let config = tls_config(Vec::new()).expect("the built-in TLS configuration");
    reqwest::Client::builder().tls_backend_preconfigured(config)
}

/// What to say when a connection failed because the server's certificate was refused: found
/// in the error's causes (rustls' error sits inside I/O errors there, which `source` skips).
pub(crate) fn certificate_problem(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(err);
    while let Some(current) = cause {
        if let Some(tls @ rustls::Error::InvalidCertificate(reason)) = rustls_error(current) {
            return Some(describe_certificate_error(reason, tls.to_string()));
        }
        cause = current.source();
    }
    None
}

/// The rustls error that `err` is, or that the I/O errors it is wrap (at most 8 deep).
fn rustls_error<'e>(mut err: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    for _ in 0..8 {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = err.downcast_ref::<std::io::Error>()?.get_ref()?;
        err = inner;
    }
    None
}

fn describe_certificate_error(reason: &rustls::CertificateError, text: String) -> String {
    use rustls::CertificateError as E;
    match reason {
        E::UnknownIssuer | E::BadSignature => format!(
            "the server's TLS certificate is not trusted ({text}); add its CA with \
             ClientOptions::root_certificate / --ca-cert (or SSL_CERT_FILE)"
        ),
        E::Expired | E::ExpiredContext { .. } | E::NotValidYet | E::NotValidYetContext { .. } => {
            format!("the server's TLS certificate is expired or not valid yet ({text})")
        }
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            format!("the server's TLS certificate is not valid for this host name ({text})")
        }
        _ => format!("the server's TLS certificate was refused ({text})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(name: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    fn entries(timeout: Duration) -> usize {
        SHARED
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.connect_timeout == timeout)
            .count()
    }

    fn get(timeout: Duration, roots: &[Roots], proxy: &ProxyChoice) -> reqwest::Client {
        let settings = StackSettings {
            connect_timeout: timeout,
            roots,
            proxy,
        };
        shared_client("v", &settings).unwrap().1
    }

    #[test]
    fn clients_with_the_same_settings_share_one_stack_and_other_roots_get_another() {
        let timeout = Duration::from_millis(7_001);
        let off = ProxyChoice::Off;
        let (a, b) = (pem("CA a"), pem("CA b"));
        get(timeout, &[], &off);
        get(timeout, &[], &off);
        assert_eq!(entries(timeout), 1);
        get(timeout, &[Roots::one(a.as_bytes(), "a")], &off);
        get(timeout, &[Roots::one(a.as_bytes(), "a")], &off);
        assert_eq!(entries(timeout), 2);
        get(timeout, &[Roots::one(b.as_bytes(), "b")], &off);
        assert_eq!(entries(timeout), 3);
        let proxy = ProxyChoice::Url("http://127.0.0.1:9".into());
        get(timeout, &[Roots::one(b.as_bytes(), "b")], &proxy);
        assert_eq!(entries(timeout), 4);
    }

    #[test]
    fn bad_roots_are_configuration_errors_that_name_their_origin() {
        let proxy = ProxyChoice::Environment;
        let build = |roots: Vec<Roots>| {
            shared_client(
                "v",
                &StackSettings {
                    connect_timeout: Duration::from_millis(7_002),
                    roots: &roots,
                    proxy: &proxy,
                },
            )
            .err()
            .map(|e| e.to_string())
        };
        let none = build(vec![Roots::bundle(b"not a certificate", "my.pem")]).unwrap();
        assert!(none.contains("my.pem: no PEM certificate found"), "{none}");
        let two = format!("{}{}", pem("x"), pem("y"));
        let two = build(vec![Roots::one(
            two.as_bytes(),
            "ClientOptions::root_certificate",
        )])
        .unwrap();
        assert!(
            two.contains("2 certificates where one was expected"),
            "{two}"
        );
    }

    #[test]
    fn a_proxy_url_is_shown_without_its_credentials() {
        let proxy = ProxyChoice::Url("http://user:pw-secret@proxy.example:3128/".into());
        assert_eq!(proxy.display(), "http://proxy.example:3128/");
    }
}
