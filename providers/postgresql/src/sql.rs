//! SQL text made safely: identifiers and literals quoted (a hostile name is data, never SQL),
//! and passwords sent as SCRAM-SHA-256 verifiers, so the clear text never reaches the server
//! or its logs; stored verifiers checked against a password to detect out-of-band changes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// `"name"`, with `"` doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with `'` doubled (and `E'…'` with backslashes doubled when there are any).
pub fn literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if quoted.contains('\\') { format!("E'{}'", quoted.replace('\\', "\\\\")) } else { format!("'{quoted}'") }
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn keys(password: &str, salt: &[u8], iterations: u32) -> (Vec<u8>, Vec<u8>) {
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut salted);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(&client_key).to_vec();
    let server_key = hmac(&salted, b"Server Key");
    (stored_key, server_key)
}

/// The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (random salt, 4096 rounds).
pub fn scram_verifier(password: &str) -> String {
    let salt: [u8; 16] = rand::random();
    let (stored, server) = keys(password, &salt, 4096);
    format!("SCRAM-SHA-256$4096:{}${}:{}", BASE64.encode(salt), BASE64.encode(stored), BASE64.encode(server))
}

/// Whether a stored `rolpassword` (SCRAM or md5) is that of `password` for role `role`.
pub fn verifies(stored: &str, password: &str, role: &str) -> bool {
    if let Some(rest) = stored.strip_prefix("SCRAM-SHA-256$") {
        let parse = || -> Option<bool> {
            let (params, keys_part) = rest.split_once('$')?;
            let (iterations, salt) = params.split_once(':')?;
            let (stored_key, _) = keys_part.split_once(':')?;
            let salt = BASE64.decode(salt).ok()?;
            let (computed, _) = keys(password, &salt, iterations.parse().ok()?);
            Some(BASE64.decode(stored_key).ok()? == computed)
        };
        return parse().unwrap_or(false);
    }
    if let Some(hash) = stored.strip_prefix("md5") {
        let digest = md5::Md5::digest(format!("{password}{role}").as_bytes());
        return hash == digest.iter().map(|b| format!("{b:02x}")).collect::<String>();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_names_and_text_data() {
        assert_eq!(ident("a\"; DROP TABLE x; --"), "\"a\"\"; DROP TABLE x; --\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b"), "E'a\\\\b'");
    }

    #[test]
    fn verifiers_check_passwords() {
        let verifier = scram_verifier("correct horse");
        assert!(verifies(&verifier, "correct horse", "app"));
        assert!(!verifies(&verifier, "wrong horse", "app"));
        // md5("secret" + "app")
        let md5 =
            format!("md5{}", md5::Md5::digest(b"secretapp").iter().map(|b| format!("{b:02x}")).collect::<String>());
        assert!(verifies(&md5, "secret", "app"));
        assert!(!verifies("garbage", "secret", "app"));
    }
}
