# Shaped like Azure/naming and similar naming-convention modules: slugs with length limits,
# allowed characters per resource kind, random-free unique suffixes from a hash.
variable "prefix" {
  type    = list(string)
  default = ["Contoso", "Prod"]
}

variable "suffix" {
  type    = list(string)
  default = ["EastUS-2"]
}

variable "unique_seed" {
  type    = string
  default = "subscription-0001"
}

locals {
  unique = substr(sha1(var.unique_seed), 0, 6)
  kinds = {
    storage_account = { slug = "st", max = 24, dashes = false, scope = "global" }
    key_vault       = { slug = "kv", max = 24, dashes = true, scope = "global" }
    resource_group  = { slug = "rg", max = 90, dashes = true, scope = "subscription" }
    virtual_network = { slug = "vnet", max = 64, dashes = true, scope = "group" }
  }
  parts = { for k, v in local.kinds : k => concat(var.prefix, [v.slug], var.suffix) }
  names = {
    for k, v in local.kinds : k => substr(
      v.dashes ? lower(join("-", local.parts[k])) : lower(replace(join("", local.parts[k]), "/[^a-zA-Z0-9]/", "")),
      0, v.max
    )
  }
  unique_names = { for k, v in local.kinds : k => substr("${local.names[k]}${v.dashes ? "-" : ""}${local.unique}", 0, v.max) }
  valid = { for k, n in local.unique_names : k => length(regexall("^[a-z0-9-]+$", n)) > 0 }
}

resource "terraform_data" "name" {
  for_each = local.unique_names
  input    = each.value
}

output "names" { value = local.names }
output "unique_names" { value = local.unique_names }
output "valid" { value = local.valid }
output "lengths" { value = { for k, n in local.unique_names : k => length(n) } }
output "upper_first" { value = [for p in var.prefix : "${upper(substr(p, 0, 1))}${lower(substr(p, 1, -1))}"] }
