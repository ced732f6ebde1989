//! `aws_launch_template`: instance settings kept as numbered versions. A change to the
//! settings creates a new version (and makes it the default with `update_default_version`);
//! the template is never replaced for it. `user_data` is base64, as in Terraform.

use super::vpc::filter;
use super::{FILTER_CHUNK, Resource, in_order};
use crate::client::Ec2;
use crate::error::{AwsError, sdk};
use crate::object::{self, Object};
use crate::tags;
use async_trait::async_trait;
use aws_sdk_ec2::types::{InstanceType, RequestLaunchTemplateData, ResourceType};
use infra_provider::{AttrType, Attribute, BlockSchema, PlanRequest, PlanResponse, Value};
use std::collections::BTreeMap;

/// `aws_launch_template`.
pub struct LaunchTemplate;

/// The attributes that make a version.
const DATA: [&str; 5] = ["image_id", "instance_type", "key_name", "user_data", "vpc_security_group_ids"];

fn data(planned: &Value) -> RequestLaunchTemplateData {
    let groups = object::strings(planned, "vpc_security_group_ids");
    RequestLaunchTemplateData::builder()
        .set_image_id(object::owned(planned, "image_id"))
        .set_instance_type(object::string(planned, "instance_type").map(InstanceType::from))
        .set_key_name(object::owned(planned, "key_name"))
        .set_user_data(object::owned(planned, "user_data"))
        .set_security_group_ids((!groups.is_empty()).then_some(groups))
        .build()
}

#[async_trait]
impl Resource for LaunchTemplate {
    fn schema(&self) -> BlockSchema {
        let string = || Attribute::optional(AttrType::String);
        tags::with_tags(
            BlockSchema::new()
                .attribute("id", Attribute::computed(AttrType::String))
                .attribute("arn", Attribute::computed(AttrType::String))
                .attribute("name", Attribute::optional(AttrType::String).and_computed().force_new())
                .attribute("name_prefix", Attribute::optional(AttrType::String).force_new())
                .attribute("description", string())
                .attribute("image_id", string())
                .attribute("instance_type", string())
                .attribute("key_name", string())
                .attribute("user_data", string())
                .attribute("vpc_security_group_ids", Attribute::optional(AttrType::Set(Box::new(AttrType::String))))
                .attribute("update_default_version", Attribute::optional(AttrType::Bool))
                .attribute("default_version", Attribute::computed(AttrType::Number))
                .attribute("latest_version", Attribute::computed(AttrType::Number)),
        )
    }

    fn plan(&self, request: &PlanRequest, response: &mut PlanResponse) {
        let Some(prior) = &request.prior else { return };
        if DATA.iter().any(|name| object::changed(prior, &response.planned, name))
            && let Value::Map(map) = &mut response.planned
        {
            map.insert("latest_version".into(), Value::Unknown);
            if object::boolean(&request.config, "update_default_version") == Some(true) {
                map.insert("default_version".into(), Value::Unknown);
            }
        }
    }

    async fn create(&self, ec2: &Ec2, planned: &Value, token: &str) -> Result<String, AwsError> {
        let name = match (object::owned(planned, "name"), object::owned(planned, "name_prefix")) {
            (Some(name), _) => name,
            (None, prefix) => format!("{}{}", prefix.unwrap_or_else(|| "infra-".into()), &token[..20]),
        };
        let output = ec2
            .client
            .create_launch_template()
            .launch_template_name(name)
            .set_version_description(object::owned(planned, "description"))
            .launch_template_data(data(planned))
            .client_token(token)
            .set_tag_specifications(
                tags::specification(ResourceType::LaunchTemplate, &tags::wanted(ec2, planned)).map(|s| vec![s]),
            )
            .send()
            .await
            .map_err(sdk("CreateLaunchTemplate"))?;
        Ok(output.launch_template().and_then(|t| t.launch_template_id()).unwrap_or_default().to_string())
    }

    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError> {
        let id = object::string(prior, "id").unwrap_or_default();
        if DATA.iter().chain(&["description"]).any(|name| object::changed(prior, planned, name)) {
            let output = ec2
                .client
                .create_launch_template_version()
                .launch_template_id(id)
                .set_version_description(object::owned(planned, "description"))
                .launch_template_data(data(planned))
                .send()
                .await
                .map_err(sdk("CreateLaunchTemplateVersion"))?;
            let version = output.launch_template_version().and_then(|v| v.version_number());
            if object::boolean(planned, "update_default_version") == Some(true)
                && let Some(version) = version
            {
                ec2.client
                    .modify_launch_template()
                    .launch_template_id(id)
                    .default_version(version.to_string())
                    .send()
                    .await
                    .map_err(sdk("ModifyLaunchTemplate"))?;
            }
        }
        tags::update_from(ec2, id, prior, planned).await
    }

    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError> {
        ec2.client
            .delete_launch_template()
            .set_launch_template_id(object::owned(prior, "id"))
            .send()
            .await
            .map_err(sdk("DeleteLaunchTemplate"))?;
        Ok(())
    }

    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError> {
        // EC2 filters templates by name, not id; an id list fails whole when one is gone. So:
        // templates by the names state has, and one call per id only for imports.
        let names: Vec<String> = objects.iter().filter_map(|o| object::owned(o, "name")).collect();
        let mut templates = Vec::new();
        for chunk in names.chunks(FILTER_CHUNK) {
            let output = ec2
                .client
                .describe_launch_templates()
                .filters(filter("launch-template-name", chunk))
                .send()
                .await
                .map_err(sdk("DescribeLaunchTemplates"))?;
            templates.extend(output.launch_templates().iter().cloned());
        }
        for object in objects.iter().filter(|o| object::get(o, "name").is_null()) {
            let Some(id) = object::owned(object, "id") else { continue };
            match ec2
                .client
                .describe_launch_templates()
                .launch_template_ids(id)
                .send()
                .await
                .map_err(sdk("DescribeLaunchTemplates"))
            {
                Ok(output) => templates.extend(output.launch_templates().iter().cloned()),
                Err(error) if error.is_not_found() => {}
                Err(error) => return Err(error),
            }
        }
        let priors: BTreeMap<String, &Value> = super::ids(objects).into_iter().zip(objects).collect();
        let mut found = BTreeMap::new();
        for template in &templates {
            {
                let id = template.launch_template_id().unwrap_or_default().to_string();
                let latest = template.latest_version_number();
                // The settings are those of the latest version: one call per template.
                let versions = ec2
                    .client
                    .describe_launch_template_versions()
                    .launch_template_id(&id)
                    .versions("$Latest")
                    .send()
                    .await
                    .map_err(sdk("DescribeLaunchTemplateVersions"))?;
                let version = versions.launch_template_versions().first();
                let data = version.and_then(|v| v.launch_template_data());
                let object = Object::new()
                    .str("id", Some(&id))
                    .set("arn", Value::string(format!("arn:aws:ec2:{}::launch-template/{id}", ec2.region)))
                    .str("name", template.launch_template_name())
                    .str("description", version.and_then(|v| v.version_description()))
                    .str("image_id", data.and_then(|d| d.image_id()))
                    .str("instance_type", data.and_then(|d| d.instance_type()).map(|t| t.as_str()))
                    .str("key_name", data.and_then(|d| d.key_name()))
                    .str("user_data", data.and_then(|d| d.user_data()))
                    .set(
                        "vpc_security_group_ids",
                        match data.map(|d| d.security_group_ids()).unwrap_or_default() {
                            [] => Value::Null,
                            ids => Value::set(ids.iter().map(|i| Value::string(i.clone())).collect()),
                        },
                    )
                    .int("default_version", template.default_version_number())
                    .int("latest_version", latest);
                let mut value = tags::read_into(ec2, object, template.tags()).build();
                if let Some(prior) = priors.get(&id) {
                    value = object::keep(value, prior, &["name_prefix", "update_default_version"]);
                }
                found.insert(id, value);
            }
        }
        Ok(in_order(objects, found))
    }
}
