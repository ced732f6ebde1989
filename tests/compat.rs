//! Configurations shaped like popular public modules (labels, CIDR maths, deep merge, security
//! group rule maps, optional() inputs, dynamic blocks, module chains, JSON syntax...) against
//! Terraform's verdicts, recorded by `scripts/record-compat` into each one's `terraform.json`:
//! whether `validate` accepts it, the counts of the first plan, every output after apply
//! (value, type and sensitivity as `output -json` gives them) and an empty second plan.
//! Configurations marked `# compat: plan-only` are planned, not applied (their planned output
//! values are compared); this test needs no Terraform. Known gap: infra's values do not tell a
//! list from a tuple or a map from an object, so output types compare with those written out
//! per element ([`expanded`]); sets, primitives and the shapes must match.

use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else if entry.file_name() != "terraform.json" {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

struct Run {
    ok: bool,
    stdout: String,
    text: String,
}

fn infra(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(assert_cmd::cargo::cargo_bin("infra"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("infra runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    Run { ok: output.status.success(), stdout, text }
}

fn summary(plan: &Json) -> Json {
    json!({ "add": plan["summary"]["add"], "change": plan["summary"]["change"], "destroy": plan["summary"]["destroy"] })
}

/// Numbers compare by value (`1` and `1.0`), everything else exactly.
fn same(ours: &Json, theirs: &Json) -> bool {
    match (ours, theirs) {
        (Json::Number(a), Json::Number(b)) => a.to_string() == b.to_string() || a.as_f64() == b.as_f64(),
        (Json::Array(a), Json::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Json::Object(a), Json::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        (a, b) => a == b,
    }
}

/// A type with Terraform's `list(T)` / `map(T)` written out per element of `value`, as the
/// tuple / object of the same shape: infra's values do not keep the list/tuple and map/object
/// distinction (sets and primitive types they do keep), so types compare in that form; a
/// null's type is whatever Terraform unified it to.
fn expanded(ty: &Json, value: &Json) -> Json {
    if value.is_null() {
        return json!("dynamic");
    }
    let (kind, inner) = (ty.get(0).and_then(Json::as_str), ty.get(1));
    match (kind, inner, value) {
        (Some("list" | "tuple"), Some(inner), Json::Array(items)) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    expanded(if kind == Some("list") { inner } else { inner.get(i).unwrap_or(&Json::Null) }, item)
                })
                .collect(),
        ),
        (Some("set"), Some(inner), Json::Array(items)) => {
            json!(["set", items.iter().map(|item| expanded(inner, item)).collect::<Vec<_>>()])
        }
        (Some("map" | "object"), Some(inner), Json::Object(entries)) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), expanded(if kind == Some("map") { inner } else { &inner[k] }, v)))
                .collect(),
        ),
        _ => ty.clone(),
    }
}

/// What differs between infra and Terraform's record for one configuration.
fn check(name: &str, source: &Path) -> Vec<String> {
    let recorded: Json = serde_json::from_str(
        &std::fs::read_to_string(source.join("terraform.json")).expect("terraform.json is recorded"),
    )
    .expect("valid JSON");
    let work = tempfile::tempdir().expect("temp dir");
    let dir = work.path().join(name);
    copy_dir(source, &dir);
    let mut problems = Vec::new();
    let validate = infra(&dir, &["validate", "-no-color"]);
    let valid = recorded["valid"].as_bool().unwrap_or(false);
    if validate.ok != valid {
        problems.push(format!("validate: infra says {}, Terraform {valid}:\n{}", validate.ok, validate.text));
        return problems;
    }
    if !valid {
        for summary in recorded["errors"].as_array().into_iter().flatten().filter_map(Json::as_str) {
            if !validate.text.contains(summary) {
                problems.push(format!("validate: Terraform's error `{summary}` not reported:\n{}", validate.text));
            }
        }
        return problems;
    }
    let plan = infra(&dir, &["plan", "-json", "-no-color", "-input=false"]);
    if plan.ok != recorded["plans"].as_bool().unwrap_or(false) {
        problems.push(format!("plan: infra succeeds: {}, Terraform: {}:\n{}", plan.ok, recorded["plans"], plan.text));
        return problems;
    }
    if !plan.ok {
        // The same problems: each of Terraform's errors, and no other (a failing module output
        // is one error where it fails, not a second one where it is used).
        let ours: std::collections::BTreeSet<&str> =
            plan.text.lines().filter_map(|line| line.strip_prefix("error: ")).map(str::trim).collect();
        let theirs: std::collections::BTreeSet<&str> =
            recorded["plan_errors"].as_array().into_iter().flatten().filter_map(Json::as_str).collect();
        if ours != theirs {
            problems.push(format!(
                "plan errors: infra {ours:?} vs Terraform {theirs:?}:
{}",
                plan.text
            ));
        }
        return problems;
    }
    let first: Json = serde_json::from_str(plan.stdout.trim()).unwrap_or(Json::Null);
    if summary(&first) != recorded["plan"] {
        problems.push(format!("first plan: infra {} vs Terraform {}", summary(&first), recorded["plan"]));
    }
    if let Some(planned) = recorded["planned_outputs"].as_object() {
        for (output, value) in planned {
            let ours = &first["output_changes"][output]["after"];
            if !same(ours, value) {
                problems.push(format!("planned output {output}: infra {ours} vs Terraform {value}"));
            }
        }
        return problems;
    }
    let apply = infra(&dir, &["apply", "-auto-approve", "-no-color", "-input=false"]);
    if !apply.ok {
        problems.push(format!("apply failed:\n{}", apply.text));
        return problems;
    }
    let outputs: Json = serde_json::from_str(&infra(&dir, &["output", "-json"]).stdout).unwrap_or(Json::Null);
    let expected = recorded["outputs"].as_object().cloned().unwrap_or_default();
    for (output, theirs) in &expected {
        let ours = &outputs[output];
        for field in ["value", "sensitive"] {
            if !same(&ours[field], &theirs[field]) {
                problems.push(format!("output {output} {field}: infra {} vs Terraform {}", ours[field], theirs[field]));
            }
        }
        let value = &theirs["value"];
        if expanded(&ours["type"], value) != expanded(&theirs["type"], value) {
            problems.push(format!("output {output} type: infra {} vs Terraform {}", ours["type"], theirs["type"]));
        }
    }
    for output in outputs.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !expected.contains_key(output) {
            problems.push(format!("output {output}: infra shows it, Terraform does not"));
        }
    }
    let second = infra(&dir, &["plan", "-json", "-no-color", "-input=false"]);
    let second: Json = serde_json::from_str(second.stdout.trim()).unwrap_or(Json::Null);
    let mut counts = summary(&second);
    let changed: Vec<Json> = second["output_changes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, change)| change["actions"] != json!(["no-op"]))
        .map(|(name, _)| json!(name))
        .collect();
    counts["outputs_changed"] = Json::Array(changed);
    if counts != recorded["second_plan"] {
        problems.push(format!("second plan: infra {counts} vs Terraform {}", recorded["second_plan"]));
    }
    problems
}

#[test]
fn real_world_shaped_configurations_match_terraform() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compat");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .expect("tests/compat")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 15, "the corpus has {} configurations", names.len());
    let mut failures = Vec::new();
    for name in &names {
        for problem in check(name, &root.join(name)) {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{} differences from Terraform:\n{}", failures.len(), failures.join("\n"));
}
