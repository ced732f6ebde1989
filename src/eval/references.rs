//! References in expressions: what an expression depends on.
//!
//! The graph needs to know that `aws_subnet.a` depends on `aws_vpc.main` before anything is
//! evaluated; validation needs every `var.x` checked against the declared variables. Both come
//! from [`references`], a syntactic walk that skips names bound by `for` expressions and
//! template `for` directives.

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::template::{Directive, Element, Template};
use std::ops::Range;

/// A reference found in an expression: a root name and the static attribute/index steps after
/// it (`aws_instance.web[0].id` is `aws_instance` + [`web`, `0`, `id`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The root name (`var`, `local`, `module`, `data`, `each`, a resource type...).
    pub root: String,
    /// Static steps: attribute names and literal indexes.
    pub steps: Vec<String>,
    /// The span of the reference in its file.
    pub range: Option<Range<usize>>,
}

impl Reference {
    /// The object it refers to, as an address: `var.region`, `local.x`, `aws_vpc.main`,
    /// `data.aws_ami.ubuntu`, `module.net`; `None` for `each`, `count`, `path`, `self`...
    pub fn target(&self) -> Option<String> {
        match self.root.as_str() {
            "var" | "local" | "module" => Some(format!("{}.{}", self.root, self.steps.first()?)),
            "data" => Some(format!("data.{}.{}", self.steps.first()?, self.steps.get(1)?)),
            "each" | "count" | "path" | "self" | "terraform" => None,
            // A platform block is a module call (see `crate::platform`).
            kind if crate::platform::is_kind(kind) => {
                Some(format!("module.{}", crate::platform::call_name(kind, self.steps.first()?)))
            }
            resource_type => Some(format!("{resource_type}.{}", self.steps.first()?)),
        }
    }
}

/// Every reference in an expression.
pub fn references(expr: &Expression) -> Vec<Reference> {
    let mut found = Vec::new();
    let mut bound = Vec::new();
    walk(expr, &mut bound, &mut found);
    found
}

fn walk(expr: &Expression, bound: &mut Vec<String>, found: &mut Vec<Reference>) {
    match expr {
        Expression::Variable(name) => {
            let root = name.value().as_str();
            if !bound.iter().any(|b| b == root) {
                found.push(Reference { root: root.to_string(), steps: Vec::new(), range: hcl_edit::Span::span(expr) });
            }
        }
        Expression::Traversal(traversal) => {
            if let Expression::Variable(name) = &traversal.expr {
                let root = name.value().as_str();
                if !bound.iter().any(|b| b == root) {
                    let mut steps = Vec::new();
                    for operator in &traversal.operators {
                        match operator.value() {
                            TraversalOperator::GetAttr(ident) => steps.push(ident.value().as_str().to_string()),
                            TraversalOperator::LegacyIndex(index) => steps.push(index.value().to_string()),
                            TraversalOperator::Index(Expression::String(key)) => steps.push(key.value().clone()),
                            TraversalOperator::Index(Expression::Number(number)) => {
                                steps.push(number.value().to_string())
                            }
                            _ => break,
                        }
                    }
                    found.push(Reference {
                        root: root.to_string(),
                        steps,
                        range: hcl_edit::Span::span(traversal.as_ref()),
                    });
                }
            } else {
                walk(&traversal.expr, bound, found);
            }
            for operator in &traversal.operators {
                if let TraversalOperator::Index(index) = operator.value() {
                    walk(index, bound, found);
                }
            }
        }
        Expression::Array(items) => items.iter().for_each(|item| walk(item, bound, found)),
        Expression::Object(object) => {
            for (key, value) in object.iter() {
                if let hcl_edit::expr::ObjectKey::Expression(key) = key {
                    // A bare word key (`{ name = 1 }`) is a literal, not a reference.
                    if !matches!(key, Expression::Variable(_)) {
                        walk(key, bound, found);
                    }
                }
                walk(value.expr(), bound, found);
            }
        }
        Expression::StringTemplate(template) => template_refs(template, bound, found),
        Expression::HeredocTemplate(heredoc) => template_refs(&heredoc.template, bound, found),
        Expression::Parenthesis(inner) => walk(inner.inner(), bound, found),
        Expression::Conditional(conditional) => {
            walk(&conditional.cond_expr, bound, found);
            walk(&conditional.true_expr, bound, found);
            walk(&conditional.false_expr, bound, found);
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|arg| walk(arg, bound, found)),
        Expression::UnaryOp(op) => walk(&op.expr, bound, found),
        Expression::BinaryOp(op) => {
            walk(&op.lhs_expr, bound, found);
            walk(&op.rhs_expr, bound, found);
        }
        Expression::ForExpr(for_expr) => {
            walk(&for_expr.intro.collection_expr, bound, found);
            let before = bound.len();
            if let Some(key) = &for_expr.intro.key_var {
                bound.push(key.value().as_str().to_string());
            }
            bound.push(for_expr.intro.value_var.value().as_str().to_string());
            if let Some(key) = &for_expr.key_expr {
                walk(key, bound, found);
            }
            walk(&for_expr.value_expr, bound, found);
            if let Some(cond) = &for_expr.cond {
                walk(&cond.expr, bound, found);
            }
            bound.truncate(before);
        }
        Expression::Null(_) | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) => {}
    }
}

fn template_refs(template: &Template, bound: &mut Vec<String>, found: &mut Vec<Reference>) {
    for element in template.iter() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(interpolation) => walk(&interpolation.expr, bound, found),
            Element::Directive(directive) => match directive.as_ref() {
                Directive::If(if_directive) => {
                    walk(&if_directive.if_expr.cond_expr, bound, found);
                    template_refs(&if_directive.if_expr.template, bound, found);
                    if let Some(else_expr) = &if_directive.else_expr {
                        template_refs(&else_expr.template, bound, found);
                    }
                }
                Directive::For(for_directive) => {
                    let intro = &for_directive.for_expr;
                    walk(&intro.collection_expr, bound, found);
                    let before = bound.len();
                    if let Some(key) = &intro.key_var {
                        bound.push(key.value().as_str().to_string());
                    }
                    bound.push(intro.value_var.value().as_str().to_string());
                    template_refs(&intro.template, bound, found);
                    bound.truncate(before);
                }
            },
        }
    }
}

/// The text of a static reference (`aws_vpc.main`, `module.net[0]`, `aws_subnet.a["x"]`), for
/// arguments that take references rather than values.
pub fn static_reference(expr: &Expression) -> Option<String> {
    match expr {
        Expression::Variable(name) => Some(name.value().as_str().to_string()),
        Expression::Traversal(traversal) => {
            let Expression::Variable(root) = &traversal.expr else { return None };
            let mut text = root.value().as_str().to_string();
            for operator in &traversal.operators {
                match operator.value() {
                    TraversalOperator::GetAttr(ident) => {
                        text.push('.');
                        text.push_str(ident.value().as_str());
                    }
                    TraversalOperator::Index(Expression::String(key)) => {
                        text.push_str(&format!("[{:?}]", key.value()));
                    }
                    TraversalOperator::Index(Expression::Number(number)) => {
                        text.push_str(&format!("[{}]", number.value()));
                    }
                    TraversalOperator::LegacyIndex(index) => text.push_str(&format!("[{}]", index.value())),
                    _ => return None,
                }
            }
            Some(text)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(text: &str) -> Vec<String> {
        let expr = hcl_edit::parser::parse_expr(text).expect("test expression parses");
        references(&expr).into_iter().filter_map(|r| r.target()).collect()
    }

    #[test]
    fn finds_references_and_skips_bound_names() {
        assert_eq!(refs("var.a + local.b"), ["var.a", "local.b"]);
        assert_eq!(refs("[for s in aws_subnet.a : s.id if s.cidr != var.x]"), ["aws_subnet.a", "var.x"]);
        assert_eq!(
            refs("\"${data.aws_ami.u.id}-%{for k in module.m.out}${k}%{endfor}\""),
            ["data.aws_ami.u", "module.m"]
        );
        assert_eq!(refs("{ name = var.n }"), ["var.n"]);
    }

    #[test]
    fn static_references_round_trip() {
        let expr = hcl_edit::parser::parse_expr("aws_subnet.a[\"eu\"]").expect("parses");
        assert_eq!(static_reference(&expr).as_deref(), Some("aws_subnet.a[\"eu\"]"));
        let expr = hcl_edit::parser::parse_expr("var.a + 1").expect("parses");
        assert_eq!(static_reference(&expr), None);
    }
}
