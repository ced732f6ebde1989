//! Reading a directory: which files, in which order, into which model.

use super::decode::decode_file;
use super::model::Module;
pub use super::parse::{parse_error, parse_hcl};
use super::sources;
use super::yaml;
use crate::source::SourceMap;
use infra_provider::{Diagnostic, Diagnostics};
use std::path::{Path, PathBuf};

/// Deepest module nesting accepted (a guard against a module that calls itself).
const MAX_MODULE_DEPTH: usize = 32;

/// A loaded configuration: the root module (children resolved), the files it came from, and
/// every problem found while loading.
#[derive(Debug, Default)]
pub struct LoadedConfig {
    /// The root module.
    pub root: Module,
    /// All files read.
    pub sources: SourceMap,
    /// Problems found.
    pub diagnostics: Diagnostics,
    /// Where its file functions read (relative to its root; confined in controller runs).
    pub files: std::sync::Arc<crate::eval::FileAccess>,
}

impl LoadedConfig {
    /// A scope for expressions of the module in `dir`, with this configuration's file access.
    pub fn scope(&self, dir: &Path) -> crate::eval::Scope {
        crate::eval::Scope { files: self.files.clone(), ..crate::eval::Scope::new(dir) }
    }

    /// Confines the file functions to `dir` (controller runs: the stack's checkout).
    pub fn confine_files(&mut self, dir: &Path) {
        let confine = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        self.files = std::sync::Arc::new(crate::eval::FileAccess { confine: Some(confine), ..(*self.files).clone() });
    }
}

/// Module blocks loaded for one configuration at most: a module that calls itself twice
/// would otherwise double the tree at every level.
pub const MAX_MODULES: usize = 1000;

/// Loads a directory and, recursively, the local modules it calls.
pub fn load_module_tree(dir: &Path) -> LoadedConfig {
    load_tree(dir, None)
}

/// Loads a configuration that someone else wrote (a controller's checkout, a pull request's
/// head): local modules only from inside `confine`, and file functions confined to it
/// ([`LoadedConfig::confine_files`]).
pub fn load_module_tree_within(dir: &Path, confine: &Path) -> LoadedConfig {
    let confine = confine.canonicalize().unwrap_or_else(|_| confine.to_path_buf());
    let mut config = load_tree(dir, Some(&confine));
    config.confine_files(&confine);
    config
}

fn load_tree(dir: &Path, confine: Option<&Path>) -> LoadedConfig {
    let mut loader = Loader {
        sources: SourceMap::new(),
        diagnostics: Diagnostics::new(),
        loaded: 1,
        confine,
        root: dir.to_path_buf(),
        manifest: None,
    };
    let mut root = load_module(dir, &mut loader.sources, &mut loader.diagnostics);
    loader.resolve_children(&mut root, 0, "");
    let base = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let files = std::sync::Arc::new(crate::eval::FileAccess { base, confine: None });
    LoadedConfig { root, sources: loader.sources, diagnostics: loader.diagnostics, files }
}

struct Loader<'a> {
    sources: SourceMap,
    diagnostics: Diagnostics,
    /// Modules loaded so far (at most [`MAX_MODULES`]).
    loaded: usize,
    confine: Option<&'a Path>,
    /// The root module's directory (where `.terraform/modules` is).
    root: PathBuf,
    /// The installed modules' manifest, read on the first remote source.
    manifest: Option<Result<sources::Manifest, String>>,
}

impl Loader<'_> {
    /// Counts one more module; false (with a diagnostic) past the limit.
    fn admit(&mut self, call: &crate::config::ModuleCall) -> bool {
        self.loaded += 1;
        if self.loaded > MAX_MODULES {
            if self.loaded == MAX_MODULES + 1 {
                self.diagnostics.push(
                    Diagnostic::error(
                        "Too many modules",
                        format!("The configuration loads more than {MAX_MODULES} module blocks; a module probably calls itself."),
                    )
                    .at(call.source_span.clone()),
                );
            }
            return false;
        }
        true
    }

    /// Where an installed remote module is, by the manifest `infra init` wrote.
    fn installed(&mut self, call: &crate::config::ModuleCall, key: &str) -> Result<PathBuf, Diagnostic> {
        let root = self.root.clone();
        let manifest = self.manifest.get_or_insert_with(|| sources::Manifest::read(&root));
        let manifest = manifest.as_ref().map_err(|error| {
            Diagnostic::error("Cannot read the module manifest", error.clone()).at(call.source_span.clone())
        })?;
        match manifest.get(key) {
            Some(entry) if entry.source == call.source => Ok(root.join(&entry.dir)),
            Some(_) => Err(Diagnostic::error(
                "Module source has changed",
                format!(
                    "The source of module `{key}` is now `{}`; run `infra init` to install it.",
                    sources::redact(&call.source)
                ),
            )
            .at(call.source_span.clone())),
            None => Err(Diagnostic::error(
                "Module not installed",
                format!(
                    "The module `{key}` (`{}`) is not installed; run `infra init` to fetch it.",
                    sources::redact(&call.source)
                ),
            )
            .at(call.source_span.clone())),
        }
    }

    fn resolve_children(&mut self, module: &mut Module, depth: usize, parent_key: &str) {
        let calls: Vec<_> = module.module_calls.values().cloned().collect();
        for call in calls {
            if !self.admit(&call) {
                return;
            }
            let (sources, diagnostics) = (&mut self.sources, &mut self.diagnostics);
            if let Some(kind) = call.source.strip_prefix(crate::platform::SOURCE_PREFIX) {
                match crate::platform::materialize(kind) {
                    Ok(dir) => {
                        let mut child = load_module(&dir, sources, diagnostics);
                        self.resolve_children(&mut child, depth + 1, &sources::child_key(parent_key, &call.name));
                        module.children.insert(call.name.clone(), child);
                    }
                    Err(error) => diagnostics
                        .push(Diagnostic::error("Cannot load a platform block", error).at(call.source_span.clone())),
                }
                continue;
            }
            let key = sources::child_key(parent_key, &call.name);
            let dir = match sources::parse(&call.source) {
                Ok(sources::ModuleSource::Local(path)) => module.dir.join(path),
                Ok(_) => match self.installed(&call, &key) {
                    Ok(dir) => dir,
                    Err(diagnostic) => {
                        self.diagnostics.push(diagnostic);
                        continue;
                    }
                },
                Err(error) => {
                    diagnostics.push(
                        Diagnostic::error("Invalid module source", sources::redact(&error))
                            .at(call.source_span.clone()),
                    );
                    continue;
                }
            };
            let diagnostics = &mut self.diagnostics;
            let sources = &mut self.sources;
            if let Some(confine) = self.confine
                && !dir.canonicalize().is_ok_and(|real| real.starts_with(confine))
            {
                diagnostics.push(
                    Diagnostic::error(
                        "Module outside the repository",
                        format!(
                            "The module source `{}` is not a directory inside this repository's checkout.",
                            call.source
                        ),
                    )
                    .at(call.source_span.clone()),
                );
                continue;
            }
            if !dir.is_dir() {
                diagnostics.push(
                    Diagnostic::error(
                        "Module not found",
                        format!("The module directory `{}` does not exist.", dir.display()),
                    )
                    .at(call.source_span.clone()),
                );
                continue;
            }
            if depth >= MAX_MODULE_DEPTH {
                diagnostics.push(
                Diagnostic::error(
                    "Module nesting too deep",
                    format!(
                        "Modules are nested more than {MAX_MODULE_DEPTH} levels deep; a module probably calls itself."
                    ),
                )
                .at(call.source_span.clone()),
            );
                continue;
            }
            let mut child = load_module(&dir, sources, diagnostics);
            self.resolve_children(&mut child, depth + 1, &key);
            module.children.insert(call.name.clone(), child);
        }
    }
}

/// Files with an `.hcl` extension that are not configuration: Terraform's lock file, test
/// files, Terragrunt's and Packer's files.
const NOT_CONFIGURATION: &[&str] = &[".terraform.lock.hcl", "terragrunt.hcl", ".terragrunt.hcl"];

/// The configuration files of a directory, in name order (docs/language.md, "Which files"):
/// `*.tf` and `*.tf.json` (Terraform's), `*.hcl` except test files (`*.tftest.hcl`, `*.tfmock.hcl`), lock files,
/// Terragrunt's and Packer's (`*.pkr.hcl`), `*.yaml` / `*.yml` (read as infra block documents or
/// Kubernetes manifests, others skipped when loaded); names starting with `.` are skipped.
pub fn config_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else { continue };
        if name.starts_with('.') || !path.is_file() {
            continue;
        }
        let excluded = NOT_CONFIGURATION.contains(&name)
            || [".tftest.hcl", ".tfmock.hcl", ".pkr.hcl", ".tfvars.hcl"].iter().any(|suffix| name.ends_with(suffix));
        let json = name.ends_with(".tf.json");
        if !excluded
            && (json || matches!(path.extension().and_then(|ext| ext.to_str()), Some("hcl" | "tf" | "yaml" | "yml")))
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Loads one directory (without its children).
pub fn load_module(dir: &Path, sources: &mut SourceMap, diagnostics: &mut Diagnostics) -> Module {
    let mut module = Module { dir: dir.to_path_buf(), ..Module::default() };
    let files = match config_files(dir) {
        Ok(files) => files,
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                "Cannot read configuration directory",
                format!("Reading `{}` failed: {error}.", dir.display()),
            ));
            return module;
        }
    };
    for path in files {
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    diagnostics.push(Diagnostic::error(
                        "Invalid file encoding",
                        format!("`{}` is not valid UTF-8; configuration files must be UTF-8 text.", path.display()),
                    ));
                    continue;
                }
            },
            Err(error) => {
                diagnostics.push(Diagnostic::error(
                    "Cannot read file",
                    format!("Reading `{}` failed: {error}.", path.display()),
                ));
                continue;
            }
        };
        let shown = display_path(&path);
        let is_yaml = matches!(path.extension().and_then(|ext| ext.to_str()), Some("yaml" | "yml"));
        let file = sources.add(shown, text);
        if is_yaml {
            yaml::load_yaml_file(file, sources, &mut module, diagnostics);
        } else if path.to_string_lossy().ends_with(".tf.json") {
            yaml::load_json_file(file, sources, &mut module, diagnostics);
        } else {
            let text = &sources.get(file).expect("just added").text;
            match parse_hcl(text) {
                Ok(body) => decode_file(&body, file, &mut module, diagnostics),
                Err(error) => diagnostics.push(parse_error(&error, file, text)),
            }
        }
    }
    if !module.manifests.is_empty() {
        // The YAML manifests become instances of one resource, `kubernetes_manifest.yaml`,
        // keyed `apiVersion/kind/namespace/name`: written as HCL so that nothing in the engine is
        // special about them.
        let text = yaml::manifests_resource(&module.manifests);
        let file = sources.add(dir.join("(Kubernetes manifests)"), text);
        let text = &sources.get(file).expect("just added").text;
        match parse_hcl(text) {
            Ok(body) => decode_file(&body, file, &mut module, diagnostics),
            Err(error) => diagnostics.push(parse_error(&error, file, text)),
        }
        let spans: std::collections::BTreeMap<String, infra_provider::Span> =
            module.manifests.iter().filter_map(|(key, m)| Some((key.clone(), m.span.clone()?))).collect();
        if let Some(resource) = module.resources.get_mut("kubernetes_manifest.yaml") {
            resource.instance_spans = spans;
        }
    }
    module
}

/// A path as users see it: relative to the working directory when it is inside it.
fn display_path(path: &Path) -> PathBuf {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let shown = shown.strip_prefix(".").map(Path::to_path_buf).unwrap_or(shown);
    // `modules/x/../../main.tf` is `main.tf`.
    PathBuf::from(crate::fsutil::clean(&shown.to_string_lossy()))
}
