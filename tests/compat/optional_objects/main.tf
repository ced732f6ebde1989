# for_each over a map of objects whose attributes are optional() with defaults, nested
# optional objects and lists, as modern modules declare their inputs.
variable "buckets" {
  type = map(object({
    versioning = optional(bool, true)
    tier       = optional(string, "standard")
    lifecycle = optional(object({
      expire_days = optional(number, 90)
      prefixes    = optional(list(string), [])
    }), {})
    tags = optional(map(string), {})
    replicas = optional(list(object({
      region = string
      class  = optional(string, "STANDARD_IA")
    })), [])
  }))
  default = {
    logs   = { tier = "cold", lifecycle = { expire_days = 30 } }
    assets = { versioning = false, tags = { public = "yes" }, replicas = [{ region = "eu-west-1" }] }
    data   = { lifecycle = { prefixes = ["tmp/", "scratch/"] } }
  }
}

locals {
  replicas = flatten([
    for name, b in var.buckets : [
      for i, r in b.replicas : { key = "${name}-${r.region}", bucket = name, region = r.region, class = r.class }
    ]
  ])
}

resource "terraform_data" "bucket" {
  for_each = var.buckets
  input = {
    name       = each.key
    versioning = each.value.versioning
    tier       = each.value.tier
    expire     = each.value.lifecycle.expire_days
    prefixes   = each.value.lifecycle.prefixes
    tags       = merge({ Name = each.key }, each.value.tags)
  }
}

resource "terraform_data" "replica" {
  for_each = { for r in local.replicas : r.key => r }
  input    = "${each.value.bucket}:${each.value.region}:${each.value.class}"
}

output "buckets" { value = var.buckets }
output "expiry" { value = { for k, b in terraform_data.bucket : k => b.output.expire } }
output "replicas" { value = [for r in terraform_data.replica : r.output] }
