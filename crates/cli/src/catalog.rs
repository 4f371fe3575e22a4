//! The vendors compiled into the binary (the `oauth-clients` crate's registry), and loading a
//! descriptor given on the command line.

use std::io::Read as _;
use std::path::Path;

use oauth_clients_core::{ClientOptions, Provider};
use oauth_clients_descriptor::MAX_DESCRIPTOR_BYTES;

use crate::failure::Failure;

/// Every compiled-in vendor (the generator's registry of `oauth_clients`), sorted by id.
pub(crate) fn builtin() -> Vec<Provider> {
    let mut providers: Vec<Provider> = oauth_clients::registry::all()
        .iter()
        .map(|entry| entry.provider())
        .collect();
    providers.sort_by(|a, b| a.id().cmp(b.id()));
    providers
}

/// The vendor a command names: a compiled-in id, a descriptor file, or an issuer whose metadata
/// describes it (RFC 8414, OpenID Connect Discovery). A vendor id given with a file or an
/// issuer must equal the id of the descriptor.
pub(crate) async fn resolve(
    vendor: Option<&str>,
    descriptor: Option<&Path>,
    issuer: Option<&str>,
    options: ClientOptions,
) -> Result<Provider, Failure> {
    let Some(issuer) = issuer else {
        return resolve_local(vendor, descriptor);
    };
    if descriptor.is_some() {
        return Err(Failure::usage(
            "give either --issuer or --descriptor, not both",
        ));
    }
    let found = oauth_clients_core::discover(issuer, vendor, options).await?;
    crate::output::note(&format!(
        "described from the metadata at {}",
        found.metadata_url
    ));
    Ok(found.provider)
}

/// [`resolve`] for a compiled-in id or a descriptor file.
pub(crate) fn resolve_local(
    vendor: Option<&str>,
    descriptor: Option<&Path>,
) -> Result<Provider, Failure> {
    if let Some(path) = descriptor {
        let origin = path.display().to_string();
        let yaml = read_capped(path)
            .map_err(|err| Failure::usage(format!("cannot read descriptor {origin}: {err}")))?;
        let provider = Provider::from_yaml_str(&yaml, &origin)
            .map_err(|err| Failure::usage(format!("invalid descriptor: {err}")))?;
        if let Some(vendor) = vendor
            && vendor != provider.id()
        {
            return Err(Failure::usage(format!(
                "vendor `{vendor}` does not match the id `{}` of descriptor {origin}",
                provider.id()
            )));
        }
        return Ok(provider);
    }
    let Some(vendor) = vendor else {
        return Err(Failure::usage(
            "name a vendor (see `oauth-clients providers`), or give --descriptor FILE.yaml or \
             --issuer URL",
        ));
    };
    let providers = builtin();
    if let Some(provider) = providers.iter().find(|p| p.id() == vendor) {
        return Ok(provider.clone());
    }
    let known: Vec<&str> = providers.iter().map(Provider::id).collect();
    Err(Failure::usage(format!(
        "unknown vendor `{vendor}`; known vendors: {} (or give --descriptor FILE.yaml)",
        known.join(", ")
    )))
}

/// Reads a descriptor file, refusing more than a descriptor may be before reading it all.
fn read_capped(path: &Path) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    let limit = u64::try_from(MAX_DESCRIPTOR_BYTES).unwrap_or(u64::MAX) + 1;
    file.take(limit).read_to_string(&mut text)?;
    if text.len() > MAX_DESCRIPTOR_BYTES {
        return Err(std::io::Error::other(format!(
            "the file is larger than {} KiB, the most a descriptor may be",
            MAX_DESCRIPTOR_BYTES / 1024
        )));
    }
    Ok(text)
}
