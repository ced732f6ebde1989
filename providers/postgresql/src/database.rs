//! `postgresql_database`: `name` (replaces), `owner`, `encoding` and `template` (replace),
//! `connection_limit` (-1: none), `allow_connections`. The id is the name. Delete ends
//! sessions on it (`DROP DATABASE … WITH (FORCE)`).

use crate::sql::{ident, literal};
use crate::{Object, ObjectResource, Pg, failed, flag, int, text};
use async_trait::async_trait;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostics, Value};

/// `postgresql_database`.
pub struct Database;

#[async_trait]
impl ObjectResource<Pg> for Database {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("name", Attribute::required(AttrType::String).force_new())
            .attribute("owner", Attribute::optional(AttrType::String).and_computed())
            .attribute("encoding", Attribute::optional(AttrType::String).force_new())
            .attribute("template", Attribute::optional(AttrType::String).force_new())
            .attribute("connection_limit", Attribute::optional(AttrType::Number))
            .attribute("allow_connections", Attribute::optional(AttrType::Bool))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("encoding", Value::from("UTF8")),
            ("template", Value::from("template0")),
            ("connection_limit", Value::int(-1)),
            ("allow_connections", Value::Bool(true)),
        ]
    }

    fn id(&self, object: &Object) -> Option<String> {
        text(object, "name")
    }

    async fn create(&self, pg: &Pg, planned: &Object) -> Result<Object, Diagnostics> {
        let client = pg.client(None).await?;
        let name = text(planned, "name").unwrap_or_default();
        let mut statement = format!(
            "CREATE DATABASE {} ENCODING {} TEMPLATE {} CONNECTION LIMIT {} ALLOW_CONNECTIONS {}",
            ident(&name),
            literal(&text(planned, "encoding").unwrap_or_else(|| "UTF8".into())),
            ident(&text(planned, "template").unwrap_or_else(|| "template0".into())),
            int(planned, "connection_limit").unwrap_or(-1),
            flag(planned, "allow_connections").unwrap_or(true)
        );
        if let Some(owner) = text(planned, "owner") {
            statement.push_str(&format!(" OWNER {}", ident(&owner)));
        }
        client.batch_execute(&statement).await.map_err(failed("create the database"))?;
        Ok(planned.clone())
    }

    async fn update(&self, pg: &Pg, prior: &Object, planned: &Object) -> Result<Object, Diagnostics> {
        let client = pg.client(None).await?;
        let name = ident(&text(planned, "name").unwrap_or_default());
        if let Some(owner) = text(planned, "owner")
            && text(prior, "owner").as_deref() != Some(owner.as_str())
        {
            client
                .batch_execute(&format!("ALTER DATABASE {name} OWNER TO {}", ident(&owner)))
                .await
                .map_err(failed("change the database's owner"))?;
        }
        client
            .batch_execute(&format!(
                "ALTER DATABASE {name} WITH CONNECTION LIMIT {} ALLOW_CONNECTIONS {}",
                int(planned, "connection_limit").unwrap_or(-1),
                flag(planned, "allow_connections").unwrap_or(true)
            ))
            .await
            .map_err(failed("change the database"))?;
        Ok(planned.clone())
    }

    async fn delete(&self, pg: &Pg, prior: &Object) -> Result<(), Diagnostics> {
        let name = text(prior, "name").unwrap_or_default();
        pg.forget(&name).await;
        let client = pg.client(None).await?;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(&name)))
            .await
            .map_err(failed("drop the database"))
    }

    async fn read(&self, pg: &Pg, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let client = pg.client(None).await?;
        let name = text(current, "name").unwrap_or_default();
        let row = client
            .query_opt(
                "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datconnlimit, datallowconn
                 FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .map_err(failed("read the database"))?;
        Ok(row.map(|row| {
            let mut object = current.clone();
            object.insert("id".into(), Value::from(name.as_str()));
            object.insert("owner".into(), Value::from(row.get::<_, String>(0).as_str()));
            object.insert("encoding".into(), Value::from(row.get::<_, String>(1).as_str()));
            object.insert("connection_limit".into(), Value::int(i64::from(row.get::<_, i32>(2))));
            object.insert("allow_connections".into(), Value::Bool(row.get(3)));
            // The template is not kept by the server: as created.
            object.entry("template".into()).or_insert_with(|| Value::from("template0"));
            object
        }))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        Ok(Object::from([("name".to_string(), Value::from(id))]))
    }
}
