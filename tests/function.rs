//! The `function` block (and an `engine = "sqs"` queue) through the real `hashicorp/aws` plugin
//! against moto: applied, its code changed in place, planned clean and destroyed, each step
//! checked against what moto holds.

mod support;

use support::Stack;
use support::controller::http;

const CONFIG: &str = r#"provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

queue "uploads" {
  engine = "sqs"
  ttl    = 86400
}

function "resize" {
  code     = "./functions/resize"
  memory   = 256
  env      = { BUCKET = "images" }
  queue    = queue.uploads
  schedule = "rate(1 hour)"
}
"#;

/// A moto API call (moto routes by the service in the credential scope; it does not check
/// the signature).
fn moto(service: &str, target: Option<&str>, path: &str, body: &str) -> String {
    let address = support::moto().endpoint.trim_start_matches("http://").to_string();
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let mut headers = vec![("Authorization", authorization.as_str())];
    let method = match target {
        Some(target) => {
            headers.push(("X-Amz-Target", target));
            headers.push(("Content-Type", "application/x-amz-json-1.1"));
            "POST"
        }
        None if body.is_empty() => "GET",
        None => {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
            "POST"
        }
    };
    let response = http(&address, method, path, &headers, body.as_bytes());
    assert_eq!(response.status, 200, "{service} {path}: {}", response.body);
    response.body
}

/// What moto holds of the function's parts, by name.
fn in_moto() -> Vec<&'static str> {
    let mut found = Vec::new();
    if moto("lambda", None, "/2015-03-31/functions/", "").contains("\"FunctionName\": \"resize\"") {
        found.push("function");
    }
    if moto("sqs", None, "/", "Action=ListQueues&Version=2012-11-05").contains("/uploads</QueueUrl>") {
        found.push("queue");
    }
    if moto("iam", None, "/", "Action=ListRoles&Version=2010-05-08").contains("<RoleName>resize-function</RoleName>") {
        found.push("role");
    }
    if moto("logs", Some("Logs_20140328.DescribeLogGroups"), "/", "{}").contains("/aws/lambda/resize") {
        found.push("log group");
    }
    if moto("events", Some("AWSEvents.ListRules"), "/", "{}").contains("resize-schedule") {
        found.push("schedule");
    }
    if moto("lambda", None, "/2015-03-31/event-source-mappings/", "").contains("uploads") {
        found.push("trigger");
    }
    found
}

#[test]
fn a_function_triggered_by_a_queue_applies_changes_its_code_in_place_and_destroys_leaving_nothing() {
    let mut stack = Stack::new();
    stack.use_plugin_mirror();
    let code = stack.path().join("functions/resize");
    std::fs::create_dir_all(&code).expect("mkdir");
    std::fs::write(code.join("main.py"), "def handler(event, context):\n    return {\"resized\": 1}\n").expect("write");
    stack.write(CONFIG);
    let init = stack.ok(&["init", "-no-color"]);
    assert!(
        init.contains("Installed registry.terraform.io/hashicorp/aws v5.100.0"),
        "the blocks' modules need the plugin:\n{init}"
    );

    let applied = stack.apply();
    assert!(applied.contains("Apply complete! Resources: 9 added"), "{applied}");
    assert_eq!(in_moto(), ["function", "queue", "role", "log group", "schedule", "trigger"]);
    let state = stack.state();
    let attributes = |address: &str| state["resources"][address]["attributes"].clone();
    assert_eq!(attributes("module.function_resize.aws_cloudwatch_log_group.this")["retention_in_days"], 14);
    assert_eq!(
        attributes("module.function_resize.aws_lambda_event_source_mapping.queue[0]")["event_source_arn"],
        attributes("module.queue_uploads.aws_sqs_queue.this")["arn"]
    );
    assert_eq!(attributes("module.function_resize.aws_lambda_function.this")["memory_size"], 256);
    let (code_now, text) = stack.plan();
    assert_eq!(code_now, 0, "{text}");

    // A change of the code: the archive changes at plan time, the function in place.
    std::fs::write(code.join("main.py"), "def handler(event, context):\n    return {\"resized\": 2}\n").expect("write");
    let (changed, text) = stack.plan();
    assert_eq!(changed, 2, "{text}");
    assert!(text.contains("# module.function_resize.aws_lambda_function.this will be updated in-place"), "{text}");
    assert!(text.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{text}");
    let before = attributes("module.function_resize.aws_lambda_function.this")["arn"].clone();
    stack.apply();
    let after =
        stack.state()["resources"]["module.function_resize.aws_lambda_function.this"]["attributes"]["arn"].clone();
    assert_eq!(before, after, "the same function, changed in place");
    let (clean, text) = stack.plan();
    assert_eq!(clean, 0, "{text}");

    let destroyed = stack.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(destroyed.contains("Destroy complete! Resources: 9 destroyed."), "{destroyed}");
    assert!(in_moto().is_empty(), "nothing is left in moto: {:?}", in_moto());
}
