# Shaped like cloudposse/terraform-null-label: a context object merged with inputs, normalised
# label values, an id truncated with a hash past id_length_limit, and tags with Name.
variable "context" {
  type = any
  default = {
    enabled             = true
    namespace           = "eg"
    tenant              = null
    environment         = "ue2"
    stage               = "prod"
    name                = null
    delimiter           = null
    attributes          = []
    tags                = { Team = "platform" }
    label_order         = []
    regex_replace_chars = null
    id_length_limit     = null
    label_key_case      = null
    label_value_case    = null
  }
}

variable "name" {
  type    = string
  default = "Billing API_Service"
}

variable "attributes" {
  type    = list(string)
  default = ["blue", "Worker"]
}

variable "id_length_limit" {
  type    = number
  default = 24
}

locals {
  defaults = {
    label_order         = ["namespace", "environment", "stage", "name", "attributes"]
    regex_replace_chars = "/[^-a-zA-Z0-9]/"
    delimiter           = "-"
    replacement         = ""
    id_length_limit     = 0
    id_hash_length      = 5
    label_key_case      = "title"
    label_value_case    = "lower"
  }
  input = {
    enabled             = var.context.enabled
    namespace           = var.context.namespace
    tenant              = var.context.tenant
    environment         = var.context.environment
    stage               = var.context.stage
    name                = var.name == null ? var.context.name : var.name
    delimiter           = var.context.delimiter
    attributes          = compact(distinct(concat(coalesce(var.context.attributes, []), var.attributes)))
    tags                = var.context.tags
    label_order         = var.context.label_order
    regex_replace_chars = var.context.regex_replace_chars
    id_length_limit     = var.id_length_limit == null ? var.context.id_length_limit : var.id_length_limit
  }
  enabled             = local.input.enabled
  regex_replace_chars = coalesce(local.input.regex_replace_chars, local.defaults.regex_replace_chars)
  formatted = {
    for k in ["namespace", "tenant", "environment", "stage", "name"] :
    k => local.input[k] == null ? "" : lower(replace(local.input[k], local.regex_replace_chars, local.defaults.replacement))
  }
  attributes = compact(distinct([for v in local.input.attributes : lower(replace(v, local.regex_replace_chars, ""))]))
  delimiter   = local.input.delimiter == null ? local.defaults.delimiter : local.input.delimiter
  label_order = length(local.input.label_order) > 0 ? local.input.label_order : local.defaults.label_order
  id_context = merge(local.formatted, { attributes = join(local.delimiter, local.attributes) })
  labels     = [for l in local.label_order : local.id_context[l] if length(local.id_context[l]) > 0]
  id_full    = join(local.delimiter, local.labels)
  id_length_limit = local.input.id_length_limit == null ? local.defaults.id_length_limit : local.input.id_length_limit
  id_truncated_length = local.id_length_limit <= local.defaults.id_hash_length ? 0 : local.id_length_limit - local.defaults.id_hash_length
  id_truncated = local.id_truncated_length == 0 ? "" : replace(trimsuffix(substr(local.id_full, 0, local.id_truncated_length), local.delimiter), "/-+$/", "")
  id_hash      = replace(base64encode(md5(local.id_full)), "/[^a-zA-Z0-9]/", "")
  id_short     = substr("${local.id_truncated}${local.delimiter}${local.id_hash}", 0, local.id_length_limit)
  id           = local.id_length_limit != 0 && length(local.id_full) > local.id_length_limit ? local.id_short : local.id_full
  tags_context = {
    namespace   = local.formatted.namespace
    environment = local.formatted.environment
    stage       = local.formatted.stage
    name        = local.id
    attributes  = join(local.delimiter, local.attributes)
  }
  generated_tags = { for l in keys(local.tags_context) : title(l) => local.tags_context[l] if length(local.tags_context[l]) > 0 }
  tags           = merge(local.generated_tags, local.input.tags)
}

resource "terraform_data" "this" {
  count = local.enabled ? 1 : 0
  input = { id = local.id, tags = local.tags }
}

output "id" { value = local.enabled ? local.id : "" }
output "id_full" { value = local.id_full }
output "tags" { value = local.tags }
output "attributes" { value = local.attributes }
output "labels" { value = local.labels }
output "context" {
  value = merge(local.input, { attributes = local.attributes, delimiter = local.delimiter })
}
