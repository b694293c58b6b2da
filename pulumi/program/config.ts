/**
 * The per-environment program's stack configuration: every key is an arg of ScaleInDrainer, under the project's
 * namespace (`ecs-scale-in-drainer:clusterName`). Pure: it reads only the values it is given.
 */
import { LifecycleResult } from "../../drainer/src/contract";
import { CpuArchitecture } from "../cpuArchitecture";
import { LaunchType } from "../launchType";
import type { ScaleInDrainerArgs } from "../scaleInDrainerArgs";
import { ARG_CHECKS, checkScaleInDrainerArgs } from "../validation";

/** The config namespace: the project name in Pulumi.yaml. */
export const CONFIG_NAMESPACE = "ecs-scale-in-drainer";

/** How a key's text is read. Lists and maps are what `pulumi config set --path` stores: JSON. */
type KeyKind =
  "string" | "list" | "boolean" | "number" | "result" | "launchType" | "cpuArchitecture" | "map";

/** Every key the program reads, with its kind. Each is the ScaleInDrainer arg of the same name. */
export const CONFIG_KEYS: { readonly [K in keyof ScaleInDrainerArgs]-?: KeyKind } = {
  clusterName: "string",
  autoscalingGroupNames: "list",
  subnetIds: "list",
  securityGroupIds: "list",
  assignPublicIp: "boolean",
  drainerImage: "string",
  heartbeatTimeout: "number",
  drainTimeout: "number",
  pollInterval: "number",
  ecsReadsPerSecond: "number",
  requestTimeout: "number",
  timeoutResult: "result",
  stopStandaloneTasks: "boolean",
  hookDefaultResult: "result",
  emitMetrics: "boolean",
  metricsNamespace: "string",
  publishEvents: "boolean",
  enableAlarms: "boolean",
  alarmTopicArn: "string",
  fargateVcpuQuota: "number",
  sweepSchedule: "string",
  enableSweep: "boolean",
  cpu: "number",
  memory: "number",
  logRetentionDays: "number",
  launchType: "launchType",
  cpuArchitecture: "cpuArchitecture",
  hookName: "string",
  permissionsBoundary: "string",
  rolePath: "string",
  kmsKeyArn: "string",
  protectHooks: "boolean",
  tags: "map",
};

const REQUIRED: readonly (keyof ScaleInDrainerArgs)[] = [
  "clusterName",
  "autoscalingGroupNames",
  "subnetIds",
  "securityGroupIds",
];

/** One problem with one stack config key. */
export interface ConfigKeyProblem {
  /** The full key, e.g. `ecs-scale-in-drainer:heartbeatTimeout`. */
  readonly key: string;
  readonly message: string;
}

/** Invalid stack configuration. Every problem found is listed. */
export class StackConfigError extends Error {
  constructor(readonly problems: readonly ConfigKeyProblem[]) {
    super(
      "invalid stack configuration:\n" + problems.map((p) => `  ${p.key}: ${p.message}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

function parseValue(kind: KeyKind, text: string): { value?: unknown; error?: string } {
  const trimmed = text.trim();
  switch (kind) {
    case "string":
      return { value: trimmed };
    case "number": {
      const n = /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
      return Number.isFinite(n)
        ? { value: n }
        : { error: `${JSON.stringify(text)} is not a number` };
    }
    case "boolean":
      if (trimmed === "true" || trimmed === "false") return { value: trimmed === "true" };
      return { error: `${JSON.stringify(text)} is not true or false` };
    case "result":
      return { value: trimmed.toUpperCase() as LifecycleResult };
    case "launchType":
      return { value: trimmed.toUpperCase() as LaunchType };
    case "cpuArchitecture":
      return { value: trimmed.toUpperCase() as CpuArchitecture };
    case "list": {
      // A list: JSON (what YAML lists and `pulumi config set --path` store) or comma-separated text.
      if (trimmed.startsWith("[")) {
        try {
          const list: unknown = JSON.parse(trimmed);
          if (Array.isArray(list) && list.every((item) => typeof item === "string")) {
            return { value: list };
          }
        } catch {
          // reported below
        }
        return { error: `${JSON.stringify(text)} is not a list of strings` };
      }
      return {
        value: trimmed
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      };
    }
    case "map": {
      try {
        const map: unknown = JSON.parse(trimmed);
        if (
          map !== null &&
          typeof map === "object" &&
          !Array.isArray(map) &&
          Object.values(map).every((v) => typeof v === "string")
        ) {
          return { value: map };
        }
      } catch {
        // reported below
      }
      return { error: `${JSON.stringify(text)} is not a map of strings` };
    }
  }
}

function example(kind: KeyKind): string {
  switch (kind) {
    case "list":
      return "a YAML list of strings, or comma-separated text";
    case "map":
      return "a YAML map of strings";
    case "boolean":
      return "true or false";
    case "number":
      return "a number";
    default:
      return "a string";
  }
}

/**
 * Reads ScaleInDrainer's args from the stack's configuration: `values` maps full keys
 * (`ecs-scale-in-drainer:clusterName`) to their text, as `pulumi.runtime.allConfig()` gives them. Throws a
 * StackConfigError naming every missing, unknown or invalid key and how to fix it.
 */
export function readStackConfig(
  values: Readonly<Record<string, string | undefined>>,
): ScaleInDrainerArgs {
  const problems: ConfigKeyProblem[] = [];
  const prefix = `${CONFIG_NAMESPACE}:`;
  const known = new Set(Object.keys(CONFIG_KEYS));
  for (const key of Object.keys(values)) {
    if (key.startsWith(prefix) && !known.has(key.slice(prefix.length))) {
      problems.push({
        key,
        message: `is not a setting of this program: remove it (\`pulumi config rm ${key.slice(prefix.length)}\`). Settings: ${[...known].join(", ")}.`,
      });
    }
  }

  const args: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(CONFIG_KEYS) as [keyof ScaleInDrainerArgs, KeyKind][]) {
    const key = prefix + name;
    const text = values[key];
    if (text === undefined || text.trim() === "") {
      if (REQUIRED.includes(name)) {
        problems.push({
          key,
          message: `is required: set it with \`pulumi config set ${name} <${example(kind)}>\` (see Pulumi.example.yaml).`,
        });
      }
      continue;
    }
    const parsed = parseValue(kind, text);
    if (parsed.error !== undefined) {
      problems.push({ key, message: `${parsed.error}: set it to ${example(kind)}.` });
      continue;
    }
    args[name] = parsed.value;
    // The component's own check of this value, reported under its key.
    const message = ARG_CHECKS[name](parsed.value);
    if (message) problems.push({ key, message });
  }
  if (problems.length > 0) throw new StackConfigError(problems);

  const result = args as unknown as ScaleInDrainerArgs;
  const cross = checkScaleInDrainerArgs(result);
  if (cross.length > 0) {
    throw new StackConfigError(cross.map((p) => ({ key: prefix + p.arg, message: p.message })));
  }
  return result;
}
