# Every validation rule of the module's variables: a value just inside each bound plans, a value just outside fails
# on that variable. The root module carries the same rules (test/terraform checks that the copies are identical).

variables {
  cluster_name            = "prod"
  autoscaling_group_names = ["prod-ecs-a"]
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

run "accepts_the_defaults" {
  command = plan
}

run "accepts_every_bound" {
  command = plan
  variables {
    name                    = "a-name_of_exactly_32_characters_"
    cluster_name            = "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/prod"
    partition               = "aws-us-gov"
    region                  = "us-gov-west-1"
    autoscaling_group_names = ["a", "group with spaces/and.dots"]
    heartbeat_timeout       = 7200
    drain_timeout           = 172800
    poll_interval           = 0.5
    ecs_reads_per_second    = 0.5
    timeout_result          = "ABANDON"
    sweep_schedule          = "cron(0/5 * * * ? *)"
    cpu                     = 300
    memory                  = 1
    log_retention_days      = 1
    launch_type             = "EC2"
    assign_public_ip        = false
    hook_name               = "team/drainer.v2_x"
  }
}

run "accepts_the_lowest_heartbeat_and_poll_bounds" {
  command = plan
  variables {
    enable_sweep         = false
    heartbeat_timeout    = 30
    drain_timeout        = 3000
    poll_interval        = 3600
    ecs_reads_per_second = 10000
    log_retention_days   = 3653
  }
}

run "accepts_the_shortest_heartbeat_the_default_sweep_allows" {
  command = plan
  variables {
    heartbeat_timeout = 840 # 2 x (300 s + 120 s)
  }
}

run "rejects_a_heartbeat_the_next_sweep_could_not_beat" {
  command = plan
  variables {
    heartbeat_timeout = 839
  }
  expect_failures = [var.heartbeat_timeout]
}

run "rejects_an_hourly_sweep_with_the_default_heartbeat" {
  command = plan
  variables {
    sweep_schedule = "rate(1 hour)"
  }
  expect_failures = [var.heartbeat_timeout]
}

run "accepts_a_short_heartbeat_without_the_sweep" {
  command = plan
  variables {
    enable_sweep      = false
    heartbeat_timeout = 60
    drain_timeout     = 6000
  }
}

run "does_not_check_a_cron_sweep_against_the_heartbeat" {
  command = plan
  variables {
    sweep_schedule    = "cron(0 * * * ? *)"
    heartbeat_timeout = 60
    drain_timeout     = 6000
  }
}

run "rejects_a_name_with_a_space" {
  command = plan
  variables {
    name = "my drainer"
  }
  expect_failures = [var.name]
}

run "rejects_a_name_longer_than_32" {
  command = plan
  variables {
    name = "a-name-of-exactly-33-characters-x"
  }
  expect_failures = [var.name]
}

run "rejects_a_cluster_name_with_a_slash" {
  command = plan
  variables {
    cluster_name = "team/prod"
  }
  expect_failures = [var.cluster_name]
}

run "rejects_an_arn_that_is_not_a_cluster" {
  command = plan
  variables {
    cluster_name = "arn:aws:ecs:us-west-2:123456789012:service/prod/web"
  }
  expect_failures = [var.cluster_name]
}

run "rejects_a_cluster_arn_in_another_region" {
  command = plan
  variables {
    cluster_name = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"
  }
  expect_failures = [output.cluster_arn]
}

run "rejects_a_cluster_arn_in_another_account" {
  command = plan
  variables {
    cluster_name = "arn:aws:ecs:us-west-2:210987654321:cluster/prod"
  }
  expect_failures = [output.cluster_arn]
}

run "rejects_a_cluster_arn_in_another_partition" {
  command = plan
  variables {
    cluster_name = "arn:aws-cn:ecs:us-west-2:123456789012:cluster/prod"
  }
  expect_failures = [output.cluster_arn]
}

run "accepts_a_cluster_arn_where_the_provider_deploys" {
  command = plan
  variables {
    cluster_name = "arn:aws:ecs:us-west-2:123456789012:cluster/prod"
  }
}

run "rejects_no_groups" {
  command = plan
  variables {
    autoscaling_group_names = []
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_a_group_listed_twice" {
  command = plan
  variables {
    autoscaling_group_names = ["a", "a"]
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_a_group_name_with_a_comma" {
  command = plan
  variables {
    autoscaling_group_names = ["a,b"]
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_a_group_name_with_a_colon" {
  command = plan
  variables {
    autoscaling_group_names = ["arn:aws:autoscaling"]
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_a_group_name_iam_would_read_as_a_wildcard" {
  command = plan
  variables {
    autoscaling_group_names = ["web-*"]
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_a_group_name_iam_would_read_as_a_policy_variable" {
  command = plan
  variables {
    autoscaling_group_names = ["team-$${aws:username}"]
  }
  expect_failures = [var.autoscaling_group_names]
}

run "rejects_no_subnets" {
  command = plan
  variables {
    subnet_ids = []
  }
  expect_failures = [var.subnet_ids]
}

run "rejects_no_security_groups" {
  command = plan
  variables {
    security_group_ids = []
  }
  expect_failures = [var.security_group_ids]
}

run "rejects_a_public_ip_on_ec2" {
  command = plan
  variables {
    launch_type      = "EC2"
    assign_public_ip = true
  }
  expect_failures = [var.assign_public_ip]
}

run "rejects_a_blank_image" {
  command = plan
  variables {
    drainer_image = ""
  }
  expect_failures = [var.drainer_image]
}

run "rejects_an_image_with_a_space" {
  command = plan
  variables {
    drainer_image = "ecs-scale-in-drainer: 0.1.0"
  }
  expect_failures = [var.drainer_image]
}

run "rejects_a_heartbeat_below_30" {
  command = plan
  variables {
    heartbeat_timeout = 29
  }
  expect_failures = [var.heartbeat_timeout]
}

run "rejects_a_heartbeat_above_7200" {
  command = plan
  variables {
    heartbeat_timeout = 7201
  }
  expect_failures = [var.heartbeat_timeout]
}

run "rejects_a_fractional_heartbeat" {
  command = plan
  variables {
    heartbeat_timeout = 900.5
  }
  expect_failures = [var.heartbeat_timeout]
}

run "rejects_a_zero_drain_timeout" {
  command = plan
  variables {
    drain_timeout = 0
  }
  expect_failures = [var.drain_timeout]
}

run "rejects_a_drain_timeout_above_48_hours" {
  command = plan
  variables {
    heartbeat_timeout = 7200
    drain_timeout     = 172801
  }
  expect_failures = [var.drain_timeout]
}

run "rejects_a_drain_timeout_beyond_100_heartbeats" {
  command = plan
  variables {
    enable_sweep      = false
    heartbeat_timeout = 30
    drain_timeout     = 3001
  }
  expect_failures = [var.drain_timeout]
}

run "rejects_a_zero_poll_interval" {
  command = plan
  variables {
    poll_interval = 0
  }
  expect_failures = [var.poll_interval]
}

run "rejects_a_poll_interval_above_3600" {
  command = plan
  variables {
    poll_interval = 3601
  }
  expect_failures = [var.poll_interval]
}

run "rejects_zero_ecs_reads_per_second" {
  command = plan
  variables {
    ecs_reads_per_second = 0
  }
  expect_failures = [var.ecs_reads_per_second]
}

run "rejects_negative_ecs_reads_per_second" {
  command = plan
  variables {
    ecs_reads_per_second = -1
  }
  expect_failures = [var.ecs_reads_per_second]
}

run "rejects_ecs_reads_per_second_above_10000" {
  command = plan
  variables {
    ecs_reads_per_second = 10001
  }
  expect_failures = [var.ecs_reads_per_second]
}

run "rejects_a_lowercase_timeout_result" {
  command = plan
  variables {
    timeout_result = "continue"
  }
  expect_failures = [var.timeout_result]
}

run "rejects_a_schedule_that_is_not_rate_or_cron" {
  command = plan
  variables {
    sweep_schedule = "every 5 minutes"
  }
  expect_failures = [var.sweep_schedule]
}

run "accepts_the_largest_fargate_cpu" {
  command = plan
  variables {
    cpu = 16384
  }
}

run "rejects_a_cpu_that_fargate_does_not_offer" {
  command = plan
  variables {
    cpu = 300
  }
  expect_failures = [var.cpu]
}

run "rejects_a_fractional_cpu_on_ec2" {
  command = plan
  variables {
    launch_type = "EC2"
    cpu         = 256.5
  }
  expect_failures = [var.cpu]
}

run "rejects_no_memory" {
  command = plan
  variables {
    memory = 0
  }
  expect_failures = [var.memory]
}

run "rejects_fractional_memory" {
  command = plan
  variables {
    memory = 511.5
  }
  expect_failures = [var.memory]
}

run "rejects_a_retention_cloudwatch_does_not_offer" {
  command = plan
  variables {
    log_retention_days = 31
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_a_retention_of_zero" {
  command = plan
  variables {
    log_retention_days = 0
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_an_unknown_launch_type" {
  command = plan
  variables {
    launch_type = "EXTERNAL"
  }
  expect_failures = [var.launch_type]
}

run "rejects_a_hook_name_with_a_colon" {
  command = plan
  variables {
    hook_name = "hook:1"
  }
  expect_failures = [var.hook_name]
}

run "rejects_the_hook_of_ecs_managed_draining" {
  command = plan
  variables {
    hook_name = "ecs-managed-draining-termination-hook"
  }
  expect_failures = [var.hook_name]
}

run "rejects_a_hook_default_result_that_is_not_a_result" {
  command = plan
  variables {
    hook_default_result = "RETAIN"
  }
  expect_failures = [var.hook_default_result]
}

run "rejects_a_metrics_namespace_reserved_for_aws" {
  command = plan
  variables {
    metrics_namespace = "AWS/ECS"
  }
  expect_failures = [var.metrics_namespace]
}

run "rejects_a_metrics_namespace_with_a_space" {
  command = plan
  variables {
    metrics_namespace = "my drains"
  }
  expect_failures = [var.metrics_namespace]
}

run "creates_hooks_with_the_chosen_default_result" {
  command = plan
  variables {
    hook_default_result = "ABANDON"
  }
  assert {
    condition     = output.hook.default_result == "ABANDON"
    error_message = "The hook must take hook_default_result."
  }
}

run "rejects_alarms_without_metrics" {
  command = plan
  variables {
    enable_alarms = true
    emit_metrics  = false
  }
  expect_failures = [var.enable_alarms]
}

run "rejects_a_topic_that_is_not_an_sns_arn" {
  command = plan
  variables {
    enable_alarms   = true
    alarm_topic_arn = "oncall"
  }
  expect_failures = [var.alarm_topic_arn]
}

run "rejects_a_fargate_quota_without_alarms" {
  command = plan
  variables {
    fargate_vcpu_quota = 6
  }
  expect_failures = [var.fargate_vcpu_quota]
}

run "rejects_a_fargate_quota_of_zero" {
  command = plan
  variables {
    enable_alarms      = true
    fargate_vcpu_quota = 0
  }
  expect_failures = [var.fargate_vcpu_quota]
}

run "rejects_a_cpu_architecture_fargate_does_not_know" {
  command = plan
  variables {
    cpu_architecture = "arm64"
  }
  expect_failures = [var.cpu_architecture]
}

run "accepts_a_boundary_a_role_path_and_a_kms_key" {
  command = plan
  variables {
    permissions_boundary = "arn:aws:iam::123456789012:policy/boundaries/platform-boundary"
    role_path            = "/platform/drainer/"
    kms_key_arn          = "arn:aws:kms:us-west-2:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
  }
}

run "rejects_a_boundary_that_is_not_a_policy_arn" {
  command = plan
  variables {
    permissions_boundary = "arn:aws:iam::123456789012:role/platform-boundary"
  }
  expect_failures = [var.permissions_boundary]
}

run "rejects_a_role_path_without_a_trailing_slash" {
  command = plan
  variables {
    role_path = "/platform"
  }
  expect_failures = [var.role_path]
}

run "rejects_a_kms_alias" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:us-west-2:123456789012:alias/drainer"
  }
  expect_failures = [var.kms_key_arn]
}
