//! `postgresql_role`: `name`, `login`, `password` (sensitive), `connection_limit`, `inherit`,
//! `create_database`, `create_role`, `superuser`. The id is the name; a rename is in place.
//!
//! The password is sent as a SCRAM-SHA-256 verifier (the clear text never reaches the server),
//! and refresh checks the stored verifier against the password in state: a password changed
//! out of band reads back as a different sensitive value — drift, with neither password shown.

use crate::sql::{ident, literal, scram_verifier, verifies};
use crate::{Object, ObjectResource, Pg, failed, flag, int, text};
use async_trait::async_trait;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostics, Value};

/// `postgresql_role`.
pub struct Role;

/// What a password changed outside infra reads back as (never shown: it is sensitive).
const CHANGED: &str = "(changed outside infra)";

fn options(object: &Object) -> String {
    let yes_no = |name: &str, yes: &str, no: &str, default: bool| {
        if flag(object, name).unwrap_or(default) { yes.to_string() } else { no.to_string() }
    };
    let mut options = vec![
        yes_no("login", "LOGIN", "NOLOGIN", false),
        yes_no("inherit", "INHERIT", "NOINHERIT", true),
        yes_no("create_database", "CREATEDB", "NOCREATEDB", false),
        yes_no("create_role", "CREATEROLE", "NOCREATEROLE", false),
        yes_no("superuser", "SUPERUSER", "NOSUPERUSER", false),
        format!("CONNECTION LIMIT {}", int(object, "connection_limit").unwrap_or(-1)),
    ];
    match text(object, "password") {
        Some(password) => options.push(format!("PASSWORD {}", literal(&scram_verifier(&password)))),
        None => options.push("PASSWORD NULL".into()),
    }
    options.join(" ")
}

#[async_trait]
impl ObjectResource<Pg> for Role {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("name", Attribute::required(AttrType::String))
            .attribute("login", Attribute::optional(AttrType::Bool))
            .attribute("password", Attribute::optional(AttrType::String).sensitive())
            .attribute("connection_limit", Attribute::optional(AttrType::Number))
            .attribute("inherit", Attribute::optional(AttrType::Bool))
            .attribute("create_database", Attribute::optional(AttrType::Bool))
            .attribute("create_role", Attribute::optional(AttrType::Bool))
            .attribute("superuser", Attribute::optional(AttrType::Bool))
    }

    fn defaults(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("login", Value::Bool(false)),
            ("connection_limit", Value::int(-1)),
            ("inherit", Value::Bool(true)),
            ("create_database", Value::Bool(false)),
            ("create_role", Value::Bool(false)),
            ("superuser", Value::Bool(false)),
        ]
    }

    fn id(&self, object: &Object) -> Option<String> {
        text(object, "name")
    }

    async fn create(&self, pg: &Pg, planned: &Object) -> Result<Object, Diagnostics> {
        let client = pg.client(None).await?;
        let name = text(planned, "name").unwrap_or_default();
        client
            .batch_execute(&format!("CREATE ROLE {} WITH {}", ident(&name), options(planned)))
            .await
            .map_err(failed("create the role"))?;
        Ok(planned.clone())
    }

    async fn update(&self, pg: &Pg, prior: &Object, planned: &Object) -> Result<Object, Diagnostics> {
        let client = pg.client(None).await?;
        let old = text(prior, "name").unwrap_or_default();
        let name = text(planned, "name").unwrap_or_default();
        if old != name {
            client
                .batch_execute(&format!("ALTER ROLE {} RENAME TO {}", ident(&old), ident(&name)))
                .await
                .map_err(failed("rename the role"))?;
        }
        client
            .batch_execute(&format!("ALTER ROLE {} WITH {}", ident(&name), options(planned)))
            .await
            .map_err(failed("change the role"))?;
        Ok(planned.clone())
    }

    async fn delete(&self, pg: &Pg, prior: &Object) -> Result<(), Diagnostics> {
        let client = pg.client(None).await?;
        let name = text(prior, "name").unwrap_or_default();
        client.batch_execute(&format!("DROP ROLE IF EXISTS {}", ident(&name))).await.map_err(failed("drop the role"))
    }

    async fn read(&self, pg: &Pg, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let client = pg.client(None).await?;
        let name = text(current, "id").or_else(|| text(current, "name")).unwrap_or_default();
        let row = client
            .query_opt(
                "SELECT rolcanlogin, rolconnlimit, rolinherit, rolcreatedb, rolcreaterole, rolsuper
                 FROM pg_roles WHERE rolname = $1",
                &[&name],
            )
            .await
            .map_err(failed("read the role"))?;
        let Some(row) = row else { return Ok(None) };
        let mut object = current.clone();
        object.insert("id".into(), Value::from(name.as_str()));
        object.insert("name".into(), Value::from(name.as_str()));
        object.insert("login".into(), Value::Bool(row.get(0)));
        object.insert("connection_limit".into(), Value::int(i64::from(row.get::<_, i32>(1))));
        object.insert("inherit".into(), Value::Bool(row.get(2)));
        object.insert("create_database".into(), Value::Bool(row.get(3)));
        object.insert("create_role".into(), Value::Bool(row.get(4)));
        object.insert("superuser".into(), Value::Bool(row.get(5)));
        // The stored verifier, when this connection may see it (superusers may).
        let stored = client
            .query_opt("SELECT rolpassword FROM pg_authid WHERE rolname = $1", &[&name])
            .await
            .ok()
            .flatten()
            .map(|row| row.get::<_, Option<String>>(0));
        if let Some(stored) = stored {
            let known = text(current, "password");
            let password = match (&stored, &known) {
                (None, None) => Value::Null,
                (Some(stored), Some(known)) if verifies(stored, known, &name) => {
                    Value::from(known.as_str()).mark_sensitive()
                }
                (None, Some(_)) => Value::Null,
                (Some(_), _) => Value::from(CHANGED).mark_sensitive(),
            };
            object.insert("password".into(), password);
        }
        Ok(Some(object))
    }

    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        Ok(Object::from([("name".to_string(), Value::from(id))]))
    }
}
