/**
 * The per-environment program (root Pulumi.yaml): one ScaleInDrainer per stack, from the stack's configuration.
 * `pulumi up -s dev` deploys the `dev` stack; Pulumi.example.yaml documents every key.
 */
import * as pulumi from "@pulumi/pulumi";
import { ScaleInDrainer } from "../scaleInDrainer";
import { StackConfigError, readStackConfig } from "./config";

function stackArgs() {
  try {
    return readStackConfig(pulumi.runtime.allConfig());
  } catch (err) {
    // A RunError is shown without a stack trace: the message names each key and its fix.
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

// The stack is part of the name: the task definition family and the other names stay apart per environment.
const drainer = new ScaleInDrainer(`scale-in-drainer-${pulumi.getStack()}`, stackArgs());

export const taskDefinitionArn = drainer.taskDefinitionArn;
export const taskRoleArn = drainer.taskRoleArn;
export const executionRoleArn = drainer.executionRoleArn;
export const eventsRoleArn = drainer.eventsRoleArn;
export const lifecycleRuleArns = drainer.lifecycleRuleArns;
export const sweepRuleArn = drainer.sweepRuleArn;
export const hookNames = drainer.hookNames;
export const logGroupName = drainer.logGroupName;
export const deadLetterQueueUrl = drainer.deadLetterQueueUrl;
export const imageUri = drainer.imageUri;
