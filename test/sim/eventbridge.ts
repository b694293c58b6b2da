/**
 * The EventBridge step: the lifecycle rule turns each lifecycle event into a drainer task whose environment is the
 * task definition's plus what the rule's input transformer takes from the event (contract.ts EVENT_ENVIRONMENT,
 * rendered as the RunTask container override EventBridge would pass). A scheduled rule can start the sweep.
 *
 * Faults: lost events, duplicated events, a drainer killed mid-drain.
 */
import { DRAINER_CONTAINER_NAME, EVENT_ENVIRONMENT } from "../../drainer/src/contract";
import { SimClock } from "./clock";
import { DrainerHandle, DrainerLauncher, LaunchContext } from "./launchers";
import { DrainerRunRecord, Recorder } from "./recorder";
import { LifecycleEvent, World } from "./world";

/** The family of the drainer's task definition in the simulated cluster. */
export const DRAINER_TASK_FAMILY = "ecs-scale-in-drainer";

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
  /** Simulated seconds from the event to the drainer's start (EventBridge + RunTask). Defaults to 1. */
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

  /** Starts a drainer for an event (EventBridge's delivery, or a redelivery a test asks for). */
  deliver(event: LifecycleEvent): DrainerRun | undefined {
    const env = environmentFor(event, this.options.taskEnvironment);
    return this.start("event", env, event.detail.EC2InstanceId);
  }

  /** Starts the sweep: the drainer without EC2_INSTANCE_ID. */
  sweep(): DrainerRun | undefined {
    const env: Record<string, string> = { ...this.options.taskEnvironment };
    delete env.EC2_INSTANCE_ID;
    delete env.LIFECYCLE_ACTION_TOKEN;
    delete env.AUTOSCALING_GROUP_NAME;
    env.LIFECYCLE_HOOK_NAME = this.options.hook;
    env.AUTOSCALING_GROUP_NAMES = (this.options.sweepGroups ?? [...this.world.groups.keys()]).join(
      ",",
    );
    return this.start("sweep", env);
  }

  /** Starts a drainer with an explicit environment (a test's own run). */
  start(
    kind: DrainerRunRecord["kind"],
    env: Record<string, string>,
    instanceId?: string,
  ): DrainerRun | undefined {
    const launcher = this.options.launcher;
    if (!launcher || this.stopped) return undefined;
    const record: DrainerRunRecord = {
      id: this.recorder.drainerRuns.length + 1,
      kind,
      instanceId,
      startedAt: this.clock.now(),
      killed: false,
    };
    this.recorder.drainerRuns.push(record);
    // RunTask of the drainer's task definition: a task of the cluster, with the event's fields as overrides (none
    // for the sweep), and its task metadata endpoint.
    const task = this.world.startDrainerTask(
      DRAINER_TASK_FAMILY,
      kind === "sweep" ? [] : EVENT_ENVIRONMENT.map((e) => e.env).filter((n) => n in env),
    );
    const handle = launcher(
      { ...env, ECS_CONTAINER_METADATA_URI_V4: `${this.ctx.endpoint}/metadata/${task.id}` },
      this.ctx,
    );
    const run: DrainerRun = { record, handle, env };
    this.runs.push(run);
    void handle.exit.then((code) => {
      record.exitCode = code;
      record.endedAt = this.clock.now();
      task.lastStatus = "STOPPED";
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
    return run;
  }

  /** Drainers still running. */
  running(): DrainerRun[] {
    return this.runs.filter((r) => r.record.exitCode === undefined);
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
