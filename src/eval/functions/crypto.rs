//! Hash functions and `uuid`.

use super::filesystem::hex;
use super::{CallContext, FunctionError, string_arg};
use base64::Engine;
use infra_provider::Value;
use sha2::Digest;

type R = Result<Value, FunctionError>;

pub fn md5(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(hex(&md5::Md5::digest(string_arg(&args, 0)?))))
}

pub fn sha1(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(hex(&sha1::Sha1::digest(string_arg(&args, 0)?))))
}

pub fn sha256(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(hex(&sha2::Sha256::digest(string_arg(&args, 0)?))))
}

pub fn sha512(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(hex(&sha2::Sha512::digest(string_arg(&args, 0)?))))
}

pub fn base64sha256(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(string_arg(&args, 0)?))))
}

pub fn base64sha512(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(string_arg(&args, 0)?))))
}

/// A random UUID; Unknown at plan time, since it changes on every call.
pub fn uuid(_: Vec<Value>, context: &CallContext) -> R {
    if context.plan_time {
        return Ok(Value::Unknown);
    }
    Ok(Value::String(uuid::Uuid::new_v4().to_string()))
}
