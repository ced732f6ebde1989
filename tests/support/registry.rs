//! A stand-in for a provider registry (Terraform's provider registry protocol) on loopback
//! over HTTPS: service discovery, `versions`, `download` (with `shasum`, a SHA256SUMS document
//! and its detached GPG signature made with `gpg`, so Terraform accepts it too), the zips
//! themselves; every API call requires a bearer token. Its certificate is self-signed for
//! `localhost`; clients trust it through `SSL_CERT_FILE` (OpenSSL and Go both read it).
//!
//! The same packages are served as a network mirror (`/mirror/`, Terraform's provider network
//! mirror protocol: `index.json`, `VERSION.json`) for the public registry's addresses.
//!
//! Modules too (the module registry protocol): `modules.v1` in discovery, `versions`, and
//! `download` answering 204 with a relative `X-Terraform-Get` to a `.tar.gz` under `/files/`.
//!
//! Not modelled: pagination, `warnings`, deprecations, `protocols` other than `6.0`, more than
//! one platform per version, registry-side rate limits.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A package the registry serves.
pub struct Offered {
    pub namespace: String,
    pub kind: String,
    pub version: String,
    /// The zip's bytes.
    pub zip: Vec<u8>,
}

/// A module package the registry serves.
pub struct OfferedModule {
    pub namespace: String,
    pub name: String,
    pub system: String,
    pub version: String,
    /// The package, a `.tar.gz`.
    pub archive: Vec<u8>,
}

/// A `.tar.gz` of the given files.
pub fn tar_gz_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, text.as_bytes()).expect("tar entry");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

/// A running registry.
pub struct Registry {
    /// `localhost:PORT`: the host part of source addresses.
    pub host: String,
    /// The certificate to trust (PEM file).
    pub ca_file: PathBuf,
    /// The token clients must send.
    pub token: String,
    /// Paths asked for, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

/// A zip holding one executable, as provider packages are made.
pub fn zip_of(name: &str, executable: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        writer.start_file(name, options).expect("zip entry");
        std::io::Write::write_all(&mut writer, &std::fs::read(executable).expect("read the executable"))
            .expect("zip write");
        writer.finish().expect("zip finish");
    }
    bytes
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn gpg(home: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new("gpg")
        .env("GNUPGHOME", home)
        .args(["--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(args)
        .output()
        .expect("gpg runs (Debian package gnupg)");
    assert!(output.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

impl Registry {
    /// Starts a registry serving `packages` for `linux_amd64`-style platform `platform`.
    pub fn start(packages: Vec<Offered>, platform: &str) -> Registry {
        Registry::start_with_modules(packages, Vec::new(), platform)
    }

    /// Starts a registry serving provider `packages` and `modules`.
    pub fn start_with_modules(packages: Vec<Offered>, modules: Vec<OfferedModule>, platform: &str) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("gnupg");
        std::fs::create_dir_all(&home).expect("gnupg home");
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");
        gpg(&home, &["--quick-generate-key", "infra test registry <registry@example.com>", "rsa2048", "sign", "never"]);
        let armor = String::from_utf8(gpg(&home, &["--armor", "--export"])).expect("armored key");
        let listing = String::from_utf8(gpg(&home, &["--with-colons", "--list-keys"])).expect("key listing");
        let key_id = listing
            .lines()
            .find(|l| l.starts_with("pub:"))
            .and_then(|l| l.split(':').nth(4))
            .expect("a key id")
            .to_string();

        let (os, arch) = platform.split_once('_').expect("OS_ARCH");
        let mut files = std::collections::BTreeMap::new();
        let mut downloads = std::collections::BTreeMap::new();
        let mut versions: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
        for package in &packages {
            let base = format!("terraform-provider-{}_{}", package.kind, package.version);
            let filename = format!("{base}_{platform}.zip");
            let sums = format!("{}  {filename}\n", sha256(&package.zip));
            let sums_file = dir.path().join(format!("{base}_SHA256SUMS"));
            std::fs::write(&sums_file, &sums).expect("sums");
            let sums_path = sums_file.to_str().expect("path");
            gpg(&home, &["--detach-sign", "--output", &format!("{sums_path}.sig"), sums_path]);
            let signature = std::fs::read(format!("{sums_path}.sig")).expect("signature");
            files.insert(filename.clone(), package.zip.clone());
            files.insert(format!("{base}_SHA256SUMS"), sums.into_bytes());
            files.insert(format!("{base}_SHA256SUMS.sig"), signature);
            downloads.insert(
                format!("{}/{}/{}/download/{os}/{arch}", package.namespace, package.kind, package.version),
                serde_json::json!({
                    "protocols": ["6.0"],
                    "os": os,
                    "arch": arch,
                    "filename": filename,
                    "download_url": format!("/files/{filename}"),
                    "shasums_url": format!("/files/{base}_SHA256SUMS"),
                    "shasums_signature_url": format!("/files/{base}_SHA256SUMS.sig"),
                    "shasum": sha256(&package.zip),
                    "signing_keys": { "gpg_public_keys": [{ "key_id": key_id, "ascii_armor": armor }] }
                }),
            );
            versions
                .entry((package.namespace.clone(), package.kind.clone()))
                .or_default()
                .push(package.version.clone());
        }
        let platform_entry = serde_json::json!([{ "os": os, "arch": arch }]);
        let versions: std::collections::BTreeMap<String, serde_json::Value> = versions
            .into_iter()
            .map(|((namespace, kind), list)| {
                let list: Vec<_> = list
                    .iter()
                    .map(|v| serde_json::json!({"version": v, "protocols": ["6.0"], "platforms": platform_entry}))
                    .collect();
                (format!("{namespace}/{kind}/versions"), serde_json::json!({ "versions": list }))
            })
            .collect();

        let mut module_versions: std::collections::BTreeMap<String, Vec<serde_json::Value>> = Default::default();
        for module in &modules {
            let id = format!("{}/{}/{}", module.namespace, module.name, module.system);
            let file =
                format!("modules/{}-{}-{}-{}.tar.gz", module.namespace, module.name, module.system, module.version);
            files.insert(file, module.archive.clone());
            module_versions.entry(id).or_default().push(serde_json::json!({ "version": module.version }));
        }
        let module_versions: std::collections::BTreeMap<String, serde_json::Value> = module_versions
            .into_iter()
            .map(|(id, list)| (format!("{id}/versions"), serde_json::json!({ "modules": [{ "versions": list }] })))
            .collect();

        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        let cert = params.self_signed(&key).expect("certificate");
        let ca_file = dir.path().join("registry.pem");
        std::fs::write(&ca_file, cert.pem()).expect("write the certificate");
        let config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![cert.der().clone()],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
                )
                .expect("TLS config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let token = "registry-s3cr3t".to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new((files, downloads, versions, token.clone(), requests.clone(), module_versions));
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let state = state.clone();
            async move {
                use axum::response::IntoResponse;
                let (files, downloads, versions, token, requests, module_versions) = &*state;
                let path = request.uri().path().to_string();
                requests.lock().unwrap_or_else(|p| p.into_inner()).push(path.clone());
                if path == "/.well-known/terraform.json" {
                    return axum::Json(
                        serde_json::json!({"providers.v1": "/v1/providers/", "modules.v1": "/v1/modules/"}),
                    )
                    .into_response();
                }
                // The network mirror protocol, for the public registry's addresses.
                if let Some(rest) = path.strip_prefix("/mirror/registry.terraform.io/") {
                    let parts: Vec<&str> = rest.split('/').collect();
                    if let [namespace, kind, file] = parts.as_slice() {
                        let listed: Vec<&serde_json::Value> = downloads
                            .iter()
                            .filter(|(k, _)| k.starts_with(&format!("{namespace}/{kind}/")))
                            .map(|(_, v)| v)
                            .collect();
                        if *file == "index.json" {
                            let all: serde_json::Map<String, serde_json::Value> = downloads
                                .keys()
                                .filter(|k| k.starts_with(&format!("{namespace}/{kind}/")))
                                .filter_map(|k| k.split('/').nth(2))
                                .map(|v| (v.to_string(), serde_json::json!({})))
                                .collect();
                            return axum::Json(serde_json::json!({ "versions": all })).into_response();
                        }
                        if let Some(version) = file.strip_suffix(".json")
                            && let Some(found) = listed
                                .iter()
                                .find(|d| d["filename"].as_str().is_some_and(|f| f.contains(&format!("_{version}_"))))
                        {
                            let platform = format!(
                                "{}_{}",
                                found["os"].as_str().unwrap_or(""),
                                found["arch"].as_str().unwrap_or("")
                            );
                            let url = found["download_url"].as_str().unwrap_or_default();
                            let hash = format!("zh:{}", found["shasum"].as_str().unwrap_or_default());
                            return axum::Json(serde_json::json!({
                                "archives": { platform: { "url": url, "hashes": [hash] } }
                            }))
                            .into_response();
                        }
                    }
                    return axum::http::StatusCode::NOT_FOUND.into_response();
                }
                if let Some(name) = path.strip_prefix("/files/") {
                    return match files.get(name) {
                        Some(bytes) => bytes.clone().into_response(),
                        None => axum::http::StatusCode::NOT_FOUND.into_response(),
                    };
                }
                let authorized = request
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v == format!("Bearer {token}"));
                if !authorized {
                    return axum::http::StatusCode::UNAUTHORIZED.into_response();
                }
                if let Some(rest) = path.strip_prefix("/v1/modules/") {
                    if let Some(answer) = module_versions.get(rest) {
                        return axum::Json(answer.clone()).into_response();
                    }
                    let parts: Vec<&str> = rest.split('/').collect();
                    if let [namespace, name, system, version, "download"] = parts.as_slice() {
                        let file = format!("modules/{namespace}-{name}-{system}-{version}.tar.gz");
                        if files.contains_key(&file) {
                            // Relative to this address, as the public registry's may be.
                            return (
                                axum::http::StatusCode::NO_CONTENT,
                                [("X-Terraform-Get", format!("/files/{file}"))],
                            )
                                .into_response();
                        }
                    }
                    return axum::http::StatusCode::NOT_FOUND.into_response();
                }
                let Some(rest) = path.strip_prefix("/v1/providers/") else {
                    return axum::http::StatusCode::NOT_FOUND.into_response();
                };
                match versions.get(rest).or_else(|| downloads.get(rest)) {
                    Some(answer) => axum::Json(answer.clone()).into_response(),
                    None => axum::http::StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let listener = super::block(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let port = listener.local_addr().expect("address").port();
        super::runtime().spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else { return };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Registry { host: format!("localhost:{port}"), ca_file, token, requests, _dir: dir }
    }
}
