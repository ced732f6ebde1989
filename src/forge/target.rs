//! Which pull request a comment goes to: `github:OWNER/REPO#PR`, `gitlab:GROUP/PROJECT!MR`, or
//! detected from GitHub Actions' and GitLab CI's standard environment variables.

use std::fmt;

/// The forge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// github.com or GitHub Enterprise.
    GitHub,
    /// gitlab.com or self-hosted GitLab.
    GitLab,
}

/// A pull request (GitHub) or merge request (GitLab).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The forge.
    pub kind: Kind,
    /// `OWNER/REPO` or `GROUP/SUBGROUP/PROJECT`.
    pub repo: String,
    /// The pull request number or merge request iid.
    pub number: u64,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::GitHub => write!(f, "{}#{}", self.repo, self.number),
            Kind::GitLab => write!(f, "{}!{}", self.repo, self.number),
        }
    }
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        let invalid =
            || format!("`{text}` is not a pull request: write github:OWNER/REPO#PR or gitlab:GROUP/PROJECT!MR");
        let (kind, rest, separator) = if let Some(rest) = text.strip_prefix("github:") {
            (Kind::GitHub, rest, '#')
        } else if let Some(rest) = text.strip_prefix("gitlab:") {
            (Kind::GitLab, rest, '!')
        } else {
            return Err(invalid());
        };
        let (repo, number) = rest.rsplit_once(separator).ok_or_else(invalid)?;
        let number: u64 = number.parse().map_err(|_| invalid())?;
        let parts: Vec<&str> = repo.split('/').collect();
        let valid_part =
            |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        let shape = match kind {
            Kind::GitHub => parts.len() == 2,
            Kind::GitLab => parts.len() >= 2,
        };
        if !shape || !parts.iter().all(valid_part) || parts.iter().any(|p| *p == "." || *p == "..") {
            return Err(invalid());
        }
        Ok(Target { kind, repo: repo.to_string(), number })
    }
}

/// The pull request of the CI job running this process, from GitHub Actions
/// (`GITHUB_REPOSITORY` + `GITHUB_REF=refs/pull/N/merge` or the event file) or GitLab CI
/// (`CI_PROJECT_PATH` + `CI_MERGE_REQUEST_IID`).
pub fn detect(env: impl Fn(&str) -> Option<String>) -> Option<Target> {
    if env("GITHUB_ACTIONS").as_deref() == Some("true") {
        let repo = env("GITHUB_REPOSITORY")?;
        let from_ref = env("GITHUB_REF")
            .and_then(|r| r.strip_prefix("refs/pull/").and_then(|r| r.split('/').next()).and_then(|n| n.parse().ok()));
        let from_event = || {
            let path = env("GITHUB_EVENT_PATH")?;
            let event: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
            event["pull_request"]["number"].as_u64().or_else(|| event["number"].as_u64())
        };
        let number = from_ref.or_else(from_event)?;
        return Some(Target { kind: Kind::GitHub, repo, number });
    }
    if env("GITLAB_CI").as_deref() == Some("true") {
        let repo = env("CI_PROJECT_PATH")?;
        let number = env("CI_MERGE_REQUEST_IID")?.parse().ok()?;
        return Some(Target { kind: Kind::GitLab, repo, number });
    }
    None
}

/// The commit CI is building, when it says (`GITHUB_SHA` — the PR head in `pull_request`
/// events is in the event file — or `CI_COMMIT_SHA`).
pub fn detect_commit(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let from_event = || {
        let path = env("GITHUB_EVENT_PATH")?;
        let event: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        event["pull_request"]["head"]["sha"].as_str().map(str::to_string)
    };
    from_event().or_else(|| env("GITHUB_SHA")).or_else(|| env("CI_COMMIT_SHA"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn targets_parse_and_print() {
        let github: Target = "github:acme/platform#42".parse().expect("github");
        assert_eq!((github.kind, github.repo.as_str(), github.number), (Kind::GitHub, "acme/platform", 42));
        assert_eq!(github.to_string(), "acme/platform#42");
        let gitlab: Target = "gitlab:acme/infra/platform!7".parse().expect("gitlab");
        assert_eq!(gitlab.to_string(), "acme/infra/platform!7");
        for bad in [
            "github:acme#1",
            "github:acme/platform",
            "github:a/b#x",
            "bitbucket:a/b#1",
            "github:a/../b#1",
            "gitlab:a/b#1",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ci_environments_are_detected() {
        let github: HashMap<&str, &str> = HashMap::from([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/platform"),
            ("GITHUB_REF", "refs/pull/9/merge"),
        ]);
        let found = detect(|k| github.get(k).map(|v| v.to_string()));
        assert_eq!(found, Some(Target { kind: Kind::GitHub, repo: "acme/platform".into(), number: 9 }));
        let gitlab: HashMap<&str, &str> =
            HashMap::from([("GITLAB_CI", "true"), ("CI_PROJECT_PATH", "acme/platform"), ("CI_MERGE_REQUEST_IID", "3")]);
        assert_eq!(
            detect(|k| gitlab.get(k).map(|v| v.to_string())).map(|t| t.to_string()),
            Some("acme/platform!3".into())
        );
        assert_eq!(detect(|_| None), None);
    }
}
