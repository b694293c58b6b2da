#!/usr/bin/env node
"use strict";
// The npm package's command (`npx ecs-scale-in-drainer status ...`): runs the drainer's bundle, dist/drainer.js,
// which needs nothing else installed. The published package ships it (prepack builds it); a copy installed from git
// builds only lib/, so this says how to build the bundle rather than failing with a stack trace.
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const entry = join(__dirname, "..", "dist", "drainer.js");
if (!existsSync(entry)) {
  process.stderr.write(
    `ecs-scale-in-drainer: ${entry} is missing: this copy of the package was not built. ` +
      `Run \`npm run build\` in ${join(__dirname, "..")}, or install the published package (npm install ecs-scale-in-drainer).\n`,
  );
  process.exit(2);
}
require(entry);
