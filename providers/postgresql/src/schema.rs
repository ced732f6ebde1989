//! `postgresql_schema`: `name`, `database` (replaces; default the provider's), `owner`,
//! `drop_cascade`. The id is `DATABASE.NAME`.

use crate::sql::ident;
use crate::{Object, ObjectResource, Pg, failed, text};
use async_trait::async_trait;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostics, Value};

/// `postgresql_schema`.
pub struct Schema;

#[async_trait]
impl ObjectResource<Pg> for Schema {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("name", Attribute::required(AttrType::String))
            .attribute("database", Attribute::optional(AttrType::String).and_computed().force_new())
            .attribute("owner", Attribute::optional(AttrType::String).and_computed())
            .attribute("drop_cascade", Attribute::optional(AttrType::Bool))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![("drop_cascade", Value::Bool(false))]
    }

    fn id(&self, object: &Object) -> Option<String> {
        crate::in_database_id(object)
    }

    async fn create(&self, pg: &Pg, planned: &Object) -> Result<Object, Diagnostics> {
        let client = pg.client(text(planned, "database").as_deref()).await?;
        let mut statement = format!("CREATE SCHEMA {}", ident(&text(planned, "name").unwrap_or_default()));
        if let Some(owner) = text(planned, "owner") {
            statement.push_str(&format!(" AUTHORIZATION {}", ident(&owner)));
        }
        client.batch_execute(&statement).await.map_err(failed("create the schema"))?;
        Ok(planned.clone())
    }

    async fn update(&self, pg: &Pg, prior: &Object, planned: &Object) -> Result<Object, Diagnostics> {
        let client = pg.client(text(planned, "database").as_deref()).await?;
        let old = text(prior, "name").unwrap_or_default();
        let name = text(planned, "name").unwrap_or_default();
        if old != name {
            client
                .batch_execute(&format!("ALTER SCHEMA {} RENAME TO {}", ident(&old), ident(&name)))
                .await
                .map_err(failed("rename the schema"))?;
        }
        if let Some(owner) = text(planned, "owner") {
            client
                .batch_execute(&format!("ALTER SCHEMA {} OWNER TO {}", ident(&name), ident(&owner)))
                .await
                .map_err(failed("change the schema's owner"))?;
        }
        Ok(planned.clone())
    }

    async fn delete(&self, pg: &Pg, prior: &Object) -> Result<(), Diagnostics> {
        crate::drop_in_database(pg, prior, "SCHEMA").await
    }

    async fn read(&self, pg: &Pg, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let client = pg.client(text(current, "database").as_deref()).await?;
        let name = text(current, "name").unwrap_or_default();
        let row = client
            .query_opt(
                "SELECT pg_get_userbyid(nspowner), current_database() FROM pg_namespace WHERE nspname = $1",
                &[&name],
            )
            .await
            .map_err(failed("read the schema"))?;
        Ok(row.map(|row| {
            let mut object = current.clone();
            object.insert("owner".into(), Value::from(row.get::<_, String>(0).as_str()));
            let database: String = row.get(1);
            object.insert("database".into(), Value::from(database.as_str()));
            object.insert("id".into(), Value::from(format!("{database}.{name}").as_str()));
            object.entry("drop_cascade".into()).or_insert(Value::Bool(false));
            object
        }))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        crate::in_database(id, "DATABASE.SCHEMA")
    }
}
