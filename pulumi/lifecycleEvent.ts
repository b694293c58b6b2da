/**
 * How a lifecycle event becomes a drainer task, as pure functions of plain values: the rule's event pattern, the
 * target's input transformer, and the container's static environment. All of it comes from the drainer's contract.
 */
import {
  DRAINER_CONTAINER_NAME,
  EVENT_ENVIRONMENT,
  LIFECYCLE_EVENT,
  LifecycleResult,
} from "../drainer/src/contract";
import type { DrainerEnvironmentVariable } from "./drainerTask";

/** An EventBridge event pattern that matches exact values. */
export interface LifecycleEventPattern {
  source: string[];
  "detail-type": string[];
  detail: { AutoScalingGroupName: string[]; LifecycleHookName: string[] };
}

/** The pattern of one group's rule: that group's terminate lifecycle actions, for that hook only. */
export function lifecycleEventPattern(
  autoscalingGroupName: string,
  hookName: string,
): LifecycleEventPattern {
  return {
    source: [LIFECYCLE_EVENT.source],
    "detail-type": [LIFECYCLE_EVENT.detailType],
    detail: { AutoScalingGroupName: [autoscalingGroupName], LifecycleHookName: [hookName] },
  };
}

/** An EventBridge input transformer. */
export interface InputTransformer {
  /** Placeholder name -> JSON path in the event. */
  inputPaths: Record<string, string>;
  /** The text EventBridge sends, with `<placeholder>`s. */
  inputTemplate: string;
}

/**
 * The ECS target's input transformer: a RunTask TaskOverride that sets, on the drainer's container, each setting of
 * EVENT_ENVIRONMENT from its path in the event. Placeholders stay unquoted: EventBridge quotes string values itself.
 * Only these event fields reach the drainer; free text (NotificationMetadata) never does, since values are not escaped.
 */
export function drainerInputTransformer(): InputTransformer {
  const inputPaths = Object.fromEntries(EVENT_ENVIRONMENT.map((e) => [e.placeholder, e.path]));
  const environment = EVENT_ENVIRONMENT.map(
    (e) => `{"name":${JSON.stringify(e.env)},"value":<${e.placeholder}>}`,
  ).join(",");
  const inputTemplate = `{"containerOverrides":[{"name":${JSON.stringify(DRAINER_CONTAINER_NAME)},"environment":[${environment}]}]}`;
  return { inputPaths, inputTemplate };
}

/** The drainer's settings as the component holds them, resolved to plain values. */
export interface DrainerSettings {
  readonly cluster: string;
  readonly hookName: string;
  readonly autoscalingGroupNames: readonly string[];
  readonly pollIntervalSeconds: number;
  readonly ecsReadsPerSecond: number;
  readonly requestTimeoutSeconds: number;
  readonly drainTimeoutSeconds: number;
  readonly timeoutResult: LifecycleResult;
  readonly stopStandaloneTasks: boolean;
  readonly emitMetrics: boolean;
  readonly metricsNamespace: string;
  readonly publishEvents: boolean;
}

/**
 * The drainer container's static environment. With AUTOSCALING_GROUP_NAMES set and no EC2_INSTANCE_ID, a task
 * started without overrides (the sweep) sweeps every group; a task started by a lifecycle event gets
 * EC2_INSTANCE_ID and the rest from the input transformer and drains that one instance.
 */
export function drainerEnvironment(settings: DrainerSettings): DrainerEnvironmentVariable[] {
  return [
    { name: "ECS_CLUSTER", value: settings.cluster },
    { name: "LIFECYCLE_HOOK_NAME", value: settings.hookName },
    { name: "AUTOSCALING_GROUP_NAMES", value: settings.autoscalingGroupNames.join(",") },
    { name: "POLL_INTERVAL_SECONDS", value: String(settings.pollIntervalSeconds) },
    { name: "ECS_READS_PER_SECOND", value: String(settings.ecsReadsPerSecond) },
    { name: "REQUEST_TIMEOUT_SECONDS", value: String(settings.requestTimeoutSeconds) },
    { name: "DRAIN_TIMEOUT_SECONDS", value: String(settings.drainTimeoutSeconds) },
    { name: "TIMEOUT_RESULT", value: settings.timeoutResult },
    { name: "STOP_STANDALONE_TASKS", value: String(settings.stopStandaloneTasks) },
    { name: "EMIT_METRICS", value: String(settings.emitMetrics) },
    { name: "METRICS_NAMESPACE", value: settings.metricsNamespace },
    { name: "PUBLISH_EVENTS", value: String(settings.publishEvents) },
  ];
}
