//! `infra test [-filter=FILE] [-test-directory=DIR] [-var ...]`: runs the configuration's
//! `*.tftest.hcl` files ([`crate::tftest`]) and prints what `terraform test` prints: a line per
//! file and run, the problems in between, and `Success!` / `Failure!` with the counts.

use super::Printer;
use super::vars::VarArgs;
use crate::tftest::{Runner, Status};
use std::path::Path;
use std::process::ExitCode;

/// `infra test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this test file (repeatable), as a path relative to the configuration.
    #[arg(long = "filter", value_name = "FILE")]
    filter: Vec<String>,
    /// The directory of test files besides the configuration's own (default `tests`).
    #[arg(long = "test-directory", value_name = "DIR", default_value = "tests")]
    test_directory: String,
    /// Accepted for Terraform's sake (plans are not printed).
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    vars: VarArgs,
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    let root = Path::new(".");
    let files: Vec<_> = crate::tftest::discover(root, &args.test_directory)
        .into_iter()
        .map(|path| {
            let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            (path, shown)
        })
        .filter(|(_, shown)| args.filter.is_empty() || args.filter.iter().any(|f| Path::new(f) == shown))
        .collect();
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut on_run = |report: &crate::tftest::RunReport| {
        println!("  run \"{}\"... {}", report.name, report.status.word());
        for text in &report.diagnostics {
            eprint!("{text}");
        }
    };
    let mut runner = Runner {
        root: root.to_path_buf(),
        cli_variables: args.vars.sources(),
        sources: crate::source::SourceMap::new(),
        on_run: &mut on_run,
        color: printer.color(),
    };
    for (path, shown) in files {
        let shown_text = shown.display().to_string();
        let test = match crate::tftest::parse(&path, &shown, &mut runner.sources) {
            Ok(test) => test,
            Err(diagnostics) => {
                println!("{shown_text}... fail");
                printer.diagnostics(&diagnostics, &runner.sources);
                failed += 1;
                continue;
            }
        };
        println!("{shown_text}... in progress");
        let (reports, teardown) = runner.run_file(&test);
        println!("{shown_text}... tearing down");
        for text in &teardown {
            eprint!("{text}");
        }
        let mut file_failed = !teardown.is_empty();
        for report in &reports {
            match report.status {
                Status::Pass => passed += 1,
                Status::Fail | Status::Error => {
                    failed += 1;
                    file_failed = true;
                }
                Status::Skip => skipped += 1,
            }
        }
        println!("{shown_text}... {}", if file_failed { "fail" } else { "pass" });
    }
    let skipped_text = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
    println!();
    if failed > 0 {
        println!("Failure! {passed} passed, {failed} failed{skipped_text}.");
        ExitCode::from(1)
    } else {
        println!("Success! {passed} passed, {failed} failed{skipped_text}.");
        ExitCode::SUCCESS
    }
}
