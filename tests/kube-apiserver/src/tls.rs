//! HTTPS: a certificate authority generated at start and a server certificate it signs for
//! `127.0.0.1` and `localhost`. kubectl (client-go) sends bearer tokens only over TLS, so the
//! server always serves HTTPS; the kubeconfig carries the CA.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The generated certificates.
pub struct Certificates {
    /// The CA certificate, PEM (for `certificate-authority-data`).
    pub ca_pem: String,
    /// The server's TLS configuration.
    pub config: Arc<rustls::ServerConfig>,
}

fn failed(error: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("cannot make the test certificates: {error}"))
}

/// Makes a CA and a server certificate signed by it.
///
/// # Errors
///
/// When key generation or signing fails.
pub fn generate() -> std::io::Result<Certificates> {
    let ca_key = KeyPair::generate().map_err(failed)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "kube-test-apiserver CA");
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(failed)?;

    let key = KeyPair::generate().map_err(failed)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(failed)?;
    params.subject_alt_names.push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    params.distinguished_name.push(DnType::CommonName, "kube-test-apiserver");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer).map_err(failed)?;

    let chain = vec![cert.der().clone()];
    let private = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).map_err(failed)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(failed)?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(failed)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Certificates { ca_pem: ca_cert.pem(), config: Arc::new(config) })
}
