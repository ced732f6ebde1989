//! The `infra` binary as a user runs it: exit codes, stdout and stderr (insta snapshots).

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn infra() -> Command {
    let mut command = Command::cargo_bin("infra").expect("the infra binary is built");
    command.env_remove("NO_COLOR").env("TERM", "dumb");
    for (key, _) in std::env::vars() {
        if key.starts_with("INFRA_VAR_") || key.starts_with("TF_VAR_") {
            command.env_remove(key);
        }
    }
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(command: &mut Command) -> Run {
    let output = command.output().expect("infra runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn quickstart_is_valid() {
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    let result = run(infra().arg("-chdir").arg(&quickstart).arg("validate"));
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(result.stdout, "Success! The configuration is valid.\n");
}

#[test]
fn three_mistakes_are_all_reported_with_locations() {
    let result = run(infra().arg("-C").arg(fixture("three-mistakes")).arg("validate"));
    assert_eq!(result.code, 1);
    insta::assert_snapshot!(result.stderr);
}

#[test]
fn terraform_flag_spellings_are_accepted() {
    let dir = fixture("three-mistakes");
    let single_dash = run(infra().arg(format!("-chdir={}", dir.display())).arg("validate").arg("-json"));
    let double_dash = run(infra().arg(format!("--chdir={}", dir.display())).arg("validate").arg("--json"));
    assert_eq!(single_dash.code, 1);
    assert_eq!(single_dash.stdout, double_dash.stdout);
    let json: serde_json::Value = serde_json::from_str(&single_dash.stdout).expect("one JSON document");
    assert_eq!(json["valid"], false);
    assert_eq!(json["error_count"], 3);
    insta::assert_snapshot!(serde_json::to_string_pretty(&json).expect("serializable"));
}

#[test]
fn cycles_list_every_member() {
    let result = run(infra().arg("-C").arg(fixture("cycle")).arg("validate"));
    assert_eq!(result.code, 1);
    insta::assert_snapshot!(result.stderr);
}

#[test]
fn yaml_blocks_and_manifests_load_and_errors_point_at_yaml_lines() {
    let result = run(infra().arg("-C").arg(fixture("yaml")).arg("validate"));
    assert_eq!(result.code, 1);
    insta::assert_snapshot!(result.stderr);
}

#[test]
fn syntax_errors_point_at_the_file() {
    let result = run(infra().arg("-C").arg(fixture("syntax-error")).arg("validate"));
    assert_eq!(result.code, 1);
    insta::assert_snapshot!(result.stderr);
}

#[test]
fn duplicates_and_unknown_blocks_are_reported_together() {
    let result = run(infra().arg("-C").arg(fixture("duplicates")).arg("validate"));
    assert_eq!(result.code, 1);
    insta::assert_snapshot!(result.stderr);
}

#[test]
fn module_arguments_are_checked_against_the_child() {
    let result = run(infra().arg("-C").arg(fixture("module-errors")).arg("validate"));
    assert_eq!(result.code, 1);
    insta::assert_snapshot!(result.stderr);
}

#[test]
fn console_evaluates_modules_with_count() {
    let result = run(infra()
        .arg("-C")
        .arg(fixture("modules"))
        .arg("console")
        .arg("-json")
        .write_stdin("module.net[1].subnets\nlength(module.net)\n"));
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(result.stdout, "[\"10.1.0.0/24\",\"10.1.1.0/24\"]\n2\n");
}

#[test]
fn console_prints_one_json_line_per_expression_and_fails_at_the_end() {
    let input = "upper(\"hi\")\n{ a = [1, 2.5], b = null }\nnope(1)\n1 + 1\n";
    let result = run(infra().arg("-C").arg(fixture("modules")).arg("console").arg("--json").write_stdin(input));
    assert_eq!(result.code, 1);
    assert_eq!(result.stdout, "\"HI\"\n{\"a\":[1,2.5],\"b\":null}\n2\n");
    insta::assert_snapshot!(result.stderr);
}

#[test]
fn console_hides_sensitive_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), "variable \"pw\" {\n  default   = \"hunter2\"\n  sensitive = true\n}\n")
        .expect("write");
    let result = run(infra()
        .arg("-C")
        .arg(dir.path())
        .arg("console")
        .write_stdin("var.pw\n{ p = var.pw }\nnonsensitive(var.pw)\n"));
    assert_eq!(result.code, 0, "{}", result.stderr);
    insta::assert_snapshot!(result.stdout);
}

#[test]
fn variables_come_from_flags_files_and_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("main.tf"),
        "variable \"a\" {}\nvariable \"b\" { type = list(string) }\nvariable \"c\" {}\nvariable \"d\" { default = \"d\" }\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("extra.tfvars"), "b = [\"x\", \"y\"]\nc = \"from-file\"\n").expect("write");
    let result = run(infra()
        .arg("-C")
        .arg(dir.path())
        .arg("console")
        .arg("-json")
        .args(["-var", "a=from-flag", "-var-file", "extra.tfvars"])
        .env("INFRA_VAR_d", "from-env")
        .env("TF_VAR_c", "overridden-by-file")
        .write_stdin("[var.a, var.b, var.c, var.d]\n"));
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(result.stdout, "[\"from-flag\",[\"x\",\"y\"],\"from-file\",\"from-env\"]\n");

    let result = run(infra().arg("-C").arg(dir.path()).arg("console").args(["-var", "zz=1"]).write_stdin("1\n"));
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("Value for undeclared variable"), "{}", result.stderr);
    let result = run(infra().arg("-C").arg(dir.path()).arg("console").write_stdin("1\n"));
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("No value for required variable"), "{}", result.stderr);
}

#[test]
fn fmt_is_canonical_idempotent_and_keeps_comments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("messy.tf");
    std::fs::copy(fixture("fmt").join("messy.tf"), &path).expect("copy");
    let check = run(infra().arg("-C").arg(dir.path()).arg("fmt").arg("-check"));
    assert_eq!(check.code, 3);
    assert_eq!(check.stdout, "messy.tf\n");
    let first = run(infra().arg("-C").arg(dir.path()).arg("fmt"));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let formatted = std::fs::read_to_string(&path).expect("read");
    insta::assert_snapshot!(formatted);
    let again = run(infra().arg("-C").arg(dir.path()).arg("fmt").arg("--check"));
    assert_eq!(again.code, 0, "formatting formatted output changes nothing");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), formatted);
}

#[test]
fn fmt_refuses_files_that_do_not_parse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken.tf");
    std::fs::write(&path, "resource \"a\" \"b\" {\n").expect("write");
    let result = run(infra().arg("-C").arg(dir.path()).arg("fmt"));
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("broken.tf:1:"), "{}", result.stderr);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "resource \"a\" \"b\" {\n");
}

#[test]
fn version_and_help() {
    let version = run(infra().arg("--version"));
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("infra "), "{}", version.stdout);
    let help = run(infra().arg("-help"));
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Examples:"), "{}", help.stdout);
}

#[test]
fn unreadable_directory_is_an_error_not_a_panic() {
    let result = run(infra().arg("-C").arg("/definitely/not/here").arg("validate"));
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("cannot switch to"), "{}", result.stderr);
}

#[test]
fn console_type_shows_a_values_type_as_terraforms_console_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), "locals {\n  x = { a = [1, \"b\"], c = true }\n}\n").expect("write");
    let result =
        run(infra().arg("-C").arg(dir.path()).arg("console").write_stdin("type(local.x)\ntype(\"s\")\ntype([])\n"));
    assert_eq!(result.code, 0, "{}", result.stderr);
    // Recorded from `terraform console` 1.11.4 on the same lines.
    assert_eq!(
        result.stdout,
        "object({\n    a: tuple([\n        number,\n        string,\n    ]),\n    c: bool,\n})\nstring\ntuple([])\n"
    );
}

#[test]
fn files_that_are_not_configuration_are_not_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), "output \"ok\" {\n  value = 1\n}\n").expect("write");
    // None of these parses as configuration; Terraform does not read them either.
    std::fs::write(dir.path().join(".terraform.lock.hcl"), "provider \"x\" { version = \"1\" }\n").expect("write");
    std::fs::write(dir.path().join("main.tftest.hcl"), "run \"plan\" {\n  command = plan\n}\n").expect("write");
    std::fs::write(dir.path().join("terragrunt.hcl"), "include \"root\" {\n  path = find_in_parent_folders()\n}\n")
        .expect("write");
    std::fs::write(dir.path().join("README.yaml"), "name: my-module\ndescription: |\n  A module.\n").expect("write");
    let result = run(infra().arg("-C").arg(dir.path()).arg("validate").arg("-no-color"));
    assert_eq!(result.code, 0, "{}", result.stderr);
    // A YAML file with a block key is configuration, and its mistakes are reported.
    std::fs::write(dir.path().join("extra.yaml"), "output:\n  x:\n    value: 1\nnonsense: 2\n").expect("write");
    let result = run(infra().arg("-C").arg(dir.path()).arg("validate").arg("-no-color"));
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(result.stderr.contains("nonsense"), "{}", result.stderr);
}

#[test]
fn a_cloud_block_is_refused_rather_than_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("main.tf"),
        "terraform {\n  cloud {\n    organization = \"acme\"\n    workspaces {\n      name = \"prod\"\n    }\n  }\n}\n",
    )
    .expect("write");
    let result = run(infra().arg("-C").arg(dir.path()).arg("plan").arg("-no-color"));
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(result.stderr.contains("Unsupported `cloud` block"), "{}", result.stderr);
    assert!(!dir.path().join(".infra").exists(), "no local state was made");
}

#[test]
fn output_json_leaves_out_null_outputs_as_terraform_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("main.tf"),
        "output \"some\" {\n  value = \"x\"\n}\noutput \"none\" {\n  value = null\n}\n",
    )
    .expect("write");
    let applied = run(infra().arg("-C").arg(dir.path()).args(["apply", "-auto-approve", "-no-color"]));
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let result = run(infra().arg("-C").arg(dir.path()).args(["output", "-json"]));
    assert_eq!(result.code, 0, "{}", result.stderr);
    let outputs: serde_json::Value = serde_json::from_str(&result.stdout).expect("JSON");
    assert_eq!(outputs["some"]["value"], "x");
    assert!(outputs.get("none").is_none(), "{outputs}");
}

#[test]
fn destroy_refuses_a_configuration_that_cannot_be_evaluated() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), "resource \"terraform_data\" \"a\" {\n  input = 1\n}\n").expect("write");
    let applied = run(infra().arg("-C").arg(dir.path()).args(["apply", "-auto-approve", "-no-color"]));
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    std::fs::write(dir.path().join("main.tf"), "resource \"terraform_data\" \"a\" {\n  input = nope(1)\n}\n")
        .expect("write");
    let destroyed = run(infra().arg("-C").arg(dir.path()).args(["destroy", "-auto-approve", "-no-color"]));
    assert_eq!(destroyed.code, 1, "{}{}", destroyed.stdout, destroyed.stderr);
    assert!(destroyed.stderr.contains("Call to unknown function"), "{}", destroyed.stderr);
    let listed = run(infra().arg("-C").arg(dir.path()).args(["state", "list"]));
    assert_eq!(listed.stdout.trim(), "terraform_data.a", "nothing was destroyed");
}

#[test]
fn a_mistake_in_a_module_called_many_times_is_shown_once_at_a_clean_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("modules/thing")).expect("module dir");
    std::fs::write(
        dir.path().join("main.tf"),
        "module \"thing\" {\n  source = \"./modules/thing\"\n  count  = 4\n  n      = count.index\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("modules/thing/main.tf"),
        "variable \"n\" {}\n\noutput \"v\" {\n  value = tonumber(\"x${var.n}x\")\n}\n",
    )
    .expect("write");
    let result = run(infra().arg("-C").arg(dir.path()).args(["plan", "-no-color"]));
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert_eq!(result.stderr.matches("error: ").count(), 1, "{}", result.stderr);
    assert!(result.stderr.contains("…and 3 more instances"), "{}", result.stderr);
    assert!(result.stderr.contains("--> modules/thing/main.tf:4:"), "{}", result.stderr);
}

#[test]
fn malformed_json_configuration_is_a_located_diagnostic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("{\"variable\": {\"x\": {\"default\": [1, }}}", "Invalid JSON", "main.tf.json:1:"),
        ("{\"resource\": {},\n \"bogus\": 1}", "Unsupported block type", "main.tf.json:2:"),
        ("[1, 2]", "Invalid JSON configuration", "main.tf.json:1:1"),
        (&"[".repeat(100_000), "Invalid JSON", "main.tf.json"),
        ("{\"output\": {\"x\": {\"value\": \"${1 +}\"}}}", "Invalid", "main.tf.json"),
    ];
    for (text, summary, location) in cases {
        std::fs::write(dir.path().join("main.tf.json"), text).expect("write");
        let result = run(infra().arg("-C").arg(dir.path()).arg("validate").arg("-no-color"));
        assert_eq!(result.code, 1, "{text:.40}: {}", result.stderr);
        assert!(result.stderr.contains(summary), "{text:.40}: {}", result.stderr);
        assert!(result.stderr.contains(location), "{text:.40}: {}", result.stderr);
    }
}

#[test]
fn json_and_native_files_make_one_module() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("main.tf.json"),
        r#"{"//": "comment", "variable": {"n": {"type": "list(string)", "default": ["a"]}},
            "locals": [{"q": "${jsonencode({k = \"v\"})}"}],
            "output": {"from_json": {"value": "${local.q} ${var.n[0]} $${literal}"}}}"#,
    )
    .expect("write");
    std::fs::write(dir.path().join("more.tf"), "output \"from_tf\" {\n  value = length(var.n)\n}\n").expect("write");
    let result = run(infra().arg("-C").arg(dir.path()).arg("apply").arg("-auto-approve").arg("-no-color"));
    assert_eq!(result.code, 0, "{}", result.stderr);
    let result = run(infra().arg("-C").arg(dir.path()).arg("output").arg("-json"));
    let outputs: serde_json::Value = serde_json::from_str(&result.stdout).expect("JSON");
    assert_eq!(outputs["from_json"]["value"], "{\"k\":\"v\"} a ${literal}");
    assert_eq!(outputs["from_tf"]["value"], 1);
}

#[test]
fn resource_preconditions_and_postconditions_are_enforced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = |port: u32| {
        format!(
            "resource \"terraform_data\" \"db\" {{\n  count = 2\n  input = {{ port = {port}, index = count.index }}\n  lifecycle {{\n    precondition {{\n      condition     = {port} > 1024\n      error_message = \"Privileged port.\"\n    }}\n    postcondition {{\n      condition     = self.output.index == 0\n      error_message = \"Instance ${{count.index}} is not the first.\"\n    }}\n  }}\n}}\n"
        )
    };
    std::fs::write(dir.path().join("main.tf"), config(80)).expect("write");
    let plan = run(infra().arg("-C").arg(dir.path()).arg("plan").arg("-no-color"));
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(
        plan.stderr.contains("Resource precondition failed") && plan.stderr.contains("Privileged port."),
        "{}",
        plan.stderr
    );
    std::fs::write(dir.path().join("main.tf"), config(5432)).expect("write");
    // Known only after apply: the plan passes, the apply reports the second instance.
    let plan = run(infra().arg("-C").arg(dir.path()).arg("plan").arg("-no-color"));
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let apply = run(infra().arg("-C").arg(dir.path()).arg("apply").arg("-auto-approve").arg("-no-color"));
    assert_eq!(apply.code, 1, "{}", apply.stderr);
    assert!(apply.stderr.contains("Resource postcondition failed"), "{}", apply.stderr);
    assert!(
        apply.stderr.contains("Instance 1 is not the first.") && !apply.stderr.contains("Instance 0"),
        "{}",
        apply.stderr
    );
}
