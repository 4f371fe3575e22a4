//! Descriptors from an authorization server's metadata (RFC 8414, OpenID Connect Discovery 1.0):
//! the quick way to describe a standards-compliant vendor. Fetching the metadata is the
//! runtime's job; this module only reads it.

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use crate::schema::{
    AuthorizationCodeGrant, ClientAuth, ClientAuthMethods, ClientCredentialsGrant, Descriptor,
    DeviceCodeGrant, Pkce, RefreshTokenGrant, TokenExchangeGrant,
};

/// The members of an authorization server's metadata that a descriptor uses. Unknown members
/// are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ServerMetadata {
    /// The issuer identifier; must equal the issuer the metadata was fetched for.
    pub issuer: String,
    /// `authorization_endpoint`.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// `token_endpoint`.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// `revocation_endpoint` (RFC 7009).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// `introspection_endpoint` (RFC 7662).
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    /// `device_authorization_endpoint` (RFC 8628).
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// `userinfo_endpoint` (OpenID Connect).
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// `jwks_uri`.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// `grant_types_supported`; RFC 8414 §2's default when absent.
    #[serde(default)]
    pub grant_types_supported: Option<Vec<String>>,
    /// `token_endpoint_auth_methods_supported`; `client_secret_basic` when absent.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `code_challenge_methods_supported` (RFC 7636); no PKCE when absent.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// `scopes_supported`.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// Where an issuer's metadata may be found, most specific first: OpenID Connect Discovery's
/// `<issuer>/.well-known/openid-configuration`, then RFC 8414's
/// `<origin>/.well-known/oauth-authorization-server<path>` (and, for an issuer with a path,
/// the OpenID form with the well-known part inserted, which some servers use).
pub fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut urls = Vec::new();
    let mut at = |path: String| {
        let mut url = issuer.clone();
        url.set_path(&path);
        url.set_query(None);
        url.set_fragment(None);
        if !urls.contains(&url) {
            urls.push(url);
        }
    };
    at(format!("{path}/.well-known/openid-configuration"));
    at(format!("/.well-known/oauth-authorization-server{path}"));
    at(format!("/.well-known/openid-configuration{path}"));
    urls
}

/// How client authentication methods are preferred when a server offers several (its list is
/// not an order of preference).
const AUTH_PREFERENCE: [ClientAuth; 5] = [
    ClientAuth::ClientSecretBasic,
    ClientAuth::ClientSecretPost,
    ClientAuth::PrivateKeyJwt,
    ClientAuth::ClientSecretJwt,
    ClientAuth::None,
];

/// A descriptor for the server that `metadata` describes, with id `id`. Checks nothing about
/// the URLs: validate the result with [`crate::Provider::from_descriptor`].
///
/// Grants come from `grant_types_supported` (the authorization code grant only with an
/// authorization endpoint, the device grant only with a device authorization endpoint); PKCE
/// is `supported` when the server lists S256; the scopes default to `openid` when the server
/// is an OpenID provider.
pub fn descriptor_from_metadata(metadata: &ServerMetadata, id: &str) -> Result<Descriptor, String> {
    let token = metadata
        .token_endpoint
        .clone()
        .ok_or("the metadata has no `token_endpoint`")?;
    let name = Url::parse(&metadata.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| metadata.issuer.clone());
    let mut descriptor = Descriptor::new(id, name, token);
    descriptor.issuer = Some(metadata.issuer.clone());
    descriptor.authorization_response_iss = metadata.authorization_response_iss_parameter_supported;
    descriptor.description = Some(format!(
        "Described from the metadata of the authorization server `{}`.",
        metadata.issuer
    ));
    let endpoints = &mut descriptor.endpoints;
    endpoints.authorization = metadata.authorization_endpoint.clone();
    endpoints.revocation = metadata.revocation_endpoint.clone();
    endpoints.introspection = metadata.introspection_endpoint.clone();
    endpoints.device_authorization = metadata.device_authorization_endpoint.clone();
    endpoints.userinfo = metadata.userinfo_endpoint.clone();
    endpoints.jwks = metadata.jwks_uri.clone();
    let supported = metadata
        .grant_types_supported
        .clone()
        .unwrap_or_else(|| vec!["authorization_code".into(), "implicit".into()]);
    let has = |grant: &str| supported.iter().any(|g| g == grant);
    let grants = &mut descriptor.grants;
    if has("authorization_code") && metadata.authorization_endpoint.is_some() {
        let mut grant = AuthorizationCodeGrant::default();
        let s256 = metadata
            .code_challenge_methods_supported
            .iter()
            .flatten()
            .any(|m| m == "S256");
        grant.pkce = if s256 {
            Pkce::Supported
        } else {
            Pkce::Unsupported
        };
        grants.authorization_code = Some(grant);
    }
    if has("refresh_token") {
        grants.refresh_token = Some(RefreshTokenGrant::default());
    }
    if has("client_credentials") {
        grants.client_credentials = Some(ClientCredentialsGrant::default());
    }
    if has("urn:ietf:params:oauth:grant-type:device_code")
        && metadata.device_authorization_endpoint.is_some()
    {
        grants.device_code = Some(DeviceCodeGrant::default());
    }
    if has("urn:ietf:params:oauth:grant-type:token-exchange") {
        grants.token_exchange = Some(TokenExchangeGrant::default());
    }
    if grants.kinds().is_empty() {
        return Err(format!(
            "the server offers none of the grants a descriptor can describe (it lists: {})",
            supported.join(", ")
        ));
    }
    descriptor.client_auth = client_auth(metadata)?;
    if metadata
        .scopes_supported
        .iter()
        .flatten()
        .any(|s| s == "openid")
    {
        descriptor.scopes.default = vec!["openid".into()];
    }
    Ok(descriptor)
}

fn client_auth(metadata: &ServerMetadata) -> Result<ClientAuthMethods, String> {
    let listed = metadata
        .token_endpoint_auth_methods_supported
        .clone()
        .unwrap_or_else(|| vec!["client_secret_basic".into()]);
    let methods: Vec<ClientAuth> = AUTH_PREFERENCE
        .into_iter()
        .filter(|method| listed.iter().any(|m| m == method.as_str()))
        .collect();
    match methods.as_slice() {
        [] => Err(format!(
            "the server offers no client authentication method a descriptor can describe (it \
             lists: {})",
            listed.join(", ")
        )),
        [one] => Ok(ClientAuthMethods::One(*one)),
        _ => Ok(ClientAuthMethods::List(methods)),
    }
}

/// A descriptor id made from an issuer's host: lowercase letters, digits and `_`.
pub fn id_from_issuer(issuer: &Url) -> String {
    let host = issuer.host_str().unwrap_or("issuer");
    let mut id: String = host
        .trim_start_matches("www.")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id.insert_str(0, "issuer_");
    }
    id
}

#[cfg(feature = "yaml")]
/// A descriptor file for review: a heading that names where it came from and what the server
/// listed, then the descriptor as YAML. Validate it again after editing.
pub fn imported_yaml(
    descriptor: &Descriptor,
    metadata: &ServerMetadata,
    metadata_url: &str,
) -> Result<String, String> {
    let body = serde_yaml::to_string(descriptor).map_err(|err| err.to_string())?;
    let mut text = String::from("# yaml-language-server: $schema=./descriptor.schema.json\n");
    text.push_str("# Sources:\n");
    text.push_str(&format!("#   discovery: {metadata_url}\n"));
    text.push_str(
        "#   imported by `cargo xtask import`; review before use: the vendor's documentation,\n\
         #   name and description, scopes, api_base and any quirk the metadata cannot tell.\n",
    );
    for (what, listed) in review_notes(metadata) {
        text.push_str(&format!("#   {what}: {listed}\n"));
    }
    text.push_str(&body);
    Ok(text)
}

/// Unused members are kept out of the descriptor; this names the ones a reviewer may want to
/// look at, for the comment heading an imported descriptor.
pub fn review_notes(metadata: &ServerMetadata) -> BTreeMap<&'static str, String> {
    let mut notes = BTreeMap::new();
    if let Some(listed) = &metadata.token_endpoint_auth_methods_supported {
        notes.insert("client authentication listed", listed.join(", "));
    }
    if let Some(grants) = &metadata.grant_types_supported {
        notes.insert("grants listed", grants.join(", "));
    }
    if let Some(scopes) = &metadata.scopes_supported {
        notes.insert("scopes listed", scopes.join(" "));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(json: &str) -> ServerMetadata {
        serde_json::from_str(json).expect("metadata")
    }

    #[test]
    fn well_known_urls_for_issuers_with_and_without_a_path() {
        let plain = metadata_urls(&Url::parse("https://as.example.com").unwrap());
        assert_eq!(
            plain.iter().map(Url::as_str).collect::<Vec<_>>(),
            [
                "https://as.example.com/.well-known/openid-configuration",
                "https://as.example.com/.well-known/oauth-authorization-server",
            ]
        );
        let tenant = metadata_urls(&Url::parse("https://as.example.com/tenant/1").unwrap());
        assert_eq!(
            tenant.iter().map(Url::as_str).collect::<Vec<_>>(),
            [
                "https://as.example.com/tenant/1/.well-known/openid-configuration",
                "https://as.example.com/.well-known/oauth-authorization-server/tenant/1",
                "https://as.example.com/.well-known/openid-configuration/tenant/1",
            ]
        );
    }

    #[test]
    fn a_full_openid_provider() {
        let m = metadata(
            r#"{"issuer":"https://id.example.com","authorization_endpoint":"https://id.example.com/auth",
            "token_endpoint":"https://id.example.com/token","jwks_uri":"https://id.example.com/jwks",
            "revocation_endpoint":"https://id.example.com/revoke",
            "device_authorization_endpoint":"https://id.example.com/device",
            "grant_types_supported":["authorization_code","refresh_token","client_credentials",
              "urn:ietf:params:oauth:grant-type:device_code","implicit"],
            "token_endpoint_auth_methods_supported":["none","private_key_jwt","client_secret_post","client_secret_basic"],
            "code_challenge_methods_supported":["S256"],"scopes_supported":["openid","email"],
            "authorization_response_iss_parameter_supported":true,"claims_supported":["sub"]}"#,
        );
        let d = descriptor_from_metadata(&m, "example_id").unwrap();
        assert_eq!(d.issuer.as_deref(), Some("https://id.example.com"));
        assert!(d.authorization_response_iss);
        assert_eq!(
            d.grants
                .kinds()
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>(),
            [
                "client_credentials",
                "authorization_code",
                "refresh_token",
                "device_code"
            ]
        );
        assert_eq!(
            d.grants.authorization_code.as_ref().unwrap().pkce,
            Pkce::Supported
        );
        assert_eq!(
            d.client_auth.methods(),
            [
                ClientAuth::ClientSecretBasic,
                ClientAuth::ClientSecretPost,
                ClientAuth::PrivateKeyJwt,
                ClientAuth::None
            ]
        );
        assert_eq!(d.scopes.default, ["openid"]);
        crate::Provider::from_descriptor(d, "metadata").expect("a valid descriptor");
    }

    #[test]
    fn defaults_of_rfc_8414_and_refusals() {
        let m = metadata(
            r#"{"issuer":"https://as.example.com","token_endpoint":"https://as.example.com/t",
            "authorization_endpoint":"https://as.example.com/a"}"#,
        );
        let d = descriptor_from_metadata(&m, "x").unwrap();
        assert_eq!(d.grants.kinds().len(), 1, "authorization_code only");
        assert_eq!(d.client_auth.methods(), [ClientAuth::ClientSecretBasic]);
        assert_eq!(
            d.grants.authorization_code.as_ref().unwrap().pkce,
            Pkce::Unsupported
        );
        let no_token = metadata(r#"{"issuer":"https://as.example.com"}"#);
        assert!(descriptor_from_metadata(&no_token, "x").is_err());
        let odd_auth = metadata(
            r#"{"issuer":"https://as.example.com","token_endpoint":"https://as.example.com/t",
            "grant_types_supported":["client_credentials"],
            "token_endpoint_auth_methods_supported":["tls_client_auth"]}"#,
        );
        let err = descriptor_from_metadata(&odd_auth, "x").unwrap_err();
        assert!(err.contains("tls_client_auth"), "{err}");
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn an_imported_file_reads_back_as_the_same_descriptor() {
        let m = metadata(
            r#"{"issuer":"https://as.example.com","token_endpoint":"https://as.example.com/t",
            "authorization_endpoint":"https://as.example.com/a","grant_types_supported":
            ["authorization_code","refresh_token"],"code_challenge_methods_supported":["S256"]}"#,
        );
        let d = descriptor_from_metadata(&m, "imported").unwrap();
        let yaml = imported_yaml(&d, &m, "https://as.example.com/.well-known/x").unwrap();
        assert!(yaml.starts_with("# yaml-language-server"));
        assert!(yaml.contains("#   discovery: https://as.example.com/.well-known/x"));
        let back = crate::Provider::from_yaml_str(&yaml, "imported.yaml").unwrap();
        assert_eq!(back.descriptor(), &d);
    }

    #[test]
    fn ids_from_hosts() {
        assert_eq!(
            id_from_issuer(&Url::parse("https://login.example-id.com/x").unwrap()),
            "login_example_id_com"
        );
        assert_eq!(
            id_from_issuer(&Url::parse("http://127.0.0.1:8080").unwrap()),
            "issuer_127_0_0_1"
        );
    }
}
