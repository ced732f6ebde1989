variable "name" { type = string }
variable "cidr" { type = string }
variable "zones" {
  type    = number
  default = 2
}

resource "terraform_data" "vpc" {
  input = { name = var.name, cidr = var.cidr }
}

locals {
  private = [for i in range(var.zones) : cidrsubnet(var.cidr, 4, i)]
}

output "private_subnets" { value = local.private }
output "vpc" { value = terraform_data.vpc.input }
