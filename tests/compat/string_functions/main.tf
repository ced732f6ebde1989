# String handling common in modules: regex captures, split/join, trims, prefix tests,
# replace with backreferences, formatdate on a fixed time, base64 and url encodings.
variable "arns" {
  type = list(string)
  default = [
    "arn:aws:iam::111122223333:role/service/api",
    "arn:aws:s3:::my-bucket/path/to/key",
    "arn:aws:lambda:us-east-1:444455556666:function:worker",
  ]
}

locals {
  parsed = [for a in var.arns : regex("^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)$", a)]
  services = [for p in local.parsed : p.service]
  accounts = compact([for p in local.parsed : p.account])
  names    = [for a in var.arns : element(split("/", a), length(split("/", a)) - 1)]
  swapped  = replace("2024-01-31", "/(\\d+)-(\\d+)-(\\d+)/", "$3.$2.$1")
  trimmed  = [trimprefix("prefix-value", "prefix-"), trimsuffix("file.tar.gz", ".gz"), trim("--x--", "-"), trimspace("  y  ")]
  tests    = [startswith("arn:aws", "arn:"), endswith("main.tf", ".tf"), strcontains("abc", "b")]
  date     = formatdate("YYYY-MM-DD'T'hh:mm:ssZ EEE MMM", "2024-03-05T07:08:09Z")
  encoded  = [base64encode("hello"), urlencode("a b&c=d/é"), textencodebase64("hi", "UTF-16LE")]
  title    = title("hello world-wide web")
  chars    = [for c in regexall("[a-z]", "a1b2c3") : upper(c)]
}

resource "terraform_data" "arn" {
  for_each = { for p in local.parsed : "${p.service}-${p.account}" => p }
  input    = each.value.resource
}

output "parsed" { value = local.parsed }
output "services" { value = local.services }
output "accounts" { value = local.accounts }
output "names" { value = local.names }
output "swapped" { value = local.swapped }
output "trimmed" { value = local.trimmed }
output "tests" { value = local.tests }
output "date" { value = local.date }
output "encoded" { value = local.encoded }
output "title" { value = local.title }
output "chars" { value = local.chars }
output "resources" { value = sort([for r in terraform_data.arn : r.output]) }
