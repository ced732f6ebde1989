//! The plan in Markdown, for a pull-request comment, within a forge's size limit.
//!
//! - A hidden marker (`<!-- infra:stack=prod -->`) makes the comment findable, so one comment
//!   per stack and pull request is updated in place.
//! - The first line is what a reviewer acts on: `Plan for stack prod at a1b2c3d: 3 to add, 1
//!   to change, 1 to destroy`, with a warning sign when anything is destroyed or replaced, and
//!   those resources named first.
//! - A table of changed resources, then one collapsible section per resource with a `diff`
//!   block of its attribute changes (multi-line values diffed line by line), drift in its own
//!   section. Sensitive values are never shown: the plan carries them marked, and the text
//!   rendering prints `(sensitive value)`.
//! - **The budget**: the body never exceeds `budget` characters. When the whole plan does not
//!   fit, rows and details are dropped by priority — destroys and replaces kept longest, then
//!   updates, creates, reads; no-ops are never shown — and the comment says how many resources
//!   were left out and where the full plan is.

use crate::plan::{Action, Plan, ResourceChange};
use std::fmt::Write;

/// GitHub's limit on a comment body, in characters.
pub const GITHUB_LIMIT: usize = 65_536;
/// GitLab's limit on a note body, in characters.
pub const GITLAB_LIMIT: usize = 1_000_000;
/// Superseded plans remembered in a comment.
const SUPERSEDED_KEPT: usize = 5;

/// What a comment is about, besides the plan.
#[derive(Clone, Debug, Default)]
pub struct Comment {
    /// The stack (names the marker).
    pub stack: String,
    /// The commit planned (shown abbreviated).
    pub commit: Option<String>,
    /// The body's size limit in characters.
    pub budget: usize,
    /// Where the full plan is, for when details are cut (a CI artifact or a controller URL).
    pub full_plan: Option<String>,
    /// Summaries of earlier plans this comment showed, newest first.
    pub superseded: Vec<String>,
}

/// The hidden marker of a stack's comment.
pub fn marker(stack: &str) -> String {
    format!("<!-- infra:stack={} -->", stack.replace("--", "- -"))
}

fn action_word(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace(_) => "replace",
        Action::Delete => "destroy",
        Action::Read => "read",
        Action::Forget => "forget",
        Action::NoOp => "no-op",
    }
}

fn priority(action: Action) -> u8 {
    match action {
        Action::Delete => 0,
        Action::Replace(_) => 1,
        Action::Update => 2,
        Action::Create => 3,
        Action::Read => 4,
        Action::Forget => 5,
        Action::NoOp => 6,
    }
}

fn destructive(action: Action) -> bool {
    matches!(action, Action::Delete | Action::Replace(_))
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(7)]
}

/// `Plan at a1b2c3d: 3 to add, 1 to change, 1 to destroy` (or `No changes`).
pub fn summary(plan: &Plan, comment: &Comment) -> String {
    let at = comment.commit.as_deref().map(|c| format!(" at {}", short(c))).unwrap_or_default();
    let counts = plan.summary();
    if !plan.has_changes() {
        return format!("Plan{at}: No changes");
    }
    format!("Plan{at}: {} to add, {} to change, {} to destroy", counts.add, counts.change, counts.destroy)
}

/// The summaries a previous body of the same comment carried (its own first, then its
/// superseded ones), for the next body's "superseded" line.
pub fn superseded_from(body: &str) -> Vec<String> {
    let mut found: Vec<String> = body
        .lines()
        .filter_map(|line| line.strip_prefix("<!-- infra:summary=").and_then(|l| l.strip_suffix(" -->")))
        .map(str::to_string)
        .collect();
    if let Some(line) = body.lines().find(|l| l.starts_with("<sub>Superseded: ")) {
        let inner = line.trim_start_matches("<sub>Superseded: ").trim_end_matches("</sub>");
        found.extend(inner.split(" · ").map(str::to_string));
    }
    found.truncate(SUPERSEDED_KEPT);
    found
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// A resource block as a `diff` block: symbols moved to the first column (`~` and replacements
/// as `!`), so forges colour the lines.
fn diff_block(change: &ResourceChange, drift: bool) -> String {
    let text = super::human::resource_text(change, drift);
    let mut out = String::from("```diff\n");
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let (mark, rest) = if let Some(rest) = trimmed.strip_prefix("-/+ ").or_else(|| trimmed.strip_prefix("+/- ")) {
            ('!', rest)
        } else if let Some(rest) = trimmed.strip_prefix("+ ") {
            ('+', rest)
        } else if let Some(rest) = trimmed.strip_prefix("- ") {
            ('-', rest)
        } else if let Some(rest) = trimmed.strip_prefix("~ ") {
            ('!', rest)
        } else {
            (' ', trimmed)
        };
        let _ = writeln!(out, "{mark}{indent}{rest}");
    }
    out.push_str("```\n");
    // A value that itself contains a fence must not end the block early.
    out.replace("\n```\n```", "\n`` `\n```")
}

fn details(change: &ResourceChange, drift: bool) -> String {
    let what = if drift {
        if change.change.action == Action::Delete { "was deleted outside infra" } else { "changed outside infra" }
    } else {
        match change.change.action {
            Action::Create => "will be created",
            Action::Update => "will be updated in place",
            Action::Replace(_) => "will be replaced",
            Action::Delete => "will be destroyed",
            Action::Read => "will be read",
            Action::Forget => "will no longer be managed",
            Action::NoOp => "",
        }
    };
    format!(
        "<details><summary><code>{} {}</code> {what}</summary>\n\n{}\n</details>\n",
        change.change.action.symbol().trim(),
        change.address(),
        diff_block(change, drift)
    )
}

/// Renders the comment body.
pub fn render(plan: &Plan, comment: &Comment) -> String {
    let budget = comment.budget.max(2_000);
    let title = summary(plan, comment);
    let stack_title = match comment.commit.as_deref() {
        Some(commit) => format!("Plan for stack `{}` at `{}`", comment.stack, short(commit)),
        None => format!("Plan for stack `{}`", comment.stack),
    };
    let counts = plan.summary();
    let changes: Vec<&ResourceChange> = {
        let mut changes: Vec<&ResourceChange> =
            plan.changes.iter().filter(|c| c.change.action != Action::NoOp).collect();
        changes.sort_by(|a, b| {
            priority(a.change.action).cmp(&priority(b.change.action)).then(a.address().cmp(&b.address()))
        });
        changes
    };
    let mut head = String::new();
    let _ = writeln!(head, "{}", marker(&comment.stack));
    let _ = writeln!(head, "<!-- infra:summary={title} -->");
    let footer = {
        let mut footer = String::new();
        if !comment.superseded.is_empty() {
            let kept: Vec<&str> = comment.superseded.iter().take(SUPERSEDED_KEPT).map(String::as_str).collect();
            let _ = writeln!(footer, "\n<sub>Superseded: {}</sub>", kept.join(" · "));
        }
        footer
    };
    if changes.is_empty() && !plan.has_changes() {
        let _ = writeln!(head, "### ✅ {stack_title}: No changes\n\nYour infrastructure matches the configuration.");
        return head + &footer;
    }
    let warning = if changes.iter().any(|c| destructive(c.change.action)) { "⚠️ " } else { "" };
    let _ = writeln!(
        head,
        "### {warning}{stack_title}: {} to add, {} to change, {} to destroy\n",
        counts.add, counts.change, counts.destroy
    );
    let doomed: Vec<&&ResourceChange> = changes.iter().filter(|c| destructive(c.change.action)).collect();
    if !doomed.is_empty() {
        let _ = writeln!(
            head,
            "> [!WARNING]\n> {} resource{} will be destroyed or replaced:",
            doomed.len(),
            if doomed.len() == 1 { "" } else { "s" }
        );
        // Every destroyed or replaced resource is named, whatever else must go; past half the
        // budget they are listed compactly.
        let mut compact = false;
        for (index, change) in doomed.iter().enumerate() {
            let line = match (&change.reason, compact) {
                (Some(reason), false) => {
                    format!(
                        "> - `{}` ({}: {})\n",
                        change.address(),
                        action_word(change.change.action),
                        reason.replace('`', "'")
                    )
                }
                _ => format!("> - `{}` ({})\n", change.address(), action_word(change.change.action)),
            };
            if chars(&head) + chars(&line) > budget / 2 {
                if compact {
                    let _ = writeln!(head, "> - … and {} more (the full plan lists them)", doomed.len() - index);
                    break;
                }
                compact = true;
            }
            head.push_str(&line);
        }
        head.push('\n');
    }
    // What is left for the table and the details, keeping room for the closing lines.
    let reserve = chars(&footer) + 400 + comment.full_plan.as_deref().map_or(0, chars);
    let mut used = chars(&head);
    let mut table = String::from("| | resource | action |\n|---|---|---|\n");
    used += chars(&table);
    let mut in_table = 0;
    // The table may take up to two thirds of what is left; the details get the rest.
    let table_cap = used + budget.saturating_sub(used + reserve) * 2 / 3;
    for change in &changes {
        let row = format!(
            "| `{}` | `{}` | {} |\n",
            change.change.action.symbol().trim(),
            change.address(),
            action_word(change.change.action)
        );
        if used + chars(&row) > table_cap {
            break;
        }
        used += chars(&row);
        table.push_str(&row);
        in_table += 1;
    }
    if in_table < changes.len() {
        let line = format!("| | … {} more | |\n", changes.len() - in_table);
        used += chars(&line);
        table.push_str(&line);
    }
    let mut body = String::new();
    let mut detailed = 0;
    for change in &changes {
        let section = details(change, false);
        if used + chars(&section) + reserve > budget {
            // A smaller one further down may still fit; the order stays by priority.
            continue;
        }
        used += chars(&section);
        body.push_str(&section);
        detailed += 1;
    }
    let changed: std::collections::BTreeSet<&crate::addr::Address> = changes.iter().map(|c| &c.addr).collect();
    let drift: Vec<&ResourceChange> =
        plan.drift.iter().filter(|d| plan.refresh_only || changed.contains(&d.addr)).collect();
    let mut drift_text = String::new();
    if !drift.is_empty() {
        let mut sections = String::new();
        let mut shown = 0;
        for change in &drift {
            let section = details(change, true);
            if used + chars(&sections) + chars(&section) + reserve + 200 > budget {
                continue;
            }
            sections.push_str(&section);
            shown += 1;
        }
        let _ = write!(
            drift_text,
            "\n#### Drift: {} object{} changed outside infra\n\n{sections}",
            drift.len(),
            if drift.len() == 1 { "" } else { "s" }
        );
        if shown < drift.len() {
            let _ = writeln!(drift_text, "_… {} more drifted objects not shown._", drift.len() - shown);
        }
    }
    let mut out = head + &table + "\n" + &body + &drift_text;
    let elided = changes.len() - detailed;
    if elided > 0 {
        let place = comment
            .full_plan
            .as_deref()
            .map_or_else(|| "run `infra plan` for the full plan".to_string(), |p| format!("the full plan is at {p}"));
        let _ = writeln!(
            out,
            "\n_{elided} of {} changed resources are not shown in detail (the comment's size limit); {place}._",
            changes.len()
        );
    }
    out.push_str(&footer);
    if chars(&out) > budget {
        // Not reached by the accounting above; a last guard so a forge never refuses the body.
        let note = "\n\n_(cut to the comment's size limit)_\n";
        out = out.chars().take(budget - chars(note)).collect::<String>() + note;
    }
    out
}
