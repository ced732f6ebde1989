//! The `tls` resources, as the `hashicorp/tls` provider: `tls_private_key` (RSA, ECDSA,
//! ED25519, in the PEM, PKCS#8 and OpenSSH forms and with SSH fingerprints), and the
//! certificates made from keys: `tls_self_signed_cert`, `tls_cert_request`,
//! `tls_locally_signed_cert` (signed by a CA's key and certificate).
//!
//! Keys and certificates come from rcgen (aws-lc); the encodings rcgen does not write
//! (PKCS#1 and SEC1 PEM, OpenSSH) are built from its PKCS#8 with a little DER ([`der`]).
//! Private keys are sensitive. A certificate past `validity_end_time - early_renewal_hours` is
//! gone when read, so the next plan replaces it (Terraform's `ready_for_renewal`).

use base64::Engine;
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, NestedBlock, Nesting,
    ResourceSchema, Value,
};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PublicKeyData, SanType, SignatureAlgorithm,
};
use sha2::Digest;
use std::collections::BTreeMap;

fn failed(summary: &str, detail: impl Into<String>) -> Diagnostics {
    Diagnostic::error(summary, detail).into()
}

fn strings() -> AttrType {
    AttrType::List(Box::new(AttrType::String))
}

/// `tls_private_key`'s schema.
pub fn private_key_schema() -> ResourceSchema {
    let secret = || Attribute::computed(AttrType::String).sensitive();
    let public = || Attribute::computed(AttrType::String);
    ResourceSchema {
        version: 1,
        block: BlockSchema::new()
            .attribute(
                "algorithm",
                Attribute::required(AttrType::String).force_new().describe("RSA, ECDSA or ED25519."),
            )
            .attribute("rsa_bits", Attribute::optional(AttrType::Number).and_computed().force_new())
            .attribute("ecdsa_curve", Attribute::optional(AttrType::String).and_computed().force_new())
            .attribute("private_key_pem", secret())
            .attribute("private_key_pem_pkcs8", secret())
            .attribute("private_key_openssh", secret())
            .attribute("public_key_pem", public())
            .attribute("public_key_openssh", public())
            .attribute("public_key_fingerprint_md5", public())
            .attribute("public_key_fingerprint_sha256", public())
            .attribute("id", public()),
    }
}

fn subject_block() -> NestedBlock {
    let text = || Attribute::optional(AttrType::String);
    NestedBlock {
        nesting: Nesting::List,
        force_new: true,
        block: BlockSchema::new()
            .attribute("common_name", text())
            .attribute("organization", text())
            .attribute("organizational_unit", text())
            .attribute("street_address", Attribute::optional(strings()))
            .attribute("locality", text())
            .attribute("province", text())
            .attribute("country", text())
            .attribute("postal_code", text())
            .attribute("serial_number", text())
            .attribute("email_address", text()),
    }
}

fn certificate_attributes(block: BlockSchema) -> BlockSchema {
    block
        .attribute("validity_period_hours", Attribute::required(AttrType::Number).force_new())
        .attribute("early_renewal_hours", Attribute::optional(AttrType::Number).and_computed())
        .attribute("allowed_uses", Attribute::required(strings()).force_new())
        .attribute("is_ca_certificate", Attribute::optional(AttrType::Bool).and_computed().force_new())
        .attribute("set_subject_key_id", Attribute::optional(AttrType::Bool).and_computed().force_new())
        .attribute("cert_pem", Attribute::computed(AttrType::String))
        .attribute("validity_start_time", Attribute::computed(AttrType::String))
        .attribute("validity_end_time", Attribute::computed(AttrType::String))
        .attribute("ready_for_renewal", Attribute::computed(AttrType::Bool))
        .attribute("id", Attribute::computed(AttrType::String))
}

fn names(block: BlockSchema) -> BlockSchema {
    block
        .attribute("dns_names", Attribute::optional(strings()).force_new())
        .attribute("ip_addresses", Attribute::optional(strings()).force_new())
        .attribute("uris", Attribute::optional(strings()).force_new())
        .block("subject", subject_block())
}

/// `tls_self_signed_cert`'s schema.
pub fn self_signed_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: names(certificate_attributes(
            BlockSchema::new()
                .attribute("private_key_pem", Attribute::required(AttrType::String).sensitive().force_new())
                .attribute("set_authority_key_id", Attribute::optional(AttrType::Bool).and_computed().force_new())
                .attribute("key_algorithm", Attribute::computed(AttrType::String)),
        )),
    }
}

/// `tls_cert_request`'s schema.
pub fn cert_request_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: names(
            BlockSchema::new()
                .attribute("private_key_pem", Attribute::required(AttrType::String).sensitive().force_new())
                .attribute("cert_request_pem", Attribute::computed(AttrType::String))
                .attribute("key_algorithm", Attribute::computed(AttrType::String))
                .attribute("id", Attribute::computed(AttrType::String)),
        ),
    }
}

/// `tls_locally_signed_cert`'s schema.
pub fn locally_signed_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: certificate_attributes(
            BlockSchema::new()
                .attribute("cert_request_pem", Attribute::required(AttrType::String).force_new())
                .attribute("ca_private_key_pem", Attribute::required(AttrType::String).sensitive().force_new())
                .attribute("ca_cert_pem", Attribute::required(AttrType::String).force_new())
                .attribute("ca_key_algorithm", Attribute::computed(AttrType::String)),
        ),
    }
}

/// Creates the object (the types are immutable: every input change replaces; an update only
/// moves `early_renewal_hours`).
///
/// # Errors
///
/// An unsupported algorithm, size or curve, a key or certificate that does not parse, a use
/// Terraform does not know.
pub fn apply(request: &ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
    let Some(planned) = &request.planned else { return Ok(ApplyResponse { new: None }) };
    if request.prior.is_some() {
        return Ok(ApplyResponse { new: Some(planned.clone()) });
    }
    let mut object = planned.clone().deep_unmark().as_map().cloned().unwrap_or_default();
    match request.kind.as_str() {
        "tls_private_key" => private_key(&mut object)?,
        "tls_self_signed_cert" => self_signed(&mut object)?,
        "tls_cert_request" => cert_request(&mut object)?,
        _ => locally_signed(&mut object)?,
    }
    for name in ["private_key_pem", "private_key_pem_pkcs8", "private_key_openssh", "ca_private_key_pem"] {
        if let Some(value) = object.remove(name) {
            object.insert(name.into(), value.mark_sensitive());
        }
    }
    Ok(ApplyResponse { new: Some(Value::Map(object)) })
}

/// A certificate due for renewal is gone (the plan replaces it); anything else is as stored.
pub fn read(kind: &str, current: Value) -> Option<Value> {
    if !matches!(kind, "tls_self_signed_cert" | "tls_locally_signed_cert") {
        return Some(current);
    }
    let object = current.as_map()?;
    let end = object.get("validity_end_time").and_then(Value::as_str)?;
    let end = chrono::DateTime::parse_from_rfc3339(end).ok()?;
    let early = number(object, "early_renewal_hours").unwrap_or(0);
    let due = end - chrono::Duration::hours(early);
    (chrono::Utc::now() < due).then_some(current)
}

/// An optional-and-computed argument left unset takes its default.
fn settle(object: &mut BTreeMap<String, Value>, name: &str, default: Value) {
    if object.get(name).is_none_or(|v| v.is_null() || !v.is_known()) {
        object.insert(name.into(), default);
    }
}

fn text<'a>(object: &'a BTreeMap<String, Value>, name: &str) -> Option<&'a str> {
    object.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn number(object: &BTreeMap<String, Value>, name: &str) -> Option<i64> {
    object.get(name).and_then(Value::as_number).and_then(infra_provider::Number::to_i64)
}

fn list(object: &BTreeMap<String, Value>, name: &str) -> Vec<String> {
    object
        .get(name)
        .and_then(Value::as_items)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// PEM with 64-column lines, as Go's `encoding/pem` writes it.
fn pem(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn private_key(object: &mut BTreeMap<String, Value>) -> Result<(), Diagnostics> {
    let algorithm = text(object, "algorithm").unwrap_or_default().to_string();
    let key = match algorithm.as_str() {
        "RSA" => {
            let bits = number(object, "rsa_bits").unwrap_or(2048);
            object.insert("rsa_bits".into(), Value::int(bits));
            let size = match bits {
                2048 => rcgen::RsaKeySize::_2048,
                3072 => rcgen::RsaKeySize::_3072,
                4096 => rcgen::RsaKeySize::_4096,
                other => {
                    return Err(failed(
                        "Unsupported RSA key size",
                        format!("`rsa_bits = {other}`: infra generates RSA keys of 2048, 3072 or 4096 bits."),
                    ));
                }
            };
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size)
        }
        "ECDSA" => {
            let curve = text(object, "ecdsa_curve").unwrap_or("P224").to_string();
            object.insert("ecdsa_curve".into(), Value::String(curve.clone()));
            let algorithm: &'static SignatureAlgorithm = match curve.as_str() {
                "P256" => &rcgen::PKCS_ECDSA_P256_SHA256,
                "P384" => &rcgen::PKCS_ECDSA_P384_SHA384,
                "P521" => &rcgen::PKCS_ECDSA_P521_SHA512,
                other => {
                    return Err(failed(
                        "Unsupported ECDSA curve",
                        format!("`ecdsa_curve = \"{other}\"`: infra generates P256, P384 and P521 keys (P224, Terraform's default, is not offered by its cryptography library): set `ecdsa_curve`."),
                    ));
                }
            };
            KeyPair::generate_for(algorithm)
        }
        "ED25519" => KeyPair::generate_for(&rcgen::PKCS_ED25519),
        other => {
            return Err(failed(
                "Invalid algorithm",
                format!("`algorithm = \"{other}\"`: one of RSA, ECDSA or ED25519."),
            ));
        }
    }
    .map_err(|e| failed("Unable to generate the key", e.to_string()))?;
    settle(object, "rsa_bits", Value::int(2048));
    settle(object, "ecdsa_curve", Value::from("P224"));
    let encodings = der::encodings(&key).map_err(|e| failed("Unable to encode the key", e))?;
    let spki = key.subject_public_key_info();
    object.insert("private_key_pem".into(), Value::String(pem(encodings.pem_label, &encodings.traditional)));
    object.insert("private_key_pem_pkcs8".into(), Value::String(pem("PRIVATE KEY", &encodings.pkcs8)));
    object.insert("private_key_openssh".into(), Value::String(pem("OPENSSH PRIVATE KEY", &encodings.openssh_private)));
    object.insert("public_key_pem".into(), Value::String(pem("PUBLIC KEY", &spki)));
    let wire = base64::engine::general_purpose::STANDARD.encode(&encodings.ssh_public);
    object.insert("public_key_openssh".into(), Value::String(format!("{} {wire}\n", encodings.ssh_type)));
    let md5 = md5::Md5::digest(&encodings.ssh_public);
    let md5 = md5.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
    object.insert("public_key_fingerprint_md5".into(), Value::String(md5));
    let sha = base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha2::Sha256::digest(&encodings.ssh_public));
    object.insert("public_key_fingerprint_sha256".into(), Value::String(format!("SHA256:{sha}")));
    let id = sha1::Sha1::digest(&spki).iter().map(|b| format!("{b:02x}")).collect::<String>();
    object.insert("id".into(), Value::String(id));
    Ok(())
}

fn algorithm_name(key: &KeyPair) -> &'static str {
    let algorithm = key.algorithm();
    if algorithm == &rcgen::PKCS_ED25519 {
        "ED25519"
    } else if [&rcgen::PKCS_ECDSA_P256_SHA256, &rcgen::PKCS_ECDSA_P384_SHA384, &rcgen::PKCS_ECDSA_P521_SHA512]
        .contains(&algorithm)
    {
        "ECDSA"
    } else {
        "RSA"
    }
}

fn parse_key(pem: &str, what: &str) -> Result<KeyPair, Diagnostics> {
    KeyPair::from_pem(pem)
        .map_err(|e| failed("Invalid private key", format!("`{what}` is not a PEM private key: {e}.")))
}

/// The subject and alternative names of the configuration.
fn subject(object: &BTreeMap<String, Value>, params: &mut CertificateParams) -> Result<(), Diagnostics> {
    let mut name = DistinguishedName::new();
    if let Some(subject) =
        object.get("subject").and_then(Value::as_items).and_then(|s| s.first()).and_then(Value::as_map)
    {
        let fields: [(&str, DnType); 6] = [
            ("country", DnType::CountryName),
            ("province", DnType::StateOrProvinceName),
            ("locality", DnType::LocalityName),
            ("organization", DnType::OrganizationName),
            ("organizational_unit", DnType::OrganizationalUnitName),
            ("common_name", DnType::CommonName),
        ];
        for (field, kind) in fields {
            if let Some(value) = text(subject, field) {
                name.push(kind, value);
            }
        }
        for street in list(subject, "street_address") {
            name.push(DnType::CustomDnType(vec![2, 5, 4, 9]), street);
        }
        if let Some(code) = text(subject, "postal_code") {
            name.push(DnType::CustomDnType(vec![2, 5, 4, 17]), code);
        }
        if let Some(serial) = text(subject, "serial_number") {
            name.push(DnType::CustomDnType(vec![2, 5, 4, 5]), serial);
        }
    }
    params.distinguished_name = name;
    let invalid = |what: &str, value: &str| failed("Invalid name", format!("`{value}` is not a valid {what}."));
    for dns in list(object, "dns_names") {
        let name = dns.clone().try_into().map_err(|_| invalid("DNS name", &dns))?;
        params.subject_alt_names.push(SanType::DnsName(name));
    }
    for ip in list(object, "ip_addresses") {
        params.subject_alt_names.push(SanType::IpAddress(ip.parse().map_err(|_| invalid("IP address", &ip))?));
    }
    for uri in list(object, "uris") {
        let name = uri.clone().try_into().map_err(|_| invalid("URI", &uri))?;
        params.subject_alt_names.push(SanType::URI(name));
    }
    Ok(())
}

/// Validity, uses, CA flag and serial of a certificate to sign.
fn certificate_params(object: &mut BTreeMap<String, Value>, params: &mut CertificateParams) -> Result<(), Diagnostics> {
    let hours = number(object, "validity_period_hours").unwrap_or(0);
    if !(0..=1_000_000).contains(&hours) {
        return Err(failed("Invalid validity", "`validity_period_hours` must be between 0 and 1000000."));
    }
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let end = now + time::Duration::hours(hours);
    params.not_before = now;
    params.not_after = end;
    let mut serial = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut serial);
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    for usage in list(object, "allowed_uses") {
        match usage.as_str() {
            "digital_signature" => params.key_usages.push(KeyUsagePurpose::DigitalSignature),
            "content_commitment" => params.key_usages.push(KeyUsagePurpose::ContentCommitment),
            "key_encipherment" => params.key_usages.push(KeyUsagePurpose::KeyEncipherment),
            "data_encipherment" => params.key_usages.push(KeyUsagePurpose::DataEncipherment),
            "key_agreement" => params.key_usages.push(KeyUsagePurpose::KeyAgreement),
            "cert_signing" => params.key_usages.push(KeyUsagePurpose::KeyCertSign),
            "crl_signing" => params.key_usages.push(KeyUsagePurpose::CrlSign),
            "encipher_only" => params.key_usages.push(KeyUsagePurpose::EncipherOnly),
            "decipher_only" => params.key_usages.push(KeyUsagePurpose::DecipherOnly),
            "any_extended" => params.extended_key_usages.push(ExtendedKeyUsagePurpose::Any),
            "server_auth" => params.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth),
            "client_auth" => params.extended_key_usages.push(ExtendedKeyUsagePurpose::ClientAuth),
            "code_signing" => params.extended_key_usages.push(ExtendedKeyUsagePurpose::CodeSigning),
            "email_protection" => params.extended_key_usages.push(ExtendedKeyUsagePurpose::EmailProtection),
            "timestamping" => params.extended_key_usages.push(ExtendedKeyUsagePurpose::TimeStamping),
            "ocsp_signing" => params.extended_key_usages.push(ExtendedKeyUsagePurpose::OcspSigning),
            "ipsec_end_system" => {
                params.extended_key_usages.push(ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 5]))
            }
            "ipsec_tunnel" => {
                params.extended_key_usages.push(ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 6]))
            }
            "ipsec_user" => {
                params.extended_key_usages.push(ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 7]))
            }
            "microsoft_server_gated_crypto" => {
                params.extended_key_usages.push(ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 311, 10, 3, 3]))
            }
            "netscape_server_gated_crypto" => {
                params.extended_key_usages.push(ExtendedKeyUsagePurpose::Other(vec![2, 16, 840, 1, 113_730, 4, 1]))
            }
            other => {
                return Err(failed(
                    "Invalid allowed use",
                    format!("`{other}` is not a certificate use Terraform knows."),
                ));
            }
        }
    }
    let ca = object.get("is_ca_certificate").and_then(Value::as_bool).unwrap_or(false);
    params.is_ca = if ca { IsCa::Ca(BasicConstraints::Unconstrained) } else { IsCa::ExplicitNoCa };
    let rfc3339 =
        |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    object.insert("validity_start_time".into(), Value::String(rfc3339(now)));
    object.insert("validity_end_time".into(), Value::String(rfc3339(end)));
    object.insert("ready_for_renewal".into(), Value::Bool(false));
    object.insert("is_ca_certificate".into(), Value::Bool(ca));
    settle(object, "early_renewal_hours", Value::int(0));
    settle(object, "set_subject_key_id", Value::Bool(false));
    if object.contains_key("set_authority_key_id") {
        settle(object, "set_authority_key_id", Value::Bool(false));
    }
    object.insert("id".into(), Value::String(u128::from_be_bytes(serial).to_string()));
    Ok(())
}

fn self_signed(object: &mut BTreeMap<String, Value>) -> Result<(), Diagnostics> {
    let key = parse_key(text(object, "private_key_pem").unwrap_or_default(), "private_key_pem")?;
    let mut params = CertificateParams::default();
    subject(object, &mut params)?;
    certificate_params(object, &mut params)?;
    params.use_authority_key_identifier_extension =
        object.get("set_authority_key_id").and_then(Value::as_bool).unwrap_or(false);
    let certificate =
        params.self_signed(&key).map_err(|e| failed("Unable to create the certificate", e.to_string()))?;
    object.insert("cert_pem".into(), Value::String(certificate.pem()));
    object.insert("key_algorithm".into(), Value::from(algorithm_name(&key)));
    Ok(())
}

fn cert_request(object: &mut BTreeMap<String, Value>) -> Result<(), Diagnostics> {
    let key = parse_key(text(object, "private_key_pem").unwrap_or_default(), "private_key_pem")?;
    let mut params = CertificateParams::default();
    subject(object, &mut params)?;
    let request = params.serialize_request(&key).map_err(|e| failed("Unable to create the request", e.to_string()))?;
    let pem = request.pem().map_err(|e| failed("Unable to encode the request", e.to_string()))?;
    let id = sha1::Sha1::digest(pem.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>();
    object.insert("cert_request_pem".into(), Value::String(pem));
    object.insert("key_algorithm".into(), Value::from(algorithm_name(&key)));
    object.insert("id".into(), Value::String(id));
    Ok(())
}

fn locally_signed(object: &mut BTreeMap<String, Value>) -> Result<(), Diagnostics> {
    let ca_key = parse_key(text(object, "ca_private_key_pem").unwrap_or_default(), "ca_private_key_pem")?;
    let ca_algorithm = algorithm_name(&ca_key);
    let issuer = rcgen::Issuer::from_ca_cert_pem(text(object, "ca_cert_pem").unwrap_or_default(), ca_key)
        .map_err(|e| failed("Invalid CA certificate", format!("`ca_cert_pem` is not a PEM certificate: {e}.")))?;
    let mut request =
        rcgen::CertificateSigningRequestParams::from_pem(text(object, "cert_request_pem").unwrap_or_default())
            .map_err(|e| {
                failed("Invalid certificate request", format!("`cert_request_pem` is not a PEM request: {e}."))
            })?;
    let mut params = std::mem::take(&mut request.params);
    certificate_params(object, &mut params)?;
    request.params = params;
    let certificate =
        request.signed_by(&issuer).map_err(|e| failed("Unable to sign the certificate", e.to_string()))?;
    object.insert("cert_pem".into(), Value::String(certificate.pem()));
    object.insert("ca_key_algorithm".into(), Value::from(ca_algorithm));
    Ok(())
}

/// The DER that rcgen does not write: PKCS#1 / SEC1 private keys and OpenSSH's formats.
mod der {
    use rcgen::KeyPair;

    /// A key's other encodings.
    pub struct Encodings {
        /// `RSA PRIVATE KEY`, `EC PRIVATE KEY` or `PRIVATE KEY`.
        pub pem_label: &'static str,
        /// PKCS#1 (RSA), SEC1 (ECDSA, with its curve), PKCS#8 (ED25519).
        pub traditional: Vec<u8>,
        /// PKCS#8 v1 (what Go and OpenSSL write; ED25519's without the public key).
        pub pkcs8: Vec<u8>,
        /// `ssh-rsa`, `ecdsa-sha2-nistp256`…
        pub ssh_type: &'static str,
        /// The SSH wire form of the public key.
        pub ssh_public: Vec<u8>,
        /// The body of an `OPENSSH PRIVATE KEY`.
        pub openssh_private: Vec<u8>,
    }

    /// One DER element: its tag, its content and what follows it.
    fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
        let bad = || "malformed DER".to_string();
        let (&tag, rest) = input.split_first().ok_or_else(bad)?;
        let (&first, mut rest) = rest.split_first().ok_or_else(bad)?;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return Err(bad());
            }
            let length = rest[..count].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            rest = &rest[count..];
            length
        };
        if rest.len() < length {
            return Err(bad());
        }
        Ok((tag, &rest[..length], &rest[length..]))
    }

    /// The elements of a SEQUENCE's content.
    fn elements(mut content: &[u8]) -> Result<Vec<(u8, &[u8])>, String> {
        let mut out = Vec::new();
        while !content.is_empty() {
            let (tag, value, rest) = element(content)?;
            out.push((tag, value));
            content = rest;
        }
        Ok(out)
    }

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let length = content.len();
        if length < 0x80 {
            out.push(length as u8);
        } else {
            let bytes: Vec<u8> = length.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(content);
        out
    }

    fn string(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }

    /// An SSH mpint from a DER INTEGER's content (both two's complement, minimal).
    fn mpint(out: &mut Vec<u8>, integer: &[u8]) {
        let trimmed: &[u8] = {
            let mut bytes = integer;
            while bytes.len() > 1 && bytes[0] == 0 && bytes[1] & 0x80 == 0 {
                bytes = &bytes[1..];
            }
            bytes
        };
        if trimmed == [0] {
            string(out, &[]);
        } else {
            string(out, trimmed);
        }
    }

    fn openssh_private(public: &[u8], private: &[u8]) -> Vec<u8> {
        let check: u32 = rand::random();
        let mut section = Vec::new();
        section.extend_from_slice(&check.to_be_bytes());
        section.extend_from_slice(&check.to_be_bytes());
        section.extend_from_slice(private);
        string(&mut section, b"");
        let mut pad = 1u8;
        while section.len() % 8 != 0 {
            section.push(pad);
            pad += 1;
        }
        let mut out = b"openssh-key-v1\0".to_vec();
        string(&mut out, b"none");
        string(&mut out, b"none");
        string(&mut out, b"");
        out.extend_from_slice(&1u32.to_be_bytes());
        string(&mut out, public);
        string(&mut out, &section);
        out
    }

    /// The encodings of a generated key.
    pub fn encodings(key: &KeyPair) -> Result<Encodings, String> {
        let pkcs8 = key.serialize_der();
        let (_, info, _) = element(&pkcs8)?;
        let fields = elements(info)?;
        let private = fields.get(2).filter(|(tag, _)| *tag == 0x04).map(|(_, v)| *v).ok_or("not PKCS#8")?;
        let algorithm = key.algorithm();
        if algorithm == &rcgen::PKCS_ED25519 {
            // The private key is an OCTET STRING holding the 32-byte seed.
            let (_, seed, _) = element(private)?;
            let public = key.public_key_raw();
            let mut wire = Vec::new();
            string(&mut wire, b"ssh-ed25519");
            string(&mut wire, public);
            let mut body = Vec::new();
            string(&mut body, b"ssh-ed25519");
            string(&mut body, public);
            string(&mut body, &[seed, public].concat());
            let mut v1 = tlv(0x02, &[0]);
            v1.extend(tlv(0x30, &tlv(0x06, &[0x2b, 0x65, 0x70])));
            v1.extend(tlv(0x04, &tlv(0x04, seed)));
            let v1 = tlv(0x30, &v1);
            return Ok(Encodings {
                pem_label: "PRIVATE KEY",
                traditional: v1.clone(),
                pkcs8: v1,
                ssh_type: "ssh-ed25519",
                openssh_private: openssh_private(&wire, &body),
                ssh_public: wire,
            });
        }
        let (_, inner, _) = element(private)?;
        let parts = elements(inner)?;
        if algorithm == &rcgen::PKCS_RSA_SHA256 {
            let int = |i: usize| parts.get(i).map(|(_, v)| *v).ok_or("short RSA key");
            let (n, e, d, p, q, qinv) = (int(1)?, int(2)?, int(3)?, int(4)?, int(5)?, int(8)?);
            let mut wire = Vec::new();
            string(&mut wire, b"ssh-rsa");
            mpint(&mut wire, e);
            mpint(&mut wire, n);
            let mut body = Vec::new();
            string(&mut body, b"ssh-rsa");
            for value in [n, e, d, qinv, p, q] {
                mpint(&mut body, value);
            }
            return Ok(Encodings {
                pem_label: "RSA PRIVATE KEY",
                traditional: private.to_vec(),
                pkcs8: pkcs8.clone(),
                ssh_type: "ssh-rsa",
                openssh_private: openssh_private(&wire, &body),
                ssh_public: wire,
            });
        }
        // ECDSA: SEC1 with the named curve, as Go's MarshalECPrivateKey writes it.
        let (curve_oid, size, ssh_type, ssh_curve): (&[u8], usize, &'static str, &[u8]) =
            if algorithm == &rcgen::PKCS_ECDSA_P256_SHA256 {
                (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], 32, "ecdsa-sha2-nistp256", b"nistp256")
            } else if algorithm == &rcgen::PKCS_ECDSA_P384_SHA384 {
                (&[0x2b, 0x81, 0x04, 0x00, 0x22], 48, "ecdsa-sha2-nistp384", b"nistp384")
            } else {
                (&[0x2b, 0x81, 0x04, 0x00, 0x23], 66, "ecdsa-sha2-nistp521", b"nistp521")
            };
        let scalar = parts.get(1).filter(|(tag, _)| *tag == 0x04).map(|(_, v)| *v).ok_or("short EC key")?;
        let mut padded = vec![0u8; size.saturating_sub(scalar.len())];
        padded.extend_from_slice(scalar);
        let point = key.public_key_raw();
        let mut bits = vec![0u8];
        bits.extend_from_slice(point);
        let mut sec1 = tlv(0x02, &[1]);
        sec1.extend(tlv(0x04, &padded));
        sec1.extend(tlv(0xa0, &tlv(0x06, curve_oid)));
        sec1.extend(tlv(0xa1, &tlv(0x03, &bits)));
        let mut wire = Vec::new();
        string(&mut wire, ssh_type.as_bytes());
        string(&mut wire, ssh_curve);
        string(&mut wire, point);
        let mut body = Vec::new();
        string(&mut body, ssh_type.as_bytes());
        string(&mut body, ssh_curve);
        string(&mut body, point);
        let mut scalar_int = scalar.to_vec();
        if scalar_int.first().is_some_and(|b| b & 0x80 != 0) {
            scalar_int.insert(0, 0);
        }
        mpint(&mut body, &scalar_int);
        Ok(Encodings {
            pem_label: "EC PRIVATE KEY",
            traditional: tlv(0x30, &sec1),
            pkcs8: pkcs8.clone(),
            ssh_type,
            openssh_private: openssh_private(&wire, &body),
            ssh_public: wire,
        })
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn hostile_der_is_an_error_not_a_panic() {
            for input in [&[][..], &[0x30], &[0x30, 0x85, 1, 1, 1, 1, 1], &[0x30, 0x05, 1], &[0x30, 0x82, 0xff]] {
                assert!(super::element(input).is_err(), "{input:?}");
            }
        }
    }
}
