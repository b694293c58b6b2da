/**
 * Parity: the Terraform module deploys what the Pulumi component deploys, for the same settings.
 *
 * The Pulumi side is the real ScaleInDrainer under mocks (every resource it registers is recorded). The Terraform
 * side is modules/contract evaluated by the real `terraform` (offline: it has no providers), plus main.tf read with
 * hcl2json to prove each rendered value is wired into the resource that deploys it. A change on either side alone
 * fails here.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
// The recording mocks must be installed before the component (and @pulumi/aws) is loaded.
import {
  MOCK_ACCOUNT,
  MOCK_PARTITION,
  MOCK_REGION,
  Recorded,
  installMocks,
  recorded,
  reset,
  settle,
  valueOf,
} from "../pulumi/harness";
import { SAMPLE_EVENT, applyInputTransformer } from "../pulumi/sampleEvent";
import { parseConfig } from "../../drainer/src/config";
import {
  DECLARED_ACTIONS,
  DEFAULTS,
  defaultDrainerName,
  EVENT_ENVIRONMENT,
  LifecycleResult,
  ResourceKind,
} from "../../drainer/src/contract";
import {
  CpuArchitecture,
  LaunchType,
  ScaleInDrainer,
  ScaleInDrainerArgs,
  checkScaleInDrainerArgs,
} from "../../pulumi";
import { MODULE_DIR, ParsedModule, REPO, block, parseModule } from "../terraform/hcl";
import {
  ContractOutputs,
  ContractRenderer,
  ContractVariables,
  TerraformRejected,
  terraformMissing,
} from "../terraform/terraform";

const TYPES = {
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
};

const IMAGE = "111122223333.dkr.ecr.us-west-2.amazonaws.com/ecs-scale-in-drainer:1.2.3";

/** `autoscalingGroupNames` -> `autoscaling_group_names`: how the module names each Pulumi arg. */
export function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Same settings, both sides: the Pulumi args, and the Terraform variables made from them. */
interface Scenario {
  title: string;
  /** The Pulumi component's name. Its task definition family is `${name}-task`, the module's `name` is set to that. */
  name: string;
  args: ScaleInDrainerArgs;
}

const SCENARIOS: Scenario[] = [
  {
    title: "defaults, a cluster by name, one group",
    name: "prod-drainer",
    args: {
      clusterName: "prod",
      autoscalingGroupNames: ["prod-ecs-a"],
      subnetIds: ["subnet-1", "subnet-2"],
      securityGroupIds: ["sg-1"],
      drainerImage: IMAGE,
    },
  },
  {
    title: "every setting, a cluster ARN, three groups on EC2",
    name: "gov",
    args: {
      clusterName: `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:cluster/gov-cluster`,
      autoscalingGroupNames: ["blue", "green", "spot-pool"],
      subnetIds: ["subnet-9"],
      securityGroupIds: ["sg-7", "sg-8"],
      assignPublicIp: false,
      drainerImage: IMAGE,
      heartbeatTimeout: 1800,
      drainTimeout: 7200,
      pollInterval: 2.5,
      ecsReadsPerSecond: 4.5,
      requestTimeout: 3,
      timeoutResult: LifecycleResult.Abandon,
      stopStandaloneTasks: true,
      hookDefaultResult: LifecycleResult.Abandon,
      emitMetrics: true,
      metricsNamespace: "Platform/Drains",
      publishEvents: false,
      enableAlarms: true,
      alarmTopicArn: `arn:aws:sns:${MOCK_REGION}:${MOCK_ACCOUNT}:oncall`,
      fargateVcpuQuota: 6,
      sweepSchedule: "cron(0/10 * * * ? *)",
      enableSweep: true,
      cpu: 1024,
      memory: 2048,
      logRetentionDays: 90,
      launchType: LaunchType.Ec2,
      cpuArchitecture: CpuArchitecture.Arm64,
      hookName: "team/drainer.v2",
      permissionsBoundary: `arn:aws:iam::${MOCK_ACCOUNT}:policy/platform-boundary`,
      rolePath: "/platform/drainer/",
      kmsKeyArn: `arn:aws:kms:${MOCK_REGION}:${MOCK_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      tags: { team: "platform" },
    },
  },
  {
    title: "no sweep, a Fargate task with a public IP",
    name: "edge",
    args: {
      clusterName: "edge",
      autoscalingGroupNames: ["edge-a", "edge-b"],
      subnetIds: ["subnet-3"],
      securityGroupIds: ["sg-3"],
      assignPublicIp: true,
      drainerImage: IMAGE,
      enableSweep: false,
    },
  },
];

function terraformVariables(s: Scenario): ContractVariables {
  const vars: ContractVariables = { name: `${s.name}-task` };
  for (const [arg, value] of Object.entries(s.args)) vars[snakeCase(arg)] = value;
  return vars;
}

/** What the Pulumi component registered, and the values of its outputs. */
interface PulumiDeployment {
  records: Recorded[];
  find(type: string, name: string): Record<string, any>;
  outputs: {
    taskRoleArn: string;
    executionRoleArn: string;
    lifecycleRuleArns: string[];
    sweepRuleArn: string | undefined;
  };
}

async function deployPulumi(s: Scenario): Promise<PulumiDeployment> {
  reset();
  const drainer = new ScaleInDrainer(s.name, s.args);
  await settle();
  const records = recorded.filter((r) => !r.type.startsWith("pulumi:providers:"));
  const find = (type: string, name: string) => {
    const found = records.filter((r) => r.type === type && r.name === name);
    assert.equal(
      found.length,
      1,
      `the Pulumi component registered ${found.length} ${type} ${name}`,
    );
    return found[0].inputs;
  };
  return {
    records,
    find,
    outputs: {
      taskRoleArn: await valueOf(drainer.taskRoleArn),
      executionRoleArn: await valueOf(drainer.executionRoleArn),
      lifecycleRuleArns: await valueOf(drainer.lifecycleRuleArns),
      sweepRuleArn: await valueOf(drainer.sweepRuleArn),
    },
  };
}

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}

/** A policy as what it grants: each action with its effect, principal, sorted resources and condition. Sids aside. */
function grants(policyJson: string): Record<string, unknown> {
  const doc = JSON.parse(policyJson) as { Version: string; Statement: Statement[] };
  assert.equal(doc.Version, "2012-10-17");
  const out: Record<string, unknown> = {};
  for (const s of doc.Statement) {
    for (const action of [s.Action].flat()) {
      assert.ok(!(action in out), `${action} is granted twice`);
      out[action] = {
        Effect: s.Effect,
        Principal: s.Principal,
        Resource: s.Resource === undefined ? undefined : [s.Resource].flat().sort(),
        Condition: s.Condition,
      };
    }
  }
  return out;
}

/** A filled input template: the RunTask overrides EventBridge would send for the sample event. */
function overridesFor(transformer: { inputPaths: Record<string, string>; inputTemplate: string }) {
  return JSON.parse(applyInputTransformer(transformer, SAMPLE_EVENT)) as {
    containerOverrides: { name: string; environment: { name: string; value: string }[] }[];
  };
}

const asEnv = (list: { name: string; value: string }[]) =>
  Object.fromEntries(list.map((e) => [e.name, e.value]));

describe("terraform module: parity with the Pulumi component", function () {
  this.timeout(180_000);
  let renderer: ContractRenderer;
  let root: ParsedModule;

  const missing = terraformMissing();
  /** For suites that evaluate modules/contract: skipped, with the reason printed once, when Terraform is missing. */
  function needsTerraform(this: Mocha.Context) {
    if (missing) {
      console.log(`    skipping: ${missing}; modules/contract cannot be evaluated`);
      this.skip();
    }
  }

  before(async () => {
    installMocks();
    root = await parseModule(MODULE_DIR);
    if (!missing) renderer = new ContractRenderer();
  });
  after(() => renderer?.dispose());

  for (const scenario of SCENARIOS) {
    describe(scenario.title, () => {
      let pulumi: PulumiDeployment;
      let tf: ContractOutputs;
      const groups = scenario.args.autoscalingGroupNames;
      const n = scenario.name;

      before(async function () {
        needsTerraform.call(this);
        pulumi = await deployPulumi(scenario);
        const queuePolicy = JSON.parse(pulumi.find(TYPES.queuePolicy, `${n}-dlq`).policy);
        tf = renderer.render({
          ...terraformVariables(scenario),
          partition: MOCK_PARTITION,
          region: MOCK_REGION,
          account_id: MOCK_ACCOUNT,
          task_role_arn: pulumi.outputs.taskRoleArn,
          execution_role_arn: pulumi.outputs.executionRoleArn,
          dead_letter_queue_arn: queuePolicy.Statement[0].Resource,
          rule_arns: [
            ...pulumi.outputs.lifecycleRuleArns,
            ...(pulumi.outputs.sweepRuleArn ? [pulumi.outputs.sweepRuleArn] : []),
          ],
          ...(scenario.args.enableAlarms
            ? (() => {
                const policy = JSON.parse(
                  pulumi.find(TYPES.queuePolicy, `${n}-task-failures`).policy,
                );
                return {
                  task_failures_queue_arn: policy.Statement[0].Resource,
                  task_failures_rule_arn: policy.Statement[0].Condition.ArnEquals["aws:SourceArn"],
                };
              })()
            : {}),
        });
      });

      it("grants the task role exactly the drainer's declared actions, each scoped as Pulumi scopes it", () => {
        const terraform = grants(tf.task_role_policy);
        assert.deepEqual(
          Object.keys(terraform).sort(),
          DECLARED_ACTIONS.map((a) => a.action).sort(),
        );
        assert.deepEqual(terraform, grants(pulumi.find(TYPES.rolePolicy, `${n}-task`).policy));
        for (const declared of DECLARED_ACTIONS) {
          const grant = terraform[declared.action] as { Resource: string[]; Condition?: unknown };
          assert.equal(
            grant.Resource.includes("*"),
            declared.resource === ResourceKind.Any,
            declared.action,
          );
          assert.deepEqual(
            grant.Condition,
            declared.clusterCondition
              ? { ArnEquals: { "ecs:cluster": tf.cluster_arn } }
              : declared.resource === ResourceKind.EventBus
                ? {
                    "ForAllValues:StringEquals": { "events:source": ["ecs-scale-in-drainer"] },
                    Null: { "events:source": "false" },
                  }
                : undefined,
            declared.action,
          );
        }
      });

      it("lets the events role run only the drainer in the cluster and pass only its two roles", () => {
        assert.deepEqual(
          grants(tf.events_role_policy),
          grants(pulumi.find(TYPES.rolePolicy, `${n}-task-events`).policy),
        );
      });

      it("trusts the same services with each role, and gives the execution role the same managed policy", () => {
        const trust = (name: string) => JSON.parse(pulumi.find(TYPES.role, name).assumeRolePolicy);
        assert.deepEqual(JSON.parse(tf.ecs_tasks_assume_role_policy), trust(`${n}-task`));
        assert.deepEqual(JSON.parse(tf.execution_assume_role_policy), trust(`${n}-task-execution`));
        assert.deepEqual(JSON.parse(tf.events_assume_role_policy), trust(`${n}-task-events`));
        assert.equal(
          tf.execution_role_policy_arn,
          pulumi.find(TYPES.attachment, `${n}-task-execution`).policyArn,
        );
      });

      it("lets only the module's rules send to the dead-letter queue, kept as long, encrypted the same", () => {
        assert.deepEqual(
          grants(tf.dead_letter_queue_policy),
          grants(pulumi.find(TYPES.queuePolicy, `${n}-dlq`).policy),
        );
        const queue = pulumi.find(TYPES.queue, `${n}-dlq`);
        assert.deepEqual(tf.dead_letter_queue, {
          message_retention_seconds: queue.messageRetentionSeconds,
          sqs_managed_sse_enabled: queue.sqsManagedSseEnabled ?? null,
          kms_master_key_id: queue.kmsMasterKeyId ?? null,
        });
      });

      it("gives every role the same path and permissions boundary, and the log group the same key", () => {
        const roles = pulumi.records.filter((r) => r.type === TYPES.role);
        assert.equal(roles.length, 3);
        for (const role of roles) {
          assert.equal(role.inputs.path, scenario.args.rolePath ?? undefined, role.name);
          assert.equal(
            role.inputs.permissionsBoundary,
            scenario.args.permissionsBoundary,
            role.name,
          );
        }
        for (const name of ["task", "execution", "events"]) {
          const r = block(root, "resource", "aws_iam_role", name);
          assert.equal(r.path, "${var.role_path}", name);
          assert.equal(r.permissions_boundary, "${var.permissions_boundary}", name);
        }
        assert.equal(
          pulumi.find(TYPES.logGroup, `${n}-task`).kmsKeyId,
          scenario.args.kmsKeyArn ?? undefined,
        );
        assert.equal(
          block(root, "resource", "aws_cloudwatch_log_group", "this").kms_key_id,
          "${var.kms_key_arn}",
        );
        assert.equal(tf.dead_letter_queue.kms_master_key_id, scenario.args.kmsKeyArn ?? null);
      });

      it("matches each group's terminate events at the hook with the same pattern", () => {
        assert.deepEqual(Object.keys(tf.event_patterns).sort(), [...groups].sort());
        for (const group of groups) {
          const pattern = JSON.parse(pulumi.find(TYPES.rule, `${n}-${group}`).eventPattern);
          assert.deepEqual(JSON.parse(tf.event_patterns[group]), pattern, group);
        }
      });

      it("creates each group's hook with the same transition, default result, heartbeat and name", () => {
        for (const group of groups) {
          const hook = pulumi.find(TYPES.hook, `${n}-${group}`);
          assert.equal(hook.autoscalingGroupName, group);
          assert.deepEqual(tf.hook, {
            name: hook.name,
            lifecycle_transition: hook.lifecycleTransition,
            default_result: hook.defaultResult,
            heartbeat_timeout: hook.heartbeatTimeout,
          });
        }
      });

      it("fills the same overrides from the sample event, which the drainer's parser accepts", () => {
        const terraform = { inputPaths: tf.input_paths, inputTemplate: tf.input_template };
        for (const group of groups) {
          const transformer = pulumi.find(TYPES.target, `${n}-${group}`).inputTransformer;
          assert.deepEqual(tf.input_paths, transformer.inputPaths);
          assert.deepEqual(overridesFor(terraform), overridesFor(transformer));
        }
        const overrides = overridesFor(terraform).containerOverrides;
        assert.equal(overrides.length, 1);
        assert.deepEqual(
          overrides[0].environment.map((e) => e.name),
          EVENT_ENVIRONMENT.map((e) => e.env),
        );

        const started = parseConfig({
          ...asEnv(tf.container_environment),
          ...asEnv(overrides[0].environment),
        });
        assert.equal(started.mode, "event");
        assert.equal(started.instanceId, SAMPLE_EVENT.detail.EC2InstanceId);
        assert.equal(started.asg, SAMPLE_EVENT.detail.AutoScalingGroupName);
        assert.equal(started.hook, SAMPLE_EVENT.detail.LifecycleHookName);
        assert.equal(started.token, SAMPLE_EVENT.detail.LifecycleActionToken);
        assert.equal(started.cluster, scenario.args.clusterName);
      });

      it("runs the sweep with the task's own environment, which the drainer's parser accepts", () => {
        const swept = parseConfig(asEnv(tf.container_environment));
        assert.equal(swept.mode, "sweep");
        assert.deepEqual(swept.asgs, groups);
        assert.equal(swept.hook, tf.hook.name);
        assert.equal(
          swept.pollIntervalSeconds,
          scenario.args.pollInterval ?? swept.pollIntervalSeconds,
        );
        assert.equal(
          swept.ecsReadsPerSecond,
          scenario.args.ecsReadsPerSecond ?? DEFAULTS.ecsReadsPerSecond,
        );
      });

      it("defines the same container: image, user, read-only root, environment, logs", () => {
        const [terraform] = JSON.parse(tf.container_definitions);
        const [pulumiContainer] = JSON.parse(
          pulumi.find(TYPES.taskDefinition, `${n}-task`).containerDefinitions,
        );
        const logGroup = pulumi.find(TYPES.logGroup, `${n}-task`);
        // Log group names differ by design (Pulumi auto-names, Terraform names it); each points at its own group.
        assert.equal(terraform.logConfiguration.options["awslogs-group"], tf.names.log_group);
        assert.match(
          pulumiContainer.logConfiguration.options["awslogs-group"],
          new RegExp(`^${n}-task`),
        );
        for (const c of [terraform, pulumiContainer])
          delete c.logConfiguration.options["awslogs-group"];
        assert.deepEqual(terraform, pulumiContainer);
        assert.equal(
          logGroup.retentionInDays,
          scenario.args.logRetentionDays ?? root.variable.log_retention_days.default,
        );
      });

      it("defines the same task: awsvpc, launch type, size, platform", () => {
        const def = pulumi.find(TYPES.taskDefinition, `${n}-task`);
        assert.deepEqual(tf.task_definition, {
          network_mode: def.networkMode,
          requires_compatibilities: def.requiresCompatibilities,
          cpu: def.cpu,
          memory: def.memory,
          operating_system_family: def.runtimePlatform.operatingSystemFamily,
          cpu_architecture: def.runtimePlatform.cpuArchitecture,
        });
        assert.equal(tf.names.task_definition_family, def.family);
      });

      it("starts the task from every rule the same way: one task, network, retries, dead letters", () => {
        const targets = [
          ...groups.map((g) => `${n}-${g}`),
          ...(pulumi.outputs.sweepRuleArn ? [`${n}-sweep`] : []),
        ];
        for (const name of targets) {
          const target = pulumi.find(TYPES.target, name);
          const ecs = target.ecsTarget;
          assert.deepEqual(
            tf.ecs_target,
            {
              task_count: ecs.taskCount,
              launch_type: ecs.launchType,
              platform_version: ecs.platformVersion ?? null,
              propagate_tags: ecs.propagateTags,
              subnets: ecs.networkConfiguration.subnets,
              security_groups: ecs.networkConfiguration.securityGroups,
              assign_public_ip: ecs.networkConfiguration.assignPublicIp,
            },
            name,
          );
          assert.deepEqual(
            tf.retry_policy,
            {
              maximum_event_age_in_seconds: target.retryPolicy.maximumEventAgeInSeconds,
              maximum_retry_attempts: target.retryPolicy.maximumRetryAttempts,
            },
            name,
          );
          assert.ok(target.deadLetterConfig.arn, `${name} has no dead-letter queue`);
          assert.equal(target.arn, tf.cluster_arn, name);
        }
      });

      it("creates the sweep exactly when Pulumi does, on the same schedule, without overrides", () => {
        const sweepRules = pulumi.records.filter(
          (r) => r.type === TYPES.rule && r.name === `${n}-sweep`,
        );
        assert.equal(sweepRules.length, scenario.args.enableSweep === false ? 0 : 1);
        if (sweepRules.length === 1) {
          assert.equal(
            sweepRules[0].inputs.scheduleExpression,
            scenario.args.sweepSchedule ?? root.variable.sweep_schedule.default,
          );
          assert.equal(pulumi.find(TYPES.target, `${n}-sweep`).inputTransformer, undefined);
        }
        assert.equal(
          block(root, "resource", "aws_cloudwatch_event_target", "sweep").input_transformer,
          undefined,
        );
      });

      it("alarms on the same metrics, with the same statistic and shape, when enabled", () => {
        const alarms = pulumi.records.filter(
          (r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm",
        );
        if (scenario.args.enableAlarms !== true) {
          assert.deepEqual(alarms, []);
          return;
        }
        const pulumiByKey = Object.fromEntries(
          alarms.map((a) => [a.name.slice(n.length + 1), a.inputs]),
        );
        assert.deepEqual(Object.keys(pulumiByKey).sort(), Object.keys(tf.alarms).sort());
        for (const [key, t] of Object.entries(tf.alarms)) {
          const p = pulumiByKey[key];
          assert.deepEqual(
            [
              p.namespace,
              p.metricName,
              p.statistic,
              Object.keys(p.dimensions).sort(),
              p.alarmDescription,
            ],
            [
              t.namespace,
              t.metric_name,
              t.statistic,
              Object.keys(t.dimensions).sort(),
              t.description,
            ],
            key,
          );
          assert.deepEqual(
            [p.period, p.evaluationPeriods, p.treatMissingData],
            [
              tf.alarm_shape.period,
              tf.alarm_shape.evaluation_periods,
              tf.alarm_shape.treat_missing_data,
            ],
            key,
          );
          assert.deepEqual(
            [p.threshold, p.comparisonOperator],
            [t.threshold, t.comparison_operator],
            key,
          );
          assert.deepEqual(p.alarmActions, [scenario.args.alarmTopicArn], key);
          if (t.namespace !== "AWS/SQS" && t.namespace !== "AWS/Events") {
            assert.deepEqual(p.dimensions, t.dimensions, key);
          }
        }
      });

      it("matches the drainer's failed tasks with the same pattern, into a queue only that rule may use", () => {
        const rules = pulumi.records.filter(
          (r) => r.type === TYPES.rule && r.name === `${n}-task-failures`,
        );
        assert.equal(rules.length, scenario.args.enableAlarms === true ? 1 : 0);
        if (rules.length === 0) return;
        assert.deepEqual(
          JSON.parse(tf.task_failure_pattern),
          JSON.parse(rules[0].inputs.eventPattern),
        );
        assert.deepEqual(
          grants(tf.task_failures_queue_policy),
          grants(pulumi.find(TYPES.queuePolicy, `${n}-task-failures`).policy),
        );
        const queue = pulumi.find(TYPES.queue, `${n}-task-failures`);
        assert.deepEqual(tf.dead_letter_queue, {
          message_retention_seconds: queue.messageRetentionSeconds,
          sqs_managed_sse_enabled: queue.sqsManagedSseEnabled ?? null,
          kms_master_key_id: queue.kmsMasterKeyId ?? null,
        });
        const target = pulumi.find(TYPES.target, `${n}-task-failures`);
        assert.equal(target.roleArn, undefined, "a queue target takes no role");
      });

      it("creates the same resources, group for group", () => {
        const count = (type: string) => pulumi.records.filter((r) => r.type === type).length;
        const sweep = scenario.args.enableSweep === false ? 0 : 1;
        const alarms = scenario.args.enableAlarms === true ? 1 : 0;
        assert.equal(count(TYPES.hook), groups.length);
        assert.equal(count(TYPES.rule), groups.length + sweep + alarms);
        assert.equal(count(TYPES.target), groups.length + sweep + alarms);
        assert.equal(count(TYPES.role), 3);
        assert.equal(count(TYPES.rolePolicy), 2);
        assert.equal(count(TYPES.attachment), 1);
        assert.equal(count(TYPES.taskDefinition), 1);
        assert.equal(count(TYPES.logGroup), 1);
        assert.equal(count(TYPES.queue), 1 + alarms);
        assert.equal(count(TYPES.queuePolicy), 1 + alarms);
        // The module's resources of the same kinds: per group (for_each), the sweep or the alarms (count), the rest
        // once.
        const terraformKinds = Object.entries(root.resource).flatMap(([type, byName]) =>
          Object.entries(byName).map(
            ([name, b]) =>
              `${type}.${name}${
                b.for_each
                  ? " per group"
                  : String(b.count).includes("enable_sweep")
                    ? " if sweep"
                    : String(b.count).includes("enable_alarms")
                      ? " if alarms"
                      : b.count
                        ? " counted"
                        : ""
              }`,
          ),
        );
        assert.deepEqual(terraformKinds.sort(), [
          "aws_autoscaling_lifecycle_hook.this per group",
          "aws_cloudwatch_event_rule.lifecycle per group",
          "aws_cloudwatch_event_rule.sweep if sweep",
          "aws_cloudwatch_event_rule.task_failures if alarms",
          "aws_cloudwatch_event_target.lifecycle per group",
          "aws_cloudwatch_event_target.sweep if sweep",
          "aws_cloudwatch_event_target.task_failures if alarms",
          "aws_cloudwatch_log_group.this",
          "aws_cloudwatch_metric_alarm.this per group",
          "aws_ecs_task_definition.this",
          "aws_iam_role.events",
          "aws_iam_role.execution",
          "aws_iam_role.task",
          "aws_iam_role_policy.events",
          "aws_iam_role_policy.task",
          "aws_iam_role_policy_attachment.execution",
          "aws_sqs_queue.dead_letter",
          "aws_sqs_queue.task_failures if alarms",
          "aws_sqs_queue_policy.dead_letter",
          "aws_sqs_queue_policy.task_failures if alarms",
        ]);
      });
    });
  }

  describe("names cut with a hash, the same way on both sides", () => {
    before(needsTerraform);
    const BLUE = "payments-production-eu-west-1-blue";
    const GREEN = "payments-production-eu-west-1-green";
    const render = (vars: Record<string, unknown>) =>
      renderer.render({
        cluster_name: "prod",
        autoscaling_group_names: ["prod-ecs-a"],
        subnet_ids: ["subnet-1"],
        security_group_ids: ["sg-1"],
        drainer_image: IMAGE,
        partition: MOCK_PARTITION,
        region: MOCK_REGION,
        account_id: MOCK_ACCOUNT,
        task_role_arn: "arn:aws:iam::123456789012:role/t",
        execution_role_arn: "arn:aws:iam::123456789012:role/e",
        dead_letter_queue_arn: "arn:aws:sqs:us-west-2:123456789012:q",
        rule_arns: [],
        ...vars,
      });

    it("derives distinct default names for a blue and a green cluster, as the contract does", () => {
      const blue = render({ cluster_name: BLUE }).names.task_definition_family;
      const green = render({ cluster_name: GREEN }).names.task_definition_family;
      assert.equal(blue, defaultDrainerName(BLUE));
      assert.equal(green, defaultDrainerName(GREEN));
      assert.notEqual(blue, green);
    });

    it("names each alarm of a long blue and green group the same as the Pulumi component, within 255", async () => {
      const long = "x".repeat(240);
      const groups = [`${long}-blue`, `${long}-green`];
      reset();
      new ScaleInDrainer("bg", {
        clusterName: "prod",
        autoscalingGroupNames: groups,
        subnetIds: ["subnet-1"],
        securityGroupIds: ["sg-1"],
        drainerImage: IMAGE,
        enableAlarms: true,
      });
      await settle();
      const pulumiNames = Object.fromEntries(
        recorded
          .filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm")
          .map((r) => [r.name.slice("bg-".length), r.inputs.name as string]),
      );
      const tf = render({ name: "bg", autoscaling_group_names: groups, enable_alarms: true });
      assert.deepEqual(tf.alarm_names, pulumiNames);
      const names = Object.values(pulumiNames);
      assert.ok(names.every((n) => n.length <= 255));
      assert.equal(new Set(names).size, names.length);
      assert.ok(names.some((n) => n !== `bg-${Object.keys(pulumiNames)[names.indexOf(n)]}`));
    });
  });

  describe("main.tf deploys what modules/contract renders", () => {
    const c = (output: string) => `\${module.contract.${output}}`;
    const WIRING: [string, string, string, unknown][] = [
      ["aws_iam_role", "task", "assume_role_policy", c("ecs_tasks_assume_role_policy")],
      ["aws_iam_role", "execution", "assume_role_policy", c("execution_assume_role_policy")],
      ["aws_iam_role", "events", "assume_role_policy", c("events_assume_role_policy")],
      ["aws_iam_role_policy", "task", "policy", c("task_role_policy")],
      ["aws_iam_role_policy", "task", "role", "${aws_iam_role.task.id}"],
      ["aws_iam_role_policy", "events", "policy", c("events_role_policy")],
      ["aws_iam_role_policy", "events", "role", "${aws_iam_role.events.id}"],
      ["aws_iam_role_policy_attachment", "execution", "policy_arn", c("execution_role_policy_arn")],
      ["aws_iam_role_policy_attachment", "execution", "role", "${aws_iam_role.execution.name}"],
      ["aws_sqs_queue_policy", "dead_letter", "policy", c("dead_letter_queue_policy")],
      [
        "aws_sqs_queue",
        "dead_letter",
        "message_retention_seconds",
        c("dead_letter_queue.message_retention_seconds"),
      ],
      [
        "aws_sqs_queue",
        "dead_letter",
        "sqs_managed_sse_enabled",
        c("dead_letter_queue.sqs_managed_sse_enabled"),
      ],
      ["aws_cloudwatch_log_group", "this", "name", c("names.log_group")],
      ["aws_cloudwatch_log_group", "this", "retention_in_days", "${var.log_retention_days}"],
      ["aws_ecs_task_definition", "this", "family", c("names.task_definition_family")],
      ["aws_ecs_task_definition", "this", "container_definitions", c("container_definitions")],
      ["aws_ecs_task_definition", "this", "network_mode", c("task_definition.network_mode")],
      [
        "aws_ecs_task_definition",
        "this",
        "requires_compatibilities",
        c("task_definition.requires_compatibilities"),
      ],
      ["aws_ecs_task_definition", "this", "cpu", c("task_definition.cpu")],
      ["aws_ecs_task_definition", "this", "memory", c("task_definition.memory")],
      ["aws_ecs_task_definition", "this", "task_role_arn", "${aws_iam_role.task.arn}"],
      ["aws_ecs_task_definition", "this", "execution_role_arn", "${aws_iam_role.execution.arn}"],
      [
        "aws_ecs_task_definition",
        "this",
        "runtime_platform",
        [
          {
            operating_system_family: c("task_definition.operating_system_family"),
            cpu_architecture: c("task_definition.cpu_architecture"),
          },
        ],
      ],
      ["aws_autoscaling_lifecycle_hook", "this", "name", c("hook.name")],
      ["aws_autoscaling_lifecycle_hook", "this", "autoscaling_group_name", "${each.key}"],
      [
        "aws_autoscaling_lifecycle_hook",
        "this",
        "lifecycle_transition",
        c("hook.lifecycle_transition"),
      ],
      ["aws_autoscaling_lifecycle_hook", "this", "default_result", c("hook.default_result")],
      ["aws_autoscaling_lifecycle_hook", "this", "heartbeat_timeout", c("hook.heartbeat_timeout")],
      ["aws_cloudwatch_event_rule", "lifecycle", "event_pattern", c("event_patterns[each.key]")],
      ["aws_cloudwatch_event_rule", "sweep", "schedule_expression", "${var.sweep_schedule}"],
      ["aws_cloudwatch_event_rule", "task_failures", "event_pattern", c("task_failure_pattern")],
      ["aws_cloudwatch_event_rule", "task_failures", "name", c("names.task_failures_rule")],
      ["aws_sqs_queue", "task_failures", "name", c("names.task_failures_queue")],
      ["aws_sqs_queue_policy", "task_failures", "policy", c("task_failures_queue_policy")],
      [
        "aws_sqs_queue_policy",
        "task_failures",
        "queue_url",
        "${aws_sqs_queue.task_failures[0].id}",
      ],
      [
        "aws_cloudwatch_event_target",
        "task_failures",
        "rule",
        "${aws_cloudwatch_event_rule.task_failures[0].name}",
      ],
      [
        "aws_cloudwatch_event_target",
        "task_failures",
        "arn",
        "${aws_sqs_queue.task_failures[0].arn}",
      ],
      [
        "aws_cloudwatch_event_target",
        "lifecycle",
        "input_transformer",
        [
          {
            input_paths: c("input_paths"),
            input_template: c("input_template"),
          },
        ],
      ],
      [
        "aws_cloudwatch_event_target",
        "lifecycle",
        "rule",
        "${aws_cloudwatch_event_rule.lifecycle[each.key].name}",
      ],
      [
        "aws_cloudwatch_event_target",
        "sweep",
        "rule",
        "${aws_cloudwatch_event_rule.sweep[0].name}",
      ],
    ];
    for (const target of ["lifecycle", "sweep"]) {
      WIRING.push(
        ["aws_cloudwatch_event_target", target, "arn", c("cluster_arn")],
        ["aws_cloudwatch_event_target", target, "role_arn", "${aws_iam_role.events.arn}"],
        [
          "aws_cloudwatch_event_target",
          target,
          "dead_letter_config",
          [{ arn: "${aws_sqs_queue.dead_letter.arn}" }],
        ],
        [
          "aws_cloudwatch_event_target",
          target,
          "retry_policy",
          [
            {
              maximum_event_age_in_seconds: c("retry_policy.maximum_event_age_in_seconds"),
              maximum_retry_attempts: c("retry_policy.maximum_retry_attempts"),
            },
          ],
        ],
        [
          "aws_cloudwatch_event_target",
          target,
          "ecs_target",
          [
            {
              task_definition_arn: "${aws_ecs_task_definition.this.arn}",
              task_count: c("ecs_target.task_count"),
              launch_type: c("ecs_target.launch_type"),
              platform_version: c("ecs_target.platform_version"),
              propagate_tags: c("ecs_target.propagate_tags"),
              network_configuration: [
                {
                  subnets: c("ecs_target.subnets"),
                  security_groups: c("ecs_target.security_groups"),
                  assign_public_ip: c("ecs_target.assign_public_ip"),
                },
              ],
            },
          ],
        ],
      );
    }
    for (const [type, name, attribute, expected] of WIRING) {
      it(`sets ${type}.${name}.${attribute}`, () => {
        assert.deepEqual(block(root, "resource", type, name)[attribute], expected);
      });
    }

    it("gives modules/contract the roles, the queue and every rule it writes policies for", () => {
      const call = root.module.contract;
      assert.equal(call.task_role_arn, "${aws_iam_role.task.arn}");
      assert.equal(call.execution_role_arn, "${aws_iam_role.execution.arn}");
      assert.equal(call.dead_letter_queue_arn, "${aws_sqs_queue.dead_letter.arn}");
      assert.equal(
        String(call.rule_arns).replace(/\s+/g, " "),
        "${concat( [for g in var.autoscaling_group_names : aws_cloudwatch_event_rule.lifecycle[g].arn], aws_cloudwatch_event_rule.sweep[*].arn, )}",
      );
      assert.equal(call.partition, "${data.aws_partition.current.partition}");
      assert.equal(call.account_id, "${data.aws_caller_identity.current.account_id}");
    });
  });

  describe("the interface", () => {
    const schema = JSON.parse(readFileSync(join(REPO, "pulumi", "schema.json"), "utf8"));
    const component = schema.resources["ecs-scale-in-drainer:index:ScaleInDrainer"];

    it("has one variable per Pulumi arg, plus name (the Pulumi resource's name)", () => {
      // protectHooks is a Pulumi resource option; Terraform's prevent_destroy cannot follow a variable (README).
      const args = Object.keys(component.inputProperties)
        .filter((a) => a !== "protectHooks")
        .map(snakeCase);
      assert.deepEqual(Object.keys(root.variable).sort(), [...args, "name"].sort());
    });

    it("requires what Pulumi requires (the image defaults to the published release)", () => {
      const required = Object.entries(root.variable)
        .filter(([, v]) => !("default" in v))
        .map(([k]) => k);
      assert.deepEqual(required.sort(), [...component.requiredInputs.map(snakeCase)].sort());
    });

    it("has one output per Pulumi output", () => {
      assert.deepEqual(
        Object.keys(root.output).sort(),
        Object.keys(component.properties).map(snakeCase).sort(),
      );
    });

    it("makes the optional sweep rule's output null when there is no sweep", () => {
      assert.equal(
        root.output.sweep_rule_arn.value,
        "${try(aws_cloudwatch_event_rule.sweep[0].arn, null)}",
      );
    });
  });

  describe("validation: Terraform rejects exactly what Pulumi rejects", () => {
    before(needsTerraform);
    const base: ScaleInDrainerArgs = SCENARIOS[0].args;
    const CASES: [string, Partial<ScaleInDrainerArgs>][] = [
      ["a cluster name with a slash", { clusterName: "team/prod" }],
      ["a service ARN", { clusterName: "arn:aws:ecs:us-west-2:123456789012:service/prod/web" }],
      ["a cluster ARN", { clusterName: `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:cluster/p` }],
      ["a hook default result that is no result", { hookDefaultResult: "RETAIN" as never }],
      ["a hook default result of ABANDON", { hookDefaultResult: LifecycleResult.Abandon }],
      ["a metrics namespace of AWS's", { metricsNamespace: "AWS/ECS" }],
      ["a metrics namespace with a space", { metricsNamespace: "my drains" }],
      ["a metrics namespace with every allowed sign", { metricsNamespace: "a.b-c_d/e#f:g" }],
      ["metrics off", { emitMetrics: false }],
      ["alarms without metrics", { enableAlarms: true, emitMetrics: false }],
      ["a topic without alarms", { alarmTopicArn: `arn:aws:sns:${MOCK_REGION}:${MOCK_ACCOUNT}:t` }],
      ["a topic that is no SNS ARN", { enableAlarms: true, alarmTopicArn: "oncall" }],
      [
        "alarms with a topic",
        { enableAlarms: true, alarmTopicArn: `arn:aws:sns:${MOCK_REGION}:${MOCK_ACCOUNT}:t` },
      ],
      ["events off", { publishEvents: false }],
      ["a Fargate quota without alarms", { fargateVcpuQuota: 6 }],
      ["a Fargate quota of 0", { enableAlarms: true, fargateVcpuQuota: 0 }],
      ["a Fargate quota of 0.5", { enableAlarms: true, fargateVcpuQuota: 0.5 }],
      ["a Fargate quota with alarms", { enableAlarms: true, fargateVcpuQuota: 4000 }],
      ["events as text", { publishEvents: "no" as never }],
      ["no groups", { autoscalingGroupNames: [] }],
      ["a group twice", { autoscalingGroupNames: ["a", "a"] }],
      ["a group with a comma", { autoscalingGroupNames: ["a,b"] }],
      ["a group with a colon", { autoscalingGroupNames: ["a:b"] }],
      ["a group starting with a space", { autoscalingGroupNames: [" a"] }],
      ["a group with a space and a slash", { autoscalingGroupNames: ["a b/c"] }],
      ["no subnets", { subnetIds: [] }],
      ["no security groups", { securityGroupIds: [] }],
      ["an empty image", { drainerImage: "" }],
      ["an image with a space", { drainerImage: "drainer: 1" }],
      ["a heartbeat of 29", { heartbeatTimeout: 29 }],
      ["a heartbeat of 30", { heartbeatTimeout: 30, drainTimeout: 3000, enableSweep: false }],
      ["a heartbeat of 7200", { heartbeatTimeout: 7200 }],
      ["a heartbeat of 7201", { heartbeatTimeout: 7201 }],
      ["a fractional heartbeat", { heartbeatTimeout: 900.5 }],
      ["a drain timeout of 0", { drainTimeout: 0 }],
      ["a drain timeout of 0.5", { drainTimeout: 0.5 }],
      ["a drain timeout of 48 hours", { drainTimeout: 172800, heartbeatTimeout: 7200 }],
      ["a drain timeout beyond 48 hours", { drainTimeout: 172801, heartbeatTimeout: 7200 }],
      [
        "a drain timeout of 100 heartbeats",
        { drainTimeout: 3000, heartbeatTimeout: 30, enableSweep: false },
      ],
      [
        "a drain timeout beyond 100 heartbeats",
        { drainTimeout: 3001, heartbeatTimeout: 30, enableSweep: false },
      ],
      ["a heartbeat of 840 with the default sweep", { heartbeatTimeout: 840 }],
      ["a heartbeat of 839 with the default sweep", { heartbeatTimeout: 839 }],
      ["an hourly sweep with the default heartbeat", { sweepSchedule: "rate(1 hour)" }],
      [
        "a sweep every minute with a heartbeat of 360",
        { sweepSchedule: "rate(1 minute)", heartbeatTimeout: 360, drainTimeout: 3600 },
      ],
      [
        "a sweep every minute with a heartbeat of 359",
        { sweepSchedule: "rate(1 minute)", heartbeatTimeout: 359, drainTimeout: 3590 },
      ],
      ["a daily sweep", { sweepSchedule: "rate(1 day)", heartbeatTimeout: 7200 }],
      [
        "a short heartbeat with a cron sweep",
        { sweepSchedule: "cron(0 * * * ? *)", heartbeatTimeout: 60 },
      ],
      ["a short heartbeat without the sweep", { enableSweep: false, heartbeatTimeout: 60 }],
      ["a poll interval of 0", { pollInterval: 0 }],
      ["a poll interval of 0.25", { pollInterval: 0.25 }],
      ["a poll interval of 3600", { pollInterval: 3600 }],
      ["a poll interval of 3601", { pollInterval: 3601 }],
      ["0 ECS reads a second", { ecsReadsPerSecond: 0 }],
      ["0.5 ECS reads a second", { ecsReadsPerSecond: 0.5 }],
      ["10000 ECS reads a second", { ecsReadsPerSecond: 10000 }],
      ["10001 ECS reads a second", { ecsReadsPerSecond: 10001 }],
      ["a lowercase timeout result", { timeoutResult: "continue" as LifecycleResult }],
      ["ABANDON", { timeoutResult: LifecycleResult.Abandon }],
      ["a schedule in words", { sweepSchedule: "every 5 minutes" }],
      ["a cron schedule", { sweepSchedule: "cron(0 * * * ? *)" }],
      ["a Fargate cpu of 300", { cpu: 300 }],
      ["an EC2 cpu of 300", { cpu: 300, launchType: LaunchType.Ec2 }],
      ["a fractional EC2 cpu", { cpu: 256.5, launchType: LaunchType.Ec2 }],
      ["a Fargate cpu of 16384", { cpu: 16384 }],
      ["no memory", { memory: 0 }],
      ["1 MiB of memory", { memory: 1 }],
      ["fractional memory", { memory: 511.5 }],
      ["a retention of 0 days", { logRetentionDays: 0 }],
      ["a retention of 31 days", { logRetentionDays: 31 }],
      ["a retention of 3653 days", { logRetentionDays: 3653 }],
      ["an unknown launch type", { launchType: "EXTERNAL" as LaunchType }],
      ["ARM64", { cpuArchitecture: CpuArchitecture.Arm64 }],
      ["a lower-case architecture", { cpuArchitecture: "arm64" as CpuArchitecture }],
      ["an architecture ECS does not know", { cpuArchitecture: "RISCV" as CpuArchitecture }],
      ["a public IP on EC2", { assignPublicIp: true, launchType: LaunchType.Ec2 }],
      ["a public IP on Fargate", { assignPublicIp: true }],
      ["ECS managed draining's hook", { hookName: "ecs-managed-draining-termination-hook" }],
      ["a hook name with a colon", { hookName: "a:b" }],
      ["a hook name with slashes and dots", { hookName: "team/x.y" }],
      ["a boundary", { permissionsBoundary: "arn:aws:iam::123456789012:policy/b/boundary" }],
      [
        "AWS's policy as a boundary",
        { permissionsBoundary: "arn:aws:iam::aws:policy/PowerUserAccess" },
      ],
      ["a role as a boundary", { permissionsBoundary: "arn:aws:iam::123456789012:role/b" }],
      ["a role path", { rolePath: "/platform/drainer/" }],
      ["the root role path", { rolePath: "/" }],
      ["a role path without its last slash", { rolePath: "/platform" }],
      ["a role path with a space", { rolePath: "/plat form/" }],
      ["a KMS key", { kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/abc-123" }],
      ["a KMS alias", { kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:alias/drainer" }],
    ];

    for (const [title, change] of CASES) {
      it(title, () => {
        const args = { ...base, ...change };
        const pulumiRejects = checkScaleInDrainerArgs(args)
          .map((p) => snakeCase(p.arg))
          .sort();
        let terraformRejects: string[] = [];
        try {
          renderer.render({
            ...terraformVariables({ title, name: "v", args }),
            partition: MOCK_PARTITION,
            region: MOCK_REGION,
            account_id: MOCK_ACCOUNT,
            task_role_arn: "arn:aws:iam::123456789012:role/t",
            execution_role_arn: "arn:aws:iam::123456789012:role/e",
            dead_letter_queue_arn: "arn:aws:sqs:us-west-2:123456789012:q",
            rule_arns: [],
          });
        } catch (e) {
          if (!(e instanceof TerraformRejected)) throw e;
          assert.ok(e.invalidVariables.length > 0, e.output);
          terraformRejects = e.invalidVariables;
        }
        assert.deepEqual(terraformRejects, pulumiRejects);
      });
    }
  });
});
