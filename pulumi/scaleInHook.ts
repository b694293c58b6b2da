import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LifecycleResult, TERMINATING_TRANSITION } from "../drainer/src/contract";
import { TARGET_RETRY_POLICY, drainerEcsTarget } from "./ecsTarget";
import { LaunchType } from "./launchType";
import { drainerInputTransformer, lifecycleEventPattern } from "./lifecycleEvent";

export interface ScaleInHookArgs {
  /** The Auto Scaling group that gets the hook. Required. */
  readonly autoscalingGroupName: pulumi.Input<string>;
  /** The lifecycle hook's name. Required. */
  readonly hookName: pulumi.Input<string>;
  /** Seconds the hook holds an instance without a heartbeat (30-7200). Required. */
  readonly heartbeatTimeout: pulumi.Input<number>;
  /** The ECS cluster's ARN, where the drainer's task runs. Required. */
  readonly clusterArn: pulumi.Input<string>;
  /** The drainer's task definition ARN. Required. */
  readonly taskDefinitionArn: pulumi.Input<string>;
  /** The role EventBridge uses to run the task. Required. */
  readonly eventsRoleArn: pulumi.Input<string>;
  /** The SQS queue that receives events whose task could not be started. Required. */
  readonly deadLetterQueueArn: pulumi.Input<string>;
  /** FARGATE or EC2. Required. */
  readonly launchType: LaunchType;
  /** Subnets of the drainer's task. Required. */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security groups of the drainer's task. Required. */
  readonly securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Whether the drainer's Fargate task gets a public IP. Required. */
  readonly assignPublicIp: pulumi.Input<boolean>;
  /** The hook's result when it times out with no drainer answering. Defaults to CONTINUE. */
  readonly defaultResult?: pulumi.Input<LifecycleResult>;
  /**
   * Whether the lifecycle hook is protected: Pulumi then refuses to delete or replace it. Deleting a hook completes
   * every action it holds with CONTINUE, terminating held instances with their tasks. Defaults to true.
   */
  readonly protectHook?: boolean;
  /** Tags for the rule. Defaults to none. */
  readonly tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/**
 * One Auto Scaling group's termination hook, and the EventBridge rule and ECS target that start the drainer for
 * each instance it holds.
 */
export class ScaleInHook extends pulumi.ComponentResource {
  /** The lifecycle hook's name. */
  public readonly hookName: pulumi.Output<string>;
  /** The EventBridge rule's ARN. */
  public readonly ruleArn: pulumi.Output<string>;

  constructor(name: string, args: ScaleInHookArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ecs-scale-in-drainer:index:ScaleInHook", name, {}, opts);

    const rule = new aws.cloudwatch.EventRule(
      name,
      {
        description: pulumi.interpolate`Starts the ECS scale-in drainer for each instance that ${args.autoscalingGroupName} terminates.`,
        eventPattern: pulumi
          .all([args.autoscalingGroupName, args.hookName])
          .apply(([group, hookName]) => JSON.stringify(lifecycleEventPattern(group, hookName))),
        tags: args.tags,
      },
      { parent: this },
    );

    const target = new aws.cloudwatch.EventTarget(
      name,
      {
        rule: rule.name,
        arn: args.clusterArn,
        roleArn: args.eventsRoleArn,
        ecsTarget: drainerEcsTarget(args),
        inputTransformer: drainerInputTransformer(),
        retryPolicy: TARGET_RETRY_POLICY,
        deadLetterConfig: { arn: args.deadLetterQueueArn },
      },
      { parent: this },
    );

    const hook = new aws.autoscaling.LifecycleHook(
      name,
      {
        name: args.hookName,
        autoscalingGroupName: args.autoscalingGroupName,
        lifecycleTransition: TERMINATING_TRANSITION,
        // CONTINUE by default: ABANDON also cancels the instance's other terminate hooks. With a group that retains
        // instances on abandoned terminate hooks, ABANDON keeps an instance whose drainer died (hookDefaultResult).
        defaultResult: args.defaultResult ?? LifecycleResult.Continue,
        heartbeatTimeout: args.heartbeatTimeout,
      },
      // Created last: once the hook holds an instance, its event must already have a rule and a target.
      // Protected by default: DeleteLifecycleHook completes every outstanding action with CONTINUE, so deleting (or
      // replacing: a new hook name) a hook while it holds an instance terminates the instance with its tasks.
      { parent: this, dependsOn: [target], protect: args.protectHook ?? true },
    );

    this.hookName = hook.name;
    this.ruleArn = rule.arn;
    this.registerOutputs({ hookName: this.hookName, ruleArn: this.ruleArn });
  }
}
