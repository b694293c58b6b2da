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

/** How much of an instance's tasks a poll lists. */
export type Listing =
  /** ECS's counters only (DescribeContainerInstances, shared by up to 100 instances). */
  | "none"
  /** Tasks whose desiredStatus is RUNNING (ListTasks' default), described: what blocks, and the instance's tasks. */
  | "running"
  /** RUNNING and STOPPED-desired tasks, described: a fresh listing that shows every task still stopping. */
  | "full"
  /**
   * STOPPED-desired tasks only, described: the same proof as `full` when ECS's counters already show no task whose
   * desiredStatus is RUNNING.
   */
  | "stopped"
  /**
   * The instance's known tasks, described again (one DescribeTasks shared by 100 tasks of any instances), without
   * ListTasks. Complete once a full listing of a DRAINING instance (RUNNING- and STOPPED-desired tasks) agreed with
   * ECS's counters: ECS places no new task on a DRAINING instance, so every task that can still block is one of them.
   */
  | "known";

export interface InstanceObservation {
  /** The container instance as DescribeContainerInstances showed it in this poll. */
  readonly containerInstance: ContainerInstanceView;
  /** What this poll listed (`none`: nothing). */
  readonly listing: Listing;
  /** The tasks listed and described in this poll, less those already known to be STOPPED. */
  readonly tasks: readonly TaskView[];
  /** Whether the instance's known tasks are all its tasks (see `knownTasksComplete`). */
  readonly knownComplete: boolean;
  /** The drainer's own task, never waited for. */
  readonly ownTaskArn: string | undefined;
  readonly stopStandaloneTasks: boolean;
}

/**
 * Decides what to do with one instance. It is drained only when, in this very poll, ECS's counters show no task whose
 * desiredStatus is RUNNING (the drainer's own task aside) and either a full listing or a description of the complete
 * set of the instance's known tasks shows no task that blocks: nothing running, pending, or still stopping.
 */
export function assessInstance(o: InstanceObservation): Verdict {
  const ci = o.containerInstance;
  if (isGone(ci)) return { kind: "drained" };
  const blocking = o.tasks.filter((t) => blocksDrain(t, o.ownTaskArn));
  const ownHere = o.tasks.some((t) => t.arn === o.ownTaskArn && t.lastStatus !== "STOPPED") ? 1 : 0;
  const counted = ci.runningTasksCount + ci.pendingTasksCount - ownHere;
  const proof =
    o.listing === "full" ||
    (o.listing === "stopped" && counted <= 0 && ownHere === 0) ||
    (o.listing === "known" && o.knownComplete);
  if (proof && blocking.length === 0 && counted <= 0) return { kind: "drained" };
  if (
    o.listing !== "none" &&
    o.stopStandaloneTasks &&
    blocking.length > 0 &&
    blocking.every((t) => !isServiceTask(t)) &&
    blocking.length >= counted
  ) {
    const stop = blocking.filter((t) => t.desiredStatus !== "STOPPED");
    if (stop.length > 0) return { kind: "stop-standalone", blocking, stop };
  }
  return { kind: "wait", blocking };
}

/**
 * Whether a full listing (RUNNING- and STOPPED-desired tasks) holds every task of the instance that can still block:
 * the instance was DRAINING (ECS places no new task on it), and the listing counted as many RUNNING-desired tasks as
 * ECS's counters did. Tasks already stopping are not counted by ECS, which is why the listing must be full.
 */
export function knownTasksComplete(
  ci: ContainerInstanceView,
  listed: readonly TaskView[],
): boolean {
  const desiredRunning = listed.filter((t) => t.desiredStatus === "RUNNING").length;
  return ci.status === "DRAINING" && desiredRunning === ci.runningTasksCount + ci.pendingTasksCount;
}

/** Polls at least between two listings prompted by a change of ECS's counters. */
export const LISTING_EVERY_POLLS = 3;

/**
 * How much of the instance's tasks this poll must list. ECS's counters (shared across instances) suffice while they
 * show tasks that must stop anyway. When they say the instance may be empty, its known tasks are described again if
 * they are complete, and otherwise it is listed in full: only then can a task still stopping be seen. At the
 * deadline it is listed in full, to log exactly what blocks. It is listed in full until its known tasks are
 * complete, and its RUNNING tasks at most every few polls when the counters change, to log what blocks.
 */
export function needsListing(input: {
  readonly first: boolean;
  readonly atDeadline: boolean;
  readonly counts: readonly [number, number];
  /** The counters at the last listing. */
  readonly countsAtListing: readonly [number, number] | undefined;
  readonly pollsSinceListing: number;
  readonly ownTaskMayBeHere: boolean;
  /**
   * The run does not answer for what blocks the instance: a leader's peer, or a follower's own instance (the leader
   * watches it). Its tasks are listed in full only to learn them, while ECS still counts tasks to run on it.
   */
  readonly peer: boolean;
  readonly knownComplete: boolean;
  /** STOP_STANDALONE_TASKS: a peer's tasks are then listed again too, to see when only standalone tasks remain. */
  readonly stopStandaloneTasks: boolean;
}): Listing {
  const [running, pending] = input.counts;
  if (input.atDeadline) return "full";
  if (running + pending <= (input.ownTaskMayBeHere ? 1 : 0)) {
    if (input.knownComplete) return "known";
    return running + pending === 0 ? "stopped" : "full";
  }
  if (!input.knownComplete) return "full";
  if (input.peer && !input.stopStandaloneTasks) return "none";
  if (input.first || input.countsAtListing === undefined) return input.peer ? "none" : "running";
  const changed = running !== input.countsAtListing[0] || pending !== input.countsAtListing[1];
  return changed && input.pollsSinceListing >= LISTING_EVERY_POLLS ? "running" : "none";
}

/** ListTasks calls a listing makes. */
export function listTasksCalls(listing: Listing): number {
  return listing === "full" ? 2 : listing === "running" || listing === "stopped" ? 1 : 0;
}

/** At most this many followers of a group look at ECS in one poll interval. */
export const FOLLOWERS_PER_POLL = 10;

/**
 * Whether an event-mode drainer leads its group. When many instances terminate at once, every one of their drainers
 * would poll ECS; instead the drainer of the waiting instance with the smallest ID serves them all, with shared reads,
 * and the others only heartbeat their own instance and look at it now and then, in case the leader is gone.
 */
export function leadsGroup(ownInstanceId: string, waitingIds: readonly string[]): boolean {
  return waitingIds.every((id) => ownInstanceId <= id);
}

/**
 * For this many poll intervals from its start, a follower looks only at its lifecycle action, never at ECS: the
 * leader sets every waiting instance of the group DRAINING in its first poll, and adopts later ones at its next, so
 * an instance still ACTIVE after that tells of a leader gone. Waiting longer keeps followers' reads out of the
 * leader's way at the start of a scale-in, at the cost of a later drain when the leader is gone.
 */
export const FOLLOWER_QUIET_POLLS = 6;

/** A follower's looks back off, doubling their interval up to this many poll intervals (or its first, if longer). */
export const FOLLOWER_MAX_POLLS = 30;

/** How many poll intervals a follower waits before its second look, so that followers share FOLLOWERS_PER_POLL. */
export function followerPollEvery(waitingCount: number): number {
  return Math.max(1, Math.ceil(waitingCount / FOLLOWERS_PER_POLL));
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
