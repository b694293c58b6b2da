import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, recorded, reset, settle } from "./harness";
import {
  LaunchType,
  ScaleInDrainer,
  ScaleInDrainerArgs,
  checkScaleInDrainerArgs,
} from "../../pulumi";
import { argsError } from "../../pulumi/validation";

const BASE: ScaleInDrainerArgs = {
  clusterName: "prod",
  autoscalingGroupNames: ["asg-a"],
  subnetIds: ["subnet-1"],
  securityGroupIds: ["sg-1"],
};

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

  it("accepts a cluster ARN where the AWS provider deploys", async () => {
    reset();
    new ScaleInDrainer("here", {
      ...BASE,
      clusterName: "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
    });
    await settle();
    assert.ok(recorded.some((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition"));
  });
});

const DRAINER = "ecs-scale-in-drainer:index:ScaleInDrainer";
const IN_EU = "arn:aws:ecs:eu-west-1:123456789012:cluster/prod";

/** What constructing a component did: the errors it failed with, and every resource registered. */
interface Outcome {
  /** The distinct errors the program failed with (Pulumi reports each distinct error once). */
  readonly errors: (Error & { hideStack?: boolean })[];
  /** Every registered resource as `type name`, sorted, the component itself included. */
  readonly registered: string[];
}

/**
 * Constructs a component directly, as a TypeScript program does, and waits until it is done: its outputs resolve or
 * fail, and every registration the program started has finished.
 */
async function construct(
  Component: typeof ScaleInDrainer,
  name: string,
  args: Partial<Record<keyof ScaleInDrainerArgs, unknown>>,
): Promise<Outcome> {
  reset();
  const errors = new Set<Error>();
  const onRejection = (err: unknown) => errors.add(err as Error);
  process.on("unhandledRejection", onRejection);
  try {
    const drainer = new Component(name, { ...BASE, ...args } as ScaleInDrainerArgs);
    // Output's promise() is not in its typings; it rejects with the error the component failed with.
    await (drainer.taskDefinitionArn as unknown as { promise(): Promise<unknown> })
      .promise()
      .catch((err: Error) => errors.add(err));
    await settle();
    // Rejections of promises nobody awaited are reported on the next turns of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  const registered = recorded
    .filter((r) => !r.type.startsWith("pulumi:providers:"))
    .map((r) => `${r.type} ${r.name}`)
    .sort();
  return { errors: [...errors], registered };
}

/** Asserts that `outcome` failed with one error, naming `arg`, and that no child of `name` was registered. */
function assertRejectedBeforeChildren(outcome: Outcome, name: string, arg: string): string {
  assert.equal(outcome.errors.length, 1, `one error: ${outcome.errors.map((e) => e.message)}`);
  const [error] = outcome.errors;
  // Pulumi prints a ResourceError that hides its stack with its message alone, under the component.
  assert.ok(pulumi.ResourceError.isInstance(error), `a ResourceError: ${error}`);
  assert.equal(error.hideStack, true);
  const message = error.message;
  assert.ok(message.startsWith(`ScaleInDrainer ${name}: `), message);
  assert.ok(message.includes(`\`${arg}\``), message);
  assert.deepEqual(outcome.registered, [`${DRAINER} ${name}`], "only the component, no child");
  return message;
}

/** Each case: the Output-valued args, the arg the message names, and its value and fix. */
const OUTPUT_CASES: [string, Partial<Record<keyof ScaleInDrainerArgs, unknown>>, string, RegExp][] =
  [
    [
      "a drain timeout over 48 h from an Output",
      { drainTimeout: pulumi.output(200000) },
      "drainTimeout",
      /`drainTimeout` is 200000: set it to a number of seconds greater than 0 and at most 172800/,
    ],
    [
      "a drain timeout from a Promise",
      { drainTimeout: Promise.resolve(-5) },
      "drainTimeout",
      /`drainTimeout` is -5: set it to a number of seconds/,
    ],
    [
      "a cluster ARN in another region from an Output",
      { clusterName: pulumi.output(IN_EU) },
      "clusterName",
      /`clusterName` is "arn:aws:ecs:eu-west-1:123456789012:cluster\/prod", a cluster in aws eu-west-1, .* but the AWS provider deploys to aws us-west-2, .*Set `aws:region` to eu-west-1 .*or give ScaleInDrainer an AWS provider for eu-west-1/,
    ],
    [
      "a cluster ARN in another region (a plain value: the provider's region is read first)",
      { clusterName: IN_EU },
      "clusterName",
      /Set `aws:region` to eu-west-1 \(pulumi config set aws:region eu-west-1\)/,
    ],
    [
      "a cluster ARN in another account",
      { clusterName: "arn:aws:ecs:us-west-2:444455556666:cluster/prod" },
      "clusterName",
      /account 444455556666, but the AWS provider deploys to .*an AWS provider for the cluster's region and account/,
    ],
    [
      "a cluster ARN in another partition",
      { clusterName: pulumi.output("arn:aws-cn:ecs:us-west-2:123456789012:cluster/prod") },
      "clusterName",
      /a cluster in aws-cn us-west-2, .*an AWS provider for the cluster's region and account/,
    ],
    [
      "a cluster that is not a name or an ARN, from an Output",
      { clusterName: pulumi.output("not a cluster") },
      "clusterName",
      /`clusterName` is "not a cluster": set it to the ECS cluster's name/,
    ],
    [
      "a heartbeat below 30 s from an Output",
      { heartbeatTimeout: pulumi.output(10) },
      "heartbeatTimeout",
      /`heartbeatTimeout` is 10: set it to a whole number of seconds from 30 to 7200/,
    ],
    [
      "no subnets from an Output",
      { subnetIds: pulumi.output([]) },
      "subnetIds",
      /must list at least one subnet/,
    ],
    [
      "a sweep schedule from an Output that the default heartbeat cannot beat",
      { sweepSchedule: pulumi.output("rate(10 minutes)") },
      "heartbeatTimeout",
      /`heartbeatTimeout` is 900 s, too short for `sweepSchedule` "rate\(10 minutes\)".* Raise `heartbeatTimeout` to 1440/,
    ],
    [
      "a drain longer than 100 heartbeats, both from Outputs",
      { heartbeatTimeout: pulumi.output(30), drainTimeout: pulumi.output(4000) },
      "drainTimeout",
      /`drainTimeout` is 4000 s, longer than the 3000 s .* lower `drainTimeout` or raise `heartbeatTimeout`/,
    ],
  ];

describe("ScaleInDrainer used directly: Outputs are checked before any child is registered", () => {
  before(installMocks);

  for (const [what, args, arg, text] of OUTPUT_CASES) {
    it(`rejects ${what} with one message naming \`${arg}\`, its value and the fix, registering no child`, async () => {
      const name = `out-${arg}-${OUTPUT_CASES.findIndex((c) => c[0] === what)}`;
      const message = assertRejectedBeforeChildren(
        await construct(ScaleInDrainer, name, args),
        name,
        arg,
      );
      assert.match(message, text);
    });
  }

  for (const [arg, value, fix] of [
    ["drainTimeout", 200000, /`drainTimeout` is \[secret\]: set it to a number of seconds/],
    ["kmsKeyArn", "alias/drainer-key", /`kmsKeyArn` is \[secret\]: set it to a KMS key's ARN/],
  ] as const) {
    it(`names a secret \`${arg}\` in its message without showing its value`, async () => {
      const name = `out-secret-${arg}`;
      const outcome = await construct(ScaleInDrainer, name, { [arg]: pulumi.secret(value) });
      const message = assertRejectedBeforeChildren(outcome, name, arg);
      assert.match(message, fix);
      assert.ok(!message.includes(String(value)), message);
    });
  }

  it("negative control: a variant that registers a child before the check fails is caught", async () => {
    class Eager extends ScaleInDrainer {
      protected override async initialize(
        inputs: pulumi.Inputs,
        opts?: pulumi.ComponentResourceOptions,
        name = "",
      ) {
        new pulumi.ComponentResource("test:index:Early", `${name}-early`, {}, { parent: this });
        return super.initialize(inputs, opts, name);
      }
    }
    const outcome = await construct(Eager, "eager", { drainTimeout: pulumi.output(200000) });
    assert.equal(outcome.errors.length, 1);
    assert.throws(
      () => assertRejectedBeforeChildren(outcome, "eager", "drainTimeout"),
      /only the component, no child/,
    );
  });

  it("skips the check of a value a preview does not know yet, and still plans every child", async () => {
    // An Output whose value is not known, as a preview gives for a resource not created yet.
    const OutputClass = pulumi.Output as unknown as new (
      ...args: unknown[]
    ) => pulumi.Output<number>;
    const unknown = new OutputClass(
      new Set(),
      Promise.resolve(undefined),
      Promise.resolve(false),
      Promise.resolve(false),
      Promise.resolve(new Set()),
    );
    const outcome = await construct(ScaleInDrainer, "preview", { drainTimeout: unknown });
    assert.deepEqual(outcome.errors, []);
    assert.ok(
      outcome.registered.includes("aws:ecs/taskDefinition:TaskDefinition preview-task"),
      outcome.registered.join(", "),
    );
  });

  it("gives the error the plugin fails a Construct with no stack frames, which Node 20 prints slowly", () => {
    const error = argsError("frames", [{ arg: "drainTimeout", message: "`drainTimeout` is 1." }]);
    assert.equal(error.stack, "Error: ScaleInDrainer frames: `drainTimeout` is 1.");
    assert.deepEqual(error.errors, [
      { propertyPath: "drainTimeout", reason: "`drainTimeout` is 1." },
    ]);
    // Negative control: the error Pulumi's class makes on its own carries frames.
    assert.match(
      new pulumi.InputPropertiesError({ message: "m", errors: [] }).stack ?? "",
      /\n\s+at /,
    );
  });

  it("the check at `new` sees none of these problems: each is found once the values resolve", () => {
    for (const [what, args] of OUTPUT_CASES) {
      const problems = checkScaleInDrainerArgs({ ...BASE, ...args } as ScaleInDrainerArgs);
      assert.deepEqual(problems, [], what);
    }
  });

  it("registers the same children with the same inputs for valid args given as Outputs as for plain values", async () => {
    const valid: Partial<Record<keyof ScaleInDrainerArgs, unknown>> = {
      clusterName: "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
      subnetIds: ["subnet-1", "subnet-2"],
      securityGroupIds: ["sg-1"],
      heartbeatTimeout: 1800,
      drainTimeout: 7200,
      pollInterval: 20,
      sweepSchedule: "rate(10 minutes)",
      hookName: "drain",
      timeoutResult: "ABANDON",
      cpu: 512,
      memory: 1024,
      logRetentionDays: 90,
      kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      tags: { team: "platform" },
    };
    const asOutputs = Object.fromEntries(
      Object.entries(valid).map(([k, v]) => [k, pulumi.output(v)]),
    );
    const children = async (name: string, args: typeof valid) => {
      const outcome = await construct(ScaleInDrainer, name, args);
      assert.deepEqual(outcome.errors, []);
      return recorded
        .filter((r) => !r.type.startsWith("pulumi:providers:") && r.type !== DRAINER)
        .map((r) => JSON.stringify([r.type, r.name, r.inputs]).split(name).join("NAME"))
        .sort();
    };
    const plain = await children("plain", valid);
    const outputs = await children("outputs", asOutputs);
    assert.ok(plain.length > 10, `children: ${plain.length}`);
    assert.deepEqual(outputs, plain);
  });
});
