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
        // `type(EXPR)`, only in the console (as in Terraform): the type of a value.
        let mut typed = false;
        let outcome = match hcl_edit::parser::parse_expr(&line) {
            Ok(mut expr) => {
                crate::eval::template::prepare_expr(&mut expr, &[]);
                let inner = match &expr {
                    hcl_edit::expr::Expression::FuncCall(call)
                        if !call.name.is_namespaced()
                            && call.name.name.value().as_str() == "type"
                            && call.args.len() == 1 =>
                    {
                        call.args.iter().next().cloned()
                    }
                    _ => None,
                };
                typed = inner.is_some();
                crate::eval::Evaluator::new(&values.scope, file).eval(inner.as_ref().unwrap_or(&expr))
            }
            Err(error) => Err(crate::config::parse_error(&error, file, &line)),
        };
        match outcome {
            Ok(value) if typed => printer.data(&type_name(&value)),
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

/// A value's type as Terraform's console writes it (one element or attribute per line, four
/// spaces per level). Values carry no declared type here, so a list reads as a tuple and a map
/// as an object (what a literal of them is in Terraform).
fn type_name(value: &infra_provider::Value) -> String {
    type_at(value, 0)
}

fn type_at(value: &infra_provider::Value, depth: usize) -> String {
    use infra_provider::Value;
    let pad = "    ".repeat(depth + 1);
    let close = "    ".repeat(depth);
    match value.bare() {
        Value::Null | Value::Unknown | Value::Sensitive(_) => "dynamic".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::List(items) if items.is_empty() => "tuple([])".into(),
        Value::List(items) => {
            let lines: String = items.iter().map(|item| format!("{pad}{},\n", type_at(item, depth + 1))).collect();
            format!("tuple([\n{lines}{close}])")
        }
        Value::Set(items) => match items.first() {
            Some(first) => format!("set({})", type_at(first, depth)),
            None => "set(dynamic)".into(),
        },
        Value::Map(entries) if entries.is_empty() => "object({})".into(),
        Value::Map(entries) => {
            let lines: String =
                entries.iter().map(|(k, v)| format!("{pad}{k}: {},\n", type_at(v, depth + 1))).collect();
            format!("object({{\n{lines}{close}}})")
        }
    }
}
