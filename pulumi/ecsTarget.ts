/**
 * The parts of an EventBridge ECS target that the per-group targets and the sweep target share.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LaunchType } from "./launchType";

/**
 * The retry policy of every drainer target. RunTask can fail for a while (capacity, throttling); a drainer started
 * late is harmless (an action already completed is "already done"), so retries span an hour. Events that still
 * fail go to the dead-letter queue.
 */
export const TARGET_RETRY_POLICY = {
  maximumEventAgeInSeconds: 3600,
  maximumRetryAttempts: 10,
} as const;

/** Where and how a target runs the drainer's task. */
export interface DrainerTargetArgs {
  readonly taskDefinitionArn: pulumi.Input<string>;
  readonly launchType: LaunchType;
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly assignPublicIp: pulumi.Input<boolean>;
}

/** The ECS parameters of a drainer target: one task, in awsvpc mode, on Fargate (latest platform) or EC2. */
export function drainerEcsTarget(
  args: DrainerTargetArgs,
): aws.types.input.cloudwatch.EventTargetEcsTarget {
  const fargate = args.launchType === LaunchType.Fargate;
  return {
    taskDefinitionArn: args.taskDefinitionArn,
    taskCount: 1,
    launchType: args.launchType,
    ...(fargate ? { platformVersion: "LATEST" } : {}),
    // The drainer's tasks carry the task definition's tags (the events role may tag them at launch only).
    propagateTags: "TASK_DEFINITION",
    networkConfiguration: {
      subnets: args.subnetIds,
      securityGroups: args.securityGroupIds,
      // EC2 tasks in awsvpc mode cannot have a public IP; validation rejects true for EC2.
      assignPublicIp: fargate ? args.assignPublicIp : false,
    },
  };
}
