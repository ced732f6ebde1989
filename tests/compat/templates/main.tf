# Templates: heredocs with directives, strip markers, templatefile with loops, format and
# formatlist, indent, as user-data and config-file modules build them.
variable "hosts" {
  type = list(object({ name = string, ip = string }))
  default = [
    { name = "db", ip = "10.0.0.5" },
    { name = "cache", ip = "10.0.0.6" },
  ]
}

locals {
  hosts_file = <<-EOT
    # managed
    %{~ for h in var.hosts }
    ${h.ip} ${h.name}
    %{~ endfor }
    EOT
  config = templatefile("${path.module}/app.conf.tftpl", { hosts = var.hosts, debug = false, port = 8080 })
  yaml   = yamlencode({ hosts = var.hosts, count = length(var.hosts) })
  lines  = formatlist("%s=%s", var.hosts[*].name, var.hosts[*].ip)
  header = format("%-8s|%5d|%.2f|%q", "name", 42, 3.14159, "quoted")
  nested = indent(4, "a:\n  b: 1\nc: 2")
}

resource "terraform_data" "file" {
  input = sha256(local.config)
}

output "hosts_file" { value = local.hosts_file }
output "config" { value = local.config }
output "yaml" { value = local.yaml }
output "lines" { value = local.lines }
output "header" { value = local.header }
output "nested" { value = local.nested }
output "digest" { value = terraform_data.file.output }
