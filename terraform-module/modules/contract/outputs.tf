output "names" {
  description = "The names of the resources created once: task_definition_family, log_group, task_role, execution_role, events_role, dead_letter_queue, sweep_rule."
  value       = local.names
}

output "lifecycle_rule_names" {
  description = "The lifecycle event rule's name for each Auto Scaling group."
  value       = local.lifecycle_rule_names
}

output "cluster_arn" {
  description = "The cluster's ARN, given or built from its name."
  value       = local.cluster_arn

  precondition {
    # ECS runs only task definitions of its own account and region, and the log group, roles and rules are created
    # where the aws provider points: a cluster elsewhere could never start the drainer.
    condition     = !local.cluster_arn_given || (local.ecs_partition == var.partition && local.ecs_region == var.region && local.ecs_account_id == var.account_id)
    error_message = "cluster_name is a cluster in ${local.ecs_partition} ${local.ecs_region}, account ${local.ecs_account_id}, but the aws provider deploys to ${var.partition} ${var.region}, account ${var.account_id}: ECS runs only task definitions of its own account and region. Give this module an aws provider for the cluster's region and account (providers = { aws = aws.<alias> }), or give the cluster by name."
  }
}

output "autoscaling_group_arns" {
  description = "The ARN pattern of each Auto Scaling group, as IAM matches it."
  value       = local.autoscaling_group_arns
}

output "hook" {
  description = "The lifecycle hook's settings on every group: name, lifecycle_transition, default_result, heartbeat_timeout."
  value       = local.hook
}

output "event_patterns" {
  description = "The lifecycle event rule's pattern (JSON) for each Auto Scaling group."
  value       = local.event_patterns
}

output "input_paths" {
  description = "The input transformer's paths: placeholder to JSON path in the lifecycle event."
  value       = local.input_paths
}

output "input_template" {
  description = "The input transformer's template: RunTask overrides that give the drainer the event's fields."
  value       = local.input_template
}

output "container_environment" {
  description = "The drainer container's own environment, as a list of name/value objects."
  value       = local.container_environment
}

output "container_definitions" {
  description = "The task definition's container definitions (JSON)."
  value       = local.container_definitions
}

output "task_role_policy" {
  description = "The task role's inline policy (JSON)."
  value       = local.task_role_policy
}

output "events_role_policy" {
  description = "The events role's inline policy (JSON)."
  value       = local.events_role_policy
}

output "ecs_tasks_assume_role_policy" {
  description = "The trust policy of the task role (JSON): ECS, for tasks of the cluster's account and region."
  value       = local.ecs_tasks_assume_role_policy
}

output "execution_assume_role_policy" {
  description = "The trust policy of the execution role (JSON): ECS tasks."
  value       = local.execution_assume_role_policy
}

output "events_assume_role_policy" {
  description = "The trust policy of the events role (JSON)."
  value       = local.events_assume_role_policy
}

output "retry_policy" {
  description = "The retry policy of every EventBridge target: maximum_event_age_in_seconds, maximum_retry_attempts."
  value       = local.retry_policy
}

output "dead_letter_queue_policy" {
  description = "The dead-letter queue's policy (JSON)."
  value       = local.dead_letter_queue_policy
}

output "task_definition" {
  description = "The task definition's settings: network_mode, requires_compatibilities, cpu, memory, operating_system_family, cpu_architecture."
  value       = local.task_definition
}

output "execution_role_policy_arn" {
  description = "The managed policy attached to the execution role."
  value       = local.execution_role_policy_arn
}

output "ecs_target" {
  description = "How every EventBridge target runs the task: task_count, launch_type, platform_version, subnets, security_groups, assign_public_ip."
  value       = local.ecs_target
}

output "dead_letter_queue" {
  description = "The dead-letter queue's settings: message_retention_seconds, sqs_managed_sse_enabled."
  value       = local.dead_letter_queue
}

output "alarms" {
  description = "The alarms' definitions, by key: description, namespace, metric_name, dimensions, statistic."
  value       = local.alarms
}

output "alarm_shape" {
  description = "What every alarm shares: period, evaluation_periods, treat_missing_data (each alarm has its own threshold and comparison_operator)."
  value       = local.alarm_shape
}

output "task_failure_pattern" {
  description = "The event pattern of the rule that matches the drainer's tasks that failed to start or exited with an error (enable_alarms)."
  value       = local.task_failure_pattern
}

output "task_failures_queue_policy" {
  description = "The task-failures queue's policy: only the task-failures rule may send to it."
  value       = local.task_failures_queue_policy
}

output "alarm_names" {
  description = "Each alarm's name, by key: the name prefix and the key, cut with a hash beyond 255 characters."
  value       = local.alarm_names
}
