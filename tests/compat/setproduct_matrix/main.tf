# Environment × region matrices with setproduct, keyed for_each, lookups with defaults and
# transpose, as multi-region deployment modules build them.
variable "environments" {
  type    = list(string)
  default = ["dev", "prod"]
}

variable "regions" {
  type    = list(string)
  default = ["us-east-1", "eu-west-1"]
}

variable "sizes" {
  type    = map(string)
  default = { prod = "large" }
}

locals {
  pairs = setproduct(var.environments, var.regions)
  deployments = {
    for pair in local.pairs : "${pair[0]}.${pair[1]}" => {
      environment = pair[0]
      region      = pair[1]
      size        = lookup(var.sizes, pair[0], "small")
    }
  }
  by_region = transpose({ for k, d in local.deployments : k => [d.region] })
  chunks    = chunklist(sort(keys(local.deployments)), 3)
}

resource "terraform_data" "deployment" {
  for_each = local.deployments
  input    = each.value
}

output "keys" { value = sort(keys(terraform_data.deployment)) }
output "by_region" { value = local.by_region }
output "chunks" { value = local.chunks }
output "sizes" { value = { for k, d in terraform_data.deployment : k => d.input.size } }
output "pairs" { value = local.pairs }
