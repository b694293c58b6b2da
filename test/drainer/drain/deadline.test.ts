/**
 * The deadline keeper (drain/deadline.ts): what it logs, whether a drain that times out keeps its instance, and
 * retrying a completion Auto Scaling refused.
 */
import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { strict as assert } from "node:assert";
import { awsError, running, stopped, stopping } from "../../doubles/scripted";
import { FAST, eventVars, harness } from "../harness";

describe("drain (event mode)", () => {
  it("at the deadline logs exactly which tasks block, then completes with TIMEOUT_RESULT", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000010", "asg-a")
      .addTask("web-1", "i-0000000000000010", "service:web", running(), stopping(5))
      .addTask("job-1", "i-0000000000000010", "family:batch", running());
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
        .addTask("job-1", "i-0000000000000011", "family:batch", running());
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
        .addTask("web-1", "i-0000000000000012", "service:web", running(), stopped(15));
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
      .addTask("web-1", "i-0000000000000027", "service:web", running());
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
});
