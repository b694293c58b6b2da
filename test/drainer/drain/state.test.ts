// The run's data (drainer/src/drain/state.ts): what an instance's state starts with, and the two times read from it.
import { strict as assert } from "node:assert";
import { parseConfig } from "../../../drainer/src/config";
import { createLogger } from "../../../drainer/src/log";
import {
  Run,
  active,
  deadlineOf,
  heartbeatSeconds,
  newInstance,
} from "../../../drainer/src/drain/state";

const config = parseConfig({
  ECS_CLUSTER: "prod",
  LIFECYCLE_HOOK_NAME: "h",
  EC2_INSTANCE_ID: "i-0000000000000001",
  AUTOSCALING_GROUP_NAME: "a",
  DRAIN_TIMEOUT_SECONDS: "3600",
});

function run(now = 5000): Run {
  return {
    ctx: { config, log: createLogger(() => undefined), now: () => now },
    states: [],
    plans: new Map(),
  } as unknown as Run;
}

const ref = (instanceId: string) => ({ asg: "a", hook: "h", instanceId, token: undefined });

describe("the run's data (state.ts)", () => {
  it("a new instance is due a heartbeat at once (rule 2), is not yet confirmed, and is active until it has an outcome", () => {
    const r = run();
    const s = newInstance(r, ref("i-1"), true);
    assert.equal(s.nextHeartbeatAt, 5000);
    assert.equal(s.confirmed, false);
    assert.deepEqual(active(r), [s]);
    s.outcome = { result: "completed" } as never;
    assert.deepEqual(active(r), []);
  });

  it("the deadline counts from when the run took the instance on: DRAIN_TIMEOUT_SECONDS, or the hook's plan", () => {
    const r = run(1000);
    const s = newInstance(r, ref("i-2"), false);
    assert.equal(deadlineOf(config, s), 1000 + 3600 * 1000);
    s.plan = { deadlineSeconds: 600, heartbeatIntervalSeconds: 150 } as never;
    assert.equal(deadlineOf(config, s), 1000 + 600 * 1000);
    assert.equal(heartbeatSeconds(config, s), 150);
  });

  it("before the hook is read, heartbeats come at the shortest interval any hook may need", () => {
    const s = newInstance(run(), ref("i-3"), true);
    const before = heartbeatSeconds(config, s);
    assert.ok(before > 0 && before <= 15, `${before} s`);
  });
});
