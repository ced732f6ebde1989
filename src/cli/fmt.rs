//! `infra fmt [--check] [--diff] [--recursive] [PATH...]` (and `-` for stdin).

use super::Printer;
use crate::fmt::format_hcl;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `infra fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Don't write files; list those that are not formatted and exit 3 if there are any.
    #[arg(long)]
    check: bool,
    /// Show a diff of the changes.
    #[arg(long)]
    diff: bool,
    /// Also format subdirectories.
    #[arg(long)]
    recursive: bool,
    /// Files or directories (default: the current directory); `-` reads stdin, writes stdout.
    paths: Vec<PathBuf>,
}

fn files(path: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .map(|p| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p))
        .collect();
    entries.sort();
    for entry in entries {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if entry.is_dir() {
            if recursive {
                files(&entry, recursive, out)?;
            }
        } else if matches!(entry.extension().and_then(|e| e.to_str()), Some("hcl" | "tf" | "tfvars")) {
            out.push(entry);
        }
    }
    Ok(())
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    if args.paths.len() == 1 && args.paths[0] == Path::new("-") {
        let mut text = String::new();
        if let Err(error) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
            printer.error(&format!("cannot read stdin: {error}"));
            return ExitCode::from(1);
        }
        return match format_hcl(&text) {
            Ok(formatted) => {
                print!("{formatted}");
                if args.check && formatted != text { ExitCode::from(3) } else { ExitCode::SUCCESS }
            }
            Err(error) => {
                printer.error(&format!(
                    "<stdin>:{}:{}: invalid syntax: {}",
                    error.location().line(),
                    error.location().column(),
                    error.message()
                ));
                ExitCode::from(1)
            }
        };
    }
    let roots = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut targets = Vec::new();
    for root in &roots {
        if let Err(error) = files(root, args.recursive, &mut targets) {
            printer.error(&format!("cannot read `{}`: {error}", root.display()));
            return ExitCode::from(1);
        }
    }
    let mut failed = false;
    let mut unformatted = false;
    for path in targets {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                printer.error(&format!("cannot read `{}`: {error}", path.display()));
                failed = true;
                continue;
            }
        };
        let formatted = match format_hcl(&text) {
            Ok(formatted) => formatted,
            Err(error) => {
                printer.error(&format!(
                    "{}:{}:{}: invalid syntax: {}; the file was not changed",
                    path.display(),
                    error.location().line(),
                    error.location().column(),
                    error.message()
                ));
                failed = true;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        unformatted = true;
        printer.data(&path.display().to_string());
        if args.diff {
            let diff = similar::TextDiff::from_lines(&text, &formatted);
            printer.data(
                &diff
                    .unified_diff()
                    .header(&format!("old/{}", path.display()), &format!("new/{}", path.display()))
                    .to_string(),
            );
        }
        if !args.check
            && let Err(error) = crate::fsutil::write_atomic(&path, formatted.as_bytes())
        {
            printer.error(&format!("cannot write `{}`: {error}", path.display()));
            failed = true;
        }
    }
    if failed {
        ExitCode::from(1)
    } else if args.check && unformatted {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
