//! How snapshots, journal entries and saved plans become bytes: JSON, sealed with AES-256-GCM
//! when encryption is on.
//!
//! An encrypted record is a JSON envelope (so it fits a text column, a file line or an S3
//! object alike):
//!
//! ```json
//! {"infra_encrypted":1,"alg":"AES-256-GCM","kdf":"PBKDF2-HMAC-SHA256","iterations":600000,
//!  "salt":"…","nonce":"…","data":"…"}
//! ```
//!
//! The key is either 32 random bytes in base64 (`openssl rand -base64 32`), used as is
//! (`"kdf":"none"`), or a passphrase of at least 16 characters stretched with PBKDF2 and a
//! random salt kept in the envelope. Each record has its own random nonce. A wrong key fails
//! the GCM tag check: a clear error, never garbage. Records written before encryption was
//! turned on are still read (and written encrypted from then on).

use crate::backend::StateError;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// PBKDF2 rounds for passphrases (OWASP's figure for HMAC-SHA256).
const ITERATIONS: u32 = 600_000;
/// Shortest passphrase accepted.
const MIN_PASSPHRASE: usize = 16;
/// The first bytes of every sealed record.
const MARKER: &[u8] = b"{\"infra_encrypted\"";

#[derive(Serialize, Deserialize)]
struct Envelope {
    infra_encrypted: u32,
    alg: String,
    kdf: String,
    #[serde(default)]
    iterations: u32,
    #[serde(default)]
    salt: String,
    nonce: String,
    data: String,
}

/// The secret a codec seals with.
enum Secret {
    /// 32 raw bytes.
    Raw([u8; 32]),
    /// A passphrase, stretched per salt (derived keys cached).
    Passphrase { text: String, salt: [u8; 16], derived: Mutex<HashMap<[u8; 16], [u8; 32]>> },
}

impl Secret {
    fn key_for(&self, salt: &[u8; 16]) -> [u8; 32] {
        match self {
            Secret::Raw(key) => *key,
            Secret::Passphrase { text, derived, .. } => {
                let mut cache = derived.lock().unwrap_or_else(|p| p.into_inner());
                *cache.entry(*salt).or_insert_with(|| {
                    let mut key = [0u8; 32];
                    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(text.as_bytes(), salt, ITERATIONS, &mut key);
                    key
                })
            }
        }
    }
}

/// JSON in and out, sealed when a key is set. Cheap to clone.
#[derive(Clone, Default)]
pub struct Codec {
    secret: Option<Arc<Secret>>,
    /// With a key: whether records that are not sealed are still read (only while migrating
    /// a plain state to encryption, explicitly; otherwise a plain record is refused, so nobody
    /// without the key can slip a state in).
    allow_plain: bool,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.secret.is_some() { "Codec(encrypted)" } else { "Codec(plain)" })
    }
}

/// Whether `bytes` are a sealed record.
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MARKER)
}

fn encryption_error(place: &str, reason: impl Into<String>) -> StateError {
    StateError::Encryption { path: place.to_string(), reason: reason.into() }
}

impl Codec {
    /// No encryption.
    pub fn plain() -> Codec {
        Codec::default()
    }

    /// Seals with `key`: base64 of 32 bytes, or a passphrase of at least 16 characters.
    ///
    /// # Errors
    ///
    /// A key that is neither (the message never contains the key).
    pub fn encrypted(key: &str) -> Result<Codec, StateError> {
        let key = key.trim();
        let secret = match BASE64.decode(key) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut raw = [0u8; 32];
                raw.copy_from_slice(&bytes);
                Secret::Raw(raw)
            }
            _ if key.chars().count() >= MIN_PASSPHRASE => {
                let salt: [u8; 16] = rand::random();
                let secret = Secret::Passphrase { text: key.to_string(), salt, derived: Mutex::new(HashMap::new()) };
                // Derive now, once: every record this run seals uses this salt.
                secret.key_for(&salt);
                secret
            }
            _ => {
                return Err(encryption_error(
                    "encryption key",
                    format!(
                        "the key must be 32 bytes in base64 (`openssl rand -base64 32`) or a passphrase of at least {MIN_PASSPHRASE} characters"
                    ),
                ));
            }
        };
        Ok(Codec { secret: Some(Arc::new(secret)), allow_plain: false })
    }

    /// Also reads records that are not sealed (`encryption { allow_unencrypted = true }`, while
    /// a plain state is being migrated to encryption). Without a key every record is plain
    /// anyway.
    #[must_use]
    pub fn allowing_plain(mut self) -> Codec {
        self.allow_plain = true;
        self
    }

    /// Whether records are sealed.
    pub fn is_encrypted(&self) -> bool {
        self.secret.is_some()
    }

    /// Seals `plain` (or returns it as is without a key).
    ///
    /// # Errors
    ///
    /// Never in practice (AES-GCM sealing of in-memory data).
    pub fn seal(&self, plain: Vec<u8>) -> Result<Vec<u8>, StateError> {
        let Some(secret) = &self.secret else { return Ok(plain) };
        let (kdf, iterations, salt) = match secret.as_ref() {
            Secret::Raw(_) => ("none", 0, [0u8; 16]),
            Secret::Passphrase { salt, .. } => ("PBKDF2-HMAC-SHA256", ITERATIONS, *salt),
        };
        let key = secret.key_for(&salt);
        let cipher = Aes256Gcm::new(&key.into());
        let nonce: [u8; 12] = rand::random();
        let data = cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .map_err(|_| encryption_error("encryption", "sealing failed"))?;
        let envelope = Envelope {
            infra_encrypted: 1,
            alg: "AES-256-GCM".into(),
            kdf: kdf.into(),
            iterations,
            salt: if kdf == "none" { String::new() } else { BASE64.encode(salt) },
            nonce: BASE64.encode(nonce),
            data: BASE64.encode(data),
        };
        serde_json::to_vec(&envelope).map_err(|e| encryption_error("encryption", e.to_string()))
    }

    /// Opens a record read from `place` (named in errors): sealed records need the key; plain
    /// ones pass through.
    ///
    /// # Errors
    ///
    /// A sealed record without a key, with the wrong key, or altered.
    pub fn open(&self, bytes: Vec<u8>, place: &str) -> Result<Vec<u8>, StateError> {
        if !is_sealed(&bytes) {
            if self.secret.is_some() && !self.allow_plain {
                return Err(encryption_error(
                    place,
                    "it is not encrypted, but encryption is configured, so it is refused (it may have been written by someone without the key); while migrating a plain state to encryption, set `allow_unencrypted = true` in the `encryption` block for one apply",
                ));
            }
            return Ok(bytes);
        }
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
            path: place.to_string(),
            reason: format!("a broken encrypted record: {e}"),
        })?;
        let Some(secret) = &self.secret else {
            return Err(encryption_error(
                place,
                "it is encrypted and no key is configured: set `encryption { key = ... }` in the `infra` block",
            ));
        };
        let broken = |what: &str| StateError::Corrupt {
            path: place.to_string(),
            reason: format!("a broken encrypted record ({what})"),
        };
        let salt = if envelope.kdf == "none" {
            [0u8; 16]
        } else {
            let bytes = BASE64.decode(&envelope.salt).map_err(|_| broken("salt"))?;
            <[u8; 16]>::try_from(bytes.as_slice()).map_err(|_| broken("salt"))?
        };
        let key = match (secret.as_ref(), envelope.kdf.as_str()) {
            (Secret::Raw(key), "none") => *key,
            (Secret::Passphrase { .. }, "PBKDF2-HMAC-SHA256") if envelope.iterations == ITERATIONS => {
                secret.key_for(&salt)
            }
            _ => {
                return Err(encryption_error(
                    place,
                    format!("it was sealed with a {} key, not the kind configured: wrong key", envelope.kdf),
                ));
            }
        };
        let nonce = BASE64.decode(&envelope.nonce).map_err(|_| broken("nonce"))?;
        if nonce.len() != 12 {
            return Err(broken("nonce"));
        }
        let data = BASE64.decode(&envelope.data).map_err(|_| broken("data"))?;
        Aes256Gcm::new(&key.into()).decrypt(Nonce::from_slice(&nonce), data.as_slice()).map_err(|_| {
            encryption_error(
                place,
                "it cannot be decrypted with the configured key: wrong key, or the record was altered",
            )
        })
    }

    /// Serialises and seals.
    ///
    /// # Errors
    ///
    /// As [`Codec::seal`].
    pub fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, StateError> {
        let plain = serde_json::to_vec(value)
            .map_err(|e| StateError::Corrupt { path: "state".into(), reason: e.to_string() })?;
        self.seal(plain)
    }

    /// Serialises and seals each item as a checksummed record ([`Codec::encode_record`]), one
    /// per line (journal appends).
    ///
    /// # Errors
    ///
    /// As [`Codec::seal`].
    pub fn encode_lines<T: Serialize>(&self, items: &[T]) -> Result<Vec<u8>, StateError> {
        let mut lines = Vec::with_capacity(items.len() * 256);
        for item in items {
            lines.extend(self.encode_record(item)?);
            lines.push(b'\n');
        }
        Ok(lines)
    }

    /// A journal record: `CHECKSUM PAYLOAD`, the payload as [`Codec::encode`] makes it and the
    /// checksum the first 8 bytes of its SHA-256 in hex, so a record that was altered or torn
    /// is told from a good one even when it still parses. One line, no newline.
    ///
    /// # Errors
    ///
    /// As [`Codec::seal`].
    pub fn encode_record<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, StateError> {
        let payload = self.encode(value)?;
        let mut record = Vec::with_capacity(payload.len() + 17);
        record.extend_from_slice(checksum(&payload).as_bytes());
        record.push(b' ');
        record.extend(payload);
        Ok(record)
    }

    /// Reads a record [`Codec::encode_record`] wrote (or, from journals written before records
    /// had checksums, a bare JSON record), verifying its checksum.
    ///
    /// # Errors
    ///
    /// [`StateError::Corrupt`] naming `place` when the checksum does not match or the record
    /// does not parse; as [`Codec::open`] for sealed records.
    pub fn decode_record<T: serde::de::DeserializeOwned>(&self, bytes: &[u8], place: &str) -> Result<T, StateError> {
        let corrupt = |reason: String| StateError::Corrupt { path: place.to_string(), reason };
        if bytes.first() == Some(&b'{') {
            return self.decode(bytes.to_vec(), place, "");
        }
        let (sum, payload) = match bytes.iter().position(|b| *b == b' ') {
            Some(16) => (&bytes[..16], &bytes[17..]),
            _ => return Err(corrupt("it is not a journal record (no checksum)".into())),
        };
        if sum != checksum(payload).as_bytes() {
            return Err(corrupt("its checksum does not match its content (the record was altered or torn)".into()));
        }
        self.decode(payload.to_vec(), place, "")
    }

    /// Opens and parses a record read from `place`.
    ///
    /// # Errors
    ///
    /// As [`Codec::open`], and [`StateError::Corrupt`] naming `place` (plus `advice`) when the
    /// JSON does not parse.
    pub fn decode<T: serde::de::DeserializeOwned>(
        &self,
        bytes: Vec<u8>,
        place: &str,
        advice: &str,
    ) -> Result<T, StateError> {
        let plain = self.open(bytes, place)?;
        serde_json::from_slice(&plain)
            .map_err(|e| StateError::Corrupt { path: place.to_string(), reason: format!("{e}{advice}") })
    }
}

/// The first 8 bytes of the SHA-256 of `bytes`, in hex.
pub fn checksum(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_records_round_trip_and_hide_the_text() {
        for key in ["correct horse battery staple", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="] {
            let codec = Codec::encrypted(key).expect("key");
            let sealed = codec.encode(&serde_json::json!({"password": "hunter2"})).expect("seal");
            assert!(!String::from_utf8_lossy(&sealed).contains("hunter2"));
            let back: serde_json::Value = codec.decode(sealed, "test", "").expect("open");
            assert_eq!(back["password"], "hunter2");
        }
    }

    #[test]
    fn a_wrong_key_or_no_key_is_an_error_never_garbage() {
        let sealed = Codec::encrypted("correct horse battery staple").expect("key").encode(&1).expect("seal");
        let wrong = Codec::encrypted("incorrect horse battery staple").expect("key");
        let error = wrong.decode::<u32>(sealed.clone(), "state `x`", "").expect_err("wrong key");
        assert!(error.to_string().contains("wrong key"), "{error}");
        let error = Codec::plain().decode::<u32>(sealed, "state `x`", "").expect_err("no key");
        assert!(error.to_string().contains("no key is configured"), "{error}");
    }

    #[test]
    fn short_keys_are_refused_without_echoing_them() {
        let error = Codec::encrypted("hunter2").expect_err("short");
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn plain_records_are_refused_with_a_key_unless_migrating() {
        // Issue 15: with encryption on, a plain record is refused (whoever wrote it had no key).
        let codec = Codec::encrypted("correct horse battery staple").expect("key");
        let error = codec.decode::<u32>(b"7".to_vec(), "x", "").expect_err("plain refused");
        assert!(error.to_string().contains("not encrypted"), "{error}");
        assert_eq!(codec.allowing_plain().decode::<u32>(b"7".to_vec(), "x", "").expect("plain"), 7);
    }

    #[test]
    fn records_carry_a_checksum_that_catches_a_changed_byte() {
        for codec in [Codec::plain(), Codec::encrypted("correct horse battery staple").expect("key")] {
            let record = codec.encode_record(&serde_json::json!({"serial": 12345})).expect("record");
            let back: serde_json::Value = codec.decode_record(&record, "x").expect("good record");
            assert_eq!(back["serial"], 12345);
            let mut altered = record.clone();
            let last = altered.len() - 3;
            altered[last] ^= 0x01;
            let error = codec.decode_record::<serde_json::Value>(&altered, "record 3").expect_err("altered");
            assert!(error.to_string().contains("record 3"), "{error}");
            let torn = &record[..record.len() - 4];
            assert!(codec.decode_record::<serde_json::Value>(torn, "x").is_err(), "torn");
        }
    }
}
