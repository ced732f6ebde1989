//! Hash functions, `bcrypt`, `rsadecrypt`, `uuid` and `uuidv5`.

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

/// Decrypts an RSA (PKCS #1 v1.5) ciphertext given in base64 with a PEM private key — an
/// `RSA PRIVATE KEY` (PKCS #1, what EC2 Windows password data uses) or a PKCS #8
/// `PRIVATE KEY`. The result is a string (Terraform's function); errors never show the key.
pub fn rsadecrypt(args: Vec<Value>, _: &CallContext) -> R {
    use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(string_arg(&args, 0)?)
        .map_err(|_| bad_arg(0, "failed to decode input: cipher text must be base64-encoded"))?;
    let pem = string_arg(&args, 1)?;
    let invalid_key = || bad_arg(1, "failed to parse key: not a PEM RSA private key (RSA PRIVATE KEY or PRIVATE KEY)");
    let (label, der) = pem_block(&pem).ok_or_else(invalid_key)?;
    let pkcs8 = match label.as_str() {
        "RSA PRIVATE KEY" => pkcs8_of_pkcs1(&der),
        "PRIVATE KEY" => der,
        _ => return Err(invalid_key()),
    };
    let key = PrivateDecryptingKey::from_pkcs8(&pkcs8)
        .ok()
        .and_then(|key| Pkcs1PrivateDecryptingKey::new(key).ok())
        .ok_or_else(invalid_key)?;
    let mut plaintext = vec![0u8; key.min_output_size()];
    let plaintext = key
        .decrypt(&ciphertext, &mut plaintext)
        .map_err(|_| bad_arg(0, "failed to decrypt: crypto/rsa: decryption error"))?;
    String::from_utf8(plaintext.to_vec())
        .map(Value::String)
        .map_err(|_| bad_arg(0, "the decrypted data is not valid UTF-8"))
}

/// The label and bytes of the first PEM block of a text.
fn pem_block(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_string();
    let body_start = label_end + 5;
    let end = rest.find(&format!("-----END {label}-----"))?;
    let body: String = rest.get(body_start..end)?.lines().filter(|l| !l.contains(':')).collect::<Vec<_>>().concat();
    let bytes = base64::engine::general_purpose::STANDARD.decode(body.split_whitespace().collect::<String>()).ok()?;
    Some((label, bytes))
}

/// A PKCS #1 RSA private key wrapped as PKCS #8 (version 0, rsaEncryption, NULL parameters).
fn pkcs8_of_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            let bytes: Vec<u8> = content.len().to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let mut algorithm = tlv(0x06, RSA_ENCRYPTION);
    algorithm.extend([0x05, 0x00]);
    let mut body = tlv(0x02, &[0]);
    body.extend(tlv(0x30, &algorithm));
    body.extend(tlv(0x04, pkcs1));
    tlv(0x30, &body)
}
