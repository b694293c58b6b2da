import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
// The mocks must be installed before the component (and @pulumi/aws) is loaded.
import {
  MOCK_ACCOUNT,
  MOCK_REGION,
  calls,
  installMocks,
  inventory,
  one,
  recorded,
  reset,
  settle,
  valueOf,
} from "./harness";
import { deploy } from "./deploy";
import {
  DEFAULTS,
  DRAINER_CONTAINER_NAME,
  LifecycleResult,
  TERMINATING_TRANSITION,
} from "../../drainer/src/contract";
import {
  CpuArchitecture,
  LaunchType,
  ScaleInDrainer,
  ScaleInDrainerArgs,
  TARGET_RETRY_POLICY,
  drainerInputTransformer,
  lifecycleEventPattern,
} from "../../pulumi";

const DRAINER = "ecs-scale-in-drainer:index:ScaleInDrainer";
const IMAGE = "ecs-scale-in-drainer:index:DrainerImage";
const TASK = "ecs-scale-in-drainer:index:DrainerTask";
const HOOK = "ecs-scale-in-drainer:index:ScaleInHook";
const T = {
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  hook: "aws:autoscaling/lifecycleHook:LifecycleHook",
  repository: "awsx:ecr:Repository",
  image: "awsx:ecr:Image",
};

const BASE: ScaleInDrainerArgs = {
  clusterName: "prod",
  autoscalingGroupNames: ["asg-a"],
  subnetIds: ["subnet-1", "subnet-2"],
  securityGroupIds: ["sg-1"],
};
const CLUSTER_ARN = `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:cluster/prod`;
const PREBUILT = "111122223333.dkr.ecr.us-west-2.amazonaws.com/ecs-scale-in-drainer:1.2.3";

/** The inventory of one drainer: the shared resources, one hook trio per group, and the sweep when on. */
function expectedInventory(
  name: string,
  groups: string[],
  opts: { built: boolean; sweep: boolean },
): string[] {
  return [
    `${DRAINER} ${name}`,
    `${IMAGE} ${name}-image`,
    ...(opts.built ? [`${T.repository} ${name}-image`, `${T.image} ${name}-image`] : []),
    `${TASK} ${name}-task`,
    `${T.logGroup} ${name}-task`,
    `${T.role} ${name}-task`,
    `${T.rolePolicy} ${name}-task`,
    `${T.role} ${name}-task-execution`,
    `${T.attachment} ${name}-task-execution`,
    `${T.taskDefinition} ${name}-task`,
    `${T.role} ${name}-task-events`,
    `${T.rolePolicy} ${name}-task-events`,
    `${T.queue} ${name}-dlq`,
    `${T.queuePolicy} ${name}-dlq`,
    ...groups.flatMap((g) => [
      `${HOOK} ${name}-${g}`,
      `${T.rule} ${name}-${g}`,
      `${T.target} ${name}-${g}`,
      `${T.hook} ${name}-${g}`,
    ]),
    ...(opts.sweep ? [`${T.rule} ${name}-sweep`, `${T.target} ${name}-sweep`] : []),
  ].sort();
}

function container(name: string): Record<string, any> {
  const definitions = JSON.parse(one(T.taskDefinition, `${name}-task`).inputs.containerDefinitions);
  assert.equal(definitions.length, 1, "the task has exactly one container");
  return definitions[0];
}

function environmentOf(name: string): Record<string, string> {
  return Object.fromEntries(
    container(name).environment.map((e: { name: string; value: string }) => [e.name, e.value]),
  );
}

function roleArn(name: string): string {
  return `arn:aws:iam::${MOCK_ACCOUNT}:role/${name}-1a2b3c4`;
}

function ruleArn(name: string): string {
  return `arn:aws:events:${MOCK_REGION}:${MOCK_ACCOUNT}:rule/${name}-5d6e7f8`;
}

function queueArn(name: string): string {
  return `arn:aws:sqs:${MOCK_REGION}:${MOCK_ACCOUNT}:${name}-dlq-3e4f5a6`;
}

function fargateTarget(name: string) {
  return {
    taskDefinitionArn: `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:task-definition/${name}-task:7`,
    taskCount: 1,
    launchType: "FARGATE",
    platformVersion: "LATEST",
    propagateTags: "TASK_DEFINITION",
    networkConfiguration: {
      subnets: ["subnet-1", "subnet-2"],
      securityGroups: ["sg-1"],
      assignPublicIp: false,
    },
  };
}

describe("ScaleInDrainer (Pulumi, under mocks)", () => {
  before(installMocks);

  describe("one group, built image, FARGATE, sweep on (the defaults)", () => {
    const name = "one";
    let drainer: ScaleInDrainer;
    before(async () => {
      drainer = await deploy(name, BASE);
    });

    it("creates exactly the shared resources, one hook with its rule and target, and the sweep", () => {
      assert.deepEqual(
        inventory(),
        expectedInventory(name, ["asg-a"], { built: true, sweep: true }),
      );
    });

    it("parents every resource to the component or to the sub-component that owns it", () => {
      const byOwner: Record<string, string[]> = {};
      for (const r of recorded) (byOwner[r.parentType] ??= []).push(`${r.type} ${r.name}`);
      assert.deepEqual(byOwner[""], [`${DRAINER} ${name}`]);
      assert.deepEqual(byOwner[IMAGE]?.sort(), [
        `${T.image} ${name}-image`,
        `${T.repository} ${name}-image`,
      ]);
      assert.deepEqual(
        byOwner[TASK]?.sort(),
        [
          `${T.taskDefinition} ${name}-task`,
          `${T.role} ${name}-task`,
          `${T.role} ${name}-task-events`,
          `${T.role} ${name}-task-execution`,
          `${T.attachment} ${name}-task-execution`,
          `${T.rolePolicy} ${name}-task`,
          `${T.rolePolicy} ${name}-task-events`,
          `${T.logGroup} ${name}-task`,
        ].sort(),
      );
      assert.deepEqual(byOwner[HOOK]?.sort(), [
        `${T.hook} ${name}-asg-a`,
        `${T.rule} ${name}-asg-a`,
        `${T.target} ${name}-asg-a`,
      ]);
      assert.deepEqual(
        byOwner[DRAINER]?.sort(),
        [
          `${HOOK} ${name}-asg-a`,
          `${IMAGE} ${name}-image`,
          `${TASK} ${name}-task`,
          `${T.queuePolicy} ${name}-dlq`,
          `${T.queue} ${name}-dlq`,
          `${T.rule} ${name}-sweep`,
          `${T.target} ${name}-sweep`,
        ].sort(),
      );
    });

    it("reads only the partition, region and account", () => {
      assert.deepEqual(calls.map((c) => c.token).sort(), [
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
        "aws:index/getRegion:getRegion",
      ]);
    });

    it("creates the group's termination hook with CONTINUE and the default heartbeat timeout", () => {
      assert.deepEqual(one(T.hook, `${name}-asg-a`).inputs, {
        name: DEFAULTS.hookName,
        autoscalingGroupName: "asg-a",
        lifecycleTransition: TERMINATING_TRANSITION,
        defaultResult: "CONTINUE",
        heartbeatTimeout: 900,
      });
    });

    it("matches the group's terminate events for that hook", () => {
      assert.deepEqual(
        JSON.parse(one(T.rule, `${name}-asg-a`).inputs.eventPattern),
        lifecycleEventPattern("asg-a", DEFAULTS.hookName),
      );
    });

    it("targets the cluster with one Fargate task, the input transformer, retries and the dead-letter queue", () => {
      const target = one(T.target, `${name}-asg-a`).inputs;
      assert.deepEqual(target, {
        rule: `${name}-asg-a-5d6e7f8`,
        arn: CLUSTER_ARN,
        roleArn: roleArn(`${name}-task-events`),
        ecsTarget: fargateTarget(name),
        inputTransformer: drainerInputTransformer(),
        retryPolicy: { ...TARGET_RETRY_POLICY },
        deadLetterConfig: { arn: queueArn(name) },
      });
    });

    it("runs the sweep on the default schedule with no input, so the drainer sweeps", () => {
      assert.equal(one(T.rule, `${name}-sweep`).inputs.scheduleExpression, "rate(5 minutes)");
      assert.equal(one(T.rule, `${name}-sweep`).inputs.eventPattern, undefined);
      assert.deepEqual(one(T.target, `${name}-sweep`).inputs, {
        rule: `${name}-sweep-5d6e7f8`,
        arn: CLUSTER_ARN,
        roleArn: roleArn(`${name}-task-events`),
        ecsTarget: fargateTarget(name),
        retryPolicy: { ...TARGET_RETRY_POLICY },
        deadLetterConfig: { arn: queueArn(name) },
      });
    });

    it("defines an awsvpc Fargate task: one non-root container, read-only root, logs to its own group", () => {
      const task = one(T.taskDefinition, `${name}-task`).inputs;
      assert.equal(task.family, `${name}-task`);
      assert.equal(task.networkMode, "awsvpc");
      assert.deepEqual(task.requiresCompatibilities, ["FARGATE"]);
      assert.equal(task.cpu, "256");
      assert.equal(task.memory, "512");
      assert.deepEqual(task.runtimePlatform, {
        operatingSystemFamily: "LINUX",
        cpuArchitecture: "X86_64",
      });
      assert.equal(task.taskRoleArn, roleArn(`${name}-task`));
      assert.equal(task.executionRoleArn, roleArn(`${name}-task-execution`));
      const c = container(name);
      assert.equal(c.name, DRAINER_CONTAINER_NAME);
      assert.equal(c.user, "1000");
      assert.equal(c.readonlyRootFilesystem, true);
      assert.equal(c.essential, true);
      assert.deepEqual(c.logConfiguration, {
        logDriver: "awslogs",
        options: {
          "awslogs-group": `${name}-task-9a8b7c6`,
          "awslogs-region": MOCK_REGION,
          "awslogs-stream-prefix": DRAINER_CONTAINER_NAME,
        },
      });
      assert.equal(one(T.logGroup, `${name}-task`).inputs.retentionInDays, 30);
    });

    it("gives the container the drainer's settings, with the contract's defaults", () => {
      assert.deepEqual(environmentOf(name), {
        ECS_CLUSTER: "prod",
        LIFECYCLE_HOOK_NAME: DEFAULTS.hookName,
        AUTOSCALING_GROUP_NAMES: "asg-a",
        POLL_INTERVAL_SECONDS: String(DEFAULTS.pollIntervalSeconds),
        ECS_READS_PER_SECOND: String(DEFAULTS.ecsReadsPerSecond),
        REQUEST_TIMEOUT_SECONDS: String(DEFAULTS.requestTimeoutSeconds),
        DRAIN_TIMEOUT_SECONDS: String(DEFAULTS.drainTimeoutSeconds),
        TIMEOUT_RESULT: DEFAULTS.timeoutResult,
        STOP_STANDALONE_TASKS: String(DEFAULTS.stopStandaloneTasks),
        EMIT_METRICS: String(DEFAULTS.emitMetrics),
        METRICS_NAMESPACE: DEFAULTS.metricsNamespace,
        PUBLISH_EVENTS: String(DEFAULTS.publishEvents),
      });
    });

    it("builds drainer/Dockerfile from the repository root for linux/amd64 into its own repository", () => {
      const repository = one(T.repository, `${name}-image`);
      assert.equal(repository.inputs.forceDelete, true);
      const image = one(T.image, `${name}-image`).inputs;
      assert.equal(image.context, ".");
      assert.equal(image.dockerfile, "drainer/Dockerfile");
      assert.equal(image.platform, "linux/amd64");
      const repositoryUrl = `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/${name}-image-0f1e2d3`;
      assert.equal(image.repositoryUrl, repositoryUrl);
      assert.equal(container(name).image, `${repositoryUrl}@sha256:${"ab".repeat(32)}`);
    });

    it("gives the execution role AWS's managed task execution policy", () => {
      assert.deepEqual(one(T.attachment, `${name}-task-execution`).inputs, {
        role: `${name}-task-execution-1a2b3c4`,
        policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
      });
    });

    it("exposes the outputs", async () => {
      assert.equal(await valueOf(drainer.taskDefinitionArn), fargateTarget(name).taskDefinitionArn);
      assert.equal(await valueOf(drainer.taskRoleArn), roleArn(`${name}-task`));
      assert.equal(await valueOf(drainer.executionRoleArn), roleArn(`${name}-task-execution`));
      assert.equal(await valueOf(drainer.eventsRoleArn), roleArn(`${name}-task-events`));
      assert.deepEqual(await valueOf(drainer.lifecycleRuleArns), [ruleArn(`${name}-asg-a`)]);
      assert.equal(await valueOf(drainer.sweepRuleArn), ruleArn(`${name}-sweep`));
      assert.deepEqual(await valueOf(drainer.hookNames), [DEFAULTS.hookName]);
      assert.equal(await valueOf(drainer.logGroupName), `${name}-task-9a8b7c6`);
      assert.equal(
        await valueOf(drainer.deadLetterQueueUrl),
        `https://sqs.${MOCK_REGION}.amazonaws.com/${MOCK_ACCOUNT}/${name}-dlq-3e4f5a6`,
      );
      assert.equal(await valueOf(drainer.imageUri), container(name).image);
    });
  });

  describe("three groups", () => {
    const name = "three";
    const groups = ["asg-a", "asg-b", "asg-c"];
    let drainer: ScaleInDrainer;
    before(async () => {
      drainer = await deploy(name, { ...BASE, autoscalingGroupNames: groups });
    });

    it("creates one hook, rule and target per group and shares everything else", () => {
      assert.deepEqual(inventory(), expectedInventory(name, groups, { built: true, sweep: true }));
    });

    it("gives each group its own hook and a rule for that group only", () => {
      for (const g of groups) {
        assert.equal(one(T.hook, `${name}-${g}`).inputs.autoscalingGroupName, g);
        assert.deepEqual(
          JSON.parse(one(T.rule, `${name}-${g}`).inputs.eventPattern),
          lifecycleEventPattern(g, DEFAULTS.hookName),
        );
        assert.equal(one(T.target, `${name}-${g}`).inputs.rule, `${name}-${g}-5d6e7f8`);
      }
    });

    it("sweeps all three groups", () => {
      assert.equal(environmentOf(name).AUTOSCALING_GROUP_NAMES, "asg-a,asg-b,asg-c");
    });

    it("lists rule ARNs and hook names in the groups' order", async () => {
      assert.deepEqual(
        await valueOf(drainer.lifecycleRuleArns),
        groups.map((g) => ruleArn(`${name}-${g}`)),
      );
      assert.deepEqual(
        await valueOf(drainer.hookNames),
        groups.map(() => DEFAULTS.hookName),
      );
    });
  });

  describe("a prebuilt image", () => {
    const name = "prebuilt";
    let drainer: ScaleInDrainer;
    before(async () => {
      drainer = await deploy(name, { ...BASE, drainerImage: PREBUILT });
    });

    it("builds nothing and creates no repository", () => {
      assert.deepEqual(
        inventory(),
        expectedInventory(name, ["asg-a"], { built: false, sweep: true }),
      );
      assert.equal(
        recorded.some((r) => r.type.startsWith("awsx:")),
        false,
      );
    });

    it("runs the given image", async () => {
      assert.equal(container(name).image, PREBUILT);
      assert.equal(await valueOf(drainer.imageUri), PREBUILT);
    });
  });

  describe("a built image, from a program in another directory (a package consumer)", () => {
    const name = "consumer";
    before(async () => {
      const cwd = process.cwd();
      process.chdir(os.tmpdir());
      // The component creates its children once its args are checked, after `new` returns: the program stays in the
      // other directory until they are registered.
      try {
        await deploy(name, BASE);
      } finally {
        process.chdir(cwd);
      }
    });

    it("builds this package's drainer/Dockerfile, by an absolute path, from this package's root", () => {
      const image = one(T.image, `${name}-image`).inputs;
      assert.equal(path.resolve(os.tmpdir(), image.context), path.resolve("."));
      assert.equal(image.dockerfile, path.resolve("drainer", "Dockerfile"));
      assert.ok(fs.existsSync(image.dockerfile));
    });
  });

  describe("EC2 launch type", () => {
    const name = "ec2";
    before(async () => {
      await deploy(name, { ...BASE, launchType: LaunchType.Ec2 });
    });

    it("creates the same resources as FARGATE", () => {
      assert.deepEqual(
        inventory(),
        expectedInventory(name, ["asg-a"], { built: true, sweep: true }),
      );
    });

    it("asks for EC2 compatibility and runs EC2 tasks in awsvpc mode without a platform version", () => {
      const task = one(T.taskDefinition, `${name}-task`).inputs;
      assert.deepEqual(task.requiresCompatibilities, ["EC2"]);
      assert.equal(task.networkMode, "awsvpc");
      for (const target of [`${name}-asg-a`, `${name}-sweep`]) {
        assert.deepEqual(one(T.target, target).inputs.ecsTarget, {
          taskDefinitionArn: fargateTarget(name).taskDefinitionArn,
          taskCount: 1,
          launchType: "EC2",
          propagateTags: "TASK_DEFINITION",
          networkConfiguration: {
            subnets: ["subnet-1", "subnet-2"],
            securityGroups: ["sg-1"],
            assignPublicIp: false,
          },
        });
      }
    });
  });

  describe("the sweep turned off", () => {
    const name = "nosweep";
    let drainer: ScaleInDrainer;
    before(async () => {
      drainer = await deploy(name, { ...BASE, enableSweep: false });
    });

    it("creates no sweep rule or target", async () => {
      assert.deepEqual(
        inventory(),
        expectedInventory(name, ["asg-a"], { built: true, sweep: false }),
      );
      assert.equal(await valueOf(drainer.sweepRuleArn), undefined);
    });

    it("lets only the group's rule send to the dead-letter queue", () => {
      const policy = JSON.parse(one(T.queuePolicy, `${name}-dlq`).inputs.policy);
      assert.deepEqual(policy.Statement[0].Condition, {
        ArnEquals: { "aws:SourceArn": [ruleArn(`${name}-asg-a`)] },
      });
    });
  });

  describe("every setting given", () => {
    const name = "custom";
    before(async () => {
      await deploy(name, {
        ...BASE,
        clusterName: `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:cluster/shared`,
        assignPublicIp: true,
        heartbeatTimeout: 1200,
        drainTimeout: 7200,
        pollInterval: 2.5,
        ecsReadsPerSecond: 4.5,
        requestTimeout: 3,
        timeoutResult: LifecycleResult.Abandon,
        stopStandaloneTasks: true,
        emitMetrics: false,
        metricsNamespace: "Platform/Drains",
        publishEvents: false,
        hookDefaultResult: LifecycleResult.Abandon,
        sweepSchedule: "cron(0/10 * * * ? *)",
        cpu: 512,
        memory: 1024,
        logRetentionDays: 90,
        hookName: "drain-first",
        tags: { team: "platform" },
      });
    });

    it("passes the drainer's settings to its container", () => {
      assert.deepEqual(environmentOf(name), {
        ECS_CLUSTER: `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:cluster/shared`,
        LIFECYCLE_HOOK_NAME: "drain-first",
        AUTOSCALING_GROUP_NAMES: "asg-a",
        POLL_INTERVAL_SECONDS: "2.5",
        ECS_READS_PER_SECOND: "4.5",
        REQUEST_TIMEOUT_SECONDS: "3",
        DRAIN_TIMEOUT_SECONDS: "7200",
        TIMEOUT_RESULT: "ABANDON",
        STOP_STANDALONE_TASKS: "true",
        EMIT_METRICS: "false",
        METRICS_NAMESPACE: "Platform/Drains",
        PUBLISH_EVENTS: "false",
      });
    });

    it("uses the hook name, default result and heartbeat timeout on the hook and in the pattern", () => {
      const hook = one(T.hook, `${name}-asg-a`).inputs;
      assert.equal(hook.name, "drain-first");
      assert.equal(hook.defaultResult, "ABANDON");
      assert.equal(hook.heartbeatTimeout, 1200);
      assert.deepEqual(
        JSON.parse(one(T.rule, `${name}-asg-a`).inputs.eventPattern),
        lifecycleEventPattern("asg-a", "drain-first"),
      );
    });

    it("targets the cluster by its ARN, with a public IP", () => {
      const target = one(T.target, `${name}-asg-a`).inputs;
      assert.equal(target.arn, `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:cluster/shared`);
      assert.equal(target.ecsTarget.networkConfiguration.assignPublicIp, true);
    });

    it("sizes the task, keeps logs 90 days and runs the sweep on the schedule", () => {
      const task = one(T.taskDefinition, `${name}-task`).inputs;
      assert.equal(task.cpu, "512");
      assert.equal(task.memory, "1024");
      assert.equal(one(T.logGroup, `${name}-task`).inputs.retentionInDays, 90);
      assert.equal(one(T.rule, `${name}-sweep`).inputs.scheduleExpression, "cron(0/10 * * * ? *)");
    });

    it("tags every resource that takes tags", () => {
      const tagged = recorded.filter((r) => r.custom && r.inputs.tags !== undefined);
      assert.deepEqual(
        tagged.map((r) => `${r.type} ${r.name}`).sort(),
        [
          `${T.logGroup} ${name}-task`,
          `${T.queue} ${name}-dlq`,
          `${T.role} ${name}-task`,
          `${T.role} ${name}-task-events`,
          `${T.role} ${name}-task-execution`,
          `${T.rule} ${name}-asg-a`,
          `${T.rule} ${name}-sweep`,
          `${T.taskDefinition} ${name}-task`,
        ].sort(),
      );
      for (const r of tagged) assert.deepEqual(r.inputs.tags, { team: "platform" }, r.name);
      assert.deepEqual(one(T.repository, `${name}-image`).inputs.tags, { team: "platform" });
    });
  });

  describe("alarms", () => {
    const name = "watched";
    const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
    const alarmsBy = () =>
      Object.fromEntries(
        recorded
          .filter((r) => r.type === ALARM)
          .map((r) => [r.name.slice(name.length + 1), r.inputs]),
      );

    it("alarms on failed drainer tasks through a rule on ECS task state changes and a queue of its own", async () => {
      const drainer = await deploy(name, { ...BASE, drainerImage: PREBUILT, enableAlarms: true });
      assert.deepEqual(
        Object.keys(await valueOf(drainer.alarmArns)).sort(),
        Object.keys(alarmsBy()).sort(),
      );
      const rule = one(T.rule, `${name}-task-failures`).inputs;
      assert.deepEqual(JSON.parse(rule.eventPattern), {
        source: ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        detail: {
          clusterArn: [CLUSTER_ARN],
          lastStatus: ["STOPPED"],
          taskDefinitionArn: [
            { prefix: `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:task-definition/${name}-task:` },
          ],
          $or: [{ stopCode: ["TaskFailedToStart"] }, { containers: { exitCode: [1, 2] } }],
        },
      });
      const target = one(T.target, `${name}-task-failures`).inputs;
      assert.equal(target.roleArn, undefined);
      assert.match(target.arn, /^arn:aws:sqs:/);
      const policy = JSON.parse(one(T.queuePolicy, `${name}-task-failures`).inputs.policy);
      assert.deepEqual(policy.Statement[0].Principal, { Service: "events.amazonaws.com" });
      assert.deepEqual(policy.Statement[0].Condition, {
        ArnEquals: { "aws:SourceArn": ruleArn(`${name}-task-failures`) },
      });
      const alarms = alarmsBy();
      assert.deepEqual(Object.keys(alarms).sort(), [
        "asg-asg-a-drains-failed",
        "asg-asg-a-drains-timed-out",
        "asg-asg-a-failed-invocations",
        "asg-asg-a-orphaned-actions",
        "dead-letters",
        "drainer-tasks-failed",
        "sweep-failed-invocations",
      ]);
      assert.deepEqual(
        [
          alarms["drainer-tasks-failed"].namespace,
          alarms["drainer-tasks-failed"].metricName,
          alarms["drainer-tasks-failed"].statistic,
          alarms["drainer-tasks-failed"].threshold,
          alarms["drainer-tasks-failed"].comparisonOperator,
        ],
        ["AWS/Events", "MatchedEvents", "Sum", 0, "GreaterThanThreshold"],
      );
      assert.deepEqual(alarms["asg-asg-a-orphaned-actions"].dimensions, {
        Cluster: "prod",
        AutoScalingGroup: "asg-a",
      });
      assert.equal(alarms["asg-asg-a-orphaned-actions"].metricName, "OrphanedActions");
    });

    it("alarms at 80% of the Fargate vCPU quota, on the account's On-Demand vCPUs, only when a quota is given", async () => {
      await deploy(name, {
        ...BASE,
        drainerImage: PREBUILT,
        enableAlarms: true,
        fargateVcpuQuota: 6,
      });
      const quota = alarmsBy()["fargate-vcpu-quota"];
      assert.deepEqual(
        [
          quota.namespace,
          quota.metricName,
          quota.statistic,
          quota.threshold,
          quota.comparisonOperator,
        ],
        ["AWS/Usage", "ResourceCount", "Maximum", 4.8, "GreaterThanOrEqualToThreshold"],
      );
      assert.deepEqual(quota.dimensions, {
        Service: "Fargate",
        Type: "Resource",
        Resource: "vCPU",
        Class: "Standard/OnDemand",
      });
      await deploy(name, { ...BASE, drainerImage: PREBUILT, enableAlarms: true });
      assert.equal(alarmsBy()["fargate-vcpu-quota"], undefined);
    });

    it("creates no task-failures rule, queue or alarm without enableAlarms", async () => {
      await deploy(name, { ...BASE, drainerImage: PREBUILT });
      assert.deepEqual(
        recorded.filter((r) => r.name.startsWith(`${name}-task-failures`) || r.type === ALARM),
        [],
      );
    });
  });

  describe("CPU architecture", () => {
    const name = "graviton";

    it("runs on ARM64 and builds the image for linux/arm64 when asked", async () => {
      await deploy(name, { ...BASE, cpuArchitecture: CpuArchitecture.Arm64 });
      assert.deepEqual(one(T.taskDefinition, `${name}-task`).inputs.runtimePlatform, {
        operatingSystemFamily: "LINUX",
        cpuArchitecture: "ARM64",
      });
      assert.equal(one(T.image, `${name}-image`).inputs.platform, "linux/arm64");
    });

    it("runs a given image on ARM64 without building one", async () => {
      await deploy(name, {
        ...BASE,
        drainerImage: PREBUILT,
        cpuArchitecture: CpuArchitecture.Arm64,
      });
      assert.equal(
        one(T.taskDefinition, `${name}-task`).inputs.runtimePlatform.cpuArchitecture,
        "ARM64",
      );
      assert.equal(container(name).image, PREBUILT);
      assert.equal(
        recorded.some((r) => r.type.startsWith("awsx:")),
        false,
      );
    });

    it("builds for linux/amd64 and runs X86_64 by default (negative control for the two above)", async () => {
      await deploy(name, BASE);
      assert.equal(
        one(T.taskDefinition, `${name}-task`).inputs.runtimePlatform.cpuArchitecture,
        "X86_64",
      );
      assert.equal(one(T.image, `${name}-image`).inputs.platform, "linux/amd64");
    });
  });

  describe("IAM and encryption inputs", () => {
    const name = "bounded";
    const BOUNDARY = `arn:aws:iam::${MOCK_ACCOUNT}:policy/platform-boundary`;
    const KEY = `arn:aws:kms:${MOCK_REGION}:${MOCK_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

    it("gives every role it creates the permissions boundary and the path", async () => {
      await deploy(name, {
        ...BASE,
        drainerImage: PREBUILT,
        permissionsBoundary: BOUNDARY,
        rolePath: "/platform/drainer/",
      });
      const roles = recorded.filter((r) => r.type === T.role);
      assert.deepEqual(roles.map((r) => r.name).sort(), [
        `${name}-task`,
        `${name}-task-events`,
        `${name}-task-execution`,
      ]);
      for (const r of roles) {
        assert.equal(r.inputs.permissionsBoundary, BOUNDARY, r.name);
        assert.equal(r.inputs.path, "/platform/drainer/", r.name);
      }
    });

    it("encrypts the log group and both queues with the KMS key, and drops SSE-SQS for it", async () => {
      await deploy(name, { ...BASE, drainerImage: PREBUILT, enableAlarms: true, kmsKeyArn: KEY });
      assert.equal(one(T.logGroup, `${name}-task`).inputs.kmsKeyId, KEY);
      for (const queue of [`${name}-dlq`, `${name}-task-failures`]) {
        const inputs = one(T.queue, queue).inputs;
        assert.equal(inputs.kmsMasterKeyId, KEY, queue);
        assert.equal(inputs.sqsManagedSseEnabled, undefined, queue);
      }
    });

    it("leaves roles unbounded at / and encryption to AWS by default (negative control)", async () => {
      await deploy(name, { ...BASE, drainerImage: PREBUILT });
      for (const r of recorded.filter((x) => x.type === T.role)) {
        assert.equal(r.inputs.permissionsBoundary, undefined, r.name);
        assert.equal(r.inputs.path, undefined, r.name);
      }
      assert.equal(one(T.logGroup, `${name}-task`).inputs.kmsKeyId, undefined);
      assert.equal(one(T.queue, `${name}-dlq`).inputs.sqsManagedSseEnabled, true);
    });
  });

  describe("uninstall safety: protected hooks", () => {
    /** The `protect` option each resource of a ScaleInDrainer was registered with, by type and name. */
    async function protectedResources(args: ScaleInDrainerArgs): Promise<string[]> {
      reset();
      const seen: string[] = [];
      new ScaleInDrainer("guarded", args, {
        transformations: [
          (t) => {
            if (t.opts.protect === true) seen.push(`${t.type} ${t.name}`);
            return undefined;
          },
        ],
      });
      await settle();
      return seen.sort();
    }

    it("protects every lifecycle hook, and nothing else, by default", async () => {
      assert.deepEqual(
        await protectedResources({ ...BASE, autoscalingGroupNames: ["asg-a", "asg-b"] }),
        [`${T.hook} guarded-asg-a`, `${T.hook} guarded-asg-b`],
      );
    });

    it("leaves the hooks unprotected with protectHooks: false (negative control)", async () => {
      assert.deepEqual(await protectedResources({ ...BASE, protectHooks: false }), []);
    });
  });
});
