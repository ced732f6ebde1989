//! Targets: what `-target`, `moved`, `removed` and recorded dependencies point at — a module
//! (every instance, or one) or a resource (every instance, or one) — and the one question
//! asked of them: does it contain this instance?

use super::{Address, AddressError, InstanceKey, ModuleStep};
use std::fmt;
use std::str::FromStr;

/// A module or a resource, with or without instance keys. A step or resource without a key
/// stands for every instance of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `module.db`, `module.net[0]`, `module.a.module.b`: everything in it.
    Module(Vec<ModuleStep>),
    /// `aws_vpc.main` (every instance) or `aws_vpc.main[0]` (one), in a module.
    Resource(Address),
}

/// Whether the module steps of a pattern select the module path `path` exactly (same length),
/// a pattern step without a key selecting every instance of its call.
pub fn steps_match(pattern: &[ModuleStep], path: &[ModuleStep]) -> bool {
    pattern.len() == path.len()
        && pattern.iter().zip(path).all(|(p, s)| p.name == s.name && (p.key.is_none() || p.key == s.key))
}

impl Target {
    /// Whether the instance at `address` is (in) this target.
    pub fn contains(&self, address: &Address) -> bool {
        match self {
            Target::Module(steps) => {
                address.module.len() >= steps.len() && steps_match(steps, &address.module[..steps.len()])
            }
            Target::Resource(resource) => {
                resource.mode == address.mode
                    && resource.kind == address.kind
                    && resource.name == address.name
                    && (resource.key.is_none() || resource.key == address.key)
                    && steps_match(&resource.module, &address.module)
            }
        }
    }

    /// The module steps it is in or is.
    pub fn module(&self) -> &[ModuleStep] {
        match self {
            Target::Module(steps) => steps,
            Target::Resource(resource) => &resource.module,
        }
    }
}

impl From<Address> for Target {
    fn from(address: Address) -> Target {
        Target::Resource(address)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Module(steps) => write!(f, "{}", super::ModuleInstance(steps.clone())),
            Target::Resource(address) => write!(f, "{address}"),
        }
    }
}

impl FromStr for Target {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<Address>() {
            Ok(address) => Ok(Target::Resource(address)),
            Err(error) => match text.parse::<super::ModuleInstance>() {
                Ok(module) => Ok(Target::Module(module.0)),
                Err(_) => Err(error),
            },
        }
    }
}

/// The key an object (or module instance) gets from a `moved` block whose `from` and `to` carry
/// `from` and `to` keys: unkeyed to unkeyed keeps the object's key, unkeyed to keyed gives an
/// unkeyed object the new key, a key moves only the object with that key. `None`: the block
/// does not apply to it.
fn moved_key(
    from: &Option<InstanceKey>,
    to: &Option<InstanceKey>,
    current: &Option<InstanceKey>,
) -> Option<Option<InstanceKey>> {
    match (from, to) {
        (None, None) => Some(current.clone()),
        (None, Some(key)) if current.is_none() => Some(Some(key.clone())),
        (Some(from_key), to_key) if current.as_ref() == Some(from_key) => Some(to_key.clone()),
        _ => None,
    }
}

/// Where a `moved` block (or `state mv`) takes the instance at `address`, if it applies to it:
/// resource to resource (every instance keeping its key, or one instance to one), module to
/// module (every instance, or one; `module.a` → `module.a[0]` adds a key to the unkeyed one).
pub fn relocate(from: &Target, to: &Target, address: &Address) -> Option<Address> {
    match (from, to) {
        (Target::Resource(from), Target::Resource(to)) => {
            let same_resource = from.mode == address.mode
                && from.kind == address.kind
                && from.name == address.name
                && from.module == address.module;
            if !same_resource {
                return None;
            }
            let key = moved_key(&from.key, &to.key, &address.key)?;
            Some(Address { module: to.module.clone(), key, ..to.clone() })
        }
        (Target::Module(from), Target::Module(to)) => {
            let (Some((last, parents)), Some((to_last, to_parents))) = (from.split_last(), to.split_last()) else {
                return None;
            };
            if address.module.len() < from.len() || address.module[..parents.len()] != *parents {
                return None;
            }
            let step = &address.module[parents.len()];
            if step.name != last.name {
                return None;
            }
            let key = moved_key(&last.key, &to_last.key, &step.key)?;
            let mut module = to_parents.to_vec();
            module.push(ModuleStep { name: to_last.name.clone(), key });
            module.extend_from_slice(&address.module[from.len()..]);
            Some(Address { module, ..address.clone() })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Address {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn target(text: &str) -> Target {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn targets_are_addresses_or_module_paths() {
        for text in ["aws_vpc.main", "module.db", "module.net[0]", "module.a.module.b[\"x\"]", "module.db.aws_vpc.x[1]"]
        {
            assert_eq!(target(text).to_string(), text);
        }
        for text in ["module.", "module.db.", "db", "module"] {
            assert!(text.parse::<Target>().is_err(), "{text}");
        }
    }

    #[test]
    fn containment_is_by_parts_not_by_text() {
        let cases = [
            ("aws_vpc.main", "aws_vpc.main[0]", true),
            ("aws_vpc.main", "aws_vpc.main_b", false),
            ("aws_vpc.main[0]", "aws_vpc.main[1]", false),
            ("module.db", "module.db.aws_vpc.x", true),
            ("module.db", "module.db[\"a\"].module.c.aws_vpc.x[2]", true),
            ("module.db", "module.db2.aws_vpc.x", false),
            ("module.db[0]", "module.db[1].aws_vpc.x", false),
            ("module.db.aws_vpc.x", "module.db[3].aws_vpc.x[1]", true),
            ("module.db.aws_vpc.x", "aws_vpc.x", false),
            ("aws_vpc.x", "module.db.aws_vpc.x", false),
            ("data.aws_ami.u", "aws_ami.u", false),
        ];
        for (pattern, instance, expected) in cases {
            assert_eq!(target(pattern).contains(&address(instance)), expected, "{pattern} ∋ {instance}");
        }
    }

    #[test]
    fn moves_take_instances_to_their_new_addresses() {
        let cases = [
            ("aws_vpc.a", "aws_vpc.b", "aws_vpc.a[\"x\"]", Some("aws_vpc.b[\"x\"]")),
            ("aws_vpc.a", "aws_vpc.a[0]", "aws_vpc.a", Some("aws_vpc.a[0]")),
            ("aws_vpc.a[0]", "aws_vpc.a", "aws_vpc.a[0]", Some("aws_vpc.a")),
            ("aws_vpc.a[0]", "aws_vpc.a", "aws_vpc.a[1]", None),
            ("aws_vpc.a", "aws_vpc.b", "aws_vpc.ab", None),
            ("aws_vpc.a", "module.m.aws_vpc.a", "aws_vpc.a", Some("module.m.aws_vpc.a")),
            ("module.old", "module.new", "module.old[\"k\"].aws_vpc.a[1]", Some("module.new[\"k\"].aws_vpc.a[1]")),
            ("module.old", "module.new", "module.older.aws_vpc.a", None),
            ("module.old", "module.old[0]", "module.old.module.c.aws_vpc.a", Some("module.old[0].module.c.aws_vpc.a")),
            (
                "module.p.module.old",
                "module.p.module.new",
                "module.p.module.old.x_y.z",
                Some("module.p.module.new.x_y.z"),
            ),
        ];
        for (from, to, instance, expected) in cases {
            let moved = relocate(&target(from), &target(to), &address(instance)).map(|a| a.to_string());
            assert_eq!(moved.as_deref(), expected, "{from} → {to} at {instance}");
        }
    }
}
