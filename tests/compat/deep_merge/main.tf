# Shaped like cloudposse's deep-merge helper (config/yaml, utils): maps merged level by level,
# lists appended, the later map winning on scalars.
variable "maps" {
  type = any
  default = [
    {
      vpc = { cidr = "10.0.0.0/16", tags = { owner = "net" }, flow_logs = { enabled = false } }
      eks = { version = "1.29", node_groups = { default = { size = 2 } } }
      list = ["a"]
    },
    {
      vpc = { tags = { cost_center = "42" }, flow_logs = { enabled = true, retention = 30 } }
      eks = { node_groups = { spot = { size = 3 } } }
      list = ["b"]
      extra = "yes"
    },
  ]
}

locals {
  m0 = var.maps[0]
  m1 = var.maps[1]
  keys_all = distinct(concat(keys(local.m0), keys(local.m1)))
  level1 = {
    for k in local.keys_all : k => (
      can(keys(lookup(local.m0, k, null))) && can(keys(lookup(local.m1, k, null))) ? "map" :
      can(tolist(lookup(local.m0, k, null))) && can(tolist(lookup(local.m1, k, null))) ? "list" : "scalar"
    )
  }
  # Each kind in its own `for` (a conditional's two sides must have one type).
  maps = {
    for k in local.keys_all : k => merge(
      { for k2, v in local.m0[k] : k2 => v if !can(keys(lookup(local.m1[k], k2, null))) || !can(keys(v)) },
      { for k2, v in local.m1[k] : k2 => v if !can(keys(lookup(local.m0[k], k2, null))) || !can(keys(v)) },
      { for k2, v in local.m1[k] : k2 => merge(local.m0[k][k2], v) if can(keys(lookup(local.m0[k], k2, null))) && can(keys(v)) },
    ) if local.level1[k] == "map"
  }
  lists   = { for k in local.keys_all : k => concat(local.m0[k], local.m1[k]) if local.level1[k] == "list" }
  scalars = { for k in local.keys_all : k => lookup(local.m1, k, lookup(local.m0, k, null)) if local.level1[k] == "scalar" }
  merged  = merge(local.maps, local.lists, local.scalars)
}

resource "terraform_data" "settings" {
  for_each = { for k, v in local.merged : k => jsonencode(v) }
  input    = each.value
}

output "merged" { value = local.merged }
output "kinds" { value = local.level1 }
output "encoded" { value = { for k, r in terraform_data.settings : k => r.input } }
