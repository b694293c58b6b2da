// The port's decorators (drainer/src/aws.ts): DRY_RUN's, which sends nothing that changes AWS, and the drainer's,
// which refuses what only an operator's `status` may call. Both are driven by the contract's action lists.
import { strict as assert } from "node:assert";
import {
  AwsPort,
  MUTATING_METHODS,
  PORT_ACTIONS,
  drainerPort,
  dryRunPort,
} from "../../drainer/src/aws";
import { DECLARED_ACTIONS, OPERATOR_ACTIONS } from "../../drainer/src/contract";

/** A port whose every method records its name and answers `answer`. */
function recordingPort(answer: unknown = []) {
  const called: string[] = [];
  const port = Object.fromEntries(
    (Object.keys(PORT_ACTIONS) as (keyof AwsPort)[]).map((m) => [
      m,
      async () => {
        called.push(m);
        return answer;
      },
    ]),
  ) as unknown as AwsPort;
  return { port, called };
}

const mutatingActions = DECLARED_ACTIONS.filter((a) => a.mutating).map((a) => a.action);

describe("the port's decorators (aws.ts)", () => {
  it("MUTATING_METHODS are exactly the port's methods that send an action the contract marks mutating", () => {
    const expected = (Object.keys(PORT_ACTIONS) as (keyof AwsPort)[]).filter((m) =>
      PORT_ACTIONS[m].some((a) => mutatingActions.includes(a)),
    );
    assert.deepEqual([...MUTATING_METHODS].sort(), expected.sort());
    for (const m of [
      "setDraining",
      "completeLifecycleAction",
      "recordHeartbeat",
      "stopTask",
      "putEvents",
    ]) {
      assert.ok(MUTATING_METHODS.includes(m as keyof AwsPort), `${m} changes something`);
    }
  });

  it("DRY_RUN's port sends nothing that changes AWS, and passes every read through", async () => {
    const { port, called } = recordingPort();
    const dry = dryRunPort(port);
    for (const m of Object.keys(PORT_ACTIONS) as (keyof AwsPort)[]) {
      await (dry[m] as (...a: unknown[]) => Promise<unknown>)("x", ["y"], "z");
    }
    assert.deepEqual(
      called.filter((m) => MUTATING_METHODS.includes(m as keyof AwsPort)),
      [],
      "a mutating call went out",
    );
    const reads = (Object.keys(PORT_ACTIONS) as (keyof AwsPort)[]).filter(
      (m) => !MUTATING_METHODS.includes(m),
    );
    assert.deepEqual(called.sort(), [...reads].sort());
  });

  it("negative control: a port decorated by a list that misses one mutating method lets that call out", async () => {
    const { port, called } = recordingPort();
    const missing = MUTATING_METHODS.filter((m) => m !== "completeLifecycleAction");
    const leaky = new Proxy(port, {
      get: (t, k, r) =>
        (missing as readonly PropertyKey[]).includes(k)
          ? () => Promise.resolve(undefined)
          : Reflect.get(t, k, r),
    });
    await leaky.completeLifecycleAction(
      { asg: "a", hook: "h", instanceId: "i-1", token: undefined },
      "CONTINUE",
    );
    assert.deepEqual(called, ["completeLifecycleAction"]);
  });

  it("the drainer's port refuses, without sending, what only an operator's status may call", async () => {
    const operatorOnly = (Object.keys(PORT_ACTIONS) as (keyof AwsPort)[]).filter((m) =>
      PORT_ACTIONS[m].every((a) => OPERATOR_ACTIONS.some((o) => o.action === a)),
    );
    assert.ok(operatorOnly.length > 0);
    const { port, called } = recordingPort();
    const drainer = drainerPort(port);
    for (const m of operatorOnly) {
      await assert.rejects(
        (drainer[m] as (...a: unknown[]) => Promise<unknown>)("asg", 1),
        /status only/,
      );
    }
    assert.deepEqual(called, []);
    await drainer.describeTasks("c", ["t"]);
    assert.deepEqual(called, ["describeTasks"]);
  });
});
