//! `postgresql_grant`: `privileges` granted to `role` on a `database`, a `schema`, or the
//! tables / sequences of a schema (`object_type` = `database`, `schema`, `table`, `sequence`;
//! `objects` narrows tables and sequences to some, by name). Everything but `privileges`
//! replaces; a privilege change revokes and grants in one transaction. The id is
//! `ROLE_DATABASE_TYPE[_SCHEMA]`. Read takes the privileges the role holds on every one of the
//! objects (so a table created later without them shows as drift).

use crate::sql::ident;
use crate::{Object, ObjectResource, Pg, failed, text};
use async_trait::async_trait;
use infra_provider::resources::strings;
use infra_provider::{AttrType, Attribute, BlockSchema, Diagnostic, Diagnostics, Value};
use std::collections::BTreeSet;

/// `postgresql_grant`.
pub struct Grant;

const DATABASE_PRIVILEGES: &[&str] = &["CONNECT", "CREATE", "TEMPORARY"];
const SCHEMA_PRIVILEGES: &[&str] = &["CREATE", "USAGE"];
const TABLE_PRIVILEGES: &[&str] = &["DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE"];
const SEQUENCE_PRIVILEGES: &[&str] = &["SELECT", "UPDATE", "USAGE"];

/// What the grant is on: (`ON …` text, privileges allowed).
fn target(object: &Object) -> Result<(String, &'static [&'static str]), Diagnostics> {
    let invalid = |reason: String| -> Diagnostics { Diagnostic::error("Invalid postgresql_grant", reason).into() };
    let database = text(object, "database").unwrap_or_default();
    let schema = text(object, "schema");
    let objects = strings(object, "objects");
    let kind = text(object, "object_type").unwrap_or_default();
    let in_schema = |what: &str, plural: &str| -> Result<String, Diagnostics> {
        let schema = schema.clone().ok_or_else(|| invalid(format!("`object_type = \"{what}\"` needs `schema`")))?;
        Ok(if objects.is_empty() {
            format!("ALL {plural} IN SCHEMA {}", ident(&schema))
        } else {
            let names: Vec<String> = objects.iter().map(|o| format!("{}.{}", ident(&schema), ident(o))).collect();
            format!("{} {}", what.to_ascii_uppercase(), names.join(", "))
        })
    };
    match kind.as_str() {
        "database" => Ok((format!("DATABASE {}", ident(&database)), DATABASE_PRIVILEGES)),
        "schema" => {
            let schema = schema.ok_or_else(|| invalid("`object_type = \"schema\"` needs `schema`".into()))?;
            Ok((format!("SCHEMA {}", ident(&schema)), SCHEMA_PRIVILEGES))
        }
        "table" => Ok((in_schema("table", "TABLES")?, TABLE_PRIVILEGES)),
        "sequence" => Ok((in_schema("sequence", "SEQUENCES")?, SEQUENCE_PRIVILEGES)),
        other => Err(invalid(format!("`object_type` is database, schema, table or sequence, not `{other}`"))),
    }
}

fn privileges(object: &Object, allowed: &[&str]) -> Result<Vec<String>, Diagnostics> {
    let mut wanted = Vec::new();
    for privilege in strings(object, "privileges") {
        let upper = privilege.to_ascii_uppercase();
        if upper == "ALL" {
            wanted.extend(allowed.iter().map(|p| p.to_string()));
        } else if allowed.contains(&upper.as_str()) {
            wanted.push(upper);
        } else {
            return Err(Diagnostic::error(
                "Invalid privilege",
                format!("`{privilege}` is not one of {} here", allowed.join(", ")),
            )
            .into());
        }
    }
    wanted.sort();
    wanted.dedup();
    Ok(wanted)
}

async fn apply(pg: &Pg, object: &Object) -> Result<(), Diagnostics> {
    let (on, allowed) = target(object)?;
    let wanted = privileges(object, allowed)?;
    let role = ident(&text(object, "role").unwrap_or_default());
    let mut statement = format!("BEGIN; REVOKE ALL ON {on} FROM {role};");
    if !wanted.is_empty() {
        statement.push_str(&format!(" GRANT {} ON {on} TO {role};", wanted.join(", ")));
    }
    statement.push_str(" COMMIT;");
    let database = text(object, "database");
    let client = pg.client(database.as_deref()).await?;
    client.batch_execute(&statement).await.map_err(failed("grant the privileges"))
}

#[async_trait]
impl ObjectResource<Pg> for Grant {
    fn schema(&self) -> BlockSchema {
        BlockSchema::new()
            .attribute("id", Attribute::computed(AttrType::String))
            .attribute("role", Attribute::required(AttrType::String).force_new())
            .attribute("database", Attribute::required(AttrType::String).force_new())
            .attribute("schema", Attribute::optional(AttrType::String).force_new())
            .attribute("object_type", Attribute::required(AttrType::String).force_new())
            .attribute("objects", Attribute::optional(AttrType::Set(Box::new(AttrType::String))).force_new())
            .attribute("privileges", Attribute::required(AttrType::Set(Box::new(AttrType::String))))
    }

    fn id(&self, object: &Object) -> Option<String> {
        let mut id =
            format!("{}_{}_{}", text(object, "role")?, text(object, "database")?, text(object, "object_type")?);
        if let Some(schema) = text(object, "schema") {
            id.push('_');
            id.push_str(&schema);
        }
        Some(id)
    }

    async fn create(&self, pg: &Pg, planned: &Object) -> Result<Object, Diagnostics> {
        apply(pg, planned).await?;
        Ok(planned.clone())
    }

    async fn update(&self, pg: &Pg, _prior: &Object, planned: &Object) -> Result<Object, Diagnostics> {
        apply(pg, planned).await?;
        Ok(planned.clone())
    }

    async fn delete(&self, pg: &Pg, prior: &Object) -> Result<(), Diagnostics> {
        let (on, _) = target(prior)?;
        let role = text(prior, "role").unwrap_or_default();
        let client = pg.client(text(prior, "database").as_deref()).await?;
        // A role or database already gone took its grants with it.
        let exists = client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
            .await
            .map_err(failed("read the role"))?
            .is_some();
        if !exists {
            return Ok(());
        }
        client
            .batch_execute(&format!("REVOKE ALL ON {on} FROM {}", ident(&role)))
            .await
            .map_err(failed("revoke the privileges"))
    }

    async fn read(&self, pg: &Pg, current: &Object) -> Result<Option<Object>, Diagnostics> {
        let role = text(current, "role").unwrap_or_default();
        let database = text(current, "database").unwrap_or_default();
        let kind = text(current, "object_type").unwrap_or_default();
        let schema = text(current, "schema").unwrap_or_default();
        let client = match pg.client(Some(&database)).await {
            Ok(client) => client,
            // The database is gone, and the grant with it.
            Err(_) => return Ok(None),
        };
        let role_exists = client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
            .await
            .map_err(failed("read the role"))?;
        if role_exists.is_none() {
            return Ok(None);
        }
        let (_, allowed) = target(current)?;
        // Which privileges the role holds (directly) on every object of the grant.
        let objects = strings(current, "objects");
        let mut held = BTreeSet::new();
        for privilege in allowed {
            let query = match kind.as_str() {
                "database" => "SELECT has_database_privilege($1, $2, $3)".to_string(),
                "schema" => "SELECT has_schema_privilege($1, $2, $3)".to_string(),
                "table" | "sequence" => {
                    let relkind = if kind == "table" { "('r','p','v','m','f')" } else { "('S')" };
                    format!(
                        "SELECT coalesce(bool_and(has_table_privilege($1, c.oid, $3)), false)
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = $2 AND c.relkind IN {relkind} AND (cardinality($4::text[]) = 0 OR c.relname = ANY($4))"
                    )
                }
                _ => return Ok(None),
            };
            let subject = if kind == "database" { database.clone() } else { schema.clone() };
            let row = if kind == "table" || kind == "sequence" {
                client.query_one(&query, &[&role, &subject, privilege, &objects]).await
            } else {
                client.query_one(&query, &[&role, &subject, privilege]).await
            }
            .map_err(failed("read the privileges"))?;
            if row.get::<_, bool>(0) {
                held.insert(privilege.to_string());
            }
        }
        // `ALL` in the configuration reads back as ALL when every privilege is held.
        let configured = strings(current, "privileges");
        let all = allowed.len() == held.len();
        let privileges: Vec<Value> = if all && configured.iter().any(|p| p.eq_ignore_ascii_case("ALL")) {
            configured.iter().map(|p| Value::from(p.as_str())).collect()
        } else {
            // Keep the configured spelling for privileges held, so case does not show as drift.
            held.iter()
                .map(|p| {
                    let spelled =
                        configured.iter().find(|c| c.eq_ignore_ascii_case(p)).cloned().unwrap_or_else(|| p.clone());
                    Value::from(spelled.as_str())
                })
                .collect()
        };
        let mut object = current.clone();
        object.insert("privileges".into(), Value::set(privileges));
        if let Some(id) = self.id(&object) {
            object.insert("id".into(), Value::from(id.as_str()));
        }
        Ok(Some(object))
    }
}
