/**
 * The component provider that serves this package to other Pulumi languages (`pulumi package add`).
 *
 * Pulumi's own ComponentProvider, with the schema analyzer: what `componentProviderHost` would serve for the
 * components pulumi/index.ts exports, naming the package after package.json's `name`. It writes the committed
 * schema (`pulumi/generateSchema.ts`) and the tests compare against it. The plugin itself (pulumi/plugin.ts, the
 * package's `main`) serves that committed schema without running the analyzer.
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
