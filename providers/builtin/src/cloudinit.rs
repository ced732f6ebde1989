//! `cloudinit_config`, as the `hashicorp/cloudinit` provider: `part` blocks rendered as a
//! multipart MIME document for cloud-init's user data, gzipped and base64-encoded by default.
//!
//! Rendered byte for byte as the provider renders it (Go's `mime/multipart` layout: headers in
//! key order, CRLF line ends), so an uncompressed `rendered` and its `id` (its CRC-32) equal
//! Terraform's; gzip output is equivalent but not byte-identical.

use base64::Engine;
use infra_provider::{
    AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, NestedBlock, Nesting, ResourceSchema, Value,
};
use std::io::Write;

/// The schema of the data source (and the deprecated resource).
pub fn schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("gzip", Attribute::optional(AttrType::Bool).and_computed().force_new())
            .attribute("base64_encode", Attribute::optional(AttrType::Bool).and_computed().force_new())
            .attribute("boundary", Attribute::optional(AttrType::String).and_computed().force_new())
            .attribute("rendered", Attribute::computed(AttrType::String).describe("The MIME document."))
            .attribute("id", Attribute::computed(AttrType::String))
            .block(
                "part",
                NestedBlock {
                    nesting: Nesting::List,
                    force_new: true,
                    block: BlockSchema::new()
                        .attribute("content", Attribute::required(AttrType::String))
                        .attribute("content_type", Attribute::optional(AttrType::String).and_computed())
                        .attribute("filename", Attribute::optional(AttrType::String))
                        .attribute("merge_type", Attribute::optional(AttrType::String)),
                },
            ),
    }
}

fn text<'a>(object: &'a std::collections::BTreeMap<String, Value>, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Renders the document: the object with defaults filled, `rendered` and `id`.
///
/// # Errors
///
/// `gzip` without `base64_encode`, no `part`, a boundary MIME does not allow.
pub fn render(config: &Value) -> Result<Value, Diagnostics> {
    let mut object = config.clone().deep_unmark().as_map().cloned().unwrap_or_default();
    let flag = |object: &std::collections::BTreeMap<String, Value>, name: &str| {
        object.get(name).and_then(Value::as_bool).unwrap_or(true)
    };
    let (gzip, base64) = (flag(&object, "gzip"), flag(&object, "base64_encode"));
    if gzip && !base64 {
        return Err(Diagnostic::error(
            "Invalid Attribute Configuration",
            "Expected base64_encode to be set to true when gzip is true.",
        )
        .into());
    }
    let boundary = text(&object, "boundary").unwrap_or("MIMEBOUNDARY").to_string();
    // RFC 2046 (as Go's SetBoundary checks it).
    let allowed = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c);
    if boundary.is_empty() || boundary.len() > 70 || !boundary.chars().all(allowed) || boundary.ends_with(' ') {
        return Err(Diagnostic::error("Unable to render cloudinit config", "mime: invalid boundary character").into());
    }
    let mut parts = Vec::new();
    let mut document = format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\nMIME-Version: 1.0\r\n\r\n");
    for (index, part) in object.get("part").and_then(Value::as_items).unwrap_or_default().iter().enumerate() {
        let Some(part) = part.as_map() else { continue };
        let mut part = part.clone();
        let content_type = text(&part, "content_type").unwrap_or("text/plain").to_string();
        // Go's textproto header keys, sorted.
        let mut headers = vec![
            ("Content-Transfer-Encoding", "7bit".to_string()),
            ("Content-Type", content_type.clone()),
            ("Mime-Version", "1.0".to_string()),
        ];
        if let Some(filename) = text(&part, "filename") {
            headers.push(("Content-Disposition", format!("attachment; filename=\"{filename}\"")));
        }
        if let Some(merge) = text(&part, "merge_type") {
            headers.push(("X-Merge-Type", merge.to_string()));
        }
        headers.sort();
        document.push_str(if index == 0 { "--" } else { "\r\n--" });
        document.push_str(&boundary);
        document.push_str("\r\n");
        for (key, value) in headers {
            document.push_str(&format!("{key}: {value}\r\n"));
        }
        document.push_str("\r\n");
        document.push_str(text(&part, "content").unwrap_or_default());
        part.insert("content_type".into(), Value::String(content_type));
        parts.push(Value::Map(part));
    }
    document.push_str(if parts.is_empty() { "--" } else { "\r\n--" });
    document.push_str(&boundary);
    document.push_str("--\r\n");
    let bytes = if gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(document.as_bytes())
            .and_then(|()| encoder.finish())
            .map_err(|e| Diagnostics::from(Diagnostic::error("Unable to render cloudinit config", e.to_string())))?
    } else {
        document.into_bytes()
    };
    let rendered = if base64 {
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let mut crc = flate2::Crc::new();
    crc.update(rendered.as_bytes());
    object.insert("part".into(), Value::List(parts));
    object.insert("gzip".into(), Value::Bool(gzip));
    object.insert("base64_encode".into(), Value::Bool(base64));
    object.insert("boundary".into(), Value::String(boundary));
    object.insert("id".into(), Value::String(crc.sum().to_string()));
    object.insert("rendered".into(), Value::String(rendered));
    Ok(Value::Map(object))
}
