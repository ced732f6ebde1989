//! `infra apply [PLANFILE]` and `infra destroy`.

use super::Printer;
use super::plan::{PlanArgs, make_plan};
use super::session::{self, Session};
use crate::apply::{ApplyOptions, Progress};
use crate::plan::{Action, Plan};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Arguments of `infra apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Skip the interactive confirmation.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// A plan saved with `infra plan -out FILE`: apply exactly it.
    pub plan_file: Option<PathBuf>,
}

/// Arguments of `infra destroy`.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Skip the interactive confirmation.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
}

/// Progress lines on stderr: `terraform_data.a: Creating...`.
struct Lines;

fn verbs(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("Creating...", "Creation complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::Replace(_) => ("Replacing...", "Replacement complete"),
        Action::Read => ("Reading...", "Read complete"),
        Action::Forget => ("Forgetting...", "Forgotten"),
        Action::NoOp => ("", ""),
    }
}

impl Progress for Lines {
    fn started(&self, address: &str, action: Action) {
        let _ = writeln!(std::io::stderr().lock(), "{address}: {}", verbs(action).0);
    }

    fn finished(&self, address: &str, action: Action, elapsed: Duration, id: Option<&str>) {
        let id = id.map(|id| format!(" [id={id}]")).unwrap_or_default();
        let _ = writeln!(std::io::stderr().lock(), "{address}: {} after {}s{id}", verbs(action).1, elapsed.as_secs());
    }
}

fn confirm(question: &str) -> bool {
    print!(
        "\n{question}\n  infra will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    answer.trim() == "yes"
}

/// Ctrl-C: the first stops new work (in-flight calls finish, state is saved); the second aborts.
fn interrupt_handler() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            handler_flag.store(true, Ordering::SeqCst);
            eprintln!(
                "\nInterrupt received. Waiting for running operations to finish and saving state; press Ctrl-C again to abort."
            );
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("Aborted. Finished changes are kept in the state journal.");
                std::process::exit(130);
            }
        }
    });
    flag
}

fn run_plan(
    interrupted: Option<Arc<AtomicBool>>,
    mut session: Session,
    plan: Plan,
    args: &PlanArgs,
    auto_approve: bool,
    destroy: bool,
    printer: &Printer,
) -> ExitCode {
    if !plan.has_changes() {
        let done = if destroy {
            "Destroy complete! Resources: 0 destroyed."
        } else {
            "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."
        };
        println!("\nNo changes. Your infrastructure matches the configuration.\n\n{done}");
        return ExitCode::SUCCESS;
    }
    if !auto_approve {
        let question = if destroy {
            "Do you really want to destroy all resources?"
        } else {
            "Do you want to perform these actions?"
        };
        if !confirm(question) {
            println!("\nApply cancelled.");
            return ExitCode::from(1);
        }
    }
    let interrupted = interrupted.unwrap_or_else(interrupt_handler);
    let progress = Lines;
    let options = ApplyOptions {
        parallelism: args.parallelism,
        interrupted,
        progress: &progress,
        workspace: session.workspace.clone(),
    };
    let snapshot = match session::snapshot(&mut session, printer) {
        Ok(snapshot) => snapshot,
        Err(diagnostic) => {
            printer.diagnostics(&diagnostic.into(), &session.config.sources);
            return ExitCode::from(1);
        }
    };
    let (outcome, diagnostics) = session.apply(&plan, snapshot, &options);
    printer.diagnostics(&diagnostics, &session.config.sources);
    let summary = plan.summary();
    if outcome.interrupted {
        printer.status("Apply interrupted: the changes that finished are saved in state.");
    }
    if diagnostics.has_errors() || outcome.interrupted {
        let cause = if diagnostics.has_errors() { "the errors above" } else { "the interrupt" };
        printer.status(&format!(
            "{} change{} applied before {cause}.",
            outcome.applied,
            if outcome.applied == 1 { "" } else { "s" }
        ));
        session.close();
        return ExitCode::from(1);
    }
    if destroy {
        println!("\nDestroy complete! Resources: {} destroyed.", summary.destroy);
    } else {
        println!(
            "\nApply complete! Resources: {} added, {} changed, {} destroyed.",
            summary.add, summary.change, summary.destroy
        );
    }
    if let Some(snapshot) = &outcome.snapshot
        && !snapshot.outputs.is_empty()
        && !destroy
    {
        println!("\nOutputs:\n");
        for (name, output) in &snapshot.outputs {
            let text = if output.sensitive {
                "<sensitive>".to_string()
            } else {
                crate::render::value::human(&infra_provider::Value::from_json(&output.value))
            };
            println!("{name} = {text}");
        }
    }
    session.close();
    ExitCode::SUCCESS
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    // Installed first, so a Ctrl-C while planning lets the run stop cleanly (lock released).
    let interrupted = interrupt_handler();
    let mut session = match session::open(&args.plan.vars, Some((&args.plan.lock, "apply")), printer) {
        Ok(session) => session,
        Err(error) => {
            printer.diagnostics(&error.diagnostics, &error.config.sources);
            return ExitCode::from(1);
        }
    };
    let (plan, auto_approve) = match &args.plan_file {
        Some(path) => {
            let plan = match std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    session
                        .codec
                        .open(bytes, &format!("the saved plan `{}`", path.display()))
                        .map_err(|e| e.to_string())
                })
                .and_then(|bytes| crate::plan::file::decode(&bytes))
            {
                Ok(plan) => plan,
                Err(error) => {
                    printer.error(&format!("cannot read the saved plan `{}`: {error}", path.display()));
                    return ExitCode::from(1);
                }
            };
            let current = match session::snapshot(&mut session, printer) {
                Ok(snapshot) => snapshot,
                Err(diagnostic) => {
                    printer.diagnostics(&diagnostic.into(), &session.config.sources);
                    return ExitCode::from(1);
                }
            };
            let (serial, lineage) = (current.as_ref().map(|s| s.serial), current.as_ref().map(|s| s.lineage.clone()));
            if plan.prior_serial != serial || plan.prior_lineage != lineage {
                printer.error(&format!(
                    "the saved plan `{}` is stale: it was made against state serial {} but the state is now at serial {}; make a new plan",
                    path.display(),
                    plan.prior_serial.map_or("none".into(), |s| s.to_string()),
                    serial.map_or("none".into(), |s| s.to_string())
                ));
                return ExitCode::from(1);
            }
            (plan, true)
        }
        None => {
            let Some(plan) = make_plan(&mut session, &args.plan, false, printer) else { return ExitCode::from(1) };
            print!("{}", crate::render::human::render(&plan, printer.color()));
            (plan, args.auto_approve)
        }
    };
    let destroy = plan.destroy;
    run_plan(Some(interrupted), session, plan, &args.plan, auto_approve, destroy, printer)
}

pub fn run_destroy(args: DestroyArgs, printer: &Printer) -> ExitCode {
    let interrupted = interrupt_handler();
    let mut session = match session::open(&args.plan.vars, Some((&args.plan.lock, "destroy")), printer) {
        Ok(session) => session,
        Err(error) => {
            printer.diagnostics(&error.diagnostics, &error.config.sources);
            return ExitCode::from(1);
        }
    };
    let Some(plan) = make_plan(&mut session, &args.plan, true, printer) else { return ExitCode::from(1) };
    print!("{}", crate::render::human::render(&plan, printer.color()));
    run_plan(Some(interrupted), session, plan, &args.plan, args.auto_approve, true, printer)
}
