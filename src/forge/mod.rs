//! Forges — GitHub and GitLab — for pull-request comments and commit statuses.
//!
//! One sticky comment per stack and pull request: found by its hidden marker
//! (`<!-- infra:stack=NAME -->`) among the pull request's comments (every page), updated in
//! place on each new plan with the previous plan folded into a "superseded" line, created only
//! when there is none. Requests retry on rate limits (honouring `Retry-After` and
//! `X-RateLimit-Reset`) and on server errors; 401, 403, 404 and 422 become one sentence that
//! names the repository and pull request and what to check. Tokens come from `GITHUB_TOKEN` /
//! `GITLAB_TOKEN` and never appear in messages.

mod client;
pub mod target;

pub use client::{Forge, ForgeError, StatusState};
pub use target::{Kind, Target};
