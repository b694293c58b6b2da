# Everything the drainer's deployment is made of that can be computed without AWS: names, ARNs, the IAM policies,
# the event pattern, the input transformer and the container definition. The root module turns these into
# resources; `terraform test` checks them offline, and test/terraform compares them with the Pulumi component.

locals {
  # The drainer's container; the input transformer's overrides name it (DRAINER_CONTAINER_NAME in contract.ts).
  container_name = "drainer"

  # A cluster given by ARN carries its own partition, region and account, and the drainer's instances, tasks and
  # groups live there; a cluster given by name lives in the provider's.
  cluster_arn_given = startswith(var.cluster_name, "arn:")
  cluster_arn_parts = split(":", var.cluster_name)
  ecs_partition     = local.cluster_arn_given ? local.cluster_arn_parts[1] : var.partition
  ecs_region        = local.cluster_arn_given ? local.cluster_arn_parts[3] : var.region
  ecs_account_id    = local.cluster_arn_given ? local.cluster_arn_parts[4] : var.account_id
  cluster           = local.cluster_arn_given ? trimprefix(local.cluster_arn_parts[5], "cluster/") : var.cluster_name
  ecs_arn_prefix    = "arn:${local.ecs_partition}:ecs:${local.ecs_region}:${local.ecs_account_id}"

  cluster_arn            = "${local.ecs_arn_prefix}:cluster/${local.cluster}"
  container_instance_arn = "${local.ecs_arn_prefix}:container-instance/${local.cluster}/*"
  task_arn               = "${local.ecs_arn_prefix}:task/${local.cluster}/*"
  service_arn            = "${local.ecs_arn_prefix}:service/${local.cluster}/*"

  autoscaling_group_arns = {
    for g in var.autoscaling_group_names :
    g => "arn:${local.ecs_partition}:autoscaling:${local.ecs_region}:${local.ecs_account_id}:autoScalingGroup:*:autoScalingGroupName/${g}"
  }

  # defaultDrainerName in contract.ts: a cluster name longer than 24 characters is cut to 15, with the first 8 hex of
  # its SHA-256, so that a blue and a green cluster whose names differ only at the end get distinct names.
  name = coalesce(var.name, length(local.cluster) <= 24 ? "${local.cluster}-drainer" : "${substr(local.cluster, 0, 15)}-${substr(sha256(local.cluster), 0, 8)}-drainer")
  names = {
    task_definition_family = local.name
    log_group              = "/ecs/${local.name}"
    task_role              = "${local.name}-task"
    execution_role         = "${local.name}-execution"
    events_role            = "${local.name}-events"
    dead_letter_queue      = "${local.name}-dead-letter"
    sweep_rule             = "${local.name}-sweep"
    task_failures_rule     = "${local.name}-task-failures"
    task_failures_queue    = "${local.name}-task-failures"
  }

  # Rule names allow 64 characters of [.-_A-Za-z0-9]. A long or unusual group name is cut and made unique by a hash.
  lifecycle_rule_names = {
    for g in var.autoscaling_group_names : g => (
      length("${local.name}-asg-${g}") <= 64 && can(regex("^[.A-Za-z0-9_-]+$", g))
      ? "${local.name}-asg-${g}"
      : "${substr("${local.name}-asg-${replace(g, "/[^.A-Za-z0-9_-]/", "-")}", 0, 55)}-${substr(sha1(g), 0, 8)}"
    )
  }

  # The task definition's settings besides its containers and roles.
  task_definition = {
    network_mode             = "awsvpc"
    requires_compatibilities = [var.launch_type]
    cpu                      = tostring(var.cpu)
    memory                   = tostring(var.memory)
    operating_system_family  = "LINUX"
    cpu_architecture         = var.cpu_architecture
  }

  # AWS's managed policy does exactly what the execution role needs (pull the image, write the logs); a policy
  # scoped to one repository would break images published elsewhere.
  execution_role_policy_arn = "arn:${local.ecs_partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

  # How every EventBridge target runs the task: one task, awsvpc, on the latest Fargate platform or on EC2 (where a
  # public IP is impossible).
  ecs_target = {
    task_count       = 1
    launch_type      = var.launch_type
    platform_version = var.launch_type == "FARGATE" ? "LATEST" : null
    propagate_tags   = "TASK_DEFINITION"
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.launch_type == "FARGATE" ? var.assign_public_ip : false
  }

  # Events whose drainer could not be started, kept 14 days.
  # With kms_key_arn, the key encrypts them (SSE-KMS), and SSE-SQS, which the provider does not allow beside it, is unset.
  dead_letter_queue = {
    message_retention_seconds = 1209600
    sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
    kms_master_key_id         = var.kms_key_arn
  }

  # EventBridge retries a target that failed to start for an hour, then sends the event to the dead-letter queue.
  retry_policy = {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }

  # The task definition is created by this provider, so it lives in the provider's partition, region and account.
  task_definition_family_arn = "arn:${var.partition}:ecs:${var.region}:${var.account_id}:task-definition/${local.name}:*"

  # The lifecycle hook on every group. The API's default result is ABANDON, which would also cancel other hooks
  # on the instance (such as ECS managed draining's); CONTINUE is set explicitly.
  hook = {
    name                 = var.hook_name
    lifecycle_transition = "autoscaling:EC2_INSTANCE_TERMINATING"
    default_result       = var.hook_default_result
    heartbeat_timeout    = var.heartbeat_timeout
  }

  # drainerTaskFailurePattern in contract.ts (enable_alarms): the drainer's tasks in the cluster, any revision of its
  # family, that ECS stopped before they started (TaskFailedToStart) or that exited with 1 (a permanent AWS error) or
  # 2 (invalid configuration). EventBridge sees neither: RunTask answered 200.
  task_failure_pattern = jsonencode({
    source      = ["aws.ecs"]
    detail-type = ["ECS Task State Change"]
    detail = {
      clusterArn        = [local.cluster_arn]
      lastStatus        = ["STOPPED"]
      taskDefinitionArn = [{ prefix = "arn:${var.partition}:ecs:${var.region}:${var.account_id}:task-definition/${local.name}:" }]
      "$or" = [
        { stopCode = ["TaskFailedToStart"] },
        { containers = { exitCode = [1, 2] } },
      ]
    }
  })

  # Only the task-failures rule may send to its queue, which keeps the events (with ECS's stoppedReason) for the
  # operator and gives the rule a target, so that EventBridge publishes its MatchedEvents.
  task_failures_queue_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DrainerTaskFailures"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = var.task_failures_queue_arn
      Condition = {
        ArnEquals = { "aws:SourceArn" = var.task_failures_rule_arn }
      }
    }]
  })

  # One rule per group: only this group's terminate events at this hook.
  event_patterns = {
    for g in var.autoscaling_group_names : g => jsonencode({
      source      = ["aws.autoscaling"]
      detail-type = ["EC2 Instance-terminate Lifecycle Action"]
      detail = {
        AutoScalingGroupName = [g]
        LifecycleHookName    = [var.hook_name]
      }
    })
  }

  # EVENT_ENVIRONMENT in contract.ts: the event fields the drainer reads, and nothing else (EventBridge does not
  # escape what it substitutes, so free text such as NotificationMetadata never goes through). Origin, Destination
  # and Action are words of fixed AWS vocabularies; Action is in root-volume replacement events only.
  input_paths = {
    instance    = "$.detail.EC2InstanceId"
    asg         = "$.detail.AutoScalingGroupName"
    hook        = "$.detail.LifecycleHookName"
    token       = "$.detail.LifecycleActionToken"
    origin      = "$.detail.Origin"
    destination = "$.detail.Destination"
    action      = "$.detail.Action"
  }

  # The RunTask TaskOverride shape. A heredoc, not jsonencode: the placeholders must stay unquoted, because
  # EventBridge quotes the string values it puts in their place.
  input_template = <<-EOT
    {
      "containerOverrides": [
        {
          "name": "${local.container_name}",
          "environment": [
            {"name": "EC2_INSTANCE_ID", "value": <instance>},
            {"name": "AUTOSCALING_GROUP_NAME", "value": <asg>},
            {"name": "LIFECYCLE_HOOK_NAME", "value": <hook>},
            {"name": "LIFECYCLE_ACTION_TOKEN", "value": <token>},
            {"name": "EVENT_ORIGIN", "value": <origin>},
            {"name": "EVENT_DESTINATION", "value": <destination>},
            {"name": "EVENT_ACTION", "value": <action>}
          ]
        }
      ]
    }
  EOT

  # The task's own environment: everything but the event's fields. AUTOSCALING_GROUP_NAMES lets the sweep start the
  # same task definition with no overrides.
  container_environment = [
    { name = "ECS_CLUSTER", value = var.cluster_name },
    { name = "LIFECYCLE_HOOK_NAME", value = var.hook_name },
    { name = "AUTOSCALING_GROUP_NAMES", value = join(",", var.autoscaling_group_names) },
    { name = "POLL_INTERVAL_SECONDS", value = tostring(var.poll_interval) },
    { name = "ECS_READS_PER_SECOND", value = tostring(var.ecs_reads_per_second) },
    { name = "REQUEST_TIMEOUT_SECONDS", value = tostring(var.request_timeout) },
    { name = "DRAIN_TIMEOUT_SECONDS", value = tostring(var.drain_timeout) },
    { name = "TIMEOUT_RESULT", value = var.timeout_result },
    { name = "STOP_STANDALONE_TASKS", value = tostring(var.stop_standalone_tasks) },
    { name = "EMIT_METRICS", value = tostring(var.emit_metrics) },
    { name = "METRICS_NAMESPACE", value = var.metrics_namespace },
    { name = "PUBLISH_EVENTS", value = tostring(var.publish_events) },
  ]

  container_definitions = jsonencode([
    {
      name                   = local.container_name
      image                  = var.drainer_image
      essential              = true
      user                   = "1000"
      readonlyRootFilesystem = true
      environment            = local.container_environment
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.names.log_group
          awslogs-region        = local.ecs_region
          awslogs-stream-prefix = local.container_name
        }
      }
    }
  ])

  # The drainer's task role: exactly the actions declared in contract.ts (DECLARED_ACTIONS), each scoped as
  # narrowly as the action allows.
  task_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "FindContainerInstances"
        Effect   = "Allow"
        Action   = ["ecs:ListContainerInstances"]
        Resource = local.cluster_arn
      },
      {
        Sid      = "DrainContainerInstances"
        Effect   = "Allow"
        Action   = ["ecs:DescribeContainerInstances", "ecs:UpdateContainerInstancesState"]
        Resource = local.container_instance_arn
        Condition = {
          ArnEquals = { "ecs:cluster" = local.cluster_arn }
        }
      },
      {
        Sid      = "WatchAndStopTasks"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTasks", "ecs:StopTask"]
        Resource = local.task_arn
        Condition = {
          ArnEquals = { "ecs:cluster" = local.cluster_arn }
        }
      },
      {
        # Why service tasks do not leave a draining instance, and which services are daemons.
        Sid      = "ReadServices"
        Effect   = "Allow"
        Action   = ["ecs:DescribeServices"]
        Resource = local.service_arn
        Condition = {
          ArnEquals = { "ecs:cluster" = local.cluster_arn }
        }
      },
      {
        Sid      = "CompleteLifecycleActions"
        Effect   = "Allow"
        Action   = ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"]
        Resource = [for g in var.autoscaling_group_names : local.autoscaling_group_arns[g]]
      },
      {
        # These actions support no resource-level permissions.
        Sid      = "DescribeAutoScaling"
        Effect   = "Allow"
        Action   = ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeLifecycleHooks", "autoscaling:DescribeWarmPool"]
        Resource = "*"
      },
      {
        # The drain events (publish_events): on the default bus, with the drainer's own source only.
        Sid      = "PutDrainEvents"
        Effect   = "Allow"
        Action   = ["events:PutEvents"]
        Resource = "arn:${local.ecs_partition}:events:${local.ecs_region}:${local.ecs_account_id}:event-bus/default"
        # events:source is multivalued (one per entry): every entry's source must be the drainer's, and there must be one.
        Condition = {
          "ForAllValues:StringEquals" = { "events:source" = ["ecs-scale-in-drainer"] }
          Null                        = { "events:source" = "false" }
        }
      },
      {
        # ListTasks is also called without a container instance (every task of the cluster; a sweep's family), which
        # IAM evaluates on "*": granted on "*" for this cluster only, as AWS CDK's drain hook grants it.
        Sid      = "ListTasksInCluster"
        Effect   = "Allow"
        Action   = ["ecs:ListTasks"]
        Resource = "*"
        Condition = {
          ArnEquals = { "ecs:cluster" = local.cluster_arn }
        }
      },
    ]
  })

  # EventBridge's role: start any revision of the drainer's task definition, in this cluster only, pass it exactly
  # its two roles, for ECS tasks only, and tag the cluster's tasks while RunTask creates them (the targets propagate
  # the task definition's tags; AWS's AmazonEC2ContainerServiceEventsRole grants the same with ecs:CreateAction).
  events_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "RunDrainerTask"
        Effect   = "Allow"
        Action   = ["ecs:RunTask"]
        Resource = local.task_definition_family_arn
        Condition = {
          ArnEquals = { "ecs:cluster" = local.cluster_arn }
        }
      },
      {
        Sid      = "PassDrainerRoles"
        Effect   = "Allow"
        Action   = ["iam:PassRole"]
        Resource = [var.task_role_arn, var.execution_role_arn]
        Condition = {
          StringLike = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" }
        }
      },
      {
        Sid      = "TagDrainerTasksAtLaunch"
        Effect   = "Allow"
        Action   = ["ecs:TagResource"]
        Resource = local.task_arn
        Condition = {
          StringEquals = { "ecs:CreateAction" = "RunTask" }
        }
      },
    ]
  })

  # Only the module's own rules may send to its dead-letter queue.
  dead_letter_queue_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DrainerRulesDeadLetters"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = var.dead_letter_queue_arn
      Condition = {
        ArnEquals = { "aws:SourceArn" = var.rule_arns }
      }
    }]
  })

  # The trust policies carry the confused-deputy conditions AWS recommends: the service may assume the role only for
  # the cluster's own account (aws:SourceAccount) and its resources there (aws:SourceArn): ECS for its tasks
  # (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html), EventBridge for its rules.
  ecs_tasks_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.ecs_account_id }
        ArnLike      = { "aws:SourceArn" = "${local.ecs_arn_prefix}:*" }
      }
    }]
  })

  # The execution role: the plain trust AWS's task execution role guide gives, with no source condition (none is
  # documented for it, and one ECS did not meet would stop every drainer from starting). It only pulls and logs.
  execution_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  events_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.ecs_account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.ecs_partition}:events:${local.ecs_region}:${local.ecs_account_id}:rule/*" }
      }
    }]
  })

  # The alarms (enable_alarms), keyed by a stable suffix: the dead-letter queue, each rule, the drainer's failed tasks,
  # each group's drains and orphaned actions, and the Fargate vCPUs (fargate_vcpu_quota). Each looks at 5 minutes
  # (alarm_shape); no data is not a breach. All but the Fargate one fire above 0.
  alarm_shape = {
    period             = 300
    evaluation_periods = 1
    treat_missing_data = "notBreaching"
  }
  # Above 0: the threshold of every alarm that counts something that should not happen.
  above_zero = { threshold = 0, comparison_operator = "GreaterThanThreshold" }
  alarms = merge(
    {
      "dead-letters" = {
        description         = "An event could not start the ECS scale-in drainer (EventBridge gave up after its retries): the instance waits for the sweep, or its hook's timeout. Read the queue's messages."
        namespace           = "AWS/SQS"
        metric_name         = "ApproximateNumberOfMessagesVisible"
        dimensions          = { QueueName = local.names.dead_letter_queue }
        statistic           = "Maximum"
        threshold           = local.above_zero.threshold
        comparison_operator = local.above_zero.comparison_operator
      }
    },
    {
      for g in var.autoscaling_group_names : "asg-${g}-failed-invocations" => {
        description         = "EventBridge failed to start the ECS scale-in drainer's task for this rule (RunTask refused: capacity, permissions, networking)."
        namespace           = "AWS/Events"
        metric_name         = "FailedInvocations"
        dimensions          = { RuleName = local.lifecycle_rule_names[g] }
        statistic           = "Sum"
        threshold           = local.above_zero.threshold
        comparison_operator = local.above_zero.comparison_operator
      }
    },
    var.enable_sweep ? {
      "sweep-failed-invocations" = {
        description         = "EventBridge failed to start the ECS scale-in drainer's task for this rule (RunTask refused: capacity, permissions, networking)."
        namespace           = "AWS/Events"
        metric_name         = "FailedInvocations"
        dimensions          = { RuleName = local.names.sweep_rule }
        statistic           = "Sum"
        threshold           = local.above_zero.threshold
        comparison_operator = local.above_zero.comparison_operator
      }
    } : {},
    {
      for g in var.autoscaling_group_names : "asg-${g}-drains-timed-out" => {
        description         = "A drain of an instance of ${g} reached its deadline and was completed with TIMEOUT_RESULT: the drainer's log and its drain event say what blocked it."
        namespace           = var.metrics_namespace
        metric_name         = "TimedOut"
        dimensions          = { Cluster = local.cluster, AutoScalingGroup = g }
        statistic           = "Sum"
        threshold           = local.above_zero.threshold
        comparison_operator = local.above_zero.comparison_operator
      }
    },
    {
      for g in var.autoscaling_group_names : "asg-${g}-drains-failed" => {
        description         = "A drain of an instance of ${g} failed on a permanent AWS error (access denied, a missing cluster, group or hook): its action was left to the hook's timeout."
        namespace           = var.metrics_namespace
        metric_name         = "Failed"
        dimensions          = { Cluster = local.cluster, AutoScalingGroup = g }
        statistic           = "Sum"
        threshold           = local.above_zero.threshold
        comparison_operator = local.above_zero.comparison_operator
      }
    },
    {
      for g in var.autoscaling_group_names : "asg-${g}-orphaned-actions" => {
        description         = "An instance of ${g} waited at its hook with no drainer of its own (its event was lost, or its task never started) until the group's leader or the sweep took it over: look for dead letters, failed invocations and failed drainer tasks."
        namespace           = var.metrics_namespace
        metric_name         = "OrphanedActions"
        dimensions          = { Cluster = local.cluster, AutoScalingGroup = g }
        statistic           = "Sum"
        threshold           = local.above_zero.threshold
        comparison_operator = local.above_zero.comparison_operator
      }
    },
    {
      "drainer-tasks-failed" = {
        description         = "A drainer task failed to start (TaskFailedToStart: no free IP in its subnets, an image pull failure, an image for another CPU architecture) or exited with 1 (a permanent AWS error) or 2 (invalid configuration). Its events, with ECS's stoppedReason, are in the task-failures queue; the drainer's log says why it exited."
        namespace           = "AWS/Events"
        metric_name         = "MatchedEvents"
        dimensions          = { RuleName = local.names.task_failures_rule }
        statistic           = "Sum"
        threshold           = local.above_zero.threshold
        comparison_operator = local.above_zero.comparison_operator
      }
    },
    # fargateVcpuAlarmThreshold in contract.ts: quota x 80 / 100, at or above it (FARGATE_VCPU_USAGE_METRIC).
    var.fargate_vcpu_quota == null ? {} : {
      "fargate-vcpu-quota" = {
        description         = "The account's Fargate On-Demand vCPUs in this region reached 80% of the quota given (fargateVcpuQuota): RunTask will soon refuse drainers with \"You've reached the limit on the number of vCPUs\", which EventBridge counts as delivered. Raise the quota (Service Quotas L-3032A538) or lower the Fargate load."
        namespace           = "AWS/Usage"
        metric_name         = "ResourceCount"
        dimensions          = { Service = "Fargate", Type = "Resource", Resource = "vCPU", Class = "Standard/OnDemand" }
        statistic           = "Maximum"
        threshold           = var.fargate_vcpu_quota * 80 / 100
        comparison_operator = "GreaterThanOrEqualToThreshold"
      }
    },
  )

  # truncateWithHash in contract.ts: an alarm name longer than CloudWatch's 255 characters (a long group name) is cut,
  # with the first 8 hex of its SHA-256.
  alarm_names = {
    for k in keys(local.alarms) : k => (
      length("${local.name}-${k}") <= 255
      ? "${local.name}-${k}"
      : "${substr("${local.name}-${k}", 0, 246)}-${substr(sha256("${local.name}-${k}"), 0, 8)}"
    )
  }
}
