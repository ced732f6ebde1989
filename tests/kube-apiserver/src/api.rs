//! HTTP: authentication, faults, discovery, and the REST verbs on resource paths
//! (`/api/v1/namespaces/NS/PLURAL/NAME[/status]`, `/apis/GROUP/VERSION/...`).

use crate::catalog::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::server::{Faults, Server};
use crate::status::ApiError;
use crate::store::Store;
use crate::{apply, discovery, patch, watch};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The router: everything goes through one handler, which parses the path itself.
pub fn router(server: Arc<Server>) -> Router {
    Router::new().fallback(handle).with_state(server)
}

fn ok(code: StatusCode, value: Value) -> Response {
    (code, [("content-type", "application/json")], value.to_string()).into_response()
}

fn query(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode =
                |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (decode(k), decode(v))
        })
        .collect()
}

async fn handle(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = server.faults.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let path = uri.path().to_string();
    if path == "/_test/faults" {
        return faults(&server, &method, &body);
    }
    if path == "/_test/stats" {
        let mut requests = server.requests.lock().unwrap_or_else(|p| p.into_inner());
        let counts = json!(*requests);
        if method == Method::DELETE {
            requests.clear();
        }
        return ok(StatusCode::OK, counts);
    }
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| token == server.options.token);
    if !authorized {
        return ApiError::unauthorized().into_response();
    }
    if Faults::take(&server.faults.throttle_next) {
        return ApiError::too_many_requests(server.faults.retry_after.load(Ordering::Relaxed)).into_response();
    }
    if Faults::take(&server.faults.fail_next) {
        return ApiError::internal("injected failure").into_response();
    }
    match route(&server, &method, &uri, &headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn faults(server: &Server, method: &Method, body: &Bytes) -> Response {
    let faults = &server.faults;
    if method == Method::POST {
        let Ok(settings) = serde_json::from_slice::<Value>(body) else {
            return ApiError::bad_request("faults: a JSON object").into_response();
        };
        let set = |name: &str, counter: &std::sync::atomic::AtomicU64| {
            if let Some(n) = settings[name].as_u64() {
                counter.store(n, Ordering::SeqCst);
            }
        };
        set("latency_ms", &faults.latency_ms);
        set("fail_next", &faults.fail_next);
        set("throttle_next", &faults.throttle_next);
        set("retry_after", &faults.retry_after);
        if settings["drop_watches"].as_bool() == Some(true) {
            let _ = faults.drop_watches.send(());
        }
    }
    ok(
        StatusCode::OK,
        json!({
            "latency_ms": faults.latency_ms.load(Ordering::SeqCst),
            "fail_next": faults.fail_next.load(Ordering::SeqCst),
            "throttle_next": faults.throttle_next.load(Ordering::SeqCst),
            "retry_after": faults.retry_after.load(Ordering::SeqCst),
        }),
    )
}

/// Where a request points.
struct Target {
    rtype: ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

fn parse_target(server: &Server, segments: &[&str]) -> Result<Option<Target>, ApiError> {
    let (group, version, rest) = match segments {
        ["api", "v1", rest @ ..] if !rest.is_empty() => ("", "v1", rest),
        ["apis", group, version, rest @ ..] if !rest.is_empty() => (*group, *version, rest),
        _ => return Ok(None),
    };
    let (namespace, rest): (Option<String>, &[&str]) = match rest {
        ["namespaces", ns, plural, ..] if !matches!(*plural, "status" | "finalize") => {
            (Some(ns.to_string()), &rest[2..])
        }
        other => (None, other),
    };
    let store = server.store.lock().unwrap_or_else(|p| p.into_inner());
    let Some(plural) = rest.first() else { return Ok(None) };
    let rtype = store
        .find_version(group, version, plural)
        .cloned()
        .ok_or_else(|| ApiError::no_route(&format!("{group}/{version}/{plural}")))?;
    if namespace.is_some() && !rtype.namespaced {
        return Err(ApiError::no_route(plural));
    }
    Ok(Some(Target {
        rtype,
        namespace,
        name: rest.get(1).map(|s| s.to_string()),
        subresource: rest.get(2).map(|s| s.to_string()),
    }))
}

async fn route(
    server: &Arc<Server>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let path = uri.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let discovery_doc = {
        let store = server.store.lock().unwrap_or_else(|p| p.into_inner());
        match segments.as_slice() {
            ["version"] => Some(discovery::version()),
            ["api"] => Some(discovery::core_versions(&server.address)),
            ["api", "v1"] => discovery::resource_list(&store.types, "", "v1"),
            ["apis"] => Some(discovery::group_list(&store.types)),
            ["apis", group] => Some(discovery::group(&store.types, group).ok_or_else(|| ApiError::no_route(path))?),
            ["apis", group, version] => {
                Some(discovery::resource_list(&store.types, group, version).ok_or_else(|| ApiError::no_route(path))?)
            }
            ["openapi", "v2"] => Some(discovery::openapi_v2()),
            ["openapi", "v3"] => Some(discovery::openapi_v3(&store.types)),
            ["openapi", "v3", "api", "v1"] => discovery::openapi_v3_group_version(&store.types, "", "v1"),
            ["openapi", "v3", "apis", group, version] => Some(
                discovery::openapi_v3_group_version(&store.types, group, version)
                    .ok_or_else(|| ApiError::no_route(path))?,
            ),
            ["healthz"] | ["readyz"] | ["livez"] => return Ok((StatusCode::OK, "ok").into_response()),
            _ => None,
        }
    };
    if let Some(document) = discovery_doc {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed(method.as_str()));
        }
        return Ok(ok(StatusCode::OK, document));
    }
    let target = parse_target(server, &segments)?.ok_or_else(|| ApiError::no_route(path))?;
    let params = query(uri);
    let dry_run = params.get("dryRun").is_some_and(|v| v == "All");
    let manager = params.get("fieldManager").cloned().unwrap_or_else(|| {
        headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .and_then(|ua| ua.split('/').next())
            .unwrap_or("unknown")
            .to_string()
    });
    let content_type =
        headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/json").to_string();
    let table = headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("as=Table"));
    let rtype = target.rtype.clone();
    let namespace = target.namespace.clone().unwrap_or_default();
    let verb = match (method, &target.name) {
        (&Method::GET, None) if params.get("watch").is_some_and(|w| w == "1" || w == "true") => "watch",
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, _) => "delete",
        _ => "other",
    };
    server.count(verb);
    match (method.clone(), target.name.clone(), target.subresource.clone()) {
        (Method::GET | Method::PUT | Method::PATCH, Some(name), Some(sub)) if sub == "scale" => {
            check_subresource(&rtype, Some(&sub))?;
            let mut store = writer(server, &params);
            let scaled =
                scale(&mut store, &rtype, &namespace, &name, method.clone(), &content_type, &body, &manager, dry_run)?;
            Ok(warned(ok(StatusCode::OK, scaled), &mut store))
        }
        (Method::GET, None, None) => {
            if params.get("watch").is_some_and(|w| w == "1" || w == "true") {
                return watch_response(server, &target, &params);
            }
            list(server, &target, &params, table)
        }
        (Method::GET, Some(name), sub) => {
            check_subresource(&rtype, sub.as_deref())?;
            let store = server.store.lock().unwrap_or_else(|p| p.into_inner());
            let object = store.get(&rtype, &namespace, &name)?;
            Ok(ok(StatusCode::OK, if table { to_table(&[object], &rtype.columns) } else { object }))
        }
        (Method::POST, None, None) => {
            let object = decode(&body, &content_type)?;
            let mut store = writer(server, &params);
            let created = store.create(&rtype, &namespace, object, &manager, dry_run)?;
            Ok(warned(ok(StatusCode::CREATED, created), &mut store))
        }
        (Method::PUT, Some(name), sub) => {
            check_subresource(&rtype, sub.as_deref())?;
            let object = decode(&body, &content_type)?;
            let mut store = writer(server, &params);
            let updated =
                store.update(&rtype, &namespace, &name, object, Some((&manager, false)), sub.as_deref(), dry_run)?;
            Ok(warned(ok(StatusCode::OK, updated), &mut store))
        }
        (Method::PATCH, Some(name), sub) => {
            check_subresource(&rtype, sub.as_deref())?;
            patch_object(
                server,
                &rtype,
                &namespace,
                &name,
                sub.as_deref(),
                &content_type,
                &body,
                &manager,
                &params,
                dry_run,
            )
        }
        (Method::DELETE, Some(name), None) => {
            let options: Value =
                if body.is_empty() { json!({}) } else { serde_json::from_slice(&body).unwrap_or(json!({})) };
            let policy = options["propagationPolicy"]
                .as_str()
                .map(str::to_string)
                .or_else(|| params.get("propagationPolicy").cloned())
                .or_else(|| (options["orphanDependents"] == true).then(|| "Orphan".to_string()))
                .unwrap_or_else(|| "Background".into());
            let mut store = server.store.lock().unwrap_or_else(|p| p.into_inner());
            let deleted = store.delete(&rtype, &namespace, &name, &policy, dry_run)?;
            Ok(ok(StatusCode::OK, deleted))
        }
        (Method::DELETE, None, None) => {
            let labels = LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))?;
            let mut store = server.store.lock().unwrap_or_else(|p| p.into_inner());
            let victims: Vec<Value> =
                store.list(&rtype, target.namespace.as_deref()).into_iter().filter(|o| labels.matches(o)).collect();
            let mut items = Vec::new();
            for victim in victims {
                let ns = victim["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
                let name = victim["metadata"]["name"].as_str().unwrap_or_default().to_string();
                items.push(store.delete(&rtype, &ns, &name, "Background", dry_run)?);
            }
            Ok(ok(
                StatusCode::OK,
                json!({"kind": format!("{}List", rtype.kind), "apiVersion": rtype.api_version(), "metadata": {}, "items": items}),
            ))
        }
        (method, _, _) => Err(ApiError::method_not_allowed(method.as_str())),
    }
}

/// The store for a write, with the request's `fieldValidation` and no warnings yet.
fn writer<'a>(server: &'a Server, params: &BTreeMap<String, String>) -> std::sync::MutexGuard<'a, Store> {
    let mut store = server.store.lock().unwrap_or_else(|p| p.into_inner());
    store.field_validation = params.get("fieldValidation").cloned();
    store.warnings.clear();
    store
}

/// The write's warnings as `Warning: 299 - "…"` headers (what kubectl prints).
fn warned(mut response: Response, store: &mut Store) -> Response {
    for warning in store.warnings.drain(..) {
        if let Ok(value) = axum::http::HeaderValue::from_str(&format!("299 - {}", json!(warning))) {
            response.headers_mut().append("warning", value);
        }
    }
    store.field_validation = None;
    response
}

/// Kinds with a `/scale` subresource.
pub fn scalable(rtype: &ResourceType) -> bool {
    rtype.group == "apps" && matches!(rtype.kind.as_str(), "Deployment" | "StatefulSet" | "ReplicaSet")
}

/// The `autoscaling/v1` Scale of an object.
fn scale_of(object: &Value) -> Value {
    let meta = &object["metadata"];
    let selector: Vec<String> = object["spec"]["selector"]["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    json!({
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": object["spec"]["replicas"]},
        "status": {"replicas": object["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector.join(",")},
    })
}

/// GET, PUT or PATCH of `/scale`: an Update of `spec.replicas` recorded with subresource
/// `scale` in managedFields (what an autoscaler or `kubectl scale` does).
#[allow(clippy::too_many_arguments)]
fn scale(
    store: &mut Store,
    rtype: &ResourceType,
    namespace: &str,
    name: &str,
    method: Method,
    content_type: &str,
    body: &Bytes,
    manager: &str,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let mut object = store.get(rtype, namespace, name)?;
    let mut scale = scale_of(&object);
    if method == Method::GET {
        return Ok(scale);
    }
    let sent = decode(body, content_type)?;
    match (method, content_type.split(';').next().unwrap_or_default().trim()) {
        (Method::PUT, _) => scale = sent,
        (_, "application/merge-patch+json") => patch::merge_patch(&mut scale, &sent),
        (_, "application/strategic-merge-patch+json") => patch::strategic_merge_patch(&mut scale, &sent, ""),
        (_, "application/json-patch+json") => patch::json_patch(&mut scale, &sent)
            .map_err(|e| ApiError::invalid("Scale", name, vec![("patch".into(), e)]))?,
        (_, other) => return Err(ApiError::unsupported_media_type(other)),
    }
    let Some(replicas) = scale["spec"]["replicas"].as_i64().filter(|r| *r >= 0) else {
        return Err(ApiError::invalid(
            "Scale",
            name,
            vec![(
                "spec.replicas".into(),
                format!("Invalid value: {}: must be greater than or equal to 0", scale["spec"]["replicas"]),
            )],
        ));
    };
    object["spec"]["replicas"] = json!(replicas);
    if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
    }
    let updated = store.update(rtype, namespace, name, object, Some((manager, false)), Some("scale"), dry_run)?;
    Ok(scale_of(&updated))
}

fn check_subresource(rtype: &ResourceType, sub: Option<&str>) -> Result<(), ApiError> {
    match sub {
        None => Ok(()),
        Some("status") if rtype.status => Ok(()),
        Some("scale") if scalable(rtype) => Ok(()),
        Some(other) => Err(ApiError::no_route(&format!("{}/{other}", rtype.plural))),
    }
}

fn decode(body: &Bytes, content_type: &str) -> Result<Value, ApiError> {
    if content_type.contains("protobuf") {
        return crate::protobuf::decode(body).map_err(|_| ApiError::unsupported_media_type(content_type));
    }
    if content_type.contains("yaml") {
        let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
        return serde_saphyr::from_str::<Value>(text).map_err(|e| ApiError::bad_request(format!("invalid YAML: {e}")));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
}

#[allow(clippy::too_many_arguments)]
fn patch_object(
    server: &Server,
    rtype: &ResourceType,
    namespace: &str,
    name: &str,
    sub: Option<&str>,
    content_type: &str,
    body: &Bytes,
    manager: &str,
    params: &BTreeMap<String, String>,
    dry_run: bool,
) -> Result<Response, ApiError> {
    let kind = content_type.split(';').next().unwrap_or_default().trim();
    let patch_body = decode(body, content_type)?;
    let mut store = writer(server, params);
    if kind == "application/apply-patch+yaml" {
        if !params.contains_key("fieldManager") {
            return Err(ApiError::bad_request("PATCH with apply requires a fieldManager"));
        }
        let force = params.get("force").is_some_and(|f| f == "true");
        let existed = store.get(rtype, namespace, name).is_ok();
        let result = apply::apply(&mut store, rtype, namespace, name, patch_body, manager, force, sub, dry_run)?;
        return Ok(warned(ok(if existed { StatusCode::OK } else { StatusCode::CREATED }, result), &mut store));
    }
    let mut object = store.get(rtype, namespace, name)?;
    match kind {
        "application/merge-patch+json" => patch::merge_patch(&mut object, &patch_body),
        "application/strategic-merge-patch+json" => patch::strategic_merge_patch(&mut object, &patch_body, ""),
        "application/json-patch+json" => patch::json_patch(&mut object, &patch_body)
            .map_err(|e| ApiError::invalid(&rtype.kind, name, vec![("patch".into(), e)]))?,
        other => return Err(ApiError::unsupported_media_type(other)),
    }
    // A patch is unconditional unless it carries a resourceVersion of its own.
    if patch_body["metadata"]["resourceVersion"].is_null()
        && let Some(meta) = object["metadata"].as_object_mut()
    {
        meta.remove("resourceVersion");
    }
    let updated = store.update(rtype, namespace, name, object, Some((manager, false)), sub, dry_run)?;
    Ok(warned(ok(StatusCode::OK, updated), &mut store))
}

fn selectors(params: &BTreeMap<String, String>) -> Result<(LabelSelector, FieldSelector), ApiError> {
    Ok((
        LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))?,
        FieldSelector::parse(params.get("fieldSelector").map_or("", String::as_str))?,
    ))
}

fn list(
    server: &Server,
    target: &Target,
    params: &BTreeMap<String, String>,
    table: bool,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(params)?;
    let store = server.store.lock().unwrap_or_else(|p| p.into_inner());
    let mut items: Vec<Value> = store
        .list(&target.rtype, target.namespace.as_deref())
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .collect();
    let position = |o: &Value| {
        format!(
            "{}/{}",
            o["metadata"]["namespace"].as_str().unwrap_or_default(),
            o["metadata"]["name"].as_str().unwrap_or_default()
        )
    };
    if let Some(after) = params.get("continue").filter(|c| !c.is_empty()) {
        items.retain(|o| position(o) > *after);
    }
    let mut metadata = json!({"resourceVersion": store.rv.to_string()});
    if let Some(limit) = params.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0)
        && items.len() > limit
    {
        let remaining = items.len() - limit;
        items.truncate(limit);
        metadata["continue"] = json!(items.last().map(position).unwrap_or_default());
        metadata["remainingItemCount"] = json!(remaining);
    }
    if table {
        let mut document = to_table(&items, &target.rtype.columns);
        document["metadata"] = metadata;
        return Ok(ok(StatusCode::OK, document));
    }
    Ok(ok(
        StatusCode::OK,
        json!({"kind": format!("{}List", target.rtype.kind), "apiVersion": target.rtype.api_version(), "metadata": metadata, "items": items}),
    ))
}

/// A printer column's JSONPath, in the subset CRDs use: `.a.b`, `.a[0]`, and
/// `.a[?(@.key=="value")].b` (the first match).
fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = object;
    let mut rest = path.trim_start_matches('.');
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']')?;
            let selector = &inner[..end];
            rest = inner[end + 1..].trim_start_matches('.');
            if let Some(filter) = selector.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')')) {
                let (key, value) = filter.split_once("==")?;
                let value = value.trim_matches(|c| c == '"' || c == '\'');
                current = current.as_array()?.iter().find(|item| item[key].as_str() == Some(value))?;
            } else {
                current = current.get(selector.parse::<usize>().ok()?)?;
            }
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        current = current.get(&rest[..end])?;
        rest = rest[end..].trim_start_matches('.');
    }
    Some(current)
}

fn age(timestamp: Option<&str>) -> String {
    let now = chrono::Utc::now();
    timestamp
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| {
            let seconds = (now - t.with_timezone(&chrono::Utc)).num_seconds().max(0);
            if seconds < 120 { format!("{seconds}s") } else { format!("{}m", seconds / 60) }
        })
        .unwrap_or_default()
}

/// The server-side printing kubectl asks for: NAME, a CRD's printer columns (else AGE).
fn to_table(items: &[Value], columns: &[(String, String, String)]) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut partial = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"].clone()});
            if let Some(meta) = partial["metadata"].as_object_mut() {
                meta.remove("managedFields");
            }
            let mut cells = vec![o["metadata"]["name"].clone()];
            if columns.is_empty() {
                cells.push(json!(age(o["metadata"]["creationTimestamp"].as_str())));
            }
            for (_, kind, path) in columns {
                let value = json_path(o, path).cloned().unwrap_or(Value::Null);
                cells.push(match (kind.as_str(), &value) {
                    ("date", Value::String(t)) => json!(age(Some(t))),
                    (_, Value::Null) => json!(""),
                    _ => value,
                });
            }
            json!({"cells": cells, "object": partial})
        })
        .collect();
    let mut definitions = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0}),
    ];
    if columns.is_empty() {
        definitions.push(
            json!({"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0}),
        );
    }
    for (name, kind, _) in columns {
        let kind = if kind == "date" { "string" } else { kind.as_str() };
        definitions.push(json!({"name": name, "type": kind, "format": "", "description": "", "priority": 0}));
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

fn watch_response(
    server: &Arc<Server>,
    target: &Target,
    params: &BTreeMap<String, String>,
) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(params)?;
    let request = watch::WatchRequest {
        group: target.rtype.group.clone(),
        plural: target.rtype.plural.clone(),
        namespace: target.namespace.clone(),
        filter: Box::new(move |o| labels.matches(o) && fields.matches(o)),
        since: params.get("resourceVersion").and_then(|v| v.parse().ok()),
        bookmarks: params.get("allowWatchBookmarks").is_some_and(|v| v == "true"),
        timeout: params.get("timeoutSeconds").and_then(|t| t.parse().ok()).map(Duration::from_secs),
        api_version: target.rtype.api_version(),
        kind: target.rtype.kind.clone(),
    };
    let receiver = watch::start(server.clone(), request);
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|line| (Ok::<_, std::convert::Infallible>(Bytes::from(line)), receiver))
    });
    Ok((
        StatusCode::OK,
        [("content-type", "application/json"), ("transfer-encoding", "chunked")],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_column_paths() {
        let object = json!({"status": {"conditions": [{"type": "Stalled", "status": "False"}, {"type": "Ready", "status": "True"}], "list": [7]}});
        assert_eq!(json_path(&object, ".status.conditions[?(@.type==\"Ready\")].status"), Some(&json!("True")));
        assert_eq!(json_path(&object, ".status.list[0]"), Some(&json!(7)));
        assert_eq!(json_path(&object, ".status.missing"), None);
    }
}
