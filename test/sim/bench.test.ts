/**
 * The benchmark's measurements on a small case: the drainer kills nothing, the seed's algorithm and no drainer do,
 * and the figures are derived from what the simulator recorded.
 */
import assert from "node:assert/strict";
import { BenchResult, evaluateGoals, formatTable, measureStartup, runCase } from "./bench-lib";
import { bundleLauncher, inProcessLauncher } from "./launchers";

const OPTIONS = {
  sizes: [3],
  contenders: ["drainer", "seed-baseline", "no-drainer"] as const,
  timeScale: 20,
  pollIntervalSeconds: 10,
  heartbeatTimeoutSeconds: 300,
};

describe("npm run bench (small case)", function () {
  this.timeout(60_000);

  it("measures the drainer, the seed baseline and no drainer on the same world", async () => {
    const drainer = await runCase(3, "drainer", OPTIONS);
    const seed = await runCase(3, "seed-baseline", OPTIONS);
    const none = await runCase(3, "no-drainer", OPTIONS);

    assert.equal(drainer.tasksAtScaleIn, 6, "two service tasks on each of the 3 instances");
    assert.equal(drainer.tasksKilled, 0);
    assert.equal(drainer.failedDrains, 0);
    assert.equal(drainer.failedRuns, 0);
    assert.ok(drainer.lagP99Polls !== null && drainer.lagP50Polls! <= drainer.lagP99Polls);
    assert.ok(drainer.ecsCallsPerInstance > 0 && drainer.autoScalingCallsPerInstance > 0);
    assert.ok(drainer.ecsReadsPerSecondPeak >= drainer.ecsReadsPerSecondMean);
    assert.ok(
      drainer.simSeconds >= 40,
      "web's replacement (10 s), 30 s DEACTIVATING and 5 s STOPPING",
    );

    // The seed counts runningTasksCount + pendingTasksCount: it lets go while tasks are still stopping.
    assert.equal(seed.failedDrains, 0);
    assert.ok(seed.tasksKilled > 0, `seed baseline killed ${seed.tasksKilled}`);

    assert.equal(none.tasksKilled, 6, "without a hook every task dies with its instance");
    assert.equal(none.failedDrains, null);
    assert.equal(none.ecsCallsPerInstance, 0);

    const result: BenchResult = {
      date: "2026-11-25T00:00:00.000Z",
      node: process.version,
      options: { ...OPTIONS, contenders: [...OPTIONS.contenders] },
      bundleBytes: 1,
      startupToFirstCallMs: 1,
      startupSamplesMs: [1],
      rows: [drainer, seed, none],
      goals: evaluateGoals([drainer, seed, none]),
    };
    assert.deepEqual(
      result.goals.map((g) => g.goal),
      [
        "lag p99 <= 1 poll interval",
        "at N=3: ECS read rate under 20/s (mean and busiest poll interval, 0 throttled), 0 failed drains, 0 killed",
        "ECS reads per instance <= 1 per poll, in a typical poll",
      ],
    );
    // Each poll shares one DescribeContainerInstances and one DescribeTasks between the 3 instances, or only the
    // DescribeTasks while their tasks are stopping; the whole-drain mean also carries the start-up reads.
    assert.ok(drainer.ecsReadsPerInstanceTypicalPoll !== null);
    assert.ok(
      drainer.ecsReadsPerInstanceTypicalPoll <= 1,
      `${drainer.ecsReadsPerInstanceTypicalPoll}`,
    );
    assert.ok(drainer.ecsReadsPerInstancePerPoll! > drainer.ecsReadsPerInstanceTypicalPoll);
    assert.equal(result.goals[2].met, true, result.goals[2].detail);
    const table = formatTable(result);
    assert.match(table, /^\| 3 \| drainer \|/m);
    assert.match(
      table,
      /^\| 3 \| no-drainer \| 0 \| 0 \|.*\| 6\/6 \| \d+ \| 0 \| 0\/0\/0\/0 \| 0 \| - \| 0 \|$/m,
    );
    assert.equal(drainer.peakDrainersRunning, 3, "without the launch model every drainer starts");
    assert.deepEqual(drainer.launchFailures, {
      quota: 0,
      capacity: 0,
      taskFailedToStart: 0,
      throttledGaveUp: 0,
    });
  });

  for (const [name, launcher] of [
    ["in-process", inProcessLauncher],
    ["child-process (the bundle)", bundleLauncher],
  ] as const) {
    it(`launches ${name} drainers through the launch model: a quota of 2 tasks loses the third event`, async () => {
      const row = await runCase(3, "drainer", {
        ...OPTIONS,
        heartbeatTimeoutSeconds: 120,
        fargateQuotaTasks: 2,
        startLatencySeconds: [2, 4],
        sweepIntervalSeconds: 60,
        launchers: { drainer: launcher() },
      });
      assert.ok(row.launchFailures.quota >= 1, `quota failures ${row.launchFailures.quota}`);
      assert.ok(row.peakDrainersRunning <= 2, `peak ${row.peakDrainersRunning}`);
      assert.ok(row.drainerTaskSecondsPerInstance > 0);
      // The lost event's action is served all the same, and once launches settle one drainer (and the sweep) runs.
      assert.equal(row.tasksKilled, 0);
      assert.equal(row.hookTimeouts, 0);
      assert.ok(row.peakDrainersSettled !== null && row.peakDrainersSettled <= 1 + 2);
      const table = formatTable({
        date: "2026-11-25T00:00:00.000Z",
        node: process.version,
        options: { ...OPTIONS, contenders: ["drainer"], fargateQuotaTasks: 2 },
        bundleBytes: 1,
        startupToFirstCallMs: 1,
        startupSamplesMs: [1],
        rows: [row],
        goals: [],
      });
      assert.match(table, /Launch model on: Fargate quota 2 drainer tasks \(0\.50 vCPU/);
      assert.match(
        table,
        new RegExp(`\\| ${row.launchFailures.quota}/0/0/0 \\| ${row.peakDrainersRunning} \\|`),
      );
    });
  }

  it("times the bundle from spawn to its first AWS call", async () => {
    const [ms] = await measureStartup(1);
    assert.ok(ms > 0 && ms < 10_000, `${ms} ms`);
  });
});
