//! Type conversion and sensitivity marks: `tobool tolist tomap tonumber toset tostring
//! sensitive nonsensitive issensitive`.

use super::super::convert::{convert, describe};
use super::{CallContext, FunctionError, bad_arg};
use crate::types::TypeConstraint;
use infra_provider::Value;

type R = Result<Value, FunctionError>;

fn to(args: Vec<Value>, constraint: TypeConstraint) -> R {
    let value = args.into_iter().next().unwrap_or_default();
    convert(value, &constraint).map_err(|message| bad_arg(0, format!("cannot convert to {constraint}: {message}")))
}

pub fn tobool(args: Vec<Value>, _: &CallContext) -> R {
    to(args, TypeConstraint::Bool)
}

pub fn tonumber(args: Vec<Value>, _: &CallContext) -> R {
    to(args, TypeConstraint::Number)
}

pub fn tostring(args: Vec<Value>, _: &CallContext) -> R {
    to(args, TypeConstraint::String)
}

pub fn tolist(args: Vec<Value>, _: &CallContext) -> R {
    to(args, TypeConstraint::List(Box::new(TypeConstraint::Any)))
}

pub fn toset(args: Vec<Value>, _: &CallContext) -> R {
    to(args, TypeConstraint::Set(Box::new(TypeConstraint::Any)))
}

pub fn tomap(args: Vec<Value>, _: &CallContext) -> R {
    match args.first().map(Value::bare) {
        Some(Value::Map(_)) | Some(Value::Null) => to(args, TypeConstraint::Map(Box::new(TypeConstraint::Any))),
        Some(other) => Err(bad_arg(0, format!("cannot convert {} to a map", describe(other)))),
        None => Ok(Value::Null),
    }
}

pub fn sensitive(args: Vec<Value>, _: &CallContext) -> R {
    Ok(args.into_iter().next().unwrap_or_default().mark_sensitive())
}

pub fn nonsensitive(args: Vec<Value>, _: &CallContext) -> R {
    Ok(args.into_iter().next().unwrap_or_default().unmark().0)
}

pub fn issensitive(args: Vec<Value>, _: &CallContext) -> R {
    let value = args.into_iter().next().unwrap_or_default();
    if !value.is_known() && !value.is_marked() {
        return Ok(Value::Unknown);
    }
    Ok(Value::Bool(value.is_marked()))
}

/// Ephemeral values become null; infra has no ephemeral values yet, so every value is itself.
pub fn ephemeralasnull(mut args: Vec<Value>, _: &CallContext) -> R {
    Ok(args.swap_remove(0))
}
