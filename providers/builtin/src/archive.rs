//! `archive_file`, as the `hashicorp/archive` provider: a zip (or tar.gz) of a file, a
//! directory, inline content or `source` blocks, written to `output_path`, with its size and
//! checksums (`output_base64sha256` is what Lambda's `source_code_hash` wants).
//!
//! The data source (common) builds the archive when it is read, at plan time; the deprecated
//! resource of the same name when it is applied. Archives are reproducible: entries in path
//! order, a fixed modification time, so the checksums change only with the content. In
//! controller runs every path must stay inside the checkout.

use base64::Engine;
use infra_provider::{
    AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, NestedBlock, Nesting, ResourceSchema, Value,
};
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Past this many bytes of input an archive is refused.
const MAX_INPUT: u64 = 1 << 30;

/// The schema of the data source and of the resource.
pub fn schema() -> ResourceSchema {
    let computed = |kind| Attribute::computed(kind);
    let input = |kind| Attribute::optional(kind).force_new();
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("type", Attribute::required(AttrType::String).force_new().describe("`zip` or `tar.gz`."))
            .attribute("output_path", Attribute::required(AttrType::String).force_new())
            .attribute("output_file_mode", input(AttrType::String))
            .attribute("source_content", input(AttrType::String))
            .attribute("source_content_filename", input(AttrType::String))
            .attribute("source_file", input(AttrType::String))
            .attribute("source_dir", input(AttrType::String))
            .attribute("excludes", input(AttrType::Set(Box::new(AttrType::String))))
            .attribute("exclude_symlink_directories", input(AttrType::Bool))
            .attribute("id", computed(AttrType::String))
            .attribute("output_size", computed(AttrType::Number))
            .attribute("output_sha", computed(AttrType::String))
            .attribute("output_sha256", computed(AttrType::String))
            .attribute("output_base64sha256", computed(AttrType::String))
            .attribute("output_sha512", computed(AttrType::String))
            .attribute("output_base64sha512", computed(AttrType::String))
            .attribute("output_md5", computed(AttrType::String))
            .block(
                "source",
                NestedBlock {
                    nesting: Nesting::Set,
                    force_new: true,
                    block: BlockSchema::new()
                        .attribute("content", Attribute::required(AttrType::String))
                        .attribute("filename", Attribute::required(AttrType::String)),
                },
            ),
    }
}

fn invalid(detail: impl Into<String>) -> Diagnostics {
    Diagnostic::error("Cannot create the archive", detail).into()
}

/// One archive entry: its name in the archive and where its bytes come from.
enum Content {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// Resolves a path of the configuration (relative to the working directory), inside `within`
/// when confined.
fn resolve(path: &str, within: Option<&Path>, what: &str) -> Result<PathBuf, Diagnostics> {
    let Some(within) = within else { return Ok(PathBuf::from(path)) };
    let joined = within.join(path);
    // The output may not exist yet: its nearest existing ancestor must be inside, and what
    // follows it plain names (no `..`).
    let mut existing = joined.as_path();
    while !existing.exists() {
        existing = existing.parent().unwrap_or(within);
    }
    let rest_is_plain = joined
        .strip_prefix(existing)
        .is_ok_and(|rest| rest.components().all(|c| matches!(c, std::path::Component::Normal(_))));
    let canonical = existing.canonicalize().map_err(|e| invalid(format!("`{path}` ({what}): {e}.")))?;
    if !canonical.starts_with(within) || !rest_is_plain {
        return Err(invalid(format!(
            "`{path}` ({what}) is outside the checkout: in controller runs archives are built only from and into the repository."
        )));
    }
    Ok(joined)
}

fn entries(
    object: &BTreeMap<String, Value>,
    within: Option<&Path>,
) -> Result<BTreeMap<String, (Content, u32)>, Diagnostics> {
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let mut entries: BTreeMap<String, (Content, u32)> = BTreeMap::new();
    let mode = text("output_file_mode")
        .map(|m| u32::from_str_radix(m.trim_start_matches("0o"), 8))
        .transpose()
        .map_err(|_| invalid("`output_file_mode` must be an octal mode such as \"0644\"."))?;
    let sources = [
        text("source_content").is_some(),
        text("source_file").is_some(),
        text("source_dir").is_some(),
        object.get("source").and_then(Value::as_items).is_some_and(|items| !items.is_empty()),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err(invalid(
            "Exactly one of `source_content` (with `source_content_filename`), `source_file`, `source_dir` or `source` blocks must be set.",
        ));
    }
    if let Some(content) = text("source_content") {
        let name = text("source_content_filename")
            .ok_or_else(|| invalid("`source_content_filename` is required with `source_content`."))?;
        entries.insert(name, (Content::Bytes(content.into_bytes()), mode.unwrap_or(0o644)));
    }
    for source in object.get("source").and_then(Value::as_items).unwrap_or_default() {
        let field = |name: &str| source.as_map().and_then(|m| m.get(name)).and_then(Value::as_str).map(str::to_string);
        let (Some(name), Some(content)) = (field("filename"), field("content")) else { continue };
        entries.insert(name, (Content::Bytes(content.into_bytes()), mode.unwrap_or(0o644)));
    }
    if let Some(file) = text("source_file") {
        let path = resolve(&file, within, "source_file")?;
        let metadata = std::fs::metadata(&path).map_err(|e| invalid(format!("`{file}`: {e}.")))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        entries.insert(name, (Content::File(path), mode.unwrap_or_else(|| file_mode(&metadata))));
    }
    if let Some(dir) = text("source_dir") {
        let root = resolve(&dir, within, "source_dir")?;
        let excludes: BTreeSet<String> = object
            .get("excludes")
            .and_then(Value::as_items)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(|s| s.trim_start_matches("./").to_string()))
            .collect();
        let skip_symlink_dirs = object.get("exclude_symlink_directories").and_then(Value::as_bool).unwrap_or(false);
        walk(&root, &root, &excludes, skip_symlink_dirs, within, mode, &mut entries, 0)?;
    }
    Ok(entries)
}

#[allow(clippy::too_many_arguments)]
fn walk(
    root: &Path,
    dir: &Path,
    excludes: &BTreeSet<String>,
    skip_symlink_dirs: bool,
    within: Option<&Path>,
    mode: Option<u32>,
    entries: &mut BTreeMap<String, (Content, u32)>,
    depth: usize,
) -> Result<(), Diagnostics> {
    if depth > 64 {
        return Err(invalid(format!("`{}` nests deeper than 64 directories (a symlink loop?).", dir.display())));
    }
    let listing = std::fs::read_dir(dir).map_err(|e| invalid(format!("`{}`: {e}.", dir.display())))?;
    for entry in listing {
        let entry = entry.map_err(|e| invalid(format!("`{}`: {e}.", dir.display())))?;
        let path = entry.path();
        let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if excludes.contains(&relative) {
            continue;
        }
        let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
        if let Some(within) = within
            && is_link
            && !path.canonicalize().is_ok_and(|p| p.starts_with(within))
        {
            return Err(invalid(format!("`{relative}` links outside the checkout.")));
        }
        let metadata = std::fs::metadata(&path).map_err(|e| invalid(format!("`{relative}`: {e}.")))?;
        if metadata.is_dir() {
            if is_link && skip_symlink_dirs {
                continue;
            }
            walk(root, &path, excludes, skip_symlink_dirs, within, mode, entries, depth + 1)?;
        } else {
            entries.insert(relative, (Content::File(path), mode.unwrap_or_else(|| file_mode(&metadata))));
        }
    }
    Ok(())
}

fn file_mode(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o777
}

fn read_entry(name: &str, content: &Content, total: &mut u64) -> Result<Vec<u8>, Diagnostics> {
    let bytes = match content {
        Content::Bytes(bytes) => bytes.clone(),
        Content::File(path) => std::fs::read(path).map_err(|e| invalid(format!("`{name}`: {e}.")))?,
    };
    *total += bytes.len() as u64;
    if *total > MAX_INPUT {
        return Err(invalid("The archive's input is larger than 1 GiB."));
    }
    Ok(bytes)
}

/// The archive's bytes.
fn build(kind: &str, entries: &BTreeMap<String, (Content, u32)>) -> Result<Vec<u8>, Diagnostics> {
    let mut total = 0u64;
    let failed = |e: std::io::Error| invalid(format!("Writing the archive: {e}."));
    match kind {
        "zip" => {
            let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            for (name, (content, mode)) in entries {
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .last_modified_time(zip::DateTime::default())
                    .unix_permissions(*mode);
                writer.start_file(name.as_str(), options).map_err(|e| failed(e.into()))?;
                writer.write_all(&read_entry(name, content, &mut total)?).map_err(failed)?;
            }
            Ok(writer.finish().map_err(|e| failed(e.into()))?.into_inner())
        }
        "tar.gz" | "tgz" => {
            let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let mut builder = tar::Builder::new(encoder);
            for (name, (content, mode)) in entries {
                let bytes = read_entry(name, content, &mut total)?;
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_mode(*mode);
                header.set_mtime(0);
                header.set_cksum();
                builder.append_data(&mut header, name, bytes.as_slice()).map_err(failed)?;
            }
            builder.into_inner().and_then(flate2::write::GzEncoder::finish).map_err(failed)
        }
        other => Err(invalid(format!("The archive type `{other}` is not supported: `zip` and `tar.gz` are."))),
    }
}

/// Builds the archive the configuration describes, writes it, and answers the object with its
/// size and checksums.
///
/// # Errors
///
/// No or several sources, unreadable inputs, a path outside the checkout when confined, an
/// unsupported type, a write that fails.
pub fn create(config: &Value, within: Option<&Path>) -> Result<Value, Diagnostics> {
    let mut object = config.clone().deep_unmark().as_map().cloned().unwrap_or_default();
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let kind = text("type").unwrap_or_default();
    let output = text("output_path").ok_or_else(|| invalid("`output_path` is required."))?;
    let entries = entries(&object, within)?;
    let bytes = build(&kind, &entries)?;
    let path = resolve(&output, within, "output_path")?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| invalid(format!("`{output}`: {e}.")))?;
    }
    std::fs::write(&path, &bytes).map_err(|e| invalid(format!("`{output}`: {e}.")))?;
    let hex = |digest: &[u8]| digest.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let b64 = |digest: &[u8]| base64::engine::general_purpose::STANDARD.encode(digest);
    let sha1 = hex(&sha1::Sha1::digest(&bytes));
    let sha256 = sha2::Sha256::digest(&bytes);
    let sha512 = sha2::Sha512::digest(&bytes);
    object.insert("id".into(), Value::String(sha1.clone()));
    object.insert("output_sha".into(), Value::String(sha1));
    object.insert("output_sha256".into(), Value::String(hex(&sha256)));
    object.insert("output_base64sha256".into(), Value::String(b64(&sha256)));
    object.insert("output_sha512".into(), Value::String(hex(&sha512)));
    object.insert("output_base64sha512".into(), Value::String(b64(&sha512)));
    object.insert("output_md5".into(), Value::String(hex(&md5::Md5::digest(&bytes))));
    object.insert("output_size".into(), Value::int(bytes.len() as i64));
    Ok(Value::Map(object))
}

/// The resource: gone when its file is.
pub fn read(current: Value) -> Option<Value> {
    let path = current.as_map()?.get("output_path")?.as_str()?.to_string();
    Path::new(&path).exists().then_some(current)
}
