module "api" {
  source   = "../../modules/service"
  name     = "api-staging"
  replicas = 1
}

module "worker" {
  source = "../../modules/service"
  name   = "worker-staging"
}
