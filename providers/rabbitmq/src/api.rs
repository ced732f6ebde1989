//! The management HTTP API: every path segment percent-encoded (a hostile name is data, the
//! default vhost `/` is `%2F`), basic auth, and errors as one diagnostic with the broker's
//! reason.

use infra_provider::{Diagnostic, Diagnostics};
use reqwest::{Method, StatusCode};
use serde_json::Value as Json;

/// The API client.
pub struct Api {
    pub(crate) settings: std::sync::Mutex<Settings>,
    http: reqwest::Client,
}

/// Where and who.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `http://host:15672`.
    pub endpoint: String,
    /// The user.
    pub username: String,
    /// Its password.
    pub password: String,
}

/// One path segment, percent-encoded.
pub fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Default for Api {
    fn default() -> Self {
        Api {
            settings: std::sync::Mutex::new(Settings::default()),
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap_or_default(),
        }
    }
}

impl Api {
    /// A call; `Ok(None)` for 404. `what` names it in errors.
    ///
    /// # Errors
    ///
    /// The broker cannot be reached, refuses the credentials, or refuses the request.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
        what: &str,
    ) -> Result<Option<(Json, reqwest::header::HeaderMap)>, Diagnostics> {
        let settings = self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let url = format!("{}/api/{path}", settings.endpoint.trim_end_matches('/'));
        let mut request = self.http.request(method, &url).basic_auth(&settings.username, Some(&settings.password));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| {
            Diagnostics::from(
                Diagnostic::error(
                    "Cannot reach RabbitMQ",
                    format!("{} cannot be reached: {}", settings.endpoint, error.without_url()),
                )
                .with_hint("check the provider's endpoint (the management API, usually port 15672)"),
            )
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let reason = serde_json::from_str::<Json>(&text)
                .ok()
                .and_then(|v| v["reason"].as_str().map(str::to_string))
                .unwrap_or_else(|| status.to_string());
            let hint =
                if status == StatusCode::UNAUTHORIZED { " (check the provider's username and password)" } else { "" };
            return Err(Diagnostic::error(format!("RabbitMQ refused to {what}"), format!("{reason}{hint}")).into());
        }
        let body = if text.is_empty() { Json::Null } else { serde_json::from_str(&text).unwrap_or(Json::Null) };
        Ok(Some((body, headers)))
    }

    /// A GET; `None` for 404.
    ///
    /// # Errors
    ///
    /// As [`Api::call`].
    pub async fn get(&self, path: &str, what: &str) -> Result<Option<Json>, Diagnostics> {
        Ok(self.call(Method::GET, path, None, what).await?.map(|(body, _)| body))
    }

    /// A PUT.
    ///
    /// # Errors
    ///
    /// As [`Api::call`].
    pub async fn put(&self, path: &str, body: &Json, what: &str) -> Result<(), Diagnostics> {
        self.call(Method::PUT, path, Some(body), what).await.map(|_| ())
    }

    /// A DELETE (a missing object is fine).
    ///
    /// # Errors
    ///
    /// As [`Api::call`].
    pub async fn delete(&self, path: &str, what: &str) -> Result<(), Diagnostics> {
        self.call(Method::DELETE, path, None, what).await.map(|_| ())
    }
}
