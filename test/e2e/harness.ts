/**
 * Runs end-to-end scenarios: the real bundle (`node dist/drainer.js`) as a child process per lifecycle event, against
 * the simulator, with time scaled so each scenario takes seconds.
 */
import assert from "node:assert/strict";
import { DrainerLauncher, bundleLauncher, parseLogLines } from "../sim/launchers";
import { Report, Simulation, SimulationOptions } from "../sim/simulation";
import { WorldSpec } from "../sim/world";

/** 20 simulated seconds a wall-clock second: a 10 s poll is 0.5 s, a 300 s heartbeat timeout is 15 s. */
export const TIME_SCALE = 20;
/** Simulated seconds; 0.25 s of wall clock at TIME_SCALE. */
export const POLL = 5;
export const HOOK = "drain-hook";
export const CLUSTER = "prod";

export type ScenarioOptions = Omit<SimulationOptions, "world" | "timeScale"> & {
  readonly world: Omit<WorldSpec, "cluster">;
  readonly timeScale?: number;
};

let bundle: DrainerLauncher | undefined;

/** The real bundle; built by `npm test` (and by `npm run build`). */
export function realDrainer(): DrainerLauncher {
  bundle ??= bundleLauncher();
  return bundle;
}

export async function startScenario(options: ScenarioOptions): Promise<Simulation> {
  return Simulation.start({
    timeScale: TIME_SCALE,
    hook: HOOK,
    launcher: "launcher" in options ? options.launcher : realDrainer(),
    ...options,
    drainer: { pollIntervalSeconds: POLL, ...options.drainer },
    world: { cluster: CLUSTER, ...options.world },
  });
}

/** Every JSON log line of every drainer the simulation started. */
export function logs(sim: Simulation): Record<string, unknown>[] {
  return sim.eventBridge.runs.flatMap((r) => parseLogLines(r.handle.lines));
}

/** The summary results of every drainer run, flattened. */
export function summaries(sim: Simulation): { instanceId: string; result: string }[] {
  return logs(sim)
    .filter((l) => l.msg === "summary")
    .flatMap((l) => l.results as { instanceId: string; result: string }[]);
}

/** What every scenario must show whatever else it asserts: the simulator understood every request. */
export function assertClean(sim: Simulation, report: Report): void {
  assert.deepEqual(report.unsupported, [], "every request was one the simulator models");
  for (const r of sim.eventBridge.runs) {
    const unparsed = parseLogLines(r.handle.lines).filter((l) => l.unparsed);
    assert.deepEqual(unparsed, [], "every stdout line is JSON");
  }
}

/** Shows the drainers' output when a scenario fails. */
export function dump(sim: Simulation | undefined): string {
  if (!sim) return "";
  return sim.eventBridge.runs
    .map(
      (r) =>
        `--- run ${r.record.id} (${r.record.kind} ${r.record.instanceId ?? ""}) exit ${r.record.exitCode}\n` +
        [...r.handle.lines, ...r.handle.stderr].join("\n"),
    )
    .join("\n");
}
