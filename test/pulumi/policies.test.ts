import { strict as assert } from "assert";
import { MOCK_ACCOUNT, MOCK_REGION, installMocks, one } from "./harness";
import { DECLARED_ACTIONS, ResourceKind } from "../../drainer/src/contract";
import {
  PolicyDocument,
  PolicyStatement,
  anyRevisionOf,
  resolveClusterScope,
  taskRolePolicyDocument,
} from "../../pulumi";
import { deploy } from "./deploy";

const asList = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Every (action, resource, condition) the document allows, one line each: what it grants, and nothing else. */
function grants(document: PolicyDocument): string[] {
  return document.Statement.flatMap((s: PolicyStatement) => {
    assert.equal(s.Effect, "Allow");
    return asList(s.Action).flatMap((action) =>
      asList(s.Resource).map(
        (resource) => `${action} ${resource} ${JSON.stringify(s.Condition ?? {})}`,
      ),
    );
  }).sort();
}

const GROUPS = ["asg-a", "asg-b", "asg-c"];
const ECS = `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}`;
const CLUSTER_ARN = `${ECS}:cluster/prod`;
const IN_CLUSTER = JSON.stringify({ ArnEquals: { "ecs:cluster": CLUSTER_ARN } });

/** What each declared action must be allowed on, written from AWS-FACTS.md's table, not from the code. */
function expectedGrants(): string[] {
  const expected: string[] = [];
  for (const { action, resource, clusterCondition } of DECLARED_ACTIONS) {
    const condition = clusterCondition
      ? IN_CLUSTER
      : resource === ResourceKind.EventBus
        ? JSON.stringify({
            "ForAllValues:StringEquals": { "events:source": ["ecs-scale-in-drainer"] },
            Null: { "events:source": "false" },
          })
        : "{}";
    const resources = {
      [ResourceKind.Cluster]: [CLUSTER_ARN],
      [ResourceKind.ContainerInstance]: [`${ECS}:container-instance/prod/*`],
      [ResourceKind.Task]: [`${ECS}:task/prod/*`],
      [ResourceKind.Service]: [`${ECS}:service/prod/*`],
      [ResourceKind.EventBus]: [`arn:aws:events:${MOCK_REGION}:${MOCK_ACCOUNT}:event-bus/default`],
      [ResourceKind.AutoScalingGroup]: GROUPS.map(
        (g) =>
          `arn:aws:autoscaling:${MOCK_REGION}:${MOCK_ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/${g}`,
      ),
      [ResourceKind.Any]: ["*"],
    }[resource];
    for (const r of resources) expected.push(`${action} ${r} ${condition}`);
  }
  return expected.sort();
}

describe("IAM policies (Pulumi)", () => {
  const name = "iam";
  let taskPolicy: PolicyDocument;
  let eventsPolicy: PolicyDocument;

  before(async () => {
    installMocks();
    await deploy(name, {
      clusterName: "prod",
      autoscalingGroupNames: GROUPS,
      subnetIds: ["subnet-1"],
      securityGroupIds: ["sg-1"],
    });
    taskPolicy = JSON.parse(one("aws:iam/rolePolicy:RolePolicy", `${name}-task`).inputs.policy);
    eventsPolicy = JSON.parse(
      one("aws:iam/rolePolicy:RolePolicy", `${name}-task-events`).inputs.policy,
    );
  });

  describe("the task role", () => {
    it("is attached to the task role", () => {
      assert.equal(
        one("aws:iam/rolePolicy:RolePolicy", `${name}-task`).inputs.role,
        `${name}-task-1a2b3c4`,
      );
    });

    it("grants exactly the drainer's declared actions, each on its scoped resources, and no more", () => {
      assert.deepEqual(grants(taskPolicy), expectedGrants());
    });

    it("grants the set of declared actions, no other action", () => {
      const actions = taskPolicy.Statement.flatMap((s) => asList(s.Action)).sort();
      assert.deepEqual(actions, DECLARED_ACTIONS.map((a) => a.action).sort());
    });

    it("uses * only for the actions AWS cannot scope", () => {
      const starred = taskPolicy.Statement.filter((s) => asList(s.Resource).includes("*"));
      assert.deepEqual(
        starred.flatMap((s) => asList(s.Action)).sort(),
        DECLARED_ACTIONS.filter((a) => a.resource === ResourceKind.Any)
          .map((a) => a.action)
          .sort(),
      );
      for (const s of starred) assert.deepEqual(asList(s.Resource), ["*"]);
    });

    it("has unique statement IDs", () => {
      const sids = taskPolicy.Statement.map((s) => s.Sid);
      assert.equal(new Set(sids).size, sids.length);
    });

    it("scopes to the cluster ARN's own partition, region and account when given an ARN", () => {
      const scope = resolveClusterScope(
        "arn:aws-cn:ecs:cn-north-1:444455556666:cluster/shared",
        { partition: "aws", region: "us-west-2", accountId: "123456789012" },
        ["g1"],
      );
      const lines = grants(taskRolePolicyDocument(scope)).join("\n");
      assert.match(lines, /arn:aws-cn:ecs:cn-north-1:444455556666:container-instance\/shared\/\*/);
      assert.match(lines, /arn:aws-cn:ecs:cn-north-1:444455556666:task\/shared\/\*/);
      assert.match(
        lines,
        /arn:aws-cn:autoscaling:cn-north-1:444455556666:autoScalingGroup:\*:autoScalingGroupName\/g1/,
      );
      assert.doesNotMatch(lines, /us-west-2|123456789012/);
    });
  });

  describe("the events role", () => {
    it("may run only the drainer's task definition (any revision), only in the cluster", () => {
      const run = eventsPolicy.Statement.filter((s) => asList(s.Action).includes("ecs:RunTask"));
      assert.equal(run.length, 1);
      assert.deepEqual(asList(run[0].Action), ["ecs:RunTask"]);
      assert.deepEqual(asList(run[0].Resource), [`${ECS}:task-definition/${name}-task:*`]);
      assert.deepEqual(run[0].Condition, { ArnEquals: { "ecs:cluster": CLUSTER_ARN } });
    });

    it("may pass exactly the task role and the execution role, to ECS tasks only", () => {
      const pass = eventsPolicy.Statement.filter((s) => asList(s.Action).includes("iam:PassRole"));
      assert.equal(pass.length, 1);
      assert.deepEqual(asList(pass[0].Action), ["iam:PassRole"]);
      assert.deepEqual(asList(pass[0].Resource).sort(), [
        `arn:aws:iam::${MOCK_ACCOUNT}:role/${name}-task-1a2b3c4`,
        `arn:aws:iam::${MOCK_ACCOUNT}:role/${name}-task-execution-1a2b3c4`,
      ]);
      assert.deepEqual(pass[0].Condition, {
        StringLike: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
      });
    });

    it("may tag only the cluster's tasks, and only while RunTask creates them", () => {
      const tag = eventsPolicy.Statement.filter((s) =>
        asList(s.Action).includes("ecs:TagResource"),
      );
      assert.equal(tag.length, 1);
      assert.deepEqual(asList(tag[0].Action), ["ecs:TagResource"]);
      assert.deepEqual(asList(tag[0].Resource), [`${ECS}:task/prod/*`]);
      assert.deepEqual(tag[0].Condition, { StringEquals: { "ecs:CreateAction": "RunTask" } });
    });

    it("allows nothing else", () => {
      assert.deepEqual(
        grants(eventsPolicy).map((g) => g.split(" ")[0]),
        ["ecs:RunTask", "ecs:TagResource", "iam:PassRole", "iam:PassRole"],
      );
    });

    it("is attached to the events role, which EventBridge assumes", () => {
      assert.equal(
        one("aws:iam/rolePolicy:RolePolicy", `${name}-task-events`).inputs.role,
        `${name}-task-events-1a2b3c4`,
      );
      assert.deepEqual(
        JSON.parse(one("aws:iam/role:Role", `${name}-task-events`).inputs.assumeRolePolicy),
        {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: {
                StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT },
                ArnLike: {
                  "aws:SourceArn": `arn:aws:events:${MOCK_REGION}:${MOCK_ACCOUNT}:rule/*`,
                },
              },
            },
          ],
        },
      );
    });

    it("turns a task definition ARN into its family's any-revision ARN", () => {
      assert.equal(
        anyRevisionOf("arn:aws:ecs:us-west-2:1:task-definition/fam:12"),
        "arn:aws:ecs:us-west-2:1:task-definition/fam:*",
      );
    });
  });

  describe("the task and execution roles", () => {
    it("task: only ECS, for tasks of the cluster's account and region, may assume it", () => {
      const trust = JSON.parse(one("aws:iam/role:Role", `${name}-task`).inputs.assumeRolePolicy);
      assert.deepEqual(trust.Statement, [
        {
          Effect: "Allow",
          Principal: { Service: "ecs-tasks.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: {
            StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT },
            ArnLike: { "aws:SourceArn": `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:*` },
          },
        },
      ]);
    });

    it("task-execution: ECS tasks, with the plain trust AWS documents for execution roles", () => {
      const trust = JSON.parse(
        one("aws:iam/role:Role", `${name}-task-execution`).inputs.assumeRolePolicy,
      );
      assert.deepEqual(trust.Statement, [
        {
          Effect: "Allow",
          Principal: { Service: "ecs-tasks.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ]);
    });
  });

  describe("the dead-letter queue", () => {
    it("lets only the drainer's rules send to it, through EventBridge", () => {
      const policy = JSON.parse(
        one("aws:sqs/queuePolicy:QueuePolicy", `${name}-dlq`).inputs.policy,
      );
      const rule = (n: string) => `arn:aws:events:${MOCK_REGION}:${MOCK_ACCOUNT}:rule/${n}-5d6e7f8`;
      assert.deepEqual(policy.Statement, [
        {
          Sid: "DrainerRulesDeadLetters",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: `arn:aws:sqs:${MOCK_REGION}:${MOCK_ACCOUNT}:${name}-dlq-3e4f5a6`,
          Condition: {
            ArnEquals: {
              "aws:SourceArn": [...GROUPS.map((g) => rule(`${name}-${g}`)), rule(`${name}-sweep`)],
            },
          },
        },
      ]);
    });
  });
});
