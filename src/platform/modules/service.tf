# The `service` block: a Deployment with probes and Prometheus annotations, a Service, a
# HorizontalPodAutoscaler and a PodDisruptionBudget, wired to the databases and queues it uses.
#
#   service "api" {
#     image     = "ghcr.io/acme/api:1.4.2"
#     replicas  = 2
#     port      = 8080
#     env       = { LOG_LEVEL = "info" }
#     health    = { path = "/healthz" }
#     autoscale = { min = 2, max = 10, cpu = 70 }
#     uses      = [database.orders, queue.events]
#   }

variable "name" {
  type = string
}

variable "image" {
  type = string
}

variable "replicas" {
  type    = number
  default = 1
}

variable "port" {
  type    = number
  default = 8080
}

variable "env" {
  type    = map(string)
  default = {}
}

variable "secrets" {
  type        = list(string)
  default     = []
  description = "Secrets whose keys become environment variables."
}

variable "health" {
  type    = object({ path = optional(string, "/healthz"), port = optional(number) })
  default = {}
}

variable "resources" {
  type = object({
    cpu    = optional(string, "100m")
    memory = optional(string, "128Mi")
  })
  default = {}
}

variable "autoscale" {
  type    = object({ min = number, max = number, cpu = optional(number, 80) })
  default = null
}

variable "expose" {
  type    = bool
  default = true
}

variable "uses" {
  type        = list(any)
  default     = []
  description = "Databases and queues (`database.orders`, `queue.events`) whose settings it gets."
}

variable "namespace" {
  type    = string
  default = "default"
}

variable "slo" {
  type = object({
    availability    = optional(number)
    latency_p99_ms  = optional(number)
    team            = optional(string)
    requests_metric = optional(string, "http_requests_total")
    errors_filter   = optional(string, "code=~\"5..\"")
    latency_metric  = optional(string, "http_request_duration_seconds")
  })
  default     = null
  description = "Objectives: `availability` (percent of requests that succeed, e.g. 99.9) becomes multi-window burn-rate alerts, `latency_p99_ms` a latency alert; `team` is a routing label."
}

variable "telemetry" {
  type = object({
    enabled         = optional(bool, true)
    otlp_endpoint   = optional(string, "http://otel-collector.monitoring.svc:4318")
    dashboard       = optional(bool, true)
    service_monitor = optional(bool, false)
    metrics_path    = optional(string, "/metrics")
  })
  default     = {}
  description = "OpenTelemetry settings in the environment (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`), a generated Grafana dashboard, and a `ServiceMonitor` (for clusters running the Prometheus operator; pods are annotated for scraping either way)."
}

locals {
  labels      = { "app.kubernetes.io/name" = var.name, "app.kubernetes.io/managed-by" = "infra" }
  health_port = coalesce(var.health.port, var.port)
  telemetry_env = var.telemetry.enabled ? {
    OTEL_EXPORTER_OTLP_ENDPOINT = var.telemetry.otlp_endpoint
    OTEL_SERVICE_NAME           = var.name
  } : {}
  wired_env = merge(local.telemetry_env, var.env, [for used in var.uses : used.env]...)
  secrets   = concat(var.secrets, compact([for used in var.uses : used.secret]))
}

resource "kubernetes_manifest" "deployment" {
  manifest = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = var.name, namespace = var.namespace, labels = local.labels }
    spec = {
      # With an autoscaler, replicas are its to set: applying them too would undo each scaling.
      replicas = var.autoscale == null ? var.replicas : null
      selector = { matchLabels = { "app.kubernetes.io/name" = var.name } }
      template = {
        metadata = {
          labels = local.labels
          annotations = {
            "prometheus.io/scrape" = "true"
            "prometheus.io/port"   = tostring(var.port)
            "prometheus.io/path"   = var.telemetry.metrics_path
          }
        }
        spec = {
          containers = [{
            name      = var.name
            image     = var.image
            ports     = [{ containerPort = var.port, name = "http" }]
            env       = [for key in sort(keys(local.wired_env)) : { name = key, value = local.wired_env[key] }]
            envFrom   = [for secret in local.secrets : { secretRef = { name = secret } }]
            resources = { requests = { cpu = var.resources.cpu, memory = var.resources.memory } }
            readinessProbe = {
              httpGet       = { path = var.health.path, port = local.health_port }
              periodSeconds = 5
            }
            livenessProbe = {
              httpGet             = { path = var.health.path, port = local.health_port }
              initialDelaySeconds = 10
              periodSeconds       = 10
            }
          }]
        }
      }
    }
  }
}

resource "kubernetes_manifest" "service" {
  count = var.expose ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "Service"
    metadata   = { name = var.name, namespace = var.namespace, labels = local.labels }
    spec = {
      selector = { "app.kubernetes.io/name" = var.name }
      ports    = [{ name = "http", port = 80, targetPort = var.port }]
    }
  }
}

resource "kubernetes_manifest" "autoscaler" {
  count = var.autoscale == null ? 0 : 1
  manifest = {
    apiVersion = "autoscaling/v2"
    kind       = "HorizontalPodAutoscaler"
    metadata   = { name = var.name, namespace = var.namespace, labels = local.labels }
    spec = {
      scaleTargetRef = { apiVersion = "apps/v1", kind = "Deployment", name = var.name }
      minReplicas    = var.autoscale.min
      maxReplicas    = var.autoscale.max
      metrics = [{
        type     = "Resource"
        resource = { name = "cpu", target = { type = "Utilization", averageUtilization = var.autoscale.cpu } }
      }]
    }
  }
}

resource "kubernetes_manifest" "disruption_budget" {
  count = (var.autoscale == null ? var.replicas : var.autoscale.min) > 1 ? 1 : 0
  manifest = {
    apiVersion = "policy/v1"
    kind       = "PodDisruptionBudget"
    metadata   = { name = var.name, namespace = var.namespace, labels = local.labels }
    spec = {
      minAvailable = 1
      selector     = { matchLabels = { "app.kubernetes.io/name" = var.name } }
    }
  }
}

# Alerts from objectives, as the SRE workbook's multi-window, multi-burn-rate alerts: the error
# budget (100 % - availability) burning 14.4 times too fast over 1 h (and 5 m) or 6 times over
# 6 h (and 30 m) pages; 3 times over 1 d (and 2 h) or once over 3 d (and 6 h) opens a ticket. A
# p99 latency over the objective for 10 minutes pages too. Prometheus loads the ConfigMap
# (label `infra.dev/prometheus-rules`) through the cluster's rules sidecar.
locals {
  slo_selector = "service=\"${var.name}\""
  slo_budget   = var.slo == null ? null : var.slo.availability == null ? null : replace(format("%.10f", (100 - var.slo.availability) / 100), "/0+$/", "")
  slo_labels   = merge({ service = var.name }, var.slo == null ? {} : var.slo.team == null ? {} : { team = var.slo.team })
  burn_windows = [
    { severity = "page", long = "1h", short = "5m", factor = 14.4, for = "2m" },
    { severity = "page", long = "6h", short = "30m", factor = 6, for = "15m" },
    { severity = "ticket", long = "1d", short = "2h", factor = 3, for = "1h" },
    { severity = "ticket", long = "3d", short = "6h", factor = 1, for = "3h" },
  ]
  error_ratio = var.slo == null ? {} : {
    for window in distinct(flatten([for w in local.burn_windows : [w.long, w.short]])) :
    window => "(sum(rate(${var.slo.requests_metric}{${local.slo_selector},${var.slo.errors_filter}}[${window}])) / sum(rate(${var.slo.requests_metric}{${local.slo_selector}}[${window}])))"
  }
  availability_rules = local.slo_budget == null ? [] : [
    for w in local.burn_windows : {
      alert  = "ErrorBudgetBurn"
      expr   = "${local.error_ratio[w.long]} > (${w.factor} * ${local.slo_budget})\nand\n${local.error_ratio[w.short]} > (${w.factor} * ${local.slo_budget})"
      for    = w.for
      labels = merge(local.slo_labels, { severity = w.severity, slo = "availability", long_window = w.long })
      annotations = {
        summary     = "${var.name} is burning its error budget ${w.factor}x too fast"
        description = "${var.name}: more than ${w.factor} x ${local.slo_budget} of requests failed over the last ${w.long} and ${w.short} (objective ${var.slo.availability} %)."
      }
    }
  ]
  latency_rules = var.slo == null ? [] : var.slo.latency_p99_ms == null ? [] : [{
    alert  = "LatencyObjectiveMissed"
    expr   = "histogram_quantile(0.99, sum by (le) (rate(${var.slo.latency_metric}_bucket{${local.slo_selector}}[5m]))) > ${var.slo.latency_p99_ms / 1000}"
    for    = "10m"
    labels = merge(local.slo_labels, { severity = "page", slo = "latency" })
    annotations = {
      summary     = "${var.name} p99 latency is over ${var.slo.latency_p99_ms} ms"
      description = "${var.name}: the 99th percentile of request latency has been over ${var.slo.latency_p99_ms} ms for 10 minutes."
    }
  }]
  alert_rules = yamlencode({ groups = [{ name = "${var.name}-objectives", rules = concat(local.availability_rules, local.latency_rules) }] })

  # Request rate, errors, latency and saturation (the four golden signals).
  dashboard = jsonencode({
    title         = var.name
    uid           = substr(sha256("${var.namespace}/${var.name}"), 0, 12)
    tags          = ["infra", "service"]
    schemaVersion = 39
    time          = { from = "now-6h", to = "now" }
    panels = [
      for index, panel in [
        { title = "Requests per second", expr = "sum(rate(http_requests_total{${local.slo_selector}}[5m]))", unit = "reqps" },
        { title = "Errors (ratio)", expr = "sum(rate(http_requests_total{${local.slo_selector},code=~\"5..\"}[5m])) / sum(rate(http_requests_total{${local.slo_selector}}[5m]))", unit = "percentunit" },
        { title = "Latency p50 / p99", expr = "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${local.slo_selector}}[5m])))", unit = "s" },
        { title = "CPU (saturation)", expr = "sum(rate(container_cpu_usage_seconds_total{namespace=\"${var.namespace}\",pod=~\"${var.name}-.*\"}[5m]))", unit = "short" },
        ] : {
        id          = index + 1
        type        = "timeseries"
        title       = panel.title
        datasource  = { type = "prometheus", uid = "prometheus" }
        gridPos     = { x = (index % 2) * 12, y = floor(index / 2) * 8, w = 12, h = 8 }
        fieldConfig = { defaults = { unit = panel.unit }, overrides = [] }
        targets     = [{ refId = "A", expr = panel.expr, datasource = { type = "prometheus", uid = "prometheus" } }]
      }
    ]
  })
}

resource "kubernetes_manifest" "alerts" {
  count = length(local.availability_rules) + length(local.latency_rules) > 0 ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata = {
      name      = "${var.name}-alerts"
      namespace = var.namespace
      labels    = merge(local.labels, { "infra.dev/prometheus-rules" = "1" })
    }
    data = { "${var.namespace}-${var.name}.yaml" = local.alert_rules }
  }
}

resource "kubernetes_manifest" "dashboard" {
  count = var.telemetry.dashboard ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata = {
      name      = "${var.name}-dashboard"
      namespace = var.namespace
      labels    = merge(local.labels, { grafana_dashboard = "1" })
    }
    data = { "${var.namespace}-${var.name}.json" = local.dashboard }
  }
}

# For a cluster whose Prometheus is the operator's: a ServiceMonitor on the Service's port.
resource "kubernetes_manifest" "service_monitor" {
  count = var.telemetry.service_monitor && var.expose ? 1 : 0
  manifest = {
    apiVersion = "monitoring.coreos.com/v1"
    kind       = "ServiceMonitor"
    metadata   = { name = var.name, namespace = var.namespace, labels = local.labels }
    spec = {
      selector  = { matchLabels = { "app.kubernetes.io/name" = var.name } }
      endpoints = [{ port = "http", path = var.telemetry.metrics_path, interval = "30s" }]
    }
  }
}

output "alert_rules" {
  value       = length(local.availability_rules) + length(local.latency_rules) > 0 ? local.alert_rules : null
  description = "The Prometheus rules file of the objectives (for `promtool check rules`)."
}

output "url" {
  value = var.expose ? "http://${var.name}.${var.namespace}.svc" : null
}
