/**
 * The drain: finds each instance's container instance, sets it DRAINING, watches its tasks until none is running,
 * pending or still stopping, heartbeating the lifecycle hook meanwhile, and completes the lifecycle action.
 * One loop serves every instance of a run, so a sweep of many instances shares its ECS reads (one
 * DescribeContainerInstances covers 100 instances; one DescribeTasks covers 100 tasks).
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
  HookPlan,
  assessInstance,
  blockersKey,
  eventPrecheck,
  isGone,
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
}

/** Consecutive failed polls of one instance after which the drainer gives up on it. */
export const MAX_CONSECUTIVE_FAILURES = 5;

interface InstanceState {
  readonly ref: LifecycleActionRef;
  readonly log: Logger;
  readonly startedAt: number;
  plan: HookPlan;
  containerInstanceArn?: string;
  drainingSet: boolean;
  nextHeartbeatAt: number;
  lastCounts?: readonly [number, number];
  lastBlockers?: Blockers;
  lastBlockersKey?: string;
  knownStopped: Set<string>;
  stopRequested: Set<string>;
  tasksAtStart: number | null;
  failures: number;
  outcome?: Outcome;
}

/** Drains the instances the configuration names (event mode) or finds (sweep mode). Never throws for AWS errors. */
export async function drain(ctx: DrainContext): Promise<Outcome[]> {
  const { config, log } = ctx;
  const targets = await findTargets(ctx);
  if (!Array.isArray(targets)) return [targets];
  if (targets.length === 0) {
    log.log("info", "no instance is waiting to terminate", { action: "sweep", asgs: config.asgs });
    return [];
  }

  const plans = new Map<string, HookPlan>();
  for (const asg of new Set(targets.map((t) => t.asg))) {
    plans.set(asg, await planForGroup(ctx, asg));
  }

  const start = ctx.now();
  const states: InstanceState[] = targets.map((ref) => {
    const plan = plans.get(ref.asg)!;
    return {
      ref,
      log: log.with({ instanceId: ref.instanceId, asg: ref.asg }),
      startedAt: start,
      plan,
      drainingSet: false,
      nextHeartbeatAt: start + plan.heartbeatIntervalSeconds * 1000,
      knownStopped: new Set(),
      stopRequested: new Set(),
      tasksAtStart: null,
      failures: 0,
    };
  });

  await Promise.all(states.map((s) => locate(ctx, s)));

  let firstPoll = true;
  while (!ctx.signal.aborted) {
    const active = states.filter((s) => !s.outcome);
    if (active.length === 0) break;
    await heartbeatDue(ctx, active);
    await poll(
      ctx,
      active.filter((s) => !s.outcome),
      firstPoll,
    );
    firstPoll = false;
    if (config.dryRun) break;
    const still = states.filter((s) => !s.outcome);
    if (still.length === 0) break;
    const now = ctx.now();
    const wakeAt = Math.min(
      now + config.pollIntervalSeconds * 1000,
      ...still.map((s) => s.nextHeartbeatAt),
    );
    await ctx.sleep(Math.max(0, wakeAt - now), ctx.signal);
  }

  for (const s of states) {
    if (!s.outcome) {
      s.outcome = outcome(ctx, s, ctx.signal.aborted ? "interrupted" : "dry-run");
      if (s.outcome.result === "interrupted") {
        s.log.log(
          "warn",
          "stopped before the drain finished; the lifecycle action is left for the hook's heartbeat timeout or the next sweep",
          { action: "interrupt" },
        );
      }
    }
  }
  return states.map((s) => s.outcome!);
}

/** The instances to drain: the event's one (after checking it is still held) or every waiting one of the groups. */
async function findTargets(ctx: DrainContext): Promise<LifecycleActionRef[] | Outcome> {
  const { config, port, log } = ctx;
  if (config.mode === "sweep") {
    const instances = await port.describeGroupInstances(config.asgs);
    const waiting = waitingInstances(instances);
    log.log("info", `sweep found ${waiting.length} instance(s) in Terminating:Wait`, {
      action: "sweep",
      asgs: config.asgs,
      instances: waiting.map((i) => i.instanceId),
    });
    return waiting.map((i) => ({ asg: i.asg, hook: config.hook, instanceId: i.instanceId }));
  }
  const ref: LifecycleActionRef = {
    asg: config.asg!,
    hook: config.hook,
    instanceId: config.instanceId!,
    token: config.token,
  };
  const [found] = await port.describeAutoScalingInstances([ref.instanceId]);
  const verdict = eventPrecheck(found?.lifecycleState);
  if (verdict === "proceed") return [ref];
  log.log(
    verdict === "already-complete" ? "info" : "warn",
    verdict === "already-complete"
      ? "the instance is no longer waiting on a lifecycle action; nothing to do"
      : "the instance is not terminating; the event is stale, nothing to do",
    {
      action: "precheck",
      lifecycleState: found?.lifecycleState ?? null,
    },
  );
  return {
    instanceId: ref.instanceId,
    asg: ref.asg,
    result: verdict,
    drainSeconds: 0,
    tasksAtStart: null,
  };
}

async function planForGroup(ctx: DrainContext, asg: string): Promise<HookPlan> {
  const { config, log } = ctx;
  const hooks = await ctx.port.describeLifecycleHooks(asg);
  const plan = planHook({
    hookName: config.hook,
    hooks,
    heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
    drainTimeoutSeconds: config.drainTimeoutSeconds,
  });
  for (const w of plan.warnings) log.log("warn", w, { action: "plan", asg });
  return plan;
}

async function locate(ctx: DrainContext, s: InstanceState): Promise<void> {
  try {
    const arns = await ctx.port.findContainerInstances(ctx.config.cluster, s.ref.instanceId);
    if (arns.length === 0) {
      s.log.log("info", "the instance is not in the cluster; completing at once", {
        action: "locate",
      });
      await complete(ctx, s, LifecycleResult.Continue, "not-in-cluster");
      return;
    }
    s.containerInstanceArn = arns[0];
    s.log.log("info", "found the container instance", {
      action: "locate",
      containerInstanceArn: s.containerInstanceArn,
    });
  } catch (err) {
    failed(ctx, s, "finding the container instance", err);
  }
}

async function heartbeatDue(ctx: DrainContext, active: InstanceState[]): Promise<void> {
  const now = ctx.now();
  const due = active.filter((s) => s.nextHeartbeatAt <= now);
  await Promise.all(
    due.map(async (s) => {
      if (ctx.config.dryRun) {
        s.log.log("info", "would record a lifecycle heartbeat", { action: "heartbeat" });
        s.nextHeartbeatAt = now + s.plan.heartbeatIntervalSeconds * 1000;
        return;
      }
      try {
        await ctx.port.recordHeartbeat(s.ref);
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
        // Try again at the next poll rather than a whole interval later.
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
async function poll(ctx: DrainContext, active: InstanceState[], first: boolean): Promise<void> {
  const { port, config } = ctx;
  const located = active.filter((s) => s.containerInstanceArn !== undefined);
  for (const s of active.filter((s) => s.containerInstanceArn === undefined)) {
    await locate(ctx, s);
  }
  if (located.length === 0) return;

  let views: Map<string, ContainerInstanceView>;
  try {
    const described = await port.describeContainerInstances(
      config.cluster,
      located.map((s) => s.containerInstanceArn!),
    );
    views = new Map(described.map((v) => [v.arn, v]));
  } catch (err) {
    for (const s of located) failed(ctx, s, "describing the container instance", err);
    return;
  }

  const toDrain: InstanceState[] = [];
  const live: { s: InstanceState; ci: ContainerInstanceView }[] = [];
  for (const s of located) {
    const ci = views.get(s.containerInstanceArn!);
    if (!ci || isGone(ci)) {
      s.log.log("info", "the container instance is gone from the cluster; completing", {
        action: "describe",
        ecsStatus: ci?.status ?? "MISSING",
      });
      await complete(ctx, s, LifecycleResult.Continue, "not-in-cluster");
      continue;
    }
    if (ci.status === "ACTIVE") toDrain.push(s);
    else if (ci.status === "DRAINING" && !s.drainingSet) {
      s.drainingSet = true;
      s.log.log("info", "the container instance is already DRAINING", { action: "drain" });
    }
    live.push({ s, ci });
  }

  if (toDrain.length > 0) {
    const arns = toDrain.map((s) => s.containerInstanceArn!);
    if (config.dryRun) {
      for (const s of toDrain)
        s.log.log("info", "would set the container instance to DRAINING", { action: "drain" });
    } else {
      try {
        await port.setDraining(config.cluster, arns);
        for (const s of toDrain) {
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
        for (const s of toDrain) failed(ctx, s, "setting the container instance to DRAINING", err);
      }
    }
  }

  // Decide which instances need their tasks listed in this poll, list them, and describe what is new.
  const now = ctx.now();
  const listed = new Map<InstanceState, TaskView[]>();
  const toList = live.filter(
    ({ s, ci }) =>
      !s.outcome &&
      needsListing({
        first: first || s.lastCounts === undefined,
        atDeadline: now >= deadlineOf(s),
        counts: [ci.runningTasksCount, ci.pendingTasksCount],
        lastCounts: s.lastCounts,
        ownTaskMayBeHere: ctx.ownTaskArn !== undefined,
        lastBlockers: s.lastBlockers,
        stopStandaloneTasks: config.stopStandaloneTasks,
      }),
  );
  const arnsByInstance = new Map<InstanceState, string[]>();
  await Promise.all(
    toList.map(async ({ s }) => {
      try {
        const [running, stopped] = await Promise.all([
          port.listTasks(config.cluster, s.containerInstanceArn!, "RUNNING"),
          port.listTasks(config.cluster, s.containerInstanceArn!, "STOPPED"),
        ]);
        const arns = [...new Set([...running, ...stopped])].filter((a) => !s.knownStopped.has(a));
        arnsByInstance.set(s, arns);
      } catch (err) {
        failed(ctx, s, "listing the instance's tasks", err);
      }
    }),
  );
  const allArns = [...arnsByInstance.values()].flat();
  if (allArns.length > 0) {
    try {
      const tasks = await port.describeTasks(config.cluster, allArns);
      const byArn = new Map(tasks.map((t) => [t.arn, t]));
      for (const [s, arns] of arnsByInstance) {
        const mine = arns.map((a) => byArn.get(a)).filter((t): t is TaskView => t !== undefined);
        for (const t of mine) if (t.lastStatus === "STOPPED") s.knownStopped.add(t.arn);
        listed.set(s, mine);
      }
    } catch (err) {
      for (const s of arnsByInstance.keys()) failed(ctx, s, "describing the instance's tasks", err);
    }
  } else {
    for (const s of arnsByInstance.keys()) listed.set(s, []);
  }

  for (const { s, ci } of live) {
    if (s.outcome) continue;
    const tasks = listed.get(s);
    if (toList.some((l) => l.s === s) && tasks === undefined) continue; // the listing failed; counted above
    s.lastCounts = [ci.runningTasksCount, ci.pendingTasksCount];
    s.failures = 0;
    const verdict = assessInstance({
      containerInstance: ci,
      tasks,
      ownTaskArn: ctx.ownTaskArn,
      stopStandaloneTasks: config.stopStandaloneTasks,
    });
    if (tasks !== undefined) noteBlockers(s, verdict.kind === "drained" ? [] : verdict.blocking);

    if (verdict.kind === "drained") {
      if (config.dryRun) {
        s.log.log(
          "info",
          "would complete the lifecycle action with CONTINUE: nothing runs on the instance",
          { action: "complete" },
        );
        s.outcome = outcome(ctx, s, "dry-run");
      } else {
        s.log.log("info", "no task runs, starts or stops on the instance any more", {
          action: "drained",
        });
        await complete(ctx, s, LifecycleResult.Continue, "completed");
      }
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
    if (now >= deadlineOf(s) && tasks !== undefined) {
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
      await complete(ctx, s, config.timeoutResult, "timed-out");
      continue;
    }
    if (verdict.kind === "stop-standalone") await stopStandalone(ctx, s, verdict.stop);
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
}

async function stopStandalone(
  ctx: DrainContext,
  s: InstanceState,
  tasks: readonly TaskView[],
): Promise<void> {
  for (const t of tasks.filter((t) => !s.stopRequested.has(t.arn))) {
    s.stopRequested.add(t.arn);
    try {
      await ctx.port.stopTask(
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
  ctx: DrainContext,
  s: InstanceState,
  result: LifecycleResult,
  as: Result,
): Promise<void> {
  if (ctx.config.dryRun) {
    s.log.log("info", `would complete the lifecycle action with ${result}`, { action: "complete" });
    s.outcome = outcome(ctx, s, "dry-run");
    return;
  }
  try {
    await ctx.port.completeLifecycleAction(s.ref, result);
    s.log.log("info", `completed the lifecycle action with ${result}`, {
      action: "complete",
      lifecycleResult: result,
    });
    s.outcome = outcome(ctx, s, as, result);
  } catch (err) {
    if (isNoActiveLifecycleAction(err)) {
      s.log.log("info", "the lifecycle action was already complete", { action: "complete" });
      s.outcome = outcome(ctx, s, "already-complete");
      return;
    }
    failed(ctx, s, "completing the lifecycle action", err);
  }
}

/** Counts a failed step; gives up on the instance after repeated or permanent failures. */
function failed(ctx: DrainContext, s: InstanceState, doing: string, err: unknown): void {
  s.failures += 1;
  const permanent = isPermanent(err);
  const giveUp = permanent || s.failures >= MAX_CONSECUTIVE_FAILURES;
  const error = `${doing}: ${errorText(err)}`;
  s.log.log(
    giveUp ? "error" : "warn",
    giveUp ? `${doing} failed; giving up on this instance` : `${doing} failed; will retry`,
    {
      action: "error",
      error: errorText(err),
      consecutiveFailures: s.failures,
    },
  );
  if (giveUp) s.outcome = outcome(ctx, s, "failed", undefined, error);
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
