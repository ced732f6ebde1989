//! Collection functions: lists, maps and sets.

use super::super::convert::{describe, to_bool, to_number, to_string, unify};
use super::super::ops::equals;
use super::{CallContext, FunctionError, bad_arg, fail, int_arg, list_arg, map_arg, number_arg};
use infra_provider::{Number, Value};
use std::collections::BTreeMap;

type R = Result<Value, FunctionError>;

/// Terraform limits `range` results to 1024 elements.
const RANGE_LIMIT: usize = 1024;

fn bools(args: &[Value]) -> Result<Vec<Option<bool>>, FunctionError> {
    list_arg(args, 0)?
        .iter()
        .map(|item| if item.is_null() { Ok(None) } else { to_bool(item).map(Some).map_err(|m| bad_arg(0, m)) })
        .collect()
}

pub fn alltrue(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::Bool(bools(&args)?.iter().all(|b| *b == Some(true))))
}

pub fn anytrue(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::Bool(bools(&args)?.contains(&Some(true))))
}

pub fn chunklist(args: Vec<Value>, _: &CallContext) -> R {
    let items = list_arg(&args, 0)?;
    let size = int_arg(&args, 1)?;
    if size < 0 {
        return Err(bad_arg(1, "the chunk size must not be negative"));
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items)]));
    }
    Ok(Value::List(items.chunks(size as usize).map(|chunk| Value::List(chunk.to_vec())).collect()))
}

pub fn coalesce(args: Vec<Value>, _: &CallContext) -> R {
    let unified = unify(args).map_err(|m| fail(format!("all arguments must have the same type: {m}")))?;
    for item in unified {
        if !item.is_known() {
            return Ok(Value::Unknown);
        }
        if item.is_null() || item.as_str() == Some("") {
            continue;
        }
        return Ok(item);
    }
    Err(fail("no non-null, non-empty-string arguments"))
}

pub fn coalescelist(args: Vec<Value>, _: &CallContext) -> R {
    for (index, item) in args.iter().enumerate() {
        match item.bare() {
            Value::List(items) | Value::Set(items) if !items.is_empty() => return Ok(item.clone()),
            Value::List(_) | Value::Set(_) | Value::Null => {}
            other => return Err(bad_arg(index, format!("a list is required, got {}", describe(other)))),
        }
    }
    Err(fail("no non-null arguments"))
}

pub fn compact(args: Vec<Value>, _: &CallContext) -> R {
    let mut out = Vec::new();
    for item in list_arg(&args, 0)? {
        if item.is_null() {
            continue;
        }
        let text = to_string(&item).map_err(|m| bad_arg(0, m))?;
        if !text.is_empty() {
            out.push(Value::String(text));
        }
    }
    Ok(Value::List(out))
}

pub fn concat(args: Vec<Value>, _: &CallContext) -> R {
    let mut out = Vec::new();
    for index in 0..args.len() {
        out.extend(list_arg(&args, index)?);
    }
    Ok(Value::List(out))
}

pub fn contains(args: Vec<Value>, _: &CallContext) -> R {
    let items = list_arg(&args, 0)?;
    Ok(Value::Bool(items.iter().any(|item| equals(item, &args[1]))))
}

pub fn distinct(args: Vec<Value>, _: &CallContext) -> R {
    let mut out: Vec<Value> = Vec::new();
    for item in list_arg(&args, 0)? {
        if !out.iter().any(|seen| equals(seen, &item)) {
            out.push(item);
        }
    }
    Ok(Value::List(out))
}

pub fn element(args: Vec<Value>, _: &CallContext) -> R {
    let items = list_arg(&args, 0)?;
    let index = int_arg(&args, 1)?;
    if items.is_empty() {
        return Err(fail("cannot use element function with an empty list"));
    }
    if index < 0 {
        return Err(bad_arg(1, "cannot use element function with a negative index"));
    }
    Ok(items[index as usize % items.len()].clone())
}

fn flatten_into(items: Vec<Value>, out: &mut Vec<Value>) -> bool {
    for item in items {
        let (bare, marked) = item.clone().unmark();
        match bare {
            Value::List(inner) | Value::Set(inner) if !marked => {
                if !flatten_into(inner, out) {
                    return false;
                }
            }
            Value::Unknown => return false,
            _ => out.push(item),
        }
    }
    true
}

pub fn flatten(args: Vec<Value>, _: &CallContext) -> R {
    let mut out = Vec::new();
    if !flatten_into(list_arg(&args, 0)?, &mut out) {
        return Ok(Value::Unknown);
    }
    Ok(Value::List(out))
}

pub fn index(args: Vec<Value>, _: &CallContext) -> R {
    let items = list_arg(&args, 0)?;
    items
        .iter()
        .position(|item| equals(item, &args[1]))
        .map(|position| Value::int(position as i64))
        .ok_or_else(|| fail("item not found"))
}

pub fn keys(args: Vec<Value>, _: &CallContext) -> R {
    let entries = map_arg(&args, 0)?;
    Ok(Value::List(entries.into_keys().map(Value::String).collect()))
}

pub fn length(args: Vec<Value>, _: &CallContext) -> R {
    use unicode_segmentation::UnicodeSegmentation;
    let count = match &args[0] {
        Value::String(text) => text.graphemes(true).count(),
        Value::List(items) | Value::Set(items) => items.len(),
        Value::Map(entries) => entries.len(),
        Value::Null => return Err(bad_arg(0, "argument must not be null")),
        other => return Err(bad_arg(0, format!("a collection or string is required, got {}", describe(other)))),
    };
    Ok(Value::int(count as i64))
}

pub fn lookup(args: Vec<Value>, _: &CallContext) -> R {
    let entries = map_arg(&args, 0)?;
    let key = super::string_arg(&args, 1)?;
    match entries.get(&key) {
        Some(found) => Ok(found.clone()),
        None => match args.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(fail(format!("lookup failed to find key {key:?}"))),
        },
    }
}

pub fn matchkeys(args: Vec<Value>, _: &CallContext) -> R {
    let values = list_arg(&args, 0)?;
    let keys = list_arg(&args, 1)?;
    let search = list_arg(&args, 2)?;
    if values.len() != keys.len() {
        return Err(fail("length of keys and values should be equal"));
    }
    Ok(Value::List(
        values
            .into_iter()
            .zip(keys)
            .filter(|(_, key)| search.iter().any(|wanted| equals(wanted, key)))
            .map(|(value, _)| value)
            .collect(),
    ))
}

pub fn merge(args: Vec<Value>, _: &CallContext) -> R {
    let mut out = BTreeMap::new();
    for (index, arg) in args.iter().enumerate() {
        match arg.bare() {
            Value::Map(entries) => out.extend(entries.clone()),
            Value::Null => {}
            Value::Unknown => return Ok(Value::Unknown),
            other => return Err(bad_arg(index, format!("arguments must be maps or objects, got {}", describe(other)))),
        }
    }
    Ok(Value::Map(out))
}

pub fn one(args: Vec<Value>, _: &CallContext) -> R {
    let items = list_arg(&args, 0)?;
    match items.len() {
        0 => Ok(Value::Null),
        1 => Ok(items.into_iter().next().unwrap_or_default()),
        _ => Err(bad_arg(0, "must be a list, set, or tuple value with either zero or one elements")),
    }
}

pub fn range(args: Vec<Value>, _: &CallContext) -> R {
    let (start, end, step) = match args.len() {
        1 => (Number::from(0i64), number_arg(&args, 0)?, None),
        2 => (number_arg(&args, 0)?, number_arg(&args, 1)?, None),
        _ => (number_arg(&args, 0)?, number_arg(&args, 1)?, Some(number_arg(&args, 2)?)),
    };
    let step = step.unwrap_or_else(|| Number::from(if end < start { -1i64 } else { 1 }));
    if step.is_zero() {
        return Err(bad_arg(args.len() - 1, "step must not be zero"));
    }
    if (end < start && !step.is_negative()) || (end > start && step.is_negative()) {
        return Err(fail("the step must move the start toward the end"));
    }
    let mut out = Vec::new();
    let mut current = start;
    while (!step.is_negative() && current < end) || (step.is_negative() && current > end) {
        if out.len() >= RANGE_LIMIT {
            return Err(fail(format!(
                "more than {RANGE_LIMIT} values were generated; either decrease the difference between start and end or use a smaller step"
            )));
        }
        out.push(Value::Number(current.clone()));
        current = current.add(&step);
    }
    Ok(Value::List(out))
}

pub fn reverse(args: Vec<Value>, _: &CallContext) -> R {
    let mut items = list_arg(&args, 0)?;
    items.reverse();
    Ok(Value::List(items))
}

fn sets(args: &[Value]) -> Result<Vec<Vec<Value>>, FunctionError> {
    (0..args.len()).map(|index| list_arg(args, index)).collect()
}

fn unified_set(items: Vec<Value>) -> Result<Value, FunctionError> {
    let items = unify(items).map_err(|m| fail(format!("all elements must have the same type: {m}")))?;
    Ok(Value::set(items))
}

pub fn setintersection(args: Vec<Value>, _: &CallContext) -> R {
    let all = sets(&args)?;
    let mut result = all[0].clone();
    for other in &all[1..] {
        result.retain(|item| other.iter().any(|o| equals(o, item)));
    }
    unified_set(result)
}

pub fn setunion(args: Vec<Value>, _: &CallContext) -> R {
    unified_set(sets(&args)?.into_iter().flatten().collect())
}

pub fn setsubtract(args: Vec<Value>, _: &CallContext) -> R {
    let all = sets(&args)?;
    let mut result = all[0].clone();
    result.retain(|item| !all[1].iter().any(|o| equals(o, item)));
    unified_set(result)
}

pub fn setproduct(args: Vec<Value>, _: &CallContext) -> R {
    let all = sets(&args)?;
    let any_set = args.iter().any(|arg| matches!(arg.bare(), Value::Set(_)));
    let mut product: Vec<Vec<Value>> = vec![Vec::new()];
    for set in &all {
        let mut next = Vec::new();
        for prefix in &product {
            for item in set {
                let mut combination = prefix.clone();
                combination.push(item.clone());
                next.push(combination);
            }
        }
        product = next;
    }
    let rows: Vec<Value> = product.into_iter().map(Value::List).collect();
    Ok(if any_set { Value::set(rows) } else { Value::List(rows) })
}

pub fn slice(args: Vec<Value>, _: &CallContext) -> R {
    let items = list_arg(&args, 0)?;
    let start = int_arg(&args, 1)?;
    let end = int_arg(&args, 2)?;
    if start < 0 {
        return Err(bad_arg(1, "start index must not be less than zero"));
    }
    if end as usize > items.len() || end < 0 {
        return Err(bad_arg(2, "end index must not be greater than the length of the list"));
    }
    if start > end {
        return Err(bad_arg(1, "start index must not be greater than end index"));
    }
    Ok(Value::List(items[start as usize..end as usize].to_vec()))
}

pub fn sort(args: Vec<Value>, _: &CallContext) -> R {
    let mut texts = Vec::new();
    for item in list_arg(&args, 0)? {
        if item.is_null() {
            return Err(bad_arg(0, "given list element is null; a null value cannot be used in sort"));
        }
        texts.push(to_string(&item).map_err(|m| bad_arg(0, m))?);
    }
    texts.sort();
    Ok(Value::List(texts.into_iter().map(Value::String).collect()))
}

pub fn sum(args: Vec<Value>, _: &CallContext) -> R {
    let items = list_arg(&args, 0)?;
    if items.is_empty() {
        return Err(fail("cannot find the sum of an empty list"));
    }
    let mut total = Number::from(0i64);
    for item in &items {
        if item.is_null() {
            return Err(bad_arg(0, "argument must be list, set, or tuple of number values without nulls"));
        }
        total = total.add(&to_number(item).map_err(|m| bad_arg(0, m))?);
    }
    Ok(Value::Number(total))
}

pub fn transpose(args: Vec<Value>, _: &CallContext) -> R {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, values) in map_arg(&args, 0)? {
        let Some(items) = values.as_items() else {
            return Err(bad_arg(0, "the map values must be lists of strings"));
        };
        for item in items {
            let text = to_string(item).map_err(|m| bad_arg(0, m))?;
            out.entry(text).or_default().push(Value::String(key.clone()));
        }
    }
    Ok(Value::Map(out.into_iter().map(|(k, v)| (k, Value::List(v))).collect()))
}

pub fn values(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::List(map_arg(&args, 0)?.into_values().collect()))
}

pub fn zipmap(args: Vec<Value>, _: &CallContext) -> R {
    let keys = list_arg(&args, 0)?;
    let values = list_arg(&args, 1)?;
    if keys.len() != values.len() {
        return Err(fail(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            values.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (key, value) in keys.into_iter().zip(values) {
        if !key.is_known() {
            return Ok(Value::Unknown);
        }
        out.insert(to_string(&key).map_err(|m| bad_arg(0, m))?, value);
    }
    Ok(Value::Map(out))
}
