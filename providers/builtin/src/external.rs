//! The `external` data source, as the `hashicorp/external` provider: runs `program` with
//! `query` as a JSON object on its standard input; its standard output must be a JSON object
//! of strings, which becomes `result`.
//!
//! Refused in controller runs: a program named by a pull request would run on the controller.

use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, ResourceSchema, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::process::Stdio;

/// Past this many bytes of standard output the program's answer is refused.
const MAX_OUTPUT: u64 = 64 << 20;

/// The data source's schema.
pub fn schema() -> ResourceSchema {
    let strings = || AttrType::Map(Box::new(AttrType::String));
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("program", Attribute::required(AttrType::List(Box::new(AttrType::String))))
            .attribute("query", Attribute::optional(strings()))
            .attribute("working_dir", Attribute::optional(AttrType::String))
            .attribute("result", Attribute::computed(strings()))
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

fn failed(detail: impl Into<String>) -> Diagnostics {
    Diagnostic::error("External Program Execution Failed", detail).into()
}

/// Runs the program (on a blocking thread: it may take its time).
///
/// # Errors
///
/// A confined run, an empty `program`, a program that cannot start, exits non-zero (its
/// standard error is the message) or does not answer a JSON object of strings.
pub fn read(config: &Value, confined: bool) -> Result<Value, Diagnostics> {
    if confined {
        return Err(Diagnostic::error(
            "External programs are not run here",
            "The `external` data source runs a program named by the configuration; in controller runs the configuration comes from the repository or a pull request, so infra does not run it. Compute the value in the configuration or in a provider.",
        )
        .into());
    }
    let mut object = config.clone().deep_unmark().as_map().cloned().unwrap_or_default();
    let program: Vec<String> = object
        .get("program")
        .and_then(Value::as_items)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let Some((command, args)) = program.split_first() else {
        return Err(failed("`program` must name a program."));
    };
    let query: serde_json::Map<String, serde_json::Value> = object
        .get("query")
        .and_then(Value::as_map)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), serde_json::Value::from(s)))).collect())
        .unwrap_or_default();
    let mut process = std::process::Command::new(command);
    process.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(dir) = object.get("working_dir").and_then(Value::as_str).filter(|d| !d.is_empty()) {
        process.current_dir(dir);
    }
    let mut child = process.spawn().map_err(|e| failed(format!("The program `{command}` could not start: {e}.")))?;
    let input = serde_json::to_vec(&query).unwrap_or_default();
    let mut stdin = child.stdin.take();
    // Written from a thread: a program that answers before reading must not dead-lock.
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = std::io::Write::write_all(stdin, &input);
        }
    });
    // Standard error is drained on its own thread: a program that fills that pipe before
    // closing standard output must not hang the run. Past its first 64 KiB it is discarded.
    let errors = child.stderr.take().map(|err| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut err = err;
            let _ = (&mut err).take(64 << 10).read_to_end(&mut kept);
            let _ = std::io::copy(&mut err, &mut std::io::sink());
            kept
        })
    });
    let mut stdout = Vec::new();
    if let Some(out) = child.stdout.take() {
        let mut out = out;
        let _ = (&mut out).take(MAX_OUTPUT + 1).read_to_end(&mut stdout);
        if stdout.len() as u64 > MAX_OUTPUT {
            // Not read further: the program is stopped rather than waited on forever.
            let _ = child.kill();
        }
    }
    let stderr = errors.and_then(|thread| thread.join().ok()).unwrap_or_default();
    let status = child.wait().map_err(|e| failed(format!("The program `{command}`: {e}.")))?;
    let _ = writer.join();
    if !status.success() {
        let message = String::from_utf8_lossy(&stderr).trim().to_string();
        return Err(failed(format!(
            "The data source received an unexpected error while attempting to execute the program.\n\nProgram: {command}\nError Message: {}\nState: {status}",
            if message.is_empty() { "(no standard error)" } else { &message }
        )));
    }
    if stdout.len() as u64 > MAX_OUTPUT {
        return Err(failed(format!("The program `{command}` wrote more than 64 MiB.")));
    }
    let answer: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&stdout).map_err(|e| {
        failed(format!("The program `{command}` must write a JSON object of strings to its standard output: {e}."))
    })?;
    let mut result = BTreeMap::new();
    for (key, value) in answer {
        let serde_json::Value::String(text) = value else {
            return Err(failed(format!(
                "The program `{command}` answered a non-string value for `{key}`: every value must be a string."
            )));
        };
        result.insert(key, Value::String(text));
    }
    object.insert("result".into(), Value::Map(result));
    object.insert("id".into(), Value::from("-"));
    Ok(Value::Map(object))
}
