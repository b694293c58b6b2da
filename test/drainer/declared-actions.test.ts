/**
 * The declared AWS actions against what the drainer and status send: this file drives, on its own, the few runs
 * whose calls together reach every declared command, so it needs no other test file to have run first.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { drainerPort } from "../../drainer/src/aws";
import {
  DECLARED_ACTIONS,
  OPERATOR_ACTIONS,
  ResourceKind,
  STATUS_ACTIONS,
} from "../../drainer/src/contract";
import { collectStatus } from "../../drainer/src/status";
import { CLUSTER, FakeWorld } from "../doubles/scripted";
import { eventVars, harness } from "./harness";

/** Every command the port may send: the drainer's, and status's operator-only reads. */
const ALL_COMMANDS = [...DECLARED_ACTIONS, ...OPERATOR_ACTIONS].map((a) => a.command).sort();

/** Every command sent by an event drain that stops a standalone task, a sweep through a warm pool, and status. */
async function commandsSent(): Promise<string[]> {
  const sent = new Set<string>();
  const note = (w: FakeWorld) => w.calls.forEach((c) => sent.add(c.name));

  // STOP_STANDALONE_TASKS beside a daemon service, the service read to know it is one (StopTask, DescribeServices).
  const event = harness();
  event.world.services.set("agent", { schedulingStrategy: "DAEMON", events: [] });
  event.world
    .addInstance("i-0000000000000311", "asg-a")
    .addTask("agent-1", "i-0000000000000311", "service:agent", [0, "RUNNING", "RUNNING"])
    .addTask("job-1", "i-0000000000000311", "family:nightly", [0, "RUNNING", "RUNNING"]);
  const [stopped] = await event.run({
    ...eventVars("i-0000000000000311"),
    POLL_INTERVAL_SECONDS: "10",
    STOP_STANDALONE_TASKS: "true",
    DRAIN_TIMEOUT_SECONDS: "120",
  });
  assert.ok(event.world.stopped.length > 0, `the standalone task was stopped (${stopped.result})`);
  note(event.world);

  // The sweep, a warm-pool instance among those it finds (DescribeWarmPool).
  const sweep = harness();
  sweep.world
    .addInstance("i-0000000000000312", "asg-a", "ACTIVE", "Terminating:Wait")
    .addInstance("i-0000000000000313", "asg-a", "ACTIVE", "Warmed:Terminating:Wait");
  const swept = await sweep.run({ AUTOSCALING_GROUP_NAMES: "asg-a", POLL_INTERVAL_SECONDS: "10" });
  assert.deepEqual(
    swept.map((o) => o.result),
    ["completed", "completed"],
  );
  note(sweep.world);

  // status, which reads when the hook began to hold (DescribeScalingActivities).
  const status = new FakeWorld(() => 0).addInstance("i-0000000000000314", "asg-a", "DRAINING");
  await collectStatus(status.port, {
    cluster: CLUSTER,
    asgs: ["asg-a"],
    family: "ecs-scale-in-drainer",
    drainTimeoutSeconds: 3600,
  });
  note(status);
  return [...sent].sort();
}

describe("the drainer's declared AWS actions", () => {
  it("cover every command the drainer (and status) sends, and none goes unused", async () => {
    assert.deepEqual(await commandsSent(), ALL_COMMANDS);
  });

  it("match the commands the AWS port imports, one for one", () => {
    const source = readFileSync(join(__dirname, "../../drainer/src/aws.ts"), "utf8");
    const used = new Set(
      [...source.matchAll(/new (\w+Command)\(|paginate(\w+)\(/g)].map(
        (m) => m[1] ?? `${m[2]}Command`,
      ),
    );
    assert.deepEqual([...used].sort(), ALL_COMMANDS);
  });

  it("name each action's IAM service and the SDK command that sends it", () => {
    for (const a of [...DECLARED_ACTIONS, ...OPERATOR_ACTIONS]) {
      const [service, name] = a.action.split(":");
      assert.ok(["ecs", "autoscaling", "events"].includes(service), a.action);
      assert.equal(a.command, `${name}Command`);
      if (a.clusterCondition) {
        assert.ok(
          [
            ResourceKind.ContainerInstance,
            ResourceKind.Task,
            ResourceKind.Service,
            ResourceKind.Any,
          ].includes(a.resource),
          a.action,
        );
        assert.ok(service === "ecs", `${a.action}: ecs:cluster is an ECS condition key`);
      }
    }
  });

  it("keep the operator-only reads out of the drainer's list, which both faces grant from", () => {
    const granted = new Set(DECLARED_ACTIONS.map((a) => a.action));
    for (const a of OPERATOR_ACTIONS) {
      assert.ok(!granted.has(a.action), `${a.action} would reach the drainer's task role`);
      assert.equal(a.mutating, false, `${a.action}: an operator-only action is a read`);
    }
    assert.ok(OPERATOR_ACTIONS.some((a) => a.action === "autoscaling:DescribeScalingActivities"));
  });

  it("list every action status calls, each a read that is declared", () => {
    const reads = new Set(
      [...DECLARED_ACTIONS, ...OPERATOR_ACTIONS].filter((a) => !a.mutating).map((a) => a.action),
    );
    for (const a of STATUS_ACTIONS) assert.ok(reads.has(a), `${a}: not a declared read`);
    for (const a of OPERATOR_ACTIONS) assert.ok(STATUS_ACTIONS.includes(a.action), a.action);
  });
});

describe("the drainer's port refuses the operator-only reads", () => {
  it("a drain's port fails OPERATOR_READS at once, and sends nothing", async () => {
    const world = new FakeWorld(() => 0).addInstance("i-0000000000000301", "asg-a");
    const before = world.calls.length;
    await assert.rejects(
      drainerPort(world.port).describeScalingActivities("asg-a", 1),
      /describeScalingActivities is for status only: the drainer's roles are not granted it/,
    );
    assert.equal(world.calls.length, before, "no request");
    // Negative control: the port status uses reads them.
    const read = await world.port.describeScalingActivities("asg-a", 1);
    assert.deepEqual(
      read.map((a) => a.description),
      ["Terminating EC2 instance: i-0000000000000301"],
    );
    assert.equal(world.calls.length, before + 1);
  });
});
