/**
 * The poll: one look at a set of instances, with shared reads. It locates each instance's registrations, reads them
 * (one DescribeContainerInstances for 100), sets ACTIVE ones DRAINING, and then, within the poll's read budget:
 * - proves empty the instances that may be (rules.ts, rule 1): their registrations afresh, and a full listing;
 * - describes again the known tasks of instances that wait only for them to stop (one DescribeTasks for 100 tasks),
 *   and proves empty at once those whose known tasks have all stopped;
 * - lists now and then what blocks the others, to log it (and to stop standalone tasks when asked to).
 * Shortcuts here decide when to look; only `proveDrained` decides that an instance is drained.
 */
import { ContainerInstanceView, TaskView, UNDESCRIBED } from "../aws";
import { LifecycleResult } from "../contract";
import {
  blockersKey,
  isServiceTask,
  serviceNames,
  serviceOfGroup,
  summarizeBlockers,
} from "../blockers";
import {
  RegistrationSeen,
  blocksDrain,
  countedToRun,
  hasLiveRegistration,
  mayBeDrained,
  proveDrained,
} from "./rules";
import { diagnose, readServices } from "./diagnose";
import { errorText } from "../log";
import { complete, failed, outcomeOf, settle } from "./endings";
import { InstanceState, Registration, Run } from "./state";
import { InstanceStep, budget, list, liveRegistrations, locate, lookable } from "./listing";

/** Polls at least between two listings prompted by a change of ECS's counters (to log what blocks). */
export const LISTING_EVERY_POLLS = 3;

export async function poll(
  run: Run,
  states: readonly InstanceState[],
  pollStartedAt: number,
  drainOnly = false,
): Promise<void> {
  await look(run, states, pollStartedAt, drainOnly);
  // Why the instances that have waited a while still wait: read-only, and not waited for.
  if (!drainOnly && !run.diagnosing && !run.ctx.config.dryRun) {
    run.diagnosing = true;
    void diagnose(run, states).finally(() => (run.diagnosing = false));
  }
}

async function look(
  run: Run,
  states: readonly InstanceState[],
  pollStartedAt: number,
  drainOnly: boolean,
): Promise<void> {
  await locate(run, states);
  // A follower's only look (rule 7) sets its instance DRAINING without reading it: the call is idempotent, and the
  // reads are the leader's.
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
  const steps: InstanceStep[] = [];
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
    steps.push(chooseStep(run, s, pollStartedAt));
  }
  await setDraining(
    run,
    steps.map((p) => p.s),
  );
  budget(run, steps);
  await describeKnown(
    run,
    steps.filter((p) => p.step === "recheck"),
  );
  await prove(
    run,
    steps.filter((p) => p.step === "proof"),
    pollStartedAt,
  );
  await learn(
    run,
    steps.filter((p) => p.step === "learn"),
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
    regs.every((r) => r.view !== undefined) &&
    mayBeDrained(seen(regs), Infinity, 0)
  );
}

/**
 * A look that only describes the known tasks of instances waiting for them to stop (one shared DescribeTasks, no
 * DescribeContainerInstances). Returns the instances whose known tasks have all stopped: the poll goes on for them
 * as for any instance, with ECS's counters and a fresh full listing, before anything is concluded.
 */
async function watch(run: Run, states: InstanceState[]): Promise<InstanceState[]> {
  const steps: InstanceStep[] = states.map((s) => ({ s, step: "recheck", counted: 0 }));
  await describeKnown(run, steps);
  return steps.filter((p) => p.step === "proof").map((p) => p.s);
}

/** Registrations already read, as rules.ts takes them. */
function seen(regs: readonly Registration[]): RegistrationSeen[] {
  return regs.map((r) => ({ view: r.view!, drainingSeenAt: r.drainingSeenAt }));
}

function chooseStep(run: Run, s: InstanceState, pollStartedAt: number): InstanceStep {
  const { config } = run.ctx;
  const live = liveRegistrations(s);
  const counted = countedToRun(live.map((r) => r.view!));
  if (config.dryRun) return { s, step: "learn", counted };
  if (mayBeDrained(seen(live), pollStartedAt, s.ownTaskHere ? 1 : 0))
    return { s, step: s.known.size > 0 ? "recheck" : "proof", counted };
  // Every instance the run serves is listed once, to learn its tasks (so that, once ECS counts none to run, a shared
  // DescribeTasks of those still stopping is the whole look); its own instances, and with STOP_STANDALONE_TASKS its
  // peers', again when ECS's counters change, to log what blocks and to see when only standalone tasks remain.
  const relists = s.own || config.stopStandaloneTasks;
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

/** Describes the known tasks of instances that may be empty; those whose known tasks have all stopped go on to a proof. */
async function describeKnown(run: Run, steps: InstanceStep[]): Promise<void> {
  if (steps.length === 0) return;
  const { ctx } = run;
  let tasks: Map<string, TaskView>;
  try {
    const arns = steps.flatMap((p) => [...p.s.known]);
    // One ECS does not describe (MISSING) is left to the proof's fresh listing, which lists and describes again.
    tasks = new Map(
      (await run.port.describeTasks(ctx.config.cluster, arns))
        .filter((t) => t.lastStatus !== UNDESCRIBED)
        .map((t) => [t.arn, t]),
    );
  } catch (err) {
    for (const p of steps) failed(run, p.s, "describing the instance's tasks", err);
    return;
  }
  for (const p of steps) {
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
async function prove(run: Run, steps: InstanceStep[], pollStartedAt: number): Promise<void> {
  if (steps.length === 0) return;
  const { ctx } = run;
  const listed = await list(run, steps, true);
  for (const p of steps) {
    const byRegistration = listed.get(p.s);
    if (byRegistration === undefined || p.s.outcome) continue;
    const tasks = recordListing(run, p, byRegistration);
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
async function learn(run: Run, steps: InstanceStep[]): Promise<void> {
  if (steps.length === 0) return;
  const listed = await list(run, steps, false);
  for (const p of steps) {
    const byRegistration = listed.get(p.s);
    if (byRegistration === undefined || p.s.outcome) continue;
    const tasks = recordListing(run, p, byRegistration);
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

/** Notes a listing of the instance: its tasks, and ECS's count at that moment. Returns every task listed. */
function recordListing(
  run: Run,
  p: InstanceStep,
  byRegistration: Map<string, TaskView[]>,
): TaskView[] {
  const tasks = [...byRegistration.values()].flat();
  remember(run, p.s, tasks);
  p.s.countsAtListing = p.counted;
  p.s.pollsSinceListing = 0;
  return tasks;
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
  if (!ctx.config.stopStandaloneTasks) return;
  const blocking = tasks.filter((t) => blocksDrain(t, ctx.ownTaskArn));
  if (blocking.length === 0 || blocking.every(isServiceTask)) return;
  if (blocking.filter((t) => t.desiredStatus === "RUNNING").length < counted) return;
  // Daemon tasks wait their turn: ECS stops them after the other tasks, standalone ones possibly included, so they
  // do not count against "only standalone tasks remain". Any other service task does.
  const serviceTasks = blocking.filter(isServiceTask);
  if (serviceTasks.length > 0) {
    const services = await readServices(run, serviceNames(serviceTasks), Infinity);
    const daemon = (t: TaskView) =>
      services.get(serviceOfGroup(t.group)!)?.schedulingStrategy === "DAEMON";
    if (!serviceTasks.every(daemon)) return;
  }
  for (const t of blocking) {
    if (isServiceTask(t)) continue;
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
