/**
 * What the component plugin does with a ScaleInDrainer's inputs before it constructs one for another language.
 *
 * Over gRPC every input that comes from another resource (another stack's output, say) arrives as an Output, even at
 * `pulumi up` when its value is known. The component checks such values only when they resolve, after it has
 * registered its children; a value that then fails fails every child property that depends on it, one
 * "error serializing property" each, and the plugin's memory climbs into gigabytes. So the plugin first waits for the
 * values the engine knows (not secrets: those stay Outputs, so that no message prints them), hands them to the
 * component as plain values, which checks them before it registers anything, and checks a cluster given by ARN against
 * the AWS provider's partition, region and account the same way: one error, naming the arg, its value and the fix.
 * Values a preview does not know yet stay Outputs, checked when they resolve.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { clusterElsewhere, isClusterArn, resolveClusterScope } from "./policies";
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

/**
 * The inputs with every known, non-secret value plain; throws one InputPropertiesError when a cluster given by ARN
 * is not where the AWS provider deploys.
 */
export async function settleScaleInDrainerArgs(
  name: string,
  inputs: Record<string, unknown>,
  options: pulumi.ComponentResourceOptions,
): Promise<ScaleInDrainerArgs> {
  const settled: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    const known = await knownValue(value);
    settled[key] = known ? known.value : value;
  }
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
    if (problem) {
      throw new pulumi.InputPropertiesError({
        message: `ScaleInDrainer ${name}: ${problem}`,
        errors: [{ propertyPath: "clusterName", reason: problem }],
      });
    }
  }
  return settled as unknown as ScaleInDrainerArgs;
}
