//! Terraform provider plugins, run for real: the `hashicorp/aws` 5.100.0 plugin from the
//! machine's filesystem mirror, against moto, with Terraform on the same files as the oracle for
//! plan counts.

mod support;

use support::{Stack, block};

/// The plan line (`Plan: 23 to add, 0 to change, 0 to destroy.`).
fn plan_line(text: &str) -> String {
    text.lines().find(|l| l.trim_start().starts_with("Plan:")).unwrap_or("no plan line").trim().to_string()
}

#[test]
fn a_community_style_vpc_runs_unchanged_with_the_aws_plugin() {
    let mut stack = Stack::new();
    stack.use_plugin_mirror();
    stack.copy_from(std::path::Path::new("tests/fixtures/plugins/vpc"));
    stack.set_env("TF_VAR_name", "plugin-vpc");

    let init = stack.ok(&["init", "-no-color"]);
    assert!(init.contains("Installed registry.terraform.io/hashicorp/aws v5.100.0"), "{init}");
    let providers: serde_json::Value = serde_json::from_str(&stack.ok(&["providers", "-json"])).expect("JSON");
    assert_eq!(providers["providers"][0]["served_by"], "plugin", "{providers}");
    assert_eq!(providers["providers"][0]["version"], "5.100.0", "{providers}");
    let schema_calls = |stack: &Stack, command: &str| {
        let output =
            stack.command(&[command, "-no-color"]).env("INFRA_LOG", "infra_plugin=debug").output().expect("runs");
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{log}");
        log.lines().filter(|l| l.contains("method=\"GetSchema\"")).count()
    };
    // validate checks the configuration against the plugin's schema: the first to need it.
    assert_eq!(schema_calls(&stack, "validate"), 1, "validate asks the plugin for its schema");

    // Terraform on a copy of the same files, same mirror, same moto: the oracle for the counts.
    // It is given infra's lock file and told not to change it: Terraform accepts it as its own.
    let oracle = tempfile::tempdir().expect("temp dir");
    for file in ["main.tf", ".terraform.lock.hcl"] {
        std::fs::copy(stack.path().join(file), oracle.path().join(file)).expect("copy");
    }
    stack.terraform(oracle.path(), &["init", "-no-color", "-input=false", "-lockfile=readonly"]);
    let expected = plan_line(&stack.terraform(oracle.path(), &["plan", "-no-color", "-input=false"]));

    assert_eq!(schema_calls(&stack, "plan"), 0, "a plan then takes it from the cache");

    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert_eq!(plan_line(&text), expected, "{text}");
    assert!(text.contains("region          = \"us-east-1\""), "data sources are read at plan time:\n{text}");

    let applied = stack.apply();
    assert!(applied.contains("Apply complete! Resources: 24 added"), "{applied}");
    // The plugin's private data is kept: the route's `timeouts { create = "5m" }` went from its
    // plan to its apply and into state, and the VPC carries its schema version.
    let state = stack.state();
    let private = |address: &str| {
        use base64::Engine;
        let text = state["resources"][address]["private"].as_str().unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default()
    };
    assert_eq!(
        private("aws_route.public_internet")["e2bfb730-ecaa-11e6-8f88-34363bc7c4c0"]["create"],
        300_000_000_000u64
    );
    assert_eq!(state["resources"]["aws_vpc.this"]["schema_version"], 1);
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "the second plan is clean:\n{text}");

    let vpc = stack.attribute("aws_vpc.this", "id");
    let ec2 = support::ec2();
    let subnets = block(
        ec2.describe_subnets()
            .filters(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(&vpc).build())
            .send(),
    )
    .expect("describe subnets");
    assert_eq!(subnets.subnets().len(), 6, "three public and three private subnets in {vpc}");

    let destroyed = stack.ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(destroyed.contains("Destroy complete! Resources: 24 destroyed."), "{destroyed}");
    let vpcs = block(ec2.describe_vpcs().vpc_ids(&vpc).send());
    assert!(vpcs.map(|v| v.vpcs().is_empty()).unwrap_or(true), "the VPC is gone");
    let nats = block(ec2.describe_nat_gateways().send()).expect("describe NAT gateways");
    assert!(
        nats.nat_gateways()
            .iter()
            .all(|n| n.vpc_id() != Some(vpc.as_str())
                || n.state() == Some(&aws_sdk_ec2::types::NatGatewayState::Deleted)),
        "the NAT gateway is deleted"
    );
}

#[test]
fn the_lock_file_is_terraforms_both_ways_and_a_changed_package_is_refused() {
    let mut stack = Stack::new();
    stack.use_plugin_mirror();
    stack.write(
        r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}
"#,
    );
    // Terraform writes the lock file; infra takes it as it is.
    stack.terraform(stack.path(), &["init", "-no-color", "-input=false"]);
    let written = std::fs::read_to_string(stack.path().join(".terraform.lock.hcl")).expect("terraform's lock file");
    let init = stack.ok(&["init", "-no-color", "-lockfile=readonly"]);
    assert!(init.contains("Installed registry.terraform.io/hashicorp/aws v5.100.0"), "{init}");
    // And infra writes the same file from scratch.
    std::fs::remove_file(stack.path().join(".terraform.lock.hcl")).expect("remove");
    stack.ok(&["init", "-no-color"]);
    assert_eq!(std::fs::read_to_string(stack.path().join(".terraform.lock.hcl")).expect("infra's lock file"), written);

    // A lock file whose hash the package does not match: refused, the file left as it was.
    let tampered = written.replace("h1:", "h1:AAAA");
    std::fs::write(stack.path().join(".terraform.lock.hcl"), &tampered).expect("write");
    let output = stack.run(&["init", "-no-color"]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("does not match any of the checksums"), "{text}");
    assert_eq!(std::fs::read_to_string(stack.path().join(".terraform.lock.hcl")).expect("lock"), tampered);
}

#[test]
fn a_plugin_that_is_not_one_is_a_diagnostic_naming_it() {
    let mut stack = Stack::new();
    // A fake mirror whose "plugin" prints no handshake.
    stack.use_fake_plugin("fake", "#!/bin/sh\necho 'this is not a plugin' >&2\nexit 3\n");
    stack.write(
        r#"
terraform {
  required_providers {
    fake = { source = "hashicorp/fake" }
  }
}
resource "fake_thing" "a" {}
"#,
    );
    let before: serde_json::Value = serde_json::from_str(&stack.ok(&["providers", "-json"])).expect("JSON");
    assert_eq!(before["providers"][0]["served_by"], "none", "nothing serves `fake` before init: {before}");
    stack.ok(&["init", "-no-color"]);
    let output = stack.run(&["plan", "-no-color"]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(text.contains("hashicorp/fake"), "{text}");
    assert!(text.contains("this is not a plugin"), "the plugin's own words are shown:\n{text}");
}

/// The pids whose parent is `parent` and whose command name starts with `name`.
fn children(parent: u32, name: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // `pid (comm) state ppid …`; comm may hold spaces, so split after the last `)`.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = &stat[open + 1..close];
        let ppid = stat[close + 1..].split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) && comm.starts_with(name) {
            found.push(pid);
        }
    }
    found
}

/// Waits (up to a minute) until `ready` answers something.
fn wait_for<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        // A poll interval (the event is checked again), not a wait standing in for it.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_plugin_does_not_outlive_infra_killed_mid_run() {
    // A plugin that completes its handshake and then never answers on its socket, and never
    // writes again: nothing but infra's death signal can end it once infra is killed.
    let mut stack = Stack::new();
    let socket = stack.path().join("mute.sock");
    stack.use_fake_plugin(
        "mute",
        &format!(
            "#!/usr/bin/env python3\nimport socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.bind({socket:?})\ns.listen()\nprint('1|5|unix|{}|grpc|MIIB', flush=True)\nconnections = []\nwhile True:\n    connections.append(s.accept())\n",
            socket.display(),
            socket = socket.display().to_string()
        ),
    );
    stack.write(
        r#"
terraform {
  required_providers {
    mute = { source = "hashicorp/mute" }
  }
}
resource "mute_thing" "a" {}
"#,
    );
    stack.ok(&["init", "-no-color"]);
    let mut infra = stack
        .command(&["plan", "-no-color"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("infra plan starts");
    let parent = infra.id();
    let plugin = wait_for("the plugin to start", || children(parent, "").first().copied());
    // infra is connected and waiting for the plugin's TLS answer.
    wait_for("infra to connect", || {
        std::fs::read_to_string(format!("/proc/{plugin}/net/unix"))
            .ok()
            .filter(|table| table.lines().filter(|l| l.contains(&socket.display().to_string())).count() > 1)
    });
    infra.kill().expect("kill -9 infra");
    let _ = infra.wait();
    wait_for("the plugin to end with infra", || {
        let stat = std::fs::read_to_string(format!("/proc/{plugin}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting for its new parent to reap it: either way, not running.
        (stat.is_empty() || stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
            .then_some(())
    });
}

#[test]
fn the_controller_installs_and_runs_the_plugin_in_its_checkouts() {
    use support::controller::ControllerProcess;
    let git = support::GitServer::start();
    let repo = git.repo("platform");
    repo.write(
        "envs/aws/main.tf",
        r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
data "aws_partition" "current" {}
resource "aws_vpc" "gitops" {
  cidr_block = "10.31.0.0/16"
  tags       = { Name = "gitops-${data.aws_partition.current.partition}" }
}
"#,
    );
    let commit = repo.push("first");
    let dir = tempfile::tempdir().expect("temp dir");
    let rc = dir.path().join("cli.tfrc");
    support::write_cli_config(&rc, &support::plugin_mirror());
    let text = format!(
        "controller {{\n  listen = \"LISTEN\"\n  data_dir = \"data\"\n}}\nstack \"aws\" {{\n  source {{\n    url    = \"{}\"\n    branch = \"main\"\n    path   = \"envs/aws\"\n  }}\n  interval = \"1h\"\n}}\n",
        git.url("platform")
    );
    let cache = dir.path().join("cache");
    let mut env: Vec<(&str, String)> = support::aws_env(&support::moto().endpoint);
    env.push(("TF_CLI_CONFIG_FILE", rc.display().to_string()));
    env.push(("XDG_CACHE_HOME", cache.display().to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let controller = ControllerProcess::start_with_env(dir.path(), &text, &env);
    controller.wait_for("aws", std::time::Duration::from_secs(120), |status| {
        status["applied_commit"] == commit.as_str() || status["last_result"] == "failed"
    });
    let status = controller.stack("aws");
    assert_eq!(status["applied_commit"], commit.as_str(), "{status}\n{}", controller.log());
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("data/stacks/aws/state/default.json")).expect("state"))
            .expect("state JSON");
    let vpc = state["resources"]["aws_vpc.gitops"]["attributes"]["id"].as_str().expect("the VPC's id").to_string();
    let found = block(support::ec2().describe_vpcs().vpc_ids(&vpc).send()).expect("the VPC exists in EC2");
    let tags: Vec<_> = found.vpcs().iter().flat_map(|v| v.tags()).filter_map(|t| t.value()).collect();
    assert_eq!(tags, ["gitops-aws"], "the plugin's data source fed the tag");
    assert!(
        std::fs::read_dir(cache.join("infra/plugin-schemas")).is_ok_and(|mut d| d.next().is_some()),
        "the schema is cached"
    );
    block(support::ec2().delete_vpc().vpc_id(&vpc).send()).expect("clean up");
}

#[test]
fn an_object_made_outside_is_imported_through_the_plugin_and_then_planned_clean() {
    let mut stack = Stack::new();
    stack.use_plugin_mirror();
    let created = block(support::ec2().create_vpc().cidr_block("10.44.0.0/16").send()).expect("create a VPC outside");
    let id = created.vpc().and_then(|v| v.vpc_id()).expect("its id").to_string();
    stack.write(
        r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
resource "aws_vpc" "adopted" {
  cidr_block = "10.44.0.0/16"
}
"#,
    );
    stack.ok(&["init", "-no-color"]);
    stack.ok(&["import", "aws_vpc.adopted", &id]);
    assert_eq!(stack.attribute("aws_vpc.adopted", "id"), id);
    assert_eq!(stack.attribute("aws_vpc.adopted", "cidr_block"), "10.44.0.0/16", "the plugin read the object");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "the adopted VPC matches its block:\n{text}");
    stack.ok(&["state", "rm", "aws_vpc.adopted"]);
    let missing = stack.run(&["import", "aws_vpc.adopted", "vpc-00000000000000000"]);
    let text = String::from_utf8_lossy(&missing.stderr);
    assert!(
        !missing.status.success() && text.contains("vpc-00000000000000000"),
        "importing what does not exist fails:\n{text}"
    );
    stack.ok(&["import", "aws_vpc.adopted", &id]);
    stack.ok(&["destroy", "-auto-approve", "-no-color"]);
    let gone = block(support::ec2().describe_vpcs().vpc_ids(&id).send());
    assert!(gone.map(|v| v.vpcs().is_empty()).unwrap_or(true), "destroyed through the plugin");
}

#[test]
fn switching_between_the_native_aws_provider_and_the_plugin_plans_no_changes() {
    let mut stack = Stack::new();
    stack.write(
        r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region = "us-east-1"
}
resource "aws_vpc" "main" {
  cidr_block = "10.50.0.0/16"
  tags       = { Name = "switch" }
}
resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.50.1.0/24"
}
resource "aws_security_group" "web" {
  name   = "switch-web"
  vpc_id = aws_vpc.main.id
  # A list of objects written as blocks: the plugin's schema has `ingress` as an attribute.
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#,
    );
    // Applied by the native provider (no plugin installed)…
    stack.apply();
    // …then the plugin is installed: nothing to change.
    stack.use_plugin_mirror();
    stack.ok(&["init", "-no-color"]);
    let providers: serde_json::Value = serde_json::from_str(&stack.ok(&["providers", "-json"])).expect("JSON");
    assert_eq!(providers["providers"][0]["served_by"], "plugin");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "native → plugin plans no change:\n{text}");
    // Written by the plugin, then served natively again: nothing to change either.
    stack.apply();
    std::fs::remove_dir_all(stack.path().join(".terraform")).expect("uninstall the plugin");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "plugin → native plans no change:\n{text}");
    stack.ok(&["destroy", "-auto-approve", "-no-color"]);
}

#[test]
fn an_interrupt_stops_a_plugin_call_hung_on_the_cloud() {
    // An endpoint that accepts and never answers: the plugin's CreateVpc hangs until stopped.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    silent.set_nonblocking(true).expect("non-blocking");
    let mut stack = Stack::with_endpoint(&format!("http://{}", silent.local_addr().expect("address")));
    stack.use_plugin_mirror();
    stack.write(
        r#"
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  max_retries                 = 1
}
resource "aws_vpc" "hung" {
  cidr_block = "10.60.0.0/16"
}
"#,
    );
    stack.ok(&["init", "-no-color"]);
    let log_file = stack.path().join("apply.log");
    let mut infra = stack
        .command(&["apply", "-auto-approve", "-no-color"])
        .env("INFRA_LOG", "infra_plugin=debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_file).expect("log file"))
        .spawn()
        .expect("infra apply starts");
    let _held = wait_for("the plugin to call EC2", || silent.accept().ok());
    let sent = std::process::Command::new("kill").args(["-INT", &infra.id().to_string()]).status().expect("kill -INT");
    assert!(sent.success());
    // Without `Stop` the call would hang for the resource's create timeout (20 minutes).
    let status = wait_for("infra to end after the interrupt", || infra.try_wait().ok().flatten());
    let log = std::fs::read_to_string(&log_file).unwrap_or_default();
    assert!(!status.success(), "{log}");
    assert!(log.contains("method=\"Stop\""), "the plugin was asked to stop:\n{log}");
    assert!(log.contains("Interrupt received"), "{log}");
}
