# Shaped like hashicorp/subnets/cidr: networks named with their new bits, the blocks computed
# with cidrsubnets, null names skipping a range, plus a VPC-style public/private split by AZ.
variable "base_cidr_block" {
  type    = string
  default = "10.20.0.0/16"
}

variable "networks" {
  type = list(object({ name = string, new_bits = number }))
  default = [
    { name = "foo", new_bits = 8 },
    { name = "bar", new_bits = 8 },
    { name = null, new_bits = 4 },
    { name = "baz", new_bits = 4 },
    { name = "beep", new_bits = 6 },
  ]
}

variable "azs" {
  type    = list(string)
  default = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

locals {
  addrs_by_idx  = cidrsubnets(var.base_cidr_block, var.networks[*].new_bits...)
  addrs_by_name = { for i, n in var.networks : n.name => local.addrs_by_idx[i] if n.name != null }
  network_objs = [for i, n in var.networks : {
    name       = n.name
    new_bits   = n.new_bits
    cidr_block = n.name != null ? local.addrs_by_idx[i] : tostring(null)
  }]
  public  = [for i, az in var.azs : cidrsubnet(var.base_cidr_block, 8, i)]
  private = [for i, az in var.azs : cidrsubnet(var.base_cidr_block, 8, i + 100)]
  subnets = merge(
    { for i, az in var.azs : "public-${az}" => { cidr = local.public[i], az = az, public = true } },
    { for i, az in var.azs : "private-${az}" => { cidr = local.private[i], az = az, public = false } },
  )
}

resource "terraform_data" "subnet" {
  for_each = local.subnets
  input    = each.value
}

output "network_cidr_blocks" { value = tomap(local.addrs_by_name) }
output "networks" { value = tolist(local.network_objs) }
output "hosts" { value = [for s in local.public : cidrhost(s, 5)] }
output "netmasks" { value = distinct([for s in local.addrs_by_idx : cidrnetmask(s)]) }
output "subnet_keys" { value = keys(terraform_data.subnet) }
output "v6" { value = cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162) }
