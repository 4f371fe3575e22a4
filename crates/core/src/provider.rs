//! A validated descriptor, ready for the engine.

use std::sync::Arc;

use crate::descriptor::Descriptor;
use crate::error::DescriptorError;
use crate::validate;

/// A vendor descriptor that has passed validation. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Provider {
    descriptor: Arc<Descriptor>,
}

impl Provider {
    /// Parses and validates a descriptor. `origin` names the source in errors
    /// (e.g. `providers/procore.yaml`); the error is the first problem in document order, shown
    /// as `origin:LINE:COL: field.path: message`.
    pub fn from_yaml_str(yaml: &str, origin: &str) -> Result<Provider, DescriptorError> {
        Provider::from_yaml_str_all(yaml, origin).map_err(|mut errors| {
            if errors.is_empty() {
                DescriptorError {
                    origin: origin.to_owned(),
                    line: None,
                    column: None,
                    path: String::new(),
                    message: "invalid descriptor".to_owned(),
                }
            } else {
                errors.swap_remove(0)
            }
        })
    }

    /// Like [`Provider::from_yaml_str`], but reports every problem found, in document order
    /// (a YAML syntax error or a schema error stops the checks and is then the only one).
    pub fn from_yaml_str_all(yaml: &str, origin: &str) -> Result<Provider, Vec<DescriptorError>> {
        let descriptor = validate::diagnose(yaml, origin)?;
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
