/**
 * The poll's listings, and what they may cost: locating each instance's registrations, listing their tasks (one
 * instance at a time, or the whole cluster at once when many are proven in one poll), and the read budget that decides
 * which listings go ahead in a poll. Listings tell the poll what there is; the poll's decisions are in poll.ts.
 */
import { BATCH, TaskView, UNDESCRIBED } from "../aws";
import { LifecycleResult } from "../contract";
import { pastDeadline } from "./deadline";
import { isGone } from "./rules";
import { complete, failed } from "./endings";
import { InstanceState, Run } from "./state";

/**
 * Above this many instances to locate or prove in one poll, the poll lists the whole cluster's container instances
 * (and, for proofs, tasks) once, rather than each instance's.
 */
export const BULK_LOCATE_ABOVE = 20;

export function bulkAbove(run: Run): number {
  return run.ctx.bulkAbove ?? BULK_LOCATE_ABOVE;
}

/** What the poll does next with an instance it has read. */
export type Step =
  /** Nothing more this poll. */
  | "none"
  /** It may be empty but for tasks seen not STOPPED (`InstanceState.known`): describe those again (one shared call). */
  | "recheck"
  /** It may be empty: its registrations afresh and a full listing, for rule 1's proof. */
  | "proof"
  /** List its tasks, to learn what blocks it. */
  | "learn";

/** An instance, and the step the poll takes with it. */
export interface InstanceStep {
  readonly s: InstanceState;
  step: Step;
  /** ECS's count of tasks to run on the instance's live registrations, in this poll. */
  readonly counted: number;
}

/** Tasks listed in this poll, by registration; undefined where the listing failed. */
export type Listed = Map<InstanceState, Map<string, TaskView[]> | undefined>;

export function lookable(run: Run, s: InstanceState): boolean {
  return !s.outcome && !s.closing && !pastDeadline(run, s);
}

export function liveRegistrations(s: InstanceState) {
  return (s.registrations ?? []).filter((r) => r.view !== undefined && !isGone(r.view));
}

/** Finds every registration of the instances not yet located; one not in the cluster is completed at once. */
export async function locate(run: Run, states: readonly InstanceState[]): Promise<void> {
  const { cluster } = run.ctx.config;
  const need = states.filter((s) => lookable(run, s) && s.registrations === undefined);
  if (need.length === 0) return;
  const found = new Map<string, string[]>();
  try {
    const one = async (s: InstanceState) =>
      found.set(s.ref.instanceId, await run.port.findContainerInstances(cluster, s.ref.instanceId));
    if (need.length > bulkAbove(run)) {
      for (const [id, arns] of await registrationsInCluster(run)) found.set(id, arns);
      // Absence from a listing of many pages proves nothing: pages read seconds apart, while instances leave the
      // cluster, can skip one that is there. The instances the listing did not show are looked for on their own
      // (filtered calls), and only that answer completes one as not in the cluster.
      const unseen = need.filter((s) => !found.has(s.ref.instanceId)).map((s) => s.ref.instanceId);
      for (const [id, arns] of await registrationsOf(run, unseen)) found.set(id, arns);
    } else {
      await Promise.all(need.map(one));
    }
  } catch (err) {
    for (const s of need) failed(run, s, "finding the container instance", err);
    return;
  }
  for (const s of need) {
    const arns = found.get(s.ref.instanceId) ?? [];
    if (arns.length === 0) {
      s.log.log("info", "the instance is not in the cluster; completing at once", {
        action: "locate",
      });
      await complete(run, s, LifecycleResult.Continue, "not-in-cluster");
      continue;
    }
    s.registrations = arns.map((arn) => ({ arn }));
    s.log.log(
      arns.length > 1 ? "warn" : "info",
      arns.length > 1
        ? `found ${arns.length} container instances for this EC2 instance (an agent registered again); draining every one`
        : "found the container instance",
      { action: "locate", containerInstanceArns: arns },
    );
  }
}

/**
 * The registrations of each of these EC2 instances, found on their own rather than in a listing of the whole cluster:
 * one filtered ListContainerInstances per 20 instances, and a DescribeContainerInstances to tell whose each is. When a
 * registration cannot be told apart (ECS did not describe it yet), each instance is looked for by itself.
 */
export async function registrationsOf(
  run: Run,
  ids: readonly string[],
): Promise<Map<string, string[]>> {
  const { cluster } = run.ctx.config;
  const found = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return found;
  const arns = await run.port.findContainerInstancesIn(cluster, ids);
  const views = arns.length > 0 ? await run.port.describeContainerInstances(cluster, arns) : [];
  const whose = new Map(views.map((v) => [v.arn, v.ec2InstanceId]));
  if (arns.some((a) => whose.get(a) === undefined || !found.has(whose.get(a)!))) {
    await Promise.all(
      ids.map(async (id) => found.set(id, await run.port.findContainerInstances(cluster, id))),
    );
    return found;
  }
  for (const a of arns) found.get(whose.get(a)!)!.push(a);
  return found;
}

/** Every registration in the cluster (all states but INACTIVE), by EC2 instance: two reads for 100. */
export async function registrationsInCluster(run: Run): Promise<Map<string, string[]>> {
  const { cluster } = run.ctx.config;
  const found = new Map<string, string[]>();
  const all = await run.port.listContainerInstances(cluster);
  for (const ci of await run.port.describeContainerInstances(cluster, all)) {
    if (ci.ec2InstanceId) {
      found.set(ci.ec2InstanceId, [...(found.get(ci.ec2InstanceId) ?? []), ci.arn]);
    }
  }
  return found;
}

/** ECS reads one poll may make: ECS_READS_PER_SECOND per second of poll interval. */
export function readsBudget(run: Run): number {
  const { ecsReadsPerSecond, pollIntervalSeconds } = run.ctx.config;
  return Math.max(2, Math.floor(ecsReadsPerSecond * pollIntervalSeconds));
}

/** ListTasks (and ListContainerInstances) calls a step makes. */
export function cost(p: InstanceStep): number {
  const lists = 2 * liveRegistrations(p.s).length;
  return p.step === "proof" || p.step === "recheck" ? lists + 1 : p.step === "learn" ? lists : 0;
}

/**
 * Keeps the poll's lists within its budget: proofs first (the run's own instances first), then listings that learn
 * what blocks. What does not fit waits for the next poll. At least one proof always goes ahead.
 */
export function budget(run: Run, steps: InstanceStep[]): void {
  let left = readsBudget(run) - run.reads - 2;
  // Many proofs share one listing of the cluster (`listCluster`): a third of the budget, whatever their number.
  const proofs = steps.filter((p) => p.step === "proof" || p.step === "recheck").length;
  const bulk = proofs > bulkAbove(run);
  if (bulk) left -= Math.ceil(readsBudget(run) / 3);
  const rank = (p: InstanceStep) => (p.step === "learn" ? 2 : 0) + (p.s.own ? 0 : 1);
  // Learning a peer's tasks can wait: it takes at most half the budget, leaving room for other drainers' reads.
  let learnLeft = Math.floor(readsBudget(run) / 2);
  let first = true;
  for (const p of [...steps].sort((a, b) => rank(a) - rank(b))) {
    // A proof in the cluster's listing still finds its instance's registrations on their own: two reads for 20.
    const c = bulk && p.step !== "learn" ? 2 / BATCH.findContainerInstancesIn : cost(p);
    if (c === 0) continue;
    const peerLearn = p.step === "learn" && !p.s.own;
    // The first step goes ahead even when it costs more than the whole budget: the pacer then spreads its reads over
    // more time. A budget smaller than one listing slows a listing; it never skips it.
    if ((c <= left && (!peerLearn || c <= learnLeft)) || first) {
      left -= c;
      if (peerLearn) learnLeft -= c;
    } else p.step = "none";
    first = false;
  }
}

/**
 * Lists the tasks of every live registration of the instances (RUNNING- and STOPPED-desired) and describes them with
 * one shared DescribeTasks. For a proof, the registrations are found afresh first (a new one fails the proof) and the
 * known tasks are described too. The calls are spread over the poll interval, a tenth of the budget at a time.
 */
export async function list(
  run: Run,
  steps: readonly InstanceStep[],
  forProof: boolean,
): Promise<Listed> {
  const { ctx } = run;
  const { cluster, pollIntervalSeconds } = ctx.config;
  const listed: Listed = new Map();
  const arnsOf = new Map<InstanceState, Map<string, string[]>>();
  // Many proofs at once find the registrations afresh with one listing of the cluster rather than one each.
  let registered: Map<string, string[]> | undefined;
  if (forProof && steps.length > bulkAbove(run)) {
    try {
      // Each instance's registrations afresh, on its own (one filtered call each): a listing of the cluster's many
      // pages can leave out a registration that is there, and a proof that never saw it would complete over its tasks.
      registered = await registrationsOf(
        run,
        steps.map((p) => p.s.ref.instanceId),
      );
    } catch (err) {
      for (const p of steps) {
        failed(run, p.s, "finding the container instances", err);
        listed.set(p.s, undefined);
      }
      return listed;
    }
  }
  if (registered) return listCluster(run, steps, registered, listed);
  const perBatch = Math.ceil(readsBudget(run) / 10);
  let batch: InstanceStep[] = [];
  let batchCost = 0;
  const flush = async () => {
    await Promise.all(batch.map((p) => listOne(run, p.s, forProof, arnsOf, listed)));
    batch = [];
    batchCost = 0;
  };
  for (const p of steps) {
    if (batch.length > 0 && batchCost + cost(p) > perBatch) {
      await flush();
      await ctx.sleep((pollIntervalSeconds * 1000) / 10, run.signal);
      if (run.signal.aborted) return listed;
    }
    batch.push(p);
    batchCost += cost(p);
  }
  await flush();
  const wanted = new Set<string>();
  for (const [s, byReg] of arnsOf) {
    for (const arns of byReg.values()) for (const a of arns) wanted.add(a);
    if (forProof) for (const a of s.known) wanted.add(a);
  }
  let described = new Map<string, TaskView>();
  if (wanted.size > 0) {
    try {
      described = new Map(
        (await run.port.describeTasks(cluster, [...wanted])).map((t) => [t.arn, t]),
      );
    } catch (err) {
      for (const s of arnsOf.keys()) {
        failed(run, s, "describing the instance's tasks", err);
        listed.set(s, undefined);
      }
      return listed;
    }
  }
  for (const [s, byReg] of arnsOf) {
    const out = new Map<string, TaskView[]>();
    for (const [reg, arns] of byReg) {
      const mine = new Set(arns);
      if (forProof) {
        for (const a of s.known) if (described.get(a)?.containerInstanceArn === reg) mine.add(a);
      }
      // A task listed here that DescribeTasks did not describe (MISSING) is unknown, not stopped: it blocks.
      out.set(
        reg,
        [...mine].map((a) => onRegistration(described.get(a) ?? undescribed(a), reg)),
      );
    }
    listed.set(s, out);
  }
  return listed;
}

/** A task ECS listed and could not describe: it blocks like any task that is not STOPPED. */
export function undescribed(arn: string): TaskView {
  return {
    arn,
    containerInstanceArn: undefined,
    lastStatus: UNDESCRIBED,
    desiredStatus: "UNKNOWN",
    group: "",
    startedBy: undefined,
  };
}

function onRegistration(t: TaskView, reg: string): TaskView {
  return t.containerInstanceArn === undefined ? { ...t, containerInstanceArn: reg } : t;
}

/**
 * Many proofs at once: one listing of the whole cluster's tasks (RUNNING- and STOPPED-desired, 100 a page) instead of
 * two ListTasks per registration, and a DescribeTasks of the tasks that are, or may be, on the registrations proven.
 * Still a fresh full listing of each of them (rule 1), at a cost that grows with the cluster's tasks, not the proofs.
 */
export async function listCluster(
  run: Run,
  steps: readonly InstanceStep[],
  registered: Map<string, string[]>,
  listed: Listed,
): Promise<Listed> {
  const { cluster } = run.ctx.config;
  const owner = new Map<string, InstanceState>();
  for (const p of steps) {
    if (hasNewRegistration(p.s, registered.get(p.s.ref.instanceId) ?? [])) {
      listed.set(p.s, undefined);
      continue;
    }
    for (const r of liveRegistrations(p.s)) owner.set(r.arn, p.s);
  }
  const proving = [...new Set(owner.values())];
  try {
    const [running, stopped] = await Promise.all([
      run.port.listClusterTasks(cluster, "RUNNING"),
      run.port.listClusterTasks(cluster, "STOPPED"),
    ]);
    const wanted = new Set(
      [...running, ...stopped].filter((a) => {
        if (run.knownStopped.has(a)) return false;
        const home = run.taskHome.get(a);
        return home === undefined || owner.has(home);
      }),
    );
    for (const s of proving) for (const a of s.known) wanted.add(a);
    const described = wanted.size > 0 ? await run.port.describeTasks(cluster, [...wanted]) : [];
    const seen = new Set(described.map((t) => t.arn));
    const unknown = [...wanted].filter(
      (a) => !seen.has(a) || described.some((t) => t.arn === a && t.lastStatus === UNDESCRIBED),
    );
    if (unknown.length > 0) {
      // A task listed in the cluster that ECS could not describe may be on any instance proven here: none is proven
      // in this poll, and the next poll describes it again.
      for (const s of proving) {
        s.log.log(
          "info",
          "a listed task could not be described yet (MISSING); proving again next poll",
          {
            action: "prove",
            taskArns: unknown.slice(0, 10),
          },
        );
        listed.set(s, undefined);
      }
      return listed;
    }
    const byReg = new Map<string, TaskView[]>();
    for (const t of described) {
      // A task on no container instance (Fargate: another drainer, say) is noted too, and not described again.
      run.taskHome.set(t.arn, t.containerInstanceArn ?? "");
      if (t.containerInstanceArn && owner.has(t.containerInstanceArn)) {
        byReg.set(t.containerInstanceArn, [...(byReg.get(t.containerInstanceArn) ?? []), t]);
      }
    }
    for (const s of proving) {
      listed.set(s, new Map(liveRegistrations(s).map((r) => [r.arn, byReg.get(r.arn) ?? []])));
    }
  } catch (err) {
    for (const s of proving) {
      failed(run, s, "listing the cluster's tasks", err);
      listed.set(s, undefined);
    }
  }
  return listed;
}

/** Adds registrations of the EC2 instance not seen before; a new one fails this poll's proof. */
export function hasNewRegistration(s: InstanceState, now: readonly string[]): boolean {
  const fresh = now.filter((a) => !s.registrations!.some((r) => r.arn === a));
  if (fresh.length === 0) return false;
  s.registrations!.push(...fresh.map((arn) => ({ arn })));
  s.log.log("warn", "a new container instance registered for this EC2 instance; draining it too", {
    action: "locate",
    containerInstanceArns: fresh,
  });
  return true;
}

export async function listOne(
  run: Run,
  s: InstanceState,
  forProof: boolean,
  arnsOf: Map<InstanceState, Map<string, string[]>>,
  listed: Listed,
): Promise<void> {
  const { cluster } = run.ctx.config;
  try {
    if (forProof) {
      const now = await run.port.findContainerInstances(cluster, s.ref.instanceId);
      if (hasNewRegistration(s, now)) {
        listed.set(s, undefined);
        return;
      }
    }
    const byReg = new Map<string, string[]>();
    await Promise.all(
      liveRegistrations(s).map(async (r) => {
        const [running, stopped] = await Promise.all([
          run.port.listTasks(cluster, r.arn, "RUNNING"),
          run.port.listTasks(cluster, r.arn, "STOPPED"),
        ]);
        byReg.set(
          r.arn,
          [...new Set([...running, ...stopped])].filter((a) => !run.knownStopped.has(a)),
        );
      }),
    );
    arnsOf.set(s, byReg);
  } catch (err) {
    failed(run, s, "listing the instance's tasks", err);
    listed.set(s, undefined);
  }
}
