//! `infra state list|show|mv|rm|pull|push|history|rollback`, `infra force-unlock ID`, `infra import ADDR ID`.

use super::Printer;
use super::session::{self, LockArgs, Session};
use super::vars::VarArgs;
use crate::objects::{from_state, to_state};
use infra_provider::{Diagnostic, ImportRequest};
use infra_state::{JournalEntry, ResourceState, Snapshot};
use std::path::PathBuf;
use std::process::ExitCode;

/// `infra state ...`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: StateCommand,
}

#[derive(Debug, clap::Subcommand)]
enum StateCommand {
    /// List the resource instances in state (optionally only those under ADDRESS prefixes).
    List {
        /// Address prefixes to filter by.
        addresses: Vec<String>,
    },
    /// Show one resource instance's attributes (sensitive values hidden).
    Show {
        /// The instance address.
        address: String,
    },
    /// Move an instance (or all instances of a resource) to a new address.
    Mv {
        /// From.
        source: String,
        /// To.
        destination: String,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Forget instances (the objects are not destroyed).
    Rm {
        /// Addresses (instances, or resources meaning all their instances).
        addresses: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print the state as JSON (docs/state-format.md); `-serial N` prints an earlier version.
    /// Sensitive values are replaced by `(sensitive value)` unless `-show-sensitive` is given
    /// (a redacted file is refused by `state push`, so nothing is lost by pushing it back).
    Pull {
        /// An earlier version (see `infra state history`).
        #[arg(long)]
        serial: Option<u64>,
        /// With `-serial`: the lineage the version belongs to (when a state was begun afresh,
        /// two lineages may have the same serial; default: the current lineage, else the newest).
        #[arg(long)]
        lineage: Option<String>,
        /// Print sensitive values too (for a backup to push back later).
        #[arg(long)]
        show_sensitive: bool,
    },
    /// Make an earlier version current again: its content is written as a new serial (history
    /// is never rewritten).
    Rollback {
        /// The version to go back to (see `infra state history`).
        serial: u64,
        /// The lineage of that version (default: the current lineage, else the newest).
        #[arg(long)]
        lineage: Option<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Replace the state with a file (same lineage, newer serial; `-force` overrides).
    Push {
        /// The state file.
        file: PathBuf,
        /// Push even if lineage or serial do not fit.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// The kept versions of the state, newest (current) first: serial, when, who, operation,
    /// resource count.
    History,
    /// Convert a Terraform state file (format v4) into this workspace's state.
    #[command(name = "import-tfstate")]
    ImportTfstate {
        /// The `terraform.tfstate` file.
        file: PathBuf,
        /// Replace a state that already exists here (written as a newer serial).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

fn open(lock: Option<(&LockArgs, &str)>, printer: &Printer) -> Option<(Session, Option<Snapshot>)> {
    let mut session = match session::open(&VarArgs::default(), lock, printer) {
        Ok(session) => session,
        Err(error) => {
            printer.diagnostics(&error.diagnostics, &error.config.sources);
            return None;
        }
    };
    // Read-only commands see a crashed run's journal folded in memory; writers fold it for real.
    let snapshot = if lock.is_some() {
        session::snapshot(&mut session, printer).map_err(|d| d.detail.clone())
    } else {
        session.read_unlocked().map_err(|e| e.to_string())
    };
    match snapshot {
        Ok(snapshot) => Some((session, snapshot)),
        Err(message) => {
            printer.error(&message);
            None
        }
    }
}

/// The key `state pull` adds to a state whose sensitive values it replaced.
const REDACTED: &str = "infra_redacted";

/// A snapshot as `state pull` prints it: whole with `-show-sensitive`, otherwise with every
/// sensitive attribute and output replaced by `(sensitive value)` and marked as redacted.
fn pulled(snapshot: &Snapshot, show_sensitive: bool) -> String {
    if show_sensitive {
        return serde_json::to_string_pretty(snapshot).unwrap_or_default();
    }
    let hidden = || serde_json::Value::from("(sensitive value)");
    let mut snapshot = snapshot.clone();
    for resource in snapshot.resources.values_mut() {
        for path in &resource.sensitive_attributes {
            let mut place = Some(&mut resource.attributes);
            for step in path {
                place = place.and_then(|value| match value {
                    serde_json::Value::Object(map) => map.get_mut(step),
                    serde_json::Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                    _ => None,
                });
            }
            if let Some(value) = place {
                *value = hidden();
            }
        }
    }
    for output in snapshot.outputs.values_mut().filter(|o| o.sensitive) {
        output.value = hidden();
    }
    // A provider's private data may hold anything it was given.
    for resource in snapshot.resources.values_mut() {
        resource.private = None;
    }
    let mut json = serde_json::to_value(&snapshot).unwrap_or_default();
    if let Some(map) = json.as_object_mut() {
        map.insert(REDACTED.into(), serde_json::Value::Bool(true));
    }
    serde_json::to_string_pretty(&json).unwrap_or_default()
}

/// A session for the recovery commands (`history`, `pull -serial`, `rollback`, `push`), which
/// must work when the current state does not parse: no snapshot is read here.
fn open_for_recovery(lock: Option<(&LockArgs, &str)>, printer: &Printer) -> Option<Session> {
    match session::open(&VarArgs::default(), lock, printer) {
        Ok(session) => Some(session),
        Err(error) => {
            printer.diagnostics(&error.diagnostics, &error.config.sources);
            None
        }
    }
}

/// The current state for a recovery write: `Ok(Some)` when it reads, `Ok(None)` when there is
/// none, and `Err(serial)` when it is stored but cannot be read (the write goes over it).
fn current_for_recovery(session: &Session, printer: &Printer) -> Result<Option<Snapshot>, Option<u64>> {
    match session.backend.read() {
        Ok(snapshot) => Ok(snapshot),
        Err(error) => {
            printer.status(&format!("warning: the current state cannot be read ({error}); writing over it"));
            Err(session.backend.stored_serial().ok().flatten())
        }
    }
}

/// Whether the instance at `address` is `filter` or inside it (an instance of a resource, a
/// resource of a module).
fn matches(address: &str, filter: &str) -> bool {
    match (address.parse::<crate::addr::Address>(), filter.parse::<crate::addr::Target>()) {
        (Ok(address), Ok(filter)) => filter.contains(&address),
        _ => address == filter,
    }
}

fn write(session: &Session, snapshot: &Snapshot, previous: Option<u64>, printer: &Printer) -> ExitCode {
    match session.backend.write(snapshot, previous, session.lease().as_ref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            printer.error(&error.to_string());
            ExitCode::from(1)
        }
    }
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    match args.command {
        StateCommand::List { addresses } => {
            let Some((_, snapshot)) = open(None, printer) else { return ExitCode::from(1) };
            for address in snapshot.map(|s| s.resources.into_keys().collect::<Vec<_>>()).unwrap_or_default() {
                if addresses.is_empty() || addresses.iter().any(|f| matches(&address, f)) {
                    printer.data(&address);
                }
            }
            ExitCode::SUCCESS
        }
        StateCommand::Show { address } => {
            let Some((_, snapshot)) = open(None, printer) else { return ExitCode::from(1) };
            let Some(resource) = snapshot.as_ref().and_then(|s| s.resources.get(&address)) else {
                printer.error(&format!("no instance `{address}` in state; `infra state list` shows what there is"));
                return ExitCode::from(1);
            };
            printer.data(&format!("# {address}:"));
            let value = from_state(&resource.attributes, &resource.sensitive_attributes);
            printer.data(&format!(
                "resource \"{}\" \"{}\" {}",
                resource.kind,
                address.rsplit('.').next().unwrap_or("").split('[').next().unwrap_or(""),
                crate::render::value::human(&value)
            ));
            ExitCode::SUCCESS
        }
        StateCommand::Mv { source, destination, lock } => {
            let Some((session, Some(mut snapshot))) = open(Some((&lock, "state mv")), printer) else {
                printer.error("there is no state to move things in");
                return ExitCode::from(1);
            };
            let (from, to) = match (source.parse::<crate::addr::Target>(), destination.parse::<crate::addr::Target>()) {
                (Ok(from), Ok(to)) => (from, to),
                (Err(error), _) | (_, Err(error)) => {
                    printer.error(&error.to_string());
                    return ExitCode::from(1);
                }
            };
            let moves: Vec<(String, String)> = snapshot
                .resources
                .keys()
                .filter_map(|old| {
                    let address = old.parse::<crate::addr::Address>().ok()?;
                    Some((old.clone(), crate::addr::relocate(&from, &to, &address)?.to_string()))
                })
                .collect();
            if moves.is_empty() {
                printer.error(&format!("no instance `{source}` in state"));
                return ExitCode::from(1);
            }
            for (old, new) in moves {
                if snapshot.resources.contains_key(&new) {
                    printer.error(&format!("`{new}` already exists in state; nothing was moved"));
                    return ExitCode::from(1);
                }
                let resource = snapshot.resources.remove(&old).expect("listed above");
                snapshot.resources.insert(new.clone(), resource);
                printer.data(&format!("Move \"{old}\" to \"{new}\""));
            }
            let previous = snapshot.serial;
            snapshot.serial += 1;
            write(&session, &snapshot, Some(previous), printer)
        }
        StateCommand::Rm { addresses, lock } => {
            let Some((session, Some(mut snapshot))) = open(Some((&lock, "state rm")), printer) else {
                printer.error("there is no state to remove things from");
                return ExitCode::from(1);
            };
            let doomed: Vec<String> =
                snapshot.resources.keys().filter(|a| addresses.iter().any(|f| matches(a, f))).cloned().collect();
            if doomed.is_empty() {
                printer.error("no matching instances in state; nothing was removed");
                return ExitCode::from(1);
            }
            for address in &doomed {
                snapshot.resources.remove(address);
                printer.data(&format!("Removed {address}"));
            }
            let previous = snapshot.serial;
            snapshot.serial += 1;
            write(&session, &snapshot, Some(previous), printer)
        }
        StateCommand::Pull { serial: Some(serial), lineage, show_sensitive } => {
            let Some(session) = open_for_recovery(None, printer) else { return ExitCode::from(1) };
            match session.backend.read_version(serial, lineage.as_deref()) {
                Ok(Some(snapshot)) => {
                    printer.data(&pulled(&snapshot, show_sensitive));
                    ExitCode::SUCCESS
                }
                Ok(None) => {
                    printer.error(&format!("there is no version {serial} in the history; see `infra state history`"));
                    ExitCode::from(1)
                }
                Err(error) => {
                    printer.error(&error.to_string());
                    ExitCode::from(1)
                }
            }
        }
        StateCommand::Rollback { serial, lineage, lock } => {
            let Some(session) = open_for_recovery(Some((&lock, "state rollback")), printer) else {
                return ExitCode::from(1);
            };
            let mut earlier = match session.backend.read_version(serial, lineage.as_deref()) {
                Ok(Some(snapshot)) => snapshot,
                Ok(None) => {
                    printer.error(&format!("there is no version {serial} in the history; see `infra state history`"));
                    return ExitCode::from(1);
                }
                Err(error) => {
                    printer.error(&error.to_string());
                    return ExitCode::from(1);
                }
            };
            let previous = match current_for_recovery(&session, printer) {
                Ok(Some(current)) => {
                    if earlier.lineage != current.lineage && lineage.as_deref() != Some(earlier.lineage.as_str()) {
                        printer.error(&format!(
                            "version {serial} belongs to another lineage ({}) than the current state ({}); name it with `-lineage {}` to roll back to it anyway",
                            earlier.lineage, current.lineage, earlier.lineage
                        ));
                        return ExitCode::from(1);
                    }
                    Some(current.serial)
                }
                Ok(None) => None,
                Err(stored) => stored,
            };
            earlier.serial = previous.map_or(earlier.serial, |p| p.max(earlier.serial) + 1);
            printer.status(&format!("Writing version {serial}'s content as serial {}.", earlier.serial));
            write(&session, &earlier, previous, printer)
        }
        StateCommand::Pull { serial: None, show_sensitive, .. } => {
            let Some((_, snapshot)) = open(None, printer) else { return ExitCode::from(1) };
            match snapshot {
                Some(snapshot) => printer.data(&pulled(&snapshot, show_sensitive)),
                None => printer.status("There is no state yet."),
            }
            ExitCode::SUCCESS
        }
        StateCommand::Push { file, force, lock } => {
            let mut pushed: Snapshot = match std::fs::read(&file)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string()))
                .and_then(|json| {
                    if json.get(REDACTED).is_some() {
                        return Err(format!("its sensitive values were replaced by `state pull` (`{REDACTED}`), so pushing it would lose them; pull it again with `-show-sensitive`"));
                    }
                    serde_json::from_value(json).map_err(|e| e.to_string())
                })
            {
                Ok(snapshot) => snapshot,
                Err(error) => {
                    printer.error(&format!("cannot read `{}` as a state: {error}", file.display()));
                    return ExitCode::from(1);
                }
            };
            let Some(session) = open_for_recovery(Some((&lock, "state push")), printer) else {
                return ExitCode::from(1);
            };
            let current = match current_for_recovery(&session, printer) {
                Ok(current) => current,
                Err(_) if !force => {
                    printer.error("the current state cannot be read; use -force to replace it with the pushed file");
                    return ExitCode::from(1);
                }
                Err(stored) => {
                    pushed.serial = stored.map_or(pushed.serial, |s| s.max(pushed.serial) + 1);
                    return write(&session, &pushed, stored, printer);
                }
            };
            if let Some(current) = &current {
                if !force && current.lineage != pushed.lineage {
                    printer.error(&format!(
                        "the pushed state has lineage {} but the current state has {}; use -force to replace it anyway",
                        pushed.lineage, current.lineage
                    ));
                    return ExitCode::from(1);
                }
                if !force && pushed.serial < current.serial {
                    printer.error(&format!(
                        "the pushed state has serial {}, older than the current {}; use -force to replace it anyway",
                        pushed.serial, current.serial
                    ));
                    return ExitCode::from(1);
                }
                pushed.serial = current.serial + 1;
            }
            write(&session, &pushed, current.as_ref().map(|s| s.serial), printer)
        }
        StateCommand::ImportTfstate { file, force, lock } => {
            let text = match std::fs::read(&file) {
                Ok(text) => text,
                Err(error) => {
                    printer.error(&format!("cannot read `{}`: {error}", file.display()));
                    return ExitCode::from(1);
                }
            };
            let Some((session, current)) = open(Some((&lock, "state import-tfstate")), printer) else {
                return ExitCode::from(1);
            };
            let mut imported = match crate::tfstate::convert(&text, &file.display().to_string(), &session.registry) {
                Ok(snapshot) => snapshot,
                Err(error) => {
                    printer.error(&error);
                    return ExitCode::from(1);
                }
            };
            if let Some(current) = &current {
                if !force && !current.resources.is_empty() {
                    printer.error(&format!(
                        "this workspace already has a state with {} resources (serial {}); use -force to replace it",
                        current.resources.len(),
                        current.serial
                    ));
                    return ExitCode::from(1);
                }
                imported.serial = imported.serial.max(current.serial + 1);
            }
            let count = imported.resources.len();
            let code = write(&session, &imported, current.as_ref().map(|s| s.serial), printer);
            if code == ExitCode::SUCCESS {
                printer.status(&format!(
                    "Imported {count} resource instances from `{}` (lineage {}, serial {}). Run `infra plan` to compare them with the configuration.",
                    file.display(),
                    imported.lineage,
                    imported.serial
                ));
            }
            code
        }
        StateCommand::History => {
            let Some(session) = open_for_recovery(None, printer) else { return ExitCode::from(1) };
            match session.backend.history() {
                Ok(history) => {
                    printer.data(&format!(
                        "{:<7} {:<36} {:<25} {:<28} {:<22} resources",
                        "serial", "lineage", "written", "who", "operation"
                    ));
                    for entry in history {
                        printer.data(&format!(
                            "{:<7} {:<36} {:<25} {:<28} {:<22} {}",
                            entry.serial,
                            if entry.lineage.is_empty() { "-" } else { &entry.lineage },
                            entry.written,
                            if entry.who.is_empty() { "-" } else { &entry.who },
                            if entry.operation.is_empty() { "-" } else { &entry.operation },
                            entry.resources
                        ));
                    }
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    printer.error(&error.to_string());
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// `infra force-unlock ID`.
#[derive(Debug, clap::Args)]
pub struct ForceUnlockArgs {
    /// The lock id (shown in the "state is locked" error).
    id: String,
}

pub fn run_force_unlock(args: ForceUnlockArgs, printer: &Printer) -> ExitCode {
    let Some((session, _)) = open(None, printer) else { return ExitCode::from(1) };
    match session.backend.force_unlock(&args.id) {
        Ok(()) => {
            printer.data("infra state has been successfully unlocked!");
            ExitCode::SUCCESS
        }
        Err(error) => {
            printer.error(&error.to_string());
            ExitCode::from(1)
        }
    }
}

/// `infra import ADDRESS ID`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Where the object goes (a `resource` block must exist for it).
    address: String,
    /// The provider's id of the existing object.
    id: String,
    #[command(flatten)]
    vars: VarArgs,
    #[command(flatten)]
    lock: LockArgs,
}

pub fn run_import(args: ImportArgs, printer: &Printer) -> ExitCode {
    let address: crate::addr::Address = match args.address.parse() {
        Ok(address) => address,
        Err(error) => {
            printer.error(&error.to_string());
            return ExitCode::from(1);
        }
    };
    let mut session = match session::open(&args.vars, Some((&args.lock, "import")), printer) {
        Ok(session) => session,
        Err(error) => {
            printer.diagnostics(&error.diagnostics, &error.config.sources);
            return ExitCode::from(1);
        }
    };
    let base = address.resource().local_name();
    if address.module.is_empty() && !session.config.root.resources.contains_key(&base) {
        let diagnostic = Diagnostic::error(
            "Configuration for import target does not exist",
            format!("The configuration has no `resource` block for `{base}`. Add one first, then import into it."),
        );
        printer.diagnostics(&diagnostic.into(), &session.config.sources);
        return ExitCode::from(1);
    }
    let snapshot = match session::snapshot(&mut session, printer) {
        Ok(snapshot) => snapshot,
        Err(diagnostic) => {
            printer.diagnostics(&diagnostic.into(), &session.config.sources);
            return ExitCode::from(1);
        }
    };
    if snapshot.as_ref().is_some_and(|s| s.resources.contains_key(&args.address)) {
        printer.error(&format!(
            "`{}` is already managed; `infra state rm` it first to import another object there",
            args.address
        ));
        return ExitCode::from(1);
    }
    let resource_provider =
        session.config.root.resources.get(&address.resource().local_name()).and_then(|r| r.provider.clone());
    let mut diagnostics = infra_provider::Diagnostics::new();
    session.registry.configure(&session.config, &session.variables, &mut diagnostics);
    if diagnostics.has_errors() {
        printer.diagnostics(&diagnostics, &session.config.sources);
        return ExitCode::from(1);
    }
    let Some((provider_name, provider)) = session.registry.for_resource(&address.kind, resource_provider.as_deref())
    else {
        printer.error(&format!("no provider serves `{}`", address.kind));
        return ExitCode::from(1);
    };
    let imported =
        crate::runtime::block_on(provider.import(ImportRequest { kind: address.kind.clone(), id: args.id.clone() }));
    let value = match imported {
        Ok(response) => response.current,
        Err(errors) => {
            printer.diagnostics(&errors, &session.config.sources);
            return ExitCode::from(1);
        }
    };
    let (attributes, sensitive_attributes) = to_state(&value);
    let resource = ResourceState {
        mode: "managed".into(),
        kind: address.kind.clone(),
        provider: provider_name,
        schema_version: provider.schema().resources.get(&address.kind).map_or(0, |s| s.version),
        attributes,
        sensitive_attributes,
        dependencies: Vec::new(),
        create_before_destroy: false,
        private: crate::objects::private_text(provider.as_ref(), &address.kind, &value),
        plugin: provider.plugin().map(str::to_string),
    };
    let lease = session.lease();
    let result = session
        .backend
        .journal_append(
            &[JournalEntry::Set { address: args.address.clone(), resource: Box::new(resource) }],
            lease.as_ref(),
        )
        .and_then(|_| session.backend.read_folded(lease.as_ref()));
    match result {
        Ok(_) => {
            printer.data(&format!("{}: Import prepared!\n\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in\nyour infra state and will henceforth be managed by infra.", args.address));
            ExitCode::SUCCESS
        }
        Err(error) => {
            printer.error(&error.to_string());
            ExitCode::from(1)
        }
    }
}
