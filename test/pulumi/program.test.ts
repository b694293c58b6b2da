import { strict as assert } from "assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, one, recorded, reset, settle } from "./harness";
import { LifecycleResult } from "../../drainer/src/contract";
import { CpuArchitecture, LaunchType } from "../../pulumi";
import {
  CONFIG_KEYS,
  CONFIG_NAMESPACE,
  StackConfigError,
  readStackConfig,
} from "../../pulumi/program/config";

const NS = CONFIG_NAMESPACE;

/**
 * The `config:` entries of a stack file as Pulumi hands them to a program: full key -> text, lists and maps as JSON.
 * Reads only the one-line `key: value` form the example uses. With `commented`, the entries commented out instead
 * (`  # key: value`): the example's placeholders.
 */
function stackFileConfig(file: string, commented = false): Record<string, string> {
  const config: Record<string, string> = {};
  const entry = commented
    ? /^ {2}# ([a-z0-9-]+:[A-Za-z0-9]+): (.+)$/
    : /^ {2}([a-z0-9-]+:[A-Za-z0-9]+): (.+)$/;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = entry.exec(line);
    if (!m) continue;
    const raw = m[2].trim();
    config[m[1]] = /^[[{]/.test(raw)
      ? JSON.stringify(JSON.parse(raw))
      : /^".*"$/.test(raw)
        ? JSON.parse(raw)
        : raw;
  }
  return config;
}

const REQUIRED = {
  [`${NS}:clusterName`]: "prod",
  [`${NS}:autoscalingGroupNames`]: '["asg-a","asg-b"]',
  [`${NS}:subnetIds`]: '["subnet-1"]',
  [`${NS}:securityGroupIds`]: '["sg-1"]',
};

/** The StackConfigError `readStackConfig` throws for `values`. */
function problemsOf(values: Record<string, string>): StackConfigError {
  try {
    readStackConfig(values);
  } catch (err) {
    if (err instanceof StackConfigError) return err;
    throw err;
  }
  assert.fail(`no error for ${JSON.stringify(values)}`);
}

describe("the per-environment program (Pulumi.yaml)", () => {
  describe("reading the stack configuration", () => {
    it("reads the four required keys and leaves every other setting to the component's defaults", () => {
      assert.deepEqual(readStackConfig(REQUIRED), {
        clusterName: "prod",
        autoscalingGroupNames: ["asg-a", "asg-b"],
        subnetIds: ["subnet-1"],
        securityGroupIds: ["sg-1"],
      });
    });

    it("reads every key of the documented example stack file", () => {
      assert.deepEqual(readStackConfig(stackFileConfig("Pulumi.example.yaml")), {
        clusterName: "my-cluster",
        autoscalingGroupNames: ["my-cluster-asg-a", "my-cluster-asg-b"],
        subnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
        securityGroupIds: ["sg-0123456789abcdef0"],
        assignPublicIp: false,
        heartbeatTimeout: 900,
        drainTimeout: 3600,
        pollInterval: 10,
        ecsReadsPerSecond: 15,
        requestTimeout: 5,
        timeoutResult: LifecycleResult.Continue,
        stopStandaloneTasks: false,
        sweepSchedule: "rate(5 minutes)",
        enableSweep: true,
        cpu: 256,
        memory: 512,
        logRetentionDays: 30,
        launchType: LaunchType.Fargate,
        cpuArchitecture: CpuArchitecture.X86_64,
        rolePath: "/",
        protectHooks: true,
        hookName: "ecs-scale-in-drainer",
        hookDefaultResult: LifecycleResult.Continue,
        emitMetrics: true,
        metricsNamespace: "ECSScaleInDrainer",
        publishEvents: true,
        enableAlarms: false,
        tags: { team: "platform", environment: "dev" },
      });
    });

    it("ships no fake image, no alarms and no fake topic: those keys are commented-out placeholders", () => {
      const placeholders = stackFileConfig("Pulumi.example.yaml", true);
      assert.deepEqual(Object.keys(placeholders).sort(), [
        `${NS}:alarmTopicArn`,
        `${NS}:drainerImage`,
        `${NS}:fargateVcpuQuota`,
        `${NS}:kmsKeyArn`,
        `${NS}:permissionsBoundary`,
      ]);
      // Uncommented, with alarms on, they are valid settings.
      const args = readStackConfig({
        ...stackFileConfig("Pulumi.example.yaml"),
        ...placeholders,
        [`${NS}:enableAlarms`]: "true",
      });
      assert.equal(args.alarmTopicArn, "arn:aws:sns:us-west-2:123456789012:oncall");
      assert.equal(args.fargateVcpuQuota, 6);
      assert.match(args.drainerImage as string, /ecs-scale-in-drainer:\d+\.\d+\.\d+$/);
    });

    it("the example stack file shows every key, set or as a placeholder, each with a comment", () => {
      const text = fs.readFileSync("Pulumi.example.yaml", "utf8");
      const set = Object.keys(stackFileConfig("Pulumi.example.yaml"));
      const keys = [...set, ...Object.keys(stackFileConfig("Pulumi.example.yaml", true))];
      assert.deepEqual(
        keys.filter((k) => k.startsWith(`${NS}:`)).sort(),
        Object.keys(CONFIG_KEYS)
          .map((k) => `${NS}:${k}`)
          .sort(),
      );
      for (const key of set) {
        assert.match(text, new RegExp(`  # .+\\n  ${key}: `), `${key} has a comment`);
      }
      for (const key of keys.filter((k) => !set.includes(k))) {
        assert.match(text, new RegExp(`  # .+\\n  # ${key}: `), `${key} has a comment`);
      }
    });

    it("accepts comma-separated lists and lower-case enums", () => {
      const args = readStackConfig({
        ...REQUIRED,
        [`${NS}:autoscalingGroupNames`]: "asg-a, asg-b",
        [`${NS}:launchType`]: "ec2",
        [`${NS}:timeoutResult`]: "abandon",
        [`${NS}:cpuArchitecture`]: "arm64",
      });
      assert.equal(args.cpuArchitecture, CpuArchitecture.Arm64);
      assert.deepEqual(args.autoscalingGroupNames, ["asg-a", "asg-b"]);
      assert.equal(args.launchType, LaunchType.Ec2);
      assert.equal(args.timeoutResult, LifecycleResult.Abandon);
    });

    it("names each missing required key and how to set it", () => {
      const error = problemsOf({ [`${NS}:clusterName`]: "prod" });
      assert.deepEqual(
        error.problems.map((p) => p.key),
        [`${NS}:autoscalingGroupNames`, `${NS}:subnetIds`, `${NS}:securityGroupIds`],
      );
      assert.match(
        error.message,
        /ecs-scale-in-drainer:subnetIds: is required: set it with `pulumi config set subnetIds/,
      );
    });

    it("names a key that is not a number, a boolean, a list or a map", () => {
      const error = problemsOf({
        ...REQUIRED,
        [`${NS}:heartbeatTimeout`]: "15m",
        [`${NS}:enableSweep`]: "yes",
        [`${NS}:subnetIds`]: '["subnet-1", 2]',
        [`${NS}:tags`]: '["a"]',
      });
      assert.deepEqual(error.problems.map((p) => p.key).sort(), [
        `${NS}:enableSweep`,
        `${NS}:heartbeatTimeout`,
        `${NS}:subnetIds`,
        `${NS}:tags`,
      ]);
      assert.match(error.message, /heartbeatTimeout: "15m" is not a number: set it to a number/);
    });

    it("names a key whose value the component rejects, with the component's fix", () => {
      const error = problemsOf({ ...REQUIRED, [`${NS}:heartbeatTimeout`]: "10" });
      assert.equal(error.problems.length, 1);
      assert.equal(error.problems[0].key, `${NS}:heartbeatTimeout`);
      assert.match(error.problems[0].message, /from 30 to 7200/);
    });

    it("names the key of a check across two settings", () => {
      const error = problemsOf({
        ...REQUIRED,
        [`${NS}:heartbeatTimeout`]: "30",
        [`${NS}:drainTimeout`]: "4000",
        [`${NS}:enableSweep`]: "false",
      });
      assert.deepEqual(
        error.problems.map((p) => p.key),
        [`${NS}:drainTimeout`],
      );
      const sweep = problemsOf({ ...REQUIRED, [`${NS}:sweepSchedule`]: "rate(1 hour)" });
      assert.deepEqual(
        sweep.problems.map((p) => p.key),
        [`${NS}:heartbeatTimeout`],
      );
    });

    it("names a key the program does not know (a typo), and lists the valid ones", () => {
      const error = problemsOf({ ...REQUIRED, [`${NS}:heartbeatTimeOut`]: "900" });
      assert.equal(error.problems[0].key, `${NS}:heartbeatTimeOut`);
      assert.match(error.problems[0].message, /not a setting of this program.*heartbeatTimeout/);
    });

    it("ignores other namespaces' keys (aws:region)", () => {
      assert.doesNotThrow(() => readStackConfig({ ...REQUIRED, "aws:region": "us-west-2" }));
    });
  });

  describe("the project files", () => {
    it("Pulumi.yaml is a TypeScript Node.js project named after the config namespace, running the program", () => {
      const text = fs.readFileSync("Pulumi.yaml", "utf8");
      assert.match(text, new RegExp(`^name: ${NS}$`, "m"));
      assert.match(text, /^runtime:\n {2}name: nodejs\n {2}options:\n {4}typescript: true$/m);
      const main = /^main: (.+)$/m.exec(text)?.[1];
      assert.equal(main, "pulumi/program/index.ts");
      assert.ok(fs.existsSync(main!));
    });

    it("PulumiPlugin.yaml declares a Node.js component package whose entry point is package.json's main", () => {
      assert.match(fs.readFileSync("PulumiPlugin.yaml", "utf8"), /^runtime: nodejs$/m);
      const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
      // The compiled plugin entry (pulumi/plugin.ts); test/pulumi/plugin-protocol.test.ts boots it as Pulumi does.
      assert.equal(pkg.main, "lib/pulumi/plugin.js");
    });
  });

  describe("the program, run under mocks with the example stack's configuration", () => {
    const saved = pulumi.runtime.allConfig();
    after(() => pulumi.runtime.setAllConfig(saved));
    before(async () => {
      installMocks();
      reset();
      pulumi.runtime.setAllConfig(stackFileConfig("Pulumi.example.yaml"));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("../../pulumi/program");
      await settle();
    });

    it("creates one ScaleInDrainer named after the stack, with a hook per configured group", () => {
      const drainers = recorded.filter(
        (r) => r.type === "ecs-scale-in-drainer:index:ScaleInDrainer",
      );
      assert.deepEqual(
        drainers.map((r) => r.name),
        ["scale-in-drainer-test"],
      );
      for (const g of ["my-cluster-asg-a", "my-cluster-asg-b"]) {
        assert.equal(
          one("aws:autoscaling/lifecycleHook:LifecycleHook", `scale-in-drainer-test-${g}`).inputs
            .autoscalingGroupName,
          g,
        );
      }
    });

    it("builds the image with awsx, as the example sets none, and creates no alarms", () => {
      assert.ok(one("awsx:ecr:Image", "scale-in-drainer-test-image"));
      assert.equal(
        recorded.some((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm"),
        false,
      );
    });
  });
});
