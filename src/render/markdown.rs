//! The plan in Markdown, for a pull request comment: a first line a reviewer can act on,
//! destroys and replacements called out first, a table of changed resources, and one
//! collapsible section per resource with its attribute diff. Sensitive values never appear.

use crate::plan::{Action, Plan, ResourceChange};
use std::fmt::Write;

fn action_word(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace(_) => "replace",
        Action::Delete => "destroy",
        Action::Read => "read",
        Action::NoOp => "no-op",
    }
}

/// Renders a plan; `title` names what was planned (`stack prod at a1b2c3d`).
pub fn render(plan: &Plan, title: &str) -> String {
    let summary = plan.summary();
    let mut out = String::new();
    let changes: Vec<&ResourceChange> = plan.changes.iter().filter(|c| c.change.action != Action::NoOp).collect();
    if changes.is_empty() {
        let _ = writeln!(out, "**Plan for {title}: No changes.** Your infrastructure matches the configuration.");
        return out;
    }
    let destructive = changes.iter().filter(|c| matches!(c.change.action, Action::Delete | Action::Replace(_))).count();
    let warning = if destructive > 0 { "⚠️ " } else { "" };
    let _ = writeln!(
        out,
        "{warning}**Plan for {title}: {} to add, {} to change, {} to destroy**",
        summary.add, summary.change, summary.destroy
    );
    out.push('\n');
    if destructive > 0 {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> {destructive} resource{} will be destroyed or replaced:",
            if destructive == 1 { "" } else { "s" }
        );
        for change in changes.iter().filter(|c| matches!(c.change.action, Action::Delete | Action::Replace(_))) {
            let _ = writeln!(out, "> - `{}` ({})", change.address, action_word(change.change.action));
        }
        out.push('\n');
    }
    out.push_str("| action | resource |\n|---|---|\n");
    let mut ordered = changes.clone();
    ordered.sort_by_key(|c| (!matches!(c.change.action, Action::Delete | Action::Replace(_)), c.address.clone()));
    for change in &ordered {
        let _ = writeln!(
            out,
            "| {} {} | `{}` |",
            change.change.action.symbol(),
            action_word(change.change.action),
            change.address
        );
    }
    out.push('\n');
    for change in &ordered {
        let single = Plan { changes: vec![(*change).clone()], ..Plan::default() };
        let text = super::human::render(&single, false);
        let body: String = text
            .lines()
            .skip_while(|line| !line.trim_start().starts_with('#'))
            .take_while(|line| !line.starts_with("Plan:"))
            .collect::<Vec<_>>()
            .join("\n");
        let _ = writeln!(
            out,
            "<details><summary><code>{}</code> ({})</summary>\n\n```diff\n{}\n```\n\n</details>",
            change.address,
            action_word(change.change.action),
            body.trim_end()
        );
    }
    out
}
