//! The REST calls: GitHub (issue comments, commit statuses) and GitLab (merge-request notes,
//! commit statuses), with pagination, rate-limit-aware retries and clear errors.

use super::target::{Kind, Target};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Attempts per request (rate limits and server errors are retried).
const ATTEMPTS: u32 = 4;
/// The longest wait a rate limit may impose before the request fails instead.
const LONGEST_WAIT: Duration = Duration::from_secs(60);
/// Comment pages looked through for the sticky comment.
const MAX_PAGES: u32 = 50;

/// A forge call failed: one sentence for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ForgeError(pub String);

/// A commit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusState {
    /// Planning.
    Pending,
    /// Planned (changes or not).
    Success,
    /// The plan failed.
    Failure,
}

/// A client for one forge.
pub struct Forge {
    kind: Kind,
    base: String,
    token: String,
    http: reqwest::Client,
}

fn forge_name(kind: Kind) -> &'static str {
    match kind {
        Kind::GitHub => "GitHub",
        Kind::GitLab => "GitLab",
    }
}

impl Forge {
    /// A client for `kind`: the API base from `base`, else `GITHUB_API_URL` / `CI_API_V4_URL`,
    /// else the public service; the token from `GITHUB_TOKEN` / `GITLAB_TOKEN`.
    ///
    /// # Errors
    ///
    /// No token.
    pub fn new(kind: Kind, base: Option<String>) -> Result<Forge, ForgeError> {
        Forge::with(kind, base, |name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// As [`Forge::new`], reading variables with `env`.
    ///
    /// # Errors
    ///
    /// No token.
    pub fn with(kind: Kind, base: Option<String>, env: impl Fn(&str) -> Option<String>) -> Result<Forge, ForgeError> {
        let (variable, base_variable, default) = match kind {
            Kind::GitHub => ("GITHUB_TOKEN", "GITHUB_API_URL", "https://api.github.com"),
            Kind::GitLab => ("GITLAB_TOKEN", "CI_API_V4_URL", "https://gitlab.com/api/v4"),
        };
        let token = env(variable)
            .ok_or_else(|| ForgeError(format!("{} needs a token to comment: set {variable}", forge_name(kind))))?;
        let base = base.or_else(|| env(base_variable)).unwrap_or_else(|| default.to_string());
        let http = reqwest::Client::builder()
            .user_agent(concat!("infra/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ForgeError(format!("cannot make an HTTP client: {e}")))?;
        Ok(Forge { kind, base: base.trim_end_matches('/').to_string(), token, http })
    }

    fn project(repo: &str) -> String {
        percent_encoding::utf8_percent_encode(repo, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    fn comments_path(&self, target: &Target) -> String {
        match self.kind {
            Kind::GitHub => format!("/repos/{}/issues/{}/comments", target.repo, target.number),
            Kind::GitLab => {
                format!("/projects/{}/merge_requests/{}/notes", Forge::project(&target.repo), target.number)
            }
        }
    }

    /// One request with retries; the response's status, headers and JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        target: &Target,
    ) -> Result<(reqwest::header::HeaderMap, Value), ForgeError> {
        let url = format!("{}{path}", self.base);
        let name = forge_name(self.kind);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self.http.request(method.clone(), &url);
            request = match self.kind {
                Kind::GitHub => request
                    .bearer_auth(&self.token)
                    .header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28"),
                Kind::GitLab => request.header("PRIVATE-TOKEN", &self.token),
            };
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) if attempt < ATTEMPTS => {
                    tracing::debug!(%error, attempt, "forge request failed; retrying");
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
                    continue;
                }
                Err(error) => {
                    let reason = if error.is_timeout() { "timed out" } else { "cannot be reached" };
                    return Err(ForgeError(format!("{name} at {} {reason} (commenting on {target})", self.base)));
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            if let Some(wait) = retry_after(status, &headers)
                && attempt < ATTEMPTS
            {
                if wait > LONGEST_WAIT {
                    return Err(ForgeError(format!(
                        "{name}'s rate limit for {target} resets in {} s; try again later",
                        wait.as_secs()
                    )));
                }
                tracing::info!(wait_ms = wait.as_millis() as u64, "forge rate limit or server error; waiting");
                tokio::time::sleep(wait).await;
                continue;
            }
            let text = response.text().await.unwrap_or_default();
            if status.is_success() {
                let value =
                    if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
                return Ok((headers, value));
            }
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v["message"].as_str().map(str::to_string).or_else(|| v["error"].as_str().map(str::to_string))
                })
                .unwrap_or_default();
            return Err(ForgeError(explain(self.kind, status, target, &detail)));
        }
    }

    /// Creates or updates the stack's sticky comment; `body` gets the summaries of the plans
    /// the existing comment showed (none for a new one). Returns whether it was created.
    ///
    /// # Errors
    ///
    /// As the forge answers (one sentence).
    pub async fn upsert_comment(
        &self,
        target: &Target,
        stack: &str,
        body: impl Fn(Vec<String>) -> String,
    ) -> Result<bool, ForgeError> {
        let marker = crate::render::markdown::marker(stack);
        let path = self.comments_path(target);
        // Only our own comment is ours to update: anyone can write the marker into theirs.
        let me = self.me(target).await;
        let author = |item: &Value| {
            match self.kind {
                Kind::GitHub => &item["user"],
                Kind::GitLab => &item["author"],
            }
            .clone()
        };
        let ours = |item: &Value| {
            let author = author(item);
            match me {
                Some(id) => author["id"].as_u64() == Some(id),
                // Who we are could not be asked (a GitHub App's token): a bot's comment only,
                // which no person can write.
                None => author["type"].as_str() == Some("Bot") || author["bot"].as_bool() == Some(true),
            }
        };
        let mut existing = None;
        'pages: for page in 1..=MAX_PAGES {
            let (headers, value) =
                self.call(Method::GET, &format!("{path}?per_page=100&page={page}"), None, target).await?;
            let items = value.as_array().cloned().unwrap_or_default();
            for item in &items {
                if item["body"].as_str().is_some_and(|b| b.starts_with(&marker)) && ours(item) {
                    existing = Some((item["id"].clone(), item["body"].as_str().unwrap_or("").to_string()));
                    break 'pages;
                }
            }
            if !has_next_page(self.kind, &headers, items.len()) {
                break;
            }
        }
        match existing {
            Some((id, old)) => {
                let text = body(crate::render::markdown::superseded_from(&old));
                let id =
                    id.as_u64().map(|n| n.to_string()).or_else(|| id.as_str().map(str::to_string)).unwrap_or_default();
                let (method, update) = match self.kind {
                    Kind::GitHub => (Method::PATCH, format!("/repos/{}/issues/comments/{id}", target.repo)),
                    Kind::GitLab => (Method::PUT, format!("{path}/{id}")),
                };
                self.call(method, &update, Some(&json!({ "body": text })), target).await?;
                Ok(false)
            }
            None => {
                self.call(Method::POST, &path, Some(&json!({ "body": body(Vec::new()) })), target).await?;
                Ok(true)
            }
        }
    }

    /// The id of the token's own user (`GET /user` on both forges), `None` when the forge
    /// does not say (an app's installation token).
    async fn me(&self, target: &Target) -> Option<u64> {
        match self.call(Method::GET, "/user", None, target).await {
            Ok((_, user)) => user["id"].as_u64(),
            Err(error) => {
                tracing::debug!(%error, "the forge did not say who the token's user is");
                None
            }
        }
    }

    /// Sets a commit status (`context`: `infra/STACK`).
    ///
    /// # Errors
    ///
    /// As the forge answers.
    pub async fn set_status(
        &self,
        target: &Target,
        sha: &str,
        state: StatusState,
        context: &str,
        description: &str,
        url: Option<&str>,
    ) -> Result<(), ForgeError> {
        if !(sha.len() >= 7 && sha.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err(ForgeError(format!("`{sha}` is not a commit id")));
        }
        // GitHub keeps 140 characters of a description.
        let description: String = description.chars().take(140).collect();
        let (path, body) = match self.kind {
            Kind::GitHub => {
                let state = match state {
                    StatusState::Pending => "pending",
                    StatusState::Success => "success",
                    StatusState::Failure => "failure",
                };
                let mut body = json!({ "state": state, "context": context, "description": description });
                if let Some(url) = url {
                    body["target_url"] = json!(url);
                }
                (format!("/repos/{}/statuses/{sha}", target.repo), body)
            }
            Kind::GitLab => {
                let state = match state {
                    StatusState::Pending => "running",
                    StatusState::Success => "success",
                    StatusState::Failure => "failed",
                };
                let mut body = json!({ "state": state, "name": context, "description": description });
                if let Some(url) = url {
                    body["target_url"] = json!(url);
                }
                (format!("/projects/{}/statuses/{sha}", Forge::project(&target.repo)), body)
            }
        };
        self.call(Method::POST, &path, Some(&body), target).await.map(|_| ())
    }
}

/// How long to wait before retrying, when the answer says to (rate limits, server errors).
fn retry_after(status: StatusCode, headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (header("retry-after").is_some() || header("x-ratelimit-remaining") == Some("0")));
    if limited {
        if let Some(seconds) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_secs(seconds));
        }
        if let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok()) {
            let now = chrono::Utc::now().timestamp();
            return Some(Duration::from_secs(u64::try_from(reset - now).unwrap_or(0) + 1));
        }
        return Some(Duration::from_secs(1));
    }
    status.is_server_error().then(|| Duration::from_millis(500))
}

fn has_next_page(kind: Kind, headers: &reqwest::header::HeaderMap, count: usize) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    match kind {
        Kind::GitHub => header("link").contains("rel=\"next\""),
        // GitLab leaves `X-Next-Page` empty on the last page; without the header, a full page
        // may have more behind it.
        Kind::GitLab => match headers.get("x-next-page") {
            Some(_) => !header("x-next-page").trim().is_empty(),
            None => count == 100,
        },
    }
}

/// One sentence for an error answer.
fn explain(kind: Kind, status: StatusCode, target: &Target, detail: &str) -> String {
    let name = forge_name(kind);
    let variable = match kind {
        Kind::GitHub => "GITHUB_TOKEN",
        Kind::GitLab => "GITLAB_TOKEN",
    };
    let detail = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
    match status.as_u16() {
        401 => format!("{name} refused the token for {target} (401){detail}: check that {variable} is set and valid"),
        403 => format!(
            "{name} forbids commenting on {target} (403){detail}: the token needs write access to pull requests / merge requests and commit statuses"
        ),
        404 => format!(
            "{name} knows no {target} (404){detail}: check the repository and number, and that the token can see the repository"
        ),
        422 => format!("{name} rejected the request for {target} (422){detail}"),
        code => format!("{name} answered {code} for {target}{detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_target_and_what_to_check() {
        let target: Target = "github:acme/platform#4".parse().expect("target");
        let text = explain(Kind::GitHub, StatusCode::UNAUTHORIZED, &target, "Bad credentials");
        assert!(
            text.contains("acme/platform#4") && text.contains("GITHUB_TOKEN") && text.contains("Bad credentials"),
            "{text}"
        );
        assert!(explain(Kind::GitHub, StatusCode::NOT_FOUND, &target, "").contains("404"));
    }

    #[test]
    fn rate_limits_say_how_long_to_wait() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "3".parse().expect("header"));
        assert_eq!(retry_after(StatusCode::TOO_MANY_REQUESTS, &headers), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(StatusCode::FORBIDDEN, &headers), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(StatusCode::FORBIDDEN, &reqwest::header::HeaderMap::new()), None);
        assert_eq!(
            retry_after(StatusCode::BAD_GATEWAY, &reqwest::header::HeaderMap::new()),
            Some(Duration::from_millis(500))
        );
    }

    #[test]
    fn a_missing_token_is_a_clear_error() {
        let error = Forge::with(Kind::GitLab, None, |_| None).err().expect("no token");
        assert!(error.to_string().contains("GITLAB_TOKEN"));
    }
}
