import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, drainerTaskFailurePattern } from "../drainer/src/contract";
import { DEFAULT_CPU_ARCHITECTURE_ENUM, dockerPlatform } from "./cpuArchitecture";
import { DrainerImage } from "./drainerImage";
import { DrainerTask } from "./drainerTask";
import { TARGET_RETRY_POLICY, drainerEcsTarget } from "./ecsTarget";
import { DEFAULT_LAUNCH_TYPE } from "./launchType";
import { drainerEnvironment } from "./lifecycleEvent";
import {
  deadLetterQueuePolicyDocument,
  resolveClusterScope,
  taskFailuresQueuePolicyDocument,
  taskRolePolicyDocument,
} from "./policies";
import { alarmDefinitions, createAlarms } from "./alarms";
import { ScaleInHook } from "./scaleInHook";
import { ScaleInDrainerArgs } from "./scaleInDrainerArgs";
import { ProviderScope, argsError, checkResolvedArgs, checkScaleInDrainerArgs } from "./validation";

export { ScaleInDrainerArgs } from "./scaleInDrainerArgs";

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
