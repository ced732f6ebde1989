//! The provider registry: providers are compiled in and found by name; a resource type finds
//! its provider by its prefix (`aws_instance` → `aws`) unless `provider = aws.east` says
//! otherwise. No engine code knows a provider's resource types.
//!
//! Each `provider` block is one *configuration*, keyed `aws` or `aws.east`, with its own
//! provider instance (made by the provider's factory and configured once per run). A type
//! whose provider has no block gets the default instance, unconfigured (the AWS provider then
//! takes everything from the environment, as Terraform's does).

use crate::config::LoadedConfig;
use crate::eval::Scope;
use crate::graph::select::Selection;
use crate::graph::walk::{EvalOptions, ResourceHandler, ResourceItem, Work, walk};
use infra_aws::Aws;
use infra_builtin::Builtin;
use infra_kubernetes::Kubernetes;
use infra_provider::{ConfigureRequest, Diagnostic, Diagnostics, Provider, ResourceSchema, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Makes a fresh instance of a provider.
pub type Factory = Arc<dyn Fn() -> Arc<dyn Provider> + Send + Sync>;

/// Providers by name, which type prefixes each serves, and the configured instances.
pub struct Registry {
    factories: BTreeMap<String, Factory>,
    defaults: BTreeMap<String, Arc<dyn Provider>>,
    prefixes: BTreeMap<String, String>,
    configured: RwLock<BTreeMap<String, Arc<dyn Provider>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::with_builtins()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry {
            factories: BTreeMap::new(),
            defaults: BTreeMap::new(),
            prefixes: BTreeMap::new(),
            configured: RwLock::new(BTreeMap::new()),
        }
    }

    /// The registry with every compiled-in provider: the built-in one (`terraform_data`,
    /// `random_*`, `local_*`, `time_*`), AWS, Kubernetes, PostgreSQL, RabbitMQ and JetStream.
    pub fn with_builtins() -> Registry {
        let mut registry = Registry::new();
        registry.register(
            Arc::new(|| {
                Arc::new(Builtin::new().with_data_source(
                    "terraform_remote_state",
                    crate::remote_state::schema(),
                    Arc::new(crate::remote_state::read),
                )) as Arc<dyn Provider>
            }),
            &["terraform", "random", "local", "time", "null", "archive", "cloudinit", "http", "external", "tls"],
        );
        registry.register(Arc::new(|| Arc::new(Aws::new()) as Arc<dyn Provider>), &["aws"]);
        registry.register(Arc::new(|| Arc::new(Kubernetes::new()) as Arc<dyn Provider>), &["kubernetes"]);
        registry
            .register(Arc::new(|| Arc::new(infra_postgresql::Postgresql::new()) as Arc<dyn Provider>), &["postgresql"]);
        registry.register(Arc::new(|| Arc::new(infra_rabbitmq::Rabbitmq::new()) as Arc<dyn Provider>), &["rabbitmq"]);
        registry
            .register(Arc::new(|| Arc::new(infra_jetstream::Jetstream::new()) as Arc<dyn Provider>), &["jetstream"]);
        registry
    }

    /// The registry for a configuration: the compiled-in providers, with each required provider
    /// that has a plugin installed in `.terraform/providers` served by that plugin instead (for
    /// all of its types).
    pub fn for_config(config: &LoadedConfig) -> (Registry, Diagnostics) {
        let mut registry = Registry::with_builtins();
        let requirements = match crate::plugins::requirements(config) {
            Ok(requirements) => requirements,
            Err(diagnostics) => return (registry, diagnostics),
        };
        for (requirement, package) in crate::plugins::installed(&config.root.dir, &requirements) {
            tracing::debug!(provider = %requirement.source, version = %package.version, binary = %package.binary.display(), "served by its plugin");
            let (name, source, binary) =
                (requirement.name.clone(), requirement.source.to_string(), package.binary.clone());
            registry.register(
                Arc::new(move || {
                    Arc::new(infra_plugin::PluginProvider::new(&name, &source, binary.clone())) as Arc<dyn Provider>
                }),
                &[requirement.name.as_str()],
            );
        }
        (registry, Diagnostics::new())
    }

    /// Adds a provider, by its factory, serving the given type prefixes. The first prefix is
    /// also the local name its `provider` blocks use.
    pub fn register(&mut self, factory: Factory, prefixes: &[&str]) {
        let provider = factory();
        let name = provider.name().to_string();
        for prefix in prefixes {
            self.prefixes.insert((*prefix).to_string(), name.clone());
        }
        self.defaults.insert(name.clone(), provider);
        self.factories.insert(name, factory);
    }

    fn local_name_of<'a>(&'a self, key: &'a str) -> Option<&'a String> {
        self.prefixes.get(key.split('.').next().unwrap_or(key))
    }

    /// The instance for a configuration key (`aws`, `aws.east`): the configured one, else —
    /// for an unaliased key — the default.
    pub fn instance(&self, key: &str) -> Option<Arc<dyn Provider>> {
        if let Some(provider) = self.configured.read().ok()?.get(key) {
            return Some(provider.clone());
        }
        if key.contains('.') {
            return None;
        }
        self.defaults.get(self.local_name_of(key)?).cloned()
    }

    /// The provider for a resource type, by the type's prefix: its name and the provider.
    pub fn for_type(&self, kind: &str) -> Option<(String, Arc<dyn Provider>)> {
        let prefix = kind.split('_').next().unwrap_or(kind);
        let name = self.prefixes.get(prefix)?;
        let provider = self.instance(prefix).or_else(|| self.defaults.get(name).cloned())?;
        Some((name.clone(), provider))
    }

    /// The provider for a resource with an optional `provider = aws.east`, or for an object in
    /// state with its recorded provider: the key to record and the instance.
    pub fn for_resource(&self, kind: &str, provider: Option<&str>) -> Option<(String, Arc<dyn Provider>)> {
        match provider.filter(|key| key.contains('.')) {
            Some(key) => self.instance(key).map(|p| (key.to_string(), p)),
            None => self.for_type(kind),
        }
    }

    /// The providers' functions, for expressions (`provider::NAME::FUNCTION(...)`), by local
    /// name. A plugin starts only when one of its functions is called.
    pub fn functions(&self) -> crate::eval::ProviderFunctions {
        crate::eval::ProviderFunctions(Arc::new(Functions(self.defaults.clone())))
    }

    /// The schema of a managed resource type.
    pub fn resource_schema(&self, kind: &str) -> Option<ResourceSchema> {
        self.for_type(kind).and_then(|(_, provider)| provider.schema().resources.get(kind).cloned())
    }

    /// Every resource type name known (for "did you mean").
    pub fn resource_types(&self) -> Vec<String> {
        self.defaults.values().flat_map(|p| p.schema().resources.keys().cloned().collect::<Vec<_>>()).collect()
    }

    /// Asks every provider instance to stop its running operations (an interrupt).
    pub fn stop_all(&self) {
        if let Ok(configured) = self.configured.read() {
            for provider in configured.values() {
                provider.stop();
            }
        }
        for provider in self.defaults.values() {
            provider.stop();
        }
    }

    /// API calls made so far, by configuration key, for the providers that count them.
    pub fn api_calls(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        if let Ok(configured) = self.configured.read() {
            out.extend(configured.iter().filter_map(|(key, p)| Some((key.clone(), p.api_calls()?))));
        }
        for (name, provider) in &self.defaults {
            if let Some(calls) = provider.api_calls().filter(|c| *c > 0) {
                *out.entry(name.clone()).or_default() += calls;
            }
        }
        out.retain(|_, calls| *calls > 0);
        out
    }

    /// Configures every `provider` block of the root module (once per registry): each is
    /// evaluated against its provider's schema with the root module's variables and locals, and
    /// a new instance is configured with it.
    pub fn configure(&self, config: &LoadedConfig, variables: &BTreeMap<String, Value>, diagnostics: &mut Diagnostics) {
        let pending: Vec<_> = config
            .root
            .providers
            .iter()
            .filter(|(key, _)| self.configured.read().is_ok_and(|c| !c.contains_key(*key)))
            .collect();
        if pending.is_empty() {
            return;
        }
        let options = EvalOptions { plan_time: true, ..EvalOptions::default() };
        let (values, _) = walk(config, variables, &options, &SkipResources, &Selection::everything());
        for (key, block) in pending {
            let Some(factory) = self.local_name_of(key).and_then(|name| self.factories.get(name)) else {
                diagnostics.push(
                    Diagnostic::error(
                        "Unknown provider",
                        format!("There is no provider named `{}` in this build of infra.", block.name),
                    )
                    .at(block.span.clone()),
                );
                continue;
            };
            let provider = factory();
            let address = format!("provider.{key}");
            let Some(value) = configuration(&block.body, &provider, &values.scope, &address, diagnostics) else {
                continue;
            };
            if !value.is_wholly_known() {
                diagnostics.push(
                    Diagnostic::error(
                        "Provider configuration not known",
                        format!("The configuration of `{address}` depends on values known only after apply."),
                    )
                    .at(block.span.clone())
                    .with_hint("configure providers from variables and locals, not from resource attributes"),
                );
                continue;
            }
            match crate::runtime::block_on(provider.configure(ConfigureRequest { config: value })) {
                Ok(()) => {
                    if let Ok(mut configured) = self.configured.write() {
                        configured.insert(key.clone(), provider);
                    }
                }
                Err(errors) => diagnostics.extend(errors.into_iter().map(|d| d.or_at(block.span.clone()))),
            }
        }
    }
}

fn configuration(
    body: &crate::config::Body,
    provider: &Arc<dyn Provider>,
    scope: &Scope,
    address: &str,
    diagnostics: &mut Diagnostics,
) -> Option<Value> {
    crate::objects::config_object(body, &provider.schema().provider, scope, &[], address, diagnostics)
}

/// A walk that evaluates variables and locals only: resources are Unknown, unevaluated.
struct SkipResources;

impl ResourceHandler for SkipResources {
    fn records_dependencies(&self) -> bool {
        false
    }

    fn resource<'a>(&'a self, _item: ResourceItem<'a>, _scope: &Scope, _diagnostics: &mut Diagnostics) -> Work<'a> {
        Work::Done(Value::Unknown)
    }
}

/// Provider-defined functions by the provider's local name.
struct Functions(BTreeMap<String, Arc<dyn Provider>>);

impl crate::eval::CallProviderFunction for Functions {
    fn call(&self, provider: &str, function: &str, arguments: Vec<Value>) -> Option<Result<Value, String>> {
        let provider = self.0.get(provider)?;
        Some(crate::runtime::block_on(provider.call_function(function, arguments)))
    }
}
