//! The AWS provider against a real EC2 API: moto, started once for this test binary.
//!
//! Every resource type goes through the same life: create, a no-op plan, an in-place update, a
//! replacement, a change made outside infra (with the SDK) shown as drift and corrected, a
//! delete made outside infra recreated, `state rm` + `import`, and destroy leaving nothing in
//! EC2. Each test works in its own VPC.

mod support;

use aws_sdk_ec2::types::{Filter, Tag};
use support::{Stack, block, ec2, ssh_public_key};

/// A VPC and a subnet for a test, named after it.
fn network(name: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
  default_tags {{
    tags = {{ test = "{name}" }}
  }}
}}

data "aws_ami" "ubuntu" {{
  most_recent = true
  owners      = ["099720109477"]
  filter {{
    name   = "name"
    values = ["ubuntu/images/hvm-ssd/ubuntu-*"]
  }}
}}

resource "aws_vpc" "net" {{
  cidr_block = "10.9.0.0/16"
}}

resource "aws_subnet" "net" {{
  vpc_id            = aws_vpc.net.id
  cidr_block        = "10.9.1.0/24"
  availability_zone = "us-east-1a"
}}
"#
    )
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tag(client: &aws_sdk_ec2::Client, id: &str, key: &str, value: &str) {
    block(client.create_tags().resources(id).tags(Tag::builder().key(key).value(value).build()).send())
        .expect("tag outside infra");
}

/// One resource type's life, step by step.
struct Life<'a> {
    name: &'a str,
    address: &'a str,
    /// Configuration versions: created, changed in place, changed so that it is replaced.
    create: String,
    update: String,
    replace: Option<String>,
    /// What `plan` shows for the update and the replacement.
    update_shows: &'a str,
    replace_shows: &'a str,
    /// A change made outside infra (given the object's id) and how the plan names it.
    outside_change: Box<dyn Fn(&aws_sdk_ec2::Client, &Stack, &str) + 'a>,
    /// Deletes the object outside infra.
    outside_delete: Box<dyn Fn(&aws_sdk_ec2::Client, &Stack) + 'a>,
    /// The import id of the object in state.
    import_id: Box<dyn Fn(&Stack) -> String + 'a>,
    /// Arguments that exist only in infra (no EC2 counterpart to import them from): after an
    /// import they are the whole plan, an in-place update that records them.
    settings: &'a [&'a str],
    /// Whether an in-place update keeps the id (an association gets a new one).
    keeps_id: bool,
    /// Whether the object still exists in EC2 (after destroy: it must not).
    exists: Box<dyn Fn(&aws_sdk_ec2::Client, &str) -> bool + 'a>,
}

/// Text with runs of spaces made one (plans align their `=` signs).
fn squash(text: &str) -> String {
    text.split(' ').filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ")
}

fn clean(stack: &Stack, step: &str) {
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "after {step}, plan shows no changes:\n{text}");
}

fn live(life: Life<'_>) {
    let client = ec2();
    let stack = Stack::new();
    let base = network(life.name);
    stack.write(&format!("{base}{}", life.create));
    stack.apply();
    clean(&stack, "create");
    let id = stack.attribute(life.address, "id");
    assert!((life.exists)(&client, &id), "{} exists in EC2 after create", life.address);

    stack.write(&format!("{base}{}", life.update));
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("# {} will be updated in-place", life.address)), "{text}");
    assert!(squash(&text).contains(&squash(life.update_shows)), "the update shows `{}`:\n{text}", life.update_shows);
    stack.apply();
    clean(&stack, "an in-place update");
    if life.keeps_id {
        assert_eq!(stack.attribute(life.address, "id"), id, "an in-place update keeps the object");
    }

    let current = match &life.replace {
        Some(replace) => {
            stack.write(&format!("{base}{replace}"));
            let (code, text) = stack.plan();
            assert_eq!(code, 2, "{text}");
            assert!(text.contains(&format!("# {} must be replaced", life.address)), "{text}");
            assert!(
                squash(&text).contains(&squash(life.replace_shows)),
                "the replacement shows `{}`:\n{text}",
                life.replace_shows
            );
            stack.apply();
            clean(&stack, "a replacement");
            let new_id = stack.attribute(life.address, "id");
            assert_ne!(new_id, id, "a replacement makes a new object");
            assert!(!(life.exists)(&client, &id), "the replaced object is gone from EC2");
            replace.clone()
        }
        None => life.update.clone(),
    };
    let id = stack.attribute(life.address, "id");

    (life.outside_change)(&client, &stack, &id);
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "a change outside infra is corrected:\n{text}");
    assert!(text.contains(&format!("# {} has ", life.address)), "the drift is shown:\n{text}");
    stack.apply();
    clean(&stack, "correcting drift");

    (life.outside_delete)(&client, &stack);
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("# {} will be created", life.address)), "a deleted object is recreated:\n{text}");
    stack.apply();
    clean(&stack, "recreating");

    let import_id = (life.import_id)(&stack);
    stack.ok(&["state", "rm", life.address]);
    stack.ok(&["import", life.address, &import_id]);
    let (code, text) = stack.plan();
    if life.settings.is_empty() {
        assert_eq!(code, 0, "an imported object matches its configuration:\n{text}\n{current}");
    } else {
        assert_eq!(code, 2, "{text}");
        for setting in life.settings {
            assert!(text.contains(&format!("+ {setting}")), "after an import, `{setting}` is recorded:\n{text}");
        }
        assert!(text.contains("0 to add, 1 to change, 0 to destroy"), "{text}");
        stack.apply();
        clean(&stack, "recording the settings of an imported object");
    }

    let id = stack.attribute(life.address, "id");
    stack.ok(&["destroy", "-auto-approve"]);
    assert!(!(life.exists)(&client, &id), "{} is gone from EC2 after destroy", life.address);
}

fn vpc_exists(client: &aws_sdk_ec2::Client, id: &str) -> bool {
    block(client.describe_vpcs().filters(filter("vpc-id", id)).send()).map(|o| o.vpcs().len()).unwrap_or(0) > 0
}

fn tag_change(client: &aws_sdk_ec2::Client, _stack: &Stack, id: &str) {
    tag(client, id, "changed", "outside");
}

#[test]
fn vpc_lives_a_full_life() {
    live(Life {
        name: "vpc",
        address: "aws_vpc.main",
        create: r#"resource "aws_vpc" "main" { cidr_block = "10.1.0.0/16" }"#.into(),
        update: r#"resource "aws_vpc" "main" {
  cidr_block           = "10.1.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = "main" }
}"#
        .into(),
        replace: Some(
            r#"resource "aws_vpc" "main" {
  cidr_block           = "10.2.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = "main" }
}"#
            .into(),
        ),
        update_shows: "enable_dns_hostnames = false -> true",
        replace_shows: "# forces replacement",
        outside_change: Box::new(tag_change),
        outside_delete: Box::new(|client, stack| {
            block(client.delete_vpc().vpc_id(stack.attribute("aws_vpc.main", "id")).send()).expect("delete outside");
        }),
        import_id: Box::new(|stack| stack.attribute("aws_vpc.main", "id")),
        settings: &[],
        keeps_id: true,
        exists: Box::new(vpc_exists),
    });
}

fn count(result: Result<usize, impl std::fmt::Debug>) -> usize {
    result.unwrap_or(0)
}

fn subnet_exists(client: &aws_sdk_ec2::Client, id: &str) -> bool {
    count(block(client.describe_subnets().filters(filter("subnet-id", id)).send()).map(|o| o.subnets().len())) > 0
}

fn state_id(address: &'static str) -> Box<dyn Fn(&Stack) -> String> {
    Box::new(move |stack: &Stack| stack.attribute(address, "id"))
}

#[test]
fn subnet_lives_a_full_life() {
    let subnet = |cidr: &str, public: bool| {
        format!(
            r#"resource "aws_subnet" "main" {{
  vpc_id                  = aws_vpc.net.id
  cidr_block              = "{cidr}"
  map_public_ip_on_launch = {public}
}}"#
        )
    };
    live(Life {
        name: "subnet",
        address: "aws_subnet.main",
        create: subnet("10.9.2.0/24", false),
        update: subnet("10.9.2.0/24", true),
        replace: Some(subnet("10.9.3.0/24", true)),
        update_shows: "map_public_ip_on_launch = false -> true",
        replace_shows: r#""10.9.2.0/24" -> "10.9.3.0/24" # forces replacement"#,
        outside_change: Box::new(tag_change),
        outside_delete: Box::new(|client, stack| {
            block(client.delete_subnet().subnet_id(stack.attribute("aws_subnet.main", "id")).send()).expect("delete");
        }),
        import_id: state_id("aws_subnet.main"),
        settings: &[],
        keeps_id: true,
        exists: Box::new(subnet_exists),
    });
}

#[test]
fn internet_gateway_lives_a_full_life() {
    let gateway = |name: &str| {
        format!(
            r#"resource "aws_internet_gateway" "main" {{
  vpc_id = aws_vpc.net.id
  tags   = {{ Name = "{name}" }}
}}"#
        )
    };
    live(Life {
        name: "igw",
        address: "aws_internet_gateway.main",
        create: gateway("a"),
        update: gateway("b"),
        replace: None,
        update_shows: r#"Name = "a" -> "b""#,
        replace_shows: "",
        outside_change: Box::new(tag_change),
        outside_delete: Box::new(|client, stack| {
            let id = stack.attribute("aws_internet_gateway.main", "id");
            let vpc = stack.attribute("aws_vpc.net", "id");
            block(client.detach_internet_gateway().internet_gateway_id(&id).vpc_id(vpc).send()).expect("detach");
            block(client.delete_internet_gateway().internet_gateway_id(id).send()).expect("delete");
        }),
        import_id: state_id("aws_internet_gateway.main"),
        settings: &[],
        keeps_id: true,
        exists: Box::new(|client, id| {
            count(
                block(client.describe_internet_gateways().filters(filter("internet-gateway-id", id)).send())
                    .map(|o| o.internet_gateways().len()),
            ) > 0
        }),
    });
}

fn route_table_exists(client: &aws_sdk_ec2::Client, id: &str) -> bool {
    count(
        block(client.describe_route_tables().filters(filter("route-table-id", id)).send())
            .map(|o| o.route_tables().len()),
    ) > 0
}

#[test]
fn route_table_lives_a_full_life() {
    let gateway = r#"resource "aws_internet_gateway" "gw" { vpc_id = aws_vpc.net.id }
resource "aws_vpc" "other" { cidr_block = "10.8.0.0/16" }
resource "aws_internet_gateway" "other" { vpc_id = aws_vpc.other.id }
"#;
    let table = |vpc: &str, routes: &[&str]| {
        let gw = if vpc == "net" { "gw" } else { "other" };
        let routes: String = routes
            .iter()
            .map(|cidr| {
                format!(
                    "  route {{\n    cidr_block = \"{cidr}\"\n    gateway_id = aws_internet_gateway.{gw}.id\n  }}\n"
                )
            })
            .collect();
        format!("{gateway}resource \"aws_route_table\" \"main\" {{\n  vpc_id = aws_vpc.{vpc}.id\n{routes}}}\n")
    };
    live(Life {
        name: "rtb",
        address: "aws_route_table.main",
        create: table("net", &["0.0.0.0/0"]),
        update: table("net", &["0.0.0.0/0", "192.168.0.0/16"]),
        replace: Some(table("other", &["0.0.0.0/0"])),
        update_shows: r#"+ { cidr_block = "192.168.0.0/16""#,
        replace_shows: "# forces replacement",
        outside_change: Box::new(|client, stack, id| {
            let gateway = stack.attribute("aws_internet_gateway.other", "id");
            block(
                client
                    .create_route()
                    .route_table_id(id)
                    .destination_cidr_block("172.16.0.0/12")
                    .gateway_id(gateway)
                    .send(),
            )
            .expect("a route added outside");
        }),
        outside_delete: Box::new(|client, stack| {
            block(client.delete_route_table().route_table_id(stack.attribute("aws_route_table.main", "id")).send())
                .expect("delete");
        }),
        import_id: state_id("aws_route_table.main"),
        settings: &[],
        keeps_id: true,
        exists: Box::new(route_table_exists),
    });
}

#[test]
fn route_table_association_lives_a_full_life() {
    let tables = r#"resource "aws_route_table" "a" { vpc_id = aws_vpc.net.id }
resource "aws_route_table" "b" { vpc_id = aws_vpc.net.id }
resource "aws_subnet" "other" {
  vpc_id     = aws_vpc.net.id
  cidr_block = "10.9.7.0/24"
}
"#;
    let association = |subnet: &str, table: &str| {
        format!(
            "{tables}resource \"aws_route_table_association\" \"main\" {{\n  subnet_id      = aws_subnet.{subnet}.id\n  route_table_id = aws_route_table.{table}.id\n}}\n"
        )
    };
    live(Life {
        name: "rtbassoc",
        address: "aws_route_table_association.main",
        create: association("net", "a"),
        update: association("net", "b"),
        replace: Some(association("other", "b")),
        update_shows: "route_table_id",
        replace_shows: "# forces replacement",
        outside_change: Box::new(|client, stack, id| {
            let table = stack.attribute("aws_route_table.a", "id");
            block(client.replace_route_table_association().association_id(id).route_table_id(table).send())
                .expect("moved to another table outside");
        }),
        outside_delete: Box::new(|client, stack| {
            let id = stack.attribute("aws_route_table_association.main", "id");
            block(client.disassociate_route_table().association_id(id).send()).expect("disassociate");
        }),
        import_id: Box::new(|stack| {
            format!(
                "{}/{}",
                stack.attribute("aws_route_table_association.main", "subnet_id"),
                stack.attribute("aws_route_table_association.main", "route_table_id")
            )
        }),
        settings: &[],
        keeps_id: false,
        exists: Box::new(|client, id| {
            count(
                block(
                    client.describe_route_tables().filters(filter("association.route-table-association-id", id)).send(),
                )
                .map(|o| o.route_tables().len()),
            ) > 0
        }),
    });
}

fn group_exists(client: &aws_sdk_ec2::Client, id: &str) -> bool {
    count(
        block(client.describe_security_groups().filters(filter("group-id", id)).send())
            .map(|o| o.security_groups().len()),
    ) > 0
}

#[test]
fn security_group_lives_a_full_life() {
    let group = |name: &str, ports: &[i32]| {
        let ingress: String = ports
            .iter()
            .map(|port| {
                format!(
                    "  ingress {{\n    from_port   = {port}\n    to_port     = {port}\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n"
                )
            })
            .collect();
        format!(
            "resource \"aws_security_group\" \"main\" {{\n  name   = \"{name}\"\n  vpc_id = aws_vpc.net.id\n{ingress}  egress {{\n    from_port   = 0\n    to_port     = 0\n    protocol    = \"-1\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n}}\n"
        )
    };
    live(Life {
        name: "sg",
        address: "aws_security_group.main",
        create: group("web", &[80]),
        update: group("web", &[80, 443]),
        replace: Some(group("web2", &[80, 443])),
        update_shows: "+ { cidr_blocks = [\"0.0.0.0/0\"], description = null, from_port = 443",
        replace_shows: r#"name     = "web" -> "web2" # forces replacement"#,
        outside_change: Box::new(|client, _stack, id| {
            block(
                client
                    .authorize_security_group_ingress()
                    .group_id(id)
                    .ip_protocol("tcp")
                    .from_port(22)
                    .to_port(22)
                    .cidr_ip("0.0.0.0/0")
                    .send(),
            )
            .expect("a rule added outside");
        }),
        outside_delete: Box::new(|client, stack| {
            block(client.delete_security_group().group_id(stack.attribute("aws_security_group.main", "id")).send())
                .expect("delete");
        }),
        import_id: state_id("aws_security_group.main"),
        settings: &[],
        keeps_id: true,
        exists: Box::new(group_exists),
    });
}

/// An ingress or egress rule resource's life.
fn rule_life(kind: &'static str, address: &'static str, name: &'static str) {
    let rule = |group: &str, description: &str| {
        format!(
            r#"resource "aws_security_group" "a" {{
  name   = "a-{name}"
  vpc_id = aws_vpc.net.id
}}
resource "aws_security_group" "b" {{
  name   = "b-{name}"
  vpc_id = aws_vpc.net.id
}}
resource "{kind}" "main" {{
  security_group_id = aws_security_group.{group}.id
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
  cidr_ipv4         = "10.0.0.0/8"
  description       = "{description}"
}}
"#
        )
    };
    live(Life {
        name,
        address,
        create: rule("a", "first"),
        update: rule("a", "second"),
        replace: Some(rule("b", "second")),
        update_shows: r#"description       = "first" -> "second""#,
        replace_shows: "# forces replacement",
        outside_change: Box::new(|client, _stack, id| tag(client, id, "changed", "outside")),
        outside_delete: Box::new(move |client, stack| {
            let group = stack.attribute(address, "security_group_id");
            let id = stack.attribute(address, "id");
            if kind.ends_with("egress_rule") {
                block(client.revoke_security_group_egress().group_id(group).security_group_rule_ids(id).send())
                    .expect("revoke");
            } else {
                block(client.revoke_security_group_ingress().group_id(group).security_group_rule_ids(id).send())
                    .expect("revoke");
            }
        }),
        import_id: Box::new(move |stack| stack.attribute(address, "id")),
        settings: &[],
        keeps_id: true,
        exists: Box::new(|client, id| {
            count(
                block(client.describe_security_group_rules().filters(filter("security-group-rule-id", id)).send())
                    .map(|o| o.security_group_rules().len()),
            ) > 0
        }),
    });
}

#[test]
fn ingress_rule_lives_a_full_life() {
    rule_life("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_ingress_rule.main", "ingress");
}

#[test]
fn egress_rule_lives_a_full_life() {
    rule_life("aws_vpc_security_group_egress_rule", "aws_vpc_security_group_egress_rule.main", "egress");
}

#[test]
fn key_pair_lives_a_full_life() {
    let key = ssh_public_key();
    let pair = |name: &str, owner: &str| {
        format!(
            "resource \"aws_key_pair\" \"main\" {{\n  key_name   = \"{name}\"\n  public_key = \"{key}\"\n  tags       = {{ owner = \"{owner}\" }}\n}}\n"
        )
    };
    live(Life {
        name: "key",
        address: "aws_key_pair.main",
        create: pair("key-test-a", "ann"),
        update: pair("key-test-a", "bob"),
        replace: Some(pair("key-test-b", "bob")),
        update_shows: r#"owner = "ann" -> "bob""#,
        replace_shows: r#""key-test-a" -> "key-test-b" # forces replacement"#,
        outside_change: Box::new(|client, stack, _id| {
            let id = stack.attribute("aws_key_pair.main", "key_pair_id");
            tag(client, &id, "changed", "outside");
        }),
        outside_delete: Box::new(|client, stack| {
            block(client.delete_key_pair().key_name(stack.attribute("aws_key_pair.main", "id")).send())
                .expect("delete");
        }),
        import_id: state_id("aws_key_pair.main"),
        settings: &[],
        keeps_id: true,
        exists: Box::new(|client, name| {
            count(
                block(client.describe_key_pairs().filters(filter("key-name", name)).send())
                    .map(|o| o.key_pairs().len()),
            ) > 0
        }),
    });
}

fn instance_live(client: &aws_sdk_ec2::Client, id: &str) -> bool {
    block(client.describe_instances().filters(filter("instance-id", id)).send())
        .map(|o| {
            o.reservations().iter().flat_map(|r| r.instances()).any(|i| {
                !matches!(i.state().and_then(|s| s.name()), Some(aws_sdk_ec2::types::InstanceStateName::Terminated))
            })
        })
        .unwrap_or(false)
}

fn instance(ami: &str, kind: &str) -> String {
    format!(
        r##"resource "aws_security_group" "web" {{
  name   = "web"
  vpc_id = aws_vpc.net.id
}}
resource "aws_instance" "main" {{
  ami                    = {ami}
  instance_type          = "{kind}"
  subnet_id              = aws_subnet.net.id
  vpc_security_group_ids = [aws_security_group.web.id]
  user_data              = "#!/bin/sh\necho hello\n"
  tags                   = {{ Name = "main" }}
}}
"##
    )
}

/// An Ubuntu AMI other than the newest one (the data source's pick).
fn older_ubuntu() -> String {
    let images = block(
        ec2().describe_images().owners("099720109477").filters(filter("name", "ubuntu/images/hvm-ssd/ubuntu-*")).send(),
    )
    .expect("describe images");
    let mut images: Vec<_> = images.images().to_vec();
    images.sort_by(|a, b| a.creation_date().cmp(&b.creation_date()));
    images.first().and_then(|i| i.image_id()).expect("an Ubuntu AMI in moto").to_string()
}

#[test]
fn instance_lives_a_full_life() {
    let older = format!("\"{}\"", older_ubuntu());
    live(Life {
        name: "instance",
        address: "aws_instance.main",
        create: instance("data.aws_ami.ubuntu.id", "t3.micro"),
        update: instance("data.aws_ami.ubuntu.id", "t3.small"),
        replace: Some(instance(&older, "t3.small")),
        update_shows: r#"instance_type = "t3.micro" -> "t3.small""#,
        replace_shows: "# forces replacement",
        outside_change: Box::new(tag_change),
        outside_delete: Box::new(|client, stack| {
            block(client.terminate_instances().instance_ids(stack.attribute("aws_instance.main", "id")).send())
                .expect("terminate");
        }),
        import_id: state_id("aws_instance.main"),
        settings: &[],
        keeps_id: true,
        exists: Box::new(instance_live),
    });
}

#[test]
fn elastic_ip_lives_a_full_life() {
    let eip = |target: &str| {
        format!(
            "{}resource \"aws_instance\" \"second\" {{\n  ami       = data.aws_ami.ubuntu.id\n  subnet_id = aws_subnet.net.id\n  instance_type = \"t3.micro\"\n}}\nresource \"aws_eip\" \"main\" {{\n  domain   = \"vpc\"\n  instance = aws_instance.{target}.id\n}}\n",
            instance("data.aws_ami.ubuntu.id", "t3.micro")
        )
    };
    live(Life {
        name: "eip",
        address: "aws_eip.main",
        create: eip("main"),
        update: eip("second"),
        replace: None,
        update_shows: "instance",
        replace_shows: "",
        outside_change: Box::new(tag_change),
        outside_delete: Box::new(|client, stack| {
            let association = stack.attribute("aws_eip.main", "association_id");
            block(client.disassociate_address().association_id(association).send()).expect("disassociate");
            block(client.release_address().allocation_id(stack.attribute("aws_eip.main", "id")).send())
                .expect("release");
        }),
        import_id: state_id("aws_eip.main"),
        settings: &[],
        keeps_id: true,
        exists: Box::new(|client, id| {
            count(
                block(client.describe_addresses().filters(filter("allocation-id", id)).send())
                    .map(|o| o.addresses().len()),
            ) > 0
        }),
    });
}

fn volume_exists(client: &aws_sdk_ec2::Client, id: &str) -> bool {
    count(block(client.describe_volumes().filters(filter("volume-id", id)).send()).map(|o| o.volumes().len())) > 0
}

#[test]
fn ebs_volume_lives_a_full_life() {
    let volume = |zone: &str, size: i32| {
        format!(
            "resource \"aws_ebs_volume\" \"main\" {{\n  availability_zone = \"{zone}\"\n  size              = {size}\n}}\n"
        )
    };
    live(Life {
        name: "volume",
        address: "aws_ebs_volume.main",
        create: volume("us-east-1a", 10),
        update: volume("us-east-1a", 20),
        replace: Some(volume("us-east-1b", 20)),
        update_shows: "size              = 10 -> 20",
        replace_shows: r#""us-east-1a" -> "us-east-1b" # forces replacement"#,
        outside_change: Box::new(tag_change),
        outside_delete: Box::new(|client, stack| {
            block(client.delete_volume().volume_id(stack.attribute("aws_ebs_volume.main", "id")).send())
                .expect("delete");
        }),
        import_id: state_id("aws_ebs_volume.main"),
        settings: &[],
        keeps_id: true,
        exists: Box::new(volume_exists),
    });
}

fn detach(client: &aws_sdk_ec2::Client, stack: &Stack) {
    let get = |name| stack.attribute("aws_volume_attachment.main", name);
    block(
        client
            .detach_volume()
            .volume_id(get("volume_id"))
            .instance_id(get("instance_id"))
            .device(get("device_name"))
            .send(),
    )
    .expect("detach");
}

#[test]
fn volume_attachment_lives_a_full_life() {
    let attachment = |device: &str, force: bool| {
        format!(
            "{}resource \"aws_ebs_volume\" \"data\" {{\n  availability_zone = aws_instance.main.availability_zone\n  size = 10\n}}\nresource \"aws_volume_attachment\" \"main\" {{\n  device_name  = \"{device}\"\n  volume_id    = aws_ebs_volume.data.id\n  instance_id  = aws_instance.main.id\n  force_detach = {force}\n}}\n",
            instance("data.aws_ami.ubuntu.id", "t3.micro")
        )
    };
    live(Life {
        name: "attachment",
        address: "aws_volume_attachment.main",
        create: attachment("/dev/sdf", false),
        update: attachment("/dev/sdf", true),
        replace: Some(attachment("/dev/sdg", true)),
        update_shows: "force_detach = false -> true",
        replace_shows: r#""/dev/sdf" -> "/dev/sdg" # forces replacement"#,
        // Detached outside: a change of the attachment is its deletion.
        outside_change: Box::new(|client, stack, _id| detach(client, stack)),
        outside_delete: Box::new(detach),
        import_id: Box::new(|stack| {
            let get = |name| stack.attribute("aws_volume_attachment.main", name);
            format!("{}:{}:{}", get("device_name"), get("volume_id"), get("instance_id"))
        }),
        settings: &["force_detach"],
        keeps_id: true,
        exists: Box::new(|client, id| {
            let volumes = block(client.describe_volumes().send()).expect("describe volumes");
            volumes.volumes().iter().flat_map(|v| v.attachments()).any(|a| {
                a.state() == Some(&aws_sdk_ec2::types::VolumeAttachmentState::Attached)
                    && infra_aws::resources::ebs::attachment_id(
                        a.device().unwrap_or_default(),
                        a.instance_id().unwrap_or_default(),
                        a.volume_id().unwrap_or_default(),
                    ) == id
            })
        }),
    });
}

#[test]
fn launch_template_lives_a_full_life() {
    let template = |name: &str, kind: &str| {
        format!(
            "resource \"aws_launch_template\" \"main\" {{\n  name          = \"{name}\"\n  image_id      = data.aws_ami.ubuntu.id\n  instance_type = \"{kind}\"\n  update_default_version = true\n}}\n"
        )
    };
    live(Life {
        name: "template",
        address: "aws_launch_template.main",
        create: template("nodes-a", "t3.micro"),
        update: template("nodes-a", "t3.small"),
        replace: Some(template("nodes-b", "t3.small")),
        update_shows: r#"instance_type = "t3.micro" -> "t3.small""#,
        replace_shows: r#""nodes-a" -> "nodes-b" # forces replacement"#,
        // A new version made outside, with another instance type.
        outside_change: Box::new(|client, _stack, id| {
            let data = aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .instance_type(aws_sdk_ec2::types::InstanceType::M5Large)
                .build();
            block(client.create_launch_template_version().launch_template_id(id).launch_template_data(data).send())
                .expect("a version made outside");
        }),
        outside_delete: Box::new(|client, stack| {
            block(
                client
                    .delete_launch_template()
                    .launch_template_id(stack.attribute("aws_launch_template.main", "id"))
                    .send(),
            )
            .expect("delete");
        }),
        import_id: state_id("aws_launch_template.main"),
        settings: &["update_default_version"],
        keeps_id: true,
        exists: Box::new(|client, id| {
            block(client.describe_launch_templates().launch_template_ids(id).send())
                .map(|o| !o.launch_templates().is_empty())
                .unwrap_or(false)
        }),
    });
}
