import { strict as assert } from "assert";
import { installMocks, one } from "./harness";
import { deploy } from "./deploy";
import { parseConfig } from "../../drainer/src/config";
import {
  DRAINER_CONTAINER_NAME,
  EVENT_ENVIRONMENT,
  LifecycleResult,
} from "../../drainer/src/contract";
import { SAMPLE_EVENT, applyInputTransformer, patternMatches } from "./sampleEvent";

/** A variable of a container's environment, as ECS takes it. */
type Variable = { name: string; value: string };

describe("the lifecycle event and the drainer's environment (Pulumi)", () => {
  const name = "event";
  let transformer: { inputPaths: Record<string, string>; inputTemplate: string };
  let staticEnvironment: Variable[];
  let pattern: unknown;

  before(async () => {
    installMocks();
    await deploy(name, {
      clusterName: "prod",
      autoscalingGroupNames: [SAMPLE_EVENT.detail.AutoScalingGroupName, "other-asg"],
      hookName: SAMPLE_EVENT.detail.LifecycleHookName,
      subnetIds: ["subnet-1"],
      securityGroupIds: ["sg-1"],
      timeoutResult: LifecycleResult.Abandon,
      pollInterval: 5,
      ecsReadsPerSecond: 30,
    });
    transformer = one("aws:cloudwatch/eventTarget:EventTarget", `${name}-my-asg`).inputs
      .inputTransformer;
    staticEnvironment = JSON.parse(
      one("aws:ecs/taskDefinition:TaskDefinition", `${name}-task`).inputs.containerDefinitions,
    )[0].environment;
    pattern = JSON.parse(
      one("aws:cloudwatch/eventRule:EventRule", `${name}-my-asg`).inputs.eventPattern,
    );
  });

  describe("the input transformer", () => {
    it("reads exactly the contract's event fields, never free text such as NotificationMetadata", () => {
      assert.deepEqual(
        transformer.inputPaths,
        Object.fromEntries(EVENT_ENVIRONMENT.map((e) => [e.placeholder, e.path])),
      );
      assert.doesNotMatch(JSON.stringify(transformer), /NotificationMetadata/);
    });

    it("leaves the placeholders unquoted, for EventBridge to quote", () => {
      for (const { placeholder } of EVENT_ENVIRONMENT) {
        assert.ok(transformer.inputTemplate.includes(`"value":<${placeholder}>`), placeholder);
        assert.ok(!transformer.inputTemplate.includes(`"<${placeholder}>"`), placeholder);
      }
    });

    it("filled from the sample event, is valid JSON of the RunTask TaskOverride shape", () => {
      const overrides = JSON.parse(applyInputTransformer(transformer, SAMPLE_EVENT));
      assert.deepEqual(overrides, {
        containerOverrides: [
          {
            name: DRAINER_CONTAINER_NAME,
            environment: [
              { name: "EC2_INSTANCE_ID", value: "i-1234567890abcdef0" },
              { name: "AUTOSCALING_GROUP_NAME", value: "my-asg" },
              { name: "LIFECYCLE_HOOK_NAME", value: "my-hook" },
              { name: "LIFECYCLE_ACTION_TOKEN", value: "87654321-4321-4321-4321-210987654321" },
              { name: "EVENT_ORIGIN", value: "AutoScalingGroup" },
              { name: "EVENT_DESTINATION", value: "EC2" },
              // Not in this event (only a root-volume replacement has an Action): null, which reads as unset.
              { name: "EVENT_ACTION", value: null },
            ],
          },
        ],
      });
    });

    it("with the container's static environment, gives a configuration the drainer accepts in event mode", () => {
      const overrides = JSON.parse(applyInputTransformer(transformer, SAMPLE_EVENT));
      // RunTask: an override replaces the variable of the same name, the others stay.
      const vars: Record<string, string> = {};
      for (const v of staticEnvironment) vars[v.name] = v.value;
      for (const v of overrides.containerOverrides[0].environment as Variable[]) {
        vars[v.name] = v.value;
      }
      const config = parseConfig(vars);
      assert.equal(config.mode, "event");
      assert.equal(config.cluster, "prod");
      assert.equal(config.instanceId, SAMPLE_EVENT.detail.EC2InstanceId);
      assert.equal(config.asg, SAMPLE_EVENT.detail.AutoScalingGroupName);
      assert.equal(config.hook, SAMPLE_EVENT.detail.LifecycleHookName);
      assert.equal(config.token, SAMPLE_EVENT.detail.LifecycleActionToken);
      assert.equal(config.pollIntervalSeconds, 5);
      assert.equal(config.ecsReadsPerSecond, 30);
      assert.equal(config.timeoutResult, LifecycleResult.Abandon);
    });

    it("without overrides (the sweep), the static environment alone gives sweep mode over every group", () => {
      const vars = Object.fromEntries(staticEnvironment.map((v) => [v.name, v.value]));
      const config = parseConfig(vars);
      assert.equal(config.mode, "sweep");
      assert.deepEqual(config.asgs, ["my-asg", "other-asg"]);
      assert.equal(config.hook, "my-hook");
    });

    it("the sweep target really sends no overrides", () => {
      const sweep = one("aws:cloudwatch/eventTarget:EventTarget", `${name}-sweep`).inputs;
      assert.equal(sweep.inputTransformer, undefined);
      assert.equal(sweep.input, undefined);
      assert.equal(sweep.inputPath, undefined);
    });
  });

  describe("the event pattern", () => {
    it("selects the sample event", () => {
      assert.equal(patternMatches(pattern, SAMPLE_EVENT), true);
    });

    it("does not select the same event for another group", () => {
      const other = {
        ...SAMPLE_EVENT,
        detail: { ...SAMPLE_EVENT.detail, AutoScalingGroupName: "other-asg" },
      };
      assert.equal(patternMatches(pattern, other), false);
      // ... which the other group's own rule selects.
      const otherPattern = JSON.parse(
        one("aws:cloudwatch/eventRule:EventRule", `${name}-other-asg`).inputs.eventPattern,
      );
      assert.equal(patternMatches(otherPattern, other), true);
      assert.equal(patternMatches(otherPattern, SAMPLE_EVENT), false);
    });

    it("does not select the same event for another hook", () => {
      const other = {
        ...SAMPLE_EVENT,
        detail: {
          ...SAMPLE_EVENT.detail,
          LifecycleHookName: "ecs-managed-draining-termination-hook",
        },
      };
      assert.equal(patternMatches(pattern, other), false);
    });

    it("does not select a launch lifecycle action or another source", () => {
      assert.equal(
        patternMatches(pattern, {
          ...SAMPLE_EVENT,
          "detail-type": "EC2 Instance-launch Lifecycle Action",
        }),
        false,
      );
      assert.equal(patternMatches(pattern, { ...SAMPLE_EVENT, source: "aws.ec2" }), false);
    });
  });
});
