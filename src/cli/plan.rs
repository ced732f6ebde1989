//! `infra plan`: what an apply would do.

use super::Printer;
use super::session::{self, LockArgs, Session};
use super::vars::VarArgs;
use crate::addr::Address;
use crate::plan::Plan;
use crate::plan::planner::PlanOptions;
use std::path::PathBuf;
use std::process::ExitCode;

/// Planning flags shared by `plan`, `apply` and `destroy`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// Plan only this resource (and what it depends on); repeatable.
    #[arg(long = "target", value_name = "ADDRESS", value_parser = parse_target)]
    pub target: Vec<crate::addr::Target>,
    /// Replace this resource instance even if nothing changed; repeatable.
    #[arg(long = "replace", value_name = "ADDRESS", value_parser = parse_address)]
    pub replace: Vec<Address>,
    /// Read every object before planning (`-refresh=false` skips it).
    #[arg(long = "refresh", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Only update state to match the objects; change nothing.
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
    /// How many resource operations run at once.
    #[arg(long = "parallelism", default_value_t = 10)]
    pub parallelism: usize,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

fn parse_target(text: &str) -> Result<crate::addr::Target, String> {
    text.parse().map_err(|e: crate::addr::AddressError| e.to_string())
}

fn parse_address(text: &str) -> Result<Address, String> {
    text.parse().map_err(|e: crate::addr::AddressError| e.to_string())
}

/// Arguments of `infra plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Plan to destroy every object in state.
    #[arg(long)]
    pub destroy: bool,
    /// Print the plan as one line of JSON (docs/plan-json.md).
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Save the plan to FILE, for `infra apply FILE`.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub comment: CommentArgs,
}

/// Posting the plan to a pull request.
#[derive(Debug, Clone, clap::Args)]
pub struct CommentArgs {
    /// Post the plan as the pull request's sticky comment: `github:OWNER/REPO#PR`,
    /// `gitlab:GROUP/PROJECT!MR`, or nothing to detect it in GitHub Actions / GitLab CI.
    #[arg(long = "comment", value_name = "PR", num_args = 0..=1, default_missing_value = "auto")]
    pub comment: Option<String>,
    /// The stack the comment is about (default: this directory's name).
    #[arg(long = "comment-stack", value_name = "NAME")]
    pub stack: Option<String>,
    /// The comment's size limit in characters (default: the forge's).
    #[arg(long = "comment-limit", value_name = "CHARS")]
    pub limit: Option<usize>,
    /// The forge's API URL (default: GITHUB_API_URL / CI_API_V4_URL, else the public service).
    #[arg(long = "forge-url", value_name = "URL")]
    pub forge_url: Option<String>,
    /// Where the full plan is (a CI artifact URL), named when the comment must be cut.
    #[arg(long = "full-plan-url", value_name = "URL")]
    pub full_plan_url: Option<String>,
    /// The commit planned (default: GITHUB_SHA / CI_COMMIT_SHA); gets a commit status.
    #[arg(long = "commit", value_name = "SHA")]
    pub commit: Option<String>,
}

/// Posts or updates the plan comment (and the commit status) as `args` say.
fn post_comment(
    plan: &Plan,
    args: &CommentArgs,
    out: Option<&PathBuf>,
    printer: &super::Printer,
) -> Result<(), String> {
    use crate::forge::{Forge, Kind, StatusState, target};
    let Some(wanted) = &args.comment else { return Ok(()) };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let target = if wanted == "auto" {
        target::detect(env).ok_or("--comment without a pull request needs GitHub Actions or GitLab CI (a pull request / merge request pipeline); otherwise write --comment github:OWNER/REPO#PR")?
    } else {
        wanted.parse::<crate::forge::Target>()?
    };
    let stack = args.stack.clone().unwrap_or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "default".into())
    });
    let commit = args.commit.clone().or_else(|| target::detect_commit(env));
    let budget = args.limit.unwrap_or(match target.kind {
        Kind::GitHub => crate::render::markdown::GITHUB_LIMIT,
        Kind::GitLab => crate::render::markdown::GITLAB_LIMIT,
    });
    let full_plan = args
        .full_plan_url
        .clone()
        .or_else(|| out.map(|p| format!("`{}` (the saved plan; `infra show` prints it)", p.display())));
    let forge = Forge::new(target.kind, args.forge_url.clone()).map_err(|e| e.to_string())?;
    let comment = crate::render::markdown::Comment {
        stack: stack.clone(),
        commit: commit.clone(),
        budget,
        full_plan,
        superseded: Vec::new(),
    };
    let created = crate::runtime::block_on(forge.upsert_comment(&target, &stack, |superseded| {
        crate::render::markdown::render(plan, &crate::render::markdown::Comment { superseded, ..comment.clone() })
    }))
    .map_err(|e| e.to_string())?;
    if let Some(sha) = &commit {
        let summary = crate::render::markdown::summary(plan, &comment);
        crate::runtime::block_on(forge.set_status(
            &target,
            sha,
            StatusState::Success,
            &format!("infra/{stack}"),
            &summary,
            None,
        ))
        .map_err(|e| e.to_string())?;
    }
    printer.status(&format!("{} the plan comment on {target}.", if created { "Posted" } else { "Updated" }));
    Ok(())
}

/// Makes a plan in an open session; `None` when errors were printed.
pub fn make_plan(session: &mut Session, args: &PlanArgs, destroy: bool, printer: &Printer) -> Option<Plan> {
    let snapshot = match session::snapshot(session, printer) {
        Ok(snapshot) => snapshot,
        Err(diagnostic) => {
            printer.diagnostics(&diagnostic.into(), &session.config.sources);
            return None;
        }
    };
    let options = PlanOptions {
        destroy,
        refresh: args.refresh,
        refresh_only: args.refresh_only,
        targets: args.target.clone(),
        replace: args.replace.clone(),
        parallelism: args.parallelism,
        workspace: session.workspace.clone(),
    };
    let (plan, diagnostics) = session.plan(snapshot, options);
    printer.diagnostics(&diagnostics, &session.config.sources);
    if diagnostics.has_errors() {
        printer.status("The plan could not be made; nothing was changed.");
        return None;
    }
    Some(plan)
}

pub fn run(args: Args, printer: &Printer) -> ExitCode {
    let mut session = match session::open(&args.plan.vars, Some((&args.plan.lock, "plan")), printer) {
        Ok(session) => session,
        Err(error) => {
            printer.diagnostics(&error.diagnostics, &error.config.sources);
            return ExitCode::from(1);
        }
    };
    let Some(plan) = make_plan(&mut session, &args.plan, args.destroy, printer) else { return ExitCode::from(1) };
    if args.json {
        printer.data(&crate::render::json::render(&plan));
    } else {
        print!("{}", crate::render::human::render(&plan, printer.color()));
    }
    if let Err(error) = post_comment(&plan, &args.comment, args.out.as_ref(), printer) {
        printer.error(&format!("cannot comment on the pull request: {error}"));
        return ExitCode::from(1);
    }
    if let Some(path) = &args.out {
        let sealed = session.codec.seal(crate::plan::file::encode(&plan));
        if let Err(error) =
            sealed.map_err(|e| std::io::Error::other(e.to_string())).and_then(|bytes| write_private(path, &bytes))
        {
            printer.error(&format!("cannot write the plan to `{}`: {error}", path.display()));
            return ExitCode::from(1);
        }
        if !args.json {
            println!(
                "\nSaved the plan to: {}\n\nTo perform exactly these actions, run:\n    infra apply \"{}\"",
                path.display(),
                path.display()
            );
        }
    }
    session.close();
    if args.detailed_exitcode && plan.has_changes() { ExitCode::from(2) } else { ExitCode::SUCCESS }
}

/// Writes a file readable only by its owner (saved plans hold secrets).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::fsutil::write_private(path, bytes)
}
