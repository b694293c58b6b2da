#!/usr/bin/env node
// The process entry point: runs the command line, stopping cleanly on SIGTERM (and Ctrl-C).
import { runDrainer } from "./run";

const controller = new AbortController();
for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => controller.abort());

runDrainer(process.argv.slice(2), process.env, { signal: controller.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
