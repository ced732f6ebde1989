//! Language behaviour beyond single expressions: expansion, heredocs, modules, diagnostics.

use infra::config::load_module_tree;
use infra::graph::walk::{EvalOptions, evaluate_root};
use infra_provider::{Diagnostics, Value};
use std::collections::BTreeMap;

fn evaluate(files: &[(&str, &str)], options: &EvalOptions) -> (BTreeMap<String, Value>, Diagnostics) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let config = load_module_tree(dir.path());
    let mut diagnostics = config.diagnostics.clone();
    let (values, more) = evaluate_root(&config, &BTreeMap::new(), options);
    diagnostics.extend(more);
    (values.outputs, diagnostics)
}

fn summaries(diagnostics: &Diagnostics) -> Vec<String> {
    diagnostics.iter().map(|d| d.summary.clone()).collect()
}

#[test]
fn count_on_an_unknown_value_is_an_error_at_plan_time() {
    let config = r#"
resource "terraform_data" "ids" {
  count = 2
}
resource "terraform_data" "copies" {
  count = length(terraform_data.ids[0].output)
}
"#;
    let plan = EvalOptions { expansion_must_be_known: true, ..EvalOptions::default() };
    let (_, diagnostics) = evaluate(&[("main.tf", config)], &plan);
    assert_eq!(summaries(&diagnostics), ["Invalid count argument"]);
    assert!(diagnostics.0[0].detail.contains("cannot be determined until apply"));
    // validate accepts it: the value is simply not known yet.
    let (_, diagnostics) = evaluate(&[("main.tf", config)], &EvalOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
}

#[test]
fn for_each_takes_maps_and_sets_of_strings_only() {
    let cases = [
        ("[\"a\", \"b\"]", Some("Invalid for_each argument")),
        ("toset([\"a\", \"b\"])", None),
        ("{ a = 1 }", None),
        ("toset([1, 2])", Some("Invalid for_each argument")),
        ("sensitive({ a = 1 })", Some("Invalid for_each argument")),
        ("null", Some("Invalid for_each argument")),
    ];
    for (value, expected) in cases {
        let config = format!("resource \"terraform_data\" \"x\" {{\n  for_each = {value}\n  input = each.key\n}}\n");
        let (_, diagnostics) = evaluate(&[("main.tf", &config)], &EvalOptions::default());
        assert_eq!(summaries(&diagnostics).first().map(String::as_str), expected, "for_each = {value}");
    }
}

#[test]
fn instances_are_addressed_by_key_and_index() {
    let config = r#"
resource "terraform_data" "by_index" {
  count = 2
  input = count.index
}
resource "terraform_data" "by_key" {
  for_each = { eu = 1, us = 2 }
  input    = "${each.key}=${each.value}"
}
output "shape" {
  value = [length(terraform_data.by_index), keys(terraform_data.by_key)]
}
"#;
    let (outputs, diagnostics) = evaluate(&[("main.tf", config)], &EvalOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(outputs["shape"].to_json().expect("known").to_string(), r#"[2,["eu","us"]]"#);
}

#[test]
fn heredocs_templates_and_strip_markers() {
    let config = r#"
locals {
  items = ["a", "b"]
}
output "indented" {
  value = <<-EOT
    first
      second
    %{ for item in local.items ~}
    - ${item}
    %{ endfor ~}
    EOT
}
output "plain" {
  value = <<EOT
x ${upper("y")}
EOT
}
"#;
    let (outputs, diagnostics) = evaluate(&[("main.tf", config)], &EvalOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    // As Terraform: the lines after `~}` are not line starts, so they keep their indentation.
    assert_eq!(outputs["indented"].as_str(), Some("first\n  second\n    - a\n    - b\n"));
    assert_eq!(outputs["plain"].as_str(), Some("x Y\n"));
}

#[test]
fn module_outputs_flow_back_to_the_caller() {
    let files = [
        (
            "main.tf",
            "module \"m\" {\n  source = \"./m\"\n  for_each = toset([\"x\", \"y\"])\n  name = each.key\n}\noutput \"all\" {\n  value = { for k, m in module.m : k => m.greeting }\n}\n",
        ),
        (
            "m/main.tf",
            "variable \"name\" {\n  type = string\n}\noutput \"greeting\" {\n  value = \"hi ${var.name}\"\n}\n",
        ),
    ];
    let (outputs, diagnostics) = evaluate(&files, &EvalOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(outputs["all"].to_json().expect("known").to_string(), r#"{"x":"hi x","y":"hi y"}"#);
}

#[test]
fn sensitive_outputs_must_be_declared() {
    let config = "variable \"pw\" {\n  default = \"s3cret\"\n  sensitive = true\n}\noutput \"leak\" {\n  value = \"pw=${var.pw}\"\n}\noutput \"ok\" {\n  value = var.pw\n  sensitive = true\n}\n";
    let (outputs, diagnostics) = evaluate(&[("main.tf", config)], &EvalOptions::default());
    assert_eq!(summaries(&diagnostics), ["Output refers to sensitive values"]);
    assert!(outputs["ok"].is_marked());
    assert!(diagnostics.iter().all(|d| !d.detail.contains("s3cret")));
}

#[test]
fn variable_validation_reports_the_error_message() {
    let config = "variable \"env\" {\n  default = \"PROD\"\n  validation {\n    condition = lower(var.env) == var.env\n    error_message = \"The environment must be lower case.\"\n  }\n}\n";
    let (_, diagnostics) = evaluate(&[("main.tf", config)], &EvalOptions::default());
    assert_eq!(summaries(&diagnostics), ["Invalid value for variable"]);
    assert_eq!(diagnostics.0[0].detail, "The environment must be lower case.");
}

#[test]
fn optional_object_attributes_take_their_defaults() {
    let config = "variable \"svc\" {\n  type = object({ name = string, port = optional(number, 80), tags = optional(list(string)) })\n  default = { name = \"api\" }\n}\noutput \"svc\" {\n  value = var.svc\n}\n";
    let (outputs, diagnostics) = evaluate(&[("main.tf", config)], &EvalOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(outputs["svc"].to_json().expect("known").to_string(), r#"{"name":"api","port":80,"tags":null}"#);
}

#[test]
fn dynamic_blocks_see_their_iterator() {
    let config = "resource \"aws_security_group\" \"sg\" {\n  dynamic \"ingress\" {\n    for_each = [80, 443]\n    iterator = rule\n    content {\n      from_port = rule.value\n      to_port   = rule.valeu\n    }\n  }\n}\n";
    let (_, diagnostics) = evaluate(&[("main.tf", config)], &EvalOptions::default());
    assert_eq!(summaries(&diagnostics), ["Unsupported attribute"]);
    assert_eq!(diagnostics.0[0].hints, ["did you mean `value`?"]);
}

#[test]
fn only_the_chosen_branch_of_a_conditional_reports_errors() {
    let config = r#"
variable "autoscale" {
  type    = object({ min = number })
  default = null
}
output "replicas" {
  value = var.autoscale == null ? 1 : var.autoscale.min
}
output "broken" {
  value = var.autoscale != null ? 1 : var.autoscale.min
}
"#;
    let (outputs, diagnostics) = evaluate(&[("main.tf", config)], &EvalOptions::default());
    assert_eq!(outputs.get("replicas"), Some(&Value::int(1)), "{diagnostics:?}");
    assert_eq!(
        summaries(&diagnostics),
        ["Attempt to get attribute from null value"],
        "the chosen branch's error stays"
    );
}
