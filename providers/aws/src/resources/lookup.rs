//! Data sources: `aws_ami`, `aws_availability_zones`, `aws_vpc`, `aws_subnets` — looked up
//! at plan time, with Terraform's arguments (`filter` blocks, `owners`, `most_recent`, `tags`).

use super::DataSource;
use super::vpc::filter;
use crate::client::Ec2;
use crate::error::{AwsError, sdk};
use crate::object::{self, Object};
use async_trait::async_trait;
use aws_sdk_ec2::types::Filter;
use infra_provider::{AttrType, Attribute, BlockSchema, NestedBlock, Nesting, Value};

fn filter_block() -> NestedBlock {
    NestedBlock {
        nesting: Nesting::Set,
        force_new: false,
        block: BlockSchema::new()
            .attribute("name", Attribute::required(AttrType::String))
            .attribute("values", Attribute::required(AttrType::List(Box::new(AttrType::String)))),
    }
}

fn strings() -> AttrType {
    AttrType::List(Box::new(AttrType::String))
}

/// The `filter` blocks and `tags` of a data source as EC2 filters.
fn filters(config: &Value) -> Vec<Filter> {
    let mut out: Vec<Filter> = object::blocks(config, "filter")
        .iter()
        .filter_map(|f| Some(filter(object::string(f, "name")?, &object::strings(f, "values"))))
        .collect();
    for (key, value) in object::string_map(config, "tags") {
        out.push(filter(&format!("tag:{key}"), &[value]));
    }
    out
}

fn merge(config: &Value, found: Value) -> Value {
    let (Some(config), Value::Map(mut map)) = (config.as_map(), found) else { return Value::Null };
    for (key, value) in config {
        map.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Map(map)
}

fn not_found(what: &str) -> AwsError {
    AwsError::local("Describe", format!("no {what} matches the given arguments; try changing them"))
}

/// `aws_ami`.
pub struct Ami;

#[async_trait]
impl DataSource for Ami {
    fn schema(&self) -> BlockSchema {
        let computed = || Attribute::computed(AttrType::String);
        BlockSchema::new()
            .attribute("owners", Attribute::optional(strings()))
            .attribute("most_recent", Attribute::optional(AttrType::Bool))
            .attribute("name_regex", Attribute::optional(AttrType::String))
            .block("filter", filter_block())
            .attribute("id", computed())
            .attribute("image_id", computed())
            .attribute("arn", computed())
            .attribute("name", computed())
            .attribute("description", computed())
            .attribute("architecture", computed())
            .attribute("root_device_name", computed())
            .attribute("creation_date", computed())
            .attribute("owner_id", computed())
            .attribute("virtualization_type", computed())
    }

    async fn read(&self, ec2: &Ec2, config: &Value) -> Result<Value, AwsError> {
        let owners = object::strings(config, "owners");
        let output = ec2
            .client
            .describe_images()
            .set_owners((!owners.is_empty()).then_some(owners))
            .set_filters(Some(filters(config)))
            .send()
            .await
            .map_err(sdk("DescribeImages"))?;
        let pattern =
            match object::string(config, "name_regex") {
                Some(pattern) => Some(regex::Regex::new(pattern).map_err(|e| {
                    AwsError::local("DescribeImages", format!("`name_regex` is not a valid regex: {e}"))
                })?),
                None => None,
            };
        let mut images: Vec<_> = output
            .images()
            .iter()
            .filter(|i| pattern.as_ref().is_none_or(|p| p.is_match(i.name().unwrap_or_default())))
            .collect();
        if images.len() > 1 && object::boolean(config, "most_recent") != Some(true) {
            return Err(AwsError::local(
                "DescribeImages",
                format!("{} images match; narrow the filters or set `most_recent = true`", images.len()),
            ));
        }
        images.sort_by(|a, b| a.creation_date().cmp(&b.creation_date()));
        let image = images.last().ok_or_else(|| not_found("AMI"))?;
        let id = image.image_id().unwrap_or_default();
        let found = Object::new()
            .str("id", Some(id))
            .str("image_id", Some(id))
            .set("arn", Value::string(format!("arn:aws:ec2:{}::image/{id}", ec2.region)))
            .str("name", image.name())
            .str("description", image.description())
            .str("architecture", image.architecture().map(|a| a.as_str()))
            .str("root_device_name", image.root_device_name())
            .str("creation_date", image.creation_date())
            .str("owner_id", image.owner_id())
            .str("virtualization_type", image.virtualization_type().map(|v| v.as_str()))
            .build();
        Ok(merge(config, found))
    }
}

/// `aws_availability_zones`.
pub struct AvailabilityZones;

#[async_trait]
impl DataSource for AvailabilityZones {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("state", Attribute::optional(AttrType::String))
            .block("filter", filter_block())
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("names", Attribute::computed(strings()))
            .attribute("zone_ids", Attribute::computed(strings()))
    }

    async fn read(&self, ec2: &Ec2, config: &Value) -> Result<Value, AwsError> {
        let mut filters = filters(config);
        if let Some(state) = object::owned(config, "state") {
            filters.push(filter("state", &[state]));
        }
        let output = ec2
            .client
            .describe_availability_zones()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(sdk("DescribeAvailabilityZones"))?;
        let mut zones: Vec<_> = output.availability_zones().iter().collect();
        zones.sort_by(|a, b| a.zone_name().cmp(&b.zone_name()));
        let list = |pick: fn(&aws_sdk_ec2::types::AvailabilityZone) -> Option<&str>| {
            Value::List(zones.iter().filter_map(|z| pick(z)).map(Value::string).collect())
        };
        let found = Object::new()
            .set("id", Value::string(ec2.region.clone()))
            .set("names", list(|z| z.zone_name()))
            .set("zone_ids", list(|z| z.zone_id()))
            .build();
        Ok(merge(config, found))
    }
}

/// `aws_vpc` (data source).
pub struct VpcLookup;

#[async_trait]
impl DataSource for VpcLookup {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::optional(AttrType::String).and_computed())
            .attribute("default", Attribute::optional(AttrType::Bool).and_computed())
            .attribute("cidr_block", Attribute::optional(AttrType::String).and_computed())
            .attribute("tags", Attribute::optional(AttrType::Map(Box::new(AttrType::String))).and_computed())
            .block("filter", filter_block())
            .attribute("arn", Attribute::computed(AttrType::String))
            .attribute("owner_id", Attribute::computed(AttrType::String))
            .attribute("instance_tenancy", Attribute::computed(AttrType::String))
    }

    async fn read(&self, ec2: &Ec2, config: &Value) -> Result<Value, AwsError> {
        let mut filters = filters(config);
        if let Some(id) = object::owned(config, "id") {
            filters.push(filter("vpc-id", &[id]));
        }
        if let Some(default) = object::boolean(config, "default") {
            filters.push(filter("is-default", &[default.to_string()]));
        }
        if let Some(cidr) = object::owned(config, "cidr_block") {
            filters.push(filter("cidr", &[cidr]));
        }
        let output = ec2.client.describe_vpcs().set_filters(Some(filters)).send().await.map_err(sdk("DescribeVpcs"))?;
        let vpcs = output.vpcs();
        if vpcs.len() > 1 {
            return Err(AwsError::local("DescribeVpcs", format!("{} VPCs match; narrow the arguments", vpcs.len())));
        }
        let vpc = vpcs.first().ok_or_else(|| not_found("VPC"))?;
        let id = vpc.vpc_id().unwrap_or_default();
        let owner = vpc.owner_id().unwrap_or_default();
        let tags: std::collections::BTreeMap<String, Value> = vpc
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), Value::string(t.value().unwrap_or_default()))))
            .collect();
        let found = Object::new()
            .str("id", Some(id))
            .bool("default", vpc.is_default())
            .str("cidr_block", vpc.cidr_block())
            .set("tags", Value::Map(tags))
            .set("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:vpc/{id}", ec2.region)))
            .str("owner_id", vpc.owner_id())
            .str("instance_tenancy", vpc.instance_tenancy().map(|t| t.as_str()))
            .build();
        Ok(merge(config, found))
    }
}

/// `aws_subnets`.
pub struct Subnets;

#[async_trait]
impl DataSource for Subnets {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("tags", Attribute::optional(AttrType::Map(Box::new(AttrType::String))))
            .block("filter", filter_block())
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("ids", Attribute::computed(strings()))
    }

    async fn read(&self, ec2: &Ec2, config: &Value) -> Result<Value, AwsError> {
        let mut ids = Vec::new();
        let mut pages = ec2.client.describe_subnets().set_filters(Some(filters(config))).into_paginator().send();
        while let Some(page) = pages.next().await {
            ids.extend(
                page.map_err(sdk("DescribeSubnets"))?
                    .subnets()
                    .iter()
                    .filter_map(|s| s.subnet_id().map(str::to_string)),
            );
        }
        ids.sort();
        let found = Object::new()
            .set("id", Value::string(ec2.region.clone()))
            .set("ids", Value::List(ids.into_iter().map(Value::String).collect()))
            .build();
        Ok(merge(config, found))
    }
}
