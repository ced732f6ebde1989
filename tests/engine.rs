//! The terminal workflow end to end: plan → apply → plan (no changes) → destroy, saved plans,
//! locks, lifecycle rules, moved/import, targets, state commands, partial failure.

use assert_cmd::Command;
use std::path::Path;

struct Project {
    dir: tempfile::TempDir,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Project {
    fn new(main: &str) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("main.tf"), main).expect("write");
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write");
    }

    fn command(&self) -> Command {
        let mut command = Command::cargo_bin("infra").expect("binary");
        command
            .current_dir(self.path())
            .env_remove("NO_COLOR")
            .env_remove("INFRA_WORKSPACE")
            .env_remove("TF_WORKSPACE");
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = self.command().args(args).output().expect("infra runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.code, 0, "infra {args:?} failed:\n{}\n{}", run.stdout, run.stderr);
        run
    }

    fn state(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.path().join(".infra/state/default.json")).expect("state exists"))
            .expect("state is JSON")
    }
}

/// Replaces ids, uuids and hex digests so snapshots are stable.
fn redact(text: &str) -> String {
    let uuid = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").expect("regex");
    let text = uuid.replace_all(text, "[ID]");
    let lineage = regex::Regex::new(r#""lineage":"[^"]*""#).expect("regex");
    lineage.replace_all(&text, r#""lineage":"[LINEAGE]""#).into_owned()
}

#[test]
fn quickstart_full_cycle() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.hcl");
    let project = Project::new("");
    std::fs::remove_file(project.path().join("main.tf")).expect("rm");
    std::fs::copy(source, project.path().join("main.hcl")).expect("copy");
    let applied = project.ok(&["apply", "-auto-approve"]);
    assert!(
        applied.stdout.contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    assert!(project.path().join("inventory.json").exists(), "local_file wrote its file");
    let again = project.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes."));
    // Edit one attribute: exactly that change.
    let text = std::fs::read_to_string(project.path().join("main.hcl")).expect("read");
    project.write("main.hcl", &text.replace("port = 9090", "port = 9191"));
    let changed = project.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(changed.code, 2, "{}{}", changed.stdout, changed.stderr);
    assert!(changed.stdout.contains("~ port = 9090 -> 9191"), "{}", changed.stdout);
    assert!(changed.stdout.contains("terraform_data.service[\"worker\"] will be updated in-place"));
    assert!(
        !changed.stdout.contains("terraform_data.service[\"api\"] will"),
        "only the worker changes:\n{}",
        changed.stdout
    );
    let destroyed = project.ok(&["destroy", "-auto-approve"]);
    assert!(destroyed.stdout.contains("Destroy complete! Resources: 4 destroyed."), "{}", destroyed.stdout);
    assert_eq!(project.state()["resources"], serde_json::json!({}));
    assert!(!project.path().join("inventory.json").exists());
}

const RENDERING: &str = r##"
variable "secret" {
  default   = "hunter2"
  sensitive = true
}
variable "v" {
  default = "one"
}
resource "terraform_data" "keep" {
  input = "same"
}
resource "terraform_data" "update" {
  input = { name = var.v, tags = ["a", "b"] }
}
resource "terraform_data" "replace" {
  input            = "x"
  triggers_replace = var.v
}
resource "terraform_data" "gone" {
  count = var.v == "one" ? 1 : 0
}
resource "terraform_data" "secret" {
  input = var.secret
}
resource "terraform_data" "script" {
  input = "#!/bin/sh\necho ${var.v}\nexit 0\n"
}
output "name" {
  value = terraform_data.update.output.name
}
output "password" {
  value     = var.secret
  sensitive = true
}
"##;

#[test]
fn plan_renderings_text_json_and_markdown() {
    let project = Project::new(RENDERING);
    project.ok(&["apply", "-auto-approve"]);
    let text = project.run(&["plan", "-no-color", "-var", "v=two", "-out", "saved.plan"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(!text.stdout.contains("hunter2"), "secrets never appear");
    insta::assert_snapshot!("plan_text", redact(&text.stdout));
    let json = project.run(&["show", "-json", "saved.plan"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert!(!json.stdout.contains("hunter2"));
    let again = project.run(&["show", "-json", "saved.plan"]);
    assert_eq!(json.stdout, again.stdout, "the JSON is deterministic");
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("valid JSON");
    insta::assert_snapshot!("plan_json", redact(&serde_json::to_string_pretty(&parsed).expect("pretty")));
    let plan =
        infra::plan::file::decode(&std::fs::read(project.path().join("saved.plan")).expect("saved")).expect("decodes");
    let comment = infra::render::markdown::Comment {
        stack: "test".into(),
        commit: Some("a1b2c3d4e5f6".into()),
        budget: infra::render::markdown::GITHUB_LIMIT,
        ..Default::default()
    };
    let markdown = infra::render::markdown::render(&plan, &comment);
    assert!(!markdown.contains("hunter2"));
    insta::assert_snapshot!("plan_markdown", redact(&markdown));
}

#[test]
fn saved_plan_applies_exactly_or_refuses_a_moved_state() {
    let project = Project::new("resource \"terraform_data\" \"a\" {\n  input = \"x\"\n}\n");
    project.ok(&["plan", "-out", "first.plan"]);
    project.ok(&["plan", "-out", "second.plan"]);
    let applied = project.ok(&["apply", "first.plan"]);
    assert!(applied.stdout.contains("1 added"), "{}", applied.stdout);
    let stale = project.run(&["apply", "second.plan"]);
    assert_eq!(stale.code, 1);
    assert!(stale.stderr.contains("stale"), "{}", stale.stderr);
    assert_eq!(project.state()["resources"].as_object().map(|r| r.len()), Some(1), "nothing applied twice");
}

#[test]
fn a_held_lock_names_its_holder_and_an_expired_one_is_taken_over() {
    let project = Project::new("resource \"terraform_data\" \"a\" {}\n");
    project.ok(&["apply", "-auto-approve"]);
    let lease = serde_json::json!({
        "id": "11111111-2222-3333-4444-555555555555",
        "holder": "ann@laptop (pid 42)",
        "operation": "apply",
        "created": "2026-01-01T00:00:00.000Z",
        "expires": "2999-01-01T00:00:00.000Z",
        "generation": 3
    });
    project.write(".infra/state/default.lease", &lease.to_string());
    let blocked = project.run(&["apply", "-auto-approve"]);
    assert_eq!(blocked.code, 1);
    assert!(blocked.stderr.contains("ann@laptop (pid 42)") && blocked.stderr.contains("`apply`"), "{}", blocked.stderr);
    // The holder died long ago: its lease expired; the next run takes over with a warning.
    let mut expired = lease.clone();
    expired["expires"] = serde_json::json!("2020-01-01T00:00:00.000Z");
    project.write(".infra/state/default.lease", &expired.to_string());
    let taken = project.run(&["apply", "-auto-approve"]);
    assert_eq!(taken.code, 0, "{}", taken.stderr);
    assert!(taken.stderr.contains("took over the expired state lock of ann@laptop (pid 42)"), "{}", taken.stderr);
    // force-unlock by id.
    project.write(".infra/state/default.lease", &lease.to_string());
    project.ok(&["force-unlock", "11111111-2222-3333-4444-555555555555"]);
    project.ok(&["plan"]);
}

#[test]
fn concurrent_applies_never_corrupt_the_state() {
    let mut main = String::new();
    for i in 0..200 {
        main.push_str(&format!("resource \"terraform_data\" \"r{i}\" {{\n  input = {i}\n}}\n"));
    }
    let project = Project::new(&main);
    let runs: Vec<std::process::Child> = (0..2)
        .map(|_| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("infra"))
                .current_dir(project.path())
                .args(["apply", "-auto-approve", "-lock-timeout=0s"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<std::process::Output> = runs.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
    let succeeded = outputs.iter().filter(|o| o.status.success()).count();
    assert!(succeeded >= 1, "at least one apply succeeds");
    for output in outputs.iter().filter(|o| !o.status.success()) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("The state is locked by") && stderr.contains("for `apply`"),
            "the loser names the holder: {stderr}"
        );
    }
    assert_eq!(project.state()["resources"].as_object().map(|r| r.len()), Some(200));
    assert_eq!(project.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn lifecycle_rules() {
    let project = Project::new(
        r#"
variable "v" {
  default = "a"
}
resource "terraform_data" "guarded" {
  input = var.v
  triggers_replace = var.v
  lifecycle {
    prevent_destroy = true
  }
}
resource "terraform_data" "ignored" {
  input = var.v
  lifecycle {
    ignore_changes = [input]
  }
}
resource "terraform_data" "source" {
  input = var.v
}
resource "terraform_data" "triggered" {
  input = "fixed"
  lifecycle {
    replace_triggered_by = [terraform_data.source]
    create_before_destroy = true
  }
}
"#,
    );
    project.ok(&["apply", "-auto-approve"]);
    let refused = project.run(&["plan", "-var", "v=b", "-no-color"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("Instance cannot be destroyed") && refused.stderr.contains("terraform_data.guarded"),
        "{}",
        refused.stderr
    );
    let text = std::fs::read_to_string(project.path().join("main.tf")).expect("read");
    project.write("main.tf", &text.replace("prevent_destroy = true", "prevent_destroy = false"));
    let plan = project.run(&["plan", "-var", "v=b", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(!plan.stdout.contains("terraform_data.ignored will"), "ignore_changes hides the change:\n{}", plan.stdout);
    assert!(plan.stdout.contains("# terraform_data.triggered will be replaced"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("+/- resource \"terraform_data\" \"triggered\""),
        "create_before_destroy order:\n{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("~ triggers_replace = \"a\" -> \"b\" # forces replacement"), "{}", plan.stdout);
}

#[test]
fn moved_blocks_rename_without_destroying() {
    let project = Project::new("resource \"terraform_data\" \"old\" {\n  input = 1\n}\n");
    project.ok(&["apply", "-auto-approve"]);
    let id = project.state()["resources"]["terraform_data.old"]["attributes"]["id"].clone();
    project.write("main.tf", "resource \"terraform_data\" \"new\" {\n  input = 1\n}\nmoved {\n  from = terraform_data.old\n  to   = terraform_data.new\n}\n");
    let plan = project.ok(&["plan", "-no-color"]);
    assert!(plan.stdout.contains("# terraform_data.old has moved to terraform_data.new"), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);
    project.ok(&["apply", "-auto-approve"]);
    let state = project.state();
    assert_eq!(state["resources"]["terraform_data.new"]["attributes"]["id"], id, "the same object, renamed");
    assert!(state["resources"].get("terraform_data.old").is_none());
}

#[test]
fn import_blocks_and_the_import_command() {
    let project = Project::new(
        "resource \"terraform_data\" \"a\" {}\nimport {\n  to = terraform_data.a\n  id = \"existing-1\"\n}\n",
    );
    let plan = project.ok(&["plan", "-no-color"]);
    assert!(plan.stdout.contains("Plan: 1 to import, 0 to add"), "{}", plan.stdout);
    project.ok(&["apply", "-auto-approve"]);
    assert_eq!(project.state()["resources"]["terraform_data.a"]["attributes"]["id"], "existing-1");
    project.write("main.tf", "resource \"terraform_data\" \"a\" {}\nresource \"terraform_data\" \"b\" {}\n");
    project.ok(&["import", "terraform_data.b", "existing-2"]);
    assert_eq!(project.state()["resources"]["terraform_data.b"]["attributes"]["id"], "existing-2");
    let missing = project.run(&["import", "terraform_data.nope", "x"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("Configuration for import target does not exist"), "{}", missing.stderr);
}

#[test]
fn targets_replace_and_refresh_only() {
    let project = Project::new(
        "resource \"terraform_data\" \"a\" {\n  input = 1\n}\nresource \"terraform_data\" \"b\" {\n  input = terraform_data.a.output\n}\nresource \"terraform_data\" \"c\" {\n  input = 3\n}\n",
    );
    let targeted = project.ok(&["apply", "-auto-approve", "-target", "terraform_data.b"]);
    assert!(targeted.stdout.contains("2 added"), "b and its dependency a:\n{}", targeted.stdout);
    let state = project.state();
    assert!(state["resources"].get("terraform_data.c").is_none());
    project.ok(&["apply", "-auto-approve"]);
    let replaced = project.ok(&["plan", "-replace", "terraform_data.c", "-no-color"]);
    assert!(
        replaced.stdout.contains("# terraform_data.c will be replaced") && replaced.stdout.contains("-replace"),
        "{}",
        replaced.stdout
    );
    let refresh = project.run(&["plan", "-refresh-only", "-detailed-exitcode"]);
    assert_eq!(refresh.code, 0, "nothing drifted:\n{}", refresh.stdout);
}

#[test]
fn local_file_drift_is_detected_and_repaired() {
    let project = Project::new(
        "resource \"local_file\" \"f\" {\n  filename = \"${path.module}/out.txt\"\n  content  = \"hello\\n\"\n}\n",
    );
    project.ok(&["apply", "-auto-approve"]);
    std::fs::write(project.path().join("out.txt"), "edited\n").expect("edit");
    let plan = project.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2);
    assert!(
        plan.stdout.contains("has changed outside of infra")
            || plan.stdout.contains("Objects have changed outside of infra"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    project.ok(&["apply", "-auto-approve"]);
    assert_eq!(std::fs::read_to_string(project.path().join("out.txt")).expect("read"), "hello\n");
    std::fs::remove_file(project.path().join("out.txt")).expect("rm");
    let gone = project.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(gone.code, 2);
    assert!(gone.stdout.contains("has been deleted"), "{}", gone.stdout);
}

#[test]
fn a_failure_stops_only_its_dependents() {
    let project = Project::new(
        "resource \"local_file\" \"bad\" {\n  filename = \"/proc/infra-cannot-write/x\"\n  content = \"x\"\n}\nresource \"terraform_data\" \"after_bad\" {\n  input = local_file.bad.id\n}\nresource \"terraform_data\" \"independent\" {\n  input = 1\n}\n",
    );
    let run = project.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("Local file operation failed"), "{}", run.stderr);
    assert!(
        run.stderr.contains("terraform_data.after_bad") && run.stderr.contains("was not changed because"),
        "{}",
        run.stderr
    );
    let state = project.state();
    assert!(state["resources"].get("terraform_data.independent").is_some(), "independent work went on");
    assert!(state["resources"].get("terraform_data.after_bad").is_none());
}

#[test]
fn state_commands_workspaces_and_outputs() {
    let project = Project::new(
        "resource \"terraform_data\" \"a\" {\n  count = 2\n  input = count.index\n}\noutput \"ids\" {\n  value = terraform_data.a[*].input\n}\noutput \"pw\" {\n  value = sensitive(\"s3cret\")\n  sensitive = true\n}\n",
    );
    project.ok(&["apply", "-auto-approve"]);
    assert_eq!(project.ok(&["state", "list"]).stdout, "terraform_data.a[0]\nterraform_data.a[1]\n");
    let output = project.ok(&["output", "-json"]);
    let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("json");
    assert_eq!(json["ids"]["value"], serde_json::json!([0, 1]));
    assert_eq!(json["pw"]["sensitive"], true);
    assert_eq!(project.ok(&["output"]).stdout, "ids = [\n  0,\n  1,\n]\npw = <sensitive>\n");
    project.ok(&["state", "mv", "terraform_data.a", "terraform_data.b"]);
    assert_eq!(project.ok(&["state", "list"]).stdout, "terraform_data.b[0]\nterraform_data.b[1]\n");
    project.ok(&["state", "rm", "terraform_data.b[1]"]);
    assert_eq!(project.ok(&["state", "list"]).stdout, "terraform_data.b[0]\n");
    let pulled = project.ok(&["state", "pull"]);
    let snapshot: serde_json::Value = serde_json::from_str(&pulled.stdout).expect("state JSON");
    assert!(snapshot["serial"].as_u64().unwrap_or(0) >= 3);
    assert!(project.ok(&["state", "history"]).stdout.lines().count() >= 3);
    project.ok(&["workspace", "new", "staging"]);
    assert_eq!(project.ok(&["workspace", "show"]).stdout, "staging\n");
    assert_eq!(project.ok(&["state", "list"]).stdout, "", "a new workspace has its own, empty state");
    project.ok(&["workspace", "select", "default"]);
    project.ok(&["workspace", "delete", "staging"]);
    assert_eq!(project.ok(&["workspace", "list"]).stdout, "* default\n");
    let graph = project.ok(&["graph"]);
    assert!(graph.stdout.contains("\"output.ids\" -> \"terraform_data.a\""), "{}", graph.stdout);
}

/// Regression: a list holding values known only after apply used to fail the final-plan check.
#[test]
fn lists_with_values_known_after_apply_apply_cleanly() {
    let project = Project::new(
        "resource \"terraform_data\" \"a\" {\n  input = 1\n}\nresource \"terraform_data\" \"b\" {\n  input = [\"x\", terraform_data.a.output, { id = terraform_data.a.id }]\n}\n",
    );
    project.ok(&["apply", "-auto-approve"]);
    assert_eq!(project.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn apply_asks_for_yes_unless_auto_approved() {
    let project = Project::new("resource \"terraform_data\" \"a\" {}\n");
    let refused = project.command().arg("apply").write_stdin("no\n").output().expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("Apply cancelled."));
    assert!(
        !project.path().join(".infra/state/default.json").exists()
            || project.state()["resources"] == serde_json::json!({})
    );
    let accepted = project.command().arg("apply").write_stdin("yes\n").output().expect("runs");
    assert_eq!(accepted.status.code(), Some(0), "{}", String::from_utf8_lossy(&accepted.stderr));
    assert!(project.state()["resources"].get("terraform_data.a").is_some());
}

#[test]
fn ctrl_c_finishes_running_work_and_saves_state() {
    let mut main = String::new();
    for i in 0..3000 {
        main.push_str(&format!("resource \"terraform_data\" \"r{i}\" {{\n  input = {i}\n}}\n"));
    }
    let project = Project::new(&main);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("infra"))
        .current_dir(project.path())
        .args(["apply", "-auto-approve", "-parallelism=1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until it is applying (the first progress line), then interrupt once.
    let mut stderr_pipe = std::io::BufReader::new(child.stderr.take().expect("piped"));
    let mut stderr = String::new();
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut stderr_pipe, &mut line).expect("read") == 0 {
            break;
        }
        stderr.push_str(&line);
        if line.contains("Creation complete") {
            std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
            break;
        }
    }
    std::io::Read::read_to_string(&mut stderr_pipe, &mut stderr).expect("read the rest");
    let status = child.wait().expect("wait");
    if status.success() {
        // The apply finished before the signal landed: nothing to check.
        return;
    }
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Interrupt received"), "{stderr}");
    let saved = project.state()["resources"].as_object().map(|r| r.len()).unwrap_or(0);
    assert!(saved < 3000, "the interrupt stopped the apply early");
    let again = project.ok(&["apply", "-auto-approve"]);
    assert!(again.stdout.contains(&format!("{} added", 3000 - saved)), "the rest is applied once:\n{}", again.stdout);
}

#[test]
fn modules_plan_apply_and_shrink() {
    let project = Project::new(
        "variable \"envs\" {\n  type = list(string)\n  default = [\"dev\", \"prod\"]\n}\nmodule \"env\" {\n  source   = \"./env\"\n  for_each = toset(var.envs)\n  name     = each.key\n}\noutput \"ids\" {\n  value = { for k, m in module.env : k => m.id }\n}\n",
    );
    std::fs::create_dir_all(project.path().join("env")).expect("mkdir");
    project.write(
        "env/main.tf",
        "variable \"name\" {\n  type = string\n}\nresource \"terraform_data\" \"this\" {\n  count = 2\n  input = \"${var.name}-${count.index}\"\n}\noutput \"id\" {\n  value = terraform_data.this[0].id\n}\n",
    );
    let applied = project.ok(&["apply", "-auto-approve"]);
    assert!(applied.stdout.contains("4 added"), "{}", applied.stdout);
    let state = project.state();
    assert!(state["resources"].get("module.env[\"prod\"].terraform_data.this[1]").is_some(), "{state}");
    assert_eq!(project.run(&["plan", "-detailed-exitcode"]).code, 0);
    let shrunk = project.run(&["plan", "-no-color", "-var", "envs=[\"dev\"]"]);
    assert_eq!(shrunk.code, 0, "{}", shrunk.stderr);
    assert!(
        shrunk.stdout.contains("# module.env[\"prod\"].terraform_data.this[0] will be destroyed"),
        "{}",
        shrunk.stdout
    );
    assert!(shrunk.stdout.contains("Plan: 0 to add, 0 to change, 2 to destroy."), "{}", shrunk.stdout);
}

#[test]
fn a_corrupt_state_is_a_clear_error_not_a_panic() {
    let project = Project::new("resource \"terraform_data\" \"a\" {}\n");
    project.ok(&["apply", "-auto-approve"]);
    project.write(".infra/state/default.json", "{\"version\": 1, \"serial\": ");
    let run = project.run(&["plan"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is corrupt") && run.stderr.contains("earlier versions are kept"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
