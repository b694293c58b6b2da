import { strict as assert } from "node:assert";
import { ConfigError, parseConfig } from "../../drainer/src/config";
import { DEFAULTS, LifecycleResult, SETTINGS } from "../../drainer/src/contract";

const EVENT = {
  ECS_CLUSTER: "prod",
  EC2_INSTANCE_ID: "i-1234567890abcdef0",
  AUTOSCALING_GROUP_NAME: "my-asg",
  LIFECYCLE_HOOK_NAME: "my-hook",
  LIFECYCLE_ACTION_TOKEN: "87654321-4321-4321-4321-210987654321",
};

function problems(vars: Record<string, string | undefined>): { name: string; message: string }[] {
  try {
    parseConfig(vars);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  assert.fail("expected a ConfigError");
}

describe("parseConfig", () => {
  it("reads an event-mode environment, with the contract's defaults", () => {
    assert.deepEqual(parseConfig(EVENT), {
      cluster: "prod",
      mode: "event",
      hook: "my-hook",
      instanceId: "i-1234567890abcdef0",
      asg: "my-asg",
      token: "87654321-4321-4321-4321-210987654321",
      asgs: ["my-asg"],
      deploymentAsgs: [],
      pollIntervalSeconds: DEFAULTS.pollIntervalSeconds,
      heartbeatIntervalSeconds: undefined,
      drainTimeoutSeconds: DEFAULTS.drainTimeoutSeconds,
      ecsReadsPerSecond: DEFAULTS.ecsReadsPerSecond,
      timeoutResult: LifecycleResult.Continue,
      stopStandaloneTasks: false,
      requestTimeoutSeconds: DEFAULTS.requestTimeoutSeconds,
      event: { origin: undefined, destination: undefined, action: undefined },
      notes: [],
      dryRun: false,
      emitMetrics: true,
      metricsNamespace: DEFAULTS.metricsNamespace,
      publishEvents: true,
    });
  });

  it("reads the metrics settings, and rejects a namespace CloudWatch would not take, naming the fix", () => {
    const c = parseConfig({
      ...EVENT,
      EMIT_METRICS: "false",
      METRICS_NAMESPACE: "Team/Drains:prod",
    });
    assert.equal(c.emitMetrics, false);
    assert.equal(c.metricsNamespace, "Team/Drains:prod");
    for (const bad of ["AWS/ECS", "has space", "x".repeat(256), "émoji"]) {
      const [p] = problems({ ...EVENT, METRICS_NAMESPACE: bad });
      assert.equal(p.name, "METRICS_NAMESPACE", bad);
      assert.match(p.message, /CloudWatch namespace: 1-255 .* not starting with AWS\//);
    }
    assert.equal(problems({ ...EVENT, EMIT_METRICS: "maybe" })[0].name, "EMIT_METRICS");
  });

  it("reads the event's Origin, Destination and Action, and notes (never rejects) a value outside AWS's words", () => {
    const c = parseConfig({
      ...EVENT,
      EVENT_ORIGIN: "AutoScalingGroup",
      EVENT_DESTINATION: "AutoScalingGroup",
      EVENT_ACTION: "ReplaceRootVolume",
    });
    assert.deepEqual(c.event, {
      origin: "AutoScalingGroup",
      destination: "AutoScalingGroup",
      action: "ReplaceRootVolume",
    });
    assert.deepEqual(
      parseConfig({ ...EVENT, EVENT_ORIGIN: "WarmPool", EVENT_DESTINATION: "EC2" }).event,
      {
        origin: "WarmPool",
        destination: "EC2",
        action: undefined,
      },
    );
    const odd = parseConfig({ ...EVENT, EVENT_ORIGIN: '"; rm -rf /', EVENT_ACTION: "" });
    assert.deepEqual(odd.event, { origin: undefined, destination: undefined, action: undefined });
    assert.equal(odd.notes.length, 1);
    assert.match(odd.notes[0], /EVENT_ORIGIN .* ignored/);
  });

  it("rejects a request timeout that is not shorter than an explicit heartbeat interval, and shortens the default", () => {
    const p = problems({ ...EVENT, HEARTBEAT_INTERVAL_SECONDS: "4", REQUEST_TIMEOUT_SECONDS: "4" });
    assert.deepEqual(
      p.map((x) => x.name),
      ["REQUEST_TIMEOUT_SECONDS"],
    );
    assert.match(
      p[0].message,
      /not shorter than HEARTBEAT_INTERVAL_SECONDS \(4\).*--request-timeout/,
    );
    assert.equal(
      parseConfig({ ...EVENT, HEARTBEAT_INTERVAL_SECONDS: "4" }).requestTimeoutSeconds,
      2,
    );
    assert.equal(
      parseConfig({ ...EVENT, REQUEST_TIMEOUT_SECONDS: "0.5" }).requestTimeoutSeconds,
      0.5,
    );
  });

  it("sweeps without EC2_INSTANCE_ID, over a trimmed comma-separated list", () => {
    const c = parseConfig({
      ECS_CLUSTER: "prod",
      LIFECYCLE_HOOK_NAME: "h",
      AUTOSCALING_GROUP_NAMES: " a, b ,,c ",
    });
    assert.equal(c.mode, "sweep");
    assert.deepEqual(c.asgs, ["a", "b", "c"]);
    assert.equal(c.instanceId, undefined);
  });

  it("accepts a cluster ARN, decimal durations and case-insensitive words", () => {
    const c = parseConfig({
      ...EVENT,
      ECS_CLUSTER: "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod",
      POLL_INTERVAL_SECONDS: "0.2",
      HEARTBEAT_INTERVAL_SECONDS: ".5",
      DRAIN_TIMEOUT_SECONDS: "90",
      TIMEOUT_RESULT: "abandon",
      STOP_STANDALONE_TASKS: "TRUE",
      DRY_RUN: "yes",
    });
    assert.equal(c.cluster, "arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod");
    assert.equal(c.pollIntervalSeconds, 0.2);
    assert.equal(c.heartbeatIntervalSeconds, 0.5);
    assert.equal(c.drainTimeoutSeconds, 90);
    assert.equal(c.timeoutResult, "ABANDON");
    assert.equal(c.stopStandaloneTasks, true);
    assert.equal(c.dryRun, true);
  });

  it("treats empty values as unset, as IaC tools often pass them", () => {
    const c = parseConfig({ ...EVENT, LIFECYCLE_ACTION_TOKEN: "", POLL_INTERVAL_SECONDS: "" });
    assert.equal(c.token, undefined);
    assert.equal(c.pollIntervalSeconds, 10);
  });

  it("names every bad variable at once, with how to fix it", () => {
    const found = problems({
      ECS_CLUSTER: "my cluster",
      EC2_INSTANCE_ID: "1234",
      LIFECYCLE_HOOK_NAME: "h",
      POLL_INTERVAL_SECONDS: "0",
      DRAIN_TIMEOUT_SECONDS: "10m",
      ECS_READS_PER_SECOND: "-1",
      TIMEOUT_RESULT: "RETRY",
      DRY_RUN: "maybe",
    });
    assert.deepEqual(
      found.map((p) => p.name),
      [
        "ECS_CLUSTER",
        "EC2_INSTANCE_ID",
        "AUTOSCALING_GROUP_NAME",
        "POLL_INTERVAL_SECONDS",
        "DRAIN_TIMEOUT_SECONDS",
        "ECS_READS_PER_SECOND",
        "TIMEOUT_RESULT",
        "DRY_RUN",
      ],
    );
    const byName = Object.fromEntries(found.map((p) => [p.name, p.message]));
    assert.match(byName.ECS_CLUSTER, /cluster name .* or a cluster ARN/);
    assert.match(byName.EC2_INSTANCE_ID, /i-1234567890abcdef0/);
    assert.match(
      byName.AUTOSCALING_GROUP_NAME,
      /is required: set AUTOSCALING_GROUP_NAME \(or --asg\)/,
    );
    assert.match(byName.POLL_INTERVAL_SECONDS, /greater than 0 and at most 3600/);
    assert.match(
      byName.DRAIN_TIMEOUT_SECONDS,
      /"10m" is not valid: it must be a number of seconds/,
    );
    assert.match(
      byName.ECS_READS_PER_SECOND,
      /"-1" is not valid: it must be a number greater than 0/,
    );
    assert.match(byName.TIMEOUT_RESULT, /use CONTINUE or ABANDON/);
    assert.match(byName.DRY_RUN, /use true or false/);
  });

  it("requires the groups to sweep when no instance is given", () => {
    const found = problems({ ECS_CLUSTER: "prod", LIFECYCLE_HOOK_NAME: "h" });
    assert.deepEqual(
      found.map((p) => p.name),
      ["AUTOSCALING_GROUP_NAMES"],
    );
    assert.match(found[0].message, /sweep mode.*or set EC2_INSTANCE_ID/);
  });

  it("rejects a token without an instance, and durations beyond AWS's limits", () => {
    const found = problems({
      ECS_CLUSTER: "prod",
      LIFECYCLE_HOOK_NAME: "h",
      AUTOSCALING_GROUP_NAMES: "a",
      LIFECYCLE_ACTION_TOKEN: "t",
      DRAIN_TIMEOUT_SECONDS: "172801",
      HEARTBEAT_INTERVAL_SECONDS: "7201",
    });
    assert.deepEqual(found.map((p) => p.name).sort(), [
      "DRAIN_TIMEOUT_SECONDS",
      "HEARTBEAT_INTERVAL_SECONDS",
      "LIFECYCLE_ACTION_TOKEN",
    ]);
  });

  it("every setting in the contract has a unique variable and flag, and a description", () => {
    assert.equal(new Set(SETTINGS.map((s) => s.env)).size, SETTINGS.length);
    assert.equal(new Set(SETTINGS.map((s) => s.flag)).size, SETTINGS.length);
    for (const s of SETTINGS) assert.ok(s.description.length > 10, s.env);
  });
});
