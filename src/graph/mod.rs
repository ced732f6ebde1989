//! The dependency graph: what each object of a module refers to, and the walk over every
//! module instance that evaluates, plans and applies in that order.
//!
//! - [`ModuleGraph::build`] (here): the objects of one module (`local.a`, `aws_vpc.main`,
//!   `data.aws_ami.u`, `module.net`, `output.id`) as indexed nodes with edges from references
//!   and `depends_on`; every cycle is reported once, with its members' spans.
//! - [`dependencies`]: the resources each object depends on, through locals and module
//!   outputs, as recorded in state and used to order deletes.
//! - [`select`]: what a `-target` needs, decided before anything is read.
//! - [`walk`]: the instance walk — module instances expanded as their calls become ready,
//!   each node started as soon as what it refers to is done, provider work bounded by one
//!   semaphore.

pub mod dependencies;
pub mod select;
pub mod walk;

use crate::config::{Expr, Module};
use crate::eval::references::references;
use infra_provider::{Diagnostic, Diagnostics, Span};
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::BTreeMap;

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// `local.NAME`
    Local,
    /// A resource or data source (`aws_vpc.main`, `data.aws_ami.u`).
    Resource,
    /// A module call (`module.net`).
    Call,
    /// `output.NAME`
    Output,
}

/// The graph of one module: nodes by index, edges both ways.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    /// Node names (`local.a`, `aws_vpc.main`, `module.net`, `output.id`).
    pub names: Vec<String>,
    /// What each node is.
    pub kinds: Vec<NodeKind>,
    /// The nodes each node refers to.
    pub dependencies: Vec<Vec<usize>>,
    /// The nodes that refer to each node.
    pub dependents: Vec<Vec<usize>>,
    /// Node index by name.
    pub index: BTreeMap<String, usize>,
    /// Node indexes in dependency order (dependencies first).
    pub order: Vec<usize>,
}

struct Node<'a> {
    name: String,
    kind: NodeKind,
    span: Option<Span>,
    expressions: Vec<&'a Expr>,
}

fn nodes(module: &Module) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    for (name, local) in &module.locals {
        out.push(Node {
            name: format!("local.{name}"),
            kind: NodeKind::Local,
            span: local.span.clone(),
            expressions: vec![&local.expr],
        });
    }
    for (address, resource) in &module.resources {
        out.push(Node {
            name: address.clone(),
            kind: NodeKind::Resource,
            span: resource.span.clone(),
            expressions: resource.expressions(),
        });
    }
    for (name, call) in &module.module_calls {
        out.push(Node {
            name: format!("module.{name}"),
            kind: NodeKind::Call,
            span: call.span.clone(),
            expressions: call.expressions(),
        });
    }
    for (name, output) in &module.outputs {
        out.push(Node {
            name: format!("output.{name}"),
            kind: NodeKind::Output,
            span: output.span.clone(),
            expressions: output.expressions(),
        });
    }
    out
}

impl ModuleGraph {
    /// Builds the graph of one module and orders it.
    ///
    /// # Errors
    ///
    /// One diagnostic per cycle.
    pub fn build(module: &Module) -> Result<ModuleGraph, Diagnostics> {
        let nodes = nodes(module);
        let index: BTreeMap<String, usize> =
            nodes.iter().enumerate().map(|(position, node)| (node.name.clone(), position)).collect();
        let mut dependencies: Vec<Vec<usize>> = Vec::with_capacity(nodes.len());
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        for (position, node) in nodes.iter().enumerate() {
            let mut targets: Vec<usize> = node
                .expressions
                .iter()
                .flat_map(|expr| references(&expr.ast))
                .filter_map(|reference| reference.target())
                .filter_map(|target| index.get(target.as_str()).copied())
                .collect();
            targets.sort_unstable();
            targets.dedup();
            for &target in &targets {
                dependents[target].push(position);
            }
            dependencies.push(targets);
        }
        let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(nodes.len(), nodes.len() * 2);
        let handles: Vec<NodeIndex> = (0..nodes.len()).map(|position| graph.add_node(position)).collect();
        for (position, targets) in dependencies.iter().enumerate() {
            for &target in targets {
                graph.add_edge(handles[target], handles[position], ());
            }
        }
        match toposort(&graph, None) {
            Ok(order) => Ok(ModuleGraph {
                names: nodes.iter().map(|n| n.name.clone()).collect(),
                kinds: nodes.iter().map(|n| n.kind).collect(),
                dependencies,
                dependents,
                index,
                order: order.into_iter().map(|handle| graph[handle]).collect(),
            }),
            Err(_) => {
                let mut diagnostics = Diagnostics::new();
                for component in tarjan_scc(&graph) {
                    let is_cycle = component.len() > 1 || graph.contains_edge(component[0], component[0]);
                    if !is_cycle {
                        continue;
                    }
                    let mut members: Vec<usize> = component.iter().map(|handle| graph[*handle]).collect();
                    members.sort_by(|a, b| nodes[*a].name.cmp(&nodes[*b].name));
                    let path = cycle_path(&members, &nodes, &dependencies);
                    let mut diagnostic = Diagnostic::error(
                        "Cycle in references",
                        format!("These objects refer to each other in a cycle: {path}. Break the cycle by removing one of the references."),
                    )
                    .at(nodes[members[0]].span.clone());
                    for &member in &members[1..] {
                        if let Some(span) = &nodes[member].span {
                            diagnostic = diagnostic
                                .with_secondary(span.clone(), format!("`{}` is part of the cycle", nodes[member].name));
                        }
                    }
                    diagnostics.push(diagnostic);
                }
                Err(diagnostics)
            }
        }
    }

    /// Whether any node refers to node `node`.
    pub fn referenced(&self, node: usize) -> bool {
        !self.dependents[node].is_empty()
    }
}

/// `local.a → local.b → local.a`, following dependencies inside the cycle.
fn cycle_path(members: &[usize], nodes: &[Node], dependencies: &[Vec<usize>]) -> String {
    let start = members[0];
    let mut path = vec![start];
    let mut current = start;
    for _ in 0..members.len() {
        let Some(&next) = dependencies[current].iter().find(|d| members.contains(d)) else { break };
        path.push(next);
        if next == start {
            break;
        }
        current = next;
    }
    path.iter().map(|&node| format!("`{}`", nodes[node].name)).collect::<Vec<_>>().join(" → ")
}
