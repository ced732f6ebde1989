//! Tags: `tags` as configured, `tags_all` = the provider's `default_tags` merged under them,
//! as Terraform's AWS provider does. Changes are applied key by key (CreateTags / DeleteTags),
//! never by recreating the object.

use crate::client::Ec2;
use crate::error::{AwsError, sdk};
use crate::object::{self, Object};
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use infra_provider::{AttrType, Attribute, BlockSchema, Value};
use std::collections::BTreeMap;

/// Tags that infra itself puts on objects (the create token of an instance) start with this and
/// are never shown as the user's tags.
pub const INTERNAL_PREFIX: &str = "infra:";

/// Adds `tags` and `tags_all` to a resource's schema.
pub fn with_tags(block: BlockSchema) -> BlockSchema {
    block.attribute("tags", Attribute::optional(AttrType::Map(Box::new(AttrType::String)))).attribute(
        "tags_all",
        Attribute::computed(AttrType::Map(Box::new(AttrType::String)))
            .describe("`tags` merged over the provider's `default_tags`."),
    )
}

/// The planned `tags_all`: known when `tags` is.
pub fn planned_all(default_tags: &BTreeMap<String, String>, tags: &Value) -> Value {
    if !tags.is_wholly_known() {
        return Value::Unknown;
    }
    let mut all: BTreeMap<String, Value> =
        default_tags.iter().map(|(k, v)| (k.clone(), Value::string(v.clone()))).collect();
    if let Some(tags) = tags.bare().as_map() {
        all.extend(tags.iter().map(|(k, v)| (k.clone(), v.bare().clone())));
    }
    Value::Map(all)
}

/// The tags to apply for a planned object (`tags_all`, or `tags` when `tags_all` is unknown).
pub fn wanted(ec2: &Ec2, planned: &Value) -> BTreeMap<String, String> {
    match object::get(planned, "tags_all") {
        Value::Map(_) => object::string_map(planned, "tags_all"),
        _ => {
            let mut all = ec2.default_tags.clone();
            all.extend(object::string_map(planned, "tags"));
            all
        }
    }
}

/// A `TagSpecification` for a create call (`None` when there are no tags).
pub fn specification(kind: ResourceType, tags: &BTreeMap<String, String>) -> Option<TagSpecification> {
    if tags.is_empty() {
        return None;
    }
    Some(TagSpecification::builder().resource_type(kind).set_tags(Some(sdk_tags(tags))).build())
}

/// Tags as the SDK takes them.
pub fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// Sets `tags` and `tags_all` on a read object from the tags EC2 returned.
pub fn read_into(ec2: &Ec2, object: Object, tags: &[Tag]) -> Object {
    let all: BTreeMap<String, String> = tags
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
        .filter(|(k, _)| !k.starts_with(INTERNAL_PREFIX))
        .collect();
    let own: BTreeMap<String, Value> = all
        .iter()
        .filter(|(k, v)| ec2.default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Value::string(v.clone())))
        .collect();
    let all: BTreeMap<String, Value> = all.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    object.set("tags", if own.is_empty() { Value::Null } else { Value::Map(own) }).set("tags_all", Value::Map(all))
}

/// Brings the tags of an object from `before` to `after`, key by key.
///
/// # Errors
///
/// The failing CreateTags / DeleteTags call.
pub async fn update(
    ec2: &Ec2,
    id: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let removed: Vec<Tag> =
        before.keys().filter(|k| !after.contains_key(*k)).map(|k| Tag::builder().key(k).build()).collect();
    let set: BTreeMap<String, String> =
        after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !removed.is_empty() {
        ec2.client.delete_tags().resources(id).set_tags(Some(removed)).send().await.map_err(sdk("DeleteTags"))?;
    }
    if !set.is_empty() {
        ec2.client
            .create_tags()
            .resources(id)
            .set_tags(Some(sdk_tags(&set)))
            .send()
            .await
            .map_err(sdk("CreateTags"))?;
    }
    Ok(())
}

/// Applies the tag difference between a prior and a planned object.
///
/// # Errors
///
/// The failing tag call.
pub async fn update_from(ec2: &Ec2, id: &str, prior: &Value, planned: &Value) -> Result<(), AwsError> {
    let before = object::string_map(prior, "tags_all");
    let after = wanted(ec2, planned);
    if before == after { Ok(()) } else { update(ec2, id, &before, &after).await }
}
