//! String functions: `chomp endswith indent join lower regex regexall replace split startswith
//! strcontains strrev substr title trim trimprefix trimsuffix trimspace upper`.
//!
//! Lengths and offsets count grapheme clusters, as Terraform's do.

use super::{CallContext, FunctionError, bad_arg, fail, int_arg, list_arg, string_arg};
use infra_provider::Value;
use unicode_segmentation::UnicodeSegmentation;

type R = Result<Value, FunctionError>;

/// The widest padding a function will produce (a guard against hostile input).
pub(crate) const MAX_PAD: usize = 10_000;

pub fn chomp(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(string_arg(&args, 0)?.trim_end_matches(['\r', '\n']).to_string()))
}

pub fn endswith(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::Bool(string_arg(&args, 0)?.ends_with(&string_arg(&args, 1)?)))
}

pub fn startswith(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::Bool(string_arg(&args, 0)?.starts_with(&string_arg(&args, 1)?)))
}

pub fn strcontains(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::Bool(string_arg(&args, 0)?.contains(&string_arg(&args, 1)?)))
}

pub fn indent(args: Vec<Value>, _: &CallContext) -> R {
    let spaces = int_arg(&args, 0)?;
    if !(0..=MAX_PAD as i64).contains(&spaces) {
        return Err(bad_arg(0, format!("the number of spaces must be between 0 and {MAX_PAD}")));
    }
    let prefix = " ".repeat(spaces as usize);
    Ok(Value::String(string_arg(&args, 1)?.replace('\n', &format!("\n{prefix}"))))
}

pub fn join(args: Vec<Value>, _: &CallContext) -> R {
    let separator = string_arg(&args, 0)?;
    let mut parts = Vec::new();
    for index in 1..args.len() {
        for item in list_arg(&args, index)? {
            if item.is_null() {
                return Err(bad_arg(index, "the list must not contain null values"));
            }
            parts.push(super::super::convert::to_string(&item).map_err(|m| bad_arg(index, m))?);
        }
    }
    Ok(Value::String(parts.join(&separator)))
}

/// Go's `strings.ToLower` / `ToUpper` map one character to one character (`ß` stays `ß`),
/// where Rust's full case mapping may produce several (`SS`).
fn map_case(text: &str, upper: bool) -> String {
    text.chars()
        .map(|c| {
            let mut mapped: Vec<char> = if upper { c.to_uppercase().collect() } else { c.to_lowercase().collect() };
            match (mapped.len(), c) {
                (1, _) => mapped.remove(0),
                (_, '\u{130}') if !upper => 'i',
                _ => c,
            }
        })
        .collect()
}

pub fn lower(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(map_case(&string_arg(&args, 0)?, false)))
}

pub fn upper(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(map_case(&string_arg(&args, 0)?, true)))
}

/// Go's `strings.Title`: upper-cases the first letter of every word.
pub fn title(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let is_separator = |c: char| {
        if c.is_ascii() { !(c.is_ascii_alphanumeric() || c == '_') } else { !c.is_alphanumeric() && c.is_whitespace() }
    };
    let mut out = String::with_capacity(text.len());
    let mut previous_separator = true;
    for c in text.chars() {
        if previous_separator {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        previous_separator = is_separator(c);
    }
    Ok(Value::String(out))
}

fn compile(pattern: &str, index: usize) -> Result<regex::Regex, FunctionError> {
    regex::Regex::new(pattern).map_err(|error| bad_arg(index, format!("invalid regular expression: {error}")))
}

fn captures_value(re: &regex::Regex, captures: &regex::Captures) -> Value {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let group =
        |index: usize| -> Value { captures.get(index).map_or(Value::Null, |m| Value::String(m.as_str().to_string())) };
    if names.is_empty() {
        Value::String(captures.get(0).map_or(String::new(), |m| m.as_str().to_string()))
    } else if names.iter().any(Option::is_some) {
        Value::Map(
            names
                .iter()
                .enumerate()
                .filter_map(|(index, name)| name.map(|name| (name.to_string(), group(index + 1))))
                .collect(),
        )
    } else {
        Value::List((1..=names.len()).map(group).collect())
    }
}

pub fn regex(args: Vec<Value>, _: &CallContext) -> R {
    let re = compile(&string_arg(&args, 0)?, 0)?;
    let text = string_arg(&args, 1)?;
    match re.captures(&text) {
        Some(captures) => Ok(captures_value(&re, &captures)),
        None => Err(fail("pattern did not match any part of the given string")),
    }
}

pub fn regexall(args: Vec<Value>, _: &CallContext) -> R {
    let re = compile(&string_arg(&args, 0)?, 0)?;
    let text = string_arg(&args, 1)?;
    Ok(Value::List(re.captures_iter(&text).map(|captures| captures_value(&re, &captures)).collect()))
}

pub fn replace(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let search = string_arg(&args, 1)?;
    let replacement = string_arg(&args, 2)?;
    if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        let re = compile(&search[1..search.len() - 1], 1)?;
        return Ok(Value::String(re.replace_all(&text, replacement.as_str()).into_owned()));
    }
    Ok(Value::String(text.replace(&search, &replacement)))
}

pub fn split(args: Vec<Value>, _: &CallContext) -> R {
    let separator = string_arg(&args, 0)?;
    let text = string_arg(&args, 1)?;
    let parts: Vec<Value> = if separator.is_empty() {
        text.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        text.split(separator.as_str()).map(Value::from).collect()
    };
    Ok(Value::List(parts))
}

pub fn strrev(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(string_arg(&args, 0)?.graphemes(true).rev().collect()))
}

pub fn substr(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let mut offset = int_arg(&args, 1)?;
    let mut length = int_arg(&args, 2)?;
    let graphemes: Vec<&str> = text.graphemes(true).collect();
    let count = graphemes.len() as i64;
    if offset < 0 {
        offset += count;
        if offset < 0 {
            return Err(bad_arg(1, "offset is out of range"));
        }
    }
    if offset > count {
        return Err(bad_arg(1, "offset is greater than the length of the string"));
    }
    if length < 0 {
        length = count - offset + length + 1;
        if length < 0 {
            length = 0;
        }
    }
    let end = (offset + length).min(count);
    Ok(Value::String(graphemes[offset as usize..end as usize].concat()))
}

pub fn trim(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let cutset: Vec<char> = string_arg(&args, 1)?.chars().collect();
    Ok(Value::String(text.trim_matches(|c| cutset.contains(&c)).to_string()))
}

pub fn trimprefix(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let prefix = string_arg(&args, 1)?;
    Ok(Value::String(text.strip_prefix(prefix.as_str()).unwrap_or(&text).to_string()))
}

pub fn trimsuffix(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let suffix = string_arg(&args, 1)?;
    Ok(Value::String(text.strip_suffix(suffix.as_str()).unwrap_or(&text).to_string()))
}

pub fn trimspace(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(string_arg(&args, 0)?.trim().to_string()))
}
