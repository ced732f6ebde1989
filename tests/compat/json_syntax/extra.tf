output "mixed" {
  value = "${local.prefix} is read from JSON"
}
