//! One moto server per test binary (EC2, S3... with AMI, instance-type and key-pair validation
//! on), on a free loopback port, stopped when the test binary exits. Shared by the root crate's
//! tests (`tests/support`) and the state crate's (`state/tests/s3.rs`).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "POST /moto-api/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200")
}

/// The moto server of this test binary, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let log = std::env::temp_dir().join(format!("infra-moto-{}.log", std::process::id()));
        for _ in 0..3 {
            let port = free_port();
            // The shell watches the test process and stops moto when it is gone, so no server
            // outlives its tests.
            let script = format!(
                "moto_server -H 127.0.0.1 -p {port} >'{}' 2>&1 & pid=$!; \
                 while kill -0 {parent} 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 0.5; done; kill $pid 2>/dev/null",
                log.display(),
                parent = std::process::id()
            );
            let spawned = Command::new("sh")
                .args(["-c", &script])
                .env("MOTO_ENABLE_AMI_VALIDATION", "true")
                .env("MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION", "true")
                .env("MOTO_ENABLE_KEYPAIR_VALIDATION", "true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            if spawned.is_err() {
                panic!("cannot run `sh` to start moto_server");
            }
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if answers(port) {
                    return Moto { endpoint: format!("http://127.0.0.1:{port}") };
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        panic!(
            "moto_server did not start (is `moto[server]` installed? ./scripts/test installs it); log: {}",
            log.display()
        );
    })
}

/// The environment that points AWS clients at moto.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
    ]
}

/// Runs a future to completion on a runtime of its own (for the few SDK calls tests make).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(future)
}

/// An S3 client for moto (path-style, test credentials).
pub fn s3_client() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(&moto().endpoint)
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// A new bucket in moto named `PREFIX-<unique>`, versioned or not.
pub fn bucket(prefix: &str, versioned: bool) -> String {
    let name = format!("{prefix}-{}-{}", std::process::id(), free_port());
    let s3 = s3_client();
    block_on(async {
        s3.create_bucket().bucket(&name).send().await.expect("create bucket");
        if versioned {
            s3.put_bucket_versioning()
                .bucket(&name)
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .expect("versioning");
        }
    });
    name
}
