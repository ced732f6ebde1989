//! A throwaway RabbitMQ (Debian's `rabbitmq-server`) with the management HTTP API, on free
//! loopback ports, with its own epmd on a private port and all its files in a temp dir, so
//! nothing outlives the test binary. Shared by the root crate's tests and the rabbitmq
//! provider's.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running broker.
pub struct Rabbitmq {
    server: Child,
    epmd: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT` of the management API (user guest/guest).
    pub management: String,
    /// The AMQP port.
    pub amqp_port: u16,
}

impl Drop for Rabbitmq {
    fn drop(&mut self) {
        // epmd, the server script and the Erlang VM share one process group: end it whole.
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.epmd.id())]).status();
        let _ = self.server.wait();
        let _ = self.epmd.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Starts one (4–7 s).
pub fn rabbitmq() -> Rabbitmq {
    let server = PathBuf::from("/usr/lib/rabbitmq/bin/rabbitmq-server");
    assert!(server.exists(), "rabbitmq-server is not installed (./scripts/test installs it)");
    let dir = std::env::temp_dir().join(format!("infra-rabbitmq-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (port, management_port, dist_port, epmd_port) = (free_port(), free_port(), free_port(), free_port());
    std::fs::write(dir.join("enabled_plugins"), "[rabbitmq_management].\n").expect("plugins");
    std::fs::write(
        dir.join("rabbitmq.conf"),
        format!("management.tcp.port = {management_port}\nmanagement.tcp.ip = 127.0.0.1\nloopback_users = none\n"),
    )
    .expect("config");
    let env: Vec<(&str, String)> = vec![
        ("HOME", dir.display().to_string()),
        ("ERL_EPMD_PORT", epmd_port.to_string()),
        ("ERL_EPMD_ADDRESS", "127.0.0.1".into()),
        ("RABBITMQ_NODENAME", format!("rabbit_{port}@localhost")),
        ("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1".into()),
        ("RABBITMQ_NODE_PORT", port.to_string()),
        ("RABBITMQ_DIST_PORT", dist_port.to_string()),
        ("RABBITMQ_MNESIA_BASE", dir.join("mnesia").display().to_string()),
        ("RABBITMQ_LOG_BASE", dir.join("log").display().to_string()),
        ("RABBITMQ_PLUGINS_EXPAND_DIR", dir.join("plugins-expand").display().to_string()),
        ("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins").display().to_string()),
        ("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq").display().to_string()),
        ("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}".into()),
    ];
    use std::os::unix::process::CommandExt as _;
    // epmd leads a new process group that the broker joins, so one signal ends them all; a
    // watcher ends the group when this test process is gone (a static broker is never
    // dropped).
    let epmd = Command::new("epmd")
        .process_group(0)
        .args(["-port", &epmd_port.to_string(), "-address", "127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("epmd starts");
    let log = std::fs::File::create(dir.join("stdout.log")).expect("log");
    let group = i32::try_from(epmd.id()).expect("a pid");
    let server = Command::new(server)
        .process_group(group)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("rabbitmq-server starts");
    let watcher = format!(
        "while kill -0 {parent} 2>/dev/null && kill -0 {group} 2>/dev/null; do sleep 0.5; done; kill -9 -{group} 2>/dev/null",
        parent = std::process::id()
    );
    let _ = Command::new("sh")
        .args(["-c", &watcher])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut broker =
        Rabbitmq { server, epmd, dir, management: format!("http://127.0.0.1:{management_port}"), amqp_port: port };
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if overview_answers(management_port) {
            return broker;
        }
        if let Ok(Some(status)) = broker.server.try_wait() {
            panic!("rabbitmq-server exited ({status}); see {}", broker.dir.join("stdout.log").display());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("rabbitmq did not start in 90 s; see {}", broker.dir.join("stdout.log").display());
}

fn overview_answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    // guest:guest
    let request = "GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}
