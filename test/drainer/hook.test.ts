// The hook's plan (drainer/src/hook.ts): the heartbeat interval and deadline a hook allows, and what it warns of.
import { strict as assert } from "node:assert";
import { planHook } from "../../drainer/src/hook";

const hook = (heartbeatTimeout: number, globalTimeout = 0) => ({
  name: "h",
  transition: "autoscaling:EC2_INSTANCE_TERMINATING",
  heartbeatTimeout,
  globalTimeout,
  defaultResult: "CONTINUE",
});

describe("planHook", () => {
  const plan = (hooks: ReturnType<typeof hook>[], heartbeat?: number, drain = 3600) =>
    planHook({
      hookName: "h",
      hooks,
      heartbeatIntervalSeconds: heartbeat,
      drainTimeoutSeconds: drain,
    });

  it("heartbeats at half the hook's HeartbeatTimeout by default", () => {
    assert.equal(plan([hook(900)]).heartbeatIntervalSeconds, 450);
    assert.deepEqual(plan([hook(900)]).warnings, []);
  });

  it("keeps a configured heartbeat interval shorter than the timeout, and corrects one that is not", () => {
    assert.equal(plan([hook(900)], 60).heartbeatIntervalSeconds, 60);
    const p = plan([hook(60)], 90);
    assert.equal(p.heartbeatIntervalSeconds, 30);
    assert.match(p.warnings[0], /HEARTBEAT_INTERVAL_SECONDS \(90\) is not shorter/);
  });

  it("keeps the deadline inside min(48 h, 100 x HeartbeatTimeout), less one timeout", () => {
    assert.equal(plan([hook(30)], undefined, 3600).deadlineSeconds, 2970);
    assert.equal(plan([hook(7200)], undefined, 172800).deadlineSeconds, 172800 - 7200);
    assert.equal(
      plan([hook(30, 1000)], undefined, 3600).deadlineSeconds,
      970,
      "AWS's own GlobalTimeout wins",
    );
    assert.equal(plan([hook(900)], undefined, 3600).deadlineSeconds, 3600);
  });

  it("warns when a request could outlast a heartbeat interval", () => {
    const p = planHook({
      hookName: "h",
      hooks: [hook(30)],
      heartbeatIntervalSeconds: undefined,
      drainTimeoutSeconds: 60,
      requestTimeoutSeconds: 20,
    });
    assert.match(
      p.warnings.join(),
      /REQUEST_TIMEOUT_SECONDS \(20\) is not shorter than the heartbeat interval \(15 s\)/,
    );
    assert.deepEqual(plan([hook(30)], undefined, 60).warnings, []);
  });

  it("warns when ECS managed draining's hook is there too, or when its own hook is missing", () => {
    const p = plan([hook(900), { ...hook(3600), name: "ecs-managed-draining-termination-hook" }]);
    assert.match(p.warnings.join(), /ecs-managed-draining-termination-hook .* two drainers/);
    const missing = plan([]);
    assert.equal(missing.heartbeatIntervalSeconds, 15);
    assert.match(missing.warnings.join(), /was not found/);
  });
});
