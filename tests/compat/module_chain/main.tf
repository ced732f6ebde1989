# A chain of modules: a network module's outputs feed services created with for_each and
# count on module calls; outputs pass through two levels.
variable "services" {
  type = map(object({ port = number, replicas = optional(number, 1) }))
  default = {
    api    = { port = 8080, replicas = 2 }
    worker = { port = 9090 }
  }
}

module "network" {
  source = "./modules/network"
  name   = "core"
  cidr   = "10.8.0.0/16"
  zones  = 3
}

module "service" {
  source   = "./modules/service"
  for_each = var.services
  name     = each.key
  port     = each.value.port
  replicas = each.value.replicas
  subnets  = module.network.private_subnets
}

module "optional" {
  source = "./modules/network"
  count  = length(var.services) > 5 ? 1 : 0
  name   = "extra"
  cidr   = "10.9.0.0/16"
}

output "subnets" { value = module.network.private_subnets }
output "endpoints" { value = { for k, m in module.service : k => m.endpoint } }
output "instances" { value = sort(flatten([for m in module.service : m.instance_names])) }
output "optional_count" { value = length(module.optional) }
