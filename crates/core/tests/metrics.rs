//! The `metrics` feature: token requests and refreshes are counted through the `metrics` facade
//! with the right labels (a tiny recorder stands in for an exporter).
//!
//! Run with `cargo nextest run -p oauth-clients-core --features metrics --test metrics`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use oauth_clients_core::{Client, ClientConfig, Provider, RefreshToken, TokenManager};
use secrecy::SecretString;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// What the recorder saw: counter totals and histogram sample counts, by `name{labels}`.
#[derive(Default)]
struct Seen {
    counters: Mutex<BTreeMap<String, u64>>,
    samples: Mutex<BTreeMap<String, usize>>,
}

/// A recorder that keeps everything in [`Seen`].
struct TinyRecorder(Arc<Seen>);

/// One metric's handle: its rendered key and where to count.
struct Handle(String, Arc<Seen>);

impl CounterFn for Handle {
    fn increment(&self, value: u64) {
        *self
            .1
            .counters
            .lock()
            .unwrap()
            .entry(self.0.clone())
            .or_default() += value;
    }

    fn absolute(&self, value: u64) {
        self.1
            .counters
            .lock()
            .unwrap()
            .insert(self.0.clone(), value);
    }
}

impl HistogramFn for Handle {
    fn record(&self, value: f64) {
        assert!(value >= 0.0, "a negative duration: {value}");
        *self
            .1
            .samples
            .lock()
            .unwrap()
            .entry(self.0.clone())
            .or_default() += 1;
    }
}

/// `name{a=1,b=2}`, labels sorted.
fn render(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for TinyRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Handle(render(key), self.0.clone())))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Handle(render(key), self.0.clone())))
    }
}

fn client(server: &MockServer) -> Client {
    let yaml = format!(
        "id: counted\nname: Counted\nendpoints:\n  token: {}/token\ngrants:\n  \
         client_credentials: {{}}\n  refresh_token: {{}}\nclient_auth: client_secret_post\n",
        server.uri()
    );
    let provider = Provider::from_yaml_str(&yaml, "counted.yaml").unwrap();
    let config = ClientConfig::new("id").secret(SecretString::from("secret"));
    Client::new(provider, config).unwrap()
}

async fn flow() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "a1", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "invalid_grant"})),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    client.client_credentials().await.unwrap();
    // A manager: one token request, then two reads from its cache.
    let manager = TokenManager::new(client.clone());
    for _ in 0..3 {
        manager.access_token().await.unwrap();
    }
    let err = client
        .refresh(&RefreshToken::new("dead"))
        .await
        .unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");
}

#[test]
fn token_requests_refreshes_and_cache_hits_are_counted_with_their_labels() {
    let seen = Arc::new(Seen::default());
    let recorder = TinyRecorder(seen.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The recorder is this thread's; the current-thread runtime polls the client here.
    metrics::with_local_recorder(&recorder, || runtime.block_on(flow()));

    let counters = seen.counters.lock().unwrap().clone();
    let expected: BTreeMap<String, u64> = [
        (
            "oauth_clients_token_requests_total{grant=client_credentials,outcome=success,\
             vendor=counted}",
            2,
        ),
        ("oauth_clients_token_cache_hits_total{vendor=counted}", 2),
        (
            "oauth_clients_token_requests_total{grant=refresh_token,outcome=oauth_error,\
             vendor=counted}",
            1,
        ),
        (
            "oauth_clients_refreshes_total{outcome=invalid_grant,vendor=counted}",
            1,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(counters, expected);

    let samples = seen.samples.lock().unwrap().clone();
    assert_eq!(
        samples.get(
            "oauth_clients_token_request_seconds{grant=client_credentials,outcome=success,\
             vendor=counted}"
        ),
        Some(&2),
        "{samples:?}"
    );
    assert_eq!(samples.len(), 2, "{samples:?}");
}
