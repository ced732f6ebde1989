variable "name" { type = string }
variable "port" { type = number }
variable "replicas" { type = number }
variable "subnets" { type = list(string) }

resource "terraform_data" "instance" {
  count = var.replicas
  input = {
    name   = "${var.name}-${count.index}"
    subnet = element(var.subnets, count.index)
  }
}

output "endpoint" { value = "http://${var.name}.internal:${var.port}" }
output "instance_names" { value = terraform_data.instance[*].input.name }
