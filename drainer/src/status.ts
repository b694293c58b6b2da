/** `status`: what holds each instance that waits to terminate. Read-only. */
import { AwsPort } from "./aws";
import { HELD_BY_TERMINATE_HOOK } from "./contract";
import { Blockers, summarizeBlockers } from "./decisions";
import { blocksDrain } from "./drain/rules";
import { StuckFinding, classifyStuck, serviceNames } from "./stuck";

export interface StatusRow {
  readonly instanceId: string;
  readonly asg: string;
  readonly lifecycleState: string;
  /** The container instance's ECS status, or NOT_IN_CLUSTER. */
  readonly ecsStatus: string;
  readonly containerInstanceArn: string | null;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  readonly blockers: Blockers;
  /** Why the tasks that block a DRAINING instance are still there (stuck.ts), in ECS's words where it gave them. */
  readonly stuck: StuckFinding[];
}

export async function collectStatus(
  port: AwsPort,
  cluster: string,
  asgs: readonly string[],
): Promise<StatusRow[]> {
  const waiting = (await port.describeGroupInstances(asgs)).filter((i) =>
    (HELD_BY_TERMINATE_HOOK as readonly string[]).includes(i.lifecycleState),
  );
  const located = await Promise.all(
    waiting.map(async (i) => ({
      ...i,
      arn: (await port.findContainerInstances(cluster, i.instanceId))[0],
    })),
  );
  const arns = located.flatMap((l) => (l.arn ? [l.arn] : []));
  const views = new Map(
    (arns.length > 0 ? await port.describeContainerInstances(cluster, arns) : []).map((v) => [
      v.arn,
      v,
    ]),
  );
  return Promise.all(
    located.map(async (l): Promise<StatusRow> => {
      const ci = l.arn ? views.get(l.arn) : undefined;
      let blocking: Parameters<typeof summarizeBlockers>[0] = [];
      if (ci) {
        const [running, stopped] = await Promise.all([
          port.listTasks(cluster, ci.arn, "RUNNING"),
          port.listTasks(cluster, ci.arn, "STOPPED"),
        ]);
        const all = [...new Set([...running, ...stopped])];
        if (all.length > 0) {
          blocking = (await port.describeTasks(cluster, all)).filter((t) =>
            blocksDrain(t, undefined),
          );
        }
      }
      let stuck: StuckFinding[] = [];
      if (ci?.status === "DRAINING" && blocking.length > 0) {
        const names = serviceNames(blocking);
        const services = names.length > 0 ? await port.describeServices(cluster, names) : [];
        stuck = classifyStuck(blocking, new Map(services.map((s) => [s.name, s])));
      }
      return {
        instanceId: l.instanceId,
        asg: l.asg,
        lifecycleState: l.lifecycleState,
        ecsStatus: ci?.status ?? "NOT_IN_CLUSTER",
        containerInstanceArn: ci?.arn ?? null,
        runningTasksCount: ci?.runningTasksCount ?? 0,
        pendingTasksCount: ci?.pendingTasksCount ?? 0,
        blockers: summarizeBlockers(blocking),
        stuck,
      };
    }),
  );
}

/** A plain-text table, one row an instance. */
export function formatStatusTable(rows: readonly StatusRow[]): string {
  if (rows.length === 0) return "No instance is in Terminating:Wait.\n";
  const header = [
    "INSTANCE",
    "GROUP",
    "ECS STATUS",
    "RUNNING",
    "PENDING",
    "STOPPING",
    "BLOCKED BY",
    "WHY",
  ];
  const body = rows.map((r) => [
    r.instanceId,
    r.asg,
    r.ecsStatus,
    String(r.runningTasksCount),
    String(r.pendingTasksCount),
    String(r.blockers.stopping),
    describeBlockers(r.blockers),
    r.stuck.length > 0 ? r.stuck.map((f) => `${f.group} ${f.reason}`).join(", ") : "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(header), ...body.map(line)].join("\n") + "\n";
}

/** `service:web=2, family:nightly=1 (1 standalone)`, or `nothing` for an empty instance. */
export function describeBlockers(b: Blockers): string {
  if (b.total === 0) return "nothing";
  const groups = Object.entries(b.groups)
    .map(([g, n]) => `${g}=${n}`)
    .join(", ");
  return b.standalone > 0 ? `${groups} (${b.standalone} standalone)` : groups;
}
