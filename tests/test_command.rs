//! `infra test` against `terraform test` on the same configurations (tests/fixtures/tftest):
//! the same lines for every file and run (pass, fail, skip), the same summary and exit code.
//! The fixtures cover assertions on plans and applies, `expect_failures` on variables,
//! resources and check blocks, chained runs (`run.NAME.OUTPUT`), `module { source }` runs with
//! their own state, errors that skip the rest, a missing expected failure and a condition
//! unknown at plan time.

use std::path::{Path, PathBuf};
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Exit code and the non-blank lines of stdout.
fn lines(mut command: Command, dir: &Path) -> (i32, Vec<String>) {
    let output = command
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("TF_IN_AUTOMATION", "1")
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    (output.status.code().unwrap_or(-1), stdout.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect())
}

fn compare(name: &str) -> (i32, Vec<String>) {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tftest").join(name);
    let work = tempfile::tempdir().expect("temp dir");
    let (ours, theirs) = (work.path().join("infra"), work.path().join("terraform"));
    copy_dir(&source, &ours);
    copy_dir(&source, &theirs);
    let mut init = Command::new("terraform");
    init.args(["init", "-no-color", "-input=false"]);
    assert_eq!(lines(init, &theirs).0, 0, "terraform init");
    let mut terraform = Command::new("terraform");
    terraform.args(["test", "-no-color"]);
    let expected = lines(terraform, &theirs);
    let mut infra = Command::new(assert_cmd::cargo::cargo_bin("infra"));
    infra.args(["test", "-no-color"]);
    let actual = lines(infra, &ours);
    assert_eq!(actual, expected, "{name}: infra test (left) and terraform test (right) differ");
    assert!(!ours.join(".infra").exists(), "{name}: the runs kept their states out of the configuration");
    actual
}

#[test]
fn assertions_expected_failures_and_chained_runs_match_terraform() {
    let (code, lines) = compare("basic");
    assert_eq!(code, 1);
    assert!(lines.contains(&"  run \"short_name\"... pass".to_string()), "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some("Failure! 6 passed, 1 failed."));
}

#[test]
fn errors_skip_the_runs_after_them_as_in_terraform() {
    let (code, lines) = compare("errors");
    assert_eq!(code, 1);
    assert_eq!(lines.last().map(String::as_str), Some("Failure! 1 passed, 3 failed, 3 skipped."));
}

#[test]
fn module_runs_keep_their_own_state_as_in_terraform() {
    let (code, lines) = compare("modules");
    assert_eq!(code, 0);
    assert_eq!(lines.last().map(String::as_str), Some("Success! 3 passed, 0 failed."));
}

#[test]
fn malformed_test_files_are_reported_not_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), "output \"x\" {\n  value = 1\n}\n").expect("write");
    std::fs::write(dir.path().join("a.tftest.hcl"), "run \"x\" {\n  command = \n").expect("write");
    std::fs::write(dir.path().join("b.tftest.hcl"), "mock_provider \"aws\" {}\nrun \"y\" {\n  command = destroy\n}\n")
        .expect("write");
    let output = Command::new(assert_cmd::cargo::cargo_bin("infra"))
        .args(["test", "-no-color"])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("a.tftest.hcl... fail") && stdout.contains("b.tftest.hcl... fail"), "{stdout}");
    assert!(stderr.contains("a.tftest.hcl:"), "{stderr}");
    assert!(stderr.contains("mock_provider") && stderr.contains("Invalid command"), "{stderr}");
}
