//! Descriptors as Rust expressions, for the generator: a generated module builds its
//! descriptor from Rust data, so a user of the typed crate parses no YAML at run time.
//!
//! A struct is built from its `Default` and only the fields that differ from it are set, so
//! the generated code stays as short as the YAML it came from.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use crate::schema::*;

/// A value that can be written as a Rust expression building it.
pub trait ToRust {
    /// The expression. Paths are written from `oauth_clients_core::descriptor`.
    fn to_rust(&self) -> TokenStream;
}

impl ToRust for String {
    fn to_rust(&self) -> TokenStream {
        let text = self.as_str();
        quote! { #text.to_owned() }
    }
}

impl ToRust for bool {
    fn to_rust(&self) -> TokenStream {
        self.to_token_stream()
    }
}

impl ToRust for u64 {
    fn to_rust(&self) -> TokenStream {
        proc_macro2::Literal::u64_suffixed(*self).to_token_stream()
    }
}

impl<T: ToRust> ToRust for Option<T> {
    fn to_rust(&self) -> TokenStream {
        match self {
            Some(value) => {
                let value = value.to_rust();
                quote! { Some(#value) }
            }
            None => quote! { None },
        }
    }
}

impl<T: ToRust> ToRust for Vec<T> {
    fn to_rust(&self) -> TokenStream {
        let items = self.iter().map(ToRust::to_rust);
        quote! { vec![#(#items),*] }
    }
}

impl<T: ToRust> ToRust for BTreeMap<String, T> {
    fn to_rust(&self) -> TokenStream {
        let entries = self.iter().map(|(key, value)| {
            let value = value.to_rust();
            quote! { (#key.to_owned(), #value) }
        });
        quote! { ::std::collections::BTreeMap::from([#(#entries),*]) }
    }
}

/// `ToRust` for a fieldless enum, by variant.
macro_rules! enum_to_rust {
    ($name:ident { $($variant:ident),* $(,)? }) => {
        impl ToRust for $name {
            fn to_rust(&self) -> TokenStream {
                match self {
                    $($name::$variant => quote! {
                        oauth_clients_core::descriptor::$name::$variant
                    },)*
                }
            }
        }
    };
}

enum_to_rust!(Pkce {
    Unsupported,
    Supported,
    Required
});
enum_to_rust!(ClientAuth {
    ClientSecretBasic,
    ClientSecretPost,
    None,
    PrivateKeyJwt,
    ClientSecretJwt
});
enum_to_rust!(BodyEncoding {
    Form,
    Json,
    Multipart
});
enum_to_rust!(HttpMethod { Post, Get });
enum_to_rust!(ParamsIn { Body, Query });
enum_to_rust!(BasicAuthEncoding {
    FormUrlencoded,
    None
});
enum_to_rust!(ExpiresInUnit {
    Seconds,
    Milliseconds
});
enum_to_rust!(ExpiresAtFormat {
    UnixSeconds,
    UnixMillis,
    Rfc3339
});
enum_to_rust!(JwtAlgorithm { RS256, ES256 });

impl ToRust for ClientAuthMethods {
    fn to_rust(&self) -> TokenStream {
        match self {
            ClientAuthMethods::One(one) => {
                let one = one.to_rust();
                quote! { oauth_clients_core::descriptor::ClientAuthMethods::One(#one) }
            }
            ClientAuthMethods::List(list) => {
                let list = list.to_rust();
                quote! { oauth_clients_core::descriptor::ClientAuthMethods::List(#list) }
            }
        }
    }
}

/// `ToRust` for a struct: its `Default`, then every listed field that differs from it. Every
/// field must be listed (the generator's tests compare the generated data with the YAML).
macro_rules! struct_to_rust {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl ToRust for $name {
            fn to_rust(&self) -> TokenStream {
                let default = $name::default();
                let mut sets = Vec::new();
                $(
                    if self.$field != default.$field {
                        let value = self.$field.to_rust();
                        sets.push(quote! { value.$field = #value; });
                    }
                )*
                if sets.is_empty() {
                    return quote! { oauth_clients_core::descriptor::$name::default() };
                }
                quote! {
                    {
                        let mut value = oauth_clients_core::descriptor::$name::default();
                        #(#sets)*
                        value
                    }
                }
            }
        }
    };
}

/// The settings every grant shares, for `struct_to_rust!`.
macro_rules! grant_to_rust {
    ($name:ident { $($field:ident),* $(,)? }) => {
        struct_to_rust!($name {
            grant_type, send_grant_type, extra_params, deprecated, endpoint, client_auth,
            token_request, $($field),*
        });
    };
}

struct_to_rust!(Descriptor {
    id,
    name,
    docs_url,
    description,
    tags,
    issuer,
    authorization_response_iss,
    variables,
    environments,
    default_environment,
    endpoints,
    grants,
    client_auth,
    token_request,
    scopes,
    token_response,
    api,
    lifecycle,
});
struct_to_rust!(Variable {
    description,
    example,
    pattern,
    secret,
    default,
    from
});
struct_to_rust!(Environment {
    description,
    values
});
struct_to_rust!(Endpoints {
    authorization,
    token,
    refresh,
    revocation,
    introspection,
    device_authorization,
    userinfo,
    jwks,
    api_base,
    extra,
});
struct_to_rust!(Grants {
    client_credentials,
    authorization_code,
    refresh_token,
    legacy_credentials,
    device_code,
    jwt_bearer,
    token_exchange,
});
grant_to_rust!(ClientCredentialsGrant {
    send_scope,
    redirect_uri
});
grant_to_rust!(AuthorizationCodeGrant {
    pkce,
    default_redirect_uri,
    out_of_band,
    send_redirect_uri,
    send_scope,
    authorize_params,
    extra_authorize_params,
    callback_params,
    code_lifetime_seconds,
});
grant_to_rust!(RefreshTokenGrant { rotates });
grant_to_rust!(LegacyCredentialsGrant {
    credentials_endpoint,
    credentials_params,
    default_redirect_uri
});
grant_to_rust!(DeviceCodeGrant { send_scope });
grant_to_rust!(JwtBearerGrant {
    algorithm,
    lifetime_seconds,
    claims,
    send_scope
});
grant_to_rust!(TokenExchangeGrant {
    subject_token_param,
    subject_token_type
});
struct_to_rust!(AuthorizeParamNames {
    response_type,
    client_id,
    redirect_uri,
    scope,
    state
});
struct_to_rust!(CallbackParamNames { code, state });
struct_to_rust!(TokenRequest {
    encoding,
    method,
    params_in,
    headers,
    param_names,
    basic_auth_encoding,
    client_id_in_body,
    query_params,
});
struct_to_rust!(TokenRequestOverride {
    encoding,
    method,
    params_in,
    headers,
    param_names
});
struct_to_rust!(Scopes { separator, default });
struct_to_rust!(TokenResponseQuirks {
    default_expires_in,
    jwt_expiry,
    created_at,
    token_path,
    token_types,
    expires_in_field,
    expires_in_unit,
    expires_at_field,
    expires_at_format,
    never_expires,
    refresh_expires_in_field,
    success_field,
    additional_tokens,
});
struct_to_rust!(Api {
    headers,
    request_id_header,
    example_path,
    token_header,
    token_scheme,
    token_query_param,
});
struct_to_rust!(Lifecycle {
    expiry_margin_seconds,
    note
});
