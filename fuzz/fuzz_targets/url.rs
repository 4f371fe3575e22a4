//! Properties of URL handling: a rewrite's result is always on the target's origin, an API path
//! joined to a base stays on the base's origin (and keeps its user info), and a URL as messages
//! show it is the URL without user info, query or fragment.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oauth_clients_core::fuzzing::{display_url, join, rewrite};
use url::Url;

/// A URL: any text, or one built from parts (which parses far more often).
#[derive(Debug, Arbitrary)]
enum Side<'a> {
    Raw(&'a str),
    Built {
        scheme: Scheme<'a>,
        user: Option<&'a str>,
        host: Host<'a>,
        port: Option<u16>,
        path: &'a str,
        query: Option<&'a str>,
    },
}

#[derive(Debug, Arbitrary)]
enum Scheme<'a> {
    Http,
    Https,
    Other(&'a str),
}

#[derive(Debug, Arbitrary)]
enum Host<'a> {
    Vendor,
    VendorEvil,
    Loopback,
    Localhost,
    Ipv6Loopback,
    Other(&'a str),
}

impl Side<'_> {
    fn text(&self) -> String {
        match self {
            Side::Raw(text) => (*text).to_owned(),
            Side::Built {
                scheme,
                user,
                host,
                port,
                path,
                query,
            } => {
                let scheme = match scheme {
                    Scheme::Http => "http",
                    Scheme::Https => "https",
                    Scheme::Other(s) => s,
                };
                let host = match host {
                    Host::Vendor => "api.vendor.example",
                    Host::VendorEvil => "api.vendor.example.evil",
                    Host::Loopback => "127.0.0.1",
                    Host::Localhost => "localhost",
                    Host::Ipv6Loopback => "[::1]",
                    Host::Other(h) => h,
                };
                let user = user.map(|u| format!("{u}@")).unwrap_or_default();
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                let query = query.map(|q| format!("?{q}")).unwrap_or_default();
                format!("{scheme}://{user}{host}{port}{path}{query}")
            }
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    from: Side<'a>,
    to: Side<'a>,
    url: Side<'a>,
    base: Side<'a>,
    path: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    let (from, to) = (input.from.text(), input.to.text());
    if let Ok(url) = Url::parse(&input.url.text())
        && let Some(out) = rewrite(&from, &to, &url)
    {
        let to = Url::parse(&to).expect("an accepted target parses");
        let from = Url::parse(&from).expect("an accepted prefix parses");
        assert_eq!(out.origin(), to.origin(), "{url} -> {out}");
        assert!(out.origin().is_tuple(), "{out}");
        assert_eq!(url.origin(), from.origin(), "{url} matched {from}");
        assert_eq!(out.query(), url.query(), "{url} -> {out}");
        assert!(
            out.username().is_empty() && out.password().is_none(),
            "{url} -> {out}"
        );
    }
    if let Ok(url) = Url::parse(&input.url.text()) {
        let shown = display_url(&url);
        // The plain way, which `display_url` replaces with slices of the serialization.
        let mut reference = url.clone();
        reference.set_query(None);
        reference.set_fragment(None);
        let _ = reference.set_username("");
        let _ = reference.set_password(None);
        assert_eq!(shown, reference.as_str(), "{url}");
    }
    if let Ok(base) = Url::parse(&input.base.text())
        && let Ok(out) = join(&base, input.path)
    {
        assert_eq!(
            out.origin(),
            base.origin(),
            "{base} + {:?} -> {out}",
            input.path
        );
        assert!(out.origin().is_tuple(), "{out}");
        assert_eq!(out.username(), base.username(), "{base} -> {out}");
        assert_eq!(out.password(), base.password(), "{base} -> {out}");
        // A relative path (the fast way's domain) gives what `Url::join` gives.
        if !input.path.starts_with('/') {
            assert_eq!(
                Some(&out),
                base.join(input.path).ok().as_ref(),
                "{base} + {:?}",
                input.path
            );
        }
    }
});
