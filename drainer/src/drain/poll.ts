/**
 * The poll: one look at a set of instances, with shared reads. It locates each instance's registrations, reads them
 * (one DescribeContainerInstances for 100), sets ACTIVE ones DRAINING, and then, within the poll's read budget:
 * - proves empty the instances that may be (rules.ts, rule 1): their registrations afresh, and a full listing;
 * - describes again the known tasks of instances that wait only for them to stop (one DescribeTasks for 100 tasks),
 *   and proves empty at once those whose known tasks have all stopped;
 * - lists now and then what blocks the others, to log it (and to stop standalone tasks when asked to).
 * Shortcuts here decide when to look; only `proveDrained` decides that an instance is drained.
 */
import { ContainerInstanceView, TaskView } from "../aws";
import { LifecycleResult } from "../contract";
import { blockersKey, isServiceTask, summarizeBlockers } from "../decisions";
import { pastDeadline } from "./deadline";
import { blocksDrain, hasLiveRegistration, isGone, proveDrained } from "./rules";
import { InstanceState, Run, complete, errorText, failed, outcomeOf, settle } from "./state";

/** Polls at least between two listings prompted by a change of ECS's counters (to log what blocks). */
export const LISTING_EVERY_POLLS = 3;

/**
 * Above this many instances to locate or prove in one poll, the poll lists the whole cluster's container instances
 * (and, for proofs, tasks) once, rather than each instance's.
 */
export const BULK_LOCATE_ABOVE = 20;

function bulkAbove(run: Run): number {
  return run.ctx.bulkAbove ?? BULK_LOCATE_ABOVE;
}

type Step = "none" | "known" | "proof" | "learn";

interface Planned {
  readonly s: InstanceState;
  step: Step;
  /** ECS's count of tasks to run on the instance's live registrations, in this poll. */
  readonly counted: number;
}

/** Tasks listed in this poll, by registration; undefined where the listing failed. */
type Listed = Map<InstanceState, Map<string, TaskView[]> | undefined>;

function lookable(run: Run, s: InstanceState): boolean {
  return !s.outcome && !s.closing && !pastDeadline(run, s);
}

function liveRegistrations(s: InstanceState) {
  return (s.registrations ?? []).filter((r) => r.view !== undefined && !isGone(r.view));
}

export async function poll(
  run: Run,
  states: readonly InstanceState[],
  pollStartedAt: number,
  drainOnly = false,
): Promise<void> {
  await locate(run, states);
  // A follower's first look (rule 7) sets its instance DRAINING without reading it: the call is idempotent, and the
  // read is the leader's.
  if (drainOnly) return setDraining(run, states, true);
  let looked = states.filter((s) => lookable(run, s) && s.registrations !== undefined);
  if (
    looked.length > 0 &&
    looked.length <= WATCH_AT_MOST &&
    looked.every((s) => watching(run, s))
  ) {
    looked = await watch(run, looked);
  }
  if (looked.length === 0 || !(await describe(run, looked))) return;
  const planned: Planned[] = [];
  for (const s of looked) {
    if (!lookable(run, s)) continue;
    const views = s.registrations!.map((r) => r.view!);
    if (!hasLiveRegistration(views)) {
      s.log.log("info", "no registration of the instance is live in the cluster; completing", {
        action: "describe",
        ecsStatus: views.map((v) => v.status),
      });
      await complete(run, s, LifecycleResult.Continue, "not-in-cluster");
      continue;
    }
    s.pollsSinceListing++;
    planned.push(plan(run, s, pollStartedAt));
  }
  await setDraining(
    run,
    planned.map((p) => p.s),
  );
  budget(run, planned);
  await describeKnown(
    run,
    planned.filter((p) => p.step === "known"),
  );
  await prove(
    run,
    planned.filter((p) => p.step === "proof"),
    pollStartedAt,
  );
  await learn(
    run,
    planned.filter((p) => p.step === "learn"),
  );
}

/**
 * At most this many instances are watched without reading their container instances (see `watch`): the saved
 * DescribeContainerInstances pays for itself only when the instances are few; many share that call anyway.
 */
export const WATCH_AT_MOST = 10;

/** The instance waits only for known tasks to finish stopping: DRAINING, and ECS counts no task to run on it. */
function watching(run: Run, s: InstanceState): boolean {
  const regs = s.registrations ?? [];
  return (
    run.role !== "follower" &&
    !run.ctx.config.dryRun &&
    s.known.size > 0 &&
    regs.length > 0 &&
    regs.every(
      (r) =>
        r.view !== undefined &&
        (isGone(r.view) ||
          (r.view.status === "DRAINING" &&
            r.drainingSeenAt !== undefined &&
            r.view.runningTasksCount + r.view.pendingTasksCount === 0)),
    )
  );
}

/**
 * A look that only describes the known tasks of instances waiting for them to stop (one shared DescribeTasks, no
 * DescribeContainerInstances). Returns the instances whose known tasks have all stopped: the poll goes on for them
 * as for any instance, with ECS's counters and a fresh full listing, before anything is concluded.
 */
async function watch(run: Run, states: InstanceState[]): Promise<InstanceState[]> {
  const planned: Planned[] = states.map((s) => ({ s, step: "known", counted: 0 }));
  await describeKnown(run, planned);
  return planned.filter((p) => p.step === "proof").map((p) => p.s);
}

function plan(run: Run, s: InstanceState, pollStartedAt: number): Planned {
  const { config } = run.ctx;
  const live = liveRegistrations(s);
  const counted = live.reduce(
    (n, r) => n + r.view!.runningTasksCount + r.view!.pendingTasksCount,
    0,
  );
  if (config.dryRun) return { s, step: "learn", counted };
  const mayBeEmpty =
    live.every(
      (r) =>
        r.view!.status === "DRAINING" &&
        r.drainingSeenAt !== undefined &&
        r.drainingSeenAt < pollStartedAt,
    ) && counted <= (s.ownTaskHere ? 1 : 0);
  if (mayBeEmpty) {
    // A follower leaves the proof to the leader once: only a leader that has had a whole interval and not acted is
    // taken to be gone.
    if (run.role === "follower" && !s.deferred) {
      s.deferred = true;
      return { s, step: "none", counted };
    }
    return { s, step: s.known.size > 0 ? "known" : "proof", counted };
  }
  s.deferred = false;
  // Every instance the run serves is listed once, to learn its tasks (so that, once ECS counts none to run, a shared
  // DescribeTasks of those still stopping is the whole look); its own instances, and with STOP_STANDALONE_TASKS its
  // peers', again when ECS's counters change, to log what blocks and to see when only standalone tasks remain.
  const relists = s.answers || config.stopStandaloneTasks;
  // With STOP_STANDALONE_TASKS, while service tasks still block beside standalone ones, it lists again now and then
  // to see when only the standalone ones remain (the counters may not change when a stopping task ends).
  const last = s.lastBlocking ?? [];
  const mixed =
    config.stopStandaloneTasks && last.some(isServiceTask) && last.some((t) => !isServiceTask(t));
  const due =
    s.countsAtListing === undefined ||
    (relists &&
      (counted !== s.countsAtListing || mixed) &&
      s.pollsSinceListing >= LISTING_EVERY_POLLS);
  const watches = run.role !== "follower";
  // With no task counted, the next poll proves the instance empty: there is nothing to learn first.
  return { s, step: watches && due && counted > 0 ? "learn" : "none", counted };
}

/** Finds every registration of the instances not yet located; one not in the cluster is completed at once. */
async function locate(run: Run, states: readonly InstanceState[]): Promise<void> {
  const { cluster } = run.ctx.config;
  const need = states.filter((s) => lookable(run, s) && s.registrations === undefined);
  if (need.length === 0) return;
  const found = new Map<string, string[]>();
  try {
    if (need.length > bulkAbove(run)) {
      for (const [id, arns] of await registrationsInCluster(run)) found.set(id, arns);
    } else {
      await Promise.all(
        need.map(async (s) =>
          found.set(
            s.ref.instanceId,
            await run.port.findContainerInstances(cluster, s.ref.instanceId),
          ),
        ),
      );
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

/** Every registration in the cluster (all states but INACTIVE), by EC2 instance: two reads for 100. */
async function registrationsInCluster(run: Run): Promise<Map<string, string[]>> {
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

/** Reads every registration (shared calls); notes when this run first saw each one DRAINING. */
async function describe(run: Run, looked: readonly InstanceState[]): Promise<boolean> {
  const { ctx } = run;
  let views: Map<string, ContainerInstanceView>;
  try {
    const arns = looked.flatMap((s) => s.registrations!.map((r) => r.arn));
    views = new Map(
      (await run.port.describeContainerInstances(ctx.config.cluster, arns)).map((v) => [v.arn, v]),
    );
  } catch (err) {
    for (const s of looked) failed(run, s, "describing the container instances", err);
    return false;
  }
  const seenAt = ctx.now();
  for (const s of looked) {
    s.consecutiveFailures = 0;
    for (const r of s.registrations!) {
      r.view = views.get(r.arn) ?? missing(r.arn);
      if (r.view.status !== "DRAINING") r.drainingSeenAt = undefined;
      else if (r.drainingSeenAt === undefined) {
        r.drainingSeenAt = seenAt;
        s.log.log("info", "the container instance is already DRAINING", {
          action: "drain",
          containerInstanceArn: r.arn,
        });
      }
    }
  }
  return true;
}

function missing(arn: string): ContainerInstanceView {
  return {
    arn,
    ec2InstanceId: undefined,
    status: "MISSING",
    runningTasksCount: 0,
    pendingTasksCount: 0,
  };
}

/** Sets every ACTIVE registration DRAINING (rule 7: at the first look, whatever the role). */
async function setDraining(
  run: Run,
  states: readonly InstanceState[],
  unread = false,
): Promise<void> {
  const { ctx } = run;
  const wanted = states
    .filter((s) => lookable(run, s))
    .flatMap((s) =>
      (s.registrations ?? [])
        .filter((r) => (unread ? r.view === undefined : r.view?.status === "ACTIVE"))
        .map((r) => ({ s, r })),
    );
  if (wanted.length === 0) return;
  if (ctx.config.dryRun) {
    for (const { s } of wanted) {
      s.log.log("info", "would set the container instance to DRAINING", { action: "drain" });
    }
    return;
  }
  try {
    await run.port.setDraining(
      ctx.config.cluster,
      wanted.map((w) => w.r.arn),
    );
    const at = ctx.now();
    for (const { s, r } of wanted) {
      r.drainingSeenAt = at;
      s.log.log("info", "set the container instance to DRAINING", {
        action: "drain",
        containerInstanceArn: r.arn,
      });
    }
  } catch (err) {
    for (const s of new Set(wanted.map((w) => w.s))) {
      failed(run, s, "setting the container instance to DRAINING", err);
    }
  }
}

/** ECS reads one poll may make: ECS_READS_PER_SECOND per second of poll interval. */
export function readsBudget(run: Run): number {
  const { ecsReadsPerSecond, pollIntervalSeconds } = run.ctx.config;
  return Math.max(2, Math.floor(ecsReadsPerSecond * pollIntervalSeconds));
}

/** ListTasks (and ListContainerInstances) calls a step makes. */
function cost(p: Planned): number {
  const lists = 2 * liveRegistrations(p.s).length;
  return p.step === "proof" || p.step === "known" ? lists + 1 : p.step === "learn" ? lists : 0;
}

/**
 * Keeps the poll's lists within its budget: proofs first (the run's own instances first), then listings that learn
 * what blocks. What does not fit waits for the next poll. At least one proof always goes ahead.
 */
function budget(run: Run, planned: Planned[]): void {
  let left = readsBudget(run) - run.reads - 2;
  // Many proofs share one listing of the cluster (`listCluster`): a third of the budget, whatever their number.
  const proofs = planned.filter((p) => p.step === "proof" || p.step === "known").length;
  const bulk = proofs > bulkAbove(run);
  if (bulk) left -= Math.ceil(readsBudget(run) / 3);
  const rank = (p: Planned) => (p.step === "learn" ? 2 : 0) + (p.s.answers ? 0 : 1);
  // Learning a peer's tasks can wait: it takes at most half the budget, leaving room for other drainers' reads.
  let learnLeft = Math.floor(readsBudget(run) / 2);
  let first = true;
  for (const p of [...planned].sort((a, b) => rank(a) - rank(b))) {
    const c = bulk && p.step !== "learn" ? 0 : cost(p);
    if (c === 0) continue;
    const peerLearn = p.step === "learn" && !p.s.answers;
    if ((c <= left && (!peerLearn || c <= learnLeft)) || (first && p.step !== "learn")) {
      left -= c;
      if (peerLearn) learnLeft -= c;
    } else p.step = "none";
    first = false;
  }
}

/** Describes the known tasks of instances that may be empty; those whose known tasks have all stopped go on to a proof. */
async function describeKnown(run: Run, planned: Planned[]): Promise<void> {
  if (planned.length === 0) return;
  const { ctx } = run;
  let tasks: Map<string, TaskView>;
  try {
    const arns = planned.flatMap((p) => [...p.s.known]);
    tasks = new Map(
      (await run.port.describeTasks(ctx.config.cluster, arns)).map((t) => [t.arn, t]),
    );
  } catch (err) {
    for (const p of planned) failed(run, p.s, "describing the instance's tasks", err);
    return;
  }
  for (const p of planned) {
    const mine = [...p.s.known].map((a) => tasks.get(a)).filter((t) => t !== undefined);
    // ECS forgets stopped tasks after a while: a known task it no longer describes has stopped.
    for (const a of p.s.known) if (!tasks.has(a)) p.s.known.delete(a);
    remember(run, p.s, mine);
    const blocking = mine.filter((t) => blocksDrain(t, ctx.ownTaskArn));
    if (blocking.length > 0) noteBlockers(p.s, blocking);
    else p.step = "proof";
  }
}

/** Rule 1: the registrations afresh, a full listing of each, and the verdict of `proveDrained`. */
async function prove(run: Run, planned: Planned[], pollStartedAt: number): Promise<void> {
  if (planned.length === 0) return;
  const { ctx } = run;
  const listed = await list(run, planned, true);
  for (const p of planned) {
    const byRegistration = listed.get(p.s);
    if (byRegistration === undefined || p.s.outcome) continue;
    const tasks = [...byRegistration.values()].flat();
    remember(run, p.s, tasks);
    p.s.countsAtListing = p.counted;
    p.s.pollsSinceListing = 0;
    const proof = proveDrained({
      pollStartedAt,
      registrations: p.s.registrations!.map((r) => ({
        view: r.view ?? missing(r.arn),
        drainingSeenAt: r.view ? r.drainingSeenAt : undefined,
        listed: byRegistration.get(r.arn),
      })),
      ownTaskArn: ctx.ownTaskArn,
    });
    noteBlockers(p.s, proof.drained ? [] : proof.blocking);
    if (proof.drained) {
      p.s.log.log("info", "no task runs, starts or stops on the instance any more", {
        action: "drained",
      });
      await complete(run, p.s, LifecycleResult.Continue, "completed");
    } else {
      await stopStandalone(run, p.s, tasks, p.counted);
    }
  }
}

/** Lists what blocks instances with tasks still to stop, to log it (and to stop standalone tasks when asked to). */
async function learn(run: Run, planned: Planned[]): Promise<void> {
  if (planned.length === 0) return;
  const listed = await list(run, planned, false);
  for (const p of planned) {
    const byRegistration = listed.get(p.s);
    if (byRegistration === undefined || p.s.outcome) continue;
    const tasks = [...byRegistration.values()].flat();
    remember(run, p.s, tasks);
    p.s.countsAtListing = p.counted;
    p.s.pollsSinceListing = 0;
    const blocking = tasks.filter((t) => blocksDrain(t, run.ctx.ownTaskArn));
    noteBlockers(p.s, blocking);
    if (run.ctx.config.dryRun) {
      const empty = blocking.length === 0 && p.counted === 0;
      p.s.log.log(
        "info",
        empty
          ? "would complete the lifecycle action with CONTINUE: nothing runs on the instance"
          : "would wait for the tasks that block the drain",
        { action: empty ? "complete" : "wait", blockers: p.s.lastBlockers ?? null },
      );
      settle(run, p.s, outcomeOf(run, p.s, "dry-run"));
      continue;
    }
    await stopStandalone(run, p.s, tasks, p.counted);
  }
}

/**
 * Lists the tasks of every live registration of the instances (RUNNING- and STOPPED-desired) and describes them with
 * one shared DescribeTasks. For a proof, the registrations are found afresh first (a new one fails the proof) and the
 * known tasks are described too. The calls are spread over the poll interval, a tenth of the budget at a time.
 */
async function list(run: Run, planned: readonly Planned[], forProof: boolean): Promise<Listed> {
  const { ctx } = run;
  const { cluster, pollIntervalSeconds } = ctx.config;
  const listed: Listed = new Map();
  const arnsOf = new Map<InstanceState, Map<string, string[]>>();
  // Many proofs at once find the registrations afresh with one listing of the cluster rather than one each.
  let registered: Map<string, string[]> | undefined;
  if (forProof && planned.length > bulkAbove(run)) {
    try {
      registered = await registrationsInCluster(run);
    } catch (err) {
      for (const p of planned) {
        failed(run, p.s, "finding the container instances", err);
        listed.set(p.s, undefined);
      }
      return listed;
    }
  }
  if (registered) return listCluster(run, planned, registered, listed);
  const perBatch = Math.ceil(readsBudget(run) / 10);
  let batch: Planned[] = [];
  let batchCost = 0;
  const flush = async () => {
    await Promise.all(batch.map((p) => listOne(run, p.s, forProof, arnsOf, listed)));
    batch = [];
    batchCost = 0;
  };
  for (const p of planned) {
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
      out.set(
        reg,
        [...mine].map((a) => described.get(a)).filter((t) => t !== undefined),
      );
    }
    listed.set(s, out);
  }
  return listed;
}

/**
 * Many proofs at once: one listing of the whole cluster's tasks (RUNNING- and STOPPED-desired, 100 a page) instead of
 * two ListTasks per registration, and a DescribeTasks of the tasks that are, or may be, on the registrations proven.
 * Still a fresh full listing of each of them (rule 1), at a cost that grows with the cluster's tasks, not the proofs.
 */
async function listCluster(
  run: Run,
  planned: readonly Planned[],
  registered: Map<string, string[]>,
  listed: Listed,
): Promise<Listed> {
  const { cluster } = run.ctx.config;
  const owner = new Map<string, InstanceState>();
  for (const p of planned) {
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
function hasNewRegistration(s: InstanceState, now: readonly string[]): boolean {
  const fresh = now.filter((a) => !s.registrations!.some((r) => r.arn === a));
  if (fresh.length === 0) return false;
  s.registrations!.push(...fresh.map((arn) => ({ arn })));
  s.log.log("warn", "a new container instance registered for this EC2 instance; draining it too", {
    action: "locate",
    containerInstanceArns: fresh,
  });
  return true;
}

async function listOne(
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

/** Remembers which of the instance's tasks can still block, and which have stopped for good. */
function remember(run: Run, s: InstanceState, tasks: readonly TaskView[]): void {
  for (const t of tasks) {
    if (t.lastStatus === "STOPPED") {
      s.known.delete(t.arn);
      run.knownStopped.add(t.arn);
    } else if (t.arn !== run.ctx.ownTaskArn) s.known.add(t.arn);
    else s.ownTaskHere = true;
  }
}

function noteBlockers(s: InstanceState, blocking: readonly TaskView[]): void {
  const blockers = summarizeBlockers(blocking);
  if (s.tasksAtStart === null) s.tasksAtStart = blockers.total;
  const key = blockersKey(blockers);
  if (key !== s.lastBlockersKey && blockers.total > 0) {
    s.log.log("info", `waiting for ${blockers.total} task(s)`, { action: "wait", blockers });
  }
  s.lastBlockers = blockers;
  s.lastBlockersKey = key;
  s.lastBlocking = blocking;
}

/**
 * STOP_STANDALONE_TASKS: once a fresh listing shows that only standalone tasks block (and ECS counts no task the
 * listing did not show), stops them.
 */
async function stopStandalone(
  run: Run,
  s: InstanceState,
  tasks: readonly TaskView[],
  counted: number,
): Promise<void> {
  const { ctx } = run;
  if (!ctx.config.stopStandaloneTasks || ctx.config.dryRun) return;
  const blocking = tasks.filter((t) => blocksDrain(t, ctx.ownTaskArn));
  if (blocking.length === 0 || blocking.some(isServiceTask)) return;
  if (blocking.filter((t) => t.desiredStatus === "RUNNING").length < counted) return;
  for (const t of blocking) {
    if (t.desiredStatus === "STOPPED" || s.stopRequested.has(t.arn)) continue;
    s.stopRequested.add(t.arn);
    try {
      await run.port.stopTask(
        ctx.config.cluster,
        t.arn,
        "Stopped by ecs-scale-in-drainer: only standalone tasks remained on a terminating instance",
      );
      s.log.log("warn", "stopped a standalone task (STOP_STANDALONE_TASKS=true)", {
        action: "stop-task",
        taskArn: t.arn,
        group: t.group,
      });
    } catch (err) {
      s.stopRequested.delete(t.arn);
      s.log.log("warn", "stopping a standalone task failed; will retry", {
        action: "stop-task",
        taskArn: t.arn,
        error: errorText(err),
      });
    }
  }
}
