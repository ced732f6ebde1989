//! `time_static`, `time_offset` and `time_rotating`, as the `hashicorp/time` provider: a moment
//! fixed in state on create (now, or the configured `rfc3339` / `base_rfc3339`), with its parts
//! (`year`, `month`, ..., `unix`). A `time_rotating` whose rotation moment has passed is read as
//! gone, so the next plan creates it again (the provider's rotation).

use chrono::{DateTime, Datelike, Duration, Months, SecondsFormat, Timelike, Utc};
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, Number, PlanRequest,
    PlanResponse, ResourceSchema, Value, plan_by_schema,
};
use std::collections::BTreeMap;

const PARTS: &[&str] = &["year", "month", "day", "hour", "minute", "second", "unix"];
const OFFSETS: &[&str] = &["years", "months", "days", "hours", "minutes", "seconds"];

fn with_parts(mut block: BlockSchema) -> BlockSchema {
    for part in PARTS {
        block = block.attribute(part, Attribute::computed(AttrType::Number));
    }
    block
        .attribute("id", Attribute::computed(AttrType::String))
        .attribute("triggers", Attribute::optional(AttrType::Map(Box::new(AttrType::String))).force_new())
}

/// `time_static`'s schema.
pub fn static_schema() -> ResourceSchema {
    ResourceSchema {
        version: 0,
        block: with_parts(
            BlockSchema::new().attribute("rfc3339", Attribute::optional(AttrType::String).and_computed().force_new()),
        ),
    }
}

/// `time_offset`'s schema.
pub fn offset_schema() -> ResourceSchema {
    let mut block = BlockSchema::new()
        .attribute("base_rfc3339", Attribute::optional(AttrType::String).and_computed().force_new())
        .attribute("rfc3339", Attribute::computed(AttrType::String));
    for unit in OFFSETS {
        block = block.attribute(&format!("offset_{unit}"), Attribute::optional(AttrType::Number).force_new());
    }
    ResourceSchema { version: 0, block: with_parts(block) }
}

/// `time_rotating`'s schema.
pub fn rotating_schema() -> ResourceSchema {
    let mut block = BlockSchema::new()
        .attribute("rfc3339", Attribute::optional(AttrType::String).and_computed().force_new())
        .attribute("rotation_rfc3339", Attribute::optional(AttrType::String).and_computed().force_new());
    for unit in ["years", "months", "days", "hours", "minutes"] {
        block = block.attribute(&format!("rotation_{unit}"), Attribute::optional(AttrType::Number).force_new());
    }
    ResourceSchema { version: 0, block: with_parts(block) }
}

fn parse(text: &str, name: &str) -> Result<DateTime<Utc>, Diagnostics> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|error| {
        Diagnostic::error("Invalid timestamp", format!("`{name}` = \"{text}\" is not an RFC 3339 timestamp: {error}."))
            .into()
    })
}

fn number(object: &BTreeMap<String, Value>, name: &str) -> i64 {
    object.get(name).and_then(Value::as_number).and_then(|n| n.to_i64()).unwrap_or(0)
}

/// `base` moved by the given calendar offsets: years and months as Go's `AddDate` (a day past
/// the month's end overflows into the next: January 31 plus a month is March 2 or 3).
fn shifted(base: DateTime<Utc>, object: &BTreeMap<String, Value>, prefix: &str) -> Option<DateTime<Utc>> {
    let months = number(object, &format!("{prefix}years"))
        .checked_mul(12)?
        .checked_add(number(object, &format!("{prefix}months")))?;
    let first = base.with_day(1)?;
    let first = if months >= 0 {
        first.checked_add_months(Months::new(u32::try_from(months).ok()?))?
    } else {
        first.checked_sub_months(Months::new(u32::try_from(-months).ok()?))?
    };
    let moved = first.checked_add_signed(Duration::try_days(i64::from(base.day()) - 1)?)?;
    let seconds = number(object, &format!("{prefix}days")).checked_mul(86_400)?
        + number(object, &format!("{prefix}hours")).checked_mul(3600)?
        + number(object, &format!("{prefix}minutes")).checked_mul(60)?
        + if prefix == "offset_" { number(object, "offset_seconds") } else { 0 };
    moved.checked_add_signed(Duration::try_seconds(seconds)?)
}

fn set_parts(object: &mut BTreeMap<String, Value>, moment: DateTime<Utc>) {
    let int = |n: i64| Value::Number(Number::from(n));
    object.insert("year".into(), int(i64::from(moment.year())));
    object.insert("month".into(), int(i64::from(moment.month())));
    object.insert("day".into(), int(i64::from(moment.day())));
    object.insert("hour".into(), int(i64::from(moment.hour())));
    object.insert("minute".into(), int(i64::from(moment.minute())));
    object.insert("second".into(), int(i64::from(moment.second())));
    object.insert("unix".into(), int(moment.timestamp()));
}

fn text(moment: DateTime<Utc>) -> Value {
    Value::String(moment.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Fills what the object's moment decides; `now` when no moment is configured.
fn settle(kind: &str, object: &mut BTreeMap<String, Value>, now: DateTime<Utc>) -> Result<(), Diagnostics> {
    let given =
        |object: &BTreeMap<String, Value>, name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    match kind {
        "time_static" => {
            let moment = match given(object, "rfc3339") {
                Some(t) => parse(&t, "rfc3339")?,
                None => now,
            };
            object.insert("rfc3339".into(), text(moment));
            object.insert("id".into(), text(moment));
            set_parts(object, moment);
        }
        "time_offset" => {
            let base = match given(object, "base_rfc3339") {
                Some(t) => parse(&t, "base_rfc3339")?,
                None => now,
            };
            let moment = shifted(base, object, "offset_")
                .ok_or_else(|| Diagnostics::from(Diagnostic::error("Invalid offset", "The offset is out of range.")))?;
            object.insert("base_rfc3339".into(), text(base));
            object.insert("id".into(), text(base));
            object.insert("rfc3339".into(), text(moment));
            set_parts(object, moment);
        }
        _ => {
            let base = match given(object, "rfc3339") {
                Some(t) => parse(&t, "rfc3339")?,
                None => now,
            };
            let rotation = match given(object, "rotation_rfc3339") {
                Some(t) => parse(&t, "rotation_rfc3339")?,
                None => shifted(base, object, "rotation_").ok_or_else(|| {
                    Diagnostics::from(Diagnostic::error("Invalid rotation", "The rotation is out of range."))
                })?,
            };
            object.insert("rfc3339".into(), text(base));
            object.insert("id".into(), text(base));
            object.insert("rotation_rfc3339".into(), text(rotation));
            set_parts(object, base);
        }
    }
    Ok(())
}

/// The schema's plan; when the moment is configured, everything is known at plan time.
///
/// # Errors
///
/// A configured timestamp that is not RFC 3339.
pub fn plan(schema: &BlockSchema, request: &PlanRequest) -> Result<PlanResponse, Diagnostics> {
    let mut response = plan_by_schema(Some(schema), request);
    let anchor = if request.kind == "time_offset" { "base_rfc3339" } else { "rfc3339" };
    let rotating_known = request.kind != "time_rotating"
        || ["years", "months", "days", "hours", "minutes"].iter().all(|unit| {
            request.config.as_map().and_then(|c| c.get(&format!("rotation_{unit}"))).is_none_or(Value::is_known)
        });
    if let Value::Map(planned) = &mut response.planned
        && response.requires_replace.is_empty()
        && rotating_known
        && let Some(Value::String(moment)) = request.config.as_map().and_then(|c| c.get(anchor))
    {
        let moment = parse(moment, anchor)?;
        settle(&request.kind, planned, moment)?;
    }
    Ok(response)
}

/// Create fixes the moment (now unless configured); update keeps it; delete forgets.
///
/// # Errors
///
/// A configured timestamp that is not RFC 3339.
pub fn apply(request: &ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
    let Some(Value::Map(mut object)) = request.planned.as_ref().map(|p| p.clone().deep_unmark()) else {
        return Ok(ApplyResponse { new: None });
    };
    if !object.get("id").is_some_and(Value::is_known) {
        settle(&request.kind, &mut object, Utc::now())?;
    }
    Ok(ApplyResponse { new: Some(Value::Map(object)) })
}

/// A `time_rotating` past its rotation moment is gone (the next plan creates it again).
pub fn read(kind: &str, current: Value) -> Option<Value> {
    if kind == "time_rotating"
        && let Some(rotation) = current.as_map().and_then(|c| c.get("rotation_rfc3339")).and_then(Value::as_str)
        && DateTime::parse_from_rfc3339(rotation).is_ok_and(|r| r.with_timezone(&Utc) <= Utc::now())
    {
        return None;
    }
    Some(current)
}
