variable "name" { type = string }
variable "vpc_id" { type = string }
variable "subnet_ids" { type = list(string) }
variable "allowed_sg_ids" { type = list(string) }
variable "instance_class" { type = string }
variable "allocated_storage" { type = number }
variable "backup_retain_days" { type = number }

resource "random_password" "db" {
  length  = 32
  special = false
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "db" {
  name   = "${var.name}-db"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = var.allowed_sg_ids
  }
}

resource "aws_db_instance" "this" {
  identifier                = var.name
  engine                    = "postgres"
  engine_version            = "15"
  instance_class            = var.instance_class
  allocated_storage         = var.allocated_storage
  db_name                   = "carbonscope"
  username                  = "carbonscope"
  password                  = random_password.db.result
  db_subnet_group_name      = aws_db_subnet_group.this.name
  vpc_security_group_ids    = [aws_security_group.db.id]
  backup_retention_period   = var.backup_retain_days
  storage_encrypted         = true
  multi_az                  = true
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"
}

output "url" {
  value     = "postgresql+psycopg://carbonscope:${random_password.db.result}@${aws_db_instance.this.address}:5432/carbonscope"
  sensitive = true
}
output "instance_id" { value = aws_db_instance.this.identifier }
