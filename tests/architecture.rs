//! The module layering of `src/`: no import cycles between modules, at the level of the
//! top-level modules (`config`, `eval`, `graph`, `plan`…) and of their children
//! (`config::load`, `controller::cluster`…), and the controller imports nothing from the CLI.
//!
//! Imports are read from the source text: every `crate::a::b` path (in `use` items, groups
//! `use crate::{a, b::c}` and inline paths) and every `super::x` naming a sibling module,
//! outside comments and `#[cfg(test)]` modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("src/ entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines: `src/config/load.rs` → `config::load`, `src/graph/mod.rs` → `graph`.
fn module_of(file: &Path) -> Module {
    let relative = file.strip_prefix(src()).expect("under src/").with_extension("");
    let mut parts: Module = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The longest prefix of `path` that names a module file or directory of `src/`.
fn existing_module(path: &[String]) -> Module {
    let mut dir = src();
    let mut found = Vec::new();
    for part in path {
        if dir.join(part).is_dir() || dir.join(format!("{part}.rs")).is_file() {
            found.push(part.clone());
            dir = dir.join(part);
        } else {
            break;
        }
    }
    found
}

/// The code of a file without comments and test modules.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("source file is readable");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

fn identifier_at(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// A path's identifiers from `text` on: `a::b::C` → `[a, b, C]`.
fn path_at(mut text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    loop {
        let name = identifier_at(text);
        if name.is_empty() {
            break;
        }
        parts.push(name.to_string());
        text = &text[name.len()..];
        match text.strip_prefix("::") {
            Some(rest) => text = rest,
            None => break,
        }
    }
    parts
}

/// Every module path a file's code names.
fn imported_paths(code: &str, parent: &[String]) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for (start, _) in code.match_indices("crate::") {
        let rest = &code[start + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::{c, d}}`: the first identifier of each top-level item.
            let mut depth = 0usize;
            let mut item_start = true;
            for (index, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphabetic() || c == '_') => {
                        paths.push(path_at(&group[index..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            paths.push(path_at(rest));
        }
    }
    for (start, _) in code.match_indices("super::") {
        let mut path = parent.to_vec();
        path.extend(path_at(&code[start + "super::".len()..]));
        paths.push(path);
    }
    paths
}

/// The import graph between modules, cut to `depth` path segments.
fn imports(depth: usize) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        if module.is_empty() {
            continue;
        }
        // `super` of `a/b.rs` and of `a/b/mod.rs` is `a`.
        let parent = &module[..module.len() - 1];
        let from: Module = module.iter().take(depth).cloned().collect();
        for path in imported_paths(&code(&file), parent) {
            let to: Module = existing_module(&path).into_iter().take(depth).collect();
            let nested = to.is_empty() || to.starts_with(&from) || from.starts_with(&to);
            if !nested {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// A cycle through `start`, if any: the modules along it.
fn cycle_from(start: &Module, edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    let mut stack = vec![(start.clone(), vec![start.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((module, path)) = stack.pop() {
        for next in edges.get(&module).into_iter().flatten() {
            if next == start {
                return Some(path);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

fn cycles(depth: usize) -> Vec<String> {
    let edges = imports(depth);
    let mut found = BTreeSet::new();
    for module in edges.keys() {
        if let Some(mut cycle) = cycle_from(module, &edges) {
            // One report per cycle, whichever module it was found from.
            let first = cycle.iter().enumerate().min_by_key(|(_, m)| (*m).clone()).map_or(0, |(i, _)| i);
            cycle.rotate_left(first);
            found.insert(cycle.iter().map(|m| m.join("::")).collect::<Vec<_>>().join(" -> "));
        }
    }
    found.into_iter().collect()
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    assert_eq!(cycles(1), Vec::<String>::new());
}

#[test]
fn child_modules_import_each_other_without_cycles() {
    assert_eq!(cycles(2), Vec::<String>::new());
    assert_eq!(cycles(3), Vec::<String>::new());
}

#[test]
fn the_controller_imports_nothing_from_the_cli() {
    let edges = imports(1);
    let controller = edges.get(&vec!["controller".to_string()]).cloned().unwrap_or_default();
    assert!(!controller.contains(&vec!["cli".to_string()]), "controller imports {controller:?}");
    // The reader sees the imports it checks: the controller does use the engine's stages.
    assert!(controller.contains(&vec!["plan".to_string()]), "controller imports {controller:?}");
}

#[test]
fn both_front_ends_open_one_session_and_neither_loads_or_locks_by_itself() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for front_end in ["controller", "cli"] {
        let mut used: Vec<Vec<String>> = Vec::new();
        for file in &files {
            let module = module_of(file);
            if module.first().map(String::as_str) == Some(front_end) {
                used.extend(imported_paths(&code(file), &module[..module.len() - 1]));
            }
        }
        assert!(used.iter().any(|path| path.first().map(String::as_str) == Some("session")), "{front_end}: {used:?}");
        // The session loads the configuration, collects variables and takes the lock; a
        // front-end doing one of those itself would be a second way to run.
        for own in ["load_module_tree", "load_module_tree_within", "collect_variables", "HeldLock"] {
            let found = used.iter().find(|path| path.iter().any(|step| step == own));
            assert!(found.is_none(), "{front_end} uses {found:?} itself");
        }
    }
}

#[test]
fn the_reader_finds_grouped_inline_and_sibling_imports() {
    let code = "use crate::{config::Module, eval::{self, Scope}};\nfn f() { crate::plan::Plan::new(); super::cluster::sync(); }";
    let paths = imported_paths(code, &["controller".to_string()]);
    let firsts: Vec<Vec<String>> = paths.iter().map(|p| p.iter().take(2).cloned().collect()).collect();
    assert!(firsts.contains(&vec!["config".to_string(), "Module".to_string()]));
    assert!(firsts.contains(&vec!["eval".to_string()]));
    assert!(firsts.contains(&vec!["plan".to_string(), "Plan".to_string()]));
    assert!(firsts.contains(&vec!["controller".to_string(), "cluster".to_string()]));
}
