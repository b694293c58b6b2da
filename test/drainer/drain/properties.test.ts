/**
 * The safety rules (drainer/src/drain/rules.ts), checked over random worlds and fault schedules with fast-check, on
 * the virtual clock, against the adversarial model in test/doubles/model.ts:
 * - no action is completed with CONTINUE (the drainer's "drained") while a task of the instance is not STOPPED;
 * - every action a live drainer answers for ends by that drainer's deadline plus one poll interval;
 * - no hook expires while a drainer that answers for it runs (Auto Scaling answers in these worlds);
 * - no drainer returns while an action it answers for is still waiting, unless it was stopped.
 *
 * `npm test` runs PROPERTY_RUNS (default 300) worlds; `npm run test:properties` runs 5000. A failure prints the
 * seed and path: replay it with PROPERTY_SEED=<seed> PROPERTY_PATH=<path> npx mocha test/drainer/drain/properties.test.ts.
 * The negative controls run the same worlds against deliberately broken views of ECS (a drainer that does not list
 * STOPPED-desired tasks; one that completes from a remembered listing) and expect the properties to catch them.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { setMaxListeners } from "node:events";
import { AwsPort } from "../../../drainer/src/aws";
import { parseConfig } from "../../../drainer/src/config";
import { Outcome, drain } from "../../../drainer/src/drain";
import { createLogger } from "../../../drainer/src/log";
import { CLUSTER, DRAINER_FAMILY, Fault, Model } from "../../doubles/model";
import { virtualClock } from "../../doubles/clock";

const S = 1000;
const POLL_S = 10;
const DRAIN_TIMEOUT_S = 600;
const HEARTBEAT_TIMEOUT_S = 60;
const HANG_MS = 12 * S;
/** A leader takes an action on within a poll and a bounded read (one more poll), with a margin for latency. */
const LEADER_TAKES_ON_MS = (2 * POLL_S + 5) * S;
/** Everything is over by then: drainers still running are stopped. */
const HORIZON_MS = 2 * 3600 * S;

const taskSpec = fc.record({
  service: fc.boolean(),
  placedAt: fc.integer({ min: -60 * S, max: 120 * S }),
  pendingMs: fc.integer({ min: 0, max: 3 * S }),
  shutdownMs: fc.integer({ min: 0, max: 60 * S }),
  /** Standalone tasks: when they end on their own (or never, and the deadline ends the drain). */
  endsAfterMs: fc.option(fc.integer({ min: 5 * S, max: 900 * S }), { nil: undefined }),
});

const instanceSpec = fc.record({
  startsAt: fc.integer({ min: 0, max: 30 * S }),
  state: fc.constantFrom("Terminating:Wait", "ReplacingRootVolume:Wait", "Warmed:Terminating:Wait"),
  registered: fc.boolean(),
  staleRegistration: fc.boolean(),
  tasks: fc.array(taskSpec, { maxLength: 3 }),
  staleTasks: fc.array(taskSpec, { maxLength: 2 }),
  window: fc.option(
    fc.record({
      from: fc.integer({ min: 5 * S, max: 400 * S }),
      length: fc.integer({ min: 1 * S, max: 30 * S }),
      placeAfter: fc.integer({ min: 0, max: 1 * S }),
      shutdownMs: fc.integer({ min: 0, max: 30 * S }),
    }),
    { nil: undefined },
  ),
  /** The event drainer: started late (an old action), lost, duplicated, killed and restarted. */
  event: fc.record({
    lost: fc.boolean(),
    delayMs: fc.integer({ min: 0, max: (HEARTBEAT_TIMEOUT_S - 5) * S }),
    duplicate: fc.boolean(),
    killAfterMs: fc.option(fc.integer({ min: 1 * S, max: 300 * S }), { nil: undefined }),
    restartAfterMs: fc.option(fc.integer({ min: 1 * S, max: 40 * S }), { nil: undefined }),
  }),
});

const faultSpec = fc.record({
  op: fc.constantFrom(
    "*",
    "describeContainerInstances",
    "listTasks",
    "describeTasks",
    "findContainerInstances",
    "findContainerInstancesIn",
    "setDraining",
    "recordHeartbeat",
    "listContainerInstances",
    "listClusterTasks",
    "listFamilyTasks",
  ),
  from: fc.integer({ min: 0, max: 600 * S }),
  length: fc.integer({ min: 1 * S, max: 240 * S }),
  kind: fc.constantFrom("error", "hang", "hang-forever", "skips") as fc.Arbitrary<Fault["kind"]>,
});

const worldSpec = fc.record({
  /** Locate and prove through cluster-wide listings (what a poll with more than 20 instances does). */
  bulk: fc.boolean(),
  lagMs: fc.integer({ min: 0, max: 3 * S }),
  reactExtraMs: fc.integer({ min: 0, max: 5 * S }),
  instances: fc.array(instanceSpec, { minLength: 1, maxLength: 3 }),
  faults: fc.array(faultSpec, { maxLength: 3 }),
  sweeps: fc.array(fc.integer({ min: 0, max: 900 * S }), { maxLength: 2 }),
});

type WorldSpec = typeof worldSpec extends fc.Arbitrary<infer T> ? T : never;

/** A drainer that ran: what it answered for, and how it ended. */
interface RunRecord {
  readonly arn: string;
  readonly kind: "event" | "sweep";
  readonly instanceId?: string;
  readonly startedAt: number;
  endedAt?: number;
  stoppedAt?: number;
  /** When it began to lead (an event's drainer that found itself the oldest, or a sweep that stayed). */
  ledAt?: number;
  /** When it took each action on as leader (its deadline for that action counts from then). */
  readonly tookOn: Map<string, number>;
  outcomes: Outcome[];
}

/** Runs one world to its end and returns what the properties need. */
async function simulate(
  spec: WorldSpec,
  breakPort?: (p: AwsPort, m: Model) => AwsPort,
  drainTimeoutSeconds = DRAIN_TIMEOUT_S,
) {
  const clock = virtualClock();
  const faults: Fault[] = spec.faults.map((f) => ({
    op: f.op,
    from: f.from,
    to: f.from + (f.kind === "hang-forever" ? Math.min(f.length, 20 * S) : f.length),
    // Auto Scaling answers in these worlds: a heartbeat may fail, never hang.
    kind: f.op === "recordHeartbeat" ? "error" : f.kind,
  }));
  const model = new Model(
    {
      lagMs: spec.lagMs,
      reactMs: spec.lagMs + spec.reactExtraMs,
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_S * S,
      latencyMs: (op) => (op.length * 37) % 300,
      hangMs: HANG_MS,
      faults: faults.map((f) => (f.op === "recordHeartbeat" ? { ...f, to: f.from + 8 * S } : f)),
    },
    clock.now,
    clock.sleep,
  );
  const ids = spec.instances.map((_, i) => `i-00000000000000a${i}`);
  spec.instances.forEach((inst, i) => {
    const id = ids[i];
    model.hold(id, "asg-a", inst.startsAt, inst.state);
    if (!inst.registered) return;
    const reg = model.register(id, "ACTIVE");
    for (const t of inst.tasks) {
      model.place(reg, Math.max(0, inst.startsAt + t.placedAt), {
        service: t.service,
        pendingMs: t.pendingMs,
        shutdownMs: t.shutdownMs,
        endsAfterMs: t.service ? undefined : t.endsAfterMs,
      });
    }
    if (inst.staleRegistration) {
      const stale = model.register(id, "ACTIVE");
      for (const t of inst.staleTasks) {
        model.place(stale, Math.max(0, inst.startsAt + t.placedAt), {
          service: false,
          pendingMs: t.pendingMs,
          shutdownMs: t.shutdownMs,
          endsAfterMs: t.endsAfterMs ?? 300 * S,
        });
      }
    }
    if (inst.window) {
      const w = inst.window;
      const from = inst.startsAt + w.from;
      model.activeWindow(reg, from, from + w.length, from + w.placeAfter, w.shutdownMs);
    }
  });
  const portFor = (who: string) => {
    const own = model.forDrainer(who);
    return breakPort ? breakPort(own, model) : own;
  };
  const runs: RunRecord[] = [];
  const stopAll = new AbortController();
  // Every drainer of the world, and each of its sleeps, listens to it.
  setMaxListeners(0, stopAll.signal);
  const start = (kind: RunRecord["kind"], at: number, instanceId?: string, killAfterMs?: number) =>
    (async () => {
      await clock.sleep(at, stopAll.signal);
      if (stopAll.signal.aborted) return;
      const arn = `arn:aws:ecs:us-west-2:123456789012:task/prod/drainer-${runs.length}`;
      const record: RunRecord = {
        arn,
        kind,
        instanceId,
        startedAt: clock.now(),
        outcomes: [],
        tookOn: new Map(),
      };
      const port = portFor(`drainer-${runs.length}`);
      runs.push(record);
      model.startDrainer(arn, instanceId, clock.now());
      const controller = new AbortController();
      const signal = AbortSignal.any([controller.signal, stopAll.signal]);
      if (killAfterMs !== undefined) {
        void clock.sleep(killAfterMs, signal).then(() => {
          // A run that already ended cannot be killed.
          if (!signal.aborted && record.endedAt === undefined) {
            record.stoppedAt = clock.now();
            model.stopDrainer(arn, clock.now());
            controller.abort();
          }
        });
      }
      stopAll.signal.addEventListener(
        "abort",
        () => {
          if (record.endedAt === undefined) record.stoppedAt ??= clock.now();
        },
        { once: true },
      );
      const config = parseConfig({
        ECS_CLUSTER: CLUSTER,
        LIFECYCLE_HOOK_NAME: "drain-hook",
        POLL_INTERVAL_SECONDS: String(POLL_S),
        DRAIN_TIMEOUT_SECONDS: String(drainTimeoutSeconds),
        TIMEOUT_RESULT: "ABANDON",
        // The task definition names the deployment's groups, for every drainer (both faces write it so).
        AUTOSCALING_GROUP_NAMES: "asg-a",
        ...(kind === "event"
          ? { EC2_INSTANCE_ID: instanceId, AUTOSCALING_GROUP_NAME: "asg-a" }
          : {}),
      });
      record.outcomes = await drain({
        port,
        config,
        log: createLogger((line) => {
          const l = JSON.parse(line) as { action?: string; msg?: string; peers?: string[] };
          if (l.action === "lead" && Array.isArray(l.peers)) {
            for (const id of l.peers)
              if (!record.tookOn.has(id)) record.tookOn.set(id, clock.now());
          }
          const leads =
            (l.action === "lead" && String(l.msg).startsWith("leading")) ||
            (l.action === "sweep" && String(l.msg).startsWith("sweep found"));
          if (leads) record.ledAt ??= clock.now();
        }),
        signal,
        now: clock.now,
        sleep: clock.sleep,
        random: () => 0.5,
        bulkAbove: spec.bulk ? 0 : undefined,
        ownTaskArn: arn,
        ownFamily: DRAINER_FAMILY,
      });
      record.endedAt = clock.now();
      model.stopDrainer(arn, clock.now());
    })();
  const drainers: Promise<void>[] = [];
  spec.instances.forEach((inst, i) => {
    const e = inst.event;
    if (e.lost) return;
    const at = inst.startsAt + e.delayMs;
    drainers.push(start("event", at, ids[i], e.killAfterMs));
    if (e.duplicate) drainers.push(start("event", at + 700, ids[i]));
    if (e.killAfterMs !== undefined && e.restartAfterMs !== undefined) {
      drainers.push(start("event", at + e.killAfterMs + e.restartAfterMs, ids[i]));
    }
  });
  for (const at of spec.sweeps) drainers.push(start("sweep", at));
  const horizon = clock.sleep(HORIZON_MS, new AbortController().signal).then(() => stopAll.abort());
  await Promise.race([Promise.all(drainers), horizon]);
  stopAll.abort();
  model.advance(clock.now() + 10 * HEARTBEAT_TIMEOUT_S * S);
  return { model, runs, faults };
}

/** Which actions a run answered for: its own instance (an event's), and every action it took on as leader. */
function answered(r: RunRecord): string[] {
  const own = r.kind === "event" ? [r.instanceId!] : [];
  return [...new Set([...own, ...r.outcomes.map((o) => o.instanceId)])];
}

/** Until when a run answered for an action: it hands an action over to a live leader, and so stops answering. */
function answeredUntil(r: RunRecord, instanceId: string): number {
  const out = r.outcomes.find((o) => o.instanceId === instanceId);
  const until = r.stoppedAt ?? r.endedAt ?? Infinity;
  return out?.result === "handed-over" ? (r.endedAt ?? until) : until;
}

/** The properties; returns the first violation, in words. */
function violation({
  model,
  runs,
  faults,
}: Awaited<ReturnType<typeof simulate>>): string | undefined {
  const margin = 2 * S;
  // "While Auto Scaling answers": a hook may expire if its heartbeats failed in the timeout before.
  const heartbeatsFailed = (from: number, to: number) =>
    faults.some((f) => f.op === "recordHeartbeat" && f.from < to && f.from + 8 * S > from);
  const live = (r: RunRecord, at: number) =>
    r.startedAt <= at && (r.stoppedAt ?? r.endedAt ?? Infinity) > at;
  // A drainer hands an action over only to a drainer that is running.
  for (const r of runs) {
    for (const o of r.outcomes) {
      if (o.result !== "handed-over") continue;
      const leader = runs.find((x) => x.arn === o.leaderTaskArn);
      if (!leader || !live(leader, r.endedAt!)) {
        return `${o.instanceId}: handed over at ${r.endedAt} ms to ${o.leaderTaskArn}, which was not running`;
      }
    }
  }
  for (const a of model.actions.values()) {
    // A task placed after the completing drainer's proof read landed in an ACTIVE window someone opened after it.
    const proofAt = a.endedBy === "CONTINUE" ? model.proofReadAt(a) : undefined;
    const killed = (a.killed ?? []).filter(
      (t) => proofAt === undefined || model.tasks.get(t)!.placedAt <= proofAt,
    );
    if (a.endedBy === "CONTINUE" && killed.length > 0) {
      return `completed ${a.instanceId} as drained at ${a.endedAt} ms with ${killed.length} task(s) not STOPPED`;
    }
    // Every held action of the group is answered for by whichever drainer leads it: no hook expires while a drainer
    // led throughout its last heartbeat timeout (after the time a leader needs to take an action on: a poll, and a
    // bounded read).
    if (
      a.endedBy === "expired" &&
      !heartbeatsFailed(a.endedAt! - HEARTBEAT_TIMEOUT_S * S, a.endedAt!)
    ) {
      const from = a.endedAt! - HEARTBEAT_TIMEOUT_S * S + LEADER_TAKES_ON_MS;
      const throughout = runs.find(
        (r) =>
          r.ledAt !== undefined &&
          r.ledAt <= from &&
          (r.stoppedAt ?? r.endedAt ?? Infinity) >= a.endedAt!,
      );
      if (throughout) {
        return `${a.instanceId}: the hook expired at ${a.endedAt} ms while drainer ${throughout.arn} (leading since ${throughout.ledAt} ms) did not answer for it`;
      }
    }
    for (const r of runs) {
      if (!answered(r).includes(a.instanceId)) continue;
      const until = answeredUntil(r, a.instanceId);
      // A leader's deadline for an action it took on counts from when it did (README: a taken-over action's deadline).
      const from = r.tookOn.get(a.instanceId) ?? Math.max(r.startedAt, a.startedAt);
      const deadline = from + (DRAIN_TIMEOUT_S + POLL_S) * S + LEADER_TAKES_ON_MS + margin;
      if (until >= deadline && (a.endedAt ?? Infinity) > deadline) {
        return `${a.instanceId}: a drainer started at ${r.startedAt} ms ran past its deadline and the action was still waiting at ${deadline} ms`;
      }
      // Its own action from its start; one it takes on as leader from when it took it on (its first heartbeat is
      // then at once), or, not known, once it could know it leads and has looked (bounded reads). A drainer that
      // drained alone and found itself the oldest only at its last look may take an action on too late to save it:
      // answering from then is all it can do.
      const own = r.kind === "event" && r.instanceId === a.instanceId;
      const tookOn = r.tookOn.get(a.instanceId);
      const since = own
        ? r.startedAt + margin
        : tookOn !== undefined
          ? tookOn + margin
          : Math.max(r.startedAt, r.ledAt ?? r.startedAt) + LEADER_TAKES_ON_MS;
      if (
        a.endedBy === "expired" &&
        since <= a.endedAt! &&
        until >= a.endedAt! &&
        !heartbeatsFailed(a.endedAt! - HEARTBEAT_TIMEOUT_S * S, a.endedAt!)
      ) {
        return `${a.instanceId}: the hook expired at ${a.endedAt} ms while a drainer started at ${r.startedAt} ms answered for it`;
      }
      if (
        r.endedAt !== undefined &&
        r.stoppedAt === undefined &&
        (a.endedAt ?? Infinity) > r.endedAt
      ) {
        const out = r.outcomes.find((o) => o.instanceId === a.instanceId);
        if (
          out &&
          !["failed", "interrupted", "handed-over"].includes(out.result) &&
          a.startedAt <= r.endedAt
        ) {
          return `${a.instanceId}: a drainer returned at ${r.endedAt} ms (${out.result}) while the action still waited`;
        }
      }
    }
  }
  return undefined;
}

/**
 * A negative control looks for one counterexample among up to 3000 worlds (it stops at the first, without shrinking
 * it): a broken drainer that some worlds catch must be caught on every run of `npm test`, whatever the seed.
 */
function controlParameters(): fc.Parameters<[WorldSpec]> {
  return { numRuns: 3000, endOnFailure: true };
}

function parameters(runs: number): fc.Parameters<[WorldSpec]> {
  const seed = process.env.PROPERTY_SEED ? Number(process.env.PROPERTY_SEED) : undefined;
  return {
    numRuns: Number(process.env.PROPERTY_RUNS) || runs,
    ...(seed !== undefined ? { seed, path: process.env.PROPERTY_PATH } : {}),
  };
}

/** What the worlds exercised, so that a generator that stopped producing adversity is noticed. */
const seen = { completed: 0, timedOut: 0, expired: 0, windows: 0, faults: 0, killedRuns: 0 };

const holds = (
  breakPort?: (p: AwsPort, m: Model) => AwsPort,
  drainTimeoutSeconds?: number,
  worlds: fc.Arbitrary<WorldSpec> = worldSpec,
) =>
  fc.asyncProperty(worlds, async (spec) => {
    const result = await simulate(spec, breakPort, drainTimeoutSeconds);
    for (const a of result.model.actions.values()) {
      if (a.endedBy === "CONTINUE") seen.completed++;
      if (a.endedBy === "ABANDON") seen.timedOut++;
      if (a.endedBy === "expired") seen.expired++;
    }
    seen.windows += spec.instances.filter((i) => i.window).length;
    seen.faults += spec.faults.length;
    seen.killedRuns += result.runs.filter((r) => r.stoppedAt !== undefined).length;
    const problem = violation(result);
    assert.equal(problem, undefined, problem);
  });

/** Runs a property and reports the seed either way, so that any run can be replayed. */
async function check(name: string, property: ReturnType<typeof holds>, runs: number | "control") {
  const details = await fc.check(
    property,
    runs === "control" ? controlParameters() : parameters(runs),
  );
  const replay = `seed ${details.seed}${details.counterexamplePath ? `, path ${details.counterexamplePath}` : ""}`;
  return { details, replay, name };
}

describe("the safety rules over random worlds and fault schedules (fast-check)", function () {
  this.timeout(600_000);

  it("hold for the drainer: no task killed, deadlines kept, no hook lost, no action given up", async () => {
    const { details, replay } = await check("drainer", holds(), 300);
    if (details.failed) {
      console.log(`property failed, replay with PROPERTY_SEED/PROPERTY_PATH: ${replay}`);
      console.log(fc.defaultReportMessage(details));
      console.log(String(details.errorInstance));
    }
    assert.equal(details.failed, false, `the rules were broken (${replay})`);
    console.log(`      ${details.numRuns} worlds (${replay}): ${JSON.stringify(seen)}`);
    for (const [what, n] of Object.entries(seen)) assert.ok(n > 0, `the worlds exercised ${what}`);
  });

  it("negative control: a drainer whose first heartbeat waits half a heartbeat timeout is caught losing hooks", async () => {
    const broken = (p: AwsPort, m: Model): AwsPort => {
      const port = Object.create(p) as AwsPort;
      const startedAt = m.now();
      port.recordHeartbeat = async (ref) => {
        if (m.now() - startedAt >= (HEARTBEAT_TIMEOUT_S / 2) * S) await p.recordHeartbeat(ref);
      };
      return port;
    };
    const { details, replay } = await check("late first heartbeat", holds(broken), "control");
    assert.equal(details.failed, true, `the broken drainer went unnoticed (${replay})`);
    assert.match(String(details.errorInstance), /hook expired/);
  });

  it("negative control: a drainer that overstays its deadline is caught", async () => {
    const late = holds(undefined, 2 * DRAIN_TIMEOUT_S);
    const { details, replay } = await check("late deadline", late, "control");
    assert.equal(details.failed, true, `the broken drainer went unnoticed (${replay})`);
    assert.match(String(details.errorInstance), /past its deadline/);
  });

  it("negative control: a drainer that never lists STOPPED-desired tasks is caught killing tasks", async () => {
    const broken = (p: AwsPort): AwsPort => {
      const port = Object.create(p) as AwsPort;
      port.listTasks = async (c, r, status) =>
        status === "STOPPED" ? [] : p.listTasks(c, r, status);
      port.listClusterTasks = async (c, status) =>
        status === "STOPPED" ? [] : p.listClusterTasks(c, status);
      return port;
    };
    const { details, replay } = await check("no STOPPED listing", holds(broken), "control");
    assert.equal(details.failed, true, `the broken drainer went unnoticed (${replay})`);
    assert.match(String(details.errorInstance), /as drained .* not STOPPED/);
  });

  it("negative control: a drainer that takes the cluster's paged listing for an instance's registrations is caught killing tasks", async () => {
    // Its registrations come from the listing of the whole cluster, which can leave one out ("skips" faults).
    const broken = (p: AwsPort): AwsPort => {
      const port = Object.create(p) as AwsPort;
      const fromListing = async (c: string, ids: readonly string[]) => {
        const views = await p.describeContainerInstances(c, await p.listContainerInstances(c));
        return views.filter((v) => ids.includes(v.ec2InstanceId!)).map((v) => v.arn);
      };
      port.findContainerInstances = (c, id) => fromListing(c, [id]);
      port.findContainerInstancesIn = fromListing;
      return port;
    };
    // Worlds where it matters, so that the control fails every time: proofs in bulk, every instance with a second
    // registration, and the cluster's listings leaving one out for the first ten minutes.
    const where = worldSpec.map((w) => ({
      ...w,
      bulk: true,
      instances: w.instances.map((i) => ({ ...i, staleRegistration: true })),
      faults: [
        { op: "listContainerInstances" as const, from: 0, length: 600 * S, kind: "skips" as const },
      ],
    }));
    // The drainer itself holds in these worlds; the broken one does not.
    const fixed = await check(
      "paged registrations, the drainer",
      holds(undefined, undefined, where),
      200,
    );
    assert.equal(fixed.details.failed, false, `the drainer broke a rule (${fixed.replay})`);
    const { details, replay } = await check(
      "paged registrations",
      holds(broken, undefined, where),
      "control",
    );
    assert.equal(details.failed, true, `the broken drainer went unnoticed (${replay})`);
    assert.match(String(details.errorInstance), /as drained .* not STOPPED/);
  });

  it("negative control: a drainer that completes from a remembered listing is caught killing tasks", async () => {
    const broken = (p: AwsPort): AwsPort => {
      const port = Object.create(p) as AwsPort;
      const remembered = new Map<string, Promise<string[]>>();
      port.listTasks = (c, r, status) => {
        const key = `${r} ${status}`;
        if (!remembered.has(key)) remembered.set(key, p.listTasks(c, r, status));
        return remembered.get(key)!;
      };
      port.listClusterTasks = (c, status) => {
        if (!remembered.has(status)) remembered.set(status, p.listClusterTasks(c, status));
        return remembered.get(status)!;
      };
      return port;
    };
    const { details, replay } = await check("remembered listing", holds(broken), "control");
    assert.equal(details.failed, true, `the broken drainer went unnoticed (${replay})`);
  });
});
