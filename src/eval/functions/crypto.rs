//! Hash functions, `bcrypt`, `uuid` and `uuidv5`.

use super::filesystem::hex;
use super::{CallContext, FunctionError, bad_arg, number_arg, string_arg};
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

/// A name-based UUID (version 5, SHA-1) in namespace `dns`, `url`, `oid`, `x500` or a UUID.
pub fn uuidv5(args: Vec<Value>, _: &CallContext) -> R {
    let namespace = string_arg(&args, 0)?;
    let name = string_arg(&args, 1)?;
    let namespace = match namespace.as_str() {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            bad_arg(
                0,
                format!("uuidv5() doesn't support namespace prefix {other:?}: use dns, url, oid, x500 or a UUID"),
            )
        })?,
    };
    Ok(Value::String(uuid::Uuid::new_v5(&namespace, name.as_bytes()).to_string()))
}

/// A bcrypt hash of a string (cost 10 unless given; below 4 means 10, above 31 is an error);
/// Unknown at plan time, since its
/// salt is random on every call.
pub fn bcrypt(args: Vec<Value>, context: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let cost = match args.get(1) {
        Some(_) => {
            let number = number_arg(&args, 1)?;
            // Go's bcrypt: below the minimum, the default; above the maximum, an error.
            match number.to_i64() {
                Some(cost) if cost < 4 => 10,
                Some(cost) if cost <= 31 => u32::try_from(cost).unwrap_or(10),
                _ => return Err(bad_arg(1, format!("crypto/bcrypt: cost {number} is outside allowed range (4,31)"))),
            }
        }
        None => 10,
    };
    if text.len() > 72 {
        return Err(bad_arg(0, "bcrypt: password length exceeds 72 bytes"));
    }
    if context.plan_time {
        return Ok(Value::Unknown);
    }
    let hash = bcrypt::hash_with_result(text.as_bytes(), cost).map_err(|e| bad_arg(0, e.to_string()))?;
    // Go's bcrypt writes the `$2a$` prefix.
    Ok(Value::String(hash.format_for_version(bcrypt::Version::TwoA)))
}
