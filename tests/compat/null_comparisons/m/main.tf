variable "queue" {
  type    = object({ arn = string })
  default = null
}

resource "terraform_data" "consumer" {
  count = var.queue == null ? 0 : 1
  input = var.queue.arn
}

output "consumers" {
  value = length(terraform_data.consumer)
}
