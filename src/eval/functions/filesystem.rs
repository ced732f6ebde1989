//! Filesystem functions. Relative paths are relative to the working directory, as in
//! Terraform (configurations use `path.module` to be explicit).

use super::{CallContext, FunctionError, bad_arg, fail, map_arg, string_arg};
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
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

pub fn abspath(args: Vec<Value>, _: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    let absolute = if Path::new(&path).is_absolute() {
        path
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

fn read(path: &str, index: usize) -> Result<Vec<u8>, FunctionError> {
    let expanded = expand_home(path);
    std::fs::read(&expanded).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => bad_arg(index, format!("no file exists at {path:?}; this function works only with files that are distributed as part of the configuration source code")),
        _ => bad_arg(index, format!("failed to read {path:?}: {error}")),
    })
}

pub fn file(args: Vec<Value>, _: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    let bytes = read(&path, 0)?;
    String::from_utf8(bytes)
        .map(|text| Value::String(super::super::nfc(&text)))
        .map_err(|_| bad_arg(0, format!("contents of {path:?} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead")))
}

pub fn filebase64(args: Vec<Value>, _: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0)?;
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)))
}

pub fn filesha256(args: Vec<Value>, _: &CallContext) -> R {
    let bytes = read(&string_arg(&args, 0)?, 0)?;
    Ok(Value::String(hex(&sha2::Sha256::digest(bytes))))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn fileexists(args: Vec<Value>, _: &CallContext) -> R {
    let path = string_arg(&args, 0)?;
    match std::fs::metadata(expand_home(&path)) {
        Ok(metadata) if metadata.is_file() => Ok(Value::Bool(true)),
        Ok(_) => Err(bad_arg(0, format!("{path:?} is not a regular file, but a directory"))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(error) => Err(bad_arg(0, format!("failed to stat {path:?}: {error}"))),
    }
}

pub fn fileset(args: Vec<Value>, _: &CallContext) -> R {
    let base = string_arg(&args, 0)?;
    let pattern = string_arg(&args, 1)?;
    let matcher = globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
        .map_err(|error| bad_arg(1, format!("invalid pattern: {error}")))?
        .compile_matcher();
    let root = expand_home(&base);
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&root).follow_links(true).into_iter().filter_map(Result::ok) {
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
    let bytes = read(&path, 0)?;
    let text = String::from_utf8(bytes).map_err(|_| bad_arg(0, format!("contents of {path:?} are not valid UTF-8")))?;
    let mut template = hcl_edit::parser::parse_template(&text).map_err(|error| {
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
            let at = reference.range.map(|r| line_col(&text, r.start)).unwrap_or((1, 1));
            return Err(bad_arg(
                1,
                format!("{path}:{}:{}: vars map does not contain key {:?}", at.0, at.1, reference.root),
            ));
        }
    }
    let scope = super::super::Scope {
        module_dir: context.module_dir.to_path_buf(),
        plan_time: context.plan_time,
        ..super::super::Scope::default()
    };
    let mut evaluator = super::super::Evaluator::new(&scope, infra_provider::FileId(u32::MAX));
    for (name, value) in variables {
        evaluator.bind(&name, value);
    }
    let expression = hcl_edit::expr::Expression::StringTemplate(template.into_iter().collect());
    evaluator.eval(&expression).map_err(|diagnostic| {
        let at = diagnostic.primary.as_ref().map(|span| line_col(&text, span.range.start)).unwrap_or((1, 1));
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
