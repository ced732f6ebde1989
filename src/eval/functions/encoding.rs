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

/// `provider::terraform::encode_expr`: a value as HCL expression text, laid out as Terraform's
/// hclwrite lays it out (objects one attribute per line, keys in order, `=` aligned; lists on
/// one line).
pub fn encode_expr(args: Vec<Value>, _: &CallContext) -> R {
    let value = args.into_iter().next().unwrap_or(Value::Null);
    if !value.is_wholly_known() {
        return Ok(Value::Unknown);
    }
    let mut lines = vec![String::new()];
    write_expr(&value.deep_unmark(), &mut lines).map_err(|message| bad_arg(0, message))?;
    Ok(Value::String(layout(&lines).trim_end_matches('\n').to_string()))
}

/// `provider::terraform::encode_tfvars`: an object as the text of a `.tfvars` file.
pub fn encode_tfvars(args: Vec<Value>, _: &CallContext) -> R {
    let value = args.into_iter().next().unwrap_or(Value::Null);
    if !value.is_wholly_known() {
        return Ok(Value::Unknown);
    }
    let Value::Map(entries) = value.deep_unmark() else {
        return Err(bad_arg(
            0,
            "invalid value to encode: must be an object whose attribute names will become the encoded variable names",
        ));
    };
    let mut lines = Vec::new();
    for (name, value) in &entries {
        if !crate::syntax::is_identifier(name) {
            return Err(bad_arg(0, format!("invalid variable name {name:?}: must be a valid identifier")));
        }
        lines.push(format!("{name} = "));
        write_expr(value, &mut lines).map_err(|message| bad_arg(0, message))?;
    }
    Ok(Value::String(layout(&lines)))
}

/// `provider::terraform::decode_tfvars`: the text of a `.tfvars` file as an object; only
/// constant values (no references or function calls), as Terraform reads tfvars.
pub fn decode_tfvars(args: Vec<Value>, context: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let invalid = |detail: String| bad_arg(0, format!("invalid tfvars syntax: {detail}"));
    let body = hcl_edit::parser::parse_body(&text).map_err(|e| invalid(e.message().to_string()))?;
    // Constants only: a reference or a function call (a `file()` reading past the checkout's
    // confinement, say) is refused before anything is evaluated.
    struct Constant(bool);
    impl hcl_edit::visit::Visit for Constant {
        fn visit_func_call(&mut self, _: &hcl_edit::expr::FuncCall) {
            self.0 = false;
        }
        fn visit_expr(&mut self, expr: &hcl_edit::expr::Expression) {
            match expr {
                hcl_edit::expr::Expression::Variable(_) | hcl_edit::expr::Expression::Traversal(_) => self.0 = false,
                other => hcl_edit::visit::visit_expr(self, other),
            }
        }
        fn visit_for_expr(&mut self, _: &hcl_edit::expr::ForExpr) {
            self.0 = false;
        }
    }
    let mut values = std::collections::BTreeMap::new();
    let scope = crate::eval::Scope::new(context.module_dir);
    for structure in body.iter() {
        let Some(attribute) = structure.as_attribute() else {
            return Err(invalid("blocks are not allowed in tfvars".into()));
        };
        let name = attribute.key.value().to_string();
        let mut constant = Constant(true);
        hcl_edit::visit::Visit::visit_expr(&mut constant, &attribute.value);
        if !constant.0 {
            return Err(invalid(format!(
                "the value of {name:?} must be a constant: variables and functions are not allowed"
            )));
        }
        let mut evaluator = crate::eval::Evaluator::new(&scope, infra_provider::FileId(0));
        let value = evaluator
            .eval(&attribute.value)
            .map_err(|d| bad_arg(0, format!("invalid expression for variable {name:?}: {}", d.summary)))?;
        values.insert(name, value);
    }
    Ok(Value::Map(values))
}

/// Appends a value's HCL to the last of `lines` (starting new lines inside objects).
fn write_expr(value: &Value, lines: &mut Vec<String>) -> Result<(), String> {
    let push = |lines: &mut Vec<String>, text: &str| match lines.last_mut() {
        Some(last) => last.push_str(text),
        None => lines.push(text.to_string()),
    };
    match value {
        Value::Null => push(lines, "null"),
        Value::Bool(flag) => push(lines, if *flag { "true" } else { "false" }),
        Value::Number(number) => push(lines, &number.to_string()),
        Value::String(text) => push(lines, &quote(text)),
        Value::List(items) | Value::Set(items) => {
            push(lines, "[");
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    push(lines, ", ");
                }
                write_expr(item, lines)?;
            }
            push(lines, "]");
        }
        Value::Map(entries) if entries.is_empty() => push(lines, "{}"),
        Value::Map(entries) => {
            push(lines, "{");
            for (key, item) in entries {
                let key = if crate::syntax::is_identifier(key) { key.clone() } else { quote(key) };
                lines.push(format!("{key} = "));
                write_expr(item, lines)?;
            }
            lines.push("}".into());
        }
        Value::Unknown | Value::Sensitive(_) => return Err("the value is not known".into()),
    }
    Ok(())
}

/// A string literal: escapes, and `${` / `%{` doubled so they stay literal.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lines indented by hclwrite's rule (`crate::syntax::Indentation`), `=` aligned across runs of one-line
/// attributes at one depth.
fn layout(lines: &[String]) -> String {
    // Net brackets of a generated line (strings hold no unescaped brackets that matter: they
    // are skipped).
    fn net(line: &str) -> i64 {
        let (mut count, mut in_string, mut escaped) = (0i64, false, false);
        for c in line.chars() {
            match (in_string, c) {
                (true, '\\') if !escaped => {
                    escaped = true;
                    continue;
                }
                (true, '"') if !escaped => in_string = false,
                (false, '"') => in_string = true,
                (false, '{' | '[') => count += 1,
                (false, '}' | ']') => count -= 1,
                _ => {}
            }
            escaped = false;
        }
        count
    }
    let mut indentation = crate::syntax::Indentation::default();
    let mut placed: Vec<(usize, &str, i64)> = Vec::new();
    for line in lines {
        let change = net(line);
        let level = indentation.line(change);
        placed.push((level, line.as_str(), change));
    }
    let mut out = String::new();
    let mut index = 0;
    while index < placed.len() {
        let (level, _, _) = placed[index];
        let one_line = |(l, text, change): &(usize, &str, i64)| *l == level && *change == 0 && text.contains(" = ");
        let mut end = index;
        while end < placed.len() && one_line(&placed[end]) {
            end += 1;
        }
        let group = if end > index { index..end } else { index..index + 1 };
        let width = placed[group.clone()]
            .iter()
            .filter_map(|(_, text, _)| text.split_once(" = ").map(|(key, _)| key.chars().count()))
            .max()
            .unwrap_or(0);
        for (level, text, _) in &placed[group.clone()] {
            out.push_str(&"  ".repeat(*level));
            match text.split_once(" = ") {
                Some((key, rest)) if end > index => {
                    let _ = write!(out, "{key}{} = {rest}", " ".repeat(width - key.chars().count()));
                }
                _ => out.push_str(text),
            }
            out.push('\n');
        }
        index = group.end;
    }
    out
}
