/**
 * What blocks an instance's drain, and why: which tasks hold it (service or standalone, stopping or not), their
 * summary in the form logs and `status` show, and why a drain is stuck, in ECS's own words where ECS said it (the
 * services the blocking tasks belong to, from DescribeServices). Shared by the drain and by `status`. Pure: no I/O,
 * no clock.
 *
 * It never decides anything about a drain: only drain/rules.ts does. It explains a wait.
 */
import type { ServiceView, TaskView } from "./aws";

/** A service task's group is `service:NAME`. Anything else was started by RunTask: a standalone task. */
export const SERVICE_GROUP_PREFIX = "service:";

/** The service a task group names (`service:web` is `web`), or undefined for a standalone task's group. */
export function serviceOfGroup(group: string): string | undefined {
  return group.startsWith(SERVICE_GROUP_PREFIX)
    ? group.slice(SERVICE_GROUP_PREFIX.length)
    : undefined;
}

export function isServiceTask(task: TaskView): boolean {
  return serviceOfGroup(task.group) !== undefined;
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

export enum StuckReason {
  /** ECS's latest word on the service: it was unable to place a replacement task (CPU, memory, ports, constraints). */
  CannotPlace = "cannot-place",
  /** minimumHealthyPercent 100 with maximumPercent 100: no task may stop before its replacement runs, and none start. */
  CannotProgress = "cannot-progress",
  /** The service's replacements fail to start or fail their health checks. */
  ReplacementsUnhealthy = "replacements-unhealthy",
  /** Tasks no service owns (RunTask): DRAINING never stops them. */
  Standalone = "standalone",
  /** A daemon service's task: ECS stops it last, after the instance's other tasks. */
  Daemon = "daemon",
  /** Tasks already stopping (DEACTIVATING for load-balancer deregistration, STOPPING for stopTimeout). */
  ShuttingDown = "shutting-down",
}

export interface StuckFinding {
  readonly reason: StuckReason;
  /** The task group held on the instance: `service:web`, `family:nightly`. */
  readonly group: string;
  readonly tasks: number;
  /** ECS's own message where there is one (a service event), else what the drainer sees. */
  readonly detail: string;
}

/** ECS service event messages that say a task could not be placed (ECS developer guide, service event messages). */
const CANNOT_PLACE = /was unable to place a task/i;
/** ...and that say its tasks fail to start or to stay healthy. */
const UNHEALTHY =
  /failed container health checks|failed ELB health checks|is unhealthy in|unable to consistently start tasks|failed to start/i;

/**
 * The services named by task groups (`service:NAME`) of tasks or findings, each once, sorted: the services to read
 * for tasks, the blocking services of a drain event for findings. A daemon finding names none: ECS stops a daemon's
 * task last, after the instance's other tasks, so a daemon never holds a drain by itself and there is nothing to
 * do about it.
 */
export function serviceNames(
  items: readonly { readonly group: string; readonly reason?: StuckReason }[],
): string[] {
  return [
    ...new Set(
      items
        .filter((t) => t.reason !== StuckReason.Daemon)
        .map((t) => serviceOfGroup(t.group))
        .filter((name) => name !== undefined),
    ),
  ].sort();
}

/**
 * Where a drain stands against its deadline, for the paging rule. Without it (as in `status`, which cannot know when
 * the hook began to hold an instance) a standalone task counts as progress.
 */
export interface DrainClock {
  /** Seconds left until the drain's deadline. */
  readonly secondsLeft: number;
  readonly drainTimeoutSeconds: number;
  readonly pollIntervalSeconds: number;
}

/** The share of DRAIN_TIMEOUT left at which a standalone task still running stops being progress. */
export const STANDALONE_PAGE_SHARE_LEFT = 0.25;
/** ...and at least this many poll intervals before the deadline. */
export const STANDALONE_PAGE_POLLS_LEFT = 3;

/** Seconds before the deadline from which a standalone task still running needs an operator. */
export function standaloneMarginSeconds(clock: Omit<DrainClock, "secondsLeft">): number {
  return Math.max(
    clock.drainTimeoutSeconds * STANDALONE_PAGE_SHARE_LEFT,
    clock.pollIntervalSeconds * STANDALONE_PAGE_POLLS_LEFT,
  );
}

/**
 * The paging rule: whether a finding is progress, which ends by itself, rather than something an operator must act
 * on. Only what needs an operator is a stuck event and a StuckInstances metric; progress is told at info.
 * - A daemon task waits its turn (ECS stops it last): progress.
 * - Tasks already shutting down (load-balancer deregistration, stopTimeout) end by themselves: progress.
 * - A standalone task (a job started by RunTask) ends in its own time, which the drainer cannot know; its time is
 *   taken to be the drain's own: it is progress until STANDALONE_PAGE_SHARE_LEFT of DRAIN_TIMEOUT (and at least
 *   STANDALONE_PAGE_POLLS_LEFT polls) is left before the deadline. Still running then, it pages, leaving that time to
 *   act (let it finish, stop it, or let TIMEOUT_RESULT decide) before the deadline ends the drain over it.
 * - Everything else (cannot place, cannot progress, unhealthy replacements) does not end by itself: it pages.
 */
export function isProgress(f: StuckFinding, clock?: DrainClock): boolean {
  switch (f.reason) {
    case StuckReason.Daemon:
    case StuckReason.ShuttingDown:
      return true;
    case StuckReason.Standalone:
      return clock === undefined || clock.secondsLeft > standaloneMarginSeconds(clock);
    default:
      return false;
  }
}

/** The findings an operator must act on (the paging rule, `isProgress`). */
export function needsOperator(
  findings: readonly StuckFinding[],
  clock?: DrainClock,
): StuckFinding[] {
  return findings.filter((f) => !isProgress(f, clock));
}

/**
 * What holds each group of tasks that blocks the instance. A service whose description is not known yet gives no
 * finding (the drainer reads services only after a few polls); a service still progressing gives none either.
 */
export function classifyStuck(
  blocking: readonly TaskView[],
  services: ReadonlyMap<string, ServiceView>,
): StuckFinding[] {
  const byGroup = new Map<string, TaskView[]>();
  for (const t of blocking) byGroup.set(t.group, [...(byGroup.get(t.group) ?? []), t]);
  const standaloneRunning = blocking.some((t) => !isServiceTask(t) && !isStopping(t));
  const findings: StuckFinding[] = [];
  for (const [group, tasks] of [...byGroup].sort(([a], [b]) => a.localeCompare(b))) {
    const stopping = tasks.filter(isStopping);
    if (stopping.length > 0) {
      const states = [...new Set(stopping.map((t) => t.lastStatus))].sort();
      findings.push({
        reason: StuckReason.ShuttingDown,
        group,
        tasks: stopping.length,
        detail: `already stopping (${states
          .map((s) => `${stopping.filter((t) => t.lastStatus === s).length} ${s}`)
          .join(
            ", ",
          )}): DEACTIVATING waits for load-balancer deregistration, STOPPING for the container's stopTimeout`,
      });
    }
    const running = tasks.filter((t) => !isStopping(t));
    if (running.length === 0) continue;
    const finding = (reason: StuckReason, detail: string) =>
      findings.push({ reason, group, tasks: running.length, detail });
    const serviceName = serviceOfGroup(group);
    if (serviceName === undefined) {
      finding(
        StuckReason.Standalone,
        "started outside a service (RunTask): DRAINING never stops it; it ends by itself, or STOP_STANDALONE_TASKS stops it once only standalone tasks remain",
      );
      continue;
    }
    const service = services.get(serviceName);
    if (!service) continue;
    const latest = service.events[0]?.message ?? "";
    if (service.schedulingStrategy === "DAEMON") {
      finding(
        StuckReason.Daemon,
        `a daemon service: ECS stops its task last, after the instance's other tasks${standaloneRunning ? "; standalone tasks still run beside it" : ""}`,
      );
    } else if (CANNOT_PLACE.test(latest)) {
      finding(StuckReason.CannotPlace, latest);
    } else if (
      (service.minimumHealthyPercent ?? 100) >= 100 &&
      (service.maximumPercent ?? 200) <= 100
    ) {
      finding(
        StuckReason.CannotProgress,
        `minimumHealthyPercent ${service.minimumHealthyPercent ?? 100} and maximumPercent ${service.maximumPercent}: ECS may neither stop a task before its replacement runs nor start a replacement beside it; lower minimumHealthyPercent or raise maximumPercent`,
      );
    } else if (UNHEALTHY.test(latest)) {
      finding(StuckReason.ReplacementsUnhealthy, latest);
    } else if (service.failedTasks > 0) {
      finding(
        StuckReason.ReplacementsUnhealthy,
        `${service.failedTasks} task(s) of the service's current deployment failed to start or to stay healthy`,
      );
    }
  }
  return findings;
}

/** A stable key for "did the reasons change?", so that they are logged when they change only. */
export function stuckKey(findings: readonly StuckFinding[]): string {
  return JSON.stringify(findings.map((f) => [f.reason, f.group]));
}

/** One line of text for logs and `status`: `service:web cannot-place (ECS: ...)`. */
export function describeStuck(findings: readonly StuckFinding[]): string {
  return findings.map((f) => `${f.group} ${f.reason}: ${f.detail}`).join("; ");
}
