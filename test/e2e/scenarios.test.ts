/**
 * End-to-end scale-in scenarios: the real drainer bundle, started by the simulated EventBridge step with the input
 * transformer's environment, against the simulated ECS and Auto Scaling. Each asserts the recorded figures (tasks
 * killed, lag, calls, exit codes), not only an exit code. Times are simulated seconds.
 */
import assert from "node:assert/strict";
import { ECS_MANAGED_DRAINING_HOOK } from "../../drainer/src/contract";
import { countTrustingDrainer } from "../sim/baseline";
import { parseLogLines } from "../sim/launchers";
import { InstanceRecord } from "../sim/recorder";
import { Simulation } from "../sim/simulation";
import { GroupSpec, ServiceSpec } from "../sim/world";
import { HOOK, POLL, assertClean, dump, logs, startScenario, summaries } from "./harness";

const WEB: ServiceSpec = {
  name: "web",
  desiredCount: 3,
  startSeconds: 5,
  deactivatingSeconds: 20,
  stoppingSeconds: 5,
};
const API: ServiceSpec = { name: "api", desiredCount: 3, startSeconds: 5, stoppingSeconds: 10 };

function group(name = "asg-a", instances = 3, heartbeatTimeout = 300): GroupSpec {
  return { name, instances, hooks: [{ name: HOOK, heartbeatTimeout }] };
}

/**
 * Two simulated seconds (0.1 s of wall clock) for the time a poll's own calls take and for the scheduling jitter of a
 * busy machine, on top of the one poll interval the drainer may wait.
 */
const LAG_SLACK = 2;

const MUTATING = [
  "ecs:UpdateContainerInstancesState",
  "ecs:StopTask",
  "autoscaling:CompleteLifecycleAction",
  "autoscaling:RecordLifecycleActionHeartbeat",
];

describe("end-to-end scale-in (the real bundle against the simulator)", function () {
  this.timeout(60_000);
  let sim: Simulation | undefined;

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(dump(sim));
    await sim?.stop();
    sim = undefined;
  });

  it("1. scales in one instance running two services with 0 tasks killed, completing within one poll of the last stop", async () => {
    sim = await startScenario({ world: { groups: [group()], services: [WEB, API] } });
    const [id] = sim.scaleIn("asg-a", 1);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.exitCodes, [0]);
    assert.deepEqual(report.results, { CONTINUE: 1 });
    assert.deepEqual(report.hookTimeouts, []);
    assert.equal(report.lags.length, 1, "completed by the drainer after the instance emptied");
    assert.ok(
      report.lags[0] <= POLL + LAG_SLACK,
      `lag ${report.lags[0]} s is within one ${POLL} s poll`,
    );
    const rec = sim.recorder.instances.get(id)!;
    assert.equal(rec.tasksAtScaleIn, 2);
    // The web task spends 20 s DEACTIVATING and 5 s STOPPING after its replacement runs (5 s).
    assert.ok(
      rec.terminatedAt! - rec.scaleInAt >= 30,
      `drained in ${rec.terminatedAt! - rec.scaleInAt} s`,
    );
    assert.equal(report.calls["ecs:UpdateContainerInstancesState"], 1);
    assert.equal(report.calls["autoscaling:CompleteLifecycleAction"], 1);
    // Every log line carries the same keys; the last is the summary.
    const lines = logs(sim);
    for (const l of lines) {
      for (const key of [
        "time",
        "level",
        "msg",
        "cluster",
        "asg",
        "hook",
        "instanceId",
        "action",
      ]) {
        assert.ok(key in l, `${key} in ${JSON.stringify(l)}`);
      }
    }
    const last = lines[lines.length - 1];
    assert.equal(last.msg, "summary");
    assert.deepEqual(
      (last.results as Record<string, unknown>[]).map((r) => [
        r.instanceId,
        r.result,
        r.tasksAtStart,
      ]),
      [[id, "completed", 2]],
    );
  });

  it("2. waits for tasks that linger in DEACTIVATING, which runningTasksCount no longer counts", async () => {
    sim = await startScenario({
      world: {
        groups: [group()],
        services: [{ ...WEB, deactivatingSeconds: 90 }],
      },
    });
    const [id] = sim.scaleIn("asg-a", 1);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    const rec = sim.recorder.instances.get(id)!;
    const task = [...sim.world.tasks.values()].find(
      (t) => t.containerInstance.ec2.id === id && t.group === "service:web",
    )!;
    assert.ok(
      task.stoppedAt! <= rec.terminatedAt!,
      "the task reached STOPPED before the instance went",
    );
    assert.ok(
      task.stoppedAt! - task.stoppingAt! >= 95,
      "it spent 90 s DEACTIVATING and 5 s STOPPING",
    );
    assert.ok(report.lags[0] <= POLL + LAG_SLACK, `lag ${report.lags[0]} s`);
    assert.deepEqual(report.exitCodes, [0]);
  });

  describe("3. a standalone job on the instance", () => {
    const world = {
      groups: [group()],
      services: [API],
      standaloneTasks: [{ family: "nightly-report", group: "asg-a", index: 2, runSeconds: 90 }],
    };

    it("is waited for by default: the instance goes only after the job ends by itself", async () => {
      sim = await startScenario({ world });
      const [id] = sim.scaleIn("asg-a", 1);
      const report = await sim.settle(600);
      assertClean(sim, report);
      assert.equal(report.tasksKilled, 0);
      assert.equal(report.calls["ecs:StopTask"] ?? 0, 0, "the drainer never stops it");
      const job = [...sim.world.tasks.values()].find((t) => t.group === "family:nightly-report")!;
      assert.equal(job.containerInstance.ec2.id, id);
      assert.equal(job.stopCode, "EssentialContainerExited");
      assert.ok(sim.recorder.instances.get(id)!.terminatedAt! >= 90);
      const waits = logs(sim).filter((l) => l.action === "wait");
      assert.ok(
        waits.some((l) => (l.blockers as { standalone: number }).standalone === 1),
        "the wait log names the standalone task",
      );
    });

    it("is stopped by the drainer with STOP_STANDALONE_TASKS once only it remains", async () => {
      sim = await startScenario({ world, drainer: { stopStandaloneTasks: true } });
      const [id] = sim.scaleIn("asg-a", 1);
      const report = await sim.settle(600);
      assertClean(sim, report);
      assert.equal(report.tasksKilled, 0);
      assert.equal(report.calls["ecs:StopTask"], 1);
      const job = [...sim.world.tasks.values()].find((t) => t.group === "family:nightly-report")!;
      assert.equal(job.stopCode, "UserInitiated");
      const api = [...sim.world.tasks.values()].find(
        (t) => t.containerInstance.ec2.id === id && t.group === "service:api",
      )!;
      assert.ok(
        job.stoppingAt! >= api.stoppingAt!,
        "stopped only after the service task was leaving",
      );
      assert.ok(
        sim.recorder.instances.get(id)!.terminatedAt! < 90,
        "before the job would have ended",
      );
    });
  });

  it("4. holds a drain longer than the hook's heartbeat timeout with heartbeats", async () => {
    // HeartbeatTimeout 40 s (2 s of wall clock); the drain takes over 120 s.
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 3, 40)],
        services: [{ ...WEB, deactivatingSeconds: 120 }],
      },
    });
    const [id] = sim.scaleIn("asg-a", 1);
    const report = await sim.settle(900);
    assertClean(sim, report);
    assert.deepEqual(report.hookTimeouts, [], "never released by the heartbeat timeout");
    assert.equal(report.tasksKilled, 0);
    const rec = sim.recorder.instances.get(id)!;
    assert.ok(rec.terminatedAt! - rec.scaleInAt > 120);
    assert.deepEqual(
      rec.completions.map((c) => c.via),
      ["api"],
    );
    const beats = report.calls["autoscaling:RecordLifecycleActionHeartbeat"] ?? 0;
    assert.ok(beats >= 3, `${beats} heartbeats over more than three heartbeat timeouts`);
  });

  it("5. at the deadline completes with TIMEOUT_RESULT and logs the tasks that block", async () => {
    sim = await startScenario({
      world: {
        groups: [group()],
        services: [{ ...WEB, deactivatingSeconds: Number.POSITIVE_INFINITY }],
      },
      drainer: { drainTimeoutSeconds: 60, timeoutResult: "ABANDON" },
    });
    const [id] = sim.scaleIn("asg-a", 1);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.deepEqual(report.results, { ABANDON: 1 });
    assert.deepEqual(report.hookTimeouts, []);
    const rec = sim.recorder.instances.get(id)!;
    // The deadline runs from the drainer's start; its first AWS call comes right after (process start-up aside).
    const elapsed = rec.completions[0].at - sim.recorder.firstCallAt!;
    assert.ok(
      elapsed >= 60 - POLL && elapsed <= 60 + 2 * POLL,
      `completed ${elapsed} s after the drainer's first call`,
    );
    const stuck = [...sim.world.tasks.values()].find(
      (t) => t.containerInstance.ec2.id === id && t.group === "service:web",
    )!;
    const timeout = logs(sim).find((l) => l.level === "error" && l.action === "timeout");
    assert.ok(timeout, "an error line at the deadline");
    assert.deepEqual(
      (timeout.blockingTasks as { taskArn: string; lastStatus: string }[]).map((t) => [
        t.taskArn,
        t.lastStatus,
      ]),
      [[stuck.arn, "DEACTIVATING"]],
    );
    assert.equal(report.tasksKilled, 1, "the stuck task is the one the deadline gave up on");
    assert.deepEqual(
      summaries(sim).map((s) => s.result),
      ["timed-out"],
    );
  });

  it("5b. with ABANDON and a group that retains instances, a drain that times out kills nothing: the instance stays, DRAINING", async () => {
    sim = await startScenario({
      world: {
        groups: [{ ...group(), retainOnAbandon: true }],
        services: [{ ...WEB, deactivatingSeconds: Number.POSITIVE_INFINITY }],
      },
      drainer: { drainTimeoutSeconds: 60, timeoutResult: "ABANDON" },
    });
    const [id] = sim.scaleIn("asg-a", 1);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.deepEqual(report.results, { ABANDON: 1 });
    assert.equal(report.tasksKilled, 0, "retained: nothing on the instance is killed");
    const instance = sim.world.groups.get("asg-a")!.instances.find((i) => i.id === id)!;
    assert.equal(instance.lifecycleState, "Terminating:Retained");
    assert.equal(instance.containerInstance?.status, "DRAINING");
    const plan = logs(sim).find((l) => l.action === "plan" && "keptOnTimeout" in l);
    assert.equal(plan?.keptOnTimeout, true, "said at start");
    assert.equal(plan?.terminateHookAbandon, "retain");
    const timeout = logs(sim).find((l) => l.action === "timeout");
    assert.equal(timeout?.kept, true, "said at the deadline");
    assert.match(String(timeout?.msg), /the group retains the instance/);
  });

  it("5c. negative control: the same drain in a group that does not retain kills the stuck task, as it warned at start", async () => {
    sim = await startScenario({
      world: {
        groups: [group()],
        services: [{ ...WEB, deactivatingSeconds: Number.POSITIVE_INFINITY }],
      },
      drainer: { drainTimeoutSeconds: 60, timeoutResult: "ABANDON" },
    });
    sim.scaleIn("asg-a", 1);
    const report = await sim.settle(600);
    assert.equal(report.tasksKilled, 1);
    const plan = logs(sim).find((l) => l.action === "plan" && "keptOnTimeout" in l);
    assert.equal(plan?.level, "warn");
    assert.equal(plan?.keptOnTimeout, false);
  });

  it("6. duplicate events: both drainers exit 0 and one completion takes effect (the second leaves it to the first)", async () => {
    sim = await startScenario({ world: { groups: [group()], services: [WEB, API] } });
    const id = sim.world.group("asg-a").instances[2].id;
    sim.eventBridge.faults = { duplicate: [id], duplicateDelaySeconds: 3 };
    sim.scaleIn("asg-a", [id]);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(sim.eventBridge.runs.length, 2);
    assert.deepEqual(report.exitCodes, [0, 0]);
    assert.equal(report.tasksKilled, 0);
    const completions = sim.recorder.instances.get(id)!.completions;
    assert.deepEqual(
      completions.map((c) => [c.hook, c.result, c.via]),
      [[HOOK, "CONTINUE", "api"]],
    );
    const results = summaries(sim)
      .map((s) => s.result)
      .sort();
    assert.ok(
      results.includes("completed") &&
        results.every((r) => ["completed", "already-complete", "handed-over"].includes(r)),
      `results: ${results}`,
    );
  });

  it("7. a lost event: the sweep completes the instance", async () => {
    sim = await startScenario({
      world: { groups: [group()], services: [WEB, API] },
      sweepIntervalSeconds: 30,
    });
    const id = sim.world.group("asg-a").instances[2].id;
    sim.eventBridge.faults = { lose: [id] };
    sim.scaleIn("asg-a", [id]);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.results, { CONTINUE: 1 });
    assert.ok(sim.eventBridge.runs.every((r) => r.record.kind === "sweep"));
    assert.ok(report.exitCodes.every((c) => c === 0));
    assert.ok(
      summaries(sim).some((s) => s.instanceId === id && s.result === "completed"),
      "a sweep reports the instance completed",
    );
  });

  it("7b. lost events in two groups: the sweep completes both instances", async () => {
    sim = await startScenario({
      world: { groups: [group("asg-a"), group("asg-b")], services: [WEB, API] },
      sweepIntervalSeconds: 30,
    });
    const ids = [
      sim.world.group("asg-a").instances[2].id,
      sim.world.group("asg-b").instances[2].id,
    ];
    sim.eventBridge.faults = { lose: ids };
    sim.scaleIn("asg-a", [ids[0]]);
    sim.scaleIn("asg-b", [ids[1]]);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.results, { CONTINUE: 2 });
    assert.equal(sim.eventBridge.runs[0].env.AUTOSCALING_GROUP_NAMES, "asg-a,asg-b");
    const completed = summaries(sim)
      .filter((s) => s.result === "completed")
      .map((s) => s.instanceId)
      .sort();
    assert.deepEqual(completed, [...ids].sort());
  });

  describe("8. the drainer killed mid-drain", () => {
    it("exits 143 without completing, and the sweep recovers", async () => {
      sim = await startScenario({
        world: { groups: [group()], services: [{ ...WEB, deactivatingSeconds: 40 }, API] },
        sweepIntervalSeconds: 60,
      });
      const id = sim.world.group("asg-a").instances[2].id;
      sim.eventBridge.faults = { kill: [{ instanceId: id, afterSeconds: 15 }] };
      sim.scaleIn("asg-a", [id]);
      await sim.waitFor(() => sim!.eventBridge.runs[0]?.record.exitCode !== undefined, 120);
      assert.equal(sim.eventBridge.runs[0].record.exitCode, 143);
      assert.equal(sim.world.instance(id).lifecycleState, "Terminating:Wait");
      assert.deepEqual(sim.recorder.instances.get(id)!.completions, []);
      const report = await sim.settle(600);
      assertClean(sim, report);
      assert.equal(report.tasksKilled, 0);
      assert.deepEqual(report.results, { CONTINUE: 1 });
      assert.ok(sim.eventBridge.runs.slice(1).every((r) => r.record.kind === "sweep"));
    });

    it("exits 143 without completing, and a new run for the same event recovers", async () => {
      sim = await startScenario({
        world: { groups: [group()], services: [{ ...WEB, deactivatingSeconds: 40 }, API] },
      });
      const id = sim.world.group("asg-a").instances[2].id;
      sim.eventBridge.faults = { kill: [{ instanceId: id, afterSeconds: 15 }] };
      sim.scaleIn("asg-a", [id]);
      await sim.waitFor(() => sim!.eventBridge.runs[0]?.record.exitCode !== undefined, 120);
      assert.equal(sim.eventBridge.runs[0].record.exitCode, 143);
      sim.eventBridge.deliver(sim.eventBridge.events[0]);
      const report = await sim.settle(600);
      assertClean(sim, report);
      assert.deepEqual(report.exitCodes, [143, 0]);
      assert.equal(report.tasksKilled, 0);
      assert.deepEqual(report.results, { CONTINUE: 1 });
    });
  });

  it("8b. every drainer of a group lost at once (killed mid-drain): the sweep takes every held action over before any hook expires", async () => {
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 5)],
        services: [
          { ...WEB, desiredCount: 5, deactivatingSeconds: 40 },
          { ...API, desiredCount: 5 },
        ],
      },
      sweepIntervalSeconds: 100,
    });
    const ids = sim.world
      .group("asg-a")
      .instances.slice(0, 3)
      .map((i) => i.id);
    // The leader and any follower still there, all killed after their first polls: every instance DRAINING, no
    // drainer left answering.
    sim.eventBridge.faults = { kill: ids.map((instanceId) => ({ instanceId, afterSeconds: 20 })) };
    sim.scaleIn("asg-a", ids);
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.results, { CONTINUE: 3 });
    assert.deepEqual(report.hookTimeouts, []);
    const events = sim.eventBridge.runs.filter((r) => r.record.kind === "event");
    assert.ok(
      events.some((r) => r.record.exitCode === 143),
      "the leader was killed",
    );
    const swept = sim.eventBridge.runs
      .filter((r) => r.record.kind === "sweep")
      .flatMap((r) => parseLogLines(r.handle.lines))
      .filter((l) => l.msg === "summary")
      .flatMap((l) => (l.results as { instanceId: string; result: string }[]) ?? []);
    for (const id of ids) {
      const rec: InstanceRecord = sim.recorder.instances.get(id)!;
      assert.equal(rec.completions.length, 1, id);
    }
    assert.ok(
      swept.some((r) => r.result === "completed"),
      "the sweep completed the actions the lost drainers had held",
    );
  });

  it("9. an instance not registered in ECS is completed at once", async () => {
    sim = await startScenario({
      world: { groups: [{ ...group(), unregistered: 1 }], services: [WEB] },
    });
    const unregistered = sim.world.group("asg-a").instances[3];
    assert.equal(unregistered.containerInstance, undefined);
    sim.scaleIn("asg-a", [unregistered.id]);
    const report = await sim.settle(120);
    assertClean(sim, report);
    const rec = sim.recorder.instances.get(unregistered.id)!;
    // From the drainer's first AWS call (process start-up is not the drainer's wait), well within one poll.
    const waited = rec.completions[0].at - sim.recorder.firstCallAt!;
    assert.ok(waited < POLL, `completed ${waited} s after the drainer's first call`);
    assert.equal(report.calls["ecs:UpdateContainerInstancesState"] ?? 0, 0);
    // The only ListTasks is the look at the registry (who leads): no task of the instance to wait for.
    assert.equal(report.calls["ecs:ListTasks"] ?? 0, 1, "no task to wait for");
    assert.deepEqual(report.exitCodes, [0]);
    assert.deepEqual(
      summaries(sim).map((s) => s.result),
      ["not-in-cluster"],
    );
  });

  it("10. throttling storms, 5xx and ResourceContention: retried, 0 failures, 0 killed", async function () {
    this.timeout(240_000);
    // The SDK's retry back-off runs on the wall clock, 20x slower than the world here (a 20 s back-off is 400
    // simulated seconds), and one leader now heartbeats every action: the hook gets an hour so that back-off
    // inflated by the time scale cannot pass for a missed heartbeat.
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 6, 3600)],
        services: [
          { ...WEB, desiredCount: 6 },
          { ...API, desiredCount: 6 },
        ],
      },
      faults: { throttleRate: 0.25, serverErrorRate: 0.05, contentionRate: 0.05 },
    });
    sim.scaleIn("asg-a", 3);
    // The SDK's back-off runs on the wall clock: at 20x, each second of it is 20 simulated seconds, and a machine busy
    // with other test files stretches it further (it took more than 1800 simulated seconds once, with three files
    // running at a time): the hook's hour bounds the wait.
    const report = await sim.settle(3600);
    assertClean(sim, report);
    assert.ok(report.throttled > 0 && report.faults > 0, "the storm happened");
    assert.ok(report.retries > 0, "the SDK retried");
    assert.deepEqual(report.exitCodes, [0, 0, 0]);
    assert.deepEqual(report.results, { CONTINUE: 3 });
    assert.deepEqual(report.hookTimeouts, []);
    assert.equal(report.tasksKilled, 0);
  });

  it("11. several groups scaling in at once: each instance completes", async () => {
    sim = await startScenario({
      world: {
        groups: [group("asg-a", 3), group("asg-b", 3), group("asg-c", 2)],
        services: [
          { ...WEB, desiredCount: 4 },
          { ...API, desiredCount: 4 },
        ],
      },
    });
    const ids = [
      ...sim.scaleIn("asg-a", 2),
      ...sim.scaleIn("asg-b", 1),
      ...sim.scaleIn("asg-c", 1),
    ];
    const report = await sim.settle(600);
    assertClean(sim, report);
    assert.equal(report.instances, 4);
    assert.deepEqual(report.results, { CONTINUE: 4 });
    assert.equal(report.tasksKilled, 0);
    assert.deepEqual(report.exitCodes, [0, 0, 0, 0]);
    for (const id of ids) {
      const rec: InstanceRecord = sim.recorder.instances.get(id)!;
      assert.deepEqual(
        rec.completions.map((c) => c.via),
        ["api"],
        id,
      );
    }
  });

  it("12. DRY_RUN changes nothing: no mutating call, the instance stays ACTIVE and waiting", async () => {
    sim = await startScenario({
      world: { groups: [group()], services: [WEB, API] },
      drainer: { dryRun: true, drainTimeoutSeconds: 30 },
    });
    const [id] = sim.scaleIn("asg-a", 1);
    await sim.waitFor(() => sim!.eventBridge.runs[0]?.record.exitCode !== undefined, 300);
    const report = sim.report();
    assertClean(sim, report);
    assert.deepEqual(report.exitCodes, [0]);
    for (const op of MUTATING) assert.equal(report.calls[op] ?? 0, 0, op);
    const ec2 = sim.world.instance(id);
    assert.equal(ec2.lifecycleState, "Terminating:Wait");
    assert.equal(ec2.containerInstance!.status, "ACTIVE");
    assert.ok(ec2.containerInstance!.tasks.every((t) => t.desiredStatus === "RUNNING"));
    assert.ok(
      logs(sim).some((l) => /^would /.test(String(l.msg))),
      "it logs what it would do",
    );
    assert.deepEqual(
      summaries(sim).map((s) => s.result),
      ["dry-run"],
    );
  });

  describe("more faults", () => {
    it("ECS managed draining's hook also present: a warning, both hooks complete, 0 killed", async () => {
      sim = await startScenario({
        world: { groups: [{ ...group(), managedDraining: true }], services: [WEB, API] },
      });
      const [id] = sim.scaleIn("asg-a", 1);
      const report = await sim.settle(600);
      assertClean(sim, report);
      assert.equal(report.tasksKilled, 0);
      assert.deepEqual(
        sim.recorder.instances
          .get(id)!
          .completions.map((c) => c.hook)
          .sort(),
        [ECS_MANAGED_DRAINING_HOOK, HOOK].sort(),
      );
      assert.ok(
        logs(sim).some(
          (l) => l.level === "warn" && String(l.msg).includes(ECS_MANAGED_DRAINING_HOOK),
        ),
        "the drainer warns that two drainers act",
      );
    });

    it("an instance that vanishes mid-drain: the drainer ends cleanly", async () => {
      sim = await startScenario({
        world: { groups: [group()], services: [{ ...WEB, deactivatingSeconds: 60 }] },
      });
      const [id] = sim.scaleIn("asg-a", 1);
      await sim.run(20);
      sim.world.vanish(id);
      const report = await sim.settle(300);
      assertClean(sim, report);
      assert.deepEqual(report.exitCodes, [0]);
      assert.equal(report.tasksKilled, 0, "nothing killed by the drainer");
      assert.deepEqual(sim.recorder.instances.get(id)!.completions, []);
    });

    it("a 100/100 service cannot drain: the deadline ends the wait and names it", async () => {
      sim = await startScenario({
        world: {
          groups: [group()],
          services: [{ ...API, minimumHealthyPercent: 100, maximumPercent: 100 }],
        },
        drainer: { drainTimeoutSeconds: 45 },
      });
      sim.scaleIn("asg-a", 1);
      const report = await sim.settle(600);
      assertClean(sim, report);
      assert.deepEqual(report.results, { CONTINUE: 1 });
      const timeout = logs(sim).find((l) => l.action === "timeout")!;
      assert.deepEqual(
        (timeout.blockingTasks as { group: string; lastStatus: string }[]).map((t) => [
          t.group,
          t.lastStatus,
        ]),
        [["service:api", "RUNNING"]],
      );
    });
  });

  describe("negative control: the measure can fail", () => {
    it("with the hook but no drainer, the instance waits out its heartbeat timeout and its tasks are killed", async () => {
      sim = await startScenario({
        world: { groups: [group("asg-a", 3, 60)], services: [WEB, API] },
        launcher: undefined,
      });
      const [id] = sim.scaleIn("asg-a", 1);
      const report = await sim.settle(300);
      assert.equal(report.tasksKilled, 2);
      assert.deepEqual(report.hookTimeouts, [id]);
      assert.deepEqual(report.exitCodes, []);
    });

    it("the same, with the hook's DefaultResult ABANDON in a group that retains: the instance stays, nothing killed", async () => {
      sim = await startScenario({
        world: {
          groups: [
            {
              name: "asg-a",
              instances: 3,
              hooks: [{ name: HOOK, heartbeatTimeout: 60, defaultResult: "ABANDON" }],
              retainOnAbandon: true,
            },
          ],
          services: [WEB, API],
        },
        launcher: undefined,
      });
      const [id] = sim.scaleIn("asg-a", 1);
      const report = await sim.settle(300);
      assert.equal(report.tasksKilled, 0);
      assert.deepEqual(report.hookTimeouts, [id]);
      const instance = sim.world.groups.get("asg-a")!.instances.find((i) => i.id === id)!;
      assert.equal(instance.lifecycleState, "Terminating:Retained");
    });

    it("a drainer that trusts runningTasksCount kills the tasks still stopping (scenario 2's world)", async () => {
      sim = await startScenario({
        world: { groups: [group()], services: [{ ...WEB, deactivatingSeconds: 90 }] },
        launcher: countTrustingDrainer,
      });
      const [id] = sim.scaleIn("asg-a", 1);
      const report = await sim.settle(600);
      assert.deepEqual(report.exitCodes, [0]);
      assert.equal(report.tasksKilled, 1);
      assert.deepEqual(
        sim.recorder.instances.get(id)!.killed.map((k) => [k.group, k.lastStatus, k.desiredStatus]),
        [["service:web", "DEACTIVATING", "STOPPED"]],
      );
    });
  });
});
