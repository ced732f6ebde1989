//! `aws_vpc`: a virtual network. `cidr_block` replaces; DNS settings and tags change in place.

use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, sdk};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, Tenancy, VpcAttributeName};
use infra_provider::{AttrType, Attribute, BlockSchema, Value};
use std::collections::BTreeMap;

/// An EC2 filter.
pub fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.to_vec())).build()
}

/// `aws_vpc`.
pub struct Vpc;

#[async_trait]
impl Resource for Vpc {
    fn schema(&self) -> BlockSchema {
        let computed = || Attribute::computed(AttrType::String);
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", computed())
                .attribute("arn", computed())
                .attribute("cidr_block", Attribute::required(AttrType::String).force_new())
                .attribute("instance_tenancy", Attribute::optional(AttrType::String).and_computed().force_new())
                .attribute("enable_dns_support", Attribute::optional(AttrType::Bool).and_computed())
                .attribute("enable_dns_hostnames", Attribute::optional(AttrType::Bool).and_computed())
                .attribute("default_security_group_id", computed())
                .attribute("default_route_table_id", computed())
                .attribute("main_route_table_id", computed())
                .attribute("default_network_acl_id", computed())
                .attribute("owner_id", computed()),
        )
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let output = ec2
            .client
            .create_vpc()
            .set_cidr_block(object::owned(planned, "cidr_block"))
            .set_instance_tenancy(object::string(planned, "instance_tenancy").map(Tenancy::from))
            .set_tag_specifications(
                tags::specification(ResourceType::Vpc, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("CreateVpc"))?;
        let id = output.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string();
        set_dns(ec2, &id, &Value::Null, planned).await?;
        Ok(id)
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        set_dns(ec2, id, prior, planned).await?;
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        ec2.client.delete_vpc().set_vpc_id(object::owned(prior, "id")).send().await.map_err(sdk("DeleteVpc"))?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids: Vec<String> = super::live_ids(objects);
        let mut found = BTreeMap::new();
        for chunk in ids.chunks(FILTER_CHUNK) {
            let defaults = defaults(ec2, chunk).await?;
            let mut pages = ec2.client.describe_vpcs().filters(filter("vpc-id", chunk)).into_paginator().send();
            while let Some(page) = pages.next().await {
                for vpc in page.map_err(sdk("DescribeVpcs"))?.vpcs() {
                    let id = vpc.vpc_id().unwrap_or_default().to_string();
                    let dns = |name| dns_attribute(ec2, id.clone(), name);
                    let (support, hostnames) = (
                        dns(VpcAttributeName::EnableDnsSupport).await?,
                        dns(VpcAttributeName::EnableDnsHostnames).await?,
                    );
                    let (group, table, acl) = defaults.get(&id).cloned().unwrap_or_default();
                    let owner = vpc.owner_id().unwrap_or_default();
                    let object = Object::new()
                        .str("id", Some(&id))
                        .set("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:vpc/{id}", ec2.region)))
                        .str("cidr_block", vpc.cidr_block())
                        .str("instance_tenancy", vpc.instance_tenancy().map(|t| t.as_str()))
                        .bool("enable_dns_support", Some(support))
                        .bool("enable_dns_hostnames", Some(hostnames))
                        .str("default_security_group_id", group.as_deref())
                        .str("default_route_table_id", table.as_deref())
                        .str("main_route_table_id", table.as_deref())
                        .str("default_network_acl_id", acl.as_deref())
                        .str("owner_id", vpc.owner_id());
                    found.insert(id.clone(), tags::read_into(ec2, object, vpc.tags()).build());
                }
            }
        }
        Ok(in_order(objects, found))
    }
}

/// A VPC's default security group, main route table and default network ACL.
type Defaults = (Option<String>, Option<String>, Option<String>);

/// The defaults of VPCs, in three calls for all of them.
async fn defaults(ec2: &Ec2, ids: &[String]) -> Result<BTreeMap<String, Defaults>, AwsError> {
    let mut out: BTreeMap<String, Defaults> = BTreeMap::new();
    let groups = ec2
        .client
        .describe_security_groups()
        .filters(filter("vpc-id", ids))
        .filters(filter("group-name", &["default".to_string()]))
        .send()
        .await
        .map_err(sdk("DescribeSecurityGroups"))?;
    for group in groups.security_groups() {
        if let Some(vpc) = group.vpc_id() {
            out.entry(vpc.to_string()).or_default().0 = group.group_id().map(str::to_string);
        }
    }
    let tables = ec2
        .client
        .describe_route_tables()
        .filters(filter("vpc-id", ids))
        .filters(filter("association.main", &["true".to_string()]))
        .send()
        .await
        .map_err(sdk("DescribeRouteTables"))?;
    for table in tables.route_tables() {
        if let Some(vpc) = table.vpc_id() {
            out.entry(vpc.to_string()).or_default().1 = table.route_table_id().map(str::to_string);
        }
    }
    let acls = ec2
        .client
        .describe_network_acls()
        .filters(filter("vpc-id", ids))
        .filters(filter("default", &["true".to_string()]))
        .send()
        .await
        .map_err(sdk("DescribeNetworkAcls"))?;
    for acl in acls.network_acls() {
        if let Some(vpc) = acl.vpc_id() {
            out.entry(vpc.to_string()).or_default().2 = acl.network_acl_id().map(str::to_string);
        }
    }
    Ok(out)
}

async fn dns_attribute(ec2: &Ec2, id: String, name: VpcAttributeName) -> Result<bool, AwsError> {
    let output = ec2
        .client
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(name.clone())
        .send()
        .await
        .map_err(sdk("DescribeVpcAttribute"))?;
    let value = match name {
        VpcAttributeName::EnableDnsHostnames => output.enable_dns_hostnames(),
        _ => output.enable_dns_support(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

/// Applies `enable_dns_support` / `enable_dns_hostnames` where the plan sets them differently.
async fn set_dns(ec2: &Ec2, id: &str, prior: &Value, planned: &Value) -> Result<(), AwsError> {
    for name in ["enable_dns_support", "enable_dns_hostnames"] {
        let Some(wanted) = object::boolean(planned, name) else { continue };
        if object::boolean(prior, name) == Some(wanted) {
            continue;
        }
        // A new VPC has DNS support on and hostnames off.
        if prior.is_null() && wanted == (name == "enable_dns_support") {
            continue;
        }
        let value = Some(AttributeBooleanValue::builder().value(wanted).build());
        let call = ec2.client.modify_vpc_attribute().vpc_id(id);
        let call = if name == "enable_dns_support" {
            call.set_enable_dns_support(value)
        } else {
            call.set_enable_dns_hostnames(value)
        };
        crate::error::eventually(|| async { call.clone().send().await.map_err(sdk("ModifyVpcAttribute")) }).await?;
    }
    Ok(())
}
