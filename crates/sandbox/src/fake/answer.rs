//! Token answers and errors in the vendor's shape (`token_response`).
//!
//! - the token object: `access_token`, `token_type` (the first of `token_types`, else `Bearer`),
//!   `scope` when one was asked for, a `refresh_token` when the descriptor has the refresh grant
//!   (for codes, device codes and rotating refreshes);
//! - its expiry: none when `never_expires` or `default_expires_in` (the vendor sends none);
//!   `expires_at_field` in `expires_at_format` when set; else `expires_in_field` (or
//!   `expires_in`) in `expires_in_unit`; the refresh token's lifetime in
//!   `refresh_expires_in_field` when set;
//! - nested under `token_path`; `additional_tokens` and the values captured with
//!   `from: token_response.<path>` at their paths of the answer; `success_field: true`;
//! - errors: RFC 6749 §5.2 objects (`invalid_client` with 401, others 400); with a
//!   `success_field`, HTTP 200 with the field `false` beside `error` and `error_description`.

use axum::http::StatusCode;
use axum::response::Response;
use oauth_clients_descriptor::GrantKind;
use oauth_clients_descriptor::schema::{Capture, ExpiresAtFormat, ExpiresInUnit};
use serde_json::{Map, Value};

use super::store::Issued;
use super::{Fake, Refusal};
use crate::state::{State, now_unix, random_token};
use crate::wire;

/// Default access token lifetime, in seconds.
const LIFETIME: u64 = 3600;

/// Refresh tokens' lifetime, in seconds (announced in `refresh_expires_in_field`).
const REFRESH_LIFETIME: u64 = 30 * 24 * 3600;

/// What a grant earned.
pub(crate) struct Grant {
    pub kind: GrantKind,
    pub client_id: String,
    pub scope: Option<String>,
    /// The OpenID Connect nonce of the authorize request (codes only).
    pub nonce: Option<String>,
}

impl Fake {
    /// An error in the vendor's shape.
    pub(crate) fn refuse(&self, refusal: Refusal) -> Response {
        match &self.descriptor().token_response.success_field {
            Some(field) => {
                let mut object = Map::new();
                object.insert(field.clone(), Value::Bool(false));
                object.insert("error".into(), refusal.code.into());
                object.insert("error_description".into(), refusal.description.into());
                wire::json(StatusCode::OK, &Value::Object(object))
            }
            None => wire::oauth_error(refusal.code, refusal.description),
        }
    }

    /// Issues tokens for a grant and answers in the vendor's shape.
    pub(crate) fn answer(&self, shared: &State, grant: Grant) -> Response {
        let quirks = &self.descriptor().token_response;
        let mut token = self.token_object(shared, &grant);
        if self.issues_refresh_token(grant.kind) {
            let refresh = random_token(40);
            self.store.add_refresh(
                &refresh,
                Issued {
                    client_id: grant.client_id.clone(),
                    scope: grant.scope.clone(),
                    expires_at: None,
                },
            );
            token.insert("refresh_token".into(), refresh.into());
            if let Some(field) = &quirks.refresh_expires_in_field {
                token.insert(field.clone(), REFRESH_LIFETIME.into());
            }
        }
        if let Some(id_token) = self.id_token(shared, &grant) {
            token.insert("id_token".into(), id_token.into());
        }
        let mut answer = Value::Object(token);
        for key in quirks.token_path.iter().rev() {
            let mut outer = Map::new();
            outer.insert(key.clone(), answer);
            answer = Value::Object(outer);
        }
        for path in quirks.additional_tokens.values() {
            let extra = Value::Object(self.token_object(shared, &grant));
            set_at(&mut answer, path.iter().map(String::as_str), extra);
        }
        for (name, variable) in &self.descriptor().variables {
            if let (Some(Capture::TokenResponse(path)), Some(value)) =
                (variable.capture(), self.values.captured.get(name))
            {
                set_at(&mut answer, path.into_iter(), value.clone().into());
            }
        }
        if let (Some(field), Value::Object(object)) = (&quirks.success_field, &mut answer) {
            object.insert(field.clone(), Value::Bool(true));
        }
        wire::json(StatusCode::OK, &answer)
    }

    /// An OpenID Connect ID token, when a user's grant asked for `openid`: HS256 with the
    /// client secret (OpenID Connect Core §10.1; the sandbox has no key pair), for the
    /// descriptor's issuer, this client, and the authorize request's nonce.
    fn id_token(&self, shared: &State, grant: &Grant) -> Option<String> {
        if !matches!(
            grant.kind,
            GrantKind::AuthorizationCode | GrantKind::DeviceCode
        ) {
            return None;
        }
        let separator = &self.descriptor().scopes.separator;
        let openid = grant
            .scope
            .as_deref()
            .is_some_and(|scope| scope.split(separator.as_str()).any(|s| s == "openid"));
        if !openid {
            return None;
        }
        let now = now_unix();
        let mut claims = Map::new();
        if let Some(issuer) = self.issuer() {
            claims.insert("iss".into(), issuer.into());
        }
        claims.insert("sub".into(), "sandbox-user".into());
        claims.insert("aud".into(), grant.client_id.clone().into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), now.saturating_add(LIFETIME).into());
        if let Some(nonce) = &grant.nonce {
            claims.insert("nonce".into(), nonce.clone().into());
        }
        Some(super::jwt::hs256_sign(
            shared.config.client_secret.as_bytes(),
            &claims,
        ))
    }

    /// Refresh tokens come with codes and device codes, and with rotating refreshes.
    fn issues_refresh_token(&self, kind: GrantKind) -> bool {
        let Some(refresh) = &self.descriptor().grants.refresh_token else {
            return false;
        };
        match kind {
            GrantKind::AuthorizationCode | GrantKind::LegacyCredentials | GrantKind::DeviceCode => {
                true
            }
            GrantKind::RefreshToken => refresh.rotates,
            _ => false,
        }
    }

    /// A fresh access token as the vendor writes it, remembered for API calls.
    fn token_object(&self, shared: &State, grant: &Grant) -> Map<String, Value> {
        let quirks = &self.descriptor().token_response;
        let lifetime = shared
            .config
            .token_lifetime_seconds
            .or(quirks.default_expires_in)
            .unwrap_or(LIFETIME);
        let now = now_unix();
        let access = random_token(40);
        self.store.add_access(
            &access,
            Issued {
                client_id: grant.client_id.clone(),
                scope: grant.scope.clone(),
                expires_at: (!quirks.never_expires).then_some(now.saturating_add(lifetime)),
            },
        );
        let mut token = Map::new();
        token.insert("access_token".into(), access.into());
        let token_type = quirks.token_types.first().map_or("Bearer", String::as_str);
        token.insert("token_type".into(), token_type.into());
        if !quirks.never_expires && quirks.default_expires_in.is_none() {
            match &quirks.expires_at_field {
                Some(field) => {
                    let at = now.saturating_add(lifetime);
                    let value: Value = match quirks.expires_at_format {
                        ExpiresAtFormat::UnixSeconds => at.into(),
                        ExpiresAtFormat::UnixMillis => at.saturating_mul(1000).into(),
                        ExpiresAtFormat::Rfc3339 => rfc3339(at).into(),
                    };
                    token.insert(field.clone(), value);
                }
                None => {
                    let field = quirks.expires_in_field.as_deref().unwrap_or("expires_in");
                    let value = match quirks.expires_in_unit {
                        ExpiresInUnit::Seconds => lifetime,
                        ExpiresInUnit::Milliseconds => lifetime.saturating_mul(1000),
                    };
                    token.insert(field.into(), value.into());
                }
            }
        }
        if let Some(scope) = &grant.scope {
            token.insert("scope".into(), scope.clone().into());
        }
        token
    }
}

/// Puts `value` at the keys `path` of `answer`, creating objects on the way.
fn set_at<'a>(answer: &mut Value, path: impl Iterator<Item = &'a str>, value: Value) {
    let keys: Vec<&str> = path.collect();
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut node = answer;
    for key in parents {
        let Value::Object(object) = node else {
            return;
        };
        node = object
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Value::Object(object) = node {
        object.insert((*last).to_owned(), value);
    }
}

/// Unix seconds as an RFC 3339 UTC date and time (`2024-01-31T12:00:00Z`).
pub(crate) fn rfc3339(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (non-negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_706_702_400), "2024-01-31T12:00:00Z");
    }

    #[test]
    fn values_go_at_nested_paths() {
        let mut answer = json!({"a": 1});
        set_at(&mut answer, ["x", "y"].into_iter(), json!("v"));
        assert_eq!(answer, json!({"a": 1, "x": {"y": "v"}}));
    }
}
