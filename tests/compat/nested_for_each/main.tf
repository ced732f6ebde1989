# Subnets per VPC per zone: a nested map flattened into one keyed for_each, with references
# between resources by key, as network modules wire route tables to subnets.
variable "vpcs" {
  type = map(object({
    cidr  = string
    zones = list(string)
    public = optional(bool, false)
  }))
  default = {
    shared = { cidr = "10.0.0.0/16", zones = ["a", "b"], public = true }
    app    = { cidr = "10.1.0.0/16", zones = ["a", "b", "c"] }
  }
}

locals {
  subnets = flatten([
    for vpc_name, vpc in var.vpcs : [
      for i, zone in vpc.zones : {
        key    = "${vpc_name}/${zone}"
        vpc    = vpc_name
        zone   = zone
        cidr   = cidrsubnet(vpc.cidr, 8, i)
        public = vpc.public
      }
    ]
  ])
}

resource "terraform_data" "vpc" {
  for_each = var.vpcs
  input    = each.value.cidr
}

resource "terraform_data" "subnet" {
  for_each = { for s in local.subnets : s.key => s }
  input = {
    vpc_cidr = terraform_data.vpc[each.value.vpc].output
    cidr     = each.value.cidr
    zone     = each.value.zone
  }
}

resource "terraform_data" "route" {
  for_each = { for k, s in terraform_data.subnet : k => s if local.subnets[index(local.subnets[*].key, k)].public }
  input    = "igw -> ${each.value.input.cidr}"
}

output "subnet_cidrs" { value = { for k, s in terraform_data.subnet : k => s.output.cidr } }
output "routes" { value = sort([for r in terraform_data.route : r.output]) }
output "count_by_vpc" { value = { for v in keys(var.vpcs) : v => length([for s in local.subnets : s if s.vpc == v]) } }
