//! `infra validate [--json] [--var NAME=VALUE] [--var-file FILE]`.

use super::Printer;
use super::vars::VarArgs;
use std::process::ExitCode;

/// Arguments of `infra validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the result as JSON (`valid`, `error_count`, `diagnostics`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    vars: VarArgs,
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    let (config, variables, mut diagnostics) = super::vars::load(&args.vars);
    diagnostics.extend(crate::validate::check(&config, &variables));
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    if args.json {
        let items: Vec<serde_json::Value> = diagnostics
            .iter()
            .map(|d| {
                serde_json::json!({
                    "severity": if d.is_error() { "error" } else { "warning" },
                    "summary": d.summary,
                    "detail": d.detail,
                    "range": d.primary.as_ref().map(|span| config.sources.location(span)),
                })
            })
            .collect();
        let json = serde_json::json!({
            "format_version": "1.0",
            "valid": errors == 0,
            "error_count": errors,
            "warning_count": diagnostics.len() - errors,
            "diagnostics": items,
        });
        printer.data(&json.to_string());
    } else {
        printer.diagnostics(&diagnostics, &config.sources);
        if errors == 0 {
            printer.data("Success! The configuration is valid.");
        } else {
            printer.status(&format!("{errors} error{} found.", if errors == 1 { "" } else { "s" }));
        }
    }
    if errors == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
