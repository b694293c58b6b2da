/**
 * The opt-in alarms (`enableAlarms`): an event that could not start the drainer (the dead-letter queue has messages;
 * a rule's FailedInvocations), a drainer task that failed to start or exited with an error (the task-failures rule's
 * MatchedEvents), drains that timed out or failed and held actions no drainer answered for (the drainer's own
 * metrics, written as Embedded Metric Format), and, with `fargateVcpuQuota`, the account's Fargate vCPUs near the
 * quota. Each notifies `alarmTopicArn` when given. The Terraform module renders the same definitions
 * (modules/contract, `alarms`); a parity test compares them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ALARM_NAME_MAX_LENGTH,
  DRAINER_METRICS,
  FARGATE_VCPU_ALARM_PERCENT,
  FARGATE_VCPU_USAGE_METRIC,
  fargateVcpuAlarmThreshold,
  truncateWithHash,
} from "../drainer/src/contract";

/** One alarm: what it watches, when it fires, and what to do. */
export interface AlarmDefinition {
  /** The alarm's name suffix (after the component's name). */
  readonly suffix: string;
  readonly description: string;
  readonly namespace: pulumi.Input<string>;
  readonly metricName: string;
  readonly dimensions: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly statistic: "Sum" | "Maximum";
  readonly threshold: pulumi.Input<number>;
  readonly comparisonOperator: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
}

/** Every alarm looks at one period of 5 minutes; no data is not a breach. */
export const ALARM_SHAPE = {
  period: 300,
  evaluationPeriods: 1,
  treatMissingData: "notBreaching",
} as const;

/** Above 0: the shape of every alarm that counts something that should not happen. */
const ANY = { threshold: 0, comparisonOperator: "GreaterThanThreshold" } as const;

/**
 * The alarms of a drainer: the dead-letter queue, each rule, the drainer's failed tasks, each group's timed-out and
 * failed drains and orphaned actions, and the Fargate vCPU usage when a quota is given.
 */
export function alarmDefinitions(input: {
  readonly deadLetterQueueName: pulumi.Input<string>;
  /** Per rule: a stable suffix (`asg-NAME`, `sweep`) and the rule's name. */
  readonly rules: readonly { readonly suffix: string; readonly name: pulumi.Input<string> }[];
  /** The name of the rule that matches the drainer's failed tasks. */
  readonly taskFailuresRuleName: pulumi.Input<string>;
  readonly cluster: pulumi.Input<string>;
  readonly groups: readonly string[];
  readonly metricsNamespace: pulumi.Input<string>;
  /** The account's Fargate On-Demand vCPU quota; no alarm when undefined. */
  readonly fargateVcpuQuota?: pulumi.Input<number>;
}): AlarmDefinition[] {
  const perGroup = (
    g: string,
    suffix: string,
    metricName: string,
    description: string,
  ): AlarmDefinition => ({
    suffix: `asg-${g}-${suffix}`,
    description,
    namespace: input.metricsNamespace,
    metricName,
    dimensions: { Cluster: input.cluster, AutoScalingGroup: g },
    statistic: "Sum",
    ...ANY,
  });
  return [
    {
      suffix: "dead-letters",
      description:
        "An event could not start the ECS scale-in drainer (EventBridge gave up after its retries): the instance waits for the sweep, or its hook's timeout. Read the queue's messages.",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: input.deadLetterQueueName },
      statistic: "Maximum",
      ...ANY,
    },
    ...input.rules.map((r): AlarmDefinition => ({
      suffix: `${r.suffix}-failed-invocations`,
      description:
        "EventBridge failed to start the ECS scale-in drainer's task for this rule (RunTask refused: capacity, permissions, networking).",
      namespace: "AWS/Events",
      metricName: "FailedInvocations",
      dimensions: { RuleName: r.name },
      statistic: "Sum",
      ...ANY,
    })),
    {
      suffix: "drainer-tasks-failed",
      description:
        "A drainer task failed to start (TaskFailedToStart: no free IP in its subnets, an image pull failure, an image for another CPU architecture) or exited with 1 (a permanent AWS error) or 2 (invalid configuration). Its events, with ECS's stoppedReason, are in the task-failures queue; the drainer's log says why it exited.",
      namespace: "AWS/Events",
      metricName: "MatchedEvents",
      dimensions: { RuleName: input.taskFailuresRuleName },
      statistic: "Sum",
      ...ANY,
    },
    ...input.groups.flatMap((g): AlarmDefinition[] => [
      perGroup(
        g,
        "drains-timed-out",
        DRAINER_METRICS.timedOut,
        `A drain of an instance of ${g} reached its deadline and was completed with TIMEOUT_RESULT: the drainer's log and its drain event say what blocked it.`,
      ),
      perGroup(
        g,
        "drains-failed",
        DRAINER_METRICS.failed,
        `A drain of an instance of ${g} failed on a permanent AWS error (access denied, a missing cluster, group or hook): its action was left to the hook's timeout.`,
      ),
      perGroup(
        g,
        "orphaned-actions",
        DRAINER_METRICS.orphanedActions,
        `An instance of ${g} waited at its hook with no drainer of its own (its event was lost, or its task never started) until the group's leader or the sweep took it over: look for dead letters, failed invocations and failed drainer tasks.`,
      ),
    ]),
    ...(input.fargateVcpuQuota === undefined
      ? []
      : [
          {
            suffix: "fargate-vcpu-quota",
            description: `The account's Fargate On-Demand vCPUs in this region reached ${FARGATE_VCPU_ALARM_PERCENT}% of the quota given (fargateVcpuQuota): RunTask will soon refuse drainers with "You've reached the limit on the number of vCPUs", which EventBridge counts as delivered. Raise the quota (Service Quotas L-3032A538) or lower the Fargate load.`,
            namespace: FARGATE_VCPU_USAGE_METRIC.namespace,
            metricName: FARGATE_VCPU_USAGE_METRIC.metricName,
            dimensions: { ...FARGATE_VCPU_USAGE_METRIC.dimensions },
            statistic: "Maximum",
            threshold: pulumi.output(input.fargateVcpuQuota).apply(fargateVcpuAlarmThreshold),
            comparisonOperator: "GreaterThanOrEqualToThreshold",
          } satisfies AlarmDefinition,
        ]),
  ];
}

/**
 * The alarms, as CloudWatch metric alarms of the component, by suffix. Each is named `NAME-SUFFIX`, cut with a hash
 * beyond CloudWatch's 255 characters (truncateWithHash, as the Terraform module cuts it).
 */
export function createAlarms(
  name: string,
  definitions: readonly AlarmDefinition[],
  topicArn: pulumi.Input<string> | undefined,
  tags: pulumi.Input<{ [key: string]: pulumi.Input<string> }> | undefined,
  parent: pulumi.Resource,
): { suffix: string; alarm: aws.cloudwatch.MetricAlarm }[] {
  const actions = topicArn === undefined ? undefined : [topicArn];
  return definitions.map((d) => ({
    suffix: d.suffix,
    alarm: new aws.cloudwatch.MetricAlarm(
      `${name}-${d.suffix}`,
      {
        name: truncateWithHash(`${name}-${d.suffix}`, ALARM_NAME_MAX_LENGTH),
        alarmDescription: d.description,
        namespace: d.namespace,
        metricName: d.metricName,
        dimensions: d.dimensions,
        statistic: d.statistic,
        threshold: d.threshold,
        comparisonOperator: d.comparisonOperator,
        ...ALARM_SHAPE,
        ...(actions ? { alarmActions: actions, okActions: actions } : {}),
        tags,
      },
      { parent },
    ),
  }));
}
