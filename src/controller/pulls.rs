//! Pull-request plans: a `pull_request` (GitHub) or merge-request (GitLab) webhook makes the
//! controller plan the request's head commit against the stack's current state, and post or
//! update the stack's sticky comment and a commit status.
//!
//! Read-only: the state is read (a crashed run's journal folded in memory), never written, and
//! no lock is taken; nothing is applied. A newer push to the same request supersedes a plan
//! still running: its result is dropped instead of posted. The full text of each plan is kept
//! (the newest 50) at `/stacks/NAME/plans/ID`, which a cut comment links to.

use super::config::StackSpec;
use super::{Controller, StackHandle, source};
use crate::forge::{Forge, Kind, StatusState, Target};
use crate::plan::planner::PlanOptions;
use crate::session::{Opening, Session};
use std::sync::Arc;

/// Plans kept for `/stacks/NAME/plans/ID`.
const PLANS_KEPT: usize = 50;

/// A request to plan.
#[derive(Clone, Debug)]
pub struct PullRequest {
    /// Where to comment.
    pub target: Target,
    /// The head commit.
    pub head: String,
    /// The base branch it would merge into.
    pub base: Option<String>,
    /// Whether the head is in another repository (a fork).
    pub from_fork: bool,
    /// The author's association with the repository (GitHub's `author_association`).
    pub association: Option<String>,
}

/// A commit id as a webhook must give it: 7 to 64 hex digits (anything else is refused, so it
/// can neither reach a URL, a path or a git reference, nor be cut inside a character).
fn commit_id(text: &str) -> Option<String> {
    (text.len() >= 7 && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| text.to_string())
}

impl PullRequest {
    /// From a GitHub `pull_request` event payload (opened, reopened, synchronize).
    pub fn from_github(payload: &serde_json::Value) -> Option<PullRequest> {
        if !matches!(payload["action"].as_str(), Some("opened" | "reopened" | "synchronize" | "edited")) {
            return None;
        }
        let number = payload["pull_request"]["number"].as_u64().or_else(|| payload["number"].as_u64())?;
        let pull = &payload["pull_request"];
        let repository = payload["repository"]["full_name"].as_str()?;
        let head_repository = pull["head"]["repo"]["full_name"].as_str();
        Some(PullRequest {
            target: Target { kind: Kind::GitHub, repo: repository.to_string(), number },
            head: commit_id(pull["head"]["sha"].as_str()?)?,
            base: pull["base"]["ref"].as_str().map(str::to_string),
            from_fork: pull["head"]["repo"]["fork"].as_bool() == Some(true)
                || head_repository.is_some_and(|head| !head.eq_ignore_ascii_case(repository)),
            // Unknown counts as no association at all.
            association: Some(pull["author_association"].as_str().unwrap_or("NONE").to_string()),
        })
    }

    /// From a GitLab `Merge Request Hook` payload (open, reopen, update).
    pub fn from_gitlab(payload: &serde_json::Value) -> Option<PullRequest> {
        let attributes = &payload["object_attributes"];
        if !matches!(attributes["action"].as_str(), Some("open" | "reopen" | "update")) {
            return None;
        }
        Some(PullRequest {
            target: Target {
                kind: Kind::GitLab,
                repo: payload["project"]["path_with_namespace"].as_str()?.to_string(),
                number: attributes["iid"].as_u64()?,
            },
            head: commit_id(attributes["last_commit"]["id"].as_str()?)?,
            base: attributes["target_branch"].as_str().map(str::to_string),
            from_fork: attributes["source_project_id"].as_u64() != attributes["target_project_id"].as_u64(),
            // GitLab sends no role: a merge request from the project itself was pushed by a
            // member with write access.
            association: None,
        })
    }

    /// The head reference the forge keeps for it.
    fn reference(&self) -> String {
        match self.target.kind {
            Kind::GitHub => format!("refs/pull/{}/head", self.target.number),
            Kind::GitLab => format!("refs/merge-requests/{}/head", self.target.number),
        }
    }

    /// Whether it concerns a stack: same repository name, merging into the stack's branch.
    pub fn concerns(&self, stack: &StackSpec) -> bool {
        let name = self.target.repo.rsplit('/').next().unwrap_or(&self.target.repo);
        let base_matches = self
            .base
            .as_deref()
            .is_none_or(|base| stack.source.tag.is_some() || base == stack.source.branch.as_deref().unwrap_or("main"));
        super::webhook::concerns(stack, Some(name), None) && base_matches
    }
}

/// Starts planning `request` for every stack it concerns; a running plan of the same request
/// is superseded.
pub fn start(controller: &Arc<Controller>, request: &PullRequest) -> usize {
    let mut started = 0;
    for stack in controller.stacks() {
        if !request.concerns(&stack.spec) {
            continue;
        }
        if let Some(why) = stack.spec.pull_requests.refuses(request.from_fork, request.association.as_deref()) {
            tracing::info!(stack = stack.spec.name, pr = %request.target, reason = why, "pull request not planned");
            continue;
        }
        let generation = stack.next_pull_generation(request.target.number);
        let (controller, stack, request) = (controller.clone(), stack.clone(), request.clone());
        tokio::task::spawn_blocking(move || {
            let span = tracing::info_span!("pull_request_plan", stack = stack.spec.name, pr = %request.target);
            let _entered = span.enter();
            plan_and_comment(&controller, &stack, &request, generation);
        });
        started += 1;
    }
    started
}

fn plan_and_comment(controller: &Controller, stack: &StackHandle, request: &PullRequest, generation: u64) {
    let name = &stack.spec.name;
    let forge = match forge(controller, request.target.kind) {
        Ok(forge) => forge,
        Err(error) => {
            tracing::warn!(stack = name.as_str(), %error, "cannot comment on the pull request");
            return;
        }
    };
    let handle = tokio::runtime::Handle::current();
    let context = format!("infra/{name}");
    let _ = handle.block_on(forge.set_status(
        &request.target,
        &request.head,
        StatusState::Pending,
        &context,
        "planning",
        None,
    ));
    let id = format!("pr-{}-{}", request.target.number, short(&request.head, 12));
    let outcome = plan_head(stack, request);
    if !stack.is_latest_pull(request.target.number, generation) {
        tracing::info!(stack = name.as_str(), pr = %request.target, "superseded by a newer push: not posted");
        return;
    }
    let base_url =
        controller.config.public_url.clone().unwrap_or_else(|| format!("http://{}", controller.config.listen));
    let full_plan = format!("{base_url}/stacks/{name}/plans/{id}");
    let budget = match request.target.kind {
        Kind::GitHub => crate::render::markdown::GITHUB_LIMIT,
        Kind::GitLab => crate::render::markdown::GITLAB_LIMIT,
    };
    let comment = crate::render::markdown::Comment {
        stack: name.clone(),
        commit: Some(request.head.clone()),
        budget,
        full_plan: Some(full_plan.clone()),
        superseded: Vec::new(),
    };
    let (state, summary, posted) = match &outcome {
        Ok(planned) => {
            controller.keep_plan(name, &id, crate::render::human::render(planned, false));
            let summary = crate::render::markdown::summary(planned, &comment);
            let posted = handle.block_on(forge.upsert_comment(&request.target, name, |superseded| {
                crate::render::markdown::render(
                    planned,
                    &crate::render::markdown::Comment { superseded, ..comment.clone() },
                )
            }));
            (StatusState::Success, summary, posted)
        }
        Err(diagnostics) => {
            controller.keep_plan(name, &id, diagnostics.clone());
            let body = |superseded: Vec<String>| {
                let mut text = format!(
                    "{}\n<!-- infra:summary=Plan at {} failed -->\n### ❌ Plan for stack `{name}` at `{}` failed\n\n```\n{}\n```\n",
                    crate::render::markdown::marker(name),
                    short(&request.head, 7),
                    short(&request.head, 7),
                    diagnostics.chars().take(budget / 2).collect::<String>().replace("```", "`` `")
                );
                if !superseded.is_empty() {
                    text.push_str(&format!("\n<sub>Superseded: {}</sub>\n", superseded.join(" · ")));
                }
                text
            };
            let posted = handle.block_on(forge.upsert_comment(&request.target, name, body));
            (StatusState::Failure, "the plan failed".to_string(), posted)
        }
    };
    if let Err(error) = posted {
        tracing::warn!(stack = name.as_str(), %error, "cannot comment on the pull request");
    }
    if let Err(error) =
        handle.block_on(forge.set_status(&request.target, &request.head, state, &context, &summary, Some(&full_plan)))
    {
        tracing::warn!(stack = name.as_str(), %error, "cannot set the commit status");
    }
}

fn forge(controller: &Controller, kind: Kind) -> Result<Forge, crate::forge::ForgeError> {
    let base = match kind {
        Kind::GitHub => controller.config.github_api.clone(),
        Kind::GitLab => controller.config.gitlab_api.clone(),
    };
    Forge::new(kind, base)
}

/// Plans the request's head against the stack's state, read-only; the diagnostics as text on
/// failure.
fn plan_head(stack: &StackHandle, request: &PullRequest) -> Result<crate::plan::Plan, String> {
    let dirs = &stack.dirs;
    let revision = source::fetch_ref(&stack.spec.source, &dirs.cache, &request.reference())?;
    if !revision.commit.starts_with(&request.head) && !request.head.starts_with(&revision.commit) {
        tracing::info!(
            fetched = revision.commit,
            expected = request.head,
            "the pull request moved on since the webhook"
        );
    }
    // A work directory of this push alone (two pushes planned at once never share one),
    // removed when the plan is done.
    let checkout = WorkDir(dirs.checkout.with_file_name(format!(
        "pull-{}-{}",
        request.target.number,
        uuid::Uuid::new_v4().simple()
    )));
    source::export(&dirs.cache, &revision.commit, &checkout.0)?;
    // The head is the pull request author's: modules and file functions read only its checkout,
    // and whatever the head declares, every value the controller supplies (its own `TF_VAR_*`
    // environment included) is a secret in its plan (a head that drops `sensitive = true` must
    // not get it printed in the comment).
    let opening =
        Opening { all_variables_sensitive: true, ..super::reconcile::stack_opening(&stack.spec, dirs, &checkout.0) };
    // Read-only: no lock; a crashed run's journal is folded in memory only.
    let session = Session::open(opening).map_err(|error| error.render())?;
    let snapshot = session.read_unlocked().map_err(|e| e.to_string())?;
    let (planned, diagnostics) = session.plan(snapshot, PlanOptions { refresh: true, ..PlanOptions::default() });
    if diagnostics.has_errors() {
        return Err(crate::diagnostics::render_all(&diagnostics, &session.config.sources, false));
    }
    Ok(planned)
}

/// The first `count` characters of `text` (never cut inside a character).
fn short(text: &str, count: usize) -> &str {
    text.char_indices().nth(count).map_or(text, |(at, _)| &text[..at])
}

/// A directory removed when dropped.
struct WorkDir(std::path::PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Keeps the newest plans' text.
#[derive(Default)]
pub struct PlanStore {
    plans: std::sync::Mutex<std::collections::VecDeque<(String, String, String)>>,
}

impl PlanStore {
    /// Keeps one (dropping the oldest past the limit).
    pub fn keep(&self, stack: &str, id: &str, text: String) {
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        plans.retain(|(s, i, _)| !(s == stack && i == id));
        plans.push_back((stack.to_string(), id.to_string(), text));
        while plans.len() > PLANS_KEPT {
            plans.pop_front();
        }
    }

    /// One, by stack and id.
    pub fn get(&self, stack: &str, id: &str) -> Option<String> {
        let plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        plans.iter().find(|(s, i, _)| s == stack && i == id).map(|(_, _, text)| text.clone())
    }
}
