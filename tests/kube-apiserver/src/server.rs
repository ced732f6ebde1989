//! The server: its options, store, faults, and the HTTP listener.

use crate::store::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// How the server behaves.
#[derive(Clone, Debug)]
pub struct Options {
    /// The bearer token clients must send.
    pub token: String,
    /// Run the simulated controllers.
    pub controllers: bool,
    /// How long after a change they write status.
    pub controller_delay: Duration,
    /// How many events watches can replay (older resourceVersions get 410 Gone).
    pub history: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            token: uuid::Uuid::new_v4().simple().to_string(),
            controllers: true,
            controller_delay: Duration::from_millis(200),
            history: crate::store::HISTORY,
        }
    }
}

/// Faults on demand (`POST /_test/faults`, or `KUBE_TEST_*` environment variables at start).
#[derive(Debug)]
pub struct Faults {
    /// Added to every request.
    pub latency_ms: AtomicU64,
    /// The next N requests fail with 500.
    pub fail_next: AtomicU64,
    /// The next N requests fail with 429 and `Retry-After`.
    pub throttle_next: AtomicU64,
    /// The `Retry-After` seconds of those 429s.
    pub retry_after: AtomicU64,
    /// Signals every open watch to drop its connection.
    pub drop_watches: broadcast::Sender<()>,
}

impl Default for Faults {
    fn default() -> Self {
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(0);
        Faults {
            latency_ms: AtomicU64::new(env("KUBE_TEST_LATENCY_MS")),
            fail_next: AtomicU64::new(env("KUBE_TEST_FAIL_NEXT")),
            throttle_next: AtomicU64::new(env("KUBE_TEST_THROTTLE_NEXT")),
            retry_after: AtomicU64::new(1),
            drop_watches: broadcast::channel(16).0,
        }
    }
}

impl Faults {
    /// Takes one from a counter when it is above zero.
    pub fn take(counter: &AtomicU64) -> bool {
        counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }
}

/// A running server's shared state.
pub struct Server {
    /// Options.
    pub options: Options,
    /// Objects.
    pub store: Mutex<Store>,
    /// Faults.
    pub faults: Faults,
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// Requests served, by verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`),
    /// for tests that count what a client asks (`GET /_test/stats`).
    pub requests: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Server {
    /// Counts one request of a verb.
    pub fn count(&self, verb: &str) {
        *self.requests.lock().unwrap_or_else(|p| p.into_inner()).entry(verb.to_string()).or_default() += 1;
    }
}

/// A server listening on loopback.
pub struct Running {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The CA that signed the server's certificate, PEM.
    pub ca_pem: String,
    /// The bearer token.
    pub token: String,
    /// The shared state (for tests that look inside).
    pub server: Arc<Server>,
}

/// Starts a server on a free loopback port in the current tokio runtime.
///
/// # Errors
///
/// When the port cannot be bound.
pub async fn start(options: Options, port: u16) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let url = format!("https://{address}");
    let certificates = crate::tls::generate()?;
    let server = Arc::new(Server {
        options: options.clone(),
        store: Mutex::new({
            let mut store = Store::new();
            store.history_limit = options.history;
            store
        }),
        faults: Faults::default(),
        address: address.to_string(),
        requests: Mutex::new(std::collections::BTreeMap::new()),
    });
    crate::controllers::start(server.clone());
    let app = crate::api::router(server.clone());
    let acceptor = tokio_rustls::TlsAcceptor::from(certificates.config.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else { return };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Running { url, ca_pem: certificates.ca_pem, token: options.token, server })
}

/// A kubeconfig for a running server.
pub fn kubeconfig(running: &Running) -> String {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(&running.ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\nusers:\n- name: test\n  user:\n    token: {token}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: default\ncurrent-context: test\npreferences: {{}}\n",
        url = running.url,
        token = running.token
    )
}
