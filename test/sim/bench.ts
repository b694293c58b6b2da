/**
 * `npm run bench`: N concurrent terminations in one cluster, N in {1, 50, 200, 500}, with AWS's ECS throttle buckets
 * on; the drainer (in-process), the seed's original algorithm and no drainer. Prints a table and writes JSON and
 * Markdown to bench-results/.
 *
 *   npm run bench -- --sizes 1,50 --contenders drainer,no-drainer --time-scale 10 --poll 10
 *
 * With `--fargate-quota N` (or `--launch`, or `--free-ips N`) the drainers are launched as EventBridge and Fargate do
 * (fargate.ts): at most N drainer tasks at once, RunTask throttled at 20/s, 20-60 s to RUNNING, the sweep on.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CONTENDERS, Contender, DEFAULT_BENCH, formatTable, runBench } from "./bench-lib";

const USAGE = `Usage: npm run bench -- [--sizes 1,50,200,500] [--contenders ${CONTENDERS.join(",")}]
                        [--time-scale X (default by N: 10, 5 at 200, 2 at 500)] [--poll 10] [--heartbeat-timeout 300] [--case-timeout S] [--no-long-drain] [--out bench-results]
                        [--launch] [--fargate-quota TASKS (default 24 = 6 vCPU)] [--free-ips N] [--capacity-unavailable P (0-1)] [--start-latency MIN-MAX (default 20-60)] [--sweep S (default 300)]`;

function numbers(text: string, name: string): number[] {
  const out = text.split(",").map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(
      `--${name} must be a comma-separated list of positive whole numbers, got ${text}`,
    );
  }
  return out;
}

function positive(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0)) throw new Error(`--${name} must be a number greater than 0, got ${text}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string" },
      contenders: { type: "string" },
      "time-scale": { type: "string" },
      poll: { type: "string" },
      "heartbeat-timeout": { type: "string" },
      "case-timeout": { type: "string" },
      out: { type: "string" },
      "no-long-drain": { type: "boolean" },
      launch: { type: "boolean" },
      "fargate-quota": { type: "string" },
      "free-ips": { type: "string" },
      "capacity-unavailable": { type: "string" },
      "start-latency": { type: "string" },
      sweep: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const contenders = (values.contenders ?? CONTENDERS.join(",")).split(",").map((s) => s.trim());
  for (const c of contenders) {
    if (!CONTENDERS.includes(c as Contender)) {
      throw new Error(`--contenders: unknown contender ${c}; use ${CONTENDERS.join(", ")}`);
    }
  }
  const launchOn =
    values.launch === true ||
    values["fargate-quota"] !== undefined ||
    values["free-ips"] !== undefined ||
    values["capacity-unavailable"] !== undefined;
  const capacity =
    values["capacity-unavailable"] === undefined
      ? undefined
      : Number(values["capacity-unavailable"]);
  if (capacity !== undefined && !(capacity >= 0 && capacity <= 1)) {
    throw new Error(
      `--capacity-unavailable must be a probability from 0 to 1, got ${values["capacity-unavailable"]}`,
    );
  }
  let startLatencySeconds: [number, number] | undefined;
  if (values["start-latency"] !== undefined) {
    const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(values["start-latency"]);
    if (!m || Number(m[1]) > Number(m[2])) {
      throw new Error(`--start-latency must be MIN-MAX seconds, got ${values["start-latency"]}`);
    }
    startLatencySeconds = [Number(m[1]), Number(m[2])];
  }
  const options = {
    sizes: values.sizes ? numbers(values.sizes, "sizes") : DEFAULT_BENCH.sizes,
    contenders: contenders as Contender[],
    timeScale:
      values["time-scale"] === undefined
        ? undefined
        : positive(values["time-scale"], "time-scale", 1),
    pollIntervalSeconds: positive(values.poll, "poll", DEFAULT_BENCH.pollIntervalSeconds),
    heartbeatTimeoutSeconds: positive(
      values["heartbeat-timeout"],
      "heartbeat-timeout",
      DEFAULT_BENCH.heartbeatTimeoutSeconds,
    ),
    caseTimeoutSeconds:
      values["case-timeout"] === undefined
        ? undefined
        : positive(values["case-timeout"], "case-timeout", 1),
    longDrain: values["no-long-drain"] !== true,
    fargateQuotaTasks: launchOn
      ? values["fargate-quota"] === undefined
        ? 24
        : numbers(values["fargate-quota"], "fargate-quota")[0]
      : undefined,
    freeIps:
      values["free-ips"] === undefined ? undefined : numbers(values["free-ips"], "free-ips")[0],
    capacityUnavailableProbability: capacity,
    startLatencySeconds,
    sweepIntervalSeconds:
      values.sweep === undefined ? undefined : positive(values.sweep, "sweep", 300),
    progress: (line: string) => console.error(line),
  };
  const result = await runBench(options);
  const table = formatTable(result);
  console.log(table);
  const dir = values.out ?? join(__dirname, "..", "..", "bench-results");
  mkdirSync(dir, { recursive: true });
  const stamp = result.date.replace(/[:.]/g, "-");
  writeFileSync(join(dir, `bench-${stamp}.json`), JSON.stringify(result, null, 2) + "\n");
  writeFileSync(join(dir, "latest.json"), JSON.stringify(result, null, 2) + "\n");
  writeFileSync(join(dir, "latest.md"), table + "\n");
  console.error(`wrote ${join(dir, "latest.json")} and ${join(dir, "latest.md")}`);
}

main().catch((err: unknown) => {
  console.error((err as Error).message ?? err);
  console.error(USAGE);
  process.exit(1);
});
