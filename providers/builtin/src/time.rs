//! `time_sleep`: waits on create (and destroy), as the `hashicorp/time` provider's resource of
//! that name: `create_duration = "30s"`, `destroy_duration`, `triggers` (a change replaces it).
//! Used to give an eventually consistent API time before a dependent resource is created.

use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, PlanRequest, PlanResponse,
    ResourceSchema, Value, plan_by_schema,
};
use std::time::Duration;

/// Its schema.
pub fn schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String).describe("When it was created (RFC 3339)."))
            .attribute(
                "create_duration",
                Attribute::optional(AttrType::String).describe("How long create waits: `30s`, `1m30s`, `500ms`."),
            )
            .attribute("destroy_duration", Attribute::optional(AttrType::String).describe("How long destroy waits."))
            .attribute(
                "triggers",
                Attribute::optional(AttrType::Map(Box::new(AttrType::String)))
                    .force_new()
                    .describe("Arbitrary values; a change replaces it (and waits again)."),
            ),
    }
}

/// Go's `time.ParseDuration` forms, bounded: the SDK's one duration parser.
pub use infra_provider::duration::parse_go as parse_duration;

fn duration_of(value: Option<&Value>, name: &str) -> Result<Duration, Diagnostics> {
    match value.and_then(Value::as_str) {
        None => Ok(Duration::ZERO),
        Some(text) => parse_duration(text)
            .map_err(|reason| Diagnostic::error("Invalid duration", format!("`{name}`: {reason}")).into()),
    }
}

/// Checks the durations at plan time.
pub fn plan(schema: &BlockSchema, request: &PlanRequest) -> Result<PlanResponse, Diagnostics> {
    let config = request.config.as_map();
    for name in ["create_duration", "destroy_duration"] {
        duration_of(config.and_then(|c| c.get(name)).filter(|v| v.is_known()), name)?;
    }
    Ok(plan_by_schema(Some(schema), request))
}

/// Create waits `create_duration`, delete `destroy_duration`; update (durations only) is free.
pub async fn apply(request: &ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
    let Some(Value::Map(planned)) = request.planned.as_ref().map(|p| p.clone().unmark().0) else {
        let prior = request.prior.as_ref().and_then(Value::as_map);
        tokio::time::sleep(duration_of(prior.and_then(|p| p.get("destroy_duration")), "destroy_duration")?).await;
        return Ok(ApplyResponse { new: None });
    };
    let mut new = planned;
    if request.prior.is_none() {
        tokio::time::sleep(duration_of(new.get("create_duration"), "create_duration")?).await;
    }
    if !new.get("id").is_some_and(Value::is_known) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        new.insert("id".into(), Value::String(now));
    }
    Ok(ApplyResponse { new: Some(Value::Map(new)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_go_writes_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("10").is_err());
    }
}
