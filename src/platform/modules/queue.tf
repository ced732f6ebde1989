# The `queue` block: a durable queue on RabbitMQ, a stream on NATS JetStream or an SQS queue,
# with a TTL and a dead-letter destination.
#
#   queue "events" {
#     engine      = "rabbitmq"   # or "nats", or "sqs"
#     durable     = true
#     ttl         = 3600         # seconds
#     dead_letter = true
#   }

variable "name" {
  type = string
}

variable "engine" {
  type    = string
  default = "rabbitmq"
  validation {
    condition     = contains(["rabbitmq", "nats"], var.engine)
    error_message = "The queue engine is \"rabbitmq\" or \"nats\", or \"sqs\" written as a literal string (`engine = \"sqs\"`)."
  }
}

variable "durable" {
  type    = bool
  default = true
}

variable "ttl" {
  type        = number
  default     = null
  description = "Seconds a message may wait."
}

variable "dead_letter" {
  type    = bool
  default = false
}

variable "vhost" {
  type    = string
  default = "/"
}

locals {
  rabbitmq = var.engine == "rabbitmq" ? 1 : 0
  nats     = var.engine == "nats" ? 1 : 0
  dead     = var.dead_letter ? 1 : 0
  ttl_args = var.ttl == null ? {} : { "x-message-ttl" = var.ttl * 1000 }
  dlx_args = var.dead_letter ? { "x-dead-letter-exchange" = "${var.name}.dlx" } : {}
  stream   = upper(replace(var.name, "-", "_"))
}

resource "rabbitmq_queue" "this" {
  count = local.rabbitmq
  name  = var.name
  vhost = var.vhost
  settings {
    durable   = var.durable
    arguments = merge(local.ttl_args, local.dlx_args)
  }
}

resource "rabbitmq_exchange" "dead_letter" {
  count = local.rabbitmq * local.dead
  name  = "${var.name}.dlx"
  vhost = var.vhost
  settings {
    type    = "fanout"
    durable = true
  }
}

resource "rabbitmq_queue" "dead_letter" {
  count = local.rabbitmq * local.dead
  name  = "${var.name}.dead"
  vhost = var.vhost
  settings {
    durable = true
  }
}

resource "rabbitmq_binding" "dead_letter" {
  count            = local.rabbitmq * local.dead
  source           = rabbitmq_exchange.dead_letter[0].name
  vhost            = var.vhost
  destination      = rabbitmq_queue.dead_letter[0].name
  destination_type = "queue"
}

resource "jetstream_stream" "this" {
  count    = local.nats
  name     = local.stream
  subjects = ["${var.name}.>"]
  storage  = var.durable ? "file" : "memory"
  max_age  = var.ttl == null ? 0 : var.ttl
}

resource "jetstream_stream" "dead_letter" {
  count    = local.nats * local.dead
  name     = "${local.stream}_DEAD"
  subjects = ["${var.name}-dead.>"]
}

output "env" {
  description = "What a service that uses it gets in its environment."
  value = {
    "${upper(replace(var.name, "-", "_"))}_QUEUE"        = var.engine == "nats" ? "${var.name}.>" : var.name
    "${upper(replace(var.name, "-", "_"))}_QUEUE_ENGINE" = var.engine
  }
}

output "arn" {
  value = null
}

output "secret" {
  value = null
}
