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

locals {
  labels      = { "app.kubernetes.io/name" = var.name, "app.kubernetes.io/managed-by" = "infra" }
  health_port = coalesce(var.health.port, var.port)
  wired_env   = merge(var.env, [for used in var.uses : used.env]...)
  secrets     = concat(var.secrets, compact([for used in var.uses : used.secret]))
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

output "url" {
  value = var.expose ? "http://${var.name}.${var.namespace}.svc" : null
}
