/**
 * The simulated world: one ECS cluster whose container instances belong to Auto Scaling groups with lifecycle hooks,
 * and the tasks on them. It behaves as drainer/AWS-FACTS.md describes ECS draining and lifecycle hooks; the API
 * handlers (ecs-api.ts, autoscaling-api.ts) only translate wire requests into calls on it.
 *
 * All durations here are simulated seconds (see clock.ts).
 */
import { EventEmitter } from "node:events";
import { ECS_MANAGED_DRAINING_HOOK, TERMINATING_TRANSITION } from "../../drainer/src/contract";
import { killedTasks } from "../doubles/killed";
import { SimClock } from "./clock";
import { Fargate } from "./fargate";
import { Rng } from "./random";
import { DrainerRunRecord, InstanceRecord, KilledTask, Recorder } from "./recorder";

export type LifecycleResultName = "CONTINUE" | "ABANDON";

export interface HookSpec {
  readonly name: string;
  /** Simulated seconds. Defaults to 900. */
  readonly heartbeatTimeout?: number;
  /** Defaults to CONTINUE (what the project's IaC sets; the API's own default is ABANDON). */
  readonly defaultResult?: LifecycleResultName;
}

export interface GroupSpec {
  readonly name: string;
  /** Instances registered in the cluster. */
  readonly instances: number;
  /** Instances of the group that never registered with ECS. */
  readonly unregistered?: number;
  /** Terminate hooks. Empty: a scale-in terminates at once. */
  readonly hooks: readonly HookSpec[];
  /** ECS managed draining: adds its own hook, which ECS completes once the instance is empty. */
  readonly managedDraining?: boolean;
  /**
   * The group's instance lifecycle policy retains instances whose terminate hook is abandoned
   * (TerminateHookAbandon = retain): such an instance moves to Terminating:Retained and stays, with its tasks.
   */
  readonly retainOnAbandon?: boolean;
}

export interface ServiceSpec {
  readonly name: string;
  readonly desiredCount: number;
  /** Defaults to 100. */
  readonly minimumHealthyPercent?: number;
  /** Defaults to 200. */
  readonly maximumPercent?: number;
  /** A daemon service: one task per instance, stopped last on a draining instance. */
  readonly daemon?: boolean;
  /** Only place tasks on instances of these groups. Defaults to every group. */
  readonly groups?: readonly string[];
  /** PENDING -> RUNNING. Defaults to 5. */
  readonly startSeconds?: number;
  /** Time in DEACTIVATING when stopped (load balancer deregistration). Defaults to 0. */
  readonly deactivatingSeconds?: number;
  /** Time in STOPPING when stopped (SIGTERM handling). Defaults to 2. */
  readonly stoppingSeconds?: number;
  /** CPU units and MiB each task reserves on its instance (see WorldSpec.instanceCpu). Default 0. */
  readonly cpu?: number;
  readonly memory?: number;
  /**
   * Replacements started after the world began fail their container health checks 10 s after they run: ECS stops
   * them, counts them as failed in the deployment and says so in a service event; they never count as healthy.
   */
  readonly unhealthyReplacements?: boolean;
}

export interface StandaloneTaskSpec {
  readonly family: string;
  /** The instance: its group and its index in the group. */
  readonly group: string;
  readonly index: number;
  /** It ends by itself after this long. Defaults to never. */
  readonly runSeconds?: number;
  readonly deactivatingSeconds?: number;
  readonly stoppingSeconds?: number;
  readonly cpu?: number;
  readonly memory?: number;
}

export interface WorldSpec {
  readonly cluster: string;
  readonly groups: readonly GroupSpec[];
  readonly services?: readonly ServiceSpec[];
  readonly standaloneTasks?: readonly StandaloneTaskSpec[];
  readonly region?: string;
  readonly accountId?: string;
  readonly seed?: number;
  /** How long ECS managed draining takes to set an instance DRAINING after the event. Defaults to 1. */
  readonly managedDrainingDelaySeconds?: number;
  /**
   * Every container instance's CPU units and MiB. Tasks reserve theirs; ECS places a task only on an ACTIVE instance
   * with room, and says in a service event when none has. Defaults to unlimited.
   */
  readonly instanceCpu?: number;
  readonly instanceMemory?: number;
}

/** An API error with its AWS code and HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export interface Task {
  readonly arn: string;
  readonly taskDefinitionArn: string;
  readonly containerInstance: ContainerInstance;
  readonly group: string;
  readonly startedBy?: string;
  readonly service?: Service;
  lastStatus: "PENDING" | "RUNNING" | "DEACTIVATING" | "STOPPING" | "STOPPED";
  desiredStatus: "RUNNING" | "STOPPED";
  readonly createdAt: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  version: number;
  readonly deactivatingSeconds: number;
  readonly stoppingSeconds: number;
  readonly cpu: number;
  readonly memory: number;
  /** False for a replacement that fails its health checks: it never counts as healthy. */
  healthy?: boolean;
}

/** One variable of a RunTask container override: `{ name, value }`. */
export interface EnvOverride {
  readonly name: string;
  readonly value: string;
}

/** The drainer a task will run: why it was started, its container's environment, its instance. */
export interface DrainerPlan {
  readonly kind: DrainerRunRecord["kind"];
  readonly env: Readonly<Record<string, string>>;
  readonly instanceId?: string;
}

/** A drainer the EventBridge step started, as ECS knows it: a Fargate task of the drainer's task definition. */
export interface DrainerTask {
  readonly arn: string;
  readonly id: string;
  readonly family: string;
  readonly taskDefinitionArn: string;
  /** When RunTask accepted it. */
  readonly createdAt: number;
  /** The environment its RunTask container override sets (none for the sweep). */
  readonly overrides: readonly EnvOverride[];
  readonly startedBy?: string;
  /** What the EventBridge step runs in it once it is RUNNING; undefined for a RunTask from outside. */
  readonly plan?: DrainerPlan;
  lastStatus: "PENDING" | "RUNNING" | "STOPPED";
  desiredStatus: "RUNNING" | "STOPPED";
  /** Set when it reaches RUNNING, never before. */
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  /** The drainer container's exit code, once its process has exited. */
  exitCode?: number;
  /** The subnet IP it holds, from RunTask until it stops. */
  privateIp?: string;
  version: number;
}

export interface ContainerInstance {
  readonly arn: string;
  readonly ec2: Ec2Instance;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  agentConnected: boolean;
  readonly registeredAt: number;
  version: number;
  readonly tasks: Task[];
  /** Since when no task here has been RUNNING, PENDING or still stopping. */
  emptySince?: number;
}

export type LifecycleState =
  | "InService"
  | "Terminating:Wait"
  | "Terminating:Proceed"
  | "Terminating:Retained"
  | "Terminated"
  | "ReplacingRootVolume:Wait"
  | "ReplacingRootVolume:Proceed"
  | "Warmed:Terminating:Wait"
  | "Warmed:Terminating:Proceed"
  | "Warmed:Terminated";

/**
 * How the terminate hook came to hold an instance (EC2 Auto Scaling user guide): a termination (scale-in, refresh,
 * rebalancing), an instance refresh that replaces root volumes, or a termination out of the group's warm pool.
 */
export type TerminatePath = "terminate" | "replace-root-volume" | "warm-pool";

export interface Ec2Instance {
  readonly id: string;
  readonly group: Group;
  lifecycleState: LifecycleState;
  /** In the group's warm pool: DescribeAutoScalingGroups does not list it; DescribeWarmPool does. */
  warm?: boolean;
  /** How the terminate hook holds it, while it does. */
  path?: TerminatePath;
  containerInstance?: ContainerInstance;
}

export interface Hook {
  readonly name: string;
  readonly group: Group;
  readonly heartbeatTimeout: number;
  readonly globalTimeout: number;
  readonly defaultResult: LifecycleResultName;
  readonly managed: boolean;
}

export interface Group {
  readonly name: string;
  readonly arn: string;
  readonly instances: Ec2Instance[];
  readonly hooks: Hook[];
  readonly createdAt: number;
  readonly retainOnAbandon: boolean;
  /** Its scaling activities, oldest first (DescribeScalingActivities answers them in its own order). */
  readonly activities: ScalingActivity[];
}

/**
 * A scaling activity (API reference, Activity). The simulator writes one when an instance is launched at build time
 * (`Launching a new EC2 instance: i-...`) and when a scale-in begins to terminate one (`Terminating EC2 instance:
 * i-...`, as the EC2 Auto Scaling event reference shows it), starting as the instance enters Terminating:Wait. A root
 * volume replacement writes none here: its activity's wording is not documented.
 */
export interface ScalingActivity {
  readonly id: string;
  readonly instanceId: string;
  readonly description: string;
  readonly cause: string;
  /** Simulated seconds. */
  readonly startedAt: number;
  endedAt?: number;
  /** MidLifecycleAction while a hook holds the instance; Successful once it is launched or terminated. */
  statusCode: "MidLifecycleAction" | "Successful";
}

export interface Service {
  readonly spec: Required<Omit<ServiceSpec, "groups">> & { groups?: readonly string[] };
  readonly arn: string;
  readonly taskDefinitionArn: string;
  readonly startedBy: string;
  readonly tasks: Task[];
  /** ECS's service events, newest first (ECS keeps the latest 100). */
  readonly events: { at: number; message: string }[];
  /** Tasks of the deployment that failed to start or to stay healthy. */
  failedTasks: number;
}

/** ECS repeats a service event no more often than this (simulated seconds) while nothing changes. */
const SERVICE_EVENT_REPEAT_SECONDS = 60;

export interface LifecycleAction {
  readonly instance: Ec2Instance;
  readonly hook: Hook;
  readonly token: string;
  readonly startedAt: number;
  heartbeatDeadline: number;
  readonly globalDeadline: number;
  timer?: { cancel(): void };
}

/** The lifecycle event EventBridge receives (drainer/AWS-FACTS.md). */
export interface LifecycleEvent {
  readonly version: "0";
  readonly id: string;
  readonly "detail-type": string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: {
    readonly LifecycleActionToken: string;
    readonly AutoScalingGroupName: string;
    readonly LifecycleHookName: string;
    readonly EC2InstanceId: string;
    readonly LifecycleTransition: string;
  };
}

/** What the world tells observers (the demo's timeline). */
export type WorldEvent =
  | { type: "lifecycle"; at: number; instanceId: string; state: LifecycleState }
  | { type: "container-instance"; at: number; instanceId: string; status: string }
  | {
      type: "task";
      at: number;
      instanceId: string;
      taskArn: string;
      group: string;
      lastStatus: string;
      desiredStatus: string;
    }
  | {
      type: "completion";
      at: number;
      instanceId: string;
      hook: string;
      result: string;
      via: string;
    }
  | { type: "killed"; at: number; instanceId: string; tasks: KilledTask[] };

const TERMINATED_VISIBLE_SECONDS = 60;
const MAX_NEVER = Number.POSITIVE_INFINITY;

export class World extends EventEmitter {
  readonly region: string;
  readonly accountId: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly rng: Rng;
  readonly groups = new Map<string, Group>();
  readonly ec2 = new Map<string, Ec2Instance>();
  readonly containerInstances = new Map<string, ContainerInstance>();
  readonly tasks = new Map<string, Task>();
  readonly drainerTasks = new Map<string, DrainerTask>();
  /** Launches of drainer tasks (RunTask on Fargate) and their lives. */
  readonly fargate: Fargate;
  private readonly services = new Map<string, Service>();
  /** Active lifecycle actions by `${instanceId} ${hook}`. */
  readonly actions = new Map<string, LifecycleAction>();
  private reconcileScheduled = false;
  private readonly managedDrainingDelay: number;
  /** Simulated Unix epoch seconds of simulated time 0, for timestamps. */
  readonly epoch = Date.UTC(2026, 10, 25, 10, 0, 0) / 1000;

  constructor(
    readonly spec: WorldSpec,
    readonly clock: SimClock,
    readonly recorder: Recorder,
  ) {
    super();
    this.region = spec.region ?? "us-east-1";
    this.accountId = spec.accountId ?? "123456789012";
    this.clusterName = spec.cluster;
    this.clusterArn = `arn:aws:ecs:${this.region}:${this.accountId}:cluster/${spec.cluster}`;
    this.rng = new Rng(spec.seed ?? 1);
    this.managedDrainingDelay = spec.managedDrainingDelaySeconds ?? 1;
    this.fargate = new Fargate(this, clock, recorder);
    this.build();
  }

  // ---- building -------------------------------------------------------------------------------------------------

  private build(): void {
    for (const g of this.spec.groups) {
      if (this.groups.has(g.name)) throw new Error(`group ${g.name} is declared twice`);
      const group: Group = {
        name: g.name,
        arn: `arn:aws:autoscaling:${this.region}:${this.accountId}:autoScalingGroup:${this.rng.uuid()}:autoScalingGroupName/${g.name}`,
        instances: [],
        hooks: [],
        createdAt: 0,
        retainOnAbandon: g.retainOnAbandon ?? false,
        activities: [],
      };
      const hooks: HookSpec[] = [...g.hooks];
      if (g.managedDraining) {
        hooks.push({ name: ECS_MANAGED_DRAINING_HOOK, heartbeatTimeout: 3600 });
      }
      for (const h of hooks) {
        const heartbeatTimeout = h.heartbeatTimeout ?? 900;
        group.hooks.push({
          name: h.name,
          group,
          heartbeatTimeout,
          globalTimeout: Math.min(48 * 3600, 100 * heartbeatTimeout),
          defaultResult: h.defaultResult ?? "CONTINUE",
          managed: h.name === ECS_MANAGED_DRAINING_HOOK,
        });
      }
      this.groups.set(g.name, group);
      for (let i = 0; i < g.instances + (g.unregistered ?? 0); i++) {
        const ec2: Ec2Instance = {
          id: `i-${this.rng.hex(17)}`,
          group,
          lifecycleState: "InService",
        };
        group.instances.push(ec2);
        this.ec2.set(ec2.id, ec2);
        group.activities.push({
          id: this.activityId(),
          instanceId: ec2.id,
          description: `Launching a new EC2 instance: ${ec2.id}`,
          cause: `At ${this.isoTime(0)} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${i} to ${i + 1}.`,
          startedAt: 0,
          endedAt: 0,
          statusCode: "Successful",
        });
        if (i < g.instances) {
          const ci: ContainerInstance = {
            arn: `arn:aws:ecs:${this.region}:${this.accountId}:container-instance/${this.clusterName}/${this.rng.hex(32)}`,
            ec2,
            status: "ACTIVE",
            agentConnected: true,
            registeredAt: 0,
            version: 1,
            tasks: [],
          };
          ec2.containerInstance = ci;
          this.containerInstances.set(ci.arn, ci);
        }
      }
    }
    for (const s of this.spec.services ?? []) {
      if (this.services.has(s.name)) throw new Error(`service ${s.name} is declared twice`);
      for (const g of s.groups ?? []) {
        if (!this.groups.has(g)) throw new Error(`service ${s.name} names an unknown group ${g}`);
      }
      const service: Service = {
        spec: {
          minimumHealthyPercent: 100,
          maximumPercent: 200,
          daemon: false,
          startSeconds: 5,
          deactivatingSeconds: 0,
          stoppingSeconds: 2,
          cpu: 0,
          memory: 0,
          unhealthyReplacements: false,
          ...s,
        },
        arn: `arn:aws:ecs:${this.region}:${this.accountId}:service/${this.clusterName}/${s.name}`,
        taskDefinitionArn: this.taskDefinitionArn(s.name),
        startedBy: `ecs-svc/${String(Math.floor(this.rng.next() * 1e16)).padStart(16, "1")}`,
        tasks: [],
        events: [],
        failedTasks: 0,
      };
      this.services.set(s.name, service);
      // Initial placement: spread, already RUNNING.
      const targets = this.placementTargets(service);
      if (targets.length === 0) throw new Error(`service ${s.name} has no instance to run on`);
      const count = service.spec.daemon ? targets.length : s.desiredCount;
      for (let i = 0; i < count; i++) {
        const ci = service.spec.daemon ? targets[i] : this.pickInstance(service)!;
        const task = this.createTask(ci, {
          group: `service:${s.name}`,
          taskDefinitionArn: service.taskDefinitionArn,
          startedBy: service.startedBy,
          service,
          deactivatingSeconds: service.spec.deactivatingSeconds,
          stoppingSeconds: service.spec.stoppingSeconds,
          cpu: service.spec.cpu,
          memory: service.spec.memory,
        });
        task.lastStatus = "RUNNING";
        task.startedAt = 0;
      }
    }
    for (const t of this.spec.standaloneTasks ?? []) {
      const group = this.groups.get(t.group);
      const ec2 = group?.instances[t.index];
      if (!ec2?.containerInstance) {
        throw new Error(
          `standalone task ${t.family}: group ${t.group} has no registered instance at index ${t.index}`,
        );
      }
      const task = this.createTask(ec2.containerInstance, {
        group: `family:${t.family}`,
        taskDefinitionArn: this.taskDefinitionArn(t.family),
        deactivatingSeconds: t.deactivatingSeconds ?? 0,
        stoppingSeconds: t.stoppingSeconds ?? 2,
        cpu: t.cpu ?? 0,
        memory: t.memory ?? 0,
      });
      task.lastStatus = "RUNNING";
      task.startedAt = 0;
      if (t.runSeconds !== undefined && t.runSeconds !== MAX_NEVER) {
        this.clock.at(t.runSeconds, () => {
          if (task.desiredStatus === "RUNNING") {
            this.stopTask(task, "EssentialContainerExited", "Essential container in task exited");
          }
        });
      }
    }
    for (const ci of this.containerInstances.values()) this.refreshEmpty(ci);
  }

  /**
   * RunTask of a standalone task on an instance now (ECS places tasks on ACTIVE container instances only): PENDING for
   * `pendingSeconds`, then RUNNING until it ends after `runSeconds` (never, when unset).
   */
  runTaskOn(
    instanceId: string,
    t: {
      family: string;
      pendingSeconds?: number;
      runSeconds?: number;
      deactivatingSeconds?: number;
      stoppingSeconds?: number;
    },
  ): Task {
    const ci = this.instance(instanceId).containerInstance;
    if (!ci || ci.status !== "ACTIVE") {
      throw new Error(
        `RunTask: ${instanceId} has no ACTIVE container instance (it is ${ci?.status})`,
      );
    }
    const task = this.createTask(ci, {
      group: `family:${t.family}`,
      taskDefinitionArn: this.taskDefinitionArn(t.family),
      deactivatingSeconds: t.deactivatingSeconds ?? 0,
      stoppingSeconds: t.stoppingSeconds ?? 2,
    });
    this.clock.after(t.pendingSeconds ?? 1, () => {
      if (task.desiredStatus !== "RUNNING" || task.lastStatus !== "PENDING") return;
      task.lastStatus = "RUNNING";
      task.startedAt = this.clock.now();
      task.version++;
    });
    if (t.runSeconds !== undefined) {
      this.clock.after(t.runSeconds, () => {
        if (task.desiredStatus === "RUNNING") {
          this.stopTask(task, "EssentialContainerExited", "Essential container in task exited");
        }
      });
    }
    return task;
  }

  /** A drainer task RunTask accepted (Fargate, no container instance): PENDING; fargate.ts runs its life. */
  createDrainerTask(
    family: string,
    overrides: readonly EnvOverride[],
    startedBy?: string,
    plan?: DrainerPlan,
  ): DrainerTask {
    const id = this.rng.hex(32);
    const task: DrainerTask = {
      arn: `arn:aws:ecs:${this.region}:${this.accountId}:task/${this.clusterName}/${id}`,
      id,
      family,
      taskDefinitionArn: this.taskDefinitionArn(family),
      createdAt: this.clock.now(),
      overrides,
      startedBy,
      plan,
      lastStatus: "PENDING",
      desiredStatus: "RUNNING",
      version: 1,
    };
    this.drainerTasks.set(task.arn, task);
    return task;
  }

  taskDefinitionArnOf(family: string): string {
    return this.taskDefinitionArn(family);
  }

  private taskDefinitionArn(family: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:task-definition/${family}:1`;
  }

  private createTask(
    ci: ContainerInstance,
    t: {
      group: string;
      taskDefinitionArn: string;
      startedBy?: string;
      service?: Service;
      deactivatingSeconds: number;
      stoppingSeconds: number;
      cpu?: number;
      memory?: number;
    },
  ): Task {
    const task: Task = {
      arn: `arn:aws:ecs:${this.region}:${this.accountId}:task/${this.clusterName}/${this.rng.hex(32)}`,
      containerInstance: ci,
      lastStatus: "PENDING",
      desiredStatus: "RUNNING",
      createdAt: this.clock.now(),
      version: 1,
      ...t,
      cpu: t.cpu ?? 0,
      memory: t.memory ?? 0,
    };
    ci.tasks.push(task);
    this.tasks.set(task.arn, task);
    t.service?.tasks.push(task);
    this.refreshEmpty(ci);
    return task;
  }

  // ---- queries ---------------------------------------------------------------------------------------------------

  /** Tasks on an instance that are RUNNING, PENDING or still stopping. */
  liveTasks(ci: ContainerInstance): Task[] {
    return ci.tasks.filter((t) => t.lastStatus !== "STOPPED");
  }

  /** The API reference: tasks whose desiredStatus is RUNNING, those still PENDING included. */
  runningTasksCount(ci: ContainerInstance): number {
    return ci.tasks.filter((t) => t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED")
      .length;
  }

  pendingTasksCount(ci: ContainerInstance): number {
    return ci.tasks.filter((t) => t.desiredStatus === "RUNNING" && t.lastStatus === "PENDING")
      .length;
  }

  instance(id: string): Ec2Instance {
    const i = this.ec2.get(id);
    if (!i) throw new Error(`no instance ${id}`);
    return i;
  }

  group(name: string): Group {
    const g = this.groups.get(name);
    if (!g) throw new Error(`no group ${name}`);
    return g;
  }

  /** Every instance that has entered a scale-in has terminated. */
  settled(): boolean {
    for (const r of this.recorder.instances.values()) {
      if (r.terminatedAt === undefined && r.retainedAt === undefined) return false;
    }
    return true;
  }

  // ---- the ECS service scheduler ---------------------------------------------------------------------------------

  /** ACTIVE, connected instances the service may use (its groups), with or without room for its task. */
  private candidates(service: Service): ContainerInstance[] {
    const out: ContainerInstance[] = [];
    for (const ci of this.containerInstances.values()) {
      if (ci.status !== "ACTIVE" || !ci.agentConnected) continue;
      if (service.spec.groups && !service.spec.groups.includes(ci.ec2.group.name)) continue;
      out.push(ci);
    }
    return out;
  }

  /** CPU units and MiB not reserved by the instance's live tasks. */
  free(ci: ContainerInstance): { cpu: number; memory: number } {
    const live = this.liveTasks(ci);
    return {
      cpu: (this.spec.instanceCpu ?? Infinity) - live.reduce((n, t) => n + t.cpu, 0),
      memory: (this.spec.instanceMemory ?? Infinity) - live.reduce((n, t) => n + t.memory, 0),
    };
  }

  private placementTargets(service: Service): ContainerInstance[] {
    return this.candidates(service).filter((ci) => {
      const f = this.free(ci);
      return f.cpu >= service.spec.cpu && f.memory >= service.spec.memory;
    });
  }

  /**
   * No instance has room for the service's task: ECS says so in a service event, naming the closest instance and what
   * it lacks (ECS developer guide, service event messages), no more often than every SERVICE_EVENT_REPEAT_SECONDS.
   */
  private cannotPlace(service: Service): void {
    const candidates = this.candidates(service);
    let message = `service ${service.spec.name} was unable to place a task because no container instance met all of its requirements.`;
    if (candidates.length === 0) {
      message += " Reason: No Container Instances were found in your cluster.";
    } else {
      const closest = candidates.reduce((a, b) => (this.free(b).cpu > this.free(a).cpu ? b : a));
      const f = this.free(closest);
      const lacks = f.cpu < service.spec.cpu ? "CPU units" : "memory";
      message += ` The closest matching container-instance ${closest.arn.split("/").pop()} has insufficient ${lacks} available. For more information, see the Troubleshooting section.`;
    }
    this.serviceEvent(service, message);
  }

  private serviceEvent(service: Service, message: string): void {
    const now = this.clock.now();
    const last = service.events[0];
    if (last && last.message === message && now - last.at < SERVICE_EVENT_REPEAT_SECONDS) return;
    service.events.unshift({ at: now, message });
    service.events.length = Math.min(service.events.length, 100);
  }

  /** A service, by name (DescribeServices). */
  service(name: string): Service | undefined {
    return this.services.get(name);
  }

  /** Spread placement: the active instance with the fewest tasks of the service, then the fewest tasks. */
  private pickInstance(service: Service): ContainerInstance | undefined {
    let best: ContainerInstance | undefined;
    let bestKey: [number, number] = [Infinity, Infinity];
    for (const ci of this.placementTargets(service)) {
      const live = this.liveTasks(ci);
      const key: [number, number] = [live.filter((t) => t.service === service).length, live.length];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = ci;
        bestKey = key;
      }
    }
    return best;
  }

  /** Asks the scheduler to look at every service soon (ECS reacts within moments, never synchronously). */
  private scheduleReconcile(): void {
    if (this.reconcileScheduled) return;
    this.reconcileScheduled = true;
    this.clock.after(0, () => {
      this.reconcileScheduled = false;
      for (const s of this.services.values()) {
        if (s.spec.daemon) this.reconcileDaemon(s);
        else this.reconcileReplica(s);
      }
    });
  }

  /**
   * A replica service: PENDING tasks on a draining instance stop at once; RUNNING ones are replaced on ACTIVE
   * instances first, within maximumPercent, and stopped only while the RUNNING count stays at or above
   * minimumHealthyPercent. With 100/100 nothing can move.
   */
  private reconcileReplica(s: Service): void {
    const desired = s.spec.desiredCount;
    const maxTotal = Math.floor((desired * s.spec.maximumPercent) / 100);
    const minHealthy = Math.ceil((desired * s.spec.minimumHealthyPercent) / 100);
    for (;;) {
      let changed = false;
      const live = s.tasks.filter((t) => t.desiredStatus === "RUNNING");
      const leaving = live.filter((t) => t.containerInstance.status !== "ACTIVE");
      for (const t of leaving) {
        if (t.lastStatus === "PENDING") {
          this.stopTask(t, "ServiceSchedulerInitiated", "Container instance is draining");
          changed = true;
        }
      }
      if (changed) continue;
      const staying = live.length - leaving.length;
      if (staying < desired && live.length < maxTotal) {
        const ci = this.pickInstance(s);
        if (ci) {
          this.startServiceTask(s, ci);
          continue;
        }
        this.cannotPlace(s);
      }
      let healthy = live.filter((t) => t.lastStatus === "RUNNING" && t.healthy !== false).length;
      for (const t of leaving) {
        if (healthy - 1 < minHealthy) break;
        this.stopTask(t, "ServiceSchedulerInitiated", "Container instance is draining");
        healthy--;
        changed = true;
      }
      if (!changed) return;
    }
  }

  /**
   * A daemon service: a task on each ACTIVE instance; on a draining one it stops last. AWS says daemon tasks stop
   * "after all replica tasks have stopped", and standalone tasks are outside that order (drainer/AWS-FACTS.md); this
   * world takes the worst reading of it: a daemon task waits for every other task, standalone ones included.
   */
  private reconcileDaemon(s: Service): void {
    for (const t of s.tasks) {
      if (t.desiredStatus !== "RUNNING") continue;
      const ci = t.containerInstance;
      if (ci.status === "ACTIVE") continue;
      const othersLive = ci.tasks.some(
        (o) => o !== t && !o.service?.spec.daemon && o.lastStatus !== "STOPPED",
      );
      if (!othersLive) {
        this.stopTask(t, "ServiceSchedulerInitiated", "Container instance is draining");
      }
    }
  }

  private startServiceTask(s: Service, ci: ContainerInstance): void {
    const task = this.createTask(ci, {
      group: `service:${s.spec.name}`,
      taskDefinitionArn: s.taskDefinitionArn,
      startedBy: s.startedBy,
      service: s,
      deactivatingSeconds: s.spec.deactivatingSeconds,
      stoppingSeconds: s.spec.stoppingSeconds,
      cpu: s.spec.cpu,
      memory: s.spec.memory,
    });
    if (s.spec.unhealthyReplacements) task.healthy = false;
    this.emitTask(task);
    this.clock.after(s.spec.startSeconds, () => {
      if (task.lastStatus !== "PENDING" || task.desiredStatus !== "RUNNING") return;
      task.lastStatus = "RUNNING";
      task.startedAt = this.clock.now();
      task.version++;
      this.emitTask(task);
      this.scheduleReconcile();
      if (task.healthy === false) {
        this.clock.after(10, () => {
          if (task.desiredStatus !== "RUNNING") return;
          s.failedTasks++;
          this.serviceEvent(
            s,
            `(service ${s.spec.name}) (task ${task.arn.split("/").pop()}) failed container health checks.`,
          );
          this.stopTask(task, "TaskFailedToStart", "Task failed container health checks");
        });
      }
    });
  }

  /**
   * Stops a task: desiredStatus STOPPED at once; a task that never ran is STOPPED at once; a running one spends
   * deactivatingSeconds in DEACTIVATING and stoppingSeconds in STOPPING first.
   */
  stopTask(task: Task, stopCode: string, reason: string): void {
    if (task.desiredStatus === "STOPPED") return;
    const now = this.clock.now();
    task.desiredStatus = "STOPPED";
    task.stoppingAt = now;
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    task.version++;
    if (task.lastStatus === "PENDING") {
      this.finishStop(task);
      return;
    }
    const stopping = () => {
      if (task.lastStatus === "STOPPED") return;
      task.lastStatus = "STOPPING";
      task.version++;
      this.emitTask(task);
      this.clock.after(task.stoppingSeconds, () => this.finishStop(task));
    };
    if (task.deactivatingSeconds > 0) {
      task.lastStatus = "DEACTIVATING";
      task.version++;
      this.emitTask(task);
      if (task.deactivatingSeconds !== MAX_NEVER) {
        this.clock.after(task.deactivatingSeconds, stopping);
      }
    } else {
      stopping();
    }
    this.scheduleReconcile();
  }

  private finishStop(task: Task): void {
    if (task.lastStatus === "STOPPED") return;
    task.lastStatus = "STOPPED";
    task.stoppedAt = this.clock.now();
    task.version++;
    this.emitTask(task);
    this.refreshEmpty(task.containerInstance);
    this.scheduleReconcile();
  }

  private refreshEmpty(ci: ContainerInstance): void {
    const empty = this.liveTasks(ci).length === 0;
    if (!empty) ci.emptySince = undefined;
    else ci.emptySince ??= this.clock.now();
    const rec = this.recorder.instances.get(ci.ec2.id);
    if (rec) rec.emptySince = ci.emptySince;
  }

  private emitTask(task: Task): void {
    this.emit("event", {
      type: "task",
      at: this.clock.now(),
      instanceId: task.containerInstance.ec2.id,
      taskArn: task.arn,
      group: task.group,
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
    } satisfies WorldEvent);
  }

  // ---- ECS operations on the world --------------------------------------------------------------------------------

  setContainerInstanceStatus(ci: ContainerInstance, status: "ACTIVE" | "DRAINING"): void {
    if (ci.status === status) return;
    ci.status = status;
    ci.version++;
    this.emit("event", {
      type: "container-instance",
      at: this.clock.now(),
      instanceId: ci.ec2.id,
      status,
    } satisfies WorldEvent);
    this.scheduleReconcile();
  }

  // ---- Auto Scaling ------------------------------------------------------------------------------------------------

  /**
   * Scales a group in: the chosen instances (by default the last `count`) enter Terminating:Wait, one lifecycle
   * action per hook, and the lifecycle events go out. Without hooks they terminate at once.
   */
  scaleIn(
    groupName: string,
    countOrIds: number | readonly string[],
    path: TerminatePath = "terminate",
  ): string[] {
    const group = this.group(groupName);
    const inService = group.instances.filter((i) => i.lifecycleState === "InService");
    const chosen =
      typeof countOrIds === "number"
        ? inService.slice(Math.max(0, inService.length - countOrIds))
        : countOrIds.map((id) => {
            const i = this.instance(id);
            if (i.group !== group || i.lifecycleState !== "InService") {
              throw new Error(`${id} is not InService in ${groupName}`);
            }
            return i;
          });
    if (typeof countOrIds === "number" && chosen.length < countOrIds) {
      throw new Error(`${groupName} has only ${inService.length} instances InService`);
    }
    const now = this.clock.now();
    const events: LifecycleEvent[] = [];
    for (const instance of chosen) {
      const ci = instance.containerInstance;
      const rec: InstanceRecord = {
        instanceId: instance.id,
        asg: group.name,
        scaleInAt: now,
        tasksAtScaleIn: ci ? this.liveTasks(ci).length : 0,
        emptySince: ci ? ci.emptySince : now,
        completions: [],
        killed: [],
        vanished: false,
      };
      this.recorder.instances.set(instance.id, rec);
      if (path !== "replace-root-volume") {
        group.activities.push({
          id: this.activityId(),
          instanceId: instance.id,
          description: `Terminating EC2 instance: ${instance.id}`,
          cause: `At ${this.isoTime(now)} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${inService.length} to ${inService.length - chosen.length}.`,
          startedAt: now,
          statusCode: "MidLifecycleAction",
        });
      }
      if (group.hooks.length === 0) {
        this.terminate(instance);
        continue;
      }
      instance.path = path;
      if (path === "warm-pool") instance.warm = true;
      this.setLifecycle(
        instance,
        path === "replace-root-volume"
          ? "ReplacingRootVolume:Wait"
          : path === "warm-pool"
            ? "Warmed:Terminating:Wait"
            : "Terminating:Wait",
      );
      for (const hook of group.hooks) {
        const action: LifecycleAction = {
          instance,
          hook,
          token: this.rng.uuid(),
          startedAt: now,
          heartbeatDeadline: now + hook.heartbeatTimeout,
          globalDeadline: now + hook.globalTimeout,
        };
        this.actions.set(`${instance.id} ${hook.name}`, action);
        this.armTimeout(action);
        if (hook.managed) this.startManagedDraining(action);
        else events.push(this.lifecycleEvent(action));
      }
    }
    for (const e of events) this.emit("lifecycle-event", e);
    return chosen.map((i) => i.id);
  }

  private lifecycleEvent(action: LifecycleAction): LifecycleEvent {
    return {
      version: "0",
      id: this.rng.uuid(),
      "detail-type": "EC2 Instance-terminate Lifecycle Action",
      source: "aws.autoscaling",
      account: this.accountId,
      time: this.isoTime(this.clock.now()),
      region: this.region,
      resources: [action.hook.group.arn],
      detail: {
        LifecycleActionToken: action.token,
        AutoScalingGroupName: action.hook.group.name,
        LifecycleHookName: action.hook.name,
        EC2InstanceId: action.instance.id,
        LifecycleTransition: TERMINATING_TRANSITION,
        // The event's Origin and Destination (and, for a root-volume replacement, Action), as AWS sends them.
        ...(action.instance.path === "replace-root-volume"
          ? {
              Origin: "AutoScalingGroup",
              Destination: "AutoScalingGroup",
              Action: "ReplaceRootVolume",
            }
          : action.instance.path === "warm-pool"
            ? { Origin: "WarmPool", Destination: "EC2" }
            : { Origin: "AutoScalingGroup", Destination: "EC2" }),
      },
    };
  }

  /** Activity IDs come from a counter, not the world's random numbers, so that every other draw stays as it was. */
  private activitySeq = 0;

  private activityId(): string {
    return `00000000-0000-4000-a000-${(++this.activitySeq).toString(16).padStart(12, "0")}`;
  }

  isoTime(sim: number): string {
    return new Date((this.epoch + sim) * 1000).toISOString();
  }

  private armTimeout(action: LifecycleAction): void {
    action.timer?.cancel();
    const at = Math.min(action.heartbeatDeadline, action.globalDeadline);
    action.timer = this.clock.at(at, () => {
      const key = `${action.instance.id} ${action.hook.name}`;
      if (this.actions.get(key) !== action) return;
      const via =
        action.globalDeadline <= action.heartbeatDeadline ? "global-timeout" : "heartbeat-timeout";
      this.finishAction(action, action.hook.defaultResult, via);
    });
  }

  /** ECS managed draining: ECS drains the instance itself and completes its own hook once nothing runs there. */
  private startManagedDraining(action: LifecycleAction): void {
    const ci = action.instance.containerInstance;
    this.clock.after(this.managedDrainingDelay, () => {
      if (ci && ci.status === "ACTIVE") this.setContainerInstanceStatus(ci, "DRAINING");
      const check = () => {
        const key = `${action.instance.id} ${action.hook.name}`;
        if (this.actions.get(key) !== action) return;
        if (!ci || this.liveTasks(ci).length === 0) {
          this.finishAction(action, "CONTINUE", "api");
          return;
        }
        action.heartbeatDeadline = this.clock.now() + action.hook.heartbeatTimeout;
        this.armTimeout(action);
        this.clock.after(1, check);
      };
      check();
    });
  }

  findAction(
    groupName: string,
    hookName: string,
    instanceId: string | undefined,
    token: string | undefined,
  ): LifecycleAction {
    const group = this.groups.get(groupName);
    if (!group) {
      throw new ApiError("ValidationError", `AutoScalingGroup name not found - ${groupName}`);
    }
    for (const a of this.actions.values()) {
      if (a.hook.group !== group || a.hook.name !== hookName) continue;
      if (token !== undefined && a.token !== token) continue;
      if (instanceId !== undefined && a.instance.id !== instanceId) continue;
      return a;
    }
    throw new ApiError(
      "ValidationError",
      token !== undefined
        ? `No active Lifecycle Action found with token ${token}`
        : `No active Lifecycle Action found with instance ID ${instanceId}`,
    );
  }

  /** RecordLifecycleActionHeartbeat: restarts the heartbeat timeout, never past the global timeout. */
  heartbeat(action: LifecycleAction): void {
    action.heartbeatDeadline = this.clock.now() + action.hook.heartbeatTimeout;
    this.armTimeout(action);
  }

  /** CompleteLifecycleAction (or a timeout). The instance terminates once every hook is done; ABANDON ends all. */
  finishAction(
    action: LifecycleAction,
    result: LifecycleResultName,
    via: "api" | "heartbeat-timeout" | "global-timeout",
  ): void {
    const instance = action.instance;
    const key = `${instance.id} ${action.hook.name}`;
    if (this.actions.get(key) !== action) return;
    this.actions.delete(key);
    action.timer?.cancel();
    const now = this.clock.now();
    const rec = this.recorder.instances.get(instance.id);
    if (rec) {
      rec.completions.push({ hook: action.hook.name, result, at: now, via });
      if (!action.hook.managed && via === "api") {
        rec.emptyAtCompletion =
          rec.emptySince === undefined ? undefined : Math.max(rec.emptySince, action.startedAt);
      }
    }
    this.emit("event", {
      type: "completion",
      at: now,
      instanceId: instance.id,
      hook: action.hook.name,
      result,
      via,
    } satisfies WorldEvent);
    const others = [...this.actions.values()].filter((a) => a.instance === instance);
    if (result === "ABANDON") {
      for (const o of others) {
        this.actions.delete(`${instance.id} ${o.hook.name}`);
        o.timer?.cancel();
        rec?.completions.push({
          hook: o.hook.name,
          result: "ABANDON",
          at: now,
          via: "abandoned-by-other",
        });
      }
    } else if (others.length > 0) {
      return;
    }
    // An abandoned terminate action in a group that retains: the instance stays, with whatever runs on it
    // (https://docs.aws.amazon.com/autoscaling/ec2/userguide/configure-instance-retention.html).
    if (result === "ABANDON" && instance.group.retainOnAbandon && instance.path === "terminate") {
      if (rec) rec.retainedAt = now;
      this.setLifecycle(instance, "Terminating:Retained");
      return;
    }
    if (instance.path === "replace-root-volume") {
      this.setLifecycle(instance, "ReplacingRootVolume:Proceed");
      this.replaceRootVolume(instance);
      return;
    }
    this.setLifecycle(
      instance,
      instance.path === "warm-pool" ? "Warmed:Terminating:Proceed" : "Terminating:Proceed",
    );
    this.terminate(instance);
  }

  /**
   * The root volume is replaced from the new AMI and the instance boots afresh: whatever still runs or is still
   * stopping there is killed. The ECS agent kept its state on the old volume, so it registers again as a new
   * container instance; the old one stays DRAINING, disconnected, with no tasks. The instance is back InService.
   */
  private replaceRootVolume(instance: Ec2Instance): void {
    const now = this.clock.now();
    const old = instance.containerInstance;
    const rec = this.recorder.instances.get(instance.id);
    if (old) {
      this.killTasks(instance, old);
      old.agentConnected = false;
      old.version++;
      const ci: ContainerInstance = {
        arn: `arn:aws:ecs:${this.region}:${this.accountId}:container-instance/${this.clusterName}/${this.rng.hex(32)}`,
        ec2: instance,
        status: "ACTIVE",
        agentConnected: true,
        registeredAt: now,
        version: 1,
        tasks: [],
      };
      instance.containerInstance = ci;
      this.containerInstances.set(ci.arn, ci);
      this.scheduleReconcile();
    }
    if (rec) rec.terminatedAt = now;
    instance.path = undefined;
    this.setLifecycle(instance, "InService");
  }

  /**
   * The EC2 instance terminates: whatever still runs or is still stopping there is killed. The container instance
   * goes INACTIVE; the group forgets the instance a minute later.
   */
  private terminate(instance: Ec2Instance): void {
    const now = this.clock.now();
    const ci = instance.containerInstance;
    const rec = this.recorder.instances.get(instance.id);
    if (ci) {
      this.killTasks(instance, ci);
      ci.status = "INACTIVE";
      ci.agentConnected = false;
      ci.version++;
      this.emit("event", {
        type: "container-instance",
        at: now,
        instanceId: instance.id,
        status: "INACTIVE",
      } satisfies WorldEvent);
      this.scheduleReconcile();
    }
    if (rec) rec.terminatedAt = now;
    for (const a of instance.group.activities) {
      if (a.instanceId === instance.id && a.statusCode === "MidLifecycleAction") {
        a.statusCode = "Successful";
        a.endedAt = now;
      }
    }
    this.setLifecycle(instance, instance.warm ? "Warmed:Terminated" : "Terminated");
    this.clock.after(TERMINATED_VISIBLE_SECONDS, () => {
      const list = instance.group.instances;
      const i = list.indexOf(instance);
      if (i >= 0) list.splice(i, 1);
    });
  }

  /** Whatever is not STOPPED on the container instance as its instance goes is killed (test/doubles/README.md). */
  private killTasks(instance: Ec2Instance, ci: ContainerInstance): void {
    const now = this.clock.now();
    const rec = this.recorder.instances.get(instance.id);
    {
      const killed: KilledTask[] = [];
      for (const t of killedTasks(ci.tasks, (task) => task.lastStatus)) {
        killed.push({
          taskArn: t.arn,
          group: t.group,
          lastStatus: t.lastStatus,
          desiredStatus: t.desiredStatus,
        });
        if (t.desiredStatus === "RUNNING") {
          t.desiredStatus = "STOPPED";
          t.stoppingAt = now;
          t.stopCode = "TerminationNotice";
          t.stoppedReason = `Host EC2 (instance ${instance.id}) terminated.`;
        }
        t.lastStatus = "STOPPED";
        t.stoppedAt = now;
        t.version++;
      }
      rec?.killed.push(...killed);
      if (killed.length > 0) {
        this.emit("event", {
          type: "killed",
          at: now,
          instanceId: instance.id,
          tasks: killed,
        } satisfies WorldEvent);
      }
    }
  }

  /** The "instance vanishes" fault: the EC2 instance is gone (terminated outside Auto Scaling's hook). */
  vanish(instanceId: string): void {
    const instance = this.instance(instanceId);
    for (const a of [...this.actions.values()]) {
      if (a.instance === instance) {
        this.actions.delete(`${instance.id} ${a.hook.name}`);
        a.timer?.cancel();
      }
    }
    const rec = this.recorder.instances.get(instanceId);
    if (rec) rec.vanished = true;
    this.terminate(instance);
    const list = instance.group.instances;
    const i = list.indexOf(instance);
    if (i >= 0) list.splice(i, 1);
  }

  private setLifecycle(instance: Ec2Instance, state: LifecycleState): void {
    instance.lifecycleState = state;
    this.emit("event", {
      type: "lifecycle",
      at: this.clock.now(),
      instanceId: instance.id,
      state,
    } satisfies WorldEvent);
  }
}
