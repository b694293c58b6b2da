/**
 * DRY_RUN: a drain that sends no mutating command and says what it would do.
 */
import { strict as assert } from "node:assert";
import { DECLARED_ACTIONS } from "../../../drainer/src/contract";
import { eventVars, harness } from "../harness";
import { running } from "../../doubles/scripted";

describe("drain (DRY_RUN)", () => {
  it("sends no mutating command and says what it would do", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000031", "asg-a")
      .addTask("web-1", "i-0000000000000031", "service:web", running());
    const [out] = await h.run({ ...eventVars("i-0000000000000031"), DRY_RUN: "true" });
    assert.equal(out.result, "dry-run");
    const mutating = DECLARED_ACTIONS.filter((a) => a.mutating).map((a) => a.command);
    assert.equal(mutating.length, 5);
    for (const name of mutating) {
      const calls = [
        ...h.world.ecsMock.calls(),
        ...h.world.asMock.calls(),
        ...h.world.eventsMock.calls(),
      ].filter((c) => (c.args[0] as object).constructor.name === name);
      assert.equal(calls.length, 0, `${name} is never sent in DRY_RUN`);
    }
    assert.equal(h.world.instances.get("i-0000000000000031")!.ecsStatus, "ACTIVE");
    const would = h.lines.filter((l) => /^would /.test(l.msg)).map((l) => l.msg);
    assert.deepEqual(would, [
      "would record a lifecycle heartbeat",
      "would set the container instance to DRAINING",
      "would wait for the tasks that block the drain",
    ]);
  });

  it("says it would complete an empty instance", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000032", "asg-a");
    await h.run({ ...eventVars("i-0000000000000032"), DRY_RUN: "true" });
    assert.equal(h.world.completions.length, 0);
    assert.ok(
      h.lines.some(
        (l) =>
          l.msg ===
          "would complete the lifecycle action with CONTINUE: nothing runs on the instance",
      ),
    );
  });
});
