//! Every vendor of the catalogue on the wire: each `providers/*.yaml` is faked from its
//! descriptor alone by the sandbox (`oauth-clients-sandbox`, an independent reading of the
//! schema), and the engine runs every grant the vendor has against it, then an API call.
//!
//! The fake refuses whatever the descriptor does not say, naming it; the engine reads the
//! fake's answers in the vendor's shape. A disagreement is a bug in one of them: the fake is
//! fixed, and a case where the engine (or a descriptor) misreads the schema is written down in
//! `/work/staging/notes/fake-findings.md` and exempted below, exactly, until it is fixed.
//!
//! Every vendor runs (bounded concurrency, one sandbox for all); failures are collected and
//! reported together.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oauth_clients_core::descriptor::JwtAlgorithm;
use oauth_clients_core::secrecy::{ExposeSecret, SecretString};
use oauth_clients_core::{
    ApiRequest, Callback, Client, ClientConfig, ClientOptions, GrantKind, Provider, SigningKey,
    Token, UserCredentials,
};
use oauth_clients_sandbox::{Sandbox, SandboxConfig};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const CLIENT_ID: &str = "sandbox-client";
/// A secret whose form-urlencoding differs from itself: Basic credentials tell the two apart.
const SECRET: &str = "sandbox+secret/&=:x";
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
const USERNAME: &str = "sandbox-user";
const PASSWORD: &str = "sandbox-password";
/// How many vendors run at once.
const CONCURRENCY: usize = 24;
/// The most one vendor may take.
const VENDOR_DEADLINE: Duration = Duration::from_secs(30);
/// An RSA key for RS256 assertions, made for this test only (it protects nothing).
const TEST_RSA_KEY: &str = include_str!("wire_support/test-only-rsa.pem");

/// Cases where the engine or a descriptor misreads the schema (the fake being right), each
/// written down in `/work/staging/notes/fake-findings.md`: `(vendor, step, note)`. The step's
/// failure is expected; a step that passes again is reported, so that its exemption goes.
const EXEMPT: &[(&str, &str, &str)] = &[];

/// Everything about the catalogue that a vendor's run needs.
struct Shared {
    rewrites: BTreeMap<String, Vec<(String, String)>>,
    variables: BTreeMap<String, BTreeMap<String, String>>,
    captured: BTreeMap<String, BTreeMap<String, String>>,
    http: reqwest::Client,
    rsa: SigningKey,
}

/// What the runs need from the sandbox of `providers`.
fn shared(sandbox: &Sandbox, providers: &[Provider]) -> Shared {
    let ids: Vec<String> = providers.iter().map(|p| p.id().to_owned()).collect();
    let per_vendor = |values: &dyn Fn(&str) -> Option<BTreeMap<String, String>>| {
        ids.iter()
            .map(|id| (id.clone(), values(id).unwrap_or_default()))
            .collect()
    };
    Shared {
        rewrites: ids
            .iter()
            .map(|id| (id.clone(), sandbox.rewrites_for(id)))
            .collect(),
        variables: per_vendor(&|id| sandbox.variables(id).cloned()),
        captured: per_vendor(&|id| sandbox.captured_variables(id).cloned()),
        http: oauth_clients_core::http_client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
        rsa: SigningKey::rs256_pem(&SecretString::from(TEST_RSA_KEY))
            .unwrap_or_else(|e| panic!("test key: {e}")),
    }
}

fn sandbox_of<'a>(providers: impl IntoIterator<Item = &'a Provider>) -> Sandbox {
    Sandbox::start(
        SandboxConfig::default()
            .without_seed_vendors()
            .client(CLIENT_ID, SECRET)
            .user(USERNAME, PASSWORD, "14159")
            .descriptors(providers.into_iter().map(|p| p.descriptor().clone())),
    )
    .unwrap_or_else(|e| panic!("sandbox: {e}"))
}

fn catalogue() -> Vec<Provider> {
    let dir = format!("{}/../providers", env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let yaml = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            Provider::from_yaml_str(&yaml, &path.display().to_string())
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_catalogue_vendor_works_against_its_descriptor_fake() {
    let started = Instant::now();
    let providers = catalogue();
    assert!(providers.len() >= 150, "{} descriptors", providers.len());
    let sandbox = sandbox_of(&providers);
    let shared = Arc::new(shared(&sandbox, &providers));
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut runs = JoinSet::new();
    for provider in providers {
        let shared = Arc::clone(&shared);
        let permits = Arc::clone(&permits);
        runs.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let id = provider.id().to_owned();
            let outcome = tokio::time::timeout(VENDOR_DEADLINE, run_vendor(&shared, provider))
                .await
                .unwrap_or_else(|_| Err(Step::failed("deadline", "the vendor took over 30 s")));
            (id, outcome)
        });
    }
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut steps: BTreeMap<&str, usize> = BTreeMap::new();
    let mut exempted = Vec::new();
    while let Some(joined) = runs.join_next().await {
        let (id, outcome) = joined.unwrap_or_else(|e| panic!("a vendor's task: {e}"));
        match outcome {
            Ok(done) => {
                passed += 1;
                for name in done {
                    *steps.entry(name).or_default() += 1;
                }
            }
            Err(step) => match EXEMPT
                .iter()
                .find(|(vendor, name, _)| *vendor == id && *name == step.name)
            {
                Some((_, name, note)) => exempted.push(format!("{id}/{name}: {note}")),
                None => failures.push(format!("{id}: {}: {}", step.name, step.error)),
            },
        }
    }
    for (vendor, step, _) in EXEMPT {
        if !exempted
            .iter()
            .any(|e| e.starts_with(&format!("{vendor}/{step}:")))
        {
            failures.push(format!(
                "{vendor}: {step}: exempted, but it did not fail: remove its exemption"
            ));
        }
    }
    sandbox.shutdown();
    failures.sort();
    eprintln!(
        "catalogue: {passed} vendors pass, {} exempted, {} fail, in {:.1} s",
        exempted.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("  steps passed: {steps:?}");
    for exemption in &exempted {
        eprintln!("  exempted: {exemption}");
    }
    assert!(
        failures.is_empty(),
        "{} vendors disagree with their descriptor fake:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The harness is not vacuous: when the engine reads a descriptor that differs from the fake's
/// in one setting, the run fails. One mutation per kind of rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_descriptor_that_differs_from_the_fakes_is_caught() {
    let mutations = [
        (
            "github",
            "client_auth: client_secret_post",
            "client_auth: client_secret_basic",
        ),
        ("procurify", "  encoding: json", "  encoding: form"),
        ("deezer", "output: json", "output: xml"),
        ("airtable", "pkce: required", "pkce: unsupported"),
        ("facebook", "separator: ','", "separator: ' '"),
        ("untappd", "token_path: [response]", "token_path: [data]"),
        ("wechat", "client_id: appid", "client_id: app_id"),
        ("clover", "send_grant_type: false", "send_grant_type: true"),
    ];
    let originals: Vec<Provider> = catalogue()
        .into_iter()
        .filter(|p| mutations.iter().any(|(id, ..)| *id == p.id()))
        .collect();
    assert_eq!(originals.len(), mutations.len());
    let sandbox = sandbox_of(&originals);
    let shared = shared(&sandbox, &originals);
    let mut missed = Vec::new();
    for (id, from, to) in mutations {
        let path = format!("{}/../providers/{id}.yaml", env!("CARGO_MANIFEST_DIR"));
        let yaml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            yaml.contains(from),
            "{id}: `{from}` is gone from the descriptor"
        );
        let mutated = Provider::from_yaml_str(&yaml.replace(from, to), &path)
            .unwrap_or_else(|e| panic!("{id} mutated: {e}"));
        match run_vendor(&shared, mutated).await {
            Ok(_) => missed.push(format!("{id}: `{from}` → `{to}`")),
            Err(step) => eprintln!("{id}: `{to}` caught at {}: {}", step.name, step.error),
        }
    }
    sandbox.shutdown();
    assert!(missed.is_empty(), "not caught:\n{}", missed.join("\n"));
}

/// The first step of a vendor that failed, and why.
#[derive(Debug)]
struct Step {
    name: &'static str,
    error: String,
}

impl Step {
    fn failed(name: &'static str, error: impl ToString) -> Step {
        Step {
            name,
            error: error.to_string(),
        }
    }
}

/// Runs `future` as step `name`.
async fn step<T, E: std::fmt::Display>(
    name: &'static str,
    future: impl Future<Output = Result<T, E>>,
) -> Result<T, Step> {
    future.await.map_err(|e| Step::failed(name, e))
}

fn client_for(shared: &Shared, provider: Provider) -> Result<Client, Step> {
    let id = provider.id().to_owned();
    let descriptor = provider.descriptor();
    let mut config = ClientConfig::new(CLIENT_ID)
        .secret(SecretString::from(SECRET))
        .redirect_uri(REDIRECT_URI);
    for (name, value) in shared.variables.get(&id).into_iter().flatten() {
        config = config.variable(name, value);
    }
    if descriptor
        .grants
        .jwt_bearer
        .as_ref()
        .is_some_and(|g| g.algorithm == JwtAlgorithm::RS256)
    {
        config = config.signing_key(shared.rsa.clone());
    }
    let mut options = ClientOptions::default()
        .deadline(Duration::from_secs(20))
        .max_attempts(1);
    for (from, to) in shared.rewrites.get(&id).into_iter().flatten() {
        options = options.rewrite(from, to);
    }
    Client::with_options(provider, config, options).map_err(|e| Step::failed("client", e))
}

/// Every grant of one vendor, then an API call.
async fn run_vendor(shared: &Shared, provider: Provider) -> Result<Vec<&'static str>, Step> {
    let descriptor = provider.descriptor().clone();
    let id = descriptor.id.clone();
    let client = client_for(shared, provider)?;
    let kinds = descriptor.grants.kinds();
    // The user's token (refreshed and exchanged below), else the application's.
    let mut user_token: Option<Token> = None;
    let mut app_token: Option<Token> = None;
    let mut done = Vec::new();
    if kinds.contains(&GrantKind::ClientCredentials) {
        let token = step("client_credentials", client.client_credentials()).await?;
        check_expiry(&client, &token, "client_credentials")?;
        app_token = Some(token);
        done.push("client_credentials");
    }
    if kinds.contains(&GrantKind::AuthorizationCode) {
        let token = authorization_code(shared, &client).await?;
        check_expiry(&client, &token, "authorization_code")?;
        check_captures(shared, &id, &client, &token)?;
        user_token = Some(token);
        done.push("authorization_code");
    }
    if kinds.contains(&GrantKind::DeviceCode) {
        let device = step("device_code", client.start_device_authorization()).await?;
        let token = step("device_code", client.poll_device_token(&device)).await?;
        user_token.get_or_insert(token);
        done.push("device_code");
    }
    if kinds.contains(&GrantKind::LegacyCredentials) {
        let user = UserCredentials::new(USERNAME, PASSWORD);
        let token = step("legacy_credentials", client.legacy_credentials(&user)).await?;
        user_token.get_or_insert(token);
        done.push("legacy_credentials");
    }
    if kinds.contains(&GrantKind::RefreshToken) {
        let token = user_token.as_ref().ok_or_else(|| {
            Step::failed("refresh_token", "no grant of the vendor gave a user token")
        })?;
        refresh(&client, token).await?;
        done.push("refresh_token");
    }
    if kinds.contains(&GrantKind::JwtBearer) {
        let token = step(
            "jwt_bearer",
            client.jwt_bearer(Some("robot@sandbox.example")),
        )
        .await?;
        app_token.get_or_insert(token);
        done.push("jwt_bearer");
    }
    let token = user_token.or(app_token);
    if kinds.contains(&GrantKind::TokenExchange) {
        let subject = token.as_ref().ok_or_else(|| {
            Step::failed(
                "token_exchange",
                "no grant of the vendor gave a token to exchange",
            )
        })?;
        step(
            "token_exchange",
            client.exchange_token(subject.access_token()),
        )
        .await?;
        done.push("token_exchange");
    }
    if let (Some(_), Some(token)) = (&descriptor.api.example_path, &token)
        && descriptor.endpoints.api_base.is_some()
    {
        api_call(&client, token).await?;
        done.push("api");
    }
    Ok(done)
}

/// The browser's part: the authorize URL answers a redirect to the redirect URI; its query is
/// the callback.
async fn authorization_code(shared: &Shared, client: &Client) -> Result<Token, Step> {
    let name = "authorization_code";
    let request = client.authorize_url().map_err(|e| Step::failed(name, e))?;
    let response = step(name, shared.http.get(request.url.clone()).send()).await?;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(location) = location.filter(|_| status.is_redirection()) else {
        let body = response.text().await.unwrap_or_default();
        return Err(Step::failed(
            name,
            format!("the authorize endpoint answered {status}: {body}"),
        ));
    };
    let location = url::Url::parse(&location).map_err(|e| Step::failed(name, e))?;
    let callback = Callback::from_query(location.query().unwrap_or_default());
    if let Some(error) = &callback.error {
        return Err(Step::failed(
            name,
            format!(
                "the authorize endpoint refused: {error}: {}",
                callback.error_description.as_deref().unwrap_or_default()
            ),
        ));
    }
    step(name, client.exchange_code(&request, &callback)).await
}

/// A refresh; a rotating vendor's used refresh token is refused afterwards, another vendor's
/// works again.
async fn refresh(client: &Client, token: &Token) -> Result<(), Step> {
    let name = "refresh_token";
    let Some(first) = token.refresh_token().cloned() else {
        return Err(Step::failed(
            name,
            "the code exchange gave no refresh token",
        ));
    };
    let refreshed = step(name, client.refresh_token_of(token)).await?;
    let rotates = client
        .provider()
        .descriptor()
        .grants
        .refresh_token
        .as_ref()
        .is_some_and(|g| g.rotates);
    let second = refreshed
        .refresh_token()
        .map(|t| t.expose_secret().to_owned());
    if rotates {
        if second.as_deref() == Some(first.expose_secret()) || second.is_none() {
            return Err(Step::failed(
                name,
                "a rotating vendor's refresh kept the refresh token",
            ));
        }
        // The old token again (its captured values may shape the refresh endpoint).
        match client.refresh_token_of(token).await {
            Err(err) if err.is_invalid_grant() => Ok(()),
            Err(err) => Err(Step::failed(
                name,
                format!("reuse refused, but not as invalid_grant: {err}"),
            )),
            Ok(_) => Err(Step::failed(
                name,
                "a used rotating refresh token was accepted",
            )),
        }
    } else {
        step(name, client.refresh_token_of(token)).await.map(drop)
    }
}

/// The token's lifetime is the one the fake wrote in the vendor's shape: none when the tokens
/// never expire, the descriptor's default when the vendor sends none, else an hour.
fn check_expiry(client: &Client, token: &Token, name: &'static str) -> Result<(), Step> {
    let quirks = &client.provider().descriptor().token_response;
    let expected = if quirks.never_expires {
        None
    } else {
        Some(quirks.default_expires_in.unwrap_or(3600))
    };
    let got = token
        .expires_at_unix()
        .map(|at| at.saturating_sub(token.issued_at_unix()));
    let close = match (expected, got) {
        (None, None) => true,
        (Some(want), Some(got)) => got.abs_diff(want) <= 5,
        _ => false,
    };
    if close {
        Ok(())
    } else {
        Err(Step::failed(
            name,
            format!("token lifetime {got:?} s, expected {expected:?} s"),
        ))
    }
}

/// Values captured from the token answer and the callback are kept with the token, and
/// additional tokens are read.
fn check_captures(shared: &Shared, id: &str, client: &Client, token: &Token) -> Result<(), Step> {
    for (name, value) in shared.captured.get(id).into_iter().flatten() {
        let got = token.variables().get(name).map(String::as_str);
        if got != Some(value.trim_end_matches('/')) {
            return Err(Step::failed(
                "captures",
                format!("captured `{name}` is {got:?}, the fake answered `{value}`"),
            ));
        }
    }
    for name in client
        .provider()
        .descriptor()
        .token_response
        .additional_tokens
        .keys()
    {
        if token.additional(name).is_none() {
            return Err(Step::failed(
                "captures",
                format!("additional token `{name}` is missing"),
            ));
        }
    }
    Ok(())
}

/// A GET of `api.example_path`. Its placeholders (Quickbooks' `{realm_id}`) are filled here with
/// the values the client has: nothing in the engine renders them (fake-findings.md #2).
/// The descriptor's example path, rendered by the engine with the token's captured values.
async fn api_call(client: &Client, token: &Token) -> Result<(), Step> {
    let name = "api";
    let path = step(name, async { client.example_api_path(token) })
        .await?
        .ok_or_else(|| Step::failed(name, "no example path"))?;
    let response = step(name, client.send_api(token, &ApiRequest::get(path))).await?;
    if response.status() == 200 {
        Ok(())
    } else {
        Err(Step::failed(
            name,
            format!("HTTP {}: {}", response.status(), response.text()),
        ))
    }
}
