//! `aws_instance`: a virtual machine.
//!
//! - **Replace**: `ami`, `subnet_id`, `key_name`, `availability_zone`, `private_ip`,
//!   `associate_public_ip_address`, the root volume's `encrypted`; `user_data` only with
//!   `user_data_replace_on_change = true`.
//! - **In place**: `instance_type` and `user_data` (stop → modify → start, so the public IP
//!   becomes unknown), `vpc_security_group_ids`, the root volume's size and type
//!   (ModifyVolume), tags.
//! - **Idempotent create**: RunInstances carries a `ClientToken` derived from the engine's key,
//!   and the instance is tagged with it; a create retried after a crash finds the instance
//!   the first attempt made instead of starting a second one.
//! - **Refresh**: instances by `instance-id` filter, 200 per call and 1,000 per page, and
//!   their root volumes in one DescribeVolumes per 200 — a handful of calls for hundreds of
//!   instances. `user_data` is not returned by DescribeInstances and is kept from state.

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, backoff, eventually, sdk};
use crate::object::{self, Object};
use crate::tags::{self, INTERNAL_PREFIX};
use async_trait::async_trait;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    AttributeValue, BlockDeviceMapping, EbsBlockDevice, Instance as SdkInstance, InstanceNetworkInterfaceSpecification,
    InstanceStateName, InstanceType, Placement, ResourceType, VolumeType,
};
use base64::Engine as _;
use infra_provider::{AttrType, Attribute, BlockSchema, NestedBlock, Nesting, PlanRequest, PlanResponse, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// `aws_instance`.
pub struct Instance;

/// The tag that carries the create token.
pub const TOKEN_TAG: &str = "infra:create-token";

/// How long to wait for an instance to reach a state.
pub const STATE_TIMEOUT: Duration = Duration::from_secs(600);

fn root_schema() -> BlockSchema {
    BlockSchema::new()
        .attribute("volume_size", Attribute::optional(AttrType::Number).and_computed())
        .attribute("volume_type", Attribute::optional(AttrType::String).and_computed())
        .attribute("delete_on_termination", Attribute::optional(AttrType::Bool).and_computed())
        .attribute("encrypted", Attribute::optional(AttrType::Bool).and_computed())
        .attribute("iops", Attribute::optional(AttrType::Number).and_computed())
        .attribute("volume_id", Attribute::computed(AttrType::String))
        .attribute("device_name", Attribute::computed(AttrType::String))
}

fn user_data_base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The `root_block_device` block of an instance object (null when absent).
fn root_device(object: &Value) -> Value {
    object::blocks(object, "root_block_device").first().cloned().unwrap_or(Value::Null)
}

/// Waits until instances are in one of `states` (or gone, when `gone_ok`).
async fn wait_for(ec2: &Ec2, id: &str, states: &[InstanceStateName], gone_ok: bool) -> Result<(), AwsError> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        let output = ec2
            .client
            .describe_instances()
            .filters(filter("instance-id", &[id.to_string()]))
            .send()
            .await
            .map_err(sdk("DescribeInstances"))?;
        let state = output.reservations().iter().flat_map(|r| r.instances()).find_map(|i| i.state()?.name().cloned());
        match state {
            Some(state) if states.contains(&state) => return Ok(()),
            None if gone_ok => return Ok(()),
            _ if started.elapsed() > STATE_TIMEOUT => {
                return Err(AwsError::local(
                    "DescribeInstances",
                    format!(
                        "`{id}` did not become {} within {} s (it is {})",
                        states.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or "),
                        STATE_TIMEOUT.as_secs(),
                        state.as_ref().map_or("not visible", |s| s.as_str())
                    ),
                ));
            }
            _ => {
                attempt += 1;
                tokio::time::sleep(backoff(attempt.min(4))).await;
            }
        }
    }
}

/// The live instance an earlier attempt of the same create made, if any.
async fn created_before(ec2: &Ec2, token: &str) -> Result<Option<String>, AwsError> {
    let output = ec2
        .client
        .describe_instances()
        .filters(filter(&format!("tag:{TOKEN_TAG}"), &[token.to_string()]))
        .send()
        .await
        .map_err(sdk("DescribeInstances"))?;
    Ok(output
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| {
            !matches!(
                i.state().and_then(|s| s.name()),
                Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
            )
        })
        .find_map(|i| i.instance_id().map(str::to_string)))
}

async fn root_device_name(ec2: &Ec2, ami: &str) -> Result<Option<String>, AwsError> {
    let output = ec2.client.describe_images().image_ids(ami).send().await.map_err(sdk("DescribeImages"))?;
    Ok(output.images().first().and_then(|i| i.root_device_name()).map(str::to_string))
}

/// Size, type, encryption and IOPS of volumes by id.
type Volumes = BTreeMap<String, (i64, String, bool, Option<i64>)>;

fn instance_value(ec2: &Ec2, instance: &SdkInstance, owner: &str, volumes: &Volumes) -> Value {
    let id = instance.instance_id().unwrap_or_default();
    let root_name = instance.root_device_name();
    let root = instance.block_device_mappings().iter().find(|m| m.device_name() == root_name).and_then(|m| {
        let ebs = m.ebs()?;
        let volume_id = ebs.volume_id()?;
        let (size, kind, encrypted, iops) = volumes.get(volume_id).cloned().unwrap_or_default();
        Some(
            Object::new()
                .int("volume_size", Some(size))
                .str("volume_type", Some(&kind))
                .bool("delete_on_termination", Some(ebs.delete_on_termination().unwrap_or(true)))
                .bool("encrypted", Some(encrypted))
                .int("iops", Some(iops.unwrap_or(0)))
                .str("volume_id", Some(volume_id))
                .str("device_name", m.device_name())
                .build(),
        )
    });
    let primary =
        instance.network_interfaces().iter().find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0));
    let object = Object::new()
        .str("id", Some(id))
        .set("arn", Value::string(format!("arn:aws:ec2:{}:{owner}:instance/{id}", ec2.region)))
        .str("ami", instance.image_id())
        .str("instance_type", instance.instance_type().map(|t| t.as_str()))
        .str("subnet_id", instance.subnet_id())
        .strings(
            "vpc_security_group_ids",
            instance.security_groups().iter().filter_map(|g| g.group_id().map(str::to_string)),
        )
        .str("key_name", instance.key_name())
        .bool("associate_public_ip_address", Some(instance.public_ip_address().is_some()))
        .str("private_ip", instance.private_ip_address())
        .set("public_ip", Value::string(instance.public_ip_address().unwrap_or_default()))
        .set("private_dns", Value::string(instance.private_dns_name().unwrap_or_default()))
        .set("public_dns", Value::string(instance.public_dns_name().unwrap_or_default()))
        .str("availability_zone", instance.placement().and_then(|p| p.availability_zone()))
        .str("instance_state", instance.state().and_then(|s| s.name()).map(|n| n.as_str()))
        .set(
            "primary_network_interface_id",
            Value::string(primary.and_then(|n| n.network_interface_id()).unwrap_or_default()),
        )
        .set("root_block_device", root.map_or(Value::List(Vec::new()), |r| Value::List(vec![r])));
    tags::read_into(ec2, object, instance.tags()).build()
}

#[async_trait]
impl Resource for Instance {
    fn schema(&self) -> BlockSchema {
        let computed = || Attribute::computed(AttrType::String);
        let fixed = |kind| Attribute::optional(kind).and_computed().force_new();
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", computed())
                .attribute("arn", computed())
                .attribute("ami", fixed(AttrType::String))
                .attribute("instance_type", Attribute::optional(AttrType::String).and_computed())
                .attribute("subnet_id", fixed(AttrType::String))
                .attribute(
                    "vpc_security_group_ids",
                    Attribute::optional(AttrType::Set(Box::new(AttrType::String))).and_computed(),
                )
                .attribute("key_name", fixed(AttrType::String))
                .attribute("user_data", Attribute::optional(AttrType::String))
                .attribute("user_data_replace_on_change", Attribute::optional(AttrType::Bool))
                .attribute("associate_public_ip_address", fixed(AttrType::Bool))
                .attribute("private_ip", fixed(AttrType::String))
                .attribute("availability_zone", fixed(AttrType::String))
                .attribute("public_ip", computed())
                .attribute("private_dns", computed())
                .attribute("public_dns", computed())
                .attribute("instance_state", computed())
                .attribute("primary_network_interface_id", computed())
                .block(
                    "root_block_device",
                    NestedBlock { nesting: Nesting::List, block: root_schema(), force_new: false },
                ),
        )
    }

    fn computed_blocks(&self) -> &'static [&'static str] {
        &["root_block_device"]
    }

    fn plan(&self, request: &PlanRequest, response: &mut PlanResponse) {
        let Some(prior) = &request.prior else { return };
        let planned = &response.planned;
        if object::changed(prior, planned, "user_data")
            && object::boolean(planned, "user_data_replace_on_change") == Some(true)
        {
            response.requires_replace.push(vec!["user_data".into()]);
        }
        let (old_root, new_root) = (root_device(prior), root_device(&request.config));
        if object::boolean(&new_root, "encrypted").is_some() && object::changed(&old_root, &new_root, "encrypted") {
            response.requires_replace.push(vec!["root_block_device".into(), "0".into(), "encrypted".into()]);
        }
        let restarts = object::changed(prior, planned, "instance_type") || object::changed(prior, planned, "user_data");
        if restarts
            && response.requires_replace.is_empty()
            && object::get(&request.config, "associate_public_ip_address").is_null()
            && let Value::Map(map) = &mut response.planned
        {
            // A stopped and started instance gets a new public address.
            map.insert("public_ip".into(), Value::Unknown);
            map.insert("public_dns".into(), Value::Unknown);
        }
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, token: &str) -> Result<String, AwsError> {
        if let Some(id) = created_before(ec2, token).await? {
            tracing::info!(target: "infra::aws", id, "an earlier attempt of this create made the instance; adopting it");
            wait_for(ec2, &id, &[InstanceStateName::Running], false).await?;
            return Ok(id);
        }
        let mut all_tags = tags::wanted(ec2, planned);
        all_tags.retain(|k, _| !k.starts_with(INTERNAL_PREFIX));
        all_tags.insert(TOKEN_TAG.into(), token.into());
        let groups = object::strings(planned, "vpc_security_group_ids");
        let subnet = object::owned(planned, "subnet_id");
        let mut call = ec2
            .client
            .run_instances()
            .set_image_id(object::owned(planned, "ami"))
            .set_instance_type(object::string(planned, "instance_type").map(InstanceType::from))
            .min_count(1)
            .max_count(1)
            .client_token(token)
            .set_key_name(object::owned(planned, "key_name"))
            .set_user_data(object::string(planned, "user_data").map(user_data_base64))
            .set_placement(
                object::owned(planned, "availability_zone")
                    .map(|zone| Placement::builder().availability_zone(zone).build()),
            )
            .set_tag_specifications(tags::specification(ResourceType::Instance, &all_tags).map(|s| vec![s]));
        if let Some(public) = object::boolean(planned, "associate_public_ip_address") {
            call = call.network_interfaces(
                InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .associate_public_ip_address(public)
                    .set_subnet_id(subnet)
                    .set_groups((!groups.is_empty()).then_some(groups))
                    .set_private_ip_address(object::owned(planned, "private_ip"))
                    .build(),
            );
        } else {
            call = call
                .set_subnet_id(subnet)
                .set_security_group_ids((!groups.is_empty()).then_some(groups))
                .set_private_ip_address(object::owned(planned, "private_ip"));
        }
        if let Some(root) = object::blocks(planned, "root_block_device").first()
            && let Some(ami) = object::string(planned, "ami")
            && let Some(device) = root_device_name(ec2, ami).await?
        {
            let known = |v: &Value| v.is_known().then_some(());
            let ebs = EbsBlockDevice::builder()
                .set_volume_size(object::integer(root, "volume_size").map(|s| s as i32))
                .set_volume_type(object::string(root, "volume_type").map(VolumeType::from))
                .set_delete_on_termination(object::boolean(root, "delete_on_termination"))
                .set_encrypted(object::boolean(root, "encrypted"))
                .set_iops(
                    known(object::get(root, "iops"))
                        .and(object::integer(root, "iops"))
                        .filter(|i| *i > 0)
                        .map(|i| i as i32),
                )
                .build();
            call = call.block_device_mappings(BlockDeviceMapping::builder().device_name(device).ebs(ebs).build());
        }
        let output = call.send().await.map_err(sdk("RunInstances"))?;
        let id = output.instances().first().and_then(|i| i.instance_id()).unwrap_or_default().to_string();
        wait_for(ec2, &id, &[InstanceStateName::Running], false).await?;
        Ok(id)
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        let type_changed = object::changed(prior, planned, "instance_type");
        let data_changed = object::changed(prior, planned, "user_data");
        if type_changed || data_changed {
            ec2.client.stop_instances().instance_ids(id).send().await.map_err(sdk("StopInstances"))?;
            wait_for(ec2, id, &[InstanceStateName::Stopped], false).await?;
            if type_changed && let Some(kind) = object::string(planned, "instance_type") {
                ec2.client
                    .modify_instance_attribute()
                    .instance_id(id)
                    .instance_type(AttributeValue::builder().value(kind).build())
                    .send()
                    .await
                    .map_err(sdk("ModifyInstanceAttribute"))?;
            }
            if data_changed {
                let data = object::string(planned, "user_data").unwrap_or_default();
                ec2.client
                    .modify_instance_attribute()
                    .instance_id(id)
                    // The attribute takes base64 text, which the query protocol then encodes
                    // once more as a blob.
                    .user_data(
                        aws_sdk_ec2::types::SecureBlobAttributeValue::builder()
                            .value(Blob::new(user_data_base64(data)))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(sdk("ModifyInstanceAttribute"))?;
            }
            ec2.client.start_instances().instance_ids(id).send().await.map_err(sdk("StartInstances"))?;
            wait_for(ec2, id, &[InstanceStateName::Running], false).await?;
        }
        let groups = object::get(planned, "vpc_security_group_ids");
        if groups.is_wholly_known() && !groups.is_null() && object::changed(prior, planned, "vpc_security_group_ids") {
            ec2.client
                .modify_instance_attribute()
                .instance_id(id)
                .set_groups(Some(object::strings(planned, "vpc_security_group_ids")))
                .send()
                .await
                .map_err(sdk("ModifyInstanceAttribute"))?;
        }
        let (old_root, new_root) = (root_device(prior), root_device(planned));
        if ["volume_size", "volume_type", "iops"].iter().any(|n| {
            object::get(&new_root, n).is_known()
                && !object::get(&new_root, n).is_null()
                && object::changed(&old_root, &new_root, n)
        }) && let Some(volume) = object::string(&old_root, "volume_id")
        {
            ec2.client
                .modify_volume()
                .volume_id(volume)
                .set_size(object::integer(&new_root, "volume_size").map(|s| s as i32))
                .set_volume_type(object::string(&new_root, "volume_type").map(VolumeType::from))
                .send()
                .await
                .map_err(sdk("ModifyVolume"))?;
        }
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn imported(&self, ec2: &Ec2, value: Value) -> Result<Value, AwsError> {
        // State has no `user_data` to keep for an imported instance: read it (one call).
        let id = object::string(&value, "id").unwrap_or_default().to_string();
        let data = user_data(ec2, &id).await?;
        let Value::Map(mut map) = value else { return Ok(value) };
        map.insert("user_data".into(), data.map_or(Value::Null, Value::string));
        Ok(Value::Map(map))
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        ec2.client.terminate_instances().instance_ids(id).send().await.map_err(sdk("TerminateInstances"))?;
        wait_for(ec2, id, &[InstanceStateName::Terminated], true).await
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids: Vec<String> = super::live_ids(objects);
        let mut instances = Vec::new();
        for chunk in ids.chunks(FILTER_CHUNK) {
            let mut pages = ec2
                .client
                .describe_instances()
                .filters(filter("instance-id", chunk))
                .max_results(1000)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(sdk("DescribeInstances"))?;
                for reservation in page.reservations() {
                    let owner = reservation.owner_id().unwrap_or_default();
                    instances.extend(reservation.instances().iter().map(|i| (i.clone(), owner.to_string())));
                }
            }
        }
        instances.retain(|(i, _)| {
            !matches!(
                i.state().and_then(|s| s.name()),
                Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
            )
        });
        let volume_ids: Vec<String> = instances
            .iter()
            .flat_map(|(i, _)| {
                let root = i.root_device_name();
                i.block_device_mappings().iter().filter(move |m| m.device_name() == root)
            })
            .filter_map(|m| m.ebs()?.volume_id().map(str::to_string))
            .collect();
        let mut volumes = BTreeMap::new();
        for chunk in volume_ids.chunks(FILTER_CHUNK) {
            let mut pages = ec2
                .client
                .describe_volumes()
                .filters(filter("volume-id", chunk))
                .max_results(1000)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for volume in page.map_err(sdk("DescribeVolumes"))?.volumes() {
                    volumes.insert(
                        volume.volume_id().unwrap_or_default().to_string(),
                        (
                            i64::from(volume.size().unwrap_or(0)),
                            volume.volume_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                            volume.encrypted().unwrap_or(false),
                            volume.iops().map(i64::from),
                        ),
                    );
                }
            }
        }
        let priors: BTreeMap<String, &Value> = super::ids(objects).into_iter().zip(objects).collect();
        let mut found = BTreeMap::new();
        for (instance, owner) in &instances {
            let id = instance.instance_id().unwrap_or_default().to_string();
            let mut value = instance_value(ec2, instance, owner, &volumes);
            if let Some(prior) = priors.get(&id) {
                value = object::keep(value, prior, &["user_data", "user_data_replace_on_change"]);
            }
            found.insert(id, value);
        }
        Ok(in_order(objects, found))
    }
}

/// Reads `user_data` of one instance (import: state has none to keep).
pub async fn user_data(ec2: &Ec2, id: &str) -> Result<Option<String>, AwsError> {
    let output = eventually(|| async {
        ec2.client
            .describe_instance_attribute()
            .instance_id(id)
            .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
            .send()
            .await
            .map_err(sdk("DescribeInstanceAttribute"))
    })
    .await?;
    let encoded = output.user_data().and_then(|u| u.value()).unwrap_or_default();
    Ok(base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| !s.is_empty()))
}
