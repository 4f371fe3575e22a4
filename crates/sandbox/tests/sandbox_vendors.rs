//! Drives the sandbox over real HTTP on 127.0.0.1, as each vendor's documentation does.

use oauth_clients_sandbox::{Sandbox, SandboxConfig, Vendor};
use reqwest::StatusCode;
use reqwest::multipart::Form;
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn client() -> reqwest::Client {
    // reqwest brings no rustls crypto provider of its own here (feature `rustls-no-provider`).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

fn start() -> Result<Sandbox, std::io::Error> {
    Sandbox::start(SandboxConfig::default())
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn json_of(response: reqwest::Response) -> Result<(StatusCode, Value), reqwest::Error> {
    let status = response.status();
    Ok((status, response.json().await?))
}

/// The `Location` header of a redirect.
fn location_of(response: &reqwest::Response) -> Result<String, Box<dyn std::error::Error>> {
    Ok(response
        .headers()
        .get("location")
        .ok_or("no Location")?
        .to_str()?
        .to_owned())
}

/// A GET of the authorize endpoint `url` with `query`, as the user's browser sends it.
async fn authorize(
    http: &reqwest::Client,
    url: &str,
    query: &[(&str, &str)],
) -> Result<reqwest::Response, reqwest::Error> {
    http.get(url).query(query).send().await
}

/// A client credentials request to Procurios' token endpoint `url`, with the client
/// authenticated in the form body.
async fn procurios_client_credentials(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    scope: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    http.post(url)
        .header("Accept", "application/json")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-client"),
            ("client_secret", secret),
            ("scope", scope),
        ])
        .send()
        .await
}

/// Procurify's client credentials request body for the sandbox's client.
fn procurify_client_credentials() -> Value {
    json!({
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
        "audience": "https://api.procurify.com/",
        "grant_type": "client_credentials",
    })
}

#[tokio::test]
async fn procurios_client_credentials_and_api_call_carry_request_ids() -> TestResult {
    let sandbox = start()?;
    let http = client();
    let token_url = format!("{}/l/oauth2/token", sandbox.vendor_url(Vendor::Procurios));
    let response =
        procurios_client_credentials(&http, &token_url, "sandbox-secret", "profile").await?;
    assert!(response.headers().contains_key("ProbaseRequestId"));
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "null");
    let access = body["access_token"].as_str().ok_or("no access token")?;

    let api = format!(
        "{}/l/some_api/endpoint",
        sandbox.vendor_url(Vendor::Procurios)
    );
    let response = http
        .get(&api)
        .bearer_auth(access)
        .header(
            "Accept",
            "application/vnd.procurios.application+json; version=1",
        )
        .send()
        .await?;
    assert!(response.headers().contains_key("ProbaseRequestId"));
    assert_eq!(response.status(), StatusCode::OK);

    // Without the vendor's media type the API refuses, still with a request id.
    let response = http.get(&api).bearer_auth(access).send().await?;
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    assert!(response.headers().contains_key("ProbaseRequestId"));
    assert_eq!(sandbox.token_requests(Vendor::Procurios), 1);
    Ok(())
}

#[tokio::test]
async fn procurios_code_flow_uses_grant_type_code_and_answers_the_token_alone() -> TestResult {
    let sandbox = start()?;
    let http = client();
    let base = sandbox.vendor_url(Vendor::Procurios);
    let response = authorize(
        &http,
        &format!("{base}/l/oauth2/authorize"),
        &[
            ("response_type", "code"),
            ("scope", "profile"),
            ("client_id", "sandbox-client"),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("state", "xyz"),
        ],
    )
    .await?;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = location_of(&response)?;
    assert!(location.starts_with("http://127.0.0.1:9/callback?"));
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    let code = query_param(&location, "code").ok_or("no code")?;

    let exchange = |grant_type: &'static str, code: String| {
        http.post(format!("{base}/l/oauth2/token"))
            .header("Accept", "application/json")
            .form(&[
                ("grant_type", grant_type.to_owned()),
                ("client_id", "sandbox-client".to_owned()),
                ("code", code),
                ("client_secret", "sandbox-secret".to_owned()),
            ])
            .send()
    };
    // The RFC value is not what this vendor documents.
    let (status, body) = json_of(exchange("authorization_code", code.clone()).await?).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");

    let (status, body) = json_of(exchange("code", code.clone()).await?).await?;
    assert_eq!(status, StatusCode::OK);
    let object = body.as_object().ok_or("not an object")?;
    assert_eq!(object.keys().collect::<Vec<_>>(), ["access_token"]);

    // Codes are single use.
    let (status, body) = json_of(exchange("code", code).await?).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    Ok(())
}

#[tokio::test]
async fn procurios_rejects_wrong_content_type_secret_and_missing_scope() -> TestResult {
    let sandbox = start()?;
    let http = client();
    let url = format!("{}/l/oauth2/token", sandbox.vendor_url(Vendor::Procurios));
    let response = http
        .post(&url)
        .header("Accept", "application/json")
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await?;
    assert!(response.headers().contains_key("ProbaseRequestId"));
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");

    let form = |secret: &'static str, scope: &'static str| {
        procurios_client_credentials(&http, &url, secret, scope)
    };
    let (status, body) = json_of(form("wrong", "profile").await?).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = json_of(form("sandbox-secret", "").await?).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");

    // Client authentication in a header instead of the body is refused.
    let response = http
        .post(&url)
        .header("Accept", "application/json")
        .basic_auth("sandbox-client", Some("sandbox-secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "profile")])
        .send()
        .await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(sandbox.token_requests(Vendor::Procurios), 4);
    Ok(())
}

#[tokio::test]
async fn procurify_json_token_with_audience_and_vendors_api() -> TestResult {
    let sandbox = start()?;
    let http = client();
    let base = sandbox.vendor_url(Vendor::Procurify);
    let request = |body: Value| http.post(format!("{base}/oauth/token")).json(&body).send();
    let good = procurify_client_credentials();
    let (status, body) = json_of(request(good.clone()).await?).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 86400);
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body["scope"]
            .as_str()
            .is_some_and(|s| s.starts_with("urn:procurify-api:domain:acme "))
    );
    let access = body["access_token"].as_str().ok_or("no token")?.to_owned();

    let mut no_audience = good.clone();
    no_audience
        .as_object_mut()
        .ok_or("object")?
        .remove("audience");
    let (status, body) = json_of(request(no_audience).await?).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");

    // A form body is not what Procurify takes.
    let response = http
        .post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let vendors = format!("{base}/api/v3/vendors/");
    let response = http.get(&vendors).bearer_auth(&access).send().await?;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = http
        .get(&vendors)
        .bearer_auth(&access)
        .header("X-Procurify-Client", "api")
        .send()
        .await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(body["data"].as_array().is_some_and(|d| !d.is_empty()));
    let response = http
        .get(&vendors)
        .bearer_auth("not-a-token")
        .header("X-Procurify-Client", "api")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(sandbox.token_requests(Vendor::Procurify), 3);
    Ok(())
}

fn procore_form(fields: &[(&'static str, &str)]) -> Form {
    fields.iter().fold(Form::new(), |form, (name, value)| {
        form.text(*name, (*value).to_owned())
    })
}

/// A multipart request to Procore's token endpoint under `base`.
async fn procore_token(
    http: &reqwest::Client,
    base: &str,
    fields: &[(&'static str, &str)],
) -> Result<reqwest::Response, reqwest::Error> {
    http.post(format!("{base}/oauth/token"))
        .multipart(procore_form(fields))
        .send()
        .await
}

#[tokio::test]
async fn procore_oob_code_page_then_multipart_exchange_and_refresh() -> TestResult {
    let sandbox = start()?;
    let http = client();
    let base = sandbox.vendor_url(Vendor::Procore);
    let page = authorize(
        &http,
        &format!("{base}/oauth/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", "sandbox-client"),
            ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
        ],
    )
    .await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    let code = html
        .split("<code id=\"code\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .ok_or("no code in page")?
        .to_owned();

    let (status, body) = json_of(
        procore_token(
            &http,
            &base,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "sandbox-client"),
                ("client_secret", "sandbox-secret"),
                ("code", &code),
                ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
            ],
        )
        .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 5400);
    assert!(body["created_at"].is_u64());
    let refresh = body["refresh_token"]
        .as_str()
        .ok_or("no refresh token")?
        .to_owned();
    let access = body["access_token"].as_str().ok_or("no token")?.to_owned();

    let me = http
        .get(format!("{base}/rest/v1.0/me"))
        .bearer_auth(&access)
        .send()
        .await?;
    let (status, body) = json_of(me).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["login"], "joe.builder@acme.com");

    let refresh_fields = [
        ("grant_type", "refresh_token"),
        ("client_id", "sandbox-client"),
        ("client_secret", "sandbox-secret"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, body) = json_of(procore_token(&http, &base, &refresh_fields).await?).await?;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(body["refresh_token"].as_str(), Some(refresh.as_str()));
    // The old refresh token was rotated out.
    let (status, body) = json_of(procore_token(&http, &base, &refresh_fields).await?).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // A form-encoded body is refused: the vendor documents multipart.
    let response = http
        .post(format!("{base}/oauth/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(sandbox.token_requests(Vendor::Procore), 4);
    Ok(())
}

#[tokio::test]
async fn procore_redirect_flow_honours_pkce_and_client_credentials_needs_redirect_uri() -> TestResult
{
    use base64::Engine as _;
    use sha2::Digest as _;

    let sandbox = start()?;
    let http = client();
    let base = sandbox.vendor_url(Vendor::Procore);
    let verifier = "a".repeat(50);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect_uri = "http://127.0.0.1:9/cb";
    let response = authorize(
        &http,
        &format!("{base}/oauth/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", "sandbox-client"),
            ("redirect_uri", redirect_uri),
            ("state", "s1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await?;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = location_of(&response)?;
    assert_eq!(query_param(&location, "state").as_deref(), Some("s1"));
    let code = query_param(&location, "code").ok_or("no code")?;
    let response = procore_token(
        &http,
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
            ("code", &code),
            ("redirect_uri", redirect_uri),
            (
                "code_verifier",
                "wrong-verifier-wrong-verifier-wrong-verifier",
            ),
        ],
    )
    .await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    let cc = |fields: &'static [(&'static str, &'static str)]| procore_token(&http, &base, fields);
    let (status, body) = json_of(
        cc(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    let (status, body) = json_of(
        cc(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
            ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
        ])
        .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(body["created_at"].is_u64());
    let (status, body) = json_of(
        cc(&[
            ("grant_type", "password"),
            ("client_id", "sandbox-client"),
            ("client_secret", "sandbox-secret"),
        ])
        .await?,
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");

    // An unknown client is shown an error page, never redirected.
    let response = authorize(
        &http,
        &format!("{base}/oauth/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", "nobody"),
            ("redirect_uri", redirect_uri),
        ],
    )
    .await?;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    Ok(())
}

fn jwt_payload(token: &str) -> Result<Value, Box<dyn std::error::Error>> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    Ok(serde_json::from_slice(&bytes)?)
}

#[tokio::test]
async fn procountor_legacy_flow_answers_302_and_jwt_tokens() -> TestResult {
    let sandbox = start()?;
    let http = client();
    let base = sandbox.vendor_url(Vendor::Procountor);
    let redirect_uri = "https://integration.example/callback";
    let authz = |password: &'static str| {
        http.post(format!(
            "{base}/api/oauth/authz?response_type=code&client_id=sandbox-client&state=st4te"
        ))
        .form(&[
            ("username", "sandbox-user"),
            ("password", password),
            ("company", "14159"),
            ("redirect_uri", redirect_uri),
        ])
        .send()
    };
    let response = authz("wrong").await?;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = location_of(&response)?;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );

    let response = authz("sandbox-password").await?;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = location_of(&response)?;
    assert!(location.starts_with(redirect_uri));
    assert_eq!(query_param(&location, "state").as_deref(), Some("st4te"));
    let code = query_param(&location, "code").ok_or("no code")?;

    let token = |fields: &[(&str, &str)]| {
        http.post(format!("{base}/api/oauth/token"))
            .form(fields)
            .send()
    };
    let exchange = [
        ("grant_type", "authorization_code"),
        ("client_id", "sandbox-client"),
        ("client_secret", "sandbox-secret"),
        ("redirect_uri", redirect_uri),
        ("code", &code),
    ];
    let response = token(&exchange).await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("token_type").is_none());
    let access = body["access_token"].as_str().ok_or("no token")?.to_owned();
    let refresh = body["refresh_token"]
        .as_str()
        .ok_or("no refresh")?
        .to_owned();
    let claims = jwt_payload(&access)?;
    assert_eq!(claims["iss"], "https://api-test.procountor.com");
    assert_eq!(claims["cid"], 14159);
    assert!(claims["exp"].as_u64() > claims["iat"].as_u64());

    let response = http
        .get(format!("{base}/api/sessioninfo"))
        .bearer_auth(&access)
        .send()
        .await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["companyId"], 14159);

    let response = token(&[
        ("grant_type", "refresh_token"),
        ("client_id", "sandbox-client"),
        ("client_secret", "sandbox-secret"),
        ("refresh_token", &refresh),
    ])
    .await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(body["access_token"].as_str().is_some());

    // The code was used once already.
    let response = token(&exchange).await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(sandbox.token_requests(Vendor::Procountor), 3);
    assert_eq!(sandbox.total_token_requests(), 3);
    Ok(())
}

#[tokio::test]
async fn rewrites_cover_every_vendor_and_shutdown_frees_the_port() -> TestResult {
    let config = SandboxConfig::default().client("my-id", "my-secret");
    let sandbox = Sandbox::start(config)?;
    let rewrites = sandbox.rewrites();
    for prefix in [
        "https://api.craftbrouwers.nl/",
        "https://acme.procurify.com/",
        "https://login.procore.com/",
        "https://api.procore.com/",
        "https://api-test.procountor.com/",
    ] {
        let (_, to) = rewrites
            .iter()
            .find(|(from, _)| from == prefix)
            .ok_or(format!("no rewrite for {prefix}"))?;
        assert!(to.starts_with(&sandbox.base_url()));
        assert!(to.ends_with('/'));
    }
    assert!(!format!("{:?}", sandbox.config()).contains("my-secret"));
    let addr = sandbox.addr();
    // An open keep-alive connection must not keep the server alive.
    let http = client();
    let response = http
        .get(format!("{}/nowhere", sandbox.base_url()))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    sandbox.shutdown();
    assert!(std::net::TcpStream::connect(addr).is_err());
    Ok(())
}

#[tokio::test]
async fn token_lifetime_can_be_shortened_and_expired_tokens_are_refused() -> TestResult {
    let sandbox = Sandbox::start(SandboxConfig::default().token_lifetime_seconds(1))?;
    let http = client();
    let base = sandbox.vendor_url(Vendor::Procurify);
    let response = http
        .post(format!("{base}/oauth/token"))
        .json(&procurify_client_credentials())
        .send()
        .await?;
    let (status, body) = json_of(response).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 1);
    let access = body["access_token"].as_str().ok_or("no token")?.to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = http
        .get(format!("{base}/api/v3/vendors/"))
        .bearer_auth(&access)
        .header("X-Procurify-Client", "api")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    Ok(())
}
