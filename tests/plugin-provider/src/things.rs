//! What `infratest` provides, with objects kept as JSON files in the configured `dir` (its
//! "cloud"):
//!
//! - `infratest_thing` (schema version 2): `name` (required), `size`, `tags`, `zone` (changing
//!   it replaces the object), `password` (sensitive), `settings` (a nested attribute, one
//!   object: `mode` optional and computed, default `auto`; `level`), `rules` (a nested
//!   attribute, a list: `port` required, `label` computed), `endpoints` (computed: a list whose
//!   elements are unknown until apply), `fail` (`crash` ends the process during apply).
//!   Version 1 stored `title` where version 2 has `name`: `UpgradeResourceState` renames it.
//!   Private data: the plan passes the prior private data on (adding `planned`), apply counts
//!   `applies` in it and refuses a change whose planned private data did not come back.
//!   Import by id; `ValidateResourceConfig` refuses ports outside 1–65535.
//! - `infratest_echo` (data source): `input` (dynamic) comes back as `output`.
//! - Functions: `reverse(string)` and `sum(number...)` (arbitrary precision).

use infra_plugin::cty::{self, Type};
use infra_plugin::schema::block_type;
use infra_plugin::tfplugin5::{self as v5, DynamicValue};
use infra_plugin::tfplugin6::{self as v6, NestingMode};
use infra_provider::{Number, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

const THING_VERSION: i64 = 2;

/// The provider's state: where objects live once configured, and the types of its schema.
pub struct Things {
    dir: Mutex<Option<PathBuf>>,
    provider: Type,
    thing: Type,
    echo: Type,
}

impl Default for Things {
    fn default() -> Things {
        let kind = |block: &v6::Block| block_type(block).unwrap_or(Type::Dynamic);
        Things {
            dir: Mutex::new(None),
            provider: kind(&provider_block()),
            thing: kind(&thing_block()),
            echo: kind(&echo_block()),
        }
    }
}

#[derive(Clone, Copy)]
enum Use {
    Required,
    Optional,
    Computed,
    OptionalComputed,
}

fn attribute(name: &str, kind: &str, usage: Use) -> v6::Attribute {
    v6::Attribute {
        name: name.into(),
        r#type: kind.as_bytes().to_vec(),
        required: matches!(usage, Use::Required),
        optional: matches!(usage, Use::Optional | Use::OptionalComputed),
        computed: matches!(usage, Use::Computed | Use::OptionalComputed),
        ..v6::Attribute::default()
    }
}

fn nested(name: &str, nesting: NestingMode, attributes: Vec<v6::Attribute>, usage: Use) -> v6::Attribute {
    v6::Attribute {
        r#type: Vec::new(),
        nested_type: Some(v6::Object { attributes, nesting: nesting as i32 }),
        ..attribute(name, "", usage)
    }
}

fn provider_block() -> v6::Block {
    v6::Block { attributes: vec![attribute("dir", "\"string\"", Use::Required)], ..v6::Block::default() }
}

fn thing_block() -> v6::Block {
    let mut password = attribute("password", "\"string\"", Use::Optional);
    password.sensitive = true;
    v6::Block {
        attributes: vec![
            attribute("id", "\"string\"", Use::Computed),
            attribute("name", "\"string\"", Use::Required),
            attribute("size", "\"number\"", Use::Optional),
            attribute("tags", "[\"map\",\"string\"]", Use::Optional),
            attribute("zone", "\"string\"", Use::Optional),
            password,
            attribute("fail", "\"string\"", Use::Optional),
            attribute("endpoints", "[\"list\",\"string\"]", Use::Computed),
            nested(
                "settings",
                NestingMode::Single,
                vec![
                    attribute("mode", "\"string\"", Use::OptionalComputed),
                    attribute("level", "\"number\"", Use::Optional),
                ],
                Use::Optional,
            ),
            nested(
                "rules",
                NestingMode::List,
                vec![attribute("port", "\"number\"", Use::Required), attribute("label", "\"string\"", Use::Computed)],
                Use::Optional,
            ),
        ],
        ..v6::Block::default()
    }
}

fn echo_block() -> v6::Block {
    v6::Block {
        attributes: vec![
            attribute("input", "\"dynamic\"", Use::Required),
            attribute("output", "\"dynamic\"", Use::Computed),
        ],
        ..v6::Block::default()
    }
}

fn functions() -> BTreeMap<String, v6::Function> {
    let parameter = |name: &str, kind: &str| v6::Parameter {
        name: name.into(),
        r#type: kind.as_bytes().to_vec(),
        ..v6::Parameter::default()
    };
    let returns = |kind: &str| Some(v6::Return { r#type: kind.as_bytes().to_vec() });
    BTreeMap::from([
        (
            "reverse".to_string(),
            v6::Function {
                parameters: vec![parameter("text", "\"string\"")],
                r#return: returns("\"string\""),
                summary: "The characters of a string in reverse order".into(),
                ..v6::Function::default()
            },
        ),
        (
            "sum".to_string(),
            v6::Function {
                variadic_parameter: Some(parameter("numbers", "\"number\"")),
                r#return: returns("\"number\""),
                summary: "The sum of numbers, exactly".into(),
                ..v6::Function::default()
            },
        ),
    ])
}

fn error(summary: &str, detail: impl Into<String>) -> v5::Diagnostic {
    v5::Diagnostic {
        severity: v5::Severity::Error as i32,
        summary: summary.into(),
        detail: detail.into(),
        attribute: None,
    }
}

fn decode(value: Option<&DynamicValue>, kind: &Type) -> Result<Value, v5::Diagnostic> {
    match value {
        Some(value) => cty::decode(&value.msgpack, kind).map_err(|e| error("Cannot read a value", e)),
        None => Ok(Value::Null),
    }
}

fn encode(value: &Value, kind: &Type) -> Result<DynamicValue, v5::Diagnostic> {
    cty::encode(value, kind)
        .map(|msgpack| DynamicValue { msgpack, json: Vec::new() })
        .map_err(|e| error("Cannot encode a value", e))
}

fn field<'v>(object: &'v Value, name: &str) -> &'v Value {
    object.as_map().and_then(|m| m.get(name)).unwrap_or(&Value::Null)
}

fn ports(object: &Value) -> Vec<Value> {
    field(object, "rules").as_items().unwrap_or(&[]).iter().map(|rule| field(rule, "port").clone()).collect()
}

fn private_json(bytes: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(bytes).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default()
}

impl Things {
    fn dir(&self) -> Result<PathBuf, v5::Diagnostic> {
        self.dir
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| error("Provider not configured", "ConfigureProvider was not called"))
    }

    fn file(&self, id: &str) -> Result<PathBuf, v5::Diagnostic> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(error("Invalid id", format!("`{id}` is not an infratest id")));
        }
        Ok(self.dir()?.join(format!("{id}.json")))
    }

    fn load(&self, id: &str) -> Result<Option<Value>, v5::Diagnostic> {
        match std::fs::read(self.file(id)?) {
            Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                .map(|json| Some(Value::from_json(&json)))
                .map_err(|e| error("Corrupt object", e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(error("Cannot read an object", e.to_string())),
        }
    }

    pub fn schema(&self) -> v6::GetProviderSchemaResponse {
        let schema = |block: v6::Block, version: i64| v6::Schema { version, block: Some(block) };
        v6::GetProviderSchemaResponse {
            provider: Some(schema(provider_block(), 0)),
            resource_schemas: BTreeMap::from([("infratest_thing".to_string(), schema(thing_block(), THING_VERSION))]),
            data_source_schemas: BTreeMap::from([("infratest_echo".to_string(), schema(echo_block(), 0))]),
            diagnostics: Vec::new(),
            server_capabilities: Some(v5::ServerCapabilities {
                plan_destroy: false,
                get_provider_schema_optional: true,
                move_resource_state: false,
            }),
            functions: functions(),
        }
    }

    pub fn validate_provider(&self, request: v5::PrepareProviderConfigRequest) -> v5::PrepareProviderConfigResponse {
        let diagnostics = match decode(request.config.as_ref(), &self.provider) {
            Ok(config) if field(&config, "dir").is_null() => {
                vec![error("Missing dir", "The infratest provider needs `dir`.")]
            }
            Ok(_) => Vec::new(),
            Err(diagnostic) => vec![diagnostic],
        };
        v5::PrepareProviderConfigResponse { prepared_config: None, diagnostics }
    }

    pub fn validate_resource(&self, request: v5::ValidateConfigRequest) -> v5::DiagnosticsResponse {
        let config = match decode(request.config.as_ref(), &self.thing) {
            Ok(config) => config,
            Err(diagnostic) => return v5::DiagnosticsResponse { diagnostics: vec![diagnostic] },
        };
        let mut diagnostics = Vec::new();
        for (index, port) in ports(&config).iter().enumerate() {
            let Some(number) = port.as_number() else { continue };
            if !number.to_i64().is_some_and(|p| (1..=65535).contains(&p)) {
                let step = |selector| v5::Step { selector: Some(selector) };
                diagnostics.push(v5::Diagnostic {
                    attribute: Some(v5::AttributePath {
                        steps: vec![
                            step(v5::Selector::AttributeName("rules".into())),
                            step(v5::Selector::ElementKeyInt(i64::try_from(index).unwrap_or(0))),
                            step(v5::Selector::AttributeName("port".into())),
                        ],
                    }),
                    ..error("Invalid port", format!("{number} is not a port (1 to 65535)"))
                });
            }
        }
        v5::DiagnosticsResponse { diagnostics }
    }

    pub fn configure(&self, request: v5::ConfigureRequest) -> v5::DiagnosticsResponse {
        let diagnostics = match decode(request.config.as_ref(), &self.provider) {
            Ok(config) => match field(&config, "dir").as_str() {
                Some(dir) => match std::fs::create_dir_all(dir) {
                    Ok(()) => {
                        *self.dir.lock().unwrap_or_else(|p| p.into_inner()) = Some(PathBuf::from(dir));
                        Vec::new()
                    }
                    Err(e) => vec![error("Cannot use dir", e.to_string())],
                },
                None => vec![error("Missing dir", "The infratest provider needs `dir`.")],
            },
            Err(diagnostic) => vec![diagnostic],
        };
        v5::DiagnosticsResponse { diagnostics }
    }

    pub fn upgrade(&self, request: v5::UpgradeResourceStateRequest) -> v5::UpgradeResourceStateResponse {
        let answer = || -> Result<DynamicValue, v5::Diagnostic> {
            let raw = request.raw_state.as_ref().map(|r| r.json.as_slice()).unwrap_or_default();
            let mut json: serde_json::Value =
                serde_json::from_slice(raw).map_err(|e| error("Corrupt stored state", e.to_string()))?;
            match request.version {
                THING_VERSION => {}
                0 | 1 => {
                    if let Some(object) = json.as_object_mut()
                        && let Some(title) = object.remove("title")
                    {
                        object.insert("name".into(), title);
                    }
                }
                other => return Err(error("Unknown schema version", format!("version {other} is newer than 2"))),
            }
            encode(&Value::from_json(&json), &self.thing)
        };
        match answer() {
            Ok(state) => v5::UpgradeResourceStateResponse { upgraded_state: Some(state), diagnostics: Vec::new() },
            Err(diagnostic) => v5::UpgradeResourceStateResponse { upgraded_state: None, diagnostics: vec![diagnostic] },
        }
    }

    pub fn read(&self, request: v5::ReadResourceRequest) -> v5::ReadResourceResponse {
        let answer = || -> Result<(DynamicValue, Vec<u8>), v5::Diagnostic> {
            let current = decode(request.current_state.as_ref(), &self.thing)?;
            let id = field(&current, "id").as_str().unwrap_or_default().to_string();
            let found = self.load(&id)?.unwrap_or(Value::Null);
            Ok((encode(&found, &self.thing)?, if found.is_null() { Vec::new() } else { request.private.clone() }))
        };
        match answer() {
            Ok((state, private)) => {
                v5::ReadResourceResponse { new_state: Some(state), diagnostics: Vec::new(), private }
            }
            Err(diagnostic) => v5::ReadResourceResponse { diagnostics: vec![diagnostic], ..Default::default() },
        }
    }

    pub fn plan(&self, request: v5::PlanResourceChangeRequest) -> v5::PlanResourceChangeResponse {
        let answer = || -> Result<v5::PlanResourceChangeResponse, v5::Diagnostic> {
            let prior = decode(request.prior_state.as_ref(), &self.thing)?;
            let proposed = decode(request.proposed_new_state.as_ref(), &self.thing)?;
            if proposed.is_null() {
                return Ok(v5::PlanResourceChangeResponse {
                    planned_state: Some(encode(&Value::Null, &self.thing)?),
                    planned_private: request.prior_private.clone(),
                    ..Default::default()
                });
            }
            let mut planned = proposed.as_map().cloned().unwrap_or_default();
            let creating = prior.is_null();
            if creating {
                planned.insert("id".into(), Value::Unknown);
            }
            if let Some(Value::Map(settings)) = planned.get_mut("settings")
                && settings.get("mode").is_none_or(Value::is_null)
            {
                settings.insert("mode".into(), Value::from("auto"));
            }
            if let Some(Value::List(rules)) = planned.get_mut("rules") {
                for rule in rules {
                    if let Value::Map(rule) = rule
                        && rule.get("label").is_none_or(Value::is_null)
                    {
                        rule.insert("label".into(), Value::Unknown);
                    }
                }
            }
            let planned_value = Value::Map(planned.clone());
            let endpoints = if creating || ports(&prior) != ports(&planned_value) {
                Value::List(vec![Value::Unknown; ports(&planned_value).len()])
            } else {
                field(&prior, "endpoints").clone()
            };
            planned.insert("endpoints".into(), endpoints);
            let mut private = private_json(&request.prior_private);
            private.insert("planned".into(), serde_json::Value::Bool(true));
            let step = v5::Step { selector: Some(v5::Selector::AttributeName("zone".into())) };
            Ok(v5::PlanResourceChangeResponse {
                planned_state: Some(encode(&Value::Map(planned), &self.thing)?),
                requires_replace: vec![v5::AttributePath { steps: vec![step] }],
                planned_private: serde_json::to_vec(&private).unwrap_or_default(),
                ..Default::default()
            })
        };
        answer().unwrap_or_else(|diagnostic| v5::PlanResourceChangeResponse {
            diagnostics: vec![diagnostic],
            ..Default::default()
        })
    }

    pub fn apply(&self, request: v5::ApplyResourceChangeRequest) -> v5::ApplyResourceChangeResponse {
        let answer = || -> Result<v5::ApplyResourceChangeResponse, v5::Diagnostic> {
            let prior = decode(request.prior_state.as_ref(), &self.thing)?;
            let planned = decode(request.planned_state.as_ref(), &self.thing)?;
            if planned.is_null() {
                if let Some(id) = field(&prior, "id").as_str() {
                    match std::fs::remove_file(self.file(id)?) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(error("Cannot delete", e.to_string()));
                        }
                        _ => {}
                    }
                }
                return Ok(v5::ApplyResourceChangeResponse {
                    new_state: Some(encode(&Value::Null, &self.thing)?),
                    ..Default::default()
                });
            }
            let mut private = private_json(&request.planned_private);
            if private.remove("planned").is_none() {
                return Err(error(
                    "Planned private data lost",
                    "ApplyResourceChange did not receive the private data PlanResourceChange answered.",
                ));
            }
            if field(&planned, "fail").as_str() == Some("crash") {
                eprintln!("infratest: crashing during apply, as configured");
                std::process::exit(3);
            }
            let mut object = planned.as_map().cloned().unwrap_or_default();
            let name = field(&planned, "name").as_str().unwrap_or("unnamed").to_string();
            if !object.get("id").is_some_and(Value::is_known) {
                let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
                object.insert("id".into(), Value::from(format!("thing-{safe}")));
            }
            if let Some(Value::List(rules)) = object.get_mut("rules") {
                for rule in rules {
                    let port = field(rule, "port").as_number().map(Number::to_string).unwrap_or_default();
                    if let Value::Map(rule) = rule
                        && !rule.get("label").is_some_and(Value::is_known)
                    {
                        rule.insert("label".into(), Value::from(format!("rule-{port}")));
                    }
                }
            }
            let endpoints = ports(&planned)
                .iter()
                .map(|port| {
                    Value::from(format!("{name}:{}", port.as_number().map(Number::to_string).unwrap_or_default()))
                })
                .collect();
            object.insert("endpoints".into(), Value::List(endpoints));
            let object = Value::Map(object);
            let id = field(&object, "id").as_str().unwrap_or_default().to_string();
            let json = object.to_json().ok_or_else(|| error("Cannot store", "the object is not wholly known"))?;
            std::fs::write(self.file(&id)?, json.to_string()).map_err(|e| error("Cannot store", e.to_string()))?;
            let applies = private.get("applies").and_then(serde_json::Value::as_u64).unwrap_or(0) + 1;
            private.insert("applies".into(), serde_json::Value::from(applies));
            Ok(v5::ApplyResourceChangeResponse {
                new_state: Some(encode(&object, &self.thing)?),
                private: serde_json::to_vec(&private).unwrap_or_default(),
                ..Default::default()
            })
        };
        answer().unwrap_or_else(|diagnostic| v5::ApplyResourceChangeResponse {
            diagnostics: vec![diagnostic],
            ..Default::default()
        })
    }

    pub fn import(&self, request: v5::ImportResourceStateRequest) -> v5::ImportResourceStateResponse {
        let answer = || -> Result<v5::ImportResourceStateResponse, v5::Diagnostic> {
            let Some(object) = self.load(&request.id)? else {
                return Err(error("Cannot import", format!("There is no thing `{}`.", request.id)));
            };
            Ok(v5::ImportResourceStateResponse {
                imported_resources: vec![v5::ImportedResource {
                    type_name: request.type_name.clone(),
                    state: Some(encode(&object, &self.thing)?),
                    private: br#"{"imported":true}"#.to_vec(),
                }],
                diagnostics: Vec::new(),
            })
        };
        answer().unwrap_or_else(|diagnostic| v5::ImportResourceStateResponse {
            imported_resources: Vec::new(),
            diagnostics: vec![diagnostic],
        })
    }

    pub fn read_data(&self, request: v5::ReadDataSourceRequest) -> v5::ReadDataSourceResponse {
        let answer = || -> Result<DynamicValue, v5::Diagnostic> {
            let config = decode(request.config.as_ref(), &self.echo)?;
            let input = field(&config, "input").clone();
            let state = Value::Map(BTreeMap::from([("input".into(), input.clone()), ("output".into(), input)]));
            encode(&state, &self.echo)
        };
        match answer() {
            Ok(state) => v5::ReadDataSourceResponse { state: Some(state), diagnostics: Vec::new() },
            Err(diagnostic) => v5::ReadDataSourceResponse { state: None, diagnostics: vec![diagnostic] },
        }
    }

    pub fn functions(&self) -> v6::GetFunctionsResponse {
        v6::GetFunctionsResponse { functions: functions(), diagnostics: Vec::new() }
    }

    pub fn call_function(&self, request: v6::CallFunctionRequest) -> v6::CallFunctionResponse {
        let failure = |text: String, argument: Option<i64>| v6::CallFunctionResponse {
            result: None,
            error: Some(v6::FunctionError { text, function_argument: argument }),
        };
        let argument = |index: usize, kind: &Type| -> Result<Value, v6::CallFunctionResponse> {
            let bytes = request.arguments.get(index).map(|a| a.msgpack.as_slice()).unwrap_or_default();
            cty::decode(bytes, kind).map_err(|e| failure(e, i64::try_from(index).ok()))
        };
        let result = match request.name.as_str() {
            "reverse" => match argument(0, &Type::String) {
                Ok(Value::String(text)) if text.is_empty() => {
                    return failure("cannot reverse an empty string".into(), Some(0));
                }
                Ok(Value::String(text)) => Value::from(text.chars().rev().collect::<String>()),
                Ok(_) => return failure("a string is required".into(), Some(0)),
                Err(response) => return response,
            },
            "sum" => {
                let mut total = Number::from(0i64);
                for index in 0..request.arguments.len() {
                    match argument(index, &Type::Number) {
                        Ok(Value::Number(number)) => total = total.add(&number),
                        Ok(_) => return failure("a number is required".into(), i64::try_from(index).ok()),
                        Err(response) => return response,
                    }
                }
                Value::Number(total)
            }
            other => return failure(format!("there is no function `{other}`"), None),
        };
        let kind = if request.name == "reverse" { Type::String } else { Type::Number };
        match cty::encode(&result, &kind) {
            Ok(msgpack) => {
                v6::CallFunctionResponse { result: Some(DynamicValue { msgpack, json: Vec::new() }), error: None }
            }
            Err(e) => failure(e, None),
        }
    }
}
