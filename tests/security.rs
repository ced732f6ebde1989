//! The security and data-safety baseline (issue 15): secrets stay secret in every output, file
//! functions refuse devices and huge files, a killed run never blocks the next, a corrupt
//! journal or state is an error that loses nothing and is recoverable, limits instead of
//! exhaustion. The controller's side (API token, untrusted pull requests) is in
//! `tests/controller.rs` and `tests/pull_requests.rs`.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::process::Output;
use support::Stack;

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

const DERIVED: &str = r#"variable "db_password" {
  type      = string
  sensitive = true
}
resource "random_password" "p" {
  length  = 24
  special = false
}
resource "local_file" "config" {
  filename = "${path.module}/app.conf"
  content  = "pw=${random_password.p.result} db=${var.db_password}"
}
output "file" {
  value = local_file.config.filename
}
"#;

#[test]
fn values_derived_from_secrets_stay_secret_in_every_output() {
    let mut stack = Stack::new_without_moto();
    stack.write(DERIVED);
    stack.set_env("TF_VAR_db_password", "hunter2-db-secret");
    stack.set_env("INFRA_LOG", "debug");
    let mut outputs = vec![stack.run(&["apply", "-auto-approve", "-no-color"])];
    assert!(outputs[0].status.success(), "{}", text(&outputs[0]));
    let generated = stack.attribute("random_password.p", "result");
    assert_eq!(generated.len(), 24);
    let written = std::fs::read_to_string(stack.path().join("app.conf")).expect("the file is written");
    assert!(written.contains(&generated), "the provider got the real value");
    // The state records the derived attribute as sensitive, as Terraform's sensitive_attributes.
    let state = stack.state();
    let marks = &state["resources"]["local_file.config"]["sensitive_attributes"];
    assert!(marks.to_string().contains("content"), "content is recorded as sensitive: {marks}");
    for args in [
        &["plan", "-no-color"][..],
        &["plan", "-json"],
        &["show", "-no-color"],
        &["show", "-json"],
        &["state", "pull"],
        &["state", "show", "local_file.config"],
        &["output"],
        &["output", "-json"],
    ] {
        outputs.push(stack.run(args));
    }
    // A change of the secret: the `before` of the next plan, then the destroy plan.
    stack.set_env("TF_VAR_db_password", "hunter2-db-changed");
    outputs.push(stack.run(&["plan", "-json"]));
    outputs.push(stack.run(&["plan", "-no-color"]));
    outputs.push(stack.run(&["plan", "-destroy", "-no-color"]));
    outputs.push(stack.run(&["destroy", "-auto-approve", "-no-color"]));
    for output in &outputs {
        let all = text(output);
        for secret in ["hunter2-db-secret", "hunter2-db-changed", generated.as_str()] {
            assert!(!all.contains(secret), "`{secret}` shown:\n{all}");
        }
    }
    let plan = text(&outputs[outputs.len() - 3]);
    assert!(plan.contains("(sensitive value)"), "{plan}");
}

#[test]
fn state_pull_redacts_and_a_redacted_file_is_never_pushed() {
    let stack = Stack::new_without_moto();
    stack.write("resource \"random_password\" \"p\" {\n  length = 20\n}\n");
    stack.apply();
    let whole = stack.ok(&["state", "pull", "-show-sensitive"]);
    let pulled = stack.ok(&["state", "pull"]);
    let password = stack.attribute("random_password.p", "result");
    assert!(whole.contains(&password) && !pulled.contains(&password), "{pulled}");
    std::fs::write(stack.path().join("pulled.json"), &pulled).expect("write");
    let pushed = stack.run(&["state", "push", "-force", "pulled.json"]);
    assert_eq!(pushed.status.code(), Some(1));
    assert!(text(&pushed).contains("-show-sensitive"), "{}", text(&pushed));
    assert_eq!(stack.attribute("random_password.p", "result"), password, "nothing was lost");
}

#[test]
fn file_functions_refuse_devices_fifos_and_huge_files_but_read_outside_the_configuration() {
    let outside = tempfile::tempdir().expect("temp dir");
    let key = outside.path().join("id.pub");
    std::fs::write(&key, "ssh-ed25519 AAAA key").expect("write");
    let huge = outside.path().join("huge.bin");
    std::fs::File::create(&huge).and_then(|f| f.set_len(17 << 20)).expect("a 17 MiB sparse file");
    let fifo = outside.path().join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let stack = Stack::new_without_moto();
    let console = |expression: &str| {
        let mut child = stack
            .command(&["console"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("console");
        use std::io::Write as _;
        child.stdin.take().expect("stdin").write_all(format!("{expression}\n").as_bytes()).expect("write");
        child.wait_with_output().expect("console ends")
    };
    stack.write("");
    // The terminal keeps Terraform's behaviour: any readable file, also outside.
    let read = console(&format!("file({:?})", key.display().to_string()));
    assert!(String::from_utf8_lossy(&read.stdout).contains("ssh-ed25519"), "{}", text(&read));
    for (path, why) in [
        ("/dev/zero".to_string(), "regular file"),
        (fifo.display().to_string(), "regular file"),
        (huge.display().to_string(), "16 MiB"),
    ] {
        let output = console(&format!("file({path:?})"));
        assert!(!output.status.success(), "{path}: {}", text(&output));
        assert!(text(&output).contains(why), "{path}: {}", text(&output));
    }
}

#[test]
fn a_module_that_calls_itself_twice_is_a_diagnostic_not_a_hang() {
    let stack = Stack::new_without_moto();
    stack.write("module \"a\" {\n  source = \"./\"\n}\nmodule \"b\" {\n  source = \"./\"\n}\n");
    let output = stack.run(&["validate", "-no-color"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("Too many modules"), "{}", text(&output));
}

#[test]
fn absurd_durations_are_clear_errors() {
    let stack = Stack::new_without_moto();
    stack.write("resource \"terraform_data\" \"a\" {}\n");
    let output = stack.run(&["plan", "-lock-timeout", "99999999999999999999h"]);
    assert!(!output.status.success());
    assert!(text(&output).contains("not a duration") || text(&output).contains("longest"), "{}", text(&output));
    let output = stack.command(&["plan", "-no-color"]).env("INFRA_LOCK_TTL", "1e300").output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("INFRA_LOCK_TTL"), "{}", text(&output));
}

/// A resource whose create waits `var.wait`.
const SLOW: &str = "variable \"wait\" {\n  default = \"1ms\"\n}\nresource \"terraform_data\" \"fast\" {\n  count = 5\n  input = count.index\n}\nresource \"time_sleep\" \"slow\" {\n  create_duration = var.wait\n}\n";

#[test]
fn a_killed_apply_never_blocks_the_next_run_on_this_machine() {
    let stack = Stack::new_without_moto();
    stack.write(SLOW);
    // The default lease (60 s), not the tests' short one: the takeover must not wait for it.
    let mut child = stack
        .command(&["apply", "-auto-approve", "-var", "wait=600s"])
        .env_remove("INFRA_LOCK_TTL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("apply starts");
    // Wait for the event: the fast resources are journaled (the slow one is then running).
    let journal = stack.path().join(".infra/state/default.journal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_to_string(&journal).map_or(0, |t| t.matches("terraform_data.fast").count()) < 5 {
        assert!(std::time::Instant::now() < deadline, "the apply never journaled its fast resources");
        std::thread::yield_now();
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let lease = stack.path().join(".infra/state/default.lease");
    assert!(lease.exists(), "the killed run left its lease behind");
    let output = stack.command(&["apply", "-auto-approve", "-no-color"]).env_remove("INFRA_LOCK_TTL").output();
    let output = output.expect("apply runs");
    assert!(output.status.success(), "the next apply takes the dead holder's lock at once:\n{}", text(&output));
    assert!(text(&output).contains("process is gone"), "{}", text(&output));
    let (code, plan) = stack.plan();
    assert_eq!(code, 0, "converged:\n{plan}");
}

fn backend(stack: &Stack) -> infra_state::local::LocalBackend {
    infra_state::local::LocalBackend::new(stack.path().join(".infra/state"), "default")
}

#[test]
fn a_corrupt_journal_record_stops_the_run_and_deletes_nothing() {
    use infra_state::Backend as _;
    let stack = Stack::new_without_moto();
    stack.write(
        &(0..3).map(|i| format!("resource \"terraform_data\" \"r{i}\" {{\n  input = {i}\n}}\n")).collect::<String>(),
    );
    stack.apply();
    let state = backend(&stack).read().expect("read").expect("state");
    // A crashed apply's journal: three finished changes, the middle one altered on disk.
    for i in 0..3 {
        let mut resource = state.resources["terraform_data.r0"].clone();
        resource.attributes["input"] = serde_json::json!(100 + i);
        let entry =
            infra_state::JournalEntry::Set { address: format!("terraform_data.r{i}"), resource: Box::new(resource) };
        backend(&stack).journal_append(&[entry], None).expect("append");
    }
    let path = stack.path().join(".infra/state/default.journal");
    let original = std::fs::read_to_string(&path).expect("journal");
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    lines[1] = lines[1].replace("101", "901");
    std::fs::write(&path, lines.join("\n") + "\n").expect("corrupt");
    let output = stack.run(&["plan", "-no-color"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let message = text(&output);
    assert!(message.contains("record 2 of 3") && message.contains("default"), "{message}");
    assert!(path.exists(), "the journal is kept");
    assert_eq!(backend(&stack).read().expect("read").map(|s| s.serial), Some(state.serial), "nothing written");

    // A torn last record (a crash mid-write) is dropped with a warning; the rest is kept.
    let torn = format!("{}\n{}", lines[0], &lines[2][..lines[2].len() / 2]);
    std::fs::write(&path, torn).expect("torn");
    let output = stack.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("cut short"), "{}", text(&output));
}

/// A stack applied twice (two versions in its history).
fn two_versions() -> Stack {
    let stack = Stack::new_without_moto();
    stack.write("resource \"terraform_data\" \"a\" {\n  input = 1\n}\n");
    stack.apply();
    stack.write("resource \"terraform_data\" \"a\" {\n  input = 2\n}\n");
    stack.apply();
    stack
}

#[test]
fn a_lost_state_with_history_is_refused_and_recovered() {
    let stack = two_versions();
    let state_file = stack.path().join(".infra/state/default.json");
    let serial = stack.state()["serial"].as_u64().expect("serial");
    std::fs::remove_file(&state_file).expect("lose the state");
    let output = stack.run(&["plan", "-no-color"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("State missing") && text(&output).contains("state rollback"), "{}", text(&output));
    let history = stack.ok(&["state", "history"]);
    assert!(history.contains(&(serial - 1).to_string()), "{history}");
    stack.ok(&["state", "rollback", &(serial - 1).to_string()]);
    let (_, plan) = stack.plan();
    assert!(plan.contains("0 to add") || plan.contains("No changes"), "the recovered state holds the object:\n{plan}");

    // Beginning afresh is explicit, and the old lineage's history survives it.
    let lineage = stack.state()["lineage"].as_str().expect("lineage").to_string();
    std::fs::remove_file(&state_file).expect("lose it again");
    stack.ok(&["apply", "-auto-approve", "-new-state"]);
    let history = stack.ok(&["state", "history"]);
    assert!(history.contains(&lineage), "the old lineage is still in history:\n{history}");
    let old = stack.ok(&["state", "pull", "-serial", &(serial - 1).to_string(), "-lineage", &lineage]);
    assert!(old.contains(&lineage), "{old}");
}

#[test]
fn recovery_commands_work_on_a_corrupt_state() {
    let stack = two_versions();
    let state_file = stack.path().join(".infra/state/default.json");
    let good = std::fs::read(&state_file).expect("state");
    let serial = stack.state()["serial"].as_u64().expect("serial");
    std::fs::remove_file(&state_file).expect("replace");
    std::fs::write(&state_file, &good[..good.len() / 2]).expect("truncate");
    let plan = stack.run(&["plan", "-no-color"]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(text(&plan).contains("corrupt"), "{}", text(&plan));
    let history = stack.ok(&["state", "history"]);
    assert!(history.contains(&(serial - 1).to_string()), "{history}");
    let earlier = stack.ok(&["state", "pull", "-serial", &(serial - 1).to_string(), "-show-sensitive"]);
    std::fs::write(stack.path().join("earlier.json"), &earlier).expect("write");
    stack.ok(&["state", "push", "-force", "earlier.json"]);
    stack.ok(&["state", "rollback", &(serial - 1).to_string()]);
    let output = stack.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(output.status.success(), "{}", text(&output));
    let kept = std::fs::read_dir(stack.path().join(".infra/state/history"))
        .expect("history")
        .filter_map(Result::ok)
        .any(|e| std::fs::read(e.path()).is_ok_and(|bytes| bytes == good[..good.len() / 2]));
    assert!(kept, "the corrupt file was kept in the history directory, not deleted");
}

#[test]
fn state_files_and_saved_plans_are_private_from_birth() {
    let stack = Stack::new_without_moto();
    stack.write("resource \"random_password\" \"p\" {\n  length = 20\n}\n");
    stack.apply();
    stack.write("resource \"random_password\" \"p\" {\n  length = 21\n}\n");
    stack.apply();
    stack.ok(&["plan", "-out", "next.plan"]);
    let dir = stack.path().join(".infra/state");
    let mut files = vec![stack.path().join("next.plan"), dir.join("default.json"), dir.join("history/default.log")];
    files.extend(std::fs::read_dir(dir.join("history")).expect("history").filter_map(Result::ok).map(|e| e.path()));
    for file in files {
        let mode = std::fs::metadata(&file).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is {mode:o}", file.display());
    }
}
