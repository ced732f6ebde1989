//! `-target`: what a targeted run needs, decided from the configuration before anything is
//! read. The targets, and everything they depend on (through locals, module calls and their
//! inputs), are selected; nothing else is refreshed, evaluated or planned, so a targeted plan
//! in a large configuration reads only what it touches.

use super::ModuleGraph;
use crate::addr::{Address, ModuleStep, Target, steps_match};
use crate::config::Module;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How much of a selected node is needed.
#[derive(Clone, Debug, PartialEq)]
pub enum Need {
    /// All of it (every instance; for a module call, everything in it).
    All,
    /// A resource: only these instances. A module call: only what leads to a target inside.
    Some(Vec<Target>),
}

/// What a run walks.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    everything: bool,
    /// Module subtrees needed whole (a step without a key: every instance).
    whole: Vec<Vec<ModuleStep>>,
    /// Nodes needed, by module pattern and node name.
    nodes: BTreeMap<(Vec<ModuleStep>, String), Need>,
}

impl Selection {
    /// Everything (no `-target`).
    pub fn everything() -> Selection {
        Selection { everything: true, ..Selection::default() }
    }

    /// Whether nothing is pruned.
    pub fn is_everything(&self) -> bool {
        self.everything
    }

    /// What of node `node` of the module instance `path` is needed (`None`: nothing).
    pub fn need(&self, path: &[ModuleStep], node: &str) -> Option<Need> {
        if self.everything || self.whole.iter().any(|w| w.len() <= path.len() && steps_match(w, &path[..w.len()])) {
            return Some(Need::All);
        }
        let mut found: Option<Need> = None;
        for ((pattern, name), need) in &self.nodes {
            if name != node || !steps_match(pattern, path) {
                continue;
            }
            found = Some(match (found, need) {
                (Some(Need::All), _) | (_, Need::All) => Need::All,
                (Some(Need::Some(mut a)), Need::Some(b)) => {
                    a.extend(b.iter().cloned());
                    Need::Some(a)
                }
                (None, need) => need.clone(),
            });
        }
        found
    }

    /// Whether the instance at `address` (in state, say) is in the selection.
    pub fn covers(&self, address: &Address) -> bool {
        match self.need(&address.module, &address.local_name()) {
            Some(Need::All) => true,
            Some(Need::Some(targets)) => targets.iter().any(|t| t.contains(address)),
            None => false,
        }
    }
}

/// Selects what `targets` need in the module tree under `root`; `graph_of` gives each
/// module's graph (`None` where it has a cycle: nothing there is selected).
pub fn select(root: &Module, targets: &[Target], graph_of: &dyn Fn(&Module) -> Option<Arc<ModuleGraph>>) -> Selection {
    if targets.is_empty() {
        return Selection::everything();
    }
    let mut selection = Selection::default();
    let mut work: Vec<(&Module, Vec<ModuleStep>, String, Need)> = Vec::new();
    for target in targets {
        let steps = target.module();
        let mut module = root;
        let mut found = true;
        for (depth, step) in steps.iter().enumerate() {
            // Every call on the way is needed in part.
            work.push((module, steps[..depth].to_vec(), format!("module.{}", step.name), Need::Some(Vec::new())));
            match module.children.get(&step.name) {
                Some(child) => module = child,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        match target {
            Target::Module(steps) => selection.whole.push(steps.clone()),
            Target::Resource(address) => {
                work.push((module, steps.to_vec(), address.local_name(), Need::Some(vec![target.clone()])))
            }
        }
    }
    while let Some((module, pattern, node, need)) = work.pop() {
        let key = (pattern.clone(), node.clone());
        let newly = match selection.nodes.get_mut(&key) {
            None => {
                selection.nodes.insert(key, need.clone());
                true
            }
            Some(Need::All) => false,
            Some(existing) => match &need {
                Need::All => {
                    *existing = Need::All;
                    true
                }
                Need::Some(more) => {
                    if let Need::Some(targets) = existing {
                        targets.extend(more.iter().cloned());
                    }
                    false
                }
            },
        };
        if !newly {
            continue;
        }
        if need == Need::All
            && let Some(name) = node.strip_prefix("module.")
        {
            let mut whole = pattern.clone();
            whole.push(ModuleStep { name: name.to_string(), key: None });
            selection.whole.push(whole);
        }
        let Some(graph) = graph_of(module) else { continue };
        let Some(&index) = graph.index.get(&node) else { continue };
        for &dependency in &graph.dependencies[index] {
            work.push((module, pattern.clone(), graph.names[dependency].clone(), Need::All));
        }
    }
    selection
}
