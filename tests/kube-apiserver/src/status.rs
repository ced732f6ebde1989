//! Errors as `metav1.Status` objects, with the reason and code Kubernetes uses.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// HTTP code.
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, …
    pub reason: &'static str,
    /// What went wrong.
    pub message: String,
    /// `details` (name, group, kind, causes).
    pub details: Value,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, reason, message: message.into(), details: Value::Null, retry_after: None }
    }

    /// 404.
    pub fn not_found(group: &str, plural: &str, name: &str) -> ApiError {
        let what = if group.is_empty() { plural.to_string() } else { format!("{plural}.{group}") };
        ApiError {
            details: json!({"name": name, "group": group, "kind": plural}),
            ..ApiError::new(404, "NotFound", format!("{what} \"{name}\" not found"))
        }
    }

    /// 404 for a path that is not an API.
    pub fn no_route(path: &str) -> ApiError {
        ApiError::new(404, "NotFound", format!("the server could not find the requested resource ({path})"))
    }

    /// 409 on create.
    pub fn already_exists(group: &str, plural: &str, name: &str) -> ApiError {
        let what = if group.is_empty() { plural.to_string() } else { format!("{plural}.{group}") };
        ApiError {
            details: json!({"name": name, "group": group, "kind": plural}),
            ..ApiError::new(409, "AlreadyExists", format!("{what} \"{name}\" already exists"))
        }
    }

    /// 409 for a stale resourceVersion or an apply conflict.
    pub fn conflict(group: &str, plural: &str, name: &str, message: impl Into<String>, causes: Value) -> ApiError {
        let mut details = json!({"name": name, "group": group, "kind": plural});
        if causes.is_array() {
            details["causes"] = causes;
        }
        ApiError { details, ..ApiError::new(409, "Conflict", message) }
    }

    /// 422 with causes.
    pub fn invalid(kind: &str, name: &str, causes: Vec<(String, String)>) -> ApiError {
        let summary: Vec<String> = causes.iter().map(|(field, message)| format!("{field}: {message}")).collect();
        let causes: Vec<Value> = causes
            .into_iter()
            .map(|(field, message)| {
                let reason = match message.split(':').next().unwrap_or_default() {
                    "Required value" => "FieldValueRequired",
                    "Forbidden" => "FieldValueForbidden",
                    "Unsupported value" => "FieldValueNotSupported",
                    "Duplicate value" => "FieldValueDuplicate",
                    "Too long" => "FieldValueTooLong",
                    "Too many" => "FieldValueTooMany",
                    _ => "FieldValueInvalid",
                };
                json!({"reason": reason, "message": message, "field": field})
            })
            .collect();
        ApiError {
            details: json!({"name": name, "kind": kind, "causes": causes}),
            ..ApiError::new(422, "Invalid", format!("{kind} \"{name}\" is invalid: {}", summary.join(", ")))
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// 401.
    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "Forbidden", message)
    }

    /// 410 (a watch from a resourceVersion older than the history kept).
    pub fn gone(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }

    /// 429 with Retry-After.
    pub fn too_many_requests(seconds: u64) -> ApiError {
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                429,
                "TooManyRequests",
                "the server has received too many requests and has asked us to try again later",
            )
        }
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message)
    }

    /// 405.
    pub fn method_not_allowed(method: &str) -> ApiError {
        ApiError::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
    }

    /// 415.
    pub fn unsupported_media_type(content_type: &str) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type})"
            ),
        )
    }

    /// The Status object.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if !self.details.is_null() {
            status["details"] = self.details.clone();
        }
        if let Some(seconds) = self.retry_after {
            status["details"]["retryAfterSeconds"] = json!(seconds);
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (code, [("content-type", "application/json")], self.status().to_string()).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert("retry-after", value);
        }
        response
    }
}
