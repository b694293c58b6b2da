/**
 * The drainer's contract with the world, defined once.
 *
 * The Pulumi component and the Terraform module deploy this program; they build (or are tested against) the
 * environment variables, the AWS actions and the event fields declared here. Nothing here does I/O.
 */

import { createHash } from "node:crypto";

/** The name of the drainer's container in every task definition. Input transformers target it. */
export const DRAINER_CONTAINER_NAME = "drainer";

/** The lifecycle transition the drainer's hook is created for. */
export const TERMINATING_TRANSITION = "autoscaling:EC2_INSTANCE_TERMINATING";

/** The EventBridge event that starts the drainer. */
export const LIFECYCLE_EVENT = {
  source: "aws.autoscaling",
  detailType: "EC2 Instance-terminate Lifecycle Action",
} as const;

/**
 * The events the drainer puts on the account's default EventBridge bus (PUBLISH_EVENTS): one per instance outcome, and
 * one when a drain is first found stuck. Route them with a rule of your own on this source.
 */
export const DRAIN_EVENTS = {
  source: "ecs-scale-in-drainer",
  outcome: "ECS Scale-In Drain Outcome",
  stuck: "ECS Scale-In Drain Stuck",
} as const;

/** The hook that ECS managed instance draining adds to a group. A second drainer on the same group. */
export const ECS_MANAGED_DRAINING_HOOK = "ecs-managed-draining-termination-hook";

/** The lifecycle state of an instance held by a terminate hook. */
export const TERMINATING_WAIT = "Terminating:Wait";

/**
 * Every lifecycle state in which the terminate hook holds an instance (EC2 Auto Scaling user guide):
 * - `Terminating:Wait`: a scale-in, a refresh or a rebalance terminates it;
 * - `ReplacingRootVolume:Wait`: an instance refresh with the ReplaceRootVolume strategy is about to replace its root
 *   volume, which reboots it from a new AMI and ends every task on it, so it is drained like a termination;
 * - `Warmed:Terminating:Wait`: an instance of the group's warm pool is being terminated.
 */
export const HELD_BY_TERMINATE_HOOK = [
  TERMINATING_WAIT,
  "ReplacingRootVolume:Wait",
  "Warmed:Terminating:Wait",
] as const;

/** Process exit codes. */
export enum ExitCode {
  /** Every instance handled: completed, already complete, or not in the cluster. */
  Ok = 0,
  /**
   * A permanent AWS error (access denied, a cluster, group or hook that does not exist) ended an instance's drain
   * before its deadline, its action not completed. Transient failures are retried until the deadline.
   */
  Failed = 1,
  /** Invalid configuration. Nothing was called. */
  InvalidConfig = 2,
  /** Stopped by SIGTERM before completing. The hook's heartbeat timeout or the next sweep takes over. */
  Interrupted = 143,
}

/** Lifecycle action results. */
export enum LifecycleResult {
  Continue = "CONTINUE",
  Abandon = "ABANDON",
}

/** The kind of value a setting takes. */
export type SettingKind = "string" | "id-list" | "seconds" | "rate" | "boolean" | "result";

/** One setting: an environment variable, its CLI flag, and its rules. */
export interface Setting {
  /** The environment variable. */
  readonly env: string;
  /** The CLI flag, without the leading dashes. */
  readonly flag: string;
  /** What the value means, for --help and the READMEs. */
  readonly description: string;
  readonly kind: SettingKind;
  /** The default, in the variable's own text form. Absent when there is none (or it is derived). */
  readonly default?: string;
  /** Inclusive bounds, for `seconds`. `min` is exclusive when `minExclusive` is set. */
  readonly min?: number;
  readonly minExclusive?: boolean;
  readonly max?: number;
  /** Where the value comes from when the drainer is started by the lifecycle event. */
  readonly eventPath?: string;
}

/** Defaults shared by the drainer, the Pulumi component and the Terraform module. */
export const DEFAULTS = {
  pollIntervalSeconds: 10,
  drainTimeoutSeconds: 3600,
  /** ECS reads a second one drainer makes at most: ECS's cluster reads refill at 20/s per account and region. */
  ecsReadsPerSecond: 15,
  timeoutResult: LifecycleResult.Continue,
  stopStandaloneTasks: false,
  /**
   * Seconds one AWS request may take before it fails and the SDK's retry strategy takes over. Well below the shortest
   * heartbeat interval (15 s, half the shortest HeartbeatTimeout), so that a hung request never costs a heartbeat.
   */
  requestTimeoutSeconds: 5,
  /**
   * The Pulumi and Terraform default for the hook's DefaultResult, used when the hook times out with no drainer
   * answering: CONTINUE, because ABANDON also cancels the instance's other terminate hooks. With a group that retains
   * instances on abandoned terminate hooks, ABANDON keeps the instance instead of terminating it.
   */
  hookDefaultResult: LifecycleResult.Continue,
  /** The Pulumi and Terraform default for the hook's HeartbeatTimeout. */
  heartbeatTimeoutSeconds: 900,
  /** The Pulumi and Terraform default schedule of the sweep. */
  sweepSchedule: "rate(5 minutes)",
  /** The Pulumi and Terraform default: the sweep is on. */
  enableSweep: true,
  /** The lifecycle hook's name on every group. */
  hookName: "ecs-scale-in-drainer",
  /** The drainer task's size (Fargate units). */
  cpu: 256,
  memory: 512,
  logRetentionDays: 30,
  assignPublicIp: false,
  launchType: "FARGATE",
  /** Each instance's outcome line carries CloudWatch Embedded Metric Format (no API call, no permission). */
  emitMetrics: true,
  /** The CloudWatch namespace of those metrics. */
  metricsNamespace: "ECSScaleInDrainer",
  /** Each instance outcome (and a drain first found stuck) is an event on the default EventBridge bus. */
  publishEvents: true,
} as const;

/** A CloudWatch namespace: 1-255 of these characters; AWS/ is reserved for AWS's own. */
export const METRICS_NAMESPACE = /^(?!AWS\/)[0-9A-Za-z.\-_/#:]{1,255}$/;

/** AWS limits the settings are checked against (drainer/AWS-FACTS.md). */
export const LIMITS = {
  heartbeatTimeoutMin: 30,
  heartbeatTimeoutMax: 7200,
  /** A lifecycle action never lasts more than min(48 h, 100 x HeartbeatTimeout). */
  globalTimeoutMaxSeconds: 48 * 3600,
  globalTimeoutHeartbeatFactor: 100,
} as const;

export const SETTINGS: readonly Setting[] = [
  {
    env: "ECS_CLUSTER",
    flag: "cluster",
    kind: "string",
    description: "The ECS cluster, by name or ARN. Required.",
  },
  {
    env: "AUTOSCALING_GROUP_NAME",
    flag: "asg",
    kind: "string",
    description: "The Auto Scaling group of the terminating instance (event mode).",
    eventPath: "$.detail.AutoScalingGroupName",
  },
  {
    env: "LIFECYCLE_HOOK_NAME",
    flag: "hook",
    kind: "string",
    description: "The lifecycle hook to heartbeat and complete. Required.",
    eventPath: "$.detail.LifecycleHookName",
  },
  {
    env: "EC2_INSTANCE_ID",
    flag: "instance-id",
    kind: "string",
    description: "The terminating EC2 instance (event mode). Without it the drainer sweeps.",
    eventPath: "$.detail.EC2InstanceId",
  },
  {
    env: "LIFECYCLE_ACTION_TOKEN",
    flag: "token",
    kind: "string",
    description:
      "The lifecycle action token (event mode, optional: the instance ID identifies the action too).",
    eventPath: "$.detail.LifecycleActionToken",
  },
  {
    env: "AUTOSCALING_GROUP_NAMES",
    flag: "asgs",
    kind: "id-list",
    description:
      "Comma-separated Auto Scaling groups whose Terminating:Wait instances a sweep handles.",
  },
  {
    env: "POLL_INTERVAL_SECONDS",
    flag: "poll-interval",
    kind: "seconds",
    default: String(DEFAULTS.pollIntervalSeconds),
    min: 0,
    minExclusive: true,
    max: 3600,
    description: "Seconds between checks of the instance's tasks.",
  },
  {
    env: "HEARTBEAT_INTERVAL_SECONDS",
    flag: "heartbeat-interval",
    kind: "seconds",
    min: 0,
    minExclusive: true,
    max: LIMITS.heartbeatTimeoutMax,
    description:
      "Seconds between lifecycle heartbeats. Defaults to half the hook's HeartbeatTimeout.",
  },
  {
    env: "DRAIN_TIMEOUT_SECONDS",
    flag: "drain-timeout",
    kind: "seconds",
    default: String(DEFAULTS.drainTimeoutSeconds),
    min: 0,
    minExclusive: true,
    max: LIMITS.globalTimeoutMaxSeconds,
    description: "Seconds to wait for the drain before giving up with TIMEOUT_RESULT.",
  },
  {
    env: "TIMEOUT_RESULT",
    flag: "timeout-result",
    kind: "result",
    default: DEFAULTS.timeoutResult,
    description: "The lifecycle result when the drain times out: CONTINUE or ABANDON.",
  },
  {
    env: "STOP_STANDALONE_TASKS",
    flag: "stop-standalone-tasks",
    kind: "boolean",
    default: String(DEFAULTS.stopStandaloneTasks),
    description:
      "Stop standalone tasks (not owned by a service) once only they remain. Otherwise wait for them.",
  },
  {
    env: "ECS_READS_PER_SECOND",
    flag: "ecs-reads-per-second",
    kind: "rate",
    default: String(DEFAULTS.ecsReadsPerSecond),
    min: 0,
    minExclusive: true,
    max: 10000,
    description:
      "ECS reads (DescribeContainerInstances, ListTasks, DescribeTasks, ListContainerInstances) a second a drainer may make, paced by a token bucket with a burst of one second's worth. ECS refills cluster reads at 20/s per account and region, shared with everything else.",
  },
  {
    env: "REQUEST_TIMEOUT_SECONDS",
    flag: "request-timeout",
    kind: "seconds",
    default: String(DEFAULTS.requestTimeoutSeconds),
    min: 0,
    minExclusive: true,
    max: 60,
    description:
      "Seconds one AWS request may take before it fails and the SDK retries it. Must be shorter than the heartbeat interval, so that a hung request never costs a heartbeat.",
  },
  {
    env: "EVENT_ORIGIN",
    flag: "origin",
    kind: "string",
    description:
      "The lifecycle event's Origin (EC2, AutoScalingGroup or WarmPool; event mode, optional). Logged; the instance's lifecycle state decides.",
    eventPath: "$.detail.Origin",
  },
  {
    env: "EVENT_DESTINATION",
    flag: "destination",
    kind: "string",
    description:
      "The lifecycle event's Destination (EC2, AutoScalingGroup or WarmPool; event mode, optional). Logged; the instance's lifecycle state decides.",
    eventPath: "$.detail.Destination",
  },
  {
    env: "EVENT_ACTION",
    flag: "event-action",
    kind: "string",
    description:
      "The lifecycle event's Action (ReplaceRootVolume for an instance refresh that replaces root volumes; event mode, optional). Logged; the instance's lifecycle state decides.",
    eventPath: "$.detail.Action",
  },
  {
    env: "EMIT_METRICS",
    flag: "emit-metrics",
    kind: "boolean",
    default: String(DEFAULTS.emitMetrics),
    description:
      "Write each instance's outcome (drain seconds, tasks at start, completed, timed out, failed) as CloudWatch Embedded Metric Format in its log line: CloudWatch Logs extracts the metrics, with no API call and no permission.",
  },
  {
    env: "METRICS_NAMESPACE",
    flag: "metrics-namespace",
    kind: "string",
    default: DEFAULTS.metricsNamespace,
    description:
      "The CloudWatch namespace of the drainer's metrics: 1-255 letters, digits and . - _ / # :, not starting with AWS/.",
  },
  {
    env: "PUBLISH_EVENTS",
    flag: "publish-events",
    kind: "boolean",
    default: String(DEFAULTS.publishEvents),
    description:
      "Put one event per instance outcome (completed, timed out, failed), and one when a drain is first found stuck, on the account's default EventBridge bus (source ecs-scale-in-drainer). A failure to publish is a warning and never changes a drain.",
  },
  {
    env: "DRY_RUN",
    flag: "dry-run",
    kind: "boolean",
    default: "false",
    description: "Read-only: log each change the drainer would make, and make none.",
  },
];

/** Looks a setting up by its environment variable. Throws on a name that is not in the contract. */
export function setting(env: string): Setting {
  const found = SETTINGS.find((s) => s.env === env);
  if (!found) throw new Error(`${env} is not a setting of the drainer`);
  return found;
}

/**
 * The settings an EventBridge input transformer fills from the lifecycle event, with the placeholder names the
 * transformer uses. Only these event fields reach the drainer, and each is either an ID or name that AWS restricts or
 * a word from a fixed AWS vocabulary (Origin, Destination, Action); free text such as NotificationMetadata never
 * does, because EventBridge does not escape the values it substitutes. Origin, Destination and Action are absent from
 * most events: the drainer treats an empty value as absent.
 */
export const EVENT_ENVIRONMENT: readonly { env: string; placeholder: string; path: string }[] = [
  { env: "EC2_INSTANCE_ID", placeholder: "instance", path: "$.detail.EC2InstanceId" },
  { env: "AUTOSCALING_GROUP_NAME", placeholder: "asg", path: "$.detail.AutoScalingGroupName" },
  { env: "LIFECYCLE_HOOK_NAME", placeholder: "hook", path: "$.detail.LifecycleHookName" },
  { env: "LIFECYCLE_ACTION_TOKEN", placeholder: "token", path: "$.detail.LifecycleActionToken" },
  { env: "EVENT_ORIGIN", placeholder: "origin", path: "$.detail.Origin" },
  { env: "EVENT_DESTINATION", placeholder: "destination", path: "$.detail.Destination" },
  { env: "EVENT_ACTION", placeholder: "action", path: "$.detail.Action" },
];

/** The kind of resource an IAM action is scoped to. */
export enum ResourceKind {
  Cluster = "cluster",
  ContainerInstance = "container-instance",
  Task = "task",
  AutoScalingGroup = "autoScalingGroup",
  Service = "service",
  /** The account's default EventBridge bus, with `events:source` = the drainer's source (DRAIN_EVENTS). */
  EventBus = "event-bus",
  /** The action supports no resource-level permissions. */
  Any = "*",
}

/** An AWS action the drainer calls, and how its permission is scoped. */
export interface DeclaredAction {
  /** The IAM action, e.g. `ecs:ListTasks`. */
  readonly action: string;
  /** The SDK v3 command class that sends it, e.g. `ListTasksCommand`. */
  readonly command: string;
  readonly resource: ResourceKind;
  /** True when the statement also carries the condition `ecs:cluster` = the cluster ARN. */
  readonly clusterCondition: boolean;
  /** True when the action changes something. DRY_RUN makes none of these. */
  readonly mutating: boolean;
}

/** Every AWS action the drainer calls. The IaC faces build their IAM policies from this list and nothing else. */
export const DECLARED_ACTIONS: readonly DeclaredAction[] = [
  {
    action: "ecs:ListContainerInstances",
    command: "ListContainerInstancesCommand",
    resource: ResourceKind.Cluster,
    clusterCondition: false,
    mutating: false,
  },
  {
    action: "ecs:DescribeContainerInstances",
    command: "DescribeContainerInstancesCommand",
    resource: ResourceKind.ContainerInstance,
    clusterCondition: true,
    mutating: false,
  },
  {
    action: "ecs:UpdateContainerInstancesState",
    command: "UpdateContainerInstancesStateCommand",
    resource: ResourceKind.ContainerInstance,
    clusterCondition: true,
    mutating: true,
  },
  {
    // ListTasks is also called without a container instance (every task of the cluster, to prove many instances at
    // once; a sweep's family, to find other sweeps), which IAM evaluates on `*`. So it is granted on `*` with
    // ecs:cluster = the cluster ARN, as AWS CDK's drain hook grants it: the same effective scope, one cluster.
    action: "ecs:ListTasks",
    command: "ListTasksCommand",
    resource: ResourceKind.Any,
    clusterCondition: true,
    mutating: false,
  },
  {
    action: "ecs:DescribeTasks",
    command: "DescribeTasksCommand",
    resource: ResourceKind.Task,
    clusterCondition: true,
    mutating: false,
  },
  {
    action: "ecs:StopTask",
    command: "StopTaskCommand",
    resource: ResourceKind.Task,
    clusterCondition: true,
    mutating: true,
  },
  {
    // Read when service tasks hold a DRAINING instance for a while: why ECS does not move them (stuck reasons), and
    // which services are daemons (stopped last, after the other tasks).
    action: "ecs:DescribeServices",
    command: "DescribeServicesCommand",
    resource: ResourceKind.Service,
    clusterCondition: true,
    mutating: false,
  },
  {
    action: "autoscaling:CompleteLifecycleAction",
    command: "CompleteLifecycleActionCommand",
    resource: ResourceKind.AutoScalingGroup,
    clusterCondition: false,
    mutating: true,
  },
  {
    action: "autoscaling:RecordLifecycleActionHeartbeat",
    command: "RecordLifecycleActionHeartbeatCommand",
    resource: ResourceKind.AutoScalingGroup,
    clusterCondition: false,
    mutating: true,
  },
  {
    action: "autoscaling:DescribeAutoScalingInstances",
    command: "DescribeAutoScalingInstancesCommand",
    resource: ResourceKind.Any,
    clusterCondition: false,
    mutating: false,
  },
  {
    action: "autoscaling:DescribeAutoScalingGroups",
    command: "DescribeAutoScalingGroupsCommand",
    resource: ResourceKind.Any,
    clusterCondition: false,
    mutating: false,
  },
  {
    action: "autoscaling:DescribeWarmPool",
    command: "DescribeWarmPoolCommand",
    resource: ResourceKind.Any,
    clusterCondition: false,
    mutating: false,
  },
  {
    action: "autoscaling:DescribeLifecycleHooks",
    command: "DescribeLifecycleHooksCommand",
    resource: ResourceKind.Any,
    clusterCondition: false,
    mutating: false,
  },
  {
    // The outcome events (PUBLISH_EVENTS), on the default bus only and with the drainer's source only.
    action: "events:PutEvents",
    command: "PutEventsCommand",
    resource: ResourceKind.EventBus,
    clusterCondition: false,
    mutating: true,
  },
];

/**
 * AWS actions that only an operator's `status` calls, never the drainer: they are not in DECLARED_ACTIONS, so neither
 * face grants them to the drainer's task role (events and sweeps alike). `status` works without them and says what it
 * could not show and which action it lacked.
 */
export const OPERATOR_ACTIONS: readonly DeclaredAction[] = [
  {
    // When the hook began to hold an instance: the StartTime of its termination scaling activity (status.ts).
    action: "autoscaling:DescribeScalingActivities",
    command: "DescribeScalingActivitiesCommand",
    resource: ResourceKind.Any,
    clusterCondition: false,
    mutating: false,
  },
];

/**
 * Every action `status` calls, all of them reads: what an operator's own credentials need to run it. The drainer's
 * reads it shares (DECLARED_ACTIONS) and OPERATOR_ACTIONS.
 */
export const STATUS_ACTIONS: readonly string[] = [
  "ecs:ListTasks",
  "ecs:DescribeTasks",
  "ecs:ListContainerInstances",
  "ecs:DescribeContainerInstances",
  "ecs:DescribeServices",
  "autoscaling:DescribeAutoScalingGroups",
  "autoscaling:DescribeWarmPool",
  "autoscaling:DescribeLifecycleHooks",
  "autoscaling:DescribeScalingActivities",
];

/**
 * Seconds allowed for the next sweep's drainer to start once its schedule fires: EventBridge's RunTask, a Fargate
 * task's provisioning and image pull, and the drainer's own start (public reports put RunTask-to-RUNNING at 20-70 s).
 */
export const DRAINER_START_ALLOWANCE_SECONDS = 120;

/** Seconds in each unit of an EventBridge `rate(...)` schedule expression. */
const RATE_UNIT_SECONDS: Readonly<Record<string, number>> = {
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86400,
  days: 86400,
};

/**
 * The period, in seconds, of an EventBridge schedule expression `rate(N minute|minutes|hour|hours|day|days)`, or
 * undefined for anything else (a `cron(...)` expression has no single period and is not checked).
 */
export function rateExpressionSeconds(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  return match ? Number(match[1]) * RATE_UNIT_SECONDS[match[2]] : undefined;
}

/**
 * The shortest hook HeartbeatTimeout that a sweep every `sweepPeriodSeconds` protects. A drainer heartbeats each
 * action it holds every half HeartbeatTimeout; if it dies just before its next heartbeat, half the timeout is left,
 * and in it the next sweep must start (a whole sweep period at worst, plus DRAINER_START_ALLOWANCE_SECONDS) and take
 * the action over: HeartbeatTimeout / 2 >= period + allowance.
 */
export function minimumHeartbeatTimeoutForSweep(sweepPeriodSeconds: number): number {
  return 2 * (sweepPeriodSeconds + DRAINER_START_ALLOWANCE_SECONDS);
}

/**
 * The drainer's metrics the IaC faces alarm on, in namespace METRICS_NAMESPACE with DRAINER_METRIC_DIMENSIONS (Count;
 * an alarm sums them over a period). TimedOut and Failed are outcome metrics (telemetry.ts, OUTCOME_METRICS).
 */
export const DRAINER_METRICS = {
  /** 1 for a drain that reached its deadline and was completed with TIMEOUT_RESULT. */
  timedOut: "TimedOut",
  /** 1 for a drain a permanent AWS error ended, its action left to the hook. */
  failed: "Failed",
  /**
   * 1 for each held action that the group's leader or the sweep took over and whose own drainer never started (its
   * event was lost, or EventBridge could not start its task): the event path failed, the fallback worked.
   */
  orphanedActions: "OrphanedActions",
} as const;

/** The dimensions of the drainer's per-group metrics: the cluster's name and the Auto Scaling group. */
export const DRAINER_METRIC_DIMENSIONS = ["Cluster", "AutoScalingGroup"] as const;

/**
 * The ECS event of a drainer task that stopped: a task ECS accepted and then could not start (stopCode
 * TaskFailedToStart: no free IP in the subnet, an image pull failure, an image for the wrong architecture) or a
 * drainer that exited with DRAINER_FAILURE_EXIT_CODES. EventBridge sees neither: RunTask answered 200.
 */
export const TASK_STATE_CHANGE_EVENT = {
  source: "aws.ecs",
  detailType: "ECS Task State Change",
  lastStatus: "STOPPED",
  failedToStartStopCode: "TaskFailedToStart",
} as const;

/** The drainer's exit codes that mean it did not do its work: a permanent AWS error, or invalid configuration. */
export const DRAINER_FAILURE_EXIT_CODES: readonly number[] = [
  ExitCode.Failed,
  ExitCode.InvalidConfig,
];

/**
 * The EventBridge pattern of the drainer's failed tasks: TASK_STATE_CHANGE_EVENT in the cluster, from any revision of
 * the drainer's task definition family (`taskDefinitionFamilyArnPrefix`: `arn:P:ecs:R:A:task-definition/FAMILY:`).
 */
export function drainerTaskFailurePattern(
  clusterArn: string,
  taskDefinitionFamilyArnPrefix: string,
) {
  return {
    source: [TASK_STATE_CHANGE_EVENT.source],
    "detail-type": [TASK_STATE_CHANGE_EVENT.detailType],
    detail: {
      clusterArn: [clusterArn],
      lastStatus: [TASK_STATE_CHANGE_EVENT.lastStatus],
      taskDefinitionArn: [{ prefix: taskDefinitionFamilyArnPrefix }],
      $or: [
        { stopCode: [TASK_STATE_CHANGE_EVENT.failedToStartStopCode] },
        { containers: { exitCode: [...DRAINER_FAILURE_EXIT_CODES] } },
      ],
    },
  };
}

/** The Fargate On-Demand vCPU usage metric (AWS/Usage; the ECS developer guide's "AWS Fargate usage metrics"). */
export const FARGATE_VCPU_USAGE_METRIC = {
  namespace: "AWS/Usage",
  metricName: "ResourceCount",
  dimensions: {
    Service: "Fargate",
    Type: "Resource",
    Resource: "vCPU",
    Class: "Standard/OnDemand",
  },
} as const;

/** The Fargate vCPU alarm fires at this percentage of `fargateVcpuQuota` (Maximum over the period). */
export const FARGATE_VCPU_ALARM_PERCENT = 80;

/** The Fargate vCPU alarm's threshold for a quota: written as quota x 80 / 100, so that both faces compute it exactly. */
export function fargateVcpuAlarmThreshold(quota: number): number {
  return (quota * FARGATE_VCPU_ALARM_PERCENT) / 100;
}

/**
 * The CPU architectures the drainer's task may ask for (the task definition's runtimePlatform.cpuArchitecture), with
 * the Docker platform its image is built for. The default is X86_64.
 */
export const CPU_ARCHITECTURE_PLATFORMS = {
  X86_64: "linux/amd64",
  ARM64: "linux/arm64",
} as const;

/** The Pulumi and Terraform default CPU architecture of the drainer's task. */
export const DEFAULT_CPU_ARCHITECTURE: keyof typeof CPU_ARCHITECTURE_PLATFORMS = "X86_64";

/**
 * The shapes the IaC faces accept for the IAM and encryption inputs (the same regular expressions in both):
 * - a permissions boundary: an IAM managed policy ARN, AWS's or the account's, with an optional path;
 * - a role path: `/`, or `/` + 1-510 printable ASCII characters + `/` (IAM's own pattern and length);
 * - a KMS key ARN (not an alias: CloudWatch Logs takes a key ARN only).
 */
export const IAM_INPUT_PATTERNS = {
  permissionsBoundary: /^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy\/[A-Za-z0-9+=,.@_/-]{1,512}$/,
  rolePath: /^(\/|\/[!-~]{1,510}\/)$/,
  kmsKeyArn: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[A-Za-z0-9-]{1,64}$/,
} as const;

/** Hex characters of SHA-256 kept when a name is cut short: 8 (a 32-bit hash). */
export const NAME_HASH_LENGTH = 8;

/**
 * The first NAME_HASH_LENGTH hex characters of the SHA-256 of `text` (UTF-8), as Terraform's
 * `substr(sha256(text), 0, 8)` computes them.
 */
export function shortHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, NAME_HASH_LENGTH);
}

/**
 * `name` when it fits in `maxLength` characters; otherwise its first `maxLength - 9` characters, `-`, and the short
 * hash of the whole name, so that two long names that differ only at the end (a blue and a green cluster) stay
 * distinct. Both IaC faces cut names this way (Terraform: modules/contract). For ASCII names.
 */
export function truncateWithHash(name: string, maxLength: number): string {
  if (name.length <= maxLength) return name;
  return `${name.slice(0, maxLength - NAME_HASH_LENGTH - 1)}-${shortHash(name)}`;
}

/** Characters of the cluster's name a default resource-name prefix keeps (with `-drainer`, 32 at most). */
export const DEFAULT_NAME_CLUSTER_CHARS = 24;

/**
 * The default prefix of the names of what the Terraform module creates: the cluster's name, cut with its hash when
 * longer than DEFAULT_NAME_CLUSTER_CHARS, followed by `-drainer`.
 */
export function defaultDrainerName(clusterName: string): string {
  return `${truncateWithHash(clusterName, DEFAULT_NAME_CLUSTER_CHARS)}-drainer`;
}

/** CloudWatch alarm names: at most 255 characters. */
export const ALARM_NAME_MAX_LENGTH = 255;
