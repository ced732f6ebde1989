# validate judges a module's validation rules against the values its call passes, even though
# the module's other expressions see its variables as unknown.
module "queue" {
  source = "./modules/queue"
  engine = "kafka"
}
