//! Evaluating expressions to [`Value`]s.
//!
//! The evaluator is ours, over `hcl-edit`'s syntax tree, because values must carry
//! `Unknown`, the sensitive mark and arbitrary-precision numbers, which `hcl::eval` does not
//! model. It implements the whole HCL expression language: literals, templates and heredocs
//! with `%{ if }` / `%{ for }` directives and `~` strip markers, `for` expressions with `if`
//! and `...` grouping, splats, conditionals, operators, indexing and attribute access, and the
//! Terraform function library ([`functions`]).
//!
//! Start at [`Evaluator::eval`]. The names an expression can see live in a [`Scope`]: one map
//! per root name (`var`, `local`, `module`, `data`, `path`, each resource type...). The caller
//! builds it; the evaluator only reads it.

pub mod convert;
pub mod functions;
pub mod ops;
pub mod references;
pub mod template;

use crate::suggest::did_you_mean;
use convert::{describe, to_number, to_string};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use infra_provider::{Diagnostic, FileId, Span, Value};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

/// The names an expression can see.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Values by root name: `var`, `local`, `module`, `data`, `path`, `terraform`, `count`,
    /// `each`, `self`, and one entry per resource type (a map from resource name to value).
    pub roots: BTreeMap<String, Value>,
    /// The module directory: base of relative paths in `file()` and friends.
    pub module_dir: PathBuf,
    /// Whether functions whose result changes on every call (`timestamp`, `uuid`) and
    /// impure file reads return Unknown (plan time) or a value (console).
    pub plan_time: bool,
    /// Where file functions may read.
    pub files: std::sync::Arc<FileAccess>,
    /// Provider-defined functions (`provider::NAME::FUNCTION(...)`), when a walk has providers.
    pub provider_functions: Option<ProviderFunctions>,
}

/// Calls provider-defined functions: a provider's local name and function name, arguments
/// wholly known and without marks. `None` when no provider has that local name.
pub trait CallProviderFunction: Send + Sync {
    /// The call's result, or the function's error message.
    fn call(&self, provider: &str, function: &str, arguments: Vec<Value>)
    -> Option<std::result::Result<Value, String>>;
}

/// The provider functions a scope can call.
#[derive(Clone)]
pub struct ProviderFunctions(pub std::sync::Arc<dyn CallProviderFunction>);

impl std::fmt::Debug for ProviderFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderFunctions")
    }
}

/// Where the file functions (`file`, `fileset`, `templatefile`, `filebase64`, the hashes…)
/// read. Relative paths resolve against `base`, the configuration's root directory, as
/// Terraform resolves them against the working directory that `-chdir` makes the root: the
/// terminal and the controller read the same file for the same configuration.
///
/// Everywhere, only regular files are read (a device or a FIFO is refused before it is opened)
/// and at most [`FileAccess::MAX_SIZE`] bytes of them. With `confine` (the controller, whose
/// configurations come from pull requests), only files inside that directory are read, after
/// symbolic links and `..` are resolved: the controller's own files, its data directory and
/// other stacks are out of reach. The terminal keeps Terraform's behaviour: any file the user can
/// read.
#[derive(Clone, Debug, Default)]
pub struct FileAccess {
    /// The base of relative paths (absolute where it could be made so).
    pub base: PathBuf,
    /// Only files under this directory (canonical) may be read.
    pub confine: Option<PathBuf>,
}

impl FileAccess {
    /// The largest file a function reads: 16 MiB.
    pub const MAX_SIZE: u64 = 16 << 20;
}

impl Scope {
    /// A scope for a module directory.
    pub fn new(module_dir: impl Into<PathBuf>) -> Scope {
        Scope { module_dir: module_dir.into(), ..Scope::default() }
    }

    /// Sets a root name.
    pub fn set(&mut self, root: &str, value: Value) {
        self.roots.insert(root.to_string(), value);
    }
}

/// The (key, value) pairs of a collection being iterated, and whether it was sensitive.
type Iteration = (Vec<(Value, Value)>, bool);

/// Evaluates expressions of one file in one scope.
pub struct Evaluator<'a> {
    scope: &'a Scope,
    file: FileId,
    /// Names bound by `for` expressions and template `for` directives, innermost last.
    bindings: Vec<(String, Value)>,
}

type Result<T> = std::result::Result<T, Diagnostic>;

impl<'a> Evaluator<'a> {
    /// An evaluator for expressions of `file`.
    pub fn new(scope: &'a Scope, file: FileId) -> Evaluator<'a> {
        Evaluator { scope, file, bindings: Vec::new() }
    }

    /// Binds a name for the expressions evaluated next (`each`, a dynamic block iterator).
    pub fn bind(&mut self, name: &str, value: Value) {
        self.bindings.push((name.to_string(), value));
    }

    fn span(&self, range: Option<Range<usize>>) -> Option<Span> {
        range.map(|range| Span::new(self.file, range))
    }

    fn error(&self, summary: &str, detail: impl Into<String>, node: &impl hcl_edit::Span) -> Diagnostic {
        Diagnostic::error(summary, detail).at(self.span(node.span()))
    }

    /// Evaluates an expression.
    ///
    /// # Errors
    ///
    /// The first problem, as a diagnostic at the most specific span.
    pub fn eval(&mut self, expr: &Expression) -> Result<Value> {
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(value) => Ok(Value::Bool(*value.value())),
            Expression::Number(number) => self.number_literal(expr, number),
            Expression::String(text) => Ok(Value::String(nfc(text.value()))),
            Expression::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items.iter() {
                    values.push(self.eval(item)?);
                }
                Ok(Value::List(values))
            }
            Expression::Object(object) => {
                let mut entries = BTreeMap::new();
                let mut unknown_key = false;
                let mut marked = false;
                for (key, value) in object.iter() {
                    let name = match key {
                        ObjectKey::Ident(ident) => ident.value().as_str().to_string(),
                        ObjectKey::Expression(Expression::Variable(ident)) => ident.value().as_str().to_string(),
                        ObjectKey::Expression(key_expr) => {
                            let key_value = self.eval(key_expr)?;
                            let (key_value, key_marked) = key_value.unmark();
                            marked |= key_marked;
                            if !key_value.is_known() {
                                unknown_key = true;
                                continue;
                            }
                            to_string(&key_value).map_err(|message| {
                                self.error(
                                    "Invalid object key",
                                    format!("An object key must be a string: {message}."),
                                    key_expr,
                                )
                            })?
                        }
                    };
                    let value = self.eval(value.expr())?;
                    entries.insert(name, value);
                }
                if unknown_key {
                    return Ok(Value::Unknown.mark_if(marked));
                }
                Ok(Value::Map(entries).mark_if(marked))
            }
            Expression::StringTemplate(template) => {
                let elements: Vec<&hcl_edit::template::Element> = template.iter().collect();
                template::evaluate(self, &elements, true)
            }
            Expression::HeredocTemplate(heredoc) => {
                let elements: Vec<&hcl_edit::template::Element> = heredoc.template.iter().collect();
                template::evaluate(self, &elements, true)
            }
            Expression::Parenthesis(inner) => self.eval(inner.inner()),
            Expression::Variable(name) => self.root(name.value().as_str(), expr, None).map(|(value, _)| value),
            Expression::Traversal(traversal) => self.traversal(traversal),
            Expression::Conditional(conditional) => {
                let condition = self.eval(&conditional.cond_expr)?;
                let (condition, marked) = condition.unmark();
                if condition.is_null() {
                    return Err(self.error(
                        "Null condition",
                        "The condition value is null. Conditions must be either true or false.",
                        &conditional.cond_expr,
                    ));
                }
                if !condition.is_known() {
                    // Both branches are still checked for errors.
                    self.eval(&conditional.true_expr)?;
                    self.eval(&conditional.false_expr)?;
                    return Ok(Value::Unknown.mark_if(marked));
                }
                let chosen = convert::to_bool(&condition).map_err(|message| {
                    self.error(
                        "Incorrect condition type",
                        format!("The condition expression must be a bool: {message}."),
                        &conditional.cond_expr,
                    )
                })?;
                // As HCL does: both results are evaluated (their types unify), but only the
                // chosen one's errors count, so `var.x == null ? 1 : var.x.min` works.
                let (true_result, false_result) =
                    (self.eval(&conditional.true_expr), self.eval(&conditional.false_expr));
                let (true_value, false_value) = match (true_result, false_result) {
                    (Ok(t), Ok(f)) => (t, f),
                    (Ok(t), Err(_)) if chosen => return Ok(t.mark_if(marked)),
                    (Err(_), Ok(f)) if !chosen => return Ok(f.mark_if(marked)),
                    (Err(error), _) | (_, Err(error)) => return Err(error),
                };
                let unified = convert::unify(vec![true_value, false_value]).map_err(|message| {
                    self.error(
                        "Inconsistent conditional result types",
                        format!("The true and false result expressions must have consistent types: {message}."),
                        expr,
                    )
                })?;
                let mut results = unified.into_iter();
                let (true_value, false_value) =
                    (results.next().unwrap_or_default(), results.next().unwrap_or_default());
                Ok(if chosen { true_value } else { false_value }.mark_if(marked))
            }
            Expression::FuncCall(call) => self.call(call, expr),
            Expression::UnaryOp(op) => {
                let operand = self.eval(&op.expr)?;
                ops::unary(*op.operator.value(), operand).map_err(|message| {
                    self.error("Invalid operand", format!("Unsuitable value for unary operand: {message}."), &op.expr)
                })
            }
            Expression::BinaryOp(op) => {
                let left = self.eval(&op.lhs_expr)?;
                let right = self.eval(&op.rhs_expr)?;
                ops::binary(*op.operator.value(), left, right).map_err(|(side, message)| match side {
                    0 => self.error(
                        "Invalid operand",
                        format!("Unsuitable value for left operand: {message}."),
                        &op.lhs_expr,
                    ),
                    1 => self.error(
                        "Invalid operand",
                        format!("Unsuitable value for right operand: {message}."),
                        &op.rhs_expr,
                    ),
                    _ => self.error("Operation failed", format!("Error during operation: {message}."), expr),
                })
            }
            Expression::ForExpr(for_expr) => self.for_expr(for_expr, expr),
        }
    }

    fn number_literal(&self, expr: &Expression, number: &hcl_edit::Formatted<hcl_edit::Number>) -> Result<Value> {
        // The literal's own text keeps every digit; hcl-edit's number is an f64 or an integer.
        let text = number.as_repr().map(|repr| repr.to_string());
        let parsed = text
            .and_then(|text| text.replace(char::is_whitespace, "").parse().ok())
            .or_else(|| number.value().to_string().parse().ok());
        parsed
            .map(Value::Number)
            .ok_or_else(|| self.error("Invalid number", "This number literal cannot be represented.", expr))
    }

    fn lookup_binding(&self, name: &str) -> Option<&Value> {
        self.bindings.iter().rev().find(|(bound, _)| bound == name).map(|(_, value)| value)
    }

    /// Resolves a root name and, for namespaces (`var`, `local`, resource types...), the
    /// first step(s) after it, with the messages Terraform users know. Returns the value and
    /// how many operators it consumed.
    fn root(
        &self,
        name: &str,
        node: &Expression,
        operators: Option<&[hcl_edit::Decorated<TraversalOperator>]>,
    ) -> Result<(Value, usize)> {
        if let Some(value) = self.lookup_binding(name) {
            return Ok((value.clone(), 0));
        }
        let attr = |index: usize| -> Option<&str> {
            match operators?.get(index)?.value() {
                TraversalOperator::GetAttr(ident) => Some(ident.value().as_str()),
                _ => None,
            }
        };
        let Some(root) = self.scope.roots.get(name) else {
            return Err(match name {
                "count" => self.error("Reference to \"count\" in non-counted context", "The `count` object can be used only in `module`, `resource` and `data` blocks, and only when the `count` argument is set.", node),
                "each" => self.error("Reference to \"each\" in context without for_each", "The `each` object can be used only in `module` or `resource` blocks, and only when the `for_each` argument is set.", node),
                "self" => self.error("Invalid \"self\" reference", "The `self` object is available only in provisioner, connection and postcondition blocks.", node),
                "var" | "local" | "module" | "data" | "path" | "terraform" => self.error("Invalid reference", format!("The `{name}` object is not available here."), node),
                _ => match attr(0) {
                    Some(resource_name) => {
                        let mut diagnostic = self.error(
                            "Reference to undeclared resource",
                            format!("A managed resource `{name}.{resource_name}` has not been declared in this module."),
                            node,
                        );
                        let namespaces = ["var", "local", "module", "data", "path", "each", "count", "terraform"];
                        if let Some(suggestion) = did_you_mean(name, namespaces.into_iter().chain(self.scope.roots.keys().map(String::as_str))) {
                            diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}.{resource_name}`?"));
                        }
                        diagnostic
                    }
                    None => {
                        let mut diagnostic = self.error("Unknown variable", format!("There is no variable named `{name}`."), node);
                        let mut candidates: Vec<&str> = self.scope.roots.keys().map(String::as_str).collect();
                        candidates.extend(self.bindings.iter().map(|(bound, _)| bound.as_str()));
                        if let Some(suggestion) = did_you_mean(name, candidates) {
                            diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
                        }
                        diagnostic
                    }
                },
            });
        };
        let namespace =
            |what: &str, prefix: &str, key: Option<&str>, value: &Value, consumed: usize| -> Result<(Value, usize)> {
                let Some(key) = key else {
                    return Err(self.error(
                        "Invalid reference",
                        format!(
                            "The `{prefix}` object must be followed by the name of a {what}, as in `{prefix}.name`."
                        ),
                        node,
                    ));
                };
                match value.as_map() {
                    Some(entries) => match entries.get(key) {
                        Some(found) => Ok((found.clone().mark_if(value.is_marked()), consumed)),
                        None => {
                            let summary = match what {
                                "input variable" => "Reference to undeclared input variable",
                                "local value" => "Reference to undeclared local value",
                                "module call" => "Reference to undeclared module",
                                "resource" => "Reference to undeclared resource",
                                _ => "Unsupported attribute",
                            };
                            let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) { "An" } else { "A" };
                            let mut diagnostic = self.error(
                                summary,
                                format!("{article} {what} named `{key}` has not been declared (`{prefix}.{key}`)."),
                                node,
                            );
                            if let Some(suggestion) = did_you_mean(key, entries.keys().map(String::as_str)) {
                                diagnostic = diagnostic.with_hint(format!("did you mean `{prefix}.{suggestion}`?"));
                            }
                            Err(diagnostic)
                        }
                    },
                    None => Ok((value.clone(), consumed - 1)),
                }
            };
        match name {
            "var" => namespace("input variable", "var", attr(0), root, 1),
            "local" => namespace("local value", "local", attr(0), root, 1),
            "module" => namespace("module call", "module", attr(0), root, 1),
            "path" => namespace("path attribute", "path", attr(0), root, 1),
            "terraform" => namespace("attribute", "terraform", attr(0), root, 1),
            "data" => {
                let Some(kind) = attr(0) else {
                    return Err(self.error("Invalid reference", "The `data` object must be followed by a data source type and name, as in `data.aws_ami.ubuntu`.", node));
                };
                let Some(by_name) = root.as_map().and_then(|types| types.get(kind)) else {
                    return Err(self.error(
                        "Reference to undeclared resource",
                        format!("A data source of type `{kind}` has not been declared in this module."),
                        node,
                    ));
                };
                namespace("data source", &format!("data.{kind}"), attr(1), by_name, 2)
            }
            "count" | "each" | "self" => Ok((root.clone(), 0)),
            _ => namespace("resource", name, attr(0), root, 1),
        }
    }

    fn traversal(&mut self, traversal: &hcl_edit::expr::Traversal) -> Result<Value> {
        let operators = &traversal.operators;
        let (value, consumed) = match &traversal.expr {
            Expression::Variable(name) => {
                self.root(name.value().as_str(), &Expression::Traversal(Box::new(traversal.clone())), Some(operators))?
            }
            other => (self.eval(other)?, 0),
        };
        self.apply_operators(value, &operators[consumed..])
    }

    fn apply_operators(
        &mut self,
        mut value: Value,
        operators: &[hcl_edit::Decorated<TraversalOperator>],
    ) -> Result<Value> {
        let mut index = 0;
        while index < operators.len() {
            let operator = &operators[index];
            match operator.value() {
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let full = matches!(operator.value(), TraversalOperator::FullSplat(_));
                    let mut end = index + 1;
                    while end < operators.len() {
                        let continues = match operators[end].value() {
                            TraversalOperator::GetAttr(_) => true,
                            TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => full,
                            _ => false,
                        };
                        if !continues {
                            break;
                        }
                        end += 1;
                    }
                    let inner = &operators[index + 1..end];
                    let (bare, marked) = value.unmark();
                    value = match bare {
                        Value::Unknown => Value::Unknown,
                        Value::Null => Value::List(Vec::new()),
                        Value::List(items) | Value::Set(items) => {
                            let mut results = Vec::with_capacity(items.len());
                            for item in items {
                                results.push(self.apply_operators(item, inner)?);
                            }
                            Value::List(results)
                        }
                        single => Value::List(vec![self.apply_operators(single, inner)?]),
                    }
                    .mark_if(marked);
                    index = end;
                    continue;
                }
                TraversalOperator::GetAttr(ident) => {
                    value = self.get_attr(value, ident.value().as_str(), operator)?;
                }
                TraversalOperator::Index(key_expr) => {
                    let key = self.eval(key_expr)?;
                    value = self.index(value, key, operator)?;
                }
                TraversalOperator::LegacyIndex(position) => {
                    value = self.index(value, Value::int(*position.value() as i64), operator)?;
                }
            }
            index += 1;
        }
        Ok(value)
    }

    fn get_attr(&self, value: Value, name: &str, node: &impl hcl_edit::Span) -> Result<Value> {
        let (bare, marked) = value.unmark();
        let result = match bare {
            Value::Unknown => Value::Unknown,
            Value::Null => {
                return Err(self.error(
                    "Attempt to get attribute from null value",
                    format!("This value is null, so it does not have an attribute named `{name}`."),
                    node,
                ));
            }
            Value::Map(mut entries) => match entries.remove(name) {
                Some(found) => found,
                None => {
                    let mut diagnostic = self.error(
                        "Unsupported attribute",
                        format!("This object does not have an attribute named `{name}`."),
                        node,
                    );
                    if let Some(suggestion) = did_you_mean(name, entries.keys().map(String::as_str)) {
                        diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
                    }
                    return Err(diagnostic);
                }
            },
            Value::List(_) | Value::Set(_) => {
                return Err(self.error("Unsupported attribute", format!("Can't access attributes on a list of objects. Did you mean to access attribute `{name}` for a specific element of the list, or across all elements of the list (`[*].{name}`)?"), node));
            }
            other => {
                return Err(self.error(
                    "Unsupported attribute",
                    format!("Can't access attribute `{name}` on {}.", describe(&other)),
                    node,
                ));
            }
        };
        Ok(result.mark_if(marked))
    }

    fn index(&self, value: Value, key: Value, node: &impl hcl_edit::Span) -> Result<Value> {
        let (bare, marked) = value.unmark();
        let (key, key_marked) = key.unmark();
        let marked = marked || key_marked;
        if !bare.is_known() || !key.is_known() {
            return Ok(Value::Unknown.mark_if(marked));
        }
        let result = match bare {
            Value::Null => return Err(self.error("Attempt to index null value", "This value is null, so it does not have any indices.", node)),
            Value::List(mut items) => {
                let position = to_number(&key)
                    .ok()
                    .filter(|n| n.is_integer())
                    .and_then(|n| n.to_i64())
                    .ok_or_else(|| self.error("Invalid index", "A list index must be a whole number.", node))?;
                if position < 0 || position as usize >= items.len() {
                    return Err(self.error("Invalid index", format!("The given key does not identify an element in this collection value: the index {position} is out of range for a list of {} elements.", items.len()), node));
                }
                items.swap_remove(position as usize)
            }
            Value::Map(mut entries) => {
                let name = to_string(&key).map_err(|message| self.error("Invalid index", format!("A map key must be a string: {message}."), node))?;
                match entries.remove(&name) {
                    Some(found) => found,
                    None if key_marked => return Err(self.error("Invalid index", "The given key does not identify an element in this collection value; the key is sensitive, so it is not shown.", node)),
                    None => return Err(self.error("Invalid index", format!("The given key does not identify an element in this collection value: there is no key {name:?}."), node)),
                }
            }
            Value::Set(_) => return Err(self.error("Invalid index", "Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.", node)),
            other => return Err(self.error("Invalid index", format!("This value does not have any indices: it is {}.", describe(&other)), node)),
        };
        Ok(result.mark_if(marked))
    }

    /// The elements of a collection as (key, value) pairs for `for` expressions and directives:
    /// list index, map key, or the set element itself.
    fn iterate(&self, collection: Value, node: &impl hcl_edit::Span) -> Result<Option<Iteration>> {
        let (bare, marked) = collection.unmark();
        let pairs = match bare {
            Value::Unknown => return Ok(None),
            Value::Null => {
                return Err(self.error(
                    "Iteration over null value",
                    "A null value cannot be used as the collection in a `for` expression.",
                    node,
                ));
            }
            Value::List(items) => items.into_iter().enumerate().map(|(i, v)| (Value::int(i as i64), v)).collect(),
            Value::Set(items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
            Value::Map(entries) => entries.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            other => {
                return Err(self.error(
                    "Iteration over non-iterable value",
                    format!("A value of type {} cannot be used as the collection in a `for` expression.", other.kind()),
                    node,
                ));
            }
        };
        Ok(Some((pairs, marked)))
    }

    fn for_expr(&mut self, for_expr: &hcl_edit::expr::ForExpr, node: &Expression) -> Result<Value> {
        let collection = self.eval(&for_expr.intro.collection_expr)?;
        let Some((pairs, marked)) = self.iterate(collection, &for_expr.intro.collection_expr)? else {
            return Ok(Value::Unknown);
        };
        let key_var = for_expr.intro.key_var.as_ref().map(|k| k.value().as_str().to_string());
        let value_var = for_expr.intro.value_var.value().as_str().to_string();
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        let before = self.bindings.len();
        for (key, value) in pairs {
            self.bindings.truncate(before);
            if let Some(key_var) = &key_var {
                self.bindings.push((key_var.clone(), key));
            }
            self.bindings.push((value_var.clone(), value));
            let outcome = (|| -> Result<()> {
                if let Some(cond) = &for_expr.cond {
                    let keep = self.eval(&cond.expr)?;
                    if !keep.is_known() {
                        unknown = true;
                        return Ok(());
                    }
                    if keep.is_null() {
                        return Err(self.error(
                            "Condition is null",
                            "The value of the `if` clause must not be null.",
                            &cond.expr,
                        ));
                    }
                    let keep = convert::to_bool(&keep).map_err(|message| {
                        self.error(
                            "Invalid `for` condition",
                            format!("The `if` clause value is invalid: {message}."),
                            &cond.expr,
                        )
                    })?;
                    if !keep {
                        return Ok(());
                    }
                }
                let value = self.eval(&for_expr.value_expr)?;
                match &for_expr.key_expr {
                    None => list.push(value),
                    Some(key_expr) => {
                        let key = self.eval(key_expr)?;
                        if !key.is_known() {
                            unknown = true;
                            return Ok(());
                        }
                        if key.is_null() {
                            return Err(self.error(
                                "Invalid object key",
                                "Key expression in `for` expression must not produce a null value.",
                                key_expr,
                            ));
                        }
                        let key = to_string(&key).map_err(|message| {
                            self.error(
                                "Invalid object key",
                                format!("The key expression produced an invalid result: {message}."),
                                key_expr,
                            )
                        })?;
                        if for_expr.grouping {
                            groups.entry(key).or_default().push(value);
                        } else {
                            match object.entry(key) {
                                std::collections::btree_map::Entry::Occupied(entry) => {
                                    return Err(self.error("Duplicate object key", format!("Two different items produced the key {:?} in this `for` expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.", entry.key()), key_expr));
                                }
                                std::collections::btree_map::Entry::Vacant(entry) => {
                                    entry.insert(value);
                                }
                            }
                        }
                    }
                }
                Ok(())
            })();
            if let Err(error) = outcome {
                self.bindings.truncate(before);
                return Err(error);
            }
        }
        self.bindings.truncate(before);
        let _ = node;
        if unknown {
            return Ok(Value::Unknown.mark_if(marked));
        }
        let result = if for_expr.key_expr.is_none() {
            Value::List(list)
        } else if for_expr.grouping {
            Value::Map(groups.into_iter().map(|(k, v)| (k, Value::List(v))).collect())
        } else {
            Value::Map(object)
        };
        Ok(result.mark_if(marked))
    }

    fn call(&mut self, call: &hcl_edit::expr::FuncCall, node: &Expression) -> Result<Value> {
        let name = call.name.name.value().as_str();
        let full_name = if call.name.is_namespaced() {
            let mut parts: Vec<&str> = call.name.namespace.iter().map(|part| part.value().as_str()).collect();
            parts.push(name);
            parts.join("::")
        } else {
            name.to_string()
        };
        let arguments: Vec<&Expression> = call.args.iter().collect();
        // `try` and `can` see errors instead of values, so they evaluate lazily.
        match full_name.as_str() {
            "try" => {
                if arguments.is_empty() {
                    return Err(self.error("Invalid function argument", "`try` needs at least one argument.", node));
                }
                let mut last_error = None;
                for argument in &arguments {
                    match self.eval(argument) {
                        Ok(value) if !value.is_wholly_known() => return Ok(Value::Unknown),
                        Ok(value) => return Ok(value),
                        Err(error) => last_error = Some(error),
                    }
                }
                let detail = last_error.map_or(String::new(), |error| format!(" The last error was: {}", error.detail));
                return Err(self.error(
                    "Error in function call",
                    format!("Call to function \"try\" failed: no expression succeeded.{detail}"),
                    node,
                ));
            }
            "can" => {
                let [argument] = arguments.as_slice() else {
                    return Err(self.error("Invalid function argument", "`can` takes exactly one argument.", node));
                };
                return Ok(match self.eval(argument) {
                    Ok(value) if !value.is_wholly_known() => Value::Unknown,
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            // Terraform: the template must come from elsewhere, not be written in place (where
            // its own `${}` would already have been evaluated).
            "templatestring"
                if arguments
                    .first()
                    .is_some_and(|first| !matches!(first, Expression::Variable(_) | Expression::Traversal(_))) =>
            {
                return Err(self.error(
                    "Invalid template argument",
                    "The first argument of `templatestring` must be a direct reference to a string value, such as `local.template` or `data.http.example.response_body`.",
                    arguments[0],
                ));
            }
            _ => {}
        }
        // `provider::terraform::…` are Terraform's own (built in); other providers' functions
        // come from their plugins.
        if let Some(rest) = full_name.strip_prefix("provider::")
            && functions::lookup(&full_name).is_none()
        {
            return self.call_provider_function(rest, &full_name, &arguments, node);
        }
        let Some(function) = functions::lookup(&full_name) else {
            let mut diagnostic = self.error(
                "Call to unknown function",
                format!("There is no function named `{full_name}`."),
                &call.name.name,
            );
            if let Some(suggestion) = did_you_mean(&full_name, functions::names()) {
                diagnostic = diagnostic.with_hint(format!("did you mean `{suggestion}`?"));
            }
            return Err(diagnostic);
        };
        let mut values = Vec::with_capacity(arguments.len());
        for (index, argument) in arguments.iter().enumerate() {
            let value = self.eval(argument)?;
            if call.args.expand_final() && index + 1 == arguments.len() {
                match value.bare() {
                    Value::List(items) | Value::Set(items) => {
                        let marked = value.is_marked();
                        values.extend(items.iter().cloned().map(|item| item.mark_if(marked)));
                    }
                    Value::Unknown => return Ok(Value::Unknown),
                    _ => {
                        return Err(self.error(
                            "Invalid expanding argument value",
                            "The expanding argument (indicated by ...) must be of a tuple, list, or set type.",
                            *argument,
                        ));
                    }
                }
            } else {
                values.push(value);
            }
        }
        let context = functions::CallContext {
            module_dir: &self.scope.module_dir,
            plan_time: self.scope.plan_time,
            files: &self.scope.files,
        };
        functions::call(function, values, &context).map_err(|error| {
            match error.argument.and_then(|index| arguments.get(index.min(arguments.len().saturating_sub(1)))) {
                Some(argument) if error.argument.is_some() => self.error(
                    "Invalid function argument",
                    format!(
                        "Invalid value for argument {} of `{full_name}`: {}.",
                        error.argument.unwrap_or(0) + 1,
                        error.message
                    ),
                    *argument,
                ),
                _ => self.error(
                    "Error in function call",
                    format!("Call to function `{full_name}` failed: {}.", error.message),
                    node,
                ),
            }
        })
    }
}

impl Evaluator<'_> {
    /// `provider::NAME::FUNCTION(...)`: Terraform's rule for unknown arguments (the result is
    /// unknown, the provider is not called) and sensitive ones (the result is sensitive).
    fn call_provider_function(
        &mut self,
        rest: &str,
        full_name: &str,
        arguments: &[&Expression],
        node: &Expression,
    ) -> Result<Value> {
        let Some((provider, function)) = rest.split_once("::").filter(|(p, f)| !p.is_empty() && !f.contains("::"))
        else {
            return Err(self.error(
                "Invalid provider function name",
                format!("`{full_name}` is not of the form `provider::NAME::FUNCTION`."),
                node,
            ));
        };
        let mut values = Vec::with_capacity(arguments.len());
        for argument in arguments {
            values.push(self.eval(argument)?);
        }
        if values.iter().any(|v| !v.is_wholly_known()) {
            return Ok(Value::Unknown);
        }
        let sensitive = values.iter().any(Value::contains_sensitive);
        let values = values.into_iter().map(Value::deep_unmark).collect();
        let unknown_provider = || {
            self.error(
                "Call to unknown function",
                format!(
                    "There is no function `{full_name}`: no provider with the local name `{provider}` is required."
                ),
                node,
            )
        };
        // Without providers (validate, console) the result is not known.
        let Some(functions) = &self.scope.provider_functions else { return Ok(Value::Unknown) };
        match functions.0.call(provider, function, values) {
            None => Err(unknown_provider()),
            Some(Ok(value)) => Ok(value.mark_if(sensitive)),
            Some(Err(message)) => Err(self.error(
                "Error in function call",
                format!("Call to function `{full_name}` failed: {message}."),
                node,
            )),
        }
    }
}

/// NFC-normalizes a string, as Terraform does for every string value.
pub(crate) fn nfc(text: &str) -> String {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => text.to_string(),
        _ => text.nfc().collect(),
    }
}

/// Evaluates an expression that may not reference anything (a variable's default, a type's
/// optional default).
///
/// # Errors
///
/// A diagnostic when it references something or fails.
pub fn constant(expr: &Expression, file: FileId) -> Result<Value> {
    if let Some(reference) = references::references(expr).first() {
        let span = reference.range.clone().map(|range| Span::new(file, range));
        return Err(Diagnostic::error(
            "Variables not allowed",
            "Variables may not be used here; this value must be known when the configuration is loaded.",
        )
        .at(span));
    }
    let scope = Scope::default();
    let mut prepared = expr.clone();
    template::prepare_expr(&mut prepared, &[]);
    Evaluator::new(&scope, file).eval(&prepared)
}
