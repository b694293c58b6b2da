/**
 * What the component plugin does with a ScaleInDrainer's inputs before it constructs one for another language.
 *
 * Over gRPC every input that comes from another resource (another stack's output, say) arrives as an Output, even at
 * `pulumi up` when its value is known. The plugin checks the inputs as the component does (checkResolvedArgs: every
 * value once the engine knows it, and a cluster given by ARN against the AWS provider's partition, region and
 * account) before it constructs the component, so that an invalid value fails the Construct itself: one
 * InputPropertiesError, whose reasons the engine prints by property, and nothing registered. The component then gets
 * the inputs as they came, Outputs with their dependencies, except the args that decide which resources exist
 * (MUST_BE_KNOWN), which it needs as plain values.
 */
import * as pulumi from "@pulumi/pulumi";
import { MUST_BE_KNOWN, checkResolvedArgs, resolveArgs } from "./validation";
import type { ScaleInDrainerArgs } from "./scaleInDrainerArgs";

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
 * The inputs to construct ScaleInDrainer with: as given, with the args that decide which resources exist plain when
 * known. Throws one InputPropertiesError when a value is invalid, or a cluster given by ARN is not where the AWS
 * provider deploys.
 */
export async function settleScaleInDrainerArgs(
  name: string,
  inputs: Record<string, unknown>,
  options: pulumi.ComponentResourceOptions,
): Promise<ScaleInDrainerArgs> {
  await checkResolvedArgs(name, inputs, { provider: awsProvider(options) });
  const deciding = Object.fromEntries(
    MUST_BE_KNOWN.filter((arg) => arg in inputs).map((arg) => [arg, inputs[arg]]),
  );
  const { values } = await resolveArgs(deciding);
  return { ...inputs, ...values } as unknown as ScaleInDrainerArgs;
}
