//! The provider configuration and the EC2 client made from it.
//!
//! Credentials come from the standard AWS chain (environment, shared config and credentials
//! files, profile, SSO, process, instance metadata) unless `access_key` / `secret_key` are
//! set; `assume_role` wraps whichever was found. The `endpoints { ec2 = … }` override and
//! `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_EC2` point the client at a local API (moto,
//! LocalStack). Every HTTP attempt the client makes is counted ([`CallCounter`]).

use crate::object::{self, get};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostic, NestedBlock, Nesting, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The `provider "aws"` block.
pub fn schema() -> BlockSchema {
    let string = || Attribute::optional(AttrType::String);
    let flag = || Attribute::optional(AttrType::Bool);
    BlockSchema::new()
        .attribute("region", string().describe("The region; else AWS_REGION / AWS_DEFAULT_REGION / the profile's."))
        .attribute("profile", string().describe("A profile of the shared config and credentials files."))
        .attribute("access_key", string().sensitive())
        .attribute("secret_key", string().sensitive())
        .attribute("token", string().sensitive())
        .attribute("max_retries", Attribute::optional(AttrType::Number))
        .attribute("shared_config_files", Attribute::optional(AttrType::List(Box::new(AttrType::String))))
        .attribute("shared_credentials_files", Attribute::optional(AttrType::List(Box::new(AttrType::String))))
        // Accepted so that LocalStack-style configurations port unchanged; nothing to skip here.
        .attribute("skip_credentials_validation", flag())
        .attribute("skip_metadata_api_check", flag())
        .attribute("skip_requesting_account_id", flag())
        .attribute("skip_region_validation", flag())
        .block(
            "assume_role",
            NestedBlock {
                nesting: Nesting::Single,
                force_new: false,
                block: BlockSchema::new()
                    .attribute("role_arn", Attribute::required(AttrType::String))
                    .attribute("session_name", string())
                    .attribute("external_id", string()),
            },
        )
        .block(
            "default_tags",
            NestedBlock {
                nesting: Nesting::Single,
                force_new: false,
                block: BlockSchema::new()
                    .attribute("tags", Attribute::optional(AttrType::Map(Box::new(AttrType::String)))),
            },
        )
        .block(
            "endpoints",
            NestedBlock {
                nesting: Nesting::Single,
                force_new: false,
                block: BlockSchema::new().attribute("ec2", string()).attribute("sts", string()),
            },
        )
}

/// Counts the HTTP attempts of a client (retries included).
#[derive(Debug, Default)]
pub struct CallCounter(AtomicU64);

impl CallCounter {
    /// Calls made so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct Counting(Arc<CallCounter>);

impl Intercept for Counting {
    fn name(&self) -> &'static str {
        "infra-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let calls = self.0.0.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(target: "infra::aws", calls, "EC2 API call");
        Ok(())
    }
}

/// A configured EC2 client with the settings every resource needs.
#[derive(Clone, Debug)]
pub struct Ec2 {
    /// The SDK client.
    pub client: aws_sdk_ec2::Client,
    /// `default_tags.tags`, merged under every resource's `tags`.
    pub default_tags: BTreeMap<String, String>,
    /// The region in use.
    pub region: String,
}

/// Builds the client for a provider configuration (`Value::Null`: all from the environment).
///
/// # Errors
///
/// A diagnostic when no region can be found or `assume_role` fails.
pub async fn connect(config: &Value, counter: Arc<CallCounter>) -> Result<Ec2, Diagnostic> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = object::owned(config, "region") {
        loader = loader.region(Region::new(region));
    }
    if let Some(profile) = object::owned(config, "profile") {
        loader = loader.profile_name(profile);
    }
    let files = |name: &str| object::strings(config, name);
    let (config_files, credential_files) = (files("shared_config_files"), files("shared_credentials_files"));
    if !config_files.is_empty() || !credential_files.is_empty() {
        let mut profiles = aws_runtime::env_config::file::EnvConfigFiles::builder();
        for file in config_files {
            profiles = profiles.with_file(aws_runtime::env_config::file::EnvConfigFileKind::Config, file);
        }
        for file in credential_files {
            profiles = profiles.with_file(aws_runtime::env_config::file::EnvConfigFileKind::Credentials, file);
        }
        loader = loader.profile_files(profiles.build());
    }
    match (object::owned(config, "access_key"), object::owned(config, "secret_key")) {
        (Some(access), Some(secret)) => {
            loader = loader.credentials_provider(Credentials::new(
                access,
                secret,
                object::owned(config, "token"),
                None,
                "provider-block",
            ));
        }
        (None, None) => {}
        _ => {
            return Err(Diagnostic::error(
                "Incomplete AWS credentials",
                "`access_key` and `secret_key` must be set together in the `provider \"aws\"` block.",
            ));
        }
    }
    let max_attempts = object::integer(config, "max_retries").map_or(5, |n| n.clamp(0, 25) as u32 + 1);
    loader = loader.retry_config(RetryConfig::standard().with_max_attempts(max_attempts));
    let endpoints = get(config, "endpoints");
    if let Some(endpoint) = object::owned(endpoints, "ec2") {
        loader = loader.endpoint_url(endpoint);
    }
    let mut shared = loader.load().await;
    let Some(region) = shared.region().map(|r| r.to_string()) else {
        return Err(Diagnostic::error("No AWS region", "No region is configured for the AWS provider.")
            .with_hint("set `region` in the `provider \"aws\"` block, or AWS_REGION"));
    };
    let role = get(config, "assume_role");
    if let Some(role_arn) = object::owned(role, "role_arn") {
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name(object::owned(role, "session_name").unwrap_or_else(|| "infra".into()));
        if let Some(external) = object::owned(role, "external_id") {
            builder = builder.external_id(external);
        }
        let provider = builder.configure(&shared).build().await;
        shared = shared
            .into_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
            .build();
    }
    let ec2_config = aws_sdk_ec2::config::Builder::from(&shared).interceptor(Counting(counter)).build();
    Ok(Ec2 {
        client: aws_sdk_ec2::Client::from_conf(ec2_config),
        default_tags: object::string_map(get(config, "default_tags"), "tags"),
        region,
    })
}
