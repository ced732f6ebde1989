//! `infra controller` against real Git: bare repositories served by `git daemon` on loopback,
//! commits pushed with the git CLI, the controller run as a child process and observed through
//! its HTTP endpoints and the states it writes.

mod support;

use std::time::Duration;
use support::controller::{ControllerProcess, SECRET};
use support::{GitServer, Repo};

fn config(git: &GitServer, stacks: &[(&str, &str)]) -> String {
    let mut text = "controller {\n  listen   = \"LISTEN\"\n  data_dir = \"data\"\n}\n".to_string();
    for (name, settings) in stacks {
        text.push_str(&format!(
            "stack \"{name}\" {{\n  source {{\n    url    = \"{}\"\n    branch = \"main\"\n    path   = \"envs/app\"\n  }}\n{settings}\n}}\n",
            git.url("platform")
        ));
    }
    text
}

fn resources(count: usize, value: &str) -> String {
    (0..count).map(|i| format!("resource \"terraform_data\" \"r{i}\" {{\n  input = \"{value}-{i}\"\n}}\n")).collect()
}

fn state(controller: &ControllerProcess, stack: &str) -> serde_json::Value {
    let path = controller.dir.join(format!("data/stacks/{stack}/state/default.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_default()).unwrap_or(serde_json::Value::Null)
}

fn applied(commit: &str) -> impl Fn(&serde_json::Value) -> bool + '_ {
    move |status| status["applied_commit"] == commit
}

fn setup(stacks: &[(&str, &str)]) -> (GitServer, Repo, tempfile::TempDir, String) {
    let git = GitServer::start();
    let repo = git.repo("platform");
    repo.write("envs/app/main.tf", &resources(3, "v1"));
    repo.write("README.md", "platform\n");
    let first = repo.push("first");
    let dir = tempfile::tempdir().expect("temp dir");
    let text = config(&git, stacks);
    (git, repo, dir, text + &format!("# first commit {first}\n"))
}

fn first_commit(text: &str) -> String {
    text.rsplit("# first commit ").next().unwrap_or("").trim().to_string()
}

#[test]
fn a_webhook_push_is_applied_within_two_seconds_and_a_bad_signature_is_refused() {
    let (_git, repo, dir, text) = setup(&[("app", "  interval = \"1h\"")]);
    let controller = ControllerProcess::start(dir.path(), &text);
    controller.wait_for("app", Duration::from_secs(20), applied(&first_commit(&text)));
    assert_eq!(controller.get("/readyz").status, 200);
    assert_eq!(state(&controller, "app")["resources"].as_object().map(|r| r.len()), Some(3));

    repo.write("envs/app/main.tf", &resources(4, "v2"));
    let second = repo.push("second");
    let bad = support::controller::http(
        &controller.address,
        "POST",
        "/webhooks/github",
        &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", "sha256=00")],
        b"{\"ref\":\"refs/heads/main\"}",
    );
    assert_eq!(bad.status, 401, "{}", bad.body);
    assert_eq!(controller.push_webhook("platform", "not the secret").status, 401);
    let unsigned = support::controller::http(
        &controller.address,
        "POST",
        "/webhooks/github",
        &[("X-GitHub-Event", "push")],
        b"{}",
    );
    assert_eq!(unsigned.status, 401);
    // A refused webhook is answered before anything is queued.
    assert_eq!(controller.stack("app")["applied_commit"], first_commit(&text), "refused webhooks change nothing");

    let response = controller.push_webhook("platform", SECRET);
    assert_eq!(response.status, 202, "{}", response.body);
    let took = controller.wait_for("app", Duration::from_secs(10), applied(&second));
    assert!(took < Duration::from_secs(2), "applied {took:?} after the webhook");
    let status = controller.stack("app");
    assert_eq!(status["last_result"], "applied");
    assert_eq!(status["last_plan"]["add"], 1);
    assert_eq!(state(&controller, "app")["resources"]["terraform_data.r3"]["attributes"]["input"], "v2-3");

    let metrics = controller.get("/metrics").body;
    assert!(metrics.contains("infra_reconcile_total{stack=\"app\",result=\"applied\"} 2"), "{metrics}");
    assert!(metrics.contains("infra_resources{stack=\"app\",state=\"managed\"} 4"), "{metrics}");
    assert!(metrics.contains("infra_reconcile_duration_seconds_count{stack=\"app\"}"), "{metrics}");
    assert!(metrics.contains("infra_last_applied_timestamp_seconds{stack=\"app\"}"), "{metrics}");
}

#[test]
fn polling_applies_a_commit_within_the_interval_and_skips_commits_outside_the_path() {
    let (_git, repo, dir, text) = setup(&[("app", "  interval = \"1s\"")]);
    let controller = ControllerProcess::start(dir.path(), &text);
    controller.wait_for("app", Duration::from_secs(20), applied(&first_commit(&text)));
    let reconciles = controller.stack("app")["reconciles"].as_u64();

    // A commit outside envs/app: seen, not planned.
    repo.write("README.md", "platform, documented\n");
    let readme = repo.push("docs only");
    controller.wait_for("app", Duration::from_secs(5), |s| s["last_commit"] == readme);
    assert_eq!(
        controller.stack("app")["reconciles"].as_u64(),
        reconciles,
        "no reconcile for a commit outside the path"
    );

    repo.write("envs/app/main.tf", &resources(3, "polled"));
    let commit = repo.push("polled");
    let took = controller.wait_for("app", Duration::from_secs(10), applied(&commit));
    assert!(took < Duration::from_secs(2), "applied {took:?} after the push with a 1 s interval");
}

#[test]
fn a_broken_commit_changes_nothing_and_reports_its_diagnostics() {
    let (_git, repo, dir, text) = setup(&[("app", "  interval = \"1h\"")]);
    let controller = ControllerProcess::start(dir.path(), &text);
    let first = first_commit(&text);
    controller.wait_for("app", Duration::from_secs(20), applied(&first));
    let before = state(&controller, "app");

    repo.write("envs/app/main.tf", "resource \"terraform_data\" \"r0\" {\n  input = \n}\n");
    let broken = repo.push("broken");
    controller.push_webhook("platform", SECRET);
    controller.wait_for("app", Duration::from_secs(10), |s| s["last_commit"] == broken && s["last_result"] == "failed");
    let status = controller.stack("app");
    assert_eq!(status["applied_commit"], first, "the last good commit stays applied");
    let error = status["last_error"].as_str().unwrap_or("");
    assert!(error.contains("main.tf:2"), "diagnostics with file:line: {error}");
    assert_eq!(state(&controller, "app")["resources"], before["resources"], "nothing changed");
    let metrics = controller.get("/metrics").body;
    assert!(metrics.contains("infra_reconcile_total{stack=\"app\",result=\"failed\"} 1"), "{metrics}");

    // Fixing it applies again.
    repo.write("envs/app/main.tf", &resources(2, "fixed"));
    let fixed = repo.push("fixed");
    controller.push_webhook("platform", SECRET);
    controller.wait_for("app", Duration::from_secs(10), applied(&fixed));
}

#[test]
fn removed_blocks_are_destroyed_only_with_prune() {
    let (_git, repo, dir, text) =
        setup(&[("pruned", "  interval = \"1h\"\n  prune = true"), ("kept", "  interval = \"1h\"\n  prune = false")]);
    let controller = ControllerProcess::start(dir.path(), &text);
    let first = first_commit(&text);
    controller.wait_for("pruned", Duration::from_secs(20), applied(&first));
    controller.wait_for("kept", Duration::from_secs(20), applied(&first));

    repo.write("envs/app/main.tf", &resources(2, "v1"));
    let shrunk = repo.push("remove r2");
    controller.push_webhook("platform", SECRET);
    controller.wait_for("pruned", Duration::from_secs(10), applied(&shrunk));
    controller.wait_for("kept", Duration::from_secs(10), applied(&shrunk));
    assert!(state(&controller, "pruned")["resources"].get("terraform_data.r2").is_none(), "prune destroys r2");
    assert!(state(&controller, "kept")["resources"].get("terraform_data.r2").is_some(), "without prune r2 stays");
    assert_eq!(controller.stack("kept")["unpruned"], serde_json::json!(["terraform_data.r2"]));
    let metrics = controller.get("/metrics").body;
    assert!(metrics.contains("infra_resources{stack=\"kept\",state=\"unpruned\"} 1"), "{metrics}");
}

#[test]
fn drift_is_corrected_warned_about_or_ignored_by_policy() {
    let files = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| files.path().join(name).display().to_string();
    let git = GitServer::start();
    let repo = git.repo("platform");
    let mut main = String::new();
    for name in ["fixed", "warned", "ignored"] {
        main.push_str(&format!(
            "resource \"local_file\" \"{name}\" {{\n  filename = \"{}\"\n  content  = \"as configured\\n\"\n}}\n",
            path(name)
        ));
    }
    repo.write("envs/app/main.tf", &main);
    let first = repo.push("files");
    let dir = tempfile::tempdir().expect("temp dir");
    let text = config(
        &git,
        &[(
            "app",
            "  interval = \"200ms\"\n  drift_interval = \"500ms\"\n  drift = { default = \"correct\", \"local_file.warned\" = \"warn\", local_file = \"correct\", \"local_file.ignored\" = \"ignore\" }",
        )],
    );
    let controller = ControllerProcess::start(dir.path(), &text);
    controller.wait_for("app", Duration::from_secs(20), applied(&first));

    for name in ["fixed", "warned", "ignored"] {
        std::fs::write(path(name), "changed by hand\n").expect("drift");
    }
    controller
        .wait_for("app", Duration::from_secs(10), |s| s["drift_warnings"] == serde_json::json!(["local_file.warned"]));
    let restored = std::time::Instant::now();
    while std::fs::read_to_string(path("fixed")).unwrap_or_default() != "as configured\n" {
        assert!(restored.elapsed() < Duration::from_secs(10), "the corrected file was not restored");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Two more drift checks: the others stay as changed.
    let reconciles = controller.stack("app")["reconciles"].as_u64().unwrap_or(0);
    controller.wait_for("app", Duration::from_secs(10), |s| s["reconciles"].as_u64().unwrap_or(0) >= reconciles + 2);
    assert_eq!(std::fs::read_to_string(path("warned")).unwrap_or_default(), "changed by hand\n");
    assert_eq!(std::fs::read_to_string(path("ignored")).unwrap_or_default(), "changed by hand\n");
    let status = controller.stack("app");
    assert!(!status["drifted"].as_array().is_some_and(|d| d.iter().any(|a| a == "local_file.ignored")), "{status}");
    let metrics = controller.get("/metrics").body;
    assert!(metrics.contains("infra_drifted_resources{stack=\"app\"} 1"), "{metrics}");
}

#[test]
fn twenty_commits_in_a_row_end_in_the_last_one_without_overlap() {
    let (_git, repo, dir, text) = setup(&[("app", "  interval = \"1h\"")]);
    let controller = ControllerProcess::start(dir.path(), &text);
    controller.wait_for("app", Duration::from_secs(20), applied(&first_commit(&text)));
    let mut last = String::new();
    for n in 0..20 {
        repo.write("envs/app/main.tf", &resources(3 + n % 4, &format!("c{n}")));
        last = repo.push(&format!("commit {n}"));
        assert_eq!(controller.push_webhook("platform", SECRET).status, 202);
    }
    controller.wait_for("app", Duration::from_secs(30), applied(&last));
    let resources = state(&controller, "app")["resources"].clone();
    let expected: Vec<String> = (0..3 + 19 % 4).map(|i| format!("terraform_data.r{i}")).collect();
    let found: Vec<String> = resources.as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default();
    assert_eq!(found, expected, "the state is the last commit's");
    for i in 0..expected.len() {
        assert_eq!(resources[format!("terraform_data.r{i}")]["attributes"]["input"], format!("c19-{i}"));
    }
    assert_eq!(controller.stack("app")["max_concurrent"], 1, "no reconcile overlapped another");
}

#[test]
fn a_controller_killed_during_an_apply_converges_after_restart() {
    let git = GitServer::start();
    let repo = git.repo("platform");
    let mut main = resources(4, "before");
    main.push_str("resource \"time_sleep\" \"wait\" {\n  create_duration = \"3s\"\n  triggers = { after = terraform_data.r0.id }\n}\n");
    main.push_str("resource \"terraform_data\" \"after\" {\n  input = time_sleep.wait.id\n}\n");
    repo.write("envs/app/main.tf", &main);
    let commit = repo.push("slow");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut controller = ControllerProcess::start(dir.path(), &config(&git, &[("app", "  interval = \"1h\"")]));
    // Killed while time_sleep waits: r0..r3 are finished (journaled), `after` is not started.
    let journal = dir.path().join("data/stacks/app/state/default.journal");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&journal).unwrap_or_default().lines().count() < 4 {
        assert!(started.elapsed() < Duration::from_secs(20), "the apply did not start:\n{}", controller.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let journaled: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .lines()
        // Each record is `CHECKSUM JSON` (docs/state.md).
        .filter_map(|line| serde_json::from_str(line.split_once(' ').map_or(line, |(_, json)| json)).ok())
        .collect();
    controller.signal("KILL");
    let ids: Vec<(String, String)> = journaled
        .iter()
        .filter_map(|e| {
            Some((e["address"].as_str()?.to_string(), e["resource"]["attributes"]["id"].as_str()?.to_string()))
        })
        .collect();
    assert!(!ids.is_empty(), "{journaled:?}");

    controller.restart();
    controller.wait_for("app", Duration::from_secs(30), applied(&commit));
    let resources = state(&controller, "app")["resources"].clone();
    let found: Vec<String> = resources.as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default();
    assert_eq!(
        found,
        [
            "terraform_data.after",
            "terraform_data.r0",
            "terraform_data.r1",
            "terraform_data.r2",
            "terraform_data.r3",
            "time_sleep.wait"
        ],
        "everything once"
    );
    for (address, id) in ids {
        assert_eq!(resources[&address]["attributes"]["id"], id.as_str(), "{address} kept, not made again");
    }
}

#[test]
fn reconcile_on_demand_from_the_command_line() {
    let (_git, _repo, dir, text) = setup(&[("app", "  interval = \"1h\"")]);
    let controller = ControllerProcess::start(dir.path(), &text);
    controller.wait_for("app", Duration::from_secs(20), applied(&first_commit(&text)));
    let reconciles = controller.stack("app")["reconciles"].as_u64().unwrap_or(0);
    let reconcile = |stack: &str| {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("infra"));
        command.args(["controller", "reconcile", stack, "--address", &format!("http://{}", controller.address)]);
        command
    };
    // Without the API token the request is refused (issue 15), and nothing is reconciled.
    let refused = reconcile("app").env_remove("INFRA_API_TOKEN").output().expect("infra runs");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Bearer"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let output = reconcile("app").env("INFRA_API_TOKEN", support::controller::API_TOKEN).output().expect("infra runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    controller.wait_for("app", Duration::from_secs(10), |s| s["reconciles"].as_u64().unwrap_or(0) > reconciles);
    let missing =
        reconcile("nope").env("INFRA_API_TOKEN", support::controller::API_TOKEN).output().expect("infra runs");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no stack `nope`"));
}

/// The requests a recording server received: (path, body).
type Recorded = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// Accepts HTTP requests, answers 200, and keeps (path, body) of each.
fn recording_server() -> (String, Recorded) {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            record.lock().expect("lock").push((path, body));
            let _ = reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (address, seen)
}

#[test]
fn reconcile_spans_are_exported_to_an_otlp_endpoint() {
    let (endpoint, seen) = recording_server();
    let (_git, _repo, dir, text) = setup(&[("app", "  interval = \"1h\"")]);
    let controller = ControllerProcess::start_with_env(
        dir.path(),
        &text,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "100")],
    );
    controller.wait_for("app", Duration::from_secs(20), applied(&first_commit(&text)));
    let started = std::time::Instant::now();
    loop {
        let spans = seen.lock().expect("lock").clone();
        if spans.iter().any(|(path, body)| path == "/v1/traces" && body.windows(9).any(|w| w == b"reconcile")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no reconcile span exported: {:?}",
            spans.iter().map(|s| &s.0).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_during_an_apply_finishes_it_and_releases_the_lock() {
    let git = GitServer::start();
    let repo = git.repo("platform");
    let mut main = resources(2, "x");
    main.push_str("resource \"time_sleep\" \"wait\" {\n  create_duration = \"2s\"\n}\n");
    main.push_str("resource \"terraform_data\" \"after\" {\n  input = time_sleep.wait.id\n}\n");
    repo.write("envs/app/main.tf", &main);
    repo.push("slow");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut controller = ControllerProcess::start(dir.path(), &config(&git, &[("app", "  interval = \"1h\"")]));
    let journal = dir.path().join("data/stacks/app/state/default.journal");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&journal).unwrap_or_default().lines().count() < 2 {
        assert!(started.elapsed() < Duration::from_secs(20), "the apply did not start:\n{}", controller.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let stopping = std::time::Instant::now();
    let status = controller.signal("TERM").expect("the controller exits");
    assert!(status.success(), "exit status {status:?}:\n{}", controller.log());
    assert!(stopping.elapsed() < Duration::from_secs(10), "stopped in {:?}", stopping.elapsed());
    assert!(!dir.path().join("data/stacks/app/state/default.lease").exists(), "the state lock is released");
    let state = state(&controller, "app");
    assert!(
        state["resources"].get("time_sleep.wait").is_some(),
        "the running operation finished and was recorded: {state}"
    );
    assert!(state["resources"].get("terraform_data.after").is_none(), "nothing new started after SIGTERM: {state}");
}

#[test]
fn a_file_url_source_is_reconciled_too() {
    let git = GitServer::start();
    let repo = git.repo("platform");
    repo.write("envs/app/main.tf", &resources(2, "file"));
    let commit = repo.push("first");
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!(
        "controller {{\n  listen = \"LISTEN\"\n  data_dir = \"data\"\n}}\nstack \"app\" {{\n  source {{\n    url  = \"{}\"\n    path = \"envs/app\"\n  }}\n}}\n",
        repo.file_url()
    );
    let controller = ControllerProcess::start(dir.path(), &text);
    controller.wait_for("app", Duration::from_secs(20), applied(&commit));
    assert_eq!(state(&controller, "app")["resources"]["terraform_data.r1"]["attributes"]["input"], "file-1");
}
