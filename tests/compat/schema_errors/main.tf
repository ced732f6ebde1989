# A typo in an argument name, and a resource type no provider serves: validate, not plan,
# finds both (terraform_data's schema).
resource "terraform_data" "config" {
  inputs = { name = "app" }
}

resource "terraform_dataa" "other" {
  input = "x"
}
