//! `aws_route_table` with inline `route` blocks, and `aws_route_table_association`.
//!
//! Routes are diffed by destination: a removed destination is deleted, a new one created, a
//! changed target replaced (ReplaceRoute) — the table itself is never recreated for a route.
//! The `local` route every table has is not shown.

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, eventually, sdk};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, Route, RouteTable as SdkRouteTable};
use infra_provider::{AttrType, Attribute, BlockSchema, NestedBlock, Nesting, Value};
use std::collections::BTreeMap;

/// `aws_route_table`.
pub struct RouteTable;

const DESTINATIONS: [&str; 2] = ["cidr_block", "ipv6_cidr_block"];
const TARGETS: [&str; 6] = [
    "gateway_id",
    "nat_gateway_id",
    "network_interface_id",
    "vpc_peering_connection_id",
    "transit_gateway_id",
    "egress_only_gateway_id",
];

fn route_schema() -> BlockSchema {
    DESTINATIONS
        .iter()
        .chain(TARGETS.iter())
        .fold(BlockSchema::new(), |block, name| block.attribute(name, Attribute::optional(AttrType::String)))
}

/// The destination of a route block (`10.0.0.0/16` or an IPv6 range).
fn destination(route: &Value) -> Option<String> {
    DESTINATIONS.iter().find_map(|name| object::owned(route, name))
}

fn route_value(route: &Route) -> Option<Value> {
    let gateway = route.gateway_id();
    if gateway == Some("local") {
        return None;
    }
    Some(
        Object::new()
            .str("cidr_block", route.destination_cidr_block())
            .str("ipv6_cidr_block", route.destination_ipv6_cidr_block())
            .str("gateway_id", gateway)
            .str("nat_gateway_id", route.nat_gateway_id())
            .str("network_interface_id", route.network_interface_id().filter(|_| route.instance_id().is_none()))
            .str("vpc_peering_connection_id", route.vpc_peering_connection_id())
            .str("transit_gateway_id", route.transit_gateway_id())
            .str("egress_only_gateway_id", route.egress_only_internet_gateway_id())
            .build(),
    )
}

macro_rules! route_call {
    ($call:expr, $route:expr) => {{
        let route = $route;
        $call
            .set_destination_cidr_block(object::owned(route, "cidr_block"))
            .set_destination_ipv6_cidr_block(object::owned(route, "ipv6_cidr_block"))
            .set_gateway_id(object::owned(route, "gateway_id"))
            .set_nat_gateway_id(object::owned(route, "nat_gateway_id"))
            .set_network_interface_id(object::owned(route, "network_interface_id"))
            .set_vpc_peering_connection_id(object::owned(route, "vpc_peering_connection_id"))
            .set_transit_gateway_id(object::owned(route, "transit_gateway_id"))
            .set_egress_only_internet_gateway_id(object::owned(route, "egress_only_gateway_id"))
    }};
}

/// Routes by destination.
fn routes(table: &Value) -> BTreeMap<String, &Value> {
    object::blocks(table, "route").iter().filter_map(|r| Some((destination(r)?, r))).collect()
}

async fn sync_routes(ec2: &Ec2, id: &str, prior: &Value, planned: &Value) -> Result<(), AwsError> {
    if object::get(planned, "route").is_null() || !object::get(planned, "route").is_wholly_known() {
        return Ok(());
    }
    let (before, after) = (routes(prior), routes(planned));
    for (dest, route) in &before {
        if !after.contains_key(dest) {
            let call = ec2.client.delete_route().route_table_id(id);
            let call = call
                .set_destination_cidr_block(object::owned(route, "cidr_block"))
                .set_destination_ipv6_cidr_block(object::owned(route, "ipv6_cidr_block"));
            match call.send().await.map_err(sdk("DeleteRoute")) {
                Err(error) if !error.is_not_found() => return Err(error),
                _ => {}
            }
        }
    }
    for (dest, route) in &after {
        match before.get(dest) {
            Some(old) if infra_provider::values_equal(old, route) => {}
            Some(_) => {
                let call = route_call!(ec2.client.replace_route().route_table_id(id), *route);
                eventually(|| async { call.clone().send().await.map_err(sdk("ReplaceRoute")) }).await?;
            }
            None => {
                let call = route_call!(ec2.client.create_route().route_table_id(id), *route);
                eventually(|| async { call.clone().send().await.map_err(sdk("CreateRoute")) }).await?;
            }
        }
    }
    Ok(())
}

fn table_value(ec2: &Ec2, table: &SdkRouteTable) -> Value {
    let id = table.route_table_id().unwrap_or_default();
    let owner = table.owner_id().unwrap_or_default();
    let object = Object::new()
        .str("id", Some(id))
        .set("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:route-table/{id}", ec2.region)))
        .str("vpc_id", table.vpc_id())
        .str("owner_id", table.owner_id())
        .set("route", Value::set(table.routes().iter().filter_map(route_value).collect()));
    tags::read_into(ec2, object, table.tags()).build()
}

async fn describe(ec2: &Ec2, filter_name: &str, values: &[String]) -> Result<Vec<SdkRouteTable>, AwsError> {
    let mut out = Vec::new();
    for chunk in values.chunks(FILTER_CHUNK) {
        let mut pages = ec2.client.describe_route_tables().filters(filter(filter_name, chunk)).into_paginator().send();
        while let Some(page) = pages.next().await {
            out.extend(page.map_err(sdk("DescribeRouteTables"))?.route_tables().iter().cloned());
        }
    }
    Ok(out)
}

#[async_trait]
impl Resource for RouteTable {
    fn schema(&self) -> BlockSchema {
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", Attribute::computed(AttrType::String))
                .attribute("arn", Attribute::computed(AttrType::String))
                .attribute("vpc_id", Attribute::required(AttrType::String).force_new())
                .attribute("owner_id", Attribute::computed(AttrType::String))
                .block("route", NestedBlock { nesting: Nesting::Set, block: route_schema(), force_new: false }),
        )
    }

    fn computed_blocks(&self) -> &'static [&'static str] {
        &["route"]
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let output = ec2
            .client
            .create_route_table()
            .set_vpc_id(object::owned(planned, "vpc_id"))
            .set_tag_specifications(
                tags::specification(ResourceType::RouteTable, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("CreateRouteTable"))?;
        let id = output.route_table().and_then(|t| t.route_table_id()).unwrap_or_default().to_string();
        sync_routes(ec2, &id, &Value::Null, planned).await?;
        Ok(id)
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        sync_routes(ec2, id, prior, planned).await?;
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        ec2.client
            .delete_route_table()
            .set_route_table_id(object::owned(prior, "id"))
            .send()
            .await
            .map_err(sdk("DeleteRouteTable"))?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids: Vec<String> = super::live_ids(objects);
        let found = describe(ec2, "route-table-id", &ids)
            .await?
            .iter()
            .map(|t| (t.route_table_id().unwrap_or_default().to_string(), table_value(ec2, t)))
            .collect();
        Ok(in_order(objects, found))
    }
}

/// `aws_route_table_association`: a subnet (or gateway) using a route table. Pointing it at
/// another table is in place (ReplaceRouteTableAssociation). Import id: `subnet-…/rtb-…`.
pub struct Association;

#[async_trait]
impl Resource for Association {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("subnet_id", Attribute::optional(AttrType::String).force_new())
            .attribute("gateway_id", Attribute::optional(AttrType::String).force_new())
            .attribute("route_table_id", Attribute::required(AttrType::String))
    }

    fn plan(&self, request: &infra_provider::PlanRequest, response: &mut infra_provider::PlanResponse) {
        // ReplaceRouteTableAssociation gives the association a new id.
        if let Some(prior) = &request.prior
            && object::changed(prior, &response.planned, "route_table_id")
            && let Value::Map(map) = &mut response.planned
        {
            map.insert("id".into(), Value::Unknown);
        }
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let call = ec2
            .client
            .associate_route_table()
            .set_route_table_id(object::owned(planned, "route_table_id"))
            .set_subnet_id(object::owned(planned, "subnet_id"))
            .set_gateway_id(object::owned(planned, "gateway_id"));
        let output = eventually(|| async { call.clone().send().await.map_err(sdk("AssociateRouteTable")) }).await?;
        Ok(output.association_id().unwrap_or_default().to_string())
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        if object::changed(prior, planned, "route_table_id") {
            let output = ec2
                .client
                .replace_route_table_association()
                .set_association_id(object::owned(prior, "id"))
                .set_route_table_id(object::owned(planned, "route_table_id"))
                .send()
                .await
                .map_err(sdk("ReplaceRouteTableAssociation"))?;
            // EC2 gives the association a new id; the read after this update looks it up.
            let _ = output.new_association_id();
        }
        Ok(())
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        ec2.client
            .disassociate_route_table()
            .set_association_id(object::owned(prior, "id"))
            .send()
            .await
            .map_err(sdk("DisassociateRouteTable"))?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        // Associations are found through the subnets (or gateways) they attach: an association
        // that was replaced gets a new id, the subnet stays.
        let mut subnets = Vec::new();
        let mut gateways = Vec::new();
        for object in objects {
            if let Some(subnet) = object::owned(object, "subnet_id") {
                subnets.push(subnet);
            } else if let Some(gateway) = object::owned(object, "gateway_id") {
                gateways.push(gateway);
            }
        }
        let mut tables = describe(ec2, "association.subnet-id", &subnets).await?;
        tables.extend(describe(ec2, "association.gateway-id", &gateways).await?);
        let mut by_target: BTreeMap<String, Value> = BTreeMap::new();
        for table in &tables {
            for association in table.associations() {
                let Some(target) = association.subnet_id().or(association.gateway_id()) else { continue };
                let value = Object::new()
                    .str("id", association.route_table_association_id())
                    .str("subnet_id", association.subnet_id())
                    .str("gateway_id", association.gateway_id())
                    .str("route_table_id", association.route_table_id())
                    .build();
                by_target.insert(target.to_string(), value);
            }
        }
        Ok(objects
            .iter()
            .map(|object| {
                let target = object::string(object, "subnet_id").or(object::string(object, "gateway_id"))?;
                let found = by_target.get(target)?;
                // Only this object's table: a subnet moved elsewhere out of band is drift
                // that shows as a changed `route_table_id`.
                Some(found.clone())
            })
            .collect())
    }

    fn import_stub(&self, id: &str) -> Result<Value, String> {
        let (target, table) =
            id.split_once('/').ok_or("expected `SUBNET_ID/ROUTE_TABLE_ID` or `GATEWAY_ID/ROUTE_TABLE_ID`")?;
        let attribute = if target.starts_with("subnet-") { "subnet_id" } else { "gateway_id" };
        Ok(Object::new().str(attribute, Some(target)).str("route_table_id", Some(table)).build())
    }
}
