/**
 * Metrics: each instance's outcome line carries CloudWatch Embedded Metric Format when EMIT_METRICS is on (the
 * default), and none when it is off. The EMF document is checked against the specification's rules
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * `_aws.Timestamp` a number of epoch milliseconds, `CloudWatchMetrics` directives with a Namespace, Dimensions (arrays
 * of member names) and Metrics (Name, Unit), and every member a directive names present at the root, metrics as
 * numbers and dimensions as strings.
 */
import { strict as assert } from "node:assert";
import { OUTCOME_METRICS, outcomeMetrics } from "../../drainer/src/telemetry";
import { eventVars, harness } from "./harness";
import { running, stopped } from "../doubles/scripted";

const UNITS = new Set(["Seconds", "Count"]);

/** Every rule of the EMF specification the drainer's lines must meet; returns the metric values by name. */
function checkEmf(line: Record<string, any>): Record<string, number> {
  const aws = line._aws;
  assert.ok(aws && typeof aws === "object", "no _aws member");
  assert.equal(typeof aws.Timestamp, "number");
  assert.ok(aws.Timestamp > 1.5e12, "Timestamp must be epoch milliseconds");
  assert.ok(Array.isArray(aws.CloudWatchMetrics) && aws.CloudWatchMetrics.length > 0);
  const values: Record<string, number> = {};
  for (const d of aws.CloudWatchMetrics) {
    assert.match(d.Namespace, /^(?!AWS\/)[0-9A-Za-z.\-_/#:]{1,255}$/);
    for (const set of d.Dimensions) {
      assert.ok(Array.isArray(set) && set.length <= 30);
      for (const name of set) assert.equal(typeof line[name], "string", `dimension ${name}`);
    }
    assert.ok(d.Metrics.length <= 100);
    for (const m of d.Metrics) {
      assert.ok(UNITS.has(m.Unit), m.Unit);
      assert.equal(typeof line[m.Name], "number", `metric ${m.Name}`);
      values[m.Name] = line[m.Name];
    }
  }
  return values;
}

describe("metrics (Embedded Metric Format in outcome lines)", () => {
  it("counts each kind of drain once, with its seconds and tasks, on the cluster and group", () => {
    const at = Date.UTC(2026, 11, 5);
    const completed = outcomeMetrics(
      { asg: "web", result: "completed", drainSeconds: 42.5, tasksAtStart: 3 },
      "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
      "Team/Drains",
      at,
    )!;
    assert.deepEqual(checkEmf(completed), {
      DrainSeconds: 42.5,
      TasksAtStart: 3,
      Completed: 1,
      TimedOut: 0,
      Failed: 0,
    });
    assert.equal(completed.Cluster, "prod", "a cluster ARN's name");
    assert.equal(completed.AutoScalingGroup, "web");
    assert.equal((completed._aws as any).Timestamp, at);
    assert.equal((completed._aws as any).CloudWatchMetrics[0].Namespace, "Team/Drains");
    for (const [result, metric] of [
      ["timed-out", "TimedOut"],
      ["failed", "Failed"],
      ["not-in-cluster", "Completed"],
    ]) {
      const v = checkEmf(
        outcomeMetrics(
          { asg: "web", result, drainSeconds: 1, tasksAtStart: null },
          "prod",
          "N",
          at,
        )!,
      );
      assert.equal(v[metric], 1, result);
      assert.equal(v.TasksAtStart, undefined, "never listed: no TasksAtStart");
      assert.equal(
        Object.keys(OUTCOME_METRICS).filter((k) => k !== "DrainSeconds" && v[k] === 1).length,
        1,
      );
    }
    for (const result of ["already-complete", "not-terminating", "interrupted", "dry-run"]) {
      assert.equal(
        outcomeMetrics({ asg: "w", result, drainSeconds: 1, tasksAtStart: 0 }, "prod", "N", at),
        undefined,
        `${result} is not a drain`,
      );
    }
  });

  async function drainOne(vars: Record<string, string> = {}) {
    const h = harness();
    h.world
      .addInstance("i-0000000000000001", "asg-a")
      .addTask("web-1", "i-0000000000000001", "service:web", running(), stopped(15));
    const [out] = await h.run({ ...eventVars("i-0000000000000001"), ...vars });
    return { out, outcomes: h.lines.filter((l) => l.action === "outcome") };
  }

  it("writes one outcome line per instance, with its metrics, by default", async () => {
    const { out, outcomes } = await drainOne();
    assert.equal(out.result, "completed");
    assert.equal(outcomes.length, 1);
    const [line] = outcomes;
    assert.equal(line.result, "completed");
    assert.equal(line.instanceId, "i-0000000000000001", "the line keeps the usual keys");
    assert.equal(line.asg, "asg-a");
    const values = checkEmf(line);
    assert.equal(values.Completed, 1);
    assert.equal(values.TasksAtStart, 1);
    assert.equal(values.DrainSeconds, out.drainSeconds);
    assert.equal(line._aws.CloudWatchMetrics[0].Namespace, "ECSScaleInDrainer");
  });

  it("negative case: with EMIT_METRICS=false the outcome line carries no metric", async () => {
    const { outcomes } = await drainOne({ EMIT_METRICS: "false" });
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]._aws, undefined);
    assert.equal(outcomes[0].Completed, undefined);
  });

  it("uses METRICS_NAMESPACE, and writes no metric in DRY_RUN", async () => {
    const { outcomes } = await drainOne({ METRICS_NAMESPACE: "Platform/Drains" });
    assert.equal(outcomes[0]._aws.CloudWatchMetrics[0].Namespace, "Platform/Drains");
    const dry = await drainOne({ DRY_RUN: "true" });
    assert.equal(dry.outcomes[0].result, "dry-run");
    assert.equal(dry.outcomes[0]._aws, undefined);
  });
});
