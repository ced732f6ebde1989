//! Rendering diagnostics the way rustc and Terraform do.
//!
//! ```text
//! error: Reference to undeclared input variable
//!   --> main.hcl:12:9
//!    |
//! 12 |   name = var.regoin
//!    |          ^^^^^^^^^^
//!    |
//!    = An input variable with the name "regoin" has not been declared.
//!    = hint: did you mean `var.region`?
//! ```
//!
//! The renderer decides nothing: it prints what the diagnostic says, with colour only when
//! asked for (`--no-color` and `NO_COLOR` turn it off).

use crate::source::SourceMap;
use infra_provider::{Diagnostic, Diagnostics, Severity, Span};
use owo_colors::OwoColorize;
use std::fmt::Write;

/// Renders every diagnostic, one after another, followed by a count line when there are errors.
///
/// Diagnostics of the same kind at the same place — one mistake in a module called with
/// `count = 96` — are shown once (the first instance's detail), with "…and 95 more instances".
pub fn render_all(diagnostics: &Diagnostics, sources: &SourceMap, color: bool) -> String {
    let mut groups: Vec<(&Diagnostic, usize)> = Vec::new();
    let mut seen: std::collections::HashMap<(bool, &str, u32, usize, usize), usize> = std::collections::HashMap::new();
    for diagnostic in diagnostics.iter() {
        if let Some(span) = &diagnostic.primary {
            let span = sources.resolve(span);
            let key = (
                diagnostic.severity == Severity::Error,
                diagnostic.summary.as_str(),
                span.file.0,
                span.range.start,
                span.range.end,
            );
            if let Some(&at) = seen.get(&key) {
                groups[at].1 += 1;
                continue;
            }
            seen.insert(key, groups.len());
        }
        groups.push((diagnostic, 0));
    }
    let mut out = String::new();
    for (diagnostic, more) in groups {
        out.push_str(&render_with(diagnostic, sources, color, more));
        out.push('\n');
    }
    out
}

/// Renders one diagnostic.
pub fn render(diagnostic: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    render_with(diagnostic, sources, color, 0)
}

fn render_with(diagnostic: &Diagnostic, sources: &SourceMap, color: bool, more: usize) -> String {
    let mut out = String::new();
    let label = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let heading = format!("{label}: {}", diagnostic.summary);
    let heading = match (color, diagnostic.severity) {
        (false, _) => heading,
        (true, Severity::Error) => heading.red().bold().to_string(),
        (true, Severity::Warning) => heading.yellow().bold().to_string(),
    };
    let _ = writeln!(out, "{heading}");
    let gutter = diagnostic
        .primary
        .iter()
        .chain(diagnostic.secondary.iter().map(|(span, _)| span))
        .map(|span| sources.resolve(span))
        .filter_map(|span| sources.get(span.file).map(|file| file.line_col(span.range.start).0))
        .max()
        .map_or(1, |line| line.to_string().len());
    let pad = " ".repeat(gutter);
    if let Some(span) = &diagnostic.primary {
        write_snippet(&mut out, sources, span, None, &pad, color);
    }
    for (span, note) in &diagnostic.secondary {
        write_snippet(&mut out, sources, span, Some(note), &pad, color);
    }
    if let Some(address) = &diagnostic.address {
        let _ = writeln!(out, "{pad} = in `{address}`");
    }
    match more {
        0 => {}
        1 => {
            let _ = writeln!(out, "{pad} = …and 1 more instance");
        }
        n => {
            let _ = writeln!(out, "{pad} = …and {n} more instances");
        }
    }
    for line in diagnostic.detail.lines().filter(|line| !line.is_empty()) {
        let _ = writeln!(out, "{pad} = {line}");
    }
    for hint in &diagnostic.hints {
        let _ = writeln!(out, "{pad} = hint: {hint}");
    }
    out
}

fn write_snippet(out: &mut String, sources: &SourceMap, span: &Span, note: Option<&str>, pad: &str, color: bool) {
    let span = &sources.resolve(span);
    let Some(file) = sources.get(span.file) else { return };
    let (line, column) = file.line_col(span.range.start);
    let (end_line, end_column) = file.line_col(span.range.end);
    let arrow = if color { "-->".blue().to_string() } else { "-->".to_string() };
    let _ = writeln!(out, "{pad}{arrow} {}:{line}:{column}", file.path.display());
    let text = file.line_text(line);
    let width = if end_line == line {
        end_column.saturating_sub(column).max(1)
    } else {
        text.chars().count().saturating_sub(column - 1).max(1)
    };
    let carets = "^".repeat(width);
    let carets = if color { carets.red().to_string() } else { carets };
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{line:>w$} | {text}", w = pad.len());
    let indent: String = text.chars().take(column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    match note {
        Some(note) => {
            let _ = writeln!(out, "{pad} | {indent}{carets} {note}");
        }
        None => {
            let _ = writeln!(out, "{pad} | {indent}{carets}");
        }
    }
    let _ = writeln!(out, "{pad} |");
}
