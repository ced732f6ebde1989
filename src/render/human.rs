//! The plan as Terraform users read it: `+ ~ - -/+ +/- <=`, nested attribute diffs,
//! multi-line strings as line diffs, `(known after apply)`, `(sensitive value)`, and the
//! summary `Plan: 2 to add, 1 to change, 0 to destroy.` Colour is optional; the text reads the
//! same without it.

use crate::plan::{Action, Plan, ReplaceOrder, ResourceChange};
use infra_provider::{Value, values_equal};
use owo_colors::OwoColorize;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Renders a plan.
pub fn render(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    // As Terraform does, outside changes are reported when they matter to this plan: every one
    // in a refresh-only plan, else those of objects the plan changes. An instance whose public IP
    // moved to an Elastic IP is not news when nothing is to be done about it.
    let changed: BTreeSet<&crate::addr::Address> =
        plan.changes.iter().filter(|c| c.change.action != Action::NoOp).map(|c| &c.addr).collect();
    let drift: Vec<&ResourceChange> =
        plan.drift.iter().filter(|d| plan.refresh_only || changed.contains(&d.addr)).collect();
    if !drift.is_empty() {
        out.push_str("\nNote: Objects have changed outside of infra\n\n");
        out.push_str("infra detected the following changes made outside of infra since the last \"infra apply\":\n");
        for change in drift {
            out.push('\n');
            resource(&mut out, change, true, color);
        }
        if plan.refresh_only {
            out.push_str("\nThis is a refresh-only plan, so infra will not take any actions to undo these. Apply it to update the state to match the objects.\n");
        } else {
            out.push_str("\nUnless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.\n");
        }
        out.push_str("\n─────────────────────────────────────────────────────────────────────────────\n");
    }
    let changes: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.change.action != Action::NoOp || c.import_id.is_some() || c.prev_addr.is_some())
        .collect();
    let outputs: Vec<_> = plan.outputs.iter().filter(|(_, o)| o.action != Action::NoOp).collect();
    if changes.is_empty() && outputs.is_empty() {
        if plan.refresh_only && !plan.drift.is_empty() {
            return out;
        }
        out.push_str("\nNo changes. Your infrastructure matches the configuration.\n");
        return out;
    }
    if !changes.is_empty() {
        let mut legend = BTreeSet::new();
        for change in &changes {
            if change.change.action != Action::NoOp {
                legend.insert(change.change.action);
            }
        }
        if !legend.is_empty() {
            out.push_str("\ninfra used the selected providers to generate the following execution plan. Resource actions are indicated with the following symbols:\n");
        }
        for action in legend {
            let text = match action {
                Action::Create => "create",
                Action::Update => "update in-place",
                Action::Delete => "destroy",
                Action::Replace(ReplaceOrder::DestroyBeforeCreate) => "destroy and then create replacement",
                Action::Replace(ReplaceOrder::CreateBeforeDestroy) => "create replacement and then destroy",
                Action::Read => "read (data resources)",
                Action::Forget => "forget (the object stays, out of state)",
                Action::NoOp => continue,
            };
            let _ = writeln!(out, "  {} {text}", paint(action.symbol(), action, color));
        }
        out.push_str("\ninfra will perform the following actions:\n");
        for change in &changes {
            out.push('\n');
            resource(&mut out, change, false, color);
        }
        let summary = plan.summary();
        out.push('\n');
        let imports = if summary.import > 0 { format!("{} to import, ", summary.import) } else { String::new() };
        // As Terraform: the forget count only when something is forgotten.
        let forgets = if summary.forget > 0 { format!(", {} to forget", summary.forget) } else { String::new() };
        let _ = writeln!(
            out,
            "Plan: {imports}{} to add, {} to change, {} to destroy{forgets}.",
            summary.add, summary.change, summary.destroy
        );
    }
    if !outputs.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        let width = outputs.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        for (name, output) in outputs {
            let symbol = paint(output.action.symbol(), output.action, color);
            let before = output
                .before
                .as_ref()
                .map(|v| if output.sensitive { "(sensitive value)".to_string() } else { inline(v) });
            let after = output
                .after
                .as_ref()
                .map(|v| if output.sensitive { "(sensitive value)".to_string() } else { inline(v) });
            let text = match (before, after) {
                (Some(b), Some(a)) => format!("{b} -> {a}"),
                (None, Some(a)) => a,
                (Some(b), None) => format!("{b} -> null"),
                (None, None) => "null".into(),
            };
            let _ = writeln!(out, "  {symbol} {name:<width$} = {text}");
        }
    }
    out
}

fn paint(text: &str, action: Action, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    match action {
        Action::Create => text.green().to_string(),
        Action::Delete => text.red().to_string(),
        Action::Update => text.yellow().to_string(),
        Action::Replace(_) => text.magenta().to_string(),
        Action::Read => text.cyan().to_string(),
        Action::Forget | Action::NoOp => text.to_string(),
    }
}

/// One resource's block as `terraform plan` prints it (no colour); `drift`: as a change made
/// outside infra.
pub fn resource_text(change: &ResourceChange, drift: bool) -> String {
    let mut out = String::new();
    resource(&mut out, change, drift, false);
    out
}

fn resource(out: &mut String, change: &ResourceChange, drift: bool, color: bool) {
    let action = change.change.action;
    let what = if drift {
        match action {
            Action::Delete => "has been deleted".to_string(),
            _ => "has changed".to_string(),
        }
    } else {
        match action {
            Action::Create => "will be created".to_string(),
            Action::Update => "will be updated in-place".to_string(),
            Action::Replace(_) if change.reason.is_some() && change.requires_replace.is_empty() => {
                "will be replaced".to_string()
            }
            Action::Replace(_) => "must be replaced".to_string(),
            Action::Delete => "will be destroyed".to_string(),
            Action::Read => "will be read during apply".to_string(),
            Action::Forget => "will no longer be managed by infra".to_string(),
            Action::NoOp if change.import_id.is_some() => "will be imported".to_string(),
            Action::NoOp => String::new(),
        }
    };
    match (&change.prev_addr, action) {
        (Some(from), Action::NoOp) => {
            let _ = writeln!(out, "  # {from} has moved to {}", change.address());
        }
        (Some(from), _) => {
            let _ = writeln!(out, "  # {} {what}", change.address());
            let _ = writeln!(out, "  # (moved from {from})");
        }
        (None, _) => {
            let _ = writeln!(out, "  # {} {what}", change.address());
        }
    }
    if let Some(id) = &change.import_id
        && action != Action::NoOp
    {
        let _ = writeln!(out, "  # (imported from \"{id}\")");
    }
    if let (Some(reason), false) = (&change.reason, drift) {
        let _ = writeln!(out, "  # ({})", reason.replace('`', ""));
    }
    let keyword = if change.addr.mode == crate::addr::Mode::Data { "data" } else { "resource" };
    let symbol = if action == Action::NoOp { " ".to_string() } else { paint(action.symbol(), action, color) };
    let pad = if action.symbol().len() == 3 { "" } else { "  " };
    let _ = writeln!(out, "{pad}{symbol} {keyword} \"{}\" \"{}\" {{", change.addr.kind, change.addr.name);
    let forced: BTreeSet<String> = change.requires_replace.iter().map(|p| p.join(".")).collect();
    let before = change.change.before.clone().unwrap_or(Value::Null);
    let after = change.change.after.clone().unwrap_or(Value::Null);
    let body = match action {
        Action::Create | Action::Read => object_lines(&Value::Null, &after, 3, &forced, Side::Create),
        Action::Delete => object_lines(&before, &Value::Null, 3, &forced, Side::Delete),
        _ => object_lines(&before, &after, 3, &forced, Side::Update),
    };
    out.push_str(&body);
    let _ = writeln!(out, "    }}");
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Create,
    Delete,
    Update,
}

/// One-line text of a value.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => crate::eval::functions::quote_string(s),
        Value::Unknown => "(known after apply)".into(),
        Value::Sensitive(_) => "(sensitive value)".into(),
        Value::List(items) | Value::Set(items) if items.is_empty() => "[]".into(),
        Value::Map(entries) if entries.is_empty() => "{}".into(),
        Value::List(items) | Value::Set(items) => {
            format!("[{}]", items.iter().map(inline).collect::<Vec<_>>().join(", "))
        }
        Value::Map(entries) => format!(
            "{{ {} }}",
            entries.iter().map(|(k, v)| format!("{k} = {}", inline(v))).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn is_multiline(value: &Value) -> bool {
    matches!(value, Value::String(s) if s.contains('\n'))
}

fn is_collection(value: &Value) -> bool {
    matches!(value, Value::List(items) | Value::Set(items) if !items.is_empty())
        || matches!(value, Value::Map(e) if !e.is_empty())
}

fn key_text(key: &str) -> String {
    if crate::config::is_identifier(key) { key.to_string() } else { crate::eval::functions::quote_string(key) }
}

/// The lines of an object diff at `indent` (in units of two spaces), keys aligned.
fn object_lines(before: &Value, after: &Value, indent: usize, forced: &BTreeSet<String>, side: Side) -> String {
    let empty = Default::default();
    let b = before.as_map().unwrap_or(&empty);
    let a = after.as_map().unwrap_or(&empty);
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    let mut rows = Vec::new();
    let mut hidden = 0;
    for key in keys {
        let old = b.get(key.as_str()).cloned().unwrap_or(Value::Null);
        let new = a.get(key.as_str()).cloned().unwrap_or(Value::Null);
        let changed = !values_equal(&old, &new) || !new.is_wholly_known();
        match side {
            Side::Create if new.is_null() => continue,
            Side::Delete if old.is_null() => continue,
            Side::Update if !changed => {
                // Terraform shows the id-like attributes and hides the rest of what did not change.
                if key == "id" || key == "name" {
                    rows.push((key.clone(), " ", inline(&old), false));
                } else if !old.is_null() {
                    hidden += 1;
                }
                continue;
            }
            _ => {}
        }
        let symbol = match side {
            Side::Create => "+",
            Side::Delete => "-",
            Side::Update if old.is_null() => "+",
            Side::Update if new.is_null() => "-",
            Side::Update => "~",
        };
        let suffix = forced.contains(key.as_str());
        rows.push((key.clone(), symbol, value_diff(&old, &new, indent, side, symbol), suffix));
    }
    let width = rows.iter().map(|(key, ..)| key_text(key).chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    let pad = "  ".repeat(indent);
    for (key, symbol, text, forces) in rows {
        let key = key_text(&key);
        let marker = if symbol == " " { "  ".to_string() } else { format!("{symbol} ") };
        let _ = write!(out, "{pad}{marker}{key:<width$} = {text}");
        if forces {
            out.push_str(" # forces replacement");
        }
        out.push('\n');
    }
    if hidden > 0 {
        let _ = writeln!(out, "{pad}# ({hidden} unchanged attribute{} hidden)", if hidden == 1 { "" } else { "s" });
    }
    out
}

/// The text after `key = ` for a change from `old` to `new`.
fn value_diff(old: &Value, new: &Value, indent: usize, side: Side, symbol: &str) -> String {
    let pad = "  ".repeat(indent);
    match side {
        Side::Create => block_value(new, indent, "+"),
        Side::Delete => format!("{} -> null", block_value(old, indent, "-")),
        Side::Update => {
            if symbol == "+" {
                return block_value(new, indent, "+");
            }
            if symbol == "-" {
                return format!("{} -> null", block_value(old, indent, "-"));
            }
            if old.is_marked() || new.is_marked() {
                return "(sensitive value)".into();
            }
            if (is_multiline(old) || is_multiline(new)) && old.as_str().is_some() && new.as_str().is_some() {
                let diff = similar::TextDiff::from_lines(old.as_str().unwrap_or(""), new.as_str().unwrap_or(""));
                let mut out = String::from("<<-EOT\n");
                for change in diff.iter_all_changes() {
                    let sign = match change.tag() {
                        similar::ChangeTag::Delete => "- ",
                        similar::ChangeTag::Insert => "+ ",
                        similar::ChangeTag::Equal => "  ",
                    };
                    let _ = writeln!(out, "{pad}  {sign}{}", change.value().trim_end_matches('\n'));
                }
                let _ = write!(out, "{pad}  EOT");
                return out;
            }
            if let (Value::Map(_), Value::Map(_)) = (old, new) {
                return format!("{{\n{}{pad}  }}", object_lines(old, new, indent + 2, &BTreeSet::new(), Side::Update));
            }
            if let (Value::List(o), Value::List(n)) | (Value::Set(o), Value::Set(n)) = (old, new) {
                let mut out = String::from("[\n");
                for item in o {
                    if !n.iter().any(|x| values_equal(x, item)) {
                        let _ = writeln!(out, "{pad}    - {},", inline(item));
                    }
                }
                for item in n {
                    if !o.iter().any(|x| values_equal(x, item)) {
                        let _ = writeln!(out, "{pad}    + {},", inline(item));
                    } else {
                        let _ = writeln!(out, "{pad}      {},", inline(item));
                    }
                }
                let _ = write!(out, "{pad}  ]");
                return out;
            }
            format!("{} -> {}", inline(old), inline(new))
        }
    }
}

/// A whole value under one symbol: multi-line for collections and multi-line strings.
fn block_value(value: &Value, indent: usize, symbol: &str) -> String {
    let pad = "  ".repeat(indent);
    if is_multiline(value) {
        let text = value.as_str().unwrap_or("");
        let mut out = String::from("<<-EOT\n");
        for line in text.trim_end_matches('\n').split('\n') {
            let _ = writeln!(out, "{pad}    {line}");
        }
        let _ = write!(out, "{pad}  EOT");
        return out;
    }
    if !is_collection(value) {
        return inline(value);
    }
    match value {
        Value::List(items) | Value::Set(items) => {
            let mut out = String::from("[\n");
            for item in items {
                let _ = writeln!(out, "{pad}    {symbol} {},", block_value(item, indent + 2, symbol));
            }
            let _ = write!(out, "{pad}  ]");
            out
        }
        Value::Map(entries) => {
            let width = entries.keys().map(|k| key_text(k).chars().count()).max().unwrap_or(0);
            let mut out = String::from("{\n");
            for (key, item) in entries {
                if item.is_null() {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "{pad}    {symbol} {:<width$} = {}",
                    key_text(key),
                    block_value(item, indent + 2, symbol)
                );
            }
            let _ = write!(out, "{pad}  }}");
            out
        }
        other => inline(other),
    }
}
