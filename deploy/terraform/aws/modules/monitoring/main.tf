variable "name" { type = string }
variable "alert_emails" { type = list(string) }
variable "load_balancer" { type = string }
variable "target_group" { type = string }
variable "db_instance" { type = string }

resource "aws_sns_topic" "alerts" {
  name = "${var.name}-alerts"
}

resource "aws_sns_topic_subscription" "mail" {
  for_each  = toset(var.alert_emails)
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

# The site is down or unhealthy: no healthy target behind the load balancer (its check is /readyz)
resource "aws_cloudwatch_metric_alarm" "no_healthy_web" {
  alarm_name          = "${var.name}-no-healthy-web"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = { LoadBalancer = var.load_balancer, TargetGroup = var.target_group }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "server_errors" {
  alarm_name          = "${var.name}-server-errors"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = var.load_balancer }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 30
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "slow" {
  alarm_name          = "${var.name}-slow"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = { LoadBalancer = var.load_balancer }
  extended_statistic  = "p95"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 1
  alarm_actions       = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "db_storage" {
  alarm_name          = "${var.name}-db-storage"
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = var.db_instance }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "LessThanThreshold"
  threshold           = 5 * 1024 * 1024 * 1024
  alarm_actions       = [aws_sns_topic.alerts.arn]
}

# CarbonScope's own metrics (carbonscope_refresh_age_seconds, carbonscope_schedule_last_success) reach
# CloudWatch through the CloudWatch agent's Prometheus scraping (docs/deploy.md); these alarm on them.
resource "aws_cloudwatch_metric_alarm" "registry_not_refreshed" {
  alarm_name          = "${var.name}-registry-not-refreshed"
  namespace           = "CarbonScope"
  metric_name         = "carbonscope_refresh_age_seconds"
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 3 * 86400
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "schedule_failing" {
  alarm_name          = "${var.name}-schedule-failing"
  namespace           = "CarbonScope"
  metric_name         = "carbonscope_schedule_last_success"
  statistic           = "Minimum"
  period              = 900
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

output "topic_arn" { value = aws_sns_topic.alerts.arn }
