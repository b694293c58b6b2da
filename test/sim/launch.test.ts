/**
 * The launch model of the drainers' tasks (fargate.ts, drainer/AWS-FACTS.md "EventBridge -> ECS task target"), driven
 * through the EventBridge step and the real SDK: the Fargate vCPU quota and "Capacity is unavailable" answered with
 * HTTP 200 and `failures[]` and never retried, RunTask's throttle and EventBridge's back-off, the start latency, the
 * subnet's free IPs (TaskFailedToStart), the sweep under the same quota, and DescribeTasks' MISSING. Each behaviour
 * has a control: the same world without the model (or with room) shows none of it.
 */
import {
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  Task,
} from "@aws-sdk/client-ecs";
import assert from "node:assert/strict";
import { DRAINER_CONTAINER_NAME } from "../../drainer/src/contract";
import {
  CAPACITY_REASON,
  DRAINER_TASK_FAMILY,
  LaunchModelOptions,
  QUOTA_REASON,
  STOPPED_TASK_RETENTION_SECONDS,
} from "./fargate";
import { DrainerHandle, DrainerLauncher, FAKE_CREDENTIALS } from "./launchers";
import { Simulation, SimulationOptions } from "./simulation";
import { WorldSpec } from "./world";

const HOOK = "drain-hook";

interface Ctx {
  sim: Simulation;
  ecs: ECSClient;
  /** Drainer processes started, by instance (the sweep: "sweep"). */
  started: string[];
}

/**
 * A stand-in drainer: it makes no call and exits 0 after `runSeconds` simulated seconds (never, when undefined), or
 * 143 when killed. What these tests measure is the launch, not the drain.
 */
function standIn(
  started: string[],
  clock: () => Simulation | undefined,
  runSeconds?: number,
): DrainerLauncher {
  return (env) => {
    started.push(env.EC2_INSTANCE_ID ?? "sweep");
    let finish!: (code: number) => void;
    const exit = new Promise<number>((resolve) => (finish = resolve));
    if (runSeconds !== undefined) clock()!.clock.after(runSeconds, () => finish(0));
    const handle: DrainerHandle = { exit, lines: [], stderr: [], kill: () => finish(143) };
    return handle;
  };
}

async function start(
  instances: number,
  options: Partial<SimulationOptions> & { runSeconds?: number } = {},
  world: Partial<WorldSpec> = {},
): Promise<Ctx> {
  const started: string[] = [];
  let sim: Simulation | undefined;
  sim = await Simulation.start({
    timeScale: 100,
    hook: HOOK,
    startPaused: true,
    launcher: standIn(started, () => sim, options.runSeconds),
    ...options,
    world: {
      cluster: "sim",
      groups: [{ name: "asg-a", instances, hooks: [{ name: HOOK, heartbeatTimeout: 300 }] }],
      ...world,
    },
  });
  const ecs = new ECSClient({
    endpoint: sim.endpoint,
    region: "us-east-1",
    credentials: FAKE_CREDENTIALS,
    // One attempt: what the simulator answers, not what the SDK's retries make of it.
    maxAttempts: 1,
  });
  return { sim, ecs, started };
}

async function drainerTasks(c: Ctx, desiredStatus: "RUNNING" | "STOPPED"): Promise<Task[]> {
  const listed = await c.ecs.send(
    new ListTasksCommand({ cluster: "sim", family: DRAINER_TASK_FAMILY, desiredStatus }),
  );
  if (!listed.taskArns?.length) return [];
  const out = await c.ecs.send(
    new DescribeTasksCommand({ cluster: "sim", tasks: listed.taskArns }),
  );
  return out.tasks ?? [];
}

function instanceOf(t: Task): string | undefined {
  return t.overrides?.containerOverrides
    ?.find((o) => o.name === DRAINER_CONTAINER_NAME)
    ?.environment?.find((e) => e.name === "EC2_INSTANCE_ID")?.value;
}

/** Room for everything, started at once: each test narrows the one limit it is about. */
const ROOMY: LaunchModelOptions = {
  fargateVcpuQuota: 1000,
  startLatencySeconds: [1, 1],
  runTasksPerSecond: 1000,
};

describe("launch model (Fargate, EventBridge's ECS target)", function () {
  this.timeout(20_000);
  let c: Ctx | undefined;
  afterEach(async () => {
    c?.ecs.destroy();
    await c?.sim.stop();
    c = undefined;
  });

  describe("the Fargate vCPU quota", () => {
    it("over the quota, RunTask answers 200 with tasks [] and the reason in failures; EventBridge does not retry", async () => {
      // 1 vCPU at 0.25 each: 4 drainer tasks at once.
      c = await start(6, { launch: { ...ROOMY, fargateVcpuQuota: 1 } });
      const ids = c.sim.scaleIn("asg-a", 6);
      await c.sim.run(10);
      let report = c.sim.report();
      assert.equal(report.launchFailures.quota, 2);
      assert.equal(
        report.runTaskCalls,
        6,
        "one RunTask per event: a failure in failures[] is final",
      );
      assert.equal(report.runTaskRetries, 0);
      assert.equal(report.peakDrainersRunning, 4);
      assert.equal(c.started.length, 4);
      assert.deepEqual(c.sim.eventBridge.launching(), 0, "nothing left to retry");

      // Through the SDK: HTTP 200, no task, ECS's reason.
      const out = await c.ecs.send(
        new RunTaskCommand({ cluster: "sim", taskDefinition: DRAINER_TASK_FAMILY, count: 1 }),
      );
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.deepEqual(out.tasks, []);
      assert.equal(out.failures?.[0]?.reason, QUOTA_REASON);

      // The running drainers' tasks name their instances (name and value), for a peer to read.
      const running = await drainerTasks(c, "RUNNING");
      assert.equal(running.length, 4);
      assert.ok(running.every((t) => ids.includes(instanceOf(t)!)));
      assert.ok(running.every((t) => t.startedAt instanceof Date && t.lastStatus === "RUNNING"));

      // The lost events stay lost.
      for (const r of c.sim.eventBridge.runs) r.handle.kill();
      await c.sim.run(60);
      report = c.sim.report();
      assert.equal(report.runTaskCalls, 7, "no retry later either");
      assert.equal(c.started.length, 4);
    });

    it("control: the same world without the launch model starts every drainer", async () => {
      c = await start(6);
      c.sim.scaleIn("asg-a", 6);
      await c.sim.run(10);
      const report = c.sim.report();
      assert.deepEqual(report.launchFailures, {
        quota: 0,
        capacity: 0,
        taskFailedToStart: 0,
        throttledGaveUp: 0,
      });
      assert.equal(report.peakDrainersRunning, 6);
      assert.equal(c.started.length, 6);
    });

    it("counts PENDING tasks against the quota, and frees the quota when a task stops", async () => {
      c = await start(3, {
        launch: { ...ROOMY, fargateVcpuQuota: 0.5, startLatencySeconds: [10, 10] },
        runSeconds: 30,
      });
      const [first, second, third] = c.sim.world.group("asg-a").instances.map((i) => i.id);
      c.sim.scaleIn("asg-a", [first, second]);
      await c.sim.run(1.5);
      // Both tasks are PENDING (until 11 s), no drainer runs yet, and the quota of 2 is full.
      c.sim.scaleIn("asg-a", [third]);
      await c.sim.run(1);
      assert.equal(c.started.length, 0);
      assert.equal(c.sim.report().launchFailures.quota, 1);
      await c.sim.run(40);
      const out = await c.ecs.send(
        new RunTaskCommand({ cluster: "sim", taskDefinition: DRAINER_TASK_FAMILY }),
      );
      assert.equal(out.tasks?.length, 1, "both drainers stopped: room again");
    });

    it("the sweep is launched under the same quota", async () => {
      c = await start(2, { launch: { ...ROOMY, fargateVcpuQuota: 0.5 }, sweepIntervalSeconds: 50 });
      c.sim.scaleIn("asg-a", 2);
      await c.sim.run(55);
      const report = c.sim.report();
      assert.equal(report.launchFailures.quota, 1, "the sweep at 50 s found the quota full");
      assert.equal(report.runTaskCalls, 3);
      assert.ok(!c.started.includes("sweep"));
    });

    it("control: the sweep starts when the quota has room", async () => {
      c = await start(2, {
        launch: { ...ROOMY, fargateVcpuQuota: 0.75 },
        sweepIntervalSeconds: 50,
      });
      c.sim.scaleIn("asg-a", 2);
      await c.sim.run(55);
      assert.equal(c.sim.report().launchFailures.quota, 0);
      assert.ok(c.started.includes("sweep"));
    });
  });

  it('"Capacity is unavailable" is answered like the quota: 200, failures[], not retried', async () => {
    c = await start(20, { launch: { ...ROOMY, capacityUnavailableProbability: 0.5, seed: 3 } });
    c.sim.scaleIn("asg-a", 20);
    await c.sim.run(5);
    const report = c.sim.report();
    assert.ok(report.launchFailures.capacity > 0 && report.launchFailures.capacity < 20);
    assert.equal(report.runTaskCalls, 20);
    assert.equal(c.started.length, 20 - report.launchFailures.capacity);
    const out = await c.ecs.send(
      new RunTaskCommand({ cluster: "sim", taskDefinition: DRAINER_TASK_FAMILY, count: 10 }),
    );
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.ok(out.failures!.some((f) => f.reason === CAPACITY_REASON));
  });

  describe("RunTask's throttle", () => {
    it("a throttled launch is retried by EventBridge with back-off, so its drainer starts late", async () => {
      c = await start(10, { launch: { ...ROOMY, runTasksPerSecond: 2 } });
      c.sim.scaleIn("asg-a", 10);
      await c.sim.run(120);
      const report = c.sim.report();
      assert.equal(c.started.length, 10, "every event got its drainer in the end");
      assert.equal(report.launchFailures.throttledGaveUp, 0);
      assert.ok(report.runTaskThrottles >= 8, `${report.runTaskThrottles} throttled`);
      assert.equal(report.runTaskRetries, report.runTaskThrottles);
      assert.equal(report.runTaskCalls, 10 + report.runTaskRetries);
      const starts = c.sim.eventBridge.runs.map((r) => r.record.startedAt).sort((a, b) => a - b);
      // Event at 0, RunTask at 1, RUNNING 1 s later: the first two on time, the others after back-off.
      assert.deepEqual(starts.slice(0, 2), [2, 2]);
      assert.ok(starts[9] > 4, `the last drainer started at ${starts[9]} s`);

      // Through the SDK: the third call in the same instant is throttled.
      const run = () =>
        c!.ecs.send(new RunTaskCommand({ cluster: "sim", taskDefinition: DRAINER_TASK_FAMILY }));
      await c.sim.run(10);
      await run();
      await run();
      await assert.rejects(run(), { name: "ThrottlingException" });
    });

    it("control: with the retry policy at 0 retries, the throttled launches are given up", async () => {
      c = await start(10, {
        launch: { ...ROOMY, runTasksPerSecond: 2, retryPolicy: { maximumRetryAttempts: 0 } },
      });
      c.sim.scaleIn("asg-a", 10);
      await c.sim.run(60);
      const report = c.sim.report();
      assert.equal(c.started.length, 2);
      assert.equal(report.launchFailures.throttledGaveUp, 8);
      assert.equal(report.runTaskRetries, 0);
    });
  });

  describe("the start latency", () => {
    const latencies = async (seed: number) => {
      const ctx = await start(8, { launch: { ...ROOMY, startLatencySeconds: [20, 60], seed } });
      try {
        ctx.sim.scaleIn("asg-a", 8);
        await ctx.sim.run(10);
        // PENDING: counted, described without startedAt, no process yet.
        const pending = await drainerTasks(ctx, "RUNNING");
        assert.equal(pending.length, 8);
        assert.ok(pending.every((t) => t.lastStatus === "PENDING" && t.startedAt === undefined));
        assert.equal(ctx.started.length, 0);
        await ctx.sim.run(60);
        const tasks = await drainerTasks(ctx, "RUNNING");
        assert.equal(ctx.started.length, 8);
        return tasks
          .map((t) => (t.startedAt!.getTime() - t.createdAt!.getTime()) / 1000)
          .sort((a, b) => a - b);
      } finally {
        ctx.ecs.destroy();
        await ctx.sim.stop();
      }
    };

    it("RunTask to RUNNING takes 20-60 s, drawn from the seed: the same seed repeats, another does not", async () => {
      const a = await latencies(11);
      assert.ok(
        a.every((s) => s >= 20 && s <= 60),
        `latencies ${a.join(", ")}`,
      );
      assert.ok(a[a.length - 1] - a[0] > 5, "drawn, not constant");
      assert.deepEqual(await latencies(11), a);
      assert.notDeepEqual(await latencies(12), a);
    });
  });

  describe("the subnet's free IPs", () => {
    it("with no free IP, RunTask accepts the task, which stops with TaskFailedToStart and an ECS Task State Change", async () => {
      c = await start(4, { launch: { ...ROOMY, freeIps: 2 }, runSeconds: 30 });
      const ids = c.sim.scaleIn("asg-a", 4);
      await c.sim.run(10);
      const report = c.sim.report();
      assert.equal(report.launchFailures.taskFailedToStart, 2);
      assert.equal(report.drainerTasksAccepted, 4, "EventBridge saw four successes");
      assert.equal(report.runTaskCalls, 4);
      assert.equal(c.started.length, 2);
      const stopped = c.sim.recorder.taskStateChanges.filter(
        (e) => e.detail.lastStatus === "STOPPED",
      );
      assert.equal(stopped.length, 2);
      for (const e of stopped) {
        assert.equal(e["detail-type"], "ECS Task State Change");
        assert.equal(e.detail.stopCode, "TaskFailedToStart");
        assert.match(e.detail.stoppedReason!, /InsufficientFreeAddressesInSubnet/);
      }
      // ECS lists them as stopped, with their instance, and never started.
      const failed = await drainerTasks(c, "STOPPED");
      assert.equal(failed.length, 2);
      for (const t of failed) {
        assert.equal(t.stopCode, "TaskFailedToStart");
        assert.equal(t.startedAt, undefined);
        assert.ok(ids.includes(instanceOf(t)!));
      }
      // The two that run hold the IPs until they stop; then a launch gets one.
      await c.sim.run(30);
      const out = await c.ecs.send(
        new RunTaskCommand({ cluster: "sim", taskDefinition: DRAINER_TASK_FAMILY }),
      );
      await c.sim.run(5);
      const [t] = await c.ecs
        .send(new DescribeTasksCommand({ cluster: "sim", tasks: [out.tasks![0].taskArn!] }))
        .then((o) => o.tasks!);
      assert.equal(t.lastStatus, "RUNNING");
    });

    it("control: with IPs to spare, every task runs", async () => {
      c = await start(4, { launch: { ...ROOMY, freeIps: 4 } });
      c.sim.scaleIn("asg-a", 4);
      await c.sim.run(10);
      assert.equal(c.sim.report().launchFailures.taskFailedToStart, 0);
      assert.equal(c.started.length, 4);
      assert.deepEqual(
        c.sim.recorder.taskStateChanges.filter((e) => e.detail.lastStatus === "STOPPED"),
        [],
      );
    });
  });

  describe("drainer tasks as ECS shows them", () => {
    it("a stopped drainer task stays listable (desiredStatus STOPPED) for about an hour, with its stop fields", async () => {
      // A fast clock, so that an hour passes in 6 s.
      c = await start(
        1,
        { runSeconds: 20, timeScale: 600 },
        {
          groups: [
            { name: "asg-a", instances: 1, hooks: [{ name: HOOK, heartbeatTimeout: 3000 }] },
          ],
        },
      );
      const [id] = c.sim.scaleIn("asg-a", 1);
      await c.sim.run(30);
      const [t] = await drainerTasks(c, "STOPPED");
      assert.equal(t.lastStatus, "STOPPED");
      assert.equal(t.desiredStatus, "STOPPED");
      assert.equal(t.stopCode, "EssentialContainerExited");
      assert.ok(t.stoppedAt instanceof Date && t.startedAt instanceof Date);
      assert.match(t.taskDefinitionArn!, /:task-definition\/ecs-scale-in-drainer:1$/);
      assert.equal(instanceOf(t), id);
      assert.equal(t.containers?.[0]?.exitCode, 0);
      const report = c.sim.report();
      // RunTask at 1 s, RUNNING at once, exit 20 s later, noticed within a tick of the clock: at 600x, 25 ms of a busy
      // event loop (the suite runs files in parallel) is 15 simulated seconds.
      assert.ok(
        report.drainerTaskSeconds >= 20 && report.drainerTaskSeconds < 36,
        `${report.drainerTaskSeconds}`,
      );
      await c.sim.run(STOPPED_TASK_RETENTION_SECONDS - 600);
      assert.equal((await drainerTasks(c, "STOPPED")).length, 1, "still there 50 minutes on");
      await c.sim.run(650);
      assert.deepEqual(await drainerTasks(c, "STOPPED"), [], "ECS has forgotten it after an hour");
    });
  });

  describe("DescribeTasks MISSING", () => {
    it("with describeMissingSeconds, a task created less than that long ago is answered in failures", async () => {
      c = await start(1, { faults: { describeMissingSeconds: 5 } });
      c.sim.scaleIn("asg-a", 1);
      await c.sim.run(2);
      const listed = await c.ecs.send(
        new ListTasksCommand({ cluster: "sim", family: DRAINER_TASK_FAMILY }),
      );
      assert.equal(listed.taskArns?.length, 1);
      const arn = listed.taskArns![0];
      let out = await c.ecs.send(new DescribeTasksCommand({ cluster: "sim", tasks: [arn] }));
      assert.deepEqual(out.tasks, []);
      assert.deepEqual(out.failures, [{ arn, reason: "MISSING" }]);
      await c.sim.run(5);
      out = await c.ecs.send(new DescribeTasksCommand({ cluster: "sim", tasks: [arn] }));
      assert.equal(out.tasks?.[0]?.taskArn, arn);
      assert.deepEqual(out.failures, []);
    });

    it("control: off by default, the same task is described at once", async () => {
      c = await start(1);
      c.sim.scaleIn("asg-a", 1);
      await c.sim.run(2);
      const listed = await c.ecs.send(
        new ListTasksCommand({ cluster: "sim", family: DRAINER_TASK_FAMILY }),
      );
      const out = await c.ecs.send(
        new DescribeTasksCommand({ cluster: "sim", tasks: listed.taskArns! }),
      );
      assert.equal(out.tasks?.length, 1);
      assert.deepEqual(out.failures, []);
    });
  });
});
