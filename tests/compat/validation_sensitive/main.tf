# Variable validations, nullable, sensitive values flowing to outputs, preconditions and
# postconditions, check blocks: what hardened modules declare.
variable "password" {
  type      = string
  default   = "correct-horse-battery"
  sensitive = true
  validation {
    condition     = length(var.password) >= 12
    error_message = "The password must have at least 12 characters."
  }
}

variable "port" {
  type     = number
  default  = null
  nullable = true
}

variable "mode" {
  type     = string
  default  = "strict"
  nullable = false
  validation {
    condition     = contains(["strict", "lenient"], var.mode)
    error_message = "Mode must be strict or lenient."
  }
}

locals {
  port = var.port == null ? 5432 : var.port
  dsn  = "postgres://app:${var.password}@db:${local.port}/app"
}

resource "terraform_data" "db" {
  input = { port = local.port, mode = var.mode }
  lifecycle {
    precondition {
      condition     = local.port > 1024
      error_message = "Privileged port."
    }
    postcondition {
      condition     = self.output.port == local.port
      error_message = "Port changed."
    }
  }
}

check "mode_known" {
  assert {
    condition     = var.mode != ""
    error_message = "Empty mode."
  }
}

output "dsn" {
  value     = local.dsn
  sensitive = true
}
output "port" { value = terraform_data.db.output.port }
output "password_length" { value = nonsensitive(length(var.password)) }
output "mode" {
  value = var.mode
  precondition {
    condition     = var.mode == "strict" || var.mode == "lenient"
    error_message = "Bad mode."
  }
}
