output "task_definition_arn" {
  description = "The drainer's task definition ARN (with its revision)."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "The drainer task role's ARN."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "The drainer task execution role's ARN."
  value       = aws_iam_role.execution.arn
}

output "events_role_arn" {
  description = "The ARN of the role EventBridge uses to start the drainer."
  value       = aws_iam_role.events.arn
}

output "lifecycle_rule_arns" {
  description = "The lifecycle event rules' ARNs, one per group, in the order of autoscaling_group_names."
  value       = [for g in var.autoscaling_group_names : aws_cloudwatch_event_rule.lifecycle[g].arn]
}

output "sweep_rule_arn" {
  description = "The sweep rule's ARN, or null when enable_sweep is false."
  value       = try(aws_cloudwatch_event_rule.sweep[0].arn, null)
}

output "hook_names" {
  description = "The lifecycle hooks' names, one per group, in the order of autoscaling_group_names."
  value       = [for g in var.autoscaling_group_names : aws_autoscaling_lifecycle_hook.this[g].name]
}

output "log_group_name" {
  description = "The CloudWatch Logs group of the drainer's logs."
  value       = aws_cloudwatch_log_group.this.name
}

output "dead_letter_queue_url" {
  description = "The URL of the SQS queue that receives events EventBridge could not deliver to the drainer."
  value       = aws_sqs_queue.dead_letter.url
}

output "image_uri" {
  description = "The drainer image the task definition runs."
  value       = var.drainer_image
}

output "alarm_arns" {
  description = "The ARNs of the alarms, by key (empty unless enable_alarms)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }
}
