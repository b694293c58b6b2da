/**
 * The drainer's decisions: pure functions of what AWS said. No I/O, no clock.
 */
import type { ContainerInstanceView, LifecycleHookView, TaskView } from "./aws";
import { ECS_MANAGED_DRAINING_HOOK, LIMITS, TERMINATING_TRANSITION } from "./contract";

/** Container instance states in which ECS still runs (or may start) tasks on the instance. */
const LIVE_STATES = new Set(["ACTIVE", "DRAINING", "REGISTERING"]);

/** True when the container instance is gone from the cluster, so nothing can run on it any more. */
export function isGone(ci: ContainerInstanceView): boolean {
  return !LIVE_STATES.has(ci.status);
}

/** A service task's group is `service:NAME`. Anything else was started by RunTask: a standalone task. */
export function isServiceTask(task: TaskView): boolean {
  return task.group.startsWith("service:");
}

/**
 * A task blocks the drain until ECS reports it STOPPED, whatever its desired status. A task whose desiredStatus is
 * already STOPPED but whose lastStatus is DEACTIVATING, STOPPING or DEPROVISIONING is still shutting down (draining
 * connections, deregistering from a load balancer); `runningTasksCount` does not count it.
 */
export function blocksDrain(task: TaskView, ownTaskArn: string | undefined): boolean {
  return task.lastStatus !== "STOPPED" && task.arn !== ownTaskArn;
}

export function isStopping(task: TaskView): boolean {
  return task.desiredStatus === "STOPPED" && task.lastStatus !== "STOPPED";
}

/** What still holds an instance, in the form logs and `status` show. */
export interface Blockers {
  /** Tasks still on the instance that block the drain. */
  readonly total: number;
  /** Per service or task group (`service:web`, `family:nightly-job`), how many tasks block. */
  readonly groups: Readonly<Record<string, number>>;
  /** How many of them are standalone tasks (not owned by a service). */
  readonly standalone: number;
  /** How many of them are already shutting down (desiredStatus STOPPED, lastStatus not yet STOPPED). */
  readonly stopping: number;
}

export function summarizeBlockers(blocking: readonly TaskView[]): Blockers {
  const groups: Record<string, number> = {};
  for (const t of blocking) {
    const key = t.group || "(no group)";
    groups[key] = (groups[key] ?? 0) + 1;
  }
  const sorted = Object.fromEntries(Object.entries(groups).sort(([a], [b]) => a.localeCompare(b)));
  return {
    total: blocking.length,
    groups: sorted,
    standalone: blocking.filter((t) => !isServiceTask(t)).length,
    stopping: blocking.filter(isStopping).length,
  };
}

/** A stable key for "did what blocks the drain change?", so the drainer logs only changes. */
export function blockersKey(b: Blockers): string {
  return JSON.stringify([b.groups, b.stopping]);
}

export type Verdict =
  /** Nothing runs, starts or stops on the instance any more: complete the lifecycle action. */
  | { readonly kind: "drained" }
  /** Something still blocks: wait and look again. */
  | { readonly kind: "wait"; readonly blocking: readonly TaskView[] }
  /** Only standalone tasks remain and the user asked the drainer to stop them. */
  | {
      readonly kind: "stop-standalone";
      readonly blocking: readonly TaskView[];
      readonly stop: readonly TaskView[];
    };

export interface InstanceObservation {
  /** The container instance as DescribeContainerInstances showed it in this poll. */
  readonly containerInstance: ContainerInstanceView;
  /**
   * Every task ListTasks gave for the instance (desiredStatus RUNNING and STOPPED) in this poll, described, less those
   * already known to be STOPPED. Undefined when this poll did not list the instance's tasks.
   */
  readonly tasks: readonly TaskView[] | undefined;
  /** The drainer's own task, never waited for. */
  readonly ownTaskArn: string | undefined;
  readonly stopStandaloneTasks: boolean;
}

/**
 * Decides what to do with one instance. It is drained only when a full listing in this very poll shows no task that
 * blocks, and ECS's own counters agree (they count tasks whose desiredStatus is RUNNING, including the drainer's own
 * task when it runs there). Without a listing in this poll, it never says drained.
 */
export function assessInstance(o: InstanceObservation): Verdict {
  const ci = o.containerInstance;
  if (isGone(ci)) return { kind: "drained" };
  if (o.tasks === undefined) return { kind: "wait", blocking: [] };
  const blocking = o.tasks.filter((t) => blocksDrain(t, o.ownTaskArn));
  const ownHere = o.tasks.some((t) => t.arn === o.ownTaskArn && t.lastStatus !== "STOPPED") ? 1 : 0;
  const counted = ci.runningTasksCount + ci.pendingTasksCount - ownHere;
  if (blocking.length === 0 && counted <= 0) return { kind: "drained" };
  if (blocking.length === 0) {
    // ECS counts a task the listing did not show yet: wait for the two to agree rather than guess.
    return { kind: "wait", blocking: [] };
  }
  if (o.stopStandaloneTasks && blocking.every((t) => !isServiceTask(t))) {
    const stop = blocking.filter((t) => t.desiredStatus !== "STOPPED");
    if (stop.length > 0) return { kind: "stop-standalone", blocking, stop };
  }
  return { kind: "wait", blocking };
}

/**
 * Whether this poll must list the instance's tasks (ListTasks + DescribeTasks), or whether ECS's counters suffice.
 * Listing is needed when the counters changed (something started, stopped or began stopping), when they say the
 * instance may be empty (only a listing can prove no task is still stopping), when tasks were shutting down at the
 * last listing (to see them finish), and at the first poll and the deadline (to log what blocks).
 */
export function needsListing(input: {
  readonly first: boolean;
  readonly atDeadline: boolean;
  readonly counts: readonly [number, number];
  readonly lastCounts: readonly [number, number] | undefined;
  readonly ownTaskMayBeHere: boolean;
  readonly lastBlockers: Blockers | undefined;
  readonly stopStandaloneTasks: boolean;
}): boolean {
  const [running, pending] = input.counts;
  if (input.first || input.atDeadline || input.lastCounts === undefined) return true;
  if (running !== input.lastCounts[0] || pending !== input.lastCounts[1]) return true;
  if (running + pending <= (input.ownTaskMayBeHere ? 1 : 0)) return true;
  const last = input.lastBlockers;
  if (last && last.stopping > 0) return true;
  if (input.stopStandaloneTasks && last && last.total > 0 && last.standalone === last.total)
    return true;
  return false;
}

/** The hook's settings that bound the drain, and a warning when another drainer is acting too. */
export interface HookPlan {
  readonly heartbeatIntervalSeconds: number;
  /** How long the drain may wait: DRAIN_TIMEOUT_SECONDS, kept inside the hook's global timeout. */
  readonly deadlineSeconds: number;
  readonly warnings: readonly string[];
}

/**
 * Plans heartbeats and the deadline from the hook AWS reports. The heartbeat comes at half the hook's
 * HeartbeatTimeout by default (a heartbeat restarts that timeout), and the deadline stays inside the action's global
 * limit, min(48 h, 100 x HeartbeatTimeout), with a margin of one heartbeat timeout so that the drainer, not the
 * hook's default result, decides what happens at the end.
 */
export function planHook(input: {
  readonly hookName: string;
  readonly hooks: readonly LifecycleHookView[];
  readonly heartbeatIntervalSeconds: number | undefined;
  readonly drainTimeoutSeconds: number;
}): HookPlan {
  const warnings: string[] = [];
  const hook = input.hooks.find((h) => h.name === input.hookName);
  if (input.hooks.some((h) => h.name === ECS_MANAGED_DRAINING_HOOK && h.name !== input.hookName)) {
    warnings.push(
      `the group also has ${ECS_MANAGED_DRAINING_HOOK} (ECS managed draining): two drainers are acting on this instance; turn one of them off`,
    );
  }
  if (!hook) {
    warnings.push(
      `lifecycle hook ${input.hookName} was not found on the group; assuming the shortest heartbeat timeout (${LIMITS.heartbeatTimeoutMin} s)`,
    );
  } else if (hook.transition !== TERMINATING_TRANSITION) {
    warnings.push(
      `lifecycle hook ${input.hookName} is for ${hook.transition}, not ${TERMINATING_TRANSITION}`,
    );
  }
  const timeout = hook?.heartbeatTimeout ?? LIMITS.heartbeatTimeoutMin;
  const globalLimit =
    hook && hook.globalTimeout > 0
      ? hook.globalTimeout
      : Math.min(LIMITS.globalTimeoutMaxSeconds, LIMITS.globalTimeoutHeartbeatFactor * timeout);
  let heartbeat = input.heartbeatIntervalSeconds ?? timeout / 2;
  if (heartbeat >= timeout) {
    warnings.push(
      `HEARTBEAT_INTERVAL_SECONDS (${heartbeat}) is not shorter than the hook's heartbeat timeout (${timeout} s); using ${timeout / 2}`,
    );
    heartbeat = timeout / 2;
  }
  const ceiling = Math.max(globalLimit - timeout, heartbeat);
  let deadline = input.drainTimeoutSeconds;
  if (deadline > ceiling) {
    warnings.push(
      `DRAIN_TIMEOUT_SECONDS (${deadline}) exceeds what the hook allows (global timeout ${globalLimit} s less one heartbeat timeout); using ${ceiling}`,
    );
    deadline = ceiling;
  }
  return { heartbeatIntervalSeconds: heartbeat, deadlineSeconds: deadline, warnings };
}

/** Instances a sweep handles: those held by a terminate hook right now. */
export function waitingInstances<T extends { lifecycleState: string }>(
  instances: readonly T[],
): T[] {
  return instances.filter((i) => i.lifecycleState === "Terminating:Wait");
}

/**
 * What an event-mode drainer makes of the instance's Auto Scaling state before it starts: proceed while the
 * instance is terminating and held; otherwise the action is already over (or the event is stale).
 */
export function eventPrecheck(
  state: string | undefined,
): "proceed" | "already-complete" | "not-terminating" {
  if (state === undefined) return "already-complete";
  if (state === "Terminating" || state === "Terminating:Wait") return "proceed";
  if (state.startsWith("Terminating") || state === "Terminated") return "already-complete";
  return "not-terminating";
}
