//! Test support: real peers started on loopback for the tests of one test binary.
//!
//! - [`moto`]: one `moto_server` per test binary (EC2 with AMI, instance-type and key-pair
//!   validation on), on a free port, stopped when the test binary exits. Each test works in its
//!   own VPC, so tests run in parallel against it.
//! - [`Stack`]: a configuration directory and the `infra` binary run in it against moto.
//! - [`KillOnRunInstances`]: a TCP relay in front of moto that SIGKILLs a child `infra` the
//!   moment EC2 has answered RunInstances — after the instance exists, before infra can
//!   record it.
#![allow(dead_code)]

pub mod registry;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A runtime for the SDK calls tests make themselves.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
    })
}

/// Runs a future on the test runtime.
pub fn block<F: std::future::Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// An EC2 client for moto (the tests' own view, independent of infra's).
pub fn ec2() -> aws_sdk_ec2::Client {
    let moto = moto();
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
        .region(aws_sdk_ec2::config::Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

/// An OpenSSH ed25519 public key (well-formed; nobody holds its private half).
pub fn ssh_public_key() -> String {
    use base64::Engine as _;
    let mut blob = Vec::new();
    blob.extend_from_slice(&11u32.to_be_bytes());
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&32u32.to_be_bytes());
    blob.extend((0u8..32).map(|b| b.wrapping_mul(7).wrapping_add(3)));
    format!("ssh-ed25519 {} infra-tests", base64::engine::general_purpose::STANDARD.encode(blob))
}

/// A configuration directory with `infra` run in it against moto (and a cluster, if set).
pub struct Stack {
    dir: tempfile::TempDir,
    endpoint: String,
    env: Vec<(String, String)>,
}

impl Stack {
    /// An empty stack against this binary's moto.
    pub fn new() -> Stack {
        Stack::with_endpoint(&moto().endpoint)
    }

    /// An empty stack that starts no moto (Kubernetes-only tests).
    pub fn new_without_moto() -> Stack {
        Stack::with_endpoint("http://127.0.0.1:9")
    }

    /// An empty stack against another endpoint (a relay in front of moto).
    pub fn with_endpoint(endpoint: &str) -> Stack {
        Stack { dir: tempfile::tempdir().expect("temp dir"), endpoint: endpoint.to_string(), env: Vec::new() }
    }

    /// Its directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for later runs.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Points later runs at another endpoint.
    pub fn set_endpoint(&mut self, endpoint: &str) {
        self.endpoint = endpoint.to_string();
    }

    /// Writes `main.tf`.
    pub fn write(&self, text: &str) {
        std::fs::write(self.dir.path().join("main.tf"), text).expect("write main.tf");
    }

    /// Copies the files of a directory in.
    pub fn copy_from(&self, from: &Path) {
        for entry in std::fs::read_dir(from).expect("example dir").flatten() {
            let path: PathBuf = entry.path();
            if path.is_file() {
                std::fs::copy(&path, self.dir.path().join(entry.file_name())).expect("copy");
            }
        }
    }

    /// The `infra` command, set up for this stack.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("infra"));
        command.current_dir(self.dir.path()).args(args).stdin(Stdio::null()).env("NO_COLOR", "1");
        command.env("INFRA_LOCK_TTL", "0.6");
        for (key, value) in aws_env(&self.endpoint) {
            command.env(key, value);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Runs `infra ARGS`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("infra runs")
    }

    /// Runs `infra ARGS` and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "`infra {}` failed:\n{}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `apply -auto-approve`.
    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve", "-no-color"])
    }

    /// `plan -detailed-exitcode`: its exit code and output.
    pub fn plan(&self) -> (i32, String) {
        let output = self.run(&["plan", "-detailed-exitcode", "-no-color"]);
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.code().unwrap_or(-1), text)
    }

    /// The state as JSON.
    pub fn state(&self) -> serde_json::Value {
        let text = self.ok(&["state", "pull", "-show-sensitive"]);
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// One attribute of an object in state.
    pub fn attribute(&self, address: &str, name: &str) -> String {
        let state = self.state();
        let value = &state["resources"][address]["attributes"][name];
        value.as_str().map_or_else(|| value.to_string(), str::to_string)
    }
}

/// Runs `infra apply -target terraform_data.rN -lock-timeout 60s` for N in 0..count, all at
/// once, and insists that every one succeeds and every rN ends up in the state.
pub fn concurrent_targeted_applies(stack: &Stack, count: usize) {
    let children: Vec<_> = (0..count)
        .map(|n| {
            let target = format!("terraform_data.r{n}");
            stack
                .command(&["apply", "-auto-approve", "-target", &target, "-lock-timeout", "60s"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("infra apply starts")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("infra apply ends");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let listed = stack.ok(&["state", "list"]);
    for n in 0..count {
        assert!(listed.contains(&format!("terraform_data.r{n}\n")), "r{n} is in the final state:\n{listed}");
    }
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
}

/// A relay in front of moto that kills a child process as soon as EC2 answers a RunInstances
/// call: the instance exists, the child never hears of it.
pub struct KillOnRunInstances {
    /// The relay's endpoint.
    pub endpoint: String,
    child: Arc<Mutex<Option<Child>>>,
    fired: Arc<AtomicBool>,
}

impl KillOnRunInstances {
    /// Starts the relay.
    pub fn start(upstream: &str) -> KillOnRunInstances {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let endpoint = format!("http://{}", listener.local_addr().expect("relay address"));
        let upstream = upstream.trim_start_matches("http://").to_string();
        let child: Arc<Mutex<Option<Child>>> = Arc::new(Mutex::new(None));
        let fired = Arc::new(AtomicBool::new(false));
        let (child_for_thread, fired_for_thread) = (child.clone(), fired.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                let saw_run = Arc::new(AtomicBool::new(false));
                let (mut client_read, mut server_write) =
                    (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                let saw = saw_run.clone();
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 65536];
                    while let Ok(n) = client_read.read(&mut buffer) {
                        if n == 0 {
                            break;
                        }
                        if String::from_utf8_lossy(&buffer[..n]).contains("Action=RunInstances") {
                            saw.store(true, Ordering::SeqCst);
                        }
                        if server_write.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                });
                let (mut server_read, mut client_write) = (server, client);
                let (child, fired) = (child_for_thread.clone(), fired_for_thread.clone());
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 65536];
                    while let Ok(n) = server_read.read(&mut buffer) {
                        if n == 0 {
                            break;
                        }
                        if saw_run.load(Ordering::SeqCst) && !fired.swap(true, Ordering::SeqCst) {
                            if let Some(child) = child.lock().expect("child lock").as_mut() {
                                let _ = child.kill();
                            }
                            return;
                        }
                        if client_write.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        KillOnRunInstances { endpoint, child, fired }
    }

    /// Runs a command through the relay until it exits (killed or not); whether the kill fired.
    pub fn run(&self, mut command: Command) -> bool {
        let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn infra");
        *self.child.lock().expect("child lock") = Some(child);
        loop {
            let mut guard = self.child.lock().expect("child lock");
            if let Some(child) = guard.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                break;
            }
            drop(guard);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.fired.load(Ordering::SeqCst)
    }
}

/// A relay in front of moto that delays every request by a fixed time: the round trip to a
/// real EC2 endpoint, which loopback does not have.
pub struct DelayRelay {
    /// The relay's endpoint.
    pub endpoint: String,
}

impl DelayRelay {
    /// Starts the relay.
    pub fn start(upstream: &str, delay: Duration) -> DelayRelay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let endpoint = format!("http://{}", listener.local_addr().expect("relay address"));
        let upstream = upstream.trim_start_matches("http://").to_string();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                let (mut client_read, mut server_write) =
                    (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 65536];
                    let mut idle = true;
                    while let Ok(n) = client_read.read(&mut buffer) {
                        if n == 0 {
                            break;
                        }
                        // The first bytes of a request pay the round trip.
                        if idle {
                            std::thread::sleep(delay);
                        }
                        idle = n < buffer.len();
                        if server_write.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                });
                let (mut server_read, mut client_write) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_read, &mut client_write);
                });
            }
        });
        DelayRelay { endpoint }
    }
}

/// A Kubernetes API test server (`tests/kube-apiserver`) started in-process for one test.
pub struct Cluster {
    /// The running server.
    pub running: kube_test_apiserver::Running,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts one.
    pub fn start() -> Cluster {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let options = kube_test_apiserver::Options {
            controller_delay: Duration::from_millis(50),
            ..kube_test_apiserver::Options::default()
        };
        let running = block(kube_test_apiserver::start(options, 0)).expect("the Kubernetes test server starts");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("kubeconfig"), kube_test_apiserver::kubeconfig(&running)).expect("kubeconfig");
        Cluster { running, dir }
    }

    /// Its kubeconfig file.
    pub fn kubeconfig(&self) -> String {
        self.dir.path().join("kubeconfig").display().to_string()
    }

    /// kubectl against it; insists on success, returns stdout.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let output =
            Command::new("kubectl").args(args).env("KUBECONFIG", self.kubeconfig()).output().expect("kubectl runs");
        assert!(
            output.status.success(),
            "kubectl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Requests the server served, by verb, since the last reset.
    pub fn requests(&self) -> std::collections::BTreeMap<String, u64> {
        self.running.server.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Forgets the request counts.
    pub fn reset_requests(&self) {
        if let Ok(mut requests) = self.running.server.requests.lock() {
            requests.clear();
        }
    }
}

pub mod controller;
mod nats_server;
#[allow(unused_imports)]
pub use nats_server::{Nats, nats};
mod rabbitmq_server;
#[allow(unused_imports)]
pub use rabbitmq_server::{Rabbitmq, rabbitmq};
mod git_server;
#[allow(unused_imports)]
pub use git_server::{GitServer, Repo};
mod moto_server;
#[allow(unused_imports)]
pub use moto_server::{Moto, aws_env, bucket, free_port, moto, s3_client};
mod postgres_server;
#[allow(unused_imports)]
pub use postgres_server::{Postgres, postgres};

/// The filesystem mirror (Terraform's unpacked layout) that holds the real `hashicorp/aws`
/// 5.100.0 plugin on these machines: `INFRA_TEST_PLUGIN_MIRROR`, else the known places.
pub fn plugin_mirror() -> PathBuf {
    let candidates = std::env::var_os("INFRA_TEST_PLUGIN_MIRROR").map(PathBuf::from).into_iter().chain(
        ["/opt/tf-plugins", "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins"].map(PathBuf::from),
    );
    for mirror in candidates {
        if mirror.join("registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64").is_dir() {
            return mirror;
        }
    }
    panic!("no filesystem mirror holds hashicorp/aws 5.100.0 (set INFRA_TEST_PLUGIN_MIRROR)")
}

/// The protocol-6 test provider's binary, built once per test binary by the cargo that runs
/// the tests (it is a binary of another package, which `cargo test` does not build).
pub fn test_provider() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let output = Command::new(env!("CARGO"))
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(["build", "--quiet", "-p", "infra-test-provider", "--bin", "terraform-provider-infratest"])
                .args(["--message-format", "json"])
                .stderr(Stdio::inherit())
                .output()
                .expect("cargo runs");
            assert!(output.status.success(), "cargo could not build the test provider");
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .filter(|message| message["reason"] == "compiler-artifact")
                .find_map(|message| message["executable"].as_str().map(PathBuf::from))
                .expect("cargo names the test provider's executable")
        })
        .clone()
}

/// Writes a CLI configuration (Terraform's format) whose only installation method is the
/// filesystem mirror `mirror`.
pub fn write_cli_config(file: &Path, mirror: &Path) {
    let text =
        format!("provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n", mirror.display());
    std::fs::write(file, text).expect("write the CLI configuration");
}

impl Stack {
    /// Points later runs (infra's and Terraform's) at a CLI configuration whose only
    /// installation method is the machine's plugin mirror; returns that file.
    pub fn use_plugin_mirror(&mut self) -> PathBuf {
        self.use_mirror(&plugin_mirror())
    }

    /// Points later runs at a CLI configuration whose only installation method is `mirror`.
    pub fn use_mirror(&mut self, mirror: &Path) -> PathBuf {
        let file = self.path().join("cli.tfrc");
        write_cli_config(&file, mirror);
        self.set_env("TF_CLI_CONFIG_FILE", &file.display().to_string());
        // Plugin schemas are cached per stack, so a test sees its own first run.
        let cache = self.path().join("cache");
        self.set_env("XDG_CACHE_HOME", &cache.display().to_string());
        file
    }

    /// Puts an executable `script` in a mirror of this stack as the plugin
    /// `hashicorp/NAME` 1.0.0 and points later runs at that mirror.
    pub fn use_fake_plugin(&mut self, name: &str, script: &str) {
        let mirror = self.path().join("mirror");
        let dir = mirror.join(format!("registry.terraform.io/hashicorp/{name}/1.0.0")).join(infra::plugins::platform());
        std::fs::create_dir_all(&dir).expect("mirror dir");
        let binary = dir.join(format!("terraform-provider-{name}_v1.0.0_x5"));
        std::fs::write(&binary, script).expect("write the plugin");
        std::fs::set_permissions(&binary, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        self.use_mirror(&mirror);
    }

    /// Puts the protocol-6 test provider (`tests/plugin-provider`) in a mirror of this stack as
    /// `infra/infratest` 1.0.0 and points later runs (infra's and Terraform's) at that mirror.
    pub fn use_test_provider(&mut self) {
        let mirror = self.path().join("mirror");
        let dir = mirror.join("registry.terraform.io/infra/infratest/1.0.0").join(infra::plugins::platform());
        std::fs::create_dir_all(&dir).expect("mirror dir");
        std::fs::copy(test_provider(), dir.join("terraform-provider-infratest_v1.0.0")).expect("copy the plugin");
        self.use_mirror(&mirror);
    }

    /// Runs `terraform ARGS` here with this stack's environment; insists on success.
    pub fn terraform(&self, dir: &Path, args: &[&str]) -> String {
        let mut command = Command::new("terraform");
        command.current_dir(dir).args(args).stdin(Stdio::null()).env("TF_IN_AUTOMATION", "1");
        for (key, value) in aws_env(&self.endpoint) {
            command.env(key, value);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let output = command.output().expect("terraform runs");
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "`terraform {}` failed:\n{text}", args.join(" "));
        text
    }
}
