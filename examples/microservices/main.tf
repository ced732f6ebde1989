# A micro-services platform in the platform vocabulary: one cluster, two databases, two queues,
# three services. Each block is a module shipped inside infra (`infra platform show service`).

variable "postgres_port" {
  type    = number
  default = 5432
}

variable "rabbitmq_endpoint" {
  type    = string
  default = "http://127.0.0.1:15672"
}

variable "nats_servers" {
  type    = string
  default = "nats://127.0.0.1:4222"
}

variable "oncall_webhook" {
  type      = string
  sensitive = true
  default   = "https://oncall.example/hooks/infra"
}

provider "postgresql" {
  host     = "127.0.0.1"
  port     = var.postgres_port
  username = "postgres"
  sslmode  = "disable"
}

provider "rabbitmq" {
  endpoint = var.rabbitmq_endpoint
  username = "guest"
  password = "guest"
}

provider "jetstream" {
  servers = var.nats_servers
}

cluster "main" {
  provider      = "aws"
  nodes         = 3
  instance_type = "t3.medium"
  cidr          = "10.40.0.0/16"
  # Prometheus (20 days), Alertmanager, Grafana, Loki and an OpenTelemetry collector come with
  # it; alerts go where `alert_receivers` says.
  alert_receivers = [{ name = "oncall", severity = "page", webhook_url = var.oncall_webhook }]
}

database "orders" {
  engine     = "postgres"
  server     = { port = var.postgres_port }
  extensions = ["pgcrypto"]
}

database "catalog" {
  engine = "postgres"
  server = { port = var.postgres_port }
}

queue "order-events" {
  engine      = "rabbitmq"
  ttl         = 3600
  dead_letter = true
}

queue "audit" {
  engine = "nats"
  ttl    = 604800
}

service "orders" {
  image     = "ghcr.io/acme/orders:1.4.2"
  port      = 8080
  health    = { path = "/healthz" }
  autoscale = { min = 2, max = 10, cpu = 70 }
  uses      = [database.orders, queue.order-events, queue.audit]
  slo       = { availability = 99.9, latency_p99_ms = 300, team = "orders" }
}

service "catalog" {
  image    = "ghcr.io/acme/catalog:2.0.1"
  replicas = 2
  port     = 8081
  uses     = [database.catalog]
}

service "notifier" {
  image  = "ghcr.io/acme/notifier:0.9.0"
  port   = 9000
  expose = false
  env    = { LOG_LEVEL = "info" }
  uses   = [queue.order-events]
}

output "cluster_endpoint" {
  value = cluster.main.endpoint
}

output "orders_url" {
  value = service.orders.url
}
