//! `aws_subnet`: a range of a VPC in one zone. The VPC, range and zone replace;
//! `map_public_ip_on_launch` and tags change in place.

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, eventually, sdk};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use infra_provider::{AttrType, Attribute, BlockSchema, Value};
use std::collections::BTreeMap;

/// `aws_subnet`.
pub struct Subnet;

#[async_trait]
impl Resource for Subnet {
    fn schema(&self) -> BlockSchema {
        let computed = || Attribute::computed(AttrType::String);
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", computed())
                .attribute("arn", computed())
                .attribute("vpc_id", Attribute::required(AttrType::String).force_new())
                .attribute("cidr_block", Attribute::required(AttrType::String).force_new())
                .attribute("availability_zone", Attribute::optional(AttrType::String).and_computed().force_new())
                .attribute("availability_zone_id", computed())
                .attribute("map_public_ip_on_launch", Attribute::optional(AttrType::Bool).and_computed())
                .attribute("owner_id", computed()),
        )
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let output = ec2
            .client
            .create_subnet()
            .set_vpc_id(object::owned(planned, "vpc_id"))
            .set_cidr_block(object::owned(planned, "cidr_block"))
            .set_availability_zone(object::owned(planned, "availability_zone"))
            .set_tag_specifications(
                tags::specification(ResourceType::Subnet, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("CreateSubnet"))?;
        let id = output.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string();
        if object::boolean(planned, "map_public_ip_on_launch") == Some(true) {
            set_public_ip(ec2, &id, true).await?;
        }
        Ok(id)
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        if let Some(wanted) = object::boolean(planned, "map_public_ip_on_launch")
            && object::boolean(prior, "map_public_ip_on_launch") != Some(wanted)
        {
            set_public_ip(ec2, id, wanted).await?;
        }
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        ec2.client
            .delete_subnet()
            .set_subnet_id(object::owned(prior, "id"))
            .send()
            .await
            .map_err(sdk("DeleteSubnet"))?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids: Vec<String> = super::live_ids(objects);
        let mut found = BTreeMap::new();
        for chunk in ids.chunks(FILTER_CHUNK) {
            let mut pages = ec2.client.describe_subnets().filters(filter("subnet-id", chunk)).into_paginator().send();
            while let Some(page) = pages.next().await {
                for subnet in page.map_err(sdk("DescribeSubnets"))?.subnets() {
                    let id = subnet.subnet_id().unwrap_or_default().to_string();
                    let object = Object::new()
                        .str("id", Some(&id))
                        .str("arn", subnet.subnet_arn())
                        .str("vpc_id", subnet.vpc_id())
                        .str("cidr_block", subnet.cidr_block())
                        .str("availability_zone", subnet.availability_zone())
                        .str("availability_zone_id", subnet.availability_zone_id())
                        .bool("map_public_ip_on_launch", subnet.map_public_ip_on_launch())
                        .str("owner_id", subnet.owner_id());
                    found.insert(id, tags::read_into(ec2, object, subnet.tags()).build());
                }
            }
        }
        Ok(in_order(objects, found))
    }
}

async fn set_public_ip(ec2: &Ec2, id: &str, value: bool) -> Result<(), AwsError> {
    let call = ec2
        .client
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(value).build());
    eventually(|| async { call.clone().send().await.map_err(sdk("ModifySubnetAttribute")) }).await?;
    Ok(())
}
