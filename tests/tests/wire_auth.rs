//! Engine features that no seed vendor uses but the schema offers: `client_secret_basic`
//! (RFC 6749 §2.3.1), public clients, PKCE S256, extra headers and parameters, HTTPS rules.

mod wire_support;

use base64::Engine as _;
use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{
    AuthorizeOptions, Callback, Client, ClientConfig, ClientOptions, EndpointKind, Error,
};
use wire_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn descriptor(client_auth: &str, pkce: &str) -> String {
    let yaml = format!(
        r#"
id: generic
name: Generic
variables:
  tenant:
    description: Tenant.
    pattern: '[a-z]+'
endpoints:
  authorization: https://auth.example.com/{{tenant}}/authorize
  token: https://auth.example.com/{{tenant}}/token
  api_base: https://api.example.com/v1/
grants:
  client_credentials:
    extra_params:
      resource: 'https://api.example.com/{{tenant}}'
  authorization_code:
    pkce: {pkce}
    authorize_params:
      redirect_uri: redirect_url
    extra_authorize_params:
      prompt: consent
  refresh_token: {{}}
client_auth: {client_auth}
token_request:
  headers:
    X-Tenant: '{{tenant}}'
scopes:
  separator: ','
  default: [read, write]
"#
    );
    if client_auth == "none" {
        // A public client cannot use client credentials (the validator says so).
        yaml.replace(
            "  client_credentials:\n    extra_params:\n      resource: 'https://api.example.com/{tenant}'\n",
            "",
        )
    } else {
        yaml
    }
}

async fn token_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/acme/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token":"at","token_type":"Bearer","expires_in":"120"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer, client_auth: &str, pkce: &str, secret: Option<&str>) -> Client {
    let mut config = ClientConfig::new("my client")
        .variable("tenant", "acme")
        .redirect_uri("http://127.0.0.1:7777/cb");
    if let Some(secret) = secret {
        config = config.secret(SecretString::from(secret));
    }
    Client::with_options(
        inline_provider(&descriptor(client_auth, pkce)),
        config,
        options_for(server, &["auth.example.com"]),
    )
    .unwrap()
}

#[tokio::test]
async fn client_secret_basic_form_encodes_id_and_secret_before_base64() {
    let server = token_server().await;
    let secret = "p@ss:w/rd+&=%";
    let client = client(&server, "client_secret_basic", "unsupported", Some(secret));
    let token = client.client_credentials().await.unwrap();
    assert_eq!(token.expires_at_unix(), Some(token.issued_at_unix() + 120));
    let reqs = requests(&server).await;
    let req = &reqs[0];
    let auth = header(req, "authorization").unwrap();
    let encoded = auth.strip_prefix("Basic ").unwrap();
    let decoded = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap(),
    )
    .unwrap();
    let (id, sec) = decoded.split_once(':').unwrap();
    let unform = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned()
    };
    assert_eq!(unform(id), "my client");
    assert_eq!(unform(sec), secret, "the secret round-trips");
    assert!(!sec.contains(':') && !sec.contains('@'));
    // Not in the body as well.
    assert_eq!(
        form(req),
        fields(&[
            ("grant_type", "client_credentials"),
            ("scope", "read,write"),
            ("resource", "https://api.example.com/acme"),
        ])
    );
    assert_eq!(header(req, "x-tenant").as_deref(), Some("acme"));
    assert_eq!(header(req, "accept").as_deref(), Some("application/json"));
}

#[tokio::test]
async fn public_client_sends_only_its_id() {
    let server = token_server().await;
    let client = client(&server, "none", "unsupported", Some("ignored-secret"));
    assert!(matches!(
        client.client_credentials().await,
        Err(Error::Unsupported { .. })
    ));
    client
        .exchange_code_oob(&oauth_clients_core::AuthorizationCode::new("c0de"), None)
        .await
        .unwrap();
    let reqs = requests(&server).await;
    assert_eq!(header(&reqs[0], "authorization"), None);
    let body = form(&reqs[0]);
    assert_eq!(body.get("client_id").map(String::as_str), Some("my client"));
    assert!(!body.contains_key("client_secret"));
    assert_eq!(body.get("code").map(String::as_str), Some("c0de"));
}

#[tokio::test]
async fn secret_required_for_confidential_clients() {
    let server = token_server().await;
    let client = client(&server, "client_secret_post", "unsupported", None);
    let err = client.client_credentials().await.unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err}");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn pkce_s256_verifier_matches_challenge() {
    let server = token_server().await;
    let client = client(&server, "client_secret_post", "supported", Some("s"));
    let request = client.authorize_url().unwrap();
    // Rewritten like every other endpoint.
    assert!(request.url.as_str().starts_with(&server.uri()));
    assert_eq!(request.url.path(), "/acme/authorize");
    let q: std::collections::BTreeMap<String, String> =
        request.url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "my client");
    assert_eq!(
        q["redirect_url"], "http://127.0.0.1:7777/cb",
        "renamed parameter"
    );
    assert!(!q.contains_key("redirect_uri"));
    assert_eq!(q["scope"], "read,write");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["code_challenge_method"], "S256");
    let verifier = request.pkce_verifier.as_ref().unwrap().expose_secret();
    assert!((43..=128).contains(&verifier.len()));
    let challenge = {
        use sha2_free::sha256_b64url;
        sha256_b64url(verifier)
    };
    assert_eq!(q["code_challenge"], challenge);

    let callback = Callback::with_code(
        oauth_clients_core::AuthorizationCode::new("the-code"),
        Some(request.state.expose_secret().to_owned()),
    );
    client.exchange_code(&request, &callback).await.unwrap();
    let reqs = requests(&server).await;
    let body = form(&reqs[0]);
    assert_eq!(body["grant_type"], "authorization_code");
    assert_eq!(body["code"], "the-code");
    assert_eq!(body["code_verifier"], verifier);
    assert_eq!(body["redirect_uri"], "http://127.0.0.1:7777/cb");

    // The user may turn PKCE off when the vendor only supports it.
    let off = client
        .authorize_url_with(&AuthorizeOptions::default().without_pkce())
        .unwrap();
    assert!(off.pkce_verifier.is_none());
    assert!(!off.url.as_str().contains("code_challenge"));
}

#[tokio::test]
async fn pkce_required_cannot_be_turned_off_and_unsupported_sends_none() {
    let server = token_server().await;
    let required = client(&server, "client_secret_post", "required", Some("s"));
    let request = required
        .authorize_url_with(&AuthorizeOptions::default().without_pkce())
        .unwrap();
    assert!(request.pkce_verifier.is_some());
    let unsupported = client(&server, "client_secret_post", "unsupported", Some("s"));
    let request = unsupported.authorize_url().unwrap();
    assert!(request.pkce_verifier.is_none());
    assert!(!request.url.as_str().contains("code_challenge"));
}

#[tokio::test]
async fn plain_http_is_refused_except_on_loopback() {
    // A descriptor with a plain-http endpoint does not even load.
    let yaml = descriptor("client_secret_post", "unsupported")
        .replace("https://auth.example.com", "http://auth.example.com");
    assert!(oauth_clients_core::Provider::from_yaml_str(&yaml, "inline.yaml").is_err());
    // A rewrite to a non-loopback http URL is refused by the engine, when the client is built.
    let server = MockServer::start().await;
    let options =
        ClientOptions::default().rewrite("https://auth.example.com", "http://proxy.example.com");
    let err = Client::with_options(
        inline_provider(&descriptor("client_secret_post", "unsupported")),
        ClientConfig::new("id")
            .secret(SecretString::from("s"))
            .variable("tenant", "acme"),
        options,
    )
    .unwrap_err();
    assert!(matches!(err, Error::InsecureUrl { .. }), "{err}");
    assert!(
        err.to_string().contains("http://proxy.example.com"),
        "{err}"
    );
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn token_requests_do_not_follow_redirects() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/acme/token"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/elsewhere", server.uri())),
        )
        .mount(&server)
        .await;
    let client = client(&server, "client_secret_post", "unsupported", Some("s"));
    let err = client.client_credentials().await.unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
    assert!(err.to_string().contains("redirect"), "{err}");
    let reqs = requests(&server).await;
    assert!(reqs.iter().all(|r| r.url.path() == "/acme/token"));
}

#[tokio::test]
async fn endpoints_resolve_for_tools() {
    let server = MockServer::start().await;
    let client = client(&server, "client_secret_post", "unsupported", Some("s"));
    let token_url = client
        .resolve_endpoint(&EndpointKind::Token)
        .unwrap()
        .unwrap();
    assert_eq!(token_url.as_str(), "https://auth.example.com/acme/token");
    assert_eq!(
        client
            .resolve_endpoint(&EndpointKind::Refresh)
            .unwrap()
            .unwrap(),
        token_url
    );
    assert!(
        client
            .resolve_endpoint(&EndpointKind::Revocation)
            .unwrap()
            .is_none()
    );
    let all = client.resolved_endpoints();
    let names: Vec<String> = all.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(names, ["authorization", "token", "api_base"]);
    assert!(
        client
            .effective_url(&token_url)
            .unwrap()
            .as_str()
            .starts_with(&server.uri())
    );
    // A missing variable is reported per endpoint, not as a panic.
    let bare = Client::new(
        inline_provider(&descriptor("none", "unsupported")),
        ClientConfig::new("id"),
    )
    .unwrap();
    for (_, result) in bare.resolved_endpoints() {
        if let Err(err) = result {
            assert!(matches!(err, Error::MissingVariable { .. }), "{err}");
        }
    }
}

/// A second, independent S256 implementation for the test: SHA-256 from the FIPS 180-4
/// definition, so the test does not reuse the engine's code.
mod sha2_free {
    use base64::Engine as _;

    pub fn sha256_b64url(input: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(input.as_bytes()))
    }

    fn sha256(data: &[u8]) -> [u8; 32] {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let mut h: [u32; 8] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ];
        let mut msg = data.to_vec();
        let bit_len = (data.len() as u64) * 8;
        msg.push(0x80);
        while msg.len() % 64 != 56 {
            msg.push(0);
        }
        msg.extend_from_slice(&bit_len.to_be_bytes());
        for chunk in msg.chunks(64) {
            let mut w = [0u32; 64];
            for i in 0..16 {
                w[i] = u32::from_be_bytes([
                    chunk[4 * i],
                    chunk[4 * i + 1],
                    chunk[4 * i + 2],
                    chunk[4 * i + 3],
                ]);
            }
            for i in 16..64 {
                let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
                let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16]
                    .wrapping_add(s0)
                    .wrapping_add(w[i - 7])
                    .wrapping_add(s1);
            }
            let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
            for i in 0..64 {
                let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
                let ch = (e & f) ^ (!e & g);
                let t1 = hh
                    .wrapping_add(s1)
                    .wrapping_add(ch)
                    .wrapping_add(K[i])
                    .wrapping_add(w[i]);
                let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
                let maj = (a & b) ^ (a & c) ^ (b & c);
                let t2 = s0.wrapping_add(maj);
                hh = g;
                g = f;
                f = e;
                e = d.wrapping_add(t1);
                d = c;
                c = b;
                b = a;
                a = t1.wrapping_add(t2);
            }
            for (slot, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
                *slot = slot.wrapping_add(v);
            }
        }
        let mut out = [0u8; 32];
        for (i, word) in h.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    #[test]
    fn rfc7636_vector() {
        assert_eq!(
            sha256_b64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}

#[tokio::test]
async fn refresh_uses_its_own_endpoint_and_grant_type_override() {
    let yaml = r#"
id: refreshy
name: Refreshy
endpoints:
  authorization: https://auth.example.com/authorize
  token: https://auth.example.com/token
  refresh: https://auth.example.com/refresh
grants:
  authorization_code: {}
  refresh_token:
    grant_type: urn:example:refresh
    extra_params:
      audience: api
client_auth: client_secret_basic
token_request:
  encoding: json
"#;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/refresh"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"access_token":"new","refresh_token":"rotated","expires_in":60}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::with_options(
        inline_provider(yaml),
        ClientConfig::new("id").secret(SecretString::from("s")),
        options_for(&server, &["auth.example.com"]),
    )
    .unwrap();
    let token = client
        .refresh(&oauth_clients_core::RefreshToken::new("old"))
        .await
        .unwrap();
    assert_eq!(token.refresh_token().unwrap().expose_secret(), "rotated");
    let reqs = requests(&server).await;
    assert_eq!(
        json(&reqs[0]),
        fields(&[
            ("grant_type", "urn:example:refresh"),
            ("refresh_token", "old"),
            ("audience", "api"),
        ])
    );
    assert!(
        header(&reqs[0], "authorization")
            .unwrap()
            .starts_with("Basic ")
    );
}

/// A client of the generic vendor with an issuer (RFC 9207), and whether it always sends `iss`.
fn issuer_client(server: &MockServer, always_sends_iss: bool) -> Client {
    let yaml = descriptor("client_secret_post", "supported").replace(
        "name: Generic\n",
        &format!(
            "name: Generic\nissuer: https://auth.example.com/{{tenant}}\nauthorization_response_iss: {always_sends_iss}\n"
        ),
    );
    Client::with_options(
        inline_provider(&yaml),
        ClientConfig::new("my client")
            .secret(SecretString::from("s"))
            .variable("tenant", "acme")
            .redirect_uri("http://127.0.0.1:7777/cb"),
        options_for(server, &["auth.example.com"]),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_callback_from_another_issuer_is_refused_before_any_request() {
    let server = token_server().await;
    let client = issuer_client(&server, false);
    let request = client.authorize_url().unwrap();
    let state = request.state.expose_secret().to_owned();
    // The mix-up attack: a code from another authorization server, with its `iss`.
    let forged = Callback::from_query(&format!(
        "code=stolen&state={state}&iss=https%3A%2F%2Fattacker.example"
    ));
    let err = client.exchange_code(&request, &forged).await.unwrap_err();
    assert!(matches!(err, Error::IssuerMismatch { .. }), "{err}");
    assert!(err.to_string().contains("attacker.example"), "{err}");
    assert!(
        err.to_string().contains("https://auth.example.com/acme"),
        "{err}"
    );
    assert!(requests(&server).await.is_empty(), "the code was exchanged");
    // The right issuer: the code is exchanged.
    let good = Callback::from_query(&format!(
        "code=good&state={state}&iss=https%3A%2F%2Fauth.example.com%2Facme"
    ));
    client.exchange_code(&request, &good).await.unwrap();
    // No `iss` from a vendor that does not promise to send it: accepted.
    let request = client.authorize_url().unwrap();
    let state = request.state.expose_secret().to_owned();
    let plain = Callback::from_query(&format!("code=plain&state={state}"));
    client.exchange_code(&request, &plain).await.unwrap();
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_vendor_that_always_sends_iss_must_send_it() {
    let server = token_server().await;
    let client = issuer_client(&server, true);
    let request = client.authorize_url().unwrap();
    let state = request.state.expose_secret().to_owned();
    let missing = Callback::from_query(&format!("code=c&state={state}"));
    let err = client.exchange_code(&request, &missing).await.unwrap_err();
    assert!(matches!(err, Error::IssuerMismatch { .. }), "{err}");
    assert!(err.to_string().contains("(missing)"), "{err}");
    // An error response with another issuer is refused as a mix-up, not shown as the vendor's.
    let forged_error = Callback::from_query(&format!(
        "error=access_denied&state={state}&iss=https%3A%2F%2Fattacker.example"
    ));
    let err = client
        .exchange_code(&request, &forged_error)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IssuerMismatch { .. }), "{err}");
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn an_undeclared_variable_cannot_replace_an_environments_host() {
    // Procore's hosts come from its environments; `login_host` is not a variable a user sets.
    let err = Client::new(
        provider("procore"),
        ClientConfig::new("id")
            .secret(SecretString::from("s"))
            .variable("login_host", "evil.example"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err}");
    assert!(
        err.to_string().contains("unknown variable `login_host`"),
        "{err}"
    );
    assert!(!err.to_string().contains("evil.example"), "{err}");
}

#[tokio::test]
async fn a_refused_grant_says_what_was_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/acme/token"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"error":"invalid_grant","error_description":"no"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let client = client(&server, "client_secret_post", "supported", Some("s"));
    let err = client.client_credentials().await.unwrap_err();
    assert!(err.is_invalid_grant(), "{err}");
    let text = err.to_string();
    assert!(text.contains("refused the client credentials"), "{text}");
    assert!(!text.contains("refresh token"), "{text}");
    let err = client
        .refresh(&oauth_clients_core::RefreshToken::new("old"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("refused the refresh token"),
        "{err}"
    );
}
