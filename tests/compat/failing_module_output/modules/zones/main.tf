variable "zones" {
  type    = list(string)
  default = []
}

output "first" {
  value = var.zones[0]
}

output "count" {
  value = length(var.zones)
}
