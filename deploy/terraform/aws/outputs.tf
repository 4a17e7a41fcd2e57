output "site" {
  value = module.compute.load_balancer_dns
}

output "archive_bucket" {
  value = module.archive.bucket
}

output "alerts_topic" {
  value = module.monitoring.topic_arn
}
