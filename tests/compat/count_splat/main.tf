# count-based resources, splats over them, element() wrap-around, index keys, conditional
# creation with count = var.create ? 1 : 0 and one()/[0] access patterns.
variable "create" {
  type    = bool
  default = true
}

variable "names" {
  type    = list(string)
  default = ["alpha", "beta", "gamma"]
}

variable "zones" {
  type    = list(string)
  default = ["a", "b"]
}

resource "terraform_data" "node" {
  count = length(var.names)
  input = { name = var.names[count.index], zone = element(var.zones, count.index) }
}

resource "terraform_data" "optional" {
  count = var.create ? 1 : 0
  input = "created"
}

resource "terraform_data" "skipped" {
  count = var.create ? 0 : 1
  input = "never"
}

output "names" { value = terraform_data.node[*].input.name }
output "zones" { value = terraform_data.node[*].input.zone }
output "optional" { value = one(terraform_data.optional[*].output) }
output "skipped" { value = try(terraform_data.skipped[0].output, "none") }
output "index" { value = index(var.names, "beta") }
output "by_zone" {
  value = { for n in terraform_data.node : n.input.zone => n.input.name... }
}
