//! The dependency graph of a module: which object's expressions refer to which.
//!
//! Nodes are named by address (`local.a`, `aws_vpc.main`, `data.aws_ami.u`, `module.net`,
//! `output.id`); edges come from references and `depends_on`. [`ModuleGraph::build`] orders
//! the nodes so that every object comes after what it refers to, and reports each cycle once,
//! listing its members with their spans. The engine's resource-instance graph (with provider
//! nodes and bounded parallel walks) is built on the same petgraph foundation.

use crate::config::{Expr, Module};
use crate::eval::references::references;
use infra_provider::{Diagnostic, Diagnostics, Span};
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::BTreeMap;

/// An ordered module graph.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    /// Node names in dependency order (dependencies first).
    pub order: Vec<String>,
    /// What each node depends on.
    pub dependencies: BTreeMap<String, Vec<String>>,
    /// Nodes something depends on.
    referenced: std::collections::BTreeSet<String>,
}

struct Node<'a> {
    name: String,
    span: Option<Span>,
    expressions: Vec<&'a Expr>,
}

fn nodes(module: &Module) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    for (name, local) in &module.locals {
        out.push(Node { name: format!("local.{name}"), span: local.span.clone(), expressions: vec![&local.expr] });
    }
    for (address, resource) in &module.resources {
        out.push(Node { name: address.clone(), span: resource.span.clone(), expressions: resource.expressions() });
    }
    for (name, call) in &module.module_calls {
        out.push(Node { name: format!("module.{name}"), span: call.span.clone(), expressions: call.expressions() });
    }
    for (name, output) in &module.outputs {
        out.push(Node { name: format!("output.{name}"), span: output.span.clone(), expressions: output.expressions() });
    }
    out
}

impl ModuleGraph {
    /// Builds and orders the graph of one module.
    ///
    /// # Errors
    ///
    /// One diagnostic per cycle.
    pub fn build(module: &Module) -> Result<ModuleGraph, Diagnostics> {
        let nodes = nodes(module);
        let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(nodes.len(), nodes.len() * 2);
        let index: BTreeMap<&str, NodeIndex> =
            nodes.iter().enumerate().map(|(position, node)| (node.name.as_str(), graph.add_node(position))).collect();
        let mut dependencies: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for node in &nodes {
            let mut targets: Vec<String> = node
                .expressions
                .iter()
                .flat_map(|expr| references(&expr.ast))
                .filter_map(|reference| reference.target())
                .filter(|target| index.contains_key(target.as_str()))
                .collect();
            targets.sort();
            targets.dedup();
            for target in &targets {
                graph.add_edge(index[target.as_str()], index[node.name.as_str()], ());
            }
            dependencies.insert(node.name.clone(), targets);
        }
        match toposort(&graph, None) {
            Ok(order) => {
                let referenced = dependencies.values().flatten().cloned().collect();
                Ok(ModuleGraph {
                    order: order.into_iter().map(|i| nodes[graph[i]].name.clone()).collect(),
                    dependencies,
                    referenced,
                })
            }
            Err(_) => {
                let mut diagnostics = Diagnostics::new();
                for component in tarjan_scc(&graph) {
                    let is_cycle = component.len() > 1 || graph.contains_edge(component[0], component[0]);
                    if !is_cycle {
                        continue;
                    }
                    let mut members: Vec<&Node> = component.iter().map(|i| &nodes[graph[*i]]).collect();
                    members.sort_by(|a, b| a.name.cmp(&b.name));
                    let path = cycle_path(&members, &dependencies);
                    let mut diagnostic = Diagnostic::error(
                        "Cycle in references",
                        format!("These objects refer to each other in a cycle: {path}. Break the cycle by removing one of the references."),
                    )
                    .at(members[0].span.clone());
                    for member in &members[1..] {
                        if let Some(span) = &member.span {
                            diagnostic = diagnostic
                                .with_secondary(span.clone(), format!("`{}` is part of the cycle", member.name));
                        }
                    }
                    diagnostics.push(diagnostic);
                }
                Err(diagnostics)
            }
        }
    }
}

impl ModuleGraph {
    /// Whether any node depends on `node`.
    pub fn referenced(&self, node: &str) -> bool {
        self.referenced.contains(node)
    }

    /// The nodes in waves: each wave holds the nodes whose dependencies are all in earlier
    /// waves, so the nodes of one wave can be worked on at the same time.
    pub fn waves(&self) -> Vec<Vec<String>> {
        let mut level: BTreeMap<&str, usize> = BTreeMap::new();
        let mut waves: Vec<Vec<String>> = Vec::new();
        for node in &self.order {
            let depth =
                self.dependencies[node].iter().filter_map(|d| level.get(d.as_str())).map(|l| l + 1).max().unwrap_or(0);
            level.insert(node, depth);
            if waves.len() <= depth {
                waves.resize(depth + 1, Vec::new());
            }
            waves[depth].push(node.clone());
        }
        waves
    }
}

/// `local.a → local.b → local.a`, following dependencies inside the cycle.
fn cycle_path(members: &[&Node], dependencies: &BTreeMap<String, Vec<String>>) -> String {
    let in_cycle = |name: &str| members.iter().any(|member| member.name == name);
    let start = members[0].name.clone();
    let mut path = vec![start.clone()];
    let mut current = start.clone();
    for _ in 0..members.len() {
        let Some(next) = dependencies.get(&current).and_then(|deps| deps.iter().find(|d| in_cycle(d))) else { break };
        path.push(next.clone());
        if *next == start {
            break;
        }
        current = next.clone();
    }
    path.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(" → ")
}
