//! The `pg` state backend through the CLI, against a real PostgreSQL started here.

mod support;

use support::Stack;

fn pg_stack(url: &str, resources: usize) -> Stack {
    let stack = Stack::new_without_moto();
    let mut text = format!("terraform {{\n  backend \"pg\" {{\n    conn_str = \"{url}\"\n  }}\n}}\n");
    for i in 0..resources {
        text.push_str(&format!("resource \"terraform_data\" \"r{i}\" {{\n  input = \"value-{i}\"\n}}\n"));
    }
    stack.write(&text);
    stack
}

#[test]
fn a_pg_backed_configuration_applies_and_plans_clean() {
    let server = support::postgres();
    let stack = pg_stack(&server.url, 3);
    stack.apply();
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
    assert!(!stack.path().join(".infra/state").exists(), "nothing is kept locally");
    let history = stack.ok(&["state", "list"]);
    assert_eq!(history.lines().count(), 3, "{history}");
}

#[test]
fn eight_concurrent_targeted_applies_lose_no_update() {
    let server = support::postgres();
    support::concurrent_targeted_applies(&pg_stack(&server.url, 8), 8);
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let stack = pg_stack("postgres://ann:hunter2@127.0.0.1:9/db", 1);
    let output = stack.run(&["plan", "-no-color"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Cannot open the state backend"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "no password in errors: {stderr}");
}

#[test]
fn history_pull_by_serial_and_rollback() {
    let server = support::postgres();
    let stack = pg_stack(&server.url, 3);
    stack.apply();
    let first = stack.state()["serial"].as_u64().expect("a serial");
    let fewer = pg_stack(&server.url, 1);
    std::fs::copy(fewer.path().join("main.tf"), stack.path().join("main.tf")).expect("copy");
    stack.apply();
    assert_eq!(stack.ok(&["state", "list"]).lines().count(), 1);
    let history = stack.ok(&["state", "history"]);
    assert!(history.lines().any(|l| l.starts_with(&format!("{first} "))), "{history}");
    let old = stack.ok(&["state", "pull", "-serial", &first.to_string()]);
    assert!(old.contains("terraform_data.r2"), "{old}");
    stack.ok(&["state", "rollback", &first.to_string()]);
    assert_eq!(stack.ok(&["state", "list"]).lines().count(), 3, "the rollback brought version {first} back");
    let serial = stack.state()["serial"].as_u64().expect("a serial");
    assert!(serial > first + 1, "a rollback writes a new serial ({serial}), history is not rewritten");
    assert!(stack.run(&["state", "rollback", "999"]).status.code() == Some(1));
}

/// An apply holding the lock: without -auto-approve it waits for "yes" on stdin, and it asks
/// only once it holds the lock and has planned. Returns when the question is on its stdout.
fn spawn_waiting_apply(stack: &Stack) -> std::process::Child {
    use std::io::Read as _;
    let mut child = stack
        .command(&["apply", "-no-color"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("infra apply starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("Enter a value:") {
        match stdout.read(&mut chunk) {
            Ok(0) | Err(_) => panic!("the apply ended before asking:\n{}", String::from_utf8_lossy(&seen)),
            Ok(read) => seen.extend_from_slice(&chunk[..read]),
        }
    }
    // Kept open: the apply writes more once approved.
    child.stdout = Some(stdout);
    child
}

fn signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
    assert!(status.is_ok_and(|s| s.success()), "kill -{signal}");
}

#[test]
fn a_killed_holder_is_taken_over_and_a_paused_one_is_fenced_off() {
    use std::io::Write as _;
    let server = support::postgres();
    let stack = pg_stack(&server.url, 2);
    stack.apply();

    // SIGKILL while holding the lock (a change, so that it asks): the next run waits for the
    // lease to expire and takes over.
    let text = std::fs::read_to_string(stack.path().join("main.tf")).expect("main.tf");
    std::fs::write(stack.path().join("main.tf"), text.replace("value-0", "killed-change")).expect("write");
    let mut killed = spawn_waiting_apply(&stack);
    signal(&killed, "KILL");
    let _ = killed.wait();
    let output = stack.run(&["apply", "-auto-approve", "-lock-timeout", "20s", "-no-color"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stack.state()["resources"]["terraform_data.r0"]["attributes"]["input"], "killed-change");

    // SIGSTOP past the lease's expiry: another run takes over and writes; the paused one, resumed
    // and approved, cannot write over it.
    std::fs::write(stack.path().join("main.tf"), text.replace("value-0", "paused-change")).expect("write");
    let mut paused = spawn_waiting_apply(&stack);
    signal(&paused, "STOP");
    // The next apply waits (-lock-timeout) until the paused holder's lease has expired.
    std::fs::write(stack.path().join("main.tf"), text.replace("value-0", "newer-change")).expect("write");
    let output = stack.run(&["apply", "-auto-approve", "-lock-timeout", "20s", "-no-color"]);
    assert!(output.status.success(), "the takeover applies: {}", String::from_utf8_lossy(&output.stderr));
    let newer_serial = stack.state()["serial"].as_u64();
    signal(&paused, "CONT");
    if let Some(stdin) = paused.stdin.as_mut() {
        let _ = stdin.write_all(b"yes\n");
    }
    let resumed = paused.wait_with_output().expect("the paused apply ends");
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(!resumed.status.success(), "the fenced-off apply fails:\n{stderr}");
    assert!(stderr.contains("lock was lost") || stderr.contains("taken over"), "{stderr}");
    let state = stack.state();
    assert_eq!(state["serial"].as_u64(), newer_serial, "nothing was written over the newer state");
    assert_eq!(state["resources"]["terraform_data.r0"]["attributes"]["input"], "newer-change");
}
