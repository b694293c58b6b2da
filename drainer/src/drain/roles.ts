/**
 * Leadership: who answers for the held actions of a deployment's groups. None of this decides that an instance is
 * drained: that is rules.ts.
 *
 * ECS itself is the registry, so no state outside AWS decides who leads: every drainer of a deployment is a task of
 * the same task definition revision, and the oldest of them that ECS shows RUNNING (by startedAt, then ARN) leads.
 * - The leader answers for every held action of every group in AUTOSCALING_GROUP_NAMES, whether or not that action's
 *   own drainer ever started: it heartbeats each from its first look (rule 2), enforces each deadline (rule 3),
 *   completes each by rule 1, on every terminate path (rule 6). It looks for actions held since at every poll.
 * - Any other drainer is a follower: it heartbeats its own action, sets its own instance DRAINING (rule 7), looks at
 *   the leader again one poll interval later and, finding it still live, leaves: it exits 0 within two poll
 *   intervals, naming the leader. A drainer that never launched therefore costs nothing: the leader serves its action.
 * - A leader that finds an older live leader steps down the same way. Two leaders at once for a while are harmless:
 *   every write is idempotent, and each completes only by rule 1.
 * - When the leader dies, the next drainer that starts (an event's, or the sweep) is the oldest live one, and takes
 *   every held action over at its first look. The faces check that the hook's heartbeat timeout leaves room for that.
 * - A drainer that cannot see the registry (not an ECS task, or ECS did not answer) cannot tell: a sweep leads; an
 *   event drainer drains its own instance alone, and, as an ECS task, looks at the registry again at the spread's pace.
 * When a drainer that does not lead looks at the registry is one schedule (`registryLookDue`, below), which the drain's
 * loop asks at each poll.
 */
import { BATCH, LifecycleActionRef, LifecycleHookView, TaskView } from "../aws";
import { HELD_BY_TERMINATE_HOOK } from "../contract";
import { planHook, planRetention } from "../hook";
import { orphanMetrics, writesMetrics } from "../telemetry";
import { beatAtOnce } from "./heartbeats";
import { terminatePath } from "./rules";
import { errorText } from "../log";
import { failed, outcomeOf, settle } from "./endings";
import { DrainerTask, InstanceState, Run, active, heartbeatSeconds, newInstance } from "./state";

/**
 * The drainers of a scale-in look at the registry at about this many a second (spreadFirstLook spreads them): a look costs two
 * ECS reads (findLeader), so their looks together spend a third of one drainer's read budget. With ECS_READS_PER_SECOND
 * at its default of 15, that is 2.5 looks and 5 reads a second: what a leader's 15 leave of ECS's 20.
 */
export function looksPerSecond(ecsReadsPerSecond: number): number {
  return ecsReadsPerSecond / 6;
}

/** A leader looks for an older live leader every this many polls. */
export const LEADER_CHECK_POLLS = 3;

/**
 * How long a leader gives a held action's own drainer to start before it counts the action as orphaned: one
 * heartbeat interval of its group (half the hook's HeartbeatTimeout; 450 s with the faces' default), the time within
 * which a drainer of its own would have answered for it. A Fargate start takes 20-70 s, and EventBridge retries a
 * throttled RunTask for a while.
 */
export function orphanGraceSeconds(run: Run, s: InstanceState): number {
  return heartbeatSeconds(run.ctx.config, s);
}

export function drainerTask(t: TaskView): DrainerTask {
  return {
    arn: t.arn,
    taskDefinitionArn: t.taskDefinitionArn,
    live: t.lastStatus === "RUNNING" && t.desiredStatus === "RUNNING",
    stopped: t.lastStatus === "STOPPED",
    since: t.startedAt ?? t.createdAt ?? Number.MAX_SAFE_INTEGER,
    instanceId: t.overrides?.EC2_INSTANCE_ID || undefined,
    eventGroup: t.overrides?.AUTOSCALING_GROUP_NAME || undefined,
    groupsOverride: t.overrides?.AUTOSCALING_GROUP_NAMES
      ? t.overrides.AUTOSCALING_GROUP_NAMES.split(",").map((g) => g.trim())
      : undefined,
    ran: t.startedAt !== undefined && t.stopCode !== "TaskFailedToStart",
  };
}

/**
 * The groups a drainer task answers for when it leads: its event's group, and AUTOSCALING_GROUP_NAMES from its
 * overrides or else from the task definition (`taskDefinitionGroups`, known to a drainer whose own overrides do not
 * set it; the faces put it in the task definition). Pure.
 */
export function servesGroups(
  t: DrainerTask,
  groups: readonly string[],
  taskDefinitionGroups: readonly string[] | undefined,
): boolean {
  const served = new Set([
    ...(t.eventGroup ? [t.eventGroup] : []),
    ...(t.groupsOverride ?? taskDefinitionGroups ?? []),
  ]);
  return groups.every((g) => served.has(g));
}

/**
 * Which drainer leads: the oldest live task of the same task definition revision as `self` (ties by ARN) that serves
 * the groups in question (`serves`). `self` counts as live whatever ECS shows of it yet: it is running this code.
 * Pure.
 */
export function leaderOf(
  tasks: readonly DrainerTask[],
  selfArn: string,
  serves: (t: DrainerTask) => boolean = () => true,
): DrainerTask | undefined {
  const self = tasks.find((t) => t.arn === selfArn);
  const peers = tasks.filter(
    (t) =>
      t.arn === selfArn ||
      (t.live &&
        serves(t) &&
        (self?.taskDefinitionArn === undefined || t.taskDefinitionArn === self.taskDefinitionArn)),
  );
  return [...peers].sort((a, b) => a.since - b.since || (a.arn < b.arn ? -1 : 1))[0];
}

/**
 * Reads the registry: the deployment's live drainer tasks. Returns the leader's ARN (this drainer's own when it leads),
 * or undefined when it cannot tell (not an ECS task, or ECS did not answer). `page`: the first ListTasks page of the
 * family's RUNNING tasks, when the caller has just read it.
 *
 * A look reads one ListTasks page and describes it 100 at a time, its own task first, until it finds an older live
 * drainer that serves its groups: leaving (or stepping down) needs no more. Only a full page with none such among it
 * lists the rest. So a look costs two reads whenever fewer than 100 drainers run, or one of the first 99 listed leads.
 */
export async function findLeader(
  run: Run,
  last?: string,
  page?: readonly string[],
): Promise<string | undefined> {
  const { ctx } = run;
  if (!ctx.ownTaskArn || !ctx.ownFamily) return undefined;
  const own = ctx.ownTaskArn;
  try {
    // The leader found a poll ago, still live and older: one DescribeTasks says so, without listing the family.
    if (last !== undefined && last !== own) {
      const again = await judge(run, [own, last]);
      if (again === last) return last;
    }
    const seen: DrainerTask[] = [];
    const described = new Set<string>();
    const describe = async (listed: readonly string[]): Promise<string> => {
      const arns = [own, ...listed].filter((a) => !described.has(a) && described.add(a));
      for (let i = 0; i < arns.length; i += BATCH.describeTasks) {
        const leader = await judge(run, arns.slice(i, i + BATCH.describeTasks), seen);
        if (leader !== own) return leader;
      }
      return own;
    };
    const first = page ?? (await drainersPage(run));
    const leader = await describe(first);
    if (leader !== own || first.length < BATCH.listTasks) return leader;
    return await describe(
      await run.port.listFamilyTasks(ctx.config.cluster, ctx.ownFamily, "RUNNING"),
    );
  } catch (err) {
    ctx.log.log("warn", "could not tell whether another drainer leads", {
      action: "lead",
      error: errorText(err),
    });
    return undefined;
  }
}

/** The first page (up to 100) of the deployment's drainer tasks that ECS shows with desired status RUNNING. */
export function drainersPage(run: Run): Promise<string[]> {
  const { ctx } = run;
  return run.port.listFamilyTasks(ctx.config.cluster, ctx.ownFamily!, "RUNNING", true);
}

/**
 * Describes `arns` (this drainer's own among them, or among `seen`), and says which drainer leads of those seen so far:
 * an older live one that serves this drainer's groups, or this drainer itself.
 */
async function judge(run: Run, arns: readonly string[], seen: DrainerTask[] = []): Promise<string> {
  const { ctx } = run;
  const own = ctx.ownTaskArn!;
  seen.push(...(await run.port.describeTasks(ctx.config.cluster, arns)).map(drainerTask));
  if (!seen.some((t) => t.arn === own)) {
    // ECS does not describe it yet: it is running this code, so it counts, with nothing known of its revision.
    seen.push({
      arn: own,
      taskDefinitionArn: undefined,
      live: true,
      stopped: false,
      since: Number.MAX_SAFE_INTEGER,
      instanceId: undefined,
      ran: true,
    });
  }
  // The groups in question: an event's drainer leaves only to a leader of its own group; a sweep only to one that
  // serves all of its groups.
  const { config } = ctx;
  const groups = config.mode === "event" ? [config.asg!] : config.asgs;
  const self = seen.find((t) => t.arn === own)!;
  const fromTaskDefinition =
    self.taskDefinitionArn !== undefined && self.groupsOverride === undefined
      ? config.deploymentAsgs
      : undefined;
  return leaderOf(seen, own, (t) => servesGroups(t, groups, fromTaskDefinition))?.arn ?? own;
}

/**
 * A look at the registry may take this many poll intervals: when many drainers start together it is throttled, and
 * the SDK retries it; only a read that never answers is cut short.
 */
export const REGISTRY_POLLS = 3;

/**
 * A read of the leader's own (the registry, the groups), bounded by `polls` poll intervals: a request that never answers
 * must not stop a leader from answering for the actions held since. Undefined when it did not answer in time.
 */
export async function bounded<T>(run: Run, read: Promise<T>, polls = 1): Promise<T | undefined> {
  const gaveUp = new AbortController();
  const signal = AbortSignal.any([run.signal, gaveUp.signal]);
  try {
    return await Promise.race([
      read,
      run.ctx
        .sleep(polls * run.ctx.config.pollIntervalSeconds * 1000, signal)
        .then(() => undefined as T | undefined),
    ]);
  } finally {
    gaveUp.abort();
  }
}

/**
 * The schedule of a drainer that does not lead: when it looks at the registry, and what it does with what it sees. The
 * drain's loop asks it at each poll; a leader's own looks are its keeper's (`keepLeading`).
 * - Before its first look, the spread (`spreadFirstLook`): many drainers of a large scale-in look at random moments
 *   over the polls the registry needs to serve them all.
 * - The first look (`firstLook`) makes it a leader, a follower, or, when it cannot tell, a drainer alone.
 * - A follower's first poll sets its instance DRAINING without reading it (rule 7); its next looks at the registry
 *   again: the leader still live, it leaves; the leader gone, it leads in its place; no answer, it drains alone.
 * - A drainer alone that is an ECS task looks again every `spreadPolls` polls (the spread's pace): a live leader found,
 *   it leaves; itself the oldest, it leads. Leading without knowing would have every drainer of a large scale-in
 *   answer for every action at once.
 */
export function registryLookDue(run: Run, polls: number): boolean {
  if (polls === 0) return false;
  if (run.role === "follower") return true;
  return run.role === "alone" && !!run.ctx.ownTaskArn && polls % run.spreadPolls === 0;
}

/** What a look at the registry tells a drainer that does not lead: leave its actions to `leave`, lead, or go on. */
export interface NextStep {
  /** The live leader to leave the run's actions to. */
  readonly leave?: string;
  readonly lead: boolean;
}

/** The first look of an event's drainer, after the spread: it sets the run's role; true when this drainer leads. */
export async function firstLook(run: Run, own: InstanceState): Promise<boolean> {
  const { ctx } = run;
  const page = await spreadFirstLook(run);
  const leader = own.outcome
    ? undefined
    : await bounded(run, findLeader(run, undefined, page), REGISTRY_POLLS);
  // Cannot tell (not an ECS task, or the registry did not answer): its own action only, and looks again on schedule.
  if (leader === undefined) {
    run.role = "alone";
    if (ctx.ownTaskArn && !own.outcome) {
      ctx.log.log(
        "warn",
        "cannot tell who leads yet; draining this instance alone, and looking again",
        {
          action: "lead",
        },
      );
    }
  } else if (leader !== ctx.ownTaskArn) {
    run.role = "follower";
    run.leaderTaskArn = leader;
    ctx.log.log(
      "info",
      "another drainer leads the groups; setting the instance DRAINING, then leaving the action to it",
      { action: "follow", leaderTaskArn: leader },
    );
  } else return true;
  return false;
}

/** Looks a drainer alone makes before it exits without knowing whether it is the oldest. */
export const LAST_LOOKS = 5;

/**
 * The last look of a drainer alone whose own actions are done. Followers leave their actions to the oldest live
 * drainer, and a drainer alone (its first look got no answer in time) may be that one: before it exits, it looks at the
 * registry again, a few times if ECS does not answer, and says whether it leads. When it still cannot tell, it exits,
 * and the sweep or the next drainer to start takes the held actions over.
 */
export async function lastLook(run: Run): Promise<boolean> {
  const { ctx } = run;
  if (!ctx.ownTaskArn) return false;
  // It answers for nothing now, so each look may take as long as the SDK's retries take (each request is bounded by
  // REQUEST_TIMEOUT_SECONDS): only an error, not a slow answer, counts as no answer.
  for (let look = 0; look < LAST_LOOKS && !run.signal.aborted; look++) {
    const leader = await findLeader(run);
    if (leader !== undefined) return leader === ctx.ownTaskArn;
    await ctx.sleep(ctx.config.pollIntervalSeconds * 1000, run.signal);
  }
  ctx.log.log(
    "warn",
    "cannot tell whether this drainer is the oldest live one; leaving any held action to the sweep or the next drainer",
    { action: "lead" },
  );
  return false;
}

/** A look at the registry when `registryLookDue` says so. */
export async function lookAgain(run: Run): Promise<NextStep> {
  const { ctx } = run;
  const follower = run.role === "follower";
  const leader = await bounded(
    run,
    follower ? findLeader(run, run.leaderTaskArn) : findLeader(run),
    REGISTRY_POLLS,
  );
  if (leader !== undefined && leader !== ctx.ownTaskArn) return { leave: leader, lead: false };
  if (follower && leader === undefined) {
    // Cannot tell (the registry did not answer): as at the first look, it does not lead on a guess. It drains its own
    // instance alone, and looks again at the spread's pace.
    run.role = "alone";
    ctx.log.log(
      "warn",
      "cannot tell whether the leader still runs; draining this instance alone meanwhile",
      { action: "lead" },
    );
    return { lead: false };
  }
  if (follower) {
    ctx.log.log("warn", "the drainer that led is gone; leading in its place", { action: "lead" });
    return { lead: true };
  }
  return { lead: leader === ctx.ownTaskArn };
}

/**
 * Many drainers that looked at the registry at once would spend the account's ECS reads on it, and be throttled
 * together. So each first counts the drainers that ECS shows running or starting (one ListTasks page) and, when more
 * are looking than the registry serves in a poll interval (looksPerSecond), looks at a random moment
 * within the time they need: a page of 100 means there may be more, and the actions held in its groups then bound
 * them. Meanwhile it heartbeats its own action, and the leader, which sets every held instance DRAINING at its first
 * look, takes it on. A drainer that cannot tell looks again at that pace too.
 *
 * The count, not the held actions, sizes the wait: a scale-in of 500 under a Fargate quota of 24 runs at most 24
 * drainers at once, and each of them leaves within two poll intervals of its start; 500 drainers started in the same
 * second (a raised quota) spread their looks over 20 poll intervals. Returns the page when the look follows at once.
 */
async function spreadFirstLook(run: Run): Promise<string[] | undefined> {
  const { ctx } = run;
  if (!ctx.ownTaskArn || !ctx.ownFamily) return undefined;
  const perPoll = looksPerSecond(ctx.config.ecsReadsPerSecond) * ctx.config.pollIntervalSeconds;
  // The count is a read too: with more actions held than the registry serves in a poll interval, each drainer counts
  // at a random moment within one poll interval, so that hundreds started in the same second do not count at once.
  const held = (await heldInstances(run, ctx.config.asgs))?.length ?? 1;
  if (held > perPoll) {
    await ctx.sleep(
      Math.floor((ctx.random ?? Math.random)() * ctx.config.pollIntervalSeconds * 1000),
      run.signal,
    );
  }
  let page: string[] | undefined;
  try {
    page = await bounded(run, drainersPage(run));
  } catch {
    page = undefined;
  }
  const looking =
    page !== undefined && page.length < BATCH.listTasks
      ? page.length
      : Math.max(page?.length ?? 0, held);
  run.spreadPolls = Math.max(1, Math.ceil(looking / perPoll));
  if (run.spreadPolls === 1) return page;
  const delayMs = Math.floor(
    (ctx.random ?? Math.random)() * run.spreadPolls * ctx.config.pollIntervalSeconds * 1000,
  );
  ctx.log.log(
    "info",
    `${looking} drainers may be looking for their leader: looking in ${Math.round(delayMs / 1000)} s`,
    { action: "follow" },
  );
  await ctx.sleep(delayMs, run.signal);
  return undefined;
}

/** A live leader answers for every action this run holds: the run leaves them to it, and ends. */
export function handOver(run: Run, leader: string): void {
  run.role = "follower";
  for (const s of active(run)) {
    s.log.log("info", "a live leader answers for this action; leaving it to that drainer", {
      action: "follow",
      leaderTaskArn: leader,
    });
    settle(run, s, { ...outcomeOf(run, s, "handed-over"), leaderTaskArn: leader });
  }
  run.finished.abort();
}

/**
 * The leader's keeper, on a timer of its own like the heartbeats: every poll interval it takes on the actions held
 * since (a first heartbeat at once) and counts orphans; every LEADER_CHECK_POLLS intervals it looks for an older live
 * leader, and steps down if it finds one. Each read is bounded, so a hung request or a slow poll delays none of it.
 */
export async function keepLeading(run: Run): Promise<void> {
  const { ctx } = run;
  let looks = 0;
  while (!run.signal.aborted && run.role === "leader") {
    await ctx.sleep(ctx.config.pollIntervalSeconds * 1000, run.signal);
    if (run.signal.aborted) return;
    looks++;
    if (looks % LEADER_CHECK_POLLS === 0) {
      const leader = await bounded(run, findLeader(run), REGISTRY_POLLS);
      if (leader !== undefined && leader !== ctx.ownTaskArn) return handOver(run, leader);
    }
    // A look that answers late still counts: it takes its newcomers on (or ends the run) when it answers.
    await bounded(run, adoptHeld(run));
    await bounded(run, noteOrphans(run));
  }
}

/** The hook's plan for a group, read once (and again at the next look if reading it failed). */
export async function planFor(run: Run, s: InstanceState): Promise<void> {
  if (s.plan) return;
  const { ctx } = run;
  let plan = run.plans.get(s.ref.asg);
  let hooks: LifecycleHookView[] = [];
  if (!plan) {
    try {
      hooks = await run.port.describeLifecycleHooks(s.ref.asg);
      plan = planHook({
        hookName: ctx.config.hook,
        hooks,
        heartbeatIntervalSeconds: ctx.config.heartbeatIntervalSeconds,
        drainTimeoutSeconds: ctx.config.drainTimeoutSeconds,
        requestTimeoutSeconds: ctx.config.requestTimeoutSeconds,
      });
    } catch (err) {
      failed(run, s, "reading the group's lifecycle hooks", err);
      return;
    }
    for (const w of plan.warnings) ctx.log.log("warn", w, { action: "plan", asg: s.ref.asg });
    run.plans.set(s.ref.asg, plan);
    // Informational: never awaited, so that a slow answer cannot hold the drain.
    void planRetentionFor(run, s.ref.asg, hooks);
  }
  s.plan = plan;
  // A hook whose interval is shorter than the one assumed until now gets its next heartbeat sooner.
  if (s.lastHeartbeatAt !== undefined) {
    s.nextHeartbeatAt = Math.min(
      s.nextHeartbeatAt,
      s.lastHeartbeatAt + plan.heartbeatIntervalSeconds * 1000,
    );
  }
}

/**
 * Reads once per group whether it retains instances whose terminate hook is abandoned, and says at start what becomes
 * of an instance whose drain times out. Informational: a failure to read it is logged and changes no drain.
 */
async function planRetentionFor(
  run: Run,
  asg: string,
  hooks: readonly LifecycleHookView[],
): Promise<void> {
  const { ctx } = run;
  let terminateHookAbandon: string | undefined;
  try {
    terminateHookAbandon = await run.port.describeRetention(asg);
  } catch (err) {
    ctx.log.log("warn", "could not read the group's instance lifecycle policy", {
      action: "plan",
      asg,
      error: errorText(err),
    });
  }
  const retention = planRetention({
    timeoutResult: ctx.config.timeoutResult,
    hookDefaultResult: hooks.find((h) => h.name === ctx.config.hook)?.defaultResult,
    terminateHookAbandon,
  });
  run.retention.set(asg, retention);
  ctx.log.log(retention.level, retention.message, {
    action: "plan",
    asg,
    terminateHookAbandon: terminateHookAbandon ?? null,
    keptOnTimeout: retention.keptOnTimeout,
  });
}

/**
 * Event mode: reads the instance's lifecycle state (DescribeAutoScalingInstances lists warm-pool instances too), and
 * says whether to drain it. Retried until it answers, the action ends, or the run stops.
 */
export async function confirmHeld(run: Run, s: InstanceState): Promise<boolean> {
  const { ctx } = run;
  const { event } = ctx.config;
  for (;;) {
    if (s.outcome || run.signal.aborted) return false;
    try {
      const [found] = await run.port.describeAutoScalingInstances([s.ref.instanceId]);
      const path = terminatePath(found?.lifecycleState);
      const fields = { lifecycleState: found?.lifecycleState ?? null, event };
      if (path === "drain") {
        s.confirmed = true;
        s.log.log("info", `the instance is held by the terminate hook (${found!.lifecycleState})`, {
          action: "precheck",
          ...fields,
        });
        return true;
      }
      const over = path === "over";
      s.log.log(
        over ? "info" : "warn",
        over
          ? "the instance is no longer waiting on a lifecycle action; nothing to do"
          : "the instance is not held by a terminate hook; the event is stale, nothing to do",
        { action: "precheck", ...fields },
      );
      settle(run, s, outcomeOf(run, s, over ? "already-complete" : "not-terminating"));
      return false;
    } catch (err) {
      failed(run, s, "reading the instance's lifecycle state", err);
    }
    await ctx.sleep(ctx.config.pollIntervalSeconds * 1000, run.signal);
  }
}

/** The held instances of groups (warm pools included), or undefined when Auto Scaling did not answer. */
export async function heldInstances(
  run: Run,
  asgs: readonly string[],
): Promise<LifecycleActionRef[] | undefined> {
  const { ctx } = run;
  try {
    const all = await run.port.describeGroupInstances(asgs);
    return all
      .filter((i) => (HELD_BY_TERMINATE_HOOK as readonly string[]).includes(i.lifecycleState))
      .map((i) => ({ asg: i.asg, hook: ctx.config.hook, instanceId: i.instanceId }));
  } catch (err) {
    ctx.log.log("warn", "reading the groups' instances failed", {
      action: "lead",
      error: errorText(err),
    });
    return undefined;
  }
}

/**
 * A leader's look at its groups: it takes on every held action it does not answer for yet (a first heartbeat at
 * once), and lets go of those whose action is over. An action missing from the groups' listing is let go only once
 * DescribeAutoScalingInstances confirms it is no longer held: the leader may be the only drainer answering for it.
 * Returns how many actions are held, or undefined when Auto Scaling did not answer.
 */
export async function adoptHeld(run: Run): Promise<number | undefined> {
  const { ctx } = run;
  const held = await heldInstances(run, ctx.config.asgs);
  // A run that has ended takes nothing on: what it would take on is the next drainer's.
  if (held === undefined || run.signal.aborted) return undefined;
  const ids = new Set(held.map((r) => r.instanceId));
  const gone = active(run).filter((s) => !s.own && !ids.has(s.ref.instanceId));
  if (gone.length > 0) {
    try {
      const found = new Map(
        (await run.port.describeAutoScalingInstances(gone.map((s) => s.ref.instanceId))).map(
          (i) => [i.instanceId, i.lifecycleState],
        ),
      );
      for (const s of gone) {
        if (terminatePath(found.get(s.ref.instanceId)) !== "drain") {
          settle(run, s, outcomeOf(run, s, "already-complete"));
        }
      }
    } catch (err) {
      ctx.log.log("warn", "could not confirm which actions are over; answering for them still", {
        action: "lead",
        error: errorText(err),
      });
    }
  }
  const known = new Set(active(run).map((s) => s.ref.instanceId));
  const added = held.filter((r) => !known.has(r.instanceId)).map((r) => adopt(run, r));
  // A leader whose actions all ended, and whose look at the groups found none held, has nothing left to answer for.
  if (run.role === "leader" && held.length === 0 && active(run).length === 0) {
    ctx.log.log("info", "no held action is left in the groups; the leader ends", {
      action: "lead",
    });
    run.finished.abort();
  }
  if (added.length > 0) {
    ctx.log.log("info", `answering for ${added.length} more held action(s)`, {
      action: "lead",
      peers: added.map((s) => s.ref.instanceId),
    });
  }
  return held.length;
}

function adopt(run: Run, ref: LifecycleActionRef): InstanceState {
  // An action ended before (by this run) and held again is a new action: a new state answers for it.
  const s = newInstance(run, ref, false);
  s.confirmed = true;
  s.plan = run.plans.get(ref.asg);
  run.adoptedAt.set(s, run.ctx.now());
  beatAtOnce(run, s);
  return s;
}

/**
 * Counts the actions this leader answers for whose own drainer never started: for each action taken over more than
 * a heartbeat interval ago, whether a drainer task of the deployment named its instance and ran. Each such action is
 * an `OrphanedActions` metric, once: what EventBridge counts as a success (RunTask answered 200 with failures, or a
 * task that failed to start) shows there. Informational: a failed read is tried again at the next poll.
 */
export async function noteOrphans(run: Run): Promise<void> {
  const { ctx } = run;
  if (!ctx.ownTaskArn || !ctx.ownFamily) return;
  const due = [...run.adoptedAt].filter(
    ([s, at]) => !s.outcome && ctx.now() - at >= orphanGraceSeconds(run, s) * 1000,
  );
  if (due.length === 0) return;
  let fresh: DrainerTask[];
  try {
    const [running, stopped] = await Promise.all([
      run.port.listFamilyTasks(ctx.config.cluster, ctx.ownFamily, "RUNNING"),
      run.port.listFamilyTasks(ctx.config.cluster, ctx.ownFamily, "STOPPED"),
    ]);
    // A stopped task never changes: it is described once.
    const unknown = [...running, ...stopped].filter((a) => !run.drainerTasks.has(a));
    const described =
      unknown.length > 0 ? await run.port.describeTasks(ctx.config.cluster, unknown) : [];
    fresh = described.map(drainerTask);
    for (const t of fresh) if (t.stopped) run.drainerTasks.set(t.arn, t);
  } catch (err) {
    ctx.log.log("warn", "could not read the deployment's drainer tasks; counting orphans later", {
      action: "lead",
      error: errorText(err),
    });
    return;
  }
  const ran = new Set(
    [...run.drainerTasks.values(), ...fresh]
      .filter((t) => t.ran && t.instanceId)
      .map((t) => t.instanceId),
  );
  for (const [s] of due) {
    run.adoptedAt.delete(s);
    if (ran.has(s.ref.instanceId)) continue;
    const { config } = ctx;
    const metrics = writesMetrics(config)
      ? orphanMetrics(
          s.ref.asg,
          config.cluster,
          config.metricsNamespace,
          (ctx.epochMs ?? Date.now)(),
        )
      : undefined;
    s.log.log(
      "warn",
      `no drainer of its own started for this action within a heartbeat interval (${orphanGraceSeconds(run, s)} s): its launch failed or is late; the leader answers for it`,
      { action: "orphan", ...metrics },
    );
  }
}
