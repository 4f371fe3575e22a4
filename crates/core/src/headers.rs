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
