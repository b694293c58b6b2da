/**
 * A scripted ECS cluster and Auto Scaling groups behind aws-sdk-client-mock, for the drainer's unit tests.
 * Tasks follow timelines on a clock the test controls, so every test is deterministic. test/drainer/harness.ts runs
 * the drainer against it.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  DescribeServicesCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from "@aws-sdk/client-ecs";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { AwsStub, mockClient } from "aws-sdk-client-mock";
import { AwsPort, createAwsPort } from "../../drainer/src/aws";
import {
  DECLARED_ACTIONS,
  ECS_MANAGED_DRAINING_HOOK,
  OPERATOR_ACTIONS,
  HELD_BY_TERMINATE_HOOK,
  TERMINATING_TRANSITION,
} from "../../drainer/src/contract";
import { killedTasks, terminatesInstance } from "./killed";

export const CLUSTER = "prod";
export const CLUSTER_ARN = "arn:aws:ecs:us-west-2:123456789012:cluster/prod";
export const HOOK = "drain-hook";

/** [time in seconds, lastStatus, desiredStatus] */
export type Step = readonly [number, string, string];

/** A task's timeline, step by step: from second `at` it runs, */
export const running = (at = 0): Step => [at, "RUNNING", "RUNNING"];
/** is told to stop and shuts down, */
export const stopping = (at: number): Step => [at, "DEACTIVATING", "STOPPED"];
/** or has stopped. */
export const stopped = (at: number): Step => [at, "STOPPED", "STOPPED"];

export interface FakeTask {
  readonly arn: string;
  readonly instanceId: string;
  readonly group: string;
  readonly steps: readonly Step[];
}

/** A drainer task of the deployment (the registry leadership reads), on no container instance. */
export interface FakeDrainerTask {
  readonly arn: string;
  /** The instance its event named (an override); none for a sweep. */
  readonly instanceId?: string;
  /** Its event's group (an override, with the instance); defaults to asg-a. */
  readonly asg?: string;
  readonly revision: number;
  readonly createdAt: number;
  /** When it reached RUNNING; never, for one that failed to start. */
  readonly startedAt?: number;
  /** When it stopped. */
  stoppedAt?: number;
  readonly stopCode?: string;
}

export const FAMILY = "ecs-scale-in-drainer";

export interface FakeInstance {
  readonly instanceId: string;
  readonly asg: string;
  lifecycleState: string;
  /** Undefined: not registered in the cluster. */
  ecsStatus?: string;
  /** Seconds at which the container instance disappears from the cluster. */
  goneAt?: number;
  /** Seconds at which Auto Scaling began terminating it: its termination scaling activity's StartTime. */
  terminatingSince?: number;
}

/** The wall-clock time of the test clock's second 0, for the timestamps AWS gives (scaling activities). */
export const EPOCH_MS = Date.UTC(2026, 10, 25, 10, 0, 0);

/** The commands the drainer and status declare: the world answers no other, in any test. */
const DECLARED_COMMANDS = new Set([...DECLARED_ACTIONS, ...OPERATOR_ACTIONS].map((a) => a.command));

/** Errors shaped like the SDK's. */
export function awsError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: "client",
    $metadata: { httpStatusCode },
  });
}

export class FakeWorld {
  readonly ecs = new ECSClient({ region: "us-west-2" });
  readonly autoscaling = new AutoScalingClient({ region: "us-west-2" });
  readonly eventBridge = new EventBridgeClient({ region: "us-west-2" });
  readonly eventsMock: AwsStub<any, any, any>;
  /** Every event the drainer put on EventBridge. */
  readonly published: {
    source: string;
    detailType: string;
    bus: string;
    detail: Record<string, any>;
    at: number;
  }[] = [];
  readonly ecsMock: AwsStub<any, any, any>;
  readonly asMock: AwsStub<any, any, any>;
  readonly port: AwsPort;
  readonly instances = new Map<string, FakeInstance>();
  readonly tasks: FakeTask[] = [];
  readonly drainerTasks: FakeDrainerTask[] = [];
  /** DescribeTasks answers these task ARNs in `failures` (MISSING) until the given second. */
  readonly missingUntil = new Map<string, number>();
  readonly hooks = new Map<string, { name: string; heartbeatTimeout: number }[]>();
  /** Services by name, as DescribeServices answers them (the SDK's shape). */
  readonly services = new Map<string, Record<string, unknown>>();
  /** Per group, its instance lifecycle policy's TerminateHookAbandon (retain or terminate); none when absent. */
  readonly retention = new Map<string, string>();
  readonly completions: { instanceId: string; result: string; at: number }[] = [];
  readonly heartbeats: { instanceId: string; at: number }[] = [];
  readonly stopped: { arn: string; at: number }[] = [];
  /** Seconds on the test's clock. */
  now: () => number;
  /** Throw this for the next calls of a command, by name. */
  readonly failures = new Map<string, Error[]>();

  constructor(now: () => number) {
    this.now = now;
    this.ecsMock = mockClient(this.ecs);
    this.asMock = mockClient(this.autoscaling);
    this.eventsMock = mockClient(this.eventBridge);
    this.port = createAwsPort(this.ecs, this.autoscaling, this.eventBridge);
    this.eventsMock.on(PutEventsCommand).callsFake((input) => {
      this.record("PutEventsCommand");
      for (const e of input.Entries ?? []) {
        this.published.push({
          source: e.Source,
          detailType: e.DetailType,
          bus: e.EventBusName,
          detail: JSON.parse(e.Detail),
          at: this.now(),
        });
      }
      return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: "e" })) };
    });
    this.install();
  }

  /** [lastStatus, desiredStatus] of a drainer task now. */
  drainerState(d: FakeDrainerTask): [string, string] {
    const now = this.now();
    if (d.stoppedAt !== undefined && now >= d.stoppedAt) return ["STOPPED", "STOPPED"];
    if (d.startedAt === undefined)
      return d.stopCode ? ["STOPPED", "STOPPED"] : ["PENDING", "RUNNING"];
    return now >= d.startedAt ? ["RUNNING", "RUNNING"] : ["PENDING", "RUNNING"];
  }

  /** A drainer task of the deployment (revision 1 unless said), created at 0 s and RUNNING from 0 s unless said. */
  addDrainerTask(arn: string, d: Partial<FakeDrainerTask> = {}): this {
    this.drainerTasks.push({ arn, revision: 1, createdAt: 0, startedAt: 0, ...d });
    return this;
  }

  /** `ecsStatus` null: the instance is not registered in the cluster. */
  addInstance(
    instanceId: string,
    asg: string,
    ecsStatus: string | null = "ACTIVE",
    lifecycleState = "Terminating:Wait",
  ): this {
    this.instances.set(instanceId, {
      instanceId,
      asg,
      lifecycleState,
      ecsStatus: ecsStatus ?? undefined,
      ...(lifecycleState === "InService" ? {} : { terminatingSince: this.now() }),
    });
    if (!this.hooks.has(asg)) this.hooks.set(asg, [{ name: HOOK, heartbeatTimeout: 300 }]);
    return this;
  }

  addTask(arnSuffix: string, instanceId: string, group: string, ...steps: Step[]): this {
    this.tasks.push({
      arn: `arn:aws:ecs:us-west-2:123456789012:task/prod/${arnSuffix}`,
      instanceId,
      group,
      steps,
    });
    return this;
  }

  /** The task's [lastStatus, desiredStatus] now; undefined before its first step. */
  taskState(t: FakeTask): [string, string] | undefined {
    const past = t.steps.filter(([at]) => at <= this.now());
    const last = past[past.length - 1];
    return last ? [last[1], last[2]] : undefined;
  }

  ciArn(instanceId: string): string {
    return `arn:aws:ecs:us-west-2:123456789012:container-instance/prod/${instanceId.replace("i-", "ci")}`;
  }

  /**
   * The tasks killed on an instance (test/doubles/README.md): those not STOPPED when its action was completed, if that
   * completion terminated it (CONTINUE, or ABANDON where the group does not retain it).
   */
  killed(instanceId: string): string[] {
    const done = this.completions.find((c) => c.instanceId === instanceId);
    const asg = this.instances.get(instanceId)?.asg;
    if (!done || !terminatesInstance(done.result, asg && this.retention.get(asg))) return [];
    const saved = this.now;
    this.now = () => done.at;
    const killed = killedTasks(
      this.tasks.filter((t) => t.instanceId === instanceId),
      (t) => this.taskState(t)?.[0],
    ).map((t) => t.arn);
    this.now = saved;
    return killed;
  }

  private fail(command: string): void {
    const queue = this.failures.get(command);
    const err = queue?.shift();
    if (err) throw err;
  }

  private instanceByCi(arn: string): FakeInstance | undefined {
    return [...this.instances.values()].find((i) => this.ciArn(i.instanceId) === arn);
  }

  private ecsStatus(i: FakeInstance): string | undefined {
    if (i.goneAt !== undefined && this.now() >= i.goneAt) return undefined;
    return i.ecsStatus;
  }

  /** Every command this world answered, with the clock's time. */
  readonly calls: { name: string; at: number }[] = [];

  private record(name: string): void {
    if (!DECLARED_COMMANDS.has(name))
      throw new Error(`${name} is not a declared action (contract.ts)`);
    this.calls.push({ name, at: this.now() });
    this.fail(name);
  }

  private install(): void {
    const e = this.ecsMock;
    const a = this.asMock;
    e.on(ListContainerInstancesCommand).callsFake((input) => {
      this.record("ListContainerInstancesCommand");
      if (input.filter === undefined) {
        const all = [...this.instances.values()].filter((i) => this.ecsStatus(i));
        return { containerInstanceArns: all.map((i) => this.ciArn(i.instanceId)) };
      }
      const list = /^ec2InstanceId in \[([^\]]*)\]$/.exec(input.filter)?.[1];
      const ids = list
        ? list.split(",").map((x) => x.trim())
        : [/^ec2InstanceId == (i-[0-9a-f]+)$/.exec(input.filter)?.[1]];
      return {
        containerInstanceArns: ids
          .map((id) => (id ? this.instances.get(id) : undefined))
          .filter((i) => i !== undefined && this.ecsStatus(i))
          .map((i) => this.ciArn(i!.instanceId)),
      };
    });
    e.on(DescribeContainerInstancesCommand).callsFake((input) => {
      this.record("DescribeContainerInstancesCommand");
      const containerInstances = [];
      const failures = [];
      for (const arn of input.containerInstances) {
        const i = this.instanceByCi(arn);
        const status = i && this.ecsStatus(i);
        if (!i || !status) {
          failures.push({ arn, reason: "MISSING" });
          continue;
        }
        const states = this.tasks
          .filter((t) => t.instanceId === i.instanceId)
          .map((t) => this.taskState(t));
        containerInstances.push({
          containerInstanceArn: arn,
          ec2InstanceId: i.instanceId,
          status,
          // The API reference: runningTasksCount counts tasks whose desiredStatus is RUNNING, PENDING ones
          // included; pendingTasksCount those whose lastStatus is PENDING.
          runningTasksCount: states.filter((s) => s?.[1] === "RUNNING" && s[0] !== "STOPPED")
            .length,
          pendingTasksCount: states.filter((s) => s?.[1] === "RUNNING" && s[0] === "PENDING")
            .length,
        });
      }
      return { containerInstances, failures };
    });
    e.on(UpdateContainerInstancesStateCommand).callsFake((input) => {
      this.record("UpdateContainerInstancesStateCommand");
      for (const arn of input.containerInstances) {
        const i = this.instanceByCi(arn);
        if (i) i.ecsStatus = input.status;
      }
      return { containerInstances: [], failures: [] };
    });
    e.on(ListTasksCommand).callsFake((input) => {
      this.record("ListTasksCommand");
      if (input.family) {
        const desired = input.desiredStatus ?? "RUNNING";
        return {
          taskArns: this.drainerTasks
            .filter((d) => input.family === FAMILY && this.drainerState(d)[1] === desired)
            .map((d) => d.arn),
        };
      }
      // Without a container instance: every task of the cluster with that desired status.
      const i = input.containerInstance ? this.instanceByCi(input.containerInstance) : undefined;
      const desired = input.desiredStatus ?? "RUNNING";
      return {
        taskArns: this.tasks
          .filter((t) => !input.containerInstance || t.instanceId === i?.instanceId)
          .filter((t) => this.taskState(t)?.[1] === desired)
          .map((t) => t.arn),
      };
    });
    e.on(DescribeTasksCommand).callsFake((input) => {
      this.record("DescribeTasksCommand");
      if (input.tasks.length > 100) throw awsError("InvalidParameterException", "too many tasks");
      const missing = (arn: string) => (this.missingUntil.get(arn) ?? -1) > this.now();
      const drainers = this.drainerTasks
        .filter((d) => input.tasks.includes(d.arn))
        .map((d) => {
          const [lastStatus, desiredStatus] = this.drainerState(d);
          return {
            taskArn: d.arn,
            lastStatus,
            desiredStatus,
            group: `family:${FAMILY}`,
            taskDefinitionArn: `arn:aws:ecs:us-west-2:123456789012:task-definition/${FAMILY}:${d.revision}`,
            createdAt: new Date(d.createdAt * 1000),
            ...(d.startedAt !== undefined && d.startedAt <= this.now()
              ? { startedAt: new Date(d.startedAt * 1000) }
              : {}),
            ...(lastStatus === "STOPPED" && d.stopCode ? { stopCode: d.stopCode } : {}),
            overrides: {
              containerOverrides: d.instanceId
                ? [
                    {
                      name: "drainer",
                      environment: [
                        { name: "EC2_INSTANCE_ID", value: d.instanceId },
                        { name: "AUTOSCALING_GROUP_NAME", value: d.asg ?? "asg-a" },
                      ],
                    },
                  ]
                : [],
            },
          };
        });
      return {
        failures: input.tasks
          .filter((a: string) => missing(a))
          .map((arn: string) => ({ arn, reason: "MISSING" })),
        tasks: [
          ...drainers,
          ...this.tasks
            .filter((t) => input.tasks.includes(t.arn) && this.taskState(t) && !missing(t.arn))
            .map((t) => {
              const [lastStatus, desiredStatus] = this.taskState(t)!;
              return {
                taskArn: t.arn,
                containerInstanceArn: this.ciArn(t.instanceId),
                lastStatus,
                desiredStatus,
                group: t.group,
              };
            }),
        ],
      };
    });
    e.on(DescribeServicesCommand).callsFake((input) => {
      this.record("DescribeServicesCommand");
      if (input.services.length > 10)
        throw awsError("InvalidParameterException", "too many services");
      return {
        services: input.services
          .filter((n: string) => this.services.has(n))
          .map((n: string) => ({ serviceName: n, ...this.services.get(n) })),
        failures: input.services
          .filter((n: string) => !this.services.has(n))
          .map((n: string) => ({ arn: n, reason: "MISSING" })),
      };
    });
    e.on(StopTaskCommand).callsFake((input) => {
      this.record("StopTaskCommand");
      const t = this.tasks.find((x) => x.arn === input.task);
      if (t) {
        const at = this.now();
        (t.steps as Step[]).push([at, "STOPPING", "STOPPED"], [at + 2, "STOPPED", "STOPPED"]);
        this.stopped.push({ arn: t.arn, at });
      }
      return {};
    });
    const active = (id: string | undefined) => {
      const i = id ? this.instances.get(id) : undefined;
      if (!i || !(HELD_BY_TERMINATE_HOOK as readonly string[]).includes(i.lifecycleState)) {
        throw awsError(
          "ValidationError",
          `No active Lifecycle Action found with instance ID ${id}`,
        );
      }
      return i;
    };
    a.on(CompleteLifecycleActionCommand).callsFake((input) => {
      this.record("CompleteLifecycleActionCommand");
      const i = active(input.InstanceId);
      i.lifecycleState = i.lifecycleState.replace(/:Wait$/, ":Proceed");
      this.completions.push({
        instanceId: i.instanceId,
        result: input.LifecycleActionResult,
        at: this.now(),
      });
      return {};
    });
    a.on(RecordLifecycleActionHeartbeatCommand).callsFake((input) => {
      this.record("RecordLifecycleActionHeartbeatCommand");
      active(input.InstanceId);
      this.heartbeats.push({ instanceId: input.InstanceId, at: this.now() });
      return {};
    });
    a.on(DescribeAutoScalingInstancesCommand).callsFake((input) => {
      this.record("DescribeAutoScalingInstancesCommand");
      return {
        AutoScalingInstances: (input.InstanceIds ?? [])
          .map((id: string) => this.instances.get(id))
          .filter(Boolean)
          .map((i: FakeInstance) => ({
            InstanceId: i.instanceId,
            AutoScalingGroupName: i.asg,
            LifecycleState: i.lifecycleState,
          })),
      };
    });
    // Warm-pool instances (lifecycle state Warmed:...) are listed by DescribeWarmPool, not DescribeAutoScalingGroups.
    const warm = (i: FakeInstance) => i.lifecycleState.startsWith("Warmed:");
    a.on(DescribeAutoScalingGroupsCommand).callsFake((input) => {
      this.record("DescribeAutoScalingGroupsCommand");
      return {
        AutoScalingGroups: (input.AutoScalingGroupNames ?? []).map((name: string) => {
          const members = [...this.instances.values()].filter((i) => i.asg === name);
          return {
            AutoScalingGroupName: name,
            ...(members.some(warm) ? { WarmPoolConfiguration: { PoolState: "Stopped" } } : {}),
            ...(this.retention.has(name)
              ? {
                  InstanceLifecyclePolicy: {
                    RetentionTriggers: { TerminateHookAbandon: this.retention.get(name) },
                  },
                }
              : {}),
            Instances: members
              .filter((i) => !warm(i))
              .map((i) => ({ InstanceId: i.instanceId, LifecycleState: i.lifecycleState })),
          };
        }),
      };
    });
    a.on(DescribeWarmPoolCommand).callsFake((input) => {
      this.record("DescribeWarmPoolCommand");
      return {
        Instances: [...this.instances.values()]
          .filter((i) => i.asg === input.AutoScalingGroupName && warm(i))
          .map((i) => ({ InstanceId: i.instanceId, LifecycleState: i.lifecycleState })),
      };
    });
    // Newest first, 100 a page (the API's default MaxRecords); the token is the offset.
    a.on(DescribeScalingActivitiesCommand).callsFake((input) => {
      this.record("DescribeScalingActivitiesCommand");
      const all = [...this.instances.values()]
        .filter((i) => i.asg === input.AutoScalingGroupName && i.terminatingSince !== undefined)
        .sort((x, y) => y.terminatingSince! - x.terminatingSince!);
      const from = Number(input.NextToken ?? 0);
      const to = from + (input.MaxRecords ?? 100);
      return {
        Activities: all.slice(from, to).map((i) => ({
          ActivityId: `activity-${i.instanceId}`,
          AutoScalingGroupName: i.asg,
          Description: `Terminating EC2 instance: ${i.instanceId}`,
          Cause: `At ${new Date(EPOCH_MS + i.terminatingSince! * 1000).toISOString()} an instance was taken out of service in response to a difference between desired and actual capacity.`,
          StartTime: new Date(EPOCH_MS + i.terminatingSince! * 1000),
          StatusCode: "MidLifecycleAction",
        })),
        NextToken: to < all.length ? String(to) : undefined,
      };
    });
    a.on(DescribeLifecycleHooksCommand).callsFake((input) => {
      this.record("DescribeLifecycleHooksCommand");
      return {
        LifecycleHooks: (this.hooks.get(input.AutoScalingGroupName) ?? []).map((h) => ({
          LifecycleHookName: h.name,
          AutoScalingGroupName: input.AutoScalingGroupName,
          LifecycleTransition: TERMINATING_TRANSITION,
          HeartbeatTimeout: h.heartbeatTimeout,
          GlobalTimeout: h.heartbeatTimeout * 100,
          DefaultResult: "CONTINUE",
        })),
      };
    });
  }

  addManagedDrainingHook(asg: string): this {
    this.hooks.get(asg)!.push({ name: ECS_MANAGED_DRAINING_HOOK, heartbeatTimeout: 3600 });
    return this;
  }

  /** How many calls of an SDK command (by class) were made. */
  count(command: { name: string }): number {
    return [...this.ecsMock.calls(), ...this.asMock.calls()].filter(
      (c) => (c.args[0] as object).constructor.name === command.name,
    ).length;
  }

  /** ECS reads (ECS_READS_PER_SECOND's kinds) in each window of `seconds`, by the window's index. */
  ecsReadsPer(seconds: number): Map<number, number> {
    const reads = new Set([
      "ListContainerInstancesCommand",
      "DescribeContainerInstancesCommand",
      "ListTasksCommand",
      "DescribeTasksCommand",
    ]);
    const per = new Map<number, number>();
    for (const c of this.calls.filter((c) => reads.has(c.name))) {
      const window = Math.floor(c.at / seconds);
      per.set(window, (per.get(window) ?? 0) + 1);
    }
    return per;
  }
}
