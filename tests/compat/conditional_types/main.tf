# Conditionals and collections whose sides differ in type, nulls, try/can/one/coalesce: what
# `var.x != null ? var.x : {}` style modules rely on.
variable "subnet_ids" {
  type    = set(string)
  default = null
}

variable "extra_ids" {
  type    = list(string)
  default = ["subnet-b", "subnet-a"]
}

variable "settings" {
  type = object({ name = string, size = optional(number) })
  default = { name = "x" }
}

variable "maybe_map" {
  type    = map(string)
  default = null
}

locals {
  ids        = var.subnet_ids != null ? var.subnet_ids : toset(var.extra_ids)
  ids_or_nil = var.subnet_ids == null ? [] : tolist(var.subnet_ids)
  size       = coalesce(var.settings.size, 10)
  first      = one([for id in local.ids : id if id == "subnet-a"])
  tags       = var.maybe_map != null ? var.maybe_map : {}
  safe       = try(var.settings.missing, "fallback")
  can_parse  = can(regex("^subnet-", "subnet-x"))
  chosen     = length(local.ids) > 1 ? tolist(local.ids) : []
  nums       = true ? [1, 2] : []
  mixed      = false ? "a" : 3
}

resource "terraform_data" "subnet" {
  for_each = local.ids
  input    = each.key
}

output "ids" { value = local.ids }
output "ids_or_nil" { value = local.ids_or_nil }
output "size" { value = local.size }
output "first" { value = local.first }
output "tags" { value = local.tags }
output "safe" { value = local.safe }
output "can_parse" { value = local.can_parse }
output "chosen" { value = local.chosen }
output "nums" { value = local.nums }
output "mixed" { value = local.mixed }
output "subnets" { value = toset([for s in terraform_data.subnet : s.input]) }
