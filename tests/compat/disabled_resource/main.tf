# A resource switched off (count = 0, or a count not known until plan) is still checked
# against its schema by validate.
variable "enabled" {
  type    = bool
  default = false
}

resource "terraform_data" "off" {
  count = 0

  inputs = "typo"
}

resource "terraform_data" "maybe" {
  count = var.enabled ? 1 : 0

  triggers_replaced = ["typo"]
}
