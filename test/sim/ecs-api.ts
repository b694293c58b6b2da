/**
 * The ECS operations a scale-in touches, answered from the world in the shapes of the ECS API (JSON 1.1). Timestamps
 * are epoch seconds, as the SDK's JSON protocol expects. Limits are the API's: 100 ids a describe, 10 a state update,
 * 100 results a page.
 */
import { DRAINER_CONTAINER_NAME } from "../../drainer/src/contract";
import { DRAINER_TASK_FAMILY, STOPPED_TASK_RETENTION_SECONDS, SUBNET_ID } from "./fargate";
import { ApiError, ContainerInstance, DrainerTask, EnvOverride, Task, World } from "./world";

/** ECS reads share the "cluster reads" throttle bucket; these share "cluster modifications". */
export const ECS_READS = new Set([
  "DescribeContainerInstances",
  "DescribeTasks",
  "ListContainerInstances",
  "ListTasks",
]);
export const ECS_MODIFICATIONS = new Set(["UpdateContainerInstancesState", "RunTask", "StopTask"]);

type Input = Record<string, unknown>;

function invalid(message: string): ApiError {
  return new ApiError("InvalidParameterException", message);
}

function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw invalid(`${name} is required.`);
    return undefined;
  }
  if (typeof v !== "string") throw invalid(`${name} must be a string.`);
  return v;
}

function strList(input: Input, name: string, max: number): string[] {
  const v = input[name];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw invalid(`${name} must be a list of strings.`);
  }
  if (v.length === 0) throw invalid(`${name} cannot be empty.`);
  if (v.length > max) {
    throw invalid(`${name} can have at most ${max} elements (got ${v.length}).`);
  }
  return v as string[];
}

function page<T>(
  items: readonly T[],
  input: Input,
  max: number,
): { items: T[]; nextToken?: string } {
  const maxResults = input.maxResults === undefined ? max : Number(input.maxResults);
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > max) {
    throw invalid(`maxResults must be between 1 and ${max}.`);
  }
  let offset = 0;
  const token = str(input, "nextToken");
  if (token !== undefined) {
    offset = Number(
      Buffer.from(token, "base64")
        .toString("utf8")
        .replace(/^offset:/, ""),
    );
    if (!Number.isInteger(offset) || offset < 0) throw invalid("The nextToken is not valid.");
  }
  const slice = items.slice(offset, offset + maxResults);
  const next = offset + maxResults;
  return {
    items: slice,
    nextToken: next < items.length ? Buffer.from(`offset:${next}`).toString("base64") : undefined,
  };
}

export class EcsApi {
  /** ListTasks' eventual consistency: tasks created less than this long ago are not listed yet. */
  listTasksLagSeconds = 0;
  /**
   * DescribeTasks' eventual consistency: a task created less than this long ago is answered in `failures` with reason
   * MISSING instead of in `tasks`.
   */
  describeMissingSeconds = 0;

  constructor(private readonly world: World) {}

  handle(op: string, input: Input): object {
    switch (op) {
      case "ListContainerInstances":
        return this.listContainerInstances(input);
      case "DescribeContainerInstances":
        return this.describeContainerInstances(input);
      case "UpdateContainerInstancesState":
        return this.updateContainerInstancesState(input);
      case "ListTasks":
        return this.listTasks(input);
      case "DescribeTasks":
        return this.describeTasks(input);
      case "StopTask":
        return this.stopTask(input);
      case "RunTask":
        return this.runTask(input);
      case "DescribeServices":
        return this.describeServices(input);
      default:
        throw new ApiError(
          "UnknownOperationException",
          `The simulator does not implement ECS ${op}.`,
        );
    }
  }

  private checkCluster(input: Input): void {
    const c = str(input, "cluster") ?? "default";
    if (c !== this.world.clusterName && c !== this.world.clusterArn) {
      throw new ApiError("ClusterNotFoundException", "Cluster not found.");
    }
  }

  private epoch(sim: number | undefined): number | undefined {
    return sim === undefined ? undefined : Math.round((this.world.epoch + sim) * 1000) / 1000;
  }

  private findContainerInstance(ref: string): ContainerInstance | undefined {
    const byArn = this.world.containerInstances.get(ref);
    if (byArn) return byArn;
    if (!/^[0-9a-f]{32}$/.test(ref)) return undefined;
    for (const ci of this.world.containerInstances.values()) {
      if (ci.arn.endsWith(`/${ref}`)) return ci;
    }
    return undefined;
  }

  private findTask(ref: string): Task | undefined {
    const byArn = this.world.tasks.get(ref);
    if (byArn) return byArn;
    if (!/^[0-9a-f]{32}$/.test(ref)) return undefined;
    for (const t of this.world.tasks.values()) {
      if (t.arn.endsWith(`/${ref}`)) return t;
    }
    return undefined;
  }

  /**
   * The cluster query language, for the expressions a drainer uses: `ec2InstanceId == i-...` and
   * `ec2InstanceId in [i-..., i-...]`. Anything else is refused, so a gap in the simulator cannot pass silently.
   */
  private filterFor(expr: string): (ci: ContainerInstance) => boolean {
    const eq = /^\s*ec2InstanceId\s*==\s*(i-[0-9a-f]+)\s*$/.exec(expr);
    if (eq) return (ci) => ci.ec2.id === eq[1];
    const list = /^\s*ec2InstanceId\s+in\s*\[([^\]]*)\]\s*$/.exec(expr);
    if (list) {
      const ids = new Set(list[1].split(",").map((s) => s.trim()));
      return (ci) => ids.has(ci.ec2.id);
    }
    throw invalid(
      `The simulator supports only the filters "ec2InstanceId == i-..." and "ec2InstanceId in [...]", got: ${expr}`,
    );
  }

  private listContainerInstances(input: Input): object {
    this.checkCluster(input);
    const status = str(input, "status");
    const filter = str(input, "filter");
    const match = filter === undefined ? () => true : this.filterFor(filter);
    const all = [...this.world.containerInstances.values()].filter(
      (ci) => (status === undefined ? ci.status !== "INACTIVE" : ci.status === status) && match(ci),
    );
    const { items, nextToken } = page(all, input, 100);
    return { containerInstanceArns: items.map((ci) => ci.arn), nextToken };
  }

  private containerInstanceShape(ci: ContainerInstance): object {
    return {
      containerInstanceArn: ci.arn,
      ec2InstanceId: ci.ec2.id,
      version: ci.version,
      versionInfo: {
        agentVersion: "1.89.0",
        agentHash: "sim",
        dockerVersion: "DockerVersion: 25.0.8",
      },
      status: ci.status,
      agentConnected: ci.agentConnected,
      runningTasksCount: this.world.runningTasksCount(ci),
      pendingTasksCount: this.world.pendingTasksCount(ci),
      registeredAt: this.epoch(ci.registeredAt),
      registeredResources: [],
      remainingResources: [],
      attributes: [{ name: "ecs.availability-zone", value: `${this.world.region}a` }],
      attachments: [],
      tags: [],
    };
  }

  private describeContainerInstances(input: Input): object {
    this.checkCluster(input);
    const refs = strList(input, "containerInstances", 100);
    const containerInstances: object[] = [];
    const failures: object[] = [];
    for (const ref of refs) {
      const ci = this.findContainerInstance(ref);
      if (ci) containerInstances.push(this.containerInstanceShape(ci));
      else failures.push({ arn: ref, reason: "MISSING" });
    }
    return { containerInstances, failures };
  }

  private updateContainerInstancesState(input: Input): object {
    this.checkCluster(input);
    const refs = strList(input, "containerInstances", 10);
    const status = str(input, "status", true);
    if (status !== "ACTIVE" && status !== "DRAINING") {
      throw invalid(
        `status must be ACTIVE or DRAINING (the simulator models these), got ${status}.`,
      );
    }
    const containerInstances: object[] = [];
    const failures: object[] = [];
    for (const ref of refs) {
      const ci = this.findContainerInstance(ref);
      if (!ci) {
        failures.push({ arn: ref, reason: "MISSING" });
        continue;
      }
      if (ci.status === "INACTIVE") {
        failures.push({
          arn: ci.arn,
          reason: "INACTIVE",
          detail: "The container instance is inactive.",
        });
        continue;
      }
      this.world.setContainerInstanceStatus(ci, status);
      containerInstances.push(this.containerInstanceShape(ci));
    }
    return { containerInstances, failures };
  }

  private listTasks(input: Input): object {
    this.checkCluster(input);
    const desired = str(input, "desiredStatus") ?? "RUNNING";
    if (!["RUNNING", "PENDING", "STOPPED"].includes(desired)) {
      throw invalid(`desiredStatus must be RUNNING, PENDING or STOPPED, got ${desired}.`);
    }
    const ciRef = str(input, "containerInstance");
    let scope: Task[];
    if (ciRef !== undefined) {
      const ci = this.findContainerInstance(ciRef);
      if (!ci) throw invalid("Container instance can not be found.");
      scope = ci.tasks;
    } else {
      scope = [...this.world.tasks.values()];
    }
    const family = str(input, "family");
    const serviceName = str(input, "serviceName");
    const startedBy = str(input, "startedBy");
    const listedFrom = this.world.clock.now() - this.listTasksLagSeconds;
    const matching = scope.filter(
      (t) =>
        t.createdAt <= listedFrom &&
        (desired === "PENDING"
          ? t.desiredStatus === "RUNNING" && t.lastStatus === "PENDING"
          : t.desiredStatus === desired) &&
        (family === undefined || t.taskDefinitionArn.includes(`/${family}:`)) &&
        (serviceName === undefined || t.group === `service:${serviceName}`) &&
        (startedBy === undefined || t.startedBy === startedBy),
    );
    // The drainers' own tasks (Fargate: on no container instance), for a listing by family or of the whole cluster.
    const drainers =
      ciRef === undefined && serviceName === undefined && startedBy === undefined
        ? [...this.world.drainerTasks.values()].filter(
            (t) =>
              (family === undefined || t.family === family) &&
              this.retained(t) &&
              (desired === "PENDING"
                ? t.desiredStatus === "RUNNING" && t.lastStatus === "PENDING"
                : t.desiredStatus === desired),
          )
        : [];
    const { items, nextToken } = page(
      [...matching.map((t) => t.arn), ...drainers.map((t) => t.arn)],
      input,
      100,
    );
    return { taskArns: items, nextToken };
  }

  taskShape(t: Task): object {
    const name = t.group.replace(/^(service|family):/, "");
    return {
      taskArn: t.arn,
      clusterArn: this.world.clusterArn,
      taskDefinitionArn: t.taskDefinitionArn,
      containerInstanceArn: t.containerInstance.arn,
      availabilityZone: `${this.world.region}a`,
      group: t.group,
      startedBy: t.startedBy,
      launchType: "EC2",
      lastStatus: t.lastStatus,
      desiredStatus: t.desiredStatus,
      version: t.version,
      cpu: "256",
      memory: "512",
      connectivity: t.lastStatus === "STOPPED" ? "DISCONNECTED" : "CONNECTED",
      healthStatus: "UNKNOWN",
      createdAt: this.epoch(t.createdAt),
      startedAt: this.epoch(t.startedAt),
      stoppingAt: this.epoch(t.stoppingAt),
      stoppedAt: this.epoch(t.stoppedAt),
      stopCode: t.stopCode,
      stoppedReason: t.stoppedReason,
      containers: [
        {
          containerArn: `${t.arn.replace(":task/", ":container/")}/${name}`,
          taskArn: t.arn,
          name,
          lastStatus: t.lastStatus === "DEACTIVATING" ? "RUNNING" : t.lastStatus,
        },
      ],
      overrides: { containerOverrides: [] },
      attachments: [],
      tags: [],
    };
  }

  /** ECS forgets a stopped task about an hour after it stopped. */
  private retained(d: DrainerTask): boolean {
    return (
      d.stoppedAt === undefined ||
      d.stoppedAt >= this.world.clock.now() - STOPPED_TASK_RETENTION_SECONDS
    );
  }

  private describeTasks(input: Input): object {
    this.checkCluster(input);
    const refs = strList(input, "tasks", 100);
    const tasks: object[] = [];
    const failures: object[] = [];
    const describableFrom = this.world.clock.now() - this.describeMissingSeconds;
    for (const ref of refs) {
      const t = this.findTask(ref);
      const d = this.findDrainerTask(ref);
      const createdAt = t?.createdAt ?? d?.createdAt;
      if (createdAt !== undefined && createdAt > describableFrom) {
        failures.push({ arn: ref, reason: "MISSING" });
      } else if (t) tasks.push(this.taskShape(t));
      else if (d && this.retained(d)) tasks.push(this.drainerTaskShape(d));
      else failures.push({ arn: ref, reason: "MISSING" });
    }
    return { tasks, failures };
  }

  private findDrainerTask(ref: string): DrainerTask | undefined {
    const byArn = this.world.drainerTasks.get(ref);
    if (byArn) return byArn;
    if (!/^[0-9a-f]{32}$/.test(ref)) return undefined;
    for (const d of this.world.drainerTasks.values()) if (d.id === ref) return d;
    return undefined;
  }

  drainerTaskShape(d: DrainerTask): object {
    return {
      taskArn: d.arn,
      clusterArn: this.world.clusterArn,
      taskDefinitionArn: d.taskDefinitionArn,
      group: `family:${d.family}`,
      startedBy: d.startedBy,
      launchType: "FARGATE",
      platformVersion: "1.4.0",
      platformFamily: "Linux",
      availabilityZone: `${this.world.region}a`,
      cpu: "256",
      memory: "512",
      lastStatus: d.lastStatus,
      desiredStatus: d.desiredStatus,
      version: d.version,
      connectivity: d.lastStatus === "RUNNING" ? "CONNECTED" : "DISCONNECTED",
      healthStatus: "UNKNOWN",
      createdAt: this.epoch(d.createdAt),
      startedAt: this.epoch(d.startedAt),
      stoppingAt: this.epoch(d.stoppingAt),
      stoppedAt: this.epoch(d.stoppedAt),
      stopCode: d.stopCode,
      stoppedReason: d.stoppedReason,
      containers: [
        {
          containerArn: `${d.arn.replace(":task/", ":container/")}/${DRAINER_CONTAINER_NAME}`,
          taskArn: d.arn,
          name: DRAINER_CONTAINER_NAME,
          lastStatus: d.lastStatus,
          exitCode: d.exitCode,
        },
      ],
      overrides: {
        containerOverrides: [
          {
            name: DRAINER_CONTAINER_NAME,
            environment: d.overrides.map((o) => ({ name: o.name, value: o.value })),
          },
        ],
      },
      attachments: [
        {
          id: d.id.slice(0, 8) + "-0000-4000-8000-" + d.id.slice(8, 20),
          type: "ElasticNetworkInterface",
          status: d.lastStatus === "STOPPED" ? "DELETED" : d.privateIp ? "ATTACHED" : "PRECREATED",
          details: [
            { name: "subnetId", value: SUBNET_ID },
            ...(d.privateIp ? [{ name: "privateIPv4Address", value: d.privateIp }] : []),
          ],
        },
      ],
      tags: [],
    };
  }

  /**
   * RunTask of the drainer's task definition on Fargate (fargate.ts judges the launch): HTTP 200 with the task
   * accepted, or with `tasks: []` and the reason in `failures`. The simulator runs no other task definition here.
   */
  private runTask(input: Input): object {
    this.checkCluster(input);
    const ref = str(input, "taskDefinition", true)!;
    const family = ref
      .replace(/^arn:aws:ecs:[^:]*:[^:]*:task-definition\//, "")
      .replace(/:\d+$/, "");
    if (family !== DRAINER_TASK_FAMILY) {
      throw invalid(
        `The simulator runs only the drainer's task definition (${DRAINER_TASK_FAMILY}) with RunTask, got ${ref}.`,
      );
    }
    const launchType = str(input, "launchType");
    if (launchType !== undefined && launchType !== "FARGATE") {
      throw invalid(
        `The simulator runs the drainer on FARGATE only, got launchType ${launchType}.`,
      );
    }
    const count = input.count === undefined ? 1 : Number(input.count);
    if (!Number.isInteger(count) || count < 1 || count > 10) {
      throw invalid("count must be between 1 and 10.");
    }
    const overrides: EnvOverride[] = [];
    const containerOverrides = (input.overrides as { containerOverrides?: unknown } | undefined)
      ?.containerOverrides;
    for (const o of Array.isArray(containerOverrides) ? containerOverrides : []) {
      const c = o as { name?: unknown; environment?: unknown };
      if (c.name !== DRAINER_CONTAINER_NAME) continue;
      for (const e of Array.isArray(c.environment) ? c.environment : []) {
        const { name, value } = e as { name?: unknown; value?: unknown };
        if (typeof name === "string" && typeof value === "string") overrides.push({ name, value });
      }
    }
    const tasks: object[] = [];
    const failures: object[] = [];
    for (let i = 0; i < count; i++) {
      const outcome = this.world.fargate.runTask({
        family,
        overrides,
        startedBy: str(input, "startedBy"),
        via: "api",
      });
      if ("task" in outcome) tasks.push(this.drainerTaskShape(outcome.task));
      else failures.push({ arn: this.world.taskDefinitionArnOf(family), reason: outcome.failure });
    }
    return { tasks, failures };
  }

  /** DescribeServices: at most 10 services, by name or ARN; the events newest first, as ECS returns them. */
  private describeServices(input: Input): object {
    this.checkCluster(input);
    const refs = strList(input, "services", 10);
    const services: object[] = [];
    const failures: object[] = [];
    for (const ref of refs) {
      const s = this.world.service(ref.replace(/^arn:.*:service\/[^/]+\//, ""));
      if (!s) {
        failures.push({ arn: ref, reason: "MISSING" });
        continue;
      }
      const live = s.tasks.filter((t) => t.desiredStatus === "RUNNING");
      services.push({
        serviceArn: s.arn,
        serviceName: s.spec.name,
        clusterArn: this.world.clusterArn,
        status: "ACTIVE",
        schedulingStrategy: s.spec.daemon ? "DAEMON" : "REPLICA",
        desiredCount: s.spec.daemon ? live.length : s.spec.desiredCount,
        runningCount: live.filter((t) => t.lastStatus === "RUNNING").length,
        pendingCount: live.filter((t) => t.lastStatus === "PENDING").length,
        taskDefinition: s.taskDefinitionArn,
        deploymentConfiguration: {
          minimumHealthyPercent: s.spec.minimumHealthyPercent,
          maximumPercent: s.spec.maximumPercent,
        },
        deployments: [
          {
            id: `ecs-svc/${s.startedBy.slice("ecs-svc/".length)}`,
            status: "PRIMARY",
            taskDefinition: s.taskDefinitionArn,
            desiredCount: s.spec.desiredCount,
            runningCount: live.filter((t) => t.lastStatus === "RUNNING").length,
            pendingCount: live.filter((t) => t.lastStatus === "PENDING").length,
            failedTasks: s.failedTasks,
            rolloutState: "COMPLETED",
          },
        ],
        events: s.events.map((e, i) => ({
          id: `${s.spec.name}-${s.events.length - i}`,
          createdAt: this.epoch(e.at),
          message: e.message,
        })),
      });
    }
    return { services, failures };
  }

  private stopTask(input: Input): object {
    this.checkCluster(input);
    const ref = str(input, "task", true)!;
    const t = this.findTask(ref);
    if (!t) throw invalid("The referenced task was not found.");
    const reason = str(input, "reason") ?? "Task stopped by user";
    if (reason.length > 255) throw invalid("reason can be at most 255 characters.");
    this.world.stopTask(t, "UserInitiated", reason);
    return { task: this.taskShape(t) };
  }
}
