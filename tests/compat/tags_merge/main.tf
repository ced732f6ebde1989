# Default tags merged with per-resource tags, nulls dropped, keys normalised, as every tagging
# convention in community modules does.
variable "default_tags" {
  type = map(string)
  default = { Environment = "prod", ManagedBy = "terraform", Owner = null }
}

variable "resources" {
  type = map(object({ tags = optional(map(string), {}), enabled = optional(bool, true) }))
  default = {
    queue  = { tags = { Owner = "team-a", Tier = "backend" } }
    cache  = { enabled = false }
    bucket = { tags = { "cost-center" = "42" } }
  }
}

locals {
  defaults = { for k, v in var.default_tags : k => v if v != null }
  enabled  = { for k, r in var.resources : k => r if r.enabled }
  tags = {
    for k, r in local.enabled : k => merge(local.defaults, { Name = k }, { for tk, tv in r.tags : replace(title(replace(tk, "-", " ")), " ", "") => tv })
  }
}

resource "terraform_data" "tagged" {
  for_each = local.tags
  input    = each.value
}

output "tags" { value = local.tags }
output "tag_keys" { value = sort(distinct(flatten([for t in values(local.tags) : keys(t)]))) }
output "disabled" { value = sort([for k, r in var.resources : k if !r.enabled]) }
output "owners" { value = { for k, t in terraform_data.tagged : k => lookup(t.input, "Owner", "none") } }
