//! `oauth-clients demo`: the sandbox in-process, and every seed vendor's grants plus one API
//! call through the real engine, as a table.

use std::time::{Duration, Instant};

use oauth_clients_core::{
    ApiRequest, AuthorizationCode, Callback, Client, ClientConfig, ClientOptions, GrantKind,
    Provider, RefreshToken, Token, UserCredentials,
};
use oauth_clients_sandbox::{Sandbox, SandboxConfig, Vendor};
use secrecy::SecretString;

use crate::catalog;
use crate::cmd::describe::table;
use crate::failure::Failure;
use crate::output::{self, note};

/// One row of the table.
struct Row {
    vendor: String,
    step: String,
    result: Result<String, String>,
    time: Duration,
}

/// Runs the demo; the table goes to stdout. Fails (exit 1) when any step failed.
pub(crate) async fn run() -> Result<String, Failure> {
    let config = SandboxConfig::default();
    let sandbox = Sandbox::start(config.clone())
        .map_err(|err| Failure::vendor(format!("cannot start the sandbox: {err}")))?;
    note(&format!("sandbox listening on {}", sandbox.base_url()));
    let providers = catalog::builtin();
    let mut rows = Vec::new();
    for vendor in Vendor::ALL {
        let Some(provider) = providers.iter().find(|p| p.id() == vendor.id()) else {
            rows.push(Row {
                vendor: vendor.id().to_owned(),
                step: "-".into(),
                result: Err("no compiled-in descriptor".into()),
                time: Duration::ZERO,
            });
            continue;
        };
        run_vendor(&sandbox, &config, vendor, provider, &mut rows).await;
    }
    sandbox.shutdown();
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            [
                row.vendor.clone(),
                row.step.clone(),
                match &row.result {
                    Ok(detail) => format!("ok  {detail}"),
                    Err(err) => format!("FAILED  {}", err.lines().next().unwrap_or_default()),
                },
                format!("{} ms", row.time.as_millis()),
            ]
        })
        .collect();
    let out = table(&["VENDOR", "GRANT", "RESULT", "TIME"], &cells);
    if failed > 0 {
        output::stdout(out.as_bytes())?;
        for row in rows.iter().filter(|r| r.result.is_err()) {
            if let Err(err) = &row.result {
                note(&format!("{} {}: {err}", row.vendor, row.step));
            }
        }
        return Err(Failure::vendor(format!("{failed} demo step(s) failed")));
    }
    note(&format!("all {} steps passed", rows.len()));
    Ok(out)
}

fn client_for(
    sandbox: &Sandbox,
    config: &SandboxConfig,
    vendor: Vendor,
    provider: &Provider,
) -> Result<Client, String> {
    let mut client_config = ClientConfig::new(config.client_id.clone())
        .secret(SecretString::from(config.client_secret.clone()));
    match vendor {
        Vendor::Procurios => {
            client_config = client_config
                .variable("domain", config.procurios_domain.clone())
                .scopes(["profile"])
                .redirect_uri("http://127.0.0.1:9/callback");
        }
        Vendor::Procurify => {
            client_config = client_config.variable("domain", config.procurify_domain.clone());
        }
        Vendor::Procore => {}
        Vendor::Procountor => {
            client_config = client_config
                .variable("company", config.company.clone())
                .redirect_uri("https://integration.example/callback");
        }
    }
    let options = sandbox.rewrites().into_iter().fold(
        ClientOptions::default().max_attempts(1),
        |options, (from, to)| options.rewrite(from, to),
    );
    Client::with_options(provider.clone(), client_config, options).map_err(|e| e.to_string())
}

async fn run_vendor(
    sandbox: &Sandbox,
    config: &SandboxConfig,
    vendor: Vendor,
    provider: &Provider,
    rows: &mut Vec<Row>,
) {
    let client = match client_for(sandbox, config, vendor, provider) {
        Ok(client) => client,
        Err(err) => {
            rows.push(Row {
                vendor: vendor.id().to_owned(),
                step: "client".into(),
                result: Err(err),
                time: Duration::ZERO,
            });
            return;
        }
    };
    let user = UserCredentials::new(config.username.clone(), config.password.clone());
    let mut latest: Option<Token> = None;
    let mut refresh_token: Option<RefreshToken> = None;
    // Refresh last: it needs a refresh token from an earlier grant.
    let mut kinds = provider.descriptor().grants.kinds();
    kinds.sort_by_key(|kind| *kind == GrantKind::RefreshToken);
    for kind in kinds {
        // Procountor's legacy flow: the vendor's deprecation note, as `token` prints it.
        crate::session::warn_deprecated(provider, kind);
        let started = Instant::now();
        let result = run_grant(&client, kind, &user, refresh_token.as_ref()).await;
        let time = started.elapsed();
        let result = result.map(|token| {
            let detail = describe_token(&token);
            if let Some(refresh) = token.refresh_token() {
                refresh_token = Some(refresh.clone());
            }
            latest = Some(token);
            detail
        });
        rows.push(Row {
            vendor: vendor.id().to_owned(),
            step: kind.to_string(),
            result,
            time,
        });
    }
    rows.push(call_api(&client, vendor, provider, latest.as_ref()).await);
}

/// One grant against the sandbox.
async fn run_grant(
    client: &Client,
    kind: GrantKind,
    user: &UserCredentials,
    refresh_token: Option<&RefreshToken>,
) -> Result<Token, String> {
    match kind {
        GrantKind::ClientCredentials => {
            client.client_credentials().await.map_err(|e| e.to_string())
        }
        GrantKind::AuthorizationCode => browser_login(client).await,
        GrantKind::LegacyCredentials => client
            .legacy_credentials(user)
            .await
            .map_err(|e| e.to_string()),
        GrantKind::RefreshToken => match refresh_token {
            Some(refresh) => client.refresh(refresh).await.map_err(|e| e.to_string()),
            None => Err("no earlier grant returned a refresh token".into()),
        },
        // The seed vendors have none of these grants.
        GrantKind::DeviceCode | GrantKind::JwtBearer | GrantKind::TokenExchange => {
            Err(format!("grant `{kind}` is not part of the demo"))
        }
    }
}

/// The descriptor's example API call with the latest token.
async fn call_api(
    client: &Client,
    vendor: Vendor,
    provider: &Provider,
    latest: Option<&Token>,
) -> Row {
    let path = provider
        .descriptor()
        .api
        .example_path
        .clone()
        .unwrap_or_default();
    let started = Instant::now();
    let result = match latest {
        Some(token) => match client.send_api(token, &ApiRequest::get(path.clone())).await {
            Ok(response) => match response.error_for_status() {
                Ok(response) => Ok(format!(
                    "HTTP {}, {} bytes{}",
                    response.status(),
                    response.body().len(),
                    response
                        .request_id()
                        .map(|id| format!(", request id {id}"))
                        .unwrap_or_default()
                )),
                Err(err) => Err(err.to_string()),
            },
            Err(err) => Err(err.to_string()),
        },
        None => Err("no token to call the API with".into()),
    };
    Row {
        vendor: vendor.id().to_owned(),
        step: format!("api GET {path}"),
        result,
        time: started.elapsed(),
    }
}

fn describe_token(token: &Token) -> String {
    let mut detail = match token.lifetime_seconds() {
        Some(seconds) => format!("expires in {seconds} s"),
        None => "no expiry".to_owned(),
    };
    if token.refresh_token().is_some() {
        detail.push_str(", refresh token");
    }
    detail
}

/// Plays the browser against the sandbox: follows the authorize URL, then reads the code from
/// the redirect (or from the out-of-band page) and exchanges it.
async fn browser_login(client: &Client) -> Result<Token, String> {
    // The authorize URL has the rewrites applied already.
    let request = client.authorize_url().map_err(|e| e.to_string())?;
    let url = request.url.clone();
    let browser = oauth_clients_core::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let response = browser
        .get(url.as_str())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if let Some(location) = response.headers().get("location") {
        let location = location.to_str().map_err(|e| e.to_string())?;
        let location = url::Url::parse(location).map_err(|e| e.to_string())?;
        let callback = Callback::from_query(location.query().unwrap_or(""));
        return client
            .exchange_code(&request, &callback)
            .await
            .map_err(|e| e.to_string());
    }
    let page = response.text().await.map_err(|e| e.to_string())?;
    let code = page
        .split("<code id=\"code\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .ok_or("the authorize page showed no code")?;
    client
        .exchange_code_oob(
            &AuthorizationCode::new(code),
            request.pkce_verifier.as_ref(),
        )
        .await
        .map_err(|e| e.to_string())
}
