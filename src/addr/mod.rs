//! Addresses, parsed once and compared as values: module instances
//! (`module.net["eu"]`), resources and their instances (`module.net["eu"].aws_subnet.private[2]`,
//! `data.aws_ami.ubuntu`), targets (`-target`, `moved`, `removed`, recorded dependencies) and
//! provider configurations (`module.net.provider["aws"].east`... written `aws.east`).
//!
//! Everything that asks "is this instance inside that?" asks a [`Target`]; nothing compares
//! address text. `Display` and `FromStr` round-trip in configuration syntax; state keys and
//! saved plans store the text.

mod target;

pub use target::{Target, relocate, steps_match};

use crate::syntax::{is_identifier, read_quoted, write_quoted};
use std::fmt;
use std::str::FromStr;

/// Managed resource or data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Mode {
    /// `resource`
    #[default]
    Managed,
    /// `data`
    Data,
}

impl Mode {
    /// `managed` or `data`, as state and Terraform's JSON write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Managed => "managed",
            Mode::Data => "data",
        }
    }

    /// Reads `managed` / `data` (anything else is managed, as older state wrote nothing).
    pub fn parse(text: &str) -> Mode {
        if text == "data" { Mode::Data } else { Mode::Managed }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
            InstanceKey::Str(key) => {
                let mut quoted = String::with_capacity(key.len() + 2);
                write_quoted(&mut quoted, key, false);
                write!(f, "[{quoted}]")
            }
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

/// A module instance: the path of calls from the root (empty for the root module).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    /// The root module.
    pub fn root() -> ModuleInstance {
        ModuleInstance(Vec::new())
    }

    /// The instance of call `name` (with `key`) inside this one.
    pub fn child(&self, name: &str, key: Option<InstanceKey>) -> ModuleInstance {
        let mut steps = self.0.clone();
        steps.push(ModuleStep { name: name.to_string(), key });
        ModuleInstance(steps)
    }

    /// A resource instance in this module instance.
    pub fn resource(&self, mode: Mode, kind: &str, name: &str, key: Option<InstanceKey>) -> Address {
        Address { module: self.0.clone(), mode, kind: kind.to_string(), name: name.to_string(), key }
    }

    /// Whether this is the root module.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_steps(f, &self.0, false)
    }
}

/// `module.a[0].module.b`, with a trailing dot when more follows.
fn write_steps(f: &mut fmt::Formatter<'_>, steps: &[ModuleStep], trailing_dot: bool) -> fmt::Result {
    for (index, step) in steps.iter().enumerate() {
        if index > 0 {
            f.write_str(".")?;
        }
        write!(f, "module.{}", step.name)?;
        if let Some(key) = &step.key {
            write!(f, "{key}")?;
        }
    }
    if trailing_dot && !steps.is_empty() {
        f.write_str(".")?;
    }
    Ok(())
}

/// The address of a resource instance — or, with `key: None`, of a resource or a single
/// instance of an unexpanded one.
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

impl Address {
    /// The resource this is an instance of (the key dropped).
    pub fn resource(&self) -> Address {
        Address { key: None, ..self.clone() }
    }

    /// `aws_vpc.main` / `data.aws_ami.x`: the address inside its module, without the key.
    pub fn local_name(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.kind, self.name),
            Mode::Data => format!("data.{}.{}", self.kind, self.name),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_steps(f, &self.module, true)?;
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

impl AddressError {
    fn new(text: &str, reason: &str) -> AddressError {
        AddressError { text: text.to_string(), reason: reason.to_string() }
    }
}

/// One token of an address.
#[derive(Debug, PartialEq)]
enum Token {
    Name(String),
    Key(InstanceKey),
}

/// Splits `module.a["x"].aws_b.c[0]` into names and keys.
fn tokens(text: &str) -> Result<Vec<Token>, &'static str> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut expect_name = true;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            if expect_name {
                return Err("expected a name");
            }
            let (key, used) = if after.starts_with('"') {
                let (key, used) = read_quoted(after).ok_or("a key must be a quoted string or a whole number")?;
                (InstanceKey::Str(key), used)
            } else {
                let digits = after.find(']').ok_or("`[` is not closed")?;
                let index: i64 =
                    after[..digits].trim().parse().map_err(|_| "an index must be a whole number or a quoted key")?;
                (InstanceKey::Int(index), digits)
            };
            rest = after[used..].strip_prefix(']').ok_or("`[` is not closed")?;
            out.push(Token::Key(key));
            continue;
        }
        if !expect_name {
            rest = rest.strip_prefix('.').ok_or("expected `.` or `[` between the parts of an address")?;
            expect_name = true;
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        if !(is_identifier(name) || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()))) {
            return Err("expected a name");
        }
        out.push(Token::Name(name.to_string()));
        rest = &rest[end..];
        expect_name = false;
    }
    if expect_name {
        return Err("an address cannot end with `.`");
    }
    Ok(out)
}

/// What [`split`] finds: the module steps, and the position of the rest.
fn module_steps(tokens: &[Token]) -> (Vec<ModuleStep>, usize) {
    let mut steps = Vec::new();
    let mut position = 0;
    while let (Some(Token::Name(word)), Some(Token::Name(name))) = (tokens.get(position), tokens.get(position + 1)) {
        if word != "module" {
            break;
        }
        position += 2;
        let key = match tokens.get(position) {
            Some(Token::Key(key)) => {
                position += 1;
                Some(key.clone())
            }
            _ => None,
        };
        steps.push(ModuleStep { name: name.clone(), key });
    }
    (steps, position)
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let tokens = tokens(text).map_err(|reason| AddressError::new(text, reason))?;
        let (module, mut position) = module_steps(&tokens);
        let error = |reason: &str| AddressError::new(text, reason);
        let name_at = |position: usize| match tokens.get(position) {
            Some(Token::Name(name)) => Some(name.as_str()),
            _ => None,
        };
        if name_at(position) == Some("module") {
            return Err(error("`module` must be followed by a module name"));
        }
        let mode = if name_at(position) == Some("data") {
            position += 1;
            Mode::Data
        } else {
            Mode::Managed
        };
        let kind = name_at(position).filter(|k| is_identifier(k)).ok_or_else(|| error("expected a resource type"))?;
        let name = name_at(position + 1)
            .filter(|n| is_identifier(n))
            .ok_or_else(|| error("expected a resource name after the type"))?;
        position += 2;
        let key = match tokens.get(position) {
            Some(Token::Key(key)) => {
                position += 1;
                Some(key.clone())
            }
            // The legacy form `aws_instance.web.0`.
            Some(Token::Name(digits)) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                position += 1;
                Some(InstanceKey::Int(digits.parse().map_err(|_| error("an index is too large"))?))
            }
            _ => None,
        };
        if position != tokens.len() {
            return Err(error("unexpected text after the resource name"));
        }
        Ok(Address { module, mode, kind: kind.to_string(), name: name.to_string(), key })
    }
}

impl FromStr for ModuleInstance {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let tokens = tokens(text).map_err(|reason| AddressError::new(text, reason))?;
        let (steps, position) = module_steps(&tokens);
        if position != tokens.len() || steps.is_empty() {
            return Err(AddressError::new(text, "expected a module path like `module.net` or `module.net[0]`"));
        }
        Ok(ModuleInstance(steps))
    }
}

/// A provider configuration: `aws`, `aws.east`, in a module instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderConfig {
    /// The module it is declared in (empty: the root).
    pub module: Vec<ModuleStep>,
    /// The provider's local name (`aws`).
    pub name: String,
    /// The alias (`east`).
    pub alias: Option<String>,
}

impl ProviderConfig {
    /// `aws` or `aws.east`: the key state records and `provider =` writes.
    pub fn key(&self) -> String {
        match &self.alias {
            Some(alias) => format!("{}.{alias}", self.name),
            None => self.name.clone(),
        }
    }

    /// Reads `aws` / `aws.east` as a root module configuration.
    pub fn parse_key(key: &str) -> ProviderConfig {
        let (name, alias) = match key.split_once('.') {
            Some((name, alias)) => (name, Some(alias.to_string())),
            None => (key, None),
        };
        ProviderConfig { module: Vec::new(), name: name.to_string(), alias }
    }
}

impl fmt::Display for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_steps(f, &self.module, true)?;
        write!(f, "provider.{}", self.key())
    }
}

#[cfg(test)]
mod tests {
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
            "aws_s3_object.o[\"a.b[c]\"]",
            "aws_s3_object.o[\"$${literal}\"]",
        ] {
            let address: Address = text.parse().expect(text);
            assert_eq!(address.to_string(), text);
        }
        let legacy: Address = "aws_instance.web.3".parse().expect("legacy index");
        assert_eq!(legacy.to_string(), "aws_instance.web[3]");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for text in [
            "",
            "aws_instance",
            "aws_instance.web.extra",
            "module.x",
            "aws_instance.web[var.x]",
            "\"quoted\"",
            "aws_instance.web[\"open",
            "aws_instance..web",
            "aws_instance.web.",
            "module.aws_instance.web",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text} should not parse");
        }
    }

    #[test]
    fn module_instances_and_providers_print_as_written() {
        let path: ModuleInstance = "module.a[\"x\"].module.b".parse().expect("module path");
        assert_eq!(path.to_string(), "module.a[\"x\"].module.b");
        assert_eq!(path.child("c", Some(InstanceKey::Int(1))).to_string(), "module.a[\"x\"].module.b.module.c[1]");
        let provider = ProviderConfig { module: path.0.clone(), ..ProviderConfig::parse_key("aws.east") };
        assert_eq!(provider.to_string(), "module.a[\"x\"].module.b.provider.aws.east");
    }
}
