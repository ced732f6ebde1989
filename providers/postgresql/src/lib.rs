//! The PostgreSQL provider, with the names and attributes of Terraform's widely used
//! `cyrilgdn/postgresql` provider so configurations port:
//!
//! ```hcl
//! provider "postgresql" {
//!   host     = "db.internal"   # PGHOST, else localhost
//!   port     = 5432            # PGPORT
//!   database = "postgres"      # the maintenance database
//!   username = "postgres"      # PGUSER
//!   password = var.pg_password # PGPASSWORD; sensitive
//!   sslmode  = "disable"       # disable | prefer (no TLS in this build)
//! }
//! ```
//!
//! Types: [`database`] (`postgresql_database`), [`role`] (`postgresql_role`), [`schema`]
//! (`postgresql_schema`), [`extension`] (`postgresql_extension`), [`grant`]
//! (`postgresql_grant`). Every object is read back from the catalog (drift), every type but
//! grants imports, and names are always quoted ([`sql`]): a hostile name is data, never SQL.
//! A role's password is sent as a SCRAM verifier and checked against the stored one on refresh,
//! so a password changed out of band shows as drift — without either password being printed.

pub mod database;
pub mod extension;
pub mod grant;
pub mod role;
pub mod schema;
pub mod sql;

use async_trait::async_trait;
use infra_provider::resources::Resources;
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, ConfigureRequest, Diagnostic, Diagnostics,
    ImportRequest, ImportResponse, PlanRequest, PlanResponse, Provider, ProviderSchema, ReadRequest, ReadResponse,
};
use std::collections::HashMap;
use std::sync::Arc;

pub use infra_provider::resources::{Object, ObjectResource, flag, int, text};

/// An object that lives in one database (a schema, an extension): its import id is
/// `DATABASE.NAME`.
///
/// # Errors
///
/// An id without the `.`; `shape` names the expected form.
pub fn in_database(id: &str, shape: &str) -> Result<Object, Diagnostics> {
    let (database, name) = id.split_once('.').ok_or_else(|| {
        Diagnostics::from(Diagnostic::error("Invalid import id", format!("The id has the form {shape}.")))
    })?;
    Ok(Object::from([
        ("database".to_string(), infra_provider::Value::from(database)),
        ("name".to_string(), infra_provider::Value::from(name)),
    ]))
}

/// The id of an object that lives in one database: `DATABASE.NAME`, once both are known.
pub fn in_database_id(object: &Object) -> Option<String> {
    Some(format!("{}.{}", text(object, "database")?, text(object, "name")?))
}

/// `DROP KEYWORD IF EXISTS "name" [CASCADE]` in the object's database (`drop_cascade`).
///
/// # Errors
///
/// As the server answers.
pub async fn drop_in_database(pg: &Pg, prior: &Object, keyword: &str) -> Result<(), Diagnostics> {
    let client = pg.client(text(prior, "database").as_deref()).await?;
    let cascade = if flag(prior, "drop_cascade").unwrap_or(false) { " CASCADE" } else { "" };
    let name = sql::ident(&text(prior, "name").unwrap_or_default());
    let what = format!("drop the {}", keyword.to_ascii_lowercase());
    client.batch_execute(&format!("DROP {keyword} IF EXISTS {name}{cascade}")).await.map_err(failed(&what))
}

/// A failed call: one diagnostic with PostgreSQL's message and SQLSTATE.
pub fn failed(what: &str) -> impl FnOnce(tokio_postgres::Error) -> Diagnostics + '_ {
    move |error| {
        let detail = match error.as_db_error() {
            Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            None => error.to_string(),
        };
        Diagnostic::error(format!("PostgreSQL refused to {what}"), detail).into()
    }
}

/// The connection settings and one client per database.
pub struct Pg {
    settings: std::sync::Mutex<Settings>,
    clients: tokio::sync::Mutex<HashMap<String, Arc<tokio_postgres::Client>>>,
}

#[derive(Clone, Debug, Default)]
struct Settings {
    host: String,
    port: u16,
    database: String,
    username: String,
    password: Option<String>,
}

impl Pg {
    /// A client connected to `database` (the provider's maintenance database when `None`).
    ///
    /// # Errors
    ///
    /// The server cannot be reached or refuses the credentials.
    pub async fn client(&self, database: Option<&str>) -> Result<Arc<tokio_postgres::Client>, Diagnostics> {
        let settings = self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let database = database.map_or_else(|| settings.database.clone(), str::to_string);
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(&database).filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        let mut config = tokio_postgres::Config::new();
        config.host(&settings.host).port(settings.port).user(&settings.username).dbname(&database);
        config.connect_timeout(std::time::Duration::from_secs(10)).application_name("infra");
        if let Some(password) = &settings.password {
            config.password(password);
        }
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|error| {
            let detail = match error.as_db_error() {
                Some(db) => db.message().to_string(),
                None => error.to_string(),
            };
            Diagnostics::from(
                Diagnostic::error(
                    "Cannot connect to PostgreSQL",
                    format!(
                        "{}:{} database `{database}` as `{}`: {detail}",
                        settings.host, settings.port, settings.username
                    ),
                )
                .with_hint(
                    "check the provider's host, port, username and password (or PGHOST, PGPORT, PGUSER, PGPASSWORD)",
                ),
            )
        })?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a PostgreSQL connection ended");
            }
        });
        let client = Arc::new(client);
        clients.insert(database, client.clone());
        Ok(client)
    }

    /// Closes the cached connection to `database` (before it is dropped).
    pub async fn forget(&self, database: &str) {
        self.clients.lock().await.remove(database);
    }
}

/// The PostgreSQL provider.
pub struct Postgresql {
    schema: ProviderSchema,
    resources: Resources<Pg>,
    pg: Pg,
}

impl Default for Postgresql {
    fn default() -> Self {
        Postgresql::new()
    }
}

impl Postgresql {
    /// The provider with every resource type.
    pub fn new() -> Postgresql {
        let resources = Resources::new("postgresql")
            .with("postgresql_database", database::Database)
            .with("postgresql_role", role::Role)
            .with("postgresql_schema", schema::Schema)
            .with("postgresql_extension", extension::Extension)
            .with("postgresql_grant", grant::Grant);
        let mut schema = ProviderSchema {
            provider: BlockSchema::new()
                .attribute("host", Attribute::optional(AttrType::String))
                .attribute("port", Attribute::optional(AttrType::Number))
                .attribute("database", Attribute::optional(AttrType::String))
                .attribute("username", Attribute::optional(AttrType::String))
                .attribute("password", Attribute::optional(AttrType::String).sensitive())
                .attribute("sslmode", Attribute::optional(AttrType::String))
                .attribute("superuser", Attribute::optional(AttrType::Bool)),
            ..ProviderSchema::default()
        };
        resources.add_schemas(&mut schema);
        Postgresql {
            schema,
            resources,
            pg: Pg {
                settings: std::sync::Mutex::new(Settings::default()),
                clients: tokio::sync::Mutex::new(HashMap::new()),
            },
        }
    }
}

#[async_trait]
impl Provider for Postgresql {
    fn name(&self) -> &str {
        "postgresql"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, request: ConfigureRequest) -> Result<(), Diagnostics> {
        let config = infra_provider::resources::object_of(Some(&request.config));
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match text(&config, "sslmode").as_deref() {
            None | Some("disable" | "prefer" | "allow") => {}
            Some(other) => {
                return Err(Diagnostic::error(
                    "Unsupported sslmode",
                    format!("sslmode `{other}` needs TLS to PostgreSQL, which this build does not have; use `disable` on a private network or a local socket tunnel"),
                )
                .into());
            }
        }
        let settings = Settings {
            host: text(&config, "host").or_else(|| env("PGHOST")).unwrap_or_else(|| "localhost".into()),
            port: int(&config, "port")
                .or_else(|| env("PGPORT").and_then(|p| p.parse().ok()))
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(5432),
            database: text(&config, "database").or_else(|| env("PGDATABASE")).unwrap_or_else(|| "postgres".into()),
            username: text(&config, "username").or_else(|| env("PGUSER")).unwrap_or_else(|| "postgres".into()),
            password: text(&config, "password").or_else(|| env("PGPASSWORD")),
        };
        *self.pg.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings;
        self.pg.clients.lock().await.clear();
        Ok(())
    }

    async fn plan(&self, request: PlanRequest) -> Result<PlanResponse, Diagnostics> {
        self.resources.plan(&self.schema, request)
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        self.resources.apply(&self.pg, request).await
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        self.resources.read(&self.pg, request).await
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        self.resources.import(&self.pg, request).await
    }
}
