//! The provider registry: providers are compiled in and found by name; a resource type finds
//! its provider by its prefix (`aws_instance` → `aws`) unless `provider = ...` says otherwise.
//! No engine code knows a provider's resource types.

use infra_builtin::Builtin;
use infra_provider::{Provider, ResourceSchema};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Providers by name, and which type prefixes each serves.
pub struct Registry {
    providers: BTreeMap<String, Arc<dyn Provider>>,
    prefixes: BTreeMap<String, String>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::with_builtins()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry { providers: BTreeMap::new(), prefixes: BTreeMap::new() }
    }

    /// The registry with the built-in provider: `terraform_data`, `random_*`, `local_*`.
    pub fn with_builtins() -> Registry {
        let mut registry = Registry::new();
        registry.register(Arc::new(Builtin::new()), &["terraform", "random", "local"]);
        registry
    }

    /// Adds a provider serving the given type prefixes.
    pub fn register(&mut self, provider: Arc<dyn Provider>, prefixes: &[&str]) {
        let name = provider.name().to_string();
        for prefix in prefixes {
            self.prefixes.insert((*prefix).to_string(), name.clone());
        }
        self.providers.insert(name, provider);
    }

    /// The provider for a resource type, by the type's prefix: its name and the provider.
    pub fn for_type(&self, kind: &str) -> Option<(String, Arc<dyn Provider>)> {
        let prefix = kind.split('_').next().unwrap_or(kind);
        let name = self.prefixes.get(prefix)?;
        self.providers.get(name).map(|provider| (name.clone(), provider.clone()))
    }

    /// The schema of a managed resource type.
    pub fn resource_schema(&self, kind: &str) -> Option<ResourceSchema> {
        self.for_type(kind).and_then(|(_, provider)| provider.schema().resources.get(kind).cloned())
    }

    /// Every resource type name known (for "did you mean").
    pub fn resource_types(&self) -> Vec<String> {
        self.providers.values().flat_map(|p| p.schema().resources.keys().cloned().collect::<Vec<_>>()).collect()
    }
}
