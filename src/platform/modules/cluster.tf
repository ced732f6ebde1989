# The `cluster` block: a network and nodes on AWS that run k3s — VPC, a subnet per zone, an
# internet gateway and route table, a security group, node instances whose user data installs
# and joins k3s. Outputs the API endpoint.
#
#   cluster "main" {
#     provider      = "aws"
#     nodes         = 3
#     instance_type = "t3.medium"
#     cidr          = "10.40.0.0/16"
#   }

variable "name" {
  type = string
}

variable "provider" {
  type    = string
  default = "aws"
  validation {
    condition     = var.provider == "aws"
    error_message = "The cluster provider is \"aws\"."
  }
}

variable "nodes" {
  type    = number
  default = 3
}

variable "instance_type" {
  type    = string
  default = "t3.medium"
}

variable "cidr" {
  type    = string
  default = "10.40.0.0/16"
}

variable "zones" {
  type    = number
  default = 2
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]
  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd/ubuntu-*"]
  }
}

resource "random_password" "token" {
  length  = 48
  special = false
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_subnet" "nodes" {
  count                   = var.zones
  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.cidr, 4, count.index)
  availability_zone       = data.aws_availability_zones.available.names[count.index]
  map_public_ip_on_launch = true
  tags                    = { Name = "${var.name}-${count.index}" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
  tags = { Name = var.name }
}

resource "aws_route_table_association" "nodes" {
  count          = var.zones
  subnet_id      = aws_subnet.nodes[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "nodes" {
  name   = "${var.name}-nodes"
  vpc_id = aws_vpc.this.id
  ingress {
    description = "Kubernetes API"
    from_port   = 6443
    to_port     = 6443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    description = "Between nodes"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    self        = true
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "server" {
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.nodes[0].id
  vpc_security_group_ids = [aws_security_group.nodes.id]
  user_data              = "#!/bin/sh\ncurl -sfL https://get.k3s.io | K3S_TOKEN=${random_password.token.result} sh -s - server --tls-san $(curl -s http://169.254.169.254/latest/meta-data/public-ipv4)\n"
  tags                   = { Name = "${var.name}-server", "infra/cluster" = var.name }
}

resource "aws_instance" "agent" {
  count                  = max(var.nodes - 1, 0)
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.nodes[count.index % var.zones].id
  vpc_security_group_ids = [aws_security_group.nodes.id]
  user_data              = "#!/bin/sh\ncurl -sfL https://get.k3s.io | K3S_URL=https://${aws_instance.server.private_ip}:6443 K3S_TOKEN=${random_password.token.result} sh -\n"
  tags                   = { Name = "${var.name}-agent-${count.index}", "infra/cluster" = var.name }
}

output "endpoint" {
  value = "https://${aws_instance.server.public_ip}:6443"
}
