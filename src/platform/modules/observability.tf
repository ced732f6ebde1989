
# ---------------------------------------------------------------------------------------------
# The cluster's observability stack, as Kubernetes objects applied through the `kubernetes`
# provider (the cluster it points at): Prometheus (retention and persistent storage), Alertmanager
# (receivers from `alert_receivers`), Grafana (data sources, dashboards from ConfigMaps labelled
# `grafana_dashboard`), Loki with a Fluent Bit collector for container logs, and an
# OpenTelemetry collector receiving OTLP. Every part can be switched off; images are variables.
#
#   cluster "main" {
#     observability   = { prometheus = { retention = "30d" }, logs = { enabled = false } }
#     alert_receivers = [{ name = "oncall", slack_url = var.slack_hook, severity = "page" }]
#   }
#
# Services add their alert rules (ConfigMaps labelled `infra.dev/prometheus-rules`) and
# dashboards (`grafana_dashboard`) in their own namespace; sidecars load them from every
# namespace.
# ---------------------------------------------------------------------------------------------

variable "observability" {
  type = object({
    enabled   = optional(bool, true)
    namespace = optional(string, "monitoring")
    prometheus = optional(object({
      enabled   = optional(bool, true)
      image     = optional(string, "quay.io/prometheus/prometheus:v3.5.0")
      retention = optional(string, "20d")
      storage   = optional(string, "50Gi")
    }), {})
    alertmanager = optional(object({
      enabled = optional(bool, true)
      image   = optional(string, "quay.io/prometheus/alertmanager:v0.28.1")
    }), {})
    grafana = optional(object({
      enabled       = optional(bool, true)
      image         = optional(string, "docker.io/grafana/grafana:12.1.0")
      sidecar_image = optional(string, "quay.io/kiwigrid/k8s-sidecar:1.30.7")
    }), {})
    logs = optional(object({
      enabled         = optional(bool, true)
      store_image     = optional(string, "docker.io/grafana/loki:3.5.3")
      collector_image = optional(string, "cr.fluentbit.io/fluent/fluent-bit:4.0.7")
      retention       = optional(string, "168h")
      storage         = optional(string, "20Gi")
    }), {})
    tracing = optional(object({
      enabled         = optional(bool, true)
      image           = optional(string, "docker.io/otel/opentelemetry-collector-contrib:0.131.0")
      traces_endpoint = optional(string)
    }), {})
  })
  default     = {}
  description = "The observability stack: each part on by default, with its image and settings."
}

variable "alert_receivers" {
  type = list(object({
    name        = string
    severity    = optional(string)
    webhook_url = optional(string)
    slack_url   = optional(string)
    channel     = optional(string)
    email       = optional(string)
    smtp_from   = optional(string)
    smtp_host   = optional(string)
  }))
  default     = []
  sensitive   = true
  description = "Where alerts go: a receiver per destination; `severity` routes alerts of that severity to it."
}

locals {
  obs          = var.observability
  obs_ns       = local.obs.namespace
  obs_labels   = { "app.kubernetes.io/part-of" = "observability", "app.kubernetes.io/managed-by" = "infra" }
  prometheus   = local.obs.enabled && local.obs.prometheus.enabled
  alertmanager = local.obs.enabled && local.obs.alertmanager.enabled
  grafana      = local.obs.enabled && local.obs.grafana.enabled
  logs         = local.obs.enabled && local.obs.logs.enabled
  tracing      = local.obs.enabled && local.obs.tracing.enabled

  prometheus_config = yamlencode({
    global = { scrape_interval = "30s", evaluation_interval = "30s" }
    alerting = {
      alertmanagers = local.alertmanager ? [{ static_configs = [{ targets = ["alertmanager.${local.obs_ns}.svc:9093"] }] }] : []
    }
    rule_files = ["/etc/prometheus/rules/*.yaml"]
    scrape_configs = [
      {
        job_name       = "prometheus"
        static_configs = [{ targets = ["localhost:9090"] }]
      },
      {
        job_name              = "kubernetes-pods"
        kubernetes_sd_configs = [{ role = "pod" }]
        relabel_configs = [
          { source_labels = ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], action = "keep", regex = "true" },
          { source_labels = ["__meta_kubernetes_pod_annotation_prometheus_io_path"], action = "replace", target_label = "__metrics_path__", regex = "(.+)" },
          { source_labels = ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"], action = "replace", regex = "([^:]+)(?::\\d+)?;(\\d+)", replacement = "$1:$2", target_label = "__address__" },
          { source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], target_label = "service" },
          { source_labels = ["__meta_kubernetes_namespace"], target_label = "namespace" },
          { source_labels = ["__meta_kubernetes_pod_name"], target_label = "pod" },
        ]
      },
    ]
  })

  # Alertmanager: a `null` receiver for what no route takes, one receiver per destination, a
  # route per receiver with a severity.
  alertmanager_config = yamlencode({
    route = {
      receiver        = "null"
      group_by        = ["alertname", "service"]
      group_wait      = "30s"
      group_interval  = "5m"
      repeat_interval = "4h"
      routes = [
        for receiver in var.alert_receivers : {
          receiver = receiver.name
          matchers = receiver.severity == null ? [] : ["severity=\"${receiver.severity}\""]
          continue = true
        }
      ]
    }
    receivers = concat([{ name = "null" }], [
      for receiver in var.alert_receivers : {
        name            = receiver.name
        webhook_configs = [for url in compact([receiver.webhook_url]) : { url = url, send_resolved = true }]
        slack_configs = [
          for url in compact([receiver.slack_url]) : {
            api_url       = url
            channel       = coalesce(receiver.channel, "#alerts")
            send_resolved = true
            title         = "{{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})"
            text          = "{{ range .Alerts }}{{ .Annotations.description }}\n{{ end }}"
          }
        ]
        email_configs = [
          for to in compact([receiver.email]) : {
            to        = to
            from      = coalesce(receiver.smtp_from, "alertmanager@localhost")
            smarthost = coalesce(receiver.smtp_host, "localhost:25")
          }
        ]
      }
    ])
  })

  grafana_datasources = yamlencode({
    apiVersion = 1
    datasources = concat(
      local.prometheus ? [{ name = "Prometheus", type = "prometheus", uid = "prometheus", access = "proxy", url = "http://prometheus.${local.obs_ns}.svc:9090", isDefault = true }] : [],
      local.logs ? [{ name = "Loki", type = "loki", uid = "loki", access = "proxy", url = "http://loki.${local.obs_ns}.svc:3100" }] : [],
      local.alertmanager ? [{ name = "Alertmanager", type = "alertmanager", uid = "alertmanager", access = "proxy", url = "http://alertmanager.${local.obs_ns}.svc:9093", jsonData = { implementation = "prometheus" } }] : [],
    )
  })

  loki_config = yamlencode({
    auth_enabled = false
    server       = { http_listen_port = 3100 }
    common = {
      path_prefix        = "/var/loki"
      replication_factor = 1
      ring               = { kvstore = { store = "inmemory" } }
      storage            = { filesystem = { chunks_directory = "/var/loki/chunks", rules_directory = "/var/loki/rules" } }
    }
    schema_config = {
      configs = [{ from = "2024-01-01", store = "tsdb", object_store = "filesystem", schema = "v13", index = { prefix = "index_", period = "24h" } }]
    }
    limits_config = { retention_period = local.obs.logs.retention }
    compactor     = { working_directory = "/var/loki/compactor", retention_enabled = true, delete_request_store = "filesystem" }
  })

  fluent_bit_config = <<-EOT
    [SERVICE]
        Flush        5
        Parsers_File /fluent-bit/etc/parsers.conf
    [INPUT]
        Name             tail
        Path             /var/log/containers/*.log
        multiline.parser cri, docker
        Tag              kube.*
        Mem_Buf_Limit    50MB
    [FILTER]
        Name      kubernetes
        Match     kube.*
        Merge_Log On
    [OUTPUT]
        Name        loki
        Match       kube.*
        Host        loki.${local.obs_ns}.svc
        Port        3100
        Labels      job=fluent-bit
        Label_Keys  $kubernetes['namespace_name'],$kubernetes['pod_name'],$kubernetes['container_name']
  EOT

  otel_config = yamlencode({
    receivers  = { otlp = { protocols = { grpc = { endpoint = "0.0.0.0:4317" }, http = { endpoint = "0.0.0.0:4318" } } } }
    processors = { batch = {} }
    exporters = merge(
      { debug = { verbosity = "basic" } },
      local.obs.tracing.traces_endpoint == null ? {} : { otlphttp = { endpoint = local.obs.tracing.traces_endpoint } },
    )
    service = {
      pipelines = {
        traces = { receivers = ["otlp"], processors = ["batch"], exporters = local.obs.tracing.traces_endpoint == null ? ["debug"] : ["otlphttp"] }
      }
    }
  })
}

# One Service per running part, named after it and selecting its pods.
locals {
  obs_services = {
    for part in [
      { name = "prometheus", enabled = local.prometheus, ports = [{ name = "web", port = 9090 }] },
      { name = "alertmanager", enabled = local.alertmanager, ports = [{ name = "web", port = 9093 }] },
      { name = "grafana", enabled = local.grafana, ports = [{ name = "web", port = 3000 }] },
      { name = "loki", enabled = local.logs, ports = [{ name = "http", port = 3100 }] },
      { name = "otel-collector", enabled = local.tracing, ports = [{ name = "otlp-grpc", port = 4317 }, { name = "otlp-http", port = 4318 }] },
    ] : part.name => part.ports if part.enabled
  }
}

resource "kubernetes_manifest" "observability_service" {
  for_each = local.obs_services
  manifest = {
    apiVersion = "v1"
    kind       = "Service"
    metadata   = { name = each.key, namespace = local.obs_ns, labels = local.obs_labels }
    spec = {
      selector = { "app.kubernetes.io/name" = each.key }
      ports    = [for port in each.value : { name = port.name, port = port.port, targetPort = port.port }]
    }
  }
}

resource "kubernetes_manifest" "observability_namespace" {
  count    = local.obs.enabled ? 1 : 0
  manifest = { apiVersion = "v1", kind = "Namespace", metadata = { name = local.obs_ns, labels = local.obs_labels } }
}

# Prometheus: configuration, the rules sidecar's and its own permissions, a StatefulSet with a
# volume per replica and the retention.
resource "kubernetes_manifest" "prometheus_config" {
  count = local.prometheus ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "prometheus-config", namespace = local.obs_ns, labels = local.obs_labels }
    data       = { "prometheus.yml" = local.prometheus_config }
  }
}

resource "kubernetes_manifest" "prometheus_account" {
  count    = local.prometheus ? 1 : 0
  manifest = { apiVersion = "v1", kind = "ServiceAccount", metadata = { name = "prometheus", namespace = local.obs_ns, labels = local.obs_labels } }
}

resource "kubernetes_manifest" "observability_reader" {
  count = local.prometheus || local.grafana || local.logs ? 1 : 0
  manifest = {
    apiVersion = "rbac.authorization.k8s.io/v1"
    kind       = "ClusterRole"
    metadata   = { name = "${local.obs_ns}-reader", labels = local.obs_labels }
    rules = [
      { apiGroups = [""], resources = ["pods", "services", "endpoints", "nodes", "namespaces", "configmaps"], verbs = ["get", "list", "watch"] },
      { nonResourceURLs = ["/metrics"], verbs = ["get"] },
    ]
  }
}

resource "kubernetes_manifest" "observability_reader_binding" {
  count = local.prometheus || local.grafana || local.logs ? 1 : 0
  manifest = {
    apiVersion = "rbac.authorization.k8s.io/v1"
    kind       = "ClusterRoleBinding"
    metadata   = { name = "${local.obs_ns}-reader", labels = local.obs_labels }
    roleRef    = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = "${local.obs_ns}-reader" }
    subjects = [
      for account in ["prometheus", "grafana", "fluent-bit"] : { kind = "ServiceAccount", name = account, namespace = local.obs_ns }
    ]
  }
}

resource "kubernetes_manifest" "prometheus" {
  count = local.prometheus ? 1 : 0
  manifest = {
    apiVersion = "apps/v1"
    kind       = "StatefulSet"
    metadata   = { name = "prometheus", namespace = local.obs_ns, labels = local.obs_labels }
    spec = {
      serviceName = "prometheus"
      selector    = { matchLabels = { "app.kubernetes.io/name" = "prometheus" } }
      template = {
        metadata = {
          labels      = merge(local.obs_labels, { "app.kubernetes.io/name" = "prometheus" })
          annotations = { "infra.dev/config" = sha256(local.prometheus_config) }
        }
        spec = {
          serviceAccountName = "prometheus"
          securityContext    = { fsGroup = 65534, runAsUser = 65534, runAsNonRoot = true }
          containers = [
            {
              name  = "prometheus"
              image = local.obs.prometheus.image
              args = [
                "--config.file=/etc/prometheus/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                "--storage.tsdb.retention.time=${local.obs.prometheus.retention}",
                "--web.enable-lifecycle",
              ]
              ports          = [{ name = "web", containerPort = 9090 }]
              readinessProbe = { httpGet = { path = "/-/ready", port = 9090 } }
              livenessProbe  = { httpGet = { path = "/-/healthy", port = 9090 }, initialDelaySeconds = 30 }
              volumeMounts = [
                { name = "config", mountPath = "/etc/prometheus" },
                { name = "rules", mountPath = "/etc/prometheus/rules" },
                { name = "data", mountPath = "/prometheus" },
              ]
            },
            {
              name  = "rules"
              image = local.obs.grafana.sidecar_image
              env = [
                { name = "LABEL", value = "infra.dev/prometheus-rules" },
                { name = "FOLDER", value = "/etc/prometheus/rules" },
                { name = "NAMESPACE", value = "ALL" },
                { name = "RESOURCE", value = "configmap" },
                { name = "REQ_URL", value = "http://localhost:9090/-/reload" },
                { name = "REQ_METHOD", value = "POST" },
              ]
              volumeMounts = [{ name = "rules", mountPath = "/etc/prometheus/rules" }]
            },
          ]
          volumes = [
            { name = "config", configMap = { name = "prometheus-config" } },
            { name = "rules", emptyDir = {} },
          ]
        }
      }
      volumeClaimTemplates = [{
        metadata = { name = "data" }
        spec     = { accessModes = ["ReadWriteOnce"], resources = { requests = { storage = local.obs.prometheus.storage } } }
      }]
    }
  }
}

# Alertmanager: its configuration is a Secret (receiver URLs are credentials).
resource "kubernetes_manifest" "alertmanager_config" {
  count = local.alertmanager ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "Secret"
    metadata   = { name = "alertmanager-config", namespace = local.obs_ns, labels = local.obs_labels }
    stringData = { "alertmanager.yml" = local.alertmanager_config }
  }
}

resource "kubernetes_manifest" "alertmanager" {
  count = local.alertmanager ? 1 : 0
  manifest = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = "alertmanager", namespace = local.obs_ns, labels = local.obs_labels }
    spec = {
      selector = { matchLabels = { "app.kubernetes.io/name" = "alertmanager" } }
      template = {
        metadata = {
          labels      = merge(local.obs_labels, { "app.kubernetes.io/name" = "alertmanager" })
          annotations = { "infra.dev/config" = sha256(local.alertmanager_config) }
        }
        spec = {
          containers = [{
            name           = "alertmanager"
            image          = local.obs.alertmanager.image
            args           = ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
            ports          = [{ name = "web", containerPort = 9093 }]
            readinessProbe = { httpGet = { path = "/-/ready", port = 9093 } }
            volumeMounts   = [{ name = "config", mountPath = "/etc/alertmanager" }, { name = "data", mountPath = "/alertmanager" }]
          }]
          volumes = [{ name = "config", secret = { secretName = "alertmanager-config" } }, { name = "data", emptyDir = {} }]
        }
      }
    }
  }
}

# Grafana: data sources provisioned from a ConfigMap; dashboards loaded by a sidecar from every
# ConfigMap labelled `grafana_dashboard`.
resource "kubernetes_manifest" "grafana_provisioning" {
  count = local.grafana ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "grafana-provisioning", namespace = local.obs_ns, labels = local.obs_labels }
    data = {
      "datasources.yaml" = local.grafana_datasources
      "dashboards.yaml" = yamlencode({
        apiVersion = 1
        providers  = [{ name = "infra", type = "file", allowUiUpdates = false, options = { path = "/var/lib/grafana/dashboards", foldersFromFilesStructure = true } }]
      })
    }
  }
}

resource "kubernetes_manifest" "grafana_account" {
  count    = local.grafana ? 1 : 0
  manifest = { apiVersion = "v1", kind = "ServiceAccount", metadata = { name = "grafana", namespace = local.obs_ns, labels = local.obs_labels } }
}

resource "kubernetes_manifest" "grafana" {
  count = local.grafana ? 1 : 0
  manifest = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = "grafana", namespace = local.obs_ns, labels = local.obs_labels }
    spec = {
      selector = { matchLabels = { "app.kubernetes.io/name" = "grafana" } }
      template = {
        metadata = {
          labels      = merge(local.obs_labels, { "app.kubernetes.io/name" = "grafana" })
          annotations = { "infra.dev/config" = sha256(local.grafana_datasources) }
        }
        spec = {
          serviceAccountName = "grafana"
          containers = [
            {
              name           = "grafana"
              image          = local.obs.grafana.image
              ports          = [{ name = "web", containerPort = 3000 }]
              readinessProbe = { httpGet = { path = "/api/health", port = 3000 } }
              volumeMounts = [
                { name = "provisioning", mountPath = "/etc/grafana/provisioning/datasources/datasources.yaml", subPath = "datasources.yaml" },
                { name = "provisioning", mountPath = "/etc/grafana/provisioning/dashboards/dashboards.yaml", subPath = "dashboards.yaml" },
                { name = "dashboards", mountPath = "/var/lib/grafana/dashboards" },
              ]
            },
            {
              name  = "dashboards"
              image = local.obs.grafana.sidecar_image
              env = [
                { name = "LABEL", value = "grafana_dashboard" },
                { name = "FOLDER", value = "/var/lib/grafana/dashboards" },
                { name = "NAMESPACE", value = "ALL" },
                { name = "RESOURCE", value = "configmap" },
              ]
              volumeMounts = [{ name = "dashboards", mountPath = "/var/lib/grafana/dashboards" }]
            },
          ]
          volumes = [
            { name = "provisioning", configMap = { name = "grafana-provisioning" } },
            { name = "dashboards", emptyDir = {} },
          ]
        }
      }
    }
  }
}

# Logs: Loki (single binary, filesystem storage, retention) and Fluent Bit on every node.
resource "kubernetes_manifest" "loki_config" {
  count = local.logs ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "loki-config", namespace = local.obs_ns, labels = local.obs_labels }
    data       = { "loki.yaml" = local.loki_config }
  }
}

resource "kubernetes_manifest" "loki" {
  count = local.logs ? 1 : 0
  manifest = {
    apiVersion = "apps/v1"
    kind       = "StatefulSet"
    metadata   = { name = "loki", namespace = local.obs_ns, labels = local.obs_labels }
    spec = {
      serviceName = "loki"
      selector    = { matchLabels = { "app.kubernetes.io/name" = "loki" } }
      template = {
        metadata = {
          labels      = merge(local.obs_labels, { "app.kubernetes.io/name" = "loki" })
          annotations = { "infra.dev/config" = sha256(local.loki_config) }
        }
        spec = {
          securityContext = { fsGroup = 10001, runAsUser = 10001, runAsNonRoot = true }
          containers = [{
            name           = "loki"
            image          = local.obs.logs.store_image
            args           = ["-config.file=/etc/loki/loki.yaml"]
            ports          = [{ name = "http", containerPort = 3100 }]
            readinessProbe = { httpGet = { path = "/ready", port = 3100 } }
            volumeMounts   = [{ name = "config", mountPath = "/etc/loki" }, { name = "data", mountPath = "/var/loki" }]
          }]
          volumes = [{ name = "config", configMap = { name = "loki-config" } }]
        }
      }
      volumeClaimTemplates = [{
        metadata = { name = "data" }
        spec     = { accessModes = ["ReadWriteOnce"], resources = { requests = { storage = local.obs.logs.storage } } }
      }]
    }
  }
}

resource "kubernetes_manifest" "log_collector_config" {
  count = local.logs ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "fluent-bit-config", namespace = local.obs_ns, labels = local.obs_labels }
    data       = { "fluent-bit.conf" = local.fluent_bit_config }
  }
}

resource "kubernetes_manifest" "log_collector_account" {
  count    = local.logs ? 1 : 0
  manifest = { apiVersion = "v1", kind = "ServiceAccount", metadata = { name = "fluent-bit", namespace = local.obs_ns, labels = local.obs_labels } }
}

resource "kubernetes_manifest" "log_collector" {
  count = local.logs ? 1 : 0
  manifest = {
    apiVersion = "apps/v1"
    kind       = "DaemonSet"
    metadata   = { name = "fluent-bit", namespace = local.obs_ns, labels = local.obs_labels }
    spec = {
      selector = { matchLabels = { "app.kubernetes.io/name" = "fluent-bit" } }
      template = {
        metadata = {
          labels      = merge(local.obs_labels, { "app.kubernetes.io/name" = "fluent-bit" })
          annotations = { "infra.dev/config" = sha256(local.fluent_bit_config) }
        }
        spec = {
          serviceAccountName = "fluent-bit"
          tolerations        = [{ operator = "Exists" }]
          containers = [{
            name  = "fluent-bit"
            image = local.obs.logs.collector_image
            volumeMounts = [
              { name = "config", mountPath = "/fluent-bit/etc/fluent-bit.conf", subPath = "fluent-bit.conf" },
              { name = "varlog", mountPath = "/var/log", readOnly = true },
            ]
          }]
          volumes = [
            { name = "config", configMap = { name = "fluent-bit-config" } },
            { name = "varlog", hostPath = { path = "/var/log" } },
          ]
        }
      }
    }
  }
}

# Traces: an OpenTelemetry collector receiving OTLP (gRPC 4317, HTTP 4318).
resource "kubernetes_manifest" "otel_collector_config" {
  count = local.tracing ? 1 : 0
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "otel-collector-config", namespace = local.obs_ns, labels = local.obs_labels }
    data       = { "config.yaml" = local.otel_config }
  }
}

resource "kubernetes_manifest" "otel_collector" {
  count = local.tracing ? 1 : 0
  manifest = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = "otel-collector", namespace = local.obs_ns, labels = local.obs_labels }
    spec = {
      selector = { matchLabels = { "app.kubernetes.io/name" = "otel-collector" } }
      template = {
        metadata = {
          labels      = merge(local.obs_labels, { "app.kubernetes.io/name" = "otel-collector" })
          annotations = { "infra.dev/config" = sha256(local.otel_config) }
        }
        spec = {
          containers = [{
            name         = "otel-collector"
            image        = local.obs.tracing.image
            args         = ["--config=/etc/otel/config.yaml"]
            ports        = [{ name = "otlp-grpc", containerPort = 4317 }, { name = "otlp-http", containerPort = 4318 }]
            volumeMounts = [{ name = "config", mountPath = "/etc/otel" }]
          }]
          volumes = [{ name = "config", configMap = { name = "otel-collector-config" } }]
        }
      }
    }
  }
}

output "prometheus_config" {
  value       = local.prometheus ? local.prometheus_config : null
  description = "prometheus.yml as applied (for `promtool check config`)."
}

output "alertmanager_config" {
  value       = local.alertmanager ? local.alertmanager_config : null
  sensitive   = true
  description = "alertmanager.yml as applied (for `amtool check-config`)."
}
