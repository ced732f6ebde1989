controller {
  listen   = "127.0.0.1:9100"
  data_dir = ".infra-controller" # Git caches and local states
}

stack "staging" {
  source {
    url    = "git://127.0.0.1:9418/platform"
    branch = "main"
    path   = "envs/staging"
  }
  interval   = "10s"
  auto_apply = true
  prune      = true
  drift      = { default = "correct" }
}

stack "prod" {
  source {
    url    = "git://127.0.0.1:9418/platform"
    branch = "main"
    path   = "envs/prod"
  }
  interval   = "30s"
  auto_apply = true
  prune      = false
  drift      = { default = "correct", local_file = "warn" }
  variables  = { replicas = 3 }
}
