//! `terraform_data`: a value kept in state, as Terraform's built-in resource of that name.

use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, PlanRequest, PlanResponse, ResourceSchema, Value,
    plan_by_schema, values_equal,
};

/// Its schema.
pub fn schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String).describe("A unique id, set on create."))
            .attribute(
                "input",
                Attribute::optional(AttrType::Dynamic).describe("Any value; copied to `output` on apply."),
            )
            .attribute("output", Attribute::computed(AttrType::Dynamic).describe("The `input` of the last apply."))
            .attribute(
                "triggers_replace",
                Attribute::optional(AttrType::Dynamic)
                    .force_new()
                    .describe("Any value; a change replaces the resource."),
            ),
    }
}

/// `output` is `input` once applied: Unknown while `input` is new or changing.
pub fn plan(schema: &BlockSchema, request: &PlanRequest) -> PlanResponse {
    let mut response = plan_by_schema(Some(schema), request);
    let input = request.config.as_map().and_then(|c| c.get("input")).cloned().unwrap_or(Value::Null);
    let prior_input = request.prior.as_ref().and_then(|p| p.as_map()).and_then(|p| p.get("input")).cloned();
    let unchanged =
        response.requires_replace.is_empty() && prior_input.is_some_and(|prior| values_equal(&prior, &input));
    if let Value::Map(planned) = &mut response.planned
        && !unchanged
    {
        planned.insert("output".into(), Value::Unknown);
    }
    response
}

/// Create and update copy `input` to `output`; delete forgets.
pub fn apply(request: &ApplyRequest) -> ApplyResponse {
    let Some(Value::Map(planned)) = request.planned.as_ref().map(|p| p.clone().unmark().0) else {
        return ApplyResponse { new: None };
    };
    let mut new = planned;
    let input = new.get("input").cloned().unwrap_or(Value::Null);
    new.insert("output".into(), input);
    if !new.get("id").is_some_and(Value::is_known) {
        new.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
    }
    ApplyResponse { new: Some(Value::Map(new)) }
}

/// An imported `terraform_data` has the given id and no input.
pub fn import(id: &str) -> Value {
    Value::Map(
        [("id", Value::from(id)), ("input", Value::Null), ("output", Value::Null), ("triggers_replace", Value::Null)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}
