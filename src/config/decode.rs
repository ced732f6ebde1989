//! Decoding an `hcl-edit` body into the [`Module`] model, collecting every problem.

use super::model::*;
use super::types::{self, TypeConstraint};
use crate::eval;
use crate::suggest::did_you_mean;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, BlockLabel, Body as HclBody, Structure};
use infra_provider::{Diagnostic, Diagnostics, FileId, Span, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The block types a configuration file may hold at its top level (also the keys of a YAML
/// block document).
pub(crate) const TOP_LEVEL_BLOCKS: &[&str] = &[
    "infra",
    "terraform",
    "provider",
    "variable",
    "locals",
    "resource",
    "data",
    "output",
    "module",
    "moved",
    "import",
    "check",
    "removed",
    "cluster",
    "service",
    "queue",
    "database",
];

/// Decodes one file's body into `module`, adding problems to `diagnostics`.
pub(crate) fn decode_file(body: &HclBody, file: FileId, module: &mut Module, diagnostics: &mut Diagnostics) {
    let mut decoder = Decoder { file, diagnostics };
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => decoder.error(
                "Unsupported argument",
                format!("An argument named `{}` is not expected at the top level of a configuration file; arguments belong inside blocks.", attribute.key.value().as_str()),
                decoder.span(attribute),
            ),
            Structure::Block(block) => decoder.top_level_block(block, module),
        }
    }
}

struct Decoder<'a> {
    file: FileId,
    diagnostics: &'a mut Diagnostics,
}

fn label_text(label: &BlockLabel) -> String {
    label.as_str().to_string()
}

impl Decoder<'_> {
    fn span(&self, node: &impl hcl_edit::Span) -> Option<Span> {
        node.span().map(|range| Span::new(self.file, range))
    }

    fn error(&mut self, summary: &str, detail: String, span: Option<Span>) {
        self.diagnostics.push(Diagnostic::error(summary, detail).at(span));
    }

    fn header_span(&self, block: &Block) -> Option<Span> {
        let start = block.ident.span()?.start;
        let end = block.labels.last().and_then(|label| label.span()).map_or(block.ident.span()?.end, |r| r.end);
        Some(Span::new(self.file, start..end))
    }

    fn expr(&self, expression: &Expression) -> Expr {
        Expr { ast: Arc::new(expression.clone()), file: self.file }
    }

    fn labels(&mut self, block: &Block, names: &[&str]) -> Option<Vec<String>> {
        let kind = block.ident.value().as_str();
        if block.labels.len() != names.len() {
            let expected = match names.len() {
                0 => "no labels".to_string(),
                1 => format!("one label, the {}", names[0]),
                _ => format!("{} labels: {}", names.len(), names.join(", ")),
            };
            let example = if names.is_empty() {
                format!("{kind} {{ ... }}")
            } else {
                format!(
                    "{kind} {} {{ ... }}",
                    names.iter().map(|name| format!("\"{name}\"")).collect::<Vec<_>>().join(" ")
                )
            };
            self.diagnostics.push(
                Diagnostic::error(
                    if block.labels.len() > names.len() { "Extraneous label" } else { "Missing name for block" },
                    format!("A `{kind}` block takes {expected}."),
                )
                .at(self.header_span(block))
                .with_hint(format!("write `{example}`")),
            );
            return None;
        }
        let labels: Vec<String> = block.labels.iter().map(label_text).collect();
        for (label, name) in block.labels.iter().zip(names) {
            let text = label.as_str();
            if *name != "backend type" && !is_identifier(text) {
                self.error(
                    "Invalid name",
                    format!("A {name} must start with a letter or underscore and may contain only letters, digits, underscores and dashes; `{text}` is not valid."),
                    self.span(label),
                );
                return None;
            }
        }
        Some(labels)
    }

    fn top_level_block(&mut self, block: &Block, module: &mut Module) {
        let kind = block.ident.value().as_str();
        match kind {
            "infra" | "terraform" => self.settings(block, module),
            "provider" => self.provider(block, module),
            "variable" => self.variable(block, module),
            "locals" => self.locals(block, module),
            "resource" => self.resource(block, Mode::Managed, module),
            "data" => self.resource(block, Mode::Data, module),
            "output" => self.output(block, module),
            "module" => self.module_call(block, module),
            kind if crate::platform::is_kind(kind) => self.module_call(block, module),
            "moved" => self.moved(block, module),
            "import" => self.import(block, module),
            "removed" => self.removed(block, module),
            "check" => self.check_block(block, module),
            other => {
                let mut diagnostic = Diagnostic::error(
                    "Unsupported block type",
                    format!("Blocks of type `{other}` are not expected here."),
                )
                .at(self.span(&block.ident));
                if let Some(suggestion) = did_you_mean(other, TOP_LEVEL_BLOCKS.iter().copied()) {
                    diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
                }
                self.diagnostics.push(diagnostic);
            }
        }
    }

    /// Checks a meta block's arguments and blocks against what it accepts.
    fn expect_only(&mut self, body: &HclBody, what: &str, arguments: &[&str], blocks: &[&str]) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.value().as_str();
                    if !arguments.contains(&name) {
                        let mut diagnostic = Diagnostic::error(
                            "Unsupported argument",
                            format!("An argument named `{name}` is not expected in {}.", with_article(what)),
                        )
                        .at(self.span(&attribute.key));
                        if let Some(suggestion) = did_you_mean(name, arguments.iter().copied()) {
                            diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
                        }
                        self.diagnostics.push(diagnostic);
                    }
                }
                Structure::Block(block) => {
                    let name = block.ident.value().as_str();
                    if !blocks.contains(&name) {
                        self.error(
                            "Unsupported block type",
                            format!("Blocks of type `{name}` are not expected in {}.", with_article(what)),
                            self.span(&block.ident),
                        );
                    }
                }
            }
        }
    }

    fn constant(&mut self, expression: &Expression) -> Option<Value> {
        match eval::constant(expression, self.file) {
            Ok(value) => Some(value),
            Err(diagnostic) => {
                self.diagnostics.push(diagnostic);
                None
            }
        }
    }

    fn constant_bool(&mut self, body: &HclBody, name: &str, default: bool) -> bool {
        let Some(attribute) = body.get_attribute(name) else { return default };
        match self.constant(&attribute.value) {
            Some(Value::Bool(value)) => value,
            Some(Value::String(text)) if text == "true" || text == "false" => text == "true",
            Some(_) => {
                self.error(
                    "Invalid value",
                    format!("`{name}` must be `true` or `false`."),
                    self.span(&attribute.value),
                );
                default
            }
            None => default,
        }
    }

    fn constant_string(&mut self, body: &HclBody, name: &str) -> Option<String> {
        let attribute = body.get_attribute(name)?;
        match self.constant(&attribute.value)? {
            Value::String(text) => Some(text),
            Value::Number(number) => Some(number.to_string()),
            _ => {
                self.error("Invalid value", format!("`{name}` must be a string."), self.span(&attribute.value));
                None
            }
        }
    }

    fn reference_list(&mut self, body: &HclBody, name: &str) -> Vec<Expr> {
        let Some(attribute) = body.get_attribute(name) else { return Vec::new() };
        match &attribute.value {
            Expression::Array(items) => items
                .iter()
                .filter_map(|item| {
                    if eval::references::static_reference(item).is_some() {
                        Some(self.expr(item))
                    } else {
                        self.error(
                            "Invalid reference",
                            format!("Each element of `{name}` must be a reference such as `aws_vpc.main`, not an expression."),
                            self.span(item),
                        );
                        None
                    }
                })
                .collect(),
            other => {
                self.error("Invalid value", format!("`{name}` must be a list of references, as in `[aws_vpc.main]`."), self.span(other));
                Vec::new()
            }
        }
    }

    fn reference(&mut self, expression: &Expression, what: &str) -> Option<String> {
        let reference = eval::references::static_reference(expression);
        if reference.is_none() {
            self.error(
                "Invalid reference",
                format!("`{what}` must be a reference such as `aws_vpc.main`, not a string or an expression."),
                self.span(expression),
            );
        }
        reference
    }

    fn checks(&mut self, body: &HclBody, kind: &str) -> Vec<Check> {
        body.get_blocks(kind)
            .filter_map(|block| {
                self.expect_only(&block.body, &format!("`{kind}` block"), &["condition", "error_message"], &[]);
                let condition = block.body.get_attribute("condition");
                let message = block.body.get_attribute("error_message");
                match (condition, message) {
                    (Some(condition), Some(message)) => Some(Check {
                        condition: self.expr(&condition.value),
                        error_message: self.expr(&message.value),
                        span: self.span(&block.ident),
                    }),
                    _ => {
                        self.error(
                            "Missing required argument",
                            format!("A `{kind}` block needs both `condition` and `error_message`."),
                            self.span(&block.ident),
                        );
                        None
                    }
                }
            })
            .collect()
    }

    /// A generic body: every argument and nested block, with `dynamic` blocks recognized.
    fn body(&mut self, body: &HclBody, skip: &[&str]) -> Body {
        let mut result = Body { span: self.span(body), ..Body::default() };
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.value().as_str();
                    if skip.contains(&name) {
                        continue;
                    }
                    let entry = Attribute {
                        name: name.to_string(),
                        expr: self.expr(&attribute.value),
                        name_span: self.span(&attribute.key),
                    };
                    if let Some(previous) = result.attributes.insert(name.to_string(), entry) {
                        self.duplicate("argument", name, self.span(&attribute.key), previous.name_span);
                    }
                }
                Structure::Block(block) => {
                    let kind = block.ident.value().as_str();
                    if skip.contains(&kind) {
                        continue;
                    }
                    if kind == "dynamic" {
                        if let Some(nested) = self.dynamic(block) {
                            result.blocks.push(nested);
                        }
                        continue;
                    }
                    let body = self.body(&block.body, &[]);
                    result.blocks.push(NestedBlock {
                        kind: kind.to_string(),
                        labels: block.labels.iter().map(label_text).collect(),
                        body,
                        span: self.span(&block.ident),
                        dynamic: None,
                    });
                }
            }
        }
        result
    }

    fn dynamic(&mut self, block: &Block) -> Option<NestedBlock> {
        let labels = self.labels(block, &["block type"])?;
        self.expect_only(&block.body, "`dynamic` block", &["for_each", "iterator", "labels"], &["content"]);
        let Some(for_each) = block.body.get_attribute("for_each") else {
            self.error(
                "Missing required argument",
                "A `dynamic` block needs a `for_each` argument.".into(),
                self.span(&block.ident),
            );
            return None;
        };
        let iterator = match block.body.get_attribute("iterator") {
            Some(attribute) => match &attribute.value {
                Expression::Variable(ident) => ident.value().as_str().to_string(),
                other => {
                    self.error(
                        "Invalid value",
                        "`iterator` must be a bare name, as in `iterator = rule`.".into(),
                        self.span(other),
                    );
                    return None;
                }
            },
            None => labels[0].clone(),
        };
        let content: Vec<&Block> = block.body.get_blocks("content").collect();
        let [content] = content.as_slice() else {
            self.error(
                "Missing content block",
                "A `dynamic` block needs exactly one `content` block.".into(),
                self.span(&block.ident),
            );
            return None;
        };
        Some(NestedBlock {
            kind: labels[0].clone(),
            labels: Vec::new(),
            body: self.body(&content.body, &[]),
            span: self.span(&block.ident),
            dynamic: Some(Dynamic { for_each: self.expr(&for_each.value), iterator }),
        })
    }

    fn duplicate(&mut self, what: &str, name: &str, span: Option<Span>, previous: Option<Span>) {
        let mut diagnostic = Diagnostic::error(
            format!("Duplicate {what}"),
            format!("The {what} `{name}` is defined more than once; each must be defined only once."),
        )
        .at(span);
        if let Some(previous) = previous {
            diagnostic = diagnostic.with_secondary(previous, "first defined here");
        }
        self.diagnostics.push(diagnostic);
    }

    fn settings(&mut self, block: &Block, module: &mut Module) {
        if self.labels(block, &[]).is_none() {
            return;
        }
        self.expect_only(
            &block.body,
            "settings block",
            &["required_version", "experiments"],
            &["backend", "required_providers", "cloud", "provider_meta", "encryption"],
        );
        if let Some(attribute) = block.body.get_attribute("required_version") {
            module.settings.required_version = Some(self.expr(&attribute.value));
        }
        for backend in block.body.get_blocks("backend") {
            let Some(labels) = self.labels(backend, &["backend type"]) else { continue };
            if let Some(previous) = &module.settings.backend {
                let previous = previous.span.clone();
                self.duplicate("backend", &labels[0], self.span(&backend.ident), previous);
                continue;
            }
            let body = self.body(&backend.body, &[]);
            module.settings.backend = Some(Backend { kind: labels[0].clone(), body, span: self.header_span(backend) });
        }
        for cloud in block.body.get_blocks("cloud") {
            // Silently keeping state locally would split a team's state: refused by name.
            let span = self.header_span(cloud);
            self.error(
                "Unsupported `cloud` block",
                "HCP Terraform / Terraform Enterprise (`cloud {}`) is not supported by infra. Keep state with the `local` (default), `pg` or `s3` backend (`backend \"s3\" { … }`), or `infra state import-tfstate` a state pulled from HCP Terraform.".to_string(),
                span,
            );
        }
        for encryption in block.body.get_blocks("encryption") {
            if self.labels(encryption, &[]).is_none() {
                continue;
            }
            self.expect_only(&encryption.body, "encryption block", &["key", "allow_unencrypted"], &[]);
            if let Some(previous) = &module.settings.encryption {
                let previous = previous.span.clone();
                self.duplicate("encryption", "", self.span(&encryption.ident), previous);
                continue;
            }
            let body = self.body(&encryption.body, &[]);
            module.settings.encryption =
                Some(Backend { kind: "aes-256-gcm".into(), body, span: self.header_span(encryption) });
        }
        for required in block.body.get_blocks("required_providers") {
            for structure in required.body.iter() {
                if let Structure::Attribute(attribute) = structure {
                    module
                        .settings
                        .required_providers
                        .insert(attribute.key.value().as_str().to_string(), self.expr(&attribute.value));
                }
            }
        }
    }

    fn provider(&mut self, block: &Block, module: &mut Module) {
        let Some(labels) = self.labels(block, &["provider name"]) else { return };
        let alias = self.constant_string(&block.body, "alias");
        let config = ProviderConfig {
            name: labels[0].clone(),
            alias,
            body: self.body(&block.body, &["alias", "version"]),
            span: self.header_span(block),
        };
        let key = config.key();
        if let Some(previous) = module.providers.get(&key) {
            let previous = previous.span.clone();
            self.duplicate("provider configuration", &key, config.span.clone(), previous);
            return;
        }
        module.providers.insert(key, config);
    }

    fn variable(&mut self, block: &Block, module: &mut Module) {
        let Some(labels) = self.labels(block, &["variable name"]) else { return };
        let name = labels[0].clone();
        self.expect_only(
            &block.body,
            "`variable` block",
            &["type", "default", "description", "sensitive", "nullable", "ephemeral"],
            &["validation"],
        );
        if matches!(
            name.as_str(),
            "source" | "version" | "providers" | "count" | "for_each" | "lifecycle" | "depends_on" | "locals"
        ) {
            self.error(
                "Invalid variable name",
                format!("The name `{name}` is reserved for module call arguments and cannot be used for a variable."),
                self.header_span(block),
            );
        }
        let type_constraint = match block.body.get_attribute("type") {
            Some(attribute) => match types::parse(&attribute.value, self.file) {
                Ok(constraint) => constraint,
                Err(diagnostic) => {
                    self.diagnostics.push(diagnostic);
                    TypeConstraint::Any
                }
            },
            None => TypeConstraint::Any,
        };
        let nullable = self.constant_bool(&block.body, "nullable", true);
        let sensitive = self.constant_bool(&block.body, "sensitive", false);
        let mut default = None;
        let mut default_span = None;
        if let Some(attribute) = block.body.get_attribute("default") {
            default_span = self.span(&attribute.value);
            if let Some(value) = self.constant(&attribute.value) {
                // A sensitive default is converted marked, so an error cannot quote it.
                match eval::convert::convert(value.mark_if(sensitive), &type_constraint).map(|v| v.unmark().0) {
                    Ok(value) if value.is_null() && !nullable => {
                        self.error(
                            "Invalid default value for variable",
                            "A non-nullable variable cannot default to null.".into(),
                            default_span.clone(),
                        );
                    }
                    Ok(value) => default = Some(value),
                    Err(message) => self.error(
                        "Invalid default value for variable",
                        format!("This default value is not compatible with the variable's type constraint: {message}."),
                        default_span.clone(),
                    ),
                }
            }
        }
        let variable = Variable {
            name: name.clone(),
            type_constraint,
            default,
            default_span,
            description: self.constant_string(&block.body, "description"),
            sensitive,
            nullable,
            validations: self.checks(&block.body, "validation"),
            span: self.header_span(block),
        };
        if let Some(previous) = module.variables.get(&name) {
            let previous = previous.span.clone();
            self.duplicate("variable", &name, variable.span.clone(), previous);
            return;
        }
        module.variables.insert(name, variable);
    }

    fn locals(&mut self, block: &Block, module: &mut Module) {
        if self.labels(block, &[]).is_none() {
            return;
        }
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.value().as_str().to_string();
                    let local = Local {
                        name: name.clone(),
                        expr: self.expr(&attribute.value),
                        span: self.span(&attribute.key),
                    };
                    if let Some(previous) = module.locals.get(&name) {
                        let previous = previous.span.clone();
                        self.duplicate("local value", &name, local.span.clone(), previous);
                        continue;
                    }
                    module.locals.insert(name, local);
                }
                Structure::Block(nested) => self.error(
                    "Unsupported block type",
                    "A `locals` block holds only `name = value` entries.".into(),
                    self.span(&nested.ident),
                ),
            }
        }
    }

    fn count_and_for_each(&mut self, block: &Block) -> (Option<Expr>, Option<Expr>) {
        let count = block.body.get_attribute("count").map(|attribute| self.expr(&attribute.value));
        let for_each = block.body.get_attribute("for_each").map(|attribute| self.expr(&attribute.value));
        if count.is_some() && for_each.is_some() {
            self.error(
                "Invalid combination of \"count\" and \"for_each\"",
                "The `count` and `for_each` meta-arguments are mutually exclusive; only one may be used.".into(),
                for_each.as_ref().and_then(Expr::span),
            );
        }
        (count, for_each)
    }

    fn resource(&mut self, block: &Block, mode: Mode, module: &mut Module) {
        let what = if mode == Mode::Managed { "resource" } else { "data source" };
        let Some(labels) = self.labels(block, &[&format!("{what} type"), &format!("{what} name")]) else { return };
        let (count, for_each) = self.count_and_for_each(block);
        let depends_on = self.reference_list(&block.body, "depends_on");
        let provider =
            block.body.get_attribute("provider").and_then(|attribute| self.reference(&attribute.value, "provider"));
        let mut lifecycle = Lifecycle::default();
        for nested in block.body.get_blocks("lifecycle") {
            self.lifecycle(nested, &mut lifecycle);
        }
        let resource = Resource {
            mode,
            kind: labels[0].clone(),
            name: labels[1].clone(),
            body: self.body(
                &block.body,
                &["count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"],
            ),
            count,
            for_each,
            depends_on,
            provider,
            lifecycle,
            span: self.header_span(block),
            instance_spans: BTreeMap::new(),
        };
        let address = resource.address();
        if let Some(previous) = module.resources.get(&address) {
            let previous = previous.span.clone();
            self.duplicate(what, &address, resource.span.clone(), previous);
            return;
        }
        module.resources.insert(address, resource);
    }

    fn lifecycle(&mut self, block: &Block, lifecycle: &mut Lifecycle) {
        self.expect_only(
            &block.body,
            "`lifecycle` block",
            &["create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"],
            &["precondition", "postcondition"],
        );
        lifecycle.create_before_destroy = self.constant_bool(&block.body, "create_before_destroy", false);
        lifecycle.prevent_destroy = self.constant_bool(&block.body, "prevent_destroy", false);
        if let Some(attribute) = block.body.get_attribute("ignore_changes") {
            match &attribute.value {
                Expression::Variable(ident) if ident.value().as_str() == "all" => lifecycle.ignore_all_changes = true,
                Expression::Array(items) => {
                    for item in items.iter() {
                        let reference = match item {
                            Expression::String(text) => Some(text.value().clone()),
                            other => self.reference(other, "ignore_changes"),
                        };
                        lifecycle.ignore_changes.extend(reference);
                    }
                }
                other => self.error(
                    "Invalid value",
                    "`ignore_changes` must be `all` or a list of attribute names.".into(),
                    self.span(other),
                ),
            }
        }
        lifecycle.replace_triggered_by = self.reference_list(&block.body, "replace_triggered_by");
        lifecycle.preconditions = self.checks(&block.body, "precondition");
        lifecycle.postconditions = self.checks(&block.body, "postcondition");
    }

    fn output(&mut self, block: &Block, module: &mut Module) {
        let Some(labels) = self.labels(block, &["output name"]) else { return };
        self.expect_only(
            &block.body,
            "`output` block",
            &["value", "description", "sensitive", "depends_on", "ephemeral"],
            &["precondition"],
        );
        let Some(value) = block.body.get_attribute("value") else {
            self.error(
                "Missing required argument",
                "An `output` block needs a `value` argument.".into(),
                self.header_span(block),
            );
            return;
        };
        let output = Output {
            name: labels[0].clone(),
            value: self.expr(&value.value),
            description: self.constant_string(&block.body, "description"),
            sensitive: self.constant_bool(&block.body, "sensitive", false),
            depends_on: self.reference_list(&block.body, "depends_on"),
            preconditions: self.checks(&block.body, "precondition"),
            span: self.header_span(block),
        };
        if let Some(previous) = module.outputs.get(&output.name) {
            let previous = previous.span.clone();
            self.duplicate("output", &output.name, output.span.clone(), previous);
            return;
        }
        module.outputs.insert(output.name.clone(), output);
    }

    fn module_call(&mut self, block: &Block, module: &mut Module) {
        let kind = block.ident.value().as_str();
        if crate::platform::is_kind(kind) {
            return self.platform_block(kind, block, module);
        }
        let Some(labels) = self.labels(block, &["module name"]) else { return };
        let Some(source) = block.body.get_attribute("source") else {
            self.error(
                "Missing required argument",
                "A `module` block needs a `source` argument, such as `source = \"./modules/network\"`.".into(),
                self.header_span(block),
            );
            return;
        };
        let source_text = match &source.value {
            Expression::String(text) => text.value().clone(),
            other => {
                self.error(
                    "Invalid module source",
                    "`source` must be a literal string; it cannot reference variables.".into(),
                    self.span(other),
                );
                return;
            }
        };
        let (count, for_each) = self.count_and_for_each(block);
        let mut inputs = BTreeMap::new();
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.value().as_str();
                    if matches!(name, "source" | "count" | "for_each" | "depends_on" | "providers" | "version") {
                        continue;
                    }
                    inputs.insert(
                        name.to_string(),
                        Attribute {
                            name: name.to_string(),
                            expr: self.expr(&attribute.value),
                            name_span: self.span(&attribute.key),
                        },
                    );
                }
                Structure::Block(nested) => self.error(
                    "Unsupported block type",
                    format!("Blocks of type `{}` are not expected in a `module` block.", nested.ident.value().as_str()),
                    self.span(&nested.ident),
                ),
            }
        }
        let call = ModuleCall {
            name: labels[0].clone(),
            source: source_text,
            source_span: self.span(&source.value),
            inputs,
            count,
            for_each,
            depends_on: self.reference_list(&block.body, "depends_on"),
            providers: block.body.get_attribute("providers").map(|attribute| self.expr(&attribute.value)),
            version: block.body.get_attribute("version").map(|attribute| self.expr(&attribute.value)),
            span: self.header_span(block),
            platform: None,
        };
        if let Some(previous) = module.module_calls.get(&call.name) {
            let previous = previous.span.clone();
            self.duplicate("module call", &call.name, call.span.clone(), previous);
            return;
        }
        module.module_calls.insert(call.name.clone(), call);
    }

    /// `service "api" { … }` (and `cluster`, `queue`, `database`): a call of the embedded
    /// module of that kind, its label passed as `name` (see `crate::platform`).
    fn platform_block(&mut self, kind: &str, block: &Block, module: &mut Module) {
        let Some(labels) = self.labels(block, &[&format!("{kind} name")]) else { return };
        let name = labels[0].clone();
        let (count, for_each) = self.count_and_for_each(block);
        let mut inputs = BTreeMap::new();
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let input = attribute.key.value().as_str();
                    if matches!(input, "count" | "for_each" | "depends_on" | "name") {
                        if input == "name" {
                            self.error(
                                "Unsupported argument",
                                format!("A `{kind}` block's name is its label (`{kind} \"{name}\"`), not an argument."),
                                self.span(&attribute.key),
                            );
                        }
                        continue;
                    }
                    inputs.insert(
                        input.to_string(),
                        Attribute {
                            name: input.to_string(),
                            expr: self.expr(&attribute.value),
                            name_span: self.span(&attribute.key),
                        },
                    );
                }
                Structure::Block(nested) => self.error(
                    "Unsupported block type",
                    format!(
                        "Blocks of type `{}` are not expected in a `{kind}` block; its settings are arguments.",
                        nested.ident.value().as_str()
                    ),
                    self.span(&nested.ident),
                ),
            }
        }
        let label = hcl_edit::expr::Expression::from(name.as_str());
        inputs.insert(
            "name".into(),
            Attribute { name: "name".into(), expr: self.expr(&label), name_span: self.header_span(block) },
        );
        // An engine that lowers to another provider's resources has a module of its own
        // (`queue` with `engine = "sqs"`), so the others never name resource types it serves.
        let engine = block.body.iter().find_map(|structure| match structure {
            Structure::Attribute(attribute) if attribute.key.value().as_str() == "engine" => match &attribute.value {
                hcl_edit::expr::Expression::String(text) => Some(text.value().to_string()),
                _ => None,
            },
            _ => None,
        });
        let call = ModuleCall {
            name: crate::platform::call_name(kind, &name),
            source: format!(
                "{}{}",
                crate::platform::SOURCE_PREFIX,
                crate::platform::module_of(kind, engine.as_deref())
            ),
            source_span: self.header_span(block),
            inputs,
            count,
            for_each,
            depends_on: self.reference_list(&block.body, "depends_on"),
            providers: None,
            version: None,
            span: self.header_span(block),
            platform: Some((kind.to_string(), name)),
        };
        if let Some(previous) = module.module_calls.get(&call.name) {
            let previous = previous.span.clone();
            self.duplicate(kind, &labels[0], call.span.clone(), previous);
            return;
        }
        module.module_calls.insert(call.name.clone(), call);
    }

    fn moved(&mut self, block: &Block, module: &mut Module) {
        if self.labels(block, &[]).is_none() {
            return;
        }
        self.expect_only(&block.body, "`moved` block", &["from", "to"], &[]);
        let from = block.body.get_attribute("from").and_then(|attribute| self.reference(&attribute.value, "from"));
        let to = block.body.get_attribute("to").and_then(|attribute| self.reference(&attribute.value, "to"));
        match (from, to) {
            (Some(from), Some(to)) => module.moved.push(Moved { from, to, span: self.span(&block.ident) }),
            _ => {
                if block.body.get_attribute("from").is_none() || block.body.get_attribute("to").is_none() {
                    self.error(
                        "Missing required argument",
                        "A `moved` block needs both `from` and `to`.".into(),
                        self.span(&block.ident),
                    );
                }
            }
        }
    }

    fn check_block(&mut self, block: &Block, module: &mut Module) {
        let Some(labels) = self.labels(block, &["name"]) else { return };
        self.expect_only(&block.body, "`check` block", &[], &["assert", "data"]);
        for data in block.body.get_blocks("data") {
            self.diagnostics.push(
                Diagnostic::warning(
                    "Scoped data source not read",
                    "infra does not read `data` blocks nested in a `check` block yet; assertions that refer to them are skipped.",
                )
                .at(self.span(&data.ident)),
            );
        }
        let asserts = self.checks(&block.body, "assert");
        module.checks.push(CheckBlock { name: labels[0].clone(), asserts, span: self.span(&block.ident) });
    }

    fn removed(&mut self, block: &Block, module: &mut Module) {
        if self.labels(block, &[]).is_none() {
            return;
        }
        self.expect_only(&block.body, "`removed` block", &["from"], &["lifecycle", "provisioner", "connection"]);
        let Some(from) =
            block.body.get_attribute("from").and_then(|attribute| self.reference(&attribute.value, "from"))
        else {
            if block.body.get_attribute("from").is_none() {
                self.error(
                    "Missing required argument",
                    "A `removed` block needs `from`.".into(),
                    self.span(&block.ident),
                );
            }
            return;
        };
        let mut destroy = true;
        for lifecycle in block.body.get_blocks("lifecycle") {
            self.expect_only(&lifecycle.body, "`lifecycle` block of `removed`", &["destroy"], &[]);
            destroy = self.constant_bool(&lifecycle.body, "destroy", true);
        }
        module.removed.push(Removed { from, destroy, span: self.span(&block.ident) });
    }

    fn import(&mut self, block: &Block, module: &mut Module) {
        if self.labels(block, &[]).is_none() {
            return;
        }
        self.expect_only(&block.body, "`import` block", &["to", "id", "provider", "for_each", "identity"], &[]);
        let to = block.body.get_attribute("to").and_then(|attribute| self.reference(&attribute.value, "to"));
        let provider =
            block.body.get_attribute("provider").and_then(|attribute| self.reference(&attribute.value, "provider"));
        match (to, block.body.get_attribute("id")) {
            (Some(to), Some(id)) => {
                module.imports.push(Import { to, id: self.expr(&id.value), provider, span: self.span(&block.ident) })
            }
            _ => {
                if block.body.get_attribute("to").is_none() || block.body.get_attribute("id").is_none() {
                    self.error(
                        "Missing required argument",
                        "An `import` block needs both `to` and `id`.".into(),
                        self.span(&block.ident),
                    );
                }
            }
        }
    }
}

/// Whether `text` is a valid HCL identifier (letters, digits, `_`, `-`; not starting with a digit or `-`).
pub(crate) use crate::syntax::is_identifier;

/// "an `output` block", "a `variable` block".
fn with_article(what: &str) -> String {
    let first = what.trim_start_matches('`').chars().next().unwrap_or('x');
    let article = if "aeiou".contains(first.to_ascii_lowercase()) { "an" } else { "a" };
    format!("{article} {what}")
}
