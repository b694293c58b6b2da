/**
 * Fargate as the drainer's own tasks meet it: RunTask of the drainer's task definition, then the task's life from
 * PENDING to STOPPED. Both the EventBridge step and an SDK's RunTask (ecs-api.ts) go through `runTask` here, so a
 * launch is judged the same way whoever asks.
 *
 * Without a launch model (the default) a RunTask is always accepted and the task is RUNNING at once: existing
 * scenarios and the demo keep their timings. With one (`LaunchModelOptions`), launches behave as
 * drainer/AWS-FACTS.md "EventBridge -> ECS task target" describes: the account's Fargate vCPU quota and "Capacity is
 * unavailable" answer HTTP 200 with `failures[]` (EventBridge does not retry those), RunTask is throttled at 20 calls
 * a second (EventBridge retries those with back-off), a task takes 20-60 s to reach RUNNING, and a subnet with no
 * free IP lets RunTask accept a task that then stops with TaskFailedToStart. Draws come from a seeded generator, so a
 * run repeats.
 */
import { DRAINER_CONTAINER_NAME } from "../../drainer/src/contract";
import { SimClock } from "./clock";
import { Rng } from "./random";
import { Recorder } from "./recorder";
import { TokenBucket } from "./throttle";
import { ApiError, DrainerPlan, DrainerTask, EnvOverride, World } from "./world";

/** The family of the drainer's task definition in the simulated cluster. */
export const DRAINER_TASK_FAMILY = "ecs-scale-in-drainer";

/** RunTask's per-task failure reasons, as ECS words them. */
export const QUOTA_REASON =
  "You've reached the limit on the number of vCPUs you can run concurrently";
export const CAPACITY_REASON =
  "Capacity is unavailable at this time. Please try again later or in a different availability zone";
export const SUBNET_ID = "subnet-0sim0000000000001";
export const NO_FREE_IP_REASON = `ResourceInitializationError: Unexpected EC2 error while attempting to Create Network Interface in subnet '${SUBNET_ID}': InsufficientFreeAddressesInSubnet`;

/** ECS keeps a stopped task describable and listable for about an hour. */
export const STOPPED_TASK_RETENTION_SECONDS = 3600;

export interface LaunchModelOptions {
  /** The account's "Fargate On-Demand vCPU resource count" quota (L-3032A538). Defaults to 6. */
  readonly fargateVcpuQuota?: number;
  /** vCPU of one drainer task. Defaults to 0.25 (so 24 tasks fill the default quota). */
  readonly taskVcpu?: number;
  /** Chance that a RunTask answers "Capacity is unavailable at this time" (not retried). Defaults to 0. */
  readonly capacityUnavailableProbability?: number;
  /** RunTask's throttle: calls per simulated second, burst the same (AWS: 20 a second). Defaults to 20. */
  readonly runTasksPerSecond?: number;
  /** Simulated seconds from RunTask accepted to RUNNING, drawn uniformly in [min, max]. Defaults to [20, 60]. */
  readonly startLatencySeconds?: readonly [number, number];
  /** Free IPs in the drainers' subnet; each task holds one from RunTask until it stops. Defaults to unlimited. */
  readonly freeIps?: number;
  /** How long a task that found no free IP stays PENDING before it stops (TaskFailedToStart). Defaults to 5. */
  readonly failedStartSeconds?: number;
  /** The EventBridge target's retry policy for throttled RunTasks. Defaults to 185 retries within 24 h (AWS's). */
  readonly retryPolicy?: {
    readonly maximumRetryAttempts?: number;
    readonly maximumEventAgeSeconds?: number;
  };
  /**
   * EventBridge's back-off between those retries: `first`, doubling, capped at `max`, each jittered down to half.
   * AWS publishes no figures; the defaults (1 s, 480 s) spread 185 retries over about 24 h.
   */
  readonly retryBackoffSeconds?: { readonly first?: number; readonly max?: number };
  /** Seed of the launch draws (latency, capacity, jitter). Defaults to the world's seed. */
  readonly seed?: number;
}

/** A launch model with every default filled in. */
export interface LaunchModel {
  readonly fargateVcpuQuota: number;
  readonly taskVcpu: number;
  readonly capacityUnavailableProbability: number;
  readonly runTasksPerSecond: number;
  readonly startLatencySeconds: readonly [number, number];
  readonly freeIps: number;
  readonly failedStartSeconds: number;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly retryFirstSeconds: number;
  readonly retryMaxSeconds: number;
  readonly seed: number;
}

export function resolveLaunchModel(options: LaunchModelOptions, worldSeed: number): LaunchModel {
  const [min, max] = options.startLatencySeconds ?? [20, 60];
  if (!(min >= 0 && max >= min)) {
    throw new Error(
      `startLatencySeconds must be [min, max] with 0 <= min <= max, got [${min}, ${max}]`,
    );
  }
  const model: LaunchModel = {
    fargateVcpuQuota: options.fargateVcpuQuota ?? 6,
    taskVcpu: options.taskVcpu ?? 0.25,
    capacityUnavailableProbability: options.capacityUnavailableProbability ?? 0,
    runTasksPerSecond: options.runTasksPerSecond ?? 20,
    startLatencySeconds: [min, max],
    freeIps: options.freeIps ?? Infinity,
    failedStartSeconds: options.failedStartSeconds ?? 5,
    maximumRetryAttempts: options.retryPolicy?.maximumRetryAttempts ?? 185,
    maximumEventAgeSeconds: options.retryPolicy?.maximumEventAgeSeconds ?? 86_400,
    retryFirstSeconds: options.retryBackoffSeconds?.first ?? 1,
    retryMaxSeconds: options.retryBackoffSeconds?.max ?? 480,
    seed: options.seed ?? worldSeed,
  };
  if (!(model.fargateVcpuQuota > 0 && model.taskVcpu > 0 && model.runTasksPerSecond > 0)) {
    throw new Error("fargateVcpuQuota, taskVcpu and runTasksPerSecond must be greater than 0");
  }
  return model;
}

/** What RunTask is asked for: one drainer task, with its container overrides. */
export interface RunTaskRequest {
  readonly family: string;
  readonly overrides: readonly EnvOverride[];
  readonly startedBy?: string;
  /** What the EventBridge step will run in it. */
  readonly plan?: DrainerPlan;
  /** Who asked: EventBridge's own calls also take a token of ECS's cluster-modifications bucket here. */
  readonly via: "eventbridge" | "api";
}

/** RunTask's answer for one task: the task accepted (still PENDING, maybe doomed), or a failure reason. */
export type RunTaskOutcome = { readonly task: DrainerTask } | { readonly failure: string };

export class Fargate {
  model?: LaunchModel;
  private bucket?: TokenBucket;
  private rng = new Rng(1);
  private ipsInUse = 0;
  private ipSeq = 0;
  /** Called when a drainer task reaches RUNNING: the EventBridge step starts its process then. */
  onRunning?: (task: DrainerTask) => void;
  /** Takes a token of ECS's cluster-modifications bucket (RunTask shares it); false when it is empty. */
  takeModificationToken?: () => boolean;

  constructor(
    private readonly world: World,
    private readonly clock: SimClock,
    private readonly recorder: Recorder,
  ) {}

  /** Switches the launch model on (or off, with undefined). */
  configure(options: LaunchModelOptions | undefined): void {
    this.model = options ? resolveLaunchModel(options, this.world.spec.seed ?? 1) : undefined;
    this.bucket = this.model
      ? new TokenBucket(
          { burst: this.model.runTasksPerSecond, refillPerSecond: this.model.runTasksPerSecond },
          this.clock,
        )
      : undefined;
    // Its own generator, so that turning the model on leaves the world's draws (ids, tokens) unchanged.
    this.rng = new Rng(((this.model?.seed ?? 1) ^ 0x5f3759df) >>> 0);
  }

  /** Drainer tasks that count against the quota: PENDING or RUNNING (anything not yet STOPPED). */
  active(): DrainerTask[] {
    return [...this.world.drainerTasks.values()].filter((t) => t.lastStatus !== "STOPPED");
  }

  /**
   * RunTask of one drainer task. Throws ThrottlingException (HTTP 400, which callers retry); answers a failure
   * reason for what ECS reports per task (HTTP 200, `tasks: []`); otherwise the task, PENDING.
   */
  runTask(req: RunTaskRequest): RunTaskOutcome {
    const stats = this.recorder.launch;
    stats.runTaskCalls++;
    const model = this.model;
    if (model) {
      // RunTask's own limit first, so that a call it refuses does not spend a token of the account's bucket.
      const admitted =
        this.bucket!.take() &&
        (req.via !== "eventbridge" || !this.takeModificationToken || this.takeModificationToken());
      if (!admitted) {
        stats.runTaskThrottles++;
        throw new ApiError("ThrottlingException", "Rate exceeded");
      }
      if ((this.active().length + 1) * model.taskVcpu > model.fargateVcpuQuota + 1e-9) {
        stats.failures.quota++;
        return { failure: QUOTA_REASON };
      }
      if (
        model.capacityUnavailableProbability > 0 &&
        this.rng.next() < model.capacityUnavailableProbability
      ) {
        stats.failures.capacity++;
        return { failure: CAPACITY_REASON };
      }
    }
    const task = this.world.createDrainerTask(req.family, req.overrides, req.startedBy, req.plan);
    stats.accepted++;
    stats.peakDrainersRunning = Math.max(stats.peakDrainersRunning, this.active().length);
    if (!model) {
      this.toRunning(task);
      return { task };
    }
    if (this.ipsInUse >= model.freeIps) {
      // Accepted, but the ENI cannot be created: the task never runs. EventBridge saw a success.
      this.clock.after(model.failedStartSeconds, () => {
        stats.failures.taskFailedToStart++;
        this.stop(task, "TaskFailedToStart", NO_FREE_IP_REASON);
      });
      return { task };
    }
    this.ipsInUse++;
    this.ipSeq++;
    task.privateIp = `10.0.${Math.floor(this.ipSeq / 250) % 250}.${(this.ipSeq % 250) + 4}`;
    const [min, max] = model.startLatencySeconds;
    this.clock.after(min + this.rng.next() * (max - min), () => this.toRunning(task));
    return { task };
  }

  /** A draw in [0, 1) from the launch model's generator (EventBridge's back-off jitter). */
  draw(): number {
    return this.rng.next();
  }

  private toRunning(task: DrainerTask): void {
    if (task.desiredStatus !== "RUNNING" || task.lastStatus !== "PENDING") return;
    task.lastStatus = "RUNNING";
    task.startedAt = this.clock.now();
    task.version++;
    this.recordStateChange(task);
    this.onRunning?.(task);
  }

  /** The task stops (its process exited, or it never started): its IP is free again. */
  stop(task: DrainerTask, stopCode: string, stoppedReason: string, exitCode?: number): void {
    if (task.lastStatus === "STOPPED") return;
    const now = this.clock.now();
    task.desiredStatus = "STOPPED";
    task.stoppingAt ??= now;
    task.lastStatus = "STOPPED";
    task.stoppedAt = now;
    task.stopCode = stopCode;
    task.stoppedReason = stoppedReason;
    task.exitCode = exitCode;
    task.version++;
    if (task.privateIp !== undefined) {
      this.ipsInUse--;
      task.privateIp = undefined;
    }
    this.recordStateChange(task);
  }

  /** An "ECS Task State Change" event, as EventBridge would carry it. */
  private recordStateChange(task: DrainerTask): void {
    this.recorder.taskStateChanges.push({
      at: this.clock.now(),
      "detail-type": "ECS Task State Change",
      source: "aws.ecs",
      detail: {
        taskArn: task.arn,
        clusterArn: this.world.clusterArn,
        taskDefinitionArn: task.taskDefinitionArn,
        group: `family:${task.family}`,
        launchType: "FARGATE",
        lastStatus: task.lastStatus,
        desiredStatus: task.desiredStatus,
        createdAt: this.world.isoTime(task.createdAt),
        ...(task.startedAt !== undefined ? { startedAt: this.world.isoTime(task.startedAt) } : {}),
        ...(task.stoppedAt !== undefined ? { stoppedAt: this.world.isoTime(task.stoppedAt) } : {}),
        ...(task.stopCode !== undefined ? { stopCode: task.stopCode } : {}),
        ...(task.stoppedReason !== undefined ? { stoppedReason: task.stoppedReason } : {}),
        overrides: {
          containerOverrides: [{ name: DRAINER_CONTAINER_NAME, environment: [...task.overrides] }],
        },
      },
    });
  }

  /** Sum over drainer tasks of (stopped, or now, minus RunTask accepted), simulated seconds. */
  taskSeconds(): number {
    const now = this.clock.now();
    let sum = 0;
    for (const t of this.world.drainerTasks.values()) sum += (t.stoppedAt ?? now) - t.createdAt;
    return sum;
  }

  /** Tasks accepted and not yet RUNNING nor STOPPED: launches still under way. */
  pending(): number {
    return [...this.world.drainerTasks.values()].filter((t) => t.lastStatus === "PENDING").length;
  }
}
