//! Debug logs: `INFRA_LOG=debug` (or `trace`, `info`, or a full `tracing` filter such as
//! `infra::aws=debug`) writes infra's own logs to stderr — provider API call counts, refresh
//! batches. Other crates' logs stay at `warn`, so request bodies and headers are never logged.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber when `INFRA_LOG` is set.
pub fn init() {
    let Ok(setting) = std::env::var("INFRA_LOG") else { return };
    let directives = match setting.trim().to_ascii_lowercase().as_str() {
        "" | "off" => return,
        level @ ("error" | "warn" | "info" | "debug" | "trace") => format!("warn,infra={level}"),
        _ => setting,
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("warn,infra=debug"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(true)
        .try_init();
}

/// Installs the subscriber of a long-running service (`infra controller`): `INFRA_LOG` or
/// `info`, as text or one JSON object per line.
pub fn init_service(json: bool) {
    let setting = std::env::var("INFRA_LOG").unwrap_or_default();
    let directives = match setting.trim().to_ascii_lowercase().as_str() {
        "" => "warn,infra=info".to_string(),
        level @ ("off" | "error" | "warn" | "info" | "debug" | "trace") => format!("warn,infra={level}"),
        _ => setting,
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("warn,infra=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(true);
    let _ = if json { builder.json().try_init() } else { builder.with_ansi(false).try_init() };
}
