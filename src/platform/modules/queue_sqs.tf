# The `queue` block with `engine = "sqs"`: an SQS queue on AWS (through the AWS provider, which
# the `hashicorp/aws` plugin serves once `infra init` installed it), with a retention and a
# dead-letter queue. A `function` can be triggered by it.
#
#   queue "uploads" {
#     engine      = "sqs"
#     ttl         = 86400        # seconds a message is kept
#     dead_letter = true         # after 5 receives, to `uploads-dead`
#   }

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "name" {
  type = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.name))
    error_message = "An SQS queue's name is 1 to 80 letters, digits, hyphens or underscores."
  }
}

variable "engine" {
  type    = string
  default = "sqs"
}

variable "durable" {
  type        = bool
  default     = true
  description = "SQS queues are always durable; accepted for the other engines' sake."
}

variable "ttl" {
  type        = number
  default     = null
  description = "Seconds a message is kept (SQS: 60 to 1209600; 4 days when unset)."
}

variable "dead_letter" {
  type    = bool
  default = false
}

variable "max_receives" {
  type        = number
  default     = 5
  description = "Receives before a message goes to the dead-letter queue."
}

resource "aws_sqs_queue" "dead_letter" {
  count                     = var.dead_letter ? 1 : 0
  name                      = "${var.name}-dead"
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "this" {
  name                      = var.name
  message_retention_seconds = var.ttl == null ? 345600 : var.ttl
  redrive_policy = var.dead_letter ? jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter[0].arn
    maxReceiveCount     = var.max_receives
  }) : null
}

output "arn" {
  description = "The queue's ARN: what a `function` is triggered by."
  value       = aws_sqs_queue.this.arn
}

output "env" {
  description = "What a service that uses it gets in its environment."
  value = {
    "${upper(replace(var.name, "-", "_"))}_QUEUE"        = aws_sqs_queue.this.url
    "${upper(replace(var.name, "-", "_"))}_QUEUE_ENGINE" = "sqs"
  }
}

output "secret" {
  value = null
}
