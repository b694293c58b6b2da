/**
 * What the drainer tells operators besides its log lines' words: CloudWatch metrics, written as Embedded Metric
 * Format (EMF) members of each instance's outcome line. CloudWatch Logs extracts them from the task's awslogs stream;
 * no PutMetricData call and no permission (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
 * CloudWatch_Embedded_Metric_Format_Specification.html; the x-amzn-logs-format header is optional:
 * CloudWatch_Embedded_Metric_Format_Generation_PutLogEvents.html). Pure: no I/O, no clock.
 */
import { DRAINER_METRICS } from "./contract";

/** Whether a run writes metrics: EMIT_METRICS, unless DRY_RUN (a dry run neither changes nor counts anything). */
export function writesMetrics(config: {
  readonly emitMetrics: boolean;
  readonly dryRun: boolean;
}): boolean {
  return config.emitMetrics && !config.dryRun;
}

/** The metrics of one instance's outcome, with their CloudWatch units. */
export const OUTCOME_METRICS = {
  DrainSeconds: "Seconds",
  TasksAtStart: "Count",
  Completed: "Count",
  TimedOut: "Count",
  Failed: "Count",
} as const;

/**
 * The results that are drains, and what each counts as: their metrics and their drain events. Others (already
 * complete, a stale event, interrupted, dry run) are not drains.
 */
const COUNTED: Readonly<Record<string, "Completed" | "TimedOut" | "Failed">> = {
  completed: "Completed",
  "not-in-cluster": "Completed",
  "timed-out": "TimedOut",
  failed: "Failed",
};

/** Whether an outcome's result is a drain: it is counted as a metric and published as an event. */
export function isDrain(result: string): boolean {
  return result in COUNTED;
}

/** What metrics need of an outcome. */
export interface MeasuredOutcome {
  readonly asg: string;
  readonly result: string;
  readonly drainSeconds: number;
  readonly tasksAtStart: number | null;
}

/** The cluster's name, for a dimension: a cluster given by ARN is named by its last part. */
export function clusterDimension(cluster: string): string {
  return cluster.startsWith("arn:") ? cluster.slice(cluster.lastIndexOf("/") + 1) : cluster;
}

/**
 * The members to merge into an outcome's log line so that CloudWatch extracts its metrics, or undefined when the
 * outcome is not a drain that is counted. One each of Completed, TimedOut and Failed is 1, the others 0, so that
 * their Sum over a period counts drains of each kind.
 */
export function outcomeMetrics(
  outcome: MeasuredOutcome,
  cluster: string,
  namespace: string,
  timestampMs: number,
): Record<string, unknown> | undefined {
  const counted = COUNTED[outcome.result];
  if (!counted) return undefined;
  const values: Record<string, number> = {
    DrainSeconds: outcome.drainSeconds,
    Completed: counted === "Completed" ? 1 : 0,
    TimedOut: counted === "TimedOut" ? 1 : 0,
    Failed: counted === "Failed" ? 1 : 0,
  };
  if (outcome.tasksAtStart !== null) values.TasksAtStart = outcome.tasksAtStart;
  const units = Object.fromEntries(
    Object.keys(values).map((name) => [
      name,
      OUTCOME_METRICS[name as keyof typeof OUTCOME_METRICS],
    ]),
  );
  return emf(
    namespace,
    timestampMs,
    { Cluster: clusterDimension(cluster), AutoScalingGroup: outcome.asg },
    units,
    values,
  );
}

/**
 * The members that make a drain first found stuck for `reason` count once: StuckInstances = 1, with dimensions
 * Cluster, AutoScalingGroup and Reason.
 */
export function stuckMetrics(
  asg: string,
  reason: string,
  cluster: string,
  namespace: string,
  timestampMs: number,
): Record<string, unknown> {
  return countOnce(
    "StuckInstances",
    { AutoScalingGroup: asg, Reason: reason },
    cluster,
    namespace,
    timestampMs,
  );
}

/**
 * A held action whose own drainer never started (its launch failed, or came later than a heartbeat interval), which
 * the group's leader took over: OrphanedActions = 1, once per action, with dimensions Cluster and AutoScalingGroup.
 * What looks like success to EventBridge (RunTask answered 200 with failures, a task that never started) shows here.
 */
export function orphanMetrics(
  asg: string,
  cluster: string,
  namespace: string,
  timestampMs: number,
): Record<string, unknown> {
  return countOnce(
    DRAINER_METRICS.orphanedActions,
    { AutoScalingGroup: asg },
    cluster,
    namespace,
    timestampMs,
  );
}

/** One Count metric of 1, over the cluster's dimension and `dimensions`. */
function countOnce(
  name: string,
  dimensions: Record<string, string>,
  cluster: string,
  namespace: string,
  timestampMs: number,
): Record<string, unknown> {
  return emf(
    namespace,
    timestampMs,
    { Cluster: clusterDimension(cluster), ...dimensions },
    { [name]: "Count" },
    { [name]: 1 },
  );
}

/** An Embedded Metric Format document: one directive over these dimensions, and the members it names. */
function emf(
  namespace: string,
  timestampMs: number,
  dimensions: Record<string, string>,
  units: Record<string, string>,
  values: Record<string, number>,
): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dimensions)],
          Metrics: Object.entries(units).map(([Name, Unit]) => ({ Name, Unit })),
        },
      ],
    },
    ...dimensions,
    ...values,
  };
}
