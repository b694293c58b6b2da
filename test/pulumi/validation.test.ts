import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, recorded, reset, settle, valueOf } from "./harness";
import { LaunchType, ScaleInDrainer, ScaleInDrainerArgs } from "../../pulumi";

const BASE: ScaleInDrainerArgs = {
  clusterName: "prod",
  autoscalingGroupNames: ["asg-a"],
  subnetIds: ["subnet-1"],
  securityGroupIds: ["sg-1"],
};

/**
 * The message of the error an Output's check raises once `trigger` makes the program wait on it. Pulumi's runtime
 * surfaces such a failure under mocks as an unhandled rejection.
 */
function rejectionOf(trigger: () => unknown): Promise<string> {
  return new Promise<string>((resolve) => {
    const onRejection = (err: unknown) => {
      process.off("unhandledRejection", onRejection);
      resolve((err as Error).message);
    };
    process.on("unhandledRejection", onRejection);
    trigger();
  });
}

/** The message ScaleInDrainer throws for `args`. */
function errorOf(args: Partial<Record<keyof ScaleInDrainerArgs, unknown>>): string {
  try {
    new ScaleInDrainer("invalid", { ...BASE, ...args } as ScaleInDrainerArgs);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`no error for ${JSON.stringify(args)}`);
}

/** Each case: the args, the arg the message must name, and a word of the fix it must give. */
const CASES: [string, Partial<Record<keyof ScaleInDrainerArgs, unknown>>, string, RegExp][] = [
  ["a missing cluster", { clusterName: undefined }, "clusterName", /name .* or its ARN/],
  ["a cluster name with a space", { clusterName: "my cluster" }, "clusterName", /letters, digits/],
  ["no groups", { autoscalingGroupNames: [] }, "autoscalingGroupNames", /non-empty list/],
  [
    "the group names as an Output",
    { autoscalingGroupNames: pulumi.output(["asg-a"]) },
    "autoscalingGroupNames",
    /is an Output .* must be known when the program runs/,
  ],
  [
    "enableSweep as an Output",
    { enableSweep: pulumi.output(false) },
    "enableSweep",
    /is an Output .* must be known when the program runs/,
  ],
  [
    "enableAlarms as an Output",
    { enableAlarms: pulumi.output(true) },
    "enableAlarms",
    /is an Output .* must be known when the program runs/,
  ],
  [
    "alarms without the metrics they read",
    { enableAlarms: true, emitMetrics: false },
    "enableAlarms",
    /Set emitMetrics: true, or enableAlarms: false/,
  ],
  [
    "an alarm topic without alarms",
    { alarmTopicArn: "arn:aws:sns:us-west-2:123456789012:oncall" },
    "alarmTopicArn",
    /set enableAlarms: true, or remove alarmTopicArn/,
  ],
  [
    "an alarm topic that is not an SNS topic ARN",
    { enableAlarms: true, alarmTopicArn: "oncall" },
    "alarmTopicArn",
    /an SNS topic ARN such as/,
  ],
  [
    "launchType as an Output",
    { launchType: pulumi.output("EC2") },
    "launchType",
    /is an Output .* must be known when the program runs/,
  ],
  [
    "a group name that is an Output",
    { autoscalingGroupNames: [pulumi.output("asg-a")] },
    "autoscalingGroupNames",
    /not an Output/,
  ],
  [
    "a group name with a colon",
    { autoscalingGroupNames: ["a:b"] },
    "autoscalingGroupNames",
    /no colons/,
  ],
  ["a group listed twice", { autoscalingGroupNames: ["a", "a"] }, "autoscalingGroupNames", /once/],
  [
    "a group name IAM would read as a wildcard",
    { autoscalingGroupNames: ["web-*"] },
    "autoscalingGroupNames",
    /\*, \? and \$ .* wildcards or policy variables/,
  ],
  [
    "a group name IAM would read as a policy variable",
    { autoscalingGroupNames: ["team-${x}"] },
    "autoscalingGroupNames",
    /wildcards or policy variables/,
  ],
  ["no subnets", { subnetIds: [] }, "subnetIds", /at least one subnet/],
  [
    "no security groups",
    { securityGroupIds: undefined },
    "securityGroupIds",
    /at least one security group/,
  ],
  ["a heartbeat below 30 s", { heartbeatTimeout: 29 }, "heartbeatTimeout", /from 30 to 7200/],
  ["a heartbeat above 7200 s", { heartbeatTimeout: 7201 }, "heartbeatTimeout", /from 30 to 7200/],
  ["a fractional heartbeat", { heartbeatTimeout: 90.5 }, "heartbeatTimeout", /whole number/],
  ["a zero poll interval", { pollInterval: 0 }, "pollInterval", /greater than 0 and at most 3600/],
  ["a poll interval over an hour", { pollInterval: 3601 }, "pollInterval", /at most 3600/],
  [
    "zero ECS reads a second",
    { ecsReadsPerSecond: 0 },
    "ecsReadsPerSecond",
    /greater than 0 and at most 10000/,
  ],
  [
    "negative ECS reads a second",
    { ecsReadsPerSecond: -1 },
    "ecsReadsPerSecond",
    /greater than 0 and at most 10000/,
  ],
  [
    "more than 10000 ECS reads a second",
    { ecsReadsPerSecond: 10001 },
    "ecsReadsPerSecond",
    /at most 10000 \(it becomes ECS_READS_PER_SECOND\)/,
  ],
  ["a drain timeout over 48 h", { drainTimeout: 172801 }, "drainTimeout", /at most 172800/],
  [
    "a drain timeout beyond 100 x the heartbeat",
    { heartbeatTimeout: 30, drainTimeout: 3001, enableSweep: false },
    "drainTimeout",
    /lower `drainTimeout` or raise `heartbeatTimeout`/,
  ],
  ["an unknown timeout result", { timeoutResult: "RETRY" }, "timeoutResult", /CONTINUE or ABANDON/],
  [
    "a sweep schedule that is not an expression",
    { sweepSchedule: "5m" },
    "sweepSchedule",
    /rate\(5 minutes\)/,
  ],
  ["a Fargate CPU size that does not exist", { cpu: 300 }, "cpu", /256, 512/],
  ["a negative memory", { memory: -1 }, "memory", /MiB/],
  [
    "a retention CloudWatch does not offer",
    { logRetentionDays: 10 },
    "logRetentionDays",
    /7, 14, 30/,
  ],
  ["an unknown launch type", { launchType: "LAMBDA" }, "launchType", /FARGATE or EC2/],
  [
    "an unknown CPU architecture",
    { cpuArchitecture: "arm64" },
    "cpuArchitecture",
    /X86_64 or ARM64/,
  ],
  [
    "the CPU architecture as an Output",
    { cpuArchitecture: pulumi.output("ARM64") },
    "cpuArchitecture",
    /is an Output .* must be known when the program runs/,
  ],
  [
    "a heartbeat the default sweep could not beat",
    { heartbeatTimeout: 839 },
    "heartbeatTimeout",
    /`heartbeatTimeout` is 839 s, too short for `sweepSchedule` "rate\(5 minutes\)" .* at least 2 x \(300 \+ 120\) = 840\. Raise `heartbeatTimeout` to 840 or more .* or shorten `sweepSchedule`/,
  ],
  [
    "an hourly sweep with the default heartbeat",
    { sweepSchedule: "rate(1 hour)" },
    "heartbeatTimeout",
    /`heartbeatTimeout` is 900 s, too short for `sweepSchedule` "rate\(1 hour\)" .* = 7440/,
  ],
  [
    "a public IP on EC2",
    { launchType: LaunchType.Ec2, assignPublicIp: true },
    "assignPublicIp",
    /set it to false, or set `launchType` to FARGATE/,
  ],
  [
    "ECS managed draining's hook name",
    { hookName: "ecs-managed-draining-termination-hook" },
    "hookName",
    /choose another name/,
  ],
  ["a hook name with a space", { hookName: "my hook" }, "hookName", /letters, digits/],
  ["an empty image URI", { drainerImage: " " }, "drainerImage", /image URI/],
  ["a non-boolean sweep toggle", { enableSweep: "yes" }, "enableSweep", /true or false/],
  [
    "a non-boolean standalone policy",
    { stopStandaloneTasks: "no" },
    "stopStandaloneTasks",
    /true or false/,
  ],
];

describe("ScaleInDrainer validation (Pulumi)", () => {
  before(installMocks);
  beforeEach(reset);

  for (const [what, args, arg, fix] of CASES) {
    it(`rejects ${what}, naming \`${arg}\` and the fix`, () => {
      const message = errorOf(args);
      assert.ok(message.includes(`\`${arg}\``), message);
      assert.match(message, fix);
    });
  }

  it("never pastes Pulumi's toJSON warning about an Output into a message", () => {
    const message = errorOf({ autoscalingGroupNames: [pulumi.output("asg-a")] });
    assert.match(message, /contains an Output/);
    assert.doesNotMatch(message, /toJSON|Calling \[/);
  });

  it("lists every problem at once", () => {
    const message = errorOf({ heartbeatTimeout: 1, pollInterval: -1, cpu: 0 });
    for (const arg of ["heartbeatTimeout", "pollInterval", "cpu"]) {
      assert.ok(message.includes(`\`${arg}\``), `${arg} in ${message}`);
    }
  });

  it("accepts the boundaries: heartbeat 30 (no sweep), 840 (the default sweep) and 7200, a cron sweep unchecked, EC2 with any CPU size", async () => {
    for (const args of [
      { heartbeatTimeout: 30, drainTimeout: 3000, enableSweep: false },
      { heartbeatTimeout: 7200, drainTimeout: 172800 },
      { heartbeatTimeout: 840 },
      { heartbeatTimeout: 60, drainTimeout: 6000, sweepSchedule: "cron(0 * * * ? *)" },
      { launchType: LaunchType.Ec2, cpu: 300 },
    ]) {
      new ScaleInDrainer(`valid-${Object.values(args).join("-")}`, { ...BASE, ...args });
    }
    await settle();
    assert.ok(recorded.some((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition"));
  });

  it("checks a value that arrives as an Output when it resolves", async () => {
    const drainer = new ScaleInDrainer("late", {
      ...BASE,
      heartbeatTimeout: pulumi.output(10),
    });
    const failure = await rejectionOf(() => drainer.taskDefinitionArn.apply(() => undefined));
    assert.match(
      failure,
      /`heartbeatTimeout` is 10: set it to a whole number of seconds from 30 to 7200/,
    );
  });

  it("checks a cluster that arrives as an Output when it resolves", async () => {
    const drainer = new ScaleInDrainer("late-cluster", {
      ...BASE,
      clusterName: pulumi.output("not a cluster"),
    });
    const failure = await rejectionOf(() => valueOf(drainer.taskRoleArn));
    assert.match(failure, /`clusterName` is "not a cluster": set it to the ECS cluster's name/);
  });

  for (const [where, arn] of [
    ["another region", "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"],
    ["another account", "arn:aws:ecs:us-west-2:444455556666:cluster/prod"],
    ["another partition", "arn:aws-cn:ecs:us-west-2:123456789012:cluster/prod"],
  ]) {
    it(`rejects a cluster ARN in ${where} than the AWS provider's, naming \`clusterName\` and the fix`, async () => {
      const drainer = new ScaleInDrainer(`elsewhere-${where.split(" ")[1]}`, {
        ...BASE,
        clusterName: arn,
      });
      const failure = await rejectionOf(() => valueOf(drainer.taskRoleArn));
      assert.match(
        failure,
        /`clusterName` is "arn:.*", a cluster in .* but the AWS provider deploys to aws us-west-2, account 123456789012/,
      );
      assert.match(
        failure,
        where === "another region"
          ? /Set `aws:region` to eu-west-1 .*or give ScaleInDrainer an AWS provider for eu-west-1/
          : /an AWS provider for the cluster's region and account/,
      );
    });
  }

  it("accepts a cluster ARN where the AWS provider deploys", async () => {
    reset();
    new ScaleInDrainer("here", {
      ...BASE,
      clusterName: "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
    });
    await settle();
    assert.ok(recorded.some((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition"));
  });

  it("checks a sweep schedule that arrives as an Output against the heartbeat when it resolves", async () => {
    const drainer = new ScaleInDrainer("late-sweep", {
      ...BASE,
      sweepSchedule: pulumi.output("rate(10 minutes)"),
    });
    const failure = await rejectionOf(() => valueOf(drainer.hookNames));
    assert.match(
      failure,
      /`heartbeatTimeout` is 900 s, too short for `sweepSchedule` "rate\(10 minutes\)"/,
    );
  });

  it("cross-checks values that arrive as Outputs", async () => {
    const drainer = new ScaleInDrainer("late-cross", {
      ...BASE,
      heartbeatTimeout: pulumi.output(30),
      drainTimeout: pulumi.output(4000),
    });
    const failure = await rejectionOf(() => valueOf(drainer.hookNames));
    assert.match(failure, /`drainTimeout` is 4000 s, longer than the 3000 s/);
  });
});
