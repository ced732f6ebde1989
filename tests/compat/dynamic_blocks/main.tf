# compat: plan-only
# dynamic blocks over rule maps in an AWS security group (terraform-aws-modules style), planned
# without touching AWS: the provider is configured to skip every credential check.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

variable "ingress" {
  type = map(object({
    port        = number
    protocol    = optional(string, "tcp")
    cidr_blocks = optional(list(string), ["10.0.0.0/8"])
    description = optional(string)
  }))
  default = {
    http  = { port = 80, description = "web" }
    https = { port = 443 }
    dns   = { port = 53, protocol = "udp", cidr_blocks = ["10.0.0.2/32"] }
  }
}

variable "egress_open" {
  type    = bool
  default = true
}

resource "aws_security_group" "web" {
  name        = "web"
  description = "web tier"
  vpc_id      = "vpc-12345678"

  dynamic "ingress" {
    for_each = var.ingress
    content {
      description = coalesce(ingress.value.description, ingress.key)
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = ingress.value.protocol
      cidr_blocks = ingress.value.cidr_blocks
    }
  }

  dynamic "egress" {
    for_each = var.egress_open ? [1] : []
    iterator = rule
    content {
      from_port   = 0
      to_port     = 0
      protocol    = "-1"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }

  tags = { Name = "web", Rules = tostring(length(var.ingress)) }
}

output "rule_names" { value = sort(keys(var.ingress)) }
output "name" { value = aws_security_group.web.name }
