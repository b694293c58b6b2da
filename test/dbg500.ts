import { runCase } from "./sim/bench-lib";
import { Simulation } from "./sim/simulation";
(async () => {
  const orig = Simulation.prototype.stop;
  Simulation.prototype.stop = async function (this: Simulation) {
    const tasks = [...this.world.drainerTasks.values()];
    const events = tasks.filter((t) => t.startedBy !== "events-rule/drainer-sweep");
    const T = Math.max(...events.map((t) => t.startedAt ?? t.stoppedAt ?? t.createdAt)) + 20;
    const alive = tasks.filter((t) => t.createdAt <= T && (t.stoppedAt === undefined || t.stoppedAt > T));
    console.log("T", T, "alive", alive.map((t) => ({ by: t.startedBy, created: t.createdAt, started: t.startedAt, stopped: t.stoppedAt, status: t.lastStatus, env: t.overrides.find((o) => o.name === "EC2_INSTANCE_ID")?.value })));
    const runs = this.eventBridge.runs.filter((r) => alive.some((t) => t.arn === (r as any).task?.arn));
    for (const r of runs.slice(0, 4)) console.log(r.handle.lines.slice(-4).join("\n").slice(0, 1500));
    return orig.call(this);
  };
  await runCase(500, "drainer", { sizes: [500], contenders: ["drainer"], pollIntervalSeconds: 10, heartbeatTimeoutSeconds: 300, fargateQuotaTasks: 24, startLatencySeconds: [20, 60], sweepIntervalSeconds: 300, caseTimeoutSeconds: 900 } as any);
  process.exit(0);
})();
