/**
 * The simulator itself, driven with the real AWS SDK v3 clients: its wire protocols, its model of ECS draining and
 * lifecycle hooks (drainer/AWS-FACTS.md), its faults and what it records.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  RecordLifecycleActionHeartbeatCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  paginateListTasks,
} from "@aws-sdk/client-ecs";
import assert from "node:assert/strict";
import { parseConfig } from "../../drainer/src/config";
import { DEFAULTS, ECS_MANAGED_DRAINING_HOOK } from "../../drainer/src/contract";
import { countTrustingDrainer } from "./baseline";
import { SimClock } from "./clock";
import { environmentFor } from "./eventbridge";
import { FAKE_CREDENTIALS } from "./launchers";
import { Simulation, percentile, readRate, scaledRate } from "./simulation";
import { WorldSpec } from "./world";

const HOOK = "drain-hook";

interface Ctx {
  sim: Simulation;
  ecs: ECSClient;
  asg: AutoScalingClient;
}

async function start(
  world: Partial<WorldSpec> & Pick<WorldSpec, "groups">,
  options: Partial<Parameters<typeof Simulation.start>[0]> = {},
): Promise<Ctx> {
  const sim = await Simulation.start({
    timeScale: 100,
    hook: HOOK,
    startPaused: true,
    ...options,
    world: { cluster: "sim", ...world },
  });
  const config = {
    endpoint: sim.endpoint,
    region: "us-east-1",
    credentials: FAKE_CREDENTIALS,
    maxAttempts: options.maxAttempts ?? 3,
  };
  return { sim, ecs: new ECSClient(config), asg: new AutoScalingClient(config) };
}

const oneGroup = (instances: number, heartbeatTimeout = 300) => [
  { name: "asg-a", instances, hooks: [{ name: HOOK, heartbeatTimeout }] },
];

async function containerInstanceOf(c: Ctx, instanceId: string): Promise<string> {
  const out = await c.ecs.send(
    new ListContainerInstancesCommand({ cluster: "sim", filter: `ec2InstanceId == ${instanceId}` }),
  );
  assert.equal(out.containerInstanceArns?.length, 1);
  return out.containerInstanceArns![0];
}

async function tasksOn(c: Ctx, ci: string, desiredStatus?: "RUNNING" | "STOPPED") {
  const arns: string[] = [];
  for await (const p of paginateListTasks(
    { client: c.ecs },
    { cluster: "sim", containerInstance: ci, desiredStatus },
  )) {
    arns.push(...(p.taskArns ?? []));
  }
  if (arns.length === 0) return [];
  const out = await c.ecs.send(new DescribeTasksCommand({ cluster: "sim", tasks: arns }));
  return out.tasks ?? [];
}

async function counts(c: Ctx, ci: string) {
  const out = await c.ecs.send(
    new DescribeContainerInstancesCommand({ cluster: "sim", containerInstances: [ci] }),
  );
  const x = out.containerInstances![0];
  return { running: x.runningTasksCount, pending: x.pendingTasksCount, status: x.status };
}

describe("simulator", function () {
  this.timeout(20_000);
  let c: Ctx | undefined;
  afterEach(async () => {
    c?.ecs.destroy();
    c?.asg.destroy();
    await c?.sim.stop();
    c = undefined;
  });

  describe("figures", () => {
    it("gives the busiest second, the busiest window and the mean of a read rate", () => {
      // 30 reads in the first second, then one a second for 20 s.
      const times = [
        ...Array.from({ length: 30 }, (_, i) => i / 30),
        ...Array.from({ length: 20 }, (_, i) => 1 + i),
      ];
      const rate = readRate(times, 0, 21, 10);
      assert.equal(rate.peak, 30, "the 30 reads of [0, 1)");
      assert.equal(rate.peakSustained, 3.9, "[0, 10) holds 30 + 9 reads");
      assert.equal(rate.mean, 50 / 21);
      assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
      assert.equal(percentile([5, 1, 4, 2, 3], 99), 5);
    });
  });

  describe("clock", () => {
    it("runs scheduled events in simulated-time order, each seeing its own time", async () => {
      const clock = new SimClock(1000);
      const seen: [string, number][] = [];
      clock.at(2, () => seen.push(["b", clock.now()]));
      clock.at(1, () => seen.push(["a", clock.now()]));
      const cancelled = clock.at(1.5, () => seen.push(["x", clock.now()]));
      cancelled.cancel();
      await clock.sleep(3);
      clock.stop();
      assert.deepEqual(seen, [
        ["a", 1],
        ["b", 2],
      ]);
    });
  });

  describe("ECS wire protocol", () => {
    it("finds a container instance by ec2InstanceId and answers the SDK's describe", async () => {
      c = await start({ groups: oneGroup(3), services: [{ name: "web", desiredCount: 3 }] });
      const id = c.sim.world.group("asg-a").instances[0].id;
      const ci = await containerInstanceOf(c, id);
      const out = await c.ecs.send(
        new DescribeContainerInstancesCommand({
          cluster: "sim",
          containerInstances: [ci, "0".repeat(32)],
        }),
      );
      assert.equal(out.containerInstances![0].ec2InstanceId, id);
      assert.equal(out.containerInstances![0].status, "ACTIVE");
      assert.equal(out.containerInstances![0].runningTasksCount, 1);
      assert.ok(out.containerInstances![0].registeredAt instanceof Date);
      assert.deepEqual(out.failures, [{ arn: "0".repeat(32), reason: "MISSING" }]);
    });

    it("counts as the API reference does: runningTasksCount includes PENDING tasks, pendingTasksCount only those; ListTasks lags when told to", async () => {
      c = await start({ groups: oneGroup(1), services: [] });
      c.sim.server.faults.listTasksLagSeconds = 3;
      const id = c.sim.world.group("asg-a").instances[0].id;
      const ci = await containerInstanceOf(c, id);
      c.sim.world.runTaskOn(id, { family: "job", pendingSeconds: 30 });
      assert.deepEqual(await counts(c, ci), { running: 1, pending: 1, status: "ACTIVE" });
      const listed = await c.ecs.send(
        new ListTasksCommand({ cluster: "sim", containerInstance: ci }),
      );
      assert.deepEqual(listed.taskArns, [], "not listed yet: ListTasks is eventually consistent");
    });

    it("pages ListTasks 100 at a time and refuses a DescribeTasks of more than 100", async () => {
      c = await start({ groups: oneGroup(1), services: [{ name: "many", desiredCount: 230 }] });
      const ci = await containerInstanceOf(c, c.sim.world.group("asg-a").instances[0].id);
      const pages: number[] = [];
      for await (const p of paginateListTasks(
        { client: c.ecs },
        { cluster: "sim", containerInstance: ci },
      )) {
        pages.push(p.taskArns!.length);
      }
      assert.deepEqual(pages, [100, 100, 30]);
      const all = [...c.sim.world.tasks.keys()];
      await assert.rejects(
        c.ecs.send(new DescribeTasksCommand({ cluster: "sim", tasks: all.slice(0, 101) })),
        { name: "InvalidParameterException" },
      );
      await assert.rejects(
        c.ecs.send(
          new UpdateContainerInstancesStateCommand({
            cluster: "sim",
            containerInstances: Array(11).fill(ci),
            status: "DRAINING",
          }),
        ),
        { name: "InvalidParameterException" },
      );
    });

    it("answers ClusterNotFoundException for another cluster", async () => {
      c = await start({ groups: oneGroup(1) });
      await assert.rejects(c.ecs.send(new ListTasksCommand({ cluster: "other" })), {
        name: "ClusterNotFoundException",
      });
    });

    it("refuses a ListContainerInstances filter it does not model, and records it", async () => {
      c = await start({ groups: oneGroup(1) });
      await assert.rejects(
        c.ecs.send(
          new ListContainerInstancesCommand({ cluster: "sim", filter: "runningTasksCount > 1" }),
        ),
        { name: "InvalidParameterException" },
      );
      assert.equal(c.sim.recorder.unsupported.length, 1);
    });
  });

  describe("ECS draining", () => {
    it("replaces RUNNING service tasks elsewhere before stopping them (100/200), and keeps stopping tasks out of runningTasksCount and ListTasks' default", async () => {
      c = await start({
        groups: oneGroup(2),
        services: [
          {
            name: "web",
            desiredCount: 2,
            startSeconds: 5,
            deactivatingSeconds: 20,
            stoppingSeconds: 10,
          },
        ],
      });
      const id = c.sim.world.group("asg-a").instances[1].id;
      const ci = await containerInstanceOf(c, id);
      await c.ecs.send(
        new UpdateContainerInstancesStateCommand({
          cluster: "sim",
          containerInstances: [ci],
          status: "DRAINING",
        }),
      );
      // Replacement PENDING on the other instance; the old task still RUNNING (minimumHealthyPercent 100).
      await c.sim.run(2);
      assert.deepEqual(
        (await tasksOn(c, ci)).map((t) => [t.lastStatus, t.desiredStatus]),
        [["RUNNING", "RUNNING"]],
      );
      // Once the replacement runs, the old task is stopped and spends 20 s in DEACTIVATING.
      await c.sim.run(6);
      assert.deepEqual(
        await tasksOn(c, ci),
        [],
        "ListTasks' default (desiredStatus RUNNING) hides stopping tasks",
      );
      const stopping = await tasksOn(c, ci, "STOPPED");
      assert.deepEqual(
        stopping.map((t) => [t.lastStatus, t.desiredStatus]),
        [["DEACTIVATING", "STOPPED"]],
      );
      assert.deepEqual(await counts(c, ci), { running: 0, pending: 0, status: "DRAINING" });
      await c.sim.run(22);
      assert.equal((await tasksOn(c, ci, "STOPPED"))[0].lastStatus, "STOPPING");
      await c.sim.run(10);
      const stopped = (await tasksOn(c, ci, "STOPPED"))[0];
      assert.equal(stopped.lastStatus, "STOPPED", "STOPPED tasks stay listable");
      assert.ok(stopped.stoppingAt instanceof Date && stopped.stoppedAt instanceof Date);
      const other = await containerInstanceOf(c, c.sim.world.group("asg-a").instances[0].id);
      assert.equal((await counts(c, other)).running, 2);
    });

    it("stops PENDING service tasks at once and cannot move a 100/100 service", async () => {
      c = await start({
        groups: oneGroup(2),
        services: [
          { name: "stuck", desiredCount: 2, minimumHealthyPercent: 100, maximumPercent: 100 },
          { name: "slow", desiredCount: 1, startSeconds: 1000 },
        ],
      });
      const [a, b] = c.sim.world.group("asg-a").instances.map((i) => i.containerInstance!);
      // A fresh PENDING task of "slow" on b: drain a first so that the replacement lands on b.
      c.sim.world.setContainerInstanceStatus(a, "DRAINING");
      await c.sim.run(1);
      const slowOnB = b.tasks.find((t) => t.group === "service:slow" && t.lastStatus === "PENDING");
      assert.ok(slowOnB, "a PENDING replacement of slow on b");
      await c.ecs.send(
        new UpdateContainerInstancesStateCommand({
          cluster: "sim",
          containerInstances: [a.arn],
          status: "ACTIVE",
        }),
      );
      await c.ecs.send(
        new UpdateContainerInstancesStateCommand({
          cluster: "sim",
          containerInstances: [b.arn],
          status: "DRAINING",
        }),
      );
      await c.sim.run(1);
      assert.equal(slowOnB.lastStatus, "STOPPED");
      await c.sim.run(100);
      const stuck = b.tasks.filter((t) => t.group === "service:stuck");
      assert.deepEqual(
        stuck.map((t) => t.lastStatus),
        ["RUNNING"],
        "100/100 cannot make progress",
      );
    });

    it("never stops standalone tasks, and stops daemon tasks last: after every other task, standalone ones included", async () => {
      c = await start({
        groups: oneGroup(2),
        services: [
          { name: "web", desiredCount: 2, startSeconds: 2, stoppingSeconds: 5 },
          { name: "agent", desiredCount: 0, daemon: true, stoppingSeconds: 1 },
        ],
        standaloneTasks: [{ family: "job", group: "asg-a", index: 1 }],
      });
      const ci = c.sim.world.group("asg-a").instances[1].containerInstance!;
      c.sim.world.setContainerInstanceStatus(ci, "DRAINING");
      const order: string[] = [];
      c.sim.world.on("event", (e) => {
        if (e.type === "task" && e.instanceId === ci.ec2.id && e.lastStatus === "STOPPED")
          order.push(e.group);
      });
      await c.sim.run(30);
      // The worst reading of AWS's "after all replica tasks": the daemon waits for the standalone task too.
      assert.deepEqual(order, ["service:web"]);
      const left = ci.tasks.filter((t) => t.lastStatus !== "STOPPED").map((t) => t.group);
      assert.deepEqual(left.sort(), ["family:job", "service:agent"]);
      const stopped = await c.ecs.send(
        new StopTaskCommand({
          cluster: "sim",
          task: ci.tasks.find((t) => t.group === "family:job")!.arn,
        }),
      );
      assert.equal(stopped.task?.desiredStatus, "STOPPED");
      await c.sim.run(30);
      assert.deepEqual(order, ["service:web", "family:job", "service:agent"]);
    });

    it("models capacity: a service's replacement finds no room, and ECS says so in a service event (DescribeServices)", async () => {
      c = await start({
        groups: oneGroup(2),
        services: [{ name: "web", desiredCount: 4, cpu: 1024, startSeconds: 2 }],
        instanceCpu: 2048,
      });
      const ci = c.sim.world.group("asg-a").instances[1].containerInstance!;
      c.sim.world.setContainerInstanceStatus(ci, "DRAINING");
      await c.sim.run(30);
      const live = ci.tasks.filter((t) => t.lastStatus !== "STOPPED");
      assert.equal(live.length, 2, "no replacement could be placed, so none stopped");
      const res = await c.ecs.send(
        new DescribeServicesCommand({ cluster: "sim", services: ["web", "nope"] }),
      );
      const [web] = res.services!;
      assert.equal(web.schedulingStrategy, "REPLICA");
      assert.deepEqual(web.deploymentConfiguration, {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
      });
      assert.match(
        web.events![0].message!,
        /^service web was unable to place a task because no container instance met all of its requirements\. The closest matching container-instance \w+ has insufficient CPU units available\./,
      );
      assert.ok(web.events![0].createdAt instanceof Date);
      assert.deepEqual(res.failures, [{ arn: "nope", reason: "MISSING" }]);
    });
  });

  describe("Auto Scaling wire protocol and hooks", () => {
    it("shows Terminating:Wait, the hook in wall-clock seconds, and ends in Terminated with the killed tasks recorded", async () => {
      c = await start({ groups: oneGroup(2, 300), services: [{ name: "web", desiredCount: 2 }] });
      const [id] = c.sim.scaleIn("asg-a", 1);
      const g = await c.asg.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["asg-a"] }),
      );
      assert.deepEqual(
        g.AutoScalingGroups![0].Instances!.map((i) => i.LifecycleState),
        ["InService", "Terminating:Wait"],
      );
      const inst = await c.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] }));
      assert.equal(inst.AutoScalingInstances![0].AutoScalingGroupName, "asg-a");
      const hooks = await c.asg.send(
        new DescribeLifecycleHooksCommand({ AutoScalingGroupName: "asg-a" }),
      );
      assert.deepEqual(
        hooks.LifecycleHooks!.map((h) => [
          h.LifecycleHookName,
          h.HeartbeatTimeout,
          h.GlobalTimeout,
          h.DefaultResult,
        ]),
        [[HOOK, 3, 300, "CONTINUE"]],
      );
      await c.asg.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: "asg-a",
          LifecycleHookName: HOOK,
          InstanceId: id,
          LifecycleActionResult: "CONTINUE",
        }),
      );
      assert.equal(c.sim.world.instance(id).lifecycleState, "Terminated");
      const rec = c.sim.recorder.instances.get(id)!;
      assert.equal(rec.killed.length, 1, "the web task still RUNNING was killed");
      assert.deepEqual(
        rec.completions.map((x) => [x.result, x.via]),
        [["CONTINUE", "api"]],
      );
      await assert.rejects(
        c.asg.send(
          new RecordLifecycleActionHeartbeatCommand({
            AutoScalingGroupName: "asg-a",
            LifecycleHookName: HOOK,
            InstanceId: id,
          }),
        ),
        (err: Error) => {
          assert.equal(err.name, "ValidationError");
          assert.equal(err.message, `No active Lifecycle Action found with instance ID ${id}`);
          return true;
        },
      );
    });

    it("writes a scale-in's termination activity: in progress first while held, its start the hold's, Successful once terminated", async () => {
      c = await start({ groups: oneGroup(3, 300) });
      await c.sim.run(4);
      const [id] = c.sim.scaleIn("asg-a", 1);
      const at = c.sim.clock.now();
      const read = async (input: { MaxRecords?: number; NextToken?: string } = {}) =>
        c!.asg.send(
          new DescribeScalingActivitiesCommand({ AutoScalingGroupName: "asg-a", ...input }),
        );
      const held = await read();
      const [first, ...rest] = held.Activities!;
      assert.equal(first.Description, `Terminating EC2 instance: ${id}`);
      assert.equal(first.StatusCode, "MidLifecycleAction");
      assert.equal(first.StartTime!.toISOString(), c.sim.world.isoTime(at));
      assert.equal(first.EndTime, undefined);
      assert.deepEqual(
        rest.map((a) => [a.Description!.replace(/i-\w+$/, "i-…"), a.StatusCode]),
        Array(3).fill(["Launching a new EC2 instance: i-…", "Successful"]),
      );
      // Paged as AWS pages: MaxRecords at most 100, NextToken to the rest.
      const page = await read({ MaxRecords: 2 });
      assert.equal(page.Activities!.length, 2);
      const next = await read({ MaxRecords: 2, NextToken: page.NextToken });
      assert.equal(next.Activities!.length, 2);
      assert.equal(next.NextToken, undefined);
      await assert.rejects(read({ MaxRecords: 101 }), /MaxRecords must be between 1 and 100/);
      // An unknown group has none here; an activity filter is refused as unmodelled, and recorded.
      const none = await c.asg.send(
        new DescribeScalingActivitiesCommand({ AutoScalingGroupName: "nope" }),
      );
      assert.deepEqual(none.Activities, []);
      await assert.rejects(
        c.asg.send(
          new DescribeScalingActivitiesCommand({
            AutoScalingGroupName: "asg-a",
            Filters: [{ Name: "Status", Values: ["Successful"] }],
          }),
        ),
      );
      assert.equal(c.sim.recorder.unsupported.length, 1);
      c.sim.recorder.unsupported.length = 0;
      await c.asg.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: "asg-a",
          LifecycleHookName: HOOK,
          InstanceId: id,
          LifecycleActionResult: "CONTINUE",
        }),
      );
      const done = (await read()).Activities!.find((a) => a.Description!.endsWith(id))!;
      assert.equal(done.StatusCode, "Successful");
      assert.ok(done.EndTime instanceof Date);
    });

    it("restarts the heartbeat timeout on each heartbeat and applies the default result when it runs out", async () => {
      c = await start({
        groups: [
          {
            name: "asg-a",
            instances: 1,
            hooks: [{ name: HOOK, heartbeatTimeout: 100, defaultResult: "ABANDON" }],
          },
        ],
      });
      const [id] = c.sim.scaleIn("asg-a", 1);
      for (let i = 0; i < 3; i++) {
        await c.sim.run(60);
        await c.asg.send(
          new RecordLifecycleActionHeartbeatCommand({
            AutoScalingGroupName: "asg-a",
            LifecycleHookName: HOOK,
            InstanceId: id,
          }),
        );
      }
      assert.equal(
        c.sim.world.instance(id).lifecycleState,
        "Terminating:Wait",
        "held 180 s by heartbeats",
      );
      await c.sim.waitFor(() => c!.sim.world.instance(id).lifecycleState === "Terminated", 200);
      const rec = c.sim.recorder.instances.get(id)!;
      assert.deepEqual(
        rec.completions.map((x) => [x.result, x.via]),
        [["ABANDON", "heartbeat-timeout"]],
      );
      assert.ok(rec.terminatedAt! - rec.scaleInAt >= 280 - 1, `ended at ${rec.terminatedAt}`);
      assert.deepEqual(c.sim.recorder.hookTimeouts(), [id]);
    });

    it("ends the action at the global timeout of 100 x HeartbeatTimeout however often it is heartbeaten", async () => {
      c = await start(
        { groups: [{ name: "asg-a", instances: 1, hooks: [{ name: HOOK, heartbeatTimeout: 1 }] }] },
        { timeScale: 1, startPaused: false },
      );
      const [id] = c.sim.scaleIn("asg-a", 1);
      const beat = setInterval(() => {
        void c?.asg
          .send(
            new RecordLifecycleActionHeartbeatCommand({
              AutoScalingGroupName: "asg-a",
              LifecycleHookName: HOOK,
              InstanceId: id,
            }),
          )
          .catch(() => undefined);
      }, 300);
      try {
        // The global timeout is 100 s here; instead of waiting, check the deadline the world armed.
        const action = c.sim.world.actions.get(`${id} ${HOOK}`)!;
        assert.equal(action.globalDeadline - action.startedAt, 100);
        await c.sim.run(1.5);
        assert.equal(c.sim.world.instance(id).lifecycleState, "Terminating:Wait");
        assert.ok(action.heartbeatDeadline > action.startedAt + 1, "heartbeats moved the deadline");
      } finally {
        clearInterval(beat);
      }
    });

    it("waits for every hook: ECS managed draining completes its own once the instance is empty", async () => {
      c = await start({
        groups: [
          {
            name: "asg-a",
            instances: 2,
            hooks: [{ name: HOOK, heartbeatTimeout: 300 }],
            managedDraining: true,
          },
        ],
        services: [{ name: "web", desiredCount: 2, startSeconds: 1, stoppingSeconds: 2 }],
      });
      const [id] = c.sim.scaleIn("asg-a", 1);
      await c.asg.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: "asg-a",
          LifecycleHookName: HOOK,
          InstanceId: id,
          LifecycleActionResult: "CONTINUE",
        }),
      );
      assert.equal(
        c.sim.world.instance(id).lifecycleState,
        "Terminating:Wait",
        "the managed hook still holds it",
      );
      await c.sim.waitFor(() => c!.sim.world.instance(id).lifecycleState === "Terminated", 60);
      const rec = c.sim.recorder.instances.get(id)!;
      assert.deepEqual(
        rec.completions.map((x) => x.hook),
        [HOOK, ECS_MANAGED_DRAINING_HOOK],
      );
      assert.equal(rec.killed.length, 0);
    });
  });

  describe("faults", () => {
    it("throttles ECS reads with a burst of 100 refilled at 20/s, and the SDK retries", async () => {
      c = await start(
        { groups: oneGroup(1) },
        { timeScale: 1, startPaused: false, maxAttempts: 10 },
      );
      const results = await Promise.allSettled(
        Array.from({ length: 130 }, () => c!.ecs.send(new ListTasksCommand({ cluster: "sim" }))),
      );
      assert.ok(
        results.every((r) => r.status === "fulfilled"),
        "the SDK's retries absorb the throttles",
      );
      const s = c.sim.recorder.calls.get("ecs:ListTasks")!;
      assert.ok(s.throttled >= 10, `throttled ${s.throttled}`);
      assert.equal(s.retries, s.throttled, "every throttled call was retried once more");
      assert.equal(s.calls, 130 + s.retries);
    });

    it("answers 5xx, ResourceContention and Auto Scaling's Throttling in the real shapes, which the SDK retries", async () => {
      c = await start({ groups: oneGroup(1) }, { faults: { serverErrorRate: 1 }, maxAttempts: 2 });
      await assert.rejects(
        c.ecs.send(new ListTasksCommand({ cluster: "sim" })),
        (err: Error & { $metadata: { attempts: number; httpStatusCode: number } }) => {
          assert.equal(err.name, "ServerException");
          assert.equal(err.$metadata.attempts, 2);
          assert.ok([500, 503].includes(err.$metadata.httpStatusCode));
          return true;
        },
      );
      c.sim.server.faults.serverErrorRate = 0;
      c.sim.server.faults.contentionRate = 1;
      await assert.rejects(
        c.asg.send(new DescribeAutoScalingGroupsCommand({})),
        (err: Error & { $metadata: { attempts: number; httpStatusCode: number } }) => {
          assert.equal(err.name, "ResourceContentionFault");
          assert.equal(err.$metadata.httpStatusCode, 500);
          assert.equal(err.$metadata.attempts, 2);
          return true;
        },
      );
      c.sim.server.faults.contentionRate = 0;
      c.sim.server.faults.throttleRate = 1;
      await assert.rejects(
        c.asg.send(new DescribeAutoScalingGroupsCommand({})),
        (err: Error & { $metadata: { attempts: number } }) => {
          assert.equal(err.name, "Throttling");
          assert.equal(err.$metadata.attempts, 2);
          return true;
        },
      );
      assert.equal(c.sim.recorder.total().retries, 3);
    });

    it("adds latency in simulated seconds and can throttle Auto Scaling with a bucket of its own", async () => {
      c = await start(
        { groups: oneGroup(1) },
        {
          startPaused: false,
          maxAttempts: 1,
          faults: { latencySeconds: 10, autoScalingBucket: { burst: 2, refillPerSecond: 0.001 } },
        },
      );
      const t0 = Date.now();
      await c.ecs.send(new ListTasksCommand({ cluster: "sim" }));
      assert.ok(Date.now() - t0 >= 100, "10 simulated seconds are 100 ms at time scale 100");
      c.sim.server.faults.latencySeconds = 0;
      await c.asg.send(new DescribeAutoScalingGroupsCommand({}));
      await c.asg.send(new DescribeAutoScalingGroupsCommand({}));
      await assert.rejects(c.asg.send(new DescribeAutoScalingGroupsCommand({})), (err: Error) => {
        assert.equal(err.name, "Throttling");
        assert.equal(err.message, "Rate exceeded");
        return true;
      });
    });

    it("an instance that vanishes leaves no active action and no container instance", async () => {
      c = await start({ groups: oneGroup(2), services: [{ name: "web", desiredCount: 2 }] });
      const [id] = c.sim.scaleIn("asg-a", 1);
      c.sim.world.vanish(id);
      const out = await c.ecs.send(
        new ListContainerInstancesCommand({ cluster: "sim", filter: `ec2InstanceId == ${id}` }),
      );
      assert.deepEqual(out.containerInstanceArns, []);
      await assert.rejects(
        c.asg.send(
          new CompleteLifecycleActionCommand({
            AutoScalingGroupName: "asg-a",
            LifecycleHookName: HOOK,
            InstanceId: id,
            LifecycleActionResult: "CONTINUE",
          }),
        ),
        { name: "ValidationError" },
      );
      assert.equal(
        c.sim.recorder.killedTotal(),
        0,
        "tasks lost with a vanished instance are counted apart",
      );
      assert.equal(c.sim.recorder.killedTotal({ includeVanished: true }), 1);
    });
  });

  describe("EventBridge step", () => {
    it("gives the drainer the task's environment plus the event's four fields, which the drainer's parser accepts", async () => {
      c = await start({ groups: oneGroup(1) }, { timeScale: 50 });
      const events: Parameters<typeof environmentFor>[0][] = [];
      c.sim.world.on("lifecycle-event", (e) => events.push(e));
      const [id] = c.sim.scaleIn("asg-a", 1);
      const env = environmentFor(events[0], c.sim.taskEnvironment());
      assert.equal(env.EC2_INSTANCE_ID, id);
      assert.equal(env.AUTOSCALING_GROUP_NAME, "asg-a");
      assert.equal(env.LIFECYCLE_HOOK_NAME, HOOK);
      assert.equal(env.LIFECYCLE_ACTION_TOKEN, c.sim.world.actions.get(`${id} ${HOOK}`)!.token);
      const config = parseConfig(env);
      assert.equal(config.mode, "event");
      assert.equal(config.pollIntervalSeconds, 0.2, "10 simulated seconds at time scale 50");
      assert.equal(config.drainTimeoutSeconds, 72, "the drainer's default 3600 s, scaled");
      assert.equal(
        env.ECS_READS_PER_SECOND,
        String(DEFAULTS.ecsReadsPerSecond * 50),
        "the drainer's default rate per simulated second",
      );
      assert.throws(
        () => scaledRate(15, 1000),
        /ECS_READS_PER_SECOND 15000, above the drainer's limit of 10000: use a time scale of at most 666/,
      );
    });

    it("delivers duplicated events twice and lost events never", async () => {
      const started: string[] = [];
      c = await start(
        { groups: oneGroup(3) },
        {
          launcher: (env) => {
            started.push(env.EC2_INSTANCE_ID);
            return { exit: Promise.resolve(0), kill: () => undefined, lines: [], stderr: [] };
          },
        },
      );
      const ids = c.sim.world.group("asg-a").instances.map((i) => i.id);
      c.sim.eventBridge.faults = { duplicate: [ids[1]], lose: [ids[2]] };
      c.sim.scaleIn("asg-a", ids);
      await c.sim.run(5);
      assert.deepEqual(started.sort(), [ids[0], ids[1], ids[1]].sort());
    });
  });

  describe("negative control", () => {
    it("a drainer that trusts runningTasksCount completes while tasks are still stopping, and they are counted killed", async () => {
      c = await start(
        {
          groups: oneGroup(2),
          services: [{ name: "web", desiredCount: 2, startSeconds: 2, deactivatingSeconds: 60 }],
        },
        { launcher: countTrustingDrainer, timeScale: 50, drainer: { pollIntervalSeconds: 5 } },
      );
      c.sim.scaleIn("asg-a", 1);
      const report = await c.sim.settle(200);
      assert.equal(report.tasksKilled, 1);
      assert.equal(
        c.sim.recorder.instances.values().next().value!.killed[0].lastStatus,
        "DEACTIVATING",
      );
      assert.deepEqual(report.exitCodes, [0]);
    });
  });
});
