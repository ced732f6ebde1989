# The `function` block: an AWS Lambda function with its IAM role and a log group with a
# retention, triggered by an SQS `queue` and/or a schedule. Its code is a local directory,
# archived at plan time (a change of any file changes the function in place), or an S3 object.
# Lowered to the AWS provider's resource types, which the `hashicorp/aws` plugin serves once
# `infra init` installed it.
#
#   function "resize" {
#     runtime  = "python3.12"
#     handler  = "main.handler"
#     code     = "./functions/resize"      # or s3 = { bucket = "…", key = "resize.zip" }
#     memory   = 256
#     timeout  = 30
#     env      = { BUCKET = "images" }
#     queue    = queue.uploads             # an `engine = "sqs"` queue
#     schedule = "rate(1 hour)"            # EventBridge schedule expression
#   }

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "name" {
  type = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "A function's name is 1 to 64 letters, digits, hyphens or underscores (Lambda's rule)."
  }
}

variable "runtime" {
  type    = string
  default = "python3.12"
}

variable "handler" {
  type    = string
  default = "main.handler"
}

variable "code" {
  type        = string
  default     = null
  description = "A local directory with the function's code (archived into a zip at plan time)."
}

variable "s3" {
  type        = object({ bucket = string, key = string, version = optional(string) })
  default     = null
  description = "The code as an S3 object instead of `code`."
}

variable "memory" {
  type    = number
  default = 128
}

variable "timeout" {
  type    = number
  default = 30
}

variable "env" {
  type    = map(string)
  default = {}
}

variable "queue" {
  type        = object({ arn = string })
  default     = null
  description = "An SQS `queue` whose messages invoke the function (`queue = queue.uploads`)."
}

variable "batch_size" {
  type    = number
  default = 10
}

variable "schedule" {
  type        = string
  default     = null
  description = "An EventBridge schedule expression (`rate(5 minutes)`, `cron(0 3 * * ? *)`)."
}

variable "log_retention_days" {
  type    = number
  default = 14
}

locals {
  archived = var.code == null ? 0 : 1
}

data "archive_file" "code" {
  count       = local.archived
  type        = "zip"
  source_dir  = var.code
  output_path = "${path.root}/.infra/functions/${var.name}.zip"
}

resource "aws_iam_role" "this" {
  name = "${var.name}-function"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_iam_role_policy" "this" {
  name = "${var.name}-function"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{ Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "${aws_cloudwatch_log_group.this.arn}:*" }],
      var.queue == null ? [] : [{ Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource = var.queue.arn }],
    )
  })
}

resource "aws_lambda_function" "this" {
  function_name     = var.name
  role              = aws_iam_role.this.arn
  runtime           = var.runtime
  handler           = var.handler
  filename          = local.archived == 1 ? data.archive_file.code[0].output_path : null
  source_code_hash  = local.archived == 1 ? data.archive_file.code[0].output_base64sha256 : null
  s3_bucket         = var.s3 == null ? null : var.s3.bucket
  s3_key            = var.s3 == null ? null : var.s3.key
  s3_object_version = var.s3 == null ? null : var.s3.version
  memory_size       = var.memory
  timeout           = var.timeout
  dynamic "environment" {
    for_each = length(var.env) > 0 ? [var.env] : []
    content {
      variables = environment.value
    }
  }
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_event_source_mapping" "queue" {
  count            = var.queue == null ? 0 : 1
  event_source_arn = var.queue.arn
  function_name    = aws_lambda_function.this.arn
  batch_size       = var.batch_size
}

resource "aws_cloudwatch_event_rule" "schedule" {
  count               = var.schedule == null ? 0 : 1
  name                = "${var.name}-schedule"
  schedule_expression = var.schedule
}

resource "aws_cloudwatch_event_target" "schedule" {
  count = var.schedule == null ? 0 : 1
  rule  = aws_cloudwatch_event_rule.schedule[0].name
  arn   = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "schedule" {
  count         = var.schedule == null ? 0 : 1
  statement_id  = "schedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[0].arn
}

output "arn" {
  value = aws_lambda_function.this.arn
}

output "name" {
  value = aws_lambda_function.this.function_name
}
