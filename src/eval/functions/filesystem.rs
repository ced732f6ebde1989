//! Filesystem functions. Relative paths are relative to the configuration's root, the working
//! directory of its expressions (as in Terraform, where `-chdir` makes the root the working
//! directory; configurations use `path.module` to be explicit). Every read goes through
//! [`resolve`] and [`read`], which apply the [`FileAccess`] policy: regular files only, a size
//! limit, and in controller runs only files inside the stack's checkout.

use super::{CallContext, FunctionError, bad_arg, fail, map_arg, string_arg};
use crate::eval::FileAccess;
use base64::Engine;
use infra_provider::Value;
use sha2::Digest;
use std::path::{Path, PathBuf};

type R = Result<Value, FunctionError>;

fn to_slash(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Go's `filepath.Clean`: lexical, no filesystem access.
fn clean(path: &str) -> String {
    crate::fsutil::clean(path)
}

pub fn abspath(args: Vec<Value>, context: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    let absolute = if Path::new(&path).is_absolute() {
        path
    } else if !context.files.base.as_os_str().is_empty() {
        format!("{}/{path}", to_slash(&context.files.base))
    } else {
        let cwd = std::env::current_dir()
            .map_err(|error| fail(format!("cannot determine the working directory: {error}")))?;
        format!("{}/{path}", to_slash(&cwd))
    };
    Ok(Value::String(clean(&absolute)))
}

pub fn basename(args: Vec<Value>, _: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    if path.is_empty() {
        return Ok(Value::from("."));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Value::from("/"));
    }
    Ok(Value::from(trimmed.rsplit('/').next().unwrap_or(trimmed)))
}

pub fn dirname(args: Vec<Value>, _: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    let dir = match path.rfind('/') {
        Some(at) => &path[..=at],
        None => "",
    };
    Ok(Value::String(clean(dir)))
}

/// The path a function argument names: `~` expanded (terminal only), relative paths against
/// the configuration's root; in a confined run, refused unless it lies inside the confinement
/// once symbolic links and `..` are resolved. `Ok(None)`: it does not exist (inside the
/// confinement, when confined).
fn resolve(path: &str, index: usize, files: &FileAccess) -> Result<Option<PathBuf>, FunctionError> {
    let expanded = if files.confine.is_some() { PathBuf::from(path) } else { expand_home(path) };
    let joined = if expanded.is_absolute() { expanded } else { files.base.join(expanded) };
    let Some(confine) = &files.confine else { return Ok(Some(joined)) };
    let outside = || {
        bad_arg(
            index,
            format!(
                "{path:?} is outside this stack's checkout; in controller runs the file functions read only files of the repository"
            ),
        )
    };
    match joined.canonicalize() {
        Ok(real) if real.starts_with(confine) => Ok(Some(real)),
        Ok(_) => Err(outside()),
        // Not there: only say so for a path that would be inside.
        Err(_) if clean(&to_slash(&joined)).starts_with(&to_slash(confine)) => Ok(None),
        Err(_) => Err(outside()),
    }
}

/// A regular file's bytes, at most [`FileAccess::MAX_SIZE`] of them; devices, FIFOs and
/// sockets are refused before they are opened (a read of `/dev/zero` or of a FIFO would never
/// end).
fn read(path: &str, index: usize, files: &FileAccess) -> Result<Vec<u8>, FunctionError> {
    use std::io::Read as _;
    let missing = || {
        bad_arg(
            index,
            format!(
                "no file exists at {path:?}; this function works only with files that are distributed as part of the configuration source code"
            ),
        )
    };
    let Some(resolved) = resolve(path, index, files)? else { return Err(missing()) };
    let failed = |error: std::io::Error| match error.kind() {
        std::io::ErrorKind::NotFound => missing(),
        _ => bad_arg(index, format!("failed to read {path:?}: {error}")),
    };
    let metadata = std::fs::metadata(&resolved).map_err(failed)?;
    if metadata.is_dir() {
        return Err(bad_arg(index, format!("{path:?} is a directory, not a file")));
    }
    if !metadata.is_file() {
        return Err(bad_arg(
            index,
            format!("{path:?} is not a regular file (a device, FIFO or socket); only regular files are read"),
        ));
    }
    let too_large = || {
        bad_arg(
            index,
            format!("{path:?} is larger than {} MiB, the most a file function reads", FileAccess::MAX_SIZE >> 20),
        )
    };
    if metadata.len() > FileAccess::MAX_SIZE {
        return Err(too_large());
    }
    let file = std::fs::File::open(&resolved).map_err(failed)?;
    if !file.metadata().map_err(failed)?.is_file() {
        return Err(bad_arg(index, format!("{path:?} is not a regular file")));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(FileAccess::MAX_SIZE + 1).read_to_end(&mut bytes).map_err(failed)?;
    if bytes.len() as u64 > FileAccess::MAX_SIZE {
        return Err(too_large());
    }
    Ok(bytes)
}

pub fn file(args: Vec<Value>, context: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    let bytes = read(&path, 0, context.files)?;
    String::from_utf8(bytes)
        .map(|text| Value::String(super::super::nfc(&text)))
        .map_err(|_| bad_arg(0, format!("contents of {path:?} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead")))
}

pub fn filebase64(args: Vec<Value>, context: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0, context.files)?;
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)))
}

pub fn filesha256(args: Vec<Value>, context: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0, context.files)?;
    Ok(Value::String(hex(&sha2::Sha256::digest(bytes))))
}

pub fn filesha1(args: Vec<Value>, context: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0, context.files)?;
    Ok(Value::String(hex(&sha1::Sha1::digest(bytes))))
}

pub fn filesha512(args: Vec<Value>, context: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0, context.files)?;
    Ok(Value::String(hex(&sha2::Sha512::digest(bytes))))
}

pub fn filemd5(args: Vec<Value>, context: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0, context.files)?;
    Ok(Value::String(hex(&md5::Md5::digest(bytes))))
}

pub fn filebase64sha256(args: Vec<Value>, context: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0, context.files)?;
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))))
}

pub fn filebase64sha512(args: Vec<Value>, context: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0, context.files)?;
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn fileexists(args: Vec<Value>, context: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    let Some(resolved) = resolve(&path, 0, context.files)? else { return Ok(Value::Bool(false)) };
    match std::fs::metadata(resolved) {
        Ok(metadata) if metadata.is_file() => Ok(Value::Bool(true)),
        Ok(_) => Err(bad_arg(0, format!("{path:?} is not a regular file, but a directory"))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(error) => Err(bad_arg(0, format!("failed to stat {path:?}: {error}"))),
    }
}

pub fn fileset(args: Vec<Value>, context: &CallContext) -> R {
    let base = string_arg(&args, 0)?;
    let pattern = string_arg(&args, 1)?;
    let matcher = globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
        .map_err(|error| bad_arg(1, format!("invalid pattern: {error}")))?
        .compile_matcher();
    let Some(root) = resolve(&base, 0, context.files)? else { return Ok(Value::set(Vec::new())) };
    let confined = context.files.confine.is_some();
    let mut found = Vec::new();
    // Confined, links are not followed: a link out of the checkout lists nothing outside it.
    for entry in walkdir::WalkDir::new(&root).follow_links(!confined).into_iter().filter_map(Result::ok) {
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(&root) else { continue };
        let relative = to_slash(relative);
        if matcher.is_match(&relative) {
            found.push(Value::String(relative));
        }
    }
    Ok(Value::set(found))
}

fn expand_home(path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix('~')
        && (rest.is_empty() || rest.starts_with('/'))
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest.trim_start_matches('/'));
    }
    PathBuf::from(path)
}

pub fn pathexpand(args: Vec<Value>, _: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    let expanded = expand_home(&path);
    let text = to_slash(&expanded);
    // `join` of "" leaves a trailing slash for a bare "~"; Terraform returns the home itself.
    Ok(Value::String(if path == "~" { text.trim_end_matches('/').to_string() } else { text }))
}

pub fn templatefile(args: Vec<Value>, context: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    let variables = map_arg(&args, 1)?;
    let bytes = read(&path, 0, context.files)?;
    let text = String::from_utf8(bytes).map_err(|_| bad_arg(0, format!("contents of {path:?} are not valid UTF-8")))?;
    render(&text, &path, variables, context)
}

/// `templatestring(TEMPLATE, VARS)`: a template held in a string value (the evaluator insists
/// that the first argument is a reference, as Terraform does), rendered as `templatefile` does.
pub fn templatestring(args: Vec<Value>, context: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let variables = map_arg(&args, 1)?;
    render(&text, "<template>", variables, context)
}

fn render(text: &str, path: &str, variables: std::collections::BTreeMap<String, Value>, context: &CallContext) -> R {
    let mut template = hcl_edit::parser::parse_template(text).map_err(|error| {
        bad_arg(
            0,
            format!(
                "{path}:{}:{}: invalid template: {}",
                error.location().line(),
                error.location().column(),
                error.message()
            ),
        )
    })?;
    crate::eval::template::prepare_template(&mut template);
    for reference in template_references(&template) {
        if !variables.contains_key(&reference.root) {
            let at = reference.range.map(|r| line_col(text, r.start)).unwrap_or((1, 1));
            return Err(bad_arg(
                1,
                format!("{path}:{}:{}: vars map does not contain key {:?}", at.0, at.1, reference.root),
            ));
        }
    }
    let scope = super::super::Scope {
        module_dir: context.module_dir.to_path_buf(),
        plan_time: context.plan_time,
        files: std::sync::Arc::new(context.files.clone()),
        ..super::super::Scope::default()
    };
    let mut evaluator = super::super::Evaluator::new(&scope, infra_provider::FileId(u32::MAX));
    for (name, value) in variables {
        evaluator.bind(&name, value);
    }
    let expression = hcl_edit::expr::Expression::StringTemplate(template.into_iter().collect());
    evaluator.eval(&expression).map_err(|diagnostic| {
        let at = diagnostic.primary.as_ref().map(|span| line_col(text, span.range.start)).unwrap_or((1, 1));
        fail(format!("{path}:{}:{}: {}", at.0, at.1, diagnostic.detail.trim_end_matches('.')))
    })
}

fn template_references(template: &hcl_edit::template::Template) -> Vec<super::super::references::Reference> {
    let expression = hcl_edit::expr::Expression::StringTemplate(template.iter().cloned().collect());
    super::super::references::references(&expression)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}
