# The quickstart: a small platform description that runs with nothing installed.
# Built-in resources only (terraform_data, random_*, local_file); state stays local.

variable "environment" {
  type        = string
  default     = "dev"
  description = "Name of the environment, used in every resource name."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.environment))
    error_message = "The environment must be lower-case letters, digits and dashes."
  }
}

variable "services" {
  type = map(object({
    replicas = optional(number, 1)
    port     = number
  }))
  default = {
    api    = { port = 8080, replicas = 2 }
    worker = { port = 9090 }
  }
}

locals {
  prefix = "shop-${var.environment}"
  ports  = { for name, service in var.services : name => service.port }
}

resource "random_id" "suffix" {
  byte_length = 4
}

resource "terraform_data" "service" {
  for_each = var.services

  input = {
    name     = "${local.prefix}-${each.key}-${random_id.suffix.hex}"
    replicas = each.value.replicas
    port     = each.value.port
  }
}

resource "local_file" "inventory" {
  filename = "${path.module}/inventory.json"
  content = jsonencode({
    environment = var.environment
    services    = { for name, service in terraform_data.service : name => service.output }
  })
}

output "service_names" {
  value = [for service in terraform_data.service : service.output.name]
}

output "ports" {
  value = local.ports
}
