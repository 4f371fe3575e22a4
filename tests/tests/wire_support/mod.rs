//! Helpers of the wire-format tests: loading seed descriptors, pointing a client at a local
//! mock server, and taking requests apart (form, JSON and multipart bodies).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use oauth_clients_core::{Client, ClientConfig, ClientOptions, Provider};
use wiremock::{MockServer, Request};

/// Loads `providers/<id>.yaml`.
pub fn provider(id: &str) -> Provider {
    let path = format!("{}/../providers/{id}.yaml", env!("CARGO_MANIFEST_DIR"));
    let yaml = std::fs::read_to_string(&path).expect("seed descriptor readable");
    Provider::from_yaml_str(&yaml, &path).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads a descriptor from YAML text.
pub fn inline_provider(yaml: &str) -> Provider {
    Provider::from_yaml_str(yaml, "inline.yaml").unwrap_or_else(|e| panic!("{e}"))
}

/// Options that send `https://<host>` to the mock server, with tiny backoffs.
pub fn options_for(server: &MockServer, hosts: &[&str]) -> ClientOptions {
    hosts.iter().fold(
        ClientOptions::default()
            .connect_timeout(Duration::from_secs(5))
            .request_timeout(Duration::from_secs(10))
            .max_attempts(3)
            .initial_backoff(Duration::from_millis(5)),
        |options, host| options.rewrite(format!("https://{host}"), server.uri()),
    )
}

/// A client of a seed vendor pointed at the mock server.
pub fn client(id: &str, config: ClientConfig, server: &MockServer, hosts: &[&str]) -> Client {
    Client::with_options(provider(id), config, options_for(server, hosts))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Every request the server received.
pub async fn requests(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
}

/// A header as text.
pub fn header(request: &Request, name: &str) -> Option<String> {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().expect("ASCII header").to_owned())
}

/// The media type of the request, without parameters.
pub fn media_type(request: &Request) -> String {
    header(request, "content-type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Query parameters, asserting none repeats.
pub fn query(request: &Request) -> BTreeMap<String, String> {
    unique(request.url.query_pairs().into_owned().collect())
}

/// A form-encoded body, asserting no field repeats.
pub fn form(request: &Request) -> BTreeMap<String, String> {
    assert_eq!(media_type(request), "application/x-www-form-urlencoded");
    unique(
        url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect(),
    )
}

/// A JSON object body of strings.
pub fn json(request: &Request) -> BTreeMap<String, String> {
    assert_eq!(media_type(request), "application/json");
    let value: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON body");
    value
        .as_object()
        .expect("JSON object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string field").to_owned()))
        .collect()
}

/// A `multipart/form-data` body of text fields, parsed by hand (RFC 7578).
pub fn multipart(request: &Request) -> BTreeMap<String, String> {
    assert_eq!(media_type(request), "multipart/form-data");
    let content_type = header(request, "content-type").unwrap_or_default();
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .expect("boundary parameter")
        .trim_matches('"')
        .to_owned();
    let body = String::from_utf8(request.body.clone()).expect("UTF-8 multipart body");
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    let mut parts = body.split(delimiter.as_str());
    assert_eq!(parts.next(), Some(""), "body starts with the delimiter");
    for part in parts {
        if part.starts_with("--") {
            break; // closing delimiter
        }
        let part = part.strip_prefix("\r\n").expect("CRLF after delimiter");
        let part = part.strip_suffix("\r\n").expect("CRLF before delimiter");
        let (head, value) = part.split_once("\r\n\r\n").expect("part headers end");
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .expect("Content-Disposition");
        assert!(disposition.contains("form-data"), "{disposition}");
        let name = disposition
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("name="))
            .next()
            .expect("field name")
            .trim_matches('"')
            .to_owned();
        assert!(
            !disposition.contains("filename"),
            "text field, not a file: {disposition}"
        );
        fields.push((name, value.to_owned()));
    }
    unique(fields)
}

/// Expected fields as a map.
pub fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn unique(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        assert!(map.insert(k.clone(), v).is_none(), "field `{k}` sent twice");
    }
    map
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
