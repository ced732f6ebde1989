# A comparison with null is known when the other side is known at its top level: an object
# whose attributes are known only after apply is not null, so `count` over it is known at plan
# (the shape of a platform module's `queue = queue.uploads` with an unknown ARN).
resource "terraform_data" "queue" {
  input = "uploads"
}

module "consumer" {
  source = "./m"
  queue  = { arn = terraform_data.queue.id }
}

output "direct" {
  value = { id = terraform_data.queue.id } == null ? "null" : "set"
}

output "consumers" {
  value = module.consumer.consumers
}
