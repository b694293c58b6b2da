/**
 * The drainer's safety rules. Everything else in drain/ (roles, pacing, shared reads, when to look) is an optimisation
 * that decides *when* the drainer looks; these decide *what it concludes*. Each rule has a test named after it
 * (test/drainer/drain/rules.test.ts) and is checked over random fault schedules (test/drainer/drain/properties.test.ts).
 *
 * 1. Completion. An instance is completed as drained only when one poll that began after this drainer saw the
 *    container instance DRAINING shows ECS's counters at 0, and a fresh full listing of the instance (RUNNING- and
 *    STOPPED-desired tasks, described) shows no task that is not STOPPED (the drainer's own task aside). This holds
 *    for every container instance registered for the EC2 instance. No other path completes a drained instance,
 *    whatever the role. An EC2 instance with no live registration in the cluster is completed at once.
 * 2. Heartbeats. Every held action of a group is answered for by whichever drainer leads it (roles.ts), whether or
 *    not the action's own drainer launched. The drainer that answers for an action heartbeats it as soon as it starts
 *    (a leader: as soon as it takes the action on), before it locates anything, and then every interval. Each heartbeat call has its own timeout and never waits for another. A failed
 *    heartbeat is retried; only "No active Lifecycle Action" ends them.
 * 3. Deadline. The drainer that answers for an action enforces its deadline, whatever its role: at the deadline it
 *    logs what blocks and completes with TIMEOUT_RESULT, on a timer of its own, even while ECS fails or a request hangs.
 * 4. Persistence. An AWS failure never makes the drainer give up an instance before its deadline. Only a permanent
 *    error (access denied, a cluster, group or hook that does not exist) ends a run early, with exit code 1.
 * 5. Bounded calls. Every AWS request has a timeout (REQUEST_TIMEOUT_SECONDS), after which the SDK retries it.
 * 6. Every terminate path. Instances held in Terminating:Wait and ReplacingRootVolume:Wait are drained;
 *    Warmed:Terminating:Wait is completed once drained (at once when it is not registered in the cluster).
 * 7. Prompt start, no pile-up. Every drainer sets its own instance DRAINING at its first look; a drainer that finds
 *    a live leader of its group leaves, and a sweep that finds one exits at once.
 *
 * Pure functions only: no I/O, no clock.
 */
import type { ContainerInstanceView, TaskView } from "../aws";
import { HELD_BY_TERMINATE_HOOK } from "../contract";

/** Container instance states in which ECS still runs (or may start) tasks on the instance. */
const LIVE_STATES = new Set(["ACTIVE", "DRAINING", "REGISTERING"]);

/** True when the registration is gone from the cluster, so nothing can run on it any more. */
export function isGone(ci: ContainerInstanceView): boolean {
  return !LIVE_STATES.has(ci.status);
}

/** A task blocks the drain until ECS reports it STOPPED, whatever its desired status (the drainer's own aside). */
export function blocksDrain(task: TaskView, ownTaskArn: string | undefined): boolean {
  return task.lastStatus !== "STOPPED" && task.arn !== ownTaskArn;
}

/** One container instance registered for the EC2 instance, as this poll saw it. */
export interface RegistrationInPoll extends RegistrationSeen {
  /**
   * The tasks of a fresh full listing made in this poll, after the view was read: ListTasks with desiredStatus
   * RUNNING and with STOPPED, every listed task described. Undefined when this poll did not list it.
   */
  readonly listed: readonly TaskView[] | undefined;
}

/** A registration as the drainer last saw it: its view, and when it first saw it DRAINING (undefined if never). */
export interface RegistrationSeen {
  readonly view: ContainerInstanceView;
  readonly drainingSeenAt: number | undefined;
}

/** Rule 1's first condition for one registration: DRAINING, and seen so by this drainer before `before`. */
export function seenDrainingBefore(r: RegistrationSeen, before: number): boolean {
  return (
    r.view.status === "DRAINING" && r.drainingSeenAt !== undefined && r.drainingSeenAt < before
  );
}

/** ECS's count of tasks to run (running and pending) on the registrations. */
export function countedToRun(views: readonly ContainerInstanceView[]): number {
  return views.reduce((n, v) => n + v.runningTasksCount + v.pendingTasksCount, 0);
}

/**
 * Whether an instance may be drained, before any listing: every live registration seen DRAINING before `before`,
 * and ECS counting no task to run on them but the drainer's own (`ownTasks`, 0 or 1). It decides only that the poll
 * looks closer; `proveDrained`, with a fresh full listing, decides that the instance is drained.
 */
export function mayBeDrained(
  registrations: readonly RegistrationSeen[],
  before: number,
  ownTasks: number,
): boolean {
  const live = registrations.filter((r) => !isGone(r.view));
  return (
    live.every((r) => seenDrainingBefore(r, before)) &&
    countedToRun(live.map((r) => r.view)) <= ownTasks
  );
}

export type Proof =
  | { readonly drained: true }
  | { readonly drained: false; readonly why: string; readonly blocking: readonly TaskView[] };

/**
 * Rule 1, completion: whether this poll proves the EC2 instance drained. `pollStartedAt` is when the poll began, on
 * the same clock as `drainingSeenAt`.
 */
export function proveDrained(input: {
  readonly pollStartedAt: number;
  readonly registrations: readonly RegistrationInPoll[];
  readonly ownTaskArn: string | undefined;
}): Proof {
  const blocking: TaskView[] = [];
  let why: string | undefined;
  for (const r of input.registrations) {
    if (isGone(r.view)) continue;
    if (r.view.status !== "DRAINING") {
      why ??= `container instance ${r.view.arn} is ${r.view.status}, not DRAINING`;
      continue;
    }
    if (!seenDrainingBefore(r, input.pollStartedAt)) {
      why ??= "the poll began before this drainer saw the container instance DRAINING";
      continue;
    }
    if (r.listed === undefined) {
      why ??= "no fresh full listing of its tasks in this poll";
      continue;
    }
    const own = r.listed.some((t) => t.arn === input.ownTaskArn && t.lastStatus !== "STOPPED");
    const counted = countedToRun([r.view]) - (own ? 1 : 0);
    if (counted > 0) why ??= `ECS counts ${counted} task(s) to run on it`;
    blocking.push(...r.listed.filter((t) => blocksDrain(t, input.ownTaskArn)));
  }
  if (blocking.length > 0) why ??= `${blocking.length} task(s) not STOPPED`;
  return why === undefined ? { drained: true } : { drained: false, why, blocking };
}

/** Rule 1's last sentence: an EC2 instance none of whose registrations is live can run nothing: complete at once. */
export function hasLiveRegistration(views: readonly ContainerInstanceView[]): boolean {
  return views.some((v) => !isGone(v));
}

/** What the drainer does with an instance, from its Auto Scaling lifecycle state (rule 6). */
export type TerminatePath =
  /** Held by the terminate hook: drain it, then complete its action. */
  | "drain"
  /** Not held, and past it (terminating, terminated, or unknown to Auto Scaling): the action is over. */
  | "over"
  /** Not terminating at all (InService, Pending, ...): the event is stale. */
  | "not-held";

export function terminatePath(lifecycleState: string | undefined): TerminatePath {
  if (lifecycleState === undefined) return "over";
  if ((HELD_BY_TERMINATE_HOOK as readonly string[]).includes(lifecycleState)) return "drain";
  // About to be held: the hook's wait state follows.
  if (["Terminating", "ReplacingRootVolume", "Warmed:Terminating"].includes(lifecycleState)) {
    return "drain";
  }
  if (/Terminat|RootVolumeReplaced|ReplacingRootVolume:Proceed/.test(lifecycleState)) {
    return "over";
  }
  return "not-held";
}

/** Errors no retry will fix: the drainer's permissions, or a cluster, group or hook that does not exist. */
const PERMANENT_NAMES = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "ClusterNotFoundException",
]);

/**
 * Rule 4: whether an AWS error is permanent. Everything else (throttling, 5xx, time-outs, a connection reset, a
 * transient validation error) is retried until the deadline. Auto Scaling answers a missing group or hook with a
 * ValidationError; "No active Lifecycle Action" is not an error for the drainer (the action is over).
 */
export function isPermanent(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  if (!e?.name) return false;
  if (PERMANENT_NAMES.has(e.name)) return true;
  if (e.name === "ValidationError") {
    return /lifecycle hook .*not found|no lifecycle hook|group name not found|autoscalinggroup name not found/i.test(
      e.message ?? "",
    );
  }
  return false;
}

/** What to tell the operator about a permanent error: the fix. */
export function permanentFix(err: unknown): string {
  const name = (err as { name?: string } | undefined)?.name ?? "";
  if (name === "ClusterNotFoundException")
    return "check ECS_CLUSTER: no such cluster in this account and region";
  if (name === "ValidationError") {
    return "check AUTOSCALING_GROUP_NAME(S) and LIFECYCLE_HOOK_NAME: the group or its hook does not exist";
  }
  return "check the task role's policy (the one the Pulumi component or Terraform module creates) and that it is attached to the drainer's task";
}
