# The `database` block: a PostgreSQL database with a role of its own and a generated password,
# extensions, and a Kubernetes Secret holding its URL for the services that use it
# (`secret = false` where there is no cluster).
#
#   database "orders" {
#     engine     = "postgres"
#     server     = { host = "db.internal", port = 5432 }   # where services reach it
#     extensions = ["pgcrypto"]
#   }

variable "name" {
  type        = string
  description = "The database's name (the block's label)."
}

variable "engine" {
  type    = string
  default = "postgres"
  validation {
    condition     = var.engine == "postgres"
    error_message = "The database engine is \"postgres\"."
  }
}

variable "server" {
  type    = object({ host = optional(string, "127.0.0.1"), port = optional(number, 5432) })
  default = {}
}

variable "extensions" {
  type    = list(string)
  default = []
}

variable "secret" {
  type        = bool
  default     = true
  description = "Keep the URL in a Kubernetes Secret named `<name>-database` (needs a cluster)."
}

variable "namespace" {
  type    = string
  default = "default"
}

resource "random_password" "password" {
  length  = 32
  special = false
}

resource "postgresql_role" "owner" {
  name     = "${var.name}_owner"
  login    = true
  password = random_password.password.result
}

resource "postgresql_database" "this" {
  name  = var.name
  owner = postgresql_role.owner.name
}

resource "postgresql_extension" "this" {
  for_each = toset(var.extensions)
  name     = each.value
  database = postgresql_database.this.name
}

locals {
  url = "postgres://${postgresql_role.owner.name}:${random_password.password.result}@${var.server.host}:${var.server.port}/${postgresql_database.this.name}"
}

resource "kubernetes_manifest" "secret" {
  count = var.secret ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "Secret"
    metadata   = { name = "${var.name}-database", namespace = var.namespace }
    stringData = { DATABASE_URL = local.url }
  }
}

output "secret" {
  description = "The Secret's name, for a service's `secrets` (null without one)."
  value       = var.secret ? "${var.name}-database" : null
}

output "url" {
  value     = local.url
  sensitive = true
}

output "env" {
  description = "What a service that uses it gets in its environment."
  value       = { "${upper(replace(var.name, "-", "_"))}_DATABASE" = var.name }
}
