//! A connection to one started plugin: gRPC (tonic) over its Unix socket inside mutual TLS, one
//! unary call per protocol method, and a graceful end (go-plugin's `Shutdown`, then kill).

use crate::launch::{self, Process};
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::sync::Mutex;
use tonic::transport::{Channel, Endpoint, Uri};

/// The largest message infra accepts from a plugin (the AWS provider's schema is tens of MiB).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// How long connecting to a started plugin (socket and TLS) may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A running plugin and the channel to it.
pub struct PluginClient {
    channel: Channel,
    process: Mutex<Process>,
    /// The protocol version the plugin chose (5 or 6).
    pub protocol: u32,
    /// Its name in messages (`registry.terraform.io/hashicorp/aws`).
    pub name: String,
}

impl PluginClient {
    /// Starts `binary` and connects to it.
    ///
    /// # Errors
    ///
    /// The plugin does not start, or the TLS or HTTP/2 connection fails.
    pub async fn start(binary: &Path, name: &str) -> Result<PluginClient, String> {
        let binary = binary.to_path_buf();
        let label = name.to_string();
        let process =
            tokio::task::spawn_blocking(move || launch::start(&binary, &label)).await.map_err(|e| e.to_string())??;
        let tls = process.identity.client_config(process.handshake.server_cert.clone())?;
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls));
        let socket = process.handshake.socket.clone();
        let connect = tower::service_fn(move |_: Uri| {
            let (connector, socket) = (connector.clone(), socket.clone());
            async move {
                // A plugin that accepts and never completes TLS is an error, not a hang.
                let connect = async {
                    let stream = tokio::net::UnixStream::connect(&socket).await?;
                    let name = rustls::pki_types::ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                    connector.connect(name, stream).await
                };
                let tls = tokio::time::timeout(CONNECT_TIMEOUT, connect).await.map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "the plugin did not complete TLS within 60s")
                })??;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        });
        // The URI is not dialled: the connector above is.
        let channel = Endpoint::from_static("http://plugin.invalid")
            .connect_with_connector(connect)
            .await
            .map_err(|e| format!("cannot connect to the plugin `{name}`: {}", error_chain(&e)))?;
        Ok(PluginClient {
            channel,
            protocol: process.handshake.protocol,
            process: Mutex::new(process),
            name: name.to_string(),
        })
    }

    /// One unary call.
    ///
    /// # Errors
    ///
    /// The gRPC status as a sentence; a plugin that crashed is named as such.
    pub async fn call<Req, Resp>(&self, path: &'static str, request: Req) -> Result<Resp, String>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let result = async {
            grpc.ready().await.map_err(|e| error_chain(&e))?;
            let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
            grpc.unary(tonic::Request::new(request), http::uri::PathAndQuery::from_static(path), codec)
                .await
                .map(tonic::Response::into_inner)
                .map_err(|status| format!("{}: {}", status.code(), status.message()))
        }
        .await;
        let Err(error) = result else { return result };
        let method = path.rsplit('/').next().unwrap_or(path);
        // A broken connection usually means the plugin died; its exit may not be visible yet
        // (the socket closes before the process is reaped): wait for it, two seconds at most.
        let broken =
            error.contains("transport error") || error.starts_with("Unavailable") || error.contains("broken pipe");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(if broken { 2 } else { 0 });
        loop {
            if let Some(status) = self.process.lock().unwrap_or_else(|p| p.into_inner()).exited() {
                return Err(format!("the plugin `{}` crashed ({status}) during {method}", self.name));
            }
            if std::time::Instant::now() >= deadline {
                return Err(format!("the plugin `{}` failed {method}: {error}", self.name));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Asks the plugin to end (go-plugin's controller), then makes sure it has.
    pub async fn shutdown(&self) {
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            self.call::<crate::tfplugin5::Empty, crate::tfplugin5::Empty>(
                crate::tfplugin5::path::SHUTDOWN,
                crate::tfplugin5::Empty {},
            ),
        )
        .await;
        self.process.lock().unwrap_or_else(|p| p.into_inner()).kill();
    }
}

/// An error and its causes, as one line (`a: b: c`).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
