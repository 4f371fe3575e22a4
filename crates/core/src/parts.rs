//! What clients of one vendor, tenant variables and transport options have in common, built
//! once and shared: a process holding 10,000 tenants of one vendor keeps one copy of the
//! transport, the endpoint URLs, the header maps and the issuer's key set, and each client
//! keeps only its credentials.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use oauth_clients_descriptor::{Descriptor, Provider};
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};

use crate::endpoints::{self, Endpoints};
use crate::error::Error;
use crate::headers::header_map;
use crate::jwks::JwksCache;
use crate::stack::StackKey;
use crate::transport::{ClientOptions, HttpChoice, Transport};
use crate::vars::Vars;

/// The immutable parts of a client that depend only on the descriptor, the variable values
/// and the transport options.
pub(crate) struct SharedParts {
    pub(crate) provider: Provider,
    pub(crate) transport: Transport,
    pub(crate) endpoints: Endpoints,
    /// `Accept` and the descriptor's `token_request.headers`, or why they cannot be built;
    /// `None` when that is `Accept: application/json` alone.
    pub(crate) token_headers: Result<Option<HeaderMap>, Error>,
    /// The descriptor's `api.headers`, or why they cannot be built.
    pub(crate) api_headers: Result<HeaderMap, Error>,
    /// The issuer's key set, for ID tokens.
    pub(crate) jwks: JwksCache,
    /// The values the parts were rendered with (without `client_id` when no shared template
    /// names it), and the shared HTTP stack's key.
    vars: Vars,
    stack: Option<StackKey>,
}

/// The token request headers of a descriptor that names none.
pub(crate) static DEFAULT_TOKEN_HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| {
    HeaderMap::from_iter([(ACCEPT, HeaderValue::from_static("application/json"))])
});

impl SharedParts {
    /// The parts for a descriptor, variables and options: the ones already built when a live
    /// client has them, else new ones.
    ///
    /// `vars` are the client's values, `client_id` included; the parts are shared by clients
    /// whose values differ only in `client_id` unless a shared template (an endpoint or a
    /// header) names it. Providers are told apart by identity (a generated module's provider,
    /// or clones of one parsed provider, share; two parses of the same text do not).
    pub(crate) fn get(
        provider: &Provider,
        vars: &Vars,
        options: ClientOptions,
    ) -> Result<Arc<SharedParts>, Error> {
        let descriptor = provider.descriptor();
        let http = HttpChoice::for_options(&descriptor.id, &options)?;
        let key_vars = if shared_templates_name_client_id(descriptor) {
            vars.clone()
        } else {
            vars.without("client_id")
        };
        let hash =
            crate::hashing::hash_one((std::ptr::from_ref(descriptor), &key_vars, http.stack));
        let mut table = TABLE.lock().unwrap_or_else(|p| p.into_inner());
        let found = table.buckets.get(&hash).and_then(|bucket| {
            bucket.iter().filter_map(Weak::upgrade).find(|parts| {
                std::ptr::eq(parts.provider.descriptor(), descriptor)
                    && parts.vars == key_vars
                    && parts.stack == http.stack
                    && parts.transport.options().same_as(&options)
            })
        });
        if let Some(parts) = found {
            return Ok(parts);
        }
        let parts = Arc::new(SharedParts::build(provider, vars, key_vars, options, http)?);
        table.insert(hash, &parts);
        Ok(parts)
    }

    fn build(
        provider: &Provider,
        vars: &Vars,
        key_vars: Vars,
        options: ClientOptions,
        http: HttpChoice,
    ) -> Result<SharedParts, Error> {
        let descriptor = provider.descriptor();
        let vendor = descriptor.id.as_str();
        let stack = http.stack;
        let transport = Transport::with_http(
            vendor,
            options,
            descriptor.api.request_id_header.as_deref(),
            http,
        )?;
        let mut token_headers = header_map(
            vendor,
            vars,
            &descriptor.token_request.headers,
            "token_request.headers",
        );
        if let Ok(headers) = &mut token_headers {
            headers
                .entry(ACCEPT)
                .or_insert(HeaderValue::from_static("application/json"));
        }
        let token_headers =
            token_headers.map(|headers| (headers != *DEFAULT_TOKEN_HEADERS).then_some(headers));
        Ok(SharedParts {
            provider: provider.clone(),
            transport,
            endpoints: Endpoints::resolve(descriptor, vars),
            token_headers,
            api_headers: header_map(vendor, vars, &descriptor.api.headers, "api.headers"),
            jwks: JwksCache::default(),
            vars: key_vars,
            stack,
        })
    }
}

/// Whether an endpoint or header template may name `client_id` (a conservative test: the
/// name anywhere in the text).
fn shared_templates_name_client_id(descriptor: &Descriptor) -> bool {
    let names = |text: &str| text.contains("client_id");
    endpoints::templates(descriptor)
        .iter()
        .any(|(_, template, _)| names(template))
        || descriptor.token_request.headers.values().any(|v| names(v))
        || descriptor.api.headers.values().any(|v| names(v))
}

/// Live parts by the hash of their key. Entries of dropped parts are swept out as the table
/// grows, so it stays proportional to the parts alive.
#[derive(Default)]
struct PartsTable {
    buckets: HashMap<u64, Vec<Weak<SharedParts>>>,
    entries: usize,
    sweep_at: usize,
}

static TABLE: LazyLock<Mutex<PartsTable>> = LazyLock::new(Mutex::default);

impl PartsTable {
    fn insert(&mut self, hash: u64, parts: &Arc<SharedParts>) {
        if self.entries >= self.sweep_at {
            self.buckets.retain(|_, bucket| {
                bucket.retain(|weak| weak.strong_count() > 0);
                !bucket.is_empty()
            });
            self.entries = self.buckets.values().map(Vec::len).sum();
            self.sweep_at = (self.entries * 2).max(64);
        }
        self.buckets
            .entry(hash)
            .or_default()
            .push(Arc::downgrade(parts));
        self.entries += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientConfig;
    use crate::{Client, ClientOptions};

    fn descriptor(extra: &str) -> Provider {
        let yaml = format!(
            "id: parts\nname: Parts\nendpoints:\n  token: https://{{host}}/token\n{extra}\
             variables:\n  host:\n    description: Host.\ngrants:\n  client_credentials: {{}}\n"
        );
        Provider::from_yaml_str(&yaml, "parts.yaml").unwrap()
    }

    fn client(provider: &Provider, id: &str, host: &str, options: ClientOptions) -> Client {
        let config = ClientConfig::new(id).variable("host", host);
        Client::with_options(provider.clone(), config, options).unwrap()
    }

    #[test]
    fn clients_differing_only_in_credentials_share_their_parts() {
        let provider = descriptor("");
        let options = ClientOptions::default();
        let a = client(&provider, "a", "one.example.com", options.clone());
        let b = client(&provider, "b", "one.example.com", options.clone());
        assert!(Arc::ptr_eq(&a.inner.parts, &b.inner.parts));
        let other_host = client(&provider, "c", "two.example.com", options.clone());
        assert!(!Arc::ptr_eq(&a.inner.parts, &other_host.inner.parts));
        let other_options = client(
            &provider,
            "d",
            "one.example.com",
            options.clone().max_attempts(7),
        );
        assert!(!Arc::ptr_eq(&a.inner.parts, &other_options.inner.parts));
        // Another parse of the same text is another provider.
        let reparsed = client(&descriptor(""), "e", "one.example.com", options);
        assert!(!Arc::ptr_eq(&a.inner.parts, &reparsed.inner.parts));
    }

    #[test]
    fn a_client_id_in_a_header_keeps_parts_apart_and_is_rendered_per_client() {
        let provider = descriptor("token_request:\n  headers:\n    X-Client: 'id {client_id}'\n");
        let options = ClientOptions::default();
        let a = client(&provider, "a", "one.example.com", options.clone());
        let b = client(&provider, "b", "one.example.com", options);
        assert!(!Arc::ptr_eq(&a.inner.parts, &b.inner.parts));
        let header = |c: &Client| c.token_headers().unwrap()["x-client"].clone();
        assert_eq!(header(&a), "id a");
        assert_eq!(header(&b), "id b");
    }

    #[test]
    fn own_http_clients_share_only_through_the_same_options() {
        let provider = descriptor("");
        let http = crate::http_client_builder().build().unwrap();
        let options = ClientOptions::default().http_client(http.clone());
        let a = client(&provider, "a", "one.example.com", options.clone());
        let b = client(&provider, "b", "one.example.com", options);
        assert!(Arc::ptr_eq(&a.inner.parts, &b.inner.parts));
        let separate = ClientOptions::default().http_client(http);
        let c = client(&provider, "c", "one.example.com", separate);
        assert!(!Arc::ptr_eq(&a.inner.parts, &c.inner.parts));
    }

    #[test]
    fn dropped_parts_are_swept_from_the_table() {
        let provider = descriptor("");
        for n in 0..300 {
            let host = format!("host{n}.example.com");
            drop(client(&provider, "a", &host, ClientOptions::default()));
        }
        let table = TABLE.lock().unwrap();
        // Other tests add live entries at the same time; what this test dropped is gone but
        // for at most one sweep's worth.
        assert!(table.entries < 300, "{} entries", table.entries);
    }
}
