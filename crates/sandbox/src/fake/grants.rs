//! Each grant's own parameters ([`ask`], which takes them without changing anything) and what
//! redeeming them does ([`redeem`]: codes and rotating refresh tokens are used up).

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::{JwtAlgorithm, TokenRequest};
use sha2::{Digest, Sha256};
use url::Url;

use super::answer::Grant;
use super::jwt::Jwt;
use super::store::{Device, Poll};
use super::token::{Fields, earned, rename};
use super::values::{Escape, render};
use super::{Fake, Refusal};
use crate::state::{State, now_unix, random_token};
use crate::wire::{self, constant_time_eq};

/// How long a device code lives, in seconds.
const DEVICE_LIFETIME: u64 = 600;

/// What a token request asks for, its parameters taken.
pub(crate) enum Ask {
    Code {
        code: String,
        redirect_uri: Option<String>,
        verifier: Option<String>,
        checks_redirect: bool,
    },
    Refresh {
        token: String,
        rotates: bool,
    },
    Client {
        scope: Option<String>,
    },
    Device {
        device_code: String,
    },
    Jwt {
        scope: Option<String>,
    },
    Exchange {
        subject: String,
    },
}

/// The parameter that names a grant when it sends no `grant_type` (standard name).
pub(crate) fn key_param(fake: &Fake, kind: GrantKind) -> Option<String> {
    let grants = &fake.descriptor().grants;
    match kind {
        GrantKind::AuthorizationCode | GrantKind::LegacyCredentials => Some("code".into()),
        GrantKind::RefreshToken => Some("refresh_token".into()),
        GrantKind::DeviceCode => Some("device_code".into()),
        GrantKind::JwtBearer => Some("assertion".into()),
        GrantKind::TokenExchange => grants
            .token_exchange
            .as_ref()
            .map(|g| g.subject_token_param.clone()),
        GrantKind::ClientCredentials => None,
    }
}

/// The scope parameter of a grant that may send one (`send_scope`), else none allowed. A scope
/// list must use the descriptor's separator.
pub(crate) fn scope(
    fake: &Fake,
    kind: GrantKind,
    settings: &TokenRequest,
    fields: &mut Fields,
) -> Result<Option<String>, Refusal> {
    let grants = &fake.descriptor().grants;
    let sends = match kind {
        GrantKind::ClientCredentials => grants.client_credentials.as_ref().map(|g| g.send_scope),
        GrantKind::DeviceCode => grants.device_code.as_ref().map(|g| g.send_scope),
        GrantKind::JwtBearer => grants.jwt_bearer.as_ref().map(|g| g.send_scope),
        _ => Some(false),
    };
    let name = rename(settings, "scope");
    if sends != Some(true) {
        fields.refuse(name, &format!("grants.{kind} does not send scopes"))?;
        return Ok(None);
    }
    let scope = fields.take(name);
    if let Some(scope) = &scope {
        fake.check_scope(scope).map_err(Refusal::request)?;
    }
    Ok(scope)
}

/// Takes the grant's own parameters.
pub(crate) fn ask(
    fake: &Fake,
    kind: GrantKind,
    fields: &mut Fields,
    url: &Url,
    client_id: &str,
) -> Result<Ask, Refusal> {
    let settings = fake.settings(kind);
    let name = |standard: &'static str| rename(&settings, standard).to_owned();
    let grants = &fake.descriptor().grants;
    match kind {
        GrantKind::AuthorizationCode | GrantKind::LegacyCredentials => {
            let checks_redirect = kind == GrantKind::LegacyCredentials
                || grants
                    .authorization_code
                    .as_ref()
                    .is_none_or(|g| g.send_redirect_uri);
            let code = fields.require(&name("code"), "the authorization code")?;
            let redirect_uri = if checks_redirect {
                fields.take(&name("redirect_uri"))
            } else {
                let why = "grants.authorization_code.send_redirect_uri is false";
                fields.refuse(&name("redirect_uri"), why)?;
                None
            };
            let verifier = fields.take(&name("code_verifier"));
            Ok(Ask::Code {
                code,
                redirect_uri,
                verifier,
                checks_redirect,
            })
        }
        GrantKind::RefreshToken => Ok(Ask::Refresh {
            token: fields.require(&name("refresh_token"), "the refresh token")?,
            rotates: grants.refresh_token.as_ref().is_some_and(|g| g.rotates),
        }),
        GrantKind::ClientCredentials => {
            let redirect = grants
                .client_credentials
                .as_ref()
                .and_then(|g| g.redirect_uri.as_deref());
            if let Some(template) = redirect {
                let value = fake.plain(template, client_id)?;
                let why = "grants.client_credentials.redirect_uri";
                fields.expect(&name("redirect_uri"), &value, why)?;
            }
            Ok(Ask::Client {
                scope: scope(fake, kind, &settings, fields)?,
            })
        }
        GrantKind::DeviceCode => Ok(Ask::Device {
            device_code: fields.require(&name("device_code"), "the device code")?,
        }),
        GrantKind::JwtBearer => {
            let assertion = fields.require(&name("assertion"), "the JWT-bearer assertion")?;
            fake.check_bearer_assertion(&assertion, url, client_id)?;
            Ok(Ask::Jwt {
                scope: scope(fake, kind, &settings, fields)?,
            })
        }
        GrantKind::TokenExchange => {
            let Some(grant) = &grants.token_exchange else {
                return Err(Refusal::other(
                    "unsupported_grant_type",
                    "no token exchange",
                ));
            };
            let subject_name = rename(&settings, &grant.subject_token_param).to_owned();
            let subject = fields.require(&subject_name, "grants.token_exchange")?;
            let type_name = name("subject_token_type");
            match &grant.subject_token_type {
                Some(value) => fields.expect(&type_name, value, "subject_token_type")?,
                None => fields.refuse(&type_name, "subject_token_type is null")?,
            }
            Ok(Ask::Exchange { subject })
        }
    }
}

/// Redeems what was asked: codes and rotating refresh tokens are used up here.
pub(crate) fn redeem(
    fake: &Fake,
    kind: GrantKind,
    client_id: String,
    ask: Ask,
) -> Result<Grant, Refusal> {
    match ask {
        Ask::Code {
            code,
            redirect_uri,
            verifier,
            checks_redirect,
        } => {
            let Some(grant) = fake.store.take_code(&code) else {
                return Err(Refusal::grant(
                    "authorization code is unknown, expired or already used",
                ));
            };
            if grant.client_id != client_id {
                return Err(Refusal::grant(
                    "authorization code was issued to another client",
                ));
            }
            if checks_redirect && grant.redirect_uri.is_some() {
                match redirect_uri {
                    None => {
                        return Err(Refusal::request(
                            "missing parameter `redirect_uri`: the authorization request had \
                             one (RFC 6749 §4.1.3)",
                        ));
                    }
                    Some(uri) if Some(&uri) != grant.redirect_uri.as_ref() => {
                        return Err(Refusal::grant(
                            "redirect_uri does not match the authorization request",
                        ));
                    }
                    Some(_) => {}
                }
            }
            check_verifier(grant.challenge.as_deref(), verifier.as_deref())?;
            let mut earned = earned(kind, client_id, grant.scope);
            earned.nonce = grant.nonce;
            Ok(earned)
        }
        Ask::Refresh { token, rotates } => match fake.store.refresh(&token, rotates) {
            Some(issued) if issued.client_id == client_id => {
                Ok(earned(kind, client_id, issued.scope))
            }
            Some(_) => Err(Refusal::grant("refresh token was issued to another client")),
            None if rotates => Err(Refusal::grant(
                "refresh token is unknown or already used (this vendor rotates refresh tokens)",
            )),
            None => Err(Refusal::grant("refresh token is unknown")),
        },
        Ask::Client { scope } | Ask::Jwt { scope } => Ok(earned(kind, client_id, scope)),
        Ask::Device { device_code } => match fake.store.poll_device(&device_code, &client_id) {
            Poll::Approved(device) => Ok(earned(kind, client_id, device.scope)),
            Poll::Pending => Err(Refusal::other(
                "authorization_pending",
                "the user has not answered yet (RFC 8628 §3.5)",
            )),
            Poll::OtherClient => Err(Refusal::grant("device code was issued to another client")),
            Poll::Unknown => Err(Refusal::other(
                "expired_token",
                "device code is unknown, expired or already used",
            )),
        },
        Ask::Exchange { subject } => match fake.store.access(&subject) {
            Some(issued) => Ok(earned(kind, client_id, issued.scope)),
            None => Err(Refusal::grant(
                "the subject token is not an access token this sandbox issued, or it expired",
            )),
        },
    }
}

/// RFC 7636 §4.6: a code bound to a challenge needs its S256 verifier; a code without one takes
/// none.
fn check_verifier(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), Refusal> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Refusal::grant(
            "code_verifier sent but the authorization request had no code_challenge",
        )),
        (Some(_), None) => Err(Refusal::grant("missing code_verifier (PKCE)")),
        (Some(challenge), Some(verifier)) => {
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                Ok(())
            } else {
                Err(Refusal::grant(
                    "code_verifier does not match the code_challenge (S256)",
                ))
            }
        }
    }
}

/// Answers a device authorization: codes, `verification_uri` on the vendor's host, interval 1.
pub(crate) fn start_device(
    fake: &Fake,
    shared: &State,
    url: &Url,
    client_id: String,
    scope: Option<String>,
) -> Response {
    let device_code = random_token(40);
    let user_code = format!("{}-{}", random_token(4), random_token(4)).to_ascii_uppercase();
    fake.store.add_device(
        &device_code,
        Device {
            client_id,
            scope,
            pending: shared.config.device_pending_polls,
            expires: Instant::now() + Duration::from_secs(DEVICE_LIFETIME),
        },
    );
    let mut verification = url.clone();
    verification.set_path("/device");
    verification.set_query(None);
    wire::json(
        StatusCode::OK,
        &serde_json::json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification.as_str(),
            "expires_in": DEVICE_LIFETIME,
            "interval": 1,
        }),
    )
}

impl Fake {
    /// A scope list written with the descriptor's separator: no empty item, and no other
    /// common separator inside an item.
    pub(crate) fn check_scope(&self, scope: &str) -> Result<(), String> {
        let separator = self.descriptor().scopes.separator.as_str();
        let others = [" ", ",", ";", "+"];
        for item in scope.split(separator) {
            if item.is_empty() {
                return Err(format!(
                    "scope `{scope}` has an empty item (scopes.separator is `{separator}`)"
                ));
            }
            if let Some(other) = others
                .iter()
                .find(|o| **o != separator && item.contains(**o))
            {
                return Err(format!(
                    "scope `{scope}` is joined with `{other}`; this vendor's scopes.separator is \
                     `{separator}`"
                ));
            }
        }
        Ok(())
    }

    /// The descriptor's issuer, rendered.
    pub(crate) fn issuer(&self) -> Option<String> {
        let issuer = self.descriptor().issuer.as_deref()?;
        render(issuer, &self.values.all, Escape::Url).ok()
    }

    /// RFC 7523 §3 on a JWT-bearer assertion: the algorithm the descriptor names, its claims
    /// (templates rendered; `{subject}` and `{scope}` only present), `iat`, `exp` within the
    /// lifetime, `jti`. The signature is not checked (no public key).
    fn check_bearer_assertion(
        &self,
        assertion: &str,
        url: &Url,
        client_id: &str,
    ) -> Result<(), Refusal> {
        let Some(grant) = &self.descriptor().grants.jwt_bearer else {
            return Err(Refusal::other(
                "unsupported_grant_type",
                "no JWT-bearer grant",
            ));
        };
        let bad = |why: String| Refusal::grant(format!("assertion: {why}"));
        let jwt = Jwt::decode(assertion).map_err(&bad)?;
        let alg = match grant.algorithm {
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::ES256 => "ES256",
        };
        if jwt.alg() != alg {
            return Err(bad(format!(
                "must be signed with {alg} (grants.jwt_bearer.algorithm), not `{}`",
                jwt.alg()
            )));
        }
        let mut values = self.values.with_client_id(client_id);
        let mut endpoint = url.clone();
        endpoint.set_query(None);
        values.insert("token_endpoint".into(), endpoint.to_string());
        for (name, template) in &grant.claims {
            let got = jwt.text(name);
            let free = template.contains("{subject}") || template.contains("{scope}");
            if free {
                if template.contains("{subject}") && got.is_none_or(str::is_empty) {
                    return Err(bad(format!("claim `{name}` is missing")));
                }
                continue;
            }
            let want = render(template, &values, Escape::Plain).map_err(bad)?;
            if want.is_empty() && got.is_none() {
                continue;
            }
            if got != Some(want.as_str()) {
                return Err(bad(format!(
                    "claim `{name}` must be `{want}` (grants.jwt_bearer.claims)"
                )));
            }
        }
        let now = now_unix();
        let (Some(iat), Some(exp)) = (jwt.number("iat"), jwt.number("exp")) else {
            return Err(bad("`iat` and `exp` are required".into()));
        };
        if exp <= now || exp.saturating_sub(iat) > grant.lifetime_seconds + 60 {
            return Err(bad(format!(
                "`exp` is past or beyond the lifetime of {} s",
                grant.lifetime_seconds
            )));
        }
        if jwt.text("jti").is_none_or(str::is_empty) {
            return Err(bad("`jti` is missing".into()));
        }
        Ok(())
    }
}
