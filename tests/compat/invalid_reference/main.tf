# A configuration Terraform's validate rejects: a reference to an undeclared variable, and an
# argument terraform_data does not have.
variable "name" {
  type    = string
  default = "x"
}

resource "terraform_data" "a" {
  input   = var.nmae
  unknown = true
}

output "name" { value = var.name }
