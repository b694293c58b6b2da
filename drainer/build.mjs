// Bundles the drainer into dist/: drainer.js runs with plain `node` from any directory.
//   dist/drainer.bundle.js        the program, one file (esbuild)
//   dist/drainer.bundle.js.cache  V8's code cache for it, made by this Node (so the image's cache matches its Node)
//   dist/drainer.js               the entry: runs the bundle with the cache, so start-up skips most compiling
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const entry = join(root, "dist", "drainer.js");
const bundle = join(root, "dist", "drainer.bundle.js");

await build({
  entryPoints: [join(root, "drainer", "src", "main.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  legalComments: "none",
  define: { DRAINER_VERSION: JSON.stringify(version) },
  logLevel: "warning",
});

// The bundle starts with esbuild's copy of main.ts's shebang; the entry has its own, and vm would reject it.
writeFileSync(bundle, readFileSync(bundle, "utf8").replace(/^#!.*\n/, ""));

writeFileSync(
  entry,
  `#!/usr/bin/env node
"use strict";
// Runs drainer.bundle.js with V8's code cache when it matches this Node (made at build time); otherwise V8 compiles
// it as usual. DRAINER_WRITE_CODE_CACHE=1 (the build) writes the cache after a run.
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const { wrap } = require("module");
const file = path.join(__dirname, "drainer.bundle.js");
let cachedData;
try {
  cachedData = fs.readFileSync(file + ".cache");
} catch {}
const script = new vm.Script(wrap(fs.readFileSync(file, "utf8")), { filename: file, cachedData });
const module_ = { exports: {} };
script.runInThisContext().call(module_.exports, module_.exports, require, module_, file, __dirname);
if (process.env.DRAINER_WRITE_CODE_CACHE === "1") fs.writeFileSync(file + ".cache", script.createCachedData());
`,
);
chmodSync(entry, 0o755);

rmSync(`${bundle}.cache`, { force: true });
execFileSync(process.execPath, [entry, "--version"], {
  env: { ...process.env, DRAINER_WRITE_CODE_CACHE: "1" },
  stdio: "ignore",
});
const kib = (f) => (statSync(f).size / 1024).toFixed(0);
console.log(`built ${entry} (${kib(bundle)} KiB bundle, ${kib(`${bundle}.cache`)} KiB code cache)`);
