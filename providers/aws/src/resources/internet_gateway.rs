//! `aws_internet_gateway`: a VPC's way out. Moving it to another VPC detaches and attaches in
//! place, as Terraform does.

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, eventually, sdk};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::ResourceType;
use infra_provider::{AttrType, Attribute, BlockSchema, Value};
use std::collections::BTreeMap;

/// `aws_internet_gateway`.
pub struct InternetGateway;

async fn attach(ec2: &Ec2, id: &str, vpc: &str) -> Result<(), AwsError> {
    let call = ec2.client.attach_internet_gateway().internet_gateway_id(id).vpc_id(vpc);
    eventually(|| async { call.clone().send().await.map_err(sdk("AttachInternetGateway")) }).await?;
    Ok(())
}

async fn detach(ec2: &Ec2, id: &str, vpc: &str) -> Result<(), AwsError> {
    let result = ec2
        .client
        .detach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(sdk("DetachInternetGateway"));
    match result {
        Err(error) if !error.is_not_found() && error.code.as_deref() != Some("Gateway.NotAttached") => Err(error),
        _ => Ok(()),
    }
}

#[async_trait]
impl Resource for InternetGateway {
    fn schema(&self) -> BlockSchema {
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", Attribute::computed(AttrType::String))
                .attribute("arn", Attribute::computed(AttrType::String))
                .attribute("vpc_id", Attribute::optional(AttrType::String))
                .attribute("owner_id", Attribute::computed(AttrType::String)),
        )
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let output = ec2
            .client
            .create_internet_gateway()
            .set_tag_specifications(
                tags::specification(ResourceType::InternetGateway, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("CreateInternetGateway"))?;
        let id = output.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string();
        if let Some(vpc) = object::string(planned, "vpc_id") {
            attach(ec2, &id, vpc).await?;
        }
        Ok(id)
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        if object::changed(prior, planned, "vpc_id") {
            if let Some(old) = object::string(prior, "vpc_id") {
                detach(ec2, id, old).await?;
            }
            if let Some(new) = object::string(planned, "vpc_id") {
                attach(ec2, id, new).await?;
            }
        }
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        if let Some(vpc) = object::string(prior, "vpc_id") {
            detach(ec2, id, vpc).await?;
        }
        ec2.client
            .delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .map_err(sdk("DeleteInternetGateway"))?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids: Vec<String> = super::live_ids(objects);
        let mut found = BTreeMap::new();
        for chunk in ids.chunks(FILTER_CHUNK) {
            let mut pages = ec2
                .client
                .describe_internet_gateways()
                .filters(filter("internet-gateway-id", chunk))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for gateway in page.map_err(sdk("DescribeInternetGateways"))?.internet_gateways() {
                    let id = gateway.internet_gateway_id().unwrap_or_default().to_string();
                    let owner = gateway.owner_id().unwrap_or_default();
                    let object = Object::new()
                        .str("id", Some(&id))
                        .set("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:internet-gateway/{id}", ec2.region)))
                        .str("vpc_id", gateway.attachments().first().and_then(|a| a.vpc_id()))
                        .str("owner_id", gateway.owner_id());
                    found.insert(id, tags::read_into(ec2, object, gateway.tags()).build());
                }
            }
        }
        Ok(in_order(objects, found))
    }
}
