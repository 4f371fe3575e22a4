//! Header maps from a descriptor's header templates.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::Error;
use crate::vars::{Escape, Vars};

/// A header map from a descriptor's header templates, variables substituted.
pub(crate) fn header_map(
    vendor: &str,
    vars: &Vars,
    headers: &BTreeMap<String, String>,
    section: &str,
) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let used_by = format!("{section}.{name}");
        let value = vars.render_text(value, &used_by, Escape::Plain)?;
        insert_header(&mut map, name, &value).map_err(|what| {
            Error::config(vendor, format!("`{used_by}` is not a valid header {what}"))
        })?;
    }
    Ok(map)
}

/// Inserts a header; the error names what is invalid (`name` or `value`).
pub(crate) fn insert_header(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
) -> Result<(), &'static str> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| "name")?;
    let value = HeaderValue::from_str(value).map_err(|_| "value")?;
    headers.insert(name, value);
    Ok(())
}

/// Headers the engine and the HTTP client may add to a request after it is prepared: the
/// client authentication, the content type, and reqwest's `User-Agent` and `Accept`.
pub(crate) const ADDED_LATER: usize = 4;

/// A copy of `headers` with room for [`ADDED_LATER`] more: a clone has no spare room, and
/// each header added to it would grow the map again (an allocation per request).
pub(crate) fn copy_with_room(headers: &HeaderMap) -> HeaderMap {
    let mut copy = HeaderMap::with_capacity(headers.len() + ADDED_LATER);
    // `extend` appends: a name sent more than once keeps every value.
    copy.extend(
        headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    copy
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};

    #[test]
    fn a_copy_keeps_every_value_and_has_room_for_the_headers_added_later() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.append("x-tag", HeaderValue::from_static("one"));
        headers.append("x-tag", HeaderValue::from_static("two"));
        let mut copy = copy_with_room(&headers);
        assert_eq!(copy, headers);
        let tags: Vec<_> = copy.get_all("x-tag").iter().collect();
        assert_eq!(tags, ["one", "two"]);
        let room = copy.capacity();
        for name in [AUTHORIZATION, CONTENT_TYPE, USER_AGENT] {
            copy.insert(name, HeaderValue::from_static("v"));
        }
        copy.insert("x-fourth", HeaderValue::from_static("v"));
        assert_eq!(
            copy.capacity(),
            room,
            "adding the later headers grew the map"
        );
    }
}
