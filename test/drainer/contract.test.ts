import { strict as assert } from "node:assert";
import {
  DEFAULTS,
  DRAINER_FAILURE_EXIT_CODES,
  DRAINER_METRICS,
  DRAINER_START_ALLOWANCE_SECONDS,
  ExitCode,
  LIMITS,
  defaultDrainerName,
  drainerTaskFailurePattern,
  fargateVcpuAlarmThreshold,
  minimumHeartbeatTimeoutForSweep,
  rateExpressionSeconds,
  shortHash,
  truncateWithHash,
} from "../../drainer/src/contract";
import { OUTCOME_METRICS } from "../../drainer/src/telemetry";

describe("contract: the sweep period against the hook's heartbeat timeout", () => {
  it("reads the period of every rate(...) unit, singular and plural", () => {
    assert.equal(rateExpressionSeconds("rate(1 minute)"), 60);
    assert.equal(rateExpressionSeconds("rate(5 minutes)"), 300);
    assert.equal(rateExpressionSeconds("rate(1 hour)"), 3600);
    assert.equal(rateExpressionSeconds("rate(2 hours)"), 7200);
    assert.equal(rateExpressionSeconds("rate(1 day)"), 86400);
    assert.equal(rateExpressionSeconds("rate(3 days)"), 259200);
  });

  it("has no period for a cron expression or anything that is not a rate", () => {
    for (const expression of [
      "cron(0/5 * * * ? *)",
      "rate(5 seconds)",
      "rate(five minutes)",
      "rate(5  minutes)",
      " rate(5 minutes)",
      "rate(-5 minutes)",
    ]) {
      assert.equal(rateExpressionSeconds(expression), undefined, expression);
    }
  });

  it("asks for two heartbeat intervals' worth of a sweep period plus a task start", () => {
    assert.equal(DRAINER_START_ALLOWANCE_SECONDS, 120);
    assert.equal(minimumHeartbeatTimeoutForSweep(300), 840);
    assert.equal(minimumHeartbeatTimeoutForSweep(60), 360);
  });

  it("accepts the defaults: the default sweep fits the default heartbeat timeout", () => {
    const minimum = minimumHeartbeatTimeoutForSweep(rateExpressionSeconds(DEFAULTS.sweepSchedule)!);
    assert.ok(minimum <= DEFAULTS.heartbeatTimeoutSeconds, `${minimum}`);
  });

  it("leaves no heartbeat timeout for a sweep slower than every 58 minutes (the hook's limit is 7200)", () => {
    assert.ok(minimumHeartbeatTimeoutForSweep(3600) > LIMITS.heartbeatTimeoutMax);
    assert.ok(minimumHeartbeatTimeoutForSweep(3480) === LIMITS.heartbeatTimeoutMax);
  });
});

describe("contract: what the alarms watch", () => {
  it("alarms on outcome metrics the drainer writes, by name", () => {
    assert.ok(DRAINER_METRICS.timedOut in OUTCOME_METRICS);
    assert.ok(DRAINER_METRICS.failed in OUTCOME_METRICS);
    assert.equal(DRAINER_METRICS.orphanedActions, "OrphanedActions");
  });

  it("counts a drainer's exit as a failure only for a permanent AWS error or invalid configuration", () => {
    assert.deepEqual([...DRAINER_FAILURE_EXIT_CODES].sort(), [
      ExitCode.Failed,
      ExitCode.InvalidConfig,
    ]);
    assert.ok(!DRAINER_FAILURE_EXIT_CODES.includes(ExitCode.Ok));
    assert.ok(!DRAINER_FAILURE_EXIT_CODES.includes(ExitCode.Interrupted));
  });

  it("matches the family's revisions only: the prefix ends with the family's colon", () => {
    const pattern = drainerTaskFailurePattern(
      "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
      "arn:aws:ecs:us-west-2:123456789012:task-definition/prod-drainer:",
    );
    assert.deepEqual(pattern.detail.taskDefinitionArn, [
      { prefix: "arn:aws:ecs:us-west-2:123456789012:task-definition/prod-drainer:" },
    ]);
  });

  it("puts the Fargate alarm at 80% of the quota, exactly", () => {
    assert.equal(fargateVcpuAlarmThreshold(6), 4.8);
    assert.equal(fargateVcpuAlarmThreshold(4000), 3200);
  });
});

describe("contract: names cut with a hash", () => {
  const BLUE = "payments-production-eu-west-1-blue";
  const GREEN = "payments-production-eu-west-1-green";

  it("hashes with the first 8 hex of SHA-256, as Terraform's substr(sha256(x), 0, 8)", () => {
    assert.equal(shortHash("abc"), "ba7816bf");
    assert.equal(shortHash(BLUE), "a03ed3eb");
  });

  it("keeps a name that fits whole, and cuts a longer one to the length with its hash", () => {
    assert.equal(truncateWithHash("a".repeat(24), 24), "a".repeat(24));
    const cut = truncateWithHash("a".repeat(25), 24);
    assert.equal(cut.length, 24);
    assert.equal(cut, `${"a".repeat(15)}-${shortHash("a".repeat(25))}`);
  });

  it("gives a blue and a green cluster whose names differ only at the end distinct default names", () => {
    assert.equal(defaultDrainerName(BLUE), "payments-produc-a03ed3eb-drainer");
    assert.equal(defaultDrainerName(GREEN), "payments-produc-56816281-drainer");
    assert.ok(defaultDrainerName(BLUE).length <= 32);
    // Negative control: cutting without the hash, as the module did, gives both the same name.
    assert.equal(`${BLUE.slice(0, 24)}-drainer`, `${GREEN.slice(0, 24)}-drainer`);
  });

  it("keeps a short cluster's default name as it was: the cluster's name and -drainer", () => {
    assert.equal(defaultDrainerName("prod"), "prod-drainer");
  });
});
