# CarbonScope on AWS, the layout of the original design: the image on ECS Fargate (site, worker,
# scheduler) behind a load balancer, RDS PostgreSQL, ElastiCache Redis, the raw archive in S3,
# CloudWatch alarms on the exported metrics and SNS e-mail. `terraform validate` and `plan` run
# where the AWS provider can be downloaded (see docs/deploy.md).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "aws" {
  region = var.region
}

module "network" {
  source = "./modules/network"
  name   = var.name
  cidr   = var.vpc_cidr
}

module "archive" {
  source = "./modules/archive"
  name   = var.name
}

module "database" {
  source             = "./modules/database"
  name               = var.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  allowed_sg_ids     = [module.compute.service_sg_id]
  instance_class     = var.db_instance_class
  allocated_storage  = var.db_storage_gb
  backup_retain_days = var.db_backup_retain_days
}

module "cache" {
  source         = "./modules/cache"
  name           = var.name
  subnet_ids     = module.network.private_subnet_ids
  vpc_id         = module.network.vpc_id
  allowed_sg_ids = [module.compute.service_sg_id]
  node_type      = var.cache_node_type
}

module "compute" {
  source             = "./modules/compute"
  name               = var.name
  image              = var.image
  vpc_id             = module.network.vpc_id
  public_subnet_ids  = module.network.public_subnet_ids
  private_subnet_ids = module.network.private_subnet_ids
  web_count          = var.web_count
  worker_count       = var.worker_count
  archive_bucket_arn = module.archive.bucket_arn
  environment = {
    CARBONSCOPE_DATABASE_URL       = module.database.url
    CARBONSCOPE_REDIS_URL          = "redis://${module.cache.endpoint}:6379/0"
    CARBONSCOPE_QUEUE_URL          = "redis://${module.cache.endpoint}:6379/1"
    CARBONSCOPE_RAW_MIRROR_URL     = "s3://${module.archive.bucket}/raw"
    CARBONSCOPE_RESULTS_URL        = "s3://${module.archive.bucket}/analyses"
    CARBONSCOPE_EMBEDDED_WORKER    = "false"
    CARBONSCOPE_SCHEDULER_EMBEDDED = "false"
    CARBONSCOPE_ALERT_EMAILS       = join(",", var.alert_emails)
    CARBONSCOPE_SITE_URL           = var.site_url
  }
}

module "monitoring" {
  source        = "./modules/monitoring"
  name          = var.name
  alert_emails  = var.alert_emails
  load_balancer = module.compute.load_balancer_arn_suffix
  target_group  = module.compute.target_group_arn_suffix
  db_instance   = module.database.instance_id
}
