//! Property tests: no input makes loading or evaluation panic.
//!
//! Two generators: arbitrary text written as a configuration file (HCL and YAML), and
//! expressions built from the language's grammar with real function names, so that the
//! evaluator's deep paths (functions with odd arguments, for expressions, splats, templates)
//! are exercised, not only the parser. CI runs the default number of cases; run longer with
//! `PROPTEST_CASES=100000 cargo test --test fuzz --release`.

use infra::config::load_module_tree;
use infra::eval::{Evaluator, Scope};
use infra_provider::{FileId, Value};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("var.list".to_string()),
        Just("var.map".to_string()),
        Just("var.secret".to_string()),
        Just("var.unknown".to_string()),
        Just("x".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "-?[0-9]{1,4}(\\.[0-9]{1,3})?(e-?[0-9]{1,3})?",
        "\"[a-z0-9 ,./*{}$%~\\\\-]{0,12}\"",
        Just("\"${var.map.a}-%{ for v in var.list }${v}%{ endfor }\"".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ]
}

const FUNCTIONS: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "log",
    "max",
    "min",
    "parseint",
    "pow",
    "signum",
    "chomp",
    "endswith",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "regex",
    "regexall",
    "replace",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "title",
    "trim",
    "trimprefix",
    "trimsuffix",
    "trimspace",
    "upper",
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "lookup",
    "matchkeys",
    "merge",
    "one",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "slice",
    "sort",
    "sum",
    "transpose",
    "values",
    "zipmap",
    "base64decode",
    "base64encode",
    "csvdecode",
    "jsondecode",
    "jsonencode",
    "textdecodebase64",
    "textencodebase64",
    "urlencode",
    "yamldecode",
    "yamlencode",
    "basename",
    "dirname",
    "formatdate",
    "timeadd",
    "base64sha256",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "can",
    "nonsensitive",
    "sensitive",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "try",
];

fn expression() -> impl Strategy<Value = String> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            (proptest::sample::select(FUNCTIONS), proptest::collection::vec(inner.clone(), 0..4))
                .prop_map(|(name, args)| format!("{name}({})", args.join(", "))),
            (
                inner.clone(),
                proptest::sample::select(&["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(|items| format!(
                "{{ {} }}",
                items.iter().enumerate().map(|(i, v)| format!("k{i} = {v}")).collect::<Vec<_>>().join(", ")
            )),
            (inner.clone(), inner.clone()).prop_map(|(c, v)| format!("[for x in {c} : {v}]")),
            (inner.clone(), inner.clone()).prop_map(|(c, v)| format!("{{ for k, x in {c} : tostring(k) => {v}... }}")),
            inner.clone().prop_map(|v| format!("{v}[*].a")),
            (inner.clone(), inner.clone()).prop_map(|(v, i)| format!("{v}[{i}]")),
            inner.clone().prop_map(|v| format!("\"pre-${{{v}}}-post\"")),
            inner.clone().prop_map(|v| format!("-{v}")),
            inner.prop_map(|v| format!("!{v}")),
        ]
    })
}

fn scope() -> Scope {
    let mut scope = Scope::new(".");
    scope.set(
        "var",
        Value::Map(BTreeMap::from([
            ("list".to_string(), Value::List(vec![Value::from("a"), Value::int(2), Value::Null])),
            ("map".to_string(), Value::Map(BTreeMap::from([("a".to_string(), Value::from("b"))]))),
            ("secret".to_string(), Value::from("hunter2").mark_sensitive()),
            ("unknown".to_string(), Value::Unknown),
        ])),
    );
    scope.plan_time = true;
    scope
}

proptest! {
    #[test]
    fn evaluating_any_expression_never_panics(text in expression()) {
        let scope = scope();
        if let Ok(mut expr) = hcl_edit::parser::parse_expr(&text) {
            infra::eval::template::prepare_expr(&mut expr, &[]);
            let result = Evaluator::new(&scope, FileId(0)).eval(&expr);
            // A secret never leaks into an error message.
            if let Err(diagnostic) = result {
                prop_assert!(!diagnostic.detail.contains("hunter2"), "{text}: {}", diagnostic.detail);
            }
        }
    }

    #[test]
    fn loading_any_text_never_panics(text in "(?s).{0,300}", yaml in proptest::bool::ANY) {
        let dir = tempfile::tempdir().expect("temp dir");
        let name = if yaml { "main.yaml" } else { "main.tf" };
        std::fs::write(dir.path().join(name), &text).expect("write");
        let config = load_module_tree(dir.path());
        let _ = infra::validate::check(&config, &BTreeMap::new());
    }

    #[test]
    fn object_for_expressions_broken_over_lines_never_panic(
        head in "[ -~\n]{0,40}",
        tail in "[ -~\n]{0,40}",
        value in expression(),
    ) {
        // Fragments around an object `for` whose value goes on over lines: the loader's and
        // fmt's second parse (newlines inside `for` braces as spaces) must never panic.
        let text = format!("locals {{\n  x = {{ for k in [1] : k => {value} ?\n{head}\n:\n{tail} }}\n}}\n");
        let _ = infra::fmt::format_hcl(&text);
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("main.tf"), &text).expect("write");
        let config = load_module_tree(dir.path());
        let _ = infra::validate::check(&config, &BTreeMap::new());
    }

    #[test]
    fn loading_configurations_from_the_grammar_never_panics(a in expression(), b in expression(), c in expression()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = format!(
            "variable \"list\" {{\n  default = [1]\n}}\nlocals {{\n  x = {a}\n  y = local.x\n}}\nresource \"t_r\" \"n\" {{\n  count = {b}\n  arg = {c}\n}}\noutput \"o\" {{\n  value = [local.y, t_r.n]\n}}\n"
        );
        std::fs::write(dir.path().join("main.tf"), &text).expect("write");
        let config = load_module_tree(dir.path());
        let _ = infra::validate::check(&config, &BTreeMap::new());
    }
}

/// Found by `loading_any_text_never_panics`: a parse error inside a multi-byte character.
#[test]
fn parse_error_inside_a_multibyte_character_is_a_diagnostic() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), "a\t𐤀").expect("write");
    let config = load_module_tree(dir.path());
    assert_eq!(config.diagnostics.iter().map(|d| d.summary.as_str()).collect::<Vec<_>>(), ["Invalid syntax"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Issue 15: whatever bytes a journal holds (hand edits, disk errors, a crash mid-write),
    /// reading it is entries or an error — never a panic — and the file is never removed.
    #[test]
    fn reading_any_journal_never_panics(lines in proptest::collection::vec("(?s).{0,120}", 0..6), newline in proptest::bool::ANY) {
        use infra_state::Backend as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = infra_state::local::LocalBackend::new(dir.path(), "default");
        let mut bytes = lines.join("\n").into_bytes();
        if newline {
            bytes.push(b'\n');
        }
        let path = dir.path().join("default.journal");
        std::fs::write(&path, &bytes).expect("journal");
        let _ = backend.journal_read();
        let _ = backend.read_folded(None);
        prop_assert!(path.exists() || bytes.is_empty() || backend.journal_read().is_ok_and(|e| e.is_empty()));
    }

    /// Any bytes as a state file: a snapshot or an error, and the recovery reads never panic.
    #[test]
    fn reading_any_state_never_panics(text in "(?s).{0,400}") {
        use infra_state::Backend as _;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("default.json"), text.as_bytes()).expect("state");
        let backend = infra_state::local::LocalBackend::new(dir.path(), "default");
        let _ = backend.read();
        let _ = backend.stored_serial();
        let _ = backend.history();
        let _ = backend.read_version(1, None);
    }

    /// Webhook payloads from anyone who knows the secret (or none): parsed without a panic, and
    /// a head that is not a commit id is never accepted.
    #[test]
    fn parsing_any_webhook_payload_never_panics(head in "(?s).{0,80}", number in proptest::num::u64::ANY, body in "(?s).{0,200}") {
        let payload = serde_json::json!({
            "action": "opened",
            "pull_request": { "number": number, "head": { "sha": head, "repo": { "full_name": body } }, "base": { "ref": body }, "author_association": body },
            "repository": { "name": body, "full_name": body }
        });
        if let Some(request) = infra::controller::pulls::PullRequest::from_github(&payload) {
            prop_assert!(request.head.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        let gitlab = serde_json::json!({
            "object_attributes": { "action": "open", "iid": number, "last_commit": { "id": head }, "target_branch": body },
            "project": { "path_with_namespace": body }
        });
        let _ = infra::controller::pulls::PullRequest::from_gitlab(&gitlab);
        let _ = infra::controller::webhook::pushed(body.as_bytes());
        let _ = infra::controller::webhook::github_signature_valid("secret", body.as_bytes(), Some(&head));
    }
}
