/**
 * `npm run demo`: a small ECS cluster scales in, on a local simulator of ECS and Auto Scaling, with the real drainer
 * bundle started for each lifecycle event exactly as EventBridge would start it. No AWS account is needed.
 *
 * It prints a live timeline (instance states, tasks left per instance, the drainer's decisions) and a summary.
 * Run `npm run demo -- --help` for the options.
 */
import { parseArgs } from "node:util";
import { DrainerRun } from "./eventbridge";
import { bundleLauncher, parseLogLines } from "./launchers";
import { Simulation } from "./simulation";
import { WorldEvent, WorldSpec } from "./world";

const USAGE = `Usage: npm run demo -- [options]

  --scenario NAME          scale-in (default): a scale-in that drains cleanly;
                           stuck: no instance has room for web's replacements, so the drain is stuck; the drainer
                           says why (ECS's own words), puts its events, and at the deadline abandons the action in a
                           group that retains instances: the instance is kept, nothing killed
  --instances N            instances to scale in (default 3; 1 for stuck)
  --cluster-size N         instances in the group (default 6)
  --tasks N                tasks per service (default: one per instance)
  --job-seconds S          a standalone job on a terminating instance ends after S s (default 60; 0: no job)
  --deregistration S       the web service's load balancer deregistration delay, spent DEACTIVATING (default 30)
  --shutdown S             the api service's shutdown time, spent STOPPING (default 15)
  --poll S                 the drainer's POLL_INTERVAL_SECONDS (default 10)
  --heartbeat-timeout S    the hook's HeartbeatTimeout (default 300)
  --drain-timeout S        the drainer's DRAIN_TIMEOUT_SECONDS (default: the drainer's)
  --stop-standalone        STOP_STANDALONE_TASKS=true: stop the job instead of waiting for it
  --dry-run                DRY_RUN=true
  --time-scale X           simulated seconds per real second (default 10)
  --verbose                also print every drainer log line

All times are simulated seconds, as they would pass on AWS.`;

interface DemoOptions {
  scenario: "scale-in" | "stuck";
  instances: number;
  clusterSize: number;
  tasks?: number;
  jobSeconds: number;
  deregistration: number;
  shutdown: number;
  poll: number;
  heartbeatTimeout: number;
  drainTimeout?: number;
  stopStandalone: boolean;
  dryRun: boolean;
  timeScale: number;
  verbose: boolean;
}

function parseOptions(argv: string[]): DemoOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string" },
      instances: { type: "string" },
      "cluster-size": { type: "string" },
      tasks: { type: "string" },
      "job-seconds": { type: "string" },
      deregistration: { type: "string" },
      shutdown: { type: "string" },
      poll: { type: "string" },
      "heartbeat-timeout": { type: "string" },
      "drain-timeout": { type: "string" },
      "stop-standalone": { type: "boolean" },
      "dry-run": { type: "boolean" },
      "time-scale": { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return undefined;
  const num = (name: keyof typeof values, fallback: number, min: number, whole = false): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || (whole && !Number.isInteger(n))) {
      throw new Error(
        `--${name} must be ${whole ? "a whole number" : "a number"} of at least ${min}, got ${raw}`,
      );
    }
    return n;
  };
  const scenario = values.scenario ?? "scale-in";
  if (scenario !== "scale-in" && scenario !== "stuck") {
    throw new Error(`--scenario must be scale-in or stuck, got ${scenario}`);
  }
  const stuck = scenario === "stuck";
  const o: DemoOptions = {
    scenario,
    instances: num("instances", stuck ? 1 : 3, 1, true),
    clusterSize: num("cluster-size", 6, 2, true),
    tasks: values.tasks === undefined ? undefined : num("tasks", 0, 1, true),
    jobSeconds: num("job-seconds", 60, 0),
    deregistration: num("deregistration", 30, 0),
    shutdown: num("shutdown", 15, 0),
    poll: num("poll", 10, 0.1),
    heartbeatTimeout: num("heartbeat-timeout", 300, 30, true),
    drainTimeout:
      values["drain-timeout"] === undefined
        ? stuck
          ? 120
          : undefined
        : num("drain-timeout", 0, 1),
    stopStandalone: values["stop-standalone"] === true,
    dryRun: values["dry-run"] === true,
    timeScale: num("time-scale", 10, 0.1),
    verbose: values.verbose === true,
  };
  if (o.instances >= o.clusterSize) {
    throw new Error(
      `--instances (${o.instances}) must be smaller than --cluster-size (${o.clusterSize}): the services need somewhere to go`,
    );
  }
  if (!Number.isInteger(o.heartbeatTimeout / o.timeScale)) {
    throw new Error(
      `--heartbeat-timeout (${o.heartbeatTimeout}) must be a multiple of --time-scale (${o.timeScale}) so that the simulated hook reports whole seconds`,
    );
  }
  return o;
}

function world(o: DemoOptions): WorldSpec {
  const stuck = o.scenario === "stuck";
  const tasks = o.tasks ?? o.clusterSize;
  return {
    cluster: "demo",
    // Stuck: every instance is full of web's tasks (2 x 1024 CPU units of 2048), so no replacement fits.
    ...(stuck ? { instanceCpu: 2048 } : {}),
    groups: [
      {
        name: "demo-asg",
        instances: o.clusterSize,
        hooks: [{ name: "ecs-scale-in-drainer", heartbeatTimeout: o.heartbeatTimeout }],
        retainOnAbandon: stuck,
      },
    ],
    services: [
      {
        name: "web",
        desiredCount: stuck ? 2 * o.clusterSize : tasks,
        startSeconds: 8,
        deactivatingSeconds: o.deregistration,
        stoppingSeconds: 3,
        ...(stuck ? { cpu: 1024 } : {}),
      },
      { name: "api", desiredCount: tasks, startSeconds: 8, stoppingSeconds: o.shutdown },
      { name: "log-agent", desiredCount: 0, daemon: true, stoppingSeconds: 2 },
    ],
    standaloneTasks:
      o.jobSeconds > 0 && !stuck
        ? [
            {
              family: "nightly-report",
              group: "demo-asg",
              index: o.clusterSize - 1,
              runSeconds: o.jobSeconds,
            },
          ]
        : [],
  };
}

const clock = (t: number) => `[${String(Math.round(t)).padStart(4)} s]`;

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (!o) {
    console.log(USAGE);
    return;
  }
  const sim = await Simulation.start({
    world: world(o),
    timeScale: o.timeScale,
    hook: "ecs-scale-in-drainer",
    launcher: bundleLauncher(),
    drainer: {
      pollIntervalSeconds: o.poll,
      drainTimeoutSeconds: o.drainTimeout,
      stopStandaloneTasks: o.stopStandalone,
      dryRun: o.dryRun,
      ...(o.scenario === "stuck" ? { timeoutResult: "ABANDON" as const } : {}),
    },
  });
  const short = new Map<string, string>();
  const name = (id: string) => short.get(id) ?? id;
  const print = (t: number, who: string, what: string) =>
    console.log(`${clock(t)} ${who.padEnd(20)} ${what}`);

  if (o.scenario === "stuck") {
    console.log(
      `Stuck: every instance is full of web's tasks, so web's replacements cannot be placed and its tasks cannot ` +
        `leave. The drainer says why, in ECS's words, puts its events on EventBridge, and at its ${o.drainTimeout} s ` +
        `deadline abandons the action (TIMEOUT_RESULT=ABANDON) in a group that retains instances: kept, not killed.\n`,
    );
  }
  console.log(
    `A cluster of ${o.clusterSize} instances runs web (${o.deregistration} s load balancer deregistration), ` +
      `api (${o.shutdown} s shutdown), a log-agent daemon` +
      (o.jobSeconds > 0 && o.scenario !== "stuck"
        ? ` and a ${o.jobSeconds} s nightly-report job`
        : "") +
      `. Auto Scaling removes ${o.instances}.\n` +
      `Drainer: the real bundle (dist/drainer.js), one process per lifecycle event; poll every ${o.poll} s. ` +
      `Times are simulated seconds (${o.timeScale}x faster).\n`,
  );

  const leaving = new Set<string>();
  sim.world.on("event", (e: WorldEvent) => {
    if (!leaving.has(e.instanceId)) return;
    const who = name(e.instanceId);
    switch (e.type) {
      case "lifecycle":
        print(e.at, who, `lifecycle ${e.state}`);
        break;
      case "container-instance":
        print(e.at, who, `ECS ${e.status}`);
        break;
      case "task": {
        const group = e.group.replace(/^(service|family):/, "");
        const left = sim.world.liveTasks(
          sim.world.instance(e.instanceId).containerInstance!,
        ).length;
        if (e.desiredStatus === "STOPPED") {
          print(e.at, who, `${group} task ${e.lastStatus.toLowerCase()} (${left} task(s) left)`);
        }
        break;
      }
      case "completion":
        print(e.at, who, `lifecycle action completed: ${e.result} (${e.via})`);
        break;
      case "killed":
        print(
          e.at,
          who,
          `KILLED ${e.tasks.length} task(s): ${e.tasks.map((t) => t.group).join(", ")}`,
        );
        break;
    }
  });

  // The drainer's decisions, as its JSON log lines arrive.
  const seen = new Map<DrainerRun, number>();
  const followOnce = () => {
    for (const run of sim.eventBridge.runs) {
      const from = seen.get(run) ?? 0;
      const lines = parseLogLines(run.handle.lines.slice(from));
      seen.set(run, run.handle.lines.length);
      for (const l of lines) {
        const routine = ["start", "plan", "summary"].includes(String(l.action));
        if (routine && l.level === "info" && !o.verbose) continue;
        const blockers = l.blockers as
          { groups?: Record<string, number>; standalone?: number } | undefined;
        const detail = blockers?.groups
          ? ` (${Object.entries(blockers.groups)
              .map(([g, n]) => `${g.replace(/^(service|family):/, "")}: ${n}`)
              .join(", ")})`
          : "";
        print(
          sim.clock.now(),
          `drainer@${name(String(l.instanceId ?? "sweep"))}`,
          `${l.level === "info" ? "" : `${l.level}: `}${l.msg}${detail}`,
        );
      }
    }
  };
  const follow = setInterval(followOnce, 50);

  const ids = sim.world
    .group("demo-asg")
    .instances.slice(-o.instances)
    .map((i) => i.id);
  ids.forEach((id, i) => {
    short.set(id, `instance-${i + 1}`);
    leaving.add(id);
  });
  console.log(ids.map((id) => `${name(id)} = ${id}`).join("\n") + "\n");
  const wallStart = Date.now();
  sim.scaleIn("demo-asg", ids);

  try {
    await sim.waitFor(
      () =>
        o.dryRun
          ? sim.eventBridge.runs.length === ids.length && sim.eventBridge.running().length === 0
          : sim.world.settled() && sim.eventBridge.running().length === 0,
      o.heartbeatTimeout * 4,
      "the scale-in to finish",
    );
  } finally {
    clearInterval(follow);
    followOnce();
  }
  const report = sim.report();
  console.log("\nSummary");
  console.log(`  tasks killed: ${report.tasksKilled}`);
  for (const id of ids) {
    const rec = sim.recorder.instances.get(id)!;
    const ended = rec.terminatedAt;
    const result = rec.completions.find((c) => c.hook === "ecs-scale-in-drainer");
    const instance = sim.world.instance(id);
    console.log(
      `  ${name(id)}: ${rec.tasksAtScaleIn} task(s) at scale-in; ` +
        (ended !== undefined
          ? `terminated after ${Math.round(ended - rec.scaleInAt)} s (${result?.result ?? "-"}, ${result?.via ?? "-"})`
          : rec.retainedAt !== undefined
            ? `kept after ${Math.round(rec.retainedAt - rec.scaleInAt)} s (${result?.result ?? "-"}): ${instance.lifecycleState}, ECS ${instance.containerInstance?.status}, for an operator`
            : `still ${instance.lifecycleState}`) +
        `; ${rec.killed.length} killed`,
    );
  }
  if (sim.recorder.published.length > 0) {
    console.log("  drain events on EventBridge (source ecs-scale-in-drainer):");
    for (const e of sim.recorder.published) {
      const d = e.detail as {
        instanceId: string;
        result: string;
        reasons?: string[];
        blockingServices?: string[];
      };
      console.log(
        `    ${clock(e.at)} ${e.detailType}: ${name(d.instanceId)} ${d.result}` +
          (d.reasons?.length
            ? ` (${d.reasons.join(", ")}; services: ${(d.blockingServices ?? []).join(", ") || "-"})`
            : ""),
      );
    }
  }
  const lagText = report.lags.map((l) => `${l.toFixed(1)} s`).join(", ");
  console.log(
    `  completion lag after the last task stopped: ${lagText || "-"} (poll every ${o.poll} s)`,
  );
  console.log(
    `  API calls: ${report.ecsCalls} ECS, ${report.autoScalingCalls} Auto Scaling; drainer exit codes ${report.exitCodes.join(", ")}`,
  );
  console.log(`  real time: ${((Date.now() - wallStart) / 1000).toFixed(1)} s`);
  await sim.stop();
  if (report.tasksKilled > 0 && !o.dryRun) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(`demo: ${(err as Error).message ?? err}`);
  console.error(USAGE);
  process.exit(2);
});
