# A module switched off with count = 0 is still checked: its required input is missing.
variable "enabled" {
  type    = bool
  default = false
}

module "bucket" {
  source = "./modules/bucket"
  count  = var.enabled ? 1 : 0

  name_prefix = "logs"
}
