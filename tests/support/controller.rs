//! `infra controller` run as a child process on a free loopback port, and a small HTTP client
//! for its endpoints.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The webhook secret the tests' controllers use.
pub const SECRET: &str = "webhook-secret-for-tests";

/// The API token the tests' controllers use.
pub const API_TOKEN: &str = "api-token-for-tests";

/// A running controller.
pub struct ControllerProcess {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// Its directory (config file, data dir, log).
    pub dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP response.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: String,
}

/// One HTTP/1.1 request over a fresh connection.
pub fn http(address: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut stream = std::net::TcpStream::connect(address).expect("connect to the controller");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    stream.write_all(body).expect("send body");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    Response { status, body }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// `sha256=HEX` of `body` under `secret`, as GitHub signs.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

impl ControllerProcess {
    /// Writes `config` (with `LISTEN` replaced by a free address) into a temp dir and starts
    /// the controller there; returns once `/healthz` answers.
    pub fn start(dir: &Path, config: &str) -> ControllerProcess {
        ControllerProcess::start_with_env(dir, config, &[])
    }

    /// As [`ControllerProcess::start`], with extra environment variables.
    pub fn start_with_env(dir: &Path, config: &str, env: &[(&str, &str)]) -> ControllerProcess {
        let address = format!("127.0.0.1:{}", super::free_port());
        std::fs::create_dir_all(dir).expect("dir");
        let text = config.replace("LISTEN", &address);
        std::fs::write(dir.join("controller.hcl"), text).expect("config");
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut process = ControllerProcess { child: None, address, dir: dir.to_path_buf(), env };
        process.restart();
        process
    }

    /// Starts (again) the controller process.
    pub fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("controller.log"))
            .expect("log file");
        let child = Command::new(assert_cmd::cargo::cargo_bin("infra"))
            .current_dir(&self.dir)
            .args(["controller", "--config", "controller.hcl", "--log-format", "json"])
            .env("INFRA_WEBHOOK_SECRET", SECRET)
            .env("INFRA_API_TOKEN", API_TOKEN)
            .env("INFRA_LOCK_TTL", "2")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("infra controller starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&self.address).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the controller did not listen:\n{}", self.log());
    }

    /// The controller's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("controller.log")).unwrap_or_default()
    }

    /// Sends a signal to the process (`KILL`, `TERM`) and waits for it.
    pub fn signal(&mut self, signal: &str) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
        child.wait().ok()
    }

    /// `GET PATH`.
    pub fn get(&self, path: &str) -> Response {
        let authorization = format!("Bearer {API_TOKEN}");
        http(&self.address, "GET", path, &[("Authorization", &authorization)], b"")
    }

    /// One stack's status.
    pub fn stack(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&self.get(&format!("/stacks/{name}")).body).unwrap_or(serde_json::Value::Null)
    }

    /// Waits until `ready(status)` holds for the stack; panics with the status and log after
    /// `timeout`. Returns the time it took.
    pub fn wait_for(&self, name: &str, timeout: Duration, ready: impl Fn(&serde_json::Value) -> bool) -> Duration {
        let started = Instant::now();
        loop {
            let status = self.stack(name);
            if ready(&status) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < timeout,
                "stack `{name}` not there after {timeout:?}: {status}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends a GitHub push webhook for `repository` (signed with `secret`).
    pub fn push_webhook(&self, repository: &str, secret: &str) -> Response {
        let body = serde_json::json!({ "ref": "refs/heads/main", "repository": { "name": repository } }).to_string();
        let signature = github_signature(secret, body.as_bytes());
        http(
            &self.address,
            "POST",
            "/webhooks/github",
            &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &signature), ("Content-Type", "application/json")],
            body.as_bytes(),
        )
    }
}
