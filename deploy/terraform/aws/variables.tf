variable "name" {
  type    = string
  default = "carbonscope"
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "vpc_cidr" {
  type    = string
  default = "10.40.0.0/16"
}

variable "image" {
  type        = string
  description = "the CarbonScope image (built from the Dockerfile), e.g. an ECR URI with its tag"
}

variable "site_url" {
  type = string
}

variable "web_count" {
  type    = number
  default = 2
}

variable "worker_count" {
  type    = number
  default = 1
}

variable "db_instance_class" {
  type    = string
  default = "db.t4g.medium"
}

variable "db_storage_gb" {
  type    = number
  default = 50
}

variable "db_backup_retain_days" {
  type    = number
  default = 7
}

variable "cache_node_type" {
  type    = string
  default = "cache.t4g.small"
}

variable "alert_emails" {
  type    = list(string)
  default = []
}
