//! The messages of the plugin protocol, version 6 (`tfplugin6`), where they differ from
//! version 5: schemas (an attribute may have a nested type, so `write_only` moved to tag 11)
//! and the method names. Every other message is wire-identical in both protocols and shared
//! from [`crate::tfplugin5`]. Written from the protocol's published definition.
//!
//! infra keeps every plugin's schema in these (version 6) shapes: a protocol-5 answer converts
//! losslessly ([`GetProviderSchemaResponse::from_v5`]), so one schema model serves both.

#![allow(missing_docs)]

use crate::tfplugin5::{self as v5, Diagnostic, ServerCapabilities};
use std::collections::BTreeMap;

pub use v5::NestingMode;

#[derive(Clone, PartialEq, prost::Message)]
pub struct Schema {
    #[prost(int64, tag = "1")]
    pub version: i64,
    #[prost(message, optional, tag = "2")]
    pub block: Option<Block>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Block {
    #[prost(int64, tag = "1")]
    pub version: i64,
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<Attribute>,
    #[prost(message, repeated, tag = "3")]
    pub block_types: Vec<NestedBlock>,
    #[prost(bool, tag = "6")]
    pub deprecated: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Attribute {
    #[prost(string, tag = "1")]
    pub name: String,
    /// The cty type as JSON (empty when `nested_type` is set).
    #[prost(bytes = "vec", tag = "2")]
    pub r#type: Vec<u8>,
    #[prost(message, optional, tag = "10")]
    pub nested_type: Option<Object>,
    #[prost(bool, tag = "4")]
    pub required: bool,
    #[prost(bool, tag = "5")]
    pub optional: bool,
    #[prost(bool, tag = "6")]
    pub computed: bool,
    #[prost(bool, tag = "7")]
    pub sensitive: bool,
    #[prost(bool, tag = "9")]
    pub deprecated: bool,
    #[prost(bool, tag = "11")]
    pub write_only: bool,
}

/// A nested attribute's type: attributes, nested as one object, a list, a set or a map of them
/// (the same numbers as a block's nesting; GROUP does not occur).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Object {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<Attribute>,
    #[prost(enumeration = "NestingMode", tag = "3")]
    pub nesting: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct NestedBlock {
    #[prost(string, tag = "1")]
    pub type_name: String,
    #[prost(message, optional, tag = "2")]
    pub block: Option<Block>,
    #[prost(enumeration = "NestingMode", tag = "3")]
    pub nesting: i32,
    #[prost(int64, tag = "4")]
    pub min_items: i64,
    #[prost(int64, tag = "5")]
    pub max_items: i64,
}

/// A provider-defined function (the same message in both protocols).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    #[prost(message, repeated, tag = "1")]
    pub parameters: Vec<Parameter>,
    #[prost(message, optional, tag = "2")]
    pub variadic_parameter: Option<Parameter>,
    #[prost(message, optional, tag = "3")]
    pub r#return: Option<Return>,
    #[prost(string, tag = "4")]
    pub summary: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Parameter {
    #[prost(string, tag = "1")]
    pub name: String,
    /// The cty type constraint as JSON.
    #[prost(bytes = "vec", tag = "2")]
    pub r#type: Vec<u8>,
    #[prost(bool, tag = "3")]
    pub allow_null_value: bool,
    #[prost(bool, tag = "4")]
    pub allow_unknown_values: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Return {
    #[prost(bytes = "vec", tag = "1")]
    pub r#type: Vec<u8>,
}

/// `GetProviderSchema` (6) and `GetSchema` (5) answer with the same numbers.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetProviderSchemaResponse {
    #[prost(message, optional, tag = "1")]
    pub provider: Option<Schema>,
    #[prost(btree_map = "string, message", tag = "2")]
    pub resource_schemas: BTreeMap<String, Schema>,
    #[prost(btree_map = "string, message", tag = "3")]
    pub data_source_schemas: BTreeMap<String, Schema>,
    #[prost(message, repeated, tag = "4")]
    pub diagnostics: Vec<Diagnostic>,
    #[prost(message, optional, tag = "6")]
    pub server_capabilities: Option<ServerCapabilities>,
    #[prost(btree_map = "string, message", tag = "7")]
    pub functions: BTreeMap<String, Function>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GetFunctionsResponse {
    #[prost(btree_map = "string, message", tag = "1")]
    pub functions: BTreeMap<String, Function>,
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CallFunctionRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, repeated, tag = "2")]
    pub arguments: Vec<v5::DynamicValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct FunctionError {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(int64, optional, tag = "2")]
    pub function_argument: Option<i64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct CallFunctionResponse {
    #[prost(message, optional, tag = "1")]
    pub result: Option<v5::DynamicValue>,
    #[prost(message, optional, tag = "2")]
    pub error: Option<FunctionError>,
}

impl GetProviderSchemaResponse {
    /// A protocol-5 answer in these shapes (nothing is lost: version 5 has no nested types).
    pub fn from_v5(answer: v5::GetSchemaResponse) -> GetProviderSchemaResponse {
        let schemas = |map: BTreeMap<String, v5::Schema>| map.into_iter().map(|(k, s)| (k, schema(s))).collect();
        GetProviderSchemaResponse {
            provider: answer.provider.map(schema),
            resource_schemas: schemas(answer.resource_schemas),
            data_source_schemas: schemas(answer.data_source_schemas),
            diagnostics: answer.diagnostics,
            server_capabilities: answer.server_capabilities,
            functions: answer.functions,
        }
    }
}

fn schema(schema: v5::Schema) -> Schema {
    Schema { version: schema.version, block: schema.block.map(block) }
}

fn block(block: v5::Block) -> Block {
    Block {
        version: block.version,
        attributes: block
            .attributes
            .into_iter()
            .map(|a| Attribute {
                name: a.name,
                r#type: a.r#type,
                nested_type: None,
                required: a.required,
                optional: a.optional,
                computed: a.computed,
                sensitive: a.sensitive,
                deprecated: a.deprecated,
                write_only: a.write_only,
            })
            .collect(),
        block_types: block
            .block_types
            .into_iter()
            .map(|n| NestedBlock {
                type_name: n.type_name,
                block: n.block.map(self::block),
                nesting: n.nesting,
                min_items: n.min_items,
                max_items: n.max_items,
            })
            .collect(),
        deprecated: block.deprecated,
    }
}

/// The gRPC method paths of one protocol version: what differs by name between 5 and 6.
#[derive(Clone, Copy, Debug)]
pub struct Methods {
    pub get_schema: &'static str,
    pub validate_provider: &'static str,
    pub validate_resource: &'static str,
    pub validate_data_source: &'static str,
    pub upgrade_resource_state: &'static str,
    pub configure: &'static str,
    pub read_resource: &'static str,
    pub plan_resource_change: &'static str,
    pub apply_resource_change: &'static str,
    pub import_resource_state: &'static str,
    pub read_data_source: &'static str,
    pub call_function: &'static str,
    pub stop: &'static str,
}

impl Methods {
    /// The paths for `protocol` (5 or 6), or `None` for a version infra does not speak.
    pub fn of(protocol: u32) -> Option<Methods> {
        match protocol {
            5 => Some(Methods {
                get_schema: v5::path::GET_SCHEMA,
                validate_provider: v5::path::PREPARE_PROVIDER_CONFIG,
                validate_resource: v5::path::VALIDATE_RESOURCE_TYPE_CONFIG,
                validate_data_source: v5::path::VALIDATE_DATA_SOURCE_CONFIG,
                upgrade_resource_state: v5::path::UPGRADE_RESOURCE_STATE,
                configure: v5::path::CONFIGURE,
                read_resource: v5::path::READ_RESOURCE,
                plan_resource_change: v5::path::PLAN_RESOURCE_CHANGE,
                apply_resource_change: v5::path::APPLY_RESOURCE_CHANGE,
                import_resource_state: v5::path::IMPORT_RESOURCE_STATE,
                read_data_source: v5::path::READ_DATA_SOURCE,
                call_function: v5::path::CALL_FUNCTION,
                stop: v5::path::STOP,
            }),
            6 => Some(Methods {
                get_schema: path::GET_PROVIDER_SCHEMA,
                validate_provider: path::VALIDATE_PROVIDER_CONFIG,
                validate_resource: path::VALIDATE_RESOURCE_CONFIG,
                validate_data_source: path::VALIDATE_DATA_RESOURCE_CONFIG,
                upgrade_resource_state: path::UPGRADE_RESOURCE_STATE,
                configure: path::CONFIGURE_PROVIDER,
                read_resource: path::READ_RESOURCE,
                plan_resource_change: path::PLAN_RESOURCE_CHANGE,
                apply_resource_change: path::APPLY_RESOURCE_CHANGE,
                import_resource_state: path::IMPORT_RESOURCE_STATE,
                read_data_source: path::READ_DATA_SOURCE,
                call_function: path::CALL_FUNCTION,
                stop: path::STOP_PROVIDER,
            }),
            _ => None,
        }
    }
}

/// The gRPC method paths of protocol 6.
pub mod path {
    pub const GET_PROVIDER_SCHEMA: &str = "/tfplugin6.Provider/GetProviderSchema";
    pub const VALIDATE_PROVIDER_CONFIG: &str = "/tfplugin6.Provider/ValidateProviderConfig";
    pub const VALIDATE_RESOURCE_CONFIG: &str = "/tfplugin6.Provider/ValidateResourceConfig";
    pub const VALIDATE_DATA_RESOURCE_CONFIG: &str = "/tfplugin6.Provider/ValidateDataResourceConfig";
    pub const UPGRADE_RESOURCE_STATE: &str = "/tfplugin6.Provider/UpgradeResourceState";
    pub const CONFIGURE_PROVIDER: &str = "/tfplugin6.Provider/ConfigureProvider";
    pub const READ_RESOURCE: &str = "/tfplugin6.Provider/ReadResource";
    pub const PLAN_RESOURCE_CHANGE: &str = "/tfplugin6.Provider/PlanResourceChange";
    pub const APPLY_RESOURCE_CHANGE: &str = "/tfplugin6.Provider/ApplyResourceChange";
    pub const IMPORT_RESOURCE_STATE: &str = "/tfplugin6.Provider/ImportResourceState";
    pub const READ_DATA_SOURCE: &str = "/tfplugin6.Provider/ReadDataSource";
    pub const GET_FUNCTIONS: &str = "/tfplugin6.Provider/GetFunctions";
    pub const CALL_FUNCTION: &str = "/tfplugin6.Provider/CallFunction";
    pub const STOP_PROVIDER: &str = "/tfplugin6.Provider/StopProvider";
}
