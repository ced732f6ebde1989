//! Resource-level dependencies: the resources an object depends on, followed through locals,
//! module outputs and module input variables, as Terraform records `dependencies` in state.
//!
//! A subnet that refers to `local.vpc_id`, itself `aws_vpc.main.id`, depends on `aws_vpc.main`;
//! a resource that refers to `module.net.vpc_id` depends on the resources that output refers
//! to, inside the module; a resource in a module that refers to `var.vpc_id` depends on what
//! the module call's `vpc_id` argument refers to. Deletes run dependents first from this
//! record, so it must name resources, never the locals and variables between them.

use super::ModuleGraph;
use crate::addr::{Address, ModuleStep, Target};
use crate::config::{Expr, Module};
use crate::eval::references::{Reference, references};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One dependency, relative to the module it is found in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dep {
    /// A resource or a whole module, the module path relative to this module.
    Target(Target),
    /// Whatever the calling module passed as this input variable.
    Var(String),
}

/// The dependencies of every node of one module, by node index.
#[derive(Debug, Default)]
pub struct ModuleDependencies {
    /// By node index of the module's [`ModuleGraph`].
    pub nodes: Vec<Vec<Dep>>,
}

/// Looks up a child module call's graph and node dependencies, computed before its parent's.
pub type ChildDependencies<'a> = &'a dyn Fn(&str) -> Option<(Arc<ModuleGraph>, Arc<ModuleDependencies>)>;

/// Prefixes a relative target with the module steps of the instance it is found in.
pub fn under(path: &[ModuleStep], target: &Target) -> Target {
    let prefix = |steps: &[ModuleStep]| {
        let mut out = path.to_vec();
        out.extend_from_slice(steps);
        out
    };
    match target {
        Target::Module(steps) => Target::Module(prefix(steps)),
        Target::Resource(address) => Target::Resource(Address { module: prefix(&address.module), ..address.clone() }),
    }
}

/// Computes the dependencies of every node of `module`. `child` gives the dependencies of a
/// child module's nodes (with its graph), computed first.
pub fn of_module(module: &Module, graph: &ModuleGraph, child: ChildDependencies<'_>) -> ModuleDependencies {
    let mut nodes: Vec<Vec<Dep>> = vec![Vec::new(); graph.names.len()];
    for &node in &graph.order {
        let name = &graph.names[node];
        let (plain, ordering) = expressions(module, name);
        let mut found = BTreeSet::new();
        for expr in plain {
            found.extend(expr_deps(module, graph, &nodes, expr, child));
        }
        for expr in ordering {
            for reference in references(&expr.ast) {
                found.extend(reference_deps(module, graph, &nodes, &reference, child, true));
            }
        }
        nodes[node] = found.into_iter().collect();
    }
    ModuleDependencies { nodes }
}

/// The dependencies of one expression of `module` (a module call's input, say), given the
/// dependencies of the module's nodes computed so far.
pub fn expr_deps(
    module: &Module,
    graph: &ModuleGraph,
    nodes: &[Vec<Dep>],
    expr: &Expr,
    child: ChildDependencies<'_>,
) -> Vec<Dep> {
    let mut found = BTreeSet::new();
    for reference in references(&expr.ast) {
        found.extend(reference_deps(module, graph, nodes, &reference, child, false));
    }
    found.into_iter().collect()
}

fn reference_deps(
    module: &Module,
    graph: &ModuleGraph,
    nodes: &[Vec<Dep>],
    reference: &Reference,
    child: ChildDependencies<'_>,
    ordering_only: bool,
) -> Vec<Dep> {
    let Some(target) = reference.target() else { return Vec::new() };
    if reference.root == "var" {
        return reference.steps.first().map(|name| vec![Dep::Var(name.clone())]).unwrap_or_default();
    }
    let Some(&node) = graph.index.get(&target) else { return Vec::new() };
    match graph.kinds[node] {
        super::NodeKind::Local | super::NodeKind::Output => nodes[node].clone(),
        super::NodeKind::Resource => {
            let Some(resource) = module.resources.get(&target) else { return Vec::new() };
            vec![Dep::Target(Target::Resource(Address {
                module: Vec::new(),
                mode: resource.mode,
                kind: resource.kind.clone(),
                name: resource.name.clone(),
                key: None,
            }))]
        }
        super::NodeKind::Call => {
            let name = target.trim_start_matches("module.");
            let step = ModuleStep { name: name.to_string(), key: None };
            if ordering_only {
                return vec![Dep::Target(Target::Module(vec![step]))];
            }
            let (Some((child_graph, child_deps)), Some(call)) = (child(name), module.module_calls.get(name)) else {
                return vec![Dep::Target(Target::Module(vec![step]))];
            };
            // `module.net.vpc_id`, `module.net[0].vpc_id`, `module.net["a"].vpc_id`: the
            // output named; `module.net` alone: every output.
            let output = reference
                .steps
                .iter()
                .skip(1)
                .take(2)
                .find(|s| child_graph.index.contains_key(&format!("output.{s}")))
                .map(|s| format!("output.{s}"));
            let outputs: Vec<usize> = match output {
                Some(output) => child_graph.index.get(&output).copied().into_iter().collect(),
                None => {
                    (0..child_graph.names.len()).filter(|&n| child_graph.kinds[n] == super::NodeKind::Output).collect()
                }
            };
            let mut found = BTreeSet::new();
            for output in outputs {
                for dep in &child_deps.nodes[output] {
                    match dep {
                        Dep::Target(target) => {
                            found.insert(Dep::Target(under(std::slice::from_ref(&step), target)));
                        }
                        // Passed through: what the call gives that variable.
                        Dep::Var(variable) => {
                            if let Some(input) = call.inputs.get(variable) {
                                found.extend(expr_deps(module, graph, nodes, &input.expr, child));
                            }
                        }
                    }
                }
            }
            found.into_iter().collect()
        }
    }
}

/// A node's expressions: those whose values it uses, and its `depends_on` (ordering only).
fn expressions<'m>(module: &'m Module, name: &str) -> (Vec<&'m Expr>, Vec<&'m Expr>) {
    if let Some(local) = name.strip_prefix("local.").and_then(|n| module.locals.get(n)) {
        return (vec![&local.expr], Vec::new());
    }
    if let Some(output) = name.strip_prefix("output.").and_then(|n| module.outputs.get(n)) {
        let plain = output.expressions().into_iter().filter(|e| !output.depends_on.iter().any(|d| std::ptr::eq(*e, d)));
        return (plain.collect(), output.depends_on.iter().collect());
    }
    if let Some(call) = name.strip_prefix("module.").and_then(|n| module.module_calls.get(n)) {
        let plain = call.expressions().into_iter().filter(|e| !call.depends_on.iter().any(|d| std::ptr::eq(*e, d)));
        return (plain.collect(), call.depends_on.iter().collect());
    }
    if let Some(resource) = module.resources.get(name) {
        let plain =
            resource.expressions().into_iter().filter(|e| !resource.depends_on.iter().any(|d| std::ptr::eq(*e, d)));
        return (plain.collect(), resource.depends_on.iter().collect());
    }
    (Vec::new(), Vec::new())
}

/// Resolves relative dependencies in a module instance: targets under its path, variables to
/// what its call passed.
pub fn resolve(deps: &[Dep], path: &[ModuleStep], variables: &BTreeMap<String, Vec<Target>>) -> Vec<Target> {
    let mut out = BTreeSet::new();
    for dep in deps {
        match dep {
            Dep::Target(target) => {
                out.insert(under(path, target));
            }
            Dep::Var(name) => out.extend(variables.get(name).into_iter().flatten().cloned()),
        }
    }
    out.into_iter().collect()
}

/// The dependencies of `depends_on` expressions: ordering only (a whole module call stands for
/// everything in it).
pub fn ordering_deps(module: &Module, graph: &ModuleGraph, nodes: &[Vec<Dep>], exprs: &[Expr]) -> Vec<Dep> {
    let mut found = BTreeSet::new();
    for expr in exprs {
        for reference in references(&expr.ast) {
            found.extend(reference_deps(module, graph, nodes, &reference, &|_| None, true));
        }
    }
    found.into_iter().collect()
}
