/**
 * An adversarial model of ECS and Auto Scaling for the property tests, written from the API references and the user
 * guides (drainer/AWS-FACTS.md), not from the drainer: it implements the drainer's AwsPort directly, on the virtual
 * clock, with the adversity real clusters produce.
 *
 * - Tasks are placed at any moment, pend, run, and when told to stop spend a shutdown in DEACTIVATING/STOPPING.
 *   runningTasksCount counts tasks whose desiredStatus is RUNNING (PENDING ones included), pendingTasksCount those
 *   PENDING. ListTasks is eventually consistent: a task is listed only `lagMs` after it was placed. DescribeTasks and
 *   the counters are immediate.
 * - Tasks are placed only on ACTIVE registrations (ECS places nothing on a DRAINING one), at any moment, including
 *   between any read and any write of a drainer.
 * - Service tasks on a DRAINING registration are told to stop `reactMs` after it became DRAINING (never before
 *   ListTasks shows them: reactMs >= lagMs); standalone tasks end on their own schedule, or never.
 * - Others open ACTIVE windows: a DRAINING registration is set ACTIVE, a service task is placed on it, and it is set
 *   DRAINING again. A stale second registration may exist for an EC2 instance, with tasks of its own.
 * - Every call takes a latency; calls fail (5xx, throttling) in fault windows, or hang: a hung call fails after
 *   `hangMs` (the SDK's request timeout and retries), or never answers at all.
 * - A lifecycle action ends by CompleteLifecycleAction, or when its heartbeat timeout passes (DefaultResult). Either
 *   way the instance terminates (no group here retains one), and every task of the instance not STOPPED at that
 *   moment is recorded as killed (killed.ts).
 * - The drainers are ECS tasks of one task definition revision (the registry leadership reads): RUNNING from when they
 *   start until they end or are killed, then STOPPED. ListTasks by family is eventually consistent like any ListTasks
 *   (a drainer is listed `lagMs` after it started), so two drainers may each miss the other for a while.
 */
import {
  AutoScalingInstanceView,
  AwsPort,
  ContainerInstanceView,
  LifecycleActionRef,
  LifecycleHookView,
  ServiceView,
  TaskView,
} from "../../drainer/src/aws";
import { setMaxListeners } from "node:events";
import { TERMINATING_TRANSITION } from "../../drainer/src/contract";
import { killedTasks, terminatesInstance } from "./killed";

export const CLUSTER = "prod";

export interface ModelTask {
  readonly arn: string;
  readonly registration: string;
  readonly service: boolean;
  readonly placedAt: number;
  readonly pendingMs: number;
  readonly shutdownMs: number;
  /** When it is told to stop (desiredStatus STOPPED); Infinity until then. */
  stopAt: number;
}

export interface ModelDrainer {
  readonly arn: string;
  /** The instance its event named; none for a sweep. */
  readonly instanceId?: string;
  readonly startedAt: number;
  stoppedAt?: number;
}

/** The hook's DefaultResult: how an action that expires ends. */
const DEFAULT_RESULT = "CONTINUE";

export const DRAINER_FAMILY = "ecs-scale-in-drainer";
const DRAINER_REVISION = `arn:aws:ecs:us-west-2:123456789012:task-definition/${DRAINER_FAMILY}:1`;

export interface ModelRegistration {
  readonly arn: string;
  readonly instanceId: string;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
}

export interface ModelAction {
  readonly instanceId: string;
  readonly asg: string;
  readonly lifecycleState: string;
  readonly startedAt: number;
  lastHeartbeatAt: number;
  endedAt?: number;
  endedBy?: "CONTINUE" | "ABANDON" | "expired";
  /** The drainer whose CompleteLifecycleAction ended it. */
  endedWho?: string;
  /** The tasks killed when the action ended (killed.ts). */
  killed?: string[];
}

export interface Fault {
  /** Operation name (port method), or "*" for every ECS read. */
  readonly op: string;
  readonly from: number;
  readonly to: number;
  /**
   * "skips": a cluster-wide listing (many pages in a large cluster, read seconds apart while the list changes) leaves
   * one item out; other calls answer normally.
   */
  readonly kind: "error" | "hang" | "hang-forever" | "skips";
}

/** The listings that page through the whole cluster (or family): only these can skip an item. */
const PAGED = new Set(["listContainerInstances", "listClusterTasks", "listFamilyTasks"]);

export interface ModelOptions {
  readonly lagMs: number;
  readonly reactMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly latencyMs: (op: string) => number;
  readonly hangMs: number;
  readonly faults: readonly Fault[];
}

type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

const NEVER = new AbortController().signal;
// Every call in flight, of every drainer of a world, waits on it.
setMaxListeners(0, NEVER);

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

export class Model implements AwsPort {
  readonly registrations = new Map<string, ModelRegistration>();
  readonly tasks = new Map<string, ModelTask>();
  readonly actions = new Map<string, ModelAction>();
  readonly drainers = new Map<string, ModelDrainer>();
  /** Scripted changes by others, applied in time order as the clock passes them. */
  private readonly script: { at: number; apply: () => void }[] = [];
  readonly calls: { op: string; at: number }[] = [];
  /** What each DescribeContainerInstances answered, and to whom. */
  readonly reads: { who: string; at: number; views: ContainerInstanceView[] }[] = [];
  private seq = 0;
  /** The drainer this port serves (see `forDrainer`). */
  protected who = "";

  constructor(
    readonly opts: ModelOptions,
    readonly now: () => number,
    private readonly sleep: Sleep,
  ) {}

  /** The same world, seen by one drainer: its reads and completions are recorded as its own. */
  forDrainer(who: string): Model {
    const port = Object.create(this) as Model;
    port.who = who;
    return port;
  }

  // ----- building the world -----

  register(instanceId: string, status: ModelRegistration["status"] = "ACTIVE"): string {
    const arn = `arn:aws:ecs:us-west-2:123456789012:container-instance/prod/${instanceId}-${this.seq++}`;
    this.registrations.set(arn, { arn, instanceId, status });
    return arn;
  }

  place(
    registration: string,
    at: number,
    spec: { service: boolean; pendingMs: number; shutdownMs: number; endsAfterMs?: number },
  ): void {
    this.at(at, () => {
      const r = this.registrations.get(registration)!;
      // ECS places tasks (service or RunTask) only on ACTIVE container instances.
      if (r.status !== "ACTIVE") return;
      const arn = `arn:aws:ecs:us-west-2:123456789012:task/prod/t${this.seq++}`;
      const stopAt = spec.endsAfterMs !== undefined ? at + spec.endsAfterMs : Infinity;
      this.tasks.set(arn, { arn, registration, placedAt: at, ...spec, stopAt });
    });
  }

  /** Someone sets a DRAINING registration ACTIVE at `from`, a service task lands on it, and it drains again. */
  activeWindow(
    registration: string,
    from: number,
    to: number,
    placeAt: number,
    shutdownMs: number,
  ) {
    this.at(from, () => {
      const r = this.registrations.get(registration)!;
      if (r.status === "DRAINING") r.status = "ACTIVE";
    });
    this.place(registration, placeAt, { service: true, pendingMs: 500, shutdownMs });
    this.at(to, () => this.setStatus(registration, "DRAINING", to));
  }

  /** A drainer task starts (RUNNING at once: the model's drainers start when their code runs). */
  startDrainer(arn: string, instanceId: string | undefined, at: number): void {
    this.drainers.set(arn, { arn, instanceId, startedAt: at });
  }

  stopDrainer(arn: string, at: number): void {
    const d = this.drainers.get(arn);
    if (d && d.stoppedAt === undefined) d.stoppedAt = at;
  }

  private drainerView(d: ModelDrainer, at: number): TaskView {
    const status = d.stoppedAt !== undefined && d.stoppedAt <= at ? "STOPPED" : "RUNNING";
    return {
      arn: d.arn,
      containerInstanceArn: undefined,
      lastStatus: status,
      desiredStatus: status,
      group: `family:${DRAINER_FAMILY}`,
      startedBy: undefined,
      createdAt: d.startedAt,
      startedAt: d.startedAt,
      taskDefinitionArn: DRAINER_REVISION,
      overrides: d.instanceId
        ? { EC2_INSTANCE_ID: d.instanceId, AUTOSCALING_GROUP_NAME: "asg-a" }
        : {},
    };
  }

  hold(instanceId: string, asg: string, at: number, lifecycleState = "Terminating:Wait"): void {
    this.at(at, () =>
      this.actions.set(instanceId, {
        instanceId,
        asg,
        lifecycleState,
        startedAt: at,
        lastHeartbeatAt: at,
      }),
    );
  }

  private at(at: number, apply: () => void): void {
    this.script.push({ at, apply });
    this.script.sort((a, b) => a.at - b.at);
  }

  // ----- the passing of time -----

  /** Applies what happened up to `t`: scripted changes and heartbeat timeouts, each at its own moment. */
  advance(t = this.now()): void {
    for (;;) {
      const next = this.script[0];
      const expiry = this.nextExpiry();
      if (expiry && expiry.at <= t && (!next || expiry.at <= next.at)) {
        this.end(expiry.action, "expired", expiry.at);
        continue;
      }
      if (!next || next.at > t) return;
      this.script.shift();
      next.apply();
    }
  }

  private nextExpiry(): { at: number; action: ModelAction } | undefined {
    let best: { at: number; action: ModelAction } | undefined;
    for (const a of this.actions.values()) {
      if (a.endedAt !== undefined) continue;
      const at = a.lastHeartbeatAt + this.opts.heartbeatTimeoutMs;
      if (!best || at < best.at) best = { at, action: a };
    }
    return best;
  }

  private setStatus(arn: string, status: ModelRegistration["status"], at: number): void {
    const r = this.registrations.get(arn)!;
    if (r.status === status) return;
    r.status = status;
    if (status !== "DRAINING") return;
    for (const t of this.tasks.values()) {
      if (
        t.registration === arn &&
        t.service &&
        t.stopAt === Infinity &&
        this.lastStatus(t, at) !== "STOPPED"
      ) {
        t.stopAt = Math.max(at + this.opts.reactMs, t.placedAt + this.opts.lagMs);
      }
    }
  }

  lastStatus(t: ModelTask, at: number): string {
    if (at >= t.stopAt + t.shutdownMs) return "STOPPED";
    if (at >= t.stopAt) return at >= t.stopAt + t.shutdownMs / 2 ? "STOPPING" : "DEACTIVATING";
    return at >= t.placedAt + t.pendingMs ? "RUNNING" : "PENDING";
  }

  desiredStatus(t: ModelTask, at: number): string {
    return at >= t.stopAt ? "STOPPED" : "RUNNING";
  }

  /**
   * When the drainer that completed an action last read every live registration of its instance DRAINING with no
   * task counted: the counters read of its proof. A task placed after it landed in an ACTIVE window someone opened
   * after that read, a race no drainer can see; one placed before it must have been seen.
   */
  proofReadAt(a: ModelAction): number | undefined {
    const mine = [...this.registrations.values()].filter((r) => r.instanceId === a.instanceId);
    let at: number | undefined;
    for (const read of this.reads) {
      if (read.who !== a.endedWho || read.at > a.endedAt!) continue;
      const views = read.views.filter(
        (v) => mine.some((r) => r.arn === v.arn) && v.status !== "INACTIVE",
      );
      if (views.length === 0) continue;
      if (
        views.every(
          (v) => v.status === "DRAINING" && v.runningTasksCount + v.pendingTasksCount === 0,
        )
      ) {
        at = read.at;
      }
    }
    return at;
  }

  private end(a: ModelAction, by: ModelAction["endedBy"], at: number): void {
    a.endedAt = at;
    a.endedBy = by;
    const tasks = [...this.tasks.values()].filter(
      (t) => this.registrations.get(t.registration)!.instanceId === a.instanceId,
    );
    a.killed = terminatesInstance(by === "expired" ? DEFAULT_RESULT : by!)
      ? killedTasks(tasks, (t) => (t.placedAt <= at ? this.lastStatus(t, at) : undefined)).map(
          (t) => t.arn,
        )
      : [];
  }

  // ----- calls -----

  private async call<T>(op: string, answer: () => T, ecsRead = false): Promise<T> {
    const start = this.now();
    this.calls.push({ op, at: start });
    const fault = this.opts.faults.find(
      (f) => (f.op === op || (f.op === "*" && ecsRead)) && start >= f.from && start < f.to,
    );
    if (fault?.kind === "hang-forever") return new Promise<T>(() => undefined);
    if (fault?.kind === "hang") {
      await this.sleep(this.opts.hangMs, NEVER);
      throw awsError("TimeoutError", `${op} timed out`, 0);
    }
    await this.sleep(this.opts.latencyMs(op), NEVER);
    this.advance();
    if (fault?.kind === "error") throw awsError("ServerException", `${op} failed`, 500);
    const answered = answer();
    if (
      fault?.kind === "skips" &&
      PAGED.has(op) &&
      Array.isArray(answered) &&
      answered.length > 0
    ) {
      const skip = this.calls.length % answered.length;
      return answered.filter((_, i) => i !== skip) as T;
    }
    return answered;
  }

  private visible(t: ModelTask, at: number): boolean {
    return t.placedAt <= at && at >= t.placedAt + this.opts.lagMs;
  }

  private view(r: ModelRegistration, at: number): ContainerInstanceView {
    const mine = [...this.tasks.values()].filter(
      (t) => t.registration === r.arn && t.placedAt <= at,
    );
    return {
      arn: r.arn,
      ec2InstanceId: r.instanceId,
      status: r.status,
      runningTasksCount: mine.filter(
        (t) => this.desiredStatus(t, at) === "RUNNING" && this.lastStatus(t, at) !== "STOPPED",
      ).length,
      pendingTasksCount: mine.filter((t) => this.lastStatus(t, at) === "PENDING").length,
    };
  }

  findContainerInstances(_cluster: string, ec2InstanceId: string) {
    return this.call(
      "findContainerInstances",
      () =>
        [...this.registrations.values()]
          .filter((r) => r.instanceId === ec2InstanceId && r.status !== "INACTIVE")
          .map((r) => r.arn),
      true,
    );
  }

  findContainerInstancesIn(_cluster: string, ec2InstanceIds: readonly string[]) {
    return this.call(
      "findContainerInstancesIn",
      () =>
        [...this.registrations.values()]
          .filter((r) => ec2InstanceIds.includes(r.instanceId) && r.status !== "INACTIVE")
          .map((r) => r.arn),
      true,
    );
  }

  listContainerInstances() {
    return this.call(
      "listContainerInstances",
      () =>
        [...this.registrations.values()].filter((r) => r.status !== "INACTIVE").map((r) => r.arn),
      true,
    );
  }

  describeContainerInstances(_cluster: string, arns: readonly string[]) {
    return this.call(
      "describeContainerInstances",
      () => {
        const at = this.now();
        const views = arns
          .map((a) => this.registrations.get(a))
          .filter((r) => r !== undefined)
          .map((r) => this.view(r, at));
        this.reads.push({ who: this.who, at, views });
        return views;
      },
      true,
    );
  }

  setDraining(_cluster: string, arns: readonly string[]) {
    return this.call("setDraining", () => {
      for (const a of arns) this.setStatus(a, "DRAINING", this.now());
    });
  }

  listTasks(_cluster: string, registration: string, desiredStatus: "RUNNING" | "STOPPED") {
    return this.call(
      "listTasks",
      () => {
        const at = this.now();
        return [...this.tasks.values()]
          .filter((t) => t.registration === registration && this.visible(t, at))
          .filter((t) => this.desiredStatus(t, at) === desiredStatus)
          .map((t) => t.arn);
      },
      true,
    );
  }

  describeTasks(_cluster: string, arns: readonly string[]) {
    return this.call(
      "describeTasks",
      () => {
        const at = this.now();
        const drainers = arns
          .map((a) => this.drainers.get(a))
          .filter((d) => d !== undefined)
          .map((d) => this.drainerView(d, at));
        return arns
          .map((a) => this.tasks.get(a))
          .filter((t) => t !== undefined && t.placedAt <= at)
          .map((t): TaskView => ({
            arn: t!.arn,
            containerInstanceArn: t!.registration,
            lastStatus: this.lastStatus(t!, at),
            desiredStatus: this.desiredStatus(t!, at),
            group: t!.service ? "service:web" : "family:job",
            startedBy: undefined,
          }))
          .concat(drainers);
      },
      true,
    );
  }

  listClusterTasks(_cluster: string, desiredStatus: "RUNNING" | "STOPPED") {
    return this.call(
      "listTasks",
      () => {
        const at = this.now();
        return [...this.tasks.values()]
          .filter((t) => this.visible(t, at) && this.desiredStatus(t, at) === desiredStatus)
          .map((t) => t.arn);
      },
      true,
    );
  }

  listFamilyTasks(
    _cluster: string,
    family: string,
    desiredStatus: "RUNNING" | "STOPPED" = "RUNNING",
    firstPage = false,
  ) {
    return this.call(
      "listFamilyTasks",
      () => {
        const at = this.now();
        const arns = [...this.drainers.values()]
          .filter((d) => family === DRAINER_FAMILY && d.startedAt + this.opts.lagMs <= at)
          .filter((d) => this.drainerView(d, at).desiredStatus === desiredStatus)
          .map((d) => d.arn);
        return firstPage ? arns.slice(0, 100) : arns;
      },
      true,
    );
  }

  stopTask(_cluster: string, arn: string) {
    return this.call("stopTask", () => {
      const t = this.tasks.get(arn);
      if (t && t.stopAt > this.now()) t.stopAt = this.now();
    });
  }

  private activeAction(instanceId: string): ModelAction {
    const a = this.actions.get(instanceId);
    if (!a || a.endedAt !== undefined) {
      throw awsError(
        "ValidationError",
        `No active Lifecycle Action found with instance ID ${instanceId}`,
        400,
      );
    }
    return a;
  }

  completeLifecycleAction(ref: LifecycleActionRef, result: string) {
    return this.call("completeLifecycleAction", () => {
      const a = this.activeAction(ref.instanceId);
      this.end(a, result === "ABANDON" ? "ABANDON" : "CONTINUE", this.now());
      a.endedWho = this.who;
    });
  }

  recordHeartbeat(ref: LifecycleActionRef) {
    return this.call("recordHeartbeat", () => {
      this.activeAction(ref.instanceId).lastHeartbeatAt = this.now();
    });
  }

  private state(instanceId: string): string {
    const a = this.actions.get(instanceId);
    if (!a) return "InService";
    if (a.endedAt === undefined) return a.lifecycleState;
    return a.lifecycleState.replace(/:Wait$/, ":Proceed");
  }

  describeAutoScalingInstances(ids: readonly string[]) {
    return this.call("describeAutoScalingInstances", () =>
      ids
        .filter((id) => this.actions.has(id) || this.instanceKnown(id))
        .map((id) => ({
          instanceId: id,
          asg: this.actions.get(id)?.asg ?? "asg-a",
          lifecycleState: this.state(id),
        })),
    );
  }

  private instanceKnown(id: string): boolean {
    return [...this.registrations.values()].some((r) => r.instanceId === id);
  }

  describeGroupInstances(asgs: readonly string[]) {
    return this.call("describeGroupInstances", () => {
      const ids = new Set([
        ...[...this.registrations.values()].map((r) => r.instanceId),
        ...this.actions.keys(),
      ]);
      return [...ids]
        .map((id): AutoScalingInstanceView => ({
          instanceId: id,
          asg: this.actions.get(id)?.asg ?? "asg-a",
          lifecycleState: this.state(id),
        }))
        .filter((i) => asgs.includes(i.asg));
    });
  }

  /** Events go nowhere in the model: publishing is never part of a drain's safety. */
  putEvents() {
    return this.call("putEvents", () => undefined);
  }

  /** The model knows no services: its tasks' groups are only names. */
  describeServices() {
    return this.call("describeServices", (): ServiceView[] => [], true);
  }

  /** Only `status` reads scaling activities (OPERATOR_ACTIONS): a drainer that did would lack the permission. */
  describeScalingActivities(): Promise<never> {
    throw new Error("the drainer called DescribeScalingActivities, an operator-only action");
  }

  /** The model's groups have no instance lifecycle policy: an abandoned action terminates the instance. */
  describeRetention() {
    return this.call("describeRetention", (): string | undefined => undefined);
  }

  describeLifecycleHooks() {
    return this.call("describeLifecycleHooks", (): LifecycleHookView[] => [
      {
        name: "drain-hook",
        transition: TERMINATING_TRANSITION,
        heartbeatTimeout: this.opts.heartbeatTimeoutMs / 1000,
        globalTimeout: (this.opts.heartbeatTimeoutMs / 1000) * 100,
        defaultResult: DEFAULT_RESULT,
      },
    ]);
  }
}
