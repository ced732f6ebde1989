//! What a provider's answers must satisfy, checked by the engine on every plan and apply and by
//! the conformance kit ([`crate::testing`]): a plan keeps every configured value, and an applied
//! object is wholly known and keeps every value its plan knew (Terraform's plan-validity and
//! apply-consistency checks).

use crate::provider::values_equal;
use crate::value::Value;

/// Checks a plan against the configuration: every attribute the configuration set must be
/// planned with that value (or still Unknown; inside objects, what the configuration left null
/// may be filled, as a nested attribute's computed parts are).
///
/// # Errors
///
/// A sentence naming the attribute.
pub fn check_planned(config: &Value, planned: &Value) -> Result<(), String> {
    let (Some(config), Some(planned)) = (config.as_map(), planned.as_map()) else { return Ok(()) };
    for (name, configured) in config {
        // An empty collection is how an absent nested block arrives; a provider may fill a
        // block that is optional and computed (an instance's root volume).
        let absent_block = configured.as_items().is_some_and(<[Value]>::is_empty);
        if configured.is_null() || absent_block || !configured.is_wholly_known() {
            continue;
        }
        match planned.get(name) {
            Some(value) if agrees(configured, value) => {}
            Some(_) => return Err(format!("planned a value for `{name}` that differs from the configuration")),
            None => return Err(format!("left the configured attribute `{name}` out of its plan")),
        }
    }
    Ok(())
}

/// Whether a planned value keeps a configured one: equal, except that what the configuration
/// leaves null or unknown inside an object (a nested attribute's computed parts) may be
/// planned as anything, and what the plan leaves unknown may become anything.
fn agrees(configured: &Value, planned: &Value) -> bool {
    if configured.is_null() || !configured.is_known() || !planned.is_known() {
        return true;
    }
    match (configured.bare(), planned.bare()) {
        (Value::Map(c), Value::Map(p)) => c.iter().all(|(k, v)| p.get(k).map_or(v.is_null(), |p| agrees(v, p))),
        (Value::List(c), Value::List(p)) if c.len() == p.len() => c.iter().zip(p).all(|(c, p)| agrees(c, p)),
        (Value::Set(c), Value::Set(p)) if c.len() == p.len() => c.iter().all(|c| p.iter().any(|p| agrees(c, p))),
        _ => values_equal(configured, planned),
    }
}

/// Checks an applied object against its plan: wholly known, and every value the plan knew is
/// unchanged.
///
/// # Errors
///
/// A sentence naming the attribute.
pub fn check_new(planned: &Value, new: &Value) -> Result<(), String> {
    if !new.is_wholly_known() {
        return Err("returned a new state with values still unknown after apply".into());
    }
    fn walk(path: &str, planned: &Value, new: &Value) -> Result<(), String> {
        match (planned.bare(), new.bare()) {
            (Value::Unknown, _) => Ok(()),
            (Value::Map(p), Value::Map(n)) => {
                for (key, value) in p {
                    let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    walk(&child, value, n.get(key).unwrap_or(&Value::Null))?;
                }
                Ok(())
            }
            (Value::List(p), Value::List(n)) if p.len() == n.len() => {
                p.iter().zip(n).enumerate().try_for_each(|(index, (p, n))| walk(&format!("{path}[{index}]"), p, n))
            }
            // A collection with unknown parts may take any shape once they are known.
            (p @ (Value::List(_) | Value::Set(_)), _) if !p.is_wholly_known() => Ok(()),
            (p, n) if values_equal(p, n) => Ok(()),
            _ => Err(format!("produced a value for `{path}` that differs from its plan")),
        }
    }
    walk("", planned, new)
}
