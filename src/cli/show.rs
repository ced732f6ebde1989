//! `infra show [PLANFILE] [-json]`, `infra output [-json] [-raw] [NAME]`, `infra graph`.

use super::Printer;
use super::session::{self, Session};
use super::vars::VarArgs;
use crate::objects::from_state;
use infra_provider::Value;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

/// `infra show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A saved plan to show instead of the state.
    plan_file: Option<PathBuf>,
    /// As JSON (a plan: docs/plan-json.md; the state: values with sensitive parts left out).
    #[arg(long)]
    json: bool,
}

fn session(printer: &Printer) -> Option<Session> {
    match session::open(&VarArgs::default(), None, printer) {
        Ok(session) => Some(session),
        Err(error) => {
            printer.diagnostics(&error.diagnostics, &error.config.sources);
            None
        }
    }
}

/// The codec of the configuration in the working directory (for sealed saved plans).
fn plan_codec() -> Result<infra_state::Codec, String> {
    let (config, variables, _) = super::vars::load(&super::vars::VarArgs::default());
    crate::workspace::codec(&config, &variables).map_err(|d| format!("{}: {}", d.summary, d.detail))
}

pub fn run_show(args: ShowArgs, printer: &Printer) -> ExitCode {
    if let Some(path) = &args.plan_file {
        let opened = std::fs::read(path).map_err(|e| e.to_string()).and_then(|bytes| {
            // A sealed plan is opened with the key of the configuration here.
            let codec = if infra_state::codec::is_sealed(&bytes) { plan_codec()? } else { infra_state::Codec::plain() };
            codec.open(bytes, &format!("the saved plan `{}`", path.display())).map_err(|e| e.to_string())
        });
        return match opened.and_then(|b| crate::plan::file::decode(&b)) {
            Ok(plan) => {
                if args.json {
                    printer.data(&crate::render::json::render(&plan));
                } else {
                    print!("{}", crate::render::human::render(&plan, printer.color()));
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                printer.error(&format!("cannot read the saved plan `{}`: {error}", path.display()));
                ExitCode::from(1)
            }
        };
    }
    let Some(session) = session(printer) else { return ExitCode::from(1) };
    let snapshot = match session.read_unlocked().map_err(|e| e.to_string()) {
        Ok(snapshot) => snapshot,
        Err(message) => {
            printer.error(&message);
            return ExitCode::from(1);
        }
    };
    let Some(snapshot) = snapshot else {
        printer.data(if args.json { "{}" } else { "The state is empty." });
        return ExitCode::SUCCESS;
    };
    if args.json {
        let resources: Vec<serde_json::Value> = snapshot
            .resources
            .iter()
            .map(|(address, resource)| {
                let value = from_state(&resource.attributes, &resource.sensitive_attributes);
                json!({ "address": address, "mode": resource.mode, "type": resource.kind, "provider_name": resource.provider, "values": crate::render::value::json(&value).parse::<serde_json::Value>().unwrap_or_default() })
            })
            .collect();
        printer.data(&json!({ "format_version": "1.0", "serial": snapshot.serial, "lineage": snapshot.lineage, "resources": resources }).to_string());
        return ExitCode::SUCCESS;
    }
    for (address, resource) in &snapshot.resources {
        let value = from_state(&resource.attributes, &resource.sensitive_attributes);
        printer.data(&format!(
            "# {address}:\n{} {}\n",
            if resource.mode == "data" { "data" } else { "resource" },
            crate::render::value::human(&value)
        ));
    }
    if !snapshot.outputs.is_empty() {
        printer.data("Outputs:\n");
        for (name, output) in &snapshot.outputs {
            let text = if output.sensitive {
                "(sensitive value)".to_string()
            } else {
                crate::render::value::human(&Value::from_json(&output.value))
            };
            printer.data(&format!("{name} = {text}"));
        }
    }
    ExitCode::SUCCESS
}

/// `infra output`.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// One output only.
    name: Option<String>,
    /// Terraform's `output -json` shape (values shown, sensitive ones included).
    #[arg(long)]
    json: bool,
    /// A string output's raw text, for scripts.
    #[arg(long)]
    raw: bool,
}

pub fn run_output(args: OutputArgs, printer: &Printer) -> ExitCode {
    let Some(session) = session(printer) else { return ExitCode::from(1) };
    let outputs = match session.read_unlocked().map_err(|e| e.to_string()) {
        Ok(snapshot) => snapshot.map(|s| s.outputs).unwrap_or_default(),
        Err(message) => {
            printer.error(&message);
            return ExitCode::from(1);
        }
    };
    if let Some(name) = &args.name {
        let Some(output) = outputs.get(name) else {
            printer.error(&format!(
                "the output `{name}` is not in state; apply first, or check its name with `infra output`"
            ));
            return ExitCode::from(1);
        };
        let value = Value::from_json(&output.value);
        if args.raw {
            match &value {
                Value::String(text) => print!("{text}"),
                Value::Number(n) => print!("{n}"),
                Value::Bool(b) => print!("{b}"),
                _ => {
                    printer.error("-raw shows only strings, numbers and bools; use -json");
                    return ExitCode::from(1);
                }
            }
        } else if args.json {
            printer.data(&output.value.to_string());
        } else if output.sensitive {
            printer.data("<sensitive>");
        } else {
            printer.data(&crate::render::value::human(&value));
        }
        return ExitCode::SUCCESS;
    }
    if args.json {
        // As Terraform: a null output is not kept, so not shown.
        let document: serde_json::Map<String, serde_json::Value> = outputs
            .iter()
            .filter(|(_, output)| !output.value.is_null())
            .map(|(name, output)| (name.clone(), json!({ "sensitive": output.sensitive, "type": output.value_type.clone().unwrap_or_else(|| crate::types::type_json(&Value::from_json(&output.value))), "value": output.value })))
            .collect();
        printer.data(&serde_json::to_string_pretty(&document).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    for (name, output) in outputs.iter().filter(|(_, output)| !output.value.is_null()) {
        let text = if output.sensitive {
            "<sensitive>".to_string()
        } else {
            crate::render::value::human(&Value::from_json(&output.value))
        };
        printer.data(&format!("{name} = {text}"));
    }
    ExitCode::SUCCESS
}

/// `infra graph`: the resource dependency graph of the configuration, in DOT.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {}

pub fn run_graph(_: GraphArgs, printer: &Printer) -> ExitCode {
    let (config, _, _) = super::vars::load(&super::vars::VarArgs::default());
    if config.diagnostics.has_errors() {
        printer.diagnostics(&config.diagnostics, &config.sources);
        return ExitCode::from(1);
    }
    match crate::graph::ModuleGraph::build(&config.root) {
        Ok(graph) => {
            let mut out = String::from("digraph {\n  compound = \"true\"\n  newrank = \"true\"\n");
            for &node in &graph.order {
                out.push_str(&format!("  \"{}\"\n", graph.names[node]));
            }
            for (node, dependencies) in graph.dependencies.iter().enumerate() {
                for &dependency in dependencies {
                    out.push_str(&format!("  \"{}\" -> \"{}\"\n", graph.names[node], graph.names[dependency]));
                }
            }
            out.push('}');
            printer.data(&out);
            ExitCode::SUCCESS
        }
        Err(cycles) => {
            printer.diagnostics(&cycles, &config.sources);
            ExitCode::from(1)
        }
    }
}
