// Structured logs (drainer/src/log.ts): one JSON object per line, the same keys on every line.
import { strict as assert } from "node:assert";
import { createLogger, errorText } from "../../drainer/src/log";

describe("the logger (log.ts)", () => {
  const at = () => new Date("2026-12-07T00:00:00.000Z");

  it("writes one JSON object per line with time, level, message, every context key and action, null where unset", () => {
    const lines: string[] = [];
    createLogger((l) => lines.push(l), undefined, at).log("info", "hello", { extra: 1 });
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]), {
      time: "2026-12-07T00:00:00.000Z",
      level: "info",
      msg: "hello",
      cluster: null,
      asg: null,
      hook: null,
      instanceId: null,
      action: null,
      extra: 1,
    });
  });

  it("a child logger adds its context to every line and leaves its parent's alone", () => {
    const lines: Record<string, unknown>[] = [];
    const root = createLogger(
      (l) => lines.push(JSON.parse(l)),
      { cluster: "prod", asg: null, hook: "h", instanceId: null },
      at,
    );
    root.with({ instanceId: "i-1", asg: "a" }).log("warn", "child", { action: "drain" });
    root.log("info", "parent");
    assert.deepEqual(
      lines.map((l) => [l.cluster, l.asg, l.hook, l.instanceId, l.action]),
      [
        ["prod", "a", "h", "i-1", "drain"],
        ["prod", null, "h", null, null],
      ],
    );
  });

  it("errorText gives an error as `Name: message`, anything else as its string", () => {
    const err = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    assert.equal(errorText(err), "ThrottlingException: Rate exceeded");
    assert.equal(errorText("plain"), "plain");
    assert.equal(errorText(42), "42");
  });
});
