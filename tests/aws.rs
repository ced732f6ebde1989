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

type Client = aws_sdk_ec2::Client;
/// A change made outside infra to an object (given the stack and the object's id).
type OutsideChange<'a> = Box<dyn Fn(&Client, &Stack, &str) + 'a>;
/// A deletion made outside infra.
type OutsideDelete<'a> = Box<dyn Fn(&Client, &Stack) + 'a>;
/// Whether an object (by id) exists in EC2.
type Exists<'a> = Box<dyn Fn(&Client, &str) -> bool + 'a>;

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
    outside_change: OutsideChange<'a>,
    /// Deletes the object outside infra.
    outside_delete: OutsideDelete<'a>,
    /// The import id of the object in state.
    import_id: Box<dyn Fn(&Stack) -> String + 'a>,
    /// Arguments that exist only in infra (no EC2 counterpart to import them from): after an
    /// import they are the whole plan, an in-place update that records them.
    settings: &'a [&'a str],
    /// Whether an in-place update keeps the id (an association gets a new one).
    keeps_id: bool,
    /// Whether the object still exists in EC2 (after destroy: it must not).
    exists: Exists<'a>,
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

/// Objects of a test run still in EC2: VPCs, live instances, security groups and key pairs
/// carrying its `stack` tag.
fn leftovers(name: &str) -> Vec<String> {
    let client = ec2();
    let tagged = filter("tag:stack", name);
    let mut out = Vec::new();
    let vpcs = block(client.describe_vpcs().filters(tagged.clone()).send()).expect("describe vpcs");
    out.extend(vpcs.vpcs().iter().filter_map(|v| v.vpc_id().map(str::to_string)));
    let instances = block(client.describe_instances().filters(tagged.clone()).send()).expect("describe instances");
    out.extend(
        instances
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| i.state().and_then(|s| s.name()) != Some(&aws_sdk_ec2::types::InstanceStateName::Terminated))
            .filter_map(|i| i.instance_id().map(str::to_string)),
    );
    let groups = block(client.describe_security_groups().filters(tagged.clone()).send()).expect("describe groups");
    out.extend(groups.security_groups().iter().filter_map(|g| g.group_id().map(str::to_string)));
    let keys = block(client.describe_key_pairs().filters(filter("key-name", &format!("{name}-deploy"))).send())
        .expect("describe keys");
    out.extend(keys.key_pairs().iter().filter_map(|k| k.key_name().map(str::to_string)));
    out
}

#[test]
fn the_network_example_applies_plans_clean_and_destroys_everything() {
    let stack = Stack::new();
    stack.copy_from(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws-network"));
    let key = format!("ssh_public_key={}", ssh_public_key());
    let vars = ["-var", "name=example-test", "-var", key.as_str()];
    let with = |args: &[&'static str]| -> Vec<String> {
        args.iter().map(|a| a.to_string()).chain(vars.iter().map(|a| a.to_string())).collect()
    };
    let run = |args: &[&'static str]| {
        let args = with(args);
        stack.command(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().expect("infra runs")
    };
    let ok = |args: &[&'static str]| {
        let output = run(args);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let applied = ok(&["apply", "-auto-approve", "-no-color"]);
    assert!(applied.contains("Apply complete! Resources: 17 added, 0 changed, 0 destroyed."), "{applied}");
    assert_eq!(leftovers("example-test").len(), 1 + 3 + 1 + 1, "a VPC, three instances, a group and a key");

    let output = run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));

    let destroyed = ok(&["destroy", "-auto-approve", "-no-color"]);
    assert!(destroyed.contains("Destroy complete! Resources: 17 destroyed."), "{destroyed}");
    assert_eq!(leftovers("example-test"), Vec::<String>::new(), "destroy leaves nothing of the example in EC2");
}

/// Ids in plan text, made stable for snapshots.
fn redact_ids(text: &str) -> String {
    let pattern = regex::Regex::new(r"\b(vpc|subnet|sg|i|ami|igw|rtb|eni|vol)-[0-9a-f]{8,17}\b").expect("regex");
    let text = pattern.replace_all(text, "$1-…");
    let addresses = regex::Regex::new(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b").expect("regex");
    let text = addresses.replace_all(&text, "x.x.x.x");
    let names = regex::Regex::new(r"ec2-[x0-9-]+\.compute-1\.amazonaws\.com|ip-[0-9-]+\.ec2\.internal").expect("regex");
    names.replace_all(&text, "…").into_owned()
}

#[test]
fn an_instance_type_changes_in_place_and_an_ami_replaces() {
    let stack = Stack::new();
    let base = network("plans");
    let older = format!("\"{}\"", older_ubuntu());
    stack.write(&format!("{base}{}", instance("data.aws_ami.ubuntu.id", "t3.micro")));
    stack.apply();

    stack.write(&format!("{base}{}", instance("data.aws_ami.ubuntu.id", "t3.large")));
    let (code, text) = stack.plan();
    assert_eq!(code, 2);
    insta::assert_snapshot!("instance_type_in_place", redact_ids(&text));

    stack.write(&format!("{base}{}", instance(&older, "t3.micro")));
    let (code, text) = stack.plan();
    assert_eq!(code, 2);
    insta::assert_snapshot!("ami_replaces", redact_ids(&text));
    stack.ok(&["destroy", "-auto-approve"]);
}

#[test]
fn data_sources_find_amis_zones_vpcs_and_subnets() {
    let stack = Stack::new();
    stack.write(&format!(
        r#"{}
data "aws_availability_zones" "all" {{}}

data "aws_vpc" "mine" {{
  id = aws_vpc.net.id
}}

data "aws_subnets" "mine" {{
  depends_on = [aws_subnet.net]
  filter {{
    name   = "vpc-id"
    values = [aws_vpc.net.id]
  }}
}}

output "ami_name" {{
  value = data.aws_ami.ubuntu.name
}}
output "zones" {{
  value = length(data.aws_availability_zones.all.names)
}}
output "vpc_cidr" {{
  value = data.aws_vpc.mine.cidr_block
}}
output "subnets" {{
  value = data.aws_subnets.mine.ids == [aws_subnet.net.id]
}}
"#,
        network("data")
    ));
    let applied = stack.apply();
    assert!(applied.contains("ami_name = \"ubuntu/images/hvm-ssd/ubuntu-"), "{applied}");
    assert!(applied.contains("zones = 6"), "moto's us-east-1 has six zones:\n{applied}");
    assert!(applied.contains("vpc_cidr = \"10.9.0.0/16\""), "{applied}");
    assert!(applied.contains("subnets = true"), "{applied}");
    stack.ok(&["destroy", "-auto-approve"]);
}

#[test]
fn a_missing_ami_is_one_clear_error_naming_the_resource() {
    let stack = Stack::new();
    stack.write(&format!("{}{}", network("bad-ami"), instance("\"ami-00000000000000000\"", "t3.micro")));
    let output = stack.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in `aws_instance.main`"), "{stderr}");
    assert!(stderr.contains("RunInstances failed: InvalidAMIID.NotFound"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stack.ok(&["destroy", "-auto-approve"]);
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error() {
    let stack = Stack::with_endpoint("http://127.0.0.1:9");
    stack.write(r#"resource "aws_vpc" "main" { cidr_block = "10.0.0.0/16" }"#);
    let output =
        stack.command(&["apply", "-auto-approve", "-no-color"]).env("AWS_MAX_ATTEMPTS", "1").output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in `aws_vpc.main`"), "{stderr}");
    assert!(stderr.contains("could not be reached"), "{stderr}");
    assert!(!stderr.contains("testing"), "no credential in errors:\n{stderr}");
}

#[test]
fn provider_aliases_configure_separate_instances() {
    let stack = Stack::new();
    stack.write(
        r#"
provider "aws" {
  region = "us-east-1"
}
provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
resource "aws_vpc" "east" {
  cidr_block = "10.1.0.0/16"
}
resource "aws_vpc" "west" {
  provider   = aws.west
  cidr_block = "10.2.0.0/16"
}
"#,
    );
    stack.apply();
    assert!(stack.attribute("aws_vpc.east", "arn").contains(":us-east-1:"));
    assert!(stack.attribute("aws_vpc.west", "arn").contains(":us-west-2:"));
    assert_eq!(stack.state()["resources"]["aws_vpc.west"]["provider"], "aws.west");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
    stack.ok(&["destroy", "-auto-approve"]);
}

fn object(entries: &[(&str, infra_provider::Value)]) -> infra_provider::Value {
    infra_provider::Value::Map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

/// A provider configured for moto, used directly (no engine around it).
fn provider() -> infra_aws::Aws {
    use infra_provider::{ConfigureRequest, Provider, Value};
    let aws = infra_aws::Aws::new();
    let endpoints = object(&[("ec2", Value::string(support::moto().endpoint.clone()))]);
    let config = object(&[
        ("region", Value::string("us-east-1")),
        ("access_key", Value::string("testing")),
        ("secret_key", Value::string("testing")),
        ("endpoints", endpoints),
    ]);
    block(aws.configure(ConfigureRequest { config })).expect("configure");
    aws
}

/// Starts `count` instances in a fresh subnet with one SDK call; their ids.
fn many_instances(count: i32) -> Vec<String> {
    let client = ec2();
    let vpc = block(client.create_vpc().cidr_block("10.50.0.0/16").send()).expect("vpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    let subnet = block(client.create_subnet().vpc_id(&vpc).cidr_block("10.50.0.0/20").send()).expect("subnet");
    let subnet = subnet.subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
    let output = block(
        client
            .run_instances()
            .image_id(older_ubuntu())
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .subnet_id(subnet)
            .min_count(count)
            .max_count(count)
            .send(),
    )
    .expect("run instances");
    output.instances().iter().filter_map(|i| i.instance_id().map(str::to_string)).collect()
}

#[test]
fn refreshing_500_instances_takes_a_handful_of_calls() {
    use infra_provider::{Provider, ReadRequest, Value};
    let ids = many_instances(500);
    assert_eq!(ids.len(), 500);
    let aws = provider();
    let mut requests: Vec<ReadRequest> = ids
        .iter()
        .map(|id| ReadRequest { kind: "aws_instance".into(), current: object(&[("id", Value::string(id.clone()))]) })
        .collect();
    // One of them is gone: it reads as gone, and does not fail the others.
    requests.push(ReadRequest {
        kind: "aws_instance".into(),
        current: object(&[("id", Value::string("i-0123456789abcdef0"))]),
    });
    let before = aws.api_calls().unwrap_or(0);
    let answers = block(aws.read_batch(requests));
    let calls = aws.api_calls().unwrap_or(0) - before;
    let found = answers.iter().filter(|a| matches!(a, Ok(r) if r.current.is_some())).count();
    assert_eq!(found, 500, "every live instance is read");
    assert!(matches!(answers.last(), Some(Ok(r)) if r.current.is_none()), "the missing one reads as gone");
    assert!(calls <= 10, "500 instances refreshed in {calls} EC2 calls");
    let client = ec2();
    for chunk in ids.chunks(500) {
        block(client.terminate_instances().set_instance_ids(Some(chunk.to_vec())).send()).expect("terminate");
    }
}

#[test]
fn a_targeted_plan_among_500_instances_reads_only_its_target() {
    // 500 instances made with one SDK call, brought under management by `import` blocks.
    let ids = many_instances(500);
    let mut config = format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}
resource "aws_instance" "web" {{
  count         = {count}
  ami           = "{ami}"
  instance_type = "t3.micro"
}}
"#,
        count = ids.len(),
        ami = older_ubuntu()
    );
    for (index, id) in ids.iter().enumerate() {
        config.push_str(&format!("import {{\n  to = aws_instance.web[{index}]\n  id = \"{id}\"\n}}\n"));
    }
    let stack = Stack::new();
    stack.write(&config);
    stack.apply();
    let calls = |args: &[&str]| -> u64 {
        let plan: serde_json::Value = serde_json::from_str(&stack.ok(args)).expect("plan -json is JSON");
        assert_eq!(plan["summary"]["add"], 0, "every instance is managed: {}", plan["summary"]);
        plan["api_calls"]["aws"].as_u64().unwrap_or(0)
    };
    // Against the whole configuration, the refresh reads every instance, in batched calls.
    let whole = calls(&["plan", "-json"]);
    assert!((1..=10).contains(&whole), "a whole plan made {whole} EC2 calls");
    // A target reads only itself: it depends on nothing else here.
    let targeted = calls(&["plan", "-json", "-target=aws_instance.web[7]"]);
    assert!((1..=3).contains(&targeted), "a targeted plan made {targeted} EC2 calls");
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "the imported instances plan clean:\n{text}");
    let client = ec2();
    block(client.terminate_instances().set_instance_ids(Some(ids)).send()).expect("terminate");
}

#[test]
fn a_create_killed_before_its_state_is_written_makes_no_second_instance() {
    let relay = support::KillOnRunInstances::start(&support::moto().endpoint);
    let mut stack = Stack::with_endpoint(&relay.endpoint);
    stack.write(&format!("{}{}", network("crash"), instance("data.aws_ami.ubuntu.id", "t3.micro")));
    let killed = relay.run(stack.command(&["apply", "-auto-approve"]));
    assert!(killed, "the apply was killed once EC2 had answered RunInstances");
    let state = stack.state();
    assert!(state["resources"].get("aws_instance.main").is_none(), "the killed run never recorded the instance");
    let subnet = stack.attribute("aws_subnet.net", "id");
    let live_in_subnet = || {
        let output =
            block(ec2().describe_instances().filters(filter("subnet-id", &subnet)).send()).expect("describe instances");
        output
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| i.state().and_then(|s| s.name()) != Some(&aws_sdk_ec2::types::InstanceStateName::Terminated))
            .filter_map(|i| i.instance_id().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let made = live_in_subnet();
    assert_eq!(made.len(), 1, "the killed run's RunInstances made one instance");

    stack.set_endpoint(&support::moto().endpoint);
    // The killed run's lock expires; the next run waits for it and takes over.
    stack.ok(&["apply", "-auto-approve", "-lock-timeout=30s"]);
    assert_eq!(live_in_subnet(), made, "the next apply adopted that instance instead of starting a second");
    assert_eq!(stack.attribute("aws_instance.main", "id"), made[0]);
    let (code, text) = stack.plan();
    assert_eq!(code, 0, "{text}");
    stack.ok(&["destroy", "-auto-approve"]);
    assert!(live_in_subnet().is_empty());
}

#[test]
fn an_import_block_adopts_a_vpc_made_elsewhere() {
    let client = ec2();
    let made = block(client.create_vpc().cidr_block("10.77.0.0/16").send()).expect("a VPC made outside infra");
    let id = made.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    let stack = Stack::new();
    stack.write(&format!(
        r#"
import {{
  to = aws_vpc.adopted
  id = "{id}"
}}
resource "aws_vpc" "adopted" {{
  cidr_block = "10.77.0.0/16"
  tags       = {{ Name = "adopted" }}
}}
"#
    ));
    let (code, text) = stack.plan();
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("# (imported from \"{id}\")")), "{text}");
    assert!(
        text.contains("0 to add, 1 to change, 0 to destroy"),
        "the import adds nothing, the tag is an update:\n{text}"
    );
    stack.apply();
    assert_eq!(stack.attribute("aws_vpc.adopted", "id"), id);
    clean(&stack, "adopting");
    stack.ok(&["destroy", "-auto-approve"]);
    assert!(!vpc_exists(&client, &id));
}

#[test]
fn a_vpc_module_wired_through_locals_and_outputs_is_destroyed_in_one_go() {
    // The subnets and the route table reach the VPC only through `local.vpc_id`, and the
    // instance's subnet comes through a module output: the state must record the VPC (not the
    // local) as what they depend on, or destroy deletes the VPC first and EC2 refuses it.
    let stack = Stack::new();
    std::fs::create_dir_all(stack.path().join("vpc")).expect("module dir");
    std::fs::write(
        stack.path().join("vpc/main.tf"),
        r#"
variable "cidr" {}
resource "aws_vpc" "this" { cidr_block = var.cidr }
locals {
  vpc_id  = aws_vpc.this.id
  subnets = { a = cidrsubnet(var.cidr, 8, 1), b = cidrsubnet(var.cidr, 8, 2) }
}
resource "aws_subnet" "private" {
  for_each          = local.subnets
  vpc_id            = local.vpc_id
  cidr_block        = each.value
  availability_zone = "us-east-1a"
}
resource "aws_internet_gateway" "gw" { vpc_id = local.vpc_id }
resource "aws_route_table" "public" {
  vpc_id = local.vpc_id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }
}
resource "aws_security_group" "web" {
  name   = "web-destroy-order"
  vpc_id = local.vpc_id
}
output "subnet_ids" { value = [for s in aws_subnet.private : s.id] }
output "vpc_id" { value = local.vpc_id }
"#,
    )
    .expect("module");
    stack.write(
        r#"
provider "aws" { region = "us-east-1" }
module "vpc" {
  source = "./vpc"
  cidr   = "10.31.0.0/16"
}
resource "aws_security_group" "app" {
  name   = "app-destroy-order"
  vpc_id = module.vpc.vpc_id
}
"#,
    );
    stack.apply();
    let state = stack.state();
    let recorded = |address: &str| -> Vec<String> {
        state["resources"][address]["dependencies"]
            .as_array()
            .map(|deps| deps.iter().filter_map(|d| d.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    assert!(recorded("module.vpc.aws_subnet.private[\"a\"]").contains(&"module.vpc.aws_vpc.this".to_string()));
    assert!(recorded("aws_security_group.app").contains(&"module.vpc.aws_vpc.this".to_string()));
    let vpc = stack.attribute("module.vpc.aws_vpc.this", "id");
    let destroyed = stack.run(&["destroy", "-auto-approve"]);
    let stderr = String::from_utf8_lossy(&destroyed.stderr);
    assert!(destroyed.status.success(), "destroy failed on its first try:\n{stderr}");
    assert!(!vpc_exists(&ec2(), &vpc), "the VPC is gone");
}
