//! A throwaway `nats-server` with JetStream on a free loopback port, its store in a temp dir,
//! stopped when the test process is gone. Shared by the root crate's tests and the jetstream
//! provider's.
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running server.
pub struct Nats {
    /// `nats://127.0.0.1:PORT`.
    pub url: String,
    dir: std::path::PathBuf,
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts one (~0.5 s).
pub fn nats() -> Nats {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a port");
    let dir = std::env::temp_dir().join(format!("infra-nats-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // The shell stops the server when the test process is gone.
    let script = format!(
        "nats-server -js -a 127.0.0.1 -p {port} -sd '{}' >'{}/log' 2>&1 & pid=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 0.5; done; kill $pid 2>/dev/null",
        dir.display(),
        dir.display(),
        parent = std::process::id()
    );
    let spawned = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if spawned.is_err() {
        panic!("cannot run `sh` to start nats-server");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Nats { url: format!("nats://127.0.0.1:{port}"), dir };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nats-server did not start; see {}/log", dir.display());
}
