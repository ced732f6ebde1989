//! YAML files: Kubernetes manifests, or the same blocks as HCL.
//!
//! A document with `apiVersion` and `kind` is a Kubernetes manifest, kept whole as a
//! [`Value`]. A document whose top-level keys are block types (`resource`, `variable`, ...) is
//! translated to HCL text, exactly as Terraform's JSON syntax mirrors the native syntax: a
//! string is a template (`"${var.name}"`), and arguments that take references (`depends_on`,
//! `provider`, `moved.from`, a variable's `type`) are read as expressions. The generated text
//! is registered in the source map with a table that maps its offsets back to the YAML lines,
//! so a diagnostic in it points at the YAML the user wrote.
//!
//! Trade-off: without provider schemas a nested YAML mapping inside a resource is an object
//! argument, never a nested block; the engine accepts an object where a block is expected.

use super::decode::{decode_file, is_identifier};
use super::model::{Manifest, Module};
use super::parse::parse_error;
use crate::source::{Mapping, SourceMap};
use crate::yaml::{Node, NodeKind, node_value, parse_documents};
use infra_provider::{Diagnostic, Diagnostics, FileId, Span, Value};

use super::decode::TOP_LEVEL_BLOCKS as BLOCK_KEYS;

pub(crate) fn load_yaml_file(
    file: FileId,
    sources: &mut SourceMap,
    module: &mut Module,
    diagnostics: &mut Diagnostics,
) {
    let source = sources.get(file).expect("file was just added");
    let text = source.text.clone();
    let documents = match parse_documents(&text) {
        Ok(documents) => documents,
        Err((message, location)) => {
            let offset = location.map_or(0, |(line, column)| source.offset_of(line, column));
            diagnostics.push(
                Diagnostic::error("Invalid YAML", format!("The YAML parser says: {message}."))
                    .at(Some(Span::new(file, offset..offset + 1))),
            );
            return;
        }
    };
    let path = source.path.clone();
    // A file none of whose documents is a manifest or block-shaped is not configuration (a
    // module's `README.yaml`, a CI file, an `atmos.yaml` whose `import:` lists URLs): skipped,
    // as Terraform skips it. Block-shaped: some key is a block type, and every block-type key
    // holds a mapping or a list of mappings.
    let block_shaped = |node: &Node| match &node.value {
        NodeKind::Map(_) | NodeKind::Null => true,
        NodeKind::Seq(items) => items.iter().all(|item| matches!(item.value, NodeKind::Map(_))),
        _ => false,
    };
    let recognizable = |document: &&Node| match &document.value {
        NodeKind::Map(entries) => {
            let has = |key: &str| entries.iter().any(|(k, _)| k == key);
            let mut blocks = entries.iter().filter(|(k, _)| BLOCK_KEYS.contains(&k.as_str())).peekable();
            (has("apiVersion") && has("kind")) || (blocks.peek().is_some() && blocks.all(|(_, v)| block_shaped(v)))
        }
        _ => false,
    };
    if !documents.iter().any(|d| recognizable(&d)) {
        tracing::debug!(file = %path.display(), "YAML that is neither configuration nor a manifest: skipped");
        return;
    }
    for document in documents {
        let span = node_span(sources, file, &document);
        let NodeKind::Map(entries) = &document.value else {
            if !matches!(document.value, NodeKind::Null) {
                diagnostics.push(
                    Diagnostic::error("Unrecognized YAML document", "A YAML document must be a mapping: a Kubernetes manifest (`apiVersion` and `kind`) or configuration blocks (`resource:`, `variable:`, ...).")
                        .at(span),
                );
            }
            continue;
        };
        let has = |key: &str| entries.iter().any(|(k, _)| k == key);
        if has("apiVersion") && has("kind") {
            manifest(&document.value, span, module, diagnostics);
        } else if let Some((key, node)) = entries.iter().find(|(key, _)| !BLOCK_KEYS.contains(&key.as_str())) {
            let mut diagnostic = Diagnostic::error(
                "Unrecognized YAML document",
                format!("The key `{key}` is neither a block type ({}) nor part of a Kubernetes manifest (`apiVersion` and `kind`).", BLOCK_KEYS.join(", ")),
            )
            .at(node_span(sources, file, node));
            if let Some(suggestion) = crate::suggest::did_you_mean(key, BLOCK_KEYS.iter().copied()) {
                diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
            }
            diagnostics.push(diagnostic);
        } else {
            let mut writer =
                HclWriter { file, sources, out: String::new(), mapping: Vec::new(), diagnostics, json: false };
            writer.blocks(entries);
            let HclWriter { out, mapping, .. } = writer;
            let synthetic = sources.add_mapped(path.clone(), out, mapping);
            let text = &sources.get(synthetic).expect("just added").text;
            match super::parse::parse_hcl(text) {
                Ok(body) => decode_file(&body, synthetic, module, diagnostics),
                Err(error) => diagnostics.push(parse_error(&error, synthetic, text)),
            }
        }
    }
}

/// Loads a `*.tf.json` file: Terraform's JSON syntax, translated to HCL text like YAML block
/// documents (strings are templates; `"//"` keys are comments; a block may be given as an
/// object or an array of objects at every level).
pub(crate) fn load_json_file(
    file: FileId,
    sources: &mut SourceMap,
    module: &mut Module,
    diagnostics: &mut Diagnostics,
) {
    let source = sources.get(file).expect("file was just added");
    let text = source.text.clone();
    // Strict JSON first (a YAML reader would accept more); its position for the diagnostic.
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
        let offset = source.offset_of(error.line().max(1), error.column().max(1));
        let end = text[offset.min(text.len())..].chars().next().map_or(offset, |c| offset + c.len_utf8());
        diagnostics.push(
            Diagnostic::error("Invalid JSON", format!("The JSON parser says: {error}."))
                .at(Some(Span::new(file, offset.min(text.len())..end.min(text.len())))),
        );
        return;
    }
    let path = source.path.clone();
    let documents = match parse_documents(&text) {
        Ok(documents) => documents,
        Err((message, location)) => {
            let offset = location.map_or(0, |(line, column)| source.offset_of(line, column));
            diagnostics.push(
                Diagnostic::error("Unsupported JSON", format!("This JSON could not be read: {message}."))
                    .at(Some(Span::new(file, offset..(offset + 1).min(text.len())))),
            );
            return;
        }
    };
    let Some(document) = documents.first() else { return };
    let NodeKind::Map(entries) = &document.value else {
        diagnostics.push(
            Diagnostic::error(
                "Invalid JSON configuration",
                "The root of a `.tf.json` file must be an object of blocks (`\"resource\": {...}`).",
            )
            .at(node_span(sources, file, document)),
        );
        return;
    };
    let mut writer = HclWriter { file, sources, out: String::new(), mapping: Vec::new(), diagnostics, json: true };
    for (key, node) in entries {
        if key != "//" && !BLOCK_KEYS.contains(&key.as_str()) {
            let mut diagnostic =
                Diagnostic::error("Unsupported block type", format!("Blocks of type `{key}` are not expected here."))
                    .at(node_span(writer.sources, file, node));
            if let Some(suggestion) = crate::suggest::did_you_mean(key, BLOCK_KEYS.iter().copied()) {
                diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
            }
            writer.diagnostics.push(diagnostic);
        }
    }
    writer.blocks(entries);
    let HclWriter { out, mapping, .. } = writer;
    let synthetic = sources.add_mapped(path, out, mapping);
    let text = &sources.get(synthetic).expect("just added").text;
    match super::parse::parse_hcl(text) {
        Ok(body) => decode_file(&body, synthetic, module, diagnostics),
        Err(error) => diagnostics.push(parse_error(&error, synthetic, text)),
    }
}

fn node_span(sources: &SourceMap, file: FileId, node: &Node) -> Option<Span> {
    let source = sources.get(file)?;
    let line = node.referenced.line() as usize;
    if line == 0 {
        return None;
    }
    let start = source.offset_of(line, node.referenced.column() as usize);
    let end = source.text[start..].find('\n').map_or(source.text.len(), |at| start + at);
    Some(Span::new(file, start..end.max(start + 1).min(source.text.len().max(start))))
}

fn manifest(node: &NodeKind, span: Option<Span>, module: &mut Module, diagnostics: &mut Diagnostics) {
    let object = node_value(node);
    let field = |path: &[&str]| -> Option<String> {
        let mut current = &object;
        for key in path {
            current = current.as_map()?.get(*key)?;
        }
        current.as_str().map(str::to_string)
    };
    let (Some(api_version), Some(kind)) = (field(&["apiVersion"]), field(&["kind"])) else {
        diagnostics.push(
            Diagnostic::error("Invalid Kubernetes manifest", "`apiVersion` and `kind` must be strings.").at(span),
        );
        return;
    };
    let Some(name) = field(&["metadata", "name"]) else {
        diagnostics.push(
            Diagnostic::error(
                "Invalid Kubernetes manifest",
                format!("This {kind} has no `metadata.name`; every manifest needs a name."),
            )
            .at(span),
        );
        return;
    };
    let manifest =
        Manifest { api_version, kind, namespace: field(&["metadata", "namespace"]), name, object, span: span.clone() };
    let key = manifest.key();
    if module.manifests.contains_key(&key) {
        diagnostics.push(
            Diagnostic::error(
                "Duplicate Kubernetes manifest",
                format!("The object `{key}` is defined more than once."),
            )
            .at(span),
        );
        return;
    }
    module.manifests.insert(key, manifest);
}

/// Writes HCL text for YAML block documents, recording where each piece came from.
struct HclWriter<'a> {
    file: FileId,
    sources: &'a SourceMap,
    out: String,
    mapping: Vec<Mapping>,
    diagnostics: &'a mut Diagnostics,
    /// Terraform's JSON syntax: `"//"` keys are comments.
    json: bool,
}

impl HclWriter<'_> {
    fn mark(&mut self, node: &Node) {
        if let Some(span) = node_span(self.sources, self.file, node) {
            self.mapping.push(Mapping { generated: self.out.len(), original: span });
        }
    }

    fn error(&mut self, node: &Node, summary: &str, detail: String) {
        let span = node_span(self.sources, self.file, node);
        self.diagnostics.push(Diagnostic::error(summary, detail).at(span));
    }

    /// A mapping's entries; in JSON also an array of objects (Terraform's JSON syntax allows
    /// one at every block level), `"//"` comment keys left out.
    fn entries<'n>(&mut self, node: &'n Node, what: &str) -> Vec<&'n (String, Node)> {
        match &node.value {
            NodeKind::Map(entries) => entries.iter().filter(|(key, _)| !(self.json && key == "//")).collect(),
            NodeKind::Null => Vec::new(),
            NodeKind::Seq(items) if self.json => {
                let mut all = Vec::new();
                for item in items {
                    all.extend(self.entries(item, what));
                }
                all
            }
            _ => {
                let syntax = if self.json { "JSON" } else { "YAML" };
                let shape = if self.json { "an object" } else { "a mapping" };
                self.error(node, &format!("Invalid {syntax} block"), format!("{what} must be {shape}."));
                Vec::new()
            }
        }
    }

    fn label(&mut self, text: &str) {
        self.out.push(' ');
        quote(&mut self.out, text);
    }

    fn blocks(&mut self, entries: &[(String, Node)]) {
        for (key, node) in entries {
            match key.as_str() {
                "locals" => {
                    self.mark(node);
                    self.out.push_str("locals {\n");
                    for (name, value) in self.entries(node, "`locals`") {
                        self.attribute(name, value);
                    }
                    self.out.push_str("}\n");
                }
                "resource" | "data" => {
                    for (kind, names) in self.entries(node, &format!("`{key}`")) {
                        for (name, body) in self.entries(names, "A resource type") {
                            self.mark(body);
                            self.out.push_str(key);
                            self.label(kind);
                            self.label(name);
                            self.out.push_str(" {\n");
                            self.body(body, &["depends_on", "provider"], &["lifecycle", "connection"]);
                            self.out.push_str("}\n");
                        }
                    }
                }
                "variable" | "output" | "module" => {
                    for (name, body) in self.entries(node, &format!("`{key}`")) {
                        self.mark(body);
                        self.out.push_str(key);
                        self.label(name);
                        self.out.push_str(" {\n");
                        let raw: &[&str] = match key.as_str() {
                            "variable" => &["type"],
                            "module" => &["depends_on", "providers"],
                            _ => &["depends_on"],
                        };
                        self.body(body, raw, &["validation", "precondition"]);
                        self.out.push_str("}\n");
                    }
                }
                "provider" => {
                    for (name, body) in self.entries(node, "`provider`") {
                        let bodies: Vec<&Node> = match &body.value {
                            NodeKind::Seq(items) => items.iter().collect(),
                            _ => vec![body],
                        };
                        for body in bodies {
                            self.mark(body);
                            self.out.push_str("provider");
                            self.label(name);
                            self.out.push_str(" {\n");
                            self.body(body, &[], &[]);
                            self.out.push_str("}\n");
                        }
                    }
                }
                "terraform" | "infra" => {
                    self.mark(node);
                    self.out.push_str(key);
                    self.out.push_str(" {\n");
                    for (setting, value) in self.entries(node, "Settings") {
                        match setting.as_str() {
                            "backend" => {
                                for (kind, body) in self.entries(value, "`backend`") {
                                    self.mark(body);
                                    self.out.push_str("backend");
                                    self.label(kind);
                                    self.out.push_str(" {\n");
                                    self.body(body, &[], &[]);
                                    self.out.push_str("}\n");
                                }
                            }
                            "required_providers" | "encryption" => {
                                self.mark(value);
                                self.out.push_str(setting);
                                self.out.push_str(" {\n");
                                self.body(value, &[], &[]);
                                self.out.push_str("}\n");
                            }
                            _ => self.attribute(setting, value),
                        }
                    }
                    self.out.push_str("}\n");
                }
                "check" | "removed" => {
                    let bodies: Vec<(Option<&String>, &Node)> = if key == "check" {
                        self.entries(node, "`check`").into_iter().map(|(name, body)| (Some(name), body)).collect()
                    } else {
                        match &node.value {
                            NodeKind::Seq(items) => items.iter().map(|item| (None, item)).collect(),
                            _ => vec![(None, node)],
                        }
                    };
                    for (name, body) in bodies {
                        self.mark(body);
                        self.out.push_str(key);
                        if let Some(name) = name {
                            self.label(name);
                        }
                        self.out.push_str(" {\n");
                        if key == "check" {
                            self.body(body, &[], &["assert"]);
                        } else {
                            self.body(body, &["from"], &["lifecycle"]);
                        }
                        self.out.push_str("}\n");
                    }
                }
                "moved" | "import" => {
                    let items: Vec<&Node> = match &node.value {
                        NodeKind::Seq(items) => items.iter().collect(),
                        _ => vec![node],
                    };
                    for item in items {
                        self.mark(item);
                        self.out.push_str(key);
                        self.out.push_str(" {\n");
                        self.body(item, &["from", "to", "provider"], &[]);
                        self.out.push_str("}\n");
                    }
                }
                _ => {}
            }
        }
    }

    /// A body: `raw` keys hold expressions written as strings; `blocks` keys are nested blocks
    /// (a mapping, or a list of mappings).
    fn body(&mut self, node: &Node, raw: &[&str], blocks: &[&str]) {
        for (key, value) in self.entries(node, "A block body") {
            if blocks.contains(&key.as_str())
                || key == "dynamic"
                || (key == "provisioner" && blocks.contains(&"lifecycle"))
            {
                if key == "provisioner" {
                    for (kind, body) in self.entries(value, "`provisioner`") {
                        self.mark(body);
                        self.out.push_str("provisioner");
                        self.label(kind);
                        self.out.push_str(" {\n");
                        self.body(body, &[], &["connection"]);
                        self.out.push_str("}\n");
                    }
                    continue;
                }
                if key == "dynamic" {
                    for (kind, body) in self.entries(value, "`dynamic`") {
                        self.mark(body);
                        self.out.push_str("dynamic");
                        self.label(kind);
                        self.out.push_str(" {\n");
                        self.body(body, &["iterator"], &["content"]);
                        self.out.push_str("}\n");
                    }
                    continue;
                }
                let items: Vec<&Node> = match &value.value {
                    NodeKind::Seq(items) => items.iter().collect(),
                    _ => vec![value],
                };
                for item in items {
                    self.mark(item);
                    self.out.push_str(key);
                    self.out.push_str(" {\n");
                    let nested_raw: &[&str] =
                        if key == "lifecycle" { &["ignore_changes", "replace_triggered_by"] } else { &[] };
                    let nested_blocks: &[&str] =
                        if key == "lifecycle" { &["precondition", "postcondition"] } else { &[] };
                    self.body(item, nested_raw, nested_blocks);
                    self.out.push_str("}\n");
                }
            } else if raw.contains(&key.as_str()) {
                self.raw_attribute(key, value);
            } else {
                self.attribute(key, value);
            }
        }
    }

    fn attribute_name(&mut self, key: &str, value: &Node) -> bool {
        if is_identifier(key) {
            self.mark(value);
            self.out.push_str(key);
            self.out.push_str(" = ");
            true
        } else {
            self.error(value, "Invalid argument name", format!("`{key}` is not a valid argument name; names start with a letter or underscore and contain letters, digits, underscores and dashes."));
            false
        }
    }

    fn attribute(&mut self, key: &str, value: &Node) {
        if self.attribute_name(key, value) {
            self.value(value);
            self.out.push('\n');
        }
    }

    fn raw_attribute(&mut self, key: &str, value: &Node) {
        if !self.attribute_name(key, value) {
            return;
        }
        self.raw(value);
        self.out.push('\n');
    }

    /// An expression written as a YAML string (`aws_vpc.main`, `list(string)`), or a list of them.
    fn raw(&mut self, value: &Node) {
        match &value.value {
            NodeKind::String(text) => {
                self.mark(value);
                // Keep the expression on one line so a newline cannot end the attribute early.
                self.out.push_str(&text.replace('\n', " "));
            }
            NodeKind::Seq(items) => {
                self.out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.out.push_str(", ");
                    }
                    self.raw(item);
                }
                self.out.push(']');
            }
            NodeKind::Map(entries) => {
                // `providers = { aws = aws.east }`: keys and values are references.
                self.out.push_str("{\n");
                for (key, item) in entries {
                    if is_identifier(key) || key.split('.').all(is_identifier) {
                        self.out.push_str(key);
                    } else {
                        quote(&mut self.out, key);
                    }
                    self.out.push_str(" = ");
                    self.raw(item);
                    self.out.push('\n');
                }
                self.out.push('}');
            }
            _ => self.value(value),
        }
    }

    fn value(&mut self, node: &Node) {
        self.mark(node);
        match &node.value {
            NodeKind::Null => self.out.push_str("null"),
            NodeKind::Bool(value) => self.out.push_str(if *value { "true" } else { "false" }),
            NodeKind::Number(text) => self.out.push_str(text),
            NodeKind::String(text) => quote(&mut self.out, text),
            NodeKind::Seq(items) => {
                self.out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.out.push_str(", ");
                    }
                    self.value(item);
                }
                self.out.push(']');
            }
            NodeKind::Map(entries) => {
                self.out.push_str("{\n");
                for (key, value) in entries {
                    quote(&mut self.out, key);
                    self.out.push_str(" = ");
                    self.value(value);
                    self.out.push('\n');
                }
                self.out.push('}');
            }
        }
    }
}

/// The HCL of the resource that holds a module's YAML manifests, taken literally (`${` is no
/// template in them).
pub(crate) fn manifests_resource(manifests: &std::collections::BTreeMap<String, Manifest>) -> String {
    fn literal(out: &mut String, value: &Value) {
        match value.bare() {
            Value::Null | Value::Unknown => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::String(s) => crate::syntax::write_quoted(out, s, false),
            Value::List(items) | Value::Set(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    literal(out, item);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (i, (key, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    crate::syntax::write_quoted(out, key, false);
                    out.push_str(" = ");
                    literal(out, item);
                }
                out.push('}');
            }
            Value::Sensitive(_) => out.push_str("null"),
        }
    }
    let mut out = String::from("resource \"kubernetes_manifest\" \"yaml\" {\n  for_each = {\n");
    for (key, manifest) in manifests {
        out.push_str("    ");
        crate::syntax::write_quoted(&mut out, key, false);
        out.push_str(" = ");
        literal(&mut out, &manifest.object);
        out.push('\n');
    }
    out.push_str("  }\n  manifest = each.value\n}\n");
    out
}

/// Writes `text` as a quoted HCL template: escapes quotes, backslashes and control characters,
/// keeps `${...}` and `%{...}` as template syntax (as Terraform's JSON syntax does).
fn quote(out: &mut String, text: &str) {
    crate::syntax::write_quoted(out, text, true);
}
