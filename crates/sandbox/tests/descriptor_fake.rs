//! The descriptor fake refuses what a descriptor does not say, naming it, and answers in the
//! vendor's shape: raw HTTP with reqwest against 127.0.0.1.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use oauth_clients_descriptor::Provider;
use oauth_clients_descriptor::schema::Descriptor;
use oauth_clients_sandbox::{Sandbox, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ID: &str = "sandbox-client";
const SECRET: &str = "s3cr3t+/&:x";

fn descriptor(yaml: &str) -> Descriptor {
    Provider::from_yaml_str(yaml, "inline.yaml")
        .unwrap_or_else(|e| panic!("{e}"))
        .descriptor()
        .clone()
}

/// A sandbox of one inline descriptor, with a secret that form-urlencoding changes.
fn start(yaml: &str) -> Result<Sandbox, std::io::Error> {
    Sandbox::start(
        SandboxConfig::default()
            .without_seed_vendors()
            .client(ID, SECRET)
            .descriptor(descriptor(yaml)),
    )
}

/// The sandbox URL of a vendor URL.
fn at(sandbox: &Sandbox, id: &str, vendor_url: &str) -> String {
    for (from, to) in sandbox.rewrites_for(id) {
        if let Some(rest) = vendor_url.strip_prefix(&from) {
            return format!("{to}{rest}");
        }
    }
    panic!("no rewrite for {vendor_url}")
}

fn http() -> reqwest::Client {
    // reqwest brings no rustls crypto provider of its own here (feature `rustls-no-provider`).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

async fn json_of(response: reqwest::Response) -> Result<(StatusCode, Value), reqwest::Error> {
    let status = response.status();
    Ok((status, response.json().await?))
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn form_encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn description(body: &Value) -> String {
    body["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn query_of(location: &str) -> BTreeMap<String, String> {
    url::Url::parse(location)
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

const BASIC_VENDOR: &str = r#"
id: basicv
name: Basic vendor
endpoints:
  authorization: https://auth.basicv.example/authorize
  token: https://auth.basicv.example/token
  api_base: https://api.basicv.example/v1/
grants:
  authorization_code:
    pkce: required
  client_credentials: {}
  refresh_token:
    rotates: true
scopes:
  default: [read, write]
api:
  example_path: me
"#;

#[tokio::test]
async fn client_secret_basic_is_form_urlencoded_and_refuses_other_methods() -> TestResult {
    let sandbox = start(BASIC_VENDOR)?;
    let token = at(&sandbox, "basicv", "https://auth.basicv.example/token");
    let http = http();
    let cc = [("grant_type", "client_credentials")];

    let good = basic(&form_encoded(ID), &form_encoded(SECRET));
    let (status, body) = json_of(
        http.post(&token)
            .header("authorization", &good)
            .form(&cc)
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none(), "{body}");

    // The secret as it is, not form-urlencoded: refused, saying so, without showing it.
    let raw = basic(ID, SECRET);
    let (status, body) = json_of(
        http.post(&token)
            .header("authorization", raw)
            .form(&cc)
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert!(description(&body).contains("form-urlencoded"), "{body}");
    assert!(!body.to_string().contains(SECRET));

    // The secret in the body: a method the descriptor does not list.
    let post = [
        ("grant_type", "client_credentials"),
        ("client_id", ID),
        ("client_secret", SECRET),
    ];
    let (status, body) = json_of(http.post(&token).form(&post).send().await?).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(description(&body).contains("client_secret_post"), "{body}");
    assert!(description(&body).contains("client_secret_basic"), "{body}");

    // Both at once: authenticating twice.
    let (status, body) = json_of(
        http.post(&token)
            .header("authorization", &good)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_secret", SECRET),
            ])
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert!(description(&body).contains("more than once"), "{body}");

    // client_id in the body beside Basic, which the descriptor does not ask for.
    let (_, body) = json_of(
        http.post(&token)
            .header("authorization", &good)
            .form(&[("grant_type", "client_credentials"), ("client_id", ID)])
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("client_id_in_body"), "{body}");

    // A grant the endpoint does not serve, and a malformed Basic header.
    let (_, body) = json_of(
        http.post(&token)
            .header("authorization", &good)
            .form(&[("grant_type", "password")])
            .send()
            .await?,
    )
    .await?;
    assert_eq!(body["error"], "unsupported_grant_type");
    let (status, _) = json_of(
        http.post(&token)
            .header("authorization", "Basic !!!")
            .form(&cc)
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn pkce_required_codes_and_rotating_refresh_tokens() -> TestResult {
    let sandbox = start(BASIC_VENDOR)?;
    let authorize = at(&sandbox, "basicv", "https://auth.basicv.example/authorize");
    let token = at(&sandbox, "basicv", "https://auth.basicv.example/token");
    let http = http();
    let redirect = "http://127.0.0.1:9/cb";
    let base = [
        ("response_type", "code"),
        ("client_id", ID),
        ("redirect_uri", redirect),
        ("state", "st"),
        ("scope", "read write"),
    ];
    // No challenge: redirected back with the error, naming PKCE.
    let response = http.get(&authorize).query(&base).send().await?;
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = query_of(&location(&response));
    assert_eq!(back["error"], "invalid_request");
    assert!(back["error_description"].contains("PKCE"), "{back:?}");
    assert_eq!(back["state"], "st");
    // Scopes joined with the wrong separator.
    let mut wrong = base.to_vec();
    wrong[4] = ("scope", "read,write");
    let response = http.get(&authorize).query(&wrong).send().await?;
    assert!(query_of(&location(&response))["error_description"].contains("separator"));

    let verifier = "v".repeat(50);
    let challenge = s256(&verifier);
    let mut query = base.to_vec();
    query.push(("code_challenge", &challenge));
    query.push(("code_challenge_method", "S256"));
    let response = http.get(&authorize).query(&query).send().await?;
    let back = query_of(&location(&response));
    let code = back.get("code").ok_or("no code")?.clone();
    assert_eq!(back["state"], "st");

    let auth = basic(&form_encoded(ID), &form_encoded(SECRET));
    let exchange = |verifier: &str, redirect: &str| {
        http.post(&token).header("authorization", &auth).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
    };
    // A wrong verifier uses the code up; so does the right one, once.
    let (_, body) = json_of(exchange("w".repeat(50).as_str(), redirect).send().await?).await?;
    assert_eq!(body["error"], "invalid_grant");
    assert!(description(&body).contains("code_verifier"), "{body}");
    let response = http.get(&authorize).query(&query).send().await?;
    let code = query_of(&location(&response))["code"].clone();
    let exchange = |redirect: &str| {
        http.post(&token).header("authorization", &auth).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier.as_str()),
        ])
    };
    let (_, body) = json_of(exchange("http://127.0.0.1:9/other").send().await?).await?;
    assert_eq!(body["error"], "invalid_grant");
    assert!(description(&body).contains("redirect_uri"), "{body}");
    let response = http.get(&authorize).query(&query).send().await?;
    let code = query_of(&location(&response))["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    let send = || http.post(&token).header("authorization", &auth).form(&form);
    let (status, body) = json_of(send().send().await?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "read write");
    let (_, again) = json_of(send().send().await?).await?;
    assert_eq!(again["error"], "invalid_grant");

    // Refresh tokens rotate: the used one is refused.
    let first = body["refresh_token"].as_str().ok_or("no refresh token")?;
    let refresh = |token_value: &str| {
        http.post(&token).header("authorization", &auth).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token_value),
        ])
    };
    let (_, second) = json_of(refresh(first).send().await?).await?;
    assert!(second["refresh_token"].as_str().is_some_and(|r| r != first));
    let (_, reused) = json_of(refresh(first).send().await?).await?;
    assert_eq!(reused["error"], "invalid_grant");
    assert!(description(&reused).contains("rotates"), "{reused}");

    // The API: the example path with the token, 401 without a valid one.
    let api = at(&sandbox, "basicv", "https://api.basicv.example/v1/me");
    let access = second["access_token"].as_str().ok_or("no access token")?;
    let ok = http.get(&api).bearer_auth(access).send().await?;
    assert_eq!(ok.status(), StatusCode::OK);
    let unknown = http.get(&api).bearer_auth("nope").send().await?;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let other = at(&sandbox, "basicv", "https://api.basicv.example/v1/other");
    let missing = http.get(&other).bearer_auth(access).send().await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn json_get_and_renamed_parameters_are_enforced() -> TestResult {
    let sandbox = start(
        r#"
id: quirky
name: Quirky
endpoints:
  authorization: https://q.example/auth
  token: https://q.example/token
  refresh: https://q.example/refresh
grants:
  authorization_code:
    pkce: unsupported
    send_redirect_uri: false
    authorize_params:
      client_id: app_id
    extra_authorize_params:
      access_type: offline
  client_credentials:
    send_scope: false
    extra_params:
      audience: https://api.q.example/{client_id}
  refresh_token:
    send_grant_type: false
    token_request:
      method: get
      encoding: form
client_auth: client_secret_post
token_request:
  encoding: json
  headers:
    X-Client: '{client_id}'
  param_names:
    client_id: app_id
    client_secret: app_secret
"#,
    )?;
    let token = at(&sandbox, "quirky", "https://q.example/token");
    let http = http();
    let good = json!({
        "grant_type": "client_credentials",
        "app_id": ID,
        "app_secret": SECRET,
        "audience": format!("https://api.q.example/{ID}"),
    });
    let (status, body) = json_of(
        http.post(&token)
            .header("x-client", ID)
            .json(&good)
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A form body where the vendor takes JSON.
    let form = [
        ("grant_type", "client_credentials"),
        ("app_id", ID),
        ("app_secret", SECRET),
    ];
    let (_, body) = json_of(
        http.post(&token)
            .header("x-client", ID)
            .form(&form)
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("application/json"), "{body}");
    // Without the header, without the extra parameter, with a scope it does not send.
    let (_, body) = json_of(http.post(&token).json(&good).send().await?).await?;
    assert!(description(&body).contains("X-Client"), "{body}");
    let mut no_audience = good.clone();
    no_audience.as_object_mut().map(|o| o.remove("audience"));
    let (_, body) = json_of(
        http.post(&token)
            .header("x-client", ID)
            .json(&no_audience)
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("audience"), "{body}");
    let mut scoped = good.clone();
    scoped["scope"] = json!("x");
    let (_, body) = json_of(
        http.post(&token)
            .header("x-client", ID)
            .json(&scoped)
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("scope"), "{body}");
    // The standard names where the vendor renames them.
    let standard = json!({
        "grant_type": "client_credentials",
        "client_id": ID,
        "client_secret": SECRET,
        "audience": format!("https://api.q.example/{ID}"),
    });
    let (status, body) = json_of(
        http.post(&token)
            .header("x-client", ID)
            .json(&standard)
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        description(&body).contains("no client authentication"),
        "{body}"
    );
    // Malformed JSON is a 400, not a crash.
    let garbage = http
        .post(&token)
        .header("x-client", ID)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);

    // The authorize request: renamed client id, extra parameter, no PKCE allowed.
    let authorize = at(&sandbox, "quirky", "https://q.example/auth");
    let mut query = vec![
        ("response_type", "code"),
        ("app_id", ID),
        ("redirect_uri", "http://127.0.0.1:9/cb"),
        ("state", "s"),
        ("access_type", "offline"),
    ];
    let response = http.get(&authorize).query(&query).send().await?;
    let code = query_of(&location(&response))
        .remove("code")
        .ok_or("no code")?;
    query.push(("code_challenge", "x"));
    let response = http.get(&authorize).query(&query).send().await?;
    let back = query_of(&location(&response));
    assert!(back["error_description"].contains("PKCE"), "{back:?}");

    // The exchange without redirect_uri (send_redirect_uri: false); with it, refused.
    let exchange = json!({"grant_type": "authorization_code", "code": code, "app_id": ID,
        "app_secret": SECRET, "redirect_uri": "http://127.0.0.1:9/cb"});
    let (_, body) = json_of(
        http.post(&token)
            .header("x-client", ID)
            .json(&exchange)
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("send_redirect_uri"), "{body}");

    // The refresh endpoint takes GET, parameters in the query, no grant_type.
    let refresh = at(&sandbox, "quirky", "https://q.example/refresh");
    let (_, body) = json_of(
        http.get(&refresh)
            .header("x-client", ID)
            .query(&[
                ("refresh_token", "r"),
                ("app_id", ID),
                ("app_secret", SECRET),
            ])
            .send()
            .await?,
    )
    .await?;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let (_, body) = json_of(
        http.post(&refresh)
            .header("x-client", ID)
            .json(&json!({"refresh_token": "r", "app_id": ID, "app_secret": SECRET}))
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("GET"), "{body}");
    let (_, body) = json_of(
        http.get(&refresh)
            .header("x-client", ID)
            .query(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", "r"),
                ("app_id", ID),
                ("app_secret", SECRET),
            ])
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("send_grant_type"), "{body}");
    Ok(())
}

#[tokio::test]
async fn answers_in_the_vendors_shape() -> TestResult {
    let sandbox = start(
        r#"
id: shaped
name: Shaped
variables:
  api_origin:
    description: The API origin, from the token answer.
    pattern: 'https://[a-z]+\.shaped\.example'
    from: token_response.team.api
endpoints:
  token: https://shaped.example/oauth
  api_base: '{api_origin}/v2/'
grants:
  client_credentials: {}
client_auth: client_secret_post
token_response:
  token_path: [data]
  success_field: ok
  token_types: [bot]
  expires_in_field: expires
  expires_in_unit: milliseconds
  additional_tokens:
    user: [authed_user]
api:
  token_header: X-Token
  token_scheme: ''
  headers:
    X-Client: '{client_id}'
  example_path: ping?x=1
"#,
    )?;
    let captured = sandbox.captured_variables("shaped").ok_or("not faked")?;
    assert_eq!(captured["api_origin"], "https://a.shaped.example");
    assert!(
        sandbox
            .rewrites_for("shaped")
            .iter()
            .any(|(from, _)| from == "https://a.shaped.example/")
    );
    let token = at(&sandbox, "shaped", "https://shaped.example/oauth");
    let http = http();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", ID),
        ("client_secret", SECRET),
    ];
    let (status, body) = json_of(http.post(&token).form(&form).send().await?).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ok"], true);
    assert_eq!(body["data"]["token_type"], "bot");
    assert_eq!(body["data"]["expires"], 3_600_000);
    assert!(body["data"].get("expires_in").is_none());
    assert!(body["authed_user"]["access_token"].is_string(), "{body}");
    assert_eq!(body["team"]["api"], "https://a.shaped.example");

    // An error is HTTP 200 with `ok: false`.
    let (status, error) = json_of(
        http.post(&token)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", ID),
                ("client_secret", "x"),
            ])
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error["ok"], false);
    assert_eq!(error["error"], "invalid_client");

    // The token in the vendor's header, bare; the API header with the client id.
    let access = body["data"]["access_token"].as_str().ok_or("no token")?;
    let api = at(&sandbox, "shaped", "https://a.shaped.example/v2/ping?x=1");
    let ok = http
        .get(&api)
        .header("x-token", access)
        .header("x-client", ID)
        .send()
        .await?;
    assert_eq!(ok.status(), StatusCode::OK);
    let no_header = http.get(&api).header("x-token", access).send().await?;
    assert_eq!(no_header.status(), StatusCode::BAD_REQUEST);
    let bearer = http
        .get(&api)
        .bearer_auth(access)
        .header("x-client", ID)
        .send()
        .await?;
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn expiry_formats_and_tokens_that_never_expire() -> TestResult {
    let yaml = |quirks: &str| {
        format!(
            "id: exp\nname: Exp\nendpoints:\n  token: https://exp.example/token\ngrants:\n  \
             client_credentials: {{}}\nclient_auth: client_secret_post\ntoken_response:\n{quirks}"
        )
    };
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", ID),
        ("client_secret", SECRET),
    ];
    for (quirks, check) in [
        (
            "  expires_at_field: expires_at\n  expires_at_format: rfc3339\n",
            "rfc3339",
        ),
        (
            "  expires_at_field: expires_at\n  expires_at_format: unix_millis\n",
            "millis",
        ),
        ("  never_expires: true\n", "never"),
    ] {
        let sandbox = start(&yaml(quirks))?;
        let token = at(&sandbox, "exp", "https://exp.example/token");
        let (_, body) = json_of(http().post(&token).form(&form).send().await?).await?;
        assert!(body.get("expires_in").is_none(), "{body}");
        match check {
            "rfc3339" => {
                let at = body["expires_at"].as_str().ok_or("no expires_at")?;
                assert!(at.ends_with('Z') && at.len() == 20, "{at}");
            }
            "millis" => assert!(body["expires_at"].as_u64() > Some(1_700_000_000_000)),
            _ => assert!(body.get("expires_at").is_none(), "{body}"),
        }
    }
    Ok(())
}

#[tokio::test]
async fn client_assertions_device_codes_and_callback_captures() -> TestResult {
    let sandbox = start(
        r#"
id: jwtv
name: JWT vendor
variables:
  company:
    description: The company, from the callback.
    pattern: '[0-9]{4}'
    from: callback.companyId
endpoints:
  authorization: https://jwtv.example/authorize
  token: https://jwtv.example/token
  device_authorization: https://jwtv.example/device
  api_base: https://jwtv.example/api/{company}/
grants:
  authorization_code:
    callback_params:
      code: jwtv_code
  device_code:
    client_auth: none
client_auth: [client_secret_jwt, private_key_jwt]
"#,
    )?;
    let http = http();
    let authorize = at(&sandbox, "jwtv", "https://jwtv.example/authorize");
    let response = http
        .get(&authorize)
        .query(&[
            ("response_type", "code"),
            ("client_id", ID),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("state", "s"),
        ])
        .send()
        .await?;
    let back = query_of(&location(&response));
    assert_eq!(back["companyId"], "0000");
    let code = back.get("jwtv_code").ok_or("no renamed code")?.clone();

    let token = at(&sandbox, "jwtv", "https://jwtv.example/token");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let claims = |iss: &str| {
        json!({"iss": iss, "sub": ID, "aud": "https://jwtv.example/token",
            "exp": now + 300, "iat": now, "jti": "j1"})
    };
    let hs256 = |claims: &Value, secret: &str| -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())?,
        )
    };
    let exchange = |assertion: String| {
        http.post(&token).form(&[
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("redirect_uri", "http://127.0.0.1:9/cb".to_owned()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", assertion),
        ])
    };
    // Signed with another secret, or with the wrong issuer: refused before the code is used.
    let (status, body) = json_of(exchange(hs256(&claims(ID), "other")?).send().await?).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(description(&body).contains("HS256"), "{body}");
    let (_, body) = json_of(exchange(hs256(&claims("x"), SECRET)?).send().await?).await?;
    assert!(description(&body).contains("iss"), "{body}");
    let (_, body) = json_of(exchange("not.a.jwt".into()).send().await?).await?;
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = json_of(exchange(hs256(&claims(ID), SECRET)?).send().await?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The device flow: one `authorization_pending`, then the token, then the code is gone.
    let device = at(&sandbox, "jwtv", "https://jwtv.example/device");
    let (_, started) = json_of(http.post(&device).form(&[("client_id", ID)]).send().await?).await?;
    assert_eq!(started["interval"], 1);
    let device_code = started["device_code"].as_str().ok_or("no device code")?;
    let poll = || {
        http.post(&token).form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", ID),
        ])
    };
    let (_, first) = json_of(poll().send().await?).await?;
    assert_eq!(first["error"], "authorization_pending");
    let (status, second) = json_of(poll().send().await?).await?;
    assert_eq!(status, StatusCode::OK, "{second}");
    let (_, third) = json_of(poll().send().await?).await?;
    assert_eq!(third["error"], "expired_token");
    Ok(())
}

#[tokio::test]
async fn placeholders_match_patterns_and_conflicts_are_refused() -> TestResult {
    let yaml = r#"
id: tenant
name: Tenant
variables:
  domain:
    description: The tenant.
    pattern: '[a-z]{3}[0-9]{2}'
environments:
  prod:
    values: { region: eu }
default_environment: prod
endpoints:
  token: https://{domain}.{region}.tenant.example/token
grants:
  client_credentials: {}
"#;
    let sandbox = start(yaml)?;
    assert_eq!(
        sandbox.variables("tenant").ok_or("not faked")?["domain"],
        "aaa00"
    );
    assert_eq!(
        sandbox.rewrites_for("tenant")[0].0,
        "https://aaa00.eu.tenant.example/"
    );
    // Unknown paths answer 404 naming what is served.
    let response = http()
        .get(format!("{}/tenant/nowhere.example/x", sandbox.base_url()))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Two descriptors with one id, or a seed vendor's id beside the seed fakes: refused.
    let twice = SandboxConfig::default()
        .without_seed_vendors()
        .descriptor(descriptor(yaml))
        .descriptor(descriptor(yaml));
    assert!(Sandbox::start(twice).is_err());
    let seed = descriptor(&yaml.replace("id: tenant", "id: procore"));
    assert!(Sandbox::start(SandboxConfig::default().descriptor(seed)).is_err());
    Ok(())
}

/// An unsigned-looking JWT with this header algorithm and these claims (the fake does not check
/// RS256 or ES256 signatures: it has no public key).
fn jwt_with(alg: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{claims}.{}", URL_SAFE_NO_PAD.encode(b"signature"))
}

#[tokio::test]
async fn jwt_bearer_token_exchange_expiry_and_multipart() -> TestResult {
    let sandbox = Sandbox::start(
        SandboxConfig::default()
            .without_seed_vendors()
            .client(ID, SECRET)
            .token_lifetime_seconds(0)
            .descriptor(descriptor(
                r#"
id: service
name: Service
endpoints:
  token: https://service.example/token
  api_base: https://service.example/api/
grants:
  jwt_bearer:
    algorithm: ES256
    claims:
      iss: '{client_id}'
      sub: '{subject}'
      aud: '{token_endpoint}'
  token_exchange:
    grant_type: long_lived
    subject_token_param: short_token
    subject_token_type: null
client_auth: client_secret_post
token_request:
  encoding: multipart
api:
  example_path: me
"#,
            )),
    )?;
    let token = at(&sandbox, "service", "https://service.example/token");
    let http = http();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let claims = json!({"iss": ID, "sub": "robot", "aud": "https://service.example/token",
        "iat": now, "exp": now + 300, "jti": "j"});
    let bearer = |assertion: String| {
        reqwest::multipart::Form::new()
            .text("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .text("assertion", assertion)
            .text("client_id", ID)
            .text("client_secret", SECRET)
    };
    let (_, body) = json_of(
        http.post(&token)
            .multipart(bearer(jwt_with("RS256", &claims)))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(body["error"], "invalid_grant");
    assert!(description(&body).contains("ES256"), "{body}");
    let mut no_subject = claims.clone();
    no_subject.as_object_mut().map(|c| c.remove("sub"));
    let (_, body) = json_of(
        http.post(&token)
            .multipart(bearer(jwt_with("ES256", &no_subject)))
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("`sub`"), "{body}");
    let mut other_audience = claims.clone();
    other_audience["aud"] = json!("https://elsewhere.example/");
    let (_, body) = json_of(
        http.post(&token)
            .multipart(bearer(jwt_with("ES256", &other_audience)))
            .send()
            .await?,
    )
    .await?;
    assert!(description(&body).contains("`aud`"), "{body}");
    let (status, issued) = json_of(
        http.post(&token)
            .multipart(bearer(jwt_with("ES256", &claims)))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let access = issued["access_token"].as_str().ok_or("no token")?;

    // The lifetime is 0 s: the token is expired for the API already.
    let api = at(&sandbox, "service", "https://service.example/api/me");
    let expired = http.get(&api).bearer_auth(access).send().await?;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);

    // Token exchange takes only tokens the fake issued (and still valid).
    let exchange = |subject: &str| {
        reqwest::multipart::Form::new()
            .text("grant_type", "long_lived")
            .text("short_token", subject.to_owned())
            .text("client_id", ID)
            .text("client_secret", SECRET)
    };
    let (_, body) = json_of(http.post(&token).multipart(exchange(access)).send().await?).await?;
    assert_eq!(body["error"], "invalid_grant");
    assert!(description(&body).contains("subject token"), "{body}");

    // A broken multipart body is a 400, not a crash.
    let broken = http
        .post(&token)
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body("--xyz\r\nno headers here")
        .send()
        .await?;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn token_exchange_of_a_valid_token_and_the_legacy_flow() -> TestResult {
    let sandbox = Sandbox::start(
        SandboxConfig::default()
            .without_seed_vendors()
            .client(ID, SECRET)
            .user("u", "p", "1")
            .descriptor(descriptor(
                r#"
id: legacy
name: Legacy
variables:
  company:
    description: The company.
    example: '42'
endpoints:
  token: https://legacy.example/token
  extra:
    login: https://legacy.example/login
grants:
  client_credentials: {}
  legacy_credentials:
    credentials_endpoint: login
    credentials_params:
      company: '{company}'
  token_exchange: {}
client_auth: client_secret_post
"#,
            )),
    )?;
    let http = http();
    let token = at(&sandbox, "legacy", "https://legacy.example/token");
    let auth = [("client_id", ID), ("client_secret", SECRET)];
    let mut cc = auth.to_vec();
    cc.push(("grant_type", "client_credentials"));
    let (_, issued) = json_of(http.post(&token).form(&cc).send().await?).await?;
    let access = issued["access_token"].as_str().ok_or("no token")?;
    let mut exchange = auth.to_vec();
    exchange.extend([
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", access),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
    ]);
    let (status, body) = json_of(http.post(&token).form(&exchange).send().await?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    exchange.pop();
    let (_, body) = json_of(http.post(&token).form(&exchange).send().await?).await?;
    assert!(description(&body).contains("subject_token_type"), "{body}");

    // The legacy flow: the user's credentials for a code, in a 302.
    let login = at(&sandbox, "legacy", "https://legacy.example/login");
    let query = [("response_type", "code"), ("client_id", ID), ("state", "s")];
    let credentials = |password: &'static str| {
        http.post(&login).query(&query).form(&[
            ("username", "u"),
            ("password", password),
            ("company", "42"),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
        ])
    };
    let refused = query_of(&location(&credentials("wrong").send().await?));
    assert_eq!(refused["error"], "access_denied");
    assert_eq!(refused["state"], "s");
    let back = query_of(&location(&credentials("p").send().await?));
    let code = back.get("code").ok_or("no code")?;
    let mut redeem = auth.to_vec();
    redeem.extend([
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:9/cb"),
    ]);
    let (status, body) = json_of(http.post(&token).form(&redeem).send().await?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    Ok(())
}
