# validate checks every value a root variable could have: the default's empty list does not
# make `var.zones[0]` an error at validate time, but plan evaluates the default and fails.
variable "zones" {
  type    = list(string)
  default = []
}

locals {
  first_zone = var.zones[0]
}

resource "terraform_data" "subnet" {
  input = local.first_zone
}

output "zone" {
  value = terraform_data.subnet.output
}
