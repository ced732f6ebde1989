//! The configuration model: what a directory of files declares.

use crate::config::types::TypeConstraint;
use hcl_edit::expr::Expression;
use infra_provider::{FileId, Span, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// An unevaluated expression and the file it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    /// The syntax tree, spans relative to the file's text.
    pub ast: Arc<Expression>,
    /// The file.
    pub file: FileId,
}

impl Expr {
    /// The span of the whole expression.
    pub fn span(&self) -> Option<Span> {
        hcl_edit::Span::span(self.ast.as_ref()).map(|range| Span::new(self.file, range))
    }

    /// The expression as a static reference (`aws_vpc.main`, `module.net`), for arguments
    /// such as `depends_on`, `moved.from` and `ignore_changes` that take references, not values.
    pub fn as_reference(&self) -> Option<String> {
        crate::eval::references::static_reference(&self.ast)
    }
}

/// A generic body: the arguments and nested blocks of a resource, provider or backend.
#[derive(Clone, Debug, Default)]
pub struct Body {
    /// Arguments by name.
    pub attributes: BTreeMap<String, Attribute>,
    /// Nested blocks in order.
    pub blocks: Vec<NestedBlock>,
    /// The body's braces.
    pub span: Option<Span>,
}

/// `name = expr`.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// The argument name.
    pub name: String,
    /// Its value.
    pub expr: Expr,
    /// The name's span.
    pub name_span: Option<Span>,
}

/// A nested block, or a `dynamic` block that generates them.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    /// The block type (`ingress`, `root_block_device`).
    pub kind: String,
    /// Labels, if any.
    pub labels: Vec<String>,
    /// The content.
    pub body: Body,
    /// Where the block is.
    pub span: Option<Span>,
    /// Set for `dynamic "kind" { for_each, iterator, content }`.
    pub dynamic: Option<Dynamic>,
}

/// The generator of a `dynamic` block.
#[derive(Clone, Debug)]
pub struct Dynamic {
    /// The collection to iterate.
    pub for_each: Expr,
    /// The iterator name (defaults to the block type).
    pub iterator: String,
}

/// `infra { ... }` / `terraform { ... }` settings.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `backend "kind" { ... }`.
    pub backend: Option<Backend>,
    /// `encryption { key = ... }` of state and saved plans (kind `aes-256-gcm`).
    pub encryption: Option<Backend>,
    /// `required_providers { name = { source, version } }`, unevaluated.
    pub required_providers: BTreeMap<String, Expr>,
    /// `required_version`, as written.
    pub required_version: Option<Expr>,
}

/// A state backend configuration.
#[derive(Clone, Debug)]
pub struct Backend {
    /// `local`, `pg`, `s3`...
    pub kind: String,
    /// Its arguments.
    pub body: Body,
    /// The block.
    pub span: Option<Span>,
}

/// `provider "name" { alias = ... }`.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// The provider's local name.
    pub name: String,
    /// The alias, if any.
    pub alias: Option<String>,
    /// Its arguments (without `alias`).
    pub body: Body,
    /// The block.
    pub span: Option<Span>,
}

impl ProviderConfig {
    /// `aws` or `aws.east`.
    pub fn key(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{}.{alias}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A `condition` + `error_message` pair (validation, precondition, postcondition).
#[derive(Clone, Debug)]
pub struct Check {
    /// Must be true.
    pub condition: Expr,
    /// Shown when it is not.
    pub error_message: Expr,
    /// The block.
    pub span: Option<Span>,
}

/// `variable "name" { ... }`.
#[derive(Clone, Debug)]
pub struct Variable {
    /// The name.
    pub name: String,
    /// `type`, or `any`.
    pub type_constraint: TypeConstraint,
    /// `default`, evaluated at load time (it may not reference anything).
    pub default: Option<Value>,
    /// The default's span.
    pub default_span: Option<Span>,
    /// `description`.
    pub description: Option<String>,
    /// `sensitive`.
    pub sensitive: bool,
    /// `nullable` (default true).
    pub nullable: bool,
    /// `validation` blocks.
    pub validations: Vec<Check>,
    /// The block's header.
    pub span: Option<Span>,
}

impl Variable {
    /// Whether the caller must set it.
    pub fn is_required(&self) -> bool {
        self.default.is_none()
    }
}

/// One entry of a `locals` block.
#[derive(Clone, Debug)]
pub struct Local {
    /// The name.
    pub name: String,
    /// The value.
    pub expr: Expr,
    /// The entry's name span.
    pub span: Option<Span>,
}

pub use crate::addr::Mode;

/// `lifecycle { ... }`.
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    /// Create the replacement before destroying the old object.
    pub create_before_destroy: bool,
    /// Refuse any plan that destroys this resource.
    pub prevent_destroy: bool,
    /// Attributes whose changes are ignored (references relative to the resource).
    pub ignore_changes: Vec<String>,
    /// `ignore_changes = all`.
    pub ignore_all_changes: bool,
    /// References whose change replaces this resource.
    pub replace_triggered_by: Vec<Expr>,
    /// `precondition` blocks.
    pub preconditions: Vec<Check>,
    /// `postcondition` blocks.
    pub postconditions: Vec<Check>,
}

/// `resource "type" "name"` or `data "type" "name"`.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Managed or data.
    pub mode: Mode,
    /// The resource type (`aws_instance`).
    pub kind: String,
    /// The name (`web`).
    pub name: String,
    /// Provider-defined arguments and blocks.
    pub body: Body,
    /// `count`.
    pub count: Option<Expr>,
    /// `for_each`.
    pub for_each: Option<Expr>,
    /// `depends_on` references.
    pub depends_on: Vec<Expr>,
    /// `provider = aws.east`: the provider configuration key.
    pub provider: Option<String>,
    /// `lifecycle`.
    pub lifecycle: Lifecycle,
    /// The block header.
    pub span: Option<Span>,
    /// Where each instance was written, when instances come from elsewhere than the block
    /// (the YAML documents of `kubernetes_manifest.yaml`, by key): diagnostics about an
    /// instance point there.
    pub instance_spans: BTreeMap<String, Span>,
}

impl Resource {
    /// `aws_instance.web` or `data.aws_ami.ubuntu`.
    pub fn address(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.kind, self.name),
            Mode::Data => format!("data.{}.{}", self.kind, self.name),
        }
    }

    /// The provider configuration key: the explicit one or the type's prefix.
    pub fn provider_key(&self) -> String {
        self.provider.clone().unwrap_or_else(|| self.kind.split('_').next().unwrap_or(&self.kind).to_string())
    }
}

/// `output "name" { ... }`.
#[derive(Clone, Debug)]
pub struct Output {
    /// The name.
    pub name: String,
    /// `value`.
    pub value: Expr,
    /// `description`.
    pub description: Option<String>,
    /// `sensitive`.
    pub sensitive: bool,
    /// `depends_on`.
    pub depends_on: Vec<Expr>,
    /// `precondition` blocks.
    pub preconditions: Vec<Check>,
    /// The block header.
    pub span: Option<Span>,
}

/// `module "name" { source = ... }`.
#[derive(Clone, Debug)]
pub struct ModuleCall {
    /// The name.
    pub name: String,
    /// `source`, as written.
    pub source: String,
    /// The source's span.
    pub source_span: Option<Span>,
    /// Input variables.
    pub inputs: BTreeMap<String, Attribute>,
    /// `count`.
    pub count: Option<Expr>,
    /// `for_each`.
    pub for_each: Option<Expr>,
    /// `depends_on`.
    pub depends_on: Vec<Expr>,
    /// `providers = { aws = aws.east }`.
    pub providers: Option<Expr>,
    /// `version` (registry modules; kept, unused).
    pub version: Option<Expr>,
    /// The block header.
    pub span: Option<Span>,
    /// For a platform block (`service "api"`): its kind and name, by which it is referenced.
    pub platform: Option<(String, String)>,
}

/// `moved { from = ..., to = ... }`.
#[derive(Clone, Debug)]
pub struct Moved {
    /// The old address.
    pub from: String,
    /// The new address.
    pub to: String,
    /// The block.
    pub span: Option<Span>,
}

/// `removed { from = ...  lifecycle { destroy = false } }`: objects that leave the
/// configuration on purpose.
#[derive(Clone, Debug)]
pub struct Removed {
    /// The resource or module whose objects leave.
    pub from: String,
    /// Destroy them (`true`, Terraform's default) or only forget them (`false`).
    pub destroy: bool,
    /// The block.
    pub span: Option<Span>,
}

/// `check "name" { assert { ... } }`: assertions reported as warnings after plan and apply.
#[derive(Clone, Debug)]
pub struct CheckBlock {
    /// The block's name.
    pub name: String,
    /// Its `assert` blocks.
    pub asserts: Vec<Check>,
    /// The block.
    pub span: Option<Span>,
}

/// `import { to = ..., id = ... }`.
#[derive(Clone, Debug)]
pub struct Import {
    /// The address to import into.
    pub to: String,
    /// The id, unevaluated.
    pub id: Expr,
    /// `provider`, if set.
    pub provider: Option<String>,
    /// The block.
    pub span: Option<Span>,
}

/// A Kubernetes manifest from a YAML file, handed to the kubernetes provider as it is.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`, if set.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// The whole object.
    pub object: Value,
    /// Where the document starts.
    pub span: Option<Span>,
}

impl Manifest {
    /// `apps/v1/Deployment/shop/api`: the instance key of the manifest.
    pub fn key(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{}/{}/{namespace}/{}", self.api_version, self.kind, self.name),
            None => format!("{}/{}/{}", self.api_version, self.kind, self.name),
        }
    }
}

/// Everything one directory declares.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// The directory.
    pub dir: PathBuf,
    /// `infra` / `terraform` settings.
    pub settings: Settings,
    /// Provider configurations by key (`aws`, `aws.east`).
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Input variables.
    pub variables: BTreeMap<String, Variable>,
    /// Local values.
    pub locals: BTreeMap<String, Local>,
    /// Resources and data sources by address (`aws_vpc.main`, `data.aws_ami.x`).
    pub resources: BTreeMap<String, Resource>,
    /// Outputs.
    pub outputs: BTreeMap<String, Output>,
    /// Module calls.
    pub module_calls: BTreeMap<String, ModuleCall>,
    /// Child modules, loaded, by call name.
    pub children: BTreeMap<String, Module>,
    /// `moved` blocks.
    pub moved: Vec<Moved>,
    /// `import` blocks.
    pub imports: Vec<Import>,
    /// `removed` blocks.
    pub removed: Vec<Removed>,
    /// `check` blocks.
    pub checks: Vec<CheckBlock>,
    /// Kubernetes manifests from YAML files, by key.
    pub manifests: BTreeMap<String, Manifest>,
}

impl Body {
    /// Every expression in the body, nested blocks and `dynamic` generators included.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = self.attributes.values().map(|attribute| &attribute.expr).collect();
        for block in &self.blocks {
            if let Some(dynamic) = &block.dynamic {
                out.push(&dynamic.for_each);
            }
            out.extend(block.body.expressions());
        }
        out
    }
}

impl Check {
    fn expressions(&self) -> [&Expr; 2] {
        [&self.condition, &self.error_message]
    }
}

impl Resource {
    /// Every expression of the block: arguments, meta-arguments and conditions.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out = self.body.expressions();
        out.extend(self.count.iter());
        out.extend(self.for_each.iter());
        out.extend(self.depends_on.iter());
        out.extend(self.lifecycle.replace_triggered_by.iter());
        for check in self.lifecycle.preconditions.iter().chain(&self.lifecycle.postconditions) {
            out.extend(check.expressions());
        }
        out
    }
}

impl Output {
    /// Every expression of the block.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out = vec![&self.value];
        out.extend(self.depends_on.iter());
        for check in &self.preconditions {
            out.extend(check.expressions());
        }
        out
    }
}

impl ModuleCall {
    /// Every expression of the block.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = self.inputs.values().map(|attribute| &attribute.expr).collect();
        out.extend(self.count.iter());
        out.extend(self.for_each.iter());
        out.extend(self.depends_on.iter());
        out.extend(self.providers.iter());
        out
    }
}

impl Variable {
    /// The validation expressions.
    pub fn expressions(&self) -> Vec<&Expr> {
        self.validations.iter().flat_map(Check::expressions).collect()
    }
}
