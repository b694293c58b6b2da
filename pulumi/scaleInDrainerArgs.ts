/**
 * What `ScaleInDrainer` takes: its args, with their defaults. In a file of their own so that the checks
 * (validation.ts) and the component (scaleInDrainer.ts) both read them without importing each other.
 */
import * as pulumi from "@pulumi/pulumi";
import { LifecycleResult } from "../drainer/src/contract";
import { CpuArchitecture } from "./cpuArchitecture";
import { LaunchType } from "./launchType";

export interface ScaleInDrainerArgs {
  /** The ECS cluster whose EC2 container instances are drained, by name (`my-cluster`) or ARN. Required. */
  readonly clusterName: pulumi.Input<string>;
  /**
   * The Auto Scaling groups of the cluster's instances. Each gets a termination hook, a rule and a target, so the
   * names must be known when the program runs (plain strings, not Outputs). Required.
   */
  readonly autoscalingGroupNames: string[];
  /** The subnets the drainer's task runs in (awsvpc). They need a route to the ECS and Auto Scaling APIs. Required. */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The security groups of the drainer's task. They must allow outbound HTTPS. Required. */
  readonly securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Whether the drainer's Fargate task gets a public IP (for public subnets without a NAT). Defaults to false. */
  readonly assignPublicIp?: pulumi.Input<boolean>;
  /**
   * A prebuilt drainer image URI. Defaults to building `drainer/Dockerfile` with awsx and pushing it to a new ECR
   * repository (needs Docker where `pulumi up` runs).
   */
  readonly drainerImage?: pulumi.Input<string>;
  /**
   * Seconds each lifecycle hook holds an instance without a heartbeat, from 30 to 7200; with the sweep on a
   * `rate(...)` schedule, at least 2 x (the sweep's period + 120 s) (840 for the default sweep). Defaults to 900.
   */
  readonly heartbeatTimeout?: pulumi.Input<number>;
  /**
   * Seconds the drainer waits for an instance's tasks before completing with `timeoutResult` (DRAIN_TIMEOUT_SECONDS),
   * at most 172800 and at most 100 x `heartbeatTimeout`. Defaults to 3600.
   */
  readonly drainTimeout?: pulumi.Input<number>;
  /** Seconds between the drainer's checks of an instance's tasks (POLL_INTERVAL_SECONDS), up to 3600. Defaults to 10. */
  readonly pollInterval?: pulumi.Input<number>;
  /**
   * ECS reads a second one drainer may make, paced by a token bucket (ECS_READS_PER_SECOND): more than 0, at most
   * 10000. ECS refills cluster reads at 20/s per account and region, so lower it when other tools share them and raise
   * it only with raised ECS quotas. Defaults to 15.
   */
  readonly ecsReadsPerSecond?: pulumi.Input<number>;
  /**
   * Seconds one AWS request of the drainer may take before it fails and the AWS SDK retries it
   * (REQUEST_TIMEOUT_SECONDS): more than 0, at most 60, and shorter than the heartbeat interval, so that a hung request
   * never costs a heartbeat. Defaults to 5.
   */
  readonly requestTimeout?: pulumi.Input<number>;
  /** The lifecycle result when the drain times out (TIMEOUT_RESULT): CONTINUE or ABANDON. Defaults to CONTINUE. */
  readonly timeoutResult?: pulumi.Input<LifecycleResult>;
  /**
   * Whether the drainer stops standalone tasks (not owned by a service) once only they remain
   * (STOP_STANDALONE_TASKS). Otherwise it waits for them. Defaults to false.
   */
  readonly stopStandaloneTasks?: pulumi.Input<boolean>;
  /**
   * The schedule of the sweep that finds instances whose event was lost. With a `rate(...)` schedule,
   * `heartbeatTimeout` must be at least 2 x (its period + 120 s), so that the next sweep takes over the action of a
   * drainer that died before its hook expires; a `cron(...)` schedule is not checked. Defaults to "rate(5 minutes)".
   */
  readonly sweepSchedule?: pulumi.Input<string>;
  /** Whether to run the scheduled sweep. Must be known when the program runs. Defaults to true. */
  readonly enableSweep?: boolean;
  /** The drainer task's CPU units (Fargate sizes: 256, 512, 1024, ...). Defaults to 256. */
  readonly cpu?: pulumi.Input<number>;
  /** The drainer task's memory in MiB. Defaults to 512. */
  readonly memory?: pulumi.Input<number>;
  /** Days CloudWatch Logs keeps the drainer's logs (a period CloudWatch accepts). Defaults to 30. */
  readonly logRetentionDays?: pulumi.Input<number>;
  /** Where the drainer's task runs: FARGATE or EC2. Must be known when the program runs. Defaults to FARGATE. */
  readonly launchType?: LaunchType;
  /**
   * The drainer task's CPU architecture: X86_64 or ARM64 (AWS Graviton; about 20% cheaper on Fargate; with EC2, the
   * cluster needs ARM instances with room for it). The image the component builds is built for the same platform
   * (linux/amd64 or linux/arm64); a `drainerImage` must have a variant for it. Must be known when the program runs.
   * Defaults to X86_64.
   */
  readonly cpuArchitecture?: CpuArchitecture;
  /** The lifecycle hook's name on every group. Defaults to "ecs-scale-in-drainer". */
  readonly hookName?: pulumi.Input<string>;
  /**
   * The hook's DefaultResult: what Auto Scaling does when the hook times out with no drainer answering (a drainer
   * that never started, or died). CONTINUE or ABANDON. Defaults to CONTINUE, because ABANDON also cancels the
   * instance's other terminate hooks. Choose ABANDON with a group whose instance lifecycle policy retains instances on
   * abandoned terminate hooks: a dead drainer then keeps the instance instead of terminating it.
   */
  readonly hookDefaultResult?: pulumi.Input<LifecycleResult>;
  /**
   * Whether the drainer writes each instance's outcome as CloudWatch metrics (Embedded Metric Format in its log
   * line: no API call, no permission) (EMIT_METRICS). Defaults to true.
   */
  readonly emitMetrics?: pulumi.Input<boolean>;
  /** The CloudWatch namespace of the drainer's metrics (METRICS_NAMESPACE). Defaults to "ECSScaleInDrainer". */
  readonly metricsNamespace?: pulumi.Input<string>;
  /**
   * Whether the drainer puts one event per instance outcome (completed, timed out, failed), and one when a drain is
   * first found stuck, on the account's default EventBridge bus, source `ecs-scale-in-drainer` (PUBLISH_EVENTS).
   * Route them with a rule of your own. Defaults to true.
   */
  readonly publishEvents?: pulumi.Input<boolean>;
  /**
   * Whether to create CloudWatch alarms: the dead-letter queue has messages, a rule's FailedInvocations, a drainer
   * task that failed to start or exited with an error (an EventBridge rule on ECS task state changes, with a queue
   * that keeps its events), and each group's drains that timed out or failed and actions no drainer answered for
   * (from the drainer's metrics, so `emitMetrics` must stay true). Must be known when the program runs.
   * Defaults to false.
   */
  readonly enableAlarms?: boolean;
  /** An SNS topic the alarms notify (alarm and OK actions). Requires `enableAlarms`. Defaults to none. */
  readonly alarmTopicArn?: pulumi.Input<string>;
  /**
   * The account's Fargate On-Demand vCPU quota in the region (Service Quotas L-3032A538), a number greater than 0.
   * When set, an alarm fires when the account's Fargate vCPUs (AWS/Usage ResourceCount) reach 80% of it: RunTask then
   * soon refuses drainers, which EventBridge counts as delivered. Requires `enableAlarms`. Defaults to none (no alarm).
   */
  readonly fargateVcpuQuota?: pulumi.Input<number>;
  /**
   * The ARN of an IAM managed policy set as the permissions boundary of every role the component creates (task,
   * execution, events). Defaults to none.
   */
  readonly permissionsBoundary?: pulumi.Input<string>;
  /** The IAM path of every role the component creates: `/` or `/a/path/`. Defaults to "/". */
  readonly rolePath?: pulumi.Input<string>;
  /**
   * The ARN of a KMS key that encrypts the drainer's log group and its queues (dead letters, task failures). Its key
   * policy must let `logs.REGION.amazonaws.com` use it (kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*,
   * kms:GenerateDataKey*, kms:Describe*) and `events.amazonaws.com` call kms:GenerateDataKey and kms:Decrypt (to send
   * to the queues). Defaults to none: the log group uses CloudWatch Logs' own encryption, the queues SSE-SQS.
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /**
   * Whether the lifecycle hooks are protected: Pulumi then refuses to delete or replace one (`pulumi destroy`, a new
   * `hookName`, a group dropped from `autoscalingGroupNames`). Deleting a hook completes every action it holds with
   * CONTINUE, terminating held instances with their tasks. To remove or rename hooks, set it to false, `pulumi up`,
   * then follow the safe order in pulumi/README.md (Removing). Must be known when the program runs. Defaults to true.
   */
  readonly protectHooks?: boolean;
  /** Tags for every resource that takes them. Defaults to none. */
  readonly tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}
