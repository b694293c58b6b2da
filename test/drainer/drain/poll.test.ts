/**
 * The poll (drain/poll.ts): setting instances DRAINING, what it waits for, when it proves an instance drained, what it
 * logs while it waits, and standalone tasks.
 */
import {
  DescribeContainerInstancesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from "@aws-sdk/client-ecs";
import { strict as assert } from "node:assert";
import { FAST, eventVars, harness } from "../harness";
import { running, stopped, stopping } from "../../doubles/scripted";

describe("drain (event mode)", () => {
  it("sets the instance DRAINING and completes with CONTINUE once its service tasks have stopped", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000001", "asg-a")
      .addTask("web-1", "i-0000000000000001", "service:web", running(), stopped(15))
      .addTask("api-1", "i-0000000000000001", "service:api", running(), stopped(25));
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
        running(),
        stopping(5),
        [48, "STOPPING", "STOPPED"],
        stopped(61),
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
      .addTask("web-1", "i-0000000000000003", "service:web", running(), stopping(5), stopped(45))
      // Placed while someone had the instance ACTIVE for a moment between two polls, and already stopping when
      // the drainer next reads ECS's counters, which show nothing to run.
      .addTask("job-2", "i-0000000000000003", "family:job", running(22), stopping(26), stopped(75));
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
        stopped(12),
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
      .addTask("web-1", "i-0000000000000025", "service:web", running(), stopped(15))
      .addTask("web-2", "i-0000000000000025", "service:web", running(), stopping(5), stopped(45));
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
      .addTask("web-1", "i-0000000000000005", "service:web", running(), stopped(35))
      .addTask("web-2", "i-0000000000000005", "service:web", running(), stopped(35))
      .addTask("job-1", "i-0000000000000005", "family:nightly", running(), stopped(55));
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
      .addTask("web-1", "i-0000000000000007", "service:web", running());
    h.world.instances.get("i-0000000000000007")!.goneAt = 22;
    const [out] = await h.run({ ...eventVars("i-0000000000000007"), ...FAST });
    assert.equal(out.result, "not-in-cluster");
    assert.equal(h.world.completions[0].at, 30);
  });

  it("waits for standalone tasks by default, and never stops them", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000011", "asg-a")
      .addTask("job-1", "i-0000000000000011", "family:batch", running(), stopped(95));
    await h.run({ ...eventVars("i-0000000000000011"), ...FAST });
    assert.equal(h.world.count(StopTaskCommand), 0);
    assert.equal(h.world.completions[0].at, 100);
  });

  it("with STOP_STANDALONE_TASKS stops standalone tasks once only they remain, then waits for them to stop", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000012", "asg-a")
      .addTask("web-1", "i-0000000000000012", "service:web", running(), stopped(25))
      .addTask("job-1", "i-0000000000000012", "family:batch", running());
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

  it("never waits for its own task when it runs on the draining instance", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000017", "asg-a")
      .addTask("drainer", "i-0000000000000017", "family:drainer", running());
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
      .addTask("other", "i-0000000000000018", "family:drainer", running(), stopped(30));
    await h.run({ ...eventVars("i-0000000000000018"), ...FAST });
    assert.equal(h.world.completions[0].at, 30);
  });

  it("re-drains an instance that someone set back to ACTIVE", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000024", "asg-a")
      .addTask("web-1", "i-0000000000000024", "service:web", running(), stopped(25));
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
        running(),
        [12, "RUNNING", "STOPPED"],
        stopped(15),
      )
      // Placed between two polls, while someone had the instance ACTIVE for a moment; it then shuts down slowly.
      .addTask("job-2", "i-0000000000000025", "family:job", running(5), stopping(18), stopped(45));
    await h.run({ ...eventVars("i-0000000000000025"), ...FAST });
    assert.deepEqual(h.world.killed("i-0000000000000025"), []);
    assert.equal(h.world.completions[0].at, 50);
  });
});
