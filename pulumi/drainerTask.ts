import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, DRAINER_CONTAINER_NAME } from "../drainer/src/contract";
import { CpuArchitecture, DEFAULT_CPU_ARCHITECTURE_ENUM } from "./cpuArchitecture";
import { DEFAULT_LAUNCH_TYPE, LaunchType } from "./launchType";
import { assumeRolePolicyDocument, eventsRolePolicyDocument } from "./policies";

/** One environment variable of the drainer's container. */
export interface DrainerEnvironmentVariable {
  /** The variable's name, e.g. `ECS_CLUSTER`. */
  readonly name: string;
  /** The variable's value. */
  readonly value: string;
}

export interface DrainerTaskArgs {
  /** The drainer image URI the container runs. Required. */
  readonly imageUri: pulumi.Input<string>;
  /** The container's static environment (the drainer's settings). Required. */
  readonly environment: pulumi.Input<pulumi.Input<DrainerEnvironmentVariable>[]>;
  /** The task role's inline policy, as a JSON document. Required. */
  readonly taskRolePolicy: pulumi.Input<string>;
  /** The cluster's ARN: the events role may run the task in this cluster only. Required. */
  readonly clusterArn: pulumi.Input<string>;
  /** The AWS partition (`aws`, `aws-cn`, `aws-us-gov`), for managed policy ARNs. Required. */
  readonly partition: pulumi.Input<string>;
  /** The region the logs are written to. Required. */
  readonly region: pulumi.Input<string>;
  /** The cluster's account: only ECS and EventBridge acting for it may assume the drainer's roles. Required. */
  readonly accountId: pulumi.Input<string>;
  /** The task's CPU units. Defaults to 256. */
  readonly cpu?: pulumi.Input<number>;
  /** The task's memory in MiB. Defaults to 512. */
  readonly memory?: pulumi.Input<number>;
  /** Days CloudWatch Logs keeps the drainer's logs. Defaults to 30. */
  readonly logRetentionDays?: pulumi.Input<number>;
  /** FARGATE or EC2. Defaults to FARGATE. */
  readonly launchType?: LaunchType;
  /** The task's CPU architecture: X86_64 or ARM64. Defaults to X86_64. */
  readonly cpuArchitecture?: CpuArchitecture;
  /** An IAM policy ARN set as the permissions boundary of the three roles. Defaults to none. */
  readonly permissionsBoundary?: pulumi.Input<string>;
  /** The IAM path of the three roles. Defaults to "/". */
  readonly rolePath?: pulumi.Input<string>;
  /** A KMS key ARN that encrypts the log group. Defaults to none (CloudWatch Logs' own encryption). */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /** Tags for every resource. Defaults to none. */
  readonly tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/**
 * The drainer's task definition with its log group and roles: the task role (the drainer's own permissions), the
 * execution role (image pull and logs), and the events role that lets EventBridge run this task in this cluster.
 */
export class DrainerTask extends pulumi.ComponentResource {
  /** The task definition's ARN (with its revision). */
  public readonly taskDefinitionArn: pulumi.Output<string>;
  /** The task definition's family. */
  public readonly family: pulumi.Output<string>;
  /** The task role's ARN: what the drainer itself may do. */
  public readonly taskRoleArn: pulumi.Output<string>;
  /** The execution role's ARN: what ECS may do to start the task (pull the image, write logs). */
  public readonly executionRoleArn: pulumi.Output<string>;
  /** The events role's ARN: what EventBridge may do to run the task. */
  public readonly eventsRoleArn: pulumi.Output<string>;
  /** The CloudWatch Logs group the drainer writes to. */
  public readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: DrainerTaskArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ecs-scale-in-drainer:index:DrainerTask", name, {}, opts);
    const launchType = args.launchType ?? DEFAULT_LAUNCH_TYPE;
    const trust = (service: string) =>
      pulumi
        .all([args.partition, args.region, args.accountId])
        .apply(([partition, region, accountId]) =>
          JSON.stringify(assumeRolePolicyDocument(service, { partition, region, accountId })),
        );

    const logGroup = new aws.cloudwatch.LogGroup(
      name,
      {
        retentionInDays: args.logRetentionDays ?? DEFAULTS.logRetentionDays,
        kmsKeyId: args.kmsKeyArn,
        tags: args.tags,
      },
      { parent: this },
    );

    const taskRole = new aws.iam.Role(
      name,
      {
        description: "The ECS scale-in drainer: drains container instances of one cluster.",
        assumeRolePolicy: trust("ecs-tasks.amazonaws.com"),
        permissionsBoundary: args.permissionsBoundary,
        path: args.rolePath,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      name,
      { role: taskRole.name, policy: args.taskRolePolicy },
      { parent: this },
    );

    // The execution role only pulls the image and writes logs. AWS's managed policy does exactly that; a prebuilt
    // image may live in any ECR repository, so a policy scoped to one repository would break that use.
    const executionRole = new aws.iam.Role(
      `${name}-execution`,
      {
        description: "Starts the ECS scale-in drainer's task: pulls its image, writes its logs.",
        // AWS's execution role guide (task_execution_IAM_role.html) gives no confused-deputy condition for it, and one
        // ECS did not meet would stop every drainer from starting: the plain trust, for a role that only pulls and logs.
        assumeRolePolicy: JSON.stringify(assumeRolePolicyDocument("ecs-tasks.amazonaws.com")),
        permissionsBoundary: args.permissionsBoundary,
        path: args.rolePath,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-execution`,
      {
        role: executionRole.name,
        policyArn: pulumi.interpolate`arn:${args.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
      },
      { parent: this },
    );

    const taskDefinition = new aws.ecs.TaskDefinition(
      name,
      {
        family: name,
        networkMode: "awsvpc",
        requiresCompatibilities: [launchType],
        cpu: pulumi.output(args.cpu ?? DEFAULTS.cpu).apply(String),
        memory: pulumi.output(args.memory ?? DEFAULTS.memory).apply(String),
        runtimePlatform: {
          operatingSystemFamily: "LINUX",
          cpuArchitecture: args.cpuArchitecture ?? DEFAULT_CPU_ARCHITECTURE_ENUM,
        },
        taskRoleArn: taskRole.arn,
        executionRoleArn: executionRole.arn,
        containerDefinitions: pulumi.jsonStringify([
          {
            name: DRAINER_CONTAINER_NAME,
            image: args.imageUri,
            essential: true,
            user: "1000",
            readonlyRootFilesystem: true,
            environment: args.environment,
            logConfiguration: {
              logDriver: "awslogs",
              options: {
                "awslogs-group": logGroup.name,
                "awslogs-region": args.region,
                "awslogs-stream-prefix": DRAINER_CONTAINER_NAME,
              },
            },
          },
        ]),
        tags: args.tags,
      },
      { parent: this },
    );

    const eventsRole = new aws.iam.Role(
      `${name}-events`,
      {
        description: "Lets EventBridge run the ECS scale-in drainer's task.",
        assumeRolePolicy: trust("events.amazonaws.com"),
        permissionsBoundary: args.permissionsBoundary,
        path: args.rolePath,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-events`,
      {
        role: eventsRole.name,
        policy: pulumi
          .all([taskDefinition.arn, args.clusterArn, taskRole.arn, executionRole.arn])
          .apply(([taskDefinitionArn, clusterArn, taskRoleArn, executionRoleArn]) =>
            JSON.stringify(
              eventsRolePolicyDocument({
                taskDefinitionArn,
                clusterArn,
                taskRoleArn,
                executionRoleArn,
              }),
            ),
          ),
      },
      { parent: this },
    );

    this.taskDefinitionArn = taskDefinition.arn;
    this.family = taskDefinition.family;
    this.taskRoleArn = taskRole.arn;
    this.executionRoleArn = executionRole.arn;
    this.eventsRoleArn = eventsRole.arn;
    this.logGroupName = logGroup.name;
    this.registerOutputs({
      taskDefinitionArn: this.taskDefinitionArn,
      family: this.family,
      taskRoleArn: this.taskRoleArn,
      executionRoleArn: this.executionRoleArn,
      eventsRoleArn: this.eventsRoleArn,
      logGroupName: this.logGroupName,
    });
  }
}
