# The root module planned and applied against the hashicorp/aws provider's own schema, with every call mocked:
# test/terraform/real-schema.test.ts serves the schema (lowest 5.x and newest 6.x extracts) through a schema-only
# stand-in for the provider. Every argument, block and reference is checked against that schema; values AWS computes
# (ARNs, IDs) are Terraform's mock values, and the provider's own value checks and AWS itself are not exercised.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id   = "us-west-2"
      name = "us-west-2"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  cluster_name            = "prod"
  autoscaling_group_names = ["prod-ecs-a"]
  subnet_ids              = ["subnet-0123456789abcdef0"]
  security_group_ids      = ["sg-0123456789abcdef0"]
  drainer_image           = "123456789012.dkr.ecr.us-west-2.amazonaws.com/ecs-scale-in-drainer:0.1.0"
}

run "one_group_fargate_with_the_sweep" {
  command = apply

  assert {
    condition     = length(aws_autoscaling_lifecycle_hook.this) == 1 && length(aws_cloudwatch_event_rule.lifecycle) == 1 && length(aws_cloudwatch_event_target.lifecycle) == 1
    error_message = "One group: one hook, one rule, one target."
  }
  assert {
    condition     = length(aws_cloudwatch_event_rule.sweep) == 1 && length(aws_cloudwatch_event_target.sweep) == 1
    error_message = "The sweep is on by default."
  }
  assert {
    condition     = aws_ecs_task_definition.this.requires_compatibilities == toset(["FARGATE"]) && aws_cloudwatch_event_target.lifecycle["prod-ecs-a"].ecs_target[0].launch_type == "FARGATE" && aws_cloudwatch_event_target.lifecycle["prod-ecs-a"].ecs_target[0].platform_version == "LATEST"
    error_message = "Fargate by default, on the latest platform."
  }
  assert {
    condition     = aws_ecs_task_definition.this.runtime_platform[0].cpu_architecture == "X86_64"
    error_message = "X86_64 by default."
  }
  assert {
    condition     = aws_cloudwatch_event_target.lifecycle["prod-ecs-a"].ecs_target[0].propagate_tags == "TASK_DEFINITION" && aws_cloudwatch_event_target.sweep[0].ecs_target[0].propagate_tags == "TASK_DEFINITION"
    error_message = "Every target propagates the task definition's tags to the drainer's tasks."
  }
  assert {
    condition     = aws_autoscaling_lifecycle_hook.this["prod-ecs-a"].default_result == "CONTINUE" && aws_autoscaling_lifecycle_hook.this["prod-ecs-a"].lifecycle_transition == "autoscaling:EC2_INSTANCE_TERMINATING"
    error_message = "A terminate hook that continues by default."
  }
  assert {
    condition     = aws_cloudwatch_event_target.lifecycle["prod-ecs-a"].arn == "arn:aws:ecs:us-west-2:123456789012:cluster/prod" && aws_cloudwatch_event_target.lifecycle["prod-ecs-a"].role_arn == aws_iam_role.events.arn
    error_message = "The target runs the task in the cluster with the events role."
  }
  assert {
    condition     = output.hook_names == ["ecs-scale-in-drainer"]
    error_message = "The hook's name is the default."
  }
}

run "three_groups_on_ec2_without_the_sweep" {
  command = apply
  variables {
    autoscaling_group_names = ["blue", "green", "spot-pool"]
    launch_type             = "EC2"
    assign_public_ip        = false
    enable_sweep            = false
    hook_default_result     = "ABANDON"
    cpu_architecture        = "ARM64"
    tags                    = { team = "platform" }
  }

  assert {
    condition     = aws_ecs_task_definition.this.runtime_platform[0].cpu_architecture == "ARM64" && aws_ecs_task_definition.this.runtime_platform[0].operating_system_family == "LINUX"
    error_message = "cpu_architecture reaches the task definition's runtime platform."
  }

  assert {
    condition     = length(aws_autoscaling_lifecycle_hook.this) == 3 && length(aws_cloudwatch_event_rule.lifecycle) == 3 && length(aws_cloudwatch_event_target.lifecycle) == 3
    error_message = "Three groups: a hook, a rule and a target each."
  }
  assert {
    condition     = length(aws_cloudwatch_event_rule.sweep) == 0 && length(aws_cloudwatch_event_target.sweep) == 0
    error_message = "No sweep when enable_sweep is false."
  }
  assert {
    condition     = aws_ecs_task_definition.this.requires_compatibilities == toset(["EC2"]) && alltrue([for t in aws_cloudwatch_event_target.lifecycle : t.ecs_target[0].launch_type == "EC2" && t.ecs_target[0].platform_version == null && t.ecs_target[0].network_configuration[0].assign_public_ip == false])
    error_message = "EC2 tasks: no platform version, no public IP."
  }
  assert {
    condition     = alltrue([for h in aws_autoscaling_lifecycle_hook.this : h.default_result == "ABANDON"])
    error_message = "Every hook takes hook_default_result."
  }
  assert {
    condition     = aws_ecs_task_definition.this.tags == tomap({ team = "platform" }) && aws_iam_role.task.tags == tomap({ team = "platform" })
    error_message = "Tags reach the resources that take them."
  }
}

run "plans_a_cluster_given_by_arn" {
  command = plan
  variables {
    cluster_name = "arn:aws:ecs:us-west-2:123456789012:cluster/shared"
  }

  assert {
    condition     = aws_cloudwatch_event_target.lifecycle["prod-ecs-a"].arn == "arn:aws:ecs:us-west-2:123456789012:cluster/shared"
    error_message = "A cluster ARN is used as given."
  }
}

run "rejects_a_group_name_iam_would_read_as_a_wildcard" {
  command = plan
  variables {
    autoscaling_group_names = ["web-*"]
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_a_public_ip_on_ec2" {
  command = plan
  variables {
    launch_type      = "EC2"
    assign_public_ip = true
  }
  expect_failures = [var.assign_public_ip]
}

run "rejects_a_heartbeat_timeout_out_of_range" {
  command = plan
  variables {
    heartbeat_timeout = 10
  }
  expect_failures = [var.heartbeat_timeout]
}

run "rejects_a_metrics_namespace_reserved_for_aws" {
  command = plan
  variables {
    metrics_namespace = "AWS/ECS"
  }
  expect_failures = [var.metrics_namespace]
}

run "alarms_when_asked_for_each_group_rule_and_the_queue" {
  command = apply
  variables {
    autoscaling_group_names = ["blue", "green"]
    enable_alarms           = true
    alarm_topic_arn         = "arn:aws:sns:us-west-2:123456789012:oncall"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 11
    error_message = "The queue, two group rules and the sweep rule, the failed drainer tasks, and two groups' timed-out and failed drains and orphaned actions: 11 alarms."
  }
  assert {
    condition     = aws_cloudwatch_event_target.task_failures[0].arn == aws_sqs_queue.task_failures[0].arn && aws_cloudwatch_event_target.task_failures[0].rule == aws_cloudwatch_event_rule.task_failures[0].name && aws_cloudwatch_metric_alarm.this["drainer-tasks-failed"].dimensions == tomap({ RuleName = aws_cloudwatch_event_rule.task_failures[0].name })
    error_message = "The failed-task rule sends to its queue, and its alarm counts the rule's matched events."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_policy.task_failures[0].policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == aws_cloudwatch_event_rule.task_failures[0].arn
    error_message = "Only the failed-task rule may send to its queue."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["asg-blue-drains-timed-out"].namespace == "ECSScaleInDrainer" && aws_cloudwatch_metric_alarm.this["asg-blue-drains-timed-out"].dimensions == tomap({ Cluster = "prod", AutoScalingGroup = "blue" })
    error_message = "The drain alarms read the drainer's metrics, by cluster and group."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:us-west-2:123456789012:oncall"]) && a.threshold == 0 && a.comparison_operator == "GreaterThanThreshold"])
    error_message = "Every alarm notifies the topic when its metric is above 0."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["dead-letters"].dimensions["QueueName"] == aws_sqs_queue.dead_letter.name
    error_message = "The dead-letter alarm watches the module's queue."
  }
}

run "no_alarms_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0 && length(aws_cloudwatch_event_rule.task_failures) == 0 && length(aws_sqs_queue.task_failures) == 0
    error_message = "Alarms, and the failed-task rule and queue, are opt-in."
  }
}

run "alarms_near_the_fargate_vcpu_quota" {
  command = apply
  variables {
    enable_alarms      = true
    fargate_vcpu_quota = 20
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["fargate-vcpu-quota"].threshold == 16 && aws_cloudwatch_metric_alarm.this["fargate-vcpu-quota"].comparison_operator == "GreaterThanOrEqualToThreshold" && aws_cloudwatch_metric_alarm.this["fargate-vcpu-quota"].namespace == "AWS/Usage"
    error_message = "The Fargate alarm fires at 80% of the quota."
  }
}

run "rejects_a_fargate_quota_without_alarms" {
  command = plan
  variables {
    fargate_vcpu_quota = 6
  }
  expect_failures = [var.fargate_vcpu_quota]
}

run "rejects_alarms_without_metrics" {
  command = plan
  variables {
    enable_alarms = true
    emit_metrics  = false
  }
  expect_failures = [var.enable_alarms]
}

run "rejects_a_topic_without_alarms" {
  command = plan
  variables {
    alarm_topic_arn = "arn:aws:sns:us-west-2:123456789012:oncall"
  }
  expect_failures = [var.alarm_topic_arn]
}

run "bounds_and_places_every_role_and_encrypts_with_the_kms_key" {
  command = apply
  variables {
    enable_alarms        = true
    permissions_boundary = "arn:aws:iam::123456789012:policy/platform-boundary"
    role_path            = "/platform/drainer/"
    kms_key_arn          = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = alltrue([for r in [aws_iam_role.task, aws_iam_role.execution, aws_iam_role.events] : r.permissions_boundary == "arn:aws:iam::123456789012:policy/platform-boundary" && r.path == "/platform/drainer/"])
    error_message = "Every role the module creates has the boundary and the path."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The log group is encrypted with the key."
  }
  assert {
    condition     = alltrue([for q in [aws_sqs_queue.dead_letter, aws_sqs_queue.task_failures[0]] : q.kms_master_key_id == "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
    error_message = "Both queues are encrypted with the key."
  }
}

run "rejects_a_role_path_without_slashes" {
  command = plan
  variables {
    role_path = "platform"
  }
  expect_failures = [var.role_path]
}
