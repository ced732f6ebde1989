//! A provider made of resource types that each talk to one client (a database connection, an
//! HTTP API): [`ObjectResource`] is what a type implements, [`Resources`] does the rest of the
//! [`Provider`](crate::Provider) calls for all of them — schema, defaults before planning, ids,
//! create / update / delete dispatch, computed values read back after apply, import.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::provider::{
    ApplyRequest, ApplyResponse, ImportRequest, ImportResponse, PlanRequest, PlanResponse, ReadRequest, ReadResponse,
    plan_by_schema,
};
use crate::schema::{BlockSchema, ProviderSchema, ResourceSchema};
use crate::value::Value;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// An object's attributes.
pub type Object = BTreeMap<String, Value>;

/// A string attribute.
pub fn text(object: &Object, name: &str) -> Option<String> {
    object.get(name).and_then(|v| v.bare().as_str()).map(str::to_string)
}

/// A bool attribute.
pub fn flag(object: &Object, name: &str) -> Option<bool> {
    object.get(name).and_then(|v| v.bare().as_bool())
}

/// An integer attribute.
pub fn int(object: &Object, name: &str) -> Option<i64> {
    object.get(name).and_then(|v| v.bare().as_number()).and_then(|n| n.to_string().parse().ok())
}

/// A list or set of strings attribute (empty when absent).
pub fn strings(object: &Object, name: &str) -> Vec<String> {
    object
        .get(name)
        .and_then(|v| v.bare().as_items())
        .map(|items| items.iter().filter_map(|i| i.bare().as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// A nested single block's attributes (empty when absent).
pub fn block(object: &Object, name: &str) -> Object {
    object.get(name).and_then(|v| v.bare().as_map()).cloned().unwrap_or_default()
}

/// The attributes of a value (empty when it is not an object).
pub fn object_of(value: Option<&Value>) -> Object {
    value.and_then(|v| v.bare().as_map()).cloned().unwrap_or_default()
}

/// `A@B` split at its last `@`; `shape` names the form in the error.
///
/// # Errors
///
/// No `@`.
pub fn split_id(id: &str, separator: char, shape: &str) -> Result<(String, String), Diagnostics> {
    id.rsplit_once(separator).map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(|| {
        Diagnostics::from(Diagnostic::error("Invalid import id", format!("The id has the form {shape}.")))
    })
}

/// One resource type over a client `C`.
#[async_trait]
pub trait ObjectResource<C: Sync>: Send + Sync {
    /// Its schema.
    fn schema(&self) -> BlockSchema;
    /// Values of optional arguments left unset, as the server would have them (applied before
    /// planning, so leaving one out is not a change).
    fn defaults(&self) -> Vec<(&'static str, Value)> {
        Vec::new()
    }
    /// The id of a (planned) object, when its parts are known.
    fn id(&self, object: &Object) -> Option<String>;
    /// Creates; returns the object (its computed values may stay Unknown: they are read back).
    async fn create(&self, client: &C, planned: &Object) -> Result<Object, Diagnostics>;
    /// Updates in place (default: as create).
    async fn update(&self, client: &C, _prior: &Object, planned: &Object) -> Result<Object, Diagnostics> {
        self.create(client, planned).await
    }
    /// Deletes.
    async fn delete(&self, client: &C, prior: &Object) -> Result<(), Diagnostics>;
    /// Reads: `None` when gone.
    async fn read(&self, client: &C, current: &Object) -> Result<Option<Object>, Diagnostics>;
    /// The object an import id names (enough for `read`).
    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        let _ = id;
        Err(Diagnostic::error("Import not supported", "This resource type cannot be imported.").into())
    }
}

/// The resource types of one provider.
pub struct Resources<C> {
    provider: &'static str,
    types: BTreeMap<String, Box<dyn ObjectResource<C>>>,
}

impl<C: Sync> Resources<C> {
    /// An empty set for the provider named `provider`.
    pub fn new(provider: &'static str) -> Resources<C> {
        Resources { provider, types: BTreeMap::new() }
    }

    /// Adds a type.
    #[must_use]
    pub fn with(mut self, name: &str, resource: impl ObjectResource<C> + 'static) -> Resources<C> {
        self.types.insert(name.to_string(), Box::new(resource));
        self
    }

    /// Adds every type's schema.
    pub fn add_schemas(&self, schema: &mut ProviderSchema) {
        for (name, resource) in &self.types {
            schema.resources.insert(name.clone(), ResourceSchema { version: 0, block: resource.schema() });
        }
    }

    fn get(&self, kind: &str) -> Result<&dyn ObjectResource<C>, Diagnostics> {
        self.types.get(kind).map(|r| r.as_ref()).ok_or_else(|| {
            Diagnostic::error(
                "Unsupported resource type",
                format!("The {} provider has no resource type `{kind}`.", self.provider),
            )
            .into()
        })
    }

    /// `plan`: defaults filled in, then [`plan_by_schema`], then the id when known.
    ///
    /// # Errors
    ///
    /// An unknown type.
    pub fn plan(&self, schema: &ProviderSchema, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        let resource = self.get(&request.kind)?;
        let mut request = request;
        for (name, default) in resource.defaults() {
            for value in [&mut request.config, &mut request.proposed] {
                if let Value::Map(map) = value
                    && map.get(name).is_none_or(Value::is_null)
                {
                    map.insert(name.to_string(), default.clone());
                }
            }
        }
        let block = schema.resources.get(&request.kind).map(|r| &r.block);
        let mut response = plan_by_schema(block, &request);
        if let Value::Map(planned) = &mut response.planned
            && let Some(id) = resource.id(planned)
        {
            planned.insert("id".into(), Value::from(id.as_str()));
        }
        Ok(response)
    }

    /// `apply`: create, update or delete; values still Unknown afterwards are read back (or
    /// null).
    ///
    /// # Errors
    ///
    /// As the resource reports.
    pub async fn apply(&self, client: &C, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        let resource = self.get(&request.kind)?;
        let prior = request.prior.as_ref().map(|p| object_of(Some(p)));
        let Some(planned) = &request.planned else {
            if let Some(prior) = &prior {
                resource.delete(client, prior).await?;
            }
            return Ok(ApplyResponse { new: None });
        };
        let planned = object_of(Some(planned));
        let mut new = match &prior {
            None => resource.create(client, &planned).await?,
            Some(prior) => resource.update(client, prior, &planned).await?,
        };
        if let Some(id) = resource.id(&new) {
            new.insert("id".into(), Value::from(id.as_str()));
        }
        if new.values().any(|v| !v.is_known()) {
            let read = resource.read(client, &new).await?.unwrap_or_default();
            for (name, value) in new.iter_mut() {
                if !value.is_known() {
                    *value = read.get(name).cloned().unwrap_or(Value::Null);
                }
            }
        }
        for value in new.values_mut() {
            if !value.is_known() {
                *value = Value::Null;
            }
        }
        Ok(ApplyResponse { new: Some(Value::Map(new)) })
    }

    /// `read`.
    ///
    /// # Errors
    ///
    /// As the resource reports.
    pub async fn read(&self, client: &C, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        let resource = self.get(&request.kind)?;
        let read = resource.read(client, &object_of(Some(&request.current))).await?;
        Ok(ReadResponse { current: read.map(Value::Map) })
    }

    /// `import`: the id's object, read.
    ///
    /// # Errors
    ///
    /// A bad id, or no such object.
    pub async fn import(&self, client: &C, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        let resource = self.get(&request.kind)?;
        let skeleton = resource.import(&request.id)?;
        match resource.read(client, &skeleton).await? {
            Some(object) => Ok(ImportResponse { current: Value::Map(object) }),
            None => Err(Diagnostic::error(
                "Cannot import a missing object",
                format!("There is no {} `{}`.", request.kind, request.id),
            )
            .into()),
        }
    }
}
