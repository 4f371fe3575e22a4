//! Client authentication at token endpoints (RFC 6749 §2.3, RFC 7523 §2.2, OpenID Connect Core
//! §9), as the descriptor's `client_auth` (or the grant's) says; any listed method is accepted.
//!
//! A request that authenticates twice (HTTP Basic and a secret or an assertion in the body) is
//! refused (RFC 6749 §2.3: "MUST NOT use more than one authentication method").

use axum::http::header;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::{BasicAuthEncoding, ClientAuth, TokenRequest};
use url::Url;

use super::jwt::Jwt;
use super::token::{Fields, Incoming, rename};
use super::{Fake, Refusal};
use crate::state::{State, now_unix};
use crate::wire::constant_time_eq;

/// The `client_assertion_type` of JWT client assertions (RFC 7523 §2.2).
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Authenticates the client of a request for `kind`; its client id.
pub(crate) fn authenticate(
    fake: &Fake,
    shared: &State,
    kind: GrantKind,
    settings: &TokenRequest,
    incoming: &Incoming,
    fields: &mut Fields,
    url: &Url,
) -> Result<String, Refusal> {
    let descriptor = fake.descriptor();
    let accepted = descriptor
        .grants
        .common(kind)
        .and_then(|c| c.client_auth)
        .unwrap_or(&descriptor.client_auth)
        .methods();
    let names = Names {
        id: rename(settings, "client_id"),
        secret: rename(settings, "client_secret"),
        assertion: rename(settings, "client_assertion"),
        assertion_type: rename(settings, "client_assertion_type"),
    };
    let authorization = incoming
        .headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default());
    let basic = match authorization {
        None => None,
        Some(value) => match value.split_once(' ') {
            Some((scheme, credentials)) if scheme.eq_ignore_ascii_case("basic") => {
                Some(credentials.trim())
            }
            _ => {
                return Err(Refusal::client(
                    "the Authorization header of a token request must use the Basic scheme",
                ));
            }
        },
    };
    let assertion = fields.has(names.assertion);
    let secret_in_body = fields.has(names.secret);
    if usize::from(basic.is_some()) + usize::from(assertion) + usize::from(secret_in_body) > 1 {
        return Err(Refusal::request(
            "the client authenticates more than once (HTTP Basic, a client_secret or a \
             client_assertion in the body): use exactly one method (RFC 6749 §2.3)",
        ));
    }
    let jwt = if assertion {
        let text = fields.take(names.assertion).unwrap_or_default();
        Some(Jwt::decode(&text).map_err(|why| Refusal::client(format!("client_assertion {why}")))?)
    } else {
        None
    };
    let method = match (&basic, &jwt) {
        (Some(_), _) => ClientAuth::ClientSecretBasic,
        (None, Some(jwt)) if jwt.alg() == "HS256" => ClientAuth::ClientSecretJwt,
        (None, Some(_)) => ClientAuth::PrivateKeyJwt,
        (None, None) if secret_in_body => ClientAuth::ClientSecretPost,
        (None, None) if fields.has(names.id) => ClientAuth::None,
        (None, None) => {
            return Err(Refusal::client(format!(
                "no client authentication; this endpoint accepts: {}",
                list(accepted)
            )));
        }
    };
    if !accepted.contains(&method) {
        return Err(Refusal::client(format!(
            "client authentication `{method}` is not accepted here; the descriptor says: {}",
            list(accepted)
        )));
    }
    let config = &shared.config;
    let client_id = match (method, basic, jwt) {
        (ClientAuth::ClientSecretBasic, Some(credentials), _) => {
            let id = check_basic(credentials, settings.basic_auth_encoding, shared)?;
            if settings.client_id_in_body {
                fields.expect(names.id, &id, "token_request.client_id_in_body")?;
            } else {
                fields.refuse(
                    names.id,
                    "the client authenticates with HTTP Basic and \
                     token_request.client_id_in_body is false",
                )?;
            }
            id
        }
        (ClientAuth::ClientSecretPost, ..) => {
            let id = client_id_param(fields, names.id, config.client_id.as_str())?;
            let secret = fields.take(names.secret).unwrap_or_default();
            if !constant_time_eq(secret.as_bytes(), config.client_secret.as_bytes()) {
                return Err(Refusal::client(
                    "client authentication failed (wrong secret)",
                ));
            }
            id
        }
        (ClientAuth::None, ..) => client_id_param(fields, names.id, &config.client_id)?,
        (_, _, Some(jwt)) => {
            fields.expect(
                names.assertion_type,
                ASSERTION_TYPE,
                "client_assertion_type",
            )?;
            let id = check_assertion(fake, shared, &jwt, method, url)?;
            if fields.has(names.id) {
                client_id_param(fields, names.id, &id)?;
            }
            id
        }
        _ => return Err(Refusal::client("client authentication failed")),
    };
    Ok(client_id)
}

struct Names<'a> {
    id: &'a str,
    secret: &'a str,
    assertion: &'a str,
    assertion_type: &'a str,
}

fn list(methods: &[ClientAuth]) -> String {
    methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The client id parameter, which must be `expected`.
fn client_id_param(fields: &mut Fields, name: &str, expected: &str) -> Result<String, Refusal> {
    let id = fields
        .take(name)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Refusal::client(format!("missing parameter `{name}` (the client id)")))?;
    if id == expected {
        Ok(id)
    } else {
        Err(Refusal::client(format!("unknown client id in `{name}`")))
    }
}

/// Checks HTTP Basic credentials: `id:secret`, form-urlencoded first unless the descriptor says
/// `basic_auth_encoding: none`. The error says which encoding was expected when the other one
/// would have matched, and never shows the secret.
fn check_basic(
    credentials: &str,
    encoding: BasicAuthEncoding,
    shared: &State,
) -> Result<String, Refusal> {
    let decoded = STANDARD
        .decode(credentials)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| Refusal::client("the Basic credentials are not base64 of UTF-8 text"))?;
    let Some((raw_id, raw_secret)) = decoded.split_once(':') else {
        return Err(Refusal::client("the Basic credentials have no `:`"));
    };
    let unform = |text: &str| -> String {
        url::form_urlencoded::parse(format!("x={text}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let config = &shared.config;
    let matches = |id: &str, secret: &str| {
        id == config.client_id
            && constant_time_eq(secret.as_bytes(), config.client_secret.as_bytes())
    };
    let form_ok = matches(&unform(raw_id), &unform(raw_secret));
    let raw_ok = matches(raw_id, raw_secret);
    match (encoding, form_ok, raw_ok) {
        (BasicAuthEncoding::FormUrlencoded, true, _) | (BasicAuthEncoding::None, _, true) => {
            Ok(config.client_id.clone())
        }
        (BasicAuthEncoding::FormUrlencoded, false, true) => Err(Refusal::client(
            "client authentication failed: the id and secret must be form-urlencoded before \
             Basic encoding (RFC 6749 §2.3.1; token_request.basic_auth_encoding: \
             form_urlencoded)",
        )),
        (BasicAuthEncoding::None, true, false) => Err(Refusal::client(
            "client authentication failed: this vendor takes the id and secret as they are in \
             Basic credentials (token_request.basic_auth_encoding: none), not form-urlencoded",
        )),
        _ => Err(Refusal::client(
            "client authentication failed (wrong client id or secret in Basic credentials)",
        )),
    }
}

/// Checks a client assertion (RFC 7523 §3): `iss` and `sub` are the client id, `aud` names the
/// token endpoint (or the issuer), it has not expired and has a `jti`; for
/// `client_secret_jwt`, an HS256 signature made with the client secret.
fn check_assertion(
    fake: &Fake,
    shared: &State,
    jwt: &Jwt,
    method: ClientAuth,
    url: &Url,
) -> Result<String, Refusal> {
    let config = &shared.config;
    let bad = |why: &str| Refusal::client(format!("client_assertion: {why}"));
    if jwt.text("iss") != Some(config.client_id.as_str())
        || jwt.text("sub") != Some(config.client_id.as_str())
    {
        return Err(bad("`iss` and `sub` must both be the client id"));
    }
    let mut endpoint = url.clone();
    endpoint.set_query(None);
    let issuer = fake.issuer();
    if !jwt.audience_is(endpoint.as_str()) && !issuer.is_some_and(|i| jwt.audience_is(&i)) {
        return Err(bad(&format!(
            "`aud` must name the token endpoint `{endpoint}`"
        )));
    }
    if jwt.number("exp").is_none_or(|exp| exp <= now_unix()) {
        return Err(bad("`exp` is missing or past"));
    }
    if jwt.text("jti").is_none_or(str::is_empty) {
        return Err(bad("`jti` is missing"));
    }
    match method {
        ClientAuth::ClientSecretJwt if !jwt.hs256_valid(config.client_secret.as_bytes()) => Err(
            bad("the HS256 signature is not made with the client secret"),
        ),
        ClientAuth::PrivateKeyJwt if !matches!(jwt.alg(), "RS256" | "ES256" | "PS256") => Err(bad(
            "private_key_jwt needs an RS256, PS256 or ES256 signature",
        )),
        _ => Ok(config.client_id.clone()),
    }
}
