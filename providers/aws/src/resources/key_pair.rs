//! `aws_key_pair`: an SSH public key registered with EC2 (ImportKeyPair). Everything but tags
//! replaces; the id is the key name. EC2 returns the key material without its comment, so
//! `public_key` is kept from state as written (an import reads it).

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, sdk};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::ResourceType;
use infra_provider::{AttrType, Attribute, BlockSchema, Value};
use std::collections::BTreeMap;

/// `aws_key_pair`.
pub struct KeyPair;

#[async_trait]
impl Resource for KeyPair {
    fn schema(&self) -> BlockSchema {
        let computed = || Attribute::computed(AttrType::String);
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", computed())
                .attribute("arn", computed())
                .attribute("key_name", Attribute::optional(AttrType::String).and_computed().force_new())
                .attribute("key_name_prefix", Attribute::optional(AttrType::String).force_new())
                .attribute("public_key", Attribute::required(AttrType::String).force_new())
                .attribute("key_pair_id", computed())
                .attribute("key_type", computed())
                .attribute("fingerprint", computed()),
        )
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, token: &str) -> Result<String, AwsError> {
        let name = match (object::owned(planned, "key_name"), object::owned(planned, "key_name_prefix")) {
            (Some(name), _) => name,
            (None, prefix) => format!("{}{}", prefix.unwrap_or_else(|| "infra-".into()), &token[..20]),
        };
        let output = ec2
            .client
            .import_key_pair()
            .key_name(&name)
            .public_key_material(Blob::new(object::string(planned, "public_key").unwrap_or_default().as_bytes()))
            .set_tag_specifications(
                tags::specification(ResourceType::KeyPair, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("ImportKeyPair"))?;
        Ok(output.key_name().map_or(name, str::to_string))
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "key_pair_id").unwrap_or_default();
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        ec2.client
            .delete_key_pair()
            .set_key_name(object::owned(prior, "id"))
            .send()
            .await
            .map_err(sdk("DeleteKeyPair"))?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let names: Vec<String> = super::live_ids(objects);
        let priors: BTreeMap<String, &Value> = super::ids(objects).into_iter().zip(objects).collect();
        let mut found = BTreeMap::new();
        for chunk in names.chunks(FILTER_CHUNK) {
            let output = ec2
                .client
                .describe_key_pairs()
                .filters(filter("key-name", chunk))
                .include_public_key(true)
                .send()
                .await
                .map_err(sdk("DescribeKeyPairs"))?;
            for key in output.key_pairs() {
                let name = key.key_name().unwrap_or_default().to_string();
                let pair_id = key.key_pair_id().unwrap_or_default();
                let object = Object::new()
                    .str("id", Some(&name))
                    .str("key_name", Some(&name))
                    .set("arn", Value::string(format!("arn:aws:ec2:{}::key-pair/{pair_id}", ec2.region)))
                    .str("key_pair_id", key.key_pair_id())
                    .str("key_type", key.key_type().map(|t| t.as_str()))
                    .str("fingerprint", key.key_fingerprint())
                    .str("public_key", key.public_key().map(str::trim));
                let mut value = tags::read_into(ec2, object, key.tags()).build();
                if let Some(prior) = priors.get(&name) {
                    value = object::keep(value, prior, &["public_key", "key_name_prefix"]);
                }
                found.insert(name, value);
            }
        }
        Ok(in_order(objects, found))
    }
}
