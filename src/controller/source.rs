//! A stack's Git source: fetched with `git2` into a bare cache per stack (shallow where the
//! server allows), resolved to one commit, and the stack's directory exported from it.
//!
//! Only the stack's path matters: its tree id identifies the configuration, so a commit that
//! touches nothing under it is recognised as no change.

use super::config::SourceSpec;
use git2::{FetchOptions, Oid, RemoteCallbacks, Repository};
use std::path::{Component, Path};

/// A fetched revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The commit id (hex).
    pub commit: String,
    /// The tree id of the stack's path in it (hex): the configuration's identity.
    pub tree: String,
}

fn callbacks(source: &SourceSpec) -> RemoteCallbacks<'_> {
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(move |_url, username, allowed| {
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            // A token file, else the URL's own userinfo (never passed to libgit2 in the URL,
            // so it cannot turn up in its messages), else a token variable.
            let token = source
                .token_file
                .as_ref()
                .and_then(|path| std::fs::read_to_string(path).ok())
                .map(|text| ("x-access-token".to_string(), text.trim().to_string()))
                .or_else(|| super::config::userinfo(&source.url))
                .or_else(|| {
                    let token = source.token_env.as_ref().and_then(|name| std::env::var(name).ok())?;
                    Some(("x-access-token".to_string(), token))
                });
            if let Some((user, token)) = token {
                return git2::Cred::userpass_plaintext(&user, &token);
            }
        }
        if allowed.contains(git2::CredentialType::SSH_KEY)
            && let Some(key) = &source.ssh_key
        {
            return git2::Cred::ssh_key(username.unwrap_or("git"), None, key, None);
        }
        Err(git2::Error::from_str(
            "the server wants credentials: set `token_file`, `token_env` or `ssh_key` in the stack's source",
        ))
    });
    callbacks
}

/// The refspec to fetch and the local reference it lands in.
fn wanted(source: &SourceSpec) -> (String, String) {
    if let Some(tag) = &source.tag {
        return (format!("+refs/tags/{tag}:refs/tags/{tag}"), format!("refs/tags/{tag}"));
    }
    let branch = source.branch.as_deref().unwrap_or("main");
    (format!("+refs/heads/{branch}:refs/remotes/origin/{branch}"), format!("refs/remotes/origin/{branch}"))
}

fn git_error(url: &str) -> impl Fn(git2::Error) -> String + '_ {
    move |error| format!("git fetch of {url}: {}", super::config::redact_userinfo(error.message()))
}

/// Fetches the source into `cache` (a bare repository, created on first use) and resolves it.
///
/// # Errors
///
/// The server cannot be reached, refuses the credentials, or lacks the branch, tag, commit or
/// path (one sentence naming the URL).
pub fn fetch(source: &SourceSpec, cache: &Path) -> Result<Revision, String> {
    fetch_from(source, cache, None)
}

/// Fetches a pull request's head (`refs/pull/N/head` on GitHub, `refs/merge-requests/N/head`
/// on GitLab, as `reference`) and resolves it like [`fetch`].
///
/// # Errors
///
/// As [`fetch`].
pub fn fetch_ref(source: &SourceSpec, cache: &Path, reference: &str) -> Result<Revision, String> {
    fetch_from(source, cache, Some(reference))
}

fn fetch_from(source: &SourceSpec, cache: &Path, reference: Option<&str>) -> Result<Revision, String> {
    // Shown in messages: credentials redacted.
    let shown = source.display_url();
    let url = shown.as_str();
    let repo = match Repository::open_bare(cache) {
        Ok(repo) => repo,
        Err(_) => {
            std::fs::create_dir_all(cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
            Repository::init_bare(cache).map_err(git_error(url))?
        }
    };
    let mut remote =
        repo.remote_anonymous(&super::config::replace_userinfo(&source.url, "")).map_err(git_error(url))?;
    let (refspec, local) = match (&source.commit, reference) {
        (_, Some(reference)) => {
            let local = format!("refs/infra/{}", reference.trim_start_matches("refs/"));
            (format!("+{reference}:{local}"), local)
        }
        // A pinned commit: fetch the default branch's history and find it there.
        (Some(_), None) => ("+refs/heads/*:refs/remotes/origin/*".to_string(), String::new()),
        (None, None) => wanted(source),
    };
    let shallow = source.commit.is_none() || reference.is_some();
    let fetched = {
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks(source));
        if shallow {
            options.depth(1);
        }
        remote.fetch(&[refspec.as_str()], Some(&mut options), None)
    };
    if let Err(error) = fetched {
        // Not every transport serves shallow fetches (libgit2's local one does not): fetch whole.
        if !shallow {
            return Err(git_error(url)(error));
        }
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks(source));
        remote.fetch(&[refspec.as_str()], Some(&mut options), None).map_err(git_error(url))?;
    }
    let commit = match source.commit.as_ref().filter(|_| reference.is_none()) {
        Some(id) => {
            let oid = Oid::from_str(id).map_err(|_| format!("`{id}` is not a commit id"))?;
            repo.find_commit(oid).map_err(|_| format!("commit {id} is not in {url}"))?
        }
        None => repo
            .find_reference(&local)
            .and_then(|r| r.peel_to_commit())
            .map_err(|_| format!("{url} has no {}", local.trim_start_matches("refs/remotes/origin/")))?,
    };
    let tree = stack_tree(&repo, &commit.id(), &source.path)?;
    Ok(Revision { commit: commit.id().to_string(), tree: tree.to_string() })
}

fn stack_tree(repo: &Repository, commit: &Oid, path: &str) -> Result<Oid, String> {
    let commit = repo.find_commit(*commit).map_err(|e| e.message().to_string())?;
    let root = commit.tree().map_err(|e| e.message().to_string())?;
    let path = path.trim_matches('/');
    if path.is_empty() || path == "." {
        return Ok(root.id());
    }
    let entry = root
        .get_path(Path::new(path))
        .map_err(|_| format!("commit {} has no directory `{path}`", &commit.id().to_string()[..12]))?;
    if entry.kind() != Some(git2::ObjectType::Tree) {
        return Err(format!("`{path}` in commit {} is not a directory", &commit.id().to_string()[..12]));
    }
    Ok(entry.id())
}

/// Writes the whole tree of `commit` into `dest` (emptied first), so modules referenced by
/// relative paths outside the stack's directory are there too. Symlinks and submodules are
/// skipped; a name that would leave `dest` is refused.
///
/// # Errors
///
/// I/O failure, or a hostile tree.
pub fn export(cache: &Path, commit: &str, dest: &Path) -> Result<(), String> {
    let repo = Repository::open_bare(cache).map_err(|e| e.message().to_string())?;
    let oid = Oid::from_str(commit).map_err(|e| e.message().to_string())?;
    let tree = repo.find_commit(oid).and_then(|c| c.tree()).map_err(|e| e.message().to_string())?;
    if dest.exists() {
        std::fs::remove_dir_all(dest).map_err(|e| format!("cannot clear {}: {e}", dest.display()))?;
    }
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let mut failure = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
        let Ok(name) = entry.name() else { return git2::TreeWalkResult::Skip };
        let relative = Path::new(parent).join(name);
        if relative.components().any(|c| !matches!(c, Component::Normal(_))) || name == ".git" {
            failure = Some(format!("the tree holds a hostile name `{}`", relative.display()));
            return git2::TreeWalkResult::Abort;
        }
        let target = dest.join(&relative);
        let written = match entry.kind() {
            Some(git2::ObjectType::Tree) => std::fs::create_dir_all(&target).map_err(|e| e.to_string()),
            Some(git2::ObjectType::Blob) if entry.filemode() != 0o120000 => repo
                .find_blob(entry.id())
                .map_err(|e| e.message().to_string())
                .and_then(|blob| std::fs::write(&target, blob.content()).map_err(|e| e.to_string())),
            _ => Ok(()),
        };
        match written {
            Ok(()) => git2::TreeWalkResult::Ok,
            Err(error) => {
                failure = Some(format!("cannot write {}: {error}", target.display()));
                git2::TreeWalkResult::Abort
            }
        }
    })
    .map_err(|e| failure.clone().unwrap_or_else(|| e.message().to_string()))?;
    match failure {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}
