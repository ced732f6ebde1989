variable "name" {
  type = string
}

resource "terraform_data" "bucket" {
  input = var.name
}

output "name" {
  value = terraform_data.bucket.output
}
