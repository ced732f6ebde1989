//! The built-in provider: resources that need no cloud, Terraform-compatible so the same file
//! runs on both tools.
//!
//! - `terraform_data` ([`data`]): a value in state; `input` is copied to `output` on apply,
//!   `triggers_replace` forces replacement.
//! - `random_id`, `random_string`, `random_password` ([`random`]): random values generated once
//!   and kept until a `keepers` / argument change replaces them.
//! - `local_file` ([`local_file`]): a file on disk; editing or deleting it outside infra is drift.
//! - `time_sleep` ([`time`]): waits on create and destroy.
//!
//! Each type is a small module with its schema, plan rules and apply; [`Builtin`] dispatches.

pub mod data;
pub mod local_file;
pub mod random;
pub mod time;

use async_trait::async_trait;
use infra_provider::{
    ApplyRequest, ApplyResponse, Diagnostic, Diagnostics, ImportRequest, ImportResponse, PlanRequest, PlanResponse,
    Provider, ProviderSchema, ReadRequest, ReadResponse,
};

/// The built-in provider.
pub struct Builtin {
    schema: ProviderSchema,
}

impl Default for Builtin {
    fn default() -> Self {
        Builtin::new()
    }
}

impl Builtin {
    /// The provider with all its resource types.
    pub fn new() -> Builtin {
        let mut schema = ProviderSchema::default();
        schema.resources.insert("terraform_data".into(), data::schema());
        schema.resources.insert("random_id".into(), random::id_schema());
        schema.resources.insert("random_string".into(), random::string_schema(false));
        schema.resources.insert("random_password".into(), random::string_schema(true));
        schema.resources.insert("local_file".into(), local_file::schema());
        schema.resources.insert("time_sleep".into(), time::schema());
        Builtin { schema }
    }
}

fn unknown_type(kind: &str) -> Diagnostics {
    Diagnostic::error("Unsupported resource type", format!("The built-in provider has no resource type `{kind}`."))
        .into()
}

#[async_trait]
impl Provider for Builtin {
    fn name(&self) -> &str {
        "builtin"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        let schema =
            self.schema.resources.get(&request.kind).map(|r| &r.block).ok_or_else(|| unknown_type(&request.kind))?;
        Ok(match request.kind.as_str() {
            "terraform_data" => data::plan(schema, &request),
            "random_id" | "random_string" | "random_password" => random::plan(schema, &request),
            "time_sleep" => time::plan(schema, &request)?,
            _ => local_file::plan(schema, &request),
        })
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        match request.kind.as_str() {
            "terraform_data" => Ok(data::apply(&request)),
            "random_id" => Ok(random::apply_id(&request)),
            "random_string" | "random_password" => {
                Ok(random::apply_string(&request, request.kind == "random_password"))
            }
            "local_file" => local_file::apply(&request),
            "time_sleep" => time::apply(&request).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        match request.kind.as_str() {
            "local_file" => local_file::read(&request),
            // The other types live only in state: they are as state says.
            "terraform_data" | "random_id" | "random_string" | "random_password" | "time_sleep" => {
                Ok(ReadResponse { current: Some(request.current) })
            }
            other => Err(unknown_type(other)),
        }
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        match request.kind.as_str() {
            "terraform_data" => Ok(ImportResponse { current: data::import(&request.id) }),
            "random_id" => random::import_id(&request.id).map(|current| ImportResponse { current }),
            "local_file" => local_file::import(&request.id).map(|current| ImportResponse { current }),
            other => Err(Diagnostic::error(
                "Import not supported",
                format!("The resource type `{other}` cannot be imported."),
            )
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infra_provider::Value;
    use infra_provider::testing::{LifecycleCase, lifecycle};
    use std::collections::BTreeMap;

    fn object(entries: &[(&str, Value)]) -> Value {
        Value::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>())
    }

    #[tokio::test]
    async fn every_type_passes_the_conformance_kit() {
        let provider = Builtin::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("sub/out.txt").to_string_lossy().into_owned();
        let cases = [
            LifecycleCase {
                kind: "terraform_data".into(),
                create: object(&[("input", Value::from("a"))]),
                update: Some(object(&[("input", Value::from("b"))])),
                remote: false,
            },
            LifecycleCase {
                kind: "random_id".into(),
                create: object(&[("byte_length", Value::int(8))]),
                update: None,
                remote: false,
            },
            LifecycleCase {
                kind: "random_string".into(),
                create: object(&[("length", Value::int(12))]),
                update: None,
                remote: false,
            },
            LifecycleCase {
                kind: "random_password".into(),
                create: object(&[("length", Value::int(20))]),
                update: None,
                remote: false,
            },
            LifecycleCase {
                kind: "time_sleep".into(),
                create: object(&[("create_duration", Value::from("10ms"))]),
                update: Some(object(&[("create_duration", Value::from("20ms"))])),
                remote: false,
            },
            LifecycleCase {
                kind: "local_file".into(),
                create: object(&[("filename", Value::from(file.as_str())), ("content", Value::from("hello\n"))]),
                update: None,
                remote: true,
            },
        ];
        for case in cases {
            let kind = case.kind.clone();
            lifecycle(&provider, case).await.unwrap_or_else(|error| panic!("{kind}: {error}"));
        }
    }
}
