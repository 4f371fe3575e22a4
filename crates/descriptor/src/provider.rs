//! A validated descriptor, ready for the engine.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex_lite::Regex;

use crate::error::DescriptorError;
use crate::schema::Descriptor;
use crate::validate;

/// A vendor descriptor that has passed validation. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Provider {
    descriptor: Arc<Descriptor>,
    /// Variable name → its anchored `pattern`, compiled once (`None`: it did not compile, and
    /// matches nothing; validation refuses such patterns).
    patterns: Arc<BTreeMap<String, Option<Regex>>>,
}

impl Provider {
    /// Parses and validates a descriptor. `origin` names the source in errors
    /// (e.g. `providers/procore.yaml`); the error is the first problem in document order, shown
    /// as `origin:LINE:COL: field.path: message`. Texts over
    /// [`MAX_DESCRIPTOR_BYTES`](crate::MAX_DESCRIPTOR_BYTES), nested too deeply or expanding to
    /// too many nodes through aliases are refused before they are expanded.
    #[cfg(feature = "yaml")]
    pub fn from_yaml_str(yaml: &str, origin: &str) -> Result<Provider, DescriptorError> {
        Provider::from_yaml_str_all(yaml, origin).map_err(|mut errors| {
            if errors.is_empty() {
                DescriptorError::new(origin, None, "", "invalid descriptor")
            } else {
                errors.swap_remove(0)
            }
        })
    }

    /// Like [`Provider::from_yaml_str`], but reports every problem found, in document order
    /// (a YAML syntax error or a schema error stops the checks and is then the only one).
    #[cfg(feature = "yaml")]
    pub fn from_yaml_str_all(yaml: &str, origin: &str) -> Result<Provider, Vec<DescriptorError>> {
        let descriptor = validate::diagnose(yaml, origin)?;
        Ok(Provider::validated(descriptor))
    }

    /// Validates a descriptor built in code (e.g. from an issuer's metadata). Errors name
    /// `origin` and the field path, without a position.
    pub fn from_descriptor(
        descriptor: Descriptor,
        origin: &str,
    ) -> Result<Provider, Vec<DescriptorError>> {
        let problems = validate::check(&descriptor);
        if problems.is_empty() {
            return Ok(Provider::validated(descriptor));
        }
        Err(problems
            .into_iter()
            .map(|p| DescriptorError::new(origin, None, p.path, p.message))
            .collect())
    }

    /// A descriptor that the generator validated when it wrote it as Rust data: not checked
    /// again. Generated modules use this; anything else uses [`Provider::from_descriptor`].
    #[doc(hidden)]
    pub fn from_generated(descriptor: Descriptor) -> Provider {
        Provider::validated(descriptor)
    }

    fn validated(descriptor: Descriptor) -> Provider {
        let patterns = descriptor
            .variables
            .iter()
            .filter_map(|(name, variable)| {
                let pattern = variable.pattern.as_deref()?;
                Some((name.clone(), Regex::new(&format!("^(?:{pattern})$")).ok()))
            })
            .collect();
        Provider {
            descriptor: Arc::new(descriptor),
            patterns: Arc::new(patterns),
        }
    }

    /// Whether `value` may be the value of `variable`: it matches the variable's anchored
    /// `pattern`, or the variable has none.
    pub fn value_matches(&self, variable: &str, value: &str) -> bool {
        match self.patterns.get(variable) {
            None => true,
            Some(regex) => regex.as_ref().is_some_and(|regex| regex.is_match(value)),
        }
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
