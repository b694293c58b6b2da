/**
 * How an instance's drain ends, once (drain/endings.ts): a completion Auto Scaling already took counts as done, two
 * drainers of one action end cleanly with one completion, and a permanent error ends the drain at once.
 */
import { CompleteLifecycleActionCommand } from "@aws-sdk/client-auto-scaling";
import { strict as assert } from "node:assert";
import { awsError, running, stopped } from "../../doubles/scripted";
import { FAST, eventVars, harness } from "../harness";

describe("how a drain ends (endings.ts)", () => {
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

  it("two drainers on the same instance both end cleanly, and one completion takes effect", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000016", "asg-a")
      .addTask("web-1", "i-0000000000000016", "service:web", running(), stopped(15));
    const outs = await Promise.all([
      h.run({ ...eventVars("i-0000000000000016"), ...FAST }),
      h.run({ ...eventVars("i-0000000000000016"), ...FAST }),
    ]);
    const results = outs.map(([o]) => o.result).sort();
    assert.deepEqual(results, ["already-complete", "completed"]);
    assert.equal(h.world.completions.length, 1);
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
});
