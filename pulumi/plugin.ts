/**
 * The component plugin's entry point: what Pulumi runs when another program uses this package
 * (`pulumi package add`). package.json's `main` names its compiled form, lib/pulumi/plugin.js.
 *
 * How Pulumi starts it (pulumi/pulumi, sdk/nodejs/cmd/pulumi-language-nodejs/main.go, `RunPlugin`): the nodejs
 * language host runs `node <plugin dir>/node_modules/@pulumi/pulumi/cmd/run-plugin <plugin dir> <engine address>` in
 * the *consumer's* project directory. run-plugin (sdk/nodejs/cmd/run-plugin/run.ts) registers ts-node with the
 * consumer's tsconfig.json, then `require`s the plugin directory, which loads `main`:
 * - If `main` were TypeScript, ts-node would type-check this package against the consumer's compiler options (a
 *   TypeScript template's tsconfig fails with TS5011), and slowly. So `main` is compiled JavaScript.
 * - If `main` exported the components, run-plugin would host them with `componentProviderHost`, whose
 *   ComponentProvider analyses the package's TypeScript with the compiler on the first GetSchema or Construct
 *   (seconds, and hundreds of MB). So `main` exports one function, which run-plugin calls: it serves the committed
 *   pulumi/schema.json (test/pulumi/schema.test.ts proves it equal to the analyser's) and loads the components, with
 *   @pulumi/aws, only when the engine first asks to construct one.
 */
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { ConstructResult, Provider } from "@pulumi/pulumi/provider";

/** The package's root: package.json and pulumi/schema.json. This file runs from lib/pulumi/ or pulumi/. */
const PACKAGE_ROOT = [path.resolve(__dirname, ".."), path.resolve(__dirname, "..", "..")].find(
  (dir) => fs.existsSync(path.join(dir, "pulumi", "schema.json")),
)!;

type ComponentClass = new (
  name: string,
  args: any,
  opts?: pulumi.ComponentResourceOptions,
) => pulumi.ComponentResource;

/** Serves the committed schema and constructs the package's components. */
class ScaleInDrainerPlugin implements Provider {
  readonly version: string;
  private readonly schemaText: string;
  private readonly parsed: {
    name: string;
    resources: Record<string, { isComponent?: boolean; properties?: Record<string, unknown> }>;
  };

  constructor(root: string = PACKAGE_ROOT) {
    this.schemaText = fs.readFileSync(path.join(root, "pulumi", "schema.json"), "utf8");
    this.parsed = JSON.parse(this.schemaText);
    this.version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version;
  }

  async getSchema(): Promise<string> {
    return this.schemaText;
  }

  async construct(
    name: string,
    type: string,
    inputs: pulumi.Inputs,
    options: pulumi.ComponentResourceOptions,
  ): Promise<ConstructResult> {
    const resource = this.parsed.resources[type];
    const [pkg, mod, component] = type.split(":");
    if (!resource?.isComponent || pkg !== this.parsed.name || mod !== "index") {
      throw new Error(
        `unknown resource type ${type}: this package has ${Object.keys(this.parsed.resources).join(", ")}`,
      );
    }
    // Loaded on the first Construct: it brings in @pulumi/aws, which GetSchema never needs.
    const components: Record<string, unknown> = require("./index");
    const Component = components[component] as ComponentClass;
    // ScaleInDrainer's inputs are checked first, so that an invalid one fails the Construct with nothing registered
    // (settleArgs.ts).
    const args =
      component === "ScaleInDrainer"
        ? await (require("./settleArgs") as typeof import("./settleArgs")).settleScaleInDrainerArgs(
            name,
            inputs,
            options,
          )
        : inputs;
    const instance = new Component(name, args, options) as unknown as Record<string, unknown>;
    // A component with an `initialize` (ScaleInDrainer) registers its children when that is done: a failure there
    // fails the Construct.
    await (instance as unknown as { getData(): Promise<unknown> }).getData();
    // The component's outputs are the schema's properties, as Pulumi's own ComponentProvider returns them.
    const state: pulumi.Inputs = {};
    for (const key of Object.keys(resource.properties ?? {})) state[key] = instance[key];
    return { urn: (instance as unknown as pulumi.ComponentResource).urn, state };
  }
}

/**
 * run-plugin calls a function that `main` exports: it starts the provider's gRPC server, which prints its port for
 * the engine. process.argv holds the engine's address (run-plugin puts the plugin's own arguments there).
 */
function serve(): Promise<void> {
  const { main }: typeof import("@pulumi/pulumi/provider") = require("@pulumi/pulumi/provider");
  return main(new ScaleInDrainerPlugin(), process.argv.slice(2));
}

export = Object.assign(serve, { ScaleInDrainerPlugin });
