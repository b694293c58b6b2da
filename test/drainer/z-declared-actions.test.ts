// Runs after the other drainer suites (mocha loads spec files in name order): it checks what they sent.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DECLARED_ACTIONS, ResourceKind } from "../../drainer/src/contract";
import { commandsSeen, worldsCreated } from "./world";

describe("the drainer's declared AWS actions", () => {
  it("cover every command the drainer sent in the test suite, and none goes unused", function () {
    assert.ok(worldsCreated >= 30, `the drainer suites ran first (${worldsCreated} worlds seen)`);
    const declared = DECLARED_ACTIONS.map((a) => a.command).sort();
    assert.deepEqual([...commandsSeen].sort(), declared);
  });

  it("match the commands the AWS port imports, one for one", () => {
    const source = readFileSync(join(__dirname, "../../drainer/src/aws.ts"), "utf8");
    const used = new Set(
      [...source.matchAll(/new (\w+Command)\(|paginate(\w+)\(/g)].map(
        (m) => m[1] ?? `${m[2]}Command`,
      ),
    );
    assert.deepEqual([...used].sort(), DECLARED_ACTIONS.map((a) => a.command).sort());
  });

  it("name each action's IAM service and the SDK command that sends it", () => {
    for (const a of DECLARED_ACTIONS) {
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
});
