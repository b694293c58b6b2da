/**
 * Negative control for the failure-class scenarios: the drainer as it was before the safety core (commit a081ee8,
 * rebuilt from git history into a temporary bundle) is run through the same worlds, and each scenario must see it
 * fail the way issue 9 reported. Scenarios that passed any drainer would prove nothing.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

/** The drainer's source at BEFORE, bundled with today's dependencies. */
async function oldBundle(dir: string): Promise<string> {
  const files = execFileSync("git", ["ls-tree", "-r", "--name-only", BEFORE, "drainer/src"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), execFileSync("git", ["show", `${BEFORE}:${f}`], { cwd: root }));
  }
  writeFileSync(
    join(dir, "package.json"),
    execFileSync("git", ["show", `${BEFORE}:package.json`], { cwd: root }),
  );
  const outfile = join(dir, "drainer.js");
  await build({
    entryPoints: [join(dir, "drainer", "src", "main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    define: { DRAINER_VERSION: JSON.stringify(BEFORE) },
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
