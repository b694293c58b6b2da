/**
 * `status`, the operator's first command: for every instance the terminate hook holds (or its group retained), what
 * holds it, whether a drainer answers for it, and the next command to run. Read-only.
 *
 * What it can and cannot know, with the drainer's declared actions only (no action is added for it):
 * - every container-instance registration of the instance (an agent that lost its state registers again), each with
 *   what blocks it;
 * - whether a drainer answers: a RUNNING task of the drainer's task definition family in the cluster (the oldest one
 *   leads every group of its AUTOSCALING_GROUP_NAMES);
 * - when the hook began to hold the instance: Auto Scaling gives no timestamp with a lifecycle state, and the scaling
 *   activity that says it (DescribeScalingActivities) is not one of the drainer's actions, so `heldSince` is unknown
 *   and the deadline is given relative to it. The next command says where to read it.
 */
import type { AwsPort, ContainerInstanceView, LifecycleHookView, TaskView } from "./aws";
import {
  ECS_MANAGED_DRAINING_HOOK,
  HELD_BY_TERMINATE_HOOK,
  TERMINATING_TRANSITION,
} from "./contract";
import { Blockers, summarizeBlockers } from "./decisions";
import { drainerTask, leaderOf } from "./drain/roles";
import { blocksDrain, isPermanent } from "./drain/rules";
import { StuckFinding, classifyStuck, needsOperator, serviceNames } from "./stuck";

/** The states in which a group keeps an instance whose terminate hook was abandoned (instance retention). */
export const RETAINED_STATES = ["Terminating:Retained"] as const;

/** The drainer's task definition family when `--family` is not given. */
export const DEFAULT_FAMILY = "ecs-scale-in-drainer";

export interface StatusQuery {
  readonly cluster: string;
  readonly asgs: readonly string[];
  /** The drainer's task definition family: its RUNNING tasks answer for the groups. */
  readonly family: string;
  /** DRAIN_TIMEOUT_SECONDS of the deployment: how long after the hook began to hold an instance a drain may wait. */
  readonly drainTimeoutSeconds: number;
  /** The drainer's lifecycle hook, when the operator named it; otherwise each group's terminate hook. */
  readonly hook?: string;
}

/** One container-instance registration of an instance. */
export interface RegistrationRow {
  readonly arn: string;
  /** ACTIVE, DRAINING, ...; MISSING when ECS no longer knows it. */
  readonly status: string;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  readonly blockers: Blockers;
}

/** The drainers of the family running in the cluster. */
export interface DrainerAnswer {
  readonly family: string;
  /** RUNNING tasks of the family (the sweep's and the events' alike). */
  readonly running: number;
  /** Tasks of the family still starting (PENDING, PROVISIONING...). */
  readonly starting: number;
  /** The oldest RUNNING one, which leads every group of its AUTOSCALING_GROUP_NAMES. */
  readonly leader: { readonly taskArn: string; readonly since: string | null } | null;
}

export interface StatusRow {
  readonly instanceId: string;
  readonly asg: string;
  readonly lifecycleState: string;
  /** `hook`: the terminate hook holds it; `retained`: the group kept it after an abandoned hook. */
  readonly held: "hook" | "retained";
  /** The registrations' statuses, `+`-joined (ACTIVE+DRAINING), or NOT_IN_CLUSTER when it has none. */
  readonly ecsStatus: string;
  /** Every registration of the instance in the cluster. */
  readonly registrations: readonly RegistrationRow[];
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  /** What blocks a drain, over every registration. */
  readonly blockers: Blockers;
  /** Why the tasks that block a DRAINING instance are still there (stuck.ts), in ECS's words where it gave them. */
  readonly stuck: readonly StuckFinding[];
  /** When the hook began to hold it: unknown (see the module's comment), so always null for now. */
  readonly heldSince: string | null;
  /** The drain's deadline: an ISO time when held-since is known, else relative to it (`held since + 3600 s`). */
  readonly deadline: string;
  /** The group's hooks' own end: Auto Scaling ends the action by itself after the hook's global timeout. */
  readonly hookLimit: string | null;
  /** Whether a drainer of the family runs in the cluster to answer for it (not for a retained instance). */
  readonly answered: boolean;
  /** What blocks it, in a few words. */
  readonly blockedBy: string;
  /** The next thing to do: `wait ...`, or a command. */
  readonly next: string;
}

export interface StatusReport {
  readonly cluster: string;
  readonly asgs: readonly string[];
  readonly drainer: DrainerAnswer;
  readonly instances: readonly StatusRow[];
}

/** A cluster or group the operator named that does not exist: `status` names each and exits non-zero. */
export class UnknownTargetError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "UnknownTargetError";
  }
}

export async function collectStatus(port: AwsPort, q: StatusQuery): Promise<StatusReport> {
  // ListTasks answers ClusterNotFoundException for a cluster that does not exist, whatever else it finds: this call
  // checks the cluster as well as finding the drainers.
  let familyArns: string[];
  try {
    familyArns = await port.listFamilyTasks(q.cluster, q.family);
  } catch (err) {
    if ((err as { name?: string }).name === "ClusterNotFoundException") {
      throw new UnknownTargetError([
        `cluster "${q.cluster}": not found (ClusterNotFoundException): check --cluster (a name or ARN, in this account and region)`,
      ]);
    }
    throw err;
  }
  const [drainerTasks, instances, hooks] = await Promise.all([
    familyArns.length > 0 ? port.describeTasks(q.cluster, familyArns) : Promise.resolve([]),
    port.describeGroupInstances(q.asgs),
    Promise.all(q.asgs.map((asg) => groupHooks(port, asg))),
  ]);
  const hooksOf = new Map(q.asgs.map((asg, i) => [asg, hooks[i]]));
  const unknown = q.asgs.filter((asg) => {
    const h = hooksOf.get(asg);
    // An empty group that runs the drainer still has its hook: no instance and no hook is no group of this drainer.
    return h === "not-found" || (h?.length === 0 && !instances.some((i) => i.asg === asg));
  });
  if (unknown.length > 0) {
    throw new UnknownTargetError(
      unknown.map(
        (asg) =>
          `Auto Scaling group "${asg}": not found (or it has no instance and no lifecycle hook): check --asg`,
      ),
    );
  }
  const drainer = answer(q.family, drainerTasks);

  const held = instances.filter(
    (i) =>
      (HELD_BY_TERMINATE_HOOK as readonly string[]).includes(i.lifecycleState) ||
      (RETAINED_STATES as readonly string[]).includes(i.lifecycleState),
  );
  const located = await Promise.all(
    held.map(async (i) => ({
      ...i,
      arns: await port.findContainerInstances(q.cluster, i.instanceId),
    })),
  );
  const allArns = located.flatMap((l) => l.arns);
  const views = new Map(
    (allArns.length > 0 ? await port.describeContainerInstances(q.cluster, allArns) : []).map(
      (v) => [v.arn, v],
    ),
  );
  return {
    cluster: q.cluster,
    asgs: q.asgs,
    drainer,
    instances: await Promise.all(
      located.map(async (l) => {
        const registrations = l.arns.flatMap((arn) => {
          const v = views.get(arn);
          return v ? [v] : [];
        });
        const blocking = await Promise.all(registrations.map((ci) => blockingTasks(port, q, ci)));
        const all = blocking.flat();
        let stuck: StuckFinding[] = [];
        if (registrations.some((r) => r.status === "DRAINING") && all.length > 0) {
          const names = serviceNames(all);
          const services = names.length > 0 ? await port.describeServices(q.cluster, names) : [];
          stuck = classifyStuck(all, new Map(services.map((s) => [s.name, s])));
        }
        const groupHooksFound = hooksOf.get(l.asg);
        return row(
          q,
          drainer,
          { instanceId: l.instanceId, asg: l.asg, lifecycleState: l.lifecycleState },
          registrations.map((r, i) => ({
            arn: r.arn,
            status: r.status,
            runningTasksCount: r.runningTasksCount,
            pendingTasksCount: r.pendingTasksCount,
            blockers: summarizeBlockers(blocking[i]),
          })),
          summarizeBlockers(all),
          stuck,
          groupHooksFound === "not-found" ? [] : (groupHooksFound ?? []),
        );
      }),
    ),
  };
}

/** The group's terminate hooks, or `not-found` when Auto Scaling says the group does not exist. */
async function groupHooks(port: AwsPort, asg: string): Promise<LifecycleHookView[] | "not-found"> {
  try {
    return (await port.describeLifecycleHooks(asg)).filter(
      (h) => h.transition === TERMINATING_TRANSITION,
    );
  } catch (err) {
    if (isPermanent(err) && (err as { name?: string }).name === "ValidationError")
      return "not-found";
    throw err;
  }
}

/** The tasks on one registration that block a drain: running, pending or still stopping (the drainer's own rule). */
async function blockingTasks(
  port: AwsPort,
  q: StatusQuery,
  ci: ContainerInstanceView,
): Promise<TaskView[]> {
  if (ci.status === "MISSING") return [];
  const [running, stopped] = await Promise.all([
    port.listTasks(q.cluster, ci.arn, "RUNNING"),
    port.listTasks(q.cluster, ci.arn, "STOPPED"),
  ]);
  const arns = [...new Set([...running, ...stopped])];
  if (arns.length === 0) return [];
  return (await port.describeTasks(q.cluster, arns)).filter((t) => blocksDrain(t, undefined));
}

function answer(family: string, tasks: readonly TaskView[]): DrainerAnswer {
  const running = tasks.filter((t) => t.desiredStatus === "RUNNING" && t.lastStatus === "RUNNING");
  // The drainers' own rule (roles.ts): the oldest live task by start, then ARN. `status` is none of them.
  const leaderArn = leaderOf(tasks.map(drainerTask), "")?.arn;
  const leader = tasks.find((t) => t.arn === leaderArn);
  return {
    family,
    running: running.length,
    starting: tasks.filter((t) => t.desiredStatus === "RUNNING" && t.lastStatus !== "RUNNING")
      .length,
    leader: leader
      ? {
          taskArn: leader.arn,
          since: leader.createdAt !== undefined ? new Date(leader.createdAt).toISOString() : null,
        }
      : null,
  };
}

function row(
  q: StatusQuery,
  drainer: DrainerAnswer,
  instance: { instanceId: string; asg: string; lifecycleState: string },
  registrations: RegistrationRow[],
  blockers: Blockers,
  stuck: StuckFinding[],
  hooks: readonly LifecycleHookView[],
): StatusRow {
  const held = (RETAINED_STATES as readonly string[]).includes(instance.lifecycleState)
    ? "retained"
    : "hook";
  const ecsStatus =
    registrations.length > 0 ? registrations.map((r) => r.status).join("+") : "NOT_IN_CLUSTER";
  const ours = hooks.filter((h) => h.name !== ECS_MANAGED_DRAINING_HOOK);
  const hook = q.hook ?? (ours.length === 1 ? ours[0].name : "HOOK");
  const limit = Math.min(...hooks.map((h) => h.globalTimeout).filter((t) => t > 0));
  const base: Omit<StatusRow, "blockedBy" | "next"> = {
    ...instance,
    held,
    ecsStatus,
    registrations,
    runningTasksCount: registrations.reduce((n, r) => n + r.runningTasksCount, 0),
    pendingTasksCount: registrations.reduce((n, r) => n + r.pendingTasksCount, 0),
    blockers,
    stuck,
    heldSince: null,
    deadline: `held since + ${q.drainTimeoutSeconds} s`,
    hookLimit: Number.isFinite(limit) ? `held since + ${limit} s` : null,
    answered: held === "hook" && drainer.running > 0,
  };
  return { ...base, ...explain(q, base, hook) };
}

/** What blocks the instance and what to do next: the decision an operator would make, from what status saw. */
export function explain(
  q: Pick<StatusQuery, "cluster" | "drainTimeoutSeconds">,
  r: Omit<StatusRow, "blockedBy" | "next">,
  hook: string,
): { blockedBy: string; next: string } {
  const tasks = describeBlockers(r.blockers);
  const terminate = `aws autoscaling terminate-instance-in-auto-scaling-group --instance-id ${r.instanceId} --no-should-decrement-desired-capacity`;
  const complete = `aws autoscaling complete-lifecycle-action --auto-scaling-group-name ${r.asg} --lifecycle-hook-name ${hook} --instance-id ${r.instanceId} --lifecycle-action-result CONTINUE`;
  if (r.held === "retained") {
    return r.blockers.total === 0
      ? { blockedBy: "nothing (retained by the group)", next: terminate }
      : {
          blockedBy: `${tasks} (retained by the group)`,
          next: `wait until its tasks are gone (or stop them), then: ${terminate}`,
        };
  }
  if (!r.answered) {
    return {
      blockedBy: r.blockers.total > 0 ? `${tasks}; no drainer running` : "no drainer running",
      next: `run the sweep: drainer drain --cluster ${q.cluster} --hook ${hook} --asgs ${r.asg}`,
    };
  }
  if (r.registrations.length === 0) {
    return {
      blockedBy: "nothing (not in the cluster)",
      next: "wait: the drainer completes it at its next look",
    };
  }
  if (r.registrations.some((reg) => reg.status === "ACTIVE")) {
    return {
      blockedBy: `${tasks}; not DRAINING yet`,
      next: "wait: the drainer sets it DRAINING at its next look",
    };
  }
  if (r.blockers.total === 0) {
    return { blockedBy: "nothing", next: "wait: the drainer completes it at its next poll" };
  }
  const trouble = needsOperator(r.stuck);
  if (trouble.length > 0) {
    return {
      blockedBy: tasks,
      next: `act on WHY (${trouble.map((f) => `${f.group} ${f.reason}`).join(", ")}), or let the deadline decide; to end the wait now, killing what still runs: ${complete}`,
    };
  }
  return { blockedBy: tasks, next: "wait: its tasks are leaving" };
}

/** The table and the lines under it: the drainers, then each instance's next step. */
export function formatStatusTable(report: StatusReport): string {
  const { drainer } = report;
  const drainers =
    drainer.running > 0
      ? `Drainers of family ${drainer.family}: ${drainer.running} running${drainer.starting > 0 ? `, ${drainer.starting} starting` : ""}; the leader is ${drainer.leader!.taskArn}${drainer.leader!.since ? ` (since ${drainer.leader!.since})` : ""}.`
      : `No drainer of family ${drainer.family} is running${drainer.starting > 0 ? ` (${drainer.starting} starting)` : ""}: nothing answers for the instances the hook holds.`;
  const rows = report.instances;
  if (rows.length === 0) {
    return `No instance is held by the terminate hook or retained in ${report.asgs.join(", ")}.\n${drainers}\n`;
  }
  const header = [
    "INSTANCE",
    "GROUP",
    "STATE",
    "ECS STATUS",
    "RUNNING",
    "PENDING",
    "STOPPING",
    "HELD SINCE",
    "DEADLINE",
    "BLOCKED BY",
    "WHY",
  ];
  const body = rows.map((r) => [
    r.instanceId,
    r.asg,
    r.lifecycleState,
    r.ecsStatus,
    String(r.runningTasksCount),
    String(r.pendingTasksCount),
    String(r.blockers.stopping),
    r.heldSince ?? "unknown",
    r.held === "retained" ? "-" : `+${q(r.deadline)}`,
    r.blockedBy,
    r.stuck.length > 0 ? r.stuck.map((f) => `${f.group} ${f.reason}`).join(", ") : "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [
    line(header),
    ...body.map(line),
    "",
    drainers,
    "HELD SINCE: Auto Scaling gives no timestamp; `aws autoscaling describe-scaling-activities --auto-scaling-group-name GROUP` shows when. DEADLINE: DRAIN_TIMEOUT after it.",
    "",
    "Next:",
    ...rows.map((r) => `  ${r.instanceId}: ${r.next}`),
  ]
    .join("\n")
    .concat("\n");
}

/** `held since + 3600 s` as the table's short form: `3600s`. */
function q(deadline: string): string {
  return deadline.replace(/^held since \+ (\d+) s$/, "$1s");
}

/** `service:web=2, family:nightly=1 (1 standalone)`, or `nothing` for an empty instance. */
export function describeBlockers(b: Blockers): string {
  if (b.total === 0) return "nothing";
  const groups = Object.entries(b.groups)
    .map(([g, n]) => `${g}=${n}`)
    .join(", ");
  return b.standalone > 0 ? `${groups} (${b.standalone} standalone)` : groups;
}
