//! `infra providers [-json]`: the providers the configuration requires and what serves each — an
//! installed plugin (its version and binary), infra's native provider, or nothing yet.

use super::Printer;
use super::vars::VarArgs;
use crate::registry::Registry;
use std::process::ExitCode;

/// `infra providers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON document instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    let (config, _, _) = super::vars::load(&VarArgs::default());
    if config.diagnostics.has_errors() {
        printer.diagnostics(&config.diagnostics, &config.sources);
        return ExitCode::from(1);
    }
    let requirements = match crate::plugins::requirements(&config) {
        Ok(requirements) => requirements,
        Err(diagnostics) => {
            printer.diagnostics(&diagnostics, &config.sources);
            return ExitCode::from(1);
        }
    };
    let installed = crate::plugins::installed(&config.root.dir, &requirements);
    let native = Registry::with_builtins();
    let mut rows = Vec::new();
    for requirement in &requirements {
        let plugin = installed.iter().find(|(r, _)| r == requirement).map(|(_, package)| package);
        let served_by = match plugin {
            Some(_) => "plugin",
            None if native.instance(&requirement.name).is_some() => "native",
            None => "none",
        };
        rows.push(serde_json::json!({
            "name": requirement.name,
            "source": requirement.source.to_string(),
            "constraints": requirement.version,
            "served_by": served_by,
            "version": plugin.map(|p| p.version.to_string()),
            "binary": plugin.map(|p| p.binary.display().to_string()),
        }));
    }
    if args.json {
        printer.data(&serde_json::json!({ "providers": rows }).to_string());
        return ExitCode::SUCCESS;
    }
    if rows.is_empty() {
        printer.data("The configuration requires no providers; its types are served by infra's native providers.");
        return ExitCode::SUCCESS;
    }
    for row in &rows {
        let source = row["source"].as_str().unwrap_or_default();
        let constraints = row["constraints"].as_str().map(|c| format!(" {c}")).unwrap_or_default();
        let how = match row["served_by"].as_str() {
            Some("plugin") => format!(
                "plugin v{} ({})",
                row["version"].as_str().unwrap_or_default(),
                row["binary"].as_str().unwrap_or_default()
            ),
            Some("native") => "infra's native provider".to_string(),
            _ => "nothing: run `infra init` with the plugin in a filesystem mirror".to_string(),
        };
        printer.data(&format!("provider[{source}]{constraints}: {how}"));
    }
    ExitCode::SUCCESS
}
