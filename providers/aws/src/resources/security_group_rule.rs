//! `aws_vpc_security_group_ingress_rule` / `aws_vpc_security_group_egress_rule`: one rule as
//! an object of its own (id `sgr-…`), the form Terraform recommends over inline rules. The
//! group replaces; protocol, ports, source and description change in place
//! (ModifySecurityGroupRules).

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, eventually, sdk};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, SecurityGroupRuleRequest, SecurityGroupRuleUpdate,
    UserIdGroupPair,
};
use infra_provider::{AttrType, Attribute, BlockSchema, Value};
use std::collections::BTreeMap;

/// An ingress (`egress = false`) or egress rule.
pub struct Rule {
    /// Which direction.
    pub egress: bool,
}

fn ports(planned: &Value) -> (Option<i32>, Option<i32>) {
    let protocol = super::security_group::normalise_protocol(object::string(planned, "ip_protocol").unwrap_or("-1"));
    if protocol == "-1" {
        return (None, None);
    }
    let port = |name| object::integer(planned, name).map(|p| p as i32);
    (port("from_port"), port("to_port"))
}

fn permission(planned: &Value) -> IpPermission {
    let (from, to) = ports(planned);
    let description = object::owned(planned, "description");
    let mut builder = IpPermission::builder()
        .set_ip_protocol(object::owned(planned, "ip_protocol"))
        .set_from_port(from)
        .set_to_port(to);
    if let Some(cidr) = object::owned(planned, "cidr_ipv4") {
        builder = builder.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(description.clone()).build());
    }
    if let Some(cidr) = object::owned(planned, "cidr_ipv6") {
        builder =
            builder.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).set_description(description.clone()).build());
    }
    if let Some(list) = object::owned(planned, "prefix_list_id") {
        builder = builder
            .prefix_list_ids(PrefixListId::builder().prefix_list_id(list).set_description(description.clone()).build());
    }
    if let Some(group) = object::owned(planned, "referenced_security_group_id") {
        builder = builder
            .user_id_group_pairs(UserIdGroupPair::builder().group_id(group).set_description(description).build());
    }
    builder.build()
}

#[async_trait]
impl Resource for Rule {
    fn schema(&self) -> BlockSchema {
        let source = || Attribute::optional(AttrType::String);
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", Attribute::computed(AttrType::String))
                .attribute("arn", Attribute::computed(AttrType::String))
                .attribute("security_group_rule_id", Attribute::computed(AttrType::String))
                .attribute("security_group_id", Attribute::required(AttrType::String).force_new())
                .attribute("ip_protocol", Attribute::required(AttrType::String))
                .attribute("from_port", Attribute::optional(AttrType::Number))
                .attribute("to_port", Attribute::optional(AttrType::Number))
                .attribute("cidr_ipv4", source())
                .attribute("cidr_ipv6", source())
                .attribute("prefix_list_id", source())
                .attribute("referenced_security_group_id", source())
                .attribute("description", source()),
        )
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let group = object::owned(planned, "security_group_id");
        let spec = tags::specification(ResourceType::SecurityGroupRule, &tags::wanted(ec2, planned)).map(|s| vec![s]);
        let rules = if self.egress {
            let call = ec2
                .client
                .authorize_security_group_egress()
                .set_group_id(group)
                .ip_permissions(permission(planned))
                .set_tag_specifications(spec);
            eventually(|| async { call.clone().send().await.map_err(sdk("AuthorizeSecurityGroupEgress")) })
                .await?
                .security_group_rules
        } else {
            let call = ec2
                .client
                .authorize_security_group_ingress()
                .set_group_id(group)
                .ip_permissions(permission(planned))
                .set_tag_specifications(spec);
            eventually(|| async { call.clone().send().await.map_err(sdk("AuthorizeSecurityGroupIngress")) })
                .await?
                .security_group_rules
        };
        rules
            .unwrap_or_default()
            .first()
            .and_then(|r| r.security_group_rule_id().map(str::to_string))
            .ok_or_else(|| AwsError::local("AuthorizeSecurityGroupRule", "EC2 returned no rule id"))
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        let attributes = [
            "ip_protocol",
            "from_port",
            "to_port",
            "cidr_ipv4",
            "cidr_ipv6",
            "prefix_list_id",
            "referenced_security_group_id",
            "description",
        ];
        if attributes.iter().any(|name| object::changed(prior, planned, name)) {
            let (from, to) = ports(planned);
            let request = SecurityGroupRuleRequest::builder()
                .set_ip_protocol(object::owned(planned, "ip_protocol"))
                .from_port(from.unwrap_or(-1))
                .to_port(to.unwrap_or(-1))
                .set_cidr_ipv4(object::owned(planned, "cidr_ipv4"))
                .set_cidr_ipv6(object::owned(planned, "cidr_ipv6"))
                .set_prefix_list_id(object::owned(planned, "prefix_list_id"))
                .set_referenced_group_id(object::owned(planned, "referenced_security_group_id"))
                .set_description(object::owned(planned, "description"))
                .build();
            ec2.client
                .modify_security_group_rules()
                .set_group_id(object::owned(prior, "security_group_id"))
                .security_group_rules(
                    SecurityGroupRuleUpdate::builder().security_group_rule_id(id).security_group_rule(request).build(),
                )
                .send()
                .await
                .map_err(sdk("ModifySecurityGroupRules"))?;
        }
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        let group = object::owned(prior, "security_group_id");
        let id = object::owned(prior, "id").unwrap_or_default();
        if self.egress {
            ec2.client
                .revoke_security_group_egress()
                .set_group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map_err(sdk("RevokeSecurityGroupEgress"))?;
        } else {
            ec2.client
                .revoke_security_group_ingress()
                .set_group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map_err(sdk("RevokeSecurityGroupIngress"))?;
        }
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids: Vec<String> = super::live_ids(objects);
        let mut found = BTreeMap::new();
        for chunk in ids.chunks(FILTER_CHUNK) {
            let mut pages = ec2
                .client
                .describe_security_group_rules()
                .filters(filter("security-group-rule-id", chunk))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for rule in page.map_err(sdk("DescribeSecurityGroupRules"))?.security_group_rules() {
                    if rule.is_egress() != Some(self.egress) {
                        continue;
                    }
                    let id = rule.security_group_rule_id().unwrap_or_default().to_string();
                    let all = rule.ip_protocol() == Some("-1");
                    let port = |p: Option<i32>| p.map(i64::from);
                    let owner = rule.group_owner_id().unwrap_or_default();
                    let object = Object::new()
                        .str("id", Some(&id))
                        .str("security_group_rule_id", Some(&id))
                        .set(
                            "arn",
                            Value::string(format!("arn:aws:ec2:{}:{owner}:security-group-rule/{id}", ec2.region)),
                        )
                        .str("security_group_id", rule.group_id())
                        .str("ip_protocol", rule.ip_protocol())
                        .int("from_port", if all { None } else { port(rule.from_port()) })
                        .int("to_port", if all { None } else { port(rule.to_port()) })
                        .str("cidr_ipv4", rule.cidr_ipv4())
                        .str("cidr_ipv6", rule.cidr_ipv6())
                        .str("prefix_list_id", rule.prefix_list_id())
                        .str("referenced_security_group_id", rule.referenced_group_info().and_then(|g| g.group_id()))
                        .str("description", rule.description());
                    found.insert(id, tags::read_into(ec2, object, rule.tags()).build());
                }
            }
        }
        // `ip_protocol` is kept as written when EC2 spells it differently ("all" / "-1").
        let mut answers = in_order(objects, found);
        for (answer, prior) in answers.iter_mut().zip(objects) {
            if let Some(Value::Map(map)) = answer
                && let (Some(live), Some(written)) =
                    (map.get("ip_protocol").and_then(Value::as_str), object::string(prior, "ip_protocol"))
                && super::security_group::normalise_protocol(live) == super::security_group::normalise_protocol(written)
            {
                map.insert("ip_protocol".into(), Value::string(written));
            }
        }
        Ok(answers)
    }
}
