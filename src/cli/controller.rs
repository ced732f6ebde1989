//! `infra controller --config controller.hcl`: the GitOps reconciler (see `crate::controller`);
//! `infra controller reconcile STACK`: asks a running controller to reconcile a stack now.

use super::Printer;
use crate::controller::{Controller, config};
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `infra controller`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// The controller configuration file.
    #[arg(long, value_name = "FILE", default_value = "controller.hcl")]
    config: PathBuf,
    /// Log lines as `text` or `json`.
    #[arg(long = "log-format", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Ask a running controller to reconcile a stack now.
    Reconcile {
        /// The stack.
        stack: String,
        /// The controller's address.
        #[arg(long, default_value = "http://127.0.0.1:9100")]
        address: String,
        /// A file holding the API token (else `INFRA_API_TOKEN`).
        #[arg(long = "token-file")]
        token_file: Option<std::path::PathBuf>,
    },
}

pub async fn run(args: Args, printer: &Printer) -> ExitCode {
    if let Some(Sub::Reconcile { stack, address, token_file }) = args.command {
        let token = match token_file {
            Some(path) => match std::fs::read_to_string(&path) {
                Ok(text) => Some(text.trim().to_string()),
                Err(error) => {
                    printer.error(&format!("cannot read `{}`: {error}", path.display()));
                    return ExitCode::from(1);
                }
            },
            None => std::env::var("INFRA_API_TOKEN").ok(),
        };
        return request_reconcile(&stack, &address, token.as_deref().filter(|t| !t.is_empty()), printer);
    }
    let _telemetry = crate::logging::init_service(args.log_format == "json");
    let text = match std::fs::read_to_string(&args.config) {
        Ok(text) => text,
        Err(error) => {
            printer.error(&format!("cannot read `{}`: {error}", args.config.display()));
            return ExitCode::from(1);
        }
    };
    let config = match config::parse(&text, &args.config) {
        Ok(config) => config,
        Err(error) => {
            printer.error(&error);
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            printer.error(&format!("cannot listen on {}: {error}", config.listen));
            return ExitCode::from(1);
        }
    };
    if config.webhook_secret.is_none() {
        tracing::warn!("no webhook secret (controller.webhook_secret or INFRA_WEBHOOK_SECRET): webhooks are refused");
    }
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| config.listen.clone());
    printer.status(&format!("infra controller: {} stack(s), listening on http://{address}", config.stacks.len()));
    let controller = Controller::new(config);
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, crate::controller::server::router(controller.clone()))
            .with_graceful_shutdown(async move {
                let _ = server_stopped.await;
            })
            .into_future(),
    );
    if let Some(options) = controller.config.kubernetes.clone() {
        let client = match kube::Client::try_default().await {
            Ok(client) => client,
            Err(error) => {
                printer.error(&format!("cannot reach the Kubernetes API (in-cluster or KUBECONFIG): {error}"));
                return ExitCode::from(1);
            }
        };
        tracing::info!(
            identity = options.identity,
            replicas = options.replicas,
            ordinal = options.ordinal,
            "watching Stack objects"
        );
        tokio::spawn(crate::controller::cluster::sync(controller.clone(), client, options));
    }
    let running = {
        let controller = controller.clone();
        tokio::spawn(async move { controller.run().await })
    };
    wait_for_signal().await;
    tracing::info!("stopping: applies in progress finish their running operations and release their locks");
    controller.stop();
    if tokio::time::timeout(Duration::from_secs(120), running).await.is_err() {
        tracing::warn!("stacks did not stop within 120 s");
    }
    let _ = stop_server.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = interrupt => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = interrupt.await;
}

/// What is escaped in a stack name put in a path: everything but unreserved characters.
const STACK_NAME: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `POST /stacks/NAME/reconcile` to a controller over plain HTTP.
fn request_reconcile(stack: &str, address: &str, token: Option<&str>, printer: &Printer) -> ExitCode {
    let Some(host) = address.strip_prefix("http://").map(|h| h.trim_end_matches('/')) else {
        printer.error("the address must be http://HOST:PORT");
        return ExitCode::from(1);
    };
    // Percent-encoded whole: `ns.name` (a Stack object's stack) keeps its dot, and nothing in
    // the name can change the request line.
    let path = percent_encoding::utf8_percent_encode(stack, STACK_NAME).to_string();
    if token.is_some_and(|token| token.contains(['\n', '\r'])) {
        printer.error("the API token holds a line break");
        return ExitCode::from(1);
    }
    let authorization = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    let response = (|| -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect(host)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "POST /stacks/{path}/reconcile HTTP/1.1\r\nHost: {host}\r\n{authorization}Content-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    })();
    match response {
        Ok(text) if text.starts_with("HTTP/1.1 202") => {
            printer.status(&format!("Reconcile of `{stack}` requested."));
            ExitCode::SUCCESS
        }
        Ok(text) => {
            printer.error(text.split("\r\n\r\n").nth(1).unwrap_or(&text).trim());
            ExitCode::from(1)
        }
        Err(error) => {
            printer.error(&format!("cannot reach the controller at {address}: {error}"));
            ExitCode::from(1)
        }
    }
}
