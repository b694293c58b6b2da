/**
 * What the component plugin does with a ScaleInDrainer's inputs before it constructs one for another language.
 *
 * Over gRPC every input that comes from another resource (another stack's output, say) arrives as an Output, even at
 * `pulumi up` when its value is known. The component checks such values only when they resolve, after it has
 * registered its children; a value that then fails fails every child property that depends on it, one
 * "error serializing property" each, and the plugin's memory climbs into gigabytes. So the plugin first waits for the
 * values the engine knows (not secrets: those stay unchecked here, so that no message prints them), checks them as
 * the component would, and checks a cluster given by ARN against the AWS provider's partition, region and account:
 * one error, naming the arg, its value and the fix, before anything is registered. The component then gets the
 * inputs as they came, Outputs with their dependencies, except the args that decide which resources exist
 * (MUST_BE_KNOWN), which it needs as plain values. Values a preview does not know yet stay Outputs, checked when they
 * resolve.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { clusterElsewhere, isClusterArn, resolveClusterScope } from "./policies";
import { ArgProblem, MUST_BE_KNOWN, checkScaleInDrainerArgs } from "./validation";
import type { ScaleInDrainerArgs } from "./scaleInDrainer";

/** The known, non-secret value of an input, or undefined when it is unknown or secret. */
async function knownValue(value: unknown): Promise<{ value: unknown } | undefined> {
  if (!pulumi.Output.isInstance(value)) return { value };
  // Output's isKnown and promise() are not in its typings, but are what the runtime itself reads.
  const output = value as pulumi.Output<unknown> & {
    isKnown: Promise<boolean>;
    promise(): Promise<unknown>;
  };
  if (!(await output.isKnown) || (await pulumi.isSecret(output))) return undefined;
  const resolved = await output.promise();
  return pulumi.containsUnknowns(resolved) ? undefined : { value: resolved };
}

/** The AWS provider the component's children would use: the one given for `aws`, if any. */
function awsProvider(
  options: pulumi.ComponentResourceOptions,
): pulumi.ProviderResource | undefined {
  const providers = options.providers;
  if (Array.isArray(providers)) {
    return providers.find(
      (p) => (p as unknown as { getPackage?(): string }).getPackage?.() === "aws",
    );
  }
  return (
    (providers as Record<string, pulumi.ProviderResource> | undefined)?.aws ?? options.provider
  );
}

/** The error the component itself throws for `problems`: one message, and each arg's reason. */
function rejection(name: string, problems: readonly ArgProblem[]): pulumi.InputPropertiesError {
  return new pulumi.InputPropertiesError({
    message: `ScaleInDrainer ${name}: ${problems.map((p) => p.message).join("\n")}`,
    errors: problems.map((p) => ({ propertyPath: p.arg, reason: p.message })),
  });
}

/**
 * The inputs to construct ScaleInDrainer with: as given, with the args that decide which resources exist plain when
 * known. Throws one InputPropertiesError when a known value is invalid, or a cluster given by ARN is not where the
 * AWS provider deploys.
 */
export async function settleScaleInDrainerArgs(
  name: string,
  inputs: Record<string, unknown>,
  options: pulumi.ComponentResourceOptions,
): Promise<ScaleInDrainerArgs> {
  const settled: Record<string, unknown> = {};
  const args: Record<string, unknown> = { ...inputs };
  for (const [key, value] of Object.entries(inputs)) {
    const known = await knownValue(value);
    settled[key] = known ? known.value : value;
    if (known && MUST_BE_KNOWN.includes(key as keyof ScaleInDrainerArgs)) args[key] = known.value;
  }
  const problems = checkScaleInDrainerArgs(settled as unknown as ScaleInDrainerArgs);
  if (problems.length > 0) throw rejection(name, problems);
  const cluster = settled.clusterName;
  const groups = settled.autoscalingGroupNames;
  if (typeof cluster === "string" && isClusterArn(cluster) && Array.isArray(groups)) {
    const invoke = { provider: awsProvider(options) };
    const [partition, region, identity] = await Promise.all([
      aws.getPartition({}, invoke),
      aws.getRegion({}, invoke),
      aws.getCallerIdentity({}, invoke),
    ]);
    const provider = {
      partition: partition.partition,
      region: region.region,
      accountId: identity.accountId,
    };
    const problem = clusterElsewhere(resolveClusterScope(cluster, provider, groups), provider);
    if (problem) throw rejection(name, [{ arg: "clusterName", message: problem }]);
  }
  return args as unknown as ScaleInDrainerArgs;
}
