//! `aws_eip`: an Elastic IP address, optionally associated with an instance or interface.
//! Moving it to another instance is in place (disassociate, associate). The id is the
//! allocation id.

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, eventually, sdk};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::{DomainType, ResourceType};
use infra_provider::{AttrType, Attribute, BlockSchema, Value};
use std::collections::BTreeMap;

/// `aws_eip`.
pub struct Eip;

async fn associate(ec2: &Ec2, id: &str, planned: &Value) -> Result<(), AwsError> {
    let (instance, interface) = (object::owned(planned, "instance"), object::owned(planned, "network_interface"));
    if instance.is_none() && interface.is_none() {
        return Ok(());
    }
    let call = ec2
        .client
        .associate_address()
        .allocation_id(id)
        .set_instance_id(instance)
        .set_network_interface_id(interface)
        .set_private_ip_address(object::owned(planned, "associate_with_private_ip"));
    eventually(|| async { call.clone().send().await.map_err(sdk("AssociateAddress")) }).await?;
    Ok(())
}

async fn disassociate(ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
    let Some(association) = object::owned(prior, "association_id") else { return Ok(()) };
    match ec2.client.disassociate_address().association_id(association).send().await.map_err(sdk("DisassociateAddress"))
    {
        Err(error) if !error.is_not_found() => Err(error),
        _ => Ok(()),
    }
}

#[async_trait]
impl Resource for Eip {
    fn schema(&self) -> BlockSchema {
        let computed = || Attribute::computed(AttrType::String);
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", computed())
                .attribute("arn", computed())
                .attribute("domain", Attribute::optional(AttrType::String).and_computed().force_new())
                .attribute("instance", Attribute::optional(AttrType::String).and_computed())
                .attribute("network_interface", Attribute::optional(AttrType::String).and_computed())
                .attribute("associate_with_private_ip", Attribute::optional(AttrType::String))
                .attribute("allocation_id", computed())
                .attribute("association_id", computed())
                .attribute("public_ip", computed())
                .attribute("private_ip", computed())
                .attribute("public_dns", computed()),
        )
    }

    fn plan(&self, request: &infra_provider::PlanRequest, response: &mut infra_provider::PlanResponse) {
        if let Some(prior) = &request.prior
            && (object::changed(prior, &response.planned, "instance")
                || object::changed(prior, &response.planned, "network_interface"))
            && let Value::Map(map) = &mut response.planned
        {
            map.insert("association_id".into(), Value::Unknown);
            map.insert("private_ip".into(), Value::Unknown);
            if object::get(&request.config, "network_interface").is_null() {
                map.insert("network_interface".into(), Value::Unknown);
            }
        }
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let output = ec2
            .client
            .allocate_address()
            .domain(DomainType::from(object::string(planned, "domain").unwrap_or("vpc")))
            .set_tag_specifications(
                tags::specification(ResourceType::ElasticIp, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("AllocateAddress"))?;
        let id = output.allocation_id().unwrap_or_default().to_string();
        associate(ec2, &id, planned).await?;
        Ok(id)
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        if object::changed(prior, planned, "instance") || object::changed(prior, planned, "network_interface") {
            disassociate(ec2, prior).await?;
            associate(ec2, id, planned).await?;
        }
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        disassociate(ec2, prior).await?;
        ec2.client
            .release_address()
            .set_allocation_id(object::owned(prior, "id"))
            .send()
            .await
            .map_err(sdk("ReleaseAddress"))?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids: Vec<String> = super::live_ids(objects);
        let priors: BTreeMap<String, &Value> = super::ids(objects).into_iter().zip(objects).collect();
        let mut found = BTreeMap::new();
        for chunk in ids.chunks(FILTER_CHUNK) {
            let output = ec2
                .client
                .describe_addresses()
                .filters(filter("allocation-id", chunk))
                .send()
                .await
                .map_err(sdk("DescribeAddresses"))?;
            for address in output.addresses() {
                let id = address.allocation_id().unwrap_or_default().to_string();
                let object = Object::new()
                    .str("id", Some(&id))
                    .set("arn", Value::string(format!("arn:aws:ec2:{}::elastic-ip/{id}", ec2.region)))
                    .str("domain", address.domain().map(|d| d.as_str()))
                    .str("instance", address.instance_id())
                    .str("network_interface", address.network_interface_id())
                    .str("allocation_id", Some(&id))
                    .str("association_id", address.association_id())
                    .str("public_ip", address.public_ip())
                    .str("private_ip", address.private_ip_address())
                    .set(
                        "public_dns",
                        Value::string(address.public_ip().map(|ip| public_dns(&ec2.region, ip)).unwrap_or_default()),
                    );
                let mut value = tags::read_into(ec2, object, address.tags()).build();
                if let Some(prior) = priors.get(&id) {
                    value = object::keep(value, prior, &["associate_with_private_ip"]);
                }
                found.insert(id, value);
            }
        }
        Ok(in_order(objects, found))
    }
}

/// The public DNS name EC2 gives an address.
fn public_dns(region: &str, ip: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ec2-{dashed}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{dashed}.{region}.compute.amazonaws.com")
    }
}
