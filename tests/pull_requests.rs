//! Plans as pull-request comments: the Markdown (snapshots for small, 10,000-resource and
//! sensitive plans), `infra plan --comment` against a recording HTTP server standing in for
//! GitHub and GitLab (the forges cannot be reached from here: `wiremock` records method, path,
//! headers and body), and the controller planning a pull request pushed to a served repository.

mod support;

use infra::render::markdown::{Comment, GITHUB_LIMIT, render};
use serde_json::json;
use std::time::Duration;
use support::controller::{ControllerProcess, SECRET, github_signature, http};
use support::{GitServer, Stack, block};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn saved_plan(stack: &Stack) -> infra::plan::Plan {
    stack.ok(&["plan", "-out", "pr.plan"]);
    infra::plan::file::decode(&std::fs::read(stack.path().join("pr.plan")).expect("plan file")).expect("decodes")
}

fn comment(budget: usize) -> Comment {
    Comment { stack: "app".into(), commit: Some("a1b2c3d4e5f6".into()), budget, ..Comment::default() }
}

/// Ids and such change every run.
fn redact(text: &str) -> String {
    let uuid = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").expect("regex");
    uuid.replace_all(text, "[ID]").into_owned()
}

#[test]
fn a_small_plan_shows_every_diff() {
    let stack = Stack::new_without_moto();
    stack.write(
        "resource \"terraform_data\" \"keep\" {\n  input = \"same\"\n}\nresource \"terraform_data\" \"edit\" {\n  input = { size = 1, note = \"line one\\nline two\\n\" }\n}\nresource \"terraform_data\" \"swap\" {\n  triggers_replace = \"a\"\n}\nresource \"terraform_data\" \"gone\" {\n  input = 1\n}\n",
    );
    stack.apply();
    stack.write(
        "resource \"terraform_data\" \"keep\" {\n  input = \"same\"\n}\nresource \"terraform_data\" \"edit\" {\n  input = { size = 2, note = \"line one\\nline 2\\n\" }\n}\nresource \"terraform_data\" \"swap\" {\n  triggers_replace = \"b\"\n}\nresource \"terraform_data\" \"fresh\" {\n  input = \"new\"\n}\n",
    );
    let plan = saved_plan(&stack);
    let body = render(&plan, &comment(GITHUB_LIMIT));
    assert_eq!(body.matches("<details>").count(), 4, "every change has its diff: {body}");
    assert!(!body.contains("terraform_data.keep"), "no-ops are never shown");
    assert!(!body.contains("not shown in detail"), "nothing elided");
    insta::assert_snapshot!("markdown_small", redact(&body));
}

#[test]
fn ten_thousand_resources_fit_githubs_limit_and_every_destroy_is_named() {
    let stack = Stack::new_without_moto();
    stack.write(
        "resource \"terraform_data\" \"old\" {\n  count = 8\n  input = count.index\n}\nresource \"terraform_data\" \"swap\" {\n  count = 5\n  triggers_replace = \"a\"\n}\n",
    );
    stack.apply();
    stack.write(
        "resource \"terraform_data\" \"swap\" {\n  count = 5\n  triggers_replace = \"b\"\n}\nresource \"terraform_data\" \"new\" {\n  count = 9987\n  input = \"item-${count.index}\"\n}\n",
    );
    let plan = saved_plan(&stack);
    let mut wanted = comment(GITHUB_LIMIT);
    wanted.full_plan = Some("https://ci.example.com/artifacts/plan.txt".into());
    let body = render(&plan, &wanted);
    assert!(body.chars().count() <= GITHUB_LIMIT, "{} characters", body.chars().count());
    for n in 0..8 {
        assert!(body.contains(&format!("`terraform_data.old[{n}]` (destroy")), "old[{n}] named");
    }
    for n in 0..5 {
        assert!(body.contains(&format!("`terraform_data.swap[{n}]` (replace")), "swap[{n}] named");
    }
    assert!(body.contains("https://ci.example.com/artifacts/plan.txt"), "says where the full plan is");
    let head: Vec<&str> = body.lines().take(24).collect();
    let tail: Vec<&str> = body.lines().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
    insta::assert_snapshot!("markdown_large", redact(&format!("{}\n[…]\n{}", head.join("\n"), tail.join("\n"))));
}

const SENSITIVE: &str = "variable \"db_password\" {\n  type = string\n  sensitive = true\n}\nresource \"random_password\" \"db\" {\n  length = 20\n}\nresource \"terraform_data\" \"app\" {\n  input = { password = var.db_password, generated = random_password.db.result }\n}\n";

/// The id of the user the tests' forge token belongs to.
const OUR_USER: u64 = 42;

fn github_mock(server: &MockServer) {
    block(async {
        Mock::given(method("GET"))
            .and(path("/user"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": OUR_USER, "login": "infra-bot"})))
            .mount(server)
            .await;
        Mock::given(method("GET"))
            .and(path("/repos/acme/platform/issues/7/comments"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .with_priority(10)
            .mount(server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/acme/platform/issues/7/comments"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 11})))
            .with_priority(10)
            .mount(server)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/repos/acme/platform/issues/comments/11"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 11})))
            .mount(server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex_statuses())
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({})))
            .mount(server)
            .await;
    });
}

fn path_regex_statuses() -> wiremock::matchers::PathRegexMatcher {
    wiremock::matchers::path_regex(r"^/(repos/acme/platform|projects/[^/]+)/statuses/[0-9a-f]+$")
}

fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    block(server.received_requests()).unwrap_or_default()
}

fn comment_command(stack: &Stack, server: &MockServer, target: &str) -> std::process::Command {
    let mut command = stack.command(&[
        "plan",
        "-no-color",
        "--comment",
        target,
        "--comment-stack",
        "app",
        "--forge-url",
        &server.uri(),
    ]);
    command.env("GITHUB_TOKEN", "test-token").env("GITLAB_TOKEN", "test-token");
    command
}

#[test]
fn sensitive_values_never_reach_the_posted_comment() {
    let server = block(MockServer::start());
    github_mock(&server);
    let stack = Stack::new_without_moto();
    stack.write(SENSITIVE);
    stack.ok(&["apply", "-auto-approve", "-var", "db_password=hunter2-first"]);
    let generated = stack.attribute("random_password.db", "result");
    assert_eq!(generated.len(), 20);
    let output = comment_command(&stack, &server, "github:acme/platform#7")
        .args(["-var", "db_password=hunter2-second", "--commit", "0123456789abcdef0123456789abcdef01234567"])
        .output()
        .expect("infra runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let recorded = requests(&server);
    let post = recorded
        .iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/comments"))
        .expect("a comment was posted");
    let body: serde_json::Value = serde_json::from_slice(&post.body).expect("json body");
    let text = body["body"].as_str().expect("body text");
    assert!(text.contains("terraform_data.app"), "{text}");
    assert!(text.contains("(sensitive value)"), "{text}");
    for secret in ["hunter2-first", "hunter2-second", generated.as_str()] {
        for request in &recorded {
            assert!(!String::from_utf8_lossy(&request.body).contains(secret), "`{secret}` was sent to the forge");
        }
    }
    let status = recorded.iter().find(|r| r.url.path().contains("/statuses/")).expect("a commit status");
    let status: serde_json::Value = serde_json::from_slice(&status.body).expect("json");
    assert_eq!(status["context"], "infra/app");
    assert_eq!(status["state"], "success");
}

#[test]
fn two_plans_of_one_pull_request_make_one_comment_updated_in_place() {
    let server = block(MockServer::start());
    github_mock(&server);
    let stack = Stack::new_without_moto();
    stack.write("resource \"terraform_data\" \"a\" {\n  input = \"one\"\n}\n");
    let first = comment_command(&stack, &server, "github:acme/platform#7").output().expect("infra runs");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains("Posted the plan comment on acme/platform#7"));
    let posted = requests(&server).into_iter().find(|r| r.method.as_str() == "POST").expect("posted");
    assert_eq!(posted.headers.get("authorization").and_then(|v| v.to_str().ok()), Some("Bearer test-token"));
    assert_eq!(posted.headers.get("x-github-api-version").and_then(|v| v.to_str().ok()), Some("2022-11-28"));
    let posted_body: serde_json::Value = serde_json::from_slice(&posted.body).expect("json");
    // The forge now lists that comment (on the second page, behind a full first page).
    block(async {
        let others: Vec<serde_json::Value> = (0..100).map(|n| json!({"id": 1000 + n, "body": "LGTM"})).collect();
        Mock::given(method("GET"))
            .and(path("/repos/acme/platform/issues/7/comments"))
            .and(wiremock::matchers::query_param("page", "1"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(others)
                    .insert_header("Link", "<https://x/repos/acme/platform/issues/7/comments?page=2>; rel=\"next\""),
            )
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/repos/acme/platform/issues/7/comments"))
            .and(wiremock::matchers::query_param("page", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                // Another user's comment with our marker comes first (issue 15): it is neither
                // updated nor copied from.
                {"id": 12, "body": format!("<!-- infra:stack=app -->\n<sub>Superseded: Plan: 99 to add, 0 to change, 0 to destroy</sub> stolen"), "user": {"id": 7, "login": "mallory"}},
                {"id": 11, "body": posted_body["body"], "user": {"id": OUR_USER, "login": "infra-bot"}}
            ])))
            .with_priority(1)
            .mount(&server)
            .await;
    });
    stack.write("resource \"terraform_data\" \"a\" {\n  input = \"two\"\n}\n");
    let second = comment_command(&stack, &server, "github:acme/platform#7").output().expect("infra runs");
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(String::from_utf8_lossy(&second.stderr).contains("Updated the plan comment"));
    let recorded = requests(&server);
    let posts = recorded.iter().filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/comments")).count();
    let patches: Vec<&wiremock::Request> = recorded.iter().filter(|r| r.method.as_str() == "PATCH").collect();
    assert_eq!((posts, patches.len()), (1, 1), "created once, then updated");
    let updated: serde_json::Value = serde_json::from_slice(&patches[0].body).expect("json");
    let text = updated["body"].as_str().unwrap_or("");
    assert!(text.contains("\"two\""), "the new diff: {text}");
    assert!(
        text.contains("<sub>Superseded: Plan: 1 to add, 0 to change, 0 to destroy</sub>"),
        "the previous plan folded in: {text}"
    );
    assert!(patches[0].url.path().ends_with("/comments/11"), "our comment is the one updated");
    assert!(!text.contains("99 to add") && !text.contains("stolen"), "nothing of another user's comment: {text}");
}

#[test]
fn gitlab_merge_requests_get_notes() {
    let server = block(MockServer::start());
    block(async {
        Mock::given(method("GET"))
            .and(path("/projects/acme%2Finfra%2Fplatform/merge_requests/3/notes"))
            .and(header("private-token", "test-token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])).insert_header("X-Next-Page", ""))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/projects/acme%2Finfra%2Fplatform/merge_requests/3/notes"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 5})))
            .mount(&server)
            .await;
    });
    let stack = Stack::new_without_moto();
    stack.write("resource \"terraform_data\" \"a\" {\n  input = \"one\"\n}\n");
    let output = comment_command(&stack, &server, "gitlab:acme/infra/platform!3").output().expect("infra runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let recorded = requests(&server);
    let post = recorded.iter().find(|r| r.method.as_str() == "POST").expect("a note");
    let body: serde_json::Value = serde_json::from_slice(&post.body).expect("json");
    assert!(body["body"].as_str().unwrap_or("").starts_with("<!-- infra:stack=app -->"));
}

#[test]
fn rate_limits_are_waited_out_and_refusals_explained() {
    let server = block(MockServer::start());
    block(async {
        Mock::given(method("POST"))
            .and(path("/repos/acme/platform/issues/7/comments"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
    });
    github_mock(&server);
    let stack = Stack::new_without_moto();
    stack.write("resource \"terraform_data\" \"a\" {}\n");
    let output = comment_command(&stack, &server, "github:acme/platform#7").output().expect("infra runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let posts = requests(&server).iter().filter(|r| r.method.as_str() == "POST").count();
    assert_eq!(posts, 2, "retried after the rate limit");

    let refusing = block(MockServer::start());
    block(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"})))
            .mount(&refusing),
    );
    let output = comment_command(&stack, &refusing, "github:acme/platform#7").output().expect("infra runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("acme/platform#7") && stderr.contains("GITHUB_TOKEN") && stderr.contains("Bad credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains("test-token"), "the token is never printed: {stderr}");
}

#[test]
fn the_controller_comments_the_plan_of_a_pushed_pull_request() {
    let server = block(MockServer::start());
    github_mock(&server);
    let git = GitServer::start();
    let repo = git.repo("platform");
    repo.write("envs/app/main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"main\"\n}\n");
    let main = repo.push("main");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "controller {{\n  listen = \"LISTEN\"\n  data_dir = \"data\"\n  public_url = \"https://infra.example.com\"\n  github {{\n    api_url = \"{}\"\n  }}\n}}\nstack \"app\" {{\n  source {{\n    url = \"{}\"\n    path = \"envs/app\"\n  }}\n  interval = \"1h\"\n}}\n",
        server.uri(),
        git.url("platform")
    );
    let controller = ControllerProcess::start_with_env(dir.path(), &config, &[("GITHUB_TOKEN", "test-token")]);
    controller.wait_for("app", Duration::from_secs(20), |s| s["applied_commit"] == main);

    // The pull request's head, as GitHub keeps it.
    repo.write("envs/app/main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"from-the-pr\"\n}\n");
    let head = repo.push_to("proposal", "refs/pull/7/head");
    let event = json!({
        "action": "opened",
        "number": 7,
        "pull_request": { "number": 7, "head": { "sha": head }, "base": { "ref": "main" }, "author_association": "MEMBER" },
        "repository": { "name": "platform", "full_name": "acme/platform" }
    })
    .to_string();
    let signature = github_signature(SECRET, event.as_bytes());
    let response = http(
        &controller.address,
        "POST",
        "/webhooks/github",
        &[("X-GitHub-Event", "pull_request"), ("X-Hub-Signature-256", &signature)],
        event.as_bytes(),
    );
    assert_eq!(response.status, 202, "{}", response.body);
    let started = std::time::Instant::now();
    let posted = loop {
        if let Some(post) =
            requests(&server).into_iter().find(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/comments"))
        {
            break post;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "no comment posted:\n{}", controller.log());
        std::thread::sleep(Duration::from_millis(50));
    };
    let body: serde_json::Value = serde_json::from_slice(&posted.body).expect("json");
    let text = body["body"].as_str().unwrap_or("");
    assert!(text.starts_with("<!-- infra:stack=app -->"), "{text}");
    assert!(text.contains(&format!("at `{}`", &head[..7])), "names the head commit: {text}");
    assert!(text.contains("\"main\" -> \"from-the-pr\""), "the diff: {text}");
    // Read-only: the stack still has main's configuration applied.
    assert_eq!(controller.stack("app")["applied_commit"], main);
    // The final status follows the comment: wait for it.
    let statuses = || -> Vec<serde_json::Value> {
        requests(&server)
            .iter()
            .filter(|r| r.url.path() == format!("/repos/acme/platform/statuses/{head}"))
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect()
    };
    let started = std::time::Instant::now();
    while !statuses().iter().any(|s| s["state"] != "pending") {
        assert!(started.elapsed() < Duration::from_secs(15), "no final status: {:?}", statuses());
        std::thread::sleep(Duration::from_millis(50));
    }
    let statuses = statuses();
    assert!(statuses.iter().any(|s| s["state"] == "success" && s["context"] == "infra/app"), "{statuses:?}");
    let plan_url = statuses.iter().find_map(|s| s["target_url"].as_str()).unwrap_or("").to_string();
    let plan_path = plan_url.trim_start_matches("https://infra.example.com");
    let full = controller.get(plan_path);
    assert_eq!(full.status, 200, "{plan_url}");
    assert!(full.body.contains("from-the-pr"), "{}", full.body);
}

#[test]
fn a_newer_push_supersedes_a_pull_request_plan_still_running() {
    let server = block(MockServer::start());
    github_mock(&server);
    let git = GitServer::start();
    // Every request to the Git server pays 400 ms, so a plan is still fetching when the next
    // push arrives.
    let relay = support::DelayRelay::start(&format!("http://127.0.0.1:{}", git.port), Duration::from_millis(400));
    let url = format!("{}/platform.git", relay.endpoint.replace("http://", "git://"));
    let repo = git.repo("platform");
    repo.write("envs/app/main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"main\"\n}\n");
    let main = repo.push("main");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "controller {{\n  listen = \"LISTEN\"\n  data_dir = \"data\"\n  github {{\n    api_url = \"{}\"\n  }}\n}}\nstack \"app\" {{\n  source {{\n    url = \"{url}\"\n    path = \"envs/app\"\n  }}\n  interval = \"1h\"\n}}\n",
        server.uri()
    );
    let controller = ControllerProcess::start_with_env(dir.path(), &config, &[("GITHUB_TOKEN", "test-token")]);
    controller.wait_for("app", Duration::from_secs(30), |s| s["applied_commit"] == main);
    let webhook = |head: &str| {
        let event = json!({
            "action": "synchronize",
            "pull_request": { "number": 7, "head": { "sha": head }, "base": { "ref": "main" }, "author_association": "MEMBER" },
            "repository": { "name": "platform", "full_name": "acme/platform" }
        })
        .to_string();
        let signature = github_signature(SECRET, event.as_bytes());
        let headers = [("X-GitHub-Event", "pull_request"), ("X-Hub-Signature-256", signature.as_str())];
        assert_eq!(http(&controller.address, "POST", "/webhooks/github", &headers, event.as_bytes()).status, 202);
    };
    repo.write("envs/app/main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"first-push\"\n}\n");
    let first = repo.push_to("first", "refs/pull/7/head");
    webhook(&first);
    repo.write("envs/app/main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"second-push\"\n}\n");
    let second = repo.push_to("second", "refs/pull/7/head");
    webhook(&second);
    let comments = || {
        requests(&server)
            .into_iter()
            .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/comments"))
            .collect::<Vec<_>>()
    };
    let started = std::time::Instant::now();
    while comments().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "no comment:\n{}", controller.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The first plan ends superseded (not posted): once the controller says so, no stray
    // comment of it can still arrive.
    while !controller.log().contains("superseded by a newer push") {
        assert!(started.elapsed() < Duration::from_secs(30), "the first plan never ended:\n{}", controller.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let posted = comments();
    assert_eq!(posted.len(), 1, "only the newest plan is posted:\n{}", controller.log());
    let body: serde_json::Value = serde_json::from_slice(&posted[0].body).expect("json");
    let text = body["body"].as_str().unwrap_or("");
    assert!(text.contains(&second[..7]) && text.contains("second-push"), "{text}");
    assert!(controller.log().contains("superseded by a newer push"), "{}", controller.log());
}

/// Issue 15: a pull request's head is written by an attacker. It reads a file outside the
/// repository and drops `sensitive` from a variable the controller supplies: the plan fails
/// with a diagnostic, and neither secret reaches the forge or any endpoint. A fork's request
/// and an author without write access are not planned; the API wants its token; credentials
/// in a source URL are shown nowhere.
#[test]
fn an_untrusted_head_can_neither_read_the_controllers_files_nor_unmask_its_variables() {
    let server = block(MockServer::start());
    github_mock(&server);
    let git = GitServer::start();
    let repo = git.repo("platform");
    repo.write(
        "envs/app/main.tf",
        "variable \"db_password\" {\n  type      = string\n  sensitive = true\n}\nresource \"terraform_data\" \"a\" {\n  input = var.db_password\n}\n",
    );
    let main = repo.push("main");
    let dir = tempfile::tempdir().expect("temp dir");
    let secret_file = dir.path().join("controller-secret.txt");
    std::fs::write(&secret_file, "top-secret-file-content").expect("secret file");
    let config = format!(
        "controller {{\n  listen = \"LISTEN\"\n  data_dir = \"data\"\n  public_url = \"https://infra.example.com\"\n  github {{\n    api_url = \"{}\"\n  }}\n}}\nstack \"app\" {{\n  source {{\n    url = \"{}\"\n    path = \"envs/app\"\n  }}\n  interval = \"1h\"\n  variables = {{ db_password = \"hunter2-from-the-controller\" }}\n}}\nstack \"broken\" {{\n  source {{\n    url = \"http://deploy:s3cr3t-in-url@127.0.0.1:9/other.git\"\n  }}\n  interval = \"1h\"\n}}\n",
        server.uri(),
        git.url("platform")
    );
    let controller = ControllerProcess::start_with_env(dir.path(), &config, &[("GITHUB_TOKEN", "test-token")]);
    controller.wait_for("app", Duration::from_secs(20), |s| s["applied_commit"] == main);
    controller.wait_for("broken", Duration::from_secs(20), |s| !s["last_error"].is_null());

    // The API needs its token; health checks do not.
    for path in ["/stacks", "/stacks/app", "/stacks/app/plans/x"] {
        assert_eq!(http(&controller.address, "GET", path, &[], b"").status, 401, "{path} without a token");
        let wrong = [("Authorization", "Bearer not-the-token")];
        assert_eq!(http(&controller.address, "GET", path, &wrong, b"").status, 401, "{path} with a wrong token");
    }
    assert_eq!(http(&controller.address, "POST", "/stacks/app/reconcile", &[], b"").status, 401);
    assert_eq!(http(&controller.address, "GET", "/healthz", &[], b"").status, 200);
    assert_eq!(http(&controller.address, "GET", "/metrics", &[], b"").status, 200, "metrics open by default");

    let webhook = |head: &str, association: &str, head_repository: &str| {
        let event = json!({
            "action": "opened",
            "pull_request": {
                "number": 7, "head": { "sha": head, "repo": { "full_name": head_repository } },
                "base": { "ref": "main" }, "author_association": association
            },
            "repository": { "name": "platform", "full_name": "acme/platform" }
        })
        .to_string();
        let signature = github_signature(SECRET, event.as_bytes());
        let headers = [("X-GitHub-Event", "pull_request"), ("X-Hub-Signature-256", signature.as_str())];
        http(&controller.address, "POST", "/webhooks/github", &headers, event.as_bytes())
    };
    repo.write(
        "envs/app/main.tf",
        &format!(
            "variable \"db_password\" {{\n  type = string\n}}\nresource \"terraform_data\" \"a\" {{\n  input = var.db_password\n}}\nresource \"terraform_data\" \"leak\" {{\n  input = file({:?})\n}}\noutput \"pw\" {{\n  value = var.db_password\n}}\n",
            secret_file.display().to_string()
        ),
    );
    let head = repo.push_to("attack", "refs/pull/7/head");
    // From a fork, or by an author without write access: not planned.
    let fork = webhook(&head, "MEMBER", "mallory/platform");
    assert!(fork.body.starts_with("0 stack(s)"), "{}", fork.body);
    let outsider = webhook(&head, "NONE", "acme/platform");
    assert!(outsider.body.starts_with("0 stack(s)"), "{}", outsider.body);
    // A member's request is planned, and fails.
    let planned = webhook(&head, "MEMBER", "acme/platform");
    assert!(planned.body.starts_with("1 stack(s)"), "{}", planned.body);
    let started = std::time::Instant::now();
    let statuses = || {
        requests(&server)
            .into_iter()
            .filter(|r| r.url.path().ends_with(&format!("/statuses/{head}")))
            .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
            .filter(|s| s["state"] != "pending")
            .collect::<Vec<_>>()
    };
    while statuses().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "no final status:\n{}", controller.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = statuses().remove(0);
    assert_ne!(status["state"], "success", "the plan fails: {status}");
    let comment = requests(&server)
        .into_iter()
        .filter(|r| r.url.path().ends_with("/comments") && r.method.as_str() != "GET")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect::<String>();
    assert!(comment.contains("outside this stack's checkout"), "the diagnostic is in the comment: {comment}");
    // Nothing secret anywhere: forge requests, every endpoint, the log.
    let plan_url =
        status["target_url"].as_str().unwrap_or("").trim_start_matches("https://infra.example.com").to_string();
    let mut seen: Vec<String> =
        requests(&server).iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    for path in ["/stacks", "/stacks/app", "/stacks/broken", "/metrics", plan_url.as_str()] {
        seen.push(controller.get(path).body);
    }
    seen.push(controller.log());
    for text in &seen {
        for secret in ["top-secret-file-content", "hunter2-from-the-controller", "s3cr3t-in-url"] {
            assert!(!text.contains(secret), "`{secret}` leaked: {text}");
        }
    }
    assert_eq!(controller.stack("app")["applied_commit"], main, "nothing applied");
}
