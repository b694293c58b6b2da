/**
 * The group roles: who reads and lists for whom. When many instances of a group terminate at once, every one of their
 * drainers would poll ECS; instead the drainer of the held instance with the smallest ID leads: it serves them all with
 * shared reads, while the others (followers) answer for their own action (heartbeats, deadline) and look at ECS only
 * now and then. A follower whose instance is still ACTIVE when it looks has no leader at work, and drains alone. At
 * most one sweep serves a group at a time. None of this decides that an instance is drained: that is rules.ts.
 */
import { LifecycleActionRef, LifecycleHookView } from "../aws";
import { HELD_BY_TERMINATE_HOOK } from "../contract";
import { planHook, planRetention } from "../decisions";
import { terminatePath } from "./rules";
import {
  InstanceState,
  Run,
  active,
  errorText,
  failed,
  newInstance,
  settle,
  outcomeOf,
} from "./state";

/** At most this many followers of a group look at ECS in one poll interval. */
export const FOLLOWERS_PER_POLL = 10;

/**
 * For this many poll intervals after its first look (which sets its instance DRAINING, rule 7), a follower looks only
 * at its action (Auto Scaling), never at ECS: the leader is at work, and a follower's reads would come out of the
 * same account's ECS budget. A dead leader costs that much time, never a task.
 */
export const FOLLOWER_QUIET_POLLS = 6;

/** A follower's looks back off, doubling their interval up to this many poll intervals (or its first, if longer). */
export const FOLLOWER_MAX_POLLS = 30;

/** Whether an event-mode drainer leads its group: its instance has the smallest ID of those held. */
export function leadsGroup(ownInstanceId: string, heldIds: readonly string[]): boolean {
  return heldIds.every((id) => ownInstanceId <= id);
}

/** How many poll intervals apart a follower looks, so that a group's followers share FOLLOWERS_PER_POLL looks. */
export function followerPollEvery(heldCount: number): number {
  return Math.max(1, Math.ceil(heldCount / FOLLOWERS_PER_POLL));
}

/** The hook's plan for a group, read once (and again at the next look if reading it failed). */
export async function planFor(run: Run, s: InstanceState): Promise<void> {
  if (s.plan) return;
  const { ctx } = run;
  let plan = run.plans.get(s.ref.asg);
  let hooks: LifecycleHookView[] = [];
  if (!plan) {
    try {
      hooks = await ctx.port.describeLifecycleHooks(s.ref.asg);
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
  if (s.answers && s.lastHeartbeatAt !== undefined) {
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
    terminateHookAbandon = await ctx.port.describeRetention(asg);
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
      const [found] = await ctx.port.describeAutoScalingInstances([s.ref.instanceId]);
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
    const all = await ctx.port.describeGroupInstances(asgs);
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

/** Event mode: leads the group, or follows its leader. Returns how many instances of the group are held. */
export async function chooseRole(run: Run, own: InstanceState): Promise<number> {
  const held = await heldInstances(run, [own.ref.asg]);
  if (held === undefined) {
    run.role = "alone";
    return 1;
  }
  const peers = held.map((r) => r.instanceId).filter((id) => id !== own.ref.instanceId);
  if (!leadsGroup(own.ref.instanceId, peers)) {
    run.role = "follower";
    return peers.length + 1;
  }
  run.role = "leader";
  if (peers.length > 0) {
    for (const instanceId of peers) adoptPeer(run, { ...own.ref, instanceId, token: undefined });
    run.ctx.log.log("info", `leading the group's ${peers.length + 1} held instances`, {
      action: "lead",
      peers,
    });
  }
  return peers.length + 1;
}

function adoptPeer(run: Run, ref: LifecycleActionRef): InstanceState {
  const s = newInstance(run, ref, false);
  s.confirmed = true;
  s.plan = run.plans.get(ref.asg);
  return s;
}

/** A leader takes on instances of its group held since, and lets go of peers whose action is over. */
export async function adoptNewcomers(run: Run): Promise<void> {
  const asg = run.ctx.config.asg!;
  const held = await heldInstances(run, [asg]);
  if (held === undefined) return;
  const ids = new Set(held.map((r) => r.instanceId));
  for (const s of active(run)) {
    if (!s.answers && !ids.has(s.ref.instanceId))
      settle(run, s, outcomeOf(run, s, "already-complete"));
  }
  const known = new Set(run.states.map((s) => s.ref.instanceId));
  const added = held.filter((r) => !known.has(r.instanceId)).map((r) => adoptPeer(run, r));
  if (added.length > 0) {
    run.ctx.log.log("info", `leading ${added.length} more held instance(s)`, {
      action: "lead",
      peers: added.map((s) => s.ref.instanceId),
    });
  }
}

/** A follower's look at its own action: over when a leader, a sweep or the hook ended it. */
export async function stillHeld(run: Run, s: InstanceState): Promise<boolean> {
  try {
    const [found] = await run.ctx.port.describeAutoScalingInstances([s.ref.instanceId]);
    if (terminatePath(found?.lifecycleState) === "drain") return true;
    s.log.log("info", "another drainer completed the lifecycle action", {
      action: "follow",
      lifecycleState: found?.lifecycleState ?? null,
    });
    settle(run, s, outcomeOf(run, s, "already-complete"));
    return false;
  } catch (err) {
    failed(run, s, "reading the instance's lifecycle state", err);
    return true;
  }
}

/**
 * Rule 7: whether an older sweep of this deployment (a task of the same task definition family, started without the
 * event's overrides) is at work. Then this one exits at once. Outside ECS (no task metadata) it cannot tell: it sweeps.
 */
export async function anotherSweepAtWork(run: Run): Promise<string | undefined> {
  const { ctx } = run;
  if (!ctx.ownTaskArn || !ctx.ownFamily) return undefined;
  try {
    const arns = await run.port.listFamilyTasks(ctx.config.cluster, ctx.ownFamily);
    if (!arns.includes(ctx.ownTaskArn)) arns.push(ctx.ownTaskArn);
    const tasks = await run.port.describeTasks(ctx.config.cluster, arns);
    const sweeps = tasks
      .filter((t) => t.lastStatus !== "STOPPED" && t.desiredStatus === "RUNNING")
      .filter((t) => !(t.overriddenEnv ?? []).includes("EC2_INSTANCE_ID"));
    const self = tasks.find((t) => t.arn === ctx.ownTaskArn);
    const key = (t: { createdAt?: number; arn: string }) =>
      [t.createdAt ?? Infinity, t.arn] as const;
    const older = sweeps.filter((t) => {
      if (t.arn === ctx.ownTaskArn || !self) return false;
      const [a, b] = [key(t), key(self)];
      return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
    });
    return older[0]?.arn;
  } catch (err) {
    ctx.log.log("warn", "could not tell whether another sweep is at work; sweeping", {
      action: "sweep",
      error: errorText(err),
    });
    return undefined;
  }
}
