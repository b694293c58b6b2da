// Bundles the drainer into one file, dist/drainer.js, that runs with plain `node` from any directory.
import { build } from "esbuild";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const outfile = join(root, "dist", "drainer.js");

await build({
  entryPoints: [join(root, "drainer", "src", "main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  legalComments: "none",
  define: { DRAINER_VERSION: JSON.stringify(version) },
  logLevel: "warning",
});
console.log(`built ${outfile} (${(statSync(outfile).size / 1024).toFixed(0)} KiB)`);
