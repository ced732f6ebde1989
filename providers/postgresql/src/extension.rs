//! `postgresql_extension`: `name`, `database` (replaces), `schema` (replaces), `version`
//! (updated with `ALTER EXTENSION … UPDATE TO`), `drop_cascade`. The id is `DATABASE.NAME`.

use crate::sql::{ident, literal};
use crate::{Object, ObjectResource, Pg, failed, text};
use async_trait::async_trait;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostics, Value};

/// `postgresql_extension`.
pub struct Extension;

#[async_trait]
impl ObjectResource<Pg> for Extension {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("name", Attribute::required(AttrType::String).force_new())
            .attribute("database", Attribute::optional(AttrType::String).and_computed().force_new())
            .attribute("schema", Attribute::optional(AttrType::String).and_computed().force_new())
            .attribute("version", Attribute::optional(AttrType::String).and_computed())
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
        let mut statement = format!("CREATE EXTENSION {}", ident(&text(planned, "name").unwrap_or_default()));
        if let Some(schema) = text(planned, "schema") {
            statement.push_str(&format!(" SCHEMA {}", ident(&schema)));
        }
        if let Some(version) = text(planned, "version") {
            statement.push_str(&format!(" VERSION {}", literal(&version)));
        }
        client.batch_execute(&statement).await.map_err(failed("create the extension"))?;
        Ok(planned.clone())
    }

    async fn update(&self, pg: &Pg, prior: &Object, planned: &Object) -> Result<Object, Diagnostics> {
        if let Some(version) = text(planned, "version")
            && text(prior, "version").as_deref() != Some(version.as_str())
        {
            let client = pg.client(text(planned, "database").as_deref()).await?;
            client
                .batch_execute(&format!(
                    "ALTER EXTENSION {} UPDATE TO {}",
                    ident(&text(planned, "name").unwrap_or_default()),
                    literal(&version)
                ))
                .await
                .map_err(failed("update the extension"))?;
        }
        Ok(planned.clone())
    }

    async fn delete(&self, pg: &Pg, prior: &Object) -> Result<(), Diagnostics> {
        crate::drop_in_database(pg, prior, "EXTENSION").await
    }

    async fn read(&self, pg: &Pg, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let client = pg.client(text(current, "database").as_deref()).await?;
        let name = text(current, "name").unwrap_or_default();
        let row = client
            .query_opt(
                "SELECT n.nspname, e.extversion, current_database()
                 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1",
                &[&name],
            )
            .await
            .map_err(failed("read the extension"))?;
        Ok(row.map(|row| {
            let mut object = current.clone();
            let database: String = row.get(2);
            object.insert("schema".into(), Value::from(row.get::<_, String>(0).as_str()));
            object.insert("version".into(), Value::from(row.get::<_, String>(1).as_str()));
            object.insert("database".into(), Value::from(database.as_str()));
            object.insert("id".into(), Value::from(format!("{database}.{name}").as_str()));
            object.entry("drop_cascade".into()).or_insert(Value::Bool(false));
            object
        }))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        crate::in_database(id, "DATABASE.EXTENSION")
    }
}
