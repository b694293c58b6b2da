# The validation blocks here are repeated, word for word, on the same variables of modules/contract, where
# `terraform test` exercises them offline. test/terraform checks that the two copies stay identical.

variable "name" {
  description = "Prefix for the names of everything the module creates (task definition family, roles, rules, queue, log group). Defaults to null: the cluster's name followed by \"-drainer\"; a cluster name longer than 24 characters is cut to 15 and followed by the first 8 hex characters of its SHA-256, so that clusters whose names differ only at the end get distinct names."
  type        = string
  default     = null

  validation {
    condition     = var.name == null || can(regex("^[A-Za-z0-9_-]{1,32}$", var.name))
    error_message = "Set name to 1-32 letters, digits, hyphens or underscores, or leave it null to derive it from the cluster name."
  }
}

variable "cluster_name" {
  description = "The ECS cluster whose container instances are drained, by name or by ARN."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.cluster_name)) || can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$", var.cluster_name))
    error_message = "Set cluster_name to a cluster name (letters, digits, hyphens and underscores) or a cluster ARN such as arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster."
  }
}

variable "autoscaling_group_names" {
  description = "The Auto Scaling groups whose instances register with the cluster. Each gets the lifecycle hook and an EventBridge rule."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.autoscaling_group_names) > 0 && length(distinct(var.autoscaling_group_names)) == length(var.autoscaling_group_names)
    error_message = "Set autoscaling_group_names to a non-empty list of distinct Auto Scaling group names."
  }

  validation {
    condition     = alltrue([for g in var.autoscaling_group_names : can(regex("^[^:\\s,][^:,]{0,254}$", g))])
    error_message = "Each entry of autoscaling_group_names must be an Auto Scaling group name of 1-255 characters without colons or commas; check the names you listed."
  }

  validation {
    condition     = alltrue([for g in var.autoscaling_group_names : !can(regex("[*?$]", g))])
    error_message = "Each entry of autoscaling_group_names must be free of *, ? and $: IAM reads them in a policy's resources as wildcards or policy variables, so the drainer could complete lifecycle actions of other groups. Rename such a group."
  }
}

variable "subnet_ids" {
  description = "The subnets the drainer task runs in (awsvpc). They need a route to the ECS and Auto Scaling APIs and to the image registry."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "Set subnet_ids to at least one subnet ID: the drainer task uses awsvpc networking."
  }
}

variable "security_group_ids" {
  description = "The security groups of the drainer task. It only makes outbound HTTPS calls."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.security_group_ids) > 0
    error_message = "Set security_group_ids to at least one security group that allows outbound HTTPS to the ECS and Auto Scaling APIs."
  }
}

variable "assign_public_ip" {
  description = "Give the drainer task a public IP (Fargate in a public subnet without a NAT gateway). Defaults to false."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !(var.assign_public_ip && var.launch_type == "EC2")
    error_message = "Set assign_public_ip to false when launch_type is EC2: ECS assigns public IPs only to Fargate tasks."
  }
}

variable "drainer_image" {
  description = "The drainer's container image URI. Defaults to the release this module belongs to, public.ecr.aws/ecs-scale-in-drainer/drainer:0.2.0 (the repository and version in the repository's .release); set your own copy (`make all repository=...`) to pull from your registry. Terraform builds no images."
  type        = string
  default     = "public.ecr.aws/ecs-scale-in-drainer/drainer:0.2.0"
  nullable    = false

  validation {
    condition     = can(regex("^\\S+$", var.drainer_image))
    error_message = "Set drainer_image to the URI of a published drainer image, without spaces, for example the one `make all` prints."
  }
}

variable "heartbeat_timeout" {
  description = "The lifecycle hook's heartbeat timeout, in seconds (30-7200). The drainer heartbeats at half of it. With the sweep on a rate(...) schedule, at least 2 x (the sweep's period + 120 s), so that the next sweep takes over from a drainer that died: 840 for the default sweep. Defaults to 900."
  type        = number
  default     = 900
  nullable    = false

  validation {
    condition     = var.heartbeat_timeout >= 30 && var.heartbeat_timeout <= 7200 && floor(var.heartbeat_timeout) == var.heartbeat_timeout
    error_message = "Set heartbeat_timeout to a whole number of seconds from 30 to 7200 (the range Auto Scaling accepts)."
  }

  # minimumHeartbeatTimeoutForSweep in contract.ts: 2 x (the sweep's period + DRAINER_START_ALLOWANCE_SECONDS, 120),
  # so that the next sweep takes over the action of a drainer that died before its hook expires. cron(...) is not checked.
  validation {
    condition     = !var.enable_sweep || var.heartbeat_timeout >= try(one([for m in [regex("^rate\\(([0-9]+) (minutes?|hours?|days?)\\)$", var.sweep_schedule)] : 2 * (m[0] * { minute = 60, minutes = 60, hour = 3600, hours = 3600, day = 86400, days = 86400 }[m[1]] + 120)]), 0)
    error_message = "Set heartbeat_timeout to at least ${try(one([for m in [regex("^rate\\(([0-9]+) (minutes?|hours?|days?)\\)$", var.sweep_schedule)] : 2 * (m[0] * { minute = 60, minutes = 60, hour = 3600, hours = 3600, day = 86400, days = 86400 }[m[1]] + 120)]), "?")} seconds, 2 x (the sweep's period + 120 s), or shorten sweep_schedule: it is ${var.heartbeat_timeout} with sweep_schedule \"${var.sweep_schedule}\". A drainer heartbeats every half heartbeat_timeout; if it dies, the next sweep must start (its period, plus 120 s to start a task) before the hook expires. At most 7200 is possible, so a sweep must run at least every 3480 s (58 minutes)."
  }
}

variable "drain_timeout" {
  description = "Seconds the drainer waits for an instance to empty before it completes the lifecycle action with timeout_result. Defaults to 3600."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.drain_timeout > 0 && var.drain_timeout <= 172800
    error_message = "Set drain_timeout to a number of seconds greater than 0 and at most 172800 (48 hours, the longest a lifecycle action can last)."
  }

  validation {
    condition     = var.drain_timeout <= 100 * var.heartbeat_timeout
    error_message = "Set drain_timeout to at most 100 times heartbeat_timeout (or raise heartbeat_timeout): Auto Scaling ends a lifecycle action after 100 heartbeat timeouts whatever the heartbeats."
  }
}

variable "poll_interval" {
  description = "Seconds between the drainer's checks of an instance's tasks. Defaults to 10."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.poll_interval > 0 && var.poll_interval <= 3600
    error_message = "Set poll_interval to a number of seconds greater than 0 and at most 3600."
  }
}

variable "ecs_reads_per_second" {
  description = "ECS reads a second one drainer may make, paced by a token bucket (ECS_READS_PER_SECOND). ECS refills cluster reads at 20/s per account and region: lower it when other tools share them, raise it only with raised ECS quotas. Defaults to 15."
  type        = number
  default     = 15
  nullable    = false

  validation {
    condition     = var.ecs_reads_per_second > 0 && var.ecs_reads_per_second <= 10000
    error_message = "Set ecs_reads_per_second to a number of ECS reads a second greater than 0 and at most 10000."
  }
}

variable "request_timeout" {
  description = "Seconds one AWS request of the drainer may take before it fails and the AWS SDK retries it (REQUEST_TIMEOUT_SECONDS); shorter than the heartbeat interval, so that a hung request never costs a heartbeat. Defaults to 5."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.request_timeout > 0 && var.request_timeout <= 60
    error_message = "Set request_timeout to a number of seconds greater than 0 and at most 60."
  }
}

variable "timeout_result" {
  description = "The lifecycle action result when the drain times out: CONTINUE or ABANDON. Defaults to CONTINUE."
  type        = string
  default     = "CONTINUE"
  nullable    = false

  validation {
    condition     = contains(["CONTINUE", "ABANDON"], var.timeout_result)
    error_message = "Set timeout_result to CONTINUE or ABANDON."
  }
}

variable "stop_standalone_tasks" {
  description = "Stop standalone tasks (not owned by a service) once only they remain on a draining instance. Otherwise the drainer waits for them until drain_timeout. Defaults to false."
  type        = bool
  default     = false
  nullable    = false
}

variable "hook_default_result" {
  description = "The lifecycle hook's DefaultResult: what Auto Scaling does when the hook times out with no drainer answering (a drainer that never started, or died). CONTINUE or ABANDON. ABANDON also cancels the instance's other terminate hooks; choose it with a group whose instance lifecycle policy retains instances on abandoned terminate hooks, so that a dead drainer keeps the instance instead of terminating it. Defaults to CONTINUE."
  type        = string
  default     = "CONTINUE"
  nullable    = false

  validation {
    condition     = contains(["CONTINUE", "ABANDON"], var.hook_default_result)
    error_message = "Set hook_default_result to CONTINUE or ABANDON."
  }
}

variable "emit_metrics" {
  description = "Write each instance's outcome (drain seconds, tasks at start, completed, timed out, failed) as CloudWatch metrics: Embedded Metric Format in the drainer's log line, extracted by CloudWatch Logs with no API call and no permission (EMIT_METRICS). Defaults to true."
  type        = bool
  default     = true
  nullable    = false
}

variable "metrics_namespace" {
  description = "The CloudWatch namespace of the drainer's metrics (METRICS_NAMESPACE). Defaults to ECSScaleInDrainer."
  type        = string
  default     = "ECSScaleInDrainer"
  nullable    = false

  validation {
    condition     = can(regex("^[0-9A-Za-z.\\-_/#:]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "Set metrics_namespace to a CloudWatch namespace: 1-255 letters, digits and . - _ / # :, not starting with AWS/."
  }
}

variable "publish_events" {
  description = "Put one event per instance outcome (completed, timed out, failed), and one when a drain is first found stuck, on the account's default EventBridge bus, source ecs-scale-in-drainer (PUBLISH_EVENTS). Route them with a rule of your own. Defaults to true."
  type        = bool
  default     = true
  nullable    = false
}

variable "enable_alarms" {
  description = "Create CloudWatch alarms: the dead-letter queue has messages, a rule's FailedInvocations, a drainer task that failed to start or exited with an error (an EventBridge rule on ECS task state changes, with a queue that keeps its events), and each group's drains that timed out or failed and actions no drainer answered for (from the drainer's metrics, so emit_metrics must be true). Defaults to false."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !(var.enable_alarms && !var.emit_metrics)
    error_message = "Set emit_metrics = true to use enable_alarms, or set enable_alarms = false: the drain alarms read the drainer's metrics."
  }
}

variable "alarm_topic_arn" {
  description = "An SNS topic the alarms notify (alarm and OK actions). Null: the alarms notify nobody. Requires enable_alarms."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_topic_arn))
    error_message = "Set alarm_topic_arn to an SNS topic ARN such as arn:aws:sns:us-west-2:123456789012:oncall, or leave it null."
  }
  validation {
    condition     = var.alarm_topic_arn == null || var.enable_alarms
    error_message = "Set enable_alarms = true to use alarm_topic_arn, or leave alarm_topic_arn null."
  }
}

variable "fargate_vcpu_quota" {
  description = "The account's Fargate On-Demand vCPU quota in the region (Service Quotas L-3032A538), a number greater than 0. When set, an alarm fires when the account's Fargate vCPUs (AWS/Usage ResourceCount) reach 80% of it: RunTask then soon refuses drainers, which EventBridge counts as delivered. Requires enable_alarms. Defaults to null (no alarm)."
  type        = number
  default     = null

  validation {
    condition     = var.fargate_vcpu_quota == null || try(var.fargate_vcpu_quota > 0, false)
    error_message = "Set fargate_vcpu_quota to the account's Fargate On-Demand vCPU quota in the region (a number greater than 0, from Service Quotas L-3032A538), or leave it null for no Fargate usage alarm."
  }
  validation {
    condition     = var.fargate_vcpu_quota == null || var.enable_alarms
    error_message = "Set enable_alarms = true to use fargate_vcpu_quota, or leave fargate_vcpu_quota null."
  }
}

variable "enable_sweep" {
  description = "Run the drainer on sweep_schedule to handle instances whose lifecycle event was lost. Defaults to true."
  type        = bool
  default     = true
  nullable    = false
}

variable "sweep_schedule" {
  description = "The EventBridge schedule expression of the sweep. A rate(...) period is checked against heartbeat_timeout; a cron(...) schedule is not (keep its longest gap below heartbeat_timeout / 2 - 120 s). Defaults to \"rate(5 minutes)\"."
  type        = string
  default     = "rate(5 minutes)"
  nullable    = false

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.sweep_schedule))
    error_message = "Set sweep_schedule to an EventBridge schedule expression such as rate(5 minutes) or cron(0/5 * * * ? *)."
  }
}

variable "cpu" {
  description = "The drainer task's CPU units. Defaults to 256."
  type        = number
  default     = 256
  nullable    = false

  validation {
    condition     = var.cpu > 0 && floor(var.cpu) == var.cpu
    error_message = "Set cpu to the task's CPU units as a whole number (256 is a quarter of a vCPU)."
  }

  validation {
    condition     = var.launch_type != "FARGATE" || contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "Set cpu to one of 256, 512, 1024, 2048, 4096, 8192 or 16384: the sizes Fargate offers (or set launch_type to EC2)."
  }
}

variable "memory" {
  description = "The drainer task's memory, in MiB. Defaults to 512."
  type        = number
  default     = 512
  nullable    = false

  validation {
    condition     = var.memory > 0 && floor(var.memory) == var.memory
    error_message = "Set memory to the task's memory as a whole number of MiB."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the drainer's logs. Defaults to 30."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "Set log_retention_days to a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "launch_type" {
  description = "How the drainer task runs: FARGATE or EC2 (on the cluster's own instances, which must have room for it). Defaults to FARGATE."
  type        = string
  default     = "FARGATE"
  nullable    = false

  validation {
    condition     = contains(["FARGATE", "EC2"], var.launch_type)
    error_message = "Set launch_type to FARGATE or EC2."
  }
}

variable "cpu_architecture" {
  description = "The drainer task's CPU architecture: X86_64 or ARM64 (AWS Graviton, about 20% cheaper on Fargate; with launch_type EC2 the cluster needs ARM instances with room for it). drainer_image must have a variant for it. Defaults to X86_64."
  type        = string
  default     = "X86_64"
  nullable    = false

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "Set cpu_architecture to X86_64 or ARM64."
  }
}

variable "hook_name" {
  description = "The lifecycle hook's name on every group. Defaults to \"ecs-scale-in-drainer\"."
  type        = string
  default     = "ecs-scale-in-drainer"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_/.-]{1,255}$", var.hook_name))
    error_message = "Set hook_name to 1-255 letters, digits, hyphens, underscores, slashes or dots."
  }

  validation {
    condition     = var.hook_name != "ecs-managed-draining-termination-hook"
    error_message = "Choose another hook_name: ecs-managed-draining-termination-hook belongs to ECS managed instance draining."
  }
}

variable "permissions_boundary" {
  description = "The ARN of an IAM managed policy set as the permissions boundary of every role the module creates (task, execution, events). Defaults to null (no boundary)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]{1,512}$", var.permissions_boundary))
    error_message = "Set permissions_boundary to the ARN of an IAM managed policy (arn:aws:iam::123456789012:policy/NAME), or leave it null for roles without a boundary."
  }
}

variable "role_path" {
  description = "The IAM path of every role the module creates: \"/\" or \"/a/path/\". Defaults to \"/\"."
  type        = string
  default     = "/"
  nullable    = false

  validation {
    condition     = can(regex("^(/|/[!-~]{1,510}/)$", var.role_path))
    error_message = "Set role_path to an IAM path that starts and ends with / (for example /platform/drainer/), at most 512 printable ASCII characters."
  }
}

variable "kms_key_arn" {
  description = "The ARN of a KMS key that encrypts the drainer's log group and its queues (dead letters, task failures). Its key policy must let logs.REGION.amazonaws.com use it and events.amazonaws.com call kms:GenerateDataKey and kms:Decrypt (see the README). Defaults to null: CloudWatch Logs' own encryption and SSE-SQS."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]{1,64}$", var.kms_key_arn))
    error_message = "Set kms_key_arn to a KMS key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; not an alias, which CloudWatch Logs does not take), or leave it null."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them. Defaults to {}."
  type        = map(string)
  default     = {}
  nullable    = false
}
