/**
 * The deployer's least-privilege policy (iam/deployer-policy.json), under the same independent evaluator as the
 * drainer's own policies (@cloud-copilot/iam-simulate with AWS's service authorization data):
 * - every action it names exists, and every ARN it names is of a type the action takes;
 * - for every resource type the Terraform module declares and the Pulumi component registers, the calls that create,
 *   update, read and delete it are allowed on the resources as that face names them (NAME = the module's `name`, the
 *   component's name);
 * - the same calls on another name prefix, group, region or account are denied;
 * - negative controls: the policy without its statement for roles, or with rules widened to every name, is caught.
 * What this does not prove: which calls the AWS provider and Pulumi really make (the list below is what their
 * resource implementations are documented to call); your organization's SCPs and boundaries.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { MODULE_DIR, REPO, parseModule } from "../terraform/hcl";
// The recording mocks must be installed before the component (and @pulumi/aws) is loaded.
import { installMocks, recorded, reset, settle } from "../pulumi/harness";
import { ScaleInDrainer } from "../../pulumi";

type Policy = { Version: string; Statement: Record<string, any>[] };

const ACCOUNT = "123456789012";
const REGION = "us-west-2";
const NAME = "prod-drainer";
const GROUP = "prod-ecs-a";
const DEPLOYER = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/session`;

/** The policy file with its placeholders filled. */
function deployerPolicy(values = { ACCOUNT_ID: ACCOUNT, REGION, NAME, GROUP }): Policy {
  let text = readFileSync(join(REPO, "iam", "deployer-policy.json"), "utf8");
  for (const [token, value] of Object.entries(values)) text = text.replaceAll(token, value);
  return JSON.parse(text) as Policy;
}

interface Call {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

async function decide(policy: Policy, call: Call): Promise<string> {
  const r: any = await runSimulation(
    {
      identityPolicies: [{ name: "deployer", policy: policy as any }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action: call.action,
        principal: DEPLOYER,
        resource: { accountId: ACCOUNT, resource: call.resource },
        contextVariables: call.context ?? {},
      },
    } as any,
    {},
  );
  if (r.resultType === "error") {
    throw new Error(`iam-simulate rejected ${JSON.stringify(call)}: ${JSON.stringify(r.errors)}`);
  }
  return r.overallResult as string;
}

const arn = {
  role: (name: string, path = "/") => `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
  taskDefinition: (family: string) =>
    `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:3`,
  logGroup: (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`,
  queue: (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  rule: (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`,
  alarm: (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`,
  group: (name: string) =>
    `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:6a2b0c1e-3f4d-4e5a-9b8c-7d6e5f4a3b2c:autoScalingGroupName/${name}`,
  repository: (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${name}`,
};

const ROLE = [
  "iam:CreateRole",
  "iam:GetRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:TagRole",
  "iam:PutRolePermissionsBoundary",
  "iam:DeleteRole",
];

/**
 * The calls that create, update, read and delete one resource of each type, on a resource named as the face names
 * it (`prefix` is the name the deployer's policy is scoped to; another prefix must be denied).
 */
function callsFor(type: string, prefix: string, group: string): Call[] {
  const on = (resource: string, actions: string[], context?: Record<string, string>) =>
    actions.map((action) => ({ action, resource, context }));
  switch (type) {
    case "aws_iam_role":
    case "aws:iam/role:Role":
      return [
        ...on(arn.role(`${prefix}-task`), ROLE),
        ...on(arn.role(`${prefix}-task-1a2b3c4`, "/platform/drainer/"), ROLE),
      ];
    case "aws_iam_role_policy":
    case "aws:iam/rolePolicy:RolePolicy":
      return on(arn.role(`${prefix}-events`), [
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
      ]);
    case "aws_iam_role_policy_attachment":
    case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
      return on(arn.role(`${prefix}-execution`), [
        "iam:AttachRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:DetachRolePolicy",
      ]);
    case "aws_ecs_task_definition":
    case "aws:ecs/taskDefinition:TaskDefinition":
      return [
        ...on("*", ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"]),
        ...on("*", ["ecs:DeregisterTaskDefinition"]),
        ...on(arn.taskDefinition(prefix), ["ecs:TagResource"], {
          "ecs:CreateAction": "RegisterTaskDefinition",
        }),
        ...on(arn.taskDefinition(`${prefix}-task`), ["ecs:ListTagsForResource"]),
        ...on(arn.role(`${prefix}-task`), ["iam:PassRole"], {
          "iam:PassedToService": "ecs-tasks.amazonaws.com",
        }),
      ];
    case "aws_cloudwatch_log_group":
    case "aws:cloudwatch/logGroup:LogGroup":
      return [
        ...on(arn.logGroup(`/ecs/${prefix}`), [
          "logs:CreateLogGroup",
          "logs:PutRetentionPolicy",
          "logs:AssociateKmsKey",
          "logs:TagResource",
          "logs:DeleteLogGroup",
        ]),
        ...on(arn.logGroup(`${prefix}-task-9a8b7c6`), [
          "logs:CreateLogGroup",
          "logs:DeleteLogGroup",
        ]),
        ...on("*", ["logs:DescribeLogGroups"]),
      ];
    case "aws_sqs_queue":
    case "aws:sqs/queue:Queue":
      return on(arn.queue(`${prefix}-dead-letter`), [
        "sqs:CreateQueue",
        "sqs:GetQueueAttributes",
        "sqs:TagQueue",
        "sqs:DeleteQueue",
      ]);
    case "aws_sqs_queue_policy":
    case "aws:sqs/queuePolicy:QueuePolicy":
      return on(arn.queue(`${prefix}-task-failures`), ["sqs:SetQueueAttributes"]);
    case "aws_cloudwatch_event_rule":
    case "aws:cloudwatch/eventRule:EventRule":
      return on(arn.rule(`${prefix}-asg-${group}`), [
        "events:PutRule",
        "events:DescribeRule",
        "events:TagResource",
        "events:DeleteRule",
      ]);
    case "aws_cloudwatch_event_target":
    case "aws:cloudwatch/eventTarget:EventTarget":
      return [
        ...on(arn.rule(`${prefix}-sweep`), [
          "events:PutTargets",
          "events:ListTargetsByRule",
          "events:RemoveTargets",
        ]),
        ...on(arn.role(`${prefix}-events`), ["iam:PassRole"], {
          "iam:PassedToService": "events.amazonaws.com",
        }),
      ];
    case "aws_cloudwatch_metric_alarm":
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return [
        ...on(arn.alarm(`${prefix}-dead-letters`), [
          "cloudwatch:PutMetricAlarm",
          "cloudwatch:TagResource",
          "cloudwatch:DeleteAlarms",
        ]),
        ...on("*", ["cloudwatch:DescribeAlarms"]),
      ];
    case "aws_autoscaling_lifecycle_hook":
    case "aws:autoscaling/lifecycleHook:LifecycleHook":
      return [
        ...on(arn.group(group), [
          "autoscaling:PutLifecycleHook",
          "autoscaling:DeleteLifecycleHook",
        ]),
        ...on("*", ["autoscaling:DescribeLifecycleHooks"]),
      ];
    case "awsx:ecr:Repository":
      return [
        ...on(arn.repository(`${prefix}-image-0f1e2d3`), [
          "ecr:CreateRepository",
          "ecr:DescribeRepositories",
          "ecr:PutLifecyclePolicy",
          "ecr:DeleteRepository",
        ]),
      ];
    case "awsx:ecr:Image":
      return [
        ...on("*", ["ecr:GetAuthorizationToken"]),
        ...on(arn.repository(`${prefix}-image-0f1e2d3`), [
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:PutImage",
          "ecr:BatchGetImage",
        ]),
      ];
    default:
      throw new Error(`no calls listed for ${type}: add them to this test and the policy`);
  }
}

/** The calls that must be denied: the same on another prefix and group (a `*` resource is the same). */
const scoped = (calls: Call[]) => calls.filter((c) => c.resource !== "*");

async function problems(policy: Policy, types: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const type of types) {
    for (const call of callsFor(type, NAME, GROUP)) {
      const d = await decide(policy, call);
      if (d !== "Allowed") out.push(`${type}: ${call.action} on ${call.resource} is ${d}`);
    }
    for (const call of scoped(callsFor(type, "other-team", "other-asg"))) {
      const d = await decide(policy, call);
      if (d === "Allowed") out.push(`${type}: ${call.action} on ${call.resource} is allowed`);
    }
  }
  return out;
}

describe("the deployer's least-privilege policy (iam/deployer-policy.json)", function () {
  this.timeout(120_000);
  let terraformTypes: string[];
  let pulumiTypes: string[];

  before(async () => {
    const root = await parseModule(MODULE_DIR);
    terraformTypes = Object.keys(root.resource).sort();
    installMocks();
    reset();
    new ScaleInDrainer(NAME, {
      clusterName: "prod",
      autoscalingGroupNames: [GROUP],
      subnetIds: ["subnet-1"],
      securityGroupIds: ["sg-1"],
      enableAlarms: true,
    });
    await settle();
    pulumiTypes = [
      ...new Set(
        recorded
          .filter(
            (r) =>
              !r.type.startsWith("pulumi:providers:") &&
              !r.type.startsWith("ecs-scale-in-drainer:"),
          )
          .map((r) => r.type),
      ),
    ].sort();
  });

  it("names only actions that exist, on ARNs of types they take", async () => {
    const policy = deployerPolicy();
    for (const s of policy.Statement) {
      for (const action of [s.Action].flat()) {
        const resources = [s.Resource].flat().map((r: string) => r.replace(/\*/g, "x"));
        for (const resource of resources) {
          await decide(policy, { action, resource: resource === "x" ? "*" : resource });
        }
      }
    }
  });

  it("lets the Terraform module create, read, update and delete each of its resources, and no one else's", async () => {
    assert.ok(terraformTypes.includes("aws_iam_role"));
    assert.deepEqual(await problems(deployerPolicy(), terraformTypes), []);
  });

  it("lets the Pulumi component create, read, update and delete each of its resources, and no one else's", async () => {
    assert.ok(pulumiTypes.includes("awsx:ecr:Repository"), pulumiTypes.join(", "));
    assert.deepEqual(await problems(deployerPolicy(), pulumiTypes), []);
  });

  it("negative control: an action that does not exist is refused by the evaluator", async () => {
    await assert.rejects(
      decide(deployerPolicy(), { action: "events:PutRules", resource: arn.rule(`${NAME}-x`) }),
      /iam-simulate rejected/,
    );
  });

  it("negative control: without its statement for roles, the module's roles are caught", async () => {
    const broken = deployerPolicy();
    broken.Statement = broken.Statement.filter((s) => s.Sid !== "Roles");
    assert.ok((await problems(broken, ["aws_iam_role"])).some((p) => /iam:CreateRole/.test(p)));
  });

  it("negative control: rules widened to every name are caught", async () => {
    const broken = deployerPolicy();
    const rules = broken.Statement.find((s) => s.Sid === "Rules")!;
    rules.Resource = `arn:aws:events:${REGION}:${ACCOUNT}:rule/*`;
    assert.ok(
      (await problems(broken, ["aws_cloudwatch_event_rule"])).some((p) =>
        /other-team.* is allowed/.test(p),
      ),
    );
  });
});
