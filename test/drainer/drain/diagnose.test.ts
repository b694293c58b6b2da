/**
 * Why a drain waits, told while it waits (the wait line), at the deadline, in the outcome and as a metric; and
 * STOP_STANDALONE_TASKS beside daemon tasks, which ECS stops only after the instance's other tasks.
 */
import { strict as assert } from "node:assert";
import { DescribeServicesCommand } from "@aws-sdk/client-ecs";
import { STUCK_AFTER_POLLS } from "../../../drainer/src/drain/diagnose";
import { eventVars, harness } from "../harness";
import { Step, running, stopped, stopping } from "../../doubles/scripted";

const ID = "i-0000000000000031";
const POLL = 10;

function stuckWorld(services: Record<string, Record<string, unknown>>) {
  const h = harness();
  for (const [name, s] of Object.entries(services)) h.world.services.set(name, s);
  h.world.addInstance(ID, "asg-a");
  return h;
}

describe("why a drain waits", () => {
  it("names a 100/100 service while it waits, at the deadline, in the outcome, and counts it once as a metric", async () => {
    const h = stuckWorld({
      api: {
        schedulingStrategy: "REPLICA",
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 },
        events: [{ createdAt: new Date(), message: "(service api) has reached a steady state." }],
        deployments: [{ status: "PRIMARY", failedTasks: 0 }],
      },
    });
    h.world.addTask("api-1", ID, "service:api", running());
    const [out] = await h.run({
      ...eventVars(ID),
      POLL_INTERVAL_SECONDS: String(POLL),
      DRAIN_TIMEOUT_SECONDS: "120",
    });
    assert.equal(out.result, "timed-out");
    const waits = h.lines.filter((l) => l.action === "wait" && l.stuck);
    assert.equal(waits.length, 1, "logged once, when the reason appeared");
    assert.equal(waits[0].level, "warn");
    assert.deepEqual(
      waits[0].stuck.map((f: { reason: string; group: string }) => [f.reason, f.group]),
      [["cannot-progress", "service:api"]],
    );
    assert.match(waits[0].msg, /^waiting: service:api cannot-progress: minimumHealthyPercent 100/);
    const timeout = h.lines.find((l) => l.action === "timeout")!;
    assert.equal(timeout.stuck[0].reason, "cannot-progress");
    assert.equal(out.stuck?.[0].reason, "cannot-progress");
    const metric = h.lines.filter((l) => l.action === "stuck" && l._aws);
    assert.equal(metric.length, 1);
    assert.deepEqual([metric[0].Reason, metric[0].StuckInstances], ["cannot-progress", 1]);
    assert.deepEqual(metric[0]._aws.CloudWatchMetrics[0].Dimensions, [
      ["Cluster", "AutoScalingGroup", "Reason"],
    ]);
    // Read once per SERVICES_EVERY_POLLS, not once per poll: 120 s of waiting, after STUCK_AFTER_POLLS polls.
    const reads = h.world.ecsMock.commandCalls(DescribeServicesCommand).length;
    assert.ok(reads >= 1 && reads <= Math.ceil(120 / POLL / 3), `${reads} DescribeServices`);
  });

  it("a drain held only by progress (a daemon waiting its turn, tasks shutting down) is told, at info, but not counted as stuck", async () => {
    const h = stuckWorld({ agent: { schedulingStrategy: "DAEMON", events: [] } });
    h.world
      .addTask("agent-1", ID, "service:agent", running(), stopped(80))
      .addTask("web-1", ID, "service:web", running(), stopping(5), stopped(70));
    const [out] = await h.run({ ...eventVars(ID), POLL_INTERVAL_SECONDS: String(POLL) });
    assert.equal(out.result, "completed");
    const waits = h.lines.filter((l) => l.action === "wait" && l.stuck);
    assert.ok(waits.length > 0, "told");
    for (const w of waits) assert.equal(w.level, "info");
    assert.deepEqual(
      [...new Set(waits.flatMap((w) => w.stuck.map((f: { reason: string }) => f.reason)))].sort(),
      ["daemon", "shutting-down"],
    );
    assert.equal(h.lines.filter((l) => l.action === "stuck").length, 0, "no StuckInstances metric");
    assert.deepEqual(
      h.world.published.map((e) => e.detailType),
      ["ECS Scale-In Drain Outcome"],
      "no stuck event",
    );
  });

  it("looks only after the instance has waited STUCK_AFTER_POLLS polls: a drain that finishes sooner reads no service", async () => {
    const h = stuckWorld({ web: { schedulingStrategy: "REPLICA", events: [] } });
    h.world.addTask("web-1", ID, "service:web", running(), [
      (STUCK_AFTER_POLLS - 1) * POLL,
      "STOPPED",
      "STOPPED",
    ]);
    const [out] = await h.run({ ...eventVars(ID), POLL_INTERVAL_SECONDS: String(POLL) });
    assert.equal(out.result, "completed");
    assert.equal(h.world.ecsMock.commandCalls(DescribeServicesCommand).length, 0);
    assert.equal(out.stuck, undefined);
  });

  it("with EMIT_METRICS=false the reason is still told, but no metric is written", async () => {
    const h = stuckWorld({});
    h.world.addTask("job-1", ID, "family:nightly", running());
    await h.run({
      ...eventVars(ID),
      POLL_INTERVAL_SECONDS: String(POLL),
      DRAIN_TIMEOUT_SECONDS: "60",
      EMIT_METRICS: "false",
    });
    assert.equal(h.lines.filter((l) => l.action === "wait" && l.stuck).length, 1);
    assert.equal(h.lines.filter((l) => l._aws).length, 0);
  });

  it("a service that cannot be read is a warning: the drain goes on, untold", async () => {
    const h = stuckWorld({});
    h.world.ecsMock
      .on(DescribeServicesCommand)
      .rejects(Object.assign(new Error("boom"), { name: "ServerException" }));
    h.world.addTask("api-1", ID, "service:api", running(), stopped(60));
    const [out] = await h.run({ ...eventVars(ID), POLL_INTERVAL_SECONDS: String(POLL) });
    assert.equal(out.result, "completed");
    assert.ok(h.lines.some((l) => l.level === "warn" && /could not read the services/.test(l.msg)));
  });
});

describe("STOP_STANDALONE_TASKS beside a daemon task", () => {
  /** A daemon task that ECS stops only once the standalone task has stopped (what AWS allows it to do). */
  function daemonWorld(daemon: boolean) {
    const h = stuckWorld(daemon ? { agent: { schedulingStrategy: "DAEMON", events: [] } } : {});
    h.world
      .addTask("agent-1", ID, "service:agent", running())
      .addTask("job-1", ID, "family:nightly", running());
    return h;
  }

  it("stops the standalone task although the daemon task still runs, and leaves the daemon to ECS", async () => {
    const h = daemonWorld(true);
    const agent = h.world.tasks.find((t) => t.arn.endsWith("agent-1"))!;
    // ECS stops the daemon task once the standalone one is gone.
    const stopAgentAfterJob = setInterval(() => {
      if (h.world.stopped.some((s) => s.arn.endsWith("job-1")) && agent.steps.length === 1) {
        const at = h.world.stopped[0].at + 5;
        (agent.steps as Step[]).push(stopped(at));
      }
    }, 1);
    try {
      const [out] = await h.run({
        ...eventVars(ID),
        POLL_INTERVAL_SECONDS: String(POLL),
        STOP_STANDALONE_TASKS: "true",
        DRAIN_TIMEOUT_SECONDS: "600",
      });
      assert.equal(out.result, "completed", "not left to the deadline");
      assert.deepEqual(
        h.world.stopped.map((s) => s.arn.split("/").pop()),
        ["job-1"],
        "the standalone task only",
      );
    } finally {
      clearInterval(stopAgentAfterJob);
    }
  });

  it("negative control: with the service not known as a daemon, the standalone task is never stopped and the drain times out", async () => {
    const h = daemonWorld(false);
    const [out] = await h.run({
      ...eventVars(ID),
      POLL_INTERVAL_SECONDS: String(POLL),
      STOP_STANDALONE_TASKS: "true",
      DRAIN_TIMEOUT_SECONDS: "120",
    });
    assert.equal(out.result, "timed-out");
    assert.deepEqual(h.world.stopped, []);
  });
});
