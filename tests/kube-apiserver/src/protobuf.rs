//! Just enough of Kubernetes' protobuf encoding for what kubectl sends that way: `kubectl
//! create namespace|configmap|secret` post protobuf bodies (the `k8s\0` envelope around an
//! `Unknown` message). Those three kinds are decoded to JSON; any other protobuf body is a 415.
//! Responses are always JSON, which kubectl accepts.

use serde_json::{Map, Value, json};

/// The magic prefix of a protobuf-encoded object.
pub const MAGIC: &[u8] = b"k8s\0";

struct Reader<'a> {
    bytes: &'a [u8],
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.bytes.split_first()?;
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn next(&mut self) -> Option<(u64, Field<'a>)> {
        if self.bytes.is_empty() {
            return None;
        }
        let tag = self.varint()?;
        let field = match tag & 7 {
            0 => Field::Varint(self.varint()?),
            2 => {
                let length = usize::try_from(self.varint()?).ok()?;
                if length > self.bytes.len() {
                    return None;
                }
                let (data, rest) = self.bytes.split_at(length);
                self.bytes = rest;
                Field::Bytes(data)
            }
            1 => {
                self.bytes = self.bytes.get(8..)?;
                Field::Varint(0)
            }
            5 => {
                self.bytes = self.bytes.get(4..)?;
                Field::Varint(0)
            }
            _ => return None,
        };
        Some((tag >> 3, field))
    }
}

fn fields(bytes: &[u8]) -> Vec<(u64, Field<'_>)> {
    let mut reader = Reader { bytes };
    std::iter::from_fn(|| reader.next()).collect()
}

fn text(bytes: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

fn map_entry(bytes: &[u8], base64_values: bool) -> (String, Value) {
    let (mut key, mut value) = (String::new(), Value::String(String::new()));
    for (number, field) in fields(bytes) {
        if let Field::Bytes(data) = field {
            match number {
                1 => key = String::from_utf8_lossy(data).into_owned(),
                2 if base64_values => {
                    use base64::Engine as _;
                    value = Value::String(base64::engine::general_purpose::STANDARD.encode(data));
                }
                2 => value = text(data),
                _ => {}
            }
        }
    }
    (key, value)
}

fn object_meta(bytes: &[u8]) -> Value {
    let mut meta = Map::new();
    let (mut labels, mut annotations) = (Map::new(), Map::new());
    for (number, field) in fields(bytes) {
        let Field::Bytes(data) = field else { continue };
        if data.is_empty() {
            continue;
        }
        match number {
            1 => {
                meta.insert("name".into(), text(data));
            }
            2 => {
                meta.insert("generateName".into(), text(data));
            }
            3 => {
                meta.insert("namespace".into(), text(data));
            }
            11 => {
                let (k, v) = map_entry(data, false);
                labels.insert(k, v);
            }
            12 => {
                let (k, v) = map_entry(data, false);
                annotations.insert(k, v);
            }
            _ => {}
        }
    }
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    Value::Object(meta)
}

/// Decodes a protobuf body of a Namespace, ConfigMap or Secret into JSON.
///
/// # Errors
///
/// A sentence when the body is not one of those.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let envelope = body.strip_prefix(MAGIC).ok_or("not a Kubernetes protobuf body")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (number, field) in fields(envelope) {
        let Field::Bytes(data) = field else { continue };
        match number {
            1 => {
                for (n, f) in fields(data) {
                    if let Field::Bytes(d) = f {
                        match n {
                            1 => api_version = String::from_utf8_lossy(d).into_owned(),
                            2 => kind = String::from_utf8_lossy(d).into_owned(),
                            _ => {}
                        }
                    }
                }
            }
            2 => raw = data,
            _ => {}
        }
    }
    let mut object = json!({"apiVersion": api_version, "kind": kind});
    let (mut data, mut string_data) = (Map::new(), Map::new());
    for (number, field) in fields(raw) {
        match (kind.as_str(), number, field) {
            (_, 1, Field::Bytes(meta)) => object["metadata"] = object_meta(meta),
            ("ConfigMap", 2, Field::Bytes(entry)) => {
                let (k, v) = map_entry(entry, false);
                data.insert(k, v);
            }
            ("Secret", 2, Field::Bytes(entry)) => {
                let (k, v) = map_entry(entry, true);
                data.insert(k, v);
            }
            ("Secret", 3, Field::Bytes(kind)) => object["type"] = text(kind),
            ("Secret", 4, Field::Bytes(entry)) => {
                let (k, v) = map_entry(entry, false);
                string_data.insert(k, v);
            }
            ("Secret" | "ConfigMap", 5 | 4, Field::Varint(flag)) => object["immutable"] = json!(flag != 0),
            _ => {}
        }
    }
    match kind.as_str() {
        "Namespace" => {}
        "ConfigMap" | "Secret" => {
            if !data.is_empty() {
                object["data"] = Value::Object(data);
            }
            if !string_data.is_empty() {
                object["stringData"] = Value::Object(string_data);
            }
        }
        other => return Err(format!("protobuf bodies of kind `{other}` are not modelled; send JSON")),
    }
    Ok(object)
}
