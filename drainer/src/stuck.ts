/**
 * Why a drain is stuck, in ECS's own words where ECS said it. Pure: it reads the tasks that block a DRAINING instance
 * and the services they belong to (DescribeServices), and names, per task group, what holds it. No I/O, no clock.
 *
 * It never decides anything about a drain: only rules.ts does. It explains a wait.
 */
import type { ServiceView, TaskView } from "./aws";
import { isServiceTask, isStopping } from "./decisions";

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

/** The services named by task groups (`service:NAME`) of tasks or findings, each once, sorted. */
export function serviceNames(items: readonly { readonly group: string }[]): string[] {
  const prefix = "service:";
  return [
    ...new Set(
      items.filter((t) => t.group.startsWith(prefix)).map((t) => t.group.slice(prefix.length)),
    ),
  ].sort();
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
    if (!group.startsWith("service:")) {
      finding(
        StuckReason.Standalone,
        "started outside a service (RunTask): DRAINING never stops it; it ends by itself, or STOP_STANDALONE_TASKS stops it once only standalone tasks remain",
      );
      continue;
    }
    const service = services.get(group.slice("service:".length));
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
