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
use infra_provider::{
    ApplyRequest, ApplyResponse, AttrType, Attribute, BlockSchema, ConfigureRequest, Diagnostic, Diagnostics,
    ImportRequest, ImportResponse, PlanRequest, PlanResponse, Provider, ProviderSchema, ReadRequest, ReadResponse,
    ResourceSchema, Value, plan_by_schema,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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

/// What every PostgreSQL resource type does.
#[async_trait]
pub trait Resource: Send + Sync {
    /// Its schema.
    fn schema(&self) -> BlockSchema;
    /// Values of optional arguments left unset (as the server would have them).
    fn defaults(&self) -> Vec<(&'static str, Value)> {
        Vec::new()
    }
    /// The id, once the planned object is known.
    fn id(&self, object: &Object) -> Option<String>;
    /// Creates.
    async fn create(&self, pg: &Pg, planned: &Object) -> Result<(), Diagnostics>;
    /// Updates in place.
    async fn update(&self, pg: &Pg, prior: &Object, planned: &Object) -> Result<(), Diagnostics>;
    /// Deletes.
    async fn delete(&self, pg: &Pg, prior: &Object) -> Result<(), Diagnostics>;
    /// Reads from the catalog: `None` when gone. `current` is the object as state has it.
    async fn read(&self, pg: &Pg, current: &Object) -> Result<Option<Object>, Diagnostics>;
    /// The object an import id names (enough of it for `read`).
    fn import(&self, id: &str) -> Result<Object, Diagnostics> {
        let _ = id;
        Err(Diagnostic::error("Import not supported", "This resource type cannot be imported.").into())
    }
}

/// The PostgreSQL provider.
pub struct Postgresql {
    schema: ProviderSchema,
    resources: BTreeMap<String, Box<dyn Resource>>,
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
        let mut resources: BTreeMap<String, Box<dyn Resource>> = BTreeMap::new();
        resources.insert("postgresql_database".into(), Box::new(database::Database));
        resources.insert("postgresql_role".into(), Box::new(role::Role));
        resources.insert("postgresql_schema".into(), Box::new(schema::Schema));
        resources.insert("postgresql_extension".into(), Box::new(extension::Extension));
        resources.insert("postgresql_grant".into(), Box::new(grant::Grant));
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
        for (name, resource) in &resources {
            schema.resources.insert(name.clone(), ResourceSchema { version: 0, block: resource.schema() });
        }
        Postgresql {
            schema,
            resources,
            pg: Pg {
                settings: std::sync::Mutex::new(Settings::default()),
                clients: tokio::sync::Mutex::new(HashMap::new()),
            },
        }
    }

    fn resource(&self, kind: &str) -> Result<&dyn Resource, Diagnostics> {
        self.resources.get(kind).map(|r| r.as_ref()).ok_or_else(|| {
            Diagnostic::error(
                "Unsupported resource type",
                format!("The postgresql provider has no resource type `{kind}`."),
            )
            .into()
        })
    }
}

fn object_of(value: Option<&Value>) -> Object {
    value.and_then(|v| v.bare().as_map()).cloned().unwrap_or_default()
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
        let config = object_of(Some(&request.config));
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
        let resource = self.resource(&request.kind)?;
        let block = self.schema.resources.get(&request.kind).map(|r| &r.block);
        // Unset arguments take the server's defaults before anything is compared, so leaving
        // `encoding` out is not a change from the UTF8 the server has.
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
        let mut response = plan_by_schema(block, &request);
        if let Value::Map(planned) = &mut response.planned
            && let Some(id) = resource.id(planned)
        {
            planned.insert("id".into(), Value::from(id.as_str()));
        }
        Ok(response)
    }

    async fn apply(&self, request: ApplyRequest) -> Result<ApplyResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let prior = request.prior.as_ref().map(|p| object_of(Some(p)));
        let Some(planned) = &request.planned else {
            if let Some(prior) = &prior {
                resource.delete(&self.pg, prior).await?;
            }
            return Ok(ApplyResponse { new: None });
        };
        let mut planned = object_of(Some(planned));
        match &prior {
            None => resource.create(&self.pg, &planned).await?,
            Some(prior) => resource.update(&self.pg, prior, &planned).await?,
        }
        if let Some(id) = resource.id(&planned) {
            planned.insert("id".into(), Value::from(id.as_str()));
        }
        // Computed attributes the server decides (an extension's version): read back.
        let read = resource.read(&self.pg, &planned).await?.unwrap_or_default();
        for (name, value) in planned.iter_mut() {
            if !value.is_known()
                && let Some(actual) = read.get(name)
            {
                *value = actual.clone();
            }
        }
        for value in planned.values_mut() {
            if !value.is_known() {
                *value = Value::Null;
            }
        }
        Ok(ApplyResponse { new: Some(Value::Map(planned)) })
    }

    async fn read(&self, request: ReadRequest) -> Result<ReadResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let current = object_of(Some(&request.current));
        let read = resource.read(&self.pg, &current).await?;
        Ok(ReadResponse { current: read.map(Value::Map) })
    }

    async fn import(&self, request: ImportRequest) -> Result<ImportResponse, Diagnostics> {
        let resource = self.resource(&request.kind)?;
        let skeleton = resource.import(&request.id)?;
        match resource.read(&self.pg, &skeleton).await? {
            Some(object) => Ok(ImportResponse { current: Value::Map(object) }),
            None => Err(Diagnostic::error(
                "Cannot import a missing object",
                format!("There is no {} `{}` on the server.", request.kind, request.id),
            )
            .into()),
        }
    }
}
