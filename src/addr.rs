//! Addresses: `module.net["eu"].aws_subnet.private[2]`, `data.aws_ami.ubuntu`.
//!
//! An [`Address`] keys the state, the plan, `-target` and every message. `Display` and
//! `FromStr` round-trip in configuration syntax; parsing reuses the HCL traversal parser, so
//! `aws_subnet.a["eu-1"]` is read exactly as it is written in a configuration.

use crate::config::Mode;
use hcl_edit::expr::{Expression, TraversalOperator};
use std::fmt;
use std::str::FromStr;

/// The key of one instance of a resource or module: `[2]` or `["eu"]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    /// `count` index.
    Int(i64),
    /// `for_each` key.
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Int(index) => write!(f, "[{index}]"),
            InstanceKey::Str(key) => write!(f, "[{}]", crate::eval::functions::quote_string(key)),
        }
    }
}

/// One step of a module path: `module.net["eu"]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    /// The module call name.
    pub name: String,
    /// The instance key, if the call is expanded.
    pub key: Option<InstanceKey>,
}

/// The address of a resource instance (or, with `key: None`, of a resource).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    /// The module path from the root.
    pub module: Vec<ModuleStep>,
    /// Managed or data.
    pub mode: Mode,
    /// Resource type.
    pub kind: String,
    /// Resource name.
    pub name: String,
    /// Instance key.
    pub key: Option<InstanceKey>,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.module {
            write!(f, "module.{}", step.name)?;
            if let Some(key) = &step.key {
                write!(f, "{key}")?;
            }
            f.write_str(".")?;
        }
        if self.mode == Mode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.kind, self.name)?;
        if let Some(key) = &self.key {
            write!(f, "{key}")?;
        }
        Ok(())
    }
}

/// An address could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{text}` is not a valid resource address: {reason}")]
pub struct AddressError {
    text: String,
    reason: String,
}

enum Step {
    Name(String),
    Key(InstanceKey),
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: &str| AddressError { text: text.to_string(), reason: reason.to_string() };
        let expr =
            hcl_edit::parser::parse_expr(text).map_err(|_| error("expected a form like `aws_instance.web[0]`"))?;
        let Expression::Traversal(traversal) = expr else {
            return Err(error("expected a resource type and name separated by a dot"));
        };
        let Expression::Variable(root) = &traversal.expr else {
            return Err(error("an address starts with a name"));
        };
        let mut steps = vec![Step::Name(root.value().as_str().to_string())];
        for operator in &traversal.operators {
            steps.push(match operator.value() {
                TraversalOperator::GetAttr(ident) => Step::Name(ident.value().as_str().to_string()),
                TraversalOperator::Index(Expression::String(key)) => Step::Key(InstanceKey::Str(key.value().clone())),
                TraversalOperator::Index(Expression::Number(number)) => {
                    let index = number.value().as_i64().ok_or_else(|| error("an index must be a whole number"))?;
                    Step::Key(InstanceKey::Int(index))
                }
                TraversalOperator::LegacyIndex(index) => Step::Key(InstanceKey::Int(*index.value() as i64)),
                _ => return Err(error("only names, [number] and [\"key\"] may appear in an address")),
            });
        }
        let mut module = Vec::new();
        let mut position = 0;
        let name_at = |position: usize| match steps.get(position) {
            Some(Step::Name(name)) => Some(name.clone()),
            _ => None,
        };
        while name_at(position).as_deref() == Some("module") {
            let name = name_at(position + 1).ok_or_else(|| error("`module` must be followed by a module name"))?;
            position += 2;
            let key = match steps.get(position) {
                Some(Step::Key(key)) => {
                    position += 1;
                    Some(key.clone())
                }
                _ => None,
            };
            module.push(ModuleStep { name, key });
        }
        let mode = if name_at(position).as_deref() == Some("data") {
            position += 1;
            Mode::Data
        } else {
            Mode::Managed
        };
        let kind = name_at(position).ok_or_else(|| error("expected a resource type"))?;
        let name = name_at(position + 1).ok_or_else(|| error("expected a resource name after the type"))?;
        position += 2;
        let key = match steps.get(position) {
            Some(Step::Key(key)) => {
                position += 1;
                Some(key.clone())
            }
            _ => None,
        };
        if position != steps.len() {
            return Err(error("unexpected text after the resource name"));
        }
        Ok(Address { module, mode, kind, name, key })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn targets_are_addresses_or_module_calls() {
        for text in ["aws_vpc.main", "module.db", "module.net[0]", "module.a.module.b[\"x\"]", "module.db.aws_vpc.x[1]"]
        {
            let target: Target = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(target.to_string(), text);
        }
        for text in ["module.", "module.db.", "db"] {
            assert!(text.parse::<Target>().is_err(), "{text}");
        }
    }

    use super::*;

    #[test]
    fn addresses_round_trip() {
        for text in [
            "aws_instance.web",
            "aws_instance.web[0]",
            "aws_subnet.a[\"eu-1\"]",
            "data.aws_ami.ubuntu",
            "module.net[\"eu\"].aws_subnet.private[2]",
            "module.a.module.b[1].data.x_y.z",
            "aws_s3_object.o[\"with \\\"quotes\\\"\"]",
        ] {
            let address: Address = text.parse().expect(text);
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for text in ["", "aws_instance", "aws_instance.web.extra", "module.x", "aws_instance.web[var.x]", "\"quoted\""]
        {
            assert!(text.parse::<Address>().is_err(), "{text} should not parse");
        }
    }
}

/// A `-target`: a resource or instance address, or a module call (`module.db`,
/// `module.net[0]`) meaning everything in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target(String);

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Target {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<Address>() {
            Ok(address) => Ok(Target(address.to_string())),
            // A module path: valid if a resource inside it would be.
            Err(error) if text.starts_with("module.") => {
                let inside = format!("{text}.terraform_data.x").parse::<Address>().map_err(|_| error)?;
                let shown = inside.to_string();
                Ok(Target(shown.trim_end_matches(".terraform_data.x").to_string()))
            }
            Err(error) => Err(error),
        }
    }
}
