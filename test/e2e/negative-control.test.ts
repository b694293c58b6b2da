/**
 * Negative control for the failure-class scenarios: the drainer as it was before the safety core (commit a081ee8,
 * kept as a fixture in fixtures/drainer-a081ee8 so a shallow clone has it too, and bundled into a temporary
 * directory) is run through the same worlds, and each scenario must see it fail the way issue 9 reported.
 * Scenarios that passed any drainer would prove nothing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { bundleLauncher } from "../sim/launchers";
import { Simulation } from "../sim/simulation";
import {
  actionAlreadyOld,
  jobBetweenReadAndDraining,
  rootVolumeReplacement,
} from "./failure-worlds";
import { dump } from "./harness";

const BEFORE = "a081ee8";
const root = join(__dirname, "..", "..");
/** The drainer's source at BEFORE, as `git archive a081ee8 drainer/src` gives it. */
const fixture = join(__dirname, "fixtures", `drainer-${BEFORE}`);

/** The drainer's source at BEFORE, bundled with today's dependencies. */
async function oldBundle(dir: string): Promise<string> {
  const outfile = join(dir, "drainer.js");
  await build({
    entryPoints: [join(fixture, "drainer", "src", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    define: { DRAINER_VERSION: JSON.stringify(BEFORE) },
    // Built as it was at BEFORE, from no tsconfig, not under today's.
    tsconfigRaw: "{}",
    nodePaths: [join(root, "node_modules")],
    logLevel: "silent",
  });
  return outfile;
}

describe(`negative control: the drainer before the safety core (${BEFORE}) fails the failure-class scenarios`, function () {
  this.timeout(120_000);
  let dir: string;
  let launcher: ReturnType<typeof bundleLauncher>;
  let sim: Simulation | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "old-drainer-"));
    launcher = bundleLauncher(await oldBundle(dir));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(dump(sim));
    await sim?.stop();
    sim = undefined;
  });

  it("class 1: it kills the task placed between its read and its DRAINING call", async () => {
    const world = await jobBetweenReadAndDraining(launcher);
    sim = world.sim;
    const report = await sim.settle(600);
    assert.ok(world.placed());
    assert.ok(
      report.tasksKilled > 0,
      "the old drainer completed with the job still on the instance",
    );
  });

  it("class 2: it lets the hook of an action that was already old when it started expire", async () => {
    sim = await actionAlreadyOld(launcher);
    const report = await sim.settle(900);
    assert.ok(report.hookTimeouts.length > 0, "the hook expired before its first heartbeat");
  });

  it("class 5: it leaves a root-volume replacement undrained, and the replacement kills the tasks", async () => {
    sim = (await rootVolumeReplacement(launcher)).sim;
    const report = await sim.settle(600);
    assert.ok(report.tasksKilled > 0, "tasks still ran when the root volume was replaced");
  });
});
