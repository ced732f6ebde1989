//! `git daemon` serving bare repositories from a temp dir on a free loopback port (push
//! enabled), and working clones that commit and push to them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `git daemon`.
pub struct GitServer {
    child: Child,
    base: tempfile::TempDir,
    /// Its port.
    pub port: u16,
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Tester")
        .env("GIT_AUTHOR_EMAIL", "tester@example.com")
        .env("GIT_COMMITTER_NAME", "Tester")
        .env("GIT_COMMITTER_EMAIL", "tester@example.com")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Whether the daemon on `port` serves the repository `marker` (an empty repository lists no
/// refs, successfully).
fn marker_served(port: u16, marker: &str) -> bool {
    Command::new("git")
        .args(["ls-remote", &format!("git://127.0.0.1:{port}/{marker}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

impl GitServer {
    /// Starts one.
    pub fn start() -> GitServer {
        let base = tempfile::tempdir().expect("temp dir");
        // A repository only this server's base path holds (named after the unique temp dir).
        let marker = format!("marker-{}.git", base.path().file_name().unwrap_or_default().to_string_lossy());
        git(base.path(), &["init", "-q", "--bare", &marker]);
        for _ in 0..10 {
            let port = super::free_port();
            let mut child = Command::new("git")
                .args([
                    "daemon",
                    "--reuseaddr",
                    "--export-all",
                    "--enable=receive-pack",
                    "--listen=127.0.0.1",
                    &format!("--port={port}"),
                    &format!("--base-path={}", base.path().display()),
                    &base.path().display().to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("git daemon starts (git is installed)");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    // Another test's daemon may hold the port (ours then fails to bind): only
                    // ours serves the marker repository of this base path.
                    if marker_served(port, &marker) {
                        return GitServer { child, base, port };
                    }
                    break;
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("git daemon did not start");
    }

    /// A new empty repository `NAME.git` and a working clone of it.
    pub fn repo(&self, name: &str) -> Repo {
        let bare = self.base.path().join(format!("{name}.git"));
        git(self.base.path(), &["init", "--bare", "--initial-branch=main", &bare.display().to_string()]);
        let work = tempfile::tempdir().expect("temp dir");
        git(work.path(), &["init", "--initial-branch=main", "."]);
        git(work.path(), &["remote", "add", "origin", &self.url(name)]);
        Repo { work, bare }
    }

    /// `git://127.0.0.1:PORT/NAME.git`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}.git", self.port)
    }
}

/// A working clone.
pub struct Repo {
    work: tempfile::TempDir,
    /// The bare repository served.
    pub bare: PathBuf,
}

impl Repo {
    /// Writes a file (creating directories).
    pub fn write(&self, path: &str, text: &str) {
        let target = self.work.path().join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("dirs");
        }
        std::fs::write(target, text).expect("write");
    }

    /// Commits everything and pushes `main`; returns the commit id.
    pub fn push(&self, message: &str) -> String {
        git(self.work.path(), &["add", "-A"]);
        git(self.work.path(), &["commit", "-q", "--allow-empty", "-m", message]);
        git(self.work.path(), &["push", "-q", "origin", "HEAD:main"]);
        git(self.work.path(), &["rev-parse", "HEAD"])
    }

    /// Commits everything and pushes it to `reference` only (a pull request's head, say);
    /// returns the commit id.
    pub fn push_to(&self, message: &str, reference: &str) -> String {
        git(self.work.path(), &["add", "-A"]);
        git(self.work.path(), &["commit", "-q", "--allow-empty", "-m", message]);
        git(self.work.path(), &["push", "-q", "-f", "origin", &format!("HEAD:{reference}")]);
        git(self.work.path(), &["rev-parse", "HEAD"])
    }

    /// `file://` URL of the bare repository.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.bare.display())
    }
}
