/**
 * The poll's listings and what they cost (drain/listing.ts): batching, the ECS read budget, and listing only
 * when the counters say so.
 */
import { RecordLifecycleActionHeartbeatCommand } from "@aws-sdk/client-auto-scaling";
import {
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  UpdateContainerInstancesStateCommand,
} from "@aws-sdk/client-ecs";
import { strict as assert } from "node:assert";
import { FAST, harness } from "../harness";
import { running, stopped } from "../../doubles/scripted";

describe("drain (sweep mode)", () => {
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
    // Proving 120 instances at once lists the cluster's tasks once, not each instance's; the instances' registrations
    // are still found on their own, 20 to a filtered ListContainerInstances (a listing of the whole cluster can miss
    // one), and all fit in one poll.
    assert.deepEqual([...new Set(h.world.completions.map((c) => Math.floor(c.at / 10)))], [1]);
    assert.equal(h.world.count(ListTasksCommand), 2);
    const lists = h.world.ecsMock.commandCalls(ListContainerInstancesCommand);
    const filtered = lists.filter((c) => c.args[0].input.filter !== undefined);
    assert.equal(filtered.length, 6);
    assert.ok(filtered.every((c) => /^ec2InstanceId in \[/.test(c.args[0].input.filter!)));
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
    // The 120 proofs share one listing of the cluster's tasks, and find their registrations 20 to a read, so they
    // all fit in one poll.
    const completedPolls = new Set(h.world.completions.map((c) => Math.floor(c.at / 10)));
    assert.equal(completedPolls.size, 1);
  });

  it("lists each instance's tasks only when ECS's counters change or near the end", async () => {
    const h = harness();
    h.world
      .addInstance("i-00000000000000c1", "asg-a")
      .addTask("job-1", "i-00000000000000c1", "family:batch", running(), stopped(200));
    await h.run({ AUTOSCALING_GROUP_NAMES: "asg-a", ...FAST });
    const polls = h.world.count(DescribeContainerInstancesCommand);
    assert.equal(polls, 21);
    // Listed in full at the first poll, to learn what blocks; the counters never change until the end, which a
    // fresh full listing proves (rule 1).
    assert.equal(h.world.count(ListTasksCommand), 4);
    // At once, 15 s later (before the hook's timeout was read), then every 150 s.
    assert.equal(h.world.count(RecordLifecycleActionHeartbeatCommand), 3);
  });
});
