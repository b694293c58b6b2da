/**
 * `status`, the operator's first command: for every instance the terminate hook holds (or its group retained), what
 * holds it, whether a drainer answers for it, and the next command to run. Read-only.
 *
 * What it knows, and how:
 * - every container-instance registration of the instance (an agent that lost its state registers again), each with
 *   what blocks it;
 * - whether a drainer answers: a RUNNING task of the drainer's task definition family in the cluster (the oldest one
 *   leads every group of its AUTOSCALING_GROUP_NAMES);
 * - when the hook began to hold the instance (`heldSince`), and so its deadline as a time: Auto Scaling gives no
 *   timestamp with a lifecycle state, but the instance's termination scaling activity (DescribeScalingActivities,
 *   `Terminating EC2 instance: i-...`) starts when the termination, and the hook's hold, does. That action is the
 *   operator's alone (OPERATOR_ACTIONS): the drainer's roles are not granted it. When it is denied, fails, or finds no
 *   such activity within SCALING_ACTIVITY_PAGES pages, `heldSince` is null, the deadline is given relative to it, and
 *   `heldSinceUnknown` says why; `status` itself still succeeds.
 */
import type {
  AwsPort,
  ContainerInstanceView,
  LifecycleHookView,
  ScalingActivityView,
  TaskView,
} from "./aws";
import {
  ECS_MANAGED_DRAINING_HOOK,
  HELD_BY_TERMINATE_HOOK,
  TERMINATING_TRANSITION,
} from "./contract";
import { drainerTask, leaderOf } from "./drain/roles";
import { blocksDrain, isPermanent } from "./drain/rules";
import {
  Blockers,
  StuckFinding,
  classifyStuck,
  needsOperator,
  serviceNames,
  summarizeBlockers,
} from "./blockers";

/** The states in which a group keeps an instance whose terminate hook was abandoned (instance retention). */
export const RETAINED_STATES = ["Terminating:Retained"] as const;

/**
 * Pages of a group's scaling activities `status` reads at most (100 activities a page), stopping as soon as every held
 * instance of the group has its termination activity. Auto Scaling lists the activities still in progress first
 * (API reference, DescribeScalingActivities: "Activities are sorted by start time. Activities still in progress are
 * described first." https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeScalingActivities.html), and
 * the termination of an instance the hook holds is in progress: one page covers up to 100 held instances of a group,
 * five cover 500 while bounding what a group with a long history costs (5 requests).
 */
export const SCALING_ACTIVITY_PAGES = 5;

/** The action `status` needs for held-since (OPERATOR_ACTIONS), named in its note when it is denied. */
export const HELD_SINCE_ACTION = "autoscaling:DescribeScalingActivities";

/**
 * A termination activity's Description: `Terminating EC2 instance: i-...` (the EC2 Auto Scaling event reference's
 * "EC2 Instance Terminate Successful" example, https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html).
 */
const TERMINATION_ACTIVITY = /^Terminating EC2 instance: (i-[0-9a-f]+)$/;

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
  /** Why the tasks that block a DRAINING instance are still there (blockers.ts), in ECS's words where it gave them. */
  readonly stuck: readonly StuckFinding[];
  /** When the hook began to hold it (ISO): the StartTime of its latest termination scaling activity; null if unknown. */
  readonly heldSince: string | null;
  /** Why held-since is unknown (the activity read denied or failed, or no activity found); null when it is known. */
  readonly heldSinceUnknown: string | null;
  /**
   * The drain's deadline, DRAIN_TIMEOUT after held-since: an ISO time when held-since is known, else relative to it
   * (`held since + 3600 s`). The earliest: a drainer that took the action over counts from when it did.
   */
  readonly deadline: string;
  /** The group's hooks' own end (the hook's global timeout after held-since), in the same form as the deadline. */
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
  const heldAsgs = q.asgs.filter((asg) => held.some((i) => i.asg === asg));
  const [located, starts] = await Promise.all([
    Promise.all(
      held.map(async (i) => ({
        ...i,
        arns: await port.findContainerInstances(q.cluster, i.instanceId),
      })),
    ),
    Promise.all(
      heldAsgs.map((asg) =>
        terminationStarts(
          port,
          asg,
          held.filter((i) => i.asg === asg).map((i) => i.instanceId),
        ),
      ),
    ),
  ]);
  const startsOf = new Map(heldAsgs.map((asg, i) => [asg, starts[i]]));
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
          heldSinceOf(startsOf.get(l.asg), l.instanceId),
        );
      }),
    ),
  };
}

/** When the termination of each instance began, by instance ID, or why the group's activities could not be read. */
interface TerminationStarts {
  readonly asg: string;
  readonly starts: ReadonlyMap<string, number>;
  readonly failed?: string;
}

/** The termination activities of the group's held instances: the latest StartTime of each. Never throws. */
async function terminationStarts(
  port: AwsPort,
  asg: string,
  instanceIds: readonly string[],
): Promise<TerminationStarts> {
  const latest = (activities: readonly ScalingActivityView[]) => {
    const starts = new Map<string, number>();
    for (const a of activities) {
      const id = TERMINATION_ACTIVITY.exec(a.description)?.[1];
      if (id === undefined || a.startTime === undefined) continue;
      starts.set(id, Math.max(a.startTime, starts.get(id) ?? -Infinity));
    }
    return starts;
  };
  try {
    const activities = await port.describeScalingActivities(asg, SCALING_ACTIVITY_PAGES, (seen) => {
      const found = latest(seen);
      return instanceIds.every((id) => found.has(id));
    });
    return { asg, starts: latest(activities) };
  } catch (err) {
    const e = err as { name?: string; message?: string };
    const denied = /AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(e.name ?? "");
    return {
      asg,
      starts: new Map(),
      failed: denied
        ? `reading ${asg}'s scaling activities was denied (${e.name}): status needs ${HELD_SINCE_ACTION} to show when the hook began to hold an instance`
        : `reading ${asg}'s scaling activities failed (${e.name ?? "Error"}: ${e.message ?? String(err)})`,
    };
  }
}

/** An instance's held-since (epoch ms), or why it is unknown. */
function heldSinceOf(
  found: TerminationStarts | undefined,
  instanceId: string,
): { at: number } | { unknown: string } {
  if (found?.failed) return { unknown: found.failed };
  const at = found?.starts.get(instanceId);
  if (at !== undefined) return { at };
  return {
    unknown: `no termination activity for it among ${found?.asg ?? "its group"}'s latest ${SCALING_ACTIVITY_PAGES * 100} scaling activities`,
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
  since: { at: number } | { unknown: string },
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
    heldSince: "at" in since ? new Date(since.at).toISOString() : null,
    heldSinceUnknown: "unknown" in since ? since.unknown : null,
    deadline: after(since, q.drainTimeoutSeconds),
    hookLimit: Number.isFinite(limit) ? after(since, limit) : null,
    answered: held === "hook" && drainer.running > 0,
  };
  return { ...base, ...explain(q, base, hook) };
}

/** `seconds` after held-since: an ISO time when it is known, else `held since + N s`. */
function after(since: { at: number } | { unknown: string }, seconds: number): string {
  return "at" in since
    ? new Date(since.at + seconds * 1000).toISOString()
    : `held since + ${seconds} s`;
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
    r.held === "retained" ? "-" : r.heldSince ? r.deadline : `+${q(r.deadline)}`,
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
    "HELD SINCE: when Auto Scaling began terminating the instance (its scaling activity's start). DEADLINE: DRAIN_TIMEOUT after it, at the earliest (a drainer that took the action over counts from then); +Ns when held since is unknown.",
    ...unknownHeldSince(rows),
    "",
    "Next:",
    ...rows.map((r) => `  ${r.instanceId}: ${r.next}`),
  ]
    .join("\n")
    .concat("\n");
}

/** One line for each reason held-since is unknown, naming its instances and where to read it by hand. */
function unknownHeldSince(rows: readonly StatusRow[]): string[] {
  const why = new Map<string, StatusRow[]>();
  for (const r of rows) {
    if (r.heldSinceUnknown !== null)
      why.set(r.heldSinceUnknown, [...(why.get(r.heldSinceUnknown) ?? []), r]);
  }
  return [...why].map(([reason, rs]) => {
    const groups = [...new Set(rs.map((r) => r.asg))];
    return `HELD SINCE unknown for ${rs.map((r) => r.instanceId).join(", ")}: ${reason}; ${groups.map((g) => `\`aws autoscaling describe-scaling-activities --auto-scaling-group-name ${g}\``).join(", ")} shows when.`;
  });
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
