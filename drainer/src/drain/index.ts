/**
 * The drain, wired: it finds out who leads (roles.ts) and so which actions this run answers for, starts the two
 * keepers that answer for them (heartbeats.ts, deadline.ts), and polls them (poll.ts) at the poll interval, paced
 * (pacer.ts), until each has an outcome or a live leader has them. What completes an instance as drained is rules.ts
 * alone.
 *
 * Read in order: rules.ts, heartbeats.ts, deadline.ts, pacer.ts, roles.ts, listing.ts, poll.ts, then this file.
 */
import { setMaxListeners } from "node:events";
import { BATCH, drainerPort, dryRunPort } from "../aws";
import { DrainerConfig } from "../config";
import { keepDeadlines } from "./deadline";
import { keepHeartbeats } from "./heartbeats";
import { ReadPacer, pacedReads } from "./pacer";
import { poll } from "./poll";
import {
  REGISTRY_POLLS,
  adoptHeld,
  bounded,
  confirmHeld,
  drainersPage,
  findLeader,
  handOver,
  heldInstances,
  keepLeading,
  looksPerSecond,
  planFor,
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
      const page = await spreadRegistryLooks(run);
      const leader = own.outcome
        ? undefined
        : await bounded(run, findLeader(run, undefined, page), REGISTRY_POLLS);
      // Cannot tell (not an ECS task, or the registry did not answer): its own action only, and, when it is an ECS
      // task, another look at the registry at the spread's pace. Leading without knowing would have every drainer of
      // a large scale-in answer for every action at once.
      if (leader === undefined) run.role = "alone";
      else if (leader !== ctx.ownTaskArn) {
        run.role = "follower";
        log.log(
          "info",
          "another drainer leads the groups; setting the instance DRAINING, then leaving the action to it",
          {
            action: "follow",
            leaderTaskArn: leader,
          },
        );
      } else await lead();
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
async function spreadRegistryLooks(run: Run): Promise<string[] | undefined> {
  const { ctx } = run;
  if (!ctx.ownTaskArn || !ctx.ownFamily) return undefined;
  let page: string[] | undefined;
  try {
    page = await bounded(run, drainersPage(run));
  } catch {
    page = undefined;
  }
  const looking =
    page !== undefined && page.length < BATCH.listTasks
      ? page.length
      : Math.max(page?.length ?? 0, (await heldInstances(run, ctx.config.asgs))?.length ?? 1);
  const perPoll = looksPerSecond(ctx.config.ecsReadsPerSecond) * ctx.config.pollIntervalSeconds;
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
 * Polls until every instance has an outcome. A leader (or a drainer alone) polls every interval; a leader's own
 * keeper (roles.ts) takes on the actions held since and checks that it still leads. A follower's first look sets its
 * instance DRAINING; one interval later, the leader still live, it leaves (or, the leader gone, leads).
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
    if (run.role === "alone" && ctx.ownTaskArn && polls > 0 && polls % run.spreadPolls === 0) {
      const leader = await bounded(run, findLeader(run), REGISTRY_POLLS);
      if (leader !== undefined && leader !== ctx.ownTaskArn) return handOver(run, leader);
      if (leader === ctx.ownTaskArn) await lead();
    } else if (run.role === "follower" && polls > 0) {
      const leader = await bounded(run, findLeader(run, run.leaderTaskArn), REGISTRY_POLLS);
      if (leader !== undefined && leader !== ctx.ownTaskArn) return handOver(run, leader);
      ctx.log.log("warn", "the drainer that led is gone; leading in its place", { action: "lead" });
      await lead();
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
