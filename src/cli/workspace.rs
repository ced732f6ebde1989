//! `infra workspace list|new|select|delete|show`.

use super::Printer;
use crate::workspace;
use std::path::Path;
use std::process::ExitCode;

/// `infra workspace ...`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: WorkspaceCommand,
}

#[derive(Debug, clap::Subcommand)]
enum WorkspaceCommand {
    /// List workspaces; `*` marks the selected one.
    List,
    /// Print the selected workspace.
    Show,
    /// Create a workspace and select it.
    New {
        /// Its name.
        name: String,
    },
    /// Select a workspace.
    Select {
        /// Its name.
        name: String,
    },
    /// Delete a workspace whose state is empty (`-force` deletes one that still manages objects).
    Delete {
        /// Its name.
        name: String,
        /// Delete even if its state still holds resources (they are forgotten, not destroyed).
        #[arg(long)]
        force: bool,
    },
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    let dir = Path::new(".");
    let current = workspace::current(dir);
    let fail = |message: String| {
        printer.error(&message);
        ExitCode::from(1)
    };
    match args.command {
        WorkspaceCommand::List => {
            for name in workspace::list(dir) {
                printer.data(&format!("{} {name}", if name == current { "*" } else { " " }));
            }
            ExitCode::SUCCESS
        }
        WorkspaceCommand::Show => {
            printer.data(&current);
            ExitCode::SUCCESS
        }
        WorkspaceCommand::New { name } => {
            if !workspace::valid_name(&name) {
                return fail(format!("`{name}` is not a valid workspace name: use letters, digits, `-`, `_` and `.`"));
            }
            if workspace::list(dir).contains(&name) {
                return fail(format!("the workspace `{name}` already exists"));
            }
            let state = infra_state::local::LocalBackend::new(workspace::state_dir(dir), &name);
            let mut snapshot = infra_state::Snapshot::new();
            snapshot.serial = 1;
            if let Err(error) = infra_state::Backend::write(&state, &snapshot, None, None) {
                return fail(error.to_string());
            }
            if let Err(error) = workspace::select(dir, &name) {
                return fail(error.to_string());
            }
            printer.data(&format!("Created and switched to workspace \"{name}\"!"));
            ExitCode::SUCCESS
        }
        WorkspaceCommand::Select { name } => {
            if !workspace::list(dir).contains(&name) {
                return fail(format!(
                    "the workspace `{name}` does not exist; create it with `infra workspace new {name}`"
                ));
            }
            if let Err(error) = workspace::select(dir, &name) {
                return fail(error.to_string());
            }
            printer.data(&format!("Switched to workspace \"{name}\"."));
            ExitCode::SUCCESS
        }
        WorkspaceCommand::Delete { name, force } => {
            if name == current {
                return fail(format!("the workspace `{name}` is selected; select another one before deleting it"));
            }
            if name == "default" {
                return fail("the default workspace cannot be deleted".into());
            }
            let state = infra_state::local::LocalBackend::new(workspace::state_dir(dir), &name);
            let snapshot = match infra_state::Backend::read(&state) {
                Ok(snapshot) => snapshot,
                Err(error) => return fail(error.to_string()),
            };
            let Some(snapshot) = snapshot else { return fail(format!("the workspace `{name}` does not exist")) };
            if !snapshot.resources.is_empty() && !force {
                return fail(format!(
                    "the workspace `{name}` still manages {} resource instances; destroy them first, or use -force to forget them",
                    snapshot.resources.len()
                ));
            }
            if let Err(error) = std::fs::remove_file(state.state_path()) {
                return fail(error.to_string());
            }
            printer.data(&format!("Deleted workspace \"{name}\"!"));
            ExitCode::SUCCESS
        }
    }
}
