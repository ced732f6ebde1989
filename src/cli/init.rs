//! `infra init [-migrate-state | -reconfigure]`: installs the provider plugins the configuration
//! requires (see [`crate::plugins`]), records the backend in use, and moves the state when the
//! `backend` block changed.
//!
//! The backend of the last init is kept in `.infra/backend.json`. When the block changes, plans
//! and applies stop with "Backend configuration changed" until `init` is run again:
//! `-migrate-state` copies every workspace's state from the old backend to the new one (serial
//! and lineage kept, both locked while copying; asks first unless `-force-copy`),
//! `-reconfigure` starts afresh on the new backend and leaves the old one as it was.

use super::Printer;
use super::vars::VarArgs;
use crate::workspace::{BackendSpec, backend_spec, open_spec, record, recorded};
use infra_state::{Backend, LockRequest, Snapshot};
use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// `infra init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Copy the state from the previous backend to the configured one.
    #[arg(long = "migrate-state", conflicts_with = "reconfigure")]
    migrate_state: bool,
    /// Use the configured backend afresh, leaving the previous one's state where it is.
    #[arg(long)]
    reconfigure: bool,
    /// Copy without asking (with `-migrate-state`).
    #[arg(long = "force-copy")]
    force_copy: bool,
    /// Fetch every remote module again, choosing the newest allowed version.
    #[arg(long)]
    upgrade: bool,
    /// `readonly`: use the lock file's selections, and fail rather than change it.
    #[arg(long = "lockfile", value_name = "MODE")]
    lockfile: Option<String>,
    #[command(flatten)]
    vars: VarArgs,
}

/// Installs the required providers that a filesystem mirror holds (see [`crate::plugins`]).
fn install_providers(
    config: &crate::config::LoadedConfig,
    mode: crate::plugins::LockMode,
    printer: &Printer,
) -> Result<(), ExitCode> {
    let requirements = crate::plugins::requirements(config).map_err(|diagnostics| {
        printer.diagnostics(&diagnostics, &config.sources);
        ExitCode::from(1)
    })?;
    if requirements.is_empty() {
        return Ok(());
    }
    println!("Initializing provider plugins...");
    let installed = crate::plugins::install(&config.root.dir, &requirements, mode).map_err(|error| {
        printer.error(&format!("cannot install provider plugins: {error}"));
        ExitCode::from(1)
    })?;
    for requirement in &requirements {
        match installed.iter().find(|p| p.source == requirement.source) {
            Some(package) => println!("- Installed {} v{} (plugin)", requirement.source, package.version),
            None => println!("- {}: no plugin offered; served by infra's native provider", requirement.source),
        }
    }
    Ok(())
}

fn ask(question: &str) -> bool {
    print!("\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    answer.trim() == "yes"
}

/// Installs the remote modules (before the configuration is loaded: loading needs them).
fn install_modules(dir: &Path, upgrade: bool, printer: &Printer) -> Result<(), ExitCode> {
    let installed = crate::module_install::install(dir, upgrade).map_err(|error| {
        printer.error(&format!("cannot install modules: {error}"));
        ExitCode::from(1)
    })?;
    if installed.is_empty() {
        return Ok(());
    }
    println!("Initializing modules...");
    for module in &installed {
        let version = module.version.as_ref().map(|v| format!(" {v}")).unwrap_or_default();
        let source = crate::config::sources::redact(&module.source);
        if module.fetched {
            println!("- {} in .terraform/modules/{} ({source}{version})", module.key, module.key);
        } else {
            println!("- {}: kept ({source}{version})", module.key);
        }
    }
    Ok(())
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    let dir = Path::new(".");
    if let Err(code) = install_modules(dir, args.upgrade, printer) {
        return code;
    }
    let (mut config, variables, mut diagnostics) = super::vars::load(&args.vars);
    diagnostics.extend(std::mem::take(&mut config.diagnostics));
    let spec = backend_spec(&config);
    let codec = crate::workspace::codec(&config, &variables);
    let (spec, codec) = match (spec, codec) {
        (Ok(spec), Ok(codec)) if !diagnostics.has_errors() => (spec, codec),
        (spec, codec) => {
            diagnostics.extend(spec.err());
            diagnostics.extend(codec.err());
            printer.diagnostics(&diagnostics, &config.sources);
            return ExitCode::from(1);
        }
    };
    let mode = match args.lockfile.as_deref() {
        None => crate::plugins::LockMode::Update,
        Some("readonly") => crate::plugins::LockMode::Readonly,
        Some(other) => {
            printer.error(&format!("-lockfile={other}: the only mode is `readonly`"));
            return ExitCode::from(1);
        }
    };
    if let Err(code) = install_providers(&config, mode, printer) {
        return code;
    }
    let workspaces = crate::workspace::list(dir);
    // Before any init, the state was wherever the embedded default kept it.
    let previous = recorded(dir).or_else(|| {
        let has_local = workspaces.iter().any(|w| crate::workspace::state_dir(dir).join(format!("{w}.json")).exists());
        (has_local && spec.kind != "local").then(BackendSpec::local)
    });
    let changed = previous.as_ref().is_some_and(|previous| *previous != spec);
    if changed && !args.migrate_state && !args.reconfigure {
        let previous = previous.as_ref().map(BackendSpec::describe).unwrap_or_default();
        printer.error(&format!(
            "Backend configuration changed from {previous} to {}.\n\n  `infra init -migrate-state` copies the state to the new backend;\n  `infra init -reconfigure` starts there afresh (the old state stays where it is).",
            spec.describe()
        ));
        return ExitCode::from(1);
    }
    let current = crate::workspace::current(dir);
    let target = match open_spec(&spec, dir, &current, codec.clone()) {
        Ok(backend) => backend,
        Err(diagnostic) => {
            printer.diagnostics(&diagnostic.into(), &config.sources);
            return ExitCode::from(1);
        }
    };
    // Reaching the backend now says more than failing on the first plan.
    if let Err(error) = target.read() {
        printer.error(&format!("cannot read the state in {}: {error}", spec.describe()));
        return ExitCode::from(1);
    }
    if changed && args.migrate_state {
        let previous = previous.unwrap_or_else(BackendSpec::local);
        // A local backend knows all its workspaces; a remote one, the current one.
        let names = if previous.kind == "local" { workspaces } else { vec![current.clone()] };
        if !args.force_copy
            && !ask(&format!(
                "Do you want to copy the state of workspace(s) {} from {} to {}?",
                names.join(", "),
                previous.describe(),
                spec.describe()
            ))
        {
            printer.error("Migration cancelled; nothing was copied.");
            return ExitCode::from(1);
        }
        for name in &names {
            let copied = open_spec(&previous, dir, name, codec.clone())
                .and_then(|from| open_spec(&spec, dir, name, codec.clone()).map(|to| (from, to)))
                .map_err(|d| format!("{}: {}", d.summary, d.detail))
                .and_then(|(from, to)| migrate(&*from, &*to));
            match copied {
                Ok(Some(serial)) => printer.status(&format!("Copied workspace `{name}` (serial {serial}).")),
                Ok(None) => {}
                Err(error) => {
                    printer.error(&format!(
                        "cannot migrate workspace `{name}` from {} to {}: {error}",
                        previous.describe(),
                        spec.describe()
                    ));
                    return ExitCode::from(1);
                }
            }
        }
    } else if changed {
        printer.status(&format!(
            "Reconfigured: {} is used afresh; the state in {} was left as it was.",
            spec.describe(),
            previous.as_ref().map(BackendSpec::describe).unwrap_or_default()
        ));
    }
    if let Err(error) = record(dir, &spec) {
        printer.error(&format!("cannot record the backend in .infra/backend.json: {error}"));
        return ExitCode::from(1);
    }
    let sealed = if codec.is_encrypted() { ", encrypted" } else { "" };
    printer.status(&format!("infra has been initialized: state in {}{sealed}.", spec.describe()));
    ExitCode::SUCCESS
}

/// Copies one workspace's state (journal folded in, serial and lineage kept) with both
/// backends locked; `None` when there was nothing to copy.
fn migrate(from: &dyn Backend, to: &dyn Backend) -> Result<Option<u64>, String> {
    let request = LockRequest::for_this_process("init -migrate-state", Duration::from_secs(120));
    let source_lease = from.lock(&request).map_err(|e| format!("the old backend: {e}"))?;
    let result = (|| {
        let Some(snapshot) = from.read_folded(Some(&source_lease)).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let lease = to.lock(&request).map_err(|e| format!("the new backend: {e}"))?;
        let written = copy(&snapshot, to, &lease);
        let _ = to.unlock(&lease);
        written.map(|()| Some(snapshot.serial))
    })();
    let _ = from.unlock(&source_lease);
    result
}

fn copy(snapshot: &Snapshot, to: &dyn Backend, lease: &infra_state::Lease) -> Result<(), String> {
    match to.read().map_err(|e| e.to_string())? {
        Some(existing) if existing.lineage == snapshot.lineage && existing.serial == snapshot.serial => Ok(()),
        Some(existing) => Err(format!(
            "the new backend already holds a state (serial {}, lineage {}); use `infra init -reconfigure` to use it as it is",
            existing.serial, existing.lineage
        )),
        None => to.write(snapshot, None, Some(lease)).map_err(|e| e.to_string()),
    }
}
