/**
 * One simulation run: the world, its API endpoint, the EventBridge step and the recorder, wired together, with
 * helpers to scale in, wait for the outcome and read the figures.
 */
import { DEFAULTS, setting } from "../../drainer/src/contract";
import { SimClock } from "./clock";
import { EventBridge, EventBridgeFaults } from "./eventbridge";
import { LaunchModelOptions } from "./fargate";
import { DrainerLauncher } from "./launchers";
import { LaunchFailures, Recorder } from "./recorder";
import { Faults, SimServer } from "./server";
import { TerminatePath, World, WorldSpec } from "./world";

/** The drainer's settings, in simulated seconds; the simulation converts them to the drainer's wall-clock seconds. */
export interface DrainerSettings {
  /** Defaults to 10, the drainer's own default. */
  readonly pollIntervalSeconds?: number;
  /** Undefined: the drainer derives it from the hook. */
  readonly heartbeatIntervalSeconds?: number;
  readonly drainTimeoutSeconds?: number;
  /** REQUEST_TIMEOUT_SECONDS, simulated; defaults to the drainer's own (5 s). */
  readonly requestTimeoutSeconds?: number;
  readonly timeoutResult?: "CONTINUE" | "ABANDON";
  readonly stopStandaloneTasks?: boolean;
  readonly dryRun?: boolean;
  /** Any other variables for the task definition. */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
}

export interface SimulationOptions {
  readonly world: WorldSpec;
  /** Simulated seconds per wall-clock second. */
  readonly timeScale: number;
  /** Starts the drainers; undefined means no drainer at all. */
  readonly launcher?: DrainerLauncher;
  readonly drainer?: DrainerSettings;
  /** The hook the EventBridge rule serves. Defaults to DEFAULTS.hookName. */
  readonly hook?: string;
  readonly faults?: Partial<Faults>;
  readonly events?: EventBridgeFaults;
  /** Simulated seconds from a lifecycle event to its RunTask. Defaults to 1. */
  readonly deliveryDelaySeconds?: number;
  /**
   * The realistic launch model of the drainers' tasks (fargate.ts): the Fargate vCPU quota, RunTask's throttle and
   * EventBridge's retries, 20-60 s to RUNNING, free IPs. Undefined (the default): every launch succeeds and runs at
   * once, as before.
   */
  readonly launch?: LaunchModelOptions;
  readonly sweepIntervalSeconds?: number;
  /** The SDK's AWS_MAX_ATTEMPTS for every drainer. */
  readonly maxAttempts?: number;
  /** Start with the clock paused at 0 (tests that step time with `run`). */
  readonly startPaused?: boolean;
}

/** Formats wall-clock seconds for an environment variable: plain decimals, never exponents. */
export function seconds(value: number): string {
  if (!(value > 0)) throw new Error(`a duration must be greater than 0, got ${value}`);
  const text = Number(value.toFixed(4)).toString();
  if (/e/.test(text) || Number(text) === 0) {
    throw new Error(`${value} s is too short for the drainer: slow the simulation down`);
  }
  return text;
}

/** A per-second rate for the drainer's wall clock; refuses one the drainer's own limit would reject. */
export function scaledRate(perSimSecond: number, timeScale: number): string {
  const limit = setting("ECS_READS_PER_SECOND").max ?? Infinity;
  const wall = perSimSecond * timeScale;
  if (wall > limit) {
    throw new Error(
      `time scale ${timeScale} makes ECS_READS_PER_SECOND ${wall}, above the drainer's limit of ${limit}: use a time scale of at most ${Math.floor(limit / perSimSecond)} when a drainer runs`,
    );
  }
  return String(wall);
}

export class Simulation {
  readonly clock: SimClock;
  readonly recorder = new Recorder();
  readonly world: World;
  readonly server: SimServer;
  readonly hook: string;
  readonly pollIntervalSeconds: number;
  eventBridge!: EventBridge;

  private constructor(readonly options: SimulationOptions) {
    this.clock = new SimClock(options.timeScale);
    if (options.startPaused) this.clock.pause(0);
    this.hook = options.hook ?? DEFAULTS.hookName;
    this.pollIntervalSeconds = options.drainer?.pollIntervalSeconds ?? DEFAULTS.pollIntervalSeconds;
    for (const g of options.world.groups) {
      for (const h of g.hooks) {
        const wall = (h.heartbeatTimeout ?? 900) / options.timeScale;
        if (!Number.isInteger(wall) || wall < 1) {
          throw new Error(
            `hook ${h.name} of ${g.name}: heartbeatTimeout ${h.heartbeatTimeout ?? 900} / timeScale ${options.timeScale} must be a whole number of wall-clock seconds (the API reports HeartbeatTimeout as an integer); pick a multiple of the time scale.`,
          );
        }
      }
    }
    this.world = new World(options.world, this.clock, this.recorder);
    this.world.fargate.configure(options.launch);
    this.server = new SimServer(this.world, this.clock, this.recorder, options.faults);
  }

  static async start(options: SimulationOptions): Promise<Simulation> {
    const sim = new Simulation(options);
    const endpoint = await sim.server.start();
    sim.eventBridge = new EventBridge(
      sim.world,
      sim.clock,
      sim.recorder,
      { endpoint, region: sim.world.region, maxAttempts: options.maxAttempts },
      {
        launcher: options.launcher,
        // Only a simulation that starts drainers needs (and checks) their environment.
        taskEnvironment: options.launcher ? sim.taskEnvironment() : {},
        hook: sim.hook,
        deliveryDelaySeconds: options.deliveryDelaySeconds,
        sweepIntervalSeconds: options.sweepIntervalSeconds,
        faults: options.events,
      },
    );
    return sim;
  }

  get endpoint(): string {
    return this.server.endpoint;
  }

  /** The drainer task definition's environment, in wall-clock seconds. */
  taskEnvironment(): Record<string, string> {
    const d = this.options.drainer ?? {};
    const env: Record<string, string> = {
      ECS_CLUSTER: this.world.clusterName,
      LIFECYCLE_HOOK_NAME: this.hook,
      POLL_INTERVAL_SECONDS: seconds(this.clock.toReal(this.pollIntervalSeconds)),
      // A rate, so scaled the other way: the drainer's ListTasks budget per simulated second stays the default.
      ECS_READS_PER_SECOND: scaledRate(DEFAULTS.ecsReadsPerSecond, this.clock.timeScale),
    };
    if (d.heartbeatIntervalSeconds !== undefined) {
      env.HEARTBEAT_INTERVAL_SECONDS = seconds(this.clock.toReal(d.heartbeatIntervalSeconds));
    }
    // Scaled like the other durations, so that a hung request costs the drainer what it would on AWS.
    env.REQUEST_TIMEOUT_SECONDS = seconds(
      this.clock.toReal(d.requestTimeoutSeconds ?? DEFAULTS.requestTimeoutSeconds),
    );
    // Always set, so that the drainer's own default (3600 s) is scaled like every other duration.
    env.DRAIN_TIMEOUT_SECONDS = seconds(
      this.clock.toReal(d.drainTimeoutSeconds ?? DEFAULTS.drainTimeoutSeconds),
    );
    if (d.timeoutResult) env.TIMEOUT_RESULT = d.timeoutResult;
    if (d.stopStandaloneTasks !== undefined)
      env.STOP_STANDALONE_TASKS = String(d.stopStandaloneTasks);
    if (d.dryRun !== undefined) env.DRY_RUN = String(d.dryRun);
    return { ...env, ...d.extraEnvironment };
  }

  scaleIn(
    group: string,
    countOrIds: number | readonly string[],
    path: TerminatePath = "terminate",
  ): string[] {
    return this.world.scaleIn(group, countOrIds, path);
  }

  /** Resolves when `done()` holds, checking every few milliseconds; rejects after `timeoutSeconds` simulated. */
  async waitFor(
    done: () => boolean,
    timeoutSeconds: number,
    what = "the condition",
  ): Promise<void> {
    this.clock.resume();
    const deadline = this.clock.now() + timeoutSeconds;
    for (;;) {
      this.clock.advance();
      if (done()) return;
      if (this.clock.now() > deadline) {
        throw new Error(`timed out after ${timeoutSeconds} simulated seconds waiting for ${what}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits until every instance scaled in has terminated, no launch is under way and no drainer is still running. */
  async settle(timeoutSeconds: number): Promise<Report> {
    await this.waitFor(
      () =>
        this.world.settled() &&
        this.eventBridge.launching() === 0 &&
        this.eventBridge.running().length === 0,
      timeoutSeconds,
      "every scaled-in instance to terminate, every launch to end and every drainer to exit",
    );
    return this.report();
  }

  /** Lets `simSeconds` of simulated time pass (from a paused clock: exactly that much, then paused again). */
  async run(simSeconds: number): Promise<void> {
    await this.clock.runFor(simSeconds);
  }

  report(): Report {
    return buildReport(this);
  }

  async stop(): Promise<void> {
    await this.eventBridge?.shutdown();
    await this.server.stop();
    this.clock.stop();
  }
}

/** The figures of a run. Times are simulated seconds. */
export interface Report {
  readonly instances: number;
  readonly tasksKilled: number;
  /** Tasks lost with instances that vanished (not the drainer's doing). */
  readonly tasksKilledWithVanished: number;
  readonly hookTimeouts: string[];
  /** Lag from last task stopped to completion, per instance completed by the drainer's hook. */
  readonly lags: number[];
  readonly lagP50: number | undefined;
  readonly lagP99: number | undefined;
  readonly calls: Record<string, number>;
  readonly ecsCalls: number;
  readonly autoScalingCalls: number;
  readonly throttled: number;
  readonly retries: number;
  readonly faults: number;
  readonly exitCodes: number[];
  /** Completions of the drainer's hook by result: { CONTINUE: n, ABANDON: m }. */
  readonly results: Record<string, number>;
  readonly unsupported: string[];
  /** Simulated seconds from scale-in to termination, per instance. */
  readonly drainSeconds: number[];
  readonly ecsReadRate: { peak: number; mean: number; peakSustained: number };
  /** Drainer launches that never ran a drainer, by reason. */
  readonly launchFailures: LaunchFailures;
  /** RunTask calls of drainer tasks (EventBridge's, retries included, and any over the API). */
  readonly runTaskCalls: number;
  /** Of those, the ones answered ThrottlingException. */
  readonly runTaskThrottles: number;
  /** Of those, EventBridge's retries of a throttled one. */
  readonly runTaskRetries: number;
  /** Drainer tasks RunTask accepted. */
  readonly drainerTasksAccepted: number;
  /** The most drainer tasks PENDING or RUNNING at once. */
  readonly peakDrainersRunning: number;
  /** Sum over drainer tasks of (stopped, or now, minus RunTask accepted), simulated seconds. */
  readonly drainerTaskSeconds: number;
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** ECS reads per simulated second: the peak over 1-second windows, and the mean over [from, to]. */
export function readRate(
  times: readonly number[],
  from: number,
  to: number,
  sustainedWindow = 10,
): { peak: number; mean: number; peakSustained: number } {
  const inRange = times.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  const buckets = new Map<number, number>();
  for (const t of inRange) buckets.set(Math.floor(t), (buckets.get(Math.floor(t)) ?? 0) + 1);
  const span = Math.max(to - from, 1);
  // The busiest sliding window of `sustainedWindow` seconds: what a token bucket's refill rate has to carry.
  let best = 0;
  for (let lo = 0, hi = 0; hi < inRange.length; hi++) {
    while (inRange[hi] - inRange[lo] >= sustainedWindow) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return {
    peak: Math.max(0, ...buckets.values()),
    mean: inRange.length / span,
    peakSustained: best / Math.min(sustainedWindow, span),
  };
}

function buildReport(sim: Simulation): Report {
  const r = sim.recorder;
  const recs = [...r.instances.values()];
  const lags = r.lags(sim.hook);
  const calls: Record<string, number> = {};
  for (const [k, v] of r.calls) calls[k] = v.calls;
  const all = r.total();
  const results: Record<string, number> = {};
  for (const rec of recs) {
    for (const c of rec.completions) {
      if (c.hook === sim.hook) results[c.result] = (results[c.result] ?? 0) + 1;
    }
  }
  const start = Math.min(...recs.map((x) => x.scaleInAt), Infinity);
  const end = Math.max(...recs.map((x) => x.terminatedAt ?? sim.clock.now()), -Infinity);
  return {
    instances: recs.length,
    tasksKilled: r.killedTotal(),
    tasksKilledWithVanished: r.killedTotal({ includeVanished: true }),
    hookTimeouts: r.hookTimeouts(),
    lags,
    lagP50: percentile(lags, 50),
    lagP99: percentile(lags, 99),
    calls,
    ecsCalls: r.total("ecs").calls,
    autoScalingCalls: r.total("autoscaling").calls,
    throttled: all.throttled,
    retries: all.retries,
    faults: all.faults,
    exitCodes: r.exitCodes(),
    results,
    unsupported: [...r.unsupported],
    drainSeconds: recs
      .filter((x) => x.terminatedAt !== undefined)
      .map((x) => x.terminatedAt! - x.scaleInAt),
    ecsReadRate:
      recs.length > 0
        ? readRate(r.ecsReadTimes, start, end)
        : { peak: 0, mean: 0, peakSustained: 0 },
    launchFailures: { ...r.launch.failures },
    runTaskCalls: r.launch.runTaskCalls,
    runTaskThrottles: r.launch.runTaskThrottles,
    runTaskRetries: r.launch.runTaskRetries,
    drainerTasksAccepted: r.launch.accepted,
    peakDrainersRunning: r.launch.peakDrainersRunning,
    drainerTaskSeconds: sim.world.fargate.taskSeconds(),
  };
}
