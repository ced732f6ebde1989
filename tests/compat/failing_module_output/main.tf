# A module output that fails is reported once, as that output's error; the root outputs using
# it add nothing (Terraform: "Invalid index" only).
module "zones" {
  source = "./modules/zones"
}

output "first_zone" {
  value = module.zones.first
}

output "count" {
  value = module.zones.count
}
