/**
 * The drain events on EventBridge's default bus (PUBLISH_EVENTS): one per instance outcome that is a drain, one when a
 * drain is first found stuck; none when the setting is off or in DRY_RUN; and a failure to publish never changes a
 * drain.
 */
import { strict as assert } from "node:assert";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { DRAIN_EVENTS } from "../../../drainer/src/contract";
import { eventVars, harness } from "../harness";
import { running, stopped } from "../../doubles/scripted";

const ID = "i-0000000000000041";

function world() {
  const h = harness();
  h.world.addInstance(ID, "asg-a");
  return h;
}

describe("drain events on EventBridge", () => {
  it("puts one outcome event for a completed drain, on the default bus, with the documented source and detail", async () => {
    const h = world();
    h.world.addTask("web-1", ID, "service:web", running(), stopped(15));
    const [out] = await h.run({ ...eventVars(ID), POLL_INTERVAL_SECONDS: "10" });
    assert.equal(out.result, "completed");
    assert.equal(h.world.published.length, 1);
    const [e] = h.world.published;
    assert.deepEqual(
      [e.source, e.detailType, e.bus],
      [DRAIN_EVENTS.source, DRAIN_EVENTS.outcome, "default"],
    );
    assert.deepEqual(e.detail, {
      instanceId: ID,
      autoScalingGroup: "asg-a",
      cluster: "prod",
      result: "completed",
      lifecycleResult: "CONTINUE",
      drainSeconds: out.drainSeconds,
      tasksAtStart: 1,
      reasons: [],
      blockingServices: [],
      stuck: [],
    });
  });

  it("puts a stuck event when a reason first appears, and a timed-out outcome naming the reasons and services", async () => {
    const h = world();
    h.world.services.set("api", {
      schedulingStrategy: "REPLICA",
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 },
      events: [],
    });
    h.world.addTask("api-1", ID, "service:api", running());
    await h.run({ ...eventVars(ID), POLL_INTERVAL_SECONDS: "10", DRAIN_TIMEOUT_SECONDS: "120" });
    assert.deepEqual(
      h.world.published.map((e) => [e.detailType, e.detail.result]),
      [
        [DRAIN_EVENTS.stuck, "stuck"],
        [DRAIN_EVENTS.outcome, "timed-out"],
      ],
    );
    for (const e of h.world.published) {
      assert.deepEqual(e.detail.reasons, ["cannot-progress"]);
      assert.deepEqual(e.detail.blockingServices, ["api"]);
    }
  });

  it("negative case: with PUBLISH_EVENTS=false, no PutEvents call at all", async () => {
    const h = world();
    h.world.addTask("job-1", ID, "family:nightly", running());
    await h.run({
      ...eventVars(ID),
      POLL_INTERVAL_SECONDS: "10",
      DRAIN_TIMEOUT_SECONDS: "60",
      PUBLISH_EVENTS: "false",
    });
    assert.equal(h.world.eventsMock.commandCalls(PutEventsCommand).length, 0);
  });

  it("none in DRY_RUN", async () => {
    const h = world();
    await h.run({ ...eventVars(ID), DRY_RUN: "true" });
    assert.equal(h.world.eventsMock.commandCalls(PutEventsCommand).length, 0);
  });

  it("a failure to publish is a warning, and the drain completes as it would have", async () => {
    const h = world();
    h.world.eventsMock
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    h.world.addTask("web-1", ID, "service:web", running(), stopped(15));
    const [out] = await h.run({ ...eventVars(ID), POLL_INTERVAL_SECONDS: "10" });
    assert.equal(out.result, "completed");
    assert.deepEqual(
      h.world.completions.map((c) => c.result),
      ["CONTINUE"],
    );
    const warn = h.lines.find((l) => l.action === "event");
    assert.equal(warn?.level, "warn");
    assert.match(
      warn!.msg,
      /could not put the "ECS Scale-In Drain Outcome" event on EventBridge; the drain is unaffected/,
    );
  });
});
