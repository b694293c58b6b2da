/**
 * The drain loop (drain/index.ts): how a run starts, ends, survives failures and stops, in event and sweep mode.
 */
import { CompleteLifecycleActionCommand } from "@aws-sdk/client-auto-scaling";
import {
  DescribeContainerInstancesCommand,
  UpdateContainerInstancesStateCommand,
} from "@aws-sdk/client-ecs";
import { strict as assert } from "node:assert";
import { awsError, running, stopped } from "../../doubles/scripted";
import { FAST, eventVars, harness } from "../harness";

describe("drain (event mode)", () => {
  it("does nothing for an instance that is no longer waiting (a duplicated or late event)", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000015", "asg-a", "DRAINING", "Terminating:Proceed");
    const [out] = await h.run(eventVars("i-0000000000000015"));
    assert.equal(out.result, "already-complete");
    assert.equal(h.world.count(UpdateContainerInstancesStateCommand), 0);
    assert.equal(h.world.count(CompleteLifecycleActionCommand), 0);
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

  it("recovers from a transient failure and still drains", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000022", "asg-a")
      .addTask("web-1", "i-0000000000000022", "service:web", running(), stopped(15));
    h.world.failures.set("ListTasksCommand", [awsError("ServerException", "internal", 500)]);
    const [out] = await h.run({ ...eventVars("i-0000000000000022"), ...FAST });
    assert.equal(out.result, "completed");
    assert.deepEqual(h.world.killed("i-0000000000000022"), []);
  });

  it("stops without completing when its signal aborts (SIGTERM)", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000023", "asg-a")
      .addTask("web-1", "i-0000000000000023", "service:web", running());
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
});

describe("drain (sweep mode)", () => {
  it("finds Terminating:Wait instances across groups and drains them together, sharing reads", async () => {
    const h = harness();
    h.world
      .addInstance("i-00000000000000a1", "asg-a")
      .addInstance("i-00000000000000a2", "asg-a", "ACTIVE", "InService")
      .addInstance("i-00000000000000b1", "asg-b")
      .addInstance("i-00000000000000b2", "asg-b", "ACTIVE", "Terminating:Proceed")
      .addTask("web-1", "i-00000000000000a1", "service:web", running(), stopped(15))
      .addTask("web-2", "i-00000000000000b1", "service:web", running(), stopped(25))
      .addTask("web-3", "i-00000000000000a2", "service:web", running());
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

  it("ends at once when no instance waits", async () => {
    const h = harness();
    h.world.addInstance("i-00000000000000d1", "asg-a", "ACTIVE", "InService");
    const outs = await h.run({ AUTOSCALING_GROUP_NAMES: "asg-a" });
    assert.deepEqual(outs, []);
    assert.equal(h.world.count(DescribeContainerInstancesCommand), 0);
  });
});
