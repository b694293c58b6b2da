/**
 * The drain, wired: it finds the instances this run serves (rules of the group: roles.ts), starts the two keepers
 * that answer for their actions (heartbeats.ts, deadline.ts), and polls them (poll.ts) at the poll interval, paced
 * (pacer.ts), until each has an outcome. What completes an instance as drained is rules.ts alone.
 *
 * Read in order: rules.ts, heartbeats.ts, deadline.ts, pacer.ts, roles.ts, listing.ts, poll.ts, then this file.
 */
import { setMaxListeners } from "node:events";
import { DrainerConfig } from "../config";
import { keepDeadlines } from "./deadline";
import { keepHeartbeats } from "./heartbeats";
import { ReadPacer, pacedReads } from "./pacer";
import { poll } from "./poll";
import {
  FOLLOWER_MAX_POLLS,
  FOLLOWER_QUIET_POLLS,
  adoptNewcomers,
  anotherSweepAtWork,
  chooseRole,
  confirmHeld,
  followerPollEvery,
  heldInstances,
  planFor,
  stillHeld,
} from "./roles";
import {
  DrainContext,
  InstanceState,
  Outcome,
  Run,
  active,
  newInstance,
  outcomeOf,
  settle,
} from "./state";

export { ReadPacer } from "./pacer";
export { errorText } from "./state";
export type { DrainContext, Outcome, Result } from "./state";

/** Drains the instances the configuration names (event mode) or finds (sweep mode). Never throws for AWS errors. */
export async function drain(ctx: DrainContext): Promise<Outcome[]> {
  const { config, log } = ctx;
  const finished = new AbortController();
  const run: Run = {
    ctx,
    port: pacedReads(
      ctx.port,
      new ReadPacer(config.ecsReadsPerSecond, ctx.now, ctx.sleep, ctx.signal),
      (calls) => (run.reads += calls),
    ),
    reads: 0,
    role: config.mode === "sweep" ? "sweep" : "alone",
    states: [],
    plans: new Map(),
    retention: new Map(),
    knownStopped: new Set(),
    taskHome: new Map(),
    services: new Map(),
    diagnosing: false,
    publishing: new Set(),
    finished,
    signal: AbortSignal.any([ctx.signal, finished.signal]),
  };

  // Every pending sleep listens to these signals: the keepers, the loop, and each read waiting for the pacer's token.
  setMaxListeners(0, ctx.signal, run.signal);

  let keepers: Promise<unknown> = Promise.resolve();
  const startKeepers = () => (keepers = Promise.all([keepHeartbeats(run), keepDeadlines(run)]));
  let held = 1;

  if (config.mode === "sweep") {
    const other = await anotherSweepAtWork(run);
    if (other) {
      log.log("info", "another sweep is at work on these groups; leaving them to it", {
        action: "sweep",
        asgs: config.asgs,
        otherSweepTaskArn: other,
      });
      return [];
    }
    const refs = await heldInstances(run, config.asgs);
    if (refs === undefined) throw new Error("reading the groups' instances failed");
    log.log("info", `sweep found ${refs.length} instance(s) held by the terminate hook`, {
      action: "sweep",
      asgs: config.asgs,
      instances: refs.map((r) => r.instanceId),
    });
    if (refs.length === 0) return [];
    for (const ref of refs) newInstance(run, ref, true).confirmed = true;
    // Rule 2: a heartbeat for each action at once, before anything is located.
    startKeepers();
    for (const s of run.states) await planFor(run, s);
  } else {
    const own = newInstance(run, ownRef(config), true);
    startKeepers();
    if (config.notes.length > 0)
      for (const n of config.notes) log.log("warn", n, { action: "start" });
    if (await confirmHeld(run, own)) {
      await planFor(run, own);
      held = await chooseRole(run, own);
      for (const s of run.states) s.plan ??= own.plan;
    }
  }

  await loop(run, held);
  run.finished.abort();
  await keepers;

  for (const s of run.states) {
    if (s.outcome) continue;
    settle(run, s, outcomeOf(run, s, ctx.signal.aborted ? "interrupted" : "dry-run"));
    if (s.outcome!.result === "interrupted") {
      s.log.log(
        "warn",
        "stopped before the drain finished; the lifecycle action is left for the hook's heartbeat timeout or the next sweep",
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

/**
 * Polls until every instance has an outcome. A leader polls its group every interval; a follower looks at its
 * action (Auto Scaling) and its instance (ECS) every few intervals, backing off, and drains alone once it finds its
 * instance ACTIVE after its first look; a sweep polls every interval.
 */
async function loop(run: Run, held: number): Promise<void> {
  const { ctx } = run;
  const { config } = ctx;
  const intervalMs = config.pollIntervalSeconds * 1000;
  const every = run.role === "follower" ? followerPollEvery(held) : 1;
  let pollMs = intervalMs * every;
  const longestMs = intervalMs * Math.max(every, FOLLOWER_MAX_POLLS);
  if (run.role === "follower") {
    ctx.log.log(
      "info",
      `another drainer leads the group's ${held} held instances; looking every ${pollMs / 1000} s, then less and less often`,
      { action: "follow" },
    );
  }
  // A follower's first look is spread over its interval, so that a large scale-in does not start with a burst.
  let nextPollAt =
    ctx.now() + (run.role === "follower" ? Math.floor((ctx.random ?? Math.random)() * pollMs) : 0);
  let first = true;
  const startedAt = ctx.now();
  const finished = whenFinished(run);
  while (!run.signal.aborted && active(run).length > 0) {
    const wait = nextPollAt - ctx.now();
    if (wait > 0) {
      await ctx.sleep(wait, run.signal);
      continue;
    }
    const pollStartedAt = ctx.now();
    run.reads = 0;
    for (const s of active(run)) await planFor(run, s);
    if (run.role === "leader" && !first) await adoptNewcomers(run);
    const looking = active(run);
    if (run.role === "follower" && !first) {
      if (!(await stillHeld(run, looking[0]))) break;
    }
    const wasFollower = run.role === "follower";
    // After its first look, a follower leaves ECS to the leader for a few polls: it only checks its action.
    const quiet =
      wasFollower && !first && pollStartedAt - startedAt < FOLLOWER_QUIET_POLLS * intervalMs;
    // A poll that hangs (a request that never ends) does not hold the run once the keepers have ended every action.
    const drainOnly = run.role === "follower" && first;
    if (!quiet) await Promise.race([poll(run, looking, pollStartedAt, drainOnly), finished]);
    if (wasFollower && !first && foundActive(looking[0])) {
      run.role = "alone";
      looking[0].log.log(
        "warn",
        "no drainer had set the instance DRAINING; draining it alone, as if no other drainer led the group",
        { action: "follow" },
      );
    }
    first = false;
    if (config.dryRun) break;
    if (run.role === "alone") pollMs = intervalMs * every;
    // A follower that left a proof to the leader looks again after its base interval: if the instance is still
    // held then, the leader has had its chance.
    const soon = run.role === "follower" && looking[0]?.deferred;
    nextPollAt = Math.max(pollStartedAt + (soon ? intervalMs * every : pollMs), ctx.now());
    if (run.role === "follower" && !soon) pollMs = Math.min(pollMs * 2, longestMs);
  }
}

/** Whether the last look found a registration ACTIVE (and so set it DRAINING itself). */
function foundActive(s: InstanceState | undefined): boolean {
  return (s?.registrations ?? []).some(
    (r) => r.view?.status === "ACTIVE" && r.drainingSeenAt !== undefined,
  );
}

function whenFinished(run: Run): Promise<void> {
  return new Promise((resolve) => {
    if (run.signal.aborted) resolve();
    else run.signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
