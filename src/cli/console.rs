//! `infra console [--json]`: evaluate expressions read from stdin, one per line, in the root
//! module's scope. With `--json`, exactly one line of JSON per expression. A failing expression
//! prints its diagnostic on stderr; the process then exits 1 at the end.

use super::Printer;
use super::vars::VarArgs;
use crate::graph::walk::{EvalOptions, evaluate_root};
use infra_provider::Diagnostics;
use std::io::BufRead;
use std::process::ExitCode;

/// Arguments of `infra console`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One line of JSON per expression (Terraform's `output -json` value encoding).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    vars: VarArgs,
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    let (mut config, variables, mut diagnostics) = super::vars::load(&args.vars);
    diagnostics.extend(std::mem::take(&mut config.diagnostics));
    if diagnostics.has_errors() {
        printer.diagnostics(&diagnostics, &config.sources);
        return ExitCode::from(1);
    }
    let options = EvalOptions { workspace: "default".into(), ..EvalOptions::default() };
    let (values, evaluation) = evaluate_root(&config, &variables, &options);
    diagnostics.extend(evaluation);
    printer.diagnostics(&diagnostics, &config.sources);
    if diagnostics.has_errors() {
        return ExitCode::from(1);
    }
    let mut failed = false;
    let stdin = std::io::stdin();
    for (number, line) in stdin.lock().lines().enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                printer.error(&format!("cannot read stdin: {error}"));
                return ExitCode::from(1);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let file = config.sources.add(format!("<stdin line {}>", number + 1), line.clone());
        let outcome = match hcl_edit::parser::parse_expr(&line) {
            Ok(mut expr) => {
                crate::eval::template::prepare_expr(&mut expr, &[]);
                crate::eval::Evaluator::new(&values.scope, file).eval(&expr)
            }
            Err(error) => Err(crate::config::parse_error(&error, file, &line)),
        };
        match outcome {
            Ok(value) if args.json => printer.data(&crate::render::value::json(&value)),
            Ok(value) => printer.data(&crate::render::value::human(&value)),
            Err(diagnostic) => {
                failed = true;
                printer.diagnostics(&Diagnostics::from(diagnostic), &config.sources);
            }
        }
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
