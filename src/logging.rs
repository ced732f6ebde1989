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

/// Keeps the OpenTelemetry exporter of a service alive; dropping it flushes the spans.
pub struct Telemetry(Option<opentelemetry_sdk::trace::SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            // The exporter's HTTP client blocks: flush off the async runtime's threads.
            let _ = std::thread::spawn(move || provider.shutdown()).join();
        }
    }
}

/// The OTLP/HTTP span exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-specific
/// variable) is set; it reads the standard `OTEL_*` variables itself.
fn otlp_provider() -> Option<opentelemetry_sdk::trace::SdkTracerProvider> {
    let configured = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.is_empty()));
    if !configured {
        return None;
    }
    // Built on a thread of its own: the blocking HTTP client may not be made inside a runtime.
    std::thread::spawn(|| {
        use opentelemetry_otlp::WithExportConfig as _;
        let mut builder = opentelemetry_otlp::SpanExporter::builder().with_http();
        // The base endpoint gets the signal path, as the specification says.
        if std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_err()
            && let Ok(base) = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        {
            builder = builder.with_endpoint(format!("{}/v1/traces", base.trim_end_matches('/')));
        }
        let exporter = match builder.build() {
            Ok(exporter) => exporter,
            Err(error) => {
                eprintln!("warning: OpenTelemetry export is off: {error}");
                return None;
            }
        };
        let resource = opentelemetry_sdk::Resource::builder().with_service_name("infra-controller").build();
        Some(
            opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build(),
        )
    })
    .join()
    .ok()
    .flatten()
}

/// Installs the subscriber of a long-running service (`infra controller`): `INFRA_LOG` or
/// `info`, as text or one JSON object per line, and spans to an OpenTelemetry collector when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Keep the returned guard until the service ends.
pub fn init_service(json: bool) -> Telemetry {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let setting = std::env::var("INFRA_LOG").unwrap_or_default();
    let directives = match setting.trim().to_ascii_lowercase().as_str() {
        "" => "warn,infra=info".to_string(),
        level @ ("off" | "error" | "warn" | "info" | "debug" | "trace") => format!("warn,infra={level}"),
        _ => setting,
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("warn,infra=info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(true);
    let fmt = if json { fmt.json().boxed() } else { fmt.with_ansi(false).boxed() };
    let provider = otlp_provider();
    let otel = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("infra")));
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    Telemetry(provider)
}
