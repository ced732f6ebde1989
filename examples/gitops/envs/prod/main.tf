variable "replicas" {
  type    = number
  default = 2
}

module "api" {
  source   = "../../modules/service"
  name     = "api-prod"
  replicas = var.replicas
}

resource "local_file" "inventory" {
  filename = "/tmp/infra-gitops-prod-inventory.txt"
  content  = "api: ${module.api.name}\n"
}
