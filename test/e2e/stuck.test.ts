/**
 * Why a drain is stuck, end to end: the real bundle against the simulator, which models each instance's and task's
 * CPU, placement that fails when no ACTIVE instance has room (with ECS's service event), replacements that fail their
 * health checks, daemon services, standalone tasks and tasks that linger while stopping. Each reason is told in a
 * wait line while the drain waits, in the deadline's error line and in the summary; and STOP_STANDALONE_TASKS is not
 * blocked by a daemon task waiting its turn.
 */
import { strict as assert } from "node:assert";
import { GroupSpec, ServiceSpec } from "../sim/world";
import { Simulation } from "../sim/simulation";
import { HOOK, assertClean, dump, logs, startScenario, summaries } from "./harness";

interface Finding {
  reason: string;
  group: string;
  detail: string;
}

function group(instances = 3): GroupSpec {
  return { name: "asg-a", instances, hooks: [{ name: HOOK, heartbeatTimeout: 300 }] };
}

/** Every reason a drainer told, by the group it named: from the wait lines and the deadline's line. */
function told(sim: Simulation): { waits: Finding[]; timeout: Finding[]; summary: Finding[] } {
  const lines = logs(sim);
  const waits = lines
    .filter((l) => l.action === "wait" && l.stuck)
    .flatMap((l) => l.stuck as Finding[]);
  const timeout = lines
    .filter((l) => l.action === "timeout")
    .flatMap((l) => (l.stuck as Finding[]) ?? []);
  const summary = lines
    .filter((l) => l.msg === "summary")
    .flatMap((l) => l.results as { stuck?: Finding[] }[])
    .flatMap((r) => r.stuck ?? []);
  return { waits, timeout, summary };
}

const reasons = (fs: Finding[]) => [...new Set(fs.map((f) => `${f.group} ${f.reason}`))].sort();

describe("why a drain is stuck (the real bundle against the simulator)", function () {
  this.timeout(120_000);
  let sim: Simulation | undefined;

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(dump(sim));
    await sim?.stop();
    sim = undefined;
  });

  it("cannot place: no ACTIVE instance has room for the replacements, in ECS's own words", async () => {
    const web: ServiceSpec = { name: "web", desiredCount: 6, cpu: 1024, startSeconds: 5 };
    sim = await startScenario({
      world: { groups: [group()], services: [web], instanceCpu: 2048 },
      drainer: { drainTimeoutSeconds: 90 },
    });
    sim.scaleIn("asg-a", 1);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.deepEqual(
      summaries(sim).map((s) => s.result),
      ["timed-out"],
    );
    const { waits, timeout, summary } = told(sim);
    assert.deepEqual(reasons(waits), ["service:web cannot-place"]);
    assert.match(
      waits[0].detail,
      /^service web was unable to place a task .* insufficient CPU units/,
    );
    assert.deepEqual(reasons(timeout), ["service:web cannot-place"]);
    assert.deepEqual(reasons(summary), ["service:web cannot-place"]);
    const metric = logs(sim).find((l) => l.action === "stuck" && l.Reason === "cannot-place");
    assert.equal(metric?.StuckInstances, 1);
    // The outcome's metrics, as CloudWatch would extract them from the log line.
    const outcome = logs(sim).find((l) => l.action === "outcome")!;
    assert.deepEqual(
      [
        outcome.TimedOut,
        outcome.Completed,
        outcome.Failed,
        outcome.AutoScalingGroup,
        outcome.Cluster,
      ],
      [1, 0, 0, "asg-a", "prod"],
    );
    assert.equal(
      (outcome._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]
        .Namespace,
      "ECSScaleInDrainer",
    );
    // The drain events on EventBridge: stuck when the reason appeared, then the timed-out outcome.
    const published = sim.recorder.published;
    assert.deepEqual(
      published.map((e) => [e.source, e.detailType, e.bus, e.detail.result]),
      [
        ["ecs-scale-in-drainer", "ECS Scale-In Drain Stuck", "default", "stuck"],
        ["ecs-scale-in-drainer", "ECS Scale-In Drain Outcome", "default", "timed-out"],
      ],
    );
    for (const e of published) assert.deepEqual(e.detail.blockingServices, ["web"]);
  });

  it("negative case: with PUBLISH_EVENTS and EMIT_METRICS off, the reason is still told, but no event or metric", async () => {
    sim = await startScenario({
      world: {
        groups: [group()],
        services: [
          { name: "api", desiredCount: 3, minimumHealthyPercent: 100, maximumPercent: 100 },
        ],
      },
      drainer: {
        drainTimeoutSeconds: 60,
        extraEnvironment: { PUBLISH_EVENTS: "false", EMIT_METRICS: "false" },
      },
    });
    sim.scaleIn("asg-a", 1);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.deepEqual(reasons(told(sim).waits), ["service:api cannot-progress"]);
    assert.deepEqual(sim.recorder.published, []);
    assert.equal(report.calls["events:PutEvents"] ?? 0, 0);
    assert.deepEqual(
      logs(sim).filter((l) => l._aws),
      [],
    );
  });

  it("replacements unhealthy: they start and fail their health checks, so the old tasks stay", async () => {
    sim = await startScenario({
      world: {
        groups: [group()],
        services: [{ name: "web", desiredCount: 3, startSeconds: 5, unhealthyReplacements: true }],
      },
      drainer: { drainTimeoutSeconds: 90 },
    });
    sim.scaleIn("asg-a", 1);
    const report = await sim.settle(600);
    assertClean(sim, report);
    const { waits, timeout } = told(sim);
    assert.deepEqual(reasons(waits), ["service:web replacements-unhealthy"]);
    assert.match(
      waits[0].detail,
      /failed container health checks|failed to start or to stay healthy/,
    );
    assert.deepEqual(reasons(timeout), ["service:web replacements-unhealthy"]);
  });

  it("cannot progress: a 100/100 service", async () => {
    sim = await startScenario({
      world: {
        groups: [group()],
        services: [
          { name: "api", desiredCount: 3, minimumHealthyPercent: 100, maximumPercent: 100 },
        ],
      },
      drainer: { drainTimeoutSeconds: 60 },
    });
    sim.scaleIn("asg-a", 1);
    assertClean(sim, await sim.settle(600));
    const { waits, timeout } = told(sim);
    assert.deepEqual(reasons(waits), ["service:api cannot-progress"]);
    assert.deepEqual(reasons(timeout), ["service:api cannot-progress"]);
  });

  it("shutting down: a task that lingers in DEACTIVATING", async () => {
    sim = await startScenario({
      world: {
        groups: [group()],
        services: [{ name: "web", desiredCount: 3, deactivatingSeconds: Number.POSITIVE_INFINITY }],
      },
      drainer: { drainTimeoutSeconds: 60 },
    });
    sim.scaleIn("asg-a", 1);
    assertClean(sim, await sim.settle(600));
    const { timeout } = told(sim);
    assert.deepEqual(reasons(timeout), ["service:web shutting-down"]);
    assert.match(timeout[0].detail, /1 DEACTIVATING/);
  });

  describe("a standalone task beside a daemon task, which ECS stops only after the other tasks", () => {
    const world = {
      groups: [group(2)],
      services: [
        { name: "agent", desiredCount: 0, daemon: true },
        { name: "web", desiredCount: 2 },
      ],
      standaloneTasks: [{ family: "nightly", group: "asg-a", index: 0 }],
    };

    it("STOP_STANDALONE_TASKS stops the standalone task while the daemon waits; the drain completes, 0 killed", async () => {
      sim = await startScenario({
        world,
        drainer: { drainTimeoutSeconds: 300, stopStandaloneTasks: true },
      });
      const instanceId = sim.world.groups.get("asg-a")!.instances[0].id;
      sim.scaleIn("asg-a", [instanceId]);
      const report = await sim.settle(900);
      assertClean(sim, report);
      assert.deepEqual(
        summaries(sim).map((s) => s.result),
        ["completed"],
      );
      assert.equal(report.tasksKilled, 0);
      assert.ok(
        logs(sim).some((l) => l.action === "stop-task" && String(l.group) === "family:nightly"),
        "the standalone task was stopped",
      );
    });

    it("without it, the drain waits for its deadline, and says why: the standalone task, and the daemon behind it", async () => {
      sim = await startScenario({ world, drainer: { drainTimeoutSeconds: 90 } });
      const instanceId = sim.world.groups.get("asg-a")!.instances[0].id;
      sim.scaleIn("asg-a", [instanceId]);
      assertClean(sim, await sim.settle(900));
      assert.deepEqual(
        summaries(sim).map((s) => s.result),
        ["timed-out"],
      );
      const { timeout } = told(sim);
      assert.deepEqual(reasons(timeout), ["family:nightly standalone", "service:agent daemon"]);
    });
  });
});
