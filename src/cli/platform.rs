//! `infra platform list` and `infra platform show KIND`: the platform blocks' modules, as
//! shipped inside the binary (see `crate::platform`).

use super::Printer;
use std::process::ExitCode;

/// `infra platform`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The block types: cluster, database, function, queue, service.
    List,
    /// Print a block type's module (to read, or to fork into ./modules/).
    Show {
        /// The block type.
        kind: String,
    },
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    match args.command {
        Command::List => {
            for (kind, _) in crate::platform::KINDS {
                printer.data(kind);
            }
            ExitCode::SUCCESS
        }
        Command::Show { kind } => match crate::platform::module_text(&kind) {
            Some(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                let kinds: Vec<&str> = crate::platform::KINDS.iter().map(|(k, _)| *k).collect();
                printer.error(&format!("there is no platform block `{kind}`; there are {}", kinds.join(", ")));
                ExitCode::from(1)
            }
        },
    }
}
