/**
 * End-to-end: any running drainer answers for its whole group, and a drainer that never launched costs nothing. The
 * real bundle against the simulator, with what AWS does to the drainer's own launch (the launch model of fargate.ts:
 * the vCPU quota, RunTask's throttle, 20-60 s starts, TaskFailedToStart) and lost, late and killed drainers. Times are
 * simulated seconds.
 */
import assert from "node:assert/strict";
import { inProcessLauncher, parseLogLines } from "../sim/launchers";
import { Simulation } from "../sim/simulation";
import { WEB, group } from "./failure-worlds";
import { POLL, TIME_SCALE, assertClean, dump, logs, startScenario, summaries } from "./harness";

const API = {
  name: "api",
  desiredCount: 3,
  startSeconds: 5,
  deactivatingSeconds: 0,
  stoppingSeconds: 10,
};

describe("end-to-end: leadership at scale (the real bundle, launches failing as AWS fails them)", function () {
  this.timeout(240_000);
  let sim: Simulation | undefined;

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(dump(sim));
    await sim?.stop();
    sim = undefined;
  });

  it("launches over the Fargate quota fail, and the leader answers for every held action: 0 killed, 0 hook timeouts, each orphan counted", async () => {
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 14, 300)],
        services: [
          { ...WEB, desiredCount: 14, deactivatingSeconds: 260 },
          { ...API, desiredCount: 14 },
        ],
      },
      // 1 vCPU: four drainer tasks at 0.25 vCPU; RunTask over it answers 200 with failures, never retried.
      launch: { fargateVcpuQuota: 1, startLatencySeconds: [20, 40] },
      sweepIntervalSeconds: 120,
    });
    const ids = sim.world
      .group("asg-a")
      .instances.slice(0, 10)
      .map((i) => i.id)
      .sort();
    // The instance with the smallest ID (the old design's leader) never gets a drainer at all.
    sim.eventBridge.faults = { lose: [ids[0]] };
    sim.scaleIn("asg-a", ids);
    const report = await sim.settle(1500);
    assertClean(sim, report);
    assert.ok(report.launchFailures.quota > 0, JSON.stringify(report.launchFailures));
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.hookTimeouts, []);
    assert.deepEqual(report.results, { CONTINUE: 10 });
    assert.ok(report.peakDrainersRunning <= 4);
    // Each held action whose own drainer never ran is counted once, as OrphanedActions, by whoever led.
    const ran = new Set(
      sim.eventBridge.runs.filter((r) => r.record.kind === "event").map((r) => r.record.instanceId),
    );
    const orphans = logs(sim).filter((l) => l.action === "orphan");
    const counted = orphans.map((l) => l.instanceId as string).sort();
    assert.equal(new Set(counted).size, counted.length, "each orphan counted once");
    for (const id of counted) assert.ok(!ran.has(id), `${id} had a drainer of its own`);
    assert.ok(counted.includes(ids[0]), "the lost event's action is an orphan");
    assert.ok(orphans.every((l) => l.OrphanedActions === 1));
  });

  it("followers leave within two poll intervals, naming the leader: one drainer serves the group once launches settle", async () => {
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 8, 300)],
        services: [
          { ...WEB, desiredCount: 8, deactivatingSeconds: 60 },
          { ...API, desiredCount: 8 },
        ],
      },
    });
    const ids = sim.scaleIn("asg-a", 6);
    const report = await sim.settle(900);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.results, { CONTINUE: 6 });
    const runs = sim.eventBridge.runs.filter((r) => r.record.kind === "event");
    const handedOver = runs.filter((r) =>
      parseLogLines(r.handle.lines).some(
        (l) =>
          l.msg === "summary" && (l.results as { result: string }[])[0]?.result === "handed-over",
      ),
    );
    assert.equal(handedOver.length, ids.length - 1, "all but the leader left");
    for (const r of handedOver) {
      const lines = parseLogLines(r.handle.lines);
      const left = lines.find((l) => l.action === "follow" && /leaving it/.test(String(l.msg)));
      assert.ok(typeof left?.leaderTaskArn === "string", "it names the leader");
      // From finding the leader to its summary: two poll intervals, with a margin for a machine this busy.
      const at = (pick: (l: Record<string, unknown>) => boolean) =>
        Date.parse(String(lines.find(pick)?.time));
      const lived =
        ((at((l) => l.msg === "summary") - at((l) => l.action === "follow")) / 1000) * TIME_SCALE;
      assert.ok(lived <= 2 * POLL + 3, `a follower lived ${lived} s`);
      assert.equal(r.record.exitCode, 0);
    }
    assert.ok(report.drainerTaskSeconds / ids.length < 60, `${report.drainerTaskSeconds} task-s`);
  });

  it("a drainer launched later than the hook's heartbeat timeout: the leader had answered for its action from its first look", async () => {
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 5, 120)],
        services: [
          { ...WEB, desiredCount: 5, deactivatingSeconds: 200 },
          { ...API, desiredCount: 5 },
        ],
      },
    });
    const ids = sim.world
      .group("asg-a")
      .instances.slice(0, 2)
      .map((i) => i.id);
    sim.eventBridge.faults = { lose: [ids[1]] };
    sim.scaleIn("asg-a", ids);
    // The lost event's drainer starts 150 s late (a throttled RunTask retried), past the hook's 120 s timeout.
    const late = sim.eventBridge.events.find((e) => e.detail.EC2InstanceId === ids[1])!;
    await sim.clock.sleep(150);
    sim.eventBridge.deliver(late);
    const report = await sim.settle(900);
    assertClean(sim, report);
    assert.deepEqual(report.hookTimeouts, [], "no hook expired");
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.results, { CONTINUE: 2 });
    const lateRun = sim.eventBridge.runs.filter((r) => r.record.instanceId === ids[1]).at(-1)!;
    const result = parseLogLines(lateRun.handle.lines).find((l) => l.msg === "summary")?.results as
      { result: string }[] | undefined;
    assert.ok(
      ["handed-over", "already-complete", "completed"].includes(result?.[0]?.result ?? ""),
      JSON.stringify(result),
    );
  });

  it("one account-wide ECS read budget: three groups, 40 held instances, every event's drainer and a sweep stay within ECS's 20 reads a second", async () => {
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 16, 300), group("asg-b", 15, 300), group("asg-c", 15, 300)],
        services: [
          { ...WEB, desiredCount: 46, deactivatingSeconds: 60 },
          { ...API, desiredCount: 46 },
        ],
      },
      sweepIntervalSeconds: 30,
      drainer: { pollIntervalSeconds: 10 },
      // 41 drainers: in this process (the budget is the drainer's code, not its process), at a gentler pace.
      launcher: inProcessLauncher(),
      timeScale: 5,
    });
    sim.scaleIn("asg-a", 14);
    sim.scaleIn("asg-b", 13);
    sim.scaleIn("asg-c", 13);
    const report = await sim.settle(1200);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.hookTimeouts, []);
    assert.deepEqual(report.results, { CONTINUE: 40 });
    assert.equal(report.throttled, 0, "no ECS call throttled");
    // ECS refills reads at 20 a second: no stretch of 10 s carried more than that, whoever read.
    const times = [...sim.recorder.ecsReadTimes].sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i] - times[j] >= 10) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    assert.ok(busiest / 10 <= 20, `${busiest} ECS reads in the busiest 10 s`);
    // A drainer led; each sweep that started while it ran found it and left, re-proving nothing.
    const leaders = sim.eventBridge.runs.filter((r) =>
      parseLogLines(r.handle.lines).some(
        (l) => l.action === "lead" && String(l.msg).startsWith("leading"),
      ),
    );
    assert.ok(leaders.length >= 1);
    const duringLead = sim.eventBridge.runs.filter(
      (r) =>
        r.record.kind === "sweep" &&
        leaders.some(
          (l) =>
            l.record.startedAt + 5 < r.record.startedAt &&
            r.record.startedAt + 5 < (l.record.endedAt ?? Infinity),
        ),
    );
    for (const r of duringLead) {
      assert.ok(
        parseLogLines(r.handle.lines).some((l) =>
          /a live drainer leads these groups/.test(String(l.msg)),
        ),
        `sweep ${r.record.id} left the groups to the leader`,
      );
    }
  });

  it("SIGTERM while every ECS request hangs: exit 143 within a second, no AWS call after it, nothing completed", async () => {
    sim = await startScenario({
      world: { groups: [group("asg-a", 3, 300)], services: [{ ...WEB, desiredCount: 3 }] },
      // From 10 s on, ECS answers nothing at all.
      faults: {
        hang: {
          ops: [
            "DescribeContainerInstances",
            "ListTasks",
            "DescribeTasks",
            "ListContainerInstances",
          ],
          from: 10,
        },
      },
    });
    const [id] = sim.scaleIn("asg-a", 1);
    await sim.clock.sleep(20);
    const run = sim.eventBridge.runs.find((r) => r.record.instanceId === id)!;
    assert.equal(run.record.exitCode, undefined, "still draining");
    const callsBefore = [...sim.recorder.calls.values()].reduce((n, c) => n + c.calls, 0);
    const t0 = performance.now();
    run.handle.kill();
    const code = await run.handle.exit;
    const ms = performance.now() - t0;
    assert.equal(code, 143);
    assert.ok(ms < 1000, `exited ${Math.round(ms)} ms after SIGTERM`);
    // Requests already written when the signal came may reach the simulator just after it (the SDK refuses any new
    // one once the signal has aborted); none comes after the exit.
    const callsAtExit = [...sim.recorder.calls.values()].reduce((n, c) => n + c.calls, 0);
    await new Promise((r) => setTimeout(r, 300));
    const callsLater = [...sim.recorder.calls.values()].reduce((n, c) => n + c.calls, 0);
    assert.ok(callsAtExit >= callsBefore);
    assert.equal(callsLater, callsAtExit, "no AWS call after the exit");
    assert.equal(sim.recorder.instances.get(id)!.completions.length, 0, "nothing completed");
    assert.ok(
      summaries(sim).some((s) => s.instanceId === id && s.result === "interrupted"),
      "it says it was interrupted",
    );
  });
});
