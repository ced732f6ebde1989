//! The conformance kit every provider runs.
//!
//! [`lifecycle`] drives one resource type through create → read → no-op plan → update →
//! delete → read-gone, checking every answer with [`check_planned`] and [`check_new`] — the
//! [`crate::contract`] the engine holds every real run to.

use crate::contract::{check_new, check_planned};
use crate::provider::{ApplyRequest, PlanRequest, Provider, ReadRequest, values_equal};
use crate::value::Value;

/// One resource type's lifecycle test.
pub struct LifecycleCase {
    /// The resource type.
    pub kind: String,
    /// Configuration to create with.
    pub create: Value,
    /// Configuration to update to (in place), if the type supports updates.
    pub update: Option<Value>,
    /// Whether the object exists outside state (a file, a cloud object), so that a read after
    /// delete must find it gone. Objects that live only in state (`terraform_data`) cannot.
    pub remote: bool,
}

async fn plan(
    provider: &dyn Provider,
    kind: &str,
    prior: Option<Value>,
    config: &Value,
) -> Result<crate::PlanResponse, String> {
    let proposed = config.clone();
    let response = provider
        .plan(PlanRequest { kind: kind.into(), prior, proposed, config: config.clone() })
        .await
        .map_err(|d| format!("plan failed: {d:?}"))?;
    check_planned(config, &response.planned).map_err(|m| format!("{} {m}", provider.name()))?;
    Ok(response)
}

/// Runs the lifecycle of one resource type against a provider.
///
/// # Errors
///
/// What went wrong, naming the step.
pub async fn lifecycle(provider: &dyn Provider, case: LifecycleCase) -> Result<(), String> {
    let kind = case.kind.as_str();
    // Create.
    let created_plan = plan(provider, kind, None, &case.create).await?;
    let created = provider
        .apply(ApplyRequest {
            kind: kind.into(),
            prior: None,
            planned: Some(created_plan.planned.clone()),
            idempotency_key: format!("{kind}.test/create"),
            config: Value::Null,
        })
        .await
        .map_err(|d| format!("create failed: {d:?}"))?
        .new
        .ok_or("create returned no object")?;
    check_new(&created_plan.planned, &created).map_err(|m| format!("create {m}"))?;
    // Read what was created.
    let read = provider
        .read(ReadRequest { kind: kind.into(), current: created.clone() })
        .await
        .map_err(|d| format!("read failed: {d:?}"))?;
    let read = read.current.ok_or("read after create says the object is gone")?;
    if !values_equal(&read, &created) {
        return Err("read after create returned a different object".into());
    }
    // The same configuration plans no change.
    let again = plan(provider, kind, Some(created.clone()), &case.create).await?;
    if !again.requires_replace.is_empty() || !values_equal(&again.planned, &created) {
        return Err("planning the unchanged configuration again does not plan \"no changes\"".into());
    }
    // Update in place.
    let mut current = created;
    if let Some(update) = &case.update {
        let updated_plan = plan(provider, kind, Some(current.clone()), update).await?;
        if !updated_plan.requires_replace.is_empty() {
            return Err(format!("the update case forces replacement ({:?})", updated_plan.requires_replace));
        }
        current = provider
            .apply(ApplyRequest {
                kind: kind.into(),
                prior: Some(current),
                planned: Some(updated_plan.planned.clone()),
                idempotency_key: format!("{kind}.test/update"),
                config: Value::Null,
            })
            .await
            .map_err(|d| format!("update failed: {d:?}"))?
            .new
            .ok_or("update returned no object")?;
        check_new(&updated_plan.planned, &current).map_err(|m| format!("update {m}"))?;
    }
    // Delete, then it is gone.
    let deleted = provider
        .apply(ApplyRequest {
            kind: kind.into(),
            prior: Some(current.clone()),
            planned: None,
            idempotency_key: format!("{kind}.test/delete"),
            config: Value::Null,
        })
        .await
        .map_err(|d| format!("delete failed: {d:?}"))?;
    if deleted.new.is_some() {
        return Err("delete returned an object".into());
    }
    if !case.remote {
        return Ok(());
    }
    let gone = provider
        .read(ReadRequest { kind: kind.into(), current })
        .await
        .map_err(|d| format!("read after delete failed: {d:?}"))?;
    if gone.current.is_some() {
        return Err("read after delete still finds the object".into());
    }
    Ok(())
}

/// An object value from `(name, value)` pairs, for test configurations.
pub fn object(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

/// Plans `config` over `prior` (proposed = config) and applies the plan, as the engine would;
/// panics, naming the step, when the provider refuses.
pub async fn plan_and_apply(provider: &dyn Provider, kind: &str, prior: Option<Value>, config: Value) -> Value {
    let planned = provider
        .plan(PlanRequest { kind: kind.into(), prior: prior.clone(), proposed: config.clone(), config })
        .await
        .unwrap_or_else(|d| panic!("plan of {kind} failed: {d:?}"))
        .planned;
    provider
        .apply(ApplyRequest {
            kind: kind.into(),
            prior,
            planned: Some(planned),
            idempotency_key: "test".into(),
            config: Value::Null,
        })
        .await
        .unwrap_or_else(|d| panic!("apply of {kind} failed: {d:?}"))
        .new
        .unwrap_or_else(|| panic!("apply of {kind} returned no object"))
}

/// Reads an object back; panics when the provider fails.
pub async fn read_back(provider: &dyn Provider, kind: &str, current: &Value) -> Option<Value> {
    provider
        .read(ReadRequest { kind: kind.into(), current: current.clone() })
        .await
        .unwrap_or_else(|d| panic!("read of {kind} failed: {d:?}"))
        .current
}
