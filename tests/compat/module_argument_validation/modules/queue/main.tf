variable "engine" {
  type = string

  validation {
    condition     = contains(["rabbitmq", "nats"], var.engine)
    error_message = "The engine must be \"rabbitmq\" or \"nats\"."
  }
}

output "engine" {
  value = var.engine
}
