//! `null_resource` and the `null_data_source` data source, as the `hashicorp/null` provider:
//! a resource that does nothing but live in state (its `triggers` replace it), and a data
//! source that echoes its `inputs` as `outputs`.

use infra_provider::{ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, ResourceSchema, Value};
use rand::Rng;

fn strings() -> AttrType {
    AttrType::Map(Box::new(AttrType::String))
}

/// `null_resource`'s schema.
pub fn resource_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String).describe("A random number, set on create."))
            .attribute(
                "triggers",
                Attribute::optional(strings()).force_new().describe("Arbitrary values; a change replaces it."),
            ),
    }
}

/// Create sets a random decimal id (as the null provider); update and delete keep or forget.
pub fn apply(request: &ApplyRequest) -> ApplyResponse {
    let Some(Value::Map(mut object)) = request.planned.as_ref().map(|p| p.clone().deep_unmark()) else {
        return ApplyResponse { new: None };
    };
    if !object.get("id").is_some_and(Value::is_known) {
        let id: i64 = rand::rng().random_range(0..i64::MAX);
        object.insert("id".into(), Value::String(id.to_string()));
    }
    ApplyResponse { new: Some(Value::Map(object)) }
}

/// `null_data_source`'s schema (deprecated upstream, still common in older modules).
pub fn data_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("inputs", Attribute::optional(strings()))
            .attribute("outputs", Attribute::computed(strings()))
            .attribute("random", Attribute::computed(AttrType::String))
            .attribute("has_computed_default", Attribute::optional(AttrType::String).and_computed())
            .attribute("id", Attribute::computed(AttrType::String)),
    }
}

/// `outputs` is `inputs`; `has_computed_default` defaults to `"default"`.
pub fn read_data(config: &Value) -> Value {
    let mut object = config.as_map().cloned().unwrap_or_default();
    let inputs = object.get("inputs").cloned().filter(|v| !v.is_null()).unwrap_or(Value::Map(Default::default()));
    object.insert("outputs".into(), inputs);
    object.insert("random".into(), Value::String(rand::rng().random_range(0..i64::MAX).to_string()));
    if object.get("has_computed_default").is_none_or(Value::is_null) {
        object.insert("has_computed_default".into(), Value::from("default"));
    }
    object.insert("id".into(), Value::from("static"));
    Value::Map(object)
}
