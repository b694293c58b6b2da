/**
 * The drain: finds each instance's container instance, sets it DRAINING, watches its tasks until none is running,
 * pending or still stopping, heartbeating the lifecycle hook meanwhile, and completes the lifecycle action.
 *
 * One loop serves every instance of a run and shares ECS reads between them: one DescribeContainerInstances covers
 * 100 instances, one DescribeTasks 100 tasks. A sweep serves every waiting instance of its groups. In event mode,
 * when several instances of a group terminate together, the drainer of the smallest waiting instance ID leads: it
 * serves them all, while the others heartbeat their own instance, check its lifecycle action now and then, and look at
 * ECS only rarely, in case the leader is gone. Every poll keeps its ECS reads within ECS_READS_PER_SECOND. The
 * decisions themselves are the pure functions of decisions.ts.
 */
import {
  AwsPort,
  ContainerInstanceView,
  LifecycleActionRef,
  TaskView,
  isNoActiveLifecycleAction,
} from "./aws";
import { DrainerConfig } from "./config";
import { LifecycleResult } from "./contract";
import {
  Blockers,
  blocksDrain,
  HookPlan,
  Listing,
  assessInstance,
  blockersKey,
  eventPrecheck,
  FOLLOWER_MAX_POLLS,
  FOLLOWER_QUIET_POLLS,
  followerPollEvery,
  isGone,
  knownTasksComplete,
  leadsGroup,
  listTasksCalls,
  needsListing,
  planHook,
  summarizeBlockers,
  waitingInstances,
} from "./decisions";
import { Logger } from "./log";

/** How a run ended for one instance. */
export type Result =
  /** Drained, and the lifecycle action completed with CONTINUE. */
  | "completed"
  /** The action was already over: another drainer, a sweep or the hook's timeout ended it. */
  | "already-complete"
  /** The instance was not (or no longer) in the cluster: completed at once. */
  | "not-in-cluster"
  /** The event named an instance that is not terminating (a stale event): nothing done. */
  | "not-terminating"
  /** The deadline passed: completed with TIMEOUT_RESULT after logging what blocked. */
  | "timed-out"
  /** An AWS failure left the action not completed. The hook's timeout or the next sweep takes over. */
  | "failed"
  /** Stopped by SIGTERM before completing. */
  | "interrupted"
  /** DRY_RUN: looked, changed nothing. */
  | "dry-run";

export interface Outcome {
  readonly instanceId: string;
  readonly asg: string;
  readonly result: Result;
  /** Seconds from the start of this run's work on the instance to its end. */
  readonly drainSeconds: number;
  /** Tasks blocking the drain at the first look, or null when never listed. */
  readonly tasksAtStart: number | null;
  /** The lifecycle result sent, when one was. */
  readonly lifecycleResult?: string;
  /** True for an instance served for another drainer (this one led its group). */
  readonly forPeer?: boolean;
  readonly error?: string;
}

export interface DrainContext {
  readonly port: AwsPort;
  readonly config: DrainerConfig;
  readonly log: Logger;
  /** The drainer's own task ARN, when it runs as an ECS task in this cluster. */
  readonly ownTaskArn?: string;
  readonly signal: AbortSignal;
  /** Milliseconds, monotonic enough for intervals. */
  readonly now: () => number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A number in [0, 1), to spread followers' looks. Defaults to Math.random. */
  readonly random?: () => number;
}

/** Consecutive failed polls of one instance after which the drainer gives up on it. */
export const MAX_CONSECUTIVE_FAILURES = 5;

/**
 * At most this many instances are watched without reading their container instance (see `watch`). Confirming an
 * instance costs one ListTasks at the end, which pays for the DescribeContainerInstances call saved at every poll only
 * when the instances are few; many instances also share that call.
 */
export const WATCH_AT_MOST = 10;

/** Above this many instances to locate, list the cluster's container instances once rather than one by one. */
export const BULK_LOCATE_ABOVE = 20;

/**
 * What a run does: a sweep serves every waiting instance of its groups; in event mode a leader serves its group, a
 * follower leaves its instance to the leader, and a follower that finds no drainer at work on its instance drains it
 * `alone`.
 */
type Role = "sweep" | "leader" | "follower" | "alone";

interface InstanceState {
  readonly ref: LifecycleActionRef;
  readonly log: Logger;
  readonly startedAt: number;
  /** This run answers for the instance: it heartbeats it and enforces its deadline. False for a peer's instance. */
  readonly own: boolean;
  readonly plan: HookPlan;
  containerInstanceArn?: string;
  drainingSet: boolean;
  nextHeartbeatAt: number;
  countsAtListing?: readonly [number, number];
  pollsSinceListing: number;
  /** The instance's tasks seen not STOPPED: what a `known` listing describes again. */
  known: Set<string>;
  /** Whether `known` holds every task that can still block (see `knownTasksComplete`). */
  knownComplete: boolean;
  lastBlockers?: Blockers;
  lastBlockersKey?: string;
  stopRequested: Set<string>;
  /** The container instance as the last DescribeContainerInstances showed it. */
  lastView?: ContainerInstanceView;
  /** A follower's previous look left a listing of the instance (a proof, a decision) to the leader. */
  deferredToLeader: boolean;
  tasksAtStart: number | null;
  failures: number;
  outcome?: Outcome;
}

interface Run {
  readonly ctx: DrainContext;
  /** The context's port, counting the ECS reads of the current poll (`reads`). */
  readonly port: AwsPort;
  reads: number;
  role: Role;
  readonly states: InstanceState[];
  readonly plans: Map<string, HookPlan>;
  /** Tasks seen STOPPED: terminal, never described again. */
  readonly knownStopped: Set<string>;
}

/** Drains the instances the configuration names (event mode) or finds (sweep mode). Never throws for AWS errors. */
export async function drain(ctx: DrainContext): Promise<Outcome[]> {
  const { config, log } = ctx;
  const start = await findTargets(ctx);
  if ("result" in start) return [start];
  if (start.refs.length === 0) {
    log.log("info", "no instance is waiting to terminate", { action: "sweep", asgs: config.asgs });
    return [];
  }

  const run: Run = {
    ctx,
    port: pacedReads(
      ctx.port,
      new ReadPacer(config.ecsReadsPerSecond, ctx.now, ctx.sleep, ctx.signal),
      (calls) => (run.reads += calls),
    ),
    reads: 0,
    role: start.role,
    states: [],
    plans: new Map(),
    knownStopped: new Set(),
  };
  for (const ref of start.refs)
    await addInstance(run, ref, ref.instanceId === config.instanceId || start.role === "sweep");
  // A follower locates its instance at its first look, so that a large scale-in does not start with a burst.
  if (run.role !== "follower") await locate(run, run.states);

  const pollEvery = start.role === "follower" ? followerPollEvery(start.waiting) : 1;
  let pollMs = config.pollIntervalSeconds * 1000 * pollEvery;
  // A follower backs off: the group it saw at its start may have been only the first of a large scale-in.
  const longestMs = config.pollIntervalSeconds * 1000 * Math.max(pollEvery, FOLLOWER_MAX_POLLS);
  if (start.role === "follower") {
    log.log(
      "info",
      `another drainer leads ${start.waiting} waiting instances of the group; checking the action within ${pollMs / 1000} s, then less and less often, and looking at ECS only if no drainer seems at work`,
      {
        action: "follow",
      },
    );
  }
  // A follower's first look is spread over its interval, so that a large scale-in does not start with a burst.
  let nextPollAt =
    ctx.now() +
    (start.role === "follower" ? Math.floor((ctx.random ?? Math.random)() * pollMs) : 0);
  let firstPoll = true;
  let lastPollAt = -Infinity;

  // Heartbeats run on their own timer, so that a slow poll (ECS throttling, the SDK's retries, a leader's spread-out
  // listings) never delays one past the hook's heartbeat timeout.
  const stopHeartbeats = new AbortController();
  const heartbeats = heartbeatLoop(run, AbortSignal.any([ctx.signal, stopHeartbeats.signal]));

  while (!ctx.signal.aborted) {
    if (active(run).length === 0) break;
    const now = ctx.now();
    // A deadline that passed since the last poll calls for one at once (to log what blocks, then give up).
    const deadlineDue = active(run).some(
      (s) => s.own && now >= deadlineOf(s) && lastPollAt < deadlineOf(s),
    );
    if (now >= nextPollAt || deadlineDue) {
      // Polls start every interval, however long one takes (its ListTasks calls are spread over the interval).
      const pollStart = now;
      if (run.role === "follower" && !deadlineDue && !(await stillWaiting(run))) break;
      if (run.role === "leader" && !firstPoll) await adoptNewcomers(run);
      // A follower's early looks are at its action only (Auto Scaling): the leader needs a few polls to set every
      // instance DRAINING, and a follower's ECS reads would come out of the leader's budget.
      const quiet =
        run.role === "follower" &&
        !deadlineDue &&
        pollStart - run.states[0].startedAt <
          FOLLOWER_QUIET_POLLS * config.pollIntervalSeconds * 1000;
      if (!quiet) {
        lastPollAt = pollStart;
        await poll(run, active(run), firstPoll);
        firstPoll = false;
        // The reads of the next poll's budget start here (the first's include locating the instances).
        run.reads = 0;
      }
      // A follower that found no drainer at work drains its instance alone. In a large group its peers' drainers may
      // all do the same (the leader is gone), so it polls only every ceil(waiting / 10) intervals, like their looks.
      if (run.role === "alone") pollMs = config.pollIntervalSeconds * 1000 * pollEvery;
      nextPollAt = Math.max(pollStart + pollMs, ctx.now());
      if (run.role === "follower") pollMs = Math.min(pollMs * 2, longestMs);
      if (config.dryRun) break;
    }
    const still = active(run);
    if (still.length === 0) break;
    const wakeAt = Math.min(
      nextPollAt,
      ...still
        .filter((s) => s.own)
        .map(deadlineOf)
        .filter((d) => d > lastPollAt),
    );
    await ctx.sleep(Math.max(0, wakeAt - ctx.now()), ctx.signal);
  }
  stopHeartbeats.abort();
  await heartbeats;

  for (const s of run.states) {
    if (s.outcome) continue;
    s.outcome = outcome(ctx, s, ctx.signal.aborted ? "interrupted" : "dry-run");
    if (s.outcome.result === "interrupted") {
      s.log.log(
        "warn",
        "stopped before the drain finished; the lifecycle action is left for the hook's heartbeat timeout or the next sweep",
        { action: "interrupt" },
      );
    }
  }
  return run.states.map((s) => s.outcome!);
}

function active(run: Run): InstanceState[] {
  return run.states.filter((s) => !s.outcome);
}

/** The instances to drain, and this run's role: the event's instance (and, leading, its group's), or a sweep's. */
async function findTargets(
  ctx: DrainContext,
): Promise<Outcome | { role: Role; refs: LifecycleActionRef[]; waiting: number }> {
  const { config, port, log } = ctx;
  if (config.mode === "sweep") {
    const waiting = waitingInstances(await port.describeGroupInstances(config.asgs));
    log.log("info", `sweep found ${waiting.length} instance(s) in Terminating:Wait`, {
      action: "sweep",
      asgs: config.asgs,
      instances: waiting.map((i) => i.instanceId),
    });
    const refs = waiting.map((i) => ({ asg: i.asg, hook: config.hook, instanceId: i.instanceId }));
    return { role: "sweep", refs, waiting: refs.length };
  }
  const own: LifecycleActionRef = {
    asg: config.asg!,
    hook: config.hook,
    instanceId: config.instanceId!,
    token: config.token,
  };
  const group = await port.describeGroupInstances([own.asg]);
  const found = group.find((i) => i.instanceId === own.instanceId);
  const verdict = eventPrecheck(found?.lifecycleState);
  if (verdict !== "proceed") {
    log.log(
      verdict === "already-complete" ? "info" : "warn",
      verdict === "already-complete"
        ? "the instance is no longer waiting on a lifecycle action; nothing to do"
        : "the instance is not terminating; the event is stale, nothing to do",
      { action: "precheck", lifecycleState: found?.lifecycleState ?? null },
    );
    return {
      instanceId: own.instanceId,
      asg: own.asg,
      result: verdict,
      drainSeconds: 0,
      tasksAtStart: null,
    };
  }
  const peers = waitingInstances(group)
    .map((i) => i.instanceId)
    .filter((id) => id !== own.instanceId);
  const lead = leadsGroup(own.instanceId, peers);
  const refs = lead
    ? [own, ...peers.map((instanceId) => ({ asg: own.asg, hook: own.hook, instanceId }))]
    : [own];
  if (lead && peers.length > 0) {
    log.log("info", `leading the group's ${peers.length + 1} waiting instances`, {
      action: "lead",
      peers,
    });
  }
  return { role: lead ? "leader" : "follower", refs, waiting: peers.length + 1 };
}

async function addInstance(
  run: Run,
  ref: LifecycleActionRef,
  own: boolean,
): Promise<InstanceState> {
  const { ctx } = run;
  let plan = run.plans.get(ref.asg);
  if (!plan) {
    plan = planHook({
      hookName: ctx.config.hook,
      hooks: await ctx.port.describeLifecycleHooks(ref.asg),
      heartbeatIntervalSeconds: ctx.config.heartbeatIntervalSeconds,
      drainTimeoutSeconds: ctx.config.drainTimeoutSeconds,
    });
    for (const w of plan.warnings) ctx.log.log("warn", w, { action: "plan", asg: ref.asg });
    run.plans.set(ref.asg, plan);
  }
  const now = ctx.now();
  const state: InstanceState = {
    ref,
    log: ctx.log.with({ instanceId: ref.instanceId, asg: ref.asg }),
    startedAt: now,
    own,
    plan,
    drainingSet: false,
    nextHeartbeatAt: own ? now + plan.heartbeatIntervalSeconds * 1000 : Infinity,
    pollsSinceListing: 0,
    known: new Set(),
    knownComplete: false,
    stopRequested: new Set(),
    deferredToLeader: false,
    tasksAtStart: null,
    failures: 0,
  };
  run.states.push(state);
  return state;
}

/** A leader takes on instances of its group that started waiting after it did. */
async function adoptNewcomers(run: Run): Promise<void> {
  const { ctx } = run;
  const asg = ctx.config.asg!;
  let group;
  try {
    group = await ctx.port.describeGroupInstances([asg]);
  } catch (err) {
    ctx.log.log("warn", "reading the group's waiting instances failed; will retry", {
      action: "lead",
      error: errorText(err),
    });
    return;
  }
  const waiting = new Set(waitingInstances(group).map((i) => i.instanceId));
  for (const s of active(run)) {
    if (!s.own && !waiting.has(s.ref.instanceId)) {
      s.outcome = { ...outcome(ctx, s, "already-complete"), forPeer: true };
    }
  }
  const known = new Set(run.states.map((s) => s.ref.instanceId));
  const added: InstanceState[] = [];
  for (const id of waiting) {
    if (!known.has(id))
      added.push(await addInstance(run, { asg, hook: ctx.config.hook, instanceId: id }, false));
  }
  if (added.length > 0) {
    ctx.log.log("info", `leading ${added.length} more waiting instance(s)`, {
      action: "lead",
      peers: added.map((s) => s.ref.instanceId),
    });
    await locate(run, added);
  }
}

/**
 * A token bucket on the drainer's clock: `rate` tokens a second, and a burst of one second's worth. It keeps the
 * drainer's ECS reads at ECS_READS_PER_SECOND over any stretch of time, not only over a poll.
 */
export class ReadPacer {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>,
    private readonly signal: AbortSignal,
  ) {
    this.tokens = this.burst;
    this.at = now();
  }

  private get burst(): number {
    return Math.max(1, this.rate);
  }

  /** Waits for a token, then spends `calls` of them (a batched call may leave the bucket in debt). */
  async take(calls: number): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.rate);
      this.at = t;
      if (this.tokens >= 1 || this.signal.aborted) break;
      await this.sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000), this.signal);
    }
    this.tokens -= calls;
  }

  /** Spends tokens for calls already made (the further pages of a list). */
  spend(calls: number): void {
    this.tokens -= calls;
  }
}

/**
 * The port, pacing and counting the ECS read calls it makes: DescribeContainerInstances and DescribeTasks take 100 a
 * call, and the lists come 100 a page. Auto Scaling calls and ECS writes have budgets of their own and go unpaced.
 */
function pacedReads(port: AwsPort, pacer: ReadPacer, count: (calls: number) => void): AwsPort {
  const calls = (n: number) => Math.max(1, Math.ceil(n / 100));
  const read = async <T>(n: number, call: () => Promise<T>): Promise<T> => {
    await pacer.take(n);
    count(n);
    return call();
  };
  const listed = async (list: () => Promise<string[]>) => {
    const arns = await read(1, list);
    const pages = calls(arns.length) - 1;
    pacer.spend(pages);
    count(pages);
    return arns;
  };
  return {
    findContainerInstances: (cluster, id) => listed(() => port.findContainerInstances(cluster, id)),
    listContainerInstances: (cluster) => listed(() => port.listContainerInstances(cluster)),
    describeContainerInstances: (cluster, arns) =>
      read(calls(arns.length), () => port.describeContainerInstances(cluster, arns)),
    setDraining: (cluster, arns) => port.setDraining(cluster, arns),
    listTasks: (cluster, arn, status) => listed(() => port.listTasks(cluster, arn, status)),
    describeTasks: (cluster, arns) =>
      read(calls(arns.length), () => port.describeTasks(cluster, arns)),
    stopTask: (cluster, arn, reason) => port.stopTask(cluster, arn, reason),
    completeLifecycleAction: (ref, result) => port.completeLifecycleAction(ref, result),
    recordHeartbeat: (ref) => port.recordHeartbeat(ref),
    describeAutoScalingInstances: (ids) => port.describeAutoScalingInstances(ids),
    describeGroupInstances: (asgs) => port.describeGroupInstances(asgs),
    describeLifecycleHooks: (asg) => port.describeLifecycleHooks(asg),
  };
}

/** A follower's look at its own action: over when a leader, a sweep or the hook ended it. */
async function stillWaiting(run: Run): Promise<boolean> {
  const s = run.states[0];
  try {
    const [found] = await run.port.describeAutoScalingInstances([s.ref.instanceId]);
    if (eventPrecheck(found?.lifecycleState) === "proceed") return true;
    s.log.log("info", "another drainer completed the lifecycle action", {
      action: "follow",
      lifecycleState: found?.lifecycleState ?? null,
    });
    s.outcome = outcome(run.ctx, s, "already-complete");
    return false;
  } catch (err) {
    s.log.log("warn", "reading the instance's lifecycle state failed; looking at ECS instead", {
      action: "follow",
      error: errorText(err),
    });
    return true;
  }
}

async function locate(run: Run, states: InstanceState[]): Promise<void> {
  const { ctx } = run;
  const { cluster } = ctx.config;
  const need = states.filter((s) => !s.outcome && s.containerInstanceArn === undefined);
  if (need.length === 0) return;
  const found = new Map<string, string>();
  try {
    if (need.length > BULK_LOCATE_ABOVE) {
      const all = await run.port.listContainerInstances(cluster);
      for (const ci of await run.port.describeContainerInstances(cluster, all)) {
        if (ci.ec2InstanceId) found.set(ci.ec2InstanceId, ci.arn);
      }
    } else {
      await Promise.all(
        need.map(async (s) => {
          const [arn] = await run.port.findContainerInstances(cluster, s.ref.instanceId);
          if (arn) found.set(s.ref.instanceId, arn);
        }),
      );
    }
  } catch (err) {
    for (const s of need) failed(run, s, "finding the container instance", err);
    return;
  }
  for (const s of need) {
    const arn = found.get(s.ref.instanceId);
    if (!arn) {
      s.log.log("info", "the instance is not in the cluster; completing at once", {
        action: "locate",
      });
      await complete(run, s, LifecycleResult.Continue, "not-in-cluster");
      continue;
    }
    s.containerInstanceArn = arn;
    s.log.log("info", "found the container instance", {
      action: "locate",
      containerInstanceArn: arn,
    });
  }
}

/** Sends each of the run's own instances its heartbeats on time, until they are all done or the run stops. */
async function heartbeatLoop(run: Run, signal: AbortSignal): Promise<void> {
  const { ctx } = run;
  while (!signal.aborted) {
    await heartbeatDue(run);
    const own = active(run).filter((s) => s.own);
    if (own.length === 0) return;
    const next = Math.min(...own.map((s) => s.nextHeartbeatAt));
    await ctx.sleep(Math.max(0, next - ctx.now()), signal);
  }
}

async function heartbeatDue(run: Run): Promise<void> {
  const { ctx } = run;
  const now = ctx.now();
  const due = active(run).filter((s) => s.own && s.nextHeartbeatAt <= now);
  await Promise.all(
    due.map(async (s) => {
      if (ctx.config.dryRun) {
        s.log.log("info", "would record a lifecycle heartbeat", { action: "heartbeat" });
        s.nextHeartbeatAt = now + s.plan.heartbeatIntervalSeconds * 1000;
        return;
      }
      try {
        await run.port.recordHeartbeat(s.ref);
        s.nextHeartbeatAt = now + s.plan.heartbeatIntervalSeconds * 1000;
        s.log.log("debug", "recorded a lifecycle heartbeat", { action: "heartbeat" });
      } catch (err) {
        if (isNoActiveLifecycleAction(err)) {
          s.log.log("info", "the lifecycle action is already complete; stopping", {
            action: "heartbeat",
          });
          s.outcome = outcome(ctx, s, "already-complete");
          return;
        }
        // Try again soon rather than a whole interval later.
        s.nextHeartbeatAt =
          now + Math.min(ctx.config.pollIntervalSeconds, s.plan.heartbeatIntervalSeconds) * 1000;
        s.log.log("warn", "recording a lifecycle heartbeat failed; will retry", {
          action: "heartbeat",
          error: errorText(err),
        });
      }
    }),
  );
}

/** One look at every active instance: shared reads, then a decision for each. */
async function poll(run: Run, states: InstanceState[], first: boolean): Promise<void> {
  const { ctx } = run;
  const { config } = ctx;
  const port = run.port;
  await locate(run, states);
  let located = states.filter((s) => !s.outcome && s.containerInstanceArn !== undefined);
  if (located.length === 0) return;
  if (located.length <= WATCH_AT_MOST && located.every((s) => watching(run, s))) {
    located = await watch(run, located);
    if (located.length === 0) return;
  }

  let views: Map<string, ContainerInstanceView>;
  try {
    const described = await port.describeContainerInstances(
      config.cluster,
      located.map((s) => s.containerInstanceArn!),
    );
    views = new Map(described.map((v) => [v.arn, v]));
  } catch (err) {
    for (const s of located) failed(run, s, "describing the container instance", err);
    return;
  }

  const toDrain: InstanceState[] = [];
  const live: Planned[] = [];
  const now = ctx.now();
  for (const s of located) {
    const ci = views.get(s.containerInstanceArn!);
    s.lastView = ci;
    if (!ci || isGone(ci)) {
      s.log.log("info", "the container instance is gone from the cluster; completing", {
        action: "describe",
        ecsStatus: ci?.status ?? "MISSING",
      });
      await complete(run, s, LifecycleResult.Continue, "not-in-cluster");
      continue;
    }
    if (ci.status === "ACTIVE") {
      toDrain.push(s);
      if (run.role === "follower") {
        // The leader would have set it DRAINING within a poll: it is gone, or failing.
        run.role = "alone";
        s.log.log(
          "warn",
          "no drainer has set the instance DRAINING; draining it alone, as if no other drainer led the group",
          { action: "follow" },
        );
      }
    } else if (ci.status === "DRAINING" && !s.drainingSet) {
      s.drainingSet = true;
      s.log.log("info", "the container instance is already DRAINING", { action: "drain" });
    }
    s.pollsSinceListing++;
    const atDeadline = s.own && now >= deadlineOf(s);
    // A leader's peer, or a follower's own instance: this run does not answer for what blocks it.
    const asPeer = !s.own || run.role === "follower";
    const listing = needsListing({
      first: first || s.countsAtListing === undefined,
      atDeadline,
      counts: [ci.runningTasksCount, ci.pendingTasksCount],
      countsAtListing: s.countsAtListing,
      pollsSinceListing: s.pollsSinceListing,
      ownTaskMayBeHere: ctx.ownTaskArn !== undefined,
      peer: asPeer,
      knownComplete: s.knownComplete,
      stopStandaloneTasks: config.stopStandaloneTasks,
    });
    // A peer's instance that still has running tasks is listed only to learn its tasks: nothing is decided on it in
    // this poll, so those listings go last, after the decisions (unless STOP_STANDALONE_TASKS asks for a decision on
    // every listing). A follower learns nothing: the leader is at work.
    const learn =
      !config.stopStandaloneTasks &&
      asPeer &&
      listing === "full" &&
      ci.runningTasksCount + ci.pendingTasksCount > (ctx.ownTaskArn !== undefined ? 1 : 0);
    live.push({ s, ci, listing: followerListing(run, s, listing, learn, atDeadline), learn });
  }
  await setDraining(run, toDrain);
  for (const l of live) {
    // Someone set the instance ACTIVE again (ECS may place new tasks on it until it drains again), or tasks were
    // placed on it since it was listed: its known tasks may not be all of them any more.
    if (l.ci.status === "ACTIVE" || countsRose(l.s, l.ci)) l.s.knownComplete = false;
  }
  budgetListings(run, live);

  const learning = live.filter((l) => l.learn && l.listing !== "none");
  const deciding = live.filter((l) => !l.learn);
  // Instances decided from ECS's counters and their known tasks go first, so that each is decided at the same moment
  // of every poll; those that need ListTasks follow, spread over the interval.
  const prompt = deciding.filter((l) => l.listing === "none" || l.listing === "known");
  const listing = deciding.filter((l) => l.listing !== "none" && l.listing !== "known");
  await decide(run, prompt, await listTasks(run, prompt), now);
  await decide(run, listing, await listTasks(run, listing), now);

  const learned = await listTasks(run, learning);
  for (const { s, ci, listing } of learning) {
    const tasks = learned.get(s);
    if (s.outcome || tasks === undefined) continue;
    s.failures = 0;
    recordListing(s, ci, listing, tasks);
  }
}

/** Decides, for each instance, from this poll's view of it and what was listed: complete, wait, or stop tasks. */
async function decide(
  run: Run,
  planned: readonly Planned[],
  listed: ReadonlyMap<InstanceState, TaskView[]>,
  now: number,
): Promise<void> {
  const { ctx } = run;
  const { config } = ctx;
  for (const { s, ci, listing } of planned) {
    if (s.outcome) continue;
    const tasks = listed.get(s);
    if (listing !== "none" && tasks === undefined) continue; // the listing failed, and was counted
    s.failures = 0;
    if (listing !== "none") recordListing(s, ci, listing, tasks!);
    const verdict = assessInstance({
      containerInstance: ci,
      listing,
      tasks: tasks ?? [],
      knownComplete: s.knownComplete,
      ownTaskArn: ctx.ownTaskArn,
      stopStandaloneTasks: config.stopStandaloneTasks,
    });
    if (listing !== "none") noteBlockers(s, verdict.kind === "drained" ? [] : verdict.blocking);

    if (verdict.kind === "drained") {
      if (!config.dryRun) {
        s.log.log("info", "no task runs, starts or stops on the instance any more", {
          action: "drained",
        });
      }
      await complete(run, s, LifecycleResult.Continue, "completed");
      continue;
    }
    if (config.dryRun) {
      s.log.log("info", "would wait for the tasks that block the drain", {
        action: "wait",
        blockers: s.lastBlockers ?? null,
      });
      s.outcome = outcome(ctx, s, "dry-run");
      continue;
    }
    if (s.own && now >= deadlineOf(s) && listing === "full") {
      s.log.log("error", "the drain timed out; these tasks still block it", {
        action: "timeout",
        timeoutResult: config.timeoutResult,
        blockingTasks: verdict.blocking.map((t) => ({
          taskArn: t.arn,
          group: t.group,
          lastStatus: t.lastStatus,
          desiredStatus: t.desiredStatus,
        })),
      });
      await complete(run, s, config.timeoutResult, "timed-out");
      continue;
    }
    if (verdict.kind === "stop-standalone") await stopStandalone(run, s, verdict.stop);
  }
}

/**
 * Whether the instance only waits for known tasks to finish stopping: DRAINING, no task left to run, and every task
 * that can still block known. Until they have stopped, describing them is the whole poll.
 */
function watching(run: Run, s: InstanceState): boolean {
  const ci = s.lastView;
  return (
    run.role !== "follower" &&
    !run.ctx.config.dryRun &&
    s.knownComplete &&
    s.known.size > 0 &&
    ci?.status === "DRAINING" &&
    ci.runningTasksCount + ci.pendingTasksCount === 0 &&
    !(s.own && run.ctx.now() >= deadlineOf(s))
  );
}

/**
 * A poll of instances that only wait for their known tasks to stop: one shared DescribeTasks, without reading the
 * container instances. Returns those whose known tasks have all stopped. Before completing them, the poll goes on
 * as any other, with ECS's counters and a fresh listing: while it only watched, someone could have set an instance
 * ACTIVE, had a task placed on it and set it DRAINING again.
 */
async function watch(run: Run, states: InstanceState[]): Promise<InstanceState[]> {
  const described = await listTasks(
    run,
    states.map((s) => ({ s, listing: "known" as Listing })),
  );
  const done: InstanceState[] = [];
  for (const s of states) {
    const tasks = described.get(s);
    if (s.outcome || tasks === undefined) continue; // the call failed, and was counted
    s.failures = 0;
    for (const t of tasks) if (t.lastStatus === "STOPPED") s.known.delete(t.arn);
    const blocking = tasks.filter((t) => blocksDrain(t, run.ctx.ownTaskArn));
    if (blocking.length > 0) {
      noteBlockers(s, blocking);
      continue;
    }
    s.knownComplete = false;
    done.push(s);
  }
  return done;
}

/**
 * What a follower lists: the leader watches the instance's tasks, so a follower lists nothing to learn them, and
 * lists anything else (to prove the instance empty, or to stop standalone tasks) only when its previous look already
 * left that to the leader: the leader has had a whole interval to act, and has not. At the deadline it lists as any
 * drainer does.
 */
function followerListing(
  run: Run,
  s: InstanceState,
  listing: Listing,
  learn: boolean,
  atDeadline: boolean,
): Listing {
  if (run.role !== "follower" || atDeadline || listing === "none") return listing;
  if (learn) return "none";
  const leaderHadTime = s.deferredToLeader;
  s.deferredToLeader = true;
  return leaderHadTime ? listing : "none";
}

/** Remembers what a listing showed: the instance's tasks, and whether they are all of them. */
function recordListing(
  s: InstanceState,
  ci: ContainerInstanceView,
  listing: Listing,
  tasks: readonly TaskView[],
): void {
  s.countsAtListing = [ci.runningTasksCount, ci.pendingTasksCount];
  s.pollsSinceListing = 0;
  for (const t of tasks) {
    if (t.lastStatus === "STOPPED") s.known.delete(t.arn);
    else s.known.add(t.arn);
  }
  if (listing === "full" || listing === "stopped") {
    s.knownComplete ||= knownTasksComplete(drainedView(s, ci), tasks);
  }
}

/** The instance as it is after this poll set it DRAINING (the view was read just before). */
function drainedView(s: InstanceState, ci: ContainerInstanceView): ContainerInstanceView {
  return s.drainingSet && ci.status === "ACTIVE" ? { ...ci, status: "DRAINING" } : ci;
}

/** Whether ECS counts more tasks whose desiredStatus is RUNNING than at the last listing. */
function countsRose(s: InstanceState, ci: ContainerInstanceView): boolean {
  if (!s.countsAtListing) return false;
  const [running, pending] = s.countsAtListing;
  return ci.runningTasksCount + ci.pendingTasksCount > running + pending;
}

/** ECS reads one poll may make: ECS_READS_PER_SECOND per second of poll interval. */
function readsBudget(run: Run): number {
  const { ecsReadsPerSecond, pollIntervalSeconds } = run.ctx.config;
  return Math.max(2, Math.floor(ecsReadsPerSecond * pollIntervalSeconds));
}

/**
 * ListTasks calls the rest of this poll may make: the poll's budget, less the reads it made already and the
 * DescribeTasks calls that will describe known tasks and what the listings find. At least 2, so that a proof of
 * emptiness can always go ahead.
 */
function listTasksAllowance(run: Run, live: readonly Planned[]): number {
  const known = live.filter((l) => l.listing === "known").reduce((n, l) => n + l.s.known.size, 0);
  return Math.max(2, readsBudget(run) - run.reads - Math.ceil(known / 100) - 1);
}

/**
 * Which listings go first: proofs of emptiness and deadlines (the run's own instances first), then the run's own
 * instances' other listings, and last what a leader lists only to learn its peers' tasks.
 */
function rank(l: { s: InstanceState; listing: Listing; learn?: boolean }): number {
  if (l.learn) return 4;
  return (l.listing === "full" || l.listing === "stopped" ? 0 : 2) + (l.s.own ? 0 : 1);
}

/** An instance in this poll: how ECS's counters show it, and what it will list. */
interface Planned {
  readonly s: InstanceState;
  readonly ci: ContainerInstanceView;
  listing: Listing;
  /** Listed only to learn its tasks (a peer's instance with tasks still running). */
  readonly learn: boolean;
}

/**
 * Keeps one poll's ECS reads within ECS_READS_PER_SECOND per second of poll interval, so that a leader serving
 * hundreds of instances stays inside ECS's read budget. Proofs of emptiness and deadlines go first, then the run's own
 * instances, then peers'; what does not fit waits for the next poll.
 */
function budgetListings(run: Run, live: Planned[]): void {
  let budget = listTasksAllowance(run, live);
  let learning = false;
  for (const l of [...live].sort((a, b) => rank(a) - rank(b))) {
    // What is listed only to learn is described by a DescribeTasks call of its own, after the decisions.
    const cost = listTasksCalls(l.listing) + (l.learn && !learning ? 1 : 0);
    if (listTasksCalls(l.listing) === 0) continue;
    if (cost <= budget) {
      budget -= cost;
      learning ||= l.learn;
    } else l.listing = "none";
  }
}

async function setDraining(run: Run, states: InstanceState[]): Promise<void> {
  if (states.length === 0) return;
  const { ctx } = run;
  if (ctx.config.dryRun) {
    for (const s of states)
      s.log.log("info", "would set the container instance to DRAINING", { action: "drain" });
    return;
  }
  try {
    await run.port.setDraining(
      ctx.config.cluster,
      states.map((s) => s.containerInstanceArn!),
    );
    for (const s of states) {
      s.log.log(
        "info",
        s.drainingSet
          ? "the container instance was ACTIVE again; set it back to DRAINING"
          : "set the container instance to DRAINING",
        { action: "drain" },
      );
      s.drainingSet = true;
    }
  } catch (err) {
    for (const s of states) failed(run, s, "setting the container instance to DRAINING", err);
  }
}

/** Lists and describes the tasks of the instances that need it, sharing DescribeTasks between instances. */
async function listTasks(
  run: Run,
  wanted: { s: InstanceState; listing: Listing }[],
): Promise<Map<InstanceState, TaskView[]>> {
  const { config } = run.ctx;
  const port = run.port;
  const listed = new Map<InstanceState, TaskView[]>();
  const arnsByInstance = new Map<InstanceState, string[]>();
  // The poll's ListTasks calls are spread over a tenth of its budget at a time, a tenth of the poll interval apart,
  // so that even a leader listing hundreds of instances keeps a steady read rate rather than a burst.
  const batchCost = Math.ceil(readsBudget(run) / 10);
  const batches: { s: InstanceState; listing: Listing }[][] = [[]];
  let cost = 0;
  for (const l of [...wanted].sort((a, b) => rank(a) - rank(b))) {
    const c = listTasksCalls(l.listing);
    if (c > 0 && cost + c > batchCost && batches[batches.length - 1].length > 0) {
      batches.push([]);
      cost = 0;
    }
    cost += c;
    batches[batches.length - 1].push(l);
  }
  for (const [i, batch] of batches.entries()) {
    if (i > 0) await run.ctx.sleep((config.pollIntervalSeconds * 1000) / 10, run.ctx.signal);
    if (run.ctx.signal.aborted) break;
    await listBatch(run, batch, arnsByInstance);
  }
  const all = [...arnsByInstance.values()].flat();
  if (all.length === 0) {
    for (const s of arnsByInstance.keys()) listed.set(s, []);
    return listed;
  }
  try {
    const byArn = new Map((await port.describeTasks(config.cluster, all)).map((t) => [t.arn, t]));
    for (const [s, arns] of arnsByInstance) {
      const mine = arns.map((a) => byArn.get(a)).filter((t): t is TaskView => t !== undefined);
      for (const t of mine) if (t.lastStatus === "STOPPED") run.knownStopped.add(t.arn);
      listed.set(s, mine);
    }
  } catch (err) {
    for (const s of arnsByInstance.keys()) failed(run, s, "describing the instance's tasks", err);
  }
  return listed;
}

/** Lists (or, for `known`, recalls) one batch of instances' task ARNs, less those known to be STOPPED. */
async function listBatch(
  run: Run,
  batch: { s: InstanceState; listing: Listing }[],
  arnsByInstance: Map<InstanceState, string[]>,
): Promise<void> {
  const { config } = run.ctx;
  const port = run.port;
  await Promise.all(
    batch.map(async ({ s, listing }) => {
      if (listing === "none") return;
      if (listing === "known") {
        arnsByInstance.set(s, [...s.known]);
        return;
      }
      try {
        const [running, stopped] = await Promise.all([
          listing === "stopped"
            ? []
            : port.listTasks(config.cluster, s.containerInstanceArn!, "RUNNING"),
          listing === "running"
            ? []
            : port.listTasks(config.cluster, s.containerInstanceArn!, "STOPPED"),
        ]);
        const arns = [...new Set([...running, ...stopped])].filter((a) => !run.knownStopped.has(a));
        arnsByInstance.set(s, arns);
      } catch (err) {
        failed(run, s, "listing the instance's tasks", err);
      }
    }),
  );
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
}

async function stopStandalone(
  run: Run,
  s: InstanceState,
  tasks: readonly TaskView[],
): Promise<void> {
  const { ctx } = run;
  for (const t of tasks.filter((t) => !s.stopRequested.has(t.arn))) {
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

async function complete(
  run: Run,
  s: InstanceState,
  result: LifecycleResult,
  as: Result,
): Promise<void> {
  const { ctx } = run;
  const forPeer = s.own ? {} : { forPeer: true };
  if (ctx.config.dryRun) {
    const why = as === "completed" ? ": nothing runs on the instance" : "";
    s.log.log("info", `would complete the lifecycle action with ${result}${why}`, {
      action: "complete",
    });
    s.outcome = outcome(ctx, s, "dry-run");
    return;
  }
  try {
    // A peer's action is completed by instance ID: only its own drainer has the token.
    await run.port.completeLifecycleAction(s.own ? s.ref : { ...s.ref, token: undefined }, result);
    s.log.log("info", `completed the lifecycle action with ${result}`, {
      action: "complete",
      lifecycleResult: result,
      ...forPeer,
    });
    s.outcome = { ...outcome(ctx, s, as, result), ...forPeer };
  } catch (err) {
    if (isNoActiveLifecycleAction(err)) {
      s.log.log("info", "the lifecycle action was already complete", { action: "complete" });
      s.outcome = { ...outcome(ctx, s, "already-complete"), ...forPeer };
      return;
    }
    failed(run, s, "completing the lifecycle action", err);
  }
}

/** Counts a failed step; gives up on the instance after repeated or permanent failures. */
function failed(run: Run, s: InstanceState, doing: string, err: unknown): void {
  s.failures += 1;
  const giveUp = isPermanent(err) || s.failures >= MAX_CONSECUTIVE_FAILURES;
  s.log.log(
    giveUp ? "error" : "warn",
    giveUp ? `${doing} failed; giving up on this instance` : `${doing} failed; will retry`,
    { action: "error", error: errorText(err), consecutiveFailures: s.failures },
  );
  if (giveUp) {
    s.outcome = {
      ...outcome(run.ctx, s, "failed", undefined, `${doing}: ${errorText(err)}`),
      ...(s.own ? {} : { forPeer: true }),
    };
  }
}

/** Client errors other than throttling will not go away by retrying (access denied, a bad parameter). */
function isPermanent(err: unknown): boolean {
  const e = err as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; name?: string };
  const status = e?.$metadata?.httpStatusCode;
  if (status === undefined || e.$retryable) return false;
  if (/throttl|toomanyrequests|ratelimit/i.test(e.name ?? "")) return false;
  return status >= 400 && status < 500;
}

function deadlineOf(s: InstanceState): number {
  return s.startedAt + s.plan.deadlineSeconds * 1000;
}

function outcome(
  ctx: DrainContext,
  s: InstanceState,
  result: Result,
  lifecycleResult?: string,
  error?: string,
): Outcome {
  return {
    instanceId: s.ref.instanceId,
    asg: s.ref.asg,
    result,
    drainSeconds: Math.round((ctx.now() - s.startedAt) / 10) / 100,
    tasksAtStart: s.tasksAtStart,
    ...(lifecycleResult ? { lifecycleResult } : {}),
    ...(error ? { error } : {}),
  };
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
