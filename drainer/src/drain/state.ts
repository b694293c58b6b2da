/**
 * A run's bookkeeping: what it knows of each instance and of the cluster, as data. No I/O, and nothing from drain/:
 * how an instance's drain ends is endings.ts.
 */
import type {
  AwsPort,
  ContainerInstanceView,
  LifecycleActionRef,
  ServiceView,
  TaskView,
} from "../aws";
import type { DrainerConfig } from "../config";
import type { Blockers, StuckFinding } from "../blockers";
import type { Logger } from "../log";
import { type HookPlan, type RetentionPlan, heartbeatInterval } from "../hook";

/** How a run ended for one instance. */
export type Result =
  /** Drained, and the lifecycle action completed with CONTINUE. */
  | "completed"
  /** The action was already over: another drainer, a sweep or the hook's timeout ended it. */
  | "already-complete"
  /** The instance was not (or no longer) in the cluster: completed at once. */
  | "not-in-cluster"
  /** The event named an instance that is not held by a terminate hook (a stale event): nothing done. */
  | "not-terminating"
  /** The deadline passed: completed with TIMEOUT_RESULT after logging what blocked. */
  | "timed-out"
  /** A permanent AWS error (access denied, a missing cluster, group or hook) left the action not completed. */
  | "failed"
  /** Stopped by SIGTERM before completing. */
  | "interrupted"
  /** A live leader of the group answers for the action (heartbeats, deadline, completion): this drainer left it. */
  | "handed-over"
  /** DRY_RUN: looked, changed nothing. */
  | "dry-run";

export interface Outcome {
  readonly instanceId: string;
  readonly asg: string;
  readonly result: Result;
  /** Seconds from the start of this run's work on the instance to its end. */
  readonly drainSeconds: number;
  /** Tasks blocking the drain at the first listing, or null when never listed. */
  readonly tasksAtStart: number | null;
  /** The lifecycle result sent, when one was. */
  readonly lifecycleResult?: string;
  /** True for an instance this drainer was not started for (it led the group, or swept). */
  readonly forPeer?: boolean;
  /** The drainer task that answers for the action now (`handed-over`). */
  readonly leaderTaskArn?: string;
  readonly error?: string;
  /** Why the drain was stuck at its end, when it was (blockers.ts). */
  readonly stuck?: readonly StuckFinding[];
}

export interface DrainContext {
  readonly port: AwsPort;
  readonly config: DrainerConfig;
  readonly log: Logger;
  /** The drainer's own task, when it runs as an ECS task in this cluster. */
  readonly ownTaskArn?: string;
  /** The drainer's own task definition family, when it runs as an ECS task (a sweep looks for other sweeps). */
  readonly ownFamily?: string;
  readonly signal: AbortSignal;
  /** Milliseconds, monotonic enough for intervals. */
  readonly now: () => number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A number in [0, 1), to spread followers' looks. Defaults to Math.random. */
  readonly random?: () => number;
  /** Overrides BULK_LOCATE_ABOVE (poll.ts), so that tests can drive the cluster-wide listings with few instances. */
  readonly bulkAbove?: number;
  /** Wall-clock milliseconds since the epoch, for metric timestamps. Defaults to Date.now. */
  readonly epochMs?: () => number;
}

/**
 * What a run does (roles.ts): a `leader` answers for every held action of its groups, whether or not their own
 * drainers ever started; a `follower` found a live leader, sets its own instance DRAINING, and leaves; a drainer that
 * cannot see the others (not an ECS task) drains its own instance `alone`. Whatever the role, the run answers for
 * each action it holds (rules 2 and 3) until it ends or hands it over.
 */
export type Role = "leader" | "follower" | "alone";

/** A drainer task of the deployment, as ECS shows it (roles.ts reads them to tell who leads). */
export interface DrainerTask {
  readonly arn: string;
  readonly taskDefinitionArn: string | undefined;
  /** ECS shows it RUNNING, and means it to keep running. */
  readonly live: boolean;
  readonly stopped: boolean;
  /** When it started (epoch ms), or when it was created if it has not started. */
  readonly since: number;
  /** The instance its event named; undefined for a sweep. */
  readonly instanceId: string | undefined;
  /** Its event's group (AUTOSCALING_GROUP_NAME in its overrides). */
  readonly eventGroup?: string;
  /** AUTOSCALING_GROUP_NAMES in its overrides, when they set it. */
  readonly groupsOverride?: readonly string[];
  /** Its container ran: it reached RUNNING (a task that failed to start never did). */
  readonly ran: boolean;
}

/** One container instance registered for the EC2 instance. */
export interface Registration {
  readonly arn: string;
  /** When this run saw it DRAINING (and not ACTIVE since): from a describe, or a DRAINING call that succeeded. */
  drainingSeenAt?: number;
  view?: ContainerInstanceView;
}

export interface InstanceState {
  readonly ref: LifecycleActionRef;
  readonly log: Logger;
  readonly startedAt: number;
  /** The action this drainer was started for (the event's); false for one it took on as leader or sweep. */
  readonly own: boolean;
  /** The instance is confirmed held by the terminate hook (its lifecycle state was read). */
  confirmed: boolean;
  plan?: HookPlan;
  /** Every registration of the EC2 instance in the cluster; undefined until located. */
  registrations?: Registration[];
  /** Tasks of the instance seen not STOPPED: described again while only they can block. */
  readonly known: Set<string>;
  /** ECS's count of tasks to run at the last listing, and polls since then. */
  countsAtListing?: number;
  pollsSinceListing: number;
  lastBlockers?: Blockers;
  lastBlockersKey?: string;
  /** The tasks that blocked the drain at the last look that listed them. */
  lastBlocking?: readonly TaskView[];
  readonly stopRequested: Set<string>;
  /** A listing found the drainer's own task on this instance (ECS counts it among the tasks to run). */
  ownTaskHere: boolean;
  /** Why the drain waits, at the last look into it (diagnose.ts). */
  stuck?: StuckFinding[];
  /** The stuck reasons already counted as a metric for this instance. */
  readonly stuckCounted: Set<string>;
  tasksAtStart: number | null;
  /** A completion is in flight: nothing else completes the action meanwhile. */
  closing: boolean;
  nextHeartbeatAt: number;
  /** When the last heartbeat was sent. */
  lastHeartbeatAt?: number;
  heartbeatsInFlight: number;
  /** When the deadline's completion is tried again, after a failure. */
  deadlineRetryAt: number;
  consecutiveFailures: number;
  outcome?: Outcome;
}

/**
 * The run's context: the drain's, without its port. Drain code reaches AWS only through `Run.port`, so that every ECS
 * read is paced and DRY_RUN changes nothing (index.ts wires them).
 */
export type RunContext = Omit<DrainContext, "port">;

export interface Run {
  readonly ctx: RunContext;
  /**
   * The context's port as the drain uses it: operator-only reads refused, under DRY_RUN every change withheld
   * (aws.ts), and ECS reads paced and counted (`reads`, pacer.ts).
   */
  readonly port: AwsPort;
  reads: number;
  role: Role;
  readonly states: InstanceState[];
  readonly plans: Map<string, HookPlan>;
  /** Per group, what becomes of an instance whose drain times out (read once, logged at start). */
  readonly retention: Map<string, RetentionPlan>;
  /** Tasks seen STOPPED: terminal, never described again. */
  readonly knownStopped: Set<string>;
  /** Where each task seen runs: a task never moves, so a cluster-wide listing describes only tasks of interest. */
  readonly taskHome: Map<string, string>;
  /** Services read (diagnose.ts), by name, and when. */
  readonly services: Map<string, { view: ServiceView; readAt: number }>;
  /** The deployment's stopped drainer tasks, described once (roles.ts: which actions had a drainer of their own). */
  readonly drainerTasks: Map<string, DrainerTask>;
  /** The actions a leader took on, and when: checked once for a drainer of their own (orphans). */
  readonly adoptedAt: Map<InstanceState, number>;
  /** Poll intervals over which the registry looks of a large scale-in's drainers are spread (roles.ts, spreadFirstLook). */
  spreadPolls: number;
  /** The drainer this run found leading (a follower looks at it again before it leaves). */
  leaderTaskArn?: string;
  /** A look into stuck drains is in flight: the next poll does not start another. */
  diagnosing: boolean;
  /** Events being put on EventBridge (events.ts): the run waits for them before it returns. */
  readonly publishing: Set<Promise<unknown>>;
  /** Aborted once every instance has an outcome (or the run is stopped): ends every loop and sleep. */
  readonly finished: AbortController;
  readonly signal: AbortSignal;
}

export function active(run: Run): InstanceState[] {
  return run.states.filter((s) => !s.outcome);
}

/** A held action the run answers for from now on: its first heartbeat is due at once (rule 2). */
export function newInstance(run: Run, ref: LifecycleActionRef, own: boolean): InstanceState {
  const now = run.ctx.now();
  const state: InstanceState = {
    ref,
    log: run.ctx.log.with({ instanceId: ref.instanceId, asg: ref.asg }),
    startedAt: now,
    own,
    confirmed: false,
    plan: run.plans.get(ref.asg),
    known: new Set(),
    pollsSinceListing: 0,
    stopRequested: new Set(),
    stuckCounted: new Set(),
    ownTaskHere: false,
    tasksAtStart: null,
    closing: false,
    nextHeartbeatAt: now,
    heartbeatsInFlight: 0,
    deadlineRetryAt: 0,
    consecutiveFailures: 0,
  };
  run.states.push(state);
  return state;
}

/** Seconds between heartbeats: the plan's, or until the hook is known, the shortest the hook may need. */
export function heartbeatSeconds(config: DrainerConfig, s: InstanceState): number {
  return s.plan?.heartbeatIntervalSeconds ?? heartbeatInterval(config.heartbeatIntervalSeconds);
}

/** When the run gives up waiting for the instance (rule 3). */
export function deadlineOf(config: DrainerConfig, s: InstanceState): number {
  return s.startedAt + (s.plan?.deadlineSeconds ?? config.drainTimeoutSeconds) * 1000;
}
