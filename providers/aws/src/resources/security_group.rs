//! `aws_security_group` with inline `ingress` / `egress` blocks.
//!
//! Rules are compared as *permissions*: one protocol, port range and source each (a block
//! with three CIDR blocks is three permissions). An update revokes the permissions that went
//! away and authorizes the new ones, rule by rule; the group is never recreated for a rule.
//! Reading keeps the user's grouping: a rule from state whose permissions all still exist is
//! returned exactly as written, and permissions nobody wrote come back grouped by protocol,
//! ports and description — so `protocol = "all"` or `self = false` never shows as drift.

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, eventually, sdk, while_in_use};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroup as SdkGroup, UserIdGroupPair,
};
use infra_provider::{AttrType, Attribute, BlockSchema, NestedBlock, Nesting, Value};
use std::collections::{BTreeMap, BTreeSet};

/// `aws_security_group`.
pub struct SecurityGroup;

/// The description EC2 requires when none is given (Terraform's default).
pub const DEFAULT_DESCRIPTION: &str = "Managed by Terraform";

fn rule_schema() -> BlockSchema {
    let strings = || Attribute::optional(AttrType::List(Box::new(AttrType::String)));
    BlockSchema::new()
        .attribute("from_port", Attribute::required(AttrType::Number))
        .attribute("to_port", Attribute::required(AttrType::Number))
        .attribute("protocol", Attribute::required(AttrType::String))
        .attribute("cidr_blocks", strings())
        .attribute("ipv6_cidr_blocks", strings())
        .attribute("prefix_list_ids", strings())
        .attribute("security_groups", Attribute::optional(AttrType::Set(Box::new(AttrType::String))))
        .attribute("self", Attribute::optional(AttrType::Bool))
        .attribute("description", Attribute::optional(AttrType::String))
}

/// The source of one permission.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// An IPv4 range.
    Cidr(String),
    /// An IPv6 range.
    Cidr6(String),
    /// A managed prefix list.
    PrefixList(String),
    /// Another security group.
    Group(String),
    /// The group itself.
    Own,
}

/// One permission: protocol, port range, source and its description.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permission {
    /// `tcp`, `udp`, `icmp`, `icmpv6` or `-1` (all), normalised.
    pub protocol: String,
    /// First port (0 for all protocols).
    pub from: i64,
    /// Last port.
    pub to: i64,
    /// Where traffic comes from (ingress) or goes to (egress).
    pub source: Source,
    /// Its description.
    pub description: Option<String>,
}

/// Protocol names and numbers as EC2 treats them alike.
pub fn normalise_protocol(protocol: &str) -> String {
    match protocol.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "icmpv6".into(),
        other => other.to_string(),
    }
}

/// The permissions of a rule block.
fn permissions_of(rule: &Value, own_id: &str) -> Vec<Permission> {
    let protocol = normalise_protocol(object::string(rule, "protocol").unwrap_or("-1"));
    let (from, to) = if protocol == "-1" {
        (0, 0)
    } else {
        (object::integer(rule, "from_port").unwrap_or(0), object::integer(rule, "to_port").unwrap_or(0))
    };
    let description = object::owned(rule, "description").filter(|d| !d.is_empty());
    let mut sources: Vec<Source> = Vec::new();
    sources.extend(object::strings(rule, "cidr_blocks").into_iter().map(Source::Cidr));
    sources.extend(object::strings(rule, "ipv6_cidr_blocks").into_iter().map(Source::Cidr6));
    sources.extend(object::strings(rule, "prefix_list_ids").into_iter().map(Source::PrefixList));
    sources.extend(
        object::strings(rule, "security_groups")
            .into_iter()
            .map(|g| if g == own_id { Source::Own } else { Source::Group(g) }),
    );
    if object::boolean(rule, "self") == Some(true) {
        sources.push(Source::Own);
    }
    sources
        .into_iter()
        .map(|source| Permission { protocol: protocol.clone(), from, to, source, description: description.clone() })
        .collect()
}

/// The permissions EC2 holds for a group in one direction.
fn live_permissions(permissions: &[IpPermission], own_id: &str) -> BTreeSet<Permission> {
    let mut out = BTreeSet::new();
    for permission in permissions {
        let protocol = normalise_protocol(permission.ip_protocol().unwrap_or("-1"));
        let (from, to) = if protocol == "-1" {
            (0, 0)
        } else {
            (permission.from_port().unwrap_or(0) as i64, permission.to_port().unwrap_or(0) as i64)
        };
        let mut add = |source: Source, description: Option<&str>| {
            out.insert(Permission {
                protocol: protocol.clone(),
                from,
                to,
                source,
                description: description.filter(|d| !d.is_empty()).map(str::to_string),
            });
        };
        for range in permission.ip_ranges() {
            add(Source::Cidr(range.cidr_ip().unwrap_or_default().into()), range.description());
        }
        for range in permission.ipv6_ranges() {
            add(Source::Cidr6(range.cidr_ipv6().unwrap_or_default().into()), range.description());
        }
        for list in permission.prefix_list_ids() {
            add(Source::PrefixList(list.prefix_list_id().unwrap_or_default().into()), list.description());
        }
        for pair in permission.user_id_group_pairs() {
            let group = pair.group_id().unwrap_or_default();
            add(if group == own_id { Source::Own } else { Source::Group(group.into()) }, pair.description());
        }
    }
    out
}

/// Rule blocks for live permissions, keeping the grouping of the rules in `prior`.
pub fn rules_from(live: BTreeSet<Permission>, prior: &[Value], own_id: &str) -> Value {
    let mut left = live;
    let mut rules = Vec::new();
    for rule in prior {
        let wanted = permissions_of(rule, own_id);
        if !wanted.is_empty() && wanted.iter().all(|p| left.contains(p)) {
            for permission in &wanted {
                left.remove(permission);
            }
            rules.push(rule.clone());
        }
    }
    let mut groups: BTreeMap<(String, i64, i64, Option<String>), Vec<Source>> = BTreeMap::new();
    for permission in left {
        groups
            .entry((permission.protocol, permission.from, permission.to, permission.description))
            .or_default()
            .push(permission.source);
    }
    for ((protocol, from, to, description), sources) in groups {
        let list = |pick: fn(&Source) -> Option<&String>| {
            let items: Vec<Value> = sources.iter().filter_map(pick).map(|s| Value::string(s.clone())).collect();
            if items.is_empty() { Value::Null } else { Value::List(items) }
        };
        let groups: Vec<Value> = sources
            .iter()
            .filter_map(|s| if let Source::Group(g) = s { Some(Value::string(g.clone())) } else { None })
            .collect();
        rules.push(
            Object::new()
                .int("from_port", Some(from))
                .int("to_port", Some(to))
                .set("protocol", Value::string(protocol))
                .set("cidr_blocks", list(|s| if let Source::Cidr(c) = s { Some(c) } else { None }))
                .set("ipv6_cidr_blocks", list(|s| if let Source::Cidr6(c) = s { Some(c) } else { None }))
                .set("prefix_list_ids", list(|s| if let Source::PrefixList(c) = s { Some(c) } else { None }))
                .set("security_groups", if groups.is_empty() { Value::Null } else { Value::set(groups) })
                .bool("self", sources.contains(&Source::Own).then_some(true))
                .str("description", description.as_deref())
                .build(),
        );
    }
    Value::set(rules)
}

/// The SDK shape of one permission.
pub fn ip_permission(permission: &Permission) -> IpPermission {
    let builder = IpPermission::builder().ip_protocol(&permission.protocol);
    let builder = if permission.protocol == "-1" {
        builder
    } else {
        builder.from_port(permission.from as i32).to_port(permission.to as i32)
    };
    let description = permission.description.clone();
    match &permission.source {
        Source::Cidr(cidr) => builder.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(description).build()),
        Source::Cidr6(cidr) => {
            builder.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).set_description(description).build())
        }
        Source::PrefixList(id) => {
            builder.prefix_list_ids(PrefixListId::builder().prefix_list_id(id).set_description(description).build())
        }
        Source::Group(id) => {
            builder.user_id_group_pairs(UserIdGroupPair::builder().group_id(id).set_description(description).build())
        }
        Source::Own => builder.user_id_group_pairs(UserIdGroupPair::builder().set_description(description).build()),
    }
    .build()
}

fn with_own(permission: &Permission, own_id: &str) -> IpPermission {
    let mut ip = ip_permission(permission);
    if permission.source == Source::Own {
        ip.user_id_group_pairs = Some(vec![
            UserIdGroupPair::builder().group_id(own_id).set_description(permission.description.clone()).build(),
        ]);
    }
    ip
}

/// Revokes and authorizes so that one direction of a group goes from `before` to `after`.
async fn sync_direction(
    ec2: &Ec2,
    id: &str,
    egress: bool,
    before: &BTreeSet<Permission>,
    after: &BTreeSet<Permission>,
) -> Result<(), AwsError> {
    let revoke: Vec<IpPermission> = before.difference(after).map(|p| with_own(p, id)).collect();
    let grant: Vec<IpPermission> = after.difference(before).map(|p| with_own(p, id)).collect();
    if !revoke.is_empty() {
        if egress {
            let call = ec2.client.revoke_security_group_egress().group_id(id).set_ip_permissions(Some(revoke));
            eventually(|| async { call.clone().send().await.map_err(sdk("RevokeSecurityGroupEgress")) }).await?;
        } else {
            let call = ec2.client.revoke_security_group_ingress().group_id(id).set_ip_permissions(Some(revoke));
            eventually(|| async { call.clone().send().await.map_err(sdk("RevokeSecurityGroupIngress")) }).await?;
        }
    }
    if !grant.is_empty() {
        if egress {
            let call = ec2.client.authorize_security_group_egress().group_id(id).set_ip_permissions(Some(grant));
            eventually(|| async { call.clone().send().await.map_err(sdk("AuthorizeSecurityGroupEgress")) }).await?;
        } else {
            let call = ec2.client.authorize_security_group_ingress().group_id(id).set_ip_permissions(Some(grant));
            eventually(|| async { call.clone().send().await.map_err(sdk("AuthorizeSecurityGroupIngress")) }).await?;
        }
    }
    Ok(())
}

fn all_permissions(group: &Value, name: &str, own_id: &str) -> BTreeSet<Permission> {
    object::blocks(group, name).iter().flat_map(|rule| permissions_of(rule, own_id)).collect()
}

fn group_value(ec2: &Ec2, group: &SdkGroup, prior: Option<&Value>) -> Value {
    let id = group.group_id().unwrap_or_default();
    let owner = group.owner_id().unwrap_or_default();
    let prior_rules = |name| prior.map(|p| object::blocks(p, name)).unwrap_or(&[]);
    let object = Object::new()
        .str("id", Some(id))
        .set("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:security-group/{id}", ec2.region)))
        .str("name", group.group_name())
        .set("name_prefix", prior.map_or(Value::Null, |p| object::get(p, "name_prefix").clone()))
        .str("description", group.description())
        .str("vpc_id", group.vpc_id())
        .str("owner_id", group.owner_id())
        .set("revoke_rules_on_delete", prior.map_or(Value::Null, |p| object::get(p, "revoke_rules_on_delete").clone()))
        .set("ingress", rules_from(live_permissions(group.ip_permissions(), id), prior_rules("ingress"), id))
        .set("egress", rules_from(live_permissions(group.ip_permissions_egress(), id), prior_rules("egress"), id));
    tags::read_into(ec2, object, group.tags()).build()
}

#[async_trait]
impl Resource for SecurityGroup {
    fn schema(&self) -> BlockSchema {
        let rules = || NestedBlock { nesting: Nesting::Set, block: rule_schema(), force_new: false };
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", Attribute::computed(AttrType::String))
                .attribute("arn", Attribute::computed(AttrType::String))
                .attribute("name", Attribute::optional(AttrType::String).and_computed().force_new())
                .attribute("name_prefix", Attribute::optional(AttrType::String).force_new())
                .attribute("description", Attribute::optional(AttrType::String).and_computed().force_new())
                .attribute("vpc_id", Attribute::optional(AttrType::String).and_computed().force_new())
                .attribute("owner_id", Attribute::computed(AttrType::String))
                .attribute("revoke_rules_on_delete", Attribute::optional(AttrType::Bool))
                .block("ingress", rules())
                .block("egress", rules()),
        )
    }

    fn computed_blocks(&self) -> &'static [&'static str] {
        &["ingress", "egress"]
    }

    fn plan(&self, request: &infra_provider::PlanRequest, response: &mut infra_provider::PlanResponse) {
        if request.prior.is_none()
            && object::get(&request.config, "description").is_null()
            && let Value::Map(planned) = &mut response.planned
        {
            planned.insert("description".into(), Value::string(DEFAULT_DESCRIPTION));
        }
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, token: &str) -> Result<String, AwsError> {
        let name = match (object::owned(planned, "name"), object::owned(planned, "name_prefix")) {
            (Some(name), _) => name,
            (None, Some(prefix)) => format!("{prefix}{}", &token[..20]),
            (None, None) => format!("infra-{}", &token[..20]),
        };
        let output = ec2
            .client
            .create_security_group()
            .group_name(name)
            .description(object::string(planned, "description").unwrap_or(DEFAULT_DESCRIPTION))
            .set_vpc_id(object::owned(planned, "vpc_id"))
            .set_tag_specifications(
                tags::specification(ResourceType::SecurityGroup, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("CreateSecurityGroup"))?;
        let id = output.group_id().unwrap_or_default().to_string();
        // As Terraform does: the allow-all egress rule EC2 adds is removed, so that egress is
        // exactly what the configuration says.
        let default_egress: BTreeSet<Permission> = [Permission {
            protocol: "-1".into(),
            from: 0,
            to: 0,
            source: Source::Cidr("0.0.0.0/0".into()),
            description: None,
        }]
        .into();
        let egress = all_permissions(planned, "egress", &id);
        if object::get(planned, "vpc_id").is_null() {
            sync_direction(ec2, &id, true, &BTreeSet::new(), &egress).await?;
        } else {
            sync_direction(ec2, &id, true, &default_egress, &egress).await?;
        }
        sync_direction(ec2, &id, false, &BTreeSet::new(), &all_permissions(planned, "ingress", &id)).await?;
        Ok(id)
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        for (name, egress) in [("ingress", false), ("egress", true)] {
            let wanted = object::get(planned, name);
            if wanted.is_null() || !wanted.is_wholly_known() {
                continue;
            }
            let (before, after) = (all_permissions(prior, name, id), all_permissions(planned, name, id));
            sync_direction(ec2, id, egress, &before, &after).await?;
        }
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        if object::boolean(prior, "revoke_rules_on_delete") == Some(true) {
            for (name, egress) in [("ingress", false), ("egress", true)] {
                sync_direction(ec2, id, egress, &all_permissions(prior, name, id), &BTreeSet::new()).await?;
            }
        }
        let call = ec2.client.delete_security_group().group_id(id);
        while_in_use(|| async { call.clone().send().await.map_err(sdk("DeleteSecurityGroup")) }).await?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids = super::ids(objects);
        let priors: BTreeMap<&str, &Value> = ids.iter().map(String::as_str).zip(objects).collect();
        let wanted: Vec<String> = ids.iter().filter(|id| !id.is_empty()).cloned().collect();
        let mut found = BTreeMap::new();
        for chunk in wanted.chunks(FILTER_CHUNK) {
            let mut pages =
                ec2.client.describe_security_groups().filters(filter("group-id", chunk)).into_paginator().send();
            while let Some(page) = pages.next().await {
                for group in page.map_err(sdk("DescribeSecurityGroups"))?.security_groups() {
                    let id = group.group_id().unwrap_or_default().to_string();
                    let value = group_value(ec2, group, priors.get(id.as_str()).copied());
                    found.insert(id, value);
                }
            }
        }
        Ok(in_order(objects, found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(protocol: &str, from: i64, to: i64, cidrs: &[&str]) -> Value {
        Object::new()
            .int("from_port", Some(from))
            .int("to_port", Some(to))
            .set("protocol", Value::string(protocol))
            .set("cidr_blocks", Value::List(cidrs.iter().map(|c| Value::string(*c)).collect()))
            .set("self", Value::Bool(false))
            .build()
    }

    #[test]
    fn a_rule_is_read_back_as_written() {
        let written = rule("all", 0, 0, &["10.0.0.0/8", "192.168.0.0/16"]);
        let live: BTreeSet<Permission> = permissions_of(&written, "sg-1").into_iter().collect();
        assert_eq!(rules_from(live, std::slice::from_ref(&written), "sg-1"), Value::set(vec![written]));
    }

    #[test]
    fn permissions_nobody_wrote_are_grouped() {
        let live: BTreeSet<Permission> = permissions_of(&rule("tcp", 22, 22, &["10.0.0.0/8", "10.1.0.0/16"]), "sg-1")
            .into_iter()
            .chain(permissions_of(&rule("6", 443, 443, &["0.0.0.0/0"]), "sg-1"))
            .collect();
        let Value::Set(rules) = rules_from(live, &[], "sg-1") else { panic!("a set") };
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|r| object::string(r, "protocol") == Some("tcp")));
    }

    #[test]
    fn a_removed_cidr_breaks_the_written_rule_apart() {
        let written = rule("tcp", 80, 80, &["10.0.0.0/8", "10.1.0.0/16"]);
        let live: BTreeSet<Permission> =
            permissions_of(&rule("tcp", 80, 80, &["10.0.0.0/8"]), "sg-1").into_iter().collect();
        let read = rules_from(live, std::slice::from_ref(&written), "sg-1");
        assert_ne!(read, Value::set(vec![written]));
        assert_eq!(object::items(&read).len(), 1);
    }
}
