import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, LifecycleResult, drainerTaskFailurePattern } from "../drainer/src/contract";
import { CpuArchitecture, DEFAULT_CPU_ARCHITECTURE_ENUM, dockerPlatform } from "./cpuArchitecture";
import { DrainerImage } from "./drainerImage";
import { DrainerTask } from "./drainerTask";
import { TARGET_RETRY_POLICY, drainerEcsTarget } from "./ecsTarget";
import { DEFAULT_LAUNCH_TYPE, LaunchType } from "./launchType";
import { drainerEnvironment } from "./lifecycleEvent";
import {
  deadLetterQueuePolicyDocument,
  resolveClusterScope,
  taskFailuresQueuePolicyDocument,
  taskRolePolicyDocument,
} from "./policies";
import { alarmDefinitions, createAlarms } from "./alarms";
import { ScaleInHook } from "./scaleInHook";
import { ProviderScope, argsError, checkResolvedArgs, checkScaleInDrainerArgs } from "./validation";

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

/** An arg as an Output with its default, keeping the dependencies it came with. */
function withDefault<T>(value: pulumi.Input<T> | undefined, fallback: T): pulumi.Output<T> {
  return pulumi.output(value).apply((v) => (v ?? fallback) as pulumi.Unwrap<T>) as pulumi.Output<T>;
}

/** The component's outputs, as `initialize` makes them once the args are checked. */
export interface ScaleInDrainerOutputs {
  readonly taskDefinitionArn: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly executionRoleArn: pulumi.Output<string>;
  readonly eventsRoleArn: pulumi.Output<string>;
  readonly lifecycleRuleArns: pulumi.Output<string[]>;
  readonly sweepRuleArn: pulumi.Output<string | undefined>;
  readonly hookNames: pulumi.Output<string[]>;
  readonly logGroupName: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  readonly imageUri: pulumi.Output<string>;
  readonly alarmArns: pulumi.Output<{ [key: string]: string }>;
}

/**
 * Safe scale-in for an ECS cluster on EC2 Auto Scaling groups. Each group gets a termination lifecycle hook; its
 * event starts the drainer as an ECS task, which sets the instance DRAINING, waits until none of its tasks is
 * running or still stopping, and completes the lifecycle action. A scheduled sweep handles instances whose event
 * was lost.
 */
export class ScaleInDrainer extends pulumi.ComponentResource<ScaleInDrainerOutputs> {
  /** The drainer's task definition ARN. */
  public readonly taskDefinitionArn: pulumi.Output<string>;
  /** The task role's ARN: what the drainer itself may do. */
  public readonly taskRoleArn: pulumi.Output<string>;
  /** The execution role's ARN: what ECS may do to start the drainer (pull its image, write its logs). */
  public readonly executionRoleArn: pulumi.Output<string>;
  /** The events role's ARN: what EventBridge may do to run the drainer. */
  public readonly eventsRoleArn: pulumi.Output<string>;
  /** The ARNs of the lifecycle event rules, one per group, in the order of `autoscalingGroupNames`. */
  public readonly lifecycleRuleArns: pulumi.Output<string[]>;
  /** The ARN of the scheduled sweep rule; undefined when `enableSweep` is false. */
  public readonly sweepRuleArn: pulumi.Output<string | undefined>;
  /** The lifecycle hooks' names, one per group, in the order of `autoscalingGroupNames`. */
  public readonly hookNames: pulumi.Output<string[]>;
  /** The CloudWatch Logs group the drainer writes to. */
  public readonly logGroupName: pulumi.Output<string>;
  /** The URL of the SQS queue that receives events whose drainer could not be started. */
  public readonly deadLetterQueueUrl: pulumi.Output<string>;
  /** The drainer image URI the task runs. */
  public readonly imageUri: pulumi.Output<string>;
  /** The alarms' ARNs, by key (`dead-letters`, `asg-NAME-drains-timed-out`, ...); empty unless `enableAlarms`. */
  public readonly alarmArns: pulumi.Output<{ [key: string]: string }>;

  constructor(name: string, args: ScaleInDrainerArgs, opts?: pulumi.ComponentResourceOptions) {
    // A value known when the program runs fails here, at `new`, before even the component is registered.
    const problems = checkScaleInDrainerArgs(args);
    if (problems.length > 0) throw argsError(name, problems);
    // The base class sends these args to the engine as the component's inputs and runs `initialize` with them, which
    // creates the children once every value is checked; the outputs below resolve when it is done.
    super(
      "ecs-scale-in-drainer:index:ScaleInDrainer",
      name,
      args as unknown as pulumi.Inputs,
      opts,
    );
    const outputs = pulumi.output(this.getData());
    this.taskDefinitionArn = outputs.taskDefinitionArn;
    this.taskRoleArn = outputs.taskRoleArn;
    this.executionRoleArn = outputs.executionRoleArn;
    this.eventsRoleArn = outputs.eventsRoleArn;
    this.lifecycleRuleArns = outputs.lifecycleRuleArns;
    this.sweepRuleArn = outputs.sweepRuleArn;
    this.hookNames = outputs.hookNames;
    this.logGroupName = outputs.logGroupName;
    this.deadLetterQueueUrl = outputs.deadLetterQueueUrl;
    this.imageUri = outputs.imageUri;
    this.alarmArns = outputs.alarmArns;
  }

  /**
   * Checks every arg again once its Outputs resolve (another stack's output, a resource of the same program), and a
   * cluster given by ARN against the AWS provider's partition, region and account, then creates the children: an
   * invalid value fails with one error, naming the arg, its value and the fix, before any child is registered.
   */
  protected override async initialize(
    inputs: pulumi.Inputs,
    _opts?: pulumi.ComponentResourceOptions,
    name = "",
  ): Promise<ScaleInDrainerOutputs> {
    const args = inputs as unknown as ScaleInDrainerArgs;
    let provider: ProviderScope;
    try {
      // The AWS provider is the component's own: the one it was given, or its parent's.
      provider = await checkResolvedArgs(name, args, { parent: this });
    } catch (err) {
      // Only a program that constructs the component itself gets here (the plugin checks before it constructs), and
      // Pulumi prints such an error, reported once for all the outputs that fail with it, with its message alone.
      if (!pulumi.InputPropertiesError.isInstance(err)) throw err;
      throw new pulumi.ResourceError(err.message, this, /* hideStack */ true);
    }
    const outputs = this.createChildren(name, args, provider);
    this.registerOutputs({ ...outputs });
    return outputs;
  }

  /** The children, from args already checked; every Output keeps its dependencies. */
  private createChildren(
    name: string,
    args: ScaleInDrainerArgs,
    provider: ProviderScope,
  ): ScaleInDrainerOutputs {
    const groups = [...args.autoscalingGroupNames];
    const launchType = args.launchType ?? DEFAULT_LAUNCH_TYPE;
    const cpuArchitecture = args.cpuArchitecture ?? DEFAULT_CPU_ARCHITECTURE_ENUM;
    const enableSweep = args.enableSweep ?? DEFAULTS.enableSweep;
    const heartbeatTimeout = withDefault(args.heartbeatTimeout, DEFAULTS.heartbeatTimeoutSeconds);
    const assignPublicIp = withDefault(args.assignPublicIp, DEFAULTS.assignPublicIp);
    const cpu = withDefault(args.cpu, DEFAULTS.cpu);
    const hookName = withDefault(args.hookName, DEFAULTS.hookName);
    const sweepSchedule = withDefault(args.sweepSchedule, DEFAULTS.sweepSchedule);
    const clusterName = pulumi.output(args.clusterName);
    const scope = clusterName.apply((cluster) => resolveClusterScope(cluster, provider, groups));

    // Encrypts the log group and the queues. With a KMS key, EventBridge needs kms:GenerateDataKey and kms:Decrypt on
    // it to send to the queues, and CloudWatch Logs its own grants (the README's key policy).
    const kmsKeyArn = args.kmsKeyArn === undefined ? undefined : pulumi.output(args.kmsKeyArn);

    const image = new DrainerImage(
      `${name}-image`,
      { imageUri: args.drainerImage, platform: dockerPlatform(cpuArchitecture), tags: args.tags },
      { parent: this },
    );

    const environment = pulumi
      .output({
        cluster: clusterName,
        hookName,
        pollIntervalSeconds: withDefault(args.pollInterval, DEFAULTS.pollIntervalSeconds),
        ecsReadsPerSecond: withDefault(args.ecsReadsPerSecond, DEFAULTS.ecsReadsPerSecond),
        requestTimeoutSeconds: withDefault(args.requestTimeout, DEFAULTS.requestTimeoutSeconds),
        drainTimeoutSeconds: withDefault(args.drainTimeout, DEFAULTS.drainTimeoutSeconds),
        timeoutResult: withDefault(args.timeoutResult, DEFAULTS.timeoutResult),
        stopStandaloneTasks: withDefault(args.stopStandaloneTasks, DEFAULTS.stopStandaloneTasks),
        emitMetrics: withDefault(args.emitMetrics, DEFAULTS.emitMetrics),
        metricsNamespace: withDefault(args.metricsNamespace, DEFAULTS.metricsNamespace),
        publishEvents: withDefault(args.publishEvents, DEFAULTS.publishEvents),
      })
      .apply((settings) => drainerEnvironment({ ...settings, autoscalingGroupNames: groups }));

    const task = new DrainerTask(
      `${name}-task`,
      {
        imageUri: image.imageUri,
        environment,
        taskRolePolicy: scope.apply((s) => JSON.stringify(taskRolePolicyDocument(s))),
        clusterArn: scope.clusterArn,
        partition: scope.partition,
        region: scope.region,
        accountId: scope.accountId,
        cpu,
        memory: withDefault(args.memory, DEFAULTS.memory),
        logRetentionDays: withDefault(args.logRetentionDays, DEFAULTS.logRetentionDays),
        launchType,
        cpuArchitecture,
        permissionsBoundary: args.permissionsBoundary,
        rolePath: args.rolePath,
        kmsKeyArn,
        tags: args.tags,
      },
      { parent: this },
    );

    // Events whose drainer could not be started, after the target's retries: visible, kept 14 days.
    const queueEncryption =
      kmsKeyArn === undefined ? { sqsManagedSseEnabled: true } : { kmsMasterKeyId: kmsKeyArn };
    const deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { messageRetentionSeconds: 14 * 24 * 3600, ...queueEncryption, tags: args.tags },
      { parent: this },
    );

    const network = {
      taskDefinitionArn: task.taskDefinitionArn,
      launchType,
      subnetIds: pulumi.output(args.subnetIds),
      securityGroupIds: pulumi.output(args.securityGroupIds),
      assignPublicIp,
    };

    const hooks = groups.map(
      (group) =>
        new ScaleInHook(
          `${name}-${group}`,
          {
            ...network,
            autoscalingGroupName: group,
            hookName,
            heartbeatTimeout,
            defaultResult: withDefault(args.hookDefaultResult, DEFAULTS.hookDefaultResult),
            clusterArn: scope.clusterArn,
            eventsRoleArn: task.eventsRoleArn,
            deadLetterQueueArn: deadLetterQueue.arn,
            protectHook: args.protectHooks ?? true,
            tags: args.tags,
          },
          { parent: this },
        ),
    );

    let sweepRule: aws.cloudwatch.EventRule | undefined;
    if (enableSweep) {
      sweepRule = new aws.cloudwatch.EventRule(
        `${name}-sweep`,
        {
          description:
            "Starts the ECS scale-in drainer in sweep mode: completes instances whose lifecycle event was lost.",
          scheduleExpression: sweepSchedule,
          tags: args.tags,
        },
        { parent: this },
      );
      // No input: without EC2_INSTANCE_ID the drainer sweeps every group in AUTOSCALING_GROUP_NAMES.
      new aws.cloudwatch.EventTarget(
        `${name}-sweep`,
        {
          rule: sweepRule.name,
          arn: scope.clusterArn,
          roleArn: task.eventsRoleArn,
          ecsTarget: drainerEcsTarget(network),
          retryPolicy: TARGET_RETRY_POLICY,
          deadLetterConfig: { arn: deadLetterQueue.arn },
        },
        { parent: this },
      );
    }

    const ruleArns = [...hooks.map((h) => h.ruleArn), ...(sweepRule ? [sweepRule.arn] : [])];
    new aws.sqs.QueuePolicy(
      `${name}-dlq`,
      {
        queueUrl: deadLetterQueue.url,
        policy: pulumi
          .all([deadLetterQueue.arn, pulumi.all(ruleArns)])
          .apply(([queueArn, arns]) =>
            JSON.stringify(deadLetterQueuePolicyDocument(queueArn, arns)),
          ),
      },
      { parent: this },
    );

    let taskFailuresRule: aws.cloudwatch.EventRule | undefined;
    if (args.enableAlarms) {
      // A drainer task ECS accepted and then could not start, or that exited with an error, is invisible to
      // EventBridge's own metrics (RunTask answered 200). This rule matches its ECS event; its queue keeps the events
      // (with ECS's stoppedReason) for the operator, and gives the rule a target, so that MatchedEvents is published.
      taskFailuresRule = new aws.cloudwatch.EventRule(
        `${name}-task-failures`,
        {
          description:
            "Matches the ECS scale-in drainer's tasks that failed to start or exited with an error.",
          eventPattern: pulumi
            .all([scope, task.family])
            .apply(([s, family]) =>
              JSON.stringify(
                drainerTaskFailurePattern(
                  s.clusterArn,
                  `arn:${s.partition}:ecs:${s.region}:${s.accountId}:task-definition/${family}:`,
                ),
              ),
            ),
          tags: args.tags,
        },
        { parent: this },
      );
      const taskFailures = new aws.sqs.Queue(
        `${name}-task-failures`,
        { messageRetentionSeconds: 14 * 24 * 3600, ...queueEncryption, tags: args.tags },
        { parent: this },
      );
      new aws.sqs.QueuePolicy(
        `${name}-task-failures`,
        {
          queueUrl: taskFailures.url,
          policy: pulumi
            .all([taskFailures.arn, taskFailuresRule.arn])
            .apply(([queueArn, ruleArn]) =>
              JSON.stringify(taskFailuresQueuePolicyDocument(queueArn, ruleArn)),
            ),
        },
        { parent: this },
      );
      new aws.cloudwatch.EventTarget(
        `${name}-task-failures`,
        { rule: taskFailuresRule.name, arn: taskFailures.arn },
        { parent: this },
      );
    }

    const alarms = taskFailuresRule
      ? createAlarms(
          name,
          alarmDefinitions({
            deadLetterQueueName: deadLetterQueue.name,
            taskFailuresRuleName: taskFailuresRule.name,
            fargateVcpuQuota: args.fargateVcpuQuota,
            rules: [
              ...hooks.map((h, i) => ({
                suffix: `asg-${groups[i]}`,
                name: h.ruleArn.apply((arn) => arn.slice(arn.lastIndexOf("/") + 1)),
              })),
              ...(sweepRule ? [{ suffix: "sweep", name: sweepRule.name }] : []),
            ],
            cluster: scope.clusterName,
            groups,
            metricsNamespace: withDefault(args.metricsNamespace, DEFAULTS.metricsNamespace),
          }),
          args.alarmTopicArn,
          args.tags,
          this,
        )
      : [];

    return {
      taskDefinitionArn: task.taskDefinitionArn,
      taskRoleArn: task.taskRoleArn,
      executionRoleArn: task.executionRoleArn,
      eventsRoleArn: task.eventsRoleArn,
      lifecycleRuleArns: pulumi.all(hooks.map((h) => h.ruleArn)),
      sweepRuleArn: sweepRule ? sweepRule.arn : pulumi.output(undefined),
      hookNames: pulumi.all(hooks.map((h) => h.hookName)),
      logGroupName: task.logGroupName,
      deadLetterQueueUrl: deadLetterQueue.url,
      imageUri: image.imageUri,
      alarmArns: pulumi
        .all(alarms.map((a) => pulumi.all([a.suffix, a.alarm.arn])))
        .apply((pairs): { [key: string]: string } => Object.fromEntries(pairs)),
    };
  }
}
