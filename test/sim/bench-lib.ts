/**
 * The benchmark: N concurrent terminations in one cluster, with AWS's ECS throttle buckets on, for the drainer, the
 * seed's original algorithm and no drainer at all. Used by `npm run bench` (bench.ts) and its test.
 */
import { statSync } from "node:fs";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { seedBaseline } from "./baseline";
import {
  BUNDLE,
  DrainerLauncher,
  bundleLauncher,
  inProcessLauncher,
  parseLogLines,
} from "./launchers";
import { LaunchModelOptions } from "./fargate";
import { LaunchFailures } from "./recorder";
import { Simulation, percentile, readRate } from "./simulation";
import { WorldEvent, WorldSpec } from "./world";

export type Contender = "drainer" | "seed-baseline" | "no-drainer";
export const CONTENDERS: readonly Contender[] = ["drainer", "seed-baseline", "no-drainer"];

export interface BenchOptions {
  readonly sizes: readonly number[];
  readonly contenders: readonly Contender[];
  /**
   * Simulated seconds per wall-clock second. Undefined: by N (`timeScaleFor`), so that the benchmark's single process,
   * which runs every drainer's CPU work that ECS would spread over N tasks, keeps up.
   */
  readonly timeScale?: number;
  /** The drainers' poll interval, simulated seconds. */
  readonly pollIntervalSeconds: number;
  /** The hook's HeartbeatTimeout, simulated seconds (a multiple of timeScale). */
  readonly heartbeatTimeoutSeconds: number;
  /** Simulated seconds a case may take before it is cut short. Defaults to 2 x the heartbeat timeout. */
  readonly caseTimeoutSeconds?: number;
  /** Progress lines. */
  readonly progress?: (line: string) => void;
  /** Overrides how a contender's drainers start (tests). */
  readonly launchers?: Partial<Record<Contender, DrainerLauncher>>;
  /** Whether to run the long drain with the sweep (`runLongDrain`). Defaults to true. */
  readonly longDrain?: boolean;
  /**
   * The realistic launch model (fargate.ts), on when this is set: at most this many drainer tasks at once (the
   * Fargate vCPU quota, at 0.25 vCPU a task: 24 tasks is AWS's default 6 vCPU), RunTask throttled at 20/s with
   * EventBridge's retries, 20-60 s from RunTask to RUNNING, and the sweep on under the same quota.
   */
  readonly fargateQuotaTasks?: number;
  /** Free IPs in the drainers' subnet (with the launch model). Defaults to unlimited. */
  readonly freeIps?: number;
  /** Chance that a RunTask answers "Capacity is unavailable" (with the launch model). Defaults to 0. */
  readonly capacityUnavailableProbability?: number;
  /** Simulated seconds from RunTask to RUNNING (with the launch model). Defaults to [20, 60]. */
  readonly startLatencySeconds?: readonly [number, number];
  /** The sweep's period with the launch model, simulated seconds. Defaults to 300 (the IaC's rate(5 minutes)). */
  readonly sweepIntervalSeconds?: number;
}

/** vCPU of one drainer task (the IaC's 256 CPU units). */
export const DRAINER_TASK_VCPU = 0.25;

/** The launch model a bench case runs with, or undefined when it is off. */
export function benchLaunchModel(options: BenchOptions): LaunchModelOptions | undefined {
  if (
    options.fargateQuotaTasks === undefined &&
    options.freeIps === undefined &&
    options.capacityUnavailableProbability === undefined
  ) {
    return undefined;
  }
  return {
    fargateVcpuQuota: (options.fargateQuotaTasks ?? 24) * DRAINER_TASK_VCPU,
    taskVcpu: DRAINER_TASK_VCPU,
    runTasksPerSecond: 20,
    startLatencySeconds: options.startLatencySeconds ?? [20, 60],
    ...(options.freeIps !== undefined ? { freeIps: options.freeIps } : {}),
    capacityUnavailableProbability: options.capacityUnavailableProbability ?? 0,
  };
}

export const DEFAULT_BENCH: BenchOptions = {
  sizes: [1, 50, 200, 500],
  contenders: CONTENDERS,
  pollIntervalSeconds: 10,
  heartbeatTimeoutSeconds: 300,
};

/** The figures for one N and one contender. Rates are per simulated second; times in simulated seconds. */
export interface BenchRow {
  readonly n: number;
  readonly contender: Contender;
  /** False when the case ran out of time: instances still waiting count as failed drains. */
  readonly finished: boolean;
  readonly timeScale: number;
  /** Drainers still running two polls after the last instance terminated (then killed). */
  readonly drainersLingering: number;
  readonly ecsCallsPerInstance: number;
  readonly autoScalingCallsPerInstance: number;
  readonly ecsReadsPerSecondPeak: number;
  readonly ecsReadsPerSecondMean: number;
  /** The busiest poll interval's read rate: what the bucket's 20/s refill must carry (bursts ride on its 100). */
  readonly ecsReadsPerSecondPeakPerPoll: number;
  /** ECS reads per instance per poll interval of its drain. */
  readonly ecsReadsPerInstancePerPoll: number | null;
  /**
   * The same in the steady phase only: from the moment every instance is DRAINING to the first completion, with
   * every instance waiting (start-up reads excluded). Null when that phase is shorter than one poll.
   */
  readonly ecsReadsPerInstancePerPollSteady: number | null;
  /**
   * What a typical poll costs: the median, over the steady phase's whole poll intervals (from half a poll after
   * every instance is DRAINING), of the interval's ECS reads per instance. Null when that phase has no whole interval.
   */
  readonly ecsReadsPerInstanceTypicalPoll: number | null;
  readonly lagP50Polls: number | null;
  readonly lagP99Polls: number | null;
  readonly throttled: number;
  readonly retries: number;
  /** Instances not completed by a drainer's CompleteLifecycleAction (hook timeout instead), null without a drainer. */
  readonly failedDrains: number | null;
  /** Drainer runs that exited with a code other than 0. */
  readonly failedRuns: number;
  readonly tasksKilled: number;
  readonly tasksAtScaleIn: number;
  /** Instances whose lifecycle action ended by a timeout (no drainer completed it). */
  readonly hookTimeouts: number;
  /** Drainer launches that never ran a drainer, by reason (all 0 without the launch model). */
  readonly launchFailures: LaunchFailures;
  /** RunTask calls answered ThrottlingException (EventBridge retried them). */
  readonly runTaskThrottles: number;
  /** The most drainer tasks PENDING or RUNNING at once. */
  readonly peakDrainersRunning: number;
  /**
   * The most drainer tasks RUNNING at once once launches settled (those still starting not counted): from two poll
   * intervals after the last event's drainer reached RUNNING (or failed), to the end. Null when no event's drainer ran.
   */
  readonly peakDrainersSettled: number | null;
  /** Drainer task-seconds (RunTask accepted to stopped, summed over tasks) per terminating instance. */
  readonly drainerTaskSecondsPerInstance: number;
  /** From scale-in to the last termination. */
  readonly simSeconds: number;
  readonly wallSeconds: number;
  /** The benchmark's own event loop delay, p99 in ms: when high, the lag figures include the harness's delay. */
  readonly eventLoopDelayP99Ms: number;
  /** Calls by operation (`ecs:ListTasks`, ...), all attempts. */
  readonly calls: Record<string, number>;
  /** The busiest second of ECS reads: when (seconds after the scale-in) and its reads by operation. */
  readonly peakSecond: { at: number; calls: Record<string, number> } | null;
  /** The busiest poll interval of ECS reads (sliding): when it starts and its reads by operation. */
  readonly peakPoll: { at: number; calls: Record<string, number> } | null;
}

export interface BenchResult {
  readonly date: string;
  readonly node: string;
  readonly options: Omit<BenchOptions, "progress" | "launchers">;
  readonly bundleBytes: number;
  /** Wall-clock milliseconds from spawning `node dist/drainer.js` to its first AWS request, median of 5. */
  readonly startupToFirstCallMs: number;
  readonly startupSamplesMs: number[];
  readonly rows: BenchRow[];
  /** The long drain with the sweep running (`runLongDrain`), when it was run. */
  readonly longDrain?: LongDrainResult;
  readonly goals: { readonly goal: string; readonly met: boolean; readonly detail: string }[];
}

/** A drain longer than several sweep periods, with the sweep running: are sweeps kept to one at a time? */
export interface LongDrainResult {
  readonly instances: number;
  readonly drainSeconds: number;
  readonly sweepPeriodSeconds: number;
  readonly sweepsStarted: number;
  /** Sweeps that served the group (the others found one at work and exited at once). */
  readonly sweepsServing: number;
  /** The most sweeps serving the group at the same moment. */
  readonly maxSweepsServingAtOnce: number;
  readonly tasksKilled: number;
  readonly hookTimeouts: number;
  readonly ecsReadsPerSecondMean: number;
}

/**
 * Ten instances whose web tasks take 25 minutes to shut down, with the sweep every 5 minutes: the drain outlasts
 * four sweep periods. Every drainer is the real bundle, run as an ECS task of the cluster (so sweeps can see each
 * other).
 */
export async function runLongDrain(
  options: { readonly pollIntervalSeconds: number; readonly sweepPeriodSeconds?: number } = {
    pollIntervalSeconds: 10,
  },
): Promise<LongDrainResult> {
  const n = 10;
  const sweepPeriodSeconds = options.sweepPeriodSeconds ?? 300;
  const world = benchWorld(n, 300, true);
  const sim = await Simulation.start({
    world: {
      ...world,
      services: world.services!.map((s) =>
        s.name === "web" ? { ...s, deactivatingSeconds: 1500 } : s,
      ),
    },
    timeScale: 50,
    hook: "bench-hook",
    launcher: bundleLauncher(),
    drainer: { pollIntervalSeconds: options.pollIntervalSeconds },
    sweepIntervalSeconds: sweepPeriodSeconds,
  });
  try {
    const ids = sim.scaleIn("bench-asg", n);
    await sim.waitFor(() => sim.world.settled(), 3600, "every instance to terminate");
    await sim.waitFor(() => sim.eventBridge.running().length === 0, 120).catch(() => undefined);
    const report = sim.report();
    const recs = ids.map((id) => sim.recorder.instances.get(id)!);
    const start = Math.min(...recs.map((r) => r.scaleInAt));
    const end = Math.max(...recs.map((r) => r.terminatedAt ?? sim.clock.now()));
    const sweeps = sim.eventBridge.runs.filter((r) => r.record.kind === "sweep");
    const serving = sweeps.filter(
      (r) =>
        !parseLogLines(r.handle.lines).some((l) =>
          /a live drainer leads these groups/.test(String(l.msg)),
        ),
    );
    let most = 0;
    for (const a of serving) {
      const at = a.record.startedAt;
      most = Math.max(
        most,
        serving.filter((b) => b.record.startedAt <= at && (b.record.endedAt ?? Infinity) > at)
          .length,
      );
    }
    return {
      instances: n,
      drainSeconds: end - start,
      sweepPeriodSeconds,
      sweepsStarted: sweeps.length,
      sweepsServing: serving.length,
      maxSweepsServingAtOnce: most,
      tasksKilled: report.tasksKilled,
      hookTimeouts: report.hookTimeouts.length,
      ecsReadsPerSecondMean:
        sim.recorder.ecsReadTimes.filter((t) => t >= start && t <= end).length /
        Math.max(1, end - start),
    };
  } finally {
    await sim.stop();
  }
}

export function longDrainGoal(l: LongDrainResult): {
  goal: string;
  met: boolean;
  detail: string;
} {
  return {
    goal: "a drain longer than two sweep periods, with the sweep running: at most one sweep serves the group at a time, 0 killed",
    met:
      l.drainSeconds > 2 * l.sweepPeriodSeconds &&
      l.maxSweepsServingAtOnce <= 1 &&
      l.tasksKilled === 0 &&
      l.hookTimeouts === 0,
    detail: `${l.instances} instances drained in ${l.drainSeconds.toFixed(0)} s with a sweep every ${l.sweepPeriodSeconds} s: ${l.sweepsStarted} sweeps started, ${l.sweepsServing} served, at most ${l.maxSweepsServingAtOnce} at once; ${l.tasksKilled} killed, ${l.hookTimeouts} hook timeouts, ECS reads ${l.ecsReadsPerSecondMean.toFixed(2)}/s`,
  };
}

/** The default time scale for N concurrent drains: slower for large N, whose drainers share one CPU here. */
export function timeScaleFor(n: number): number {
  return n <= 50 ? 10 : n <= 200 ? 5 : 2;
}

/** The cluster: N instances to terminate plus a tenth more to take the replacements; two services on each. */
export function benchWorld(n: number, heartbeatTimeout: number, withHook: boolean): WorldSpec {
  const total = n + Math.max(2, Math.ceil(n / 10));
  return {
    cluster: "bench",
    groups: [
      {
        name: "bench-asg",
        instances: total,
        hooks: withHook ? [{ name: "bench-hook", heartbeatTimeout }] : [],
      },
    ],
    services: [
      {
        name: "web",
        desiredCount: total,
        startSeconds: 10,
        deactivatingSeconds: 30,
        stoppingSeconds: 5,
      },
      { name: "worker", desiredCount: total, startSeconds: 10, stoppingSeconds: 10 },
    ],
  };
}

function launcherFor(contender: Contender, options: BenchOptions): DrainerLauncher | undefined {
  const own = options.launchers?.[contender];
  if (own) return own;
  if (contender === "drainer") return inProcessLauncher();
  if (contender === "seed-baseline") return seedBaseline;
  return undefined;
}

export async function runCase(
  n: number,
  contender: Contender,
  options: BenchOptions,
): Promise<BenchRow> {
  const poll = options.pollIntervalSeconds;
  const launch = benchLaunchModel(options);
  const sim = await Simulation.start({
    world: benchWorld(n, options.heartbeatTimeoutSeconds, contender !== "no-drainer"),
    timeScale: options.timeScale ?? timeScaleFor(n),
    hook: "bench-hook",
    launcher: launcherFor(contender, options),
    drainer: { pollIntervalSeconds: poll },
    // Whoever starts the drainers (in-process, the bundle, the seed), they go through the launch model.
    launch,
    sweepIntervalSeconds: launch ? (options.sweepIntervalSeconds ?? 300) : undefined,
  });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const wallStart = performance.now();
  try {
    // When each instance was set DRAINING: the steady phase starts once all are.
    const drainingAt = new Map<string, number>();
    sim.world.on("event", (e: WorldEvent) => {
      if (e.type === "container-instance" && e.status === "DRAINING") {
        if (!drainingAt.has(e.instanceId)) drainingAt.set(e.instanceId, e.at);
      }
    });
    const ids = sim.scaleIn("bench-asg", n);
    const recs = ids.map((id) => sim.recorder.instances.get(id)!);
    const ticker = setInterval(() => {
      const t = sim.recorder.total();
      options.progress?.(
        `  ${sim.clock.now().toFixed(0)} s: ${recs.filter((r) => r.terminatedAt !== undefined).length}/${n} terminated, ` +
          `${sim.eventBridge.running().length} drainers running, ${sim.eventBridge.launching()} launching, ${t.calls} calls, ${t.throttled} throttled`,
      );
    }, 10_000);
    let finished = true;
    try {
      await sim.waitFor(
        () => sim.world.settled(),
        options.caseTimeoutSeconds ?? options.heartbeatTimeoutSeconds * 2,
        "every instance to terminate",
      );
    } catch {
      finished = false;
    }
    // Drainers whose instance is gone should exit within a poll or two; those that do not are counted.
    await sim
      .waitFor(() => sim.eventBridge.running().length === 0, 2 * poll)
      .catch(() => undefined);
    const lingering = sim.eventBridge.running().length;
    clearInterval(ticker);
    const report = sim.report();
    const now = sim.clock.now();
    const start = Math.min(...recs.map((r) => r.scaleInAt));
    const end = Math.max(...recs.map((r) => r.terminatedAt ?? now));
    const rate = readRate(sim.recorder.ecsReadTimes, start, Math.max(end, start + 1), poll);
    const drainPolls = recs.reduce(
      (sum, r) => sum + ((r.terminatedAt ?? now) - r.scaleInAt) / poll,
      0,
    );
    const reads = sim.recorder.ecsReadTimes.length;
    // What the busiest second of ECS reads was made of.
    const perSecond = new Map<number, Record<string, number>>();
    sim.recorder.ecsReadTimes.forEach((t, i) => {
      const bucket = perSecond.get(Math.floor(t)) ?? {};
      const op = sim.recorder.ecsReadOps[i];
      bucket[op] = (bucket[op] ?? 0) + 1;
      perSecond.set(Math.floor(t), bucket);
    });
    let peakSecond: { at: number; calls: Record<string, number> } | null = null;
    for (const [at, calls] of perSecond) {
      const total = Object.values(calls).reduce((a, b) => a + b, 0);
      const best = peakSecond ? Object.values(peakSecond.calls).reduce((a, b) => a + b, 0) : -1;
      if (total > best) peakSecond = { at: at - start, calls };
    }
    const peakPoll = busiestWindow(
      sim.recorder.ecsReadTimes,
      sim.recorder.ecsReadOps,
      start,
      Math.max(end, start + 1),
      poll,
    );
    const lags = report.lags.map((l) => l / poll);
    const hasDrainer = contender !== "no-drainer";
    return {
      n,
      contender,
      finished,
      timeScale: options.timeScale ?? timeScaleFor(n),
      drainersLingering: lingering,
      ecsCallsPerInstance: report.ecsCalls / n,
      autoScalingCallsPerInstance: report.autoScalingCalls / n,
      ecsReadsPerSecondPeak: rate.peak,
      ecsReadsPerSecondMean: rate.mean,
      ecsReadsPerSecondPeakPerPoll: rate.peakSustained,
      ecsReadsPerInstancePerPoll: hasDrainer && drainPolls > 0 ? reads / drainPolls : null,
      ...steadyReads(hasDrainer, sim, ids, drainingAt, poll),
      lagP50Polls: percentile(lags, 50) ?? null,
      lagP99Polls: percentile(lags, 99) ?? null,
      throttled: report.throttled,
      retries: report.retries,
      failedDrains: hasDrainer
        ? recs.filter((r) => !r.completions.some((c) => c.hook === "bench-hook" && c.via === "api"))
            .length
        : null,
      failedRuns: report.exitCodes.filter((c) => c !== 0).length,
      tasksKilled: report.tasksKilled,
      tasksAtScaleIn: recs.reduce((s, r) => s + r.tasksAtScaleIn, 0),
      hookTimeouts: report.hookTimeouts.length,
      launchFailures: report.launchFailures,
      runTaskThrottles: report.runTaskThrottles,
      peakDrainersRunning: report.peakDrainersRunning,
      peakDrainersSettled: peakAfterLaunches(sim, poll),
      drainerTaskSecondsPerInstance: report.drainerTaskSeconds / n,
      simSeconds: end - start,
      wallSeconds: (performance.now() - wallStart) / 1000,
      eventLoopDelayP99Ms: loop.percentile(99) / 1e6,
      calls: report.calls,
      peakSecond,
      peakPoll,
    };
  } finally {
    loop.disable();
    await sim.stop();
  }
}

/** The busiest sliding window of `width` seconds: when it starts (after `from`) and its reads by operation. */
function busiestWindow(
  times: readonly number[],
  ops: readonly string[],
  from: number,
  to: number,
  width: number,
): { at: number; calls: Record<string, number> } | null {
  const reads = times
    .map((t, i) => ({ t, op: ops[i] }))
    .filter((r) => r.t >= from && r.t <= to)
    .sort((a, b) => a.t - b.t);
  let best: [number, number] | null = null;
  for (let lo = 0, hi = 0; hi < reads.length; hi++) {
    while (reads[hi].t - reads[lo].t >= width) lo++;
    if (!best || hi - lo > best[1] - best[0]) best = [lo, hi];
  }
  if (!best) return null;
  const calls: Record<string, number> = {};
  for (const r of reads.slice(best[0], best[1] + 1)) calls[r.op] = (calls[r.op] ?? 0) + 1;
  return { at: reads[best[0]].t - from, calls };
}

/**
 * ECS reads per instance per poll while every instance is DRAINING and none has completed yet: the mean, and the
 * median over whole poll intervals (each starting half a poll after the last instance was set DRAINING, so that a
 * drainer polling on its own puts one poll in each).
 */
function steadyReads(
  hasDrainer: boolean,
  sim: Simulation,
  ids: readonly string[],
  drainingAt: ReadonlyMap<string, number>,
  poll: number,
): Pick<BenchRow, "ecsReadsPerInstancePerPollSteady" | "ecsReadsPerInstanceTypicalPoll"> {
  const none = { ecsReadsPerInstancePerPollSteady: null, ecsReadsPerInstanceTypicalPoll: null };
  if (!hasDrainer || ids.some((id) => !drainingAt.has(id))) return none;
  const from = Math.max(...ids.map((id) => drainingAt.get(id)!));
  const firstEnd = Math.min(
    ...ids.map((id) => {
      const r = sim.recorder.instances.get(id)!;
      return Math.min(r.terminatedAt ?? Infinity, ...r.completions.map((c) => c.at));
    }),
  );
  if (!(firstEnd - from >= poll)) return none;
  const times = sim.recorder.ecsReadTimes;
  const reads = times.filter((t) => t >= from && t < firstEnd).length;
  const perInterval: number[] = [];
  for (let lo = from + poll / 2; lo + poll <= firstEnd; lo += poll) {
    perInterval.push(times.filter((t) => t >= lo && t < lo + poll).length / ids.length);
  }
  return {
    ecsReadsPerInstancePerPollSteady: reads / (ids.length * ((firstEnd - from) / poll)),
    ecsReadsPerInstanceTypicalPoll: percentile(perInterval, 50) ?? null,
  };
}

/** Wall-clock ms from spawning the bundle to the first AWS request it makes, `samples` times. */
export async function measureStartup(samples = 5, bundle = BUNDLE): Promise<number[]> {
  const launch = bundleLauncher(bundle);
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const sim = await Simulation.start({
      world: {
        cluster: "startup",
        groups: [{ name: "g", instances: 0, unregistered: 1, hooks: [] }],
      },
      timeScale: 1,
    });
    try {
      const id = sim.world.group("g").instances[0].id;
      let first: number | undefined;
      sim.server.listeners.push(() => (first ??= performance.now()));
      const t0 = performance.now();
      const handle = launch(
        {
          ECS_CLUSTER: "startup",
          LIFECYCLE_HOOK_NAME: "h",
          AUTOSCALING_GROUP_NAME: "g",
          EC2_INSTANCE_ID: id,
        },
        { endpoint: sim.endpoint, region: sim.world.region },
      );
      await handle.exit;
      if (first === undefined)
        throw new Error(`the bundle made no AWS call: ${handle.stderr.join("\n")}`);
      out.push(first - t0);
    } finally {
      await sim.stop();
    }
  }
  return out;
}

export function evaluateGoals(rows: readonly BenchRow[]): BenchResult["goals"] {
  const mine = rows.filter((r) => r.contender === "drainer");
  const goals: BenchResult["goals"] = [];
  if (mine.length === 0) return goals;
  const worstLag = Math.max(...mine.map((r) => r.lagP99Polls ?? 0));
  goals.push({
    goal: "lag p99 <= 1 poll interval",
    met: worstLag <= 1,
    detail: mine.map((r) => `N=${r.n}: ${fmt(r.lagP99Polls)}`).join(", "),
  });
  const big = mine.find((r) => r.n === 500) ?? mine[mine.length - 1];
  goals.push({
    goal: `at N=${big.n}: ECS read rate under 20/s (mean and busiest poll interval, 0 throttled), 0 failed drains, 0 killed`,
    met:
      big.ecsReadsPerSecondMean < 20 &&
      big.ecsReadsPerSecondPeakPerPoll < 20 &&
      big.throttled === 0 &&
      big.failedDrains === 0 &&
      big.tasksKilled === 0,
    detail: `mean ${fmt(big.ecsReadsPerSecondMean)}/s, busiest poll interval ${fmt(big.ecsReadsPerSecondPeakPerPoll)}/s, busiest second ${big.ecsReadsPerSecondPeak}, throttled ${big.throttled}, failed ${big.failedDrains}, killed ${big.tasksKilled}`,
  });
  const worstReads = Math.max(...mine.map((r) => r.ecsReadsPerInstanceTypicalPoll ?? Infinity));
  goals.push({
    goal: "ECS reads per instance <= 1 per poll, in a typical poll",
    met: worstReads <= 1,
    detail: mine
      .map(
        (r) =>
          `N=${r.n}: typical poll ${fmt(r.ecsReadsPerInstanceTypicalPoll)}, steady-phase mean ${fmt(r.ecsReadsPerInstancePerPollSteady)}, whole-drain mean ${fmt(r.ecsReadsPerInstancePerPoll)}`,
      )
      .join("; "),
  });
  return goals;
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const progress = options.progress ?? (() => undefined);
  const startupSamplesMs = await measureStartup();
  progress(
    `bundle start-up to first AWS call: ${startupSamplesMs.map((x) => x.toFixed(0)).join(", ")} ms`,
  );
  const rows: BenchRow[] = [];
  for (const n of options.sizes) {
    for (const contender of options.contenders) {
      progress(`N=${n} ${contender} ...`);
      const row = await runCase(n, contender, options);
      rows.push(row);
      progress(
        `N=${n} ${contender}: killed ${row.tasksKilled}, failed ${row.failedDrains ?? "-"}, ` +
          `hook timeouts ${row.hookTimeouts}, launch failures ${launchFailureText(row.launchFailures)}, ` +
          `peak drainers ${row.peakDrainersRunning}, drainer task-s/inst ${fmt(row.drainerTaskSecondsPerInstance, 1)}, ` +
          `reads/s peak ${row.ecsReadsPerSecondPeak} mean ${fmt(row.ecsReadsPerSecondMean)}, ` +
          `throttled ${row.throttled}, ${row.wallSeconds.toFixed(1)} s (event loop delay p99 ${row.eventLoopDelayP99Ms.toFixed(0)} ms)`,
      );
    }
  }
  let longDrain: LongDrainResult | undefined;
  if (options.longDrain !== false) {
    progress("long drain with the sweep running ...");
    longDrain = await runLongDrain({ pollIntervalSeconds: options.pollIntervalSeconds });
    progress(`long drain: ${longDrainGoal(longDrain).detail}`);
  }
  const { progress: _p, launchers: _l, ...rest } = options;
  void _p;
  void _l;
  const goals = evaluateGoals(rows);
  if (longDrain) goals.push(longDrainGoal(longDrain));
  return {
    date: new Date().toISOString(),
    node: process.version,
    options: rest,
    bundleBytes: statSync(BUNDLE.replace(/drainer\.js$/, "drainer.bundle.js")).size,
    startupToFirstCallMs: percentile(startupSamplesMs, 50)!,
    startupSamplesMs,
    rows,
    longDrain,
    goals,
  };
}

/** `quota/capacity/no IP/throttled`, as the table's column gives them. */
export function launchFailureText(f: LaunchFailures): string {
  return `${f.quota}/${f.capacity}/${f.taskFailedToStart}/${f.throttledGaveUp}`;
}

function fmt(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined) return "-";
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

/** The results as a Markdown table (the README's figures). */
export function formatTable(result: BenchResult): string {
  const head = [
    "N",
    "contender",
    "ECS calls/inst",
    "ASG calls/inst",
    "ECS reads/s: busiest second",
    "busiest poll interval",
    "mean",
    "reads/inst/poll",
    "steady",
    "typical poll",
    "lag p50 (polls)",
    "lag p99 (polls)",
    "throttled",
    "failed drains",
    "drainer exits != 0",
    "drainers left running",
    "tasks killed",
    "harness delay p99 (ms)",
    "hook timeouts",
    "launch failures (quota/capacity/no IP/throttled)",
    "peak drainers",
    "once launches settle",
    "drainer task-s/inst",
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...result.rows.map(
      (r) =>
        `| ${[
          r.n,
          r.finished ? r.contender : `${r.contender} (cut short)`,
          fmt(r.ecsCallsPerInstance, 1),
          fmt(r.autoScalingCallsPerInstance, 1),
          fmt(r.ecsReadsPerSecondPeak),
          fmt(r.ecsReadsPerSecondPeakPerPoll),
          fmt(r.ecsReadsPerSecondMean),
          fmt(r.ecsReadsPerInstancePerPoll),
          fmt(r.ecsReadsPerInstancePerPollSteady),
          fmt(r.ecsReadsPerInstanceTypicalPoll),
          fmt(r.lagP50Polls),
          fmt(r.lagP99Polls),
          r.throttled,
          r.failedDrains === null ? "-" : r.failedDrains,
          r.failedRuns,
          r.drainersLingering,
          `${r.tasksKilled}/${r.tasksAtScaleIn}`,
          r.eventLoopDelayP99Ms.toFixed(0),
          r.hookTimeouts,
          launchFailureText(r.launchFailures),
          r.peakDrainersRunning,
          r.peakDrainersSettled ?? "-",
          fmt(r.drainerTaskSecondsPerInstance, 1),
        ].join(" | ")} |`,
    ),
  ];
  const o = result.options;
  return [
    ...lines,
    "",
    `Bundle: ${(result.bundleBytes / 1024).toFixed(0)} KiB; start-up to first AWS call: ${result.startupToFirstCallMs.toFixed(0)} ms (median of ${result.startupSamplesMs.length}).`,
    "Drainers left running: still running two poll intervals after the last instance terminated (their work is done; they hold a task until they notice).",
    "Harness delay: the benchmark process's event-loop delay (simulator and in-process drainers share it); above ~100 ms the harness, not AWS, is slowing the drainers down.",
    "ECS reads per instance per poll: over each instance's whole drain (reads/inst/poll), over the steady phase (every instance DRAINING, none completed yet), and in a typical poll of that phase (the median poll interval).",
    ...result.rows
      .filter((r) => r.contender === "drainer" && r.peakPoll)
      .map(
        (r) =>
          `Drainer's busiest poll interval at N=${r.n}: from ${r.peakPoll!.at.toFixed(0)} s after the scale-in, ${Object.entries(
            r.peakPoll!.calls,
          )
            .sort(([, a], [, b]) => b - a)
            .map(([op, n]) => `${op} ${n}`)
            .join(", ")}.`,
      ),
    ...(benchLaunchModel(o)
      ? [
          `Launch model on: Fargate quota ${o.fargateQuotaTasks ?? 24} drainer tasks (${((o.fargateQuotaTasks ?? 24) * DRAINER_TASK_VCPU).toFixed(2)} vCPU at ${DRAINER_TASK_VCPU} a task; PENDING and RUNNING count), RunTask 20/s with EventBridge's retries, ${(o.startLatencySeconds ?? [20, 60]).join("-")} s from RunTask to RUNNING, free IPs ${o.freeIps ?? "unlimited"}, capacity unavailable ${((o.capacityUnavailableProbability ?? 0) * 100).toFixed(0)}% of launches, the sweep every ${o.sweepIntervalSeconds ?? 300} s. A launch over the quota is lost (EventBridge does not retry it): its instance waits for the sweep or its hook's timeout.`,
        ]
      : []),
    "Drainer task-s/inst: drainer task-seconds (RunTask accepted to stopped, summed over every drainer task, sweeps included) per terminating instance.",
    `Poll interval ${o.pollIntervalSeconds} s, hook heartbeat timeout ${o.heartbeatTimeoutSeconds} s, time scale ${[...new Set(result.rows.map((r) => `${r.timeScale}x (N=${r.n})`))].join(", ")}; rates per simulated second; ECS buckets: reads 100 burst + 20/s, modifications 100 burst + 40/s.`,
    ...(result.longDrain
      ? [
          `Long drain: ${result.longDrain.instances} instances whose web tasks take 25 minutes to shut down, the sweep every ${result.longDrain.sweepPeriodSeconds} s, every drainer the real bundle running as an ECS task.`,
        ]
      : []),
    "",
    ...result.goals.map((g) => `- ${g.met ? "MET" : "MISSED"}: ${g.goal} (${g.detail})`),
  ].join("\n");
}

/**
 * The most drainer tasks alive at once after launches settled: from two poll intervals (a follower's stay) after the
 * last event's drainer task reached RUNNING or stopped without running, to the end of the run.
 */
export function peakAfterLaunches(sim: Simulation, poll: number): number | null {
  const tasks = [...sim.world.drainerTasks.values()];
  const events = tasks.filter((t) => t.startedBy !== "events-rule/drainer-sweep");
  if (events.length === 0) return null;
  const settledAt =
    Math.max(...events.map((t) => t.startedAt ?? t.stoppedAt ?? t.createdAt)) + 2 * poll;
  // Running: started and not stopped. Those still starting (PENDING) are not counted, as the goal says.
  const alive = (at: number) =>
    tasks.filter(
      (t) =>
        t.startedAt !== undefined &&
        t.startedAt <= at &&
        (t.stoppedAt === undefined || t.stoppedAt > at),
    ).length;
  const moments = [
    settledAt,
    ...tasks.map((t) => t.startedAt ?? -1).filter((at) => at > settledAt),
  ];
  return Math.max(...moments.map(alive));
}
