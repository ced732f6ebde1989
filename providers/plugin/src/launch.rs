//! Starting a plugin as Terraform does (HashiCorp's go-plugin handshake): the magic cookie and
//! the offered protocol versions in the environment, a client certificate made for this run in
//! `PLUGIN_CLIENT_CERT`, then one line on the plugin's stdout —
//! `CORE|APP|NET|ADDR|grpc|CERT` — naming the protocol it chose, its Unix socket and its own
//! certificate. The plugin's stderr goes to infra's log; the process is killed when the
//! [`Process`] is dropped, and by the kernel if infra dies first.

use crate::tls::ClientIdentity;
use base64::Engine;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// go-plugin's magic cookie for Terraform providers.
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// How long a plugin may take to print its handshake line (go-plugin's default).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What the plugin said in its handshake line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// The plugin protocol version it chose (5 or 6).
    pub protocol: u32,
    /// Its Unix socket.
    pub socket: PathBuf,
    /// Its certificate (DER), which the TLS connection must present.
    pub server_cert: Vec<u8>,
}

/// A started plugin process.
pub struct Process {
    child: Child,
    /// The handshake.
    pub handshake: Handshake,
    /// This run's client identity (certificate and key).
    pub identity: ClientIdentity,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Kills the process (after a graceful shutdown was asked for or failed).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process has ended (a crash), and how.
    pub fn exited(&mut self) -> Option<String> {
        self.child.try_wait().ok().flatten().map(|status| status.to_string())
    }
}

/// Parses the handshake line.
///
/// # Errors
///
/// A line that is not a go-plugin handshake for gRPC, with a protocol other than 5 or 6, or a
/// network other than a Unix socket.
pub fn parse_handshake(line: &str) -> Result<Handshake, String> {
    let fields: Vec<&str> = line.trim().split('|').collect();
    if fields.len() < 6 {
        return Err(format!("the plugin's first line is not a handshake: {:?}", shorten(line)));
    }
    if fields[0] != "1" {
        return Err(format!("the plugin speaks go-plugin core protocol {}, infra speaks 1", fields[0]));
    }
    let protocol: u32 =
        fields[1].parse().map_err(|_| format!("the plugin's protocol version {:?} is not a number", fields[1]))?;
    if protocol != 5 && protocol != 6 {
        return Err(format!("the plugin chose protocol version {protocol}; infra offers 5 and 6"));
    }
    if fields[2] != "unix" {
        return Err(format!("the plugin listens on {:?}; infra connects to Unix sockets only", fields[2]));
    }
    if fields[4] != "grpc" {
        return Err(format!("the plugin speaks {:?}, not gRPC", fields[4]));
    }
    let cert = fields[5].trim();
    if cert.is_empty() {
        return Err("the plugin did not answer with a certificate (automatic mutual TLS)".into());
    }
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(cert.trim_end_matches('='))
        .map_err(|e| format!("the plugin's certificate is not base64: {e}"))?;
    Ok(Handshake { protocol, socket: PathBuf::from(fields[3]), server_cert })
}

fn shorten(line: &str) -> String {
    line.chars().take(120).collect()
}

/// Starts `binary` and reads its handshake. `name` labels its log lines (`hashicorp/aws`).
///
/// # Errors
///
/// The binary cannot run, exits, or says nothing usable within a minute; the error carries
/// what it wrote to stderr.
pub fn start(binary: &Path, name: &str) -> Result<Process, String> {
    let identity = ClientIdentity::generate()?;
    let mut command = Command::new(binary);
    command
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", &identity.cert_pem)
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_tied(command).map_err(|e| format!("cannot start `{}`: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    // stderr: every line to the log; the last ones kept for an error message.
    let (tail_tx, tail_rx) = mpsc::channel::<String>();
    let label = name.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            tracing::debug!(provider = label.as_str(), "{line}");
            let _ = tail_tx.send(line);
        }
    });
    let (line_tx, line_rx) = mpsc::channel::<Option<String>>();
    let label = name.to_string();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok);
        let _ = line_tx.send(first);
        // Anything else the plugin prints is drained (a full pipe would block it).
        for line in lines.map_while(Result::ok) {
            tracing::debug!(provider = label.as_str(), stdout = true, "{line}");
        }
    });
    // What the plugin wrote to stderr before it ended (its stderr closes when it does; a
    // grandchild holding it open is waited for two seconds at most).
    let stderr_tail = |rx: &mpsc::Receiver<String>| {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let mut lines = Vec::new();
        while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            lines.push(line);
        }
        let start = lines.len().saturating_sub(10);
        lines[start..].join("\n")
    };
    let line = match line_rx.recv_timeout(START_TIMEOUT) {
        Ok(Some(line)) => line,
        Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            let mut message = format!("the plugin `{}` ended before its handshake ({status})", binary.display());
            let tail = stderr_tail(&tail_rx);
            if !tail.is_empty() {
                message.push_str(&format!(":\n{tail}"));
            }
            return Err(message);
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the plugin `{}` printed no handshake within {}s",
                binary.display(),
                START_TIMEOUT.as_secs()
            ));
        }
    };
    let handshake = match parse_handshake(&line) {
        Ok(handshake) => handshake,
        Err(error) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`{}`: {error}", binary.display()));
        }
    };
    Ok(Process { child, handshake, identity })
}

/// Spawns `command` so that the kernel kills it when infra's process ends.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child ends, so every plugin is
/// forked by one launcher thread that lives as long as the process.
fn spawn_tied(command: Command) -> std::io::Result<Child> {
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    static LAUNCHER: std::sync::OnceLock<std::sync::Mutex<mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    let launcher = LAUNCHER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("infra-plugin-launcher".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(spawn_with_death_signal(&mut command));
                }
            })
            .ok();
        std::sync::Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    launcher
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((command, reply_tx))
        .map_err(|_| std::io::Error::other("the plugin launcher thread is gone"))?;
    reply_rx.recv().map_err(|_| std::io::Error::other("the plugin launcher thread is gone"))?
}

#[cfg(target_os = "linux")]
fn spawn_with_death_signal(command: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe calls between fork and exec (prctl, getppid).
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn()
}

#[cfg(not(target_os = "linux"))]
fn spawn_with_death_signal(command: &mut Command) -> std::io::Result<Child> {
    command.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handshake_line_names_protocol_socket_and_certificate() {
        let cert = base64::engine::general_purpose::STANDARD_NO_PAD.encode([0x30u8, 0x82, 0x01]);
        let parsed = parse_handshake(&format!("1|5|unix|/tmp/plugin123|grpc|{cert}\n")).unwrap();
        assert_eq!(
            parsed,
            Handshake { protocol: 5, socket: "/tmp/plugin123".into(), server_cert: vec![0x30, 0x82, 0x01] }
        );
    }

    #[test]
    fn lines_that_are_not_usable_handshakes_say_why() {
        for (line, expected) in [
            ("hello", "not a handshake"),
            ("1|4|unix|/tmp/p|grpc|AAAA", "offers 5 and 6"),
            ("1|5|tcp|127.0.0.1:1234|grpc|AAAA", "Unix sockets only"),
            ("1|5|unix|/tmp/p|netrpc|AAAA", "not gRPC"),
            ("1|5|unix|/tmp/p|grpc|", "certificate"),
            ("1|5|unix|/tmp/p|grpc|!!!", "base64"),
        ] {
            let error = parse_handshake(line).unwrap_err();
            assert!(error.contains(expected), "{line}: {error}");
        }
    }
}
