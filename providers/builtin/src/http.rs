//! The `http` data source, as the `hashicorp/http` provider (v3): a request's status code,
//! headers and body (a non-2xx status is an answer, not an error: check it in a
//! `postcondition`).
//!
//! Bounded (64 MiB of body, `request_timeout_ms`, at most 10 retries). In controller runs, where
//! the configuration comes from a pull request, only public addresses are asked: loopback,
//! private, link-local (the cloud metadata service) and other special addresses are refused, and
//! the connection goes to the address that was checked.

use base64::Engine;
use infra_provider::{
    AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, NestedBlock, Nesting, ResourceSchema, Value,
};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// Past this many bytes the body is refused.
const MAX_BODY: usize = 64 << 20;

/// The data source's schema.
pub fn schema() -> ResourceSchema {
    let strings = || AttrType::Map(Box::new(AttrType::String));
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("url", Attribute::required(AttrType::String))
            .attribute("method", Attribute::optional(AttrType::String))
            .attribute("request_headers", Attribute::optional(strings()))
            .attribute("request_body", Attribute::optional(AttrType::String))
            .attribute("request_timeout_ms", Attribute::optional(AttrType::Number))
            .attribute("insecure", Attribute::optional(AttrType::Bool))
            .attribute("ca_cert_pem", Attribute::optional(AttrType::String))
            .attribute("client_cert_pem", Attribute::optional(AttrType::String))
            .attribute("client_key_pem", Attribute::optional(AttrType::String).sensitive())
            .attribute("response_headers", Attribute::computed(strings()))
            .attribute("response_body", Attribute::computed(AttrType::String))
            .attribute("response_body_base64", Attribute::computed(AttrType::String))
            .attribute("body", Attribute::computed(AttrType::String))
            .attribute("status_code", Attribute::computed(AttrType::Number))
            .attribute("id", Attribute::computed(AttrType::String))
            .block(
                "retry",
                NestedBlock {
                    nesting: Nesting::Single,
                    force_new: false,
                    block: BlockSchema::new()
                        .attribute("attempts", Attribute::optional(AttrType::Number))
                        .attribute("min_delay_ms", Attribute::optional(AttrType::Number))
                        .attribute("max_delay_ms", Attribute::optional(AttrType::Number)),
                },
            ),
    }
}

fn failed(detail: impl Into<String>) -> Diagnostics {
    Diagnostic::error("Error making request", detail).into()
}

/// Whether an address may be asked from a controller run.
fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

fn number(object: &BTreeMap<String, Value>, name: &str) -> Option<u64> {
    object
        .get(name)
        .and_then(Value::as_number)
        .and_then(infra_provider::Number::to_i64)
        .and_then(|n| u64::try_from(n).ok())
}

/// Sends the request.
///
/// # Errors
///
/// A URL that is not http(s), a refused address (confined), a connection or TLS failure after
/// the retries, a body past 64 MiB.
pub async fn read(config: &Value, confined: bool) -> Result<Value, Diagnostics> {
    let mut object = config.clone().deep_unmark().as_map().cloned().unwrap_or_default();
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let raw = text("url").unwrap_or_default();
    let url = reqwest::Url::parse(&raw).map_err(|e| failed(format!("`{raw}` is not a URL: {e}.")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(failed(format!("The URL scheme `{}` is not supported: use http or https.", url.scheme())));
    }
    if text("client_cert_pem").is_some() || text("client_key_pem").is_some() {
        return Err(failed(
            "Client certificates (`client_cert_pem`, `client_key_pem`) are not supported by infra's http data source.",
        ));
    }
    let timeout = number(&object, "request_timeout_ms").filter(|ms| *ms > 0).map(Duration::from_millis);
    let mut builder = reqwest::Client::builder()
        .redirect(if confined { reqwest::redirect::Policy::none() } else { reqwest::redirect::Policy::limited(10) })
        .timeout(timeout.unwrap_or(Duration::from_secs(300)));
    if object.get("insecure").and_then(Value::as_bool) == Some(true) {
        builder = builder.danger_accept_invalid_certs(true);
    }
    if let Some(pem) = text("ca_cert_pem") {
        let certificate = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| failed(format!("`ca_cert_pem` is not a PEM certificate: {e}.")))?;
        builder = builder.add_root_certificate(certificate);
    }
    if confined {
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        let addresses: Vec<std::net::SocketAddr> = match literal {
            Some(ip) => vec![(ip, port).into()],
            None => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| failed(format!("`{host}` cannot be resolved: {e}.")))?
                .collect(),
        };
        let Some(address) = addresses.iter().copied().find(|a| public(a.ip())) else {
            return Err(failed(format!(
                "`{host}` is not a public address: in controller runs the http data source asks only public hosts (not loopback, private or link-local ones such as the cloud metadata service)."
            )));
        };
        if addresses.iter().any(|a| !public(a.ip())) {
            return Err(failed(format!("`{host}` resolves to private addresses too: refused in controller runs.")));
        }
        builder = builder.resolve(&host, address);
    }
    let client = builder.build().map_err(|e| failed(e.to_string()))?;
    let method = text("method").unwrap_or_else(|| "GET".into());
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
        .map_err(|_| failed(format!("`{method}` is not an HTTP method.")))?;
    let retry = object.get("retry").and_then(Value::as_map).cloned().unwrap_or_default();
    let attempts = number(&retry, "attempts").unwrap_or(0).min(10);
    let min_delay = Duration::from_millis(number(&retry, "min_delay_ms").unwrap_or(0).min(60_000));
    let headers = object.get("request_headers").and_then(Value::as_map).cloned().unwrap_or_default();
    let body = text("request_body");
    let mut attempt = 0;
    let response = loop {
        let mut request = client.request(method.clone(), url.clone());
        for (name, value) in &headers {
            if let Some(value) = value.as_str() {
                request = request.header(name.as_str(), value);
            }
        }
        if let Some(body) = &body {
            request = request.body(body.clone());
        }
        let outcome = request.send().await;
        let retryable = match &outcome {
            Ok(response) => {
                let status = response.status();
                status.as_u16() == 429 || (status.is_server_error() && status.as_u16() != 501)
            }
            Err(_) => true,
        };
        if !retryable || attempt >= attempts {
            break outcome.map_err(|e| failed(format!("{}: {}", redacted(&url), without_url(e))))?;
        }
        attempt += 1;
        tokio::time::sleep(min_delay * attempt as u32).await;
    };
    let status = response.status().as_u16();
    let mut response_headers: BTreeMap<String, Value> = BTreeMap::new();
    for name in response.headers().keys() {
        let values: Vec<&str> = response.headers().get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        response_headers.insert(canonical(name.as_str()), Value::String(values.join(", ")));
    }
    let mut bytes = Vec::new();
    let mut response = response;
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(without_url(e)))? {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(failed(format!("The response from {} is larger than 64 MiB.", redacted(&url))));
        }
        bytes.extend_from_slice(&chunk);
    }
    let body = String::from_utf8_lossy(&bytes).into_owned();
    object.insert("response_headers".into(), Value::Map(response_headers));
    object
        .insert("response_body_base64".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)));
    object.insert("body".into(), Value::String(body.clone()));
    object.insert("response_body".into(), Value::String(body));
    object.insert("status_code".into(), Value::int(i64::from(status)));
    object.insert("id".into(), Value::String(raw));
    Ok(Value::Map(object))
}

/// A URL without its user information (it may hold a password).
fn redacted(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

fn without_url(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    if let Some(source) = std::error::Error::source(&error) {
        text = format!("{text}: {source}");
    }
    text
}

/// Go's canonical header key (`content-type` → `Content-Type`), as the provider reports keys.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}
