import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from "@aws-sdk/client-ecs";
import { strict as assert } from "node:assert";
import { AwsPort } from "../../drainer/src/aws";
import { DECLARED_ACTIONS } from "../../drainer/src/contract";
import { FAMILY, awsError } from "../doubles/scripted";
import { FAST, eventVars, harness } from "./harness";

describe("drain (event mode)", () => {
  it("sets the instance DRAINING and completes with CONTINUE once its service tasks have stopped", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000001", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000001",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [15, "STOPPED", "STOPPED"],
      )
      .addTask(
        "api-1",
        "i-0000000000000001",
        "service:api",
        [0, "RUNNING", "RUNNING"],
        [25, "STOPPED", "STOPPED"],
      );
    const [out] = await h.run({ ...eventVars("i-0000000000000001"), ...FAST });
    assert.equal(out.result, "completed");
    assert.equal(out.tasksAtStart, 2);
    assert.deepEqual(
      h.world.completions.map((c) => [c.instanceId, c.result]),
      [["i-0000000000000001", "CONTINUE"]],
    );
    assert.equal(h.world.instances.get("i-0000000000000001")!.ecsStatus, "DRAINING");
    assert.deepEqual(h.world.killed("i-0000000000000001"), []);
    // Completed at the first poll after the last task stopped (25 s): 30 s.
    assert.equal(h.world.completions[0].at, 30);
    const set = h.world.ecsMock.commandCalls(UpdateContainerInstancesStateCommand);
    assert.equal(set.length, 1);
    assert.deepEqual(set[0].args[0].input, {
      cluster: "prod",
      containerInstances: [h.world.ciArn("i-0000000000000001")],
      status: "DRAINING",
    });
  });

  it("never completes while a task is stopping, although runningTasksCount is already 0", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000002", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000002",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [5, "DEACTIVATING", "STOPPED"],
        [48, "STOPPING", "STOPPED"],
        [61, "STOPPED", "STOPPED"],
      );
    const [out] = await h.run({ ...eventVars("i-0000000000000002"), ...FAST });
    assert.equal(out.result, "completed");
    assert.equal(
      h.world.completions[0].at,
      70,
      "completes at the first poll after the task reached STOPPED",
    );
    assert.deepEqual(h.world.killed("i-0000000000000002"), []);
    const waits = h.lines.filter((l) => l.action === "wait");
    assert.ok(
      waits.some((l) => l.blockers.stopping === 1),
      "logs the stopping task as what blocks",
    );
    // Listed in full (RUNNING and STOPPED) at 0, to learn what blocks. From 10 s ECS counts no task to run: the
    // drainer describes the known stopping task again each poll, and once it has stopped (70 s), proves the instance
    // empty with a fresh full listing (rule 1).
    assert.deepEqual(
      h.world.ecsMock.commandCalls(ListTasksCommand).map((c) => c.args[0].input.desiredStatus),
      ["RUNNING", "STOPPED", "RUNNING", "STOPPED"],
    );
    assert.deepEqual(
      h.world.calls.filter((c) => c.name === "DescribeContainerInstancesCommand").map((c) => c.at),
      [0, 10, 70],
    );
    assert.deepEqual(
      h.world.calls.filter((c) => c.name === "DescribeTasksCommand").map((c) => c.at),
      [0, 10, 20, 30, 40, 50, 60, 70],
    );
  });

  it("while it only watches stopping tasks, never misses a task placed and stopped in between", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000003", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000003",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [5, "DEACTIVATING", "STOPPED"],
        [45, "STOPPED", "STOPPED"],
      )
      // Placed while someone had the instance ACTIVE for a moment between two polls, and already stopping when
      // the drainer next reads ECS's counters, which show nothing to run.
      .addTask(
        "job-2",
        "i-0000000000000003",
        "family:job",
        [22, "RUNNING", "RUNNING"],
        [26, "DEACTIVATING", "STOPPED"],
        [75, "STOPPED", "STOPPED"],
      );
    await h.run({ ...eventVars("i-0000000000000003"), ...FAST });
    assert.deepEqual(h.world.killed("i-0000000000000003"), []);
    assert.equal(h.world.completions[0].at, 80);
  });

  it("never completes while a task is PENDING", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000003", "asg-a")
      .addTask(
        "job-1",
        "i-0000000000000003",
        "service:web",
        [0, "PENDING", "RUNNING"],
        [12, "STOPPED", "STOPPED"],
      );
    await h.run({ ...eventVars("i-0000000000000003"), ...FAST });
    assert.equal(h.world.completions[0].at, 20);
    assert.deepEqual(h.world.killed("i-0000000000000003"), []);
  });

  it("waits for the counters and the listing to agree before completing", async () => {
    // ECS counts a task the listing does not show (eventual consistency): the drainer must not guess.
    const h = harness();
    h.world.addInstance("i-0000000000000004", "asg-a");
    let described = 0;
    h.world.ecsMock.on(DescribeContainerInstancesCommand).callsFake((input) => {
      described++;
      return {
        containerInstances: [
          {
            containerInstanceArn: input.containerInstances[0],
            ec2InstanceId: "i-0000000000000004",
            status: "DRAINING",
            runningTasksCount: described < 3 ? 1 : 0,
            pendingTasksCount: 0,
          },
        ],
      };
    });
    await h.run({ ...eventVars("i-0000000000000004"), ...FAST });
    assert.equal(h.world.completions.length, 1);
    assert.equal(described, 3, "two polls saw a counted task and held the instance");
  });

  it("lists again when a listing and ECS's counters disagree, and never trusts an incomplete set of tasks", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000025", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000025",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [15, "STOPPED", "STOPPED"],
      )
      .addTask(
        "web-2",
        "i-0000000000000025",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [5, "DEACTIVATING", "STOPPED"],
        [45, "STOPPED", "STOPPED"],
      );
    // The first ListTasks misses web-2 (ListTasks is eventually consistent); the counters still count it.
    let lists = 0;
    h.world.ecsMock.on(ListTasksCommand).callsFake((input) => {
      const all = h.world.tasks.filter(
        (t) => h.world.taskState(t)?.[1] === (input.desiredStatus ?? "RUNNING"),
      );
      return {
        taskArns: all.map((t) => t.arn).filter((a) => !(lists++ === 0 && a.endsWith("web-2"))),
      };
    });
    const [out] = await h.run({ ...eventVars("i-0000000000000025"), ...FAST });
    assert.equal(out.result, "completed");
    assert.equal(
      h.world.completions[0].at,
      50,
      "waits for web-2, which the first listing missed, to stop",
    );
    assert.deepEqual(h.world.killed("i-0000000000000025"), []);
  });

  it("logs what blocks the drain only when it changes, with counts per service and group", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000005", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000005",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [35, "STOPPED", "STOPPED"],
      )
      .addTask(
        "web-2",
        "i-0000000000000005",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [35, "STOPPED", "STOPPED"],
      )
      .addTask(
        "job-1",
        "i-0000000000000005",
        "family:nightly",
        [0, "RUNNING", "RUNNING"],
        [55, "STOPPED", "STOPPED"],
      );
    await h.run({ ...eventVars("i-0000000000000005"), ...FAST });
    // (The lines that say why it is stuck, once it waits a while, are diagnose.test.ts's.)
    const waits = h.lines.filter((l) => l.action === "wait" && !l.stuck).map((l) => l.blockers);
    assert.deepEqual(waits, [
      { total: 3, groups: { "family:nightly": 1, "service:web": 2 }, standalone: 1, stopping: 0 },
      { total: 1, groups: { "family:nightly": 1 }, standalone: 1, stopping: 0 },
    ]);
    for (const l of h.lines) {
      assert.deepEqual(
        ["time", "level", "msg", "cluster", "asg", "hook", "instanceId", "action"].filter(
          (k) => !(k in l),
        ),
        [],
        `every line has the same keys: ${JSON.stringify(l)}`,
      );
    }
  });

  it("completes at once, without draining, when the instance is not registered in the cluster", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000006", "asg-a", null);
    const [out] = await h.run(eventVars("i-0000000000000006"));
    assert.equal(out.result, "not-in-cluster");
    assert.equal(h.world.completions.length, 1);
    assert.equal(h.world.completions[0].at, 0);
    assert.equal(h.world.count(UpdateContainerInstancesStateCommand), 0);
  });

  it("completes when the container instance vanishes from the cluster mid-drain", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000007", "asg-a")
      .addTask("web-1", "i-0000000000000007", "service:web", [0, "RUNNING", "RUNNING"]);
    h.world.instances.get("i-0000000000000007")!.goneAt = 22;
    const [out] = await h.run({ ...eventVars("i-0000000000000007"), ...FAST });
    assert.equal(out.result, "not-in-cluster");
    assert.equal(h.world.completions[0].at, 30);
  });

  it("sends heartbeats on schedule during a long drain, by default at half the hook's timeout", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000008", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000008",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [1000, "STOPPED", "STOPPED"],
      );
    h.world.hooks.set("asg-a", [{ name: "drain-hook", heartbeatTimeout: 300 }]);
    await h.run({ ...eventVars("i-0000000000000008"), POLL_INTERVAL_SECONDS: "7" });
    assert.deepEqual(
      h.world.heartbeats.map((b) => b.at),
      [0, 15, 165, 315, 465, 615, 765, 915],
      "at once, 15 s later (before the hook's timeout was read, the shortest a hook may need), then every 150 s, on time even though 150 is not a multiple of the poll interval",
    );
    assert.equal(h.world.completions.length, 1);
  });

  it("sends heartbeats on time even while a poll is slow (throttling, retries)", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000026", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000026",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [100, "STOPPED", "STOPPED"],
      );
    h.world.hooks.set("asg-a", [{ name: "drain-hook", heartbeatTimeout: 30 }]);
    // Every DescribeContainerInstances takes 40 s (the SDK retrying a throttled call), longer than the hook's timeout.
    const original = h.world.port.describeContainerInstances.bind(h.world.port);
    const port = {
      ...h.world.port,
      describeContainerInstances: async (cluster: string, arns: readonly string[]) => {
        await h.clock.sleep(40_000, new AbortController().signal);
        return original(cluster, arns);
      },
    };
    const [out] = await h.run({ ...eventVars("i-0000000000000026"), ...FAST }, { port });
    assert.equal(out.result, "completed");
    const beats = h.world.heartbeats.map((b) => b.at);
    const gaps = beats.slice(1).map((t, i) => t - beats[i]);
    assert.equal(beats[0], 0);
    assert.ok(
      gaps.every((g) => g === 15),
      `every 15 s: ${beats.join(", ")}`,
    );
  });

  it("uses HEARTBEAT_INTERVAL_SECONDS when set", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000009", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000009",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [100, "STOPPED", "STOPPED"],
      );
    await h.run({ ...eventVars("i-0000000000000009"), ...FAST, HEARTBEAT_INTERVAL_SECONDS: "40" });
    assert.deepEqual(
      h.world.heartbeats.map((b) => b.at),
      [0, 40, 80],
    );
  });

  it("at the deadline logs exactly which tasks block, then completes with TIMEOUT_RESULT", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000010", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000010",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [5, "DEACTIVATING", "STOPPED"],
      )
      .addTask("job-1", "i-0000000000000010", "family:batch", [0, "RUNNING", "RUNNING"]);
    const [out] = await h.run({
      ...eventVars("i-0000000000000010"),
      ...FAST,
      DRAIN_TIMEOUT_SECONDS: "60",
      TIMEOUT_RESULT: "ABANDON",
    });
    assert.equal(out.result, "timed-out");
    assert.equal(out.lifecycleResult, "ABANDON");
    assert.deepEqual(
      h.world.completions.map((c) => [c.result, c.at]),
      [["ABANDON", 60]],
    );
    const timeout = h.lines.find((l) => l.action === "timeout");
    assert.equal(timeout?.level, "error");
    assert.deepEqual(timeout.blockers, {
      total: 2,
      groups: { "family:batch": 1, "service:web": 1 },
      standalone: 1,
      stopping: 1,
    });
  });

  describe("says at start, and at the deadline, whether a drain that times out keeps its instance", () => {
    async function timesOut(vars: Record<string, string>, retention?: string) {
      const h = harness();
      if (retention) h.world.retention.set("asg-a", retention);
      h.world
        .addInstance("i-0000000000000011", "asg-a")
        .addTask("job-1", "i-0000000000000011", "family:batch", [0, "RUNNING", "RUNNING"]);
      const [out] = await h.run({
        ...eventVars("i-0000000000000011"),
        ...FAST,
        DRAIN_TIMEOUT_SECONDS: "60",
        ...vars,
      });
      assert.equal(out.result, "timed-out");
      const plan = h.lines.find((l) => l.action === "plan" && "keptOnTimeout" in l);
      const timeout = h.lines.find((l) => l.action === "timeout");
      assert.ok(plan && timeout, "a plan line and a timeout line");
      return { plan, timeout, h };
    }

    it("ABANDON with a group that retains: says the instance is kept", async () => {
      const { plan, timeout } = await timesOut({ TIMEOUT_RESULT: "ABANDON" }, "retain");
      assert.equal(plan.level, "info");
      assert.equal(plan.keptOnTimeout, true);
      assert.equal(plan.terminateHookAbandon, "retain");
      assert.match(plan.msg, /retains the instance \(Terminating:Retained\)/);
      assert.equal(timeout.kept, true);
      assert.match(timeout.msg, /the group retains the instance/);
    });

    it("ABANDON without a retaining policy: a warning at start that it still terminates, and the fix", async () => {
      const { plan, timeout } = await timesOut({ TIMEOUT_RESULT: "ABANDON" });
      assert.equal(plan.level, "warn");
      assert.equal(plan.keptOnTimeout, false);
      assert.equal(plan.terminateHookAbandon, null);
      assert.match(
        plan.msg,
        /will still terminate .* TerminateHookAbandon retention trigger to retain/,
      );
      assert.equal(timeout.kept, false);
      assert.match(timeout.msg, /terminates with whatever still runs on it/);
    });

    it("CONTINUE with a group that retains: terminated, and it says ABANDON would keep it", async () => {
      const { plan, timeout } = await timesOut({}, "retain");
      assert.equal(plan.level, "info");
      assert.equal(plan.keptOnTimeout, false);
      assert.match(plan.msg, /would retain it with TIMEOUT_RESULT=ABANDON/);
      assert.equal(timeout.kept, false);
    });

    it("a policy that cannot be read is a warning, and changes no drain", async () => {
      const h = harness();
      h.world.asMock
        .on(DescribeAutoScalingGroupsCommand)
        .rejects(awsError("AccessDenied", "not allowed", 403));
      h.world
        .addInstance("i-0000000000000012", "asg-a")
        .addTask(
          "web-1",
          "i-0000000000000012",
          "service:web",
          [0, "RUNNING", "RUNNING"],
          [15, "STOPPED", "STOPPED"],
        );
      const [out] = await h.run({ ...eventVars("i-0000000000000012"), ...FAST });
      assert.equal(out.result, "completed");
      const warn = h.lines.find(
        (l) => l.msg === "could not read the group's instance lifecycle policy",
      );
      assert.equal(warn?.level, "warn");
    });
  });

  it("after the deadline, retries a failed completion at the poll cadence, not at once", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000027", "asg-a")
      .addTask("web-1", "i-0000000000000027", "service:web", [0, "RUNNING", "RUNNING"]);
    h.world.failures.set("CompleteLifecycleActionCommand", [
      awsError("ServiceUnavailable", "try later", 503),
      awsError("ServiceUnavailable", "try later", 503),
    ]);
    const [out] = await h.run({
      ...eventVars("i-0000000000000027"),
      ...FAST,
      DRAIN_TIMEOUT_SECONDS: "55",
    });
    assert.equal(out.result, "timed-out");
    assert.deepEqual(
      h.world.calls.filter((c) => c.name === "CompleteLifecycleActionCommand").map((c) => c.at),
      [55, 65, 75],
    );
  });

  it("waits for standalone tasks by default, and never stops them", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000011", "asg-a")
      .addTask(
        "job-1",
        "i-0000000000000011",
        "family:batch",
        [0, "RUNNING", "RUNNING"],
        [95, "STOPPED", "STOPPED"],
      );
    await h.run({ ...eventVars("i-0000000000000011"), ...FAST });
    assert.equal(h.world.count(StopTaskCommand), 0);
    assert.equal(h.world.completions[0].at, 100);
  });

  it("with STOP_STANDALONE_TASKS stops standalone tasks once only they remain, then waits for them to stop", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000012", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000012",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [25, "STOPPED", "STOPPED"],
      )
      .addTask("job-1", "i-0000000000000012", "family:batch", [0, "RUNNING", "RUNNING"]);
    const [out] = await h.run({
      ...eventVars("i-0000000000000012"),
      ...FAST,
      STOP_STANDALONE_TASKS: "true",
    });
    assert.equal(out.result, "completed");
    assert.deepEqual(
      h.world.stopped.map((s) => [s.arn.split("/").pop(), s.at]),
      [["job-1", 30]],
    );
    assert.equal(
      h.world.completions[0].at,
      40,
      "completes after the stopped task reached STOPPED (32 s)",
    );
    assert.deepEqual(h.world.killed("i-0000000000000012"), []);
  });

  it("takes 'No active Lifecycle Action' on a heartbeat as done and stops waiting", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000013", "asg-a")
      .addTask("web-1", "i-0000000000000013", "service:web", [0, "RUNNING", "RUNNING"]);
    h.world.failures.set("RecordLifecycleActionHeartbeatCommand", [
      undefined as unknown as Error, // the first, at once, goes through
      awsError(
        "ValidationError",
        "No active Lifecycle Action found with instance ID i-0000000000000013",
      ),
    ]);
    const [out] = await h.run({
      ...eventVars("i-0000000000000013"),
      ...FAST,
      HEARTBEAT_INTERVAL_SECONDS: "30",
    });
    assert.equal(out.result, "already-complete");
    assert.equal(h.world.count(CompleteLifecycleActionCommand), 0);
  });

  it("takes 'No active Lifecycle Action' on completion as done", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000014", "asg-a");
    h.world.failures.set("CompleteLifecycleActionCommand", [
      awsError(
        "ValidationError",
        "No active Lifecycle Action found with token 87654321-4321-4321-4321-210987654321",
      ),
    ]);
    const [out] = await h.run(eventVars("i-0000000000000014"));
    assert.equal(out.result, "already-complete");
  });

  it("does nothing for an instance that is no longer waiting (a duplicated or late event)", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000015", "asg-a", "DRAINING", "Terminating:Proceed");
    const [out] = await h.run(eventVars("i-0000000000000015"));
    assert.equal(out.result, "already-complete");
    assert.equal(h.world.count(UpdateContainerInstancesStateCommand), 0);
    assert.equal(h.world.count(CompleteLifecycleActionCommand), 0);
  });

  it("two drainers on the same instance both end cleanly, and one completion takes effect", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000016", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000016",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [15, "STOPPED", "STOPPED"],
      );
    const outs = await Promise.all([
      h.run({ ...eventVars("i-0000000000000016"), ...FAST }),
      h.run({ ...eventVars("i-0000000000000016"), ...FAST }),
    ]);
    const results = outs.map(([o]) => o.result).sort();
    assert.deepEqual(results, ["already-complete", "completed"]);
    assert.equal(h.world.completions.length, 1);
  });

  it("never waits for its own task when it runs on the draining instance", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000017", "asg-a")
      .addTask("drainer", "i-0000000000000017", "family:drainer", [0, "RUNNING", "RUNNING"]);
    const own = h.world.tasks[0].arn;
    const [out] = await h.run({ ...eventVars("i-0000000000000017"), ...FAST }, { ownTaskArn: own });
    assert.equal(out.result, "completed");
    assert.equal(
      h.world.completions[0].at,
      10,
      "at the first poll that began after it saw the instance DRAINING",
    );
  });

  it("without knowing its own task, waits for a task like it", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000018", "asg-a")
      .addTask(
        "other",
        "i-0000000000000018",
        "family:drainer",
        [0, "RUNNING", "RUNNING"],
        [30, "STOPPED", "STOPPED"],
      );
    await h.run({ ...eventVars("i-0000000000000018"), ...FAST });
    assert.equal(h.world.completions[0].at, 30);
  });

  it("warns when ECS managed draining's hook is on the group too, and carries on", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000019", "asg-a").addManagedDrainingHook("asg-a");
    const [out] = await h.run(eventVars("i-0000000000000019"));
    assert.equal(out.result, "completed");
    const warn = h.lines.find(
      (l) => l.level === "warn" && /ecs-managed-draining-termination-hook/.test(l.msg),
    );
    assert.ok(warn, "a warning names the managed draining hook");
  });

  it("never gives up through a long ECS outage: it keeps heartbeating, and drains once ECS answers", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000020", "asg-a");
    h.world.hooks.set("asg-a", [{ name: "drain-hook", heartbeatTimeout: 30 }]);
    h.world.failures.set(
      "DescribeContainerInstancesCommand",
      Array.from({ length: 20 }, () => awsError("ServerException", "internal", 500)),
    );
    const [out] = await h.run({ ...eventVars("i-0000000000000020"), ...FAST });
    assert.equal(out.result, "completed");
    assert.equal(h.world.count(DescribeContainerInstancesCommand), 22);
    const beats = h.world.heartbeats.map((b) => b.at);
    assert.ok(
      beats.slice(1).every((t, i) => t - beats[i] <= 15),
      `a heartbeat at least every 15 s through the outage: ${beats.join(", ")}`,
    );
    assert.ok(h.world.completions[0].at >= 200, "completed only after the outage");
  });

  it("gives up at once on a permanent error such as access denied", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000021", "asg-a");
    h.world.failures.set("ListContainerInstancesCommand", [
      awsError("AccessDeniedException", "not authorized to perform ecs:ListContainerInstances"),
    ]);
    const [out] = await h.run(eventVars("i-0000000000000021"));
    assert.equal(out.result, "failed");
    assert.equal(h.world.count(CompleteLifecycleActionCommand), 0);
  });

  it("recovers from a transient failure and still drains", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000022", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000022",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [15, "STOPPED", "STOPPED"],
      );
    h.world.failures.set("ListTasksCommand", [awsError("ServerException", "internal", 500)]);
    const [out] = await h.run({ ...eventVars("i-0000000000000022"), ...FAST });
    assert.equal(out.result, "completed");
    assert.deepEqual(h.world.killed("i-0000000000000022"), []);
  });

  it("stops without completing when its signal aborts (SIGTERM)", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000023", "asg-a")
      .addTask("web-1", "i-0000000000000023", "service:web", [0, "RUNNING", "RUNNING"]);
    const controller = new AbortController();
    let sleeps = 0;
    const [out] = await h.run(
      { ...eventVars("i-0000000000000023"), ...FAST },
      {
        signal: controller.signal,
        sleep: async () => {
          if (++sleeps === 3) controller.abort();
        },
      },
    );
    assert.equal(out.result, "interrupted");
    assert.equal(h.world.count(CompleteLifecycleActionCommand), 0);
  });

  it("re-drains an instance that someone set back to ACTIVE", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000024", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000024",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [25, "STOPPED", "STOPPED"],
      );
    let reactivated = false;
    await h.run(
      { ...eventVars("i-0000000000000024"), ...FAST },
      {
        sleep: async (ms, signal) => {
          await h.clock.sleep(ms, signal);
          // Someone sets it ACTIVE just before the second poll, at 10 s.
          if (!reactivated && h.clock.now() >= 10_000) {
            reactivated = true;
            h.world.instances.get("i-0000000000000024")!.ecsStatus = "ACTIVE";
          }
        },
      },
    );
    assert.ok(reactivated);
    assert.equal(h.world.count(UpdateContainerInstancesStateCommand), 2);
    assert.deepEqual(h.world.killed("i-0000000000000024"), []);
  });

  it("lists again when ECS counts more tasks than it listed, even if it never saw the instance ACTIVE", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000025", "asg-a")
      .addTask(
        "web-1",
        "i-0000000000000025",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [12, "RUNNING", "STOPPED"],
        [15, "STOPPED", "STOPPED"],
      )
      // Placed between two polls, while someone had the instance ACTIVE for a moment; it then shuts down slowly.
      .addTask(
        "job-2",
        "i-0000000000000025",
        "family:job",
        [5, "RUNNING", "RUNNING"],
        [18, "DEACTIVATING", "STOPPED"],
        [45, "STOPPED", "STOPPED"],
      );
    await h.run({ ...eventVars("i-0000000000000025"), ...FAST });
    assert.deepEqual(h.world.killed("i-0000000000000025"), []);
    assert.equal(h.world.completions[0].at, 50);
  });
});

describe("drain (DRY_RUN)", () => {
  it("sends no mutating command and says what it would do", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000031", "asg-a")
      .addTask("web-1", "i-0000000000000031", "service:web", [0, "RUNNING", "RUNNING"]);
    const [out] = await h.run({ ...eventVars("i-0000000000000031"), DRY_RUN: "true" });
    assert.equal(out.result, "dry-run");
    const mutating = DECLARED_ACTIONS.filter((a) => a.mutating).map((a) => a.command);
    assert.equal(mutating.length, 5);
    for (const name of mutating) {
      const calls = [
        ...h.world.ecsMock.calls(),
        ...h.world.asMock.calls(),
        ...h.world.eventsMock.calls(),
      ].filter((c) => (c.args[0] as object).constructor.name === name);
      assert.equal(calls.length, 0, `${name} is never sent in DRY_RUN`);
    }
    assert.equal(h.world.instances.get("i-0000000000000031")!.ecsStatus, "ACTIVE");
    const would = h.lines.filter((l) => /^would /.test(l.msg)).map((l) => l.msg);
    assert.deepEqual(would, [
      "would record a lifecycle heartbeat",
      "would set the container instance to DRAINING",
      "would wait for the tasks that block the drain",
    ]);
  });

  it("says it would complete an empty instance", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000032", "asg-a");
    await h.run({ ...eventVars("i-0000000000000032"), DRY_RUN: "true" });
    assert.equal(h.world.completions.length, 0);
    assert.ok(
      h.lines.some(
        (l) =>
          l.msg ===
          "would complete the lifecycle action with CONTINUE: nothing runs on the instance",
      ),
    );
  });
});

describe("drain (sweep mode)", () => {
  it("finds Terminating:Wait instances across groups and drains them together, sharing reads", async () => {
    const h = harness();
    h.world
      .addInstance("i-00000000000000a1", "asg-a")
      .addInstance("i-00000000000000a2", "asg-a", "ACTIVE", "InService")
      .addInstance("i-00000000000000b1", "asg-b")
      .addInstance("i-00000000000000b2", "asg-b", "ACTIVE", "Terminating:Proceed")
      .addTask(
        "web-1",
        "i-00000000000000a1",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [15, "STOPPED", "STOPPED"],
      )
      .addTask(
        "web-2",
        "i-00000000000000b1",
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [25, "STOPPED", "STOPPED"],
      )
      .addTask("web-3", "i-00000000000000a2", "service:web", [0, "RUNNING", "RUNNING"]);
    const outs = await h.run({ AUTOSCALING_GROUP_NAMES: "asg-a, asg-b", ...FAST });
    assert.deepEqual(
      outs.map((o) => [o.instanceId, o.asg, o.result]),
      [
        ["i-00000000000000a1", "asg-a", "completed"],
        ["i-00000000000000b1", "asg-b", "completed"],
      ],
    );
    assert.deepEqual(
      h.world.completions.map((c) => [c.instanceId, c.at]),
      [
        ["i-00000000000000a1", 20],
        ["i-00000000000000b1", 30],
      ],
    );
    // One DescribeContainerInstances per poll for both instances: polls at 0, 10, 20, 30.
    const describes = h.world.ecsMock.commandCalls(DescribeContainerInstancesCommand);
    assert.equal(describes.length, 4);
    assert.equal(describes[0].args[0].input.containerInstances!.length, 2);
    assert.equal(
      h.world.instances.get("i-00000000000000a2")!.ecsStatus,
      "ACTIVE",
      "an InService instance is left alone",
    );
  });

  it("batches DescribeContainerInstances by 100 and UpdateContainerInstancesState by 10", async () => {
    const h = harness();
    for (let i = 0; i < 120; i++)
      h.world.addInstance(`i-${(0x100 + i).toString(16).padStart(17, "0")}`, "asg-big");
    const outs = await h.run({ AUTOSCALING_GROUP_NAMES: "asg-big", ...FAST });
    assert.equal(outs.length, 120);
    assert.ok(outs.every((o) => o.result === "completed"));
    const describes = h.world.ecsMock.commandCalls(DescribeContainerInstancesCommand);
    // Located in bulk (ListContainerInstances + a describe of the cluster), then read 100 + 20 a poll.
    assert.deepEqual(
      describes.slice(0, 4).map((d) => d.args[0].input.containerInstances!.length),
      [100, 20, 100, 20],
    );
    assert.ok(describes.every((d) => d.args[0].input.containerInstances!.length <= 100));
    // Proving 120 instances at once lists the cluster's tasks once a poll, not each instance's; each proof still finds
    // its instance's registrations on its own (one filtered ListContainerInstances), so the proofs take two polls.
    const proofPolls = [...new Set(h.world.completions.map((c) => Math.floor(c.at / 10)))];
    assert.deepEqual(proofPolls, [1, 2]);
    assert.equal(h.world.count(ListTasksCommand), 2 * proofPolls.length);
    const lists = h.world.ecsMock.commandCalls(ListContainerInstancesCommand);
    assert.equal(lists.filter((c) => c.args[0].input.filter !== undefined).length, 120);
    assert.ok(lists.filter((c) => c.args[0].input.filter === undefined).length < 10);
    for (const id of h.world.instances.keys()) assert.deepEqual(h.world.killed(id), []);
    const updates = h.world.ecsMock.commandCalls(UpdateContainerInstancesStateCommand);
    assert.equal(updates.length, 12);
    assert.ok(updates.every((u) => u.args[0].input.containerInstances!.length <= 10));
  });

  it("keeps a poll's ECS reads within ECS_READS_PER_SECOND x the poll interval, many proofs sharing one listing of the cluster", async () => {
    const h = harness();
    for (let i = 0; i < 120; i++)
      h.world.addInstance(`i-${(0x300 + i).toString(16).padStart(17, "0")}`, "asg-big");
    const outs = await h.run({
      AUTOSCALING_GROUP_NAMES: "asg-big",
      ...FAST,
      ECS_READS_PER_SECOND: "5",
    });
    assert.ok(outs.every((o) => o.result === "completed"));
    // 50 reads a poll interval at most, of every kind (a list of 120 counts as its two pages), and the proofs that
    // do not fit go to the next polls.
    const perPoll = [...h.world.ecsReadsPer(10).values()];
    assert.ok(
      perPoll.every((n) => n <= 51),
      `reads per 10 s: ${perPoll.join(", ")}`,
    );
    // The proofs of a poll share one listing of the cluster's tasks; each finds its registrations with one read, so
    // what does not fit goes to the next polls.
    const completedPolls = new Set(h.world.completions.map((c) => Math.floor(c.at / 10)));
    assert.ok(completedPolls.size > 1 && completedPolls.size <= 5, `${completedPolls.size} polls`);
    assert.equal(h.world.count(ListTasksCommand), 2 * completedPolls.size);
  });

  it("lists each instance's tasks only when ECS's counters change or near the end", async () => {
    const h = harness();
    h.world
      .addInstance("i-00000000000000c1", "asg-a")
      .addTask(
        "job-1",
        "i-00000000000000c1",
        "family:batch",
        [0, "RUNNING", "RUNNING"],
        [200, "STOPPED", "STOPPED"],
      );
    await h.run({ AUTOSCALING_GROUP_NAMES: "asg-a", ...FAST });
    const polls = h.world.count(DescribeContainerInstancesCommand);
    assert.equal(polls, 21);
    // Listed in full at the first poll, to learn what blocks; the counters never change until the end, which a
    // fresh full listing proves (rule 1).
    assert.equal(h.world.count(ListTasksCommand), 4);
    // At once, 15 s later (before the hook's timeout was read), then every 150 s.
    assert.equal(h.world.count(RecordLifecycleActionHeartbeatCommand), 3);
  });

  it("ends at once when no instance waits", async () => {
    const h = harness();
    h.world.addInstance("i-00000000000000d1", "asg-a", "ACTIVE", "InService");
    const outs = await h.run({ AUTOSCALING_GROUP_NAMES: "asg-a" });
    assert.deepEqual(outs, []);
    assert.equal(h.world.count(DescribeContainerInstancesCommand), 0);
  });
});

describe("drain (leadership: any running drainer answers for its whole group)", () => {
  const ids = ["i-00000000000000e1", "i-00000000000000e2", "i-00000000000000e3"];
  const LEADER = "arn:aws:ecs:us-west-2:123456789012:task/c/leader";
  const SELF = "arn:aws:ecs:us-west-2:123456789012:task/c/self";
  const asTask = (arn: string) => ({ ownTaskArn: arn, ownFamily: FAMILY });
  function group() {
    const h = harness();
    for (const [n, id] of ids.entries()) {
      h.world
        .addInstance(id, "asg-a")
        .addTask(
          `web-${n}`,
          id,
          "service:web",
          [0, "RUNNING", "RUNNING"],
          [15 + 10 * n, "STOPPED", "STOPPED"],
        );
    }
    return h;
  }

  it("the oldest live drainer leads and answers for every held action of its groups, though their own drainers never launched: heartbeats each at its first look, completes each by rule 1", async () => {
    const h = group();
    // Only the drainer of the second instance launched; the others' launches failed.
    h.world.addDrainerTask(SELF, { instanceId: ids[1] });
    const outs = await h.run(
      { ...eventVars(ids[1]), ...FAST, LIFECYCLE_ACTION_TOKEN: "tok-e2" },
      asTask(SELF),
    );
    assert.deepEqual(
      outs.map((o) => [o.instanceId, o.result, o.forPeer ?? false]),
      [
        [ids[1], "completed", false],
        [ids[0], "completed", true],
        [ids[2], "completed", true],
      ],
    );
    for (const id of ids) assert.deepEqual(h.world.killed(id), []);
    // Every held action heartbeated at the leader's first look (rule 2), whoever's drainer launched.
    for (const id of ids) {
      assert.equal(
        h.world.heartbeats.find((b) => b.instanceId === id)?.at,
        0,
        `a heartbeat for ${id} at once`,
      );
    }
    // Peers' actions are completed by instance ID: only their own drainers hold their tokens.
    const completes = h.world.asMock
      .commandCalls(CompleteLifecycleActionCommand)
      .map((c) => c.args[0].input);
    assert.deepEqual(completes.map((i) => [i.InstanceId, i.LifecycleActionToken]).sort(), [
      [ids[0], undefined],
      [ids[1], "tok-e2"],
      [ids[2], undefined],
    ]);
  });

  it("the leader enforces every held action's deadline, not only its own (rule 3)", async () => {
    const h = harness();
    h.world.addInstance(ids[0], "asg-a").addInstance(ids[1], "asg-a");
    h.world.addTask("stuck", ids[1], "service:web", [0, "RUNNING", "RUNNING"]);
    h.world.addDrainerTask(SELF, { instanceId: ids[0] });
    const outs = await h.run(
      { ...eventVars(ids[0]), ...FAST, DRAIN_TIMEOUT_SECONDS: "60", TIMEOUT_RESULT: "ABANDON" },
      asTask(SELF),
    );
    const peer = outs.find((o) => o.instanceId === ids[1])!;
    assert.equal(peer.result, "timed-out");
    assert.deepEqual(
      h.world.completions.find((c) => c.instanceId === ids[1]),
      { instanceId: ids[1], result: "ABANDON", at: 60 },
    );
  });

  it("a follower that finds a live leader sets its instance DRAINING and leaves within two poll intervals, naming the leader", async () => {
    const h = group();
    h.world.addDrainerTask(LEADER, { instanceId: ids[0], startedAt: 0 });
    h.world.addDrainerTask(SELF, { instanceId: ids[2], createdAt: 5, startedAt: 5 });
    const [out] = await h.run({ ...eventVars(ids[2]), ...FAST }, asTask(SELF));
    assert.equal(out.result, "handed-over");
    assert.equal(out.leaderTaskArn, LEADER);
    assert.ok(out.drainSeconds <= 20, `left after ${out.drainSeconds} s`);
    assert.equal(h.world.instances.get(ids[2])!.ecsStatus, "DRAINING", "rule 7: DRAINING at once");
    assert.equal(h.world.completions.length, 0, "the follower completed nothing");
    assert.ok(h.world.heartbeats.some((b) => b.instanceId === ids[2] && b.at === 0));
    assert.ok(
      h.lines.some(
        (l) => l.action === "follow" && l.leaderTaskArn === LEADER && /leaving/.test(l.msg),
      ),
    );
    // It read nothing of its peers.
    assert.equal(h.world.count(DescribeContainerInstancesCommand), 0);
  });

  it("a follower whose leader is gone by its second look leads in its place", async () => {
    const h = group();
    h.world.addDrainerTask(LEADER, { instanceId: ids[0], startedAt: 0, stoppedAt: 5 });
    h.world.addDrainerTask(SELF, { instanceId: ids[2], createdAt: 1, startedAt: 1 });
    const outs = await h.run({ ...eventVars(ids[2]), ...FAST }, asTask(SELF));
    assert.deepEqual(outs.map((o) => o.result).sort(), ["completed", "completed", "completed"]);
    for (const id of ids) assert.deepEqual(h.world.killed(id), []);
    assert.ok(h.lines.some((l) => l.action === "lead" && /gone/.test(l.msg)));
  });

  it("a leader that finds an older live leader steps down and leaves its actions to it", async () => {
    const h = group();
    h.world.addTask("stuck", ids[0], "service:api", [0, "RUNNING", "RUNNING"]);
    h.world.addDrainerTask(SELF, { instanceId: ids[0], createdAt: 0, startedAt: 0 });
    // An older drainer that ECS showed only later (eventual consistency): both led for a while.
    h.world.addDrainerTask(LEADER, { instanceId: ids[1], createdAt: 0, startedAt: 0 });
    const seen = h.world.drainerTasks.find((d) => d.arn === LEADER)!;
    (seen as { revision: number }).revision = 2;
    let sleeps = 0;
    const outs = await h.run(
      { ...eventVars(ids[0]), ...FAST },
      {
        ...asTask(SELF),
        sleep: async (ms, signal) => {
          if (++sleeps === 3) (seen as { revision: number }).revision = 1;
          await h.clock.sleep(ms, signal);
        },
      },
    );
    assert.ok(outs.some((o) => o.result === "handed-over" && o.leaderTaskArn === LEADER));
    assert.ok(outs.every((o) => o.result === "handed-over" || o.result === "completed"));
    for (const id of ids) assert.deepEqual(h.world.killed(id), []);
  });

  it("a drainer of a large scale-in under a Fargate quota looks for its leader at once: the drainers running, not the actions held, size the spread", async () => {
    const h = harness();
    const many = Array.from(
      { length: 50 },
      (_, i) => `i-${(0x700 + i).toString(16).padStart(17, "0")}`,
    );
    for (const id of many) h.world.addInstance(id, "asg-a");
    h.world.addDrainerTask(LEADER, { instanceId: many[0], startedAt: 0 });
    h.world.addDrainerTask(SELF, { instanceId: many[9], createdAt: 1, startedAt: 1 });
    const [out] = await h.run(
      { ...eventVars(many[9]), ...FAST },
      { ...asTask(SELF), random: () => 0.5 },
    );
    assert.equal(out.result, "handed-over");
    assert.equal(out.leaderTaskArn, LEADER);
    // 50 actions held, 2 drainers running: one ListTasks page and one DescribeTasks, both at once (the old rule,
    // ceil(held / 10) poll intervals, waited 25 s here); no second listing of the family.
    const reads = h.world.calls.filter((c) => /^(ListTasks|DescribeTasks)Command$/.test(c.name));
    assert.deepEqual(
      reads.slice(0, 2).map((c) => [c.name, c.at]),
      [
        ["ListTasksCommand", 0],
        ["DescribeTasksCommand", 0],
      ],
    );
    assert.ok(h.world.heartbeats.some((b) => b.instanceId === many[9] && b.at === 0));
  });

  it("when more drainers run than the registry serves in a poll interval, each looks at a random moment within the time they need, heartbeating its own action meanwhile", async () => {
    const h = harness();
    const many = Array.from(
      { length: 120 },
      (_, i) => `i-${(0x700 + i).toString(16).padStart(17, "0")}`,
    );
    for (const id of many) h.world.addInstance(id, "asg-a");
    h.world.addDrainerTask(LEADER, { instanceId: many[0], startedAt: 0 });
    // 119 others started together: a full page, so the 120 held actions bound the drainers that may be looking.
    for (let i = 1; i < many.length; i++) {
      const arn = i === 9 ? SELF : `${LEADER}-peer-${i}`;
      h.world.addDrainerTask(arn, { instanceId: many[i], createdAt: 1, startedAt: 1 });
    }
    const [out] = await h.run(
      { ...eventVars(many[9]), ...FAST },
      { ...asTask(SELF), random: () => 0.5 },
    );
    assert.equal(out.result, "handed-over");
    // 120 looking at 2.5 a second over 10 s polls: 5 poll intervals; at 0.5 of them, 25 s, it describes the registry.
    const described = h.world.calls.find((c) => c.name === "DescribeTasksCommand")?.at;
    assert.equal(described, 25);
    assert.ok(h.world.heartbeats.some((b) => b.instanceId === many[9] && b.at === 0));
  });

  it("a drainer that cannot read the registry answers for its own action only, and looks again each poll: many drainers that cannot tell do not all lead", async () => {
    const h = group();
    h.world.addDrainerTask(LEADER, { instanceId: ids[0], startedAt: 0 });
    h.world.addDrainerTask(SELF, { instanceId: ids[2], createdAt: 5, startedAt: 5 });
    let failures = 2;
    const port = Object.create(h.world.port) as AwsPort;
    port.listFamilyTasks = async (...args) => {
      if (failures-- > 0) throw awsError("ThrottlingException", "Rate exceeded");
      return h.world.port.listFamilyTasks(...args);
    };
    const [out] = await h.run({ ...eventVars(ids[2]), ...FAST }, { ...asTask(SELF), port });
    assert.equal(out.result, "handed-over");
    assert.equal(out.leaderTaskArn, LEADER);
    // Its own instance DRAINING at its first look (rule 7); no peer's action heartbeated while it could not tell.
    assert.equal(h.world.instances.get(ids[2])!.ecsStatus, "DRAINING");
    assert.ok(h.world.heartbeats.every((b) => b.instanceId === ids[2]));
    assert.equal(h.world.completions.length, 0);
  });

  it("a leader takes on actions held after it started, with a heartbeat at once", async () => {
    const h = harness();
    h.world
      .addInstance(ids[0], "asg-a")
      .addTask(
        "web-0",
        ids[0],
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [35, "STOPPED", "STOPPED"],
      )
      .addInstance(ids[1], "asg-b", "ACTIVE", "InService")
      .addTask(
        "web-1",
        ids[1],
        "service:web",
        [0, "RUNNING", "RUNNING"],
        [25, "STOPPED", "STOPPED"],
      );
    h.world.addDrainerTask(SELF, { instanceId: ids[0] });
    let sleeps = 0;
    const outs = await h.run(
      { ...eventVars(ids[0]), ...FAST, AUTOSCALING_GROUP_NAMES: "asg-a,asg-b" },
      {
        ...asTask(SELF),
        sleep: async (ms, signal) => {
          if (++sleeps === 1) h.world.instances.get(ids[1])!.lifecycleState = "Terminating:Wait";
          await h.clock.sleep(ms, signal);
        },
      },
    );
    assert.deepEqual(
      outs.map((o) => [o.instanceId, o.asg, o.result]),
      [
        [ids[0], "asg-a", "completed"],
        [ids[1], "asg-b", "completed"],
      ],
    );
    const firstBeat = h.world.heartbeats.find((b) => b.instanceId === ids[1])!.at;
    const adopted = h.lines.find((l) => l.action === "lead" && (l.peers ?? []).includes(ids[1]));
    assert.ok(adopted, "it says which actions it took on");
    assert.ok(firstBeat <= 10, `heartbeat at ${firstBeat}`);
    assert.deepEqual(h.world.killed(ids[1]), []);
  });

  it("a leader counts each held action whose own drainer never started (OrphanedActions), and not one whose drainer ran", async () => {
    const h = harness();
    const orphan = "i-00000000000000f1";
    const served = "i-00000000000000f2";
    for (const id of [ids[0], orphan, served]) {
      h.world
        .addInstance(id, "asg-a")
        .addTask(
          `web-${id}`,
          id,
          "service:web",
          [0, "RUNNING", "RUNNING"],
          [300, "STOPPED", "STOPPED"],
        );
    }
    h.world.addDrainerTask(SELF, { instanceId: ids[0] });
    // `served`'s drainer ran and left; `orphan`'s failed to start (no free IP).
    h.world.addDrainerTask("t-served", {
      instanceId: served,
      startedAt: 20,
      createdAt: 1,
      stoppedAt: 40,
    });
    h.world.addDrainerTask("t-failed", {
      instanceId: orphan,
      createdAt: 1,
      startedAt: undefined,
      stoppedAt: 30,
      stopCode: "TaskFailedToStart",
    });
    const outs = await h.run({ ...eventVars(ids[0]), ...FAST }, asTask(SELF));
    assert.ok(outs.every((o) => o.result === "completed"));
    const orphans = h.lines.filter((l) => l.action === "orphan");
    assert.deepEqual(
      orphans.map((l) => l.instanceId),
      [orphan],
    );
    const metric = orphans[0]._aws.CloudWatchMetrics[0];
    assert.deepEqual(metric.Metrics, [{ Name: "OrphanedActions", Unit: "Count" }]);
    assert.deepEqual(metric.Dimensions, [["Cluster", "AutoScalingGroup"]]);
    assert.equal(orphans[0].OrphanedActions, 1);
    assert.ok(orphans[0].time !== undefined);
  });

  it("a leader learning many peers' tasks stays within its ECS read budget in every poll", async () => {
    const h = harness();
    const leader = "i-00000000000000400";
    for (let i = 0; i < 40; i++) {
      const id = `i-${(0x400 + i).toString(16).padStart(17, "0")}`;
      h.world
        .addInstance(id, "asg-a")
        .addTask(
          `web-${i}`,
          id,
          "service:web",
          [0, "RUNNING", "RUNNING"],
          [95, "STOPPED", "STOPPED"],
        );
    }
    h.world.addDrainerTask(SELF, { instanceId: leader });
    const outs = await h.run(
      { ...eventVars(leader), ...FAST, ECS_READS_PER_SECOND: "1" },
      asTask(SELF),
    );
    assert.equal(outs.length, 40);
    assert.ok(outs.every((o) => o.result === "completed"));
    for (const id of h.world.instances.keys()) assert.deepEqual(h.world.killed(id), []);
    // 10 ECS reads a 10 s poll, whatever the leader has to locate, learn or prove.
    const perPoll = h.world.ecsReadsPer(10);
    assert.ok(Math.max(...perPoll.values()) <= 10, JSON.stringify([...perPoll]));
  });

  it("with STOP_STANDALONE_TASKS a leader stops its peers' standalone tasks once only they remain", async () => {
    const h = group();
    // A standalone job on the second instance, alone from the start, and one that outlives a service on the third.
    h.world
      .addTask("job-1", ids[1], "family:batch", [0, "RUNNING", "RUNNING"])
      .addTask("job-2", ids[2], "family:batch", [0, "RUNNING", "RUNNING"]);
    h.world.addDrainerTask(SELF, { instanceId: ids[0] });
    const outs = await h.run(
      { ...eventVars(ids[0]), ...FAST, STOP_STANDALONE_TASKS: "true" },
      asTask(SELF),
    );
    assert.ok(outs.every((o) => o.result === "completed"));
    assert.deepEqual(h.world.stopped.map((s) => s.arn.split("/").pop()).sort(), ["job-1", "job-2"]);
    for (const id of ids) assert.deepEqual(h.world.killed(id), []);
  });
});
