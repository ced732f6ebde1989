//! The resource types and data sources, one module per EC2 object, behind one trait each.
//!
//! A [`Resource`] knows its schema, how to create, update and delete its object, and how to
//! read many objects at once; the provider ([`crate::Aws`]) turns those into the engine's
//! plan / apply / read calls, so every type gets the same tag handling, consistency retries,
//! read-after-write and error reporting.

pub mod ebs;
pub mod eip;
pub mod instance;
pub mod internet_gateway;
pub mod key_pair;
pub mod launch_template;
pub mod lookup;
pub mod route_table;
pub mod security_group;
pub mod security_group_rule;
pub mod subnet;
pub mod vpc;

use crate::client::Ec2;
use crate::error::AwsError;
use crate::object::Object;
use async_trait::async_trait;
use infra_provider::{BlockSchema, PlanRequest, PlanResponse, Value};
use std::collections::BTreeMap;

/// How many values one EC2 filter takes (the API's limit is 200).
pub const FILTER_CHUNK: usize = 200;

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    /// Its attributes and blocks.
    fn schema(&self) -> BlockSchema;

    /// Nested blocks that are optional *and computed*: when the configuration leaves them out,
    /// the object keeps what EC2 has (an instance's `root_block_device`, a group's rules).
    fn computed_blocks(&self) -> &'static [&'static str] {
        &[]
    }

    /// Type-specific plan rules over the schema's defaults (replacements that depend on values,
    /// attributes that become unknown when another changes).
    fn plan(&self, _request: &PlanRequest, _response: &mut PlanResponse) {}

    /// Creates the object; returns its id. `token` is stable across retries of the same change.
    async fn create(&self, ec2: &Ec2, planned: &Value, token: &str) -> Result<String, AwsError>;

    /// Changes an object in place.
    async fn update(&self, ec2: &Ec2, prior: &Value, planned: &Value) -> Result<(), AwsError>;

    /// Deletes the object.
    async fn delete(&self, ec2: &Ec2, prior: &Value) -> Result<(), AwsError>;

    /// Reads objects by their state (at least `id`): one answer per object, `None` when gone.
    /// Implementations read them in as few calls as the API allows.
    async fn read(&self, ec2: &Ec2, objects: &[Value]) -> Result<Vec<Option<Value>>, AwsError>;

    /// Completes an imported object with what a refresh does not read (and keeps from state).
    async fn imported(&self, _ec2: &Ec2, value: Value) -> Result<Value, AwsError> {
        Ok(value)
    }

    /// The state object to read for an import id.
    ///
    /// # Errors
    ///
    /// A sentence saying what the id should look like.
    fn import_stub(&self, id: &str) -> Result<Value, String> {
        Ok(Object::new().str("id", Some(id)).build())
    }
}

/// A data source.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// Its arguments and results.
    fn schema(&self) -> BlockSchema;

    /// Looks it up.
    async fn read(&self, ec2: &Ec2, config: &Value) -> Result<Value, AwsError>;
}

/// The ids of objects, in order (empty string when missing).
pub fn ids(objects: &[Value]) -> Vec<String> {
    objects.iter().map(|o| crate::object::owned(o, "id").unwrap_or_default()).collect()
}

/// The ids to describe: those of `objects` that have one.
pub fn live_ids(objects: &[Value]) -> Vec<String> {
    ids(objects).into_iter().filter(|id| !id.is_empty()).collect()
}

/// Answers in the order of `objects` from objects read by id.
pub fn in_order(objects: &[Value], mut found: BTreeMap<String, Value>) -> Vec<Option<Value>> {
    ids(objects).iter().map(|id| found.remove(id)).collect()
}

/// Every managed resource type.
pub fn all() -> Vec<(&'static str, Box<dyn Resource>)> {
    vec![
        ("aws_vpc", Box::new(vpc::Vpc)),
        ("aws_subnet", Box::new(subnet::Subnet)),
        ("aws_internet_gateway", Box::new(internet_gateway::InternetGateway)),
        ("aws_route_table", Box::new(route_table::RouteTable)),
        ("aws_route_table_association", Box::new(route_table::Association)),
        ("aws_security_group", Box::new(security_group::SecurityGroup)),
        ("aws_vpc_security_group_ingress_rule", Box::new(security_group_rule::Rule { egress: false })),
        ("aws_vpc_security_group_egress_rule", Box::new(security_group_rule::Rule { egress: true })),
        ("aws_key_pair", Box::new(key_pair::KeyPair)),
        ("aws_instance", Box::new(instance::Instance)),
        ("aws_eip", Box::new(eip::Eip)),
        ("aws_ebs_volume", Box::new(ebs::Volume)),
        ("aws_volume_attachment", Box::new(ebs::Attachment)),
        ("aws_launch_template", Box::new(launch_template::LaunchTemplate)),
    ]
}

/// Every data source.
pub fn data_sources() -> Vec<(&'static str, Box<dyn DataSource>)> {
    vec![
        ("aws_ami", Box::new(lookup::Ami)),
        ("aws_availability_zones", Box::new(lookup::AvailabilityZones)),
        ("aws_vpc", Box::new(lookup::VpcLookup)),
        ("aws_subnets", Box::new(lookup::Subnets)),
    ]
}
