/**
 * What a simulation run records: for every terminating instance, the tasks killed and the lag from its last task
 * stopping to the lifecycle completion; for every API call, its operation, throttles, injected faults and retries;
 * for every drainer started, its exit code.
 */

export type Service = "ecs" | "autoscaling" | "events";

/** How a lifecycle action ended. */
export type CompletionVia =
  /** CompleteLifecycleAction. */
  | "api"
  /** The hook's heartbeat timeout ran out: DefaultResult applied. */
  | "heartbeat-timeout"
  /** The global timeout, min(48 h, 100 x HeartbeatTimeout), ran out. */
  | "global-timeout"
  /** Another hook on the instance ended with ABANDON, which cancels the rest. */
  | "abandoned-by-other";

export interface Completion {
  readonly hook: string;
  readonly result: string;
  readonly at: number;
  readonly via: CompletionVia;
}

export interface KilledTask {
  readonly taskArn: string;
  readonly group: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
}

export interface InstanceRecord {
  readonly instanceId: string;
  readonly asg: string;
  /** Simulated time the scale-in began (the instance entered Terminating:Wait). */
  readonly scaleInAt: number;
  readonly tasksAtScaleIn: number;
  /** When the instance was last seen with no task RUNNING, PENDING or still stopping; undefined when it was not. */
  emptySince?: number;
  /** emptySince at the moment the drainer's hook completed: the start of the completion lag. */
  emptyAtCompletion?: number;
  readonly completions: Completion[];
  terminatedAt?: number;
  /** When the group retained it (Terminating:Retained) instead of terminating it. */
  retainedAt?: number;
  readonly killed: KilledTask[];
  /** It disappeared without its lifecycle action completing (the "instance vanishes" fault). */
  vanished: boolean;
}

export interface DrainerRunRecord {
  readonly id: number;
  readonly kind: "event" | "sweep" | "manual";
  readonly instanceId?: string;
  readonly startedAt: number;
  endedAt?: number;
  exitCode?: number;
  /** Killed by the "drainer killed mid-drain" fault. */
  killed: boolean;
}

export interface CallStats {
  calls: number;
  throttled: number;
  faults: number;
  /** Requests the SDK marked as a retry (amz-sdk-request: attempt > 1). */
  retries: number;
}

/** Launches of drainer tasks: RunTask calls (EventBridge's and any over the API) and what became of them. */
export interface LaunchStats {
  /** RunTask calls, retries included. */
  runTaskCalls: number;
  /** RunTask calls answered ThrottlingException. */
  runTaskThrottles: number;
  /** RunTask calls that were EventBridge's retries of a throttled one. */
  runTaskRetries: number;
  /** Tasks RunTask accepted. */
  accepted: number;
  /** Launches that never ran a drainer, by reason. */
  failures: LaunchFailures;
  /** The most drainer tasks PENDING or RUNNING at once. */
  peakDrainersRunning: number;
}

export interface LaunchFailures {
  /** The Fargate vCPU quota: RunTask answered 200 with the failure; EventBridge did not retry. */
  quota: number;
  /** "Capacity is unavailable at this time": the same. */
  capacity: number;
  /** Accepted, then stopped before running (no free IP in the subnet). */
  taskFailedToStart: number;
  /** Throttled until the target's retry policy gave up. */
  throttledGaveUp: number;
}

/** An "ECS Task State Change" event for one of the drainer's tasks. */
export interface TaskStateChange {
  readonly at: number;
  readonly "detail-type": "ECS Task State Change";
  readonly source: "aws.ecs";
  readonly detail: {
    readonly taskArn: string;
    readonly lastStatus: string;
    readonly desiredStatus: string;
    readonly stopCode?: string;
    readonly stoppedReason?: string;
    readonly [key: string]: unknown;
  };
}

export class Recorder {
  readonly instances = new Map<string, InstanceRecord>();
  readonly calls = new Map<string, CallStats>();
  /** Simulated time of every ECS read call (all attempts), for read rates. */
  readonly ecsReadTimes: number[] = [];
  /** The operation of each entry of ecsReadTimes. */
  readonly ecsReadOps: string[] = [];
  readonly drainerRuns: DrainerRunRecord[] = [];
  /** Requests the simulator could not answer (an unknown operation or a malformed request). */
  readonly unsupported: string[] = [];
  /** Events the drainers put on EventBridge's default bus (PutEvents), in order. */
  readonly published: {
    at: number;
    source: string;
    detailType: string;
    bus: string;
    detail: Record<string, unknown>;
  }[] = [];
  readonly launch: LaunchStats = {
    runTaskCalls: 0,
    runTaskThrottles: 0,
    runTaskRetries: 0,
    accepted: 0,
    failures: { quota: 0, capacity: 0, taskFailedToStart: 0, throttledGaveUp: 0 },
    peakDrainersRunning: 0,
  };
  /** "ECS Task State Change" events of the drainer's tasks (RUNNING, STOPPED), in order. */
  readonly taskStateChanges: TaskStateChange[] = [];
  /** Simulated time of the first API call of all. */
  firstCallAt?: number;

  call(service: Service, op: string, at: number, attempt: number): CallStats {
    const key = `${service}:${op}`;
    let s = this.calls.get(key);
    if (!s) {
      s = { calls: 0, throttled: 0, faults: 0, retries: 0 };
      this.calls.set(key, s);
    }
    s.calls++;
    if (attempt > 1) s.retries++;
    this.firstCallAt ??= at;
    return s;
  }

  /** Sums the stats of every operation of a service (or all). */
  total(service?: Service): CallStats {
    const t: CallStats = { calls: 0, throttled: 0, faults: 0, retries: 0 };
    for (const [key, s] of this.calls) {
      if (service && !key.startsWith(`${service}:`)) continue;
      t.calls += s.calls;
      t.throttled += s.throttled;
      t.faults += s.faults;
      t.retries += s.retries;
    }
    return t;
  }

  /** Calls of one operation, e.g. `ecs:ListTasks`; 0 when never called. */
  count(op: string): number {
    return this.calls.get(op)?.calls ?? 0;
  }

  killedTotal(options: { includeVanished?: boolean } = {}): number {
    let n = 0;
    for (const r of this.instances.values()) {
      if (r.vanished && !options.includeVanished) continue;
      n += r.killed.length;
    }
    return n;
  }

  /** Instances whose lifecycle ended by a timeout rather than by a completion. */
  hookTimeouts(): string[] {
    return [...this.instances.values()]
      .filter((r) => r.completions.some((c) => c.via.endsWith("-timeout")))
      .map((r) => r.instanceId);
  }

  /** Lag from the last task stopping to the hook's completion, for each instance completed by the API on `hook`. */
  lags(hook: string): number[] {
    const out: number[] = [];
    for (const r of this.instances.values()) {
      const c = r.completions.find((x) => x.hook === hook && x.via === "api");
      if (c && r.emptyAtCompletion !== undefined) out.push(c.at - r.emptyAtCompletion);
    }
    return out;
  }

  exitCodes(): number[] {
    return this.drainerRuns.filter((r) => r.exitCode !== undefined).map((r) => r.exitCode!);
  }
}
