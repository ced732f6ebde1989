//! `infra test`: Terraform's test files (`*.tftest.hcl`, in the configuration's directory and
//! in `tests/`), run as `terraform test` runs them.
//!
//! A file holds `variables { ... }` for all its runs and `run "NAME"` blocks, in order: each
//! plans (`command = plan`) or applies (the default) the configuration (or the module of its
//! `module { source = "./x" }`) with the file's and its own `variables`, then checks its
//! `assert` blocks against the result (`output.NAME`, `var.NAME`, resources, `run.EARLIER.OUTPUT`).
//! `expect_failures = [var.x, output.y, aws_instance.z, check.c]` turns those objects' failed
//! validations and conditions into the expected outcome. State is kept per module across the
//! runs of a file, in a scratch directory (never the configuration's backend), and destroyed at
//! the end, last module first. An assertion that fails fails its run; an error (a plan that
//! cannot be made, an unknown condition, a missing expected failure) also skips the runs after
//! it, as Terraform does.
//!
//! Not supported: `mock_provider`, `override_*` blocks, `provider` blocks in test files (the
//! configuration's own are used), `plan_options.mode = refresh-only`, `state_key`.

use crate::config::Check;
use crate::eval::{Evaluator, Scope};
use crate::session::{LocalState, LockPlan, Opening, Session};
use crate::source::SourceMap;
use crate::vars::VarSource;
use infra_provider::{Diagnostic, Diagnostics, Span, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Plan or apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `command = plan`
    Plan,
    /// `command = apply` (the default)
    Apply,
}

/// One `run` block.
#[derive(Clone, Debug)]
pub struct Run {
    /// Its name.
    pub name: String,
    /// Plan or apply.
    pub command: Command,
    /// Its `variables`.
    pub variables: Vec<(String, crate::config::Expr)>,
    /// `module { source }`: a local module instead of the configuration.
    pub module: Option<String>,
    /// `assert` blocks.
    pub asserts: Vec<Check>,
    /// `expect_failures`: the objects' addresses as written.
    pub expect_failures: Vec<(String, Option<Span>)>,
    /// `plan_options { refresh, replace, target }`.
    pub refresh: bool,
    /// `plan_options.replace`.
    pub replace: Vec<crate::addr::Address>,
    /// `plan_options.target`.
    pub targets: Vec<crate::addr::Target>,
    /// The block header.
    pub span: Option<Span>,
}

/// A test file.
#[derive(Clone, Debug)]
pub struct TestFile {
    /// Its path as shown (relative to the configuration).
    pub path: PathBuf,
    /// Its file-level `variables`.
    pub variables: Vec<(String, crate::config::Expr)>,
    /// Its runs, in order.
    pub runs: Vec<Run>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every assertion held.
    Pass,
    /// An assertion failed (later runs go on).
    Fail,
    /// An error (later runs are skipped).
    Error,
    /// Not run: an earlier run errored.
    Skip,
}

impl Status {
    /// As `terraform test` prints it.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail | Status::Error => "fail",
            Status::Skip => "skip",
        }
    }
}

/// The test files of a configuration directory: `*.tftest.hcl` in it and in `tests_dir`, in
/// name order, as `terraform test` finds them.
pub fn discover(root: &Path, tests_dir: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [root.to_path_buf(), root.join(tests_dir)] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.to_string_lossy().ends_with(".tftest.hcl"))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

fn text_of(sources: &SourceMap, span: Option<Span>) -> String {
    span.map(|span| sources.snippet(&span).split_whitespace().collect::<Vec<_>>().join("")).unwrap_or_default()
}

/// Reads a test file.
///
/// # Errors
///
/// Syntax errors and blocks or arguments `infra test` does not know, each located.
pub fn parse(path: &Path, shown: &Path, sources: &mut SourceMap) -> Result<TestFile, Diagnostics> {
    use hcl_edit::structure::{Body, Structure};
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics::from(Diagnostic::error("Cannot read test file", format!("`{}`: {e}", path.display())))
    })?;
    let file = sources.add(shown.to_path_buf(), text);
    let text = sources.get(file).map(|s| s.text.clone()).unwrap_or_default();
    let body =
        crate::config::parse_hcl(&text).map_err(|e| Diagnostics::from(crate::config::parse_error(&e, file, &text)))?;
    let mut diagnostics = Diagnostics::new();
    let span_of = |range: Option<std::ops::Range<usize>>| range.map(|r| Span::new(file, r));
    let expr = |e: &hcl_edit::expr::Expression| crate::config::Expr { ast: Arc::new(e.clone()), file };
    let variables_of = |body: &Body| -> Vec<(String, crate::config::Expr)> {
        body.iter()
            .filter_map(|s| match s {
                Structure::Attribute(a) => Some((a.key.as_str().to_string(), expr(&a.value))),
                Structure::Block(_) => None,
            })
            .collect()
    };
    let mut test = TestFile { path: shown.to_path_buf(), variables: Vec::new(), runs: Vec::new() };
    for structure in body.iter() {
        let Structure::Block(block) = structure else {
            diagnostics.push(
                Diagnostic::error("Unexpected argument", "A test file holds `variables` and `run` blocks.")
                    .at(span_of(hcl_edit::Span::span(structure))),
            );
            continue;
        };
        let header = span_of(hcl_edit::Span::span(&block.ident));
        match block.ident.as_str() {
            "variables" => test.variables.extend(variables_of(&block.body)),
            "run" => {
                let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else {
                    diagnostics.push(
                        Diagnostic::error("Missing run name", "A `run` block has one label: its name.").at(header),
                    );
                    continue;
                };
                let mut run = Run {
                    name,
                    command: Command::Apply,
                    variables: Vec::new(),
                    module: None,
                    asserts: Vec::new(),
                    expect_failures: Vec::new(),
                    refresh: true,
                    replace: Vec::new(),
                    targets: Vec::new(),
                    span: header.clone(),
                };
                for item in block.body.iter() {
                    match item {
                        Structure::Attribute(attribute) => {
                            let at = span_of(hcl_edit::Span::span(&attribute.value));
                            match attribute.key.as_str() {
                                "command" => match text_of(sources, at.clone()).as_str() {
                                    "plan" => run.command = Command::Plan,
                                    "apply" => run.command = Command::Apply,
                                    other => diagnostics.push(
                                        Diagnostic::error(
                                            "Invalid command",
                                            format!("`command` is `plan` or `apply`, not `{other}`."),
                                        )
                                        .at(at),
                                    ),
                                },
                                "expect_failures" => match &attribute.value {
                                    hcl_edit::expr::Expression::Array(items) => {
                                        for item in items.iter() {
                                            let at = span_of(hcl_edit::Span::span(item));
                                            run.expect_failures.push((text_of(sources, at.clone()), at));
                                        }
                                    }
                                    _ => diagnostics.push(
                                        Diagnostic::error(
                                            "Invalid expect_failures",
                                            "`expect_failures` is a list of references (`[var.name, check.ready]`).",
                                        )
                                        .at(at),
                                    ),
                                },
                                "state_key" | "parallel" => {}
                                other => diagnostics.push(
                                    Diagnostic::error(
                                        "Unsupported argument",
                                        format!("A `run` block has no argument `{other}`."),
                                    )
                                    .at(at),
                                ),
                            }
                        }
                        Structure::Block(inner) => {
                            let at = span_of(hcl_edit::Span::span(&inner.ident));
                            match inner.ident.as_str() {
                                "variables" => run.variables.extend(variables_of(&inner.body)),
                                "assert" => {
                                    let get = |name: &str| inner.body.get_attribute(name).map(|a| expr(&a.value));
                                    match (get("condition"), get("error_message")) {
                                        (Some(condition), Some(error_message)) => {
                                            run.asserts.push(Check { condition, error_message, span: at })
                                        }
                                        _ => diagnostics.push(
                                            Diagnostic::error(
                                                "Incomplete assert",
                                                "An `assert` block has `condition` and `error_message`.",
                                            )
                                            .at(at),
                                        ),
                                    }
                                }
                                "module" => {
                                    let source = inner.body.get_attribute("source").map(|a| {
                                        let at = span_of(hcl_edit::Span::span(&a.value));
                                        crate::eval::constant(&a.value, file).map_err(|_| at)
                                    });
                                    match source {
                                        Some(Ok(value)) if value.as_str().is_some_and(|s| s.starts_with("./") || s.starts_with("../")) => {
                                            run.module = value.as_str().map(str::to_string);
                                        }
                                        _ => diagnostics.push(
                                            Diagnostic::error("Unsupported module source", "A test `module` block names a local module (`source = \"./modules/x\"`).").at(at),
                                        ),
                                    }
                                }
                                "plan_options" => {
                                    for option in inner.body.iter() {
                                        let Structure::Attribute(attribute) = option else { continue };
                                        let at = span_of(hcl_edit::Span::span(&attribute.value));
                                        let references = || match &attribute.value {
                                            hcl_edit::expr::Expression::Array(items) => items
                                                .iter()
                                                .map(|item| text_of(sources, span_of(hcl_edit::Span::span(item))))
                                                .collect::<Vec<_>>(),
                                            _ => Vec::new(),
                                        };
                                        match attribute.key.as_str() {
                                            "refresh" => run.refresh = text_of(sources, at.clone()) != "false",
                                            "replace" => run.replace.extend(references().iter().filter_map(|r| r.parse().ok())),
                                            "target" => run.targets.extend(references().iter().filter_map(|r| r.parse().ok())),
                                            "mode" if text_of(sources, at.clone()) == "normal" => {}
                                            other => diagnostics.push(
                                                Diagnostic::error("Unsupported plan option", format!("`plan_options.{other}` is not supported here (`refresh`, `replace`, `target`).")).at(at),
                                            ),
                                        }
                                    }
                                }
                                other => diagnostics.push(
                                    Diagnostic::error(
                                        "Unsupported block",
                                        format!("A `run` block has no `{other}` block."),
                                    )
                                    .at(at),
                                ),
                            }
                        }
                    }
                }
                test.runs.push(run);
            }
            other @ ("mock_provider" | "override_resource" | "override_data" | "override_module" | "provider") => {
                diagnostics.push(
                    Diagnostic::error(
                        "Unsupported test block",
                        format!("`{other}` blocks in test files are not supported by infra test; runs use the configuration's providers."),
                    )
                    .at(header),
                );
            }
            other => diagnostics.push(
                Diagnostic::error(
                    "Unsupported block",
                    format!("A test file has no `{other}` block (`variables`, `run`)."),
                )
                .at(header),
            ),
        }
    }
    if diagnostics.has_errors() { Err(diagnostics) } else { Ok(test) }
}

/// What a run reports: its status and the diagnostics to show (with the sources they are in).
pub struct RunReport {
    /// The run's name.
    pub name: String,
    /// How it ended.
    pub status: Status,
    /// Problems found, rendered.
    pub diagnostics: Vec<String>,
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("infra-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where runs of one file keep their states (a scratch directory per module).
struct States {
    base: Scratch,
    /// Module directory → the variables of its last run, in first-use order.
    used: Vec<(PathBuf, Vec<VarSource>)>,
}

impl States {
    fn dir(&self, module: &Path) -> PathBuf {
        let index = self.used.iter().position(|(m, _)| m == module).unwrap_or(self.used.len());
        self.base.0.join(format!("state-{index}"))
    }
}

/// Runs test files.
pub struct Runner<'a> {
    /// The configuration's directory.
    pub root: PathBuf,
    /// `-var` / `-var-file` sources (before each file's and run's variables).
    pub cli_variables: Vec<VarSource>,
    /// The test files' sources (diagnostics in them).
    pub sources: SourceMap,
    /// Called with each run's report as it finishes.
    pub on_run: &'a mut dyn FnMut(&RunReport),
    /// Render diagnostics in colour.
    pub color: bool,
}

impl Runner<'_> {
    fn open(
        &self,
        dir: &Path,
        variables: Vec<VarSource>,
        states: &States,
    ) -> Result<Session, Box<crate::session::OpenError>> {
        Session::open(Opening {
            variables,
            workspace: Some("default".into()),
            local_state: LocalState::Scratch(states.dir(dir)),
            lock: Some(LockPlan { operation: "test".into(), timeout: std::time::Duration::ZERO }),
            ..Opening::new(dir.to_path_buf())
        })
    }

    /// Runs one file; each run's report (also handed to `on_run`), and the teardown's problems.
    pub fn run_file(&mut self, test: &TestFile) -> (Vec<RunReport>, Vec<String>) {
        let mut reports = Vec::new();
        let mut outputs: BTreeMap<String, Value> = BTreeMap::new();
        let base = match Scratch::new() {
            Ok(base) => base,
            Err(error) => {
                return (
                    reports,
                    vec![format!("error: cannot make a scratch directory for the test states: {error}\n")],
                );
            }
        };
        let mut states = States { base, used: Vec::new() };
        let mut errored = false;
        for run in &test.runs {
            if errored {
                let report = RunReport { name: run.name.clone(), status: Status::Skip, diagnostics: Vec::new() };
                (self.on_run)(&report);
                reports.push(report);
                continue;
            }
            let report = self.run_one(test, run, &mut outputs, &mut states);
            errored = report.status == Status::Error;
            (self.on_run)(&report);
            reports.push(report);
        }
        let teardown = self.teardown(&mut states);
        (reports, teardown)
    }

    /// Destroys every state the file's runs made, the last module first.
    fn render(&self, diagnostics: &Diagnostics, sources: &SourceMap) -> String {
        crate::diagnostics::render_all(diagnostics, sources, self.color)
    }

    fn teardown(&mut self, states: &mut States) -> Vec<String> {
        let mut problems = Vec::new();
        for (dir, variables) in states.used.clone().into_iter().rev() {
            let mut session = match self.open(&dir, variables, states) {
                Ok(session) => session,
                Err(error) => {
                    problems.push(self.render(&error.diagnostics, &error.config.sources));
                    continue;
                }
            };
            let snapshot = match session.snapshot() {
                Ok(Some(snapshot)) if !snapshot.resources.is_empty() => snapshot,
                Ok(_) => continue,
                Err(diagnostic) => {
                    problems.push(self.render(&diagnostic.into(), &session.config.sources));
                    continue;
                }
            };
            let options = crate::plan::planner::PlanOptions {
                destroy: true,
                refresh: true,
                refresh_only: false,
                targets: Vec::new(),
                replace: Vec::new(),
                parallelism: 10,
                workspace: session.workspace.clone(),
            };
            let (plan, diagnostics) = session.plan(Some(snapshot.clone()), options);
            if diagnostics.has_errors() {
                problems.push(self.render(&diagnostics, &session.config.sources));
                continue;
            }
            let (_, diagnostics) = session.apply(&plan, Some(snapshot), &apply_options(&session));
            if diagnostics.has_errors() {
                problems.push(self.render(&diagnostics, &session.config.sources));
            }
        }
        problems
    }

    fn run_one(
        &mut self,
        test: &TestFile,
        run: &Run,
        outputs: &mut BTreeMap<String, Value>,
        states: &mut States,
    ) -> RunReport {
        let mut report = RunReport { name: run.name.clone(), status: Status::Pass, diagnostics: Vec::new() };
        let dir = match &run.module {
            Some(source) => self.root.join(source),
            None => self.root.clone(),
        };
        // The module's declared variables: the test's others are for other modules.
        let declared: Vec<String> = {
            let mut scratch = SourceMap::new();
            let mut ignored = Diagnostics::new();
            crate::config::load_module(&dir, &mut scratch, &mut ignored).variables.into_keys().collect()
        };
        // Variables: the file's, then the run's (which see `var` and earlier runs' outputs).
        let mut scope = Scope::new(&self.root);
        scope.set("run", Value::Map(outputs.clone()));
        let mut test_file_problems = Diagnostics::new();
        let mut values: BTreeMap<String, Value> = BTreeMap::new();
        for (name, expr) in test.variables.iter().chain(&run.variables) {
            scope.set("var", Value::Map(values.clone()));
            match Evaluator::new(&scope, expr.file).eval(&expr.ast) {
                Ok(value) => {
                    values.insert(name.clone(), value);
                }
                Err(diagnostic) => test_file_problems.push(diagnostic),
            }
        }
        if test_file_problems.has_errors() {
            report.status = Status::Error;
            report.diagnostics.push(self.render(&test_file_problems, &self.sources));
            return report;
        }
        let mut variables = self.cli_variables.clone();
        variables.extend(
            values.into_iter().filter(|(name, _)| declared.contains(name)).map(|(n, v)| VarSource::Value(n, v)),
        );
        if let Some(entry) = states.used.iter_mut().find(|(m, _)| *m == dir) {
            entry.1 = variables.clone();
        } else {
            states.used.push((dir.clone(), variables.clone()));
        }
        let expected: Vec<&str> = run.expect_failures.iter().map(|(text, _)| text.as_str()).collect();
        let mut session = match self.open(&dir, variables, states) {
            Ok(session) => session,
            Err(error) => {
                return self.failures(run, report, &error.diagnostics, &error.config.sources, &expected);
            }
        };
        let snapshot = match session.snapshot() {
            Ok(snapshot) => snapshot,
            Err(diagnostic) => {
                report.status = Status::Error;
                report.diagnostics.push(self.render(&diagnostic.into(), &session.config.sources));
                return report;
            }
        };
        let options = crate::plan::planner::PlanOptions {
            destroy: false,
            refresh: run.refresh,
            refresh_only: false,
            targets: run.targets.clone(),
            replace: run.replace.clone(),
            parallelism: 10,
            workspace: session.workspace.clone(),
        };
        let (plan, diagnostics) = session.plan(snapshot.clone(), options);
        let failed = diagnostics.has_errors() || diagnostics.iter().any(|d| expected_hit(d, &expected));
        if failed || !expected.is_empty() && run.command == Command::Plan {
            return self.failures(run, report, &diagnostics, &session.config.sources, &expected);
        }
        if !diagnostics.is_empty() {
            report.diagnostics.push(self.render(&diagnostics, &session.config.sources));
        }
        let root_values = if run.command == Command::Apply {
            let (outcome, diagnostics) = session.apply(&plan, snapshot, &apply_options(&session));
            if diagnostics.has_errors() || !expected.is_empty() {
                return self.failures(run, report, &diagnostics, &session.config.sources, &expected);
            }
            outcome.root_values
        } else {
            plan.root_values
        };
        let run_outputs = root_values.get("output").cloned().unwrap_or(Value::Map(BTreeMap::new()));
        // Assertions, in the module's scope with `run`.
        let mut scope = Scope::new(&dir);
        scope.roots = root_values;
        scope.set("run", Value::Map(outputs.clone()));
        let mut problems = Diagnostics::new();
        for check in &run.asserts {
            let condition = match Evaluator::new(&scope, check.condition.file).eval(&check.condition.ast) {
                Ok(value) => value,
                Err(diagnostic) => {
                    problems.push(diagnostic);
                    report.status = Status::Error;
                    continue;
                }
            };
            match condition.bare() {
                Value::Bool(true) => {}
                Value::Bool(false) => {
                    let message = Evaluator::new(&scope, check.error_message.file)
                        .eval(&check.error_message.ast)
                        .ok()
                        .map(|m| {
                            if m.is_marked() {
                                "(sensitive value)".to_string()
                            } else {
                                m.as_str().unwrap_or("").to_string()
                            }
                        })
                        .unwrap_or_default();
                    problems.push(Diagnostic::error("Test assertion failed", message).at(check.condition.span()));
                    if report.status == Status::Pass {
                        report.status = Status::Fail;
                    }
                }
                Value::Unknown => {
                    problems.push(
                        Diagnostic::error(
                            "Unknown condition value",
                            "The condition could not be evaluated at this time: a value it depends on is known only after apply. Remove it from the condition, or run this block with `command = apply`.",
                        )
                        .at(check.condition.span()),
                    );
                    report.status = Status::Error;
                }
                _ => {
                    problems.push(
                        Diagnostic::error(
                            "Invalid condition result",
                            "An assertion's condition must be true or false.",
                        )
                        .at(check.condition.span()),
                    );
                    report.status = Status::Error;
                }
            }
        }
        if !problems.is_empty() {
            report.diagnostics.push(self.render(&problems, &self.sources));
        }
        outputs.insert(run.name.clone(), run_outputs);
        report
    }

    /// A run whose plan or apply reported problems: it passes when they are exactly the
    /// expected failures (each of which happened).
    fn failures(
        &self,
        run: &Run,
        mut report: RunReport,
        diagnostics: &Diagnostics,
        sources: &SourceMap,
        expected: &[&str],
    ) -> RunReport {
        let mut unexpected = Diagnostics::new();
        unexpected.extend(diagnostics.iter().filter(|d| !expected_hit(d, expected)).cloned());
        let mut problems = Diagnostics::new();
        for (text, span) in &run.expect_failures {
            if !diagnostics.iter().any(|d| expected_hit(d, &[text.as_str()])) {
                problems.push(
                    Diagnostic::error(
                        "Missing expected failure",
                        format!("The checkable object, {text}, was expected to report an error but did not."),
                    )
                    .at(span.clone()),
                );
            }
        }
        report.status = if unexpected.has_errors() || problems.has_errors() { Status::Error } else { Status::Pass };
        if !unexpected.is_empty() {
            report.diagnostics.push(self.render(&unexpected, sources));
        }
        if !problems.is_empty() {
            report.diagnostics.push(self.render(&problems, &self.sources));
        }
        report
    }
}

/// Whether a diagnostic is the failure of one of the expected objects (`var.x`, `output.y`,
/// `check.z`, a resource and its instances).
fn expected_hit(diagnostic: &Diagnostic, expected: &[&str]) -> bool {
    let Some(address) = diagnostic.address.as_deref() else { return false };
    expected
        .iter()
        .any(|wanted| address == *wanted || address.strip_prefix(*wanted).is_some_and(|rest| rest.starts_with('[')))
}

fn apply_options(session: &Session) -> crate::apply::ApplyOptions<'static> {
    crate::apply::ApplyOptions {
        parallelism: 10,
        interrupted: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        progress: &crate::apply::Quiet,
        workspace: session.workspace.clone(),
    }
}
