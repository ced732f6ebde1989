//! EC2 errors as diagnostics, and the retry that covers EC2's eventual consistency.
//!
//! EC2 models no error shapes: every failure arrives as an unhandled service error whose
//! `code()` (`InvalidAMIID.NotFound`, `UnauthorizedOperation`, …) and `message()` are read through
//! [`ProvideErrorMetadata`]. Throttling is retried by the SDK's standard retry strategy
//! (exponential backoff with jitter); [`eventually`] adds the retry EC2 needs right after a
//! create, when a new id can still be unknown to the next call.

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use infra_provider::{Diagnostic, Diagnostics};
use rand::Rng;
use std::error::Error as _;
use std::future::Future;
use std::time::Duration;

/// A failed EC2 call: its error code (when the service sent one) and a message.
#[derive(Clone, Debug)]
pub struct AwsError {
    /// The operation (`RunInstances`).
    pub operation: &'static str,
    /// The AWS error code.
    pub code: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// Converts an SDK error, keeping the service's code and message.
pub fn sdk<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |error| match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let message = match inner.message() {
                Some(message) => message.to_string(),
                // No parsable error document: say what came back instead of "unhandled error".
                None => {
                    let raw = service.raw();
                    let body = raw.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
                    let body: String = body.chars().take(300).collect();
                    format!("HTTP {} from the EC2 endpoint: {}", raw.status().as_u16(), body.trim())
                }
            };
            AwsError { operation, code: inner.code().map(str::to_string), message }
        }
        SdkError::DispatchFailure(failure) => AwsError {
            operation,
            code: None,
            message: format!(
                "the EC2 endpoint could not be reached ({})",
                failure
                    .as_connector_error()
                    .and_then(|e| e.source())
                    .map_or_else(|| format!("{failure:?}"), |e| e.to_string())
            ),
        },
        SdkError::TimeoutError(_) => AwsError { operation, code: None, message: "the request timed out".into() },
        other => AwsError {
            operation,
            code: None,
            message: other.source().map_or_else(|| other.to_string(), |source| source.to_string()),
        },
    }
}

impl AwsError {
    /// An error made here (not by the service).
    pub fn local(operation: &'static str, message: impl Into<String>) -> AwsError {
        AwsError { operation, code: None, message: message.into() }
    }

    /// `InvalidInstanceID.NotFound`, `InvalidVpcID.NotFound`, `InvalidGroup.NotFound`, …
    pub fn is_not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|code| code.ends_with("NotFound"))
    }

    /// The diagnostic a user sees: the AWS code and message, and what to check.
    pub fn diagnostic(&self) -> Diagnostic {
        let code = self.code.as_deref().unwrap_or("");
        let detail = if code.is_empty() {
            format!("{} failed: {}.", self.operation, self.message.trim_end_matches('.'))
        } else {
            format!("{} failed: {code}: {}", self.operation, self.message)
        };
        let diagnostic = Diagnostic::error("AWS API error", detail);
        match hint(code, &self.message) {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    }
}

fn hint(code: &str, message: &str) -> Option<String> {
    Some(match code {
        "AuthFailure" | "InvalidClientTokenId" | "UnrecognizedClientException" | "SignatureDoesNotMatch" => {
            "check the AWS credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the provider's `access_key` / `secret_key`".into()
        }
        "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" => {
            "the credentials are valid but not allowed to do this: check the IAM policy".into()
        }
        "InvalidAMIID.NotFound" | "InvalidAMIID.Malformed" | "InvalidAMIID.Unavailable" => {
            "the AMI does not exist in this region or is not shared with this account: check `ami` (an `aws_ami` data source finds one by name)".into()
        }
        "InvalidKeyPair.NotFound" => "the key pair does not exist in this region: check `key_name`".into(),
        "InvalidParameterValue" if message.contains("instance type") => "check `instance_type`".into(),
        "OptInRequired" => "the account is not subscribed to this service or region".into(),
        code if code.ends_with("LimitExceeded") || code == "InsufficientInstanceCapacity" => {
            "an account quota is reached: free resources or request a quota increase in the Service Quotas console".into()
        }
        "" if message.contains("could not be reached") => {
            "check `region`, the `endpoints` block or AWS_ENDPOINT_URL, and the network".into()
        }
        _ => return None,
    })
}

impl From<AwsError> for Diagnostics {
    fn from(error: AwsError) -> Diagnostics {
        error.diagnostic().into()
    }
}

/// How many times [`eventually`] tries.
pub const CONSISTENCY_ATTEMPTS: u32 = 8;

/// Runs `call` until it stops failing with a *NotFound* error: right after a create, EC2 may
/// not yet know the new id in the next call. Any other error returns at once.
pub async fn eventually<T, F, Fut>(call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    retry_while(AwsError::is_not_found, CONSISTENCY_ATTEMPTS, call).await
}

/// Runs `call` while it fails with an error `retry` accepts, at most `attempts` times, with
/// exponential backoff (100 ms doubling, capped at 5 s) and full jitter.
async fn retry_while<T, F, Fut>(retry: impl Fn(&AwsError) -> bool, attempts: u32, mut call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(error) if retry(&error) && attempt + 1 < attempts => {
                attempt += 1;
                tokio::time::sleep(backoff(attempt)).await;
            }
            other => return other,
        }
    }
}

/// The delay before retry `attempt` (1-based): full jitter over an exponential cap.
pub fn backoff(attempt: u32) -> Duration {
    let cap = 100u64.saturating_mul(1 << attempt.min(6)).min(5_000);
    Duration::from_millis(rand::rng().random_range(cap / 2..=cap))
}

/// How long [`while_in_use`] keeps trying a delete.
pub const IN_USE_ATTEMPTS: u32 = 12;

/// Runs a delete until EC2 stops answering *DependencyViolation* / *InvalidGroup.InUse*: the
/// objects that used it (a terminated instance's interface, a detached gateway) take a while
/// to let go. Other errors return at once.
pub async fn while_in_use<T, F, Fut>(call: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let in_use = |error: &AwsError| {
        matches!(error.code.as_deref(), Some("DependencyViolation" | "InvalidGroup.InUse" | "VolumeInUse"))
    };
    retry_while(in_use, IN_USE_ATTEMPTS, call).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_codes_are_recognised() {
        let error = |code: &str| AwsError { operation: "X", code: Some(code.into()), message: String::new() };
        assert!(error("InvalidInstanceID.NotFound").is_not_found());
        assert!(error("InvalidGroup.NotFound").is_not_found());
        assert!(!error("InvalidParameterValue").is_not_found());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_millis(200));
        assert!(backoff(10) <= Duration::from_secs(5));
        assert!(backoff(10) >= Duration::from_millis(2_500));
    }

    #[test]
    fn diagnostics_carry_the_code_and_a_hint() {
        let error = AwsError {
            operation: "RunInstances",
            code: Some("InvalidAMIID.NotFound".into()),
            message: "The image id '[ami-1]' does not exist".into(),
        };
        let diagnostic = error.diagnostic();
        assert!(diagnostic.detail.contains("RunInstances failed: InvalidAMIID.NotFound: The image id"));
        assert!(diagnostic.hints.iter().any(|h| h.contains("aws_ami")), "{:?}", diagnostic.hints);
    }
}
