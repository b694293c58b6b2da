/**
 * End-to-end scenarios for each class of failure the drainer was found to have (issue 9), and for the terminate paths
 * it did not know: the real bundle, started by the simulated EventBridge step, against the simulated ECS and Auto
 * Scaling. Each asserts what the platform engineer cares about: no task killed, no hook expired while a drainer
 * answered for it, and every action ended by its deadline. Times are simulated seconds.
 *   npx mocha test/e2e/failure-classes.test.ts -g "class 1"
 */
import assert from "node:assert/strict";
import { parseLogLines } from "../sim/launchers";
import { Simulation } from "../sim/simulation";
import {
  WEB,
  actionAlreadyOld,
  group,
  jobBetweenReadAndDraining,
  rootVolumeReplacement,
} from "./failure-worlds";
import { POLL, TIME_SCALE, assertClean, dump, logs, startScenario, summaries } from "./harness";

/** The drainer's own messages, by instance. */
function said(sim: Simulation, instanceId: string): string[] {
  return logs(sim)
    .filter((l) => l.instanceId === instanceId)
    .map((l) => String(l.msg));
}

describe("end-to-end: the failure classes of issue 9, against the real bundle", function () {
  this.timeout(60_000);
  let sim: Simulation | undefined;

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(dump(sim));
    await sim?.stop();
    sim = undefined;
  });

  it("class 1: a task placed between the drainer's read and its DRAINING call is waited for, not killed", async () => {
    const world = await jobBetweenReadAndDraining();
    sim = world.sim;
    const { id } = world;
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.ok(world.placed(), "the job was placed between the read and the DRAINING call");
    assert.equal(report.tasksKilled, 0, "the job was waited for");
    const rec = sim.recorder.instances.get(id)!;
    assert.ok(
      rec.terminatedAt! - rec.scaleInAt >= 40,
      `held ${rec.terminatedAt! - rec.scaleInAt} s`,
    );
  });

  it("class 1: an ACTIVE window someone opens between two polls, with ListTasks lagging, never gets a task killed", async () => {
    sim = await startScenario({
      world: { groups: [group()], services: [{ ...WEB, deactivatingSeconds: 30 }] },
      faults: { listTasksLagSeconds: 3 },
    });
    const [id] = sim.scaleIn("asg-a", 1);
    const s = sim;
    // Between the drainer's polls: ACTIVE, a job lands (it will shut down for 20 s), DRAINING again a second later.
    s.clock.at(13, () => {
      const ci = s.world.instance(id).containerInstance!;
      s.world.setContainerInstanceStatus(ci, "ACTIVE");
      s.world.runTaskOn(id, {
        family: "job",
        pendingSeconds: 0.5,
        runSeconds: 2,
        deactivatingSeconds: 20,
      });
    });
    s.clock.at(14, () =>
      s.world.setContainerInstanceStatus(s.world.instance(id).containerInstance!, "DRAINING"),
    );
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.hookTimeouts, []);
  });

  it("class 2: an action already old when its drainer starts is heartbeated at once, and its hook never expires", async () => {
    sim = await actionAlreadyOld();
    const report = await sim.settle(900);
    assertClean(sim, report);
    assert.deepEqual(report.hookTimeouts, [], "the hook never expired");
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.results, { CONTINUE: 1 });
  });

  it("class 2: ECS reads that never answer for 90 s: requests time out and are retried, heartbeats go on, nothing is given up", async () => {
    sim = await startScenario({
      world: { groups: [group("asg-a", 3, 40)], services: [WEB] },
      faults: { hang: { ops: ["DescribeContainerInstances", "ListTasks"], from: 8, until: 98 } },
    });
    const [id] = sim.scaleIn("asg-a", 1);
    const report = await sim.settle(900);
    assertClean(sim, report);
    assert.deepEqual(report.hookTimeouts, [], "heartbeats went on through the outage");
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.results, { CONTINUE: 1 });
    assert.deepEqual(report.exitCodes, [0]);
    const rec = sim.recorder.instances.get(id)!;
    assert.ok(rec.terminatedAt! >= 98, "completed only once ECS answered again");
  });

  it("class 3: the deadline is enforced on time while every ECS read hangs, for a follower too", async () => {
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 4)],
        services: [{ ...WEB, desiredCount: 4, deactivatingSeconds: Number.POSITIVE_INFINITY }],
      },
      drainer: { drainTimeoutSeconds: 60, timeoutResult: "ABANDON" },
      faults: {
        hang: { ops: ["DescribeContainerInstances", "ListTasks", "DescribeTasks"], from: 20 },
      },
    });
    const ids = sim.scaleIn("asg-a", 2);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.deepEqual(
      report.results,
      { ABANDON: 2 },
      "both drainers, leader and follower, timed out",
    );
    assert.deepEqual(report.hookTimeouts, []);
    for (const id of ids) {
      // The deadline runs from when the drainer took the action on, which its first look at the instance follows (the
      // "precheck" line); the process's own start-up (at 20x, a busy machine's second is 20 simulated seconds) is not
      // the drain's. Within one poll of the deadline, then, in the drainers' own log times scaled to the world's.
      const own = sim.eventBridge.runs.find((r) => r.record.instanceId === id)!;
      const at = (l: Record<string, unknown>) => Date.parse(String(l.time));
      const tookOn = at(parseLogLines(own.handle.lines).find((l) => l.action === "precheck")!);
      const completed = sim.eventBridge.runs
        .flatMap((r) => parseLogLines(r.handle.lines))
        .filter((l) => l.action === "complete" && l.instanceId === id)
        .map(at);
      const end = ((Math.min(...completed) - tookOn) / 1000) * TIME_SCALE;
      assert.ok(end <= 60 + POLL + 3, `${id} ended ${end} s after its drainer took it on`);
    }
  });

  it("class 4: a follower whose leader is gone sets its own instance DRAINING at its first look", async () => {
    sim = await startScenario({
      world: { groups: [group("asg-a", 4)], services: [{ ...WEB, desiredCount: 4 }] },
      sweepIntervalSeconds: 40,
    });
    const ids = sim.world
      .group("asg-a")
      .instances.slice(0, 2)
      .map((i) => i.id)
      .sort();
    // The leader's drainer is stopped before it has done anything.
    sim.eventBridge.faults = { kill: [{ instanceId: ids[0], afterSeconds: 0.1 }] };
    sim.scaleIn("asg-a", ids);
    const s = sim;
    let drainingAt: number | undefined;
    s.server.listeners.push((e) => {
      if (e.op === "UpdateContainerInstancesState" && drainingAt === undefined) drainingAt = e.at;
    });
    const report = await sim.settle(900);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.hookTimeouts, []);
    // From its process's spawn: the bundle's start-up (about 0.2 s of wall clock, 4 s here, more on a busy machine),
    // then its first look within one poll. The drainer before this one read nothing from ECS for 6 polls (30 s).
    const spawned = sim.eventBridge.runs.find((r) => r.record.instanceId === ids[1])!.record
      .startedAt;
    assert.ok(
      drainingAt !== undefined && drainingAt - spawned <= POLL + 12,
      `first DRAINING ${drainingAt! - spawned} s after the follower was started`,
    );
    assert.ok(
      said(sim, ids[1]).includes("set the container instance to DRAINING"),
      "the follower set its own instance DRAINING",
    );
  });

  it("class 4: sweeps do not pile up: during a drain longer than several sweep periods, one sweep at a time serves the group", async () => {
    sim = await startScenario({
      world: { groups: [group("asg-a", 3, 60)], services: [{ ...WEB, deactivatingSeconds: 150 }] },
      sweepIntervalSeconds: 30,
    });
    const [id] = sim.scaleIn("asg-a", 1);
    sim.eventBridge.faults = { lose: [id] };
    const report = await sim.settle(900);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.hookTimeouts, []);
    const sweeps = sim.eventBridge.runs.filter((r) => r.record.kind === "sweep");
    const serving = sweeps.filter(
      (r) =>
        !parseLogLines(r.handle.lines).some((l) =>
          /a live drainer leads these groups/.test(String(l.msg)),
        ),
    );
    assert.ok(sweeps.length >= 4, `${sweeps.length} sweeps started during the drain`);
    assert.ok(serving.length < sweeps.length, "later sweeps found the first at work and left");
    for (const [i, a] of serving.entries()) {
      for (const b of serving.slice(i + 1)) {
        const overlap =
          a.record.startedAt < (b.record.endedAt ?? Infinity) &&
          b.record.startedAt < (a.record.endedAt ?? Infinity);
        assert.ok(
          !overlap,
          `sweeps ${a.record.id} and ${b.record.id} served the group at the same time`,
        );
      }
    }
  });

  it("class 5: an instance refresh that replaces root volumes (ReplacingRootVolume:Wait) is drained first", async () => {
    const world = await rootVolumeReplacement();
    sim = world.sim;
    const { id } = world;
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0, "nothing ran when the root volume was replaced");
    assert.deepEqual(report.results, { CONTINUE: 1 });
    const instance = sim.world.instance(id);
    assert.equal(instance.lifecycleState, "InService");
    assert.equal(instance.containerInstance!.status, "ACTIVE", "its agent registered again");
    const precheck = logs(sim).find((l) => l.action === "precheck");
    assert.deepEqual(precheck?.event, {
      origin: "AutoScalingGroup",
      destination: "AutoScalingGroup",
      action: "ReplaceRootVolume",
    });
  });

  it("class 5: a warm-pool instance (Warmed:Terminating:Wait) is drained, and the leader finds it when its event is lost", async () => {
    sim = await startScenario({
      world: { groups: [group("asg-a", 4)], services: [{ ...WEB, desiredCount: 4 }] },
      sweepIntervalSeconds: 30,
    });
    const ids = sim.world
      .group("asg-a")
      .instances.slice(0, 2)
      .map((i) => i.id);
    sim.eventBridge.faults = { lose: [ids[1]] };
    sim.scaleIn("asg-a", ids, "warm-pool");
    const report = await sim.settle(900);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.hookTimeouts, []);
    assert.deepEqual(report.results, { CONTINUE: 2 });
    // The drainer that leads (the other instance's, or a sweep) found the held warm-pool instance through
    // DescribeWarmPool and answered for it.
    const served = summaries(sim).filter((s) => s.instanceId === ids[1]);
    assert.deepEqual(
      served.map((s) => s.result),
      ["completed"],
      "the leader served the instance whose event was lost",
    );
    assert.ok((report.calls["autoscaling:DescribeWarmPool"] ?? 0) > 0);
  });
});
