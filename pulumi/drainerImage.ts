import * as awsx from "@pulumi/awsx";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/**
 * This package's root: the nearest directory above `dir` that holds package.json. The component runs from its
 * source (`pulumi/`) or compiled (`lib/pulumi/`, what `require("ecs-scale-in-drainer")` loads), one level deeper.
 */
function packageRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "package.json"))) return d;
    if (path.dirname(d) === d) throw new Error(`no package.json above ${dir}`);
  }
}

/** The directory holding `drainer/Dockerfile`: the build context (this package's root). */
export const DRAINER_BUILD_CONTEXT = packageRoot(__dirname);

/** The platform the drainer image is built for by default; the task definition asks for the same (Linux, x86_64). */
export const DRAINER_IMAGE_PLATFORM = "linux/amd64";

export interface DrainerImageArgs {
  /**
   * A prebuilt drainer image URI, e.g. `123456789012.dkr.ecr.us-west-2.amazonaws.com/ecs-scale-in-drainer:1.0.0`.
   * When set, nothing is built or created. Defaults to building `drainer/Dockerfile` into a new ECR repository
   * (needs Docker where `pulumi up` runs).
   */
  readonly imageUri?: pulumi.Input<string>;
  /**
   * The Docker platform the image is built for, the task definition's architecture (`linux/amd64` or `linux/arm64`).
   * Ignored for a prebuilt image. Defaults to "linux/amd64".
   */
  readonly platform?: string;
  /** Tags for the ECR repository. Defaults to none. */
  readonly tags?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
}

/**
 * The drainer's container image: a prebuilt URI as given, or `drainer/Dockerfile` built with awsx and pushed to an
 * ECR repository of its own.
 */
export class DrainerImage extends pulumi.ComponentResource {
  /** The image URI the task definition runs. */
  public readonly imageUri: pulumi.Output<string>;
  /** The ECR repository's URL when the image is built here; undefined for a prebuilt image. */
  public readonly repositoryUrl: pulumi.Output<string | undefined>;

  constructor(name: string, args: DrainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ecs-scale-in-drainer:index:DrainerImage", name, {}, opts);

    if (args.imageUri !== undefined) {
      this.imageUri = pulumi.output(args.imageUri);
      this.repositoryUrl = pulumi.output(undefined);
    } else {
      const repository = new awsx.ecr.Repository(
        name,
        { forceDelete: true, tags: args.tags },
        { parent: this },
      );
      // Run from this repository (its own Pulumi.yaml), the paths are relative and the same on every machine.
      // Run from a program that depends on this package, the Dockerfile's path is absolute: it then means the
      // same file whether the builder reads it relative to the working directory or to the context.
      const context = path.relative(process.cwd(), DRAINER_BUILD_CONTEXT) || ".";
      const dockerfile =
        context === "."
          ? path.join("drainer", "Dockerfile")
          : path.join(DRAINER_BUILD_CONTEXT, "drainer", "Dockerfile");
      const image = new awsx.ecr.Image(
        name,
        {
          repositoryUrl: repository.url,
          context,
          dockerfile,
          platform: args.platform ?? DRAINER_IMAGE_PLATFORM,
        },
        { parent: this },
      );
      this.imageUri = image.imageUri;
      this.repositoryUrl = repository.url;
    }

    this.registerOutputs({ imageUri: this.imageUri, repositoryUrl: this.repositoryUrl });
  }
}
