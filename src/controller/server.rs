//! The controller's HTTP server: `/healthz`, `/readyz` (ready once every stack was loaded
//! once), `/metrics`, `/stacks` (JSON), `/stacks/NAME`, `POST /stacks/NAME/reconcile`, and
//! the webhooks `/webhooks/github` and `/webhooks/gitlab`.

use super::Controller;
use super::pulls::PullRequest;
use super::reconcile::Trigger;
use super::webhook;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;

/// The routes.
///
/// `/healthz`, `/readyz` and the webhooks (which carry their own signatures) are open; the API
/// (`/stacks…`, saved plans, reconcile requests) needs `Authorization: Bearer TOKEN`, and so
/// does `/metrics` when configured.
pub fn router(controller: Arc<Controller>) -> Router {
    let api = Router::new()
        .route("/stacks", get(stacks))
        .route("/stacks/{name}", get(stack))
        .route("/stacks/{name}/reconcile", post(reconcile))
        .route("/stacks/{name}/plans/{id}", get(saved_plan))
        .route_layer(axum::middleware::from_fn_with_state(controller.clone(), authorized));
    let metrics_route = Router::new().route("/metrics", get(metrics));
    let metrics_route = if controller.config.metrics_require_token {
        metrics_route.route_layer(axum::middleware::from_fn_with_state(controller.clone(), authorized))
    } else {
        metrics_route
    };
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/webhooks/github", post(github))
        .route("/webhooks/gitlab", post(gitlab))
        .merge(api)
        .merge(metrics_route)
        .with_state(controller)
}

/// Lets a request through only with the API's bearer token (compared in constant time).
async fn authorized(
    State(controller): State<Arc<Controller>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(token) = &controller.config.api_token else {
        return (
            StatusCode::UNAUTHORIZED,
            "the API is closed: no API token is configured (controller.api_token, api_token_file or INFRA_API_TOKEN)\n",
        )
            .into_response();
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !webhook::token_valid(token, given) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a valid `Authorization: Bearer TOKEN` header is required\n",
        )
            .into_response();
    }
    next.run(request).await
}

async fn readyz(State(controller): State<Arc<Controller>>) -> Response {
    if controller.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not every stack has been loaded yet\n").into_response()
    }
}

async fn metrics(State(controller): State<Arc<Controller>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        controller.metrics.render(),
    )
        .into_response()
}

async fn stacks(State(controller): State<Arc<Controller>>) -> Response {
    let statuses: Vec<_> = controller.stacks().iter().map(|s| s.status()).collect();
    axum::Json(statuses).into_response()
}

async fn stack(State(controller): State<Arc<Controller>>, Path(name): Path<String>) -> Response {
    match controller.stack(&name) {
        Some(stack) => axum::Json(stack.status()).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no stack `{name}`\n")).into_response(),
    }
}

async fn reconcile(State(controller): State<Arc<Controller>>, Path(name): Path<String>) -> Response {
    match controller.stack(&name) {
        Some(stack) => {
            stack.trigger(Trigger::Manual);
            (StatusCode::ACCEPTED, format!("reconcile of `{name}` requested\n")).into_response()
        }
        None => (StatusCode::NOT_FOUND, format!("no stack `{name}`\n")).into_response(),
    }
}

async fn saved_plan(State(controller): State<Arc<Controller>>, Path((name, id)): Path<(String, String)>) -> Response {
    match controller.plans.get(&name, &id) {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no plan `{id}` of stack `{name}` is kept\n")).into_response(),
    }
}

/// Plans a pull request for the stacks it concerns.
fn plan_pull_request(controller: &Arc<Controller>, request: Option<PullRequest>) -> Response {
    match request {
        Some(request) => {
            let started = super::pulls::start(controller, &request);
            (StatusCode::ACCEPTED, format!("{started} stack(s) to plan for {}\n", request.target)).into_response()
        }
        None => (StatusCode::ACCEPTED, "pull request event ignored (action)\n").into_response(),
    }
}

/// Wakes the stacks a push concerns; the count of stacks woken.
fn wake(controller: &Controller, body: &[u8]) -> usize {
    let (name, reference) = webhook::pushed(body);
    let mut woken = 0;
    for stack in controller.stacks() {
        if webhook::concerns(&stack.spec, name.as_deref(), reference.as_deref()) {
            stack.trigger(Trigger::Webhook);
            woken += 1;
        }
    }
    woken
}

fn refused(why: &str) -> Response {
    tracing::warn!(reason = why, "webhook refused");
    (StatusCode::UNAUTHORIZED, format!("{why}\n")).into_response()
}

async fn github(State(controller): State<Arc<Controller>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &controller.config.webhook_secret else {
        return refused("no webhook secret is configured: webhooks are refused");
    };
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !webhook::github_signature_valid(secret, &body, signature) {
        return refused("the X-Hub-Signature-256 signature is missing or wrong");
    }
    match headers.get("x-github-event").and_then(|v| v.to_str().ok()).unwrap_or("") {
        "ping" => (StatusCode::OK, "pong\n").into_response(),
        "push" => {
            let woken = wake(&controller, &body);
            (StatusCode::ACCEPTED, format!("{woken} stack(s) to reconcile\n")).into_response()
        }
        "pull_request" => {
            let payload = serde_json::from_slice(&body).unwrap_or_default();
            plan_pull_request(&controller, PullRequest::from_github(&payload))
        }
        other => (StatusCode::ACCEPTED, format!("event `{other}` ignored\n")).into_response(),
    }
}

async fn gitlab(State(controller): State<Arc<Controller>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &controller.config.webhook_secret else {
        return refused("no webhook secret is configured: webhooks are refused");
    };
    let token = headers.get("x-gitlab-token").and_then(|v| v.to_str().ok());
    if !webhook::token_valid(secret, token) {
        return refused("the X-Gitlab-Token is missing or wrong");
    }
    match headers.get("x-gitlab-event").and_then(|v| v.to_str().ok()).unwrap_or("") {
        "Push Hook" | "Tag Push Hook" => {
            let woken = wake(&controller, &body);
            (StatusCode::ACCEPTED, format!("{woken} stack(s) to reconcile\n")).into_response()
        }
        "Merge Request Hook" => {
            let payload = serde_json::from_slice(&body).unwrap_or_default();
            plan_pull_request(&controller, PullRequest::from_gitlab(&payload))
        }
        other => (StatusCode::ACCEPTED, format!("event `{other}` ignored\n")).into_response(),
    }
}
