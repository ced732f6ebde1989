//! The utility providers built in (tls, archive, cloudinit, http, external), applied through
//! the CLI and checked with independent tools: openssl and ssh-keygen read the keys and verify
//! the certificate chain, the zip crate reads the archive, a plain HTTP server on loopback
//! answers the http data source.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::Command;
use support::Stack;

fn attribute(state: &serde_json::Value, address: &str, name: &str) -> String {
    state["resources"][address]["attributes"][name].as_str().unwrap_or_else(|| panic!("{address}.{name}")).to_string()
}

fn tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "`{program} {}` failed:\n{text}", args.join(" "));
    text
}

#[test]
fn tls_keys_and_certificates_are_read_and_verified_by_openssl_and_ssh_keygen() {
    let stack = Stack::new_without_moto();
    stack.write(
        r#"resource "tls_private_key" "rsa" {
  algorithm = "RSA"
}

resource "tls_private_key" "ec" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_private_key" "ed" {
  algorithm = "ED25519"
}

resource "tls_self_signed_cert" "ca" {
  private_key_pem       = tls_private_key.ec.private_key_pem
  is_ca_certificate     = true
  validity_period_hours = 24
  allowed_uses          = ["cert_signing", "crl_signing"]

  subject {
    common_name  = "Test CA"
    organization = "infra"
  }
}

resource "tls_cert_request" "api" {
  private_key_pem = tls_private_key.rsa.private_key_pem
  dns_names       = ["api.example.com"]
  ip_addresses    = ["10.0.0.1"]

  subject {
    common_name = "api.example.com"
  }
}

resource "tls_locally_signed_cert" "api" {
  cert_request_pem      = tls_cert_request.api.cert_request_pem
  ca_private_key_pem    = tls_private_key.ec.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.ca.cert_pem
  validity_period_hours = 12
  allowed_uses          = ["digital_signature", "key_encipherment", "server_auth"]
}

resource "tls_self_signed_cert" "ed" {
  private_key_pem       = tls_private_key.ed.private_key_pem
  validity_period_hours = 1
  allowed_uses          = ["digital_signature"]
  dns_names             = ["ed.example.com"]
}
"#,
    );
    let applied = stack.ok(&["apply", "-auto-approve"]);
    assert!(!applied.contains("PRIVATE KEY"), "private keys are never shown:\n{applied}");
    let shown = stack.ok(&["state", "show", "tls_private_key.rsa"]);
    assert!(!shown.contains("PRIVATE KEY") && shown.contains("(sensitive value)"), "{shown}");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "a second plan changes nothing:\n{text}");

    let state = stack.state();
    let dir = stack.path();
    for (name, kind) in [("rsa", "RSA"), ("ec", "ECDSA"), ("ed", "ED25519")] {
        let address = format!("tls_private_key.{name}");
        for field in ["private_key_pem", "private_key_pem_pkcs8"] {
            let path = dir.join(format!("{name}.{field}"));
            std::fs::write(&path, attribute(&state, &address, field)).expect("write");
            tool("openssl", &["pkey", "-in", &path.to_string_lossy(), "-noout"]);
        }
        let pem = attribute(&state, &address, "private_key_pem");
        let label = match kind {
            "RSA" => "RSA PRIVATE KEY",
            "ECDSA" => "EC PRIVATE KEY",
            _ => "PRIVATE KEY",
        };
        assert!(pem.starts_with(&format!("-----BEGIN {label}-----\n")), "{kind}: Terraform's PEM type");
        // The OpenSSH private key gives back the OpenSSH public key; fingerprints as ssh-keygen's.
        let openssh = dir.join(format!("{name}.openssh"));
        std::fs::write(&openssh, attribute(&state, &address, "private_key_openssh")).expect("write");
        std::fs::set_permissions(&openssh, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
        let derived = tool("ssh-keygen", &["-y", "-f", &openssh.to_string_lossy()]);
        let public = attribute(&state, &address, "public_key_openssh");
        assert_eq!(
            derived.split_whitespace().take(2).collect::<Vec<_>>(),
            public.split_whitespace().collect::<Vec<_>>()
        );
        let public_path = dir.join(format!("{name}.pub"));
        std::fs::write(&public_path, &public).expect("write");
        let sha = tool("ssh-keygen", &["-l", "-E", "sha256", "-f", &public_path.to_string_lossy()]);
        assert!(sha.contains(&attribute(&state, &address, "public_key_fingerprint_sha256")), "{sha}");
        let md5 = tool("ssh-keygen", &["-l", "-E", "md5", "-f", &public_path.to_string_lossy()]);
        assert!(md5.contains(&format!("MD5:{}", attribute(&state, &address, "public_key_fingerprint_md5"))), "{md5}");
    }
    let ca = dir.join("ca.pem");
    let leaf = dir.join("leaf.pem");
    std::fs::write(&ca, attribute(&state, "tls_self_signed_cert.ca", "cert_pem")).expect("write");
    std::fs::write(&leaf, attribute(&state, "tls_locally_signed_cert.api", "cert_pem")).expect("write");
    tool("openssl", &["verify", "-CAfile", &ca.to_string_lossy(), &leaf.to_string_lossy()]);
    let text = tool("openssl", &["x509", "-in", &leaf.to_string_lossy(), "-noout", "-text"]);
    assert!(text.contains("DNS:api.example.com") && text.contains("IP Address:10.0.0.1"), "{text}");
    assert!(text.contains("TLS Web Server Authentication") && text.contains("CA:FALSE"), "{text}");
    let text = tool("openssl", &["x509", "-in", &ca.to_string_lossy(), "-noout", "-subject"]);
    assert!(text.contains("CN = Test CA"), "{text}");
    assert_eq!(state["resources"]["tls_self_signed_cert.ed"]["attributes"]["key_algorithm"], "ED25519");
}

/// Answers every request on loopback with a fixed body and a header, recording request lines.
fn http_server() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("x-token:") {
                    first.push_str(line.trim());
                }
            }
            let _ = sender.send(first);
            let body = r#"{"version":"1.2.3"}"#;
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Served-By: loopback\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, receiver)
}

#[test]
fn archive_cloudinit_http_and_external_data_sources_read_at_plan_time() {
    let stack = Stack::new_without_moto();
    let src = stack.path().join("src");
    std::fs::create_dir_all(src.join("lib")).expect("src");
    std::fs::write(src.join("handler.py"), "def handler(event, context):\n    return 1\n").expect("write");
    std::fs::write(src.join("lib/util.py"), "X = 1\n").expect("write");
    std::fs::write(src.join("notes.txt"), "not shipped\n").expect("write");
    // Answers from its query on standard input, as external programs do.
    std::fs::write(
        stack.path().join("greet.sh"),
        "sed 's/.*\"name\":\"\\([^\"]*\\)\".*/{\"greeting\": \"hello \\1\"}/'\n",
    )
    .expect("write");
    let (url, requests) = http_server();
    stack.write(&format!(
        r#"data "archive_file" "lambda" {{
  type        = "zip"
  source_dir  = "${{path.module}}/src"
  output_path = "${{path.module}}/build/lambda.zip"
  excludes    = ["notes.txt"]
}}

data "cloudinit_config" "plain" {{
  gzip          = false
  base64_encode = false

  part {{
    content_type = "text/x-shellscript"
    content      = "baz"
    filename     = "foobar.sh"
  }}
}}

data "cloudinit_config" "packed" {{
  part {{
    content_type = "text/cloud-config"
    content      = "packages: [git]"
  }}
}}

data "http" "version" {{
  url             = "{url}/version"
  request_headers = {{ X-Token = "t0k" }}

  lifecycle {{
    postcondition {{
      condition     = self.status_code == 200
      error_message = "the version endpoint failed"
    }}
  }}
}}

data "external" "greeting" {{
  program = ["sh", "${{path.module}}/greet.sh"]
  query   = {{ name = "infra" }}
}}

output "hash" {{
  value = data.archive_file.lambda.output_base64sha256
}}

output "plain" {{
  value = data.cloudinit_config.plain.rendered
}}

output "packed" {{
  value = data.cloudinit_config.packed.rendered
}}

output "version" {{
  value = jsondecode(data.http.version.response_body).version
}}

output "served_by" {{
  value = data.http.version.response_headers["X-Served-By"]
}}

output "greeting" {{
  value = data.external.greeting.result.greeting
}}
"#
    ));
    stack.ok(&["apply", "-auto-approve"]);
    let outputs: serde_json::Value = serde_json::from_str(&stack.ok(&["output", "-json"])).expect("json");
    // The provider's own expectation for this part (terraform-provider-cloudinit's tests).
    assert_eq!(
        outputs["plain"]["value"],
        "Content-Type: multipart/mixed; boundary=\"MIMEBOUNDARY\"\nMIME-Version: 1.0\r\n\r\n--MIMEBOUNDARY\r\nContent-Disposition: attachment; filename=\"foobar.sh\"\r\nContent-Transfer-Encoding: 7bit\r\nContent-Type: text/x-shellscript\r\nMime-Version: 1.0\r\n\r\nbaz\r\n--MIMEBOUNDARY--\r\n"
    );
    let packed = outputs["packed"]["value"].as_str().expect("packed");
    let gzipped = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, packed).expect("base64");
    let mut unpacked = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gzipped.as_slice()), &mut unpacked).expect("gzip");
    assert!(unpacked.contains("Content-Type: text/cloud-config\r\n") && unpacked.contains("packages: [git]"));
    assert_eq!(outputs["version"]["value"], "1.2.3");
    assert_eq!(outputs["served_by"]["value"], "loopback");
    assert_eq!(outputs["greeting"]["value"], "hello infra");
    let request = requests.recv().expect("the server was asked");
    assert!(request.starts_with("GET /version") && request.contains("t0k"), "{request}");

    let zip_path = stack.path().join("build/lambda.zip");
    let bytes = std::fs::read(&zip_path).expect("the archive is written");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).expect("a zip");
    let mut names: Vec<String> =
        (0..archive.len()).map(|i| archive.by_index(i).expect("entry").name().to_string()).collect();
    names.sort();
    assert_eq!(names, ["handler.py", "lib/util.py"], "excludes are left out");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    assert_eq!(outputs["hash"]["value"], base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest));
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "the same sources give the same archive, so nothing changes:\n{text}");
    assert_eq!(std::fs::read(&zip_path).expect("archive"), bytes, "the archive is reproducible");

    std::fs::write(stack.path().join("greet.sh"), "echo broken >&2\nexit 3\n").expect("write");
    let output = stack.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("External Program Execution Failed") && stderr.contains("broken"), "{stderr}");
}
