# IAM-style policy documents built as data: statements from a map, merged, encoded, decoded
# and compared, as modules that avoid the aws_iam_policy_document data source do.
variable "buckets" {
  type    = list(string)
  default = ["logs", "assets"]
}

variable "readers" {
  type    = map(list(string))
  default = { analytics = ["arn:aws:iam::111122223333:role/analytics"], ops = ["arn:aws:iam::111122223333:role/ops"] }
}

locals {
  statements = concat(
    [for b in var.buckets : {
      Sid      = "Read${title(b)}"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Resource = ["arn:aws:s3:::${b}", "arn:aws:s3:::${b}/*"]
      Principal = { AWS = sort(flatten(values(var.readers))) }
    }],
    [{
      Sid       = "DenyInsecure"
      Effect    = "Deny"
      Action    = "s3:*"
      Resource  = "*"
      Principal = "*"
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  )
  policy   = jsonencode({ Version = "2012-10-17", Statement = local.statements })
  decoded  = jsondecode(local.policy)
  sids     = [for s in local.decoded.Statement : s.Sid]
  actions  = distinct(flatten([for s in local.decoded.Statement : try(tolist(s.Action), [s.Action])]))
}

resource "terraform_data" "policy" {
  input = local.policy
}

output "policy" { value = local.policy }
output "sids" { value = local.sids }
output "actions" { value = local.actions }
output "same" { value = jsondecode(terraform_data.policy.output) == local.decoded }
output "length" { value = length(terraform_data.policy.output) }
