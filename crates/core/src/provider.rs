//! A validated descriptor, ready for the engine.

use std::sync::Arc;

use crate::descriptor::Descriptor;
use crate::error::DescriptorError;

/// A vendor descriptor that has passed validation. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Provider {
    descriptor: Arc<Descriptor>,
}

impl Provider {
    /// Parses and validates a descriptor. `origin` names the source in errors
    /// (e.g. `providers/procore.yaml`).
    pub fn from_yaml_str(yaml: &str, origin: &str) -> Result<Provider, DescriptorError> {
        let descriptor: Descriptor = serde_yaml::from_str(yaml).map_err(|err| {
            let location = err.location();
            DescriptorError {
                origin: origin.to_owned(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
                path: String::new(),
                message: err.to_string(),
            }
        })?;
        Ok(Provider {
            descriptor: Arc::new(descriptor),
        })
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The vendor id.
    pub fn id(&self) -> &str {
        &self.descriptor.id
    }
}
