/**
 * The Auto Scaling operations a scale-in touches, answered from the world in the Query protocol: form-encoded
 * requests (`Action=...&Version=2011-01-01`, lists as `Name.member.N`) and XML answers in the 2011-01-01 namespace.
 *
 * Durations the drainer reads (HeartbeatTimeout, GlobalTimeout) are given in wall-clock seconds, the unit the
 * drainer's own timers run in (see clock.ts).
 */
import { SimClock } from "./clock";
import { ApiError, Ec2Instance, Group, LifecycleResultName, World } from "./world";

export const AUTOSCALING_NAMESPACE = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
export const AUTOSCALING_VERSION = "2011-01-01";

/** An XML element tree: a string is text; an array is a list of `<member>`s; an object maps names to children. */
export type Xml = string | number | boolean | undefined | Xml[] | { [name: string]: Xml };

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

export function toXml(value: Xml): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join("");
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join("");
  }
  return escapeXml(String(value));
}

export function responseXml(action: string, result: Xml, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<${action}Response xmlns="${AUTOSCALING_NAMESPACE}">` +
    `<${action}Result>${toXml(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  );
}

export function errorXml(
  type: "Sender" | "Receiver",
  code: string,
  message: string,
  requestId: string,
): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ErrorResponse xmlns="${AUTOSCALING_NAMESPACE}">` +
    `<Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    `</ErrorResponse>`
  );
}

function validation(message: string): ApiError {
  return new ApiError("ValidationError", message);
}

/** The parameters of a Query request. */
export class QueryParams {
  constructor(private readonly params: URLSearchParams) {}

  get(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  required(name: string): string {
    const v = this.get(name);
    if (v === undefined || v === "") {
      throw validation(
        `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return v;
  }

  /** `Name.member.1`, `Name.member.2`, ... in order. */
  list(name: string): string[] {
    const out: string[] = [];
    for (let i = 1; ; i++) {
      const v = this.params.get(`${name}.member.${i}`);
      if (v === null) return out;
      out.push(v);
    }
  }

  /** Every parameter, for the call log. */
  toObject(): Record<string, string> {
    return Object.fromEntries(this.params.entries());
  }

  /** Names present that start with `prefix`, for refusing parameters the simulator does not model. */
  has(prefix: string): boolean {
    for (const k of this.params.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }
}

function paginate<T>(
  items: readonly T[],
  q: QueryParams,
  defaultMax: number,
  max: number,
): { items: T[]; NextToken?: string } {
  const raw = q.get("MaxRecords");
  const maxRecords = raw === undefined ? defaultMax : Number(raw);
  if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > max) {
    throw validation(`MaxRecords must be between 1 and ${max}.`);
  }
  let offset = 0;
  const token = q.get("NextToken");
  if (token !== undefined) {
    offset = Number(
      Buffer.from(token, "base64")
        .toString("utf8")
        .replace(/^offset:/, ""),
    );
    if (!Number.isInteger(offset) || offset < 0) throw validation("The NextToken is not valid.");
  }
  const next = offset + maxRecords;
  return {
    items: items.slice(offset, next),
    NextToken: next < items.length ? Buffer.from(`offset:${next}`).toString("base64") : undefined,
  };
}

export class AutoScalingApi {
  constructor(
    private readonly world: World,
    private readonly clock: SimClock,
  ) {}

  handle(action: string, q: QueryParams): Xml {
    switch (action) {
      case "DescribeAutoScalingGroups":
        return this.describeAutoScalingGroups(q);
      case "DescribeAutoScalingInstances":
        return this.describeAutoScalingInstances(q);
      case "DescribeLifecycleHooks":
        return this.describeLifecycleHooks(q);
      case "CompleteLifecycleAction":
        return this.completeLifecycleAction(q);
      case "RecordLifecycleActionHeartbeat":
        return this.recordLifecycleActionHeartbeat(q);
      case "DescribeWarmPool":
        return this.describeWarmPool(q);
      case "DescribeScalingActivities":
        return this.describeScalingActivities(q);
      default:
        throw new ApiError(
          "InvalidAction",
          `The simulator does not implement Auto Scaling ${action}.`,
        );
    }
  }

  private group(name: string): Group {
    const g = this.world.groups.get(name);
    if (!g) throw validation(`AutoScalingGroup name not found - ${name}`);
    return g;
  }

  private instanceShape(i: Ec2Instance): { [name: string]: Xml } {
    return {
      InstanceId: i.id,
      InstanceType: "m5.large",
      AvailabilityZone: `${this.world.region}a`,
      LifecycleState: i.lifecycleState,
      HealthStatus: "Healthy",
      ProtectedFromScaleIn: false,
    };
  }

  private describeAutoScalingGroups(q: QueryParams): Xml {
    if (q.has("Filters.")) {
      throw validation("The simulator does not model DescribeAutoScalingGroups Filters.");
    }
    const names = q.list("AutoScalingGroupNames");
    const groups =
      names.length === 0
        ? [...this.world.groups.values()]
        : names.map((n) => this.world.groups.get(n)).filter((g): g is Group => g !== undefined);
    const { items, NextToken } = paginate(groups, q, 50, 100);
    return {
      AutoScalingGroups: items.map((g) => {
        const live = g.instances.filter((i) => i.lifecycleState !== "Terminated");
        return {
          AutoScalingGroupName: g.name,
          AutoScalingGroupARN: g.arn,
          MinSize: 0,
          MaxSize: Math.max(g.instances.length, 1),
          DesiredCapacity: live.filter((i) => i.lifecycleState === "InService").length,
          DefaultCooldown: 300,
          AvailabilityZones: [`${this.world.region}a`],
          HealthCheckType: "EC2",
          HealthCheckGracePeriod: 0,
          CreatedTime: this.world.isoTime(g.createdAt),
          // Warm-pool instances are listed by DescribeWarmPool, not here.
          ...(g.instances.some((i) => i.warm)
            ? { WarmPoolConfiguration: { MinSize: 0, PoolState: "Stopped", Status: "Active" } }
            : {}),
          Instances: g.instances
            .filter((i) => !i.warm)
            .map((i) => ({
              ...this.instanceShape(i),
              AvailabilityZone: `${this.world.region}a`,
            })),
          ...(g.retainOnAbandon
            ? {
                InstanceLifecyclePolicy: {
                  RetentionTriggers: { TerminateHookAbandon: "retain" },
                },
              }
            : {}),
          NewInstancesProtectedFromScaleIn: false,
          ServiceLinkedRoleARN: `arn:aws:iam::${this.world.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
        };
      }),
      NextToken,
    };
  }

  private describeAutoScalingInstances(q: QueryParams): Xml {
    const ids = q.list("InstanceIds");
    const instances: Ec2Instance[] = [];
    if (ids.length === 0) {
      for (const g of this.world.groups.values()) instances.push(...g.instances);
    } else {
      for (const id of ids) {
        const i = this.world.ec2.get(id);
        if (i && i.group.instances.includes(i)) instances.push(i);
      }
    }
    const { items, NextToken } = paginate(instances, q, 50, 50);
    return {
      AutoScalingInstances: items.map((i) => ({
        ...this.instanceShape(i),
        AutoScalingGroupName: i.group.name,
      })),
      NextToken,
    };
  }

  private describeWarmPool(q: QueryParams): Xml {
    const g = this.group(q.required("AutoScalingGroupName"));
    const warm = g.instances.filter((i) => i.warm && i.lifecycleState !== "Warmed:Terminated");
    const { items, NextToken } = paginate(warm, q, 50, 50);
    return {
      WarmPoolConfiguration: { MinSize: 0, PoolState: "Stopped", Status: "Active" },
      Instances: items.map((i) => this.instanceShape(i)),
      NextToken,
    };
  }

  /**
   * A group's scaling activities as the API reference orders them: "Activities are sorted by start time. Activities
   * still in progress are described first." (newest first within each). MaxRecords defaults to 100, at most 100.
   * Only a group's activities: without AutoScalingGroupName, or with ActivityIds or Filters, the request is refused
   * as unmodelled.
   */
  private describeScalingActivities(q: QueryParams): Xml {
    if (q.has("ActivityIds.") || q.has("Filters.") || q.get("AutoScalingGroupName") === undefined) {
      throw validation(
        "The simulator models DescribeScalingActivities of one group only (AutoScalingGroupName, no ActivityIds or Filters).",
      );
    }
    // An unknown group has no activities here (an empty list; status asks only about groups it found).
    const g = this.world.groups.get(q.required("AutoScalingGroupName"));
    const ordered = (g?.activities ?? [])
      .map((a, i) => ({ a, i }))
      .sort(
        (x, y) =>
          Number(y.a.statusCode !== "Successful") - Number(x.a.statusCode !== "Successful") ||
          y.a.startedAt - x.a.startedAt ||
          y.i - x.i,
      )
      .map(({ a }) => a);
    const { items, NextToken } = paginate(ordered, q, 100, 100);
    return {
      Activities: items.map((a) => ({
        ActivityId: a.id,
        AutoScalingGroupName: g!.name,
        AutoScalingGroupARN: g!.arn,
        Description: a.description,
        Cause: a.cause,
        StartTime: this.world.isoTime(a.startedAt),
        EndTime: a.endedAt === undefined ? undefined : this.world.isoTime(a.endedAt),
        StatusCode: a.statusCode,
        Progress: a.statusCode === "Successful" ? 100 : 50,
        Details: JSON.stringify({ "Availability Zone": `${this.world.region}a` }),
      })),
      NextToken,
    };
  }

  private describeLifecycleHooks(q: QueryParams): Xml {
    const g = this.group(q.required("AutoScalingGroupName"));
    const names = q.list("LifecycleHookNames");
    const hooks = g.hooks.filter((h) => names.length === 0 || names.includes(h.name));
    return {
      LifecycleHooks: hooks.map((h) => ({
        LifecycleHookName: h.name,
        AutoScalingGroupName: g.name,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        HeartbeatTimeout: this.wallSeconds(h.heartbeatTimeout),
        GlobalTimeout: this.wallSeconds(h.globalTimeout),
        DefaultResult: h.defaultResult,
      })),
    };
  }

  /** The drainer's timers run on the wall clock: it must read the hook's timeouts in wall-clock seconds. */
  private wallSeconds(sim: number): number {
    return Math.max(1, Math.round(this.clock.toReal(sim)));
  }

  private actionOf(q: QueryParams) {
    const hook = q.required("LifecycleHookName");
    const asg = q.required("AutoScalingGroupName");
    const token = q.get("LifecycleActionToken");
    const instanceId = q.get("InstanceId");
    if (token === undefined && instanceId === undefined) {
      throw validation("Either LifecycleActionToken or InstanceId must be specified.");
    }
    return this.world.findAction(asg, hook, instanceId, token);
  }

  private completeLifecycleAction(q: QueryParams): Xml {
    const result = q.required("LifecycleActionResult");
    if (result !== "CONTINUE" && result !== "ABANDON") {
      throw validation(
        `1 validation error detected: Value '${result}' at 'lifecycleActionResult' failed to satisfy constraint: Member must be CONTINUE or ABANDON`,
      );
    }
    const action = this.actionOf(q);
    this.world.finishAction(action, result as LifecycleResultName, "api");
    return undefined;
  }

  private recordLifecycleActionHeartbeat(q: QueryParams): Xml {
    this.world.heartbeat(this.actionOf(q));
    return undefined;
  }
}
