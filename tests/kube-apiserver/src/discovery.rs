//! Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/GROUP[/VERSION]` (legacy discovery
//! documents), and the smallest OpenAPI documents that let kubectl go on.

use crate::catalog::ResourceType;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-infra-test",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions(address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    })
}

/// `/api/v1` or `/apis/GROUP/VERSION`: the resources of one group version, with their
/// `/status` and `/scale` subresources.
pub fn resource_list(types: &[ResourceType], group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for rtype in types.iter().filter(|t| t.group == group && t.version == version) {
        resources.push(rtype.discovery());
        if rtype.status {
            resources.push(json!({
                "name": format!("{}/status", rtype.plural),
                "singularName": "",
                "namespaced": rtype.namespaced,
                "kind": rtype.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        if crate::api::scalable(rtype) {
            resources.push(json!({
                "name": format!("{}/scale", rtype.plural),
                "singularName": "",
                "namespaced": rtype.namespaced,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}))
}

fn groups(types: &[ResourceType]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rtype in types.iter().filter(|t| !t.group.is_empty()) {
        let versions = out.entry(rtype.group.clone()).or_default();
        if !versions.contains(&rtype.version) {
            versions.push(rtype.version.clone());
        }
    }
    out
}

fn group_document(group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions, "preferredVersion": versions[0]})
}

/// `/apis`.
pub fn group_list(types: &[ResourceType]) -> Value {
    let groups: Vec<Value> = groups(types).iter().map(|(g, v)| group_document(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/GROUP`.
pub fn group(types: &[ResourceType], group: &str) -> Option<Value> {
    groups(types).get(group).map(|versions| group_document(group, versions))
}

/// `/openapi/v2`: a valid, empty Swagger document (kubectl only needs one to parse).
pub fn openapi_v2() -> Value {
    json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": {}, "definitions": {}})
}

/// `/openapi/v3`: one document per group version.
pub fn openapi_v3(types: &[ResourceType]) -> Value {
    let mut paths = serde_json::Map::new();
    for rtype in types {
        let prefix = if rtype.group.is_empty() {
            "api/v1".to_string()
        } else {
            format!("apis/{}/{}", rtype.group, rtype.version)
        };
        paths.insert(prefix.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{prefix}?hash=0")}));
    }
    json!({"paths": paths})
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION`: for each kind, the PATCH operation
/// with its group-version-kind and the `fieldValidation` parameter — what kubectl reads to learn
/// that the server validates fields itself (so it needs no schema of its own).
pub fn openapi_v3_group_version(types: &[ResourceType], group: &str, version: &str) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    for rtype in types.iter().filter(|t| t.group == group && t.version == version) {
        let base = if group.is_empty() { "/api/v1".to_string() } else { format!("/apis/{group}/{version}") };
        let path = if rtype.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", rtype.plural)
        } else {
            format!("{base}/{}/{{name}}", rtype.plural)
        };
        let parameters = ["fieldValidation", "fieldManager", "dryRun", "force"]
            .iter()
            .map(|name| json!({"name": name, "in": "query", "schema": {"type": "string"}}))
            .collect::<Vec<_>>();
        paths.insert(
            path,
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": rtype.kind},
                "x-kubernetes-action": "patch",
                "parameters": parameters,
                "responses": {"200": {"description": "OK"}},
            }}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths, "components": {"schemas": {}}}),
    )
}
