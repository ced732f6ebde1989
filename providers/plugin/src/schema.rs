//! A plugin's schema in infra's terms, and what the engine computes from it before asking the
//! plugin to plan: the proposed new state (Terraform's rules: configured values win; a computed
//! attribute left unset keeps its prior value; nested blocks are matched with their prior
//! counterparts by index, key, or — in sets — by their non-computed content; nested attributes
//! (protocol 6) as nested blocks, except that a computed one left unset keeps its prior value).

use crate::cty::Type;
use crate::tfplugin6::{Attribute as WireAttribute, Block, NestedBlock, NestingMode, Object};
use infra_provider::{AttrType, Attribute, BlockSchema, Nesting, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The cty type of a block's objects.
///
/// # Errors
///
/// An attribute type that does not parse.
pub fn block_type(block: &Block) -> Result<Type, String> {
    let mut attributes = BTreeMap::new();
    for attribute in &block.attributes {
        attributes.insert(attribute.name.clone(), attribute_type(attribute)?);
    }
    for nested in &block.block_types {
        attributes.insert(nested.type_name.clone(), nested_type(nested)?);
    }
    Ok(Type::Object(attributes, BTreeSet::new()))
}

/// An attribute's cty type: its own, or the one its nested type implies.
fn attribute_type(attribute: &WireAttribute) -> Result<Type, String> {
    match &attribute.nested_type {
        Some(object) => {
            let inner =
                block_type(&object_block(object)).map_err(|e| format!("attribute `{}`: {e}", attribute.name))?;
            Ok(nest(nesting(object.nesting), inner))
        }
        None => Type::parse(&attribute.r#type).map_err(|e| format!("attribute `{}`: {e}", attribute.name)),
    }
}

/// A nested attribute's object as a block of attributes (the rules for its content are the
/// same).
fn object_block(object: &Object) -> Block {
    Block { attributes: object.attributes.clone(), ..Block::default() }
}

fn nested_type(nested: &NestedBlock) -> Result<Type, String> {
    let inner = block_type(nested.block.as_ref().unwrap_or(&Block::default()))?;
    Ok(nest(mode(nested), inner))
}

fn nest(mode: NestingMode, inner: Type) -> Type {
    match mode {
        NestingMode::List => Type::List(Box::new(inner)),
        NestingMode::Set => Type::Set(Box::new(inner)),
        NestingMode::Map => Type::Map(Box::new(inner)),
        NestingMode::Single | NestingMode::Group | NestingMode::Invalid => inner,
    }
}

fn nesting(number: i32) -> NestingMode {
    NestingMode::try_from(number).unwrap_or(NestingMode::Invalid)
}

fn mode(nested: &NestedBlock) -> NestingMode {
    nesting(nested.nesting)
}

/// The block in infra's schema model.
///
/// # Errors
///
/// An attribute type that does not parse.
pub fn block_schema(block: &Block) -> Result<BlockSchema, String> {
    let mut schema = BlockSchema::new();
    for attribute in &block.attributes {
        let kind = attribute_type(attribute)?;
        schema.attributes.insert(
            attribute.name.clone(),
            Attribute {
                kind: attr_type(&kind),
                required: attribute.required,
                optional: attribute.optional,
                computed: attribute.computed,
                force_new: false,
                sensitive: attribute.sensitive,
                description: "",
            },
        );
    }
    for nested in &block.block_types {
        let inner = block_schema(nested.block.as_ref().unwrap_or(&Block::default()))?;
        let nesting = match mode(nested) {
            NestingMode::List | NestingMode::Map => Nesting::List,
            NestingMode::Set => Nesting::Set,
            NestingMode::Single | NestingMode::Group | NestingMode::Invalid => Nesting::Single,
        };
        schema
            .blocks
            .insert(nested.type_name.clone(), infra_provider::NestedBlock { nesting, block: inner, force_new: false });
    }
    Ok(schema)
}

fn attr_type(kind: &Type) -> AttrType {
    match kind {
        Type::String => AttrType::String,
        Type::Number => AttrType::Number,
        Type::Bool => AttrType::Bool,
        Type::Dynamic | Type::Tuple(_) => AttrType::Dynamic,
        Type::List(t) => AttrType::List(Box::new(attr_type(t))),
        Type::Set(t) => AttrType::Set(Box::new(attr_type(t))),
        Type::Map(t) => AttrType::Map(Box::new(attr_type(t))),
        Type::Object(attributes, _) => {
            AttrType::Object(attributes.iter().map(|(name, t)| (name.clone(), attr_type(t))).collect())
        }
    }
}

/// The proposed new state of an object of `block`: `config` merged over `prior` as Terraform
/// does before it asks a provider to plan.
pub fn proposed_new(block: &Block, prior: Option<&Value>, config: &Value) -> Value {
    let config = config.bare();
    match config {
        Value::Null => return Value::Null,
        Value::Unknown => return Value::Unknown,
        _ => {}
    }
    let empty = BTreeMap::new();
    let config_map = config.as_map().unwrap_or(&empty);
    let prior_map = prior.and_then(|p| p.bare().as_map());
    let prior_of = |name: &str| prior_map.and_then(|m| m.get(name));
    let mut out = BTreeMap::new();
    for attribute in &block.attributes {
        let configured = config_map.get(&attribute.name).cloned().unwrap_or(Value::Null);
        let prior = prior_of(&attribute.name);
        let value = if attribute.computed && configured.is_null() {
            prior.cloned().unwrap_or(Value::Null)
        } else if let Some(object) = &attribute.nested_type {
            proposed_nested(nesting(object.nesting), &object_block(object), prior, &configured)
        } else {
            configured
        };
        out.insert(attribute.name.clone(), value);
    }
    for nested in &block.block_types {
        let inner = nested.block.clone().unwrap_or_default();
        let configured = config_map.get(&nested.type_name).unwrap_or(&Value::Null);
        let value = proposed_nested(mode(nested), &inner, prior_of(&nested.type_name), configured);
        out.insert(nested.type_name.clone(), value);
    }
    Value::Map(out)
}

/// The proposed value of a nested block or nested attribute: each configured object merged
/// with its prior counterpart (same index in a list, same key in a map, same configured
/// content in a set).
fn proposed_nested(mode: NestingMode, inner: &Block, prior: Option<&Value>, configured: &Value) -> Value {
    match mode {
        NestingMode::Single | NestingMode::Group | NestingMode::Invalid => {
            proposed_new(inner, prior.filter(|p| !p.is_null()), configured)
        }
        NestingMode::List => match configured.bare().as_items() {
            Some(items) => {
                let priors = prior.and_then(|p| p.bare().as_items()).unwrap_or(&[]);
                Value::List(
                    items.iter().enumerate().map(|(i, item)| proposed_new(inner, priors.get(i), item)).collect(),
                )
            }
            None => configured.clone(),
        },
        NestingMode::Map => match configured.bare().as_map() {
            Some(items) => {
                let priors = prior.and_then(|p| p.bare().as_map());
                Value::Map(
                    items
                        .iter()
                        .map(|(key, item)| (key.clone(), proposed_new(inner, priors.and_then(|p| p.get(key)), item)))
                        .collect(),
                )
            }
            None => configured.clone(),
        },
        NestingMode::Set => match configured.bare().as_items() {
            Some(items) => {
                let priors = prior.and_then(|p| p.bare().as_items()).unwrap_or(&[]);
                Value::set(
                    items
                        .iter()
                        .map(|item| {
                            let matching = priors.iter().find(|p| same_configured(inner, p, item));
                            proposed_new(inner, matching, item)
                        })
                        .collect(),
                )
            }
            None => configured.clone(),
        },
    }
}

/// Whether a prior set element is the one a configured element describes: equal in every
/// attribute that is not computed.
fn same_configured(block: &Block, prior: &Value, config: &Value) -> bool {
    let (Some(prior), Some(config)) = (prior.bare().as_map(), config.bare().as_map()) else { return false };
    block.attributes.iter().filter(|a| !a.computed).all(|a| {
        infra_provider::values_equal(
            prior.get(&a.name).unwrap_or(&Value::Null),
            config.get(&a.name).unwrap_or(&Value::Null),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(name: &str, kind: &str, optional: bool, computed: bool) -> WireAttribute {
        WireAttribute {
            name: name.into(),
            r#type: kind.as_bytes().to_vec(),
            optional,
            computed,
            required: !optional && !computed,
            ..WireAttribute::default()
        }
    }

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn the_proposed_state_keeps_prior_computed_values_and_takes_configured_ones() {
        let rule = Block {
            attributes: vec![
                attribute("port", "\"number\"", false, false),
                attribute("rule_id", "\"string\"", false, true),
            ],
            ..Block::default()
        };
        let block = Block {
            attributes: vec![
                attribute("cidr_block", "\"string\"", false, false),
                attribute("id", "\"string\"", false, true),
                attribute("tenancy", "\"string\"", true, true),
            ],
            block_types: vec![NestedBlock {
                type_name: "ingress".into(),
                block: Some(rule),
                nesting: NestingMode::Set as i32,
                ..NestedBlock::default()
            }],
            ..Block::default()
        };
        let prior = object(&[
            ("cidr_block", Value::from("10.0.0.0/16")),
            ("id", Value::from("vpc-1")),
            ("tenancy", Value::from("default")),
            ("ingress", Value::set(vec![object(&[("port", Value::int(80)), ("rule_id", Value::from("r-80"))])])),
        ]);
        let config = object(&[
            ("cidr_block", Value::from("10.1.0.0/16")),
            ("id", Value::Null),
            ("tenancy", Value::Null),
            ("ingress", Value::set(vec![object(&[("port", Value::int(80))]), object(&[("port", Value::int(443))])])),
        ]);
        let proposed = proposed_new(&block, Some(&prior), &config);
        let expected = object(&[
            ("cidr_block", Value::from("10.1.0.0/16")),
            ("id", Value::from("vpc-1")),
            ("tenancy", Value::from("default")),
            (
                "ingress",
                Value::set(vec![
                    object(&[("port", Value::int(80)), ("rule_id", Value::from("r-80"))]),
                    object(&[("port", Value::int(443)), ("rule_id", Value::Null)]),
                ]),
            ),
        ]);
        assert_eq!(proposed, expected);
        // On create, computed attributes left unset are null: the plugin marks them unknown.
        let created = proposed_new(&block, None, &config);
        assert_eq!(created.as_map().unwrap().get("id"), Some(&Value::Null));
    }
}
