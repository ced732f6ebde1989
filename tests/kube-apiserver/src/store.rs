//! The object store: every object by resource type, namespace and name; one cluster-wide
//! resourceVersion; the history of changes that watches replay; and the write rules of the API
//! (uid, generation, timestamps, validation, finalizers, garbage collection, status).

use crate::catalog::{self, ResourceType};
use crate::fields::{Fields, Shape};
use crate::status::ApiError;
use crate::{defaults, quantity, schema, typed, validation};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Where an object lives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// API group.
    pub group: String,
    /// Plural resource name.
    pub plural: String,
    /// Namespace (empty for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// One change, as a watch sends it.
#[derive(Clone, Debug)]
pub struct Event {
    /// The resourceVersion it made.
    pub rv: u64,
    /// Its object's key.
    pub key: Key,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    /// The object after the change (before, for DELETED).
    pub object: Value,
}

/// How many events watches can replay.
pub const HISTORY: usize = 10_000;

/// The state behind the lock.
pub struct Store {
    /// Known resource types (built in, and from established CRDs).
    pub types: Vec<ResourceType>,
    /// Objects.
    pub objects: BTreeMap<Key, Value>,
    /// The last resourceVersion given.
    pub rv: u64,
    /// Recent events, oldest first.
    pub history: VecDeque<Arc<Event>>,
    /// Where events go.
    pub events: broadcast::Sender<Arc<Event>>,
    /// How many events are kept for watches.
    pub history_limit: usize,
    /// Next ClusterIP to give out.
    next_ip: u32,
    /// Next NodePort to give out.
    next_node_port: u32,
    /// The request's `fieldValidation` (`Strict`, `Warn`, `Ignore`; absent is `Warn`).
    pub field_validation: Option<String>,
    /// Warnings for the request's `Warning` headers (unknown fields, by `Warn`).
    pub warnings: Vec<String>,
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Store {
    /// A store with the namespaces every cluster has.
    pub fn new() -> Store {
        let (events, _) = broadcast::channel(65_536);
        let mut store = Store {
            types: catalog::builtins(),
            objects: BTreeMap::new(),
            rv: 0,
            history: VecDeque::new(),
            events,
            history_limit: HISTORY,
            next_ip: 10,
            next_node_port: 0,
            field_validation: None,
            warnings: Vec::new(),
        };
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            let rtype = store.find("", "namespaces").cloned();
            if let Some(rtype) = rtype {
                let _ = store.create(&rtype, "", namespace, "kube-apiserver", false);
            }
        }
        store
    }

    /// A resource type by group and plural (any served version).
    pub fn find(&self, group: &str, plural: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.group == group && t.plural == plural)
    }

    /// A resource type by group, version and plural.
    pub fn find_version(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// A resource type by apiVersion and kind.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        self.types.iter().find(|t| t.api_version() == api_version && t.kind == kind)
    }

    fn record(&mut self, key: Key, kind: &'static str, object: Value) -> u64 {
        let event = Arc::new(Event { rv: self.rv, key, kind, object });
        self.history.push_back(event.clone());
        while self.history.len() > self.history_limit {
            self.history.pop_front();
        }
        let _ = self.events.send(event);
        self.rv
    }

    fn key(rtype: &ResourceType, namespace: &str, name: &str) -> Key {
        Key {
            group: rtype.group.clone(),
            plural: rtype.plural.clone(),
            namespace: if rtype.namespaced { namespace.to_string() } else { String::new() },
            name: name.to_string(),
        }
    }

    /// An object.
    pub fn get(&self, rtype: &ResourceType, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&Store::key(rtype, namespace, name))
            .map(|object| with_version(object.clone(), rtype))
            .ok_or_else(|| ApiError::not_found(&rtype.group, &rtype.plural, name))
    }

    /// Objects of a type, in one namespace or all.
    pub fn list(&self, rtype: &ResourceType, namespace: Option<&str>) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|(key, _)| key.group == rtype.group && key.plural == rtype.plural)
            .filter(|(key, _)| namespace.is_none_or(|ns| !rtype.namespaced || key.namespace == ns))
            .map(|(_, object)| with_version(object.clone(), rtype))
            .collect()
    }

    fn check_namespace(&self, rtype: &ResourceType, namespace: &str) -> Result<(), ApiError> {
        if !rtype.namespaced {
            return Ok(());
        }
        let key =
            Key { group: String::new(), plural: "namespaces".into(), namespace: String::new(), name: namespace.into() };
        match self.objects.get(&key) {
            None => Err(ApiError::not_found("", "namespaces", namespace)),
            Some(ns) if ns["metadata"]["deletionTimestamp"].is_string() => Err(ApiError::forbidden(format!(
                "{} \"{}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                rtype.plural, namespace
            ))),
            Some(_) => Ok(()),
        }
    }

    /// Creates an object. `manager` owns every field it sets.
    pub fn create(
        &mut self,
        rtype: &ResourceType,
        namespace: &str,
        mut object: Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        check_type(rtype, &mut object)?;
        // Decoding comes first: a body that does not decode is refused before anything else.
        self.prune(rtype, &mut object, false)?;
        if !object["metadata"].is_object() {
            object["metadata"] = json!({});
        }
        if rtype.namespaced {
            match object["metadata"]["namespace"].as_str() {
                Some(ns) if ns != namespace => {
                    return Err(ApiError::bad_request(format!(
                        "the namespace of the provided object does not match the namespace sent on the request ({ns} != {namespace})"
                    )));
                }
                _ => object["metadata"]["namespace"] = json!(namespace),
            }
        }
        if object["metadata"]["name"].as_str().is_none_or(str::is_empty)
            && let Some(prefix) = object["metadata"]["generateName"].as_str()
        {
            let suffix: String = (0..5).map(|_| (b'a' + rand::random::<u8>() % 26) as char).collect();
            object["metadata"]["name"] = json!(format!("{prefix}{suffix}"));
        }
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        if let Some(cause) = validation::name(&rtype.kind, &name) {
            return Err(ApiError::invalid(&rtype.kind, &name, vec![cause]));
        }
        self.check_namespace(rtype, namespace)?;
        let key = Store::key(rtype, namespace, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(&rtype.group, &rtype.plural, &name));
        }
        let meta = &mut object["metadata"];
        meta["uid"] = json!(uuid::Uuid::new_v4().to_string());
        meta["creationTimestamp"] = json!(now());
        meta["generation"] = json!(1);
        if let Some(map) = meta.as_object_mut() {
            map.remove("resourceVersion");
            map.remove("deletionTimestamp");
        }
        if rtype.kind == "Namespace" && rtype.group.is_empty() {
            object["spec"] = json!({"finalizers": ["kubernetes"]});
            object["status"] = json!({"phase": "Active"});
            object["metadata"]["labels"]["kubernetes.io/metadata.name"] = object["metadata"]["name"].clone();
        }
        self.admit(rtype, None, &mut object)?;
        // Kinds without a status subresource keep what was sent.
        // (A built-in type's status always serializes; a custom resource has none until set.)
        if rtype.status && rtype.crd.is_none() && object.get("status").is_none() {
            object["status"] = json!({});
        }
        let schema = self.crd_schema(rtype);
        let owned = Fields::of_object(&object, false, shape(rtype, schema.as_ref()));
        set_managers(&mut object, vec![Manager::update(manager, &rtype.api_version(), owned)]);
        if dry_run {
            return Ok(with_version(object, rtype));
        }
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects.insert(key.clone(), object.clone());
        self.record(key, "ADDED", object.clone());
        if rtype.kind == "CustomResourceDefinition" {
            self.register_crd(&object);
        }
        Ok(with_version(object, rtype))
    }

    /// Stores an object made by a dry-run create whose managedFields the caller set (apply).
    pub fn create_with_managers(
        &mut self,
        rtype: &ResourceType,
        namespace: &str,
        mut object: Value,
    ) -> Result<Value, ApiError> {
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let key = Store::key(rtype, namespace, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(&rtype.group, &rtype.plural, &name));
        }
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects.insert(key.clone(), object.clone());
        self.record(key, "ADDED", object.clone());
        if rtype.kind == "CustomResourceDefinition" {
            self.register_crd(&object);
        }
        Ok(with_version(object, rtype))
    }

    /// The `openAPIV3Schema` of a custom resource type's version, from its CRD.
    pub fn crd_schema(&self, rtype: &ResourceType) -> Option<Value> {
        let crd = rtype.crd.as_ref()?;
        let key = Key {
            group: "apiextensions.k8s.io".into(),
            plural: "customresourcedefinitions".into(),
            namespace: String::new(),
            name: crd.clone(),
        };
        let versions = self.objects.get(&key)?["spec"]["versions"].as_array()?;
        let version = versions.iter().find(|v| v["name"] == rtype.version.as_str())?;
        let schema = version["schema"]["openAPIV3Schema"].clone();
        schema.is_object().then_some(schema)
    }

    /// Prunes the fields a custom resource's schema (or a built-in kind's type) does not
    /// declare, and canonicalizes a built-in object's quantities, by the request's
    /// `fieldValidation`: `Strict` refuses them (400, in the words of the request's kind —
    /// `apply` for server-side apply), `Warn` (the default) keeps a warning, `Ignore` is silent.
    pub fn prune(&mut self, rtype: &ResourceType, object: &mut Value, apply: bool) -> Result<(), ApiError> {
        let pruned = match self.crd_schema(rtype) {
            Some(schema) => schema::prune(object, &schema),
            None if rtype.crd.is_some() => return Ok(()),
            None => {
                quantity::canonicalize(object);
                typed::prune(&rtype.group, &rtype.kind, object).map_err(|error| {
                    ApiError::bad_request(format!(
                        "{kind} in version \"{}\" cannot be handled as a {kind}: {error}",
                        rtype.version,
                        kind = rtype.kind
                    ))
                })?
            }
        };
        if pruned.is_empty() {
            return Ok(());
        }
        match self.field_validation.as_deref() {
            Some("Strict") if apply => {
                let name = object["metadata"]["name"].as_str().unwrap_or_default();
                let namespace = object["metadata"]["namespace"].as_str().map(|n| format!("{n}/")).unwrap_or_default();
                let fields: Vec<String> = pruned.iter().map(|p| format!("{p}: field not declared in schema")).collect();
                Err(ApiError::bad_request(format!(
                    "failed to create typed patch object ({}, Kind={}) {namespace}{name}: {}",
                    rtype.api_version(),
                    rtype.kind,
                    fields.join(", ")
                )))
            }
            Some("Strict") => {
                let fields: Vec<String> =
                    pruned.iter().map(|p| format!("unknown field \"{}\"", p.trim_start_matches('.'))).collect();
                Err(ApiError::bad_request(format!("strict decoding error: {}", fields.join(", "))))
            }
            Some("Ignore") => Ok(()),
            _ => {
                self.warnings.extend(pruned.iter().map(|p| format!("unknown field \"{}\"", p.trim_start_matches('.'))));
                Ok(())
            }
        }
    }

    /// What every write goes through, once decoded and pruned ([`Store::prune`]), before it is
    /// stored (or answered, in a dry run): defaulting, allocation and validation of built-in
    /// kinds; schema defaults and schema validation of custom resources. `old` is the stored
    /// object on updates.
    fn admit(&mut self, rtype: &ResourceType, old: Option<&Value>, object: &mut Value) -> Result<(), ApiError> {
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        if rtype.crd.is_some() {
            let Some(schema) = self.crd_schema(rtype) else { return Ok(()) };
            schema::default(object, &schema);
            let causes = schema::validate(object, &schema);
            return if causes.is_empty() { Ok(()) } else { Err(ApiError::invalid(&rtype.kind, &name, causes)) };
        }
        if rtype.kind == "Secret" {
            fold_string_data(object);
        }
        defaults::builtin(&rtype.group, &rtype.kind, object);
        match (rtype.group.as_str(), rtype.kind.as_str()) {
            ("", "Service") => self.allocate(old, object),
            ("batch", "Job") if old.is_none() => generate_selector(object),
            _ => {}
        }
        let causes = validation::builtin(&rtype.group, &rtype.kind, old, object);
        if causes.is_empty() { Ok(()) } else { Err(ApiError::invalid(&rtype.kind, &name, causes)) }
    }

    /// A Service's cluster IP, IP families and node ports: kept from the stored object when an
    /// update leaves them out, allocated when new.
    fn allocate(&mut self, old: Option<&Value>, object: &mut Value) {
        let spec = &mut object["spec"];
        let kind = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
        if kind == "ExternalName" {
            return;
        }
        if let Some(old) = old {
            for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
                if spec[field].is_null() && !old["spec"][field].is_null() {
                    spec[field] = old["spec"][field].clone();
                }
            }
        }
        if spec["clusterIP"].is_null() {
            self.next_ip += 1;
            spec["clusterIP"] = json!(format!("10.96.{}.{}", self.next_ip / 250, self.next_ip % 250 + 1));
        }
        if spec["clusterIPs"].is_null() {
            spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
        }
        if spec["ipFamilies"].is_null() {
            spec["ipFamilies"] = json!(["IPv4"]);
        }
        if spec["ipFamilyPolicy"].is_null() {
            spec["ipFamilyPolicy"] = json!("SingleStack");
        }
        if matches!(kind.as_str(), "NodePort" | "LoadBalancer") {
            let old_ports = old.and_then(|o| o["spec"]["ports"].as_array().cloned()).unwrap_or_default();
            for port in spec["ports"].as_array_mut().into_iter().flatten() {
                if port["nodePort"].is_null() {
                    let kept =
                        old_ports.iter().find(|p| p["port"] == port["port"] && p["protocol"] == port["protocol"]);
                    port["nodePort"] = match kept.map(|p| p["nodePort"].clone()).filter(|n| !n.is_null()) {
                        Some(node_port) => node_port,
                        None => {
                            self.next_node_port += 1;
                            json!(30000 + self.next_node_port % 2768)
                        }
                    };
                }
            }
        }
    }

    /// Replaces an object (PUT, and the result of a patch): resourceVersion precondition,
    /// generation, status rules, finalizer-driven deletion. `subresource` is `"status"` for
    /// `/status` writes, which change only status.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        rtype: &ResourceType,
        namespace: &str,
        name: &str,
        mut object: Value,
        manager: Option<(&str, bool)>,
        subresource: Option<&str>,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        check_type(rtype, &mut object)?;
        let key = Store::key(rtype, namespace, name);
        let old =
            self.objects.get(&key).cloned().ok_or_else(|| ApiError::not_found(&rtype.group, &rtype.plural, name))?;
        if let Some(sent) = object["metadata"]["resourceVersion"].as_str()
            && sent != old["metadata"]["resourceVersion"].as_str().unwrap_or_default()
        {
            return Err(ApiError::conflict(
                &rtype.group,
                &rtype.plural,
                name,
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    if rtype.group.is_empty() {
                        rtype.plural.clone()
                    } else {
                        format!("{}.{}", rtype.plural, rtype.group)
                    }
                ),
                Value::Null,
            ));
        }
        if object["metadata"]["name"].as_str().is_some_and(|n| n != name) {
            return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
        }
        // Identity and server-set metadata stay.
        for field in ["uid", "creationTimestamp", "generation", "namespace", "name", "deletionTimestamp"] {
            if old["metadata"].get(field).is_some() {
                object["metadata"][field] = old["metadata"][field].clone();
            }
        }
        if subresource == Some("status") {
            let mut updated = old.clone();
            updated["status"] = object.get("status").cloned().unwrap_or(json!({}));
            object = updated;
        } else if rtype.status {
            match old.get("status") {
                Some(status) => object["status"] = status.clone(),
                None => {
                    if let Some(map) = object.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
        }
        if subresource != Some("status") {
            self.prune(rtype, &mut object, false)?;
            self.admit(rtype, Some(&old), &mut object)?;
        }
        if spec_of(&object) != spec_of(&old) {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
            object["metadata"]["generation"] = json!(generation + 1);
        }
        if let Some((manager, apply)) = manager
            && !apply
        {
            let schema = self.crd_schema(rtype);
            let shape = shape(rtype, schema.as_ref());
            take_changed_fields(&old, &mut object, manager, &rtype.api_version(), subresource, shape);
        }
        if dry_run {
            object["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
            return Ok(with_version(object, rtype));
        }
        let deleting = object["metadata"]["deletionTimestamp"].is_string();
        let finalizers_left = object["metadata"]["finalizers"].as_array().is_some_and(|f| !f.is_empty());
        if deleting && !finalizers_left && rtype.kind != "Namespace" {
            self.rv += 1;
            object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
            self.remove_now(rtype, &key, object.clone());
            return Ok(with_version(object, rtype));
        }
        object["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        if object == old {
            return Ok(with_version(object, rtype));
        }
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects.insert(key.clone(), object.clone());
        self.record(key, "MODIFIED", object.clone());
        Ok(with_version(object, rtype))
    }

    fn remove_now(&mut self, rtype: &ResourceType, key: &Key, object: Value) {
        self.objects.remove(key);
        self.record(key.clone(), "DELETED", object.clone());
        if rtype.kind == "CustomResourceDefinition" {
            self.unregister_crd(&object);
        }
        // Background garbage collection of dependents.
        if let Some(uid) = object["metadata"]["uid"].as_str() {
            let uid = uid.to_string();
            self.collect_dependents(&uid, "Background");
        }
    }

    fn dependents(&self, uid: &str) -> Vec<Key> {
        self.objects
            .iter()
            .filter(|(_, o)| {
                o["metadata"]["ownerReferences"].as_array().is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn collect_dependents(&mut self, uid: &str, policy: &str) {
        for key in self.dependents(uid) {
            let Some(rtype) = self.find(&key.group, &key.plural).cloned() else { continue };
            if policy == "Orphan" {
                if let Some(mut object) = self.objects.get(&key).cloned() {
                    if let Some(refs) = object["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"] != uid);
                    }
                    self.rv += 1;
                    object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
                    self.objects.insert(key.clone(), object.clone());
                    self.record(key, "MODIFIED", object);
                }
            } else {
                let _ = self.delete(&rtype, &key.namespace, &key.name, "Background", false);
            }
        }
    }

    /// Deletes an object: with finalizers it only gets a deletionTimestamp; dependents are
    /// collected by `policy` (Background, Foreground, Orphan); a namespace becomes Terminating
    /// and its objects go.
    pub fn delete(
        &mut self,
        rtype: &ResourceType,
        namespace: &str,
        name: &str,
        policy: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let key = Store::key(rtype, namespace, name);
        let mut object =
            self.objects.get(&key).cloned().ok_or_else(|| ApiError::not_found(&rtype.group, &rtype.plural, name))?;
        if dry_run {
            return Ok(with_version(object, rtype));
        }
        let uid = object["metadata"]["uid"].as_str().unwrap_or_default().to_string();
        if rtype.kind == "Namespace" {
            if object["metadata"]["deletionTimestamp"].is_null() {
                object["metadata"]["deletionTimestamp"] = json!(now());
                object["status"]["phase"] = json!("Terminating");
                self.rv += 1;
                object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
                self.objects.insert(key.clone(), object.clone());
                self.record(key, "MODIFIED", object.clone());
            }
            return Ok(with_version(object, rtype));
        }
        let has_finalizers = object["metadata"]["finalizers"].as_array().is_some_and(|f| !f.is_empty());
        if policy == "Foreground" {
            self.collect_dependents(&uid, "Foreground");
        }
        if policy == "Orphan" {
            self.collect_dependents(&uid, "Orphan");
        }
        if has_finalizers {
            if object["metadata"]["deletionTimestamp"].is_null() {
                object["metadata"]["deletionTimestamp"] = json!(now());
                object["metadata"]["deletionGracePeriodSeconds"] = json!(0);
                self.rv += 1;
                object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
                self.objects.insert(key.clone(), object.clone());
                self.record(key, "MODIFIED", object.clone());
            }
            return Ok(with_version(object, rtype));
        }
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects.remove(&key);
        self.record(key, "DELETED", object.clone());
        if rtype.kind == "CustomResourceDefinition" {
            self.unregister_crd(&object);
        }
        if policy != "Orphan" {
            self.collect_dependents(&uid, "Background");
        }
        Ok(with_version(object, rtype))
    }

    /// Finishes terminating namespaces: their objects are deleted; a namespace whose objects
    /// are all gone is removed. Returns whether any namespace is still terminating.
    pub fn sweep_namespaces(&mut self) -> bool {
        let terminating: Vec<Key> = self
            .objects
            .iter()
            .filter(|(k, o)| {
                k.plural == "namespaces" && k.group.is_empty() && o["metadata"]["deletionTimestamp"].is_string()
            })
            .map(|(k, _)| k.clone())
            .collect();
        let mut pending = false;
        for ns_key in terminating {
            let members: Vec<Key> = self.objects.keys().filter(|k| k.namespace == ns_key.name).cloned().collect();
            for key in &members {
                if let Some(rtype) = self.find(&key.group, &key.plural).cloned() {
                    let _ = self.delete(&rtype, &key.namespace, &key.name, "Background", false);
                }
            }
            if self.objects.keys().any(|k| k.namespace == ns_key.name) {
                pending = true;
                continue;
            }
            if let Some(mut object) = self.objects.remove(&ns_key) {
                self.rv += 1;
                object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
                self.record(ns_key, "DELETED", object);
            }
        }
        pending
    }

    fn register_crd(&mut self, crd: &Value) {
        for rtype in catalog::from_crd(crd) {
            if !self.types.contains(&rtype) {
                self.types.push(rtype);
            }
        }
    }

    fn unregister_crd(&mut self, crd: &Value) {
        let Some(name) = crd["metadata"]["name"].as_str() else { return };
        let gone: Vec<ResourceType> = self.types.iter().filter(|t| t.crd.as_deref() == Some(name)).cloned().collect();
        self.types.retain(|t| t.crd.as_deref() != Some(name));
        for rtype in gone {
            let keys: Vec<Key> =
                self.objects.keys().filter(|k| k.group == rtype.group && k.plural == rtype.plural).cloned().collect();
            for key in keys {
                if let Some(object) = self.objects.remove(&key) {
                    self.rv += 1;
                    self.record(key, "DELETED", object);
                }
            }
        }
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// The object with its type's apiVersion and kind set (objects are stored with them).
pub fn with_version(mut object: Value, rtype: &ResourceType) -> Value {
    object["apiVersion"] = json!(rtype.api_version());
    object["kind"] = json!(rtype.kind);
    object
}

fn check_type(rtype: &ResourceType, object: &mut Value) -> Result<(), ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    if let Some(kind) = object["kind"].as_str()
        && kind != rtype.kind
    {
        return Err(ApiError::bad_request(format!("the kind `{kind}` does not match the resource `{}`", rtype.plural)));
    }
    if let Some(version) = object["apiVersion"].as_str()
        && version != rtype.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the apiVersion `{version}` does not match the resource's `{}`",
            rtype.api_version()
        )));
    }
    object["apiVersion"] = json!(rtype.api_version());
    object["kind"] = json!(rtype.kind);
    Ok(())
}

/// How the fields of a type merge: by its CRD's schema, or the built-in markers.
pub fn shape<'a>(rtype: &ResourceType, schema: Option<&'a Value>) -> Shape<'a> {
    if rtype.crd.is_some() { Shape::custom(schema) } else { Shape::builtin() }
}

/// A Job's selector and pod labels by its uid, as the API server generates them when
/// `manualSelector` is not set.
fn generate_selector(object: &mut Value) {
    if object["spec"]["manualSelector"] == true || !object["spec"]["selector"].is_null() {
        return;
    }
    let uid = object["metadata"]["uid"].clone();
    let name = object["metadata"]["name"].clone();
    object["spec"]["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    let labels = &mut object["spec"]["template"]["metadata"]["labels"];
    for (key, value) in [
        ("batch.kubernetes.io/controller-uid", &uid),
        ("batch.kubernetes.io/job-name", &name),
        ("controller-uid", &uid),
        ("job-name", &name),
    ] {
        labels[key] = value.clone();
    }
}

/// A Secret's `stringData` written into `data` (base64), as the API server stores it.
fn fold_string_data(object: &mut Value) {
    use base64::Engine as _;
    let Some(strings) = object.as_object_mut().and_then(|map| map.remove("stringData")) else { return };
    for (key, value) in strings.as_object().into_iter().flatten() {
        object["data"][key] =
            json!(base64::engine::general_purpose::STANDARD.encode(value.as_str().unwrap_or_default()));
    }
}

/// Everything but metadata and status: a change to it bumps the generation.
fn spec_of(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    copy
}

/// A managedFields entry.
#[derive(Clone, Debug)]
pub struct Manager {
    /// Its name.
    pub name: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// apiVersion of the fields.
    pub api_version: String,
    /// `status` for a status subresource entry.
    pub subresource: Option<String>,
    /// The fields it owns.
    pub fields: Fields,
    /// When it last wrote.
    pub time: String,
}

impl Manager {
    /// An Update entry.
    pub fn update(name: &str, api_version: &str, fields: Fields) -> Manager {
        Manager {
            name: name.to_string(),
            operation: "Update".into(),
            api_version: api_version.into(),
            subresource: None,
            fields,
            time: now(),
        }
    }

    /// An Apply entry.
    pub fn apply(name: &str, api_version: &str, fields: Fields) -> Manager {
        Manager { operation: "Apply".into(), ..Manager::update(name, api_version, fields) }
    }
}

/// The managedFields of an object.
pub fn managers(object: &Value) -> Vec<Manager> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| Manager {
                    name: e["manager"].as_str().unwrap_or_default().into(),
                    operation: e["operation"].as_str().unwrap_or("Update").into(),
                    api_version: e["apiVersion"].as_str().unwrap_or_default().into(),
                    subresource: e["subresource"].as_str().map(str::to_string),
                    fields: Fields::from_json(&e["fieldsV1"]),
                    time: e["time"].as_str().unwrap_or_default().into(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Sets managedFields (entries owning nothing are dropped).
pub fn set_managers(object: &mut Value, entries: Vec<Manager>) {
    let entries: Vec<Value> = entries
        .into_iter()
        .filter(|m| !m.fields.is_empty())
        .map(|m| {
            let mut entry = json!({
                "manager": m.name,
                "operation": m.operation,
                "apiVersion": m.api_version,
                "time": m.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": m.fields.to_json(),
            });
            if let Some(subresource) = m.subresource {
                entry["subresource"] = json!(subresource);
            }
            entry
        })
        .collect();
    object["metadata"]["managedFields"] = Value::Array(entries);
}

/// An Update by `manager`: it takes the fields whose values it changed from everyone else.
fn take_changed_fields(
    old: &Value,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    subresource: Option<&str>,
    shape: Shape,
) {
    let status = subresource == Some("status");
    let changed: Vec<Vec<String>> = Fields::of_object(new, status, shape)
        .leaves()
        .into_iter()
        .filter(|path| crate::fields::get(old, path) != crate::fields::get(new, path))
        .collect();
    let mut entries = managers(old);
    if changed.is_empty() {
        set_managers(new, entries);
        return;
    }
    for entry in &mut entries {
        for path in &changed {
            entry.fields.remove(path);
        }
    }
    let position = entries
        .iter()
        .position(|e| e.name == manager && e.operation == "Update" && e.subresource.as_deref() == subresource);
    let entry = match position {
        Some(position) => &mut entries[position],
        None => {
            let mut entry = Manager::update(manager, api_version, Fields::default());
            entry.subresource = subresource.map(str::to_string);
            entries.push(entry);
            let last = entries.len() - 1;
            &mut entries[last]
        }
    };
    for path in &changed {
        entry.fields.insert(path);
    }
    entry.time = now();
    set_managers(new, entries);
}
