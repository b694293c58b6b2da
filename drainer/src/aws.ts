/**
 * The AWS port: thin wrappers over the SDK v3 clients, one method a call the drainer makes (and one, OPERATOR_READS,
 * that only `status` makes). Batching, pagination and retries are the SDK's (paginators, retry strategy); nothing here
 * decides anything.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  RecordLifecycleActionHeartbeatCommand,
  paginateDescribeAutoScalingGroups,
  paginateDescribeAutoScalingInstances,
  paginateDescribeScalingActivities,
  paginateDescribeWarmPool,
} from "@aws-sdk/client-auto-scaling";
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  paginateListContainerInstances,
  paginateListTasks,
} from "@aws-sdk/client-ecs";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { DECLARED_ACTIONS, DRAIN_EVENTS } from "./contract";

/** What the drainer needs to know of a container instance. */
export interface ContainerInstanceView {
  readonly arn: string;
  readonly ec2InstanceId: string | undefined;
  /** ACTIVE, DRAINING, REGISTERING, DEREGISTERING, INACTIVE, REGISTRATION_FAILED; MISSING when ECS no longer knows it. */
  readonly status: string;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
}

/** What the drainer needs to know of a task. */
export interface TaskView {
  readonly arn: string;
  readonly containerInstanceArn: string | undefined;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  /** `service:NAME` for service tasks, `family:NAME` (or a custom group) for standalone tasks. */
  readonly group: string;
  readonly startedBy: string | undefined;
  /** When ECS created the task (epoch milliseconds), if it said. */
  readonly createdAt?: number;
  /** When the task reached RUNNING (epoch milliseconds); absent for a task that never ran. */
  readonly startedAt?: number;
  /** The task definition's ARN, with its revision. */
  readonly taskDefinitionArn?: string;
  /** Why ECS stopped the task (TaskFailedToStart, EssentialContainerExited, ...), once it did. */
  readonly stopCode?: string;
  /** The environment variables the task's RunTask overrides set, by name (every container). */
  readonly overriddenEnv?: readonly string[];
  /** The same overrides, name to value (the lifecycle event's fields, for a drainer task). */
  readonly overrides?: Readonly<Record<string, string>>;
}

/**
 * DescribeTasks answers an ARN it cannot describe (yet) in `failures`, reason MISSING, rather than in `tasks`. Such a
 * task is unknown, not stopped: the port returns it with this lastStatus, which blocks a drain like any task that is
 * not STOPPED, and it is described again at the next look.
 */
export const UNDESCRIBED = "MISSING";

/** What the drainer needs to know of a service, to say why its tasks do not leave a draining instance. */
export interface ServiceView {
  /** The service's name (a task's group is `service:NAME`). */
  readonly name: string;
  /** REPLICA or DAEMON. */
  readonly schedulingStrategy: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly pendingCount: number;
  readonly minimumHealthyPercent: number | undefined;
  readonly maximumPercent: number | undefined;
  /** The service's most recent events (ECS keeps 100), newest first: when (epoch ms) and ECS's message. */
  readonly events: readonly { readonly at: number; readonly message: string }[];
  /** Tasks of the current (PRIMARY) deployment that failed to start or to stay healthy. */
  readonly failedTasks: number;
}

export interface LifecycleHookView {
  readonly name: string;
  readonly transition: string;
  readonly heartbeatTimeout: number;
  readonly globalTimeout: number;
  readonly defaultResult: string;
}

export interface AutoScalingInstanceView {
  readonly instanceId: string;
  readonly asg: string;
  readonly lifecycleState: string;
}

/**
 * A scaling activity of a group (API reference, Activity:
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_Activity.html). A termination's Description is
 * `Terminating EC2 instance: i-...` (the event reference's "EC2 Instance Terminate Successful" example,
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html), and its StartTime is
 * when the termination, and so a terminate hook's hold, began.
 */
export interface ScalingActivityView {
  readonly description: string;
  /** When the activity began (epoch milliseconds); AWS always gives it. */
  readonly startTime: number | undefined;
  /** InProgress, MidLifecycleAction, Successful, ... */
  readonly statusCode: string;
}

export interface LifecycleActionRef {
  readonly asg: string;
  readonly hook: string;
  readonly instanceId: string;
  readonly token?: string;
}

/** Everything the drainer asks of AWS. Tests and the simulator can implement it; `createAwsPort` uses the SDK. */
export interface AwsPort {
  findContainerInstances(cluster: string, ec2InstanceId: string): Promise<string[]>;
  /**
   * The registrations of up to BATCH.findContainerInstancesIn EC2 instances, with one filtered ListContainerInstances
   * (`ec2InstanceId in [...]`): one page, unlike a listing of the whole cluster. Which instance each belongs to takes a
   * DescribeContainerInstances.
   */
  findContainerInstancesIn(cluster: string, ec2InstanceIds: readonly string[]): Promise<string[]>;
  /** Every container instance of the cluster (all states but INACTIVE), for locating many instances at once. */
  listContainerInstances(cluster: string): Promise<string[]>;
  describeContainerInstances(
    cluster: string,
    arns: readonly string[],
  ): Promise<ContainerInstanceView[]>;
  setDraining(cluster: string, arns: readonly string[]): Promise<void>;
  listTasks(
    cluster: string,
    containerInstanceArn: string,
    desiredStatus: "RUNNING" | "STOPPED",
  ): Promise<string[]>;
  describeTasks(cluster: string, arns: readonly string[]): Promise<TaskView[]>;
  /** The services, by name (10 a call, as DescribeServices takes). Services ECS does not know are left out. */
  describeServices(cluster: string, names: readonly string[]): Promise<ServiceView[]>;
  /**
   * The cluster's tasks of a task definition family with that desiredStatus (any container instance). With
   * `firstPage`, one ListTasks call: at most 100 ARNs, and 100 means there may be more.
   */
  listFamilyTasks(
    cluster: string,
    family: string,
    desiredStatus?: "RUNNING" | "STOPPED",
    firstPage?: boolean,
  ): Promise<string[]>;
  /** Every task of the cluster with that desiredStatus (any container instance): for proving many instances at once. */
  listClusterTasks(cluster: string, desiredStatus: "RUNNING" | "STOPPED"): Promise<string[]>;
  stopTask(cluster: string, taskArn: string, reason: string): Promise<void>;
  completeLifecycleAction(ref: LifecycleActionRef, result: string): Promise<void>;
  recordHeartbeat(ref: LifecycleActionRef): Promise<void>;
  describeAutoScalingInstances(instanceIds: readonly string[]): Promise<AutoScalingInstanceView[]>;
  /**
   * Every instance of the groups with its lifecycle state, the instances of their warm pools included
   * (DescribeAutoScalingGroups does not list those; DescribeWarmPool does).
   */
  describeGroupInstances(asgs: readonly string[]): Promise<AutoScalingInstanceView[]>;
  describeLifecycleHooks(asg: string): Promise<LifecycleHookView[]>;
  /**
   * What the group's instance lifecycle policy does when a terminate hook is abandoned: `retain` (the instance moves
   * to Terminating:Retained and stays) or `terminate`; undefined when the group has no such policy (it terminates).
   */
  describeRetention(asg: string): Promise<string | undefined>;
  /**
   * The group's scaling activities in Auto Scaling's order (those in progress first, then by start time, newest
   * first), reading at most `maxPages` pages of BATCH.describeScalingActivities and stopping early once `enough` says
   * so. Only `status` calls it (OPERATOR_ACTIONS): the drainer's roles are not granted it.
   */
  describeScalingActivities(
    asg: string,
    maxPages: number,
    enough?: (seen: readonly ScalingActivityView[]) => boolean,
  ): Promise<ScalingActivityView[]>;
  /** Puts the drainer's events (DRAIN_EVENTS' source) on the default bus. Throws when EventBridge took any not. */
  putEvents(events: readonly DrainEvent[]): Promise<void>;
}

/** One event of the drainer: its detail-type (DRAIN_EVENTS) and detail. */
export interface DrainEvent {
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

/** Batch limits of the ECS API (drainer/AWS-FACTS.md). */
export const BATCH = {
  describeContainerInstances: 100,
  updateContainerInstancesState: 10,
  describeTasks: 100,
  describeServices: 10,
  /** EC2 instance IDs in one `ec2InstanceId in [...]` filter: 20 instances with up to 5 registrations each fill a page. */
  findContainerInstancesIn: 20,
  /** ListTasks' largest page (maxResults). */
  listTasks: 100,
  /** DescribeScalingActivities' largest page (MaxRecords; also its default). */
  describeScalingActivities: 100,
};

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** True for the error AWS returns when a lifecycle action is no longer active: for a drainer, "already done". */
export function isNoActiveLifecycleAction(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  return e?.name === "ValidationError" && /no active lifecycle action/i.test(e.message ?? "");
}

/** The port's methods that only `status` calls (OPERATOR_ACTIONS). */
export const OPERATOR_READS: readonly (keyof AwsPort)[] = ["describeScalingActivities"];

/**
 * The port as a drain gets it: every method passes through but OPERATOR_READS, which fail at once. The drainer's roles
 * are not granted those actions, so a drain that called one would otherwise be denied by AWS in the middle of a drain.
 */
export function drainerPort(port: AwsPort): AwsPort {
  return new Proxy(port, {
    get(target, key, receiver) {
      if ((OPERATOR_READS as readonly PropertyKey[]).includes(key)) {
        return () =>
          Promise.reject(
            new Error(`${String(key)} is for status only: the drainer's roles are not granted it`),
          );
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/** The IAM actions (DECLARED_ACTIONS, OPERATOR_ACTIONS) each method of the port sends. */
export const PORT_ACTIONS: { readonly [K in keyof AwsPort]: readonly string[] } = {
  findContainerInstances: ["ecs:ListContainerInstances"],
  findContainerInstancesIn: ["ecs:ListContainerInstances"],
  listContainerInstances: ["ecs:ListContainerInstances"],
  describeContainerInstances: ["ecs:DescribeContainerInstances"],
  setDraining: ["ecs:UpdateContainerInstancesState"],
  listTasks: ["ecs:ListTasks"],
  describeTasks: ["ecs:DescribeTasks"],
  describeServices: ["ecs:DescribeServices"],
  listFamilyTasks: ["ecs:ListTasks"],
  listClusterTasks: ["ecs:ListTasks"],
  stopTask: ["ecs:StopTask"],
  completeLifecycleAction: ["autoscaling:CompleteLifecycleAction"],
  recordHeartbeat: ["autoscaling:RecordLifecycleActionHeartbeat"],
  describeAutoScalingInstances: ["autoscaling:DescribeAutoScalingInstances"],
  describeGroupInstances: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeWarmPool"],
  describeLifecycleHooks: ["autoscaling:DescribeLifecycleHooks"],
  describeRetention: ["autoscaling:DescribeAutoScalingGroups"],
  describeScalingActivities: ["autoscaling:DescribeScalingActivities"],
  putEvents: ["events:PutEvents"],
};

/** The port's methods that change something: those that send an action DECLARED_ACTIONS marks `mutating`. */
export const MUTATING_METHODS: readonly (keyof AwsPort)[] = (
  Object.keys(PORT_ACTIONS) as (keyof AwsPort)[]
).filter((m) =>
  PORT_ACTIONS[m].some((action) => DECLARED_ACTIONS.find((a) => a.action === action)?.mutating),
);

/**
 * The port as DRY_RUN gets it: every method that changes something (MUTATING_METHODS) resolves at once and sends
 * nothing; reads pass through. The drain still says what it would have done (its "would ..." lines), and its own
 * checks of DRY_RUN only choose what it does next; this is what guarantees that nothing changes.
 */
export function dryRunPort(port: AwsPort): AwsPort {
  return new Proxy(port, {
    get(target, key, receiver) {
      if ((MUTATING_METHODS as readonly PropertyKey[]).includes(key)) {
        return () => Promise.resolve(undefined);
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/**
 * The port over the SDK's clients. `signal` (SIGTERM) aborts every request in flight, and refuses any new one, so that
 * a stopped drainer makes no AWS call after it and exits at once.
 */
export function createAwsPort(
  ecs: ECSClient,
  autoscaling: AutoScalingClient,
  events?: EventBridgeClient,
  signal?: AbortSignal,
): AwsPort {
  // The SDK passes these to every request: the paginators hand them on to each page's send.
  const abort = { abortSignal: signal };
  return {
    async findContainerInstances(cluster, ec2InstanceId) {
      const arns: string[] = [];
      const pages = paginateListContainerInstances(
        { client: ecs },
        { cluster, filter: `ec2InstanceId == ${ec2InstanceId}` },
        abort,
      );
      for await (const page of pages) arns.push(...(page.containerInstanceArns ?? []));
      return arns;
    },

    async findContainerInstancesIn(cluster, ec2InstanceIds) {
      const arns: string[] = [];
      for (const ids of chunks(ec2InstanceIds, BATCH.findContainerInstancesIn)) {
        const pages = paginateListContainerInstances(
          { client: ecs, pageSize: 100 },
          { cluster, filter: `ec2InstanceId in [${ids.join(", ")}]` },
          abort,
        );
        for await (const page of pages) arns.push(...(page.containerInstanceArns ?? []));
      }
      return arns;
    },

    async listContainerInstances(cluster) {
      const arns: string[] = [];
      for await (const page of paginateListContainerInstances(
        { client: ecs },
        { cluster },
        abort,
      )) {
        arns.push(...(page.containerInstanceArns ?? []));
      }
      return arns;
    },

    async describeContainerInstances(cluster, arns) {
      const out: ContainerInstanceView[] = [];
      for (const batch of chunks(arns, BATCH.describeContainerInstances)) {
        const res = await ecs.send(
          new DescribeContainerInstancesCommand({ cluster, containerInstances: batch }),
          abort,
        );
        for (const ci of res.containerInstances ?? []) {
          out.push({
            arn: ci.containerInstanceArn ?? "",
            ec2InstanceId: ci.ec2InstanceId,
            status: ci.status ?? "UNKNOWN",
            runningTasksCount: ci.runningTasksCount ?? 0,
            pendingTasksCount: ci.pendingTasksCount ?? 0,
          });
        }
        for (const f of res.failures ?? []) {
          if (f.arn && f.reason === "MISSING") {
            out.push({
              arn: f.arn,
              ec2InstanceId: undefined,
              status: "MISSING",
              runningTasksCount: 0,
              pendingTasksCount: 0,
            });
          }
        }
      }
      return out;
    },

    async setDraining(cluster, arns) {
      for (const batch of chunks(arns, BATCH.updateContainerInstancesState)) {
        const res = await ecs.send(
          new UpdateContainerInstancesStateCommand({
            cluster,
            containerInstances: batch,
            status: "DRAINING",
          }),
          abort,
        );
        const failures = (res.failures ?? []).filter((f) => f.reason !== "MISSING");
        if (failures.length > 0) {
          throw new Error(
            `setting DRAINING failed: ${failures.map((f) => `${f.arn}: ${f.reason} ${f.detail ?? ""}`.trim()).join("; ")}`,
          );
        }
      }
    },

    async listTasks(cluster, containerInstance, desiredStatus) {
      const arns: string[] = [];
      const pages = paginateListTasks(
        { client: ecs },
        { cluster, containerInstance, desiredStatus },
        abort,
      );
      for await (const page of pages) arns.push(...(page.taskArns ?? []));
      return arns;
    },

    async describeTasks(cluster, arns) {
      const out: TaskView[] = [];
      for (const batch of chunks(arns, BATCH.describeTasks)) {
        const res = await ecs.send(new DescribeTasksCommand({ cluster, tasks: batch }), abort);
        for (const t of res.tasks ?? []) {
          out.push({
            arn: t.taskArn ?? "",
            containerInstanceArn: t.containerInstanceArn,
            lastStatus: t.lastStatus ?? "UNKNOWN",
            desiredStatus: t.desiredStatus ?? "UNKNOWN",
            group: t.group ?? "",
            startedBy: t.startedBy,
            createdAt: t.createdAt?.getTime(),
            startedAt: t.startedAt?.getTime(),
            taskDefinitionArn: t.taskDefinitionArn,
            stopCode: t.stopCode,
            overriddenEnv: (t.overrides?.containerOverrides ?? []).flatMap((c) =>
              (c.environment ?? []).map((e) => e.name ?? ""),
            ),
            overrides: Object.fromEntries(
              (t.overrides?.containerOverrides ?? []).flatMap((c) =>
                (c.environment ?? []).map((e) => [e.name ?? "", e.value ?? ""]),
              ),
            ),
          });
        }
        for (const f of res.failures ?? []) {
          if (!f.arn || f.reason !== "MISSING") continue;
          out.push({
            arn: f.arn,
            containerInstanceArn: undefined,
            lastStatus: UNDESCRIBED,
            desiredStatus: "UNKNOWN",
            group: "",
            startedBy: undefined,
          });
        }
      }
      return out;
    },

    async listFamilyTasks(cluster, family, desiredStatus = "RUNNING", firstPage = false) {
      const arns: string[] = [];
      const pages = paginateListTasks(
        { client: ecs, pageSize: BATCH.listTasks },
        { cluster, family, desiredStatus },
        abort,
      );
      for await (const page of pages) {
        arns.push(...(page.taskArns ?? []));
        if (firstPage) break;
      }
      return arns;
    },

    async listClusterTasks(cluster, desiredStatus) {
      const arns: string[] = [];
      for await (const page of paginateListTasks(
        { client: ecs },
        { cluster, desiredStatus },
        abort,
      )) {
        arns.push(...(page.taskArns ?? []));
      }
      return arns;
    },

    async stopTask(cluster, task, reason) {
      await ecs.send(new StopTaskCommand({ cluster, task, reason }), abort);
    },

    async completeLifecycleAction(ref, result) {
      await autoscaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: ref.asg,
          LifecycleHookName: ref.hook,
          InstanceId: ref.instanceId,
          LifecycleActionToken: ref.token,
          LifecycleActionResult: result,
        }),
        abort,
      );
    },

    async recordHeartbeat(ref) {
      await autoscaling.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: ref.asg,
          LifecycleHookName: ref.hook,
          InstanceId: ref.instanceId,
          LifecycleActionToken: ref.token,
        }),
        abort,
      );
    },

    async describeAutoScalingInstances(instanceIds) {
      const out: AutoScalingInstanceView[] = [];
      const pages = paginateDescribeAutoScalingInstances(
        { client: autoscaling },
        { InstanceIds: [...instanceIds] },
        abort,
      );
      for await (const page of pages) {
        for (const i of page.AutoScalingInstances ?? []) {
          out.push({
            instanceId: i.InstanceId ?? "",
            asg: i.AutoScalingGroupName ?? "",
            lifecycleState: i.LifecycleState ?? "",
          });
        }
      }
      return out;
    },

    async describeGroupInstances(asgs) {
      const out: AutoScalingInstanceView[] = [];
      const warm: string[] = [];
      const pages = paginateDescribeAutoScalingGroups(
        { client: autoscaling },
        { AutoScalingGroupNames: [...asgs] },
        abort,
      );
      for await (const page of pages) {
        for (const g of page.AutoScalingGroups ?? []) {
          if (g.WarmPoolConfiguration) warm.push(g.AutoScalingGroupName ?? "");
          for (const i of g.Instances ?? []) {
            out.push({
              instanceId: i.InstanceId ?? "",
              asg: g.AutoScalingGroupName ?? "",
              lifecycleState: i.LifecycleState ?? "",
            });
          }
        }
      }
      for (const asg of warm) {
        const pool = paginateDescribeWarmPool(
          { client: autoscaling },
          { AutoScalingGroupName: asg },
          abort,
        );
        for await (const page of pool) {
          for (const i of page.Instances ?? []) {
            out.push({
              instanceId: i.InstanceId ?? "",
              asg,
              lifecycleState: i.LifecycleState ?? "",
            });
          }
        }
      }
      return out;
    },

    async describeLifecycleHooks(asg) {
      const res = await autoscaling.send(
        new DescribeLifecycleHooksCommand({ AutoScalingGroupName: asg }),
        abort,
      );
      return (res.LifecycleHooks ?? []).map((h) => ({
        name: h.LifecycleHookName ?? "",
        transition: h.LifecycleTransition ?? "",
        heartbeatTimeout: h.HeartbeatTimeout ?? 3600,
        globalTimeout: h.GlobalTimeout ?? 0,
        defaultResult: h.DefaultResult ?? "ABANDON",
      }));
    },
    async describeScalingActivities(asg, maxPages, enough) {
      const out: ScalingActivityView[] = [];
      let pages = 0;
      for await (const page of paginateDescribeScalingActivities(
        { client: autoscaling, pageSize: BATCH.describeScalingActivities },
        { AutoScalingGroupName: asg },
        abort,
      )) {
        for (const a of page.Activities ?? []) {
          out.push({
            description: a.Description ?? "",
            startTime: a.StartTime?.getTime(),
            statusCode: a.StatusCode ?? "",
          });
        }
        if (++pages >= maxPages || enough?.(out)) break;
      }
      return out;
    },
    async describeServices(cluster, names) {
      const out: ServiceView[] = [];
      for (const chunk of chunks(names, BATCH.describeServices)) {
        const res = await ecs.send(
          new DescribeServicesCommand({ cluster, services: chunk }),
          abort,
        );
        for (const s of res.services ?? []) {
          const primary = (s.deployments ?? []).find((d) => d.status === "PRIMARY");
          out.push({
            name: s.serviceName ?? "",
            schedulingStrategy: s.schedulingStrategy ?? "REPLICA",
            desiredCount: s.desiredCount ?? 0,
            runningCount: s.runningCount ?? 0,
            pendingCount: s.pendingCount ?? 0,
            minimumHealthyPercent: s.deploymentConfiguration?.minimumHealthyPercent,
            maximumPercent: s.deploymentConfiguration?.maximumPercent,
            events: (s.events ?? []).map((e) => ({
              at: e.createdAt?.getTime() ?? 0,
              message: e.message ?? "",
            })),
            failedTasks: primary?.failedTasks ?? 0,
          });
        }
      }
      return out;
    },
    async putEvents(entries) {
      if (!events) throw new Error("no EventBridge client");
      const res = await events.send(
        new PutEventsCommand({
          Entries: entries.map((e) => ({
            Source: DRAIN_EVENTS.source,
            DetailType: e.detailType,
            Detail: JSON.stringify(e.detail),
            EventBusName: "default",
          })),
        }),
        abort,
      );
      if ((res.FailedEntryCount ?? 0) > 0) {
        const failed = (res.Entries ?? []).find((e) => e.ErrorCode);
        throw new Error(
          `EventBridge took ${entries.length - (res.FailedEntryCount ?? 0)} of ${entries.length} events: ${failed?.ErrorCode}: ${failed?.ErrorMessage}`,
        );
      }
    },
    async describeRetention(asg) {
      const res = await autoscaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asg] }),
        abort,
      );
      const group = (res.AutoScalingGroups ?? []).find((g) => g.AutoScalingGroupName === asg);
      return group?.InstanceLifecyclePolicy?.RetentionTriggers?.TerminateHookAbandon;
    },
  };
}
