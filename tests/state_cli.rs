//! Remote state, encryption, migration and Terraform state import through the CLI, against moto's
//! S3 and a real PostgreSQL started here.

mod support;

use support::Stack;

fn resources(count: usize) -> String {
    (0..count).map(|i| format!("resource \"terraform_data\" \"r{i}\" {{\n  input = \"value-{i}\"\n}}\n")).collect()
}

fn s3_block(bucket: &str) -> String {
    format!(
        "terraform {{\n  backend \"s3\" {{\n    bucket         = \"{bucket}\"\n    key            = \"team/infra.state\"\n    region         = \"us-east-1\"\n    endpoint       = \"{}\"\n    use_path_style = true\n  }}\n}}\n",
        support::moto().endpoint
    )
}

fn s3_stack(count: usize) -> Stack {
    let stack = Stack::new();
    stack.write(&(s3_block(&support::bucket("state", true)) + &resources(count)));
    stack
}

#[test]
fn an_s3_backed_configuration_applies_plans_clean_and_keeps_history() {
    let stack = s3_stack(3);
    stack.apply();
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
    assert!(!stack.path().join(".infra/state").exists(), "nothing is kept locally");
    let text = std::fs::read_to_string(stack.path().join("main.tf")).expect("main.tf").replace("value-2", "changed");
    stack.write(&text);
    stack.apply();
    let history = stack.ok(&["state", "history"]);
    let serials: Vec<&str> = history.lines().skip(1).filter_map(|l| l.split_whitespace().next()).collect();
    assert!(serials.len() >= 2, "two versions kept in the versioned bucket:\n{history}");
    assert!(history.contains("apply"), "the operation is recorded:\n{history}");
    let first = serials.last().expect("the oldest");
    let old = stack.ok(&["state", "pull", "-serial", first]);
    assert!(old.contains("value-2"), "{old}");
}

#[test]
fn eight_concurrent_targeted_applies_on_s3_lose_no_update() {
    support::concurrent_targeted_applies(&s3_stack(8), 8);
}

const KEY: &str = "correct horse battery staple";

fn sealed_stack() -> Stack {
    let mut stack = Stack::new_without_moto();
    stack.write(
        "terraform {\n  encryption {\n    key = var.state_key\n  }\n}\nvariable \"state_key\" {\n  type      = string\n  sensitive = true\n}\nresource \"random_password\" \"db\" {\n  length = 24\n}\nresource \"terraform_data\" \"app\" {\n  input = \"hunter2-in-state\"\n}\n",
    );
    stack.set_env("TF_VAR_state_key", KEY);
    stack
}

#[test]
fn encrypted_state_and_plans_are_sealed_and_need_the_key() {
    let mut stack = sealed_stack();
    stack.apply();
    let stored = std::fs::read_to_string(stack.path().join(".infra/state/default.json")).expect("state file");
    assert!(stored.starts_with("{\"infra_encrypted\""), "{stored}");
    assert!(!stored.contains("hunter2") && !stored.contains("random_password"), "nothing in the clear: {stored}");
    let password = stack.attribute("random_password.db", "result");
    assert_eq!(password.len(), 24, "read back with the key");
    assert!(!stored.contains(&password));

    // A saved plan is sealed too, and applies with the key.
    let text = std::fs::read_to_string(stack.path().join("main.tf"))
        .expect("main.tf")
        .replace("hunter2-in-state", "value-two");
    stack.write(&text);
    stack.ok(&["plan", "-out", "next.plan"]);
    let plan = std::fs::read_to_string(stack.path().join("next.plan")).expect("plan file");
    // (`-` is not in base64's alphabet: the ciphertext cannot contain it by chance.)
    assert!(plan.starts_with("{\"infra_encrypted\"") && !plan.contains("value-two"), "{plan}");
    assert!(stack.ok(&["show", "next.plan"]).contains("value-two"));
    stack.ok(&["apply", "next.plan"]);

    // The wrong key: a clear error, exit 1, the state untouched.
    stack.set_env("TF_VAR_state_key", "incorrect horse battery staple");
    let output = stack.run(&["plan", "-no-color"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("wrong key"), "{stderr}");
    assert!(!stderr.contains(KEY) && !stderr.contains("incorrect horse"), "the key is never echoed: {stderr}");
}

#[test]
fn encryption_without_a_key_value_is_a_clear_error() {
    let stack = sealed_stack();
    let output =
        stack.command(&["plan", "-no-color"]).env_remove("TF_VAR_state_key").env("TF_VAR_state_key", "").output();
    let output = output.expect("infra runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Missing encryption key"), "{stderr}");
}

#[test]
fn init_migrates_local_state_to_postgres_keeping_serial_and_lineage() {
    let server = support::postgres();
    let stack = Stack::new_without_moto();
    stack.write(&resources(3));
    stack.apply();
    let before = stack.state();

    let pg = format!(
        "terraform {{\n  backend \"pg\" {{\n    conn_str    = \"{}\"\n    schema_name = \"migrated\"\n  }}\n}}\n",
        server.url
    );
    stack.write(&(pg.clone() + &resources(3)));
    let output = stack.run(&["plan", "-no-color"]);
    assert_eq!(output.status.code(), Some(1), "a changed backend stops plans until init");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Backend configuration changed") && stderr.contains("-migrate-state"), "{stderr}");

    let refused = stack.command(&["init", "-migrate-state"]).output().expect("infra runs");
    assert_eq!(refused.status.code(), Some(1), "without `yes`, nothing is copied");

    stack.ok(&["init", "-migrate-state", "-force-copy"]);
    let after = stack.state();
    assert_eq!(after["lineage"], before["lineage"]);
    assert_eq!(after["serial"], before["serial"]);
    assert_eq!(after["resources"], before["resources"]);
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");

    // -reconfigure: another schema, used afresh.
    stack.write(&(pg.replace("migrated", "fresh") + &resources(3)));
    stack.ok(&["init", "-reconfigure"]);
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "a fresh backend has no state: everything to create\n{text}");
}

#[test]
fn a_terraform_state_imports_and_plans_no_changes() {
    // Written by Terraform 1.11.4 (`terraform apply` of tests/fixtures/tfstate/main.tf).
    let stack = Stack::new_without_moto();
    stack.copy_from(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfstate"));
    let output = stack.run(&["state", "import-tfstate", "terraform.tfstate"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let listed = stack.ok(&["state", "list"]);
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        ["terraform_data.marker", "terraform_data.service[\"api\"]", "terraform_data.service[\"worker\"]"]
    );
    let state = stack.state();
    assert_eq!(state["lineage"], "beb27539-026b-6bcc-1c8a-686ebda33758", "the lineage carries on");
    assert_eq!(state["resources"]["terraform_data.service[\"api\"]"]["attributes"]["input"]["port"], 8080);
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
    assert_eq!(stack.ok(&["output", "-json", "names"]).trim(), r#"{"api":"shop-dev-api","worker":"shop-dev-worker"}"#);

    let again = stack.run(&["state", "import-tfstate", "terraform.tfstate"]);
    assert_eq!(again.status.code(), Some(1), "an existing state is not replaced without -force");
}

#[test]
fn terraform_remote_state_reads_terraform_and_infra_states_locally_and_in_s3() {
    let stack = Stack::new();
    let producer = "output \"vpc_id\" {\n  value = \"vpc-0abc\"\n}\n\noutput \"zones\" {\n  value = toset([\"a\", \"b\"])\n}\n\noutput \"token\" {\n  value     = \"s3cr3t-token\"\n  sensitive = true\n}\n";
    let bucket = support::bucket("remote", false);
    let dirs = ["tf_local", "tf_s3", "infra_local"];
    for dir in dirs {
        std::fs::create_dir_all(stack.path().join(dir)).expect("producer dir");
        std::fs::write(stack.path().join(dir).join("main.tf"), producer).expect("producer");
    }
    let s3_backend = format!(
        "terraform {{\n  backend \"s3\" {{\n    bucket = \"{bucket}\"\n    key = \"net/terraform.tfstate\"\n    region = \"us-east-1\"\n    endpoints = {{ s3 = \"{}\" }}\n    use_path_style = true\n    skip_credentials_validation = true\n    skip_requesting_account_id = true\n    skip_metadata_api_check = true\n  }}\n}}\n",
        support::moto().endpoint
    );
    std::fs::write(stack.path().join("tf_s3/backend.tf"), s3_backend).expect("backend");
    for dir in ["tf_local", "tf_s3"] {
        let path = stack.path().join(dir);
        stack.terraform(&path, &["init", "-input=false", "-no-color"]);
        stack.terraform(&path, &["apply", "-auto-approve", "-input=false", "-no-color"]);
    }
    stack.ok(&["-chdir=infra_local", "apply", "-auto-approve"]);

    stack.write(&format!(
        r#"data "terraform_remote_state" "tf_local" {{
  backend = "local"
  config = {{ path = "tf_local/terraform.tfstate" }}
}}

data "terraform_remote_state" "tf_s3" {{
  backend = "s3"
  config = {{
    bucket         = "{bucket}"
    key            = "net/terraform.tfstate"
    region         = "us-east-1"
    endpoint       = "{}"
    use_path_style = true
  }}
}}

data "terraform_remote_state" "infra" {{
  backend  = "local"
  config   = {{ path = "infra_local" }}
  defaults = {{ region = "eu-west-1", vpc_id = "overridden" }}
}}

output "vpcs" {{
  value = [for s in [data.terraform_remote_state.tf_local, data.terraform_remote_state.tf_s3, data.terraform_remote_state.infra] : s.outputs.vpc_id]
}}

output "zones" {{
  value = data.terraform_remote_state.tf_s3.outputs.zones
}}

output "region" {{
  value = data.terraform_remote_state.infra.outputs.region
}}

output "token" {{
  value     = data.terraform_remote_state.tf_local.outputs.token
  sensitive = true
}}
"#,
        support::moto().endpoint
    ));
    let applied = stack.ok(&["apply", "-auto-approve"]);
    assert!(!applied.contains("s3cr3t-token"), "a sensitive output stays hidden:\n{applied}");
    let outputs: serde_json::Value = serde_json::from_str(&stack.ok(&["output", "-json"])).expect("json");
    assert_eq!(outputs["vpcs"]["value"], serde_json::json!(["vpc-0abc", "vpc-0abc", "vpc-0abc"]));
    assert_eq!(outputs["zones"]["type"], serde_json::json!(["set", "string"]), "the recorded type is kept");
    assert_eq!(outputs["region"]["value"], "eu-west-1", "defaults fill what the state lacks");
    assert_eq!(outputs["token"]["sensitive"], true);
    assert_eq!(stack.ok(&["output", "-raw", "token"]), "s3cr3t-token");

    // Without `sensitive = true` the output is refused, as Terraform refuses it.
    let text = std::fs::read_to_string(stack.path().join("main.tf")).expect("main.tf");
    stack.write(&text.replace("  sensitive = true\n", ""));
    let refused = stack.run(&["plan"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Output refers to sensitive values"));

    stack.write(&text.replace("tf_local/terraform.tfstate", "nowhere/terraform.tfstate"));
    let missing = stack.run(&["plan"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("Unable to find remote state"));
}
