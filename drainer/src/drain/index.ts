/**
 * The drain, wired: it finds out who leads (roles.ts) and so which actions this run answers for, starts the two
 * keepers that answer for them (heartbeats.ts, deadline.ts), and polls them (poll.ts) at the poll interval, paced
 * (pacer.ts), until each has an outcome or a live leader has them. What completes an instance as drained is rules.ts
 * alone.
 *
 * Read in order:
 * - rules.ts: the safety rules, stated in words, and the pure judgements that apply them;
 * - state.ts: what a run knows of each instance and of the cluster (data only);
 * - endings.ts: how an instance's drain ends, once (completing, a permanent failure, the outcome), and events.ts,
 *   what an ending puts on EventBridge;
 * - heartbeats.ts and deadline.ts: the two keepers, each on a timer of its own (rules 2 and 3);
 * - pacer.ts: every ECS read at ECS_READS_PER_SECOND;
 * - roles.ts: who leads, the leader's keeper, and the schedule of a drainer that does not lead;
 * - listing.ts, poll.ts: one look at a set of instances, and what it may cost; diagnose.ts: why a drain waits;
 * - then this file, which wires them.
 * Outside drain/: blockers.ts (what blocks an instance, and why) and hook.ts (the hook's and the retention plan).
 */
import { setMaxListeners } from "node:events";
import { drainerPort, dryRunPort } from "../aws";
import { DrainerConfig } from "../config";
import { keepDeadlines } from "./deadline";
import { keepHeartbeats } from "./heartbeats";
import { ReadPacer, pacedReads } from "./pacer";
import { poll } from "./poll";
import {
  adoptHeld,
  bounded,
  confirmHeld,
  findLeader,
  firstLook,
  handOver,
  keepLeading,
  lookAgain,
  planFor,
  lastLook,
  registryLookDue,
} from "./roles";
import { outcomeOf, settle } from "./endings";
import { DrainContext, Outcome, Run, active, newInstance } from "./state";

export { ReadPacer } from "./pacer";
export type { DrainContext, Outcome, Result } from "./state";

/** Drains the instances the configuration names (event mode) or finds (sweep mode). Never throws for AWS errors. */
export async function drain(given: DrainContext): Promise<Outcome[]> {
  const { port: givenPort, ...ctx } = given;
  const { config, log } = ctx;
  const port = config.dryRun ? dryRunPort(drainerPort(givenPort)) : drainerPort(givenPort);
  const finished = new AbortController();
  const run: Run = {
    ctx,
    port: pacedReads(
      port,
      new ReadPacer(config.ecsReadsPerSecond, ctx.now, ctx.sleep, ctx.signal),
      (calls) => (run.reads += calls),
    ),
    reads: 0,
    role: config.mode === "sweep" ? "leader" : "alone",
    states: [],
    plans: new Map(),
    retention: new Map(),
    knownStopped: new Set(),
    taskHome: new Map(),
    services: new Map(),
    drainerTasks: new Map(),
    adoptedAt: new Map(),
    spreadPolls: 1,
    diagnosing: false,
    publishing: new Set(),
    finished,
    signal: AbortSignal.any([ctx.signal, finished.signal]),
  };

  // Every pending sleep listens to these signals: the keepers, the loop, and each read waiting for the pacer's token.
  setMaxListeners(0, ctx.signal, run.signal);

  const keepers: Promise<unknown>[] = [];
  const startKeepers = () => keepers.push(keepHeartbeats(run), keepDeadlines(run));
  // A leader's own timer: it takes on newly held actions and checks that it still leads, whatever its polls do.
  const lead = async () => {
    await becomeLeader(run);
    keepers.push(keepLeading(run));
  };

  if (config.mode === "sweep") {
    const leader = await bounded(run, findLeader(run));
    if (leader !== undefined && leader !== ctx.ownTaskArn) {
      log.log(
        "info",
        "a live drainer leads these groups and answers for their held actions; leaving them to it",
        {
          action: "sweep",
          asgs: config.asgs,
          leaderTaskArn: leader,
        },
      );
      return [];
    }
    const held = await adoptHeld(run);
    if (held === undefined) throw new Error("reading the groups' instances failed");
    log.log("info", `sweep found ${held} instance(s) held by the terminate hook`, {
      action: "sweep",
      asgs: config.asgs,
      instances: run.states.map((s) => s.ref.instanceId),
    });
    if (held === 0) return [];
    // Rule 2: a heartbeat for each action at once, before anything is located.
    startKeepers();
    keepers.push(keepLeading(run));
    for (const s of run.states) await planFor(run, s);
  } else {
    const own = newInstance(run, ownRef(config), true);
    startKeepers();
    if (config.notes.length > 0)
      for (const n of config.notes) log.log("warn", n, { action: "start" });
    if (await confirmHeld(run, own)) {
      await planFor(run, own);
      if (await firstLook(run, own)) await lead();
    }
  }

  await loop(run, lead);
  run.finished.abort();
  await Promise.all(keepers);

  for (const s of run.states) {
    if (s.outcome) continue;
    settle(run, s, outcomeOf(run, s, ctx.signal.aborted ? "interrupted" : "dry-run"));
    if (s.outcome!.result === "interrupted") {
      s.log.log(
        "warn",
        "stopped before the drain finished; the lifecycle action is left for the next drainer, the sweep, or the hook's heartbeat timeout",
        { action: "interrupt" },
      );
    }
  }
  // The events in flight: each request is bounded by REQUEST_TIMEOUT_SECONDS and the SDK's retries.
  await Promise.allSettled([...run.publishing]);
  return run.states.map((s) => s.outcome!);
}

function ownRef(config: DrainerConfig) {
  return {
    asg: config.asg!,
    hook: config.hook,
    instanceId: config.instanceId!,
    token: config.token,
  };
}

/** This drainer leads: it answers for every held action of its groups from now on. */
async function becomeLeader(run: Run): Promise<void> {
  run.role = "leader";
  const before = run.states.length;
  await bounded(run, adoptHeld(run));
  run.ctx.log.log(
    "info",
    `leading: answering for every held action of ${run.ctx.config.asgs.join(", ")}`,
    {
      action: "lead",
      asgs: run.ctx.config.asgs,
      peers: run.states.slice(before).map((s) => s.ref.instanceId),
    },
  );
}

/**
 * Polls every interval until every instance has an outcome. A leader's own keeper (roles.ts) takes on the actions
 * held since and checks that it still leads; for a drainer that does not lead, the schedule in roles.ts says when a
 * poll begins with a look at the registry, and whether it then leaves or leads.
 */
async function loop(run: Run, lead: () => Promise<void>): Promise<void> {
  const { ctx } = run;
  const { config } = ctx;
  const intervalMs = config.pollIntervalSeconds * 1000;
  let nextPollAt = ctx.now();
  let polls = 0;
  const finished = whenFinished(run);
  while (!run.signal.aborted) {
    // A leader with nothing to poll waits for its keeper: it takes on newcomers, or ends the run.
    if (active(run).length === 0) {
      // A drainer alone may be the oldest live drainer, which followers leave their actions to: it looks once more.
      if (run.role === "alone" && !run.signal.aborted && (await lastLook(run))) await lead();
      if (run.role !== "leader") break;
      await ctx.sleep(intervalMs, run.signal);
      continue;
    }
    const wait = nextPollAt - ctx.now();
    if (wait > 0) {
      await ctx.sleep(wait, run.signal);
      continue;
    }
    const pollStartedAt = ctx.now();
    run.reads = 0;
    if (registryLookDue(run, polls)) {
      const next = await lookAgain(run);
      if (next.leave !== undefined) return handOver(run, next.leave);
      if (next.lead) await lead();
    }
    for (const s of active(run)) await planFor(run, s);
    // Rule 7: a follower's only look sets its instance DRAINING, without reading it.
    const drainOnly = run.role === "follower";
    // A poll that hangs (a request that never ends) does not hold the run once the keepers have ended every action.
    await Promise.race([poll(run, active(run), pollStartedAt, drainOnly), finished]);
    polls++;
    if (config.dryRun) break;
    nextPollAt = Math.max(pollStartedAt + intervalMs, ctx.now());
  }
}

function whenFinished(run: Run): Promise<void> {
  return new Promise((resolve) => {
    if (run.signal.aborted) resolve();
    else run.signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
