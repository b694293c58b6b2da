/**
 * The heartbeat keeper (drain/heartbeats.ts): its schedule, through slow polls, and its end.
 */
import { CompleteLifecycleActionCommand } from "@aws-sdk/client-auto-scaling";
import { strict as assert } from "node:assert";
import { awsError, running, stopped } from "../../doubles/scripted";
import { FAST, eventVars, harness } from "../harness";

describe("drain (event mode)", () => {
  it("sends heartbeats on schedule during a long drain, by default at half the hook's timeout", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000008", "asg-a")
      .addTask("web-1", "i-0000000000000008", "service:web", running(), stopped(1000));
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
      .addTask("web-1", "i-0000000000000026", "service:web", running(), stopped(100));
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
      .addTask("web-1", "i-0000000000000009", "service:web", running(), stopped(100));
    await h.run({ ...eventVars("i-0000000000000009"), ...FAST, HEARTBEAT_INTERVAL_SECONDS: "40" });
    assert.deepEqual(
      h.world.heartbeats.map((b) => b.at),
      [0, 40, 80],
    );
  });

  it("takes 'No active Lifecycle Action' on a heartbeat as done and stops waiting", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000013", "asg-a")
      .addTask("web-1", "i-0000000000000013", "service:web", running());
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
});
