//! `kube-test-apiserver --kubeconfig FILE [--port N] [--no-controllers] [--controller-delay-ms N]`:
//! writes a kubeconfig to FILE, prints the server's URL as the first line on stdout once it
//! accepts requests, and runs until SIGTERM (or Ctrl-C).

use kube_test_apiserver::{Options, kubeconfig, start};
use std::io::Write;
use std::time::Duration;

fn usage() -> ! {
    eprintln!("usage: kube-test-apiserver --kubeconfig FILE [--port N] [--no-controllers] [--controller-delay-ms N]");
    std::process::exit(2)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut config_path, mut port, mut options) = (None, 0u16, Options::default());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kubeconfig" => config_path = args.next(),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| usage()),
            "--no-controllers" => options.controllers = false,
            "--controller-delay-ms" => {
                let ms: u64 = args.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| usage());
                options.controller_delay = Duration::from_millis(ms);
            }
            _ => usage(),
        }
    }
    let Some(config_path) = config_path else { usage() };
    let running = match start(options, port).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("kube-test-apiserver: cannot listen: {error}");
            std::process::exit(1);
        }
    };
    if let Err(error) = std::fs::write(&config_path, kubeconfig(&running)) {
        eprintln!("kube-test-apiserver: cannot write {config_path}: {error}");
        std::process::exit(1);
    }
    println!("{}", running.url);
    let _ = std::io::stdout().flush();
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(error) => {
            eprintln!("kube-test-apiserver: {error}");
            std::process::exit(1);
        }
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
