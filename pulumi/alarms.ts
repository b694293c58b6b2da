/**
 * The opt-in alarms (`enableAlarms`): an event that could not start the drainer (the dead-letter queue has messages;
 * a rule's FailedInvocations), and drains that timed out or failed (the drainer's own metrics, written as Embedded
 * Metric Format). Each alarms when its metric is above 0 over 5 minutes, and notifies `alarmTopicArn` when given.
 * The Terraform module renders the same definitions (modules/contract, `alarms`); a parity test compares them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One alarm: what it watches, and why it matters. */
export interface AlarmDefinition {
  /** The alarm's name suffix (after the component's name). */
  readonly suffix: string;
  readonly description: string;
  readonly namespace: pulumi.Input<string>;
  readonly metricName: string;
  readonly dimensions: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly statistic: "Sum" | "Maximum";
}

/** Every alarm sums (or takes the maximum of) its metric over 5 minutes and alarms above 0; no data is not a breach. */
export const ALARM_SHAPE = {
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
  treatMissingData: "notBreaching",
} as const;

/** The alarms of a drainer: the dead-letter queue, each rule, and each group's timed-out and failed drains. */
export function alarmDefinitions(input: {
  readonly deadLetterQueueName: pulumi.Input<string>;
  /** Per rule: a stable suffix (`asg-NAME`, `sweep`) and the rule's name. */
  readonly rules: readonly { readonly suffix: string; readonly name: pulumi.Input<string> }[];
  readonly cluster: pulumi.Input<string>;
  readonly groups: readonly string[];
  readonly metricsNamespace: pulumi.Input<string>;
}): AlarmDefinition[] {
  return [
    {
      suffix: "dead-letters",
      description:
        "An event could not start the ECS scale-in drainer (EventBridge gave up after its retries): the instance waits for the sweep, or its hook's timeout. Read the queue's messages.",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: input.deadLetterQueueName },
      statistic: "Maximum",
    },
    ...input.rules.map((r): AlarmDefinition => ({
      suffix: `${r.suffix}-failed-invocations`,
      description:
        "EventBridge failed to start the ECS scale-in drainer's task for this rule (RunTask refused: capacity, permissions, networking).",
      namespace: "AWS/Events",
      metricName: "FailedInvocations",
      dimensions: { RuleName: r.name },
      statistic: "Sum",
    })),
    ...input.groups.flatMap((g): AlarmDefinition[] =>
      (["TimedOut", "Failed"] as const).map((metric) => ({
        suffix: `asg-${g}-drains-${metric === "TimedOut" ? "timed-out" : "failed"}`,
        description:
          metric === "TimedOut"
            ? `A drain of an instance of ${g} reached its deadline and was completed with TIMEOUT_RESULT: the drainer's log and its drain event say what blocked it.`
            : `A drain of an instance of ${g} failed on a permanent AWS error (access denied, a missing cluster, group or hook): its action was left to the hook's timeout.`,
        namespace: input.metricsNamespace,
        metricName: metric,
        dimensions: { Cluster: input.cluster, AutoScalingGroup: g },
        statistic: "Sum",
      })),
    ),
  ];
}

/** The alarms, as CloudWatch metric alarms of the component. */
export function createAlarms(
  name: string,
  definitions: readonly AlarmDefinition[],
  topicArn: pulumi.Input<string> | undefined,
  tags: pulumi.Input<{ [key: string]: pulumi.Input<string> }> | undefined,
  parent: pulumi.Resource,
): aws.cloudwatch.MetricAlarm[] {
  const actions = topicArn === undefined ? undefined : [topicArn];
  return definitions.map(
    (d) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${d.suffix}`,
        {
          name: `${name}-${d.suffix}`,
          alarmDescription: d.description,
          namespace: d.namespace,
          metricName: d.metricName,
          dimensions: d.dimensions,
          statistic: d.statistic,
          ...ALARM_SHAPE,
          ...(actions ? { alarmActions: actions, okActions: actions } : {}),
          tags,
        },
        { parent },
      ),
  );
}
