//! Protocol 6, with the in-repository test provider (`tests/plugin-provider`, served as
//! go-plugin serves a plugin): what the AWS plugin (protocol 5) does not exercise — nested
//! attributes, unknowns inside collections, private data across runs, schema upgrades, import,
//! validation diagnostics, provider-defined functions, and a plugin that crashes mid-apply.
//! Terraform runs the same provider on the same files as the oracle.

mod support;

use support::Stack;

fn plan_line(text: &str) -> String {
    text.lines().find(|l| l.trim_start().starts_with("Plan:")).unwrap_or("no plan line").trim().to_string()
}

const HEADER: &str = r#"
terraform {
  required_providers {
    infratest = {
      source  = "infra/infratest"
      version = "~> 1.0"
    }
  }
}

provider "infratest" {
  dir = "${path.root}/cloud"
}
"#;

/// Nested attributes (one object, a list), an unknown inside a computed list referenced by
/// another object, a dynamic value, a number beyond 64 bits.
const THINGS: &str = r#"
resource "infratest_thing" "a" {
  name     = "alpha"
  size     = 123456789012345678901234567890
  tags     = { team = "core" }
  settings = { level = 3 }
  rules    = [{ port = 80 }, { port = 443 }]
  password = "hunter2"
}

resource "infratest_thing" "b" {
  name  = "beta-${infratest_thing.a.endpoints[1]}"
  rules = [for r in infratest_thing.a.rules : { port = r.port + 1000 }]
}

data "infratest_echo" "e" {
  input = { list = [1, 2, 3], word = "x" }
}

output "first_endpoint" {
  value = infratest_thing.a.endpoints[0]
}

output "labels" {
  value = infratest_thing.b.rules[*].label
}

output "echo" {
  value = data.infratest_echo.e.output
}

output "size" {
  value = infratest_thing.a.size
}
"#;

fn private(state: &serde_json::Value, address: &str) -> serde_json::Value {
    use base64::Engine;
    let text = state["resources"][address]["private"].as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
}

/// `output -json` as name → value.
fn outputs(text: &str) -> serde_json::Value {
    let all: serde_json::Value = serde_json::from_str(text).expect("output -json is JSON");
    let map = all.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v["value"].clone())).collect());
    serde_json::Value::Object(map.unwrap_or_default())
}

#[test]
fn nested_attributes_and_unknowns_in_collections_plan_and_apply_as_terraform_does() {
    let mut stack = Stack::new_without_moto();
    stack.use_test_provider();
    stack.write(&format!("{HEADER}{THINGS}"));
    let init = stack.ok(&["init", "-no-color"]);
    assert!(init.contains("Installed registry.terraform.io/infra/infratest v1.0.0"), "{init}");

    let oracle = tempfile::tempdir().expect("temp dir");
    for file in ["main.tf", ".terraform.lock.hcl"] {
        std::fs::copy(stack.path().join(file), oracle.path().join(file)).expect("copy");
    }
    stack.terraform(oracle.path(), &["init", "-no-color", "-input=false", "-lockfile=readonly"]);
    let terraform_plan = stack.terraform(oracle.path(), &["plan", "-no-color", "-input=false"]);

    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    assert_eq!(plan_line(&plan), plan_line(&terraform_plan), "{plan}");
    // The nested attributes' computed parts and the computed list's elements are unknown.
    for shown in ["+ label = (known after apply)", "+ mode  = \"auto\"", "+ (known after apply),"] {
        assert!(plan.contains(shown), "`{shown}` missing:\n{plan}");
        assert!(terraform_plan.contains(shown), "Terraform shows `{shown}` too:\n{terraform_plan}");
    }
    assert!(!plan.contains("hunter2"), "{plan}");

    stack.apply();
    stack.terraform(oracle.path(), &["apply", "-auto-approve", "-no-color", "-input=false"]);
    let ours = outputs(&stack.ok(&["output", "-json"]));
    let theirs = outputs(&stack.terraform(oracle.path(), &["output", "-json"]));
    assert_eq!(ours, theirs);
    assert_eq!(ours["first_endpoint"], "alpha:80");
    assert_eq!(ours["labels"], serde_json::json!(["rule-1080", "rule-1443"]));
    assert_eq!(ours["size"].to_string(), "123456789012345678901234567890");
    let (code, second) = stack.plan();
    assert_eq!(code, 0, "the second plan is clean:\n{second}");

    // Private data: what apply answered is in state and goes back through the next plan to
    // the next apply (the provider refuses a change without it and counts applies in it).
    assert_eq!(private(&stack.state(), "infratest_thing.a"), serde_json::json!({"applies": 1}));
    stack.write(&format!("{HEADER}{}", THINGS.replace("team = \"core\"", "team = \"edge\"")));
    let (code, update) = stack.plan();
    assert_eq!(code, 2, "{update}");
    assert!(update.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{update}");
    stack.apply();
    assert_eq!(private(&stack.state(), "infratest_thing.a"), serde_json::json!({"applies": 2}));

    // A path the plugin says requires replacement, changed: a replacement, and why.
    stack.write(&format!("{HEADER}{}", THINGS.replace("name     = \"alpha\"", "name = \"alpha\"\n  zone = \"b\"")));
    let (code, replace) = stack.plan();
    assert_eq!(code, 2, "{replace}");
    assert!(replace.contains("must be replaced"), "{replace}");
    assert!(replace.contains("# forces replacement"), "{replace}");

    stack.ok(&["destroy", "-auto-approve", "-no-color"]);
    let left: Vec<_> = std::fs::read_dir(stack.path().join("cloud")).expect("cloud dir").collect();
    assert!(left.is_empty(), "destroy leaves nothing: {left:?}");
}

#[test]
fn an_object_stored_under_an_older_schema_version_is_upgraded_by_the_plugin() {
    let mut stack = Stack::new_without_moto();
    stack.use_test_provider();
    stack.write(&format!("{HEADER}\nresource \"infratest_thing\" \"old\" {{\n  name = \"legacy\"\n}}\n"));
    stack.ok(&["init", "-no-color"]);
    stack.apply();

    // The state as version 1 of the type wrote it: `title` where version 2 has `name`.
    let mut state = stack.state();
    let record = &mut state["resources"]["infratest_thing.old"];
    assert_eq!(record["schema_version"], 2, "{record}");
    record["schema_version"] = 1.into();
    let attributes = record["attributes"].as_object_mut().expect("attributes");
    let name = attributes.remove("name").expect("name");
    attributes.insert("title".into(), name);
    state["serial"] = (state["serial"].as_u64().unwrap_or(0) + 1).into();
    let file = stack.path().join("old.json");
    std::fs::write(&file, state.to_string()).expect("write");
    stack.ok(&["state", "push", file.to_str().expect("path")]);

    // Read as it is, the object would have no name and plan a change; upgraded, it is clean.
    let (code, plan) = stack.plan();
    assert_eq!(code, 0, "{plan}");

    // A version the plugin does not know is an error naming the object, not a silent reading.
    let mut state = stack.state();
    state["resources"]["infratest_thing.old"]["schema_version"] = 0.into();
    state["resources"]["infratest_thing.old"]["attributes"] = serde_json::json!("not an object");
    state["serial"] = (state["serial"].as_u64().unwrap_or(0) + 1).into();
    std::fs::write(&file, state.to_string()).expect("write");
    stack.ok(&["state", "push", file.to_str().expect("path")]);
    let (code, plan) = stack.plan();
    assert_eq!(code, 1, "{plan}");
    assert!(plan.contains("Cannot upgrade `infratest_thing.old` from schema version 0"), "{plan}");
}

#[test]
fn an_object_made_outside_is_imported_through_a_protocol_6_plugin() {
    let mut stack = Stack::new_without_moto();
    stack.use_test_provider();
    stack.write(&format!(
        "{HEADER}\nresource \"infratest_thing\" \"found\" {{\n  name  = \"found\"\n  rules = [{{ port = 22 }}]\n}}\n"
    ));
    stack.ok(&["init", "-no-color"]);
    let cloud = stack.path().join("cloud");
    std::fs::create_dir_all(&cloud).expect("cloud");
    let object = serde_json::json!({
        "id": "thing-found", "name": "found", "endpoints": ["found:22"],
        "rules": [{"port": 22, "label": "rule-22"}]
    });
    std::fs::write(cloud.join("thing-found.json"), object.to_string()).expect("write");

    let imported = stack.ok(&["import", "-no-color", "infratest_thing.found", "thing-found"]);
    assert!(imported.contains("Import successful"), "{imported}");
    let state = stack.state();
    assert_eq!(state["resources"]["infratest_thing.found"]["attributes"]["endpoints"], serde_json::json!(["found:22"]));
    assert_eq!(private(&state, "infratest_thing.found"), serde_json::json!({"imported": true}));
    let (code, plan) = stack.plan();
    assert_eq!(code, 0, "{plan}");

    let missing = stack.run(&["import", "-no-color", "infratest_thing.found", "thing-nowhere"]);
    assert!(!missing.status.success());
}

#[test]
fn a_plugins_validation_diagnostic_names_the_attribute() {
    let mut stack = Stack::new_without_moto();
    stack.use_test_provider();
    stack.write(&format!(
        "{HEADER}\nresource \"infratest_thing\" \"x\" {{\n  name  = \"x\"\n  rules = [{{ port = 80 }}, {{ port = 70000 }}]\n}}\n"
    ));
    stack.ok(&["init", "-no-color"]);
    let (code, plan) = stack.plan();
    assert_eq!(code, 1, "{plan}");
    assert!(plan.contains("Invalid port"), "{plan}");
    assert!(plan.contains("rules.1.port"), "{plan}");
}

#[test]
fn a_plugin_crashing_mid_apply_keeps_what_finished_and_names_the_provider() {
    let mut stack = Stack::new_without_moto();
    stack.use_test_provider();
    let config = |fail: &str| {
        format!(
            "{HEADER}\nresource \"infratest_thing\" \"first\" {{\n  name = \"first\"\n}}\n\
             resource \"infratest_thing\" \"second\" {{\n  name = \"second\"\n  {fail}\n  \
             tags = {{ after = infratest_thing.first.id }}\n}}\n"
        )
    };
    stack.write(&config("fail = \"crash\""));
    stack.ok(&["init", "-no-color"]);
    let output = stack.run(&["apply", "-auto-approve", "-no-color"]);
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("the plugin `registry.terraform.io/infra/infratest` crashed"), "{text}");
    let state = stack.state();
    assert_eq!(state["resources"]["infratest_thing.first"]["attributes"]["id"], "thing-first", "{state}");
    assert!(state["resources"]["infratest_thing.second"].is_null(), "{state}");

    // The next run starts a new plugin and finishes the job.
    stack.write(&config(""));
    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("Plan: 1 to add, 0 to change, 0 to destroy."), "{plan}");
    stack.apply();
    let (code, plan) = stack.plan();
    assert_eq!(code, 0, "{plan}");
}

#[test]
fn provider_defined_functions_are_called_as_terraform_calls_them() {
    let mut stack = Stack::new_without_moto();
    stack.use_test_provider();
    let config = |extra: &str| {
        format!(
            r#"{HEADER}
variable "secret" {{
  type      = string
  default   = "drowssap"
  sensitive = true
}}

resource "infratest_thing" "t" {{
  name = provider::infratest::reverse("olleh")
}}

output "reversed" {{
  value = provider::infratest::reverse(infratest_thing.t.id)
}}

output "sum" {{
  value = provider::infratest::sum(123456789012345678901234567890, 1, 0.5)
}}

output "secret" {{
  value     = provider::infratest::reverse(var.secret)
  sensitive = true
}}
{extra}"#
        )
    };
    stack.write(&config(""));
    stack.ok(&["init", "-no-color"]);
    let oracle = tempfile::tempdir().expect("temp dir");
    for file in ["main.tf", ".terraform.lock.hcl"] {
        std::fs::copy(stack.path().join(file), oracle.path().join(file)).expect("copy");
    }
    stack.terraform(oracle.path(), &["init", "-no-color", "-input=false", "-lockfile=readonly"]);
    stack.terraform(oracle.path(), &["apply", "-auto-approve", "-no-color", "-input=false"]);

    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("+ name      = \"hello\""), "{plan}");
    // A function of an unknown value is unknown at plan time.
    assert!(plan.contains("+ reversed = (known after apply)"), "{plan}");
    stack.apply();
    let ours = outputs(&stack.ok(&["output", "-json"]));
    let theirs = outputs(&stack.terraform(oracle.path(), &["output", "-json"]));
    assert_eq!(ours, theirs);
    assert_eq!(ours["reversed"], "olleh-gniht");
    assert_eq!(ours["sum"].to_string(), "123456789012345678901234567891.5");
    assert_eq!(ours["secret"], "password");
    let shown = stack.ok(&["output", "-no-color"]);
    assert!(!shown.contains("password"), "a function of a sensitive value is sensitive:\n{shown}");

    // The function's own error, and a provider that is not required, are diagnostics.
    stack.write(&config("output \"empty\" {\n  value = provider::infratest::reverse(\"\")\n}\n"));
    let (code, plan) = stack.plan();
    assert_eq!(code, 1, "{plan}");
    assert!(plan.contains("cannot reverse an empty string"), "{plan}");
    stack.write(&config("output \"other\" {\n  value = provider::nowhere::f(1)\n}\n"));
    let (code, plan) = stack.plan();
    assert_eq!(code, 1, "{plan}");
    assert!(plan.contains("no provider with the local name `nowhere`"), "{plan}");
}

#[test]
fn a_provider_comes_from_a_registry_locked_as_terraform_locks_it_and_is_reused_from_the_cache() {
    use support::registry::{Offered, Registry, zip_of};
    let platform = infra::plugins::platform();
    let offered = |version: &str| Offered {
        namespace: "infra".into(),
        kind: "infratest".into(),
        version: version.into(),
        zip: zip_of(&format!("terraform-provider-infratest_v{version}"), &support::test_provider()),
    };
    let registry = Registry::start(vec![offered("1.0.0"), offered("1.1.0"), offered("2.0.0")], &platform);
    let shared = tempfile::tempdir().expect("temp dir");
    let cache = shared.path().join("plugin-cache");
    std::fs::create_dir_all(&cache).expect("cache dir");
    let cli = shared.path().join("cli.tfrc");
    std::fs::write(
        &cli,
        format!(
            "plugin_cache_dir = \"{}\"\ncredentials \"{}\" {{\n  token = \"{}\"\n}}\n",
            cache.display(),
            registry.host,
            registry.token
        ),
    )
    .expect("CLI configuration");
    let config = HEADER.replace("\"infra/infratest\"", &format!("\"{}/infra/infratest\"", registry.host))
        + "\nresource \"infratest_thing\" \"r\" {\n  name = \"from-registry\"\n}\n";
    let stack_at = |stack: &mut Stack| {
        stack.set_env("TF_CLI_CONFIG_FILE", &cli.display().to_string());
        stack.set_env("SSL_CERT_FILE", &registry.ca_file.display().to_string());
        stack.set_env("XDG_CACHE_HOME", &stack.path().join("cache").display().to_string());
        stack.write(&config);
    };
    let downloads = || registry.requests.lock().unwrap().iter().filter(|p| p.ends_with(".zip")).count();

    let mut stack = Stack::new_without_moto();
    stack_at(&mut stack);
    let init = stack.ok(&["init", "-no-color"]);
    assert!(init.contains(&format!("Installed {}/infra/infratest v1.1.0", registry.host)), "{init}");
    assert_eq!(downloads(), 1);
    let lock = std::fs::read_to_string(stack.path().join(".terraform.lock.hcl")).expect("lock file");
    assert!(lock.contains("h1:") && lock.contains("zh:"), "{lock}");

    // Terraform installs the same provider from the same registry (checking its signature) and
    // writes the same lock file, byte for byte.
    let oracle = tempfile::tempdir().expect("temp dir");
    std::fs::copy(stack.path().join("main.tf"), oracle.path().join("main.tf")).expect("copy");
    let terraform_cache = tempfile::tempdir().expect("temp dir");
    let mut terraform = Stack::new_without_moto();
    terraform.set_env("TF_CLI_CONFIG_FILE", &terraform_cache.path().join("none.tfrc").display().to_string());
    std::fs::write(
        terraform_cache.path().join("none.tfrc"),
        format!("credentials \"{}\" {{\n  token = \"{}\"\n}}\n", registry.host, registry.token),
    )
    .expect("CLI configuration");
    terraform.set_env("SSL_CERT_FILE", &registry.ca_file.display().to_string());
    terraform.terraform(oracle.path(), &["init", "-no-color", "-input=false"]);
    let terraform_lock = std::fs::read_to_string(oracle.path().join(".terraform.lock.hcl")).expect("Terraform's lock");
    assert_eq!(lock, terraform_lock);

    stack.apply();
    let (code, plan) = stack.plan();
    assert_eq!(code, 0, "{plan}");

    // Another configuration on the same machine: installed from the plugin cache, no download.
    let before = downloads();
    let mut second = Stack::new_without_moto();
    stack_at(&mut second);
    let init = second.ok(&["init", "-no-color"]);
    assert!(init.contains("v1.1.0"), "{init}");
    assert_eq!(downloads(), before, "the second configuration takes the package from the cache");

    // A lock file whose hashes the package does not match: refused, nothing installed.
    let mut third = Stack::new_without_moto();
    stack_at(&mut third);
    let tampered = regex_replace_hashes(&lock);
    std::fs::write(third.path().join(".terraform.lock.hcl"), tampered).expect("write");
    let output = third.run(&["init", "-no-color"]);
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("does not match any of the checksums recorded"), "{text}");
    assert!(!text.contains(&registry.token), "{text}");

    // Without the token, the registry refuses, and init says which host.
    let mut fourth = Stack::new_without_moto();
    stack_at(&mut fourth);
    let anonymous = shared.path().join("anonymous.tfrc");
    std::fs::write(&anonymous, "").expect("write");
    fourth.set_env("TF_CLI_CONFIG_FILE", &anonymous.display().to_string());
    let output = fourth.run(&["init", "-no-color"]);
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("401"), "{text}");
}

/// The lock file with every hash replaced by one of the same kind that matches nothing.
fn regex_replace_hashes(lock: &str) -> String {
    lock.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("\"h1:") {
                "    \"h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",".to_string()
            } else if trimmed.starts_with("\"zh:") {
                format!("    \"zh:{}\",", "0".repeat(64))
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn a_network_mirror_serves_a_public_registry_provider_as_it_does_for_terraform() {
    use support::registry::{Offered, Registry, zip_of};
    let platform = infra::plugins::platform();
    let zip = zip_of("terraform-provider-infratest_v1.0.0", &support::test_provider());
    let offered = Offered { namespace: "infra".into(), kind: "infratest".into(), version: "1.0.0".into(), zip };
    let registry = Registry::start(vec![offered], &platform);
    let mut stack = Stack::new_without_moto();
    let cli = stack.path().join("mirror.tfrc");
    std::fs::write(
        &cli,
        format!(
            "provider_installation {{\n  network_mirror {{\n    url     = \"https://{}/mirror/\"\n    include = [\"infra/*\"]\n  }}\n}}\n",
            registry.host
        ),
    )
    .expect("CLI configuration");
    stack.set_env("TF_CLI_CONFIG_FILE", &cli.display().to_string());
    stack.set_env("SSL_CERT_FILE", &registry.ca_file.display().to_string());
    stack.set_env("XDG_CACHE_HOME", &stack.path().join("cache").display().to_string());
    stack.write(&format!("{HEADER}\nresource \"infratest_thing\" \"m\" {{\n  name = \"mirrored\"\n}}\n"));
    let init = stack.ok(&["init", "-no-color"]);
    assert!(init.contains("Installed registry.terraform.io/infra/infratest v1.0.0"), "{init}");
    let lock = std::fs::read_to_string(stack.path().join(".terraform.lock.hcl")).expect("lock file");

    let oracle = tempfile::tempdir().expect("temp dir");
    std::fs::copy(stack.path().join("main.tf"), oracle.path().join("main.tf")).expect("copy");
    stack.terraform(oracle.path(), &["init", "-no-color", "-input=false"]);
    let terraform_lock = std::fs::read_to_string(oracle.path().join(".terraform.lock.hcl")).expect("Terraform's lock");
    assert_eq!(lock, terraform_lock);
    stack.apply();
    let (code, plan) = stack.plan();
    assert_eq!(code, 0, "{plan}");
}

#[test]
fn a_replacement_caused_only_by_a_change_of_implementation_is_refused() {
    let mut stack = Stack::new_without_moto();
    stack.use_test_provider();
    let config = |zone: &str| {
        format!("{HEADER}\nresource \"infratest_thing\" \"z\" {{\n  name = \"zoned\"\n  zone = \"{zone}\"\n}}\n")
    };
    stack.write(&config("a"));
    stack.ok(&["init", "-no-color"]);
    stack.apply();
    let state = stack.state();
    assert_eq!(state["resources"]["infratest_thing.z"]["plugin"], "registry.terraform.io/infra/infratest");

    // The same implementation: a change of `zone` replaces, as the plugin asks.
    stack.write(&config("b"));
    let (code, plan) = stack.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("must be replaced"), "{plan}");

    // The record says another implementation (infra's native provider) wrote the object: the
    // same replacement is refused, naming the object, both implementations and the path.
    let mut state = stack.state();
    state["resources"]["infratest_thing.z"].as_object_mut().expect("record").remove("plugin");
    state["serial"] = (state["serial"].as_u64().unwrap_or(0) + 1).into();
    let file = stack.path().join("native.json");
    std::fs::write(&file, state.to_string()).expect("write");
    stack.ok(&["state", "push", file.to_str().expect("path")]);
    let (code, plan) = stack.plan();
    assert_eq!(code, 1, "{plan}");
    assert!(plan.contains("A change of provider implementation would replace an object"), "{plan}");
    assert!(plan.contains("infra's native `infratest` provider"), "{plan}");
    assert!(plan.contains("the plugin `registry.terraform.io/infra/infratest`"), "{plan}");
    assert!(plan.contains("(because of `zone`)"), "{plan}");

    // Asked for deliberately, it is planned.
    let output = stack.run(&["plan", "-no-color", "-replace=infratest_thing.z"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Plan: 1 to add, 0 to change, 1 to destroy."), "{text}");
}
