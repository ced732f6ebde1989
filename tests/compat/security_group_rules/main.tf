# Shaped like terraform-aws-modules/security-group: named rules in a map of
# [from, to, protocol, description], rule lists expanded per CIDR and per rule, for_each keys
# built from the rule's fields.
variable "rules" {
  type = map(list(any))
  default = {
    "http-80-tcp"   = [80, 80, "tcp", "HTTP"]
    "https-443-tcp" = [443, 443, "tcp", "HTTPS"]
    "ssh-tcp"       = [22, 22, "tcp", "SSH"]
    "postgresql-tcp" = [5432, 5432, "tcp", "PostgreSQL"]
    "all-all"       = [-1, -1, "-1", "All protocols"]
    "_"             = ["", "", "", ""]
  }
}

variable "ingress_rules" {
  type    = list(string)
  default = ["http-80-tcp", "https-443-tcp"]
}

variable "ingress_cidr_blocks" {
  type    = list(string)
  default = ["10.0.0.0/8", "192.168.0.0/16"]
}

variable "ingress_with_cidr_blocks" {
  type = list(map(string))
  default = [
    { rule = "postgresql-tcp", cidr_blocks = "10.1.0.0/16,10.2.0.0/16" },
    { from_port = 8080, to_port = 8090, protocol = "tcp", description = "apps", cidr_blocks = "10.3.0.0/16" },
  ]
}

variable "egress_rules" {
  type    = list(string)
  default = ["all-all"]
}

locals {
  named = flatten([
    for rule in var.ingress_rules : {
      type        = "ingress"
      from_port   = var.rules[rule][0]
      to_port     = var.rules[rule][1]
      protocol    = var.rules[rule][2]
      description = var.rules[rule][3]
      cidr_blocks = var.ingress_cidr_blocks
    }
  ])
  custom = [
    for r in var.ingress_with_cidr_blocks : {
      type        = "ingress"
      from_port   = lookup(r, "from_port", var.rules[lookup(r, "rule", "_")][0])
      to_port     = lookup(r, "to_port", var.rules[lookup(r, "rule", "_")][1])
      protocol    = lookup(r, "protocol", try(var.rules[r.rule][2], "tcp"))
      description = lookup(r, "description", try(var.rules[r.rule][3], "Ingress Rule"))
      cidr_blocks = split(",", r.cidr_blocks)
    }
  ]
  egress = [for rule in var.egress_rules : {
    type        = "egress"
    from_port   = var.rules[rule][0]
    to_port     = var.rules[rule][1]
    protocol    = var.rules[rule][2]
    description = var.rules[rule][3]
    cidr_blocks = ["0.0.0.0/0"]
  }]
  all_rules = concat(local.named, local.custom, local.egress)
  by_key = {
    for r in local.all_rules :
    "${r.type}-${r.protocol}-${r.from_port}-${r.to_port}-${join("_", sort(r.cidr_blocks))}" => r
  }
}

resource "terraform_data" "rule" {
  for_each = local.by_key
  input    = each.value
}

output "rule_keys" { value = sort(keys(local.by_key)) }
output "ports" { value = sort(distinct([for r in local.all_rules : tostring(r.from_port)])) }
output "cidr_count" { value = sum([for r in local.all_rules : length(r.cidr_blocks)]) }
output "descriptions" { value = { for k, r in terraform_data.rule : k => r.input.description } }
