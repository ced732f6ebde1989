//! The built-in provider: resources that need no cloud, Terraform-compatible so the same file
//! runs on both tools.
//!
//! - `terraform_data` ([`data`]): a value in state; `input` is copied to `output` on apply,
//!   `triggers_replace` forces replacement.
//! - `random_id`, `random_string`, `random_password` ([`random`]): random values generated once
//!   and kept until a `keepers` / argument change replaces them.
//! - `random_pet`, `random_integer`, `random_uuid`, `random_shuffle`, `random_bytes`
//!   ([`random_choice`]).
//! - `local_file`, `local_sensitive_file` ([`local_file`]): a file on disk; editing or deleting it
//!   outside infra is drift; data sources of the same names read one.
//! - `time_sleep` ([`time`]): waits on create and destroy; `time_static`, `time_offset`,
//!   `time_rotating` ([`clock`]): a moment fixed in state.
//! - `null_resource` and the `null_data_source` data source ([`null`]).
//! - `archive_file` ([`archive`]), `cloudinit_config` ([`cloudinit`]): built from the
//!   configuration (data sources, and the deprecated resources of the same names).
//! - the `http` ([`http`]) and `external` ([`external`]) data sources.
//! - `tls_private_key`, `tls_self_signed_cert`, `tls_cert_request`, `tls_locally_signed_cert`
//!   ([`tls`]).
//!
//! Each type is a small module with its schema, plan rules and apply; [`Builtin`] dispatches.

pub mod archive;
pub mod clock;
pub mod cloudinit;
pub mod data;
pub mod external;
pub mod http;
pub mod local_file;
pub mod null;
pub mod random;
pub mod random_choice;
pub mod time;
pub mod tls;

use async_trait::async_trait;
use infra_provider::{
    ApplyRequest, ApplyResponse, Diagnostic, Diagnostics, ImportRequest, ImportResponse, PlanRequest, PlanResponse,
    Provider, ProviderSchema, ReadDataRequest, ReadDataResponse, ReadRequest, ReadResponse, ResourceSchema,
    plan_by_schema,
};

/// A data source served by the embedding program (what this crate cannot reach: state
/// backends for `terraform_remote_state`); called on a blocking thread.
pub type DataSource =
    std::sync::Arc<dyn Fn(&ReadDataRequest) -> Result<infra_provider::Value, Diagnostics> + Send + Sync>;

/// The built-in provider.
pub struct Builtin {
    schema: ProviderSchema,
    hooks: std::collections::BTreeMap<String, DataSource>,
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
        schema.resources.insert("local_file".into(), local_file::schema(false));
        schema.resources.insert("local_sensitive_file".into(), local_file::schema(true));
        schema.resources.insert("time_sleep".into(), time::schema());
        schema.resources.insert("time_static".into(), clock::static_schema());
        schema.resources.insert("time_offset".into(), clock::offset_schema());
        schema.resources.insert("time_rotating".into(), clock::rotating_schema());
        schema.resources.insert("null_resource".into(), null::resource_schema());
        schema.resources.insert("random_pet".into(), random_choice::pet_schema());
        schema.resources.insert("random_integer".into(), random_choice::integer_schema());
        schema.resources.insert("random_uuid".into(), random_choice::uuid_schema());
        schema.resources.insert("random_shuffle".into(), random_choice::shuffle_schema());
        schema.resources.insert("random_bytes".into(), random_choice::bytes_schema());
        schema.resources.insert("archive_file".into(), archive::schema());
        schema.resources.insert("cloudinit_config".into(), cloudinit::schema());
        schema.resources.insert("tls_private_key".into(), tls::private_key_schema());
        schema.resources.insert("tls_self_signed_cert".into(), tls::self_signed_schema());
        schema.resources.insert("tls_cert_request".into(), tls::cert_request_schema());
        schema.resources.insert("tls_locally_signed_cert".into(), tls::locally_signed_schema());
        schema.data_sources.insert("null_data_source".into(), null::data_schema());
        schema.data_sources.insert("archive_file".into(), archive::schema());
        schema.data_sources.insert("cloudinit_config".into(), cloudinit::schema());
        schema.data_sources.insert("http".into(), http::schema());
        schema.data_sources.insert("external".into(), external::schema());
        schema.data_sources.insert("local_file".into(), local_file::data_schema(false));
        schema.data_sources.insert("local_sensitive_file".into(), local_file::data_schema(true));
        Builtin { schema, hooks: std::collections::BTreeMap::new() }
    }

    /// Adds a data source the embedding program serves.
    #[must_use]
    pub fn with_data_source(mut self, kind: &str, schema: ResourceSchema, read: DataSource) -> Builtin {
        self.schema.data_sources.insert(kind.into(), schema);
        self.hooks.insert(kind.into(), read);
        self
    }
}

/// Runs blocking work (files, processes, state backends) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Diagnostics> + Send + 'static,
) -> Result<T, Diagnostics> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        Diagnostics::from(Diagnostic::error("Data source failed", format!("The data source stopped: {error}.")))
    })?
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
            "time_static" | "time_offset" | "time_rotating" => clock::plan(schema, &request)?,
            "random_pet" | "random_integer" | "random_uuid" | "random_shuffle" | "random_bytes" => {
                random_choice::plan(schema, &request)
            }
            "null_resource" | "archive_file" | "cloudinit_config" => plan_by_schema(Some(schema), &request),
            kind if kind.starts_with("tls_") => plan_by_schema(Some(schema), &request),
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
            "local_file" | "local_sensitive_file" => local_file::apply(&request),
            "time_sleep" => time::apply(&request).await,
            "time_static" | "time_offset" | "time_rotating" => clock::apply(&request),
            "random_pet" | "random_integer" | "random_uuid" | "random_shuffle" | "random_bytes" => {
                random_choice::apply(&request)
            }
            "null_resource" => Ok(null::apply(&request)),
            "archive_file" => match &request.planned {
                Some(planned) if request.prior.is_none() => {
                    Ok(ApplyResponse { new: Some(archive::create(planned, None)?) })
                }
                Some(planned) => Ok(ApplyResponse { new: Some(planned.clone()) }),
                None => Ok(ApplyResponse { new: None }),
            },
            kind if kind.starts_with("tls_") => tls::apply(&request),
            "cloudinit_config" => match &request.planned {
                Some(planned) => Ok(ApplyResponse { new: Some(cloudinit::render(planned)?) }),
                None => Ok(ApplyResponse { new: None }),
            },
            other => Err(unknown_type(other)),
        }
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        match request.kind.as_str() {
            "local_file" | "local_sensitive_file" => local_file::read(&request),
            "time_rotating" => Ok(ReadResponse { current: clock::read(&request.kind, request.current) }),
            "archive_file" => Ok(ReadResponse { current: archive::read(request.current) }),
            kind if kind.starts_with("tls_") => Ok(ReadResponse { current: tls::read(kind, request.current) }),
            // The other types live only in state: they are as state says.
            kind if self.schema.resources.contains_key(kind) => Ok(ReadResponse { current: Some(request.current) }),
            other => Err(unknown_type(other)),
        }
    }

    async fn read_data(&self, request: ReadDataRequest) -> Result<ReadDataResponse, Diagnostics> {
        let state = match request.kind.as_str() {
            "null_data_source" => null::read_data(&request.config),
            "local_file" | "local_sensitive_file" => local_file::read_data(&request)?,
            "cloudinit_config" => cloudinit::render(&request.config)?,
            "http" => http::read(&request.config, request.files_within.is_some()).await?,
            "archive_file" => {
                let (config, within) = (request.config.clone(), request.files_within.clone());
                blocking(move || archive::create(&config, within.as_deref())).await?
            }
            "external" => {
                let (config, confined) = (request.config.clone(), request.files_within.is_some());
                blocking(move || external::read(&config, confined)).await?
            }
            kind if self.hooks.contains_key(kind) => {
                let hook = self.hooks[kind].clone();
                tokio::task::spawn_blocking(move || hook(&request)).await.map_err(|error| {
                    Diagnostics::from(Diagnostic::error(
                        "Data source failed",
                        format!("The data source stopped: {error}."),
                    ))
                })??
            }
            other => {
                return Err(Diagnostic::error(
                    "Unsupported data source",
                    format!("The built-in provider has no data source `{other}`."),
                )
                .into());
            }
        };
        Ok(ReadDataResponse { state })
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
            LifecycleCase {
                kind: "local_sensitive_file".into(),
                create: object(&[
                    ("filename", Value::from(dir.path().join("secret.txt").to_string_lossy().as_ref())),
                    ("content", Value::from("s3cret")),
                ]),
                update: None,
                remote: true,
            },
            LifecycleCase {
                kind: "null_resource".into(),
                create: object(&[("triggers", object(&[("v", Value::from("1"))]))]),
                update: None,
                remote: false,
            },
            LifecycleCase {
                kind: "random_pet".into(),
                create: object(&[("length", Value::int(3))]),
                update: None,
                remote: false,
            },
            LifecycleCase {
                kind: "random_integer".into(),
                create: object(&[("min", Value::int(1)), ("max", Value::int(6))]),
                update: None,
                remote: false,
            },
            LifecycleCase { kind: "random_uuid".into(), create: object(&[]), update: None, remote: false },
            LifecycleCase {
                kind: "random_shuffle".into(),
                create: object(&[("input", Value::List(vec![Value::from("a"), Value::from("b")]))]),
                update: None,
                remote: false,
            },
            LifecycleCase {
                kind: "random_bytes".into(),
                create: object(&[("length", Value::int(16))]),
                update: None,
                remote: false,
            },
            LifecycleCase { kind: "time_static".into(), create: object(&[]), update: None, remote: false },
            LifecycleCase {
                kind: "time_offset".into(),
                create: object(&[("offset_days", Value::int(7))]),
                update: None,
                remote: false,
            },
            LifecycleCase {
                kind: "time_rotating".into(),
                create: object(&[("rotation_days", Value::int(30))]),
                update: None,
                remote: false,
            },
        ];
        for case in cases {
            let kind = case.kind.clone();
            lifecycle(&provider, case).await.unwrap_or_else(|error| panic!("{kind}: {error}"));
        }
    }

    /// Plans and applies a create of `kind`: the new object, or the provider's refusal.
    async fn try_apply(provider: &Builtin, kind: &str, config: Value) -> Result<Value, infra_provider::Diagnostics> {
        let schema = &provider.schema().resources[kind].block;
        let request = PlanRequest { kind: kind.into(), config: config.clone(), proposed: config.clone(), prior: None };
        let planned = plan_by_schema(Some(schema), &request).planned;
        let planned = provider.plan(PlanRequest { proposed: planned, ..request }).await?.planned;
        let request = infra_provider::ApplyRequest {
            kind: kind.into(),
            prior: None,
            planned: Some(planned),
            idempotency_key: String::new(),
            config,
        };
        Ok(provider.apply(request).await?.new.expect("created"))
    }

    async fn apply_one(provider: &Builtin, kind: &str, config: Value) -> Value {
        try_apply(provider, kind, config).await.expect("apply")
    }

    #[tokio::test]
    async fn chosen_values_follow_their_arguments() {
        let provider = Builtin::new();
        let pet =
            apply_one(&provider, "random_pet", object(&[("length", Value::int(3)), ("separator", Value::from("_"))]))
                .await;
        let id = pet.as_map().and_then(|m| m.get("id")).and_then(Value::as_str).expect("id").to_string();
        assert_eq!(id.split('_').count(), 3, "{id}");
        let seeded = object(&[("min", Value::int(1)), ("max", Value::int(1_000_000)), ("seed", Value::from("s"))]);
        let first = apply_one(&provider, "random_integer", seeded.clone()).await;
        let second = apply_one(&provider, "random_integer", seeded).await;
        let result = |v: &Value| v.as_map().and_then(|m| m.get("result")).cloned().expect("result");
        assert_eq!(result(&first), result(&second), "a seed repeats the choice");
        let shuffle = apply_one(
            &provider,
            "random_shuffle",
            object(&[
                ("input", Value::List(vec![Value::from("a"), Value::from("b"), Value::from("c")])),
                ("result_count", Value::int(5)),
            ]),
        )
        .await;
        let items = shuffle.as_map().and_then(|m| m.get("result")).and_then(Value::as_items).expect("result").len();
        assert_eq!(items, 5, "a count past the input repeats it");
        let offset = apply_one(
            &provider,
            "time_offset",
            object(&[("base_rfc3339", Value::from("2023-01-31T00:00:00Z")), ("offset_months", Value::int(1))]),
        )
        .await;
        assert_eq!(
            offset.as_map().and_then(|m| m.get("rfc3339")).and_then(Value::as_str),
            Some("2023-03-03T00:00:00Z"),
            "Go's AddDate overflows the day"
        );
        let bad = object(&[("min", Value::int(5)), ("max", Value::int(1))]);
        let applied = try_apply(&provider, "random_integer", bad).await;
        assert!(applied.is_err(), "min above max is refused");
    }

    #[tokio::test]
    async fn local_file_data_source_reads_only_inside_the_checkout_when_confined() {
        let provider = Builtin::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let inside = dir.path().join("in.txt");
        std::fs::write(&inside, "hello").expect("write");
        let outside = tempfile::NamedTempFile::new().expect("temp file");
        let within = Some(dir.path().canonicalize().expect("canonical"));
        let read = |path: &std::path::Path, kind: &str| ReadDataRequest {
            kind: kind.into(),
            config: object(&[("filename", Value::from(path.to_string_lossy().as_ref()))]),
            files_within: within.clone(),
        };
        let state = provider.read_data(read(&inside, "local_file")).await.expect("read").state;
        assert_eq!(state.as_map().and_then(|m| m.get("content")).and_then(Value::as_str), Some("hello"));
        let secret = provider.read_data(read(&inside, "local_sensitive_file")).await.expect("read").state;
        assert!(secret.as_map().and_then(|m| m.get("content")).is_some_and(Value::is_marked));
        let refused = provider.read_data(read(outside.path(), "local_file")).await;
        assert!(refused.is_err(), "a file outside the checkout is not read");
        let null = provider
            .read_data(ReadDataRequest {
                kind: "null_data_source".into(),
                config: object(&[("inputs", object(&[("a", Value::from("b"))]))]),
                files_within: None,
            })
            .await
            .expect("read")
            .state;
        assert_eq!(null.as_map().and_then(|m| m.get("outputs")), Some(&object(&[("a", Value::from("b"))])));
    }

    #[tokio::test]
    async fn controller_runs_do_not_run_programs_ask_private_addresses_or_archive_outside_the_checkout() {
        let provider = Builtin::new();
        let checkout = tempfile::tempdir().expect("temp dir");
        let within = Some(checkout.path().canonicalize().expect("canonical"));
        let read =
            |kind: &str, config: Value| ReadDataRequest { kind: kind.into(), config, files_within: within.clone() };
        let program = object(&[("program", Value::List(vec![Value::from("true")]))]);
        let refused = provider.read_data(read("external", program)).await.expect_err("no program runs");
        assert!(refused.iter().any(|d| d.summary.contains("not run")), "{refused:?}");
        for url in
            ["http://127.0.0.1:9/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://10.1.2.3/"]
        {
            let refused = provider.read_data(read("http", object(&[("url", Value::from(url))]))).await;
            let refused = refused.expect_err(url);
            assert!(refused.iter().any(|d| d.detail.contains("not a public address")), "{url}: {refused:?}");
        }
        let outside = tempfile::tempdir().expect("temp dir");
        std::fs::write(outside.path().join("secret"), "s").expect("write");
        let archive = object(&[
            ("type", Value::from("zip")),
            ("source_dir", Value::from(outside.path().to_string_lossy().as_ref())),
            ("output_path", Value::from("out.zip")),
        ]);
        let refused = provider.read_data(read("archive_file", archive)).await.expect_err("outside");
        assert!(refused.iter().any(|d| d.detail.contains("outside the checkout")), "{refused:?}");
        let escape = object(&[
            ("type", Value::from("zip")),
            ("source_content", Value::from("x")),
            ("source_content_filename", Value::from("x")),
            ("output_path", Value::from("../escape.zip")),
        ]);
        assert!(provider.read_data(read("archive_file", escape)).await.is_err(), "no write outside the checkout");
        let inside = object(&[
            ("type", Value::from("zip")),
            ("source_content", Value::from("x")),
            ("source_content_filename", Value::from("x")),
            ("output_path", Value::from("build/new/out.zip")),
        ]);
        provider.read_data(read("archive_file", inside)).await.expect("a new directory inside the checkout");
        assert!(checkout.path().join("build/new/out.zip").is_file());
    }

    #[tokio::test]
    async fn an_external_program_that_floods_standard_error_still_answers() {
        let provider = Builtin::new();
        let script = "head -c 1048576 /dev/zero | tr '\\0' e >&2; echo '{\"ok\": \"yes\"}'";
        let config =
            object(&[("program", Value::List(vec![Value::from("sh"), Value::from("-c"), Value::from(script)]))]);
        let state = provider
            .read_data(ReadDataRequest { kind: "external".into(), config, files_within: None })
            .await
            .expect("answers")
            .state;
        let result = state.as_map().and_then(|m| m.get("result")).cloned();
        assert_eq!(result, Some(object(&[("ok", Value::from("yes"))])));
    }

    #[tokio::test]
    async fn tls_keys_of_every_algorithm_sign_certificates() {
        let provider = Builtin::new();
        for (algorithm, extra) in [("RSA", None), ("ECDSA", Some(("ecdsa_curve", "P384"))), ("ED25519", None)] {
            let mut config = vec![("algorithm", Value::from(algorithm))];
            if let Some((name, value)) = extra {
                config.push((name, Value::from(value)));
            }
            let key = apply_one(&provider, "tls_private_key", object(&config)).await;
            let pem = key.as_map().and_then(|m| m.get("private_key_pem")).cloned().expect("pem");
            assert!(pem.is_marked(), "{algorithm}: the private key is sensitive");
            let cert = apply_one(
                &provider,
                "tls_self_signed_cert",
                object(&[
                    ("private_key_pem", pem),
                    ("validity_period_hours", Value::int(1)),
                    ("allowed_uses", Value::List(vec![Value::from("digital_signature")])),
                ]),
            )
            .await;
            let cert = cert.as_map().expect("object");
            assert!(cert["cert_pem"].as_str().is_some_and(|p| p.starts_with("-----BEGIN CERTIFICATE-----")));
            assert_eq!(cert["key_algorithm"].as_str(), Some(algorithm));
        }
        let p224 = object(&[("algorithm", Value::from("ECDSA"))]);
        let refused = try_apply(&provider, "tls_private_key", p224).await.expect_err("P224 is refused");
        assert!(refused.iter().any(|d| d.detail.contains("P224")), "{refused:?}");
    }
}
