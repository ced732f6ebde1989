//! `terraform-provider-infratest`: a Terraform provider plugin for infra's tests, served as
//! go-plugin serves one — the magic cookie, protocol 6 only, automatic mutual TLS (its own
//! self-signed certificate in the handshake line; only the host's `PLUGIN_CLIENT_CERT` is
//! accepted), gRPC over HTTP/2 on a Unix socket. What it provides is in [`things`]; what it
//! does not model is in the README.

mod things;

use base64::Engine;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use infra_plugin::tfplugin5 as v5;
use infra_plugin::tfplugin6::path;
use rustls::DigitallySignedStruct;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use std::convert::Infallible;
use std::sync::Arc;

const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

fn main() {
    if std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!("This binary is a plugin. These are not meant to be executed directly.");
        std::process::exit(1);
    }
    let offered = std::env::var("PLUGIN_PROTOCOL_VERSIONS").unwrap_or_default();
    if !offered.split(',').any(|v| v.trim() == "6") {
        eprintln!("the host does not offer protocol 6 (offered: {offered:?})");
        std::process::exit(1);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start a runtime: {error}");
            std::process::exit(1);
        }
    };
    if let Err(error) = runtime.block_on(serve()) {
        eprintln!("infratest: {error}");
        std::process::exit(1);
    }
}

async fn serve() -> Result<(), String> {
    let client_pem = std::env::var("PLUGIN_CLIENT_CERT").map_err(|_| "PLUGIN_CLIENT_CERT is not set")?;
    let client_cert = CertificateDer::from_pem_slice(client_pem.as_bytes()).map_err(|e| e.to_string())?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| e.to_string())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedClient { cert: client_cert.to_vec(), provider: provider.clone() });
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert.der().clone()], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let dir = std::env::temp_dir().join(format!("infratest-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let socket = dir.join("plugin.sock");
    let _ = std::fs::remove_file(&socket);
    let listener = tokio::net::UnixListener::bind(&socket).map_err(|e| e.to_string())?;
    let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(cert.der());
    println!("1|6|unix|{}|grpc|{encoded}", socket.display());

    let things = Arc::new(things::Things::default());
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let (acceptor, things) = (acceptor.clone(), things.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else { return };
            let service = hyper::service::service_fn(move |request| route(request, things.clone()));
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// One unary call: the request decoded, `answer` run, the response encoded.
async fn unary<Req, Resp>(
    request: http::Request<Incoming>,
    answer: impl Fn(Req) -> Resp + Clone + Send + Sync + 'static,
) -> http::Response<tonic::body::Body>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
{
    let service = tower::service_fn(move |request: tonic::Request<Req>| {
        let answer = answer.clone();
        async move { Ok::<_, tonic::Status>(tonic::Response::new(answer(request.into_inner()))) }
    });
    tonic::server::Grpc::new(tonic_prost::ProstCodec::<Resp, Req>::default()).unary(service, request).await
}

async fn route(
    request: http::Request<Incoming>,
    things: Arc<things::Things>,
) -> Result<http::Response<tonic::body::Body>, Infallible> {
    let method = request.uri().path().to_string();
    let t = things;
    Ok(match method.as_str() {
        path::GET_PROVIDER_SCHEMA => unary(request, move |_: v5::Empty| t.schema()).await,
        path::VALIDATE_PROVIDER_CONFIG => unary(request, move |r| t.validate_provider(r)).await,
        path::VALIDATE_RESOURCE_CONFIG => unary(request, move |r| t.validate_resource(r)).await,
        path::VALIDATE_DATA_RESOURCE_CONFIG => {
            unary(request, |_: v5::ValidateConfigRequest| v5::DiagnosticsResponse::default()).await
        }
        path::CONFIGURE_PROVIDER => unary(request, move |r| t.configure(r)).await,
        path::UPGRADE_RESOURCE_STATE => unary(request, move |r| t.upgrade(r)).await,
        path::READ_RESOURCE => unary(request, move |r| t.read(r)).await,
        path::PLAN_RESOURCE_CHANGE => unary(request, move |r| t.plan(r)).await,
        path::APPLY_RESOURCE_CHANGE => unary(request, move |r| t.apply(r)).await,
        path::IMPORT_RESOURCE_STATE => unary(request, move |r| t.import(r)).await,
        path::READ_DATA_SOURCE => unary(request, move |r| t.read_data(r)).await,
        path::GET_FUNCTIONS => unary(request, move |_: v5::Empty| t.functions()).await,
        path::CALL_FUNCTION => unary(request, move |r| t.call_function(r)).await,
        path::STOP_PROVIDER => unary(request, |_: v5::Empty| v5::StopResponse::default()).await,
        v5::path::SHUTDOWN => {
            // Answer, then end (the host kills what is left after two seconds anyway).
            tokio::spawn(async {
                tokio::task::yield_now().await;
                std::process::exit(0);
            });
            unary(request, |_: v5::Empty| v5::Empty {}).await
        }
        _ => tonic::Status::unimplemented(format!("{method} is not implemented by infratest")).into_http(),
    })
}

/// Accepts exactly the certificate the host announced in `PLUGIN_CLIENT_CERT`.
#[derive(Debug)]
struct PinnedClient {
    cert: Vec<u8>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ClientCertVerifier for PinnedClient {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::General("a client certificate other than PLUGIN_CLIENT_CERT".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
