/**
 * Leadership (drain/roles.ts): any running drainer answers for its whole group.
 */
import { CompleteLifecycleActionCommand } from "@aws-sdk/client-auto-scaling";
import { DescribeContainerInstancesCommand } from "@aws-sdk/client-ecs";
import { strict as assert } from "node:assert";
import { AwsPort } from "../../../drainer/src/aws";
import { FAMILY, awsError, running, stopped } from "../../doubles/scripted";
import { FAST, eventVars, harness } from "../harness";

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
        .addTask(`web-${n}`, id, "service:web", running(), stopped(15 + 10 * n));
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
    h.world.addTask("stuck", ids[1], "service:web", running());
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

  it("a follower that cannot read the registry at its second look does not lead on a guess: it drains its own instance alone", async () => {
    const h = group();
    h.world.addDrainerTask(LEADER, { instanceId: ids[0], startedAt: 0 });
    h.world.addDrainerTask(SELF, { instanceId: ids[2], createdAt: 1, startedAt: 1 });
    // The registry answers the first look (at 0 s), then throttles every look for a minute.
    const port = Object.create(h.world.port) as AwsPort;
    const registry = (fn: (...a: any[]) => Promise<any>) =>
      (async (...args: any[]) => {
        const t = h.clock.now();
        if (t > 5_000 && t < 60_000) throw awsError("ThrottlingException", "Rate exceeded");
        return fn(...args);
      }) as any;
    port.listFamilyTasks = registry(h.world.port.listFamilyTasks.bind(h.world.port));
    port.describeTasks = registry(h.world.port.describeTasks.bind(h.world.port));
    const [out] = await h.run({ ...eventVars(ids[2]), ...FAST }, { ...asTask(SELF), port });
    // It never answered for a peer's action; its own it drained to completion or handed over once it could tell.
    assert.ok(["completed", "handed-over"].includes(out.result), out.result);
    assert.ok(!h.lines.some((l) => l.action === "lead" && /leading/.test(l.msg)), "it led");
    assert.ok(h.world.heartbeats.every((b) => b.instanceId === ids[2]));
    assert.ok(h.lines.some((l) => /cannot tell whether the leader still runs/.test(l.msg)));
  });

  it("a leader that finds an older live leader steps down and leaves its actions to it", async () => {
    const h = group();
    h.world.addTask("stuck", ids[0], "service:api", running());
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
    // 50 actions held, 2 drainers running: it counts at a random moment within one poll interval (0.5 of it, 5 s),
    // then one DescribeTasks at once (the old rule, ceil(held / 10) poll intervals, waited 25 s here); no second
    // listing of the family.
    const reads = h.world.calls.filter((c) => /^(ListTasks|DescribeTasks)Command$/.test(c.name));
    assert.deepEqual(
      reads.slice(0, 2).map((c) => [c.name, c.at]),
      [
        ["ListTasksCommand", 5],
        ["DescribeTasksCommand", 5],
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
    // It counts at 0.5 of a poll interval (5 s); 120 looking at 2.5 a second over 10 s polls: 5 poll intervals; at
    // 0.5 of them, 25 s later, it describes the registry.
    const described = h.world.calls.find((c) => c.name === "DescribeTasksCommand")?.at;
    assert.equal(described, 30);
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

  it("a drainer alone that is the oldest live one looks again before it exits, and answers for the actions followers left to it", async () => {
    const h = harness();
    // Its own instance drains at once; a peer's, whose follower left it to the oldest drainer, takes 40 s.
    h.world.addInstance(ids[0], "asg-a");
    h.world
      .addInstance(ids[1], "asg-a")
      .addTask("web-peer", ids[1], "service:web", running(), stopped(40));
    h.world.addDrainerTask(SELF, { instanceId: ids[0], startedAt: 0 });
    // The registry gets no answer (throttled) for its first 12 s: it drains its own instance alone, done by then.
    const port = Object.create(h.world.port) as AwsPort;
    port.listFamilyTasks = async (...args) => {
      if (h.clock.now() < 12_000) throw awsError("ThrottlingException", "Rate exceeded");
      return h.world.port.listFamilyTasks(...args);
    };
    const outs = await h.run({ ...eventVars(ids[0]), ...FAST }, { ...asTask(SELF), port });
    assert.deepEqual(
      outs.map((o) => [o.instanceId, o.result]),
      [
        [ids[0], "completed"],
        [ids[1], "completed"],
      ],
    );
    assert.ok(
      h.world.heartbeats.some((b) => b.instanceId === ids[1]),
      "the peer's action heartbeated",
    );
    for (const id of ids.slice(0, 2)) assert.deepEqual(h.world.killed(id), []);
  });

  it("a leader takes on actions held after it started, with a heartbeat at once", async () => {
    const h = harness();
    h.world
      .addInstance(ids[0], "asg-a")
      .addTask("web-0", ids[0], "service:web", running(), stopped(35))
      .addInstance(ids[1], "asg-b", "ACTIVE", "InService")
      .addTask("web-1", ids[1], "service:web", running(), stopped(25));
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
        .addTask(`web-${id}`, id, "service:web", running(), stopped(300));
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
        .addTask(`web-${i}`, id, "service:web", running(), stopped(95));
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
      .addTask("job-1", ids[1], "family:batch", running())
      .addTask("job-2", ids[2], "family:batch", running());
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
