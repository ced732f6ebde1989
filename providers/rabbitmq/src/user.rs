//! `rabbitmq_user` (`name`, `password` sensitive, `tags`) and `rabbitmq_permissions` (`user`,
//! `vhost`, `permissions { configure, write, read }`). A user's password is checked on refresh
//! against the broker's salted SHA-256 hash: changed out of band, it reads back as a different
//! sensitive value — drift, with neither password shown. Ids: the user's name;
//! `USER@VHOST` for permissions.

use crate::api::{Api, segment};
use crate::{Object, ObjectResource, block, split_id, text};
use async_trait::async_trait;
use base64::Engine as _;
use infra_provider::resources::strings;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostics, NestedBlock, Nesting, Value};
use sha2::{Digest, Sha256};

/// `rabbitmq_user`.
pub struct User;

/// `rabbitmq_permissions`.
pub struct Permissions;

/// Whether the broker's `password_hash` (base64 of a 4-byte salt and SHA-256(salt + password))
/// is that of `password`.
pub fn hash_matches(hash: &str, password: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(hash) else { return false };
    if bytes.len() != 36 {
        return false;
    }
    let (salt, digest) = bytes.split_at(4);
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(password.as_bytes());
    hasher.finalize().as_slice() == digest
}

#[async_trait]
impl ObjectResource<Api> for User {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("name", Attribute::required(AttrType::String).force_new())
            .attribute("password", Attribute::required(AttrType::String).sensitive())
            .attribute("tags", Attribute::optional(AttrType::List(Box::new(AttrType::String))))
    }

    fn id(&self, object: &Object) -> Option<String> {
        text(object, "name")
    }

    async fn create(&self, api: &Api, planned: &Object) -> Result<Object, Diagnostics> {
        let name = text(planned, "name").unwrap_or_default();
        let body = serde_json::json!({ "password": text(planned, "password").unwrap_or_default(), "tags": strings(planned, "tags").join(",") });
        api.put(&format!("users/{}", segment(&name)), &body, "create the user").await?;
        Ok(planned.clone())
    }

    async fn delete(&self, api: &Api, prior: &Object) -> Result<(), Diagnostics> {
        api.delete(&format!("users/{}", segment(&text(prior, "name").unwrap_or_default())), "delete the user").await
    }

    async fn read(&self, api: &Api, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let name = text(current, "name").unwrap_or_default();
        let Some(found) = api.get(&format!("users/{}", segment(&name)), "read the user").await? else {
            return Ok(None);
        };
        let mut object = current.clone();
        let found_tags: Vec<Value> = match &found["tags"] {
            serde_json::Value::Array(items) => items.iter().filter_map(|t| t.as_str()).map(Value::from).collect(),
            serde_json::Value::String(joined) => joined.split(',').filter(|t| !t.is_empty()).map(Value::from).collect(),
            _ => Vec::new(),
        };
        if !(found_tags.is_empty() && current.get("tags").is_none_or(Value::is_null)) {
            object.insert("tags".into(), Value::List(found_tags));
        }
        if let (Some(known), Some(hash)) = (text(current, "password"), found["password_hash"].as_str())
            && !hash_matches(hash, &known)
        {
            object.insert("password".into(), Value::from("(changed outside infra)").mark_sensitive());
        }
        object.insert("id".into(), Value::from(name.as_str()));
        Ok(Some(object))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        Ok(Object::from([("name".to_string(), Value::from(id))]))
    }
}

#[async_trait]
impl ObjectResource<Api> for Permissions {
    fn schema(&self) -> BlockSchema {
        let permissions = BlockSchema::new()
            .attribute("configure", Attribute::required(AttrType::String))
            .attribute("write", Attribute::required(AttrType::String))
            .attribute("read", Attribute::required(AttrType::String));
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("user", Attribute::required(AttrType::String).force_new())
            .attribute("vhost", Attribute::optional(AttrType::String).and_computed().force_new())
            .block("permissions", NestedBlock { nesting: Nesting::Single, block: permissions, force_new: false })
    }

    fn id(&self, object: &Object) -> Option<String> {
        Some(format!("{}@{}", text(object, "user")?, text(object, "vhost")?))
    }

    async fn create(&self, api: &Api, planned: &Object) -> Result<Object, Diagnostics> {
        let vhost = text(planned, "vhost").unwrap_or_else(|| "/".into());
        let wanted = block(planned, "permissions");
        let body = serde_json::json!({
            "configure": text(&wanted, "configure").unwrap_or_default(),
            "write": text(&wanted, "write").unwrap_or_default(),
            "read": text(&wanted, "read").unwrap_or_default(),
        });
        let path = format!("permissions/{}/{}", segment(&vhost), segment(&text(planned, "user").unwrap_or_default()));
        api.put(&path, &body, "set the permissions").await?;
        let mut new = planned.clone();
        new.insert("vhost".into(), Value::from(vhost.as_str()));
        Ok(new)
    }

    async fn delete(&self, api: &Api, prior: &Object) -> Result<(), Diagnostics> {
        let vhost = text(prior, "vhost").unwrap_or_else(|| "/".into());
        let path = format!("permissions/{}/{}", segment(&vhost), segment(&text(prior, "user").unwrap_or_default()));
        api.delete(&path, "remove the permissions").await
    }

    async fn read(&self, api: &Api, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let vhost = text(current, "vhost").unwrap_or_else(|| "/".into());
        let path = format!("permissions/{}/{}", segment(&vhost), segment(&text(current, "user").unwrap_or_default()));
        let Some(found) = api.get(&path, "read the permissions").await? else { return Ok(None) };
        let mut object = current.clone();
        let field = |name: &str| Value::from(found[name].as_str().unwrap_or(""));
        object.insert(
            "permissions".into(),
            Value::Map(Object::from([
                ("configure".to_string(), field("configure")),
                ("write".to_string(), field("write")),
                ("read".to_string(), field("read")),
            ])),
        );
        object.insert("vhost".into(), Value::from(vhost.as_str()));
        if let Some(id) = self.id(&object) {
            object.insert("id".into(), Value::from(id.as_str()));
        }
        Ok(Some(object))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        let (user, vhost) = split_id(id, '@', "USER@VHOST")?;
        Ok(Object::from([
            ("user".to_string(), Value::from(user.as_str())),
            ("vhost".to_string(), Value::from(vhost.as_str())),
        ]))
    }
}
