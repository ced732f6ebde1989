//! One value, as `terraform console` prints it, and as one line of JSON.
//!
//! Sensitive parts print as `(sensitive value)` and Unknown parts as `(known after apply)`,
//! in both forms: a secret never reaches a terminal or a log through these functions.

use infra_provider::Value;

/// Multi-line HCL-like text: `"text"`, `[ ... ]`, `{ "key" = value }`, `toset([...])`.
pub fn human(value: &Value) -> String {
    let mut out = String::new();
    write(value, 0, &mut out);
    out
}

fn write(value: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(text) if text.contains('\n') => {
            out.push_str("<<EOT\n");
            out.push_str(text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("EOT");
        }
        Value::String(text) => out.push_str(&crate::eval::functions::quote_string(text)),
        Value::Unknown => out.push_str("(known after apply)"),
        Value::Sensitive(_) => out.push_str("(sensitive value)"),
        Value::List(items) | Value::Set(items) => {
            let set = matches!(value, Value::Set(_));
            if set {
                out.push_str("toset(");
            }
            if items.is_empty() {
                out.push_str("[]");
            } else {
                out.push_str("[\n");
                for item in items {
                    out.push_str(&pad);
                    write(item, indent + 1, out);
                    out.push_str(",\n");
                }
                out.push_str(&close);
                out.push(']');
            }
            if set {
                out.push(')');
            }
        }
        Value::Map(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return;
            }
            let width =
                entries.keys().map(|key| crate::eval::functions::quote_string(key).chars().count()).max().unwrap_or(0);
            out.push_str("{\n");
            for (key, item) in entries {
                let quoted = crate::eval::functions::quote_string(key);
                out.push_str(&pad);
                out.push_str(&quoted);
                out.push_str(&" ".repeat(width - quoted.chars().count()));
                out.push_str(" = ");
                write(item, indent + 1, out);
                out.push('\n');
            }
            out.push_str(&close);
            out.push('}');
        }
    }
}

/// One line of JSON in `terraform output -json`'s value encoding, with sensitive parts as
/// the string `"(sensitive value)"` and Unknown parts as `"(known after apply)"`.
pub fn json(value: &Value) -> String {
    fn redact(value: &Value) -> Value {
        match value {
            Value::Sensitive(_) => Value::from("(sensitive value)"),
            Value::Unknown => Value::from("(known after apply)"),
            Value::List(items) => Value::List(items.iter().map(redact).collect()),
            Value::Set(items) => Value::Set(items.iter().map(redact).collect()),
            Value::Map(entries) => Value::Map(entries.iter().map(|(k, v)| (k.clone(), redact(v))).collect()),
            other => other.clone(),
        }
    }
    redact(value).to_json().map_or_else(|| "null".to_string(), |json| json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn secrets_and_unknowns_are_redacted() {
        let value = Value::Map(BTreeMap::from([
            ("password".to_string(), Value::from("hunter2").mark_sensitive()),
            ("id".to_string(), Value::Unknown),
            ("name".to_string(), Value::from("web")),
        ]));
        let text = human(&value);
        assert!(!text.contains("hunter2"));
        insta::assert_snapshot!(text, @r#"
        {
          "id"       = (known after apply)
          "name"     = "web"
          "password" = (sensitive value)
        }
        "#);
        assert_eq!(json(&value), r#"{"id":"(known after apply)","name":"web","password":"(sensitive value)"}"#);
    }
}
