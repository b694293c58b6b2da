/**
 * The EventBridge step: the lifecycle rule turns each lifecycle event into a drainer task whose environment is the
 * task definition's plus what the rule's input transformer takes from the event (contract.ts EVENT_ENVIRONMENT,
 * rendered as the RunTask container override EventBridge would pass). A scheduled rule can start the sweep.
 *
 * Every drainer is launched as EventBridge's ECS target does: RunTask of the drainer's task definition (fargate.ts
 * judges it: with the launch model on, quota and capacity failures are final, a throttled call is retried with
 * back-off up to the target's retry policy), then the process starts once the task is RUNNING. The sweep is launched
 * the same way.
 *
 * Faults: lost events, duplicated events, a drainer killed mid-drain.
 */
import { DRAINER_CONTAINER_NAME, EVENT_ENVIRONMENT } from "../../drainer/src/contract";
import { SimClock } from "./clock";
import { DRAINER_TASK_FAMILY, RunTaskOutcome } from "./fargate";
import { DrainerHandle, DrainerLauncher, LaunchContext } from "./launchers";
import { DrainerRunRecord, Recorder } from "./recorder";
import { ApiError, DrainerPlan, DrainerTask, LifecycleEvent, World } from "./world";

export { DRAINER_TASK_FAMILY } from "./fargate";

/** The startedBy EventBridge gives the tasks of each rule. */
const STARTED_BY = { event: "events-rule/drainer-lifecycle", sweep: "events-rule/drainer-sweep" };

export interface EventBridgeFaults {
  /** Events for these instances are never delivered. */
  readonly lose?: readonly string[];
  /** Events for these instances are delivered twice. */
  readonly duplicate?: readonly string[];
  /** Simulated seconds between the two deliveries of a duplicated event. Defaults to 0.5. */
  readonly duplicateDelaySeconds?: number;
  /** The first drainer started for this instance is killed (SIGTERM) this long after it starts. */
  readonly kill?: readonly { readonly instanceId: string; readonly afterSeconds: number }[];
}

export interface EventBridgeOptions {
  /** Who runs the drainer. Undefined: no rule, nothing runs. */
  readonly launcher?: DrainerLauncher;
  /** The task definition's environment (ECS_CLUSTER, intervals, ...). */
  readonly taskEnvironment: Readonly<Record<string, string>>;
  /** The rule matches lifecycle events of this hook. */
  readonly hook: string;
  /**
   * Simulated seconds from the event to EventBridge's RunTask. Defaults to 1. Without the launch model the task runs
   * at once, so this is the whole delay to the drainer's start.
   */
  readonly deliveryDelaySeconds?: number;
  /** Simulated seconds between sweeps; undefined: no sweep. */
  readonly sweepIntervalSeconds?: number;
  /** The groups the sweep covers (AUTOSCALING_GROUP_NAMES). Defaults to every group. */
  readonly sweepGroups?: readonly string[];
  readonly faults?: EventBridgeFaults;
}

/** A drainer the simulation started, with its record. */
export interface DrainerRun {
  readonly record: DrainerRunRecord;
  readonly handle: DrainerHandle;
  readonly env: Readonly<Record<string, string>>;
  /** The ECS task it runs in. */
  readonly task: DrainerTask;
}

/**
 * The input transformer's template, as the IaC writes it: string placeholders unquoted, EventBridge quotes them.
 * Only the four event fields of EVENT_ENVIRONMENT reach the drainer.
 */
export function inputTemplate(): string {
  const env = EVENT_ENVIRONMENT.map((e) => `{"name":"${e.env}","value":<${e.placeholder}>}`).join(
    ",",
  );
  return `{"containerOverrides":[{"name":"${DRAINER_CONTAINER_NAME}","environment":[${env}]}]}`;
}

/** Resolves `$.a.b` in an event. */
function jsonPath(event: unknown, path: string): unknown {
  let v: unknown = event;
  for (const part of path.replace(/^\$\./, "").split(".")) {
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  }
  return v;
}

/** Renders the input transformer for an event, as EventBridge does, and parses the RunTask overrides it gives. */
export function renderOverrides(event: LifecycleEvent): {
  containerOverrides: { name: string; environment: { name: string; value: string }[] }[];
} {
  let text = inputTemplate();
  for (const e of EVENT_ENVIRONMENT) {
    const value = jsonPath(event, e.path);
    text = text.replace(`<${e.placeholder}>`, value === undefined ? "null" : JSON.stringify(value));
  }
  return JSON.parse(text);
}

/** The drainer container's environment for an event: the task definition's, then the overrides. */
export function environmentFor(
  event: LifecycleEvent,
  taskEnvironment: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = { ...taskEnvironment };
  for (const o of renderOverrides(event).containerOverrides) {
    if (o.name !== DRAINER_CONTAINER_NAME) continue;
    for (const { name, value } of o.environment) {
      if (value !== null && value !== undefined) env[name] = value;
    }
  }
  return env;
}

export class EventBridge {
  readonly runs: DrainerRun[] = [];
  readonly events: LifecycleEvent[] = [];
  private readonly killed = new Set<string>();
  private sweepTimer?: { cancel(): void };
  private stopped = false;
  /** Throttled RunTasks waiting for EventBridge's retry. */
  private retriesPending = 0;
  /** The delivery faults; a test may change them while the simulation runs. */
  faults: EventBridgeFaults;

  constructor(
    private readonly world: World,
    private readonly clock: SimClock,
    private readonly recorder: Recorder,
    private readonly ctx: LaunchContext,
    readonly options: EventBridgeOptions,
  ) {
    this.faults = options.faults ?? {};
    world.on("lifecycle-event", (e: LifecycleEvent) => this.onEvent(e));
    world.fargate.onRunning = (task) => this.spawn(task);
    if (options.sweepIntervalSeconds !== undefined && options.launcher) {
      const every = options.sweepIntervalSeconds;
      const tick = () => {
        if (this.stopped) return;
        this.sweep();
        this.sweepTimer = this.clock.after(every, tick);
      };
      this.sweepTimer = this.clock.after(every, tick);
    }
  }

  private onEvent(event: LifecycleEvent): void {
    if (event.detail.LifecycleHookName !== this.options.hook) return;
    this.events.push(event);
    const faults = this.faults;
    const id = event.detail.EC2InstanceId;
    if (faults.lose?.includes(id)) return;
    const delay = this.options.deliveryDelaySeconds ?? 1;
    this.clock.after(delay, () => this.deliver(event));
    if (faults.duplicate?.includes(id)) {
      this.clock.after(delay + (faults.duplicateDelaySeconds ?? 0.5), () => this.deliver(event));
    }
  }

  /**
   * Launches a drainer for an event (EventBridge's delivery, or a redelivery a test asks for). Returns the run when
   * the drainer started at once (no launch model), undefined otherwise.
   */
  deliver(event: LifecycleEvent): DrainerRun | undefined {
    // The task definition's environment names the deployment's groups, as both faces write it: every drainer, an
    // event's too, can lead them all.
    const env = {
      AUTOSCALING_GROUP_NAMES: this.deploymentGroups().join(","),
      ...environmentFor(event, this.options.taskEnvironment),
    };
    return this.start("event", env, event.detail.EC2InstanceId);
  }

  /** The groups of the deployment: AUTOSCALING_GROUP_NAMES in the drainer's task definition. */
  private deploymentGroups(): readonly string[] {
    return this.options.sweepGroups ?? [...this.world.groups.keys()];
  }

  /** Launches the sweep: the drainer without EC2_INSTANCE_ID. */
  sweep(): DrainerRun | undefined {
    const env: Record<string, string> = { ...this.options.taskEnvironment };
    delete env.EC2_INSTANCE_ID;
    delete env.LIFECYCLE_ACTION_TOKEN;
    delete env.AUTOSCALING_GROUP_NAME;
    env.LIFECYCLE_HOOK_NAME = this.options.hook;
    env.AUTOSCALING_GROUP_NAMES = this.deploymentGroups().join(",");
    return this.start("sweep", env);
  }

  /**
   * Launches a drainer with an explicit environment (a test's own run): RunTask of the drainer's task definition, with
   * the event's fields as overrides (none for the sweep). The run is returned when the task is RUNNING at once.
   */
  start(
    kind: DrainerRunRecord["kind"],
    env: Record<string, string>,
    instanceId?: string,
  ): DrainerRun | undefined {
    if (!this.options.launcher || this.stopped) return undefined;
    const task = this.invoke({ kind, env, instanceId }, this.clock.now(), 0);
    return task ? this.runs.find((r) => r.task === task) : undefined;
  }

  /**
   * One RunTask of EventBridge's target. Per-task failures (quota, capacity) count as delivered: nothing retries them.
   * A throttled call is retried with exponential back-off and jitter until the retry policy gives up.
   */
  private invoke(plan: DrainerPlan, firstAt: number, retry: number): DrainerTask | undefined {
    const fargate = this.world.fargate;
    if (retry > 0) this.recorder.launch.runTaskRetries++;
    let outcome: RunTaskOutcome;
    try {
      outcome = fargate.runTask({
        family: DRAINER_TASK_FAMILY,
        overrides:
          plan.kind === "sweep"
            ? []
            : EVENT_ENVIRONMENT.filter((e) => e.env in plan.env).map((e) => ({
                name: e.env,
                value: plan.env[e.env],
              })),
        startedBy: plan.kind === "sweep" ? STARTED_BY.sweep : STARTED_BY.event,
        plan,
        via: "eventbridge",
      });
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== "ThrottlingException") throw err;
      const model = fargate.model!;
      const delay =
        Math.min(model.retryMaxSeconds, model.retryFirstSeconds * 2 ** retry) *
        (0.5 + 0.5 * fargate.draw());
      if (
        retry >= model.maximumRetryAttempts ||
        this.clock.now() + delay - firstAt > model.maximumEventAgeSeconds
      ) {
        this.recorder.launch.failures.throttledGaveUp++;
        return undefined;
      }
      this.retriesPending++;
      this.clock.after(delay, () => {
        this.retriesPending--;
        if (!this.stopped) this.invoke(plan, firstAt, retry + 1);
      });
      return undefined;
    }
    return "task" in outcome ? outcome.task : undefined;
  }

  /** The task is RUNNING: its drainer process starts. A RunTask from outside runs the task definition's drainer. */
  private spawn(task: DrainerTask): void {
    const launcher = this.options.launcher;
    if (!launcher || this.stopped) {
      this.world.fargate.stop(task, "UserInitiated", "No drainer to run in the simulation");
      return;
    }
    const env: Record<string, string> = task.plan
      ? { ...task.plan.env }
      : { ...this.options.taskEnvironment };
    if (!task.plan) for (const o of task.overrides) env[o.name] = o.value;
    const kind = task.plan?.kind ?? "manual";
    const instanceId = task.plan ? task.plan.instanceId : env.EC2_INSTANCE_ID;
    const record: DrainerRunRecord = {
      id: this.recorder.drainerRuns.length + 1,
      kind,
      instanceId,
      startedAt: this.clock.now(),
      killed: false,
    };
    this.recorder.drainerRuns.push(record);
    const handle = launcher(
      { ...env, ECS_CONTAINER_METADATA_URI_V4: `${this.ctx.endpoint}/metadata/${task.id}` },
      this.ctx,
    );
    const run: DrainerRun = { record, handle, env, task };
    this.runs.push(run);
    void handle.exit.then((code) => {
      record.exitCode = code;
      record.endedAt = this.clock.now();
      this.world.fargate.stop(
        task,
        "EssentialContainerExited",
        `Essential container in task exited`,
        code,
      );
    });
    const kill = this.faults.kill?.find((k) => k.instanceId === instanceId);
    if (kill && instanceId && !this.killed.has(instanceId)) {
      this.killed.add(instanceId);
      this.clock.after(kill.afterSeconds, () => {
        if (record.exitCode !== undefined) return;
        record.killed = true;
        handle.kill();
      });
    }
  }

  /** Drainers still running. */
  running(): DrainerRun[] {
    return this.runs.filter((r) => r.record.exitCode === undefined);
  }

  /** Launches under way: throttled RunTasks waiting for their retry, and tasks accepted but not yet RUNNING. */
  launching(): number {
    return this.retriesPending + this.world.fargate.pending();
  }

  /** Stops the sweep and kills whatever still runs; resolves when they have exited. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.sweepTimer?.cancel();
    const left = this.running();
    for (const r of left) r.handle.kill();
    await Promise.all(left.map((r) => r.handle.exit));
  }
}
