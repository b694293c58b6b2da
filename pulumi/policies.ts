/**
 * The IAM documents the component attaches, as pure functions of plain values.
 *
 * The component applies them to resolved outputs; the tests (and the Terraform parity test) call them directly. The
 * task role's policy is built from the drainer's DECLARED_ACTIONS and nothing else.
 */
import { DECLARED_ACTIONS, DRAIN_EVENTS, ResourceKind } from "../drainer/src/contract";

/** An IAM policy document. */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** One statement of an IAM policy document. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow";
  Principal?: { Service: string };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** Where the drainer works: the cluster and the Auto Scaling groups, with the partition, region and account. */
export interface ClusterScope {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly autoscalingGroupNames: readonly string[];
}

const CLUSTER_ARN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):cluster\/([A-Za-z0-9_-]{1,255})$/;

/** True when `value` is an ECS cluster ARN (`arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME`). */
export function isClusterArn(value: string): boolean {
  return CLUSTER_ARN.test(value);
}

/**
 * The scope of a cluster given by name or ARN. An ARN's own partition, region and account win over the
 * provider's: the container instances and tasks the drainer touches live where the cluster lives.
 */
export function resolveClusterScope(
  clusterNameOrArn: string,
  provider: { partition: string; region: string; accountId: string },
  autoscalingGroupNames: readonly string[],
): ClusterScope {
  const arn = CLUSTER_ARN.exec(clusterNameOrArn);
  if (arn) {
    const [, partition, region, accountId, clusterName] = arn;
    return {
      partition,
      region,
      accountId,
      clusterName,
      clusterArn: clusterNameOrArn,
      autoscalingGroupNames,
    };
  }
  const { partition, region, accountId } = provider;
  return {
    partition,
    region,
    accountId,
    clusterName: clusterNameOrArn,
    clusterArn: `arn:${partition}:ecs:${region}:${accountId}:cluster/${clusterNameOrArn}`,
    autoscalingGroupNames,
  };
}

/**
 * Why a cluster given by ARN cannot work from where the AWS provider deploys, or undefined. ECS runs only task
 * definitions of its own account and region, and the log group, roles and rules are created in the provider's.
 */
export function clusterElsewhere(
  scope: ClusterScope,
  provider: { partition: string; region: string; accountId: string },
): string | undefined {
  if (
    scope.partition === provider.partition &&
    scope.region === provider.region &&
    scope.accountId === provider.accountId
  ) {
    return undefined;
  }
  const sameAccount =
    scope.partition === provider.partition && scope.accountId === provider.accountId;
  const fix = sameAccount
    ? `Set \`aws:region\` to ${scope.region} (pulumi config set aws:region ${scope.region}), or give ScaleInDrainer an AWS provider for ${scope.region} (opts.providers), or give the cluster by name.`
    : `Give ScaleInDrainer an AWS provider for the cluster's region and account (opts.providers), or give the cluster by name.`;
  return `\`clusterName\` is ${JSON.stringify(scope.clusterArn)}, a cluster in ${scope.partition} ${scope.region}, account ${scope.accountId}, but the AWS provider deploys to ${provider.partition} ${provider.region}, account ${provider.accountId}: ECS runs only task definitions of its own account and region. ${fix}`;
}

/** The ARN of an Auto Scaling group, by name (any group ID). */
export function autoscalingGroupArn(scope: ClusterScope, groupName: string): string {
  return `arn:${scope.partition}:autoscaling:${scope.region}:${scope.accountId}:autoScalingGroup:*:autoScalingGroupName/${groupName}`;
}

/** The resources a declared action of `kind` may touch, in `scope`. */
export function resourcesOf(kind: ResourceKind, scope: ClusterScope): string[] {
  const ecs = `arn:${scope.partition}:ecs:${scope.region}:${scope.accountId}`;
  switch (kind) {
    case ResourceKind.Cluster:
      return [scope.clusterArn];
    case ResourceKind.ContainerInstance:
      return [`${ecs}:container-instance/${scope.clusterName}/*`];
    case ResourceKind.Task:
      return [`${ecs}:task/${scope.clusterName}/*`];
    case ResourceKind.AutoScalingGroup:
      return scope.autoscalingGroupNames.map((name) => autoscalingGroupArn(scope, name));
    case ResourceKind.Service:
      return [`${ecs}:service/${scope.clusterName}/*`];
    case ResourceKind.EventBus:
      return [`arn:${scope.partition}:events:${scope.region}:${scope.accountId}:event-bus/default`];
    case ResourceKind.Any:
      return ["*"];
  }
}

const SIDS: Record<ResourceKind, string> = {
  [ResourceKind.Cluster]: "Cluster",
  [ResourceKind.ContainerInstance]: "ContainerInstances",
  [ResourceKind.Task]: "Tasks",
  [ResourceKind.AutoScalingGroup]: "LifecycleActionsOfGroups",
  [ResourceKind.Service]: "Services",
  [ResourceKind.EventBus]: "DrainEventsOnTheDefaultBus",
  [ResourceKind.Any]: "ReadsWithoutResourceLevelPermissions",
};

/**
 * The task role's inline policy: one statement per resource kind of DECLARED_ACTIONS (in the order the actions are
 * declared), each scoped to that kind's resources in `scope`, with `ecs:cluster` = the cluster ARN where the action
 * declares it. Only actions of kind `*` (those AWS cannot scope) get `*`.
 */
export function taskRolePolicyDocument(scope: ClusterScope): PolicyDocument {
  const groups = new Map<string, { kind: ResourceKind; condition: boolean; actions: string[] }>();
  for (const declared of DECLARED_ACTIONS) {
    const key = `${declared.resource}|${declared.clusterCondition}`;
    const group = groups.get(key) ?? {
      kind: declared.resource,
      condition: declared.clusterCondition,
      actions: [],
    };
    group.actions.push(declared.action);
    groups.set(key, group);
  }
  const statements: PolicyStatement[] = [];
  for (const { kind, condition, actions } of groups.values()) {
    statements.push({
      Sid: SIDS[kind] + (condition ? "InCluster" : ""),
      Effect: "Allow",
      Action: actions,
      Resource: resourcesOf(kind, scope),
      ...(condition ? { Condition: { ArnEquals: { "ecs:cluster": scope.clusterArn } } } : {}),
      // Events with the drainer's own source only: it cannot pose as another service on the bus. events:source is
      // multivalued (one value per entry), so every entry's source must be it, and there must be one.
      ...(kind === ResourceKind.EventBus
        ? {
            Condition: {
              "ForAllValues:StringEquals": { "events:source": [DRAIN_EVENTS.source] },
              Null: { "events:source": "false" },
            },
          }
        : {}),
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/** What the events role may run and pass. */
export interface EventsRoleScope {
  /** The task definition's ARN, with or without its `:revision`. The policy allows every revision. */
  readonly taskDefinitionArn: string;
  readonly clusterArn: string;
  readonly taskRoleArn: string;
  readonly executionRoleArn: string;
}

/** A task definition ARN with its revision replaced by `*`: the family, any revision. */
export function anyRevisionOf(taskDefinitionArn: string): string {
  return taskDefinitionArn.replace(/:\d+$/, "") + ":*";
}

/** The ARN pattern of the tasks of the cluster `clusterArn` (`arn:...:cluster/NAME` -> `arn:...:task/NAME/*`). */
export function clusterTasksArn(clusterArn: string): string {
  return clusterArn.replace(/:cluster\/([^/]+)$/, ":task/$1/*");
}

/**
 * The events role's policy: `ecs:RunTask` on the drainer's task definition (any revision) in the cluster only,
 * `iam:PassRole` on exactly the task role and the execution role, passed to ECS tasks only, and `ecs:TagResource`
 * on the cluster's tasks while RunTask creates them: the targets propagate the task definition's tags to the
 * drainer's tasks, and ECS authorizes tags given at launch as TagResource with `ecs:CreateAction` (AWS's
 * AmazonEC2ContainerServiceEventsRole, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html,
 * grants it on `*` with that condition).
 */
export function eventsRolePolicyDocument(scope: EventsRoleScope): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "RunDrainerTaskInCluster",
        Effect: "Allow",
        Action: "ecs:RunTask",
        Resource: anyRevisionOf(scope.taskDefinitionArn),
        Condition: { ArnEquals: { "ecs:cluster": scope.clusterArn } },
      },
      {
        Sid: "PassDrainerRoles",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: [scope.taskRoleArn, scope.executionRoleArn],
        Condition: { StringLike: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
      {
        Sid: "TagDrainerTasksAtLaunch",
        Effect: "Allow",
        Action: "ecs:TagResource",
        Resource: clusterTasksArn(scope.clusterArn),
        Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } },
      },
    ],
  };
}

/** Where the services that assume the drainer's roles act: the cluster's partition, region and account. */
export interface TrustScope {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/** The ARNs each trusted service acts for, as `aws:SourceArn` carries them when it assumes a role. */
const SOURCE_ARNS: Record<string, (s: TrustScope) => string> = {
  // ECS: its tasks in the account and region (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).
  "ecs-tasks.amazonaws.com": (s) => `arn:${s.partition}:ecs:${s.region}:${s.accountId}:*`,
  // EventBridge: the rule whose target it invokes.
  "events.amazonaws.com": (s) => `arn:${s.partition}:events:${s.region}:${s.accountId}:rule/*`,
};

/**
 * The trust policy of a role that `service` (e.g. `ecs-tasks.amazonaws.com`) assumes. Given a `scope`, with the
 * confused-deputy conditions AWS recommends: the service may assume it only on behalf of the cluster's own account
 * (`aws:SourceAccount`) and of its resources there (`aws:SourceArn`), so that no other account can have the service
 * use it (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). Without, the plain trust.
 */
export function assumeRolePolicyDocument(service: string, scope?: TrustScope): PolicyDocument {
  const sourceArn = SOURCE_ARNS[service];
  if (scope && !sourceArn) throw new Error(`no source ARN is known for ${service}`);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(scope
          ? {
              Condition: {
                StringEquals: { "aws:SourceAccount": scope.accountId },
                ArnLike: { "aws:SourceArn": sourceArn(scope) },
              },
            }
          : {}),
      },
    ],
  };
}

/** The dead-letter queue's policy: EventBridge may send to it on behalf of these rules only. */
export function deadLetterQueuePolicyDocument(
  queueArn: string,
  ruleArns: readonly string[],
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DrainerRulesDeadLetters",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": [...ruleArns] } },
      },
    ],
  };
}

/** The task-failures queue's policy: only the rule that matches the drainer's failed tasks may send to it. */
export function taskFailuresQueuePolicyDocument(queueArn: string, ruleArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DrainerTaskFailures",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
      },
    ],
  };
}
