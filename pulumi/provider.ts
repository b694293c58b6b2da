/**
 * The component provider that serves this package to other Pulumi languages (`pulumi package add`).
 *
 * With `PulumiPlugin.yaml` (runtime nodejs) at the repository root, Pulumi's Node.js plugin runner loads the
 * package's `main` (pulumi/index.ts), finds the exported components and hosts them with `componentProviderHost`,
 * naming the package after package.json's `name`. `createComponentProvider` builds the same provider for the tests
 * and for `pulumi/generateSchema.ts`, which writes the committed schema.
 */
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as components from "./index";

/** The repository root: PulumiPlugin.yaml, package.json and tsconfig.json live there. */
export const PACKAGE_ROOT = path.resolve(__dirname, "..");

/** The committed schema. */
export const SCHEMA_PATH = path.join(PACKAGE_ROOT, "pulumi", "schema.json");

/** The package name, as Pulumi derives it from package.json: the type tokens are `NAME:index:Component`. */
export const PACKAGE_NAME: string = JSON.parse(
  fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8"),
).name;

/** The provider Pulumi hosts for this package. */
export function createComponentProvider(): ComponentProvider {
  return new ComponentProvider({
    name: PACKAGE_NAME,
    dirname: PACKAGE_ROOT,
    components: getPulumiComponents(components),
  });
}

/** The schema as JSON text. */
export async function renderSchema(provider = createComponentProvider()): Promise<string> {
  return JSON.stringify(JSON.parse(await provider.getSchema()), null, 2) + "\n";
}
