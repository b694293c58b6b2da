#!/usr/bin/env node
// The process entry point: runs the command line, stopping cleanly on SIGTERM (and Ctrl-C).
import { ExitCode } from "./contract";
import { runDrainer } from "./run";

/**
 * After SIGTERM, every AWS request in flight is aborted and none is sent; the run then ends within a few event-loop
 * turns. ECS sends SIGKILL after the container's stop timeout (30 s by default): this bound keeps the exit well inside
 * a second even if something still holds the event loop.
 */
const EXIT_AFTER_SIGTERM_MS = 800;

const controller = new AbortController();
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    controller.abort();
    setTimeout(() => process.exit(ExitCode.Interrupted), EXIT_AFTER_SIGTERM_MS).unref();
  });
}

runDrainer(process.argv.slice(2), process.env, { signal: controller.signal }).then(
  (code) => {
    process.exitCode = code;
    // Stopped: nothing is left to wait for (open sockets of aborted requests, timers), so leave at once.
    if (controller.signal.aborted) process.exit(code);
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
