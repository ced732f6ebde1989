//! `local_file` and `local_sensitive_file`: a file on disk. A file edited or deleted outside
//! infra is drift: a read returns what is there (or that it is gone), and the plan replaces it.
//! The data sources of the same names read a file (bounded; inside the checkout in controller
//! runs).

use base64::Engine;
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, PlanRequest, PlanResponse,
    ReadRequest, ReadResponse, ResourceSchema, Value, plan_by_schema,
};
use sha1::Digest;
use std::collections::BTreeMap;

/// Its schema; `sensitive`: `local_sensitive_file`'s (content sensitive, no `sensitive_content`).
pub fn schema(sensitive: bool) -> ResourceSchema {
    let computed = || Attribute::computed(AttrType::String);
    let content = |a: Attribute| if sensitive { a.sensitive() } else { a };
    let mut block = BlockSchema::new()
        .attribute("filename", Attribute::required(AttrType::String).force_new().describe("Path of the file."))
        .attribute("content", content(Attribute::optional(AttrType::String).force_new()))
        .attribute("content_base64", content(Attribute::optional(AttrType::String).force_new()));
    if !sensitive {
        block = block.attribute("sensitive_content", Attribute::optional(AttrType::String).force_new().sensitive());
    }
    ResourceSchema {
        version: 0,
        block: block
            .attribute("file_permission", Attribute::optional(AttrType::String).and_computed().force_new())
            .attribute("directory_permission", Attribute::optional(AttrType::String).and_computed().force_new())
            .attribute("id", computed())
            .attribute("content_md5", computed())
            .attribute("content_sha1", computed())
            .attribute("content_sha256", computed())
            .attribute("content_base64sha256", computed()),
    }
}

/// Plans with the documented permission defaults.
pub fn plan(schema: &BlockSchema, request: &PlanRequest) -> PlanResponse {
    let mut response = plan_by_schema(Some(schema), request);
    if let Value::Map(planned) = &mut response.planned {
        for name in ["file_permission", "directory_permission"] {
            if let Some(value) = planned.get_mut(name)
                && !value.is_known()
            {
                *value = Value::from(if request.kind == "local_sensitive_file" { "0700" } else { "0777" });
            }
        }
    }
    response
}

fn bytes_of(object: &BTreeMap<String, Value>) -> Result<Vec<u8>, Diagnostics> {
    let text = |name: &str| object.get(name).and_then(|v| v.as_str()).map(str::to_string);
    if let Some(content) = text("content").or_else(|| text("sensitive_content")) {
        return Ok(content.into_bytes());
    }
    if let Some(encoded) = text("content_base64") {
        return base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| Diagnostic::error("Invalid content_base64", "`content_base64` is not valid base64.").into());
    }
    Ok(Vec::new())
}

fn hashes(object: &mut BTreeMap<String, Value>, bytes: &[u8]) {
    let hex = |digest: &[u8]| digest.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let sha1 = hex(&sha1::Sha1::digest(bytes));
    object.insert("id".into(), Value::String(sha1.clone()));
    object.insert("content_sha1".into(), Value::String(sha1));
    object.insert("content_md5".into(), Value::String(hex(&md5::Md5::digest(bytes))));
    object.insert("content_sha256".into(), Value::String(hex(&sha2::Sha256::digest(bytes))));
    object.insert(
        "content_base64sha256".into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))),
    );
}

fn io_error(action: &str, path: &str, error: std::io::Error) -> Diagnostics {
    Diagnostic::error("Local file operation failed", format!("Could not {action} `{path}`: {error}.")).into()
}

fn mode(object: &BTreeMap<String, Value>, name: &str) -> u32 {
    object.get(name).and_then(|v| v.as_str()).and_then(|s| u32::from_str_radix(s, 8).ok()).unwrap_or(0o777)
}

/// Writes or removes the file.
///
/// # Errors
///
/// Any filesystem failure, naming the path.
pub fn apply(request: &ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
    let Some(Value::Map(mut object)) = request.planned.as_ref().map(|p| p.clone().deep_unmark()) else {
        if let Some(filename) =
            request.prior.as_ref().and_then(|p| p.as_map()).and_then(|p| p.get("filename")).and_then(|v| v.as_str())
        {
            match std::fs::remove_file(filename) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(io_error("remove", filename, error)),
            }
        }
        return Ok(ApplyResponse { new: None });
    };
    let filename = object.get("filename").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let bytes = bytes_of(&object)?;
    let path = std::path::Path::new(&filename);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io_error("create the directory of", &filename, e))?;
        set_mode(parent, mode(&object, "directory_permission"));
    }
    std::fs::write(path, &bytes).map_err(|e| io_error("write", &filename, e))?;
    set_mode(path, mode(&object, "file_permission"));
    hashes(&mut object, &bytes);
    let sensitive = object.get("sensitive_content").is_some_and(|v| !v.is_null());
    if sensitive && let Some(value) = object.remove("sensitive_content") {
        object.insert("sensitive_content".into(), value.mark_sensitive());
    }
    Ok(ApplyResponse { new: Some(Value::Map(object)) })
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_: &std::path::Path, _: u32) {}

/// What is on disk: gone when the file is missing; the new content when it was edited.
///
/// # Errors
///
/// A read failure other than "not found".
pub fn read(request: &ReadRequest) -> Result<ReadResponse, Diagnostics> {
    let Some(Value::Map(mut object)) = Some(request.current.clone().deep_unmark()) else {
        return Ok(ReadResponse { current: None });
    };
    let filename = object.get("filename").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let bytes = match std::fs::read(&filename) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(ReadResponse { current: None }),
        Err(error) => return Err(io_error("read", &filename, error)),
    };
    if bytes_of(&object)? != bytes {
        // Edited outside infra: report what is there now.
        match (object.get("content_base64").is_some_and(|v| !v.is_null()), String::from_utf8(bytes.clone())) {
            (false, Ok(text)) => {
                object.insert("content".into(), Value::String(text));
            }
            _ => {
                object.insert(
                    "content_base64".into(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
                );
            }
        }
        hashes(&mut object, &bytes);
    }
    Ok(ReadResponse { current: Some(Value::Map(object)) })
}

/// Imports a file by its path.
///
/// # Errors
///
/// When the file cannot be read.
pub fn import(path: &str) -> Result<Value, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| io_error("read", path, e))?;
    let mut object = BTreeMap::from([
        ("filename".to_string(), Value::from(path)),
        ("content".to_string(), Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        ("content_base64".to_string(), Value::Null),
        ("sensitive_content".to_string(), Value::Null),
        ("file_permission".to_string(), Value::from("0777")),
        ("directory_permission".to_string(), Value::from("0777")),
    ]);
    hashes(&mut object, &bytes);
    Ok(Value::Map(object))
}

/// The data sources' schema (`local_file`; `sensitive`: `local_sensitive_file`).
pub fn data_schema(sensitive: bool) -> ResourceSchema {
    let computed = || Attribute::computed(AttrType::String);
    let content = |a: Attribute| if sensitive { a.sensitive() } else { a };
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("filename", Attribute::required(AttrType::String))
            .attribute("content", content(computed()))
            .attribute("content_base64", content(computed()))
            .attribute("id", computed())
            .attribute("content_md5", computed())
            .attribute("content_sha1", computed())
            .attribute("content_sha256", computed())
            .attribute("content_base64sha256", computed())
            .attribute("content_sha512", computed())
            .attribute("content_base64sha512", computed()),
    }
}

/// The largest file the data sources read: 64 MiB.
const MAX_READ: u64 = 64 << 20;

/// Reads the file a data source names.
///
/// # Errors
///
/// A missing, unreadable or too large file, or (controller runs) one outside the checkout.
pub fn read_data(request: &infra_provider::ReadDataRequest) -> Result<Value, Diagnostics> {
    use std::io::Read;
    let mut object = request.config.as_map().cloned().unwrap_or_default();
    let filename = object.get("filename").and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(within) = &request.files_within
        && !std::fs::canonicalize(&filename).is_ok_and(|real| real.starts_with(within))
    {
        return Err(Diagnostic::error(
            "File outside the repository",
            format!("`{filename}` is not a file inside this repository's checkout; only those are read here."),
        )
        .into());
    }
    let file = std::fs::File::open(&filename).map_err(|e| io_error("read", &filename, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_READ + 1).read_to_end(&mut bytes).map_err(|e| io_error("read", &filename, e))?;
    if bytes.len() as u64 > MAX_READ {
        return Err(Diagnostic::error(
            "File too large",
            format!("`{filename}` is larger than {} MiB.", MAX_READ >> 20),
        )
        .into());
    }
    let mark = |v: Value| if request.kind == "local_sensitive_file" { v.mark_sensitive() } else { v };
    object.insert("content".into(), mark(Value::String(String::from_utf8_lossy(&bytes).into_owned())));
    object
        .insert("content_base64".into(), mark(Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes))));
    hashes(&mut object, &bytes);
    let hex = |digest: &[u8]| digest.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let sha512 = sha2::Sha512::digest(&bytes);
    object.insert("content_sha512".into(), Value::String(hex(&sha512)));
    object
        .insert("content_base64sha512".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(sha512)));
    Ok(Value::Map(object))
}
