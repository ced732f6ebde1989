//! Expression conformance: infra's evaluator against values recorded from Terraform.
//!
//! `tests/conformance/corpus.txt` holds the expressions, `recorded.json` Terraform's results
//! (value, whether the result is sensitive, or that it fails), recorded by
//! `scripts/record-conformance` with the terraform on PATH, so this test needs no Terraform.
//!
//! Numbers compare exactly, except results of non-terminating division: Terraform rounds
//! those in binary (512-bit floats) and infra in decimal, so they compare on their first 30
//! significant digits (or as float64 where Terraform rendered the result at that precision).

use infra::config::load_module_tree;
use infra::eval::Evaluator;
use infra::graph::walk::{EvalOptions, evaluate_root};
use infra_provider::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn numbers_match(ours: &str, theirs: &str) -> bool {
    if ours == theirs {
        return true;
    }
    let digits =
        |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>().trim_start_matches('0').to_string();
    let (a, b) = (digits(ours), digits(theirs));
    if a.len() >= 30 && b.len() >= 30 {
        return a[..30] == b[..30] && ours.find('.') == theirs.find('.');
    }
    // Terraform sometimes renders such a result at float64 precision.
    (a.len() >= 16 || b.len() >= 16) && ours.parse::<f64>().ok() == theirs.parse::<f64>().ok()
}

fn json_match(ours: &serde_json::Value, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (ours, theirs) {
        (J::Number(a), J::Number(b)) => numbers_match(&a.to_string(), &b.to_string()),
        (J::Array(a), J::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_match(x, y)),
        (J::Object(a), J::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| json_match(v, w)))
        }
        (a, b) => a == b,
    }
}

#[test]
fn expressions_evaluate_as_terraform_does() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let recorded: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(base.join("recorded.json")).expect("recorded.json is checked in"),
    )
    .expect("valid JSON");
    // path.module must be the fixture directory, relative to the working directory, as in Terraform.
    let fixture = base.join("fixture");
    let config = load_module_tree(&fixture);
    assert!(config.diagnostics.is_empty(), "fixture loads cleanly: {:?}", config.diagnostics);
    let (values, diagnostics) = evaluate_root(&config, &BTreeMap::new(), &EvalOptions::default());
    assert!(diagnostics.is_empty(), "fixture evaluates cleanly: {diagnostics:?}");

    let mut failures = Vec::new();
    for (name, expected) in recorded["outputs"].as_object().expect("outputs") {
        let ours = values.outputs.get(name).and_then(|v| v.clone().deep_unmark().to_json());
        if ours.as_ref() != Some(expected) {
            failures.push(format!(
                "output {name}\n    infra:     {}\n    terraform: {expected}",
                ours.map_or("(none)".into(), |v| v.to_string())
            ));
        }
    }

    let cases = recorded["cases"].as_array().expect("cases");
    assert!(cases.len() >= 150, "the corpus holds at least 150 cases");
    for case in cases {
        let text = case["expr"].as_str().expect("expr");
        let expr = match hcl_edit::parser::parse_expr(text) {
            Ok(mut expr) => {
                infra::eval::template::prepare_expr(&mut expr, &[]);
                expr
            }
            Err(error) => {
                failures.push(format!("{text}\n    does not parse: {error}"));
                continue;
            }
        };
        let result = Evaluator::new(&values.scope, infra_provider::FileId(u32::MAX)).eval(&expr);
        match (result, case.get("error")) {
            (Err(_), Some(_)) => {}
            (Ok(value), Some(_)) => failures.push(format!("{text}\n    expected an error, got {value:?}")),
            (Err(error), None) => failures.push(format!("{text}\n    failed: {}: {}", error.summary, error.detail)),
            (Ok(value), None) => {
                let sensitive = value.is_marked();
                let json = value.deep_unmark().to_json().unwrap_or(serde_json::Value::String("(unknown)".into()));
                if !json_match(&json, &case["value"]) {
                    failures.push(format!("{text}\n    infra:     {json}\n    terraform: {}", case["value"]));
                }
                if Value::Bool(sensitive) != Value::Bool(case["sensitive"].as_bool().unwrap_or(false)) {
                    failures.push(format!("{text}\n    sensitive: infra {sensitive}, terraform {}", case["sensitive"]));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Terraform:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
