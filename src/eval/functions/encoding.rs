//! Encoding functions: base64, CSV, JSON, YAML, URL and text encodings.

use super::{CallContext, FunctionError, bad_arg, string_arg};
use base64::Engine;
use infra_provider::Value;
use std::fmt::Write;

type R = Result<Value, FunctionError>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub fn base64encode(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(B64.encode(string_arg(&args, 0)?)))
}

/// gzip then base64, laid out as Terraform's (Go's) writer lays it out: a header without name
/// or time (OS "unknown"), the compressed data, a sync flush, an empty final stored block, the
/// CRC and size. The compressed data is flate2's: for short strings (literals only) it is
/// Go's byte for byte; a long input may compress differently and still decompress the same.
pub fn base64gzip(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let input = text.as_bytes();
    let mut compress = flate2::Compress::new(flate2::Compression::default(), false);
    let mut deflated = Vec::with_capacity(input.len() / 2 + 64);
    let mut consumed = 0;
    loop {
        deflated.reserve(input.len() + 64);
        let before_in = compress.total_in();
        compress
            .compress_vec(&input[consumed..], &mut deflated, flate2::FlushCompress::Sync)
            .map_err(|e| bad_arg(0, e.to_string()))?;
        consumed += usize::try_from(compress.total_in() - before_in).unwrap_or(0);
        if consumed >= input.len() && deflated.ends_with(&[0, 0, 0xff, 0xff]) {
            break;
        }
    }
    let mut crc = flate2::Crc::new();
    crc.update(input);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(out)))
}

pub fn base64decode(args: Vec<Value>, _: &CallContext) -> R {
    let bytes = B64.decode(string_arg(&args, 0)?).map_err(|_| bad_arg(0, "failed to decode base64 data"))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| bad_arg(0, "the result of decoding the provided string is not valid UTF-8"))
}

pub fn csvdecode(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| bad_arg(0, format!("invalid CSV: {error}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| bad_arg(0, format!("invalid CSV: {error}")))?;
        rows.push(Value::Map(
            headers.iter().cloned().zip(record.iter().map(|field| Value::String(field.to_string()))).collect(),
        ));
    }
    Ok(Value::List(rows))
}

pub fn jsondecode(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| bad_arg(0, format!("invalid JSON: {error}")))?;
    Ok(Value::from_json(&json))
}

/// JSON text exactly as Terraform writes it: compact, keys sorted, `<`, `>` and `&` escaped
/// (Go's `encoding/json` HTML escaping), numbers exact.
pub fn encode_json(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(value, &mut out)?;
    Ok(out)
}

fn write_json(value: &Value, out: &mut String) -> Result<(), String> {
    match value.bare() {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(text) => write_json_string(text, out),
        Value::List(items) | Value::Set(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(item, out)?;
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (index, (key, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out)?;
            }
            out.push('}');
        }
        Value::Unknown => return Err("value is not known".into()),
        Value::Sensitive(_) => unreachable!("bare() removed the mark"),
    }
    Ok(())
}

fn write_json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

pub fn jsonencode(args: Vec<Value>, _: &CallContext) -> R {
    encode_json(&args[0]).map(Value::String).map_err(|message| bad_arg(0, message))
}

fn encode_text(text: &str, encoding: &str) -> Result<Vec<u8>, String> {
    match encoding.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => Ok(text.as_bytes().to_vec()),
        "UTF-16LE" => Ok(text.encode_utf16().flat_map(u16::to_le_bytes).collect()),
        "UTF-16BE" | "UTF-16" => Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        "ISO-8859-1" | "LATIN1" => text
            .chars()
            .map(|c| u8::try_from(c as u32).map_err(|_| format!("the character {c:?} cannot be encoded in {encoding}")))
            .collect(),
        other => Err(format!("the encoding {other:?} is not supported; use UTF-8, UTF-16LE, UTF-16BE or ISO-8859-1")),
    }
}

fn decode_text(bytes: &[u8], encoding: &str) -> Result<String, String> {
    let utf16 = |little: bool| -> Result<String, String> {
        if !bytes.len().is_multiple_of(2) {
            return Err("the data is not valid UTF-16".into());
        }
        let units: Vec<u16> =
            bytes
                .chunks(2)
                .map(|pair| {
                    if little { u16::from_le_bytes([pair[0], pair[1]]) } else { u16::from_be_bytes([pair[0], pair[1]]) }
                })
                .collect();
        String::from_utf16(&units).map_err(|_| "the data is not valid UTF-16".into())
    };
    match encoding.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => String::from_utf8(bytes.to_vec()).map_err(|_| "the data is not valid UTF-8".into()),
        "UTF-16LE" => utf16(true),
        "UTF-16BE" | "UTF-16" => utf16(false),
        "ISO-8859-1" | "LATIN1" => Ok(bytes.iter().map(|b| *b as char).collect()),
        other => Err(format!("the encoding {other:?} is not supported; use UTF-8, UTF-16LE, UTF-16BE or ISO-8859-1")),
    }
}

pub fn textencodebase64(args: Vec<Value>, _: &CallContext) -> R {
    let bytes = encode_text(&string_arg(&args, 0)?, &string_arg(&args, 1)?).map_err(|m| bad_arg(1, m))?;
    Ok(Value::String(B64.encode(bytes)))
}

pub fn textdecodebase64(args: Vec<Value>, _: &CallContext) -> R {
    let bytes = B64.decode(string_arg(&args, 0)?).map_err(|_| bad_arg(0, "failed to decode base64 data"))?;
    decode_text(&bytes, &string_arg(&args, 1)?).map(Value::String).map_err(|m| bad_arg(1, m))
}

/// Go's `url.QueryEscape`: spaces become `+`, unreserved characters stay.
pub fn urlencode(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            other => {
                let _ = write!(out, "%{other:02X}");
            }
        }
    }
    Ok(Value::String(out))
}

pub fn yamldecode(args: Vec<Value>, _: &CallContext) -> R {
    crate::yaml::decode_value(&string_arg(&args, 0)?).map_err(|message| bad_arg(0, format!("invalid YAML: {message}")))
}

/// YAML text as Terraform's `yamlencode` writes it: keys and strings double-quoted,
/// multi-line strings as `|-` blocks, block style with `- ` list items.
pub fn yamlencode(args: Vec<Value>, _: &CallContext) -> R {
    let mut out = String::new();
    write_yaml(&args[0], 0, &mut out);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(Value::String(out))
}

fn yaml_scalar(value: &Value, indent: usize) -> Option<String> {
    Some(match value.bare() {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(text)
            if text.contains('\n') && !text.ends_with('\n') && !text.chars().any(|c| c.is_control() && c != '\n') =>
        {
            let pad = " ".repeat(indent + 2);
            let body: Vec<String> = text
                .split('\n')
                .map(|line| if line.is_empty() { String::new() } else { format!("{pad}{line}") })
                .collect();
            format!("|-\n{}", body.join("\n"))
        }
        Value::String(text)
            if text.contains('\n') && text.ends_with('\n') && !text.chars().any(|c| c.is_control() && c != '\n') =>
        {
            let pad = " ".repeat(indent + 2);
            let trimmed = &text[..text.len() - 1];
            let body: Vec<String> = trimmed
                .split('\n')
                .map(|line| if line.is_empty() { String::new() } else { format!("{pad}{line}") })
                .collect();
            format!("|\n{}", body.join("\n"))
        }
        Value::String(text) => {
            let mut quoted = String::new();
            write_json_string(text, &mut quoted);
            // YAML double-quoted strings do not need Go's HTML escapes.
            quoted.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
        }
        Value::List(items) | Value::Set(items) if items.is_empty() => "[]".into(),
        Value::Map(entries) if entries.is_empty() => "{}".into(),
        _ => return None,
    })
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    if let Some(scalar) = yaml_scalar(value, indent) {
        out.push_str(&scalar);
        out.push('\n');
        return;
    }
    let pad = " ".repeat(indent);
    match value.bare() {
        Value::List(items) | Value::Set(items) => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match yaml_scalar(item, indent) {
                    Some(scalar) => {
                        out.push_str(&scalar);
                        out.push('\n');
                    }
                    None => {
                        let mut nested = String::new();
                        write_yaml(item, indent + 2, &mut nested);
                        out.push_str(nested.trim_start());
                    }
                }
            }
        }
        Value::Map(entries) => {
            for (key, item) in entries {
                out.push_str(&pad);
                let mut quoted = String::new();
                write_json_string(key, &mut quoted);
                out.push_str(&quoted);
                out.push(':');
                match yaml_scalar(item, indent) {
                    Some(scalar) => {
                        out.push(' ');
                        out.push_str(&scalar);
                        out.push('\n');
                    }
                    None => {
                        out.push('\n');
                        let child_indent =
                            if matches!(item.bare(), Value::List(_) | Value::Set(_)) { indent } else { indent + 2 };
                        write_yaml(item, child_indent, out);
                    }
                }
            }
        }
        // Scalars and empty collections were written by `yaml_scalar` above.
        _ => {}
    }
}
