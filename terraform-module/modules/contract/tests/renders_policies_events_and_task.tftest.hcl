# What the module renders from its variables. test/terraform compares the same outputs with the Pulumi component.

variables {
  cluster_name            = "prod"
  autoscaling_group_names = ["prod-ecs-a", "prod-ecs-b"]
  subnet_ids              = ["subnet-0123456789abcdef0"]
  security_group_ids      = ["sg-0123456789abcdef0"]
  drainer_image           = "123456789012.dkr.ecr.us-west-2.amazonaws.com/ecs-scale-in-drainer:0.1.0"
  partition               = "aws"
  region                  = "us-west-2"
  account_id              = "123456789012"
  task_role_arn           = "arn:aws:iam::123456789012:role/prod-drainer-task"
  execution_role_arn      = "arn:aws:iam::123456789012:role/prod-drainer-execution"
  dead_letter_queue_arn   = "arn:aws:sqs:us-west-2:123456789012:prod-drainer-dead-letter"
  rule_arns               = ["arn:aws:events:us-west-2:123456789012:rule/prod-drainer-asg-prod-ecs-a"]
}

run "scopes_ecs_statements_to_a_cluster_given_by_name" {
  command = plan

  assert {
    condition     = output.cluster_arn == "arn:aws:ecs:us-west-2:123456789012:cluster/prod"
    error_message = "A cluster given by name must live in the provider's partition, region and account."
  }
  assert {
    condition = {
      for s in jsondecode(output.task_role_policy).Statement : s.Sid => s.Resource
      } == {
      FindContainerInstances  = "arn:aws:ecs:us-west-2:123456789012:cluster/prod"
      DrainContainerInstances = "arn:aws:ecs:us-west-2:123456789012:container-instance/prod/*"
      WatchAndStopTasks       = "arn:aws:ecs:us-west-2:123456789012:task/prod/*"
      ReadServices            = "arn:aws:ecs:us-west-2:123456789012:service/prod/*"
      PutDrainEvents          = "arn:aws:events:us-west-2:123456789012:event-bus/default"
      CompleteLifecycleActions = [
        "arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:*:autoScalingGroupName/prod-ecs-a",
        "arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:*:autoScalingGroupName/prod-ecs-b",
      ]
      DescribeAutoScaling = "*"
      ListTasksInCluster  = "*"
    }
    error_message = "Each task role statement must be scoped to its own resources."
  }
  assert {
    condition = [
      for s in jsondecode(output.task_role_policy).Statement : try(s.Condition.ArnEquals["ecs:cluster"], null)
      ] == [
      null,
      "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
      "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
      "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
      null,
      null,
      null,
      "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
    ]
    error_message = "The container-instance, task, service and ListTasks statements, and only those, must carry ecs:cluster."
  }
}

run "takes_partition_region_and_account_from_a_cluster_arn" {
  command = plan
  variables {
    cluster_name = "arn:aws-cn:ecs:cn-north-1:210987654321:cluster/china"
    partition    = "aws-cn"
    region       = "cn-north-1"
    account_id   = "210987654321"
  }

  assert {
    condition     = output.cluster_arn == "arn:aws-cn:ecs:cn-north-1:210987654321:cluster/china"
    error_message = "A cluster ARN must be used as given."
  }
  assert {
    condition     = jsondecode(output.task_role_policy).Statement[2].Resource == "arn:aws-cn:ecs:cn-north-1:210987654321:task/china/*"
    error_message = "Task ARNs must use the cluster ARN's partition, region and account."
  }
  assert {
    condition     = output.autoscaling_group_arns["prod-ecs-a"] == "arn:aws-cn:autoscaling:cn-north-1:210987654321:autoScalingGroup:*:autoScalingGroupName/prod-ecs-a"
    error_message = "Group ARNs must use the cluster ARN's partition, region and account."
  }
  assert {
    condition     = output.names.task_definition_family == "china-drainer"
    error_message = "The default name must come from the cluster's name, not its ARN."
  }
}

run "lets_events_run_only_the_drainer_in_the_cluster" {
  command = plan

  assert {
    condition = jsondecode(output.events_role_policy).Statement == [
      {
        Sid       = "RunDrainerTask"
        Effect    = "Allow"
        Action    = ["ecs:RunTask"]
        Resource  = "arn:aws:ecs:us-west-2:123456789012:task-definition/prod-drainer:*"
        Condition = { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:us-west-2:123456789012:cluster/prod" } }
      },
      {
        Sid       = "PassDrainerRoles"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = ["arn:aws:iam::123456789012:role/prod-drainer-task", "arn:aws:iam::123456789012:role/prod-drainer-execution"]
        Condition = { StringLike = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      },
      {
        Sid       = "TagDrainerTasksAtLaunch"
        Effect    = "Allow"
        Action    = ["ecs:TagResource"]
        Resource  = "arn:aws:ecs:us-west-2:123456789012:task/prod/*"
        Condition = { StringEquals = { "ecs:CreateAction" = "RunTask" } }
      },
    ]
    error_message = "The events role may run any revision of the drainer's family in this cluster, pass only its two roles, and tag the cluster's tasks only at launch."
  }
}

run "matches_only_its_own_group_and_hook" {
  command = plan
  variables {
    hook_name = "team-hook"
  }

  assert {
    condition = jsondecode(output.event_patterns["prod-ecs-b"]) == {
      source        = ["aws.autoscaling"]
      "detail-type" = ["EC2 Instance-terminate Lifecycle Action"]
      detail        = { AutoScalingGroupName = ["prod-ecs-b"], LifecycleHookName = ["team-hook"] }
    }
    error_message = "A group's rule must match that group's terminate lifecycle actions at this hook only."
  }
  assert {
    condition     = output.hook == { name = "team-hook", lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING", default_result = "CONTINUE", heartbeat_timeout = 900 }
    error_message = "The hook must hold terminating instances, default to CONTINUE and use heartbeat_timeout."
  }
}

run "fills_the_overrides_from_the_event_fields" {
  command = plan

  assert {
    condition = output.input_paths == {
      instance    = "$.detail.EC2InstanceId"
      asg         = "$.detail.AutoScalingGroupName"
      hook        = "$.detail.LifecycleHookName"
      token       = "$.detail.LifecycleActionToken"
      origin      = "$.detail.Origin"
      destination = "$.detail.Destination"
      action      = "$.detail.Action"
    }
    error_message = "The input transformer must read exactly the event fields of EVENT_ENVIRONMENT."
  }
  assert {
    # Quoting the placeholders makes the template valid JSON; EventBridge quotes the values it substitutes.
    condition = jsondecode(replace(output.input_template, "/<(instance|asg|hook|token|origin|destination|action)>/", "\"$1\"")) == {
      containerOverrides = [{
        name = "drainer"
        environment = [
          { name = "EC2_INSTANCE_ID", value = "instance" },
          { name = "AUTOSCALING_GROUP_NAME", value = "asg" },
          { name = "LIFECYCLE_HOOK_NAME", value = "hook" },
          { name = "LIFECYCLE_ACTION_TOKEN", value = "token" },
          { name = "EVENT_ORIGIN", value = "origin" },
          { name = "EVENT_DESTINATION", value = "destination" },
          { name = "EVENT_ACTION", value = "action" },
        ]
      }]
    }
    error_message = "The input template must be RunTask overrides of the drainer container's environment."
  }
  assert {
    condition     = length(regexall("\"<", output.input_template)) == 0
    error_message = "Placeholders must stay unquoted."
  }
}

run "gives_the_container_its_settings" {
  command = plan
  variables {
    poll_interval         = 2.5
    ecs_reads_per_second  = 4.5
    drain_timeout         = 600
    timeout_result        = "ABANDON"
    stop_standalone_tasks = true
    emit_metrics          = false
    metrics_namespace     = "Platform/Drains"
  }

  assert {
    condition = { for e in output.container_environment : e.name => e.value } == {
      ECS_CLUSTER             = "prod"
      LIFECYCLE_HOOK_NAME     = "ecs-scale-in-drainer"
      AUTOSCALING_GROUP_NAMES = "prod-ecs-a,prod-ecs-b"
      POLL_INTERVAL_SECONDS   = "2.5"
      ECS_READS_PER_SECOND    = "4.5"
      REQUEST_TIMEOUT_SECONDS = "5"
      DRAIN_TIMEOUT_SECONDS   = "600"
      TIMEOUT_RESULT          = "ABANDON"
      STOP_STANDALONE_TASKS   = "true"
      EMIT_METRICS            = "false"
      METRICS_NAMESPACE       = "Platform/Drains"
      PUBLISH_EVENTS          = "true"
    }
    error_message = "The container environment must carry every setting, as text."
  }
  assert {
    condition = jsondecode(output.container_definitions)[0].logConfiguration == {
      logDriver = "awslogs"
      options   = { awslogs-group = "/ecs/prod-drainer", awslogs-region = "us-west-2", awslogs-stream-prefix = "drainer" }
    }
    error_message = "The container must log to the module's log group."
  }
  assert {
    condition     = jsondecode(output.container_definitions)[0].user == "1000" && jsondecode(output.container_definitions)[0].readonlyRootFilesystem
    error_message = "The drainer must run as a non-root user on a read-only root filesystem."
  }
}

run "names_rules_within_64_characters" {
  command = plan
  variables {
    name                    = "drainer"
    autoscaling_group_names = ["short", "group with spaces", "a-very-long-auto-scaling-group-name-that-goes-on-and-on-and-on"]
  }

  assert {
    condition     = output.lifecycle_rule_names["short"] == "drainer-asg-short"
    error_message = "A short group name must appear whole in its rule's name."
  }
  assert {
    condition     = alltrue([for n in values(output.lifecycle_rule_names) : can(regex("^[.A-Za-z0-9_-]{1,64}$", n))])
    error_message = "Every rule name must be a valid EventBridge rule name."
  }
  assert {
    condition     = length(distinct(values(output.lifecycle_rule_names))) == 3
    error_message = "Rule names must be distinct."
  }
}

run "runs_fargate_tasks_on_the_latest_platform" {
  command = plan
  variables {
    assign_public_ip = true
  }

  assert {
    condition     = output.ecs_target.launch_type == "FARGATE" && output.ecs_target.platform_version == "LATEST" && output.ecs_target.assign_public_ip
    error_message = "A Fargate target must run on the latest platform, with the public IP it was asked for."
  }
  assert {
    condition     = output.task_definition.requires_compatibilities == ["FARGATE"] && output.task_definition.network_mode == "awsvpc"
    error_message = "The task definition must be awsvpc and require the launch type."
  }
}

run "runs_ec2_tasks_without_a_platform_version_or_public_ip" {
  command = plan
  variables {
    launch_type = "EC2"
    cpu         = 300
  }

  assert {
    condition     = output.ecs_target.platform_version == null && output.ecs_target.assign_public_ip == false
    error_message = "An EC2 target takes no platform version and no public IP."
  }
  assert {
    condition     = output.task_definition.requires_compatibilities == ["EC2"] && output.task_definition.cpu == "300"
    error_message = "The task definition must require EC2 and take any whole CPU size."
  }
}

run "alarms_on_failed_drainer_tasks_orphaned_actions_and_the_fargate_quota" {
  command = plan
  variables {
    enable_alarms           = true
    fargate_vcpu_quota      = 6
    task_failures_queue_arn = "arn:aws:sqs:us-west-2:123456789012:prod-drainer-task-failures"
    task_failures_rule_arn  = "arn:aws:events:us-west-2:123456789012:rule/prod-drainer-task-failures"
  }

  assert {
    condition = jsondecode(output.task_failure_pattern) == {
      source      = ["aws.ecs"]
      detail-type = ["ECS Task State Change"]
      detail = {
        clusterArn        = ["arn:aws:ecs:us-west-2:123456789012:cluster/prod"]
        lastStatus        = ["STOPPED"]
        taskDefinitionArn = [{ prefix = "arn:aws:ecs:us-west-2:123456789012:task-definition/prod-drainer:" }]
        "$or"             = [{ stopCode = ["TaskFailedToStart"] }, { containers = { exitCode = [1, 2] } }]
      }
    }
    error_message = "The task-failures rule matches the drainer family's stopped tasks in the cluster that failed to start or exited with 1 or 2."
  }
  assert {
    condition     = jsondecode(output.task_failures_queue_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:events:us-west-2:123456789012:rule/prod-drainer-task-failures"
    error_message = "Only the task-failures rule may send to its queue."
  }
  assert {
    condition     = output.alarms["drainer-tasks-failed"].metric_name == "MatchedEvents" && output.alarms["drainer-tasks-failed"].dimensions == { RuleName = "prod-drainer-task-failures" }
    error_message = "The failed-task alarm counts the task-failures rule's matched events."
  }
  assert {
    condition     = output.alarms["asg-prod-ecs-b-orphaned-actions"].metric_name == "OrphanedActions" && output.alarms["asg-prod-ecs-b-orphaned-actions"].statistic == "Sum" && output.alarms["asg-prod-ecs-b-orphaned-actions"].threshold == 0
    error_message = "Each group has an orphaned-actions alarm that fires above 0."
  }
  assert {
    condition     = output.alarms["fargate-vcpu-quota"].threshold == 4.8 && output.alarms["fargate-vcpu-quota"].comparison_operator == "GreaterThanOrEqualToThreshold" && output.alarms["fargate-vcpu-quota"].dimensions == { Service = "Fargate", Type = "Resource", Resource = "vCPU", Class = "Standard/OnDemand" }
    error_message = "The Fargate alarm fires at 80% of the quota on the account's On-Demand vCPUs."
  }
}

run "has_no_fargate_alarm_without_a_quota" {
  command = plan
  variables {
    enable_alarms = true
  }

  assert {
    condition     = !contains(keys(output.alarms), "fargate-vcpu-quota") && length(output.alarms) == 1 + 2 + 1 + 1 + 2 * 3
    error_message = "Without fargate_vcpu_quota: the queue, two group rules, the sweep, failed tasks, and three per group."
  }
}

run "runs_on_x86_64_by_default" {
  command = plan

  assert {
    condition     = output.task_definition.cpu_architecture == "X86_64" && output.task_definition.operating_system_family == "LINUX"
    error_message = "The task runs on Linux X86_64 by default."
  }
}

run "runs_on_arm64_when_asked" {
  command = plan
  variables {
    cpu_architecture = "ARM64"
  }

  assert {
    condition     = output.task_definition.cpu_architecture == "ARM64"
    error_message = "cpu_architecture reaches the task definition's runtime platform."
  }
}

run "encrypts_the_queues_with_sse_sqs_or_the_kms_key" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = output.dead_letter_queue.kms_master_key_id == "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" && output.dead_letter_queue.sqs_managed_sse_enabled == null
    error_message = "With a KMS key, the queues use it, and SSE-SQS is unset (the provider allows only one)."
  }
}

run "encrypts_the_queues_with_sse_sqs_by_default" {
  command = plan

  assert {
    condition     = output.dead_letter_queue.kms_master_key_id == null && output.dead_letter_queue.sqs_managed_sse_enabled == true
    error_message = "Without a KMS key, the queues use SSE-SQS."
  }
}

# defaultDrainerName in contract.ts, for a blue/green pair whose names differ only after the 24th character: the
# expected hashes are the first 8 hex of each full name's SHA-256 (test/drainer/contract.test.ts computes the same).
run "names_a_long_blue_cluster_with_its_hash" {
  command = plan
  variables {
    cluster_name = "payments-production-eu-west-1-blue"
  }

  assert {
    condition     = output.names.task_definition_family == "payments-produc-a03ed3eb-drainer" && output.names.task_role == "payments-produc-a03ed3eb-drainer-task"
    error_message = "A cluster name longer than 24 characters is cut to 15 and followed by its hash."
  }
}

run "names_the_long_green_cluster_apart_from_the_blue_one" {
  command = plan
  variables {
    cluster_name = "payments-production-eu-west-1-green"
  }

  assert {
    condition     = output.names.task_definition_family == "payments-produc-56816281-drainer"
    error_message = "The green cluster's names differ from the blue one's."
  }
}

run "keeps_a_cluster_name_of_24_characters_whole" {
  command = plan
  variables {
    cluster_name = "abcdefghijklmnopqrstuvwx"
  }

  assert {
    condition     = output.names.task_definition_family == "abcdefghijklmnopqrstuvwx-drainer"
    error_message = "A name that fits is kept whole, without a hash."
  }
}

run "cuts_alarm_names_beyond_255_characters_with_a_hash" {
  command = plan
  variables {
    name                    = "drainer"
    enable_alarms           = true
    autoscaling_group_names = ["${join("", [for i in range(24) : "abcdefghij"])}-blue", "${join("", [for i in range(24) : "abcdefghij"])}-green"]
  }

  assert {
    condition     = alltrue([for n in values(output.alarm_names) : length(n) <= 255]) && length(distinct(values(output.alarm_names))) == length(output.alarm_names)
    error_message = "Alarm names stay within 255 characters and distinct."
  }
  assert {
    condition     = output.alarm_names["dead-letters"] == "drainer-dead-letters"
    error_message = "A short alarm name is kept whole."
  }
}
