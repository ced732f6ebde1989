//! `aws_ebs_volume` and `aws_volume_attachment`.
//!
//! A volume's zone, snapshot and encryption replace; size, type and IOPS change in place
//! (ModifyVolume). An attachment is all-or-nothing: any change replaces it; its import id is
//! `DEVICE_NAME:VOLUME_ID:INSTANCE_ID`, as Terraform's.

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, backoff, eventually, sdk, while_in_use};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, Volume as SdkVolume, VolumeAttachmentState, VolumeType};
use infra_provider::{AttrType, Attribute, BlockSchema, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// `aws_ebs_volume`.
pub struct Volume;

async fn describe(ec2: &Ec2, ids: &[String]) -> Result<Vec<SdkVolume>, AwsError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(FILTER_CHUNK) {
        let mut pages = ec2.client.describe_volumes().filters(filter("volume-id", chunk)).into_paginator().send();
        while let Some(page) = pages.next().await {
            out.extend(page.map_err(sdk("DescribeVolumes"))?.volumes().iter().cloned());
        }
    }
    Ok(out)
}

#[async_trait]
impl Resource for Volume {
    fn schema(&self) -> BlockSchema {
        let computed = || Attribute::computed(AttrType::String);
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", computed())
                .attribute("arn", computed())
                .attribute("availability_zone", Attribute::required(AttrType::String).force_new())
                .attribute("size", Attribute::optional(AttrType::Number).and_computed())
                .attribute("type", Attribute::optional(AttrType::String).and_computed())
                .attribute("iops", Attribute::optional(AttrType::Number).and_computed())
                .attribute("encrypted", Attribute::optional(AttrType::Bool).and_computed().force_new())
                .attribute("snapshot_id", Attribute::optional(AttrType::String).and_computed().force_new()),
        )
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let output = ec2
            .client
            .create_volume()
            .set_availability_zone(object::owned(planned, "availability_zone"))
            .set_size(object::integer(planned, "size").map(|s| s as i32))
            .set_volume_type(object::string(planned, "type").map(VolumeType::from))
            .set_iops(object::integer(planned, "iops").map(|s| s as i32))
            .set_encrypted(object::boolean(planned, "encrypted"))
            .set_snapshot_id(object::owned(planned, "snapshot_id"))
            .set_tag_specifications(
                tags::specification(ResourceType::Volume, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("CreateVolume"))?;
        Ok(output.volume_id().unwrap_or_default().to_string())
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        if ["size", "type", "iops"].iter().any(|n| object::changed(prior, planned, n)) {
            let call = ec2
                .client
                .modify_volume()
                .volume_id(id)
                .set_size(object::integer(planned, "size").map(|s| s as i32))
                .set_volume_type(object::string(planned, "type").map(VolumeType::from))
                .set_iops(
                    object::integer(planned, "iops")
                        .filter(|_| object::changed(prior, planned, "iops"))
                        .map(|s| s as i32),
                );
            eventually(|| async { call.clone().send().await.map_err(sdk("ModifyVolume")) }).await?;
        }
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        let call = ec2.client.delete_volume().set_volume_id(object::owned(prior, "id"));
        while_in_use(|| async { call.clone().send().await.map_err(sdk("DeleteVolume")) }).await?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let ids: Vec<String> = super::live_ids(objects);
        let mut found = BTreeMap::new();
        for volume in describe(ec2, &ids).await? {
            let id = volume.volume_id().unwrap_or_default().to_string();
            let object = Object::new()
                .str("id", Some(&id))
                .set("arn", Value::string(format!("arn:aws:ec2:{}::volume/{id}", ec2.region)))
                .str("availability_zone", volume.availability_zone())
                .int("size", volume.size().map(i64::from))
                .str("type", volume.volume_type().map(|t| t.as_str()))
                .int("iops", Some(volume.iops().map_or(0, i64::from)))
                .bool("encrypted", volume.encrypted())
                .set("snapshot_id", Value::string(volume.snapshot_id().unwrap_or_default()));
            found.insert(id, tags::read_into(ec2, object, volume.tags()).build());
        }
        Ok(in_order(objects, found))
    }
}

/// `aws_volume_attachment`.
pub struct Attachment;

/// Terraform's attachment id: `vai-` and a hash of device, instance and volume.
pub fn attachment_id(device: &str, instance: &str, volume: &str) -> String {
    let digest = Sha256::digest(format!("{device}-{instance}-{volume}-").as_bytes());
    let number = digest.iter().take(4).fold(0u32, |n, b| (n << 8) | u32::from(*b));
    format!("vai-{number}")
}

async fn wait_attachment(ec2: &Ec2, volume: &str, instance: &str, attached: bool) -> Result<(), AwsError> {
    for attempt in 1..=40 {
        let volumes = describe(ec2, &[volume.to_string()]).await?;
        let state = volumes
            .iter()
            .flat_map(|v| v.attachments())
            .find(|a| a.instance_id() == Some(instance))
            .and_then(|a| a.state().cloned());
        let done = match state {
            Some(VolumeAttachmentState::Attached) => attached,
            None | Some(VolumeAttachmentState::Detached) => !attached,
            _ => false,
        };
        if done {
            return Ok(());
        }
        tokio::time::sleep(backoff(attempt.min(5))).await;
    }
    Err(AwsError::local(
        "DescribeVolumes",
        format!("`{volume}` did not {} `{instance}` in time", if attached { "attach to" } else { "detach from" }),
    ))
}

#[async_trait]
impl Resource for Attachment {
    fn schema(&self) -> BlockSchema {
        let fixed = || Attribute::required(AttrType::String).force_new();
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("device_name", fixed())
            .attribute("instance_id", fixed())
            .attribute("volume_id", fixed())
            .attribute("force_detach", Attribute::optional(AttrType::Bool))
            .attribute("skip_destroy", Attribute::optional(AttrType::Bool))
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, _token: &str) -> Result<String, AwsError> {
        let (device, instance, volume) = (
            object::string(planned, "device_name").unwrap_or_default(),
            object::string(planned, "instance_id").unwrap_or_default(),
            object::string(planned, "volume_id").unwrap_or_default(),
        );
        let call = ec2.client.attach_volume().device(device).instance_id(instance).volume_id(volume);
        eventually(|| async { call.clone().send().await.map_err(sdk("AttachVolume")) }).await?;
        wait_attachment(ec2, volume, instance, true).await?;
        Ok(attachment_id(device, instance, volume))
    }

    async fn update(&self, _ec2: &Ec2, _prior: &Value, _planned: &Value) -> Result<(), AwsError> {
        // Only `force_detach` / `skip_destroy` change in place, and they live in state.
        Ok(())
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        if object::boolean(prior, "skip_destroy") == Some(true) {
            return Ok(());
        }
        let (instance, volume) = (
            object::string(prior, "instance_id").unwrap_or_default(),
            object::string(prior, "volume_id").unwrap_or_default(),
        );
        ec2.client
            .detach_volume()
            .volume_id(volume)
            .instance_id(instance)
            .set_device(object::owned(prior, "device_name"))
            .set_force(object::boolean(prior, "force_detach"))
            .send()
            .await
            .map_err(sdk("DetachVolume"))?;
        wait_attachment(ec2, volume, instance, false).await
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        let volumes: Vec<String> = objects.iter().filter_map(|o| object::owned(o, "volume_id")).collect();
        let live = describe(ec2, &volumes).await?;
        Ok(objects
            .iter()
            .map(|object| {
                let (device, instance, volume) = (
                    object::string(object, "device_name")?,
                    object::string(object, "instance_id")?,
                    object::string(object, "volume_id")?,
                );
                let attached =
                    live.iter().filter(|v| v.volume_id() == Some(volume)).flat_map(|v| v.attachments()).any(|a| {
                        a.instance_id() == Some(instance)
                            && a.device() == Some(device)
                            && !matches!(
                                a.state(),
                                Some(VolumeAttachmentState::Detached | VolumeAttachmentState::Detaching)
                            )
                    });
                attached.then(|| {
                    let value = Object::new()
                        .str("id", Some(&attachment_id(device, instance, volume)))
                        .str("device_name", Some(device))
                        .str("instance_id", Some(instance))
                        .str("volume_id", Some(volume))
                        .build();
                    object::keep(value, object, &["force_detach", "skip_destroy"])
                })
            })
            .collect())
    }

    fn import_stub(&self, id: &str) -> Result<Value, String> {
        let parts: Vec<&str> = id.split(':').collect();
        let [device, volume, instance] = parts[..] else {
            return Err("expected `DEVICE_NAME:VOLUME_ID:INSTANCE_ID`".into());
        };
        Ok(Object::new()
            .str("device_name", Some(device))
            .str("volume_id", Some(volume))
            .str("instance_id", Some(instance))
            .build())
    }
}
