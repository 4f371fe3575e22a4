//! `Callback::from_query` never panics on any text; its `Debug` never shows the code (nor the
//! state); the first value of each parameter is the one kept.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oauth_clients_core::secrecy::ExposeSecret as _;
use oauth_clients_core::{AuthorizationCode, Callback};

#[derive(Debug, Arbitrary)]
enum Name<'a> {
    Code,
    State,
    Error,
    ErrorDescription,
    ErrorUri,
    Iss,
    Other(&'a str),
}

impl Name<'_> {
    fn as_str(&self) -> &str {
        match self {
            Name::Code => "code",
            Name::State => "state",
            Name::Error => "error",
            Name::ErrorDescription => "error_description",
            Name::ErrorUri => "error_uri",
            Name::Iss => "iss",
            Name::Other(name) => name,
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Input<'a> {
    /// Any text as the query.
    Raw(&'a str),
    /// A well-formed query of these parameters, in order.
    Params {
        question_mark: bool,
        params: Vec<(Name<'a>, &'a str)>,
    },
}

fn check(cb: &Callback) {
    let shown = format!("{cb:?}");
    // The code's and the state's values make no difference to what `Debug` shows.
    let mut other = cb.clone();
    other.code = cb
        .code
        .as_ref()
        .map(|_| AuthorizationCode::new("a different code"));
    other.state = cb.state.as_ref().map(|_| "a different state".to_owned());
    assert_eq!(
        shown,
        format!("{other:?}"),
        "Debug depends on the code or state"
    );
    if let Some(code) = &cb.code {
        assert!(shown.contains("[redacted]"), "{shown}");
        assert_eq!(cb.has_code(), !code.expose_secret().is_empty());
    } else {
        assert!(!cb.has_code());
    }
}

fuzz_target!(|input: Input<'_>| {
    match input {
        Input::Raw(query) => check(&Callback::from_query(query)),
        Input::Params {
            question_mark,
            params,
        } => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in &params {
                query.append_pair(name.as_str(), value);
            }
            let mut query = query.finish();
            if question_mark {
                query.insert(0, '?');
            }
            let cb = Callback::from_query(&query);
            check(&cb);
            let first = |wanted: &str| {
                params
                    .iter()
                    .find(|(name, _)| name.as_str() == wanted)
                    .map(|(_, value)| value.to_string())
            };
            // The serializer escapes `?`, so only the leading one is trimmed; each parameter's
            // first value is the one kept.
            assert_eq!(
                cb.code.as_ref().map(|c| c.expose_secret().to_owned()),
                first("code")
            );
            assert_eq!(cb.state, first("state"));
            assert_eq!(cb.error, first("error"));
            assert_eq!(cb.error_description, first("error_description"));
            assert_eq!(cb.error_uri, first("error_uri"));
            assert_eq!(cb.iss, first("iss"));
        }
    }
});
