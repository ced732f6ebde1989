//! Remote module sources: `infra init` fetches modules from git (a real `git daemon`) and from
//! a module registry (the HTTPS stand-in of `support::registry`, token required), records them
//! in `.terraform/modules/modules.json`, and later plans use that copy without the network.

mod support;

use support::GitServer;
use support::Stack;
use support::registry::{OfferedModule, Registry, tar_gz_of};

const NETWORK_V1: &str = r#"
variable "cidr" { type = string }
module "inner" {
  source = "../inner"
  zones  = 2
}
resource "terraform_data" "vpc" {
  input = var.cidr
}
output "subnets" { value = [for i in range(module.inner.zones) : cidrsubnet(var.cidr, 8, i)] }
"#;

const INNER: &str = "variable \"zones\" { type = number }\noutput \"zones\" { value = var.zones }\n";

#[test]
fn a_module_from_git_plans_offline_from_the_cache_after_init() {
    let server = GitServer::start();
    let repo = server.repo("network");
    repo.write("modules/net/main.tf", NETWORK_V1);
    repo.write("modules/inner/main.tf", INNER);
    repo.push("v1");
    let stack = Stack::new_without_moto();
    let source = format!("git::{}//modules/net?ref=main", server.url("network"));
    stack.write(&format!(
        "module \"net\" {{\n  source = \"{source}\"\n  cidr   = \"10.4.0.0/16\"\n}}\noutput \"subnets\" {{\n  value = module.net.subnets\n}}\n"
    ));

    // Before init, the plan says what to do.
    let before = stack.run(&["plan", "-no-color"]);
    assert!(!before.status.success());
    assert!(String::from_utf8_lossy(&before.stderr).contains("run `infra init`"), "{before:?}");

    let init = stack.ok(&["init", "-no-color"]);
    assert!(init.contains("- net in .terraform/modules/net"), "{init}");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(stack.path().join(".terraform/modules/modules.json")).expect("manifest"),
    )
    .expect("JSON");
    let keys: Vec<&str> =
        manifest["Modules"].as_array().expect("modules").iter().filter_map(|m| m["Key"].as_str()).collect();
    assert_eq!(keys, ["", "net", "net.inner"]);

    // A change upstream is not picked up, and the server is not needed: the cache is used.
    repo.write("modules/inner/main.tf", &INNER.replace("var.zones", "var.zones + 1"));
    repo.push("v2");
    drop(server);
    stack.apply();
    let outputs: serde_json::Value = serde_json::from_str(&stack.ok(&["output", "-json"])).expect("outputs");
    assert_eq!(outputs["subnets"]["value"], serde_json::json!(["10.4.0.0/24", "10.4.1.0/24"]));
    let (code, plan) = stack.plan();
    assert_eq!(code, 0, "{plan}");

    // Terraform reads the same manifest (its own state is empty: it plans the same module).
    let terraform = stack.terraform(stack.path(), &["plan", "-no-color", "-input=false"]);
    assert!(terraform.contains("\"10.4.1.0/24\""), "{terraform}");
}

#[test]
fn a_registry_module_is_chosen_by_its_version_constraint_and_plans_offline() {
    // The package is the module at its root; its own local call stays inside it.
    let module = |version: &str, zones: u32| OfferedModule {
        namespace: "acme".into(),
        name: "network".into(),
        system: "aws".into(),
        version: version.into(),
        archive: tar_gz_of(&[
            (
                "main.tf",
                &NETWORK_V1.replace("../inner", "./modules/inner").replace("zones  = 2", &format!("zones  = {zones}")),
            ),
            ("modules/inner/main.tf", INNER),
        ]),
    };
    let registry = Registry::start_with_modules(
        vec![],
        vec![module("1.0.0", 1), module("1.2.0", 2), module("2.0.0", 3)],
        "linux_amd64",
    );
    let mut stack = Stack::new_without_moto();
    let cli = stack.path().join("cli.tfrc");
    std::fs::write(&cli, format!("credentials \"{}\" {{\n  token = \"{}\"\n}}\n", registry.host, registry.token))
        .expect("CLI configuration");
    stack.set_env("TF_CLI_CONFIG_FILE", &cli.display().to_string());
    stack.set_env("SSL_CERT_FILE", &registry.ca_file.display().to_string());
    stack.write(&format!(
        "module \"net\" {{\n  source  = \"{}/acme/network/aws\"\n  version = \"~> 1.0\"\n  cidr    = \"10.6.0.0/16\"\n}}\noutput \"subnets\" {{\n  value = module.net.subnets\n}}\n",
        registry.host
    ));
    let init = stack.ok(&["init", "-no-color"]);
    assert!(init.contains("1.2.0"), "the newest 1.x is chosen: {init}");
    let downloads = || registry.requests.lock().unwrap().iter().filter(|p| p.ends_with(".tar.gz")).count();
    assert_eq!(downloads(), 1);

    // A second init keeps the installed copy without fetching it again.
    let again = stack.ok(&["init", "-no-color"]);
    assert!(again.contains("kept"), "{again}");
    assert_eq!(downloads(), 1);

    let asked = registry.requests.lock().unwrap().len();
    stack.apply();
    assert_eq!(registry.requests.lock().unwrap().len(), asked, "plan and apply do not ask the registry");
    let outputs: serde_json::Value = serde_json::from_str(&stack.ok(&["output", "-json"])).expect("outputs");
    assert_eq!(outputs["subnets"]["value"], serde_json::json!(["10.6.0.0/24", "10.6.1.0/24"]));

    // Without the token the registry refuses, and init says so.
    let mut anonymous = Stack::new_without_moto();
    anonymous.set_env("SSL_CERT_FILE", &registry.ca_file.display().to_string());
    anonymous.set_env("TF_CLI_CONFIG_FILE", "/dev/null");
    anonymous.write(&std::fs::read_to_string(stack.path().join("main.tf")).expect("main.tf"));
    let refused = anonymous.run(&["init", "-no-color"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("module `net`") && stderr.contains("401"), "{stderr}");
    assert!(!stderr.contains(&registry.token));
}

#[test]
fn hostile_archives_and_sources_are_refused() {
    use infra::config::sources::Archive;
    let dir = tempfile::tempdir().expect("temp dir");
    let dest = dir.path().join("pkg");
    // `..` in a tar entry (written raw: the tar crate refuses to build one).
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().expect("gnu header").name[..12].copy_from_slice(b"../escape.tf");
    header.set_size(1);
    header.set_mode(0o644);
    header.set_cksum();
    let mut raw = header.as_bytes().to_vec();
    raw.extend_from_slice(&[b'x'; 512]);
    raw.extend_from_slice(&[0; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &raw).expect("gzip");
    let escape = gz.finish().expect("gzip");
    let error = infra::module_install::unpack(&escape, Archive::TarGz, &dest).expect_err("refused");
    assert!(error.contains("outside the package"), "{error}");
    assert!(!dir.path().join("escape.tf").exists());
    assert!(infra::module_install::unpack(b"not an archive", Archive::TarGz, &dest).is_err());

    let stack = Stack::new_without_moto();
    for source in [
        "git::ext::sh -c 'touch /tmp/pwned'",
        "git::https://example.com/r.git?ref=--upload-pack=touch",
        "hg::https://example.com/r",
    ] {
        stack.write(&format!("module \"m\" {{\n  source = \"{source}\"\n}}\n"));
        let init = stack.run(&["init", "-no-color"]);
        assert!(!init.status.success(), "{source}");
        let plan = stack.run(&["plan", "-no-color"]);
        assert!(String::from_utf8_lossy(&plan.stderr).contains("Invalid module source"), "{source}: {plan:?}");
    }
}
