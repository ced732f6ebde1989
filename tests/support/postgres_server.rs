//! A throwaway PostgreSQL cluster for tests: `initdb` + `postgres` from the machine's server
//! binaries into a temp dir, on a free loopback port. Shared by the root crate's tests
//! (`tests/support`) and the state crate's (`state/tests/pg.rs`).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A throwaway PostgreSQL cluster (initdb + postgres on a free loopback port).
pub struct Postgres {
    child: Child,
    dir: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // The postmaster's own pid (the child may be `runuser`, which does not pass signals on).
        let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next().map(str::to_string));
        if let Some(pid) = pid {
            let _ = Command::new("kill").arg("-QUIT").arg(pid).status();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bin() -> PathBuf {
    let base = PathBuf::from("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> =
        std::fs::read_dir(&base).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .map(|v| v.join("bin"))
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (./scripts/test installs them)")
}

fn as_postgres(command: &mut Command) {
    // initdb and postgres refuse to run as root: as root, they run as the `postgres` user.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if root {
        let program = command.get_program().to_os_string();
        let args: Vec<_> = command.get_args().map(|a| a.to_os_string()).collect();
        *command = Command::new("runuser");
        command.arg("-u").arg("postgres").arg("--").arg(program).args(args);
    }
}

/// Starts one.
pub fn postgres() -> Postgres {
    let dir = std::env::temp_dir().join(format!("infra-pg-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let _ = Command::new("chown").arg("postgres:").arg(&dir).status();
    let mut initdb = Command::new(bin().join("initdb"));
    initdb.arg("-D").arg(dir.join("data")).args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
    as_postgres(&mut initdb);
    let status = initdb.stdout(Stdio::null()).stderr(Stdio::null()).status().expect("initdb runs");
    assert!(status.success(), "initdb failed");
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a port");
    let mut server = Command::new(bin().join("postgres"));
    server
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-c", "listen_addresses=127.0.0.1", "-p", &port.to_string(), "-k"])
        .arg(&dir)
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off"]);
    as_postgres(&mut server);
    let child = server.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("postgres starts");
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "postgres did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Accepting connections is not yet accepting queries.
    while postgres::Client::connect(&url, postgres::NoTls).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "postgres did not accept queries");
        std::thread::sleep(Duration::from_millis(50));
    }
    Postgres { child, dir, url }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}
