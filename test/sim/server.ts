/**
 * The simulator's loopback HTTP endpoint. The SDK's AWS_ENDPOINT_URL sends ECS and Auto Scaling to the same URL:
 * ECS requests carry `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>` (JSON 1.1); Auto Scaling requests are
 * form-encoded `Action=<Op>` (Query protocol, answered in XML).
 *
 * Before an operation runs, the server applies the faults switched on: latency, AWS's ECS throttle buckets, random
 * throttling, 5xx and ResourceContention. Every request is recorded, including the SDK's retries.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import {
  AutoScalingApi,
  AUTOSCALING_VERSION,
  errorXml,
  QueryParams,
  responseXml,
} from "./autoscaling-api";
import { SimClock } from "./clock";
import { ECS_MODIFICATIONS, ECS_READS, EcsApi } from "./ecs-api";
import { Rng } from "./random";
import { Recorder, Service } from "./recorder";
import { BucketSpec, ECS_BUCKETS, TokenBucket } from "./throttle";
import { ApiError, World } from "./world";

const ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";

/** Faults, switchable while a simulation runs. Probabilities are per request. */
export interface Faults {
  /** AWS's ECS throttle buckets (cluster reads, cluster modifications). Defaults to on. */
  throttling: boolean;
  /** An Auto Scaling bucket; AWS does not publish one, so it is off unless a scenario sets it. */
  autoScalingBucket?: BucketSpec;
  /** Extra throttling on top of the buckets: ThrottlingException (ECS) / Throttling (Auto Scaling). */
  throttleRate: number;
  /** HTTP 500/503 answers. */
  serverErrorRate: number;
  /** Auto Scaling ResourceContention (HTTP 500). */
  contentionRate: number;
  /** Simulated seconds added to every request. */
  latencySeconds: number;
  /**
   * Auto Scaling operations answered AccessDenied (HTTP 403), as AWS answers a call that no policy of the caller
   * allows: an operator whose credentials lack an action.
   */
  denied?: readonly string[];
  /** Auto Scaling operations always answered Throttling (HTTP 400): the SDK retries them, then gives up. */
  throttled?: readonly string[];
  /**
   * Requests that are never answered (the client's request timeout must end them): these operations, from `from`
   * until `until` simulated seconds (forever when unset).
   */
  hang?: { readonly ops: readonly string[]; readonly from?: number; readonly until?: number };
  /** ListTasks is eventually consistent: a task is listed only this many simulated seconds after it was created. */
  listTasksLagSeconds?: number;
  /**
   * DescribeTasks is eventually consistent too: a task created less than this many simulated seconds ago is answered
   * in `failures` (reason MISSING), not in `tasks`. Off (0) unless a scenario sets it.
   */
  describeMissingSeconds?: number;
}

export const NO_FAULTS: Faults = {
  throttling: true,
  throttleRate: 0,
  serverErrorRate: 0,
  contentionRate: 0,
  latencySeconds: 0,
};

/** One request, as the server saw it. */
export interface CallEvent {
  readonly service: Service;
  readonly op: string;
  readonly at: number;
  readonly attempt: number;
  /** `ok`, or the error code answered. */
  readonly outcome: string;
  readonly input: Record<string, unknown>;
}

export class SimServer {
  readonly faults: Faults;
  private readonly ecs: EcsApi;
  private readonly autoscaling: AutoScalingApi;
  private readonly reads: TokenBucket;
  private readonly modifications: TokenBucket;
  private asgBucket?: { spec: BucketSpec; bucket: TokenBucket };
  private readonly rng: Rng;
  private server?: Server;
  private requestSeq = 0;
  /** Observers of every request (the demo's timeline, tests). */
  readonly listeners: ((e: CallEvent) => void)[] = [];
  /** Keep the inputs of every call, for tests that assert exact requests. */
  readonly log: CallEvent[] = [];
  keepLog = false;

  constructor(
    private readonly world: World,
    private readonly clock: SimClock,
    private readonly recorder: Recorder,
    faults: Partial<Faults> = {},
    seed = 7,
  ) {
    this.faults = { ...NO_FAULTS, ...faults };
    this.ecs = new EcsApi(world);
    this.autoscaling = new AutoScalingApi(world, clock);
    this.reads = new TokenBucket(ECS_BUCKETS.clusterReads, clock);
    this.modifications = new TokenBucket(ECS_BUCKETS.clusterModifications, clock);
    this.rng = new Rng(seed);
    // EventBridge's RunTasks come out of the same account bucket as the drainers' modifications.
    world.fargate.takeModificationToken = () =>
      !this.faults.throttling || this.modifications.take();
  }

  /** Listens on 127.0.0.1 and returns the endpoint URL for AWS_ENDPOINT_URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.onRequest(req, res).catch((err) => {
        this.recorder.unsupported.push(`internal error: ${(err as Error).stack ?? err}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.keepAliveTimeout = 30_000;
    server.maxConnections = 10_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    return this.endpoint;
  }

  get endpoint(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error("the simulator is not listening");
    return `http://127.0.0.1:${addr.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const attempt = Number(
      /attempt=(\d+)/.exec(String(req.headers["amz-sdk-request"] ?? ""))?.[1] ?? 1,
    );
    // The task metadata endpoint v4 of the drainers' own tasks: GET /metadata/<task id>/task.
    const metadata = /^\/metadata\/([0-9a-f]{32})\/task$/.exec(req.url ?? "");
    if (req.method === "GET" && metadata) {
      const task = [...this.world.drainerTasks.values()].find((t) => t.id === metadata[1]);
      res.writeHead(task ? 200 : 404, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          task
            ? {
                Cluster: this.world.clusterArn,
                TaskARN: task.arn,
                Family: task.family,
                Revision: "1",
                DesiredStatus: task.desiredStatus,
                KnownStatus: task.lastStatus,
                LaunchType: "FARGATE",
                AvailabilityZone: `${this.world.region}a`,
              }
            : { error: "no such task" },
        ),
      );
      return;
    }
    const target = req.headers["x-amz-target"];
    if (
      req.method === "POST" &&
      typeof target === "string" &&
      target.startsWith(ECS_TARGET_PREFIX)
    ) {
      let input: Record<string, unknown>;
      try {
        input = body === "" ? {} : (JSON.parse(body) as Record<string, unknown>);
      } catch {
        return this.sendEcsError(
          res,
          new ApiError("SerializationException", "Malformed JSON body."),
        );
      }
      await this.ecsCall(target.slice(ECS_TARGET_PREFIX.length), input, attempt, res);
      return;
    }
    if (req.method === "POST" && target === "AWSEvents.PutEvents") {
      // EventBridge's PutEvents (JSON 1.1): the events are recorded; nothing routes them.
      const at = this.clock.now();
      this.recorder.call("events", "PutEvents", at, attempt);
      let entries: Record<string, string>[] = [];
      try {
        entries = (JSON.parse(body) as { Entries?: Record<string, string>[] }).Entries ?? [];
      } catch {
        this.recorder.unsupported.push("EventBridge PutEvents with a malformed body");
      }
      for (const e of entries) {
        this.recorder.published.push({
          at,
          source: e.Source,
          detailType: e.DetailType,
          bus: e.EventBusName ?? "default",
          detail: JSON.parse(e.Detail ?? "{}"),
        });
      }
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end(
        JSON.stringify({
          FailedEntryCount: 0,
          Entries: entries.map((_, i) => ({
            EventId: `sim-event-${this.recorder.published.length - entries.length + i + 1}`,
          })),
        }),
      );
      return;
    }
    const form = new URLSearchParams(body);
    const action = form.get("Action");
    if (req.method === "POST" && action) {
      if (form.get("Version") !== AUTOSCALING_VERSION) {
        this.recorder.unsupported.push(
          `Auto Scaling ${action} with Version ${form.get("Version")}`,
        );
      }
      await this.autoScalingCall(action, new QueryParams(form), attempt, res);
      return;
    }
    this.recorder.unsupported.push(`${req.method} ${req.url} (neither ECS nor Auto Scaling)`);
    res.writeHead(400, { "content-type": "text/plain" });
    res.end("The simulator answers ECS (X-Amz-Target) and Auto Scaling (Action=) requests only.\n");
  }

  /** Latency, then the clock catches up, so the operation sees the world as of its arrival plus latency. */
  private async prelude(): Promise<void> {
    if (this.faults.latencySeconds > 0) {
      await new Promise((r) => setTimeout(r, this.clock.toReal(this.faults.latencySeconds) * 1000));
    }
    this.clock.advance();
  }

  /** Whether this request is one the `hang` fault swallows: recorded, never answered. */
  private hangs(service: Service, op: string, attempt: number): boolean {
    const h = this.faults.hang;
    const now = this.clock.now();
    if (!h || !h.ops.includes(op) || now < (h.from ?? 0) || now >= (h.until ?? Infinity))
      return false;
    this.recorder.call(service, op, now, attempt).faults++;
    this.notify({ service, op, at: now, attempt, outcome: "hung", input: {} });
    return true;
  }

  private async ecsCall(
    op: string,
    input: Record<string, unknown>,
    attempt: number,
    res: ServerResponse,
  ) {
    if (this.hangs("ecs", op, attempt)) return;
    this.ecs.listTasksLagSeconds = this.faults.listTasksLagSeconds ?? 0;
    this.ecs.describeMissingSeconds = this.faults.describeMissingSeconds ?? 0;
    await this.prelude();
    const at = this.clock.now();
    const stats = this.recorder.call("ecs", op, at, attempt);
    const isRead = ECS_READS.has(op);
    if (isRead) {
      this.recorder.ecsReadTimes.push(at);
      this.recorder.ecsReadOps.push(op);
    }
    const finish = (outcome: string) =>
      this.notify({ service: "ecs", op, at, attempt, outcome, input });
    const bucket = isRead ? this.reads : ECS_MODIFICATIONS.has(op) ? this.modifications : undefined;
    if (
      (this.faults.throttling && bucket && !bucket.take()) ||
      this.chance(this.faults.throttleRate)
    ) {
      stats.throttled++;
      finish("ThrottlingException");
      return this.sendEcsError(res, new ApiError("ThrottlingException", "Rate exceeded"));
    }
    if (this.chance(this.faults.serverErrorRate)) {
      stats.faults++;
      finish("ServerException");
      return this.sendEcsError(
        res,
        new ApiError(
          "ServerException",
          "Service unavailable. Try again later.",
          this.pick([500, 503]),
        ),
      );
    }
    try {
      const out = this.ecs.handle(op, input);
      finish("ok");
      res.writeHead(200, {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-requestid": this.requestId(),
      });
      res.end(JSON.stringify(out));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === "UnknownOperationException" || /simulator/.test(err.message)) {
        this.recorder.unsupported.push(`ECS ${op}: ${err.message}`);
      }
      // RunTask's own throttle (fargate.ts), past the account's bucket.
      if (err.code === "ThrottlingException") stats.throttled++;
      finish(err.code);
      this.sendEcsError(res, err);
    }
  }

  private sendEcsError(res: ServerResponse, err: ApiError): void {
    res.writeHead(err.status, {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-requestid": this.requestId(),
    });
    res.end(JSON.stringify({ __type: err.code, message: err.message }));
  }

  private async autoScalingCall(
    action: string,
    q: QueryParams,
    attempt: number,
    res: ServerResponse,
  ) {
    if (this.hangs("autoscaling", action, attempt)) return;
    await this.prelude();
    const at = this.clock.now();
    const stats = this.recorder.call("autoscaling", action, at, attempt);
    const input: Record<string, unknown> = q.toObject();
    const finish = (outcome: string) =>
      this.notify({ service: "autoscaling", op: action, at, attempt, outcome, input });
    const spec = this.faults.autoScalingBucket;
    if (spec && this.asgBucket?.spec !== spec) {
      this.asgBucket = { spec, bucket: new TokenBucket(spec, this.clock) };
    }
    if (this.faults.denied?.includes(action)) {
      stats.faults++;
      finish("AccessDenied");
      return this.sendQueryError(
        res,
        new ApiError(
          "AccessDenied",
          `User: arn:aws:sts::${this.world.accountId}:assumed-role/operator/session is not authorized to perform: autoscaling:${action} because no identity-based policy allows the autoscaling:${action} action`,
          403,
        ),
      );
    }
    if (
      (spec && !this.asgBucket!.bucket.take()) ||
      this.chance(this.faults.throttleRate) ||
      this.faults.throttled?.includes(action)
    ) {
      stats.throttled++;
      finish("Throttling");
      return this.sendQueryError(res, new ApiError("Throttling", "Rate exceeded"));
    }
    if (this.chance(this.faults.contentionRate)) {
      stats.faults++;
      finish("ResourceContention");
      return this.sendQueryError(
        res,
        new ApiError(
          "ResourceContention",
          "You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).",
          500,
        ),
      );
    }
    if (this.chance(this.faults.serverErrorRate)) {
      stats.faults++;
      finish("InternalFailure");
      return this.sendQueryError(
        res,
        new ApiError("InternalFailure", "An internal error occurred.", this.pick([500, 503])),
      );
    }
    try {
      const result = this.autoscaling.handle(action, q);
      finish("ok");
      res.writeHead(200, { "content-type": "text/xml", "x-amzn-requestid": this.requestId() });
      res.end(responseXml(action, result, this.requestId()));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (/simulator/.test(err.message)) {
        this.recorder.unsupported.push(`Auto Scaling ${action}: ${err.message}`);
      }
      finish(err.code);
      this.sendQueryError(res, err);
    }
  }

  private sendQueryError(res: ServerResponse, err: ApiError): void {
    const id = this.requestId();
    res.writeHead(err.status, { "content-type": "text/xml", "x-amzn-requestid": id });
    res.end(errorXml(err.status >= 500 ? "Receiver" : "Sender", err.code, err.message, id));
  }

  private notify(e: CallEvent): void {
    if (this.keepLog) this.log.push(e);
    for (const l of this.listeners) l(e);
  }

  private chance(p: number): boolean {
    return p > 0 && this.rng.next() < p;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng.next() * xs.length)];
  }

  private requestId(): string {
    return `00000000-0000-4000-8000-${(++this.requestSeq).toString(16).padStart(12, "0")}`;
  }

  /** The world this server answers for. */
  get state(): World {
    return this.world;
  }
}
