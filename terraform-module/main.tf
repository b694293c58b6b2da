data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

# Names, ARNs, policies, the event pattern, the input transformer and the container definition: everything that
# needs no AWS call lives in modules/contract, where `terraform test` checks it offline.
module "contract" {
  source = "./modules/contract"

  name                    = var.name
  cluster_name            = var.cluster_name
  autoscaling_group_names = var.autoscaling_group_names
  subnet_ids              = var.subnet_ids
  security_group_ids      = var.security_group_ids
  assign_public_ip        = var.assign_public_ip
  drainer_image           = var.drainer_image
  heartbeat_timeout       = var.heartbeat_timeout
  drain_timeout           = var.drain_timeout
  poll_interval           = var.poll_interval
  ecs_reads_per_second    = var.ecs_reads_per_second
  request_timeout         = var.request_timeout
  timeout_result          = var.timeout_result
  stop_standalone_tasks   = var.stop_standalone_tasks
  hook_default_result     = var.hook_default_result
  emit_metrics            = var.emit_metrics
  metrics_namespace       = var.metrics_namespace
  publish_events          = var.publish_events
  enable_alarms           = var.enable_alarms
  alarm_topic_arn         = var.alarm_topic_arn
  fargate_vcpu_quota      = var.fargate_vcpu_quota
  enable_sweep            = var.enable_sweep
  sweep_schedule          = var.sweep_schedule
  cpu                     = var.cpu
  memory                  = var.memory
  log_retention_days      = var.log_retention_days
  launch_type             = var.launch_type
  cpu_architecture        = var.cpu_architecture
  hook_name               = var.hook_name
  permissions_boundary    = var.permissions_boundary
  role_path               = var.role_path
  kms_key_arn             = var.kms_key_arn
  tags                    = var.tags

  partition = data.aws_partition.current.partition
  # `name` is deprecated in 6.x and `region` does not exist in 5.x; `id` is the region's name in both.
  region             = data.aws_region.current.id
  account_id         = data.aws_caller_identity.current.account_id
  task_role_arn      = aws_iam_role.task.arn
  execution_role_arn = aws_iam_role.execution.arn

  dead_letter_queue_arn   = aws_sqs_queue.dead_letter.arn
  task_failures_queue_arn = try(aws_sqs_queue.task_failures[0].arn, null)
  task_failures_rule_arn  = try(aws_cloudwatch_event_rule.task_failures[0].arn, null)
  rule_arns = concat(
    [for g in var.autoscaling_group_names : aws_cloudwatch_event_rule.lifecycle[g].arn],
    aws_cloudwatch_event_rule.sweep[*].arn,
  )
}

locals {
  groups = toset(var.autoscaling_group_names)
}

################################################################################
# The drainer task
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = module.contract.names.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "task" {
  name                 = module.contract.names.task_role
  path                 = var.role_path
  permissions_boundary = var.permissions_boundary
  description          = "The ECS scale-in drainer's task role: drains container instances and completes lifecycle actions."
  assume_role_policy   = module.contract.ecs_tasks_assume_role_policy
  tags                 = var.tags
}

resource "aws_iam_role_policy" "task" {
  name   = "drainer"
  role   = aws_iam_role.task.id
  policy = module.contract.task_role_policy
}

resource "aws_iam_role" "execution" {
  name                 = module.contract.names.execution_role
  path                 = var.role_path
  permissions_boundary = var.permissions_boundary
  description          = "Pulls the ECS scale-in drainer's image and writes its logs."
  assume_role_policy   = module.contract.execution_assume_role_policy
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = module.contract.execution_role_policy_arn
}

resource "aws_ecs_task_definition" "this" {
  family                   = module.contract.names.task_definition_family
  network_mode             = module.contract.task_definition.network_mode
  requires_compatibilities = module.contract.task_definition.requires_compatibilities
  cpu                      = module.contract.task_definition.cpu
  memory                   = module.contract.task_definition.memory
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions    = module.contract.container_definitions
  tags                     = var.tags

  runtime_platform {
    operating_system_family = module.contract.task_definition.operating_system_family
    cpu_architecture        = module.contract.task_definition.cpu_architecture
  }

  lifecycle {
    # A change registers the new revision and moves the targets to it before the old one is deregistered: ECS runs
    # no new task of an INACTIVE revision, so destroying first would leave events a moment with nothing to start.
    create_before_destroy = true
  }

  depends_on = [aws_cloudwatch_log_group.this]
}

################################################################################
# EventBridge: the role that starts the task, and the queue of events it could not deliver
################################################################################

resource "aws_iam_role" "events" {
  name                 = module.contract.names.events_role
  path                 = var.role_path
  permissions_boundary = var.permissions_boundary
  description          = "Lets EventBridge start the ECS scale-in drainer's task."
  assume_role_policy   = module.contract.events_assume_role_policy
  tags                 = var.tags
}

resource "aws_iam_role_policy" "events" {
  name   = "run-drainer"
  role   = aws_iam_role.events.id
  policy = module.contract.events_role_policy
}

# A drainer that EventBridge could not start (after its retries) lands here, so it is visible and can be replayed.
resource "aws_sqs_queue" "dead_letter" {
  name                      = module.contract.names.dead_letter_queue
  message_retention_seconds = module.contract.dead_letter_queue.message_retention_seconds
  sqs_managed_sse_enabled   = module.contract.dead_letter_queue.sqs_managed_sse_enabled
  kms_master_key_id         = module.contract.dead_letter_queue.kms_master_key_id
  tags                      = var.tags
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy    = module.contract.dead_letter_queue_policy
}

################################################################################
# Per Auto Scaling group: the hook, and the rule that starts the drainer
################################################################################

resource "aws_autoscaling_lifecycle_hook" "this" {
  for_each = local.groups

  name                   = module.contract.hook.name
  autoscaling_group_name = each.key
  lifecycle_transition   = module.contract.hook.lifecycle_transition
  default_result         = module.contract.hook.default_result
  heartbeat_timeout      = module.contract.hook.heartbeat_timeout

  # Created last: once the hook holds an instance, its event must already have a rule and a target.
  depends_on = [aws_cloudwatch_event_target.lifecycle]
}

resource "aws_cloudwatch_event_rule" "lifecycle" {
  for_each = local.groups

  name = module.contract.lifecycle_rule_names[each.key]
  # EventBridge allows 512 characters; a long group name with a long hook name could pass that.
  description   = substr("Starts the ECS scale-in drainer for each instance that ${each.key} holds at lifecycle hook ${var.hook_name}.", 0, 512)
  event_pattern = module.contract.event_patterns[each.key]
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "lifecycle" {
  for_each = local.groups

  rule     = aws_cloudwatch_event_rule.lifecycle[each.key].name
  arn      = module.contract.cluster_arn
  role_arn = aws_iam_role.events.arn

  ecs_target {
    task_definition_arn = aws_ecs_task_definition.this.arn
    task_count          = module.contract.ecs_target.task_count
    launch_type         = module.contract.ecs_target.launch_type
    platform_version    = module.contract.ecs_target.platform_version
    propagate_tags      = module.contract.ecs_target.propagate_tags

    network_configuration {
      subnets          = module.contract.ecs_target.subnets
      security_groups  = module.contract.ecs_target.security_groups
      assign_public_ip = module.contract.ecs_target.assign_public_ip
    }
  }

  input_transformer {
    input_paths    = module.contract.input_paths
    input_template = module.contract.input_template
  }

  retry_policy {
    maximum_event_age_in_seconds = module.contract.retry_policy.maximum_event_age_in_seconds
    maximum_retry_attempts       = module.contract.retry_policy.maximum_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }
}

################################################################################
# The sweep: the same task, without an instance, for events that were lost
################################################################################

resource "aws_cloudwatch_event_rule" "sweep" {
  count = var.enable_sweep ? 1 : 0

  name                = module.contract.names.sweep_rule
  description         = "Starts the ECS scale-in drainer in sweep mode: it completes any instance still waiting at hook ${var.hook_name}."
  schedule_expression = var.sweep_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "sweep" {
  count = var.enable_sweep ? 1 : 0

  rule     = aws_cloudwatch_event_rule.sweep[0].name
  arn      = module.contract.cluster_arn
  role_arn = aws_iam_role.events.arn

  ecs_target {
    task_definition_arn = aws_ecs_task_definition.this.arn
    task_count          = module.contract.ecs_target.task_count
    launch_type         = module.contract.ecs_target.launch_type
    platform_version    = module.contract.ecs_target.platform_version
    propagate_tags      = module.contract.ecs_target.propagate_tags

    network_configuration {
      subnets          = module.contract.ecs_target.subnets
      security_groups  = module.contract.ecs_target.security_groups
      assign_public_ip = module.contract.ecs_target.assign_public_ip
    }
  }

  retry_policy {
    maximum_event_age_in_seconds = module.contract.retry_policy.maximum_event_age_in_seconds
    maximum_retry_attempts       = module.contract.retry_policy.maximum_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }
}

################################################################################
# Alarms (enable_alarms): events that could not start the drainer, drainer tasks that failed, and drains that went
# wrong
################################################################################

# A drainer task ECS accepted and then could not start, or that exited with an error, is invisible to EventBridge's own
# metrics (RunTask answered 200). This rule matches its ECS event; its queue keeps the events (with ECS's
# stoppedReason) for the operator, and gives the rule a target, so that EventBridge publishes its MatchedEvents.
resource "aws_cloudwatch_event_rule" "task_failures" {
  count = var.enable_alarms ? 1 : 0

  name          = module.contract.names.task_failures_rule
  description   = "Matches the ECS scale-in drainer's tasks that failed to start or exited with an error."
  event_pattern = module.contract.task_failure_pattern
  tags          = var.tags
}

resource "aws_sqs_queue" "task_failures" {
  count = var.enable_alarms ? 1 : 0

  name                      = module.contract.names.task_failures_queue
  message_retention_seconds = module.contract.dead_letter_queue.message_retention_seconds
  sqs_managed_sse_enabled   = module.contract.dead_letter_queue.sqs_managed_sse_enabled
  kms_master_key_id         = module.contract.dead_letter_queue.kms_master_key_id
  tags                      = var.tags
}

resource "aws_sqs_queue_policy" "task_failures" {
  count = var.enable_alarms ? 1 : 0

  queue_url = aws_sqs_queue.task_failures[0].id
  policy    = module.contract.task_failures_queue_policy
}

resource "aws_cloudwatch_event_target" "task_failures" {
  count = var.enable_alarms ? 1 : 0

  rule = aws_cloudwatch_event_rule.task_failures[0].name
  arn  = aws_sqs_queue.task_failures[0].arn
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = var.enable_alarms ? module.contract.alarms : {}

  alarm_name          = module.contract.alarm_names[each.key]
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = module.contract.alarm_shape.period
  evaluation_periods  = module.contract.alarm_shape.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison_operator
  treat_missing_data  = module.contract.alarm_shape.treat_missing_data
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  ok_actions          = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  tags                = var.tags
}
