# A namespace, a Deployment + Service + HPA and a CRD with one custom resource as plain YAML
# (every document of *.yaml is an instance of `kubernetes_manifest.yaml`), and a ConfigMap in
# HCL built from a variable. The cluster comes from KUBECONFIG (or `config_path` below).

variable "mode" {
  type    = string
  default = "production"
}

provider "kubernetes" {}

resource "kubernetes_manifest" "settings" {
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata = {
      name      = "api-settings"
      namespace = "shop"
    }
    data = {
      MODE = var.mode
    }
  }
}
