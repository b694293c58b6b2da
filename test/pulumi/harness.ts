/**
 * Pulumi mocks for the component tests: records every resource the program registers, answers the three AWS data
 * sources the component reads, and throws on any other call. Import this module BEFORE the component.
 *
 * Other suites (e.g. the Terraform parity test) may use it too: `installMocks()` in a `before` hook re-installs
 * these mocks in case another suite installed its own.
 */
import * as pulumi from "@pulumi/pulumi";

/** The account, region and partition the mocked data sources answer. */
export const MOCK_ACCOUNT = "123456789012";
export const MOCK_REGION = "us-west-2";
export const MOCK_PARTITION = "aws";

/** One registered resource. */
export interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly custom: boolean;
  /** Filled by `settle()`: the type of the resource's parent, from its URN ("" for none). */
  parentType: string;
}

/** Every resource registered since the last `reset()`. */
export const recorded: Recorded[] = [];
/** Every data source call since the last `reset()`. */
export const calls: { token: string; inputs: any }[] = [];

/** The outputs a mocked resource gets beyond its inputs: ARNs, names, URLs. */
function outputsOf(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${MOCK_REGION}:${MOCK_ACCOUNT}:${resource}`;
  switch (type) {
    case "aws:iam/role:Role": {
      const roleName = inputs.name ?? `${name}-1a2b3c4`;
      return { name: roleName, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${roleName}` };
    }
    case "aws:ecs/taskDefinition:TaskDefinition":
      return { arn: arn("ecs", `task-definition/${inputs.family}:7`), revision: 7 };
    case "aws:cloudwatch/eventRule:EventRule": {
      const ruleName = inputs.name ?? `${name}-5d6e7f8`;
      return { name: ruleName, arn: arn("events", `rule/${ruleName}`) };
    }
    case "aws:cloudwatch/logGroup:LogGroup": {
      const groupName = inputs.name ?? `${name}-9a8b7c6`;
      return { name: groupName, arn: arn("logs", `log-group:${groupName}`) };
    }
    case "aws:sqs/queue:Queue": {
      const queueName = inputs.name ?? `${name}-3e4f5a6`;
      return {
        name: queueName,
        arn: arn("sqs", queueName),
        url: `https://sqs.${MOCK_REGION}.amazonaws.com/${MOCK_ACCOUNT}/${queueName}`,
      };
    }
    case "awsx:ecr:Repository":
      return { url: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/${name}-0f1e2d3` };
    case "awsx:ecr:Image":
      return { imageUri: `${inputs.repositoryUrl}@sha256:${"ab".repeat(32)}` };
    default:
      return {};
  }
}

const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    recorded.push({
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      custom: args.custom ?? false,
      parentType: "",
    });
    const state = { ...args.inputs, ...outputsOf(args.type, args.name, args.inputs) };
    return { id: args.custom ? `${args.name}-id` : undefined, state };
  },
  call(args) {
    calls.push({ token: args.token, inputs: args.inputs });
    switch (args.token) {
      case "aws:index/getPartition:getPartition":
        return { partition: MOCK_PARTITION, dnsSuffix: "amazonaws.com", id: MOCK_PARTITION };
      case "aws:index/getRegion:getRegion":
        return { region: MOCK_REGION, name: MOCK_REGION, id: MOCK_REGION };
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          accountId: MOCK_ACCOUNT,
          arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/test`,
          userId: "AIDATEST",
          id: MOCK_ACCOUNT,
        };
      default:
        throw new Error(`unexpected call to ${args.token} from the component under test`);
    }
  },
};

/** Installs the recording mocks (project `ecs-scale-in-drainer`, stack `test`). */
export function installMocks(): void {
  void pulumi.runtime.setMocks(mocks, "ecs-scale-in-drainer", "test", false);
}
installMocks();

/** Forgets what was recorded. */
export function reset(): void {
  recorded.length = 0;
  calls.length = 0;
}

/**
 * Waits until every registration and apply the program started has finished (the runtime's own "RPCs done" chain,
 * which `pulumi up` waits on too), then fills each record's parent type from the registered URNs.
 */
export async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const state = require("@pulumi/pulumi/runtime/state");
  const store = state.getStore();
  for (;;) {
    const done = store.settings.rpcDone;
    await done;
    await new Promise((resolve) => setImmediate(resolve));
    if (done === store.settings.rpcDone) break;
  }
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    getRegisteredResources(): Map<string, unknown>;
  };
  const urns = [...monitor.getRegisteredResources().keys()];
  for (const r of recorded) {
    const urn = urns.find((u) => {
      const [, , qualifiedType, name] = u.split("::");
      return name === r.name && qualifiedType.split("$").pop() === r.type;
    });
    if (!urn) throw new Error(`no URN registered for ${r.type} ${r.name}`);
    const types = urn.split("::")[2].split("$");
    r.parentType = types.length > 1 ? types[types.length - 2] : "";
  }
}

/** The value of an Output, once known. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** The one recorded resource of `type` named `name`; throws when there is not exactly one. */
export function one(type: string, name: string): Recorded {
  const found = recorded.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type} named ${name}, found ${found.length}; recorded: ${recorded.map((r) => `${r.type} ${r.name}`).join(", ")}`,
    );
  }
  return found[0];
}

/** Every recorded resource as `type name`, sorted: the exact set of children. */
export function inventory(): string[] {
  return recorded.map((r) => `${r.type} ${r.name}`).sort();
}
